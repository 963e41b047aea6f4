#pragma once
// The message an appliance publishes at each window boundary, on
// safeguard.<site>.<appliance>.window (docs/fleet.md):
//
//   4 bytes  "SGFW"
//   1 byte   version (1)
//   4 bytes  header length, little-endian
//   header   compact JSON: appliance, run, seq, id, kind, config, window_ns,
//            index, attributions
//   body     the window summary (window_codec.hpp); empty for "bye"
//
// `kind` is "window" (a merged window summary and the attributions the
// appliance opened or extended in it) or "bye" (the appliance stops: the
// aggregator completes windows without it at once). `config` is the
// fingerprint of what must agree across the fleet for summaries to merge:
// the window length and the deployments in order (their DeploymentIds are
// in the summaries). `id` is the JetStream de-duplication id: resending a
// window after a lost acknowledgement stores it once.
//
// Thread: any.

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "core/result.hpp"
#include "core/time.hpp"

namespace sg::fleet {

inline constexpr uint8_t kWindowMessageVersion = 1;

struct WindowMessage {
    std::string appliance;
    std::string run;              // this run of the appliance (its start time)
    uint64_t seq = 0;             // message number: after the spool an earlier run left, else from 1
    std::string id;               // appliance-run-seq
    std::string kind = "window";  // "window" or "bye"
    std::string config;           // config_fingerprint()
    Nanos window = 0;             // window length
    uint64_t index = 0;           // window number: start = index * window
    nlohmann::json attributions = nlohmann::json::array();
    std::string_view summary;     // decode: points into the decoded bytes
};

std::string encode_message(const WindowMessage& m, std::string_view summary_bytes);
// Errors say what is wrong; `summary` views into `bytes`.
Result<WindowMessage> decode_message(std::string_view bytes);

// 16 hex digits over the window length and the deployments (names and
// prefixes, in order).
std::string config_fingerprint(const Config& cfg);

} // namespace sg::fleet
