#pragma once
// EAL bring-up (control side, once per process).
//
// Safeguard starts EAL itself. Without explicit arguments it uses the flags
// that work on any Linux box without hugepages or bound NICs; a production
// appliance passes its own (`eal:` in the config or `--eal "..."`).

#include <string>
#include <vector>

#include "core/result.hpp"

namespace sg {

// Defaults for `lcores` logical cores (main + workers) on this machine:
// --no-huge --no-pci --no-shconf, -m sized for the workers, and an --lcores map that spreads the
// lcores over the CPUs we may run on (more lcores than CPUs is allowed).
std::vector<std::string> default_eal_args(unsigned lcores);

// Calls rte_eal_init with argv[0] = program and `args`. Safe to call once.
Result<> init_eal(const std::string& program, const std::vector<std::string>& args);

// Splits "--no-huge -m 512 --vdev 'a,b'" like a shell would (quotes honoured).
Result<std::vector<std::string>> split_args(const std::string& text);

} // namespace sg
