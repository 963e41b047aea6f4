// Ipv4Defrag::add runs on the packet path: after construction it must never allocate.
#include "defrag/ipv4_defrag.hpp"

#include <catch2/catch.hpp>

#include "fragments.hpp"
#include "../alloc_counter.hpp"

using namespace sg;
using namespace sg::test;

TEST_CASE("defrag never allocates after construction") {
    DefragConfig c;
    c.trackers = 8;
    Ipv4Defrag d(c);
    std::vector<Bytes> frames;
    for (uint16_t id = 0; id < 32; ++id) {
        frames.push_back(ipv4_fragment(id, 8, false, bytes("tail"), 17));
        frames.push_back(ipv4_fragment(id, 0, true, bytes("head----"), 17));
    }
    std::vector<PacketView> views;
    for (const Bytes& f : frames) views.push_back(decoded(f));
    unsigned completed = 0;
    g_counting = true;
    for (size_t i = 0; i < frames.size(); ++i)
        completed += !d.add(frames[i].data(), uint32_t(frames[i].size()), views[i], Nanos(i) * kNsPerSec).empty();
    g_counting = false;
    CHECK(completed == 32);
    CHECK(g_news == 0);
}
