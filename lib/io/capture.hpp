#pragma once
// Capture files for replay (control side): checked with libpcap before DPDK
// opens them, so that an unreadable file or a link type we cannot decode is
// a clear error naming the file instead of silent garbage, and so that the
// replay knows how many records the pcap driver will deliver (end of input).

#include <cstdint>
#include <string>

#include "core/result.hpp"

namespace sg {

struct CaptureInfo {
    std::string path;
    uint64_t packets = 0;   // records libpcap could read (what `capinfos -c` counts)
    uint64_t bytes = 0;     // captured bytes of those records
    bool damaged = false;   // reading stopped early on a broken record
    std::string damage;     // libpcap's words for it
};

Result<CaptureInfo> probe_capture(const std::string& path);

} // namespace sg
