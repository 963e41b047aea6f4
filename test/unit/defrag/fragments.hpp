#pragma once
// Builds raw IPv4 fragments (LINKTYPE_IPV4 frames) for the defrag tests.

#include <cstdint>
#include <string>
#include <vector>

#include "parse/decode.hpp"

namespace sg::test {

using Bytes = std::vector<uint8_t>;

inline Bytes ipv4_fragment(uint16_t id, uint32_t offset, bool more, const Bytes& data, uint8_t proto = 6,
                           uint8_t src_last = 1) {
    const uint16_t total = uint16_t(20 + data.size());
    const uint16_t flags = uint16_t((more ? 0x2000 : 0) | (offset / 8));
    const uint8_t header[20] = {0x45, 0, uint8_t(total >> 8), uint8_t(total), uint8_t(id >> 8), uint8_t(id),
                                uint8_t(flags >> 8), uint8_t(flags), 64, proto, 0, 0, 1, 1, 1, src_last, 2, 2, 2, 2};
    Bytes b(total);
    for (size_t i = 0; i < 20; ++i) b[i] = header[i];
    for (size_t i = 0; i < data.size(); ++i) b[20 + i] = data[i];
    return b;
}

inline Bytes bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

inline PacketView decoded(const Bytes& frame, LinkType link = LinkType::ipv4) {
    PacketView pv;
    decode(frame.data(), uint32_t(frame.size()), pv, link);
    return pv;
}

} // namespace sg::test
