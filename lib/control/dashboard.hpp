#pragma once
// The dashboard page: one self-contained HTML document (styles and script
// inline, no external assets) showing the posture of every deployment,
// live rates and the incidents with their deadlines. The data it opens with
// is embedded in the page, so it renders at once; then it refreshes itself
// from /api/dashboard every two seconds. Everything from traffic or the
// configuration is put into the page as text nodes (never as markup), and
// the embedded JSON cannot close its script element.
//
// `data`: {"status": ..., "rates": ..., "posture": ..., "incidents": [...]}
// as the daemon's dashboard route builds it (docs/operations.md).
//
// Thread: any (a pure function).

#include <string>

#include <nlohmann/json.hpp>

namespace sg::control {

std::string render_dashboard(const nlohmann::json& data);

// JSON text safe inside a <script> element: '<', '>' and '&' escaped as
// \u003c, \u003e, \u0026 (only strings can hold them; JSON.parse reads them back).
std::string script_safe_json(const nlohmann::json& data);

} // namespace sg::control
