#include "io/capture.hpp"

#include <cstdio>
#include <filesystem>
#include <string_view>

#include <pcap/pcap.h>

#include <fmt/format.h>

namespace sg {

namespace {

// The decoder's name for what pcap_datalink() reports, if it decodes that
// link type. libpcap turns a file's LINKTYPE_ value into this platform's
// DLT_ value: LINKTYPE_RAW (101) becomes DLT_RAW, 12 on Linux, and
// LINKTYPE_LOOP stays 108. Files from old tools may hold a platform's raw IP
// value itself, 12 or 14 (BSD/OS, OpenBSD): both are raw IP. Literal numbers
// because dlt.h defines DLT_RAW and DLT_LOOP differently per platform.
bool decodable_link_type(int dlt, LinkType& link) {
    switch (dlt) {
    case DLT_EN10MB: link = LinkType::ethernet; return true;
    case 12:
    case 14: link = LinkType::raw; return true;
    case DLT_IPV4: link = LinkType::ipv4; return true;
    case DLT_IPV6: link = LinkType::ipv6; return true;
    case DLT_LINUX_SLL: link = LinkType::linux_sll; return true;
    case DLT_LINUX_SLL2: link = LinkType::linux_sll2; return true;
    case DLT_NULL: link = LinkType::null_host; return true;
    case 108: link = LinkType::loop; return true;
    default: return false;
    }
}

} // namespace

Result<CaptureInfo> probe_capture(const std::string& path) {
    // libpcap's words for an empty file ("truncated dump file; tried to read
    // 4 file header bytes, only got 0") hide the simple cause.
    std::error_code ec;
    if (std::filesystem::is_regular_file(path, ec) && std::filesystem::file_size(path, ec) == 0 && !ec)
        return make_error(fmt::format("{}: cannot read capture: the file is empty (expected a pcap or pcapng file)", path));
    char err[PCAP_ERRBUF_SIZE] = {};
    pcap_t* p = pcap_open_offline(path.c_str(), err);
    if (!p) {
        const std::string_view why = err;
        const char* hint = why == "unknown file format" ? " (expected a pcap or pcapng file)" : "";
        return make_error(fmt::format("{}: cannot read capture: {}{}", path, why, hint));
    }
    CaptureInfo info;
    info.path = path;
    const int dlt = pcap_datalink(p);
    if (!decodable_link_type(dlt, info.link)) {
        const char* link_name = pcap_datalink_val_to_name(dlt);
        pcap_close(p);
        const std::string link = link_name ? fmt::format("{} ({})", link_name, dlt)
                                           : fmt::format("{} (not a link type libpcap knows)", dlt);
        return make_error(fmt::format("{}: link type {} is not supported; Safeguard replays "
                                      "Ethernet, raw IP, Linux cooked and BSD loopback captures",
                                      path, link));
    }
    // Where a broken record starts, for the message: records are read in
    // order, so the file position before each read is that record's offset
    // (pcap files; pcapng blocks are counted the same way by libpcap).
    FILE* file = pcap_file(p);
    pcap_pkthdr* hdr = nullptr;
    const u_char* data = nullptr;
    for (;;) {
        const long at = file ? std::ftell(file) : -1;
        const int rc = pcap_next_ex(p, &hdr, &data);
        if (rc == 1) {
            ++info.packets;
            info.bytes += hdr->caplen;
        } else {
            if (rc == PCAP_ERROR) {
                info.damaged = true;
                info.damage = at >= 0 ? fmt::format("record {} at byte {}: {}", info.packets + 1, at, pcap_geterr(p))
                                      : fmt::format("record {}: {}", info.packets + 1, pcap_geterr(p));
            }
            break;
        }
    }
    pcap_close(p);
    return info;
}

} // namespace sg
