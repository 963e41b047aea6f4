#include "io/capture.hpp"

#include <pcap/pcap.h>

#include <fmt/format.h>

namespace sg {

Result<CaptureInfo> probe_capture(const std::string& path) {
    char err[PCAP_ERRBUF_SIZE] = {};
    pcap_t* p = pcap_open_offline(path.c_str(), err);
    if (!p) return make_error(fmt::format("{}: cannot read capture: {}", path, err));
    const int link = pcap_datalink(p);
    if (link != DLT_EN10MB) {
        const char* link_name = pcap_datalink_val_to_name(link);
        pcap_close(p);
        return make_error(fmt::format("{}: link type {} ({}) is not Ethernet; Safeguard replays "
                                      "Ethernet captures only",
                                      path, link_name ? link_name : "unknown", link));
    }
    CaptureInfo info;
    info.path = path;
    pcap_pkthdr* hdr = nullptr;
    const u_char* data = nullptr;
    for (;;) {
        const int rc = pcap_next_ex(p, &hdr, &data);
        if (rc == 1) {
            ++info.packets;
            info.bytes += hdr->caplen;
        } else {
            if (rc == PCAP_ERROR) {
                info.damaged = true;
                info.damage = pcap_geterr(p);
            }
            break;
        }
    }
    pcap_close(p);
    return info;
}

} // namespace sg
