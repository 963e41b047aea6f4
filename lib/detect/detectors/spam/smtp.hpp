#pragma once
#include <cstdint>

namespace sg::detectors {

// SMTP relay and submission ports.
inline bool is_smtp_port(uint16_t port) { return port == 25 || port == 465 || port == 587; }

} // namespace sg::detectors
