// Catch2's main lives alone in its own file: it compiles slowly.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
