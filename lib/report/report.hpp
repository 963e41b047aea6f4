#pragma once
// The report: what a run found, as JSON (`--report FILE`) and as a short
// human summary on stdout. Everything outside "runtime" depends only on the
// input, never on the number of workers or on timing; "runtime" holds the
// per-worker and per-stage figures that legitimately vary.
//
// Thread: control side, after the run.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "io/capture.hpp"
#include "pipeline/pipeline.hpp"
#include "report/reporter.hpp"

namespace sg {

struct ReportContext {
    std::string mode;                     // "replay" or "run"
    std::vector<CaptureInfo> captures;    // replay inputs
    const Config* config = nullptr;
    bool software_dispatch = true;
    bool interrupted = false;             // replay stopped by a signal before the end
};

nlohmann::json build_report(const ReportContext& ctx, const PipelineSnapshot& snap,
                            const ReporterResults& results);

// A few lines for a person: totals, protocols, anomalies, top flows and
// what was found (alerts / attributions / incidents).
std::string human_summary(const nlohmann::json& report);

} // namespace sg
