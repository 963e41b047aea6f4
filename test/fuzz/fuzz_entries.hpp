#pragma once
// The fuzz entry points: one function per target, shared by the libFuzzer
// binaries (libfuzzer_main.cpp, built with -Dfuzz=true and clang) and by the
// regression test (regress/), which replays every committed input through
// the same function in the normal build.
//
// Each entry runs one input through the code under test and returns "" or a
// description of an invariant that did not hold (an error without file:line,
// a record that does not read back, a flow never ended...). Crashes, leaks
// and undefined behaviour are left to the sanitizers. An entry never throws.
//
// init_*() prepares what a target needs once per process (EAL for the flow
// table, the compiled rules); the others need nothing.

#include <cstddef>
#include <cstdint>
#include <string>

namespace sg::fuzz {

// The worker's packet path on a few frames: decode (every link type,
// tunnels) -> IPv4 reassembly -> flow key and flow table -> TCP stream ->
// HTTP -> signature matching. Input: link type byte, time step byte, then
// frames as [u16 big-endian length][bytes].
bool init_packet();
// Frees what init_packet() made and ends EAL (the regression test's exit).
void shutdown_packet();
std::string packet(const uint8_t* data, size_t size);

// Suricata rule text -> the rule parser, rules-check output, filters.
std::string rules(const uint8_t* data, size_t size);
// Rule text -> parser -> MatchDatabase (Hyperscan, PCRE2) -> a Matcher on
// packets whose payload is the input itself.
std::string rule_match(const uint8_t* data, size_t size);
// classification.config text.
std::string classification(const uint8_t* data, size_t size);
// Suricata threshold.config text.
std::string threshold_config(const uint8_t* data, size_t size);

// Safeguard's YAML configuration (parse_config).
std::string config(const uint8_t* data, size_t size);
// The detection thresholds file (parse_thresholds).
std::string thresholds(const uint8_t* data, size_t size);

// An incident journal file: Journal::open replays it into incidents and
// exceptions (the records IncidentManager applies).
std::string journal(const uint8_t* data, size_t size);

// What a client writes on one connection of the control socket: a real
// ControlServer (framing, size limit, CommandTable::handle, Args).
std::string control_request(const uint8_t* data, size_t size);

// A window summary as an appliance sends it to the fleet aggregator
// (fleet::decode_window, then encode, decode again, merge).
std::string window_decode(const uint8_t* data, size_t size);

} // namespace sg::fuzz
