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
    uint64_t rules_generation = 0;        // the rule set running at the end (0: none)
    uint64_t rules_reloads = 0;
    uint64_t rules_reload_errors = 0;
    uint64_t rules_versions_freed = 0;    // replaced rule sets freed after every worker let go
};

nlohmann::json build_report(const ReportContext& ctx, const PipelineSnapshot& snap,
                            const ReporterResults& results);

// eve.json's `event_type: "stats"` record for the run so far, in Suricata's
// layout where a counter has an equivalent (decoder, flow, detect).
nlohmann::json stats_event(const nlohmann::json& report, double uptime_seconds, Nanos timestamp);

// A few lines for a person: totals, protocols, anomalies, top flows and
// what was found (alerts / attributions / incidents).
std::string human_summary(const nlohmann::json& report);

} // namespace sg
