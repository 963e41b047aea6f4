#pragma once
// Capture files for replay (control side): checked with libpcap before DPDK
// opens them, so that an unreadable file or a link type we cannot decode is
// a clear error naming the file instead of silent garbage, so that the
// decoder knows what each record starts with (DPDK's pcap driver hands the
// record bytes over untouched), and so that the replay knows how many
// records the pcap driver will deliver (end of input).

#include <cstdint>
#include <string>

#include "core/result.hpp"
#include "parse/decode.hpp"

namespace sg {

struct CaptureInfo {
    std::string path;
    LinkType link = LinkType::ethernet;  // from pcap_datalink(): what each record starts with
    uint64_t packets = 0;   // records libpcap could read (what `capinfos -c` counts)
    uint64_t bytes = 0;     // captured bytes of those records
    bool damaged = false;   // reading stopped early on a broken record
    std::string damage;     // "record N at byte B: " and libpcap's words for it
};

// Accepts Ethernet, raw IP (DLT_RAW, LINKTYPE_IPV4/IPV6), Linux cooked
// (LINUX_SLL, LINUX_SLL2) and BSD loopback (DLT_NULL, DLT_LOOP) captures.
Result<CaptureInfo> probe_capture(const std::string& path);

} // namespace sg
