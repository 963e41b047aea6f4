#pragma once
// What `replay` and `run` share: building the effective config from the file
// and the flags, bringing up EAL, running the pipeline and writing outputs.

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/safeguard/commands.hpp"
#include "config/config.hpp"
#include "detect/engine.hpp"
#include "core/result.hpp"
#include "io/capture.hpp"
#include "pipeline/pipeline.hpp"

namespace sg::app {

// Config file (or defaults) + --protect + --workers/--report/--eve.
Result<Config> effective_config(const CommonOptions& opts);

// EAL with --eal, else the config's `eal:`, else the no-hugepage defaults.
Result<> start_eal(const Config& cfg, const std::string& eal_flag);

// The detection engine's setup from the config: window, thresholds and
// each deployment's overrides (the ownership and workers are the caller's).
Result<DetectionSetup> detection_setup(const Config& cfg);

// Writes a JSON report (indented) to `path`; the error names the file.
Result<> write_report(const std::string& path, const nlohmann::json& report);

// What a run takes beyond the config.
struct RunExtras {
    std::string actions;   // replay: scripted owner/operator actions (respond/actions.hpp)
};

// Runs the pipeline over `inputs` to its end (replay) or until a signal
// (run), then prints the summary and writes the report and eve file.
int run_pipeline(const Config& cfg, const std::vector<PipelineInput>& inputs, bool replay,
                 const std::vector<CaptureInfo>& captures, const RunExtras& extras = {});

} // namespace sg::app
