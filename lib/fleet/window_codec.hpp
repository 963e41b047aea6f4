#pragma once
// The wire form of a WindowSummary, for sending an appliance's merged
// window to the fleet aggregator, which merges the summaries of every
// appliance exactly (WindowSummary::merge) and runs the same detectors.
// Only what a summary holds travels, never its memory layout: occupied
// hosts, kept table entries, the non-zero registers of a sparse HyperLogLog.
//
// Version 1, byte by byte. Integers are little-endian; "varint" is unsigned
// LEB128 (7 bits a byte, lowest group first, at most 10 bytes); addresses
// are in network order; there is no padding and no alignment.
//
//   header    4 bytes "SGWS", u16 version (kWindowCodecVersion)
//   window    varint index, next_index, workers (< 2^32), packets,
//             transit_packets, first_packet, last_packet
//   hosts     varint overflow, varint n (<= HostTable::kMaxHosts), then n
//             hosts in HostTable::for_each_from_free() order:
//               u8 flags      bit 0: the address is IPv4 (4 bytes, else 16);
//                             bits 1-4: peers_in, ports_in, peers_out,
//                             ports_out are dense (else sparse); 5-7 zero
//               address       4 or 16 bytes
//               varint        deployment (< 2^16)
//               traffic       in, then out
//               hll x 4       peers_in, ports_in, peers_out, ports_out (P = 6)
//               varint        reflection mask: bit s set (s < 10, the
//                             ReflectionService order) when service s has a
//                             non-zero counter; only those follow:
//               reflection    per set bit, low to high: requests_in,
//                             responses_out, responses_in, requests_out,
//                             each varint packets, varint bytes
//   targets, pairs, services, scans, sweeps (the space-saving tables), each:
//             varint total, varint n (<= the table's capacity), then n
//             entries in the table's for_each() order:
//               u8 flags      one bit per address of the key (IPv4: 4 bytes),
//                             then one per HyperLogLog of the payload
//                             (dense), in the order they come; the rest zero
//               key           see below
//               varint        count
//               varint        error (<= count)
//               payload       see below
//             The keys' hashes are not sent: the decoder recomputes them
//             with summary_hash(), as the workers do.
//
//   table     key                                        payload
//   targets   address                                    traffic in, varint synack_out, hll sources (P = 8)
//   pairs     src address, dst address                   (none)
//   services  src address, dst address, u16 port         varint attempts, established, failed, ended
//   scans     src address, dst address                   varint probes, answered, established, hll ports (P = 9)
//   sweeps    src address, u16 port,                     varint probes, answered, established, hll targets (P = 9)
//             varint target_deployment (< 2^16), u8 proto
//
//   traffic   varint packets, bytes, syn, synack, rst, udp, icmp, fragments
//   hll       dense (flag 1): the 2^P one-byte registers;
//             sparse (flag 0): varint n, then n u16 (register index << 6 |
//             value), indexes ascending, values >= 1.
//             Register values are at most 65 - P. The encoder writes the
//             sparse form when it is shorter.
//
// Everything a decoded summary does matches the original: same contents,
// same iteration order of hosts and entries (so the detectors report in
// the same order), same merges, evictions and top() (on machines of the
// same byte order: the hashes are native-endian). The bytes carry no
// checksum: the transport frames and checks messages.
//
// Thread: any; no shared state. Control side (the reporter, the
// aggregator): encoding allocates, decoding formats error messages.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "detect/summary.hpp"

namespace sg::fleet {

inline constexpr uint16_t kWindowCodecVersion = 1;

// Appends the encoding of `w` to `out`. Equal summaries (contents and
// iteration order) give equal bytes.
void encode_window(const WindowSummary& w, std::string& out);

// Decodes a whole message into `out`, cleared first (a block of about 2 MB
// the caller reuses). An error names the byte offset and what was wrong
// there (truncated, unknown version, a count over a table's capacity, a
// value out of range, a key listed twice, counts above the total, trailing
// bytes...), and leaves `out` cleared. Whatever the bytes, decoding never
// reads outside them and a summary it accepts is safe to merge, estimate
// and run detectors on. It does not know the deployments: a caller that
// indexes its deployment table with a host's or sweep's deployment must
// check the id against it.
Result<> decode_window(std::string_view bytes, WindowSummary& out);

} // namespace sg::fleet
