#pragma once
// The effective configuration as JSON, in the file's layout (keys as in
// docs/configuration.md, durations as text such as "24h"): what
// `safeguardctl config show` prints. Every key is present, defaults
// included, so the output says what the daemon actually uses.
//
// Thread: any (a pure function).

#include <nlohmann/json.hpp>

#include "config/config.hpp"

namespace sg {

nlohmann::json config_to_json(const Config& cfg);

} // namespace sg
