// decode() runs on the packet path for every frame: it must never allocate.
// Counted through global operator new, replaced in alloc_counter.cpp for this test binary.
#include "parse/decode.hpp"

#include <cstdlib>
#include <new>
#include <vector>

#include "packet_builder.hpp"
#include "../alloc_counter.hpp"

using namespace sg;
using namespace sg::test;

TEST_CASE("decode never allocates, whatever the frame") {
    const Bytes inner = ethernet(0x0800) + ipv4("172.16.0.1", "172.16.0.2", kProtoTcp, tcp(1, 2, kTcpSyn, text("x")));
    const std::vector<Bytes> frames = {
        inner,
        ethernet(0x0800) + ipv4("10.0.0.1", "10.0.0.2", kProtoUdp, udp(1, kVxlanPort, vxlan(1, inner))),
        ethernet(0x0800) + ipv4("10.0.0.1", "10.0.0.2", kProtoUdp, udp(1, kGenevePort, geneve(1, 0x6558, zeros(4), inner))),
        ethernet(0x0800) + ipv4("10.0.0.1", "10.0.0.2", kProtoGre, gre(0x22EB, erspan3(1, true, inner), {.sequence = 1})),
        ethernet(0x86DD, {{0x88A8, 1}, {0x8100, 2}}) +
            ipv6("2001:db8::1", "2001:db8::2", 0, ipv6_extension(58, 8, icmp(128, 0, 1, 1, zeros(8)))),
        ethernet(0x0806) + arp_request("10.0.0.1", "10.0.0.2"),
    };
    PacketView v;
    g_counting = true;
    unsigned decoded = 0;
    for (const Bytes& f : frames) {
        for (size_t len = 0; len <= f.size(); ++len) {
            decode(f.data(), uint32_t(len), v);
            ++decoded;
        }
    }
    g_counting = false;
    CHECK(decoded > 300);
    CHECK(g_news == 0);
}
