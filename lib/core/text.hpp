#pragma once
// Small text helpers shared by the parsers (config, rules). Control side.

#include <cstddef>
#include <string_view>

namespace sg {

// Levenshtein distance: how many single-character edits turn a into b.
// Used to suggest the key or keyword an operator probably meant.
size_t edit_distance(std::string_view a, std::string_view b);

} // namespace sg
