// TcpStream: the bytes a flow direction hands the matcher. In-order data,
// retransmissions (first data wins), out-of-order segments held and filled,
// holes the peer ACKed (gaps), and a buffer that stays bounded.

#include "stream/tcp_stream.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace {

constexpr uint32_t kIsn = 0xfffffff0; // the stream crosses the 32-bit wrap

struct Stream {
    explicit Stream(uint32_t capacity = 4096) : buffer(capacity) { s.start(buffer.data(), capacity, kIsn); }
    sg::SegmentResult add(uint32_t offset, std::string_view bytes) {
        return s.add_segment(kIsn + offset, reinterpret_cast<const uint8_t*>(bytes.data()), uint32_t(bytes.size()));
    }
    void ack(uint32_t offset) { s.ack(kIsn + offset); }
    // The spans due for inspection, as strings.
    std::vector<std::string> due(bool eof = false) const {
        std::vector<std::string> out;
        const sg::StreamChunks c = s.chunks(eof);
        for (unsigned i = 0; i < c.count; ++i)
            out.emplace_back(reinterpret_cast<const char*>(c.span[i].data), c.span[i].len);
        return out;
    }
    void inspect(bool eof = false) { s.mark_inspected(s.chunks(eof)); }

    std::vector<uint8_t> buffer;
    sg::TcpStream s;
};

using Spans = std::vector<std::string>;

} // namespace

TEST_CASE("in-order segments join; only ACKed bytes are due, the rest at end of stream") {
    Stream st;
    CHECK(st.add(0, "GET /in").added == 7);
    CHECK(st.add(7, "dex.html").added == 8);
    CHECK(st.due().empty());
    st.ack(10);
    CHECK(st.due() == Spans{"GET /index"});
    CHECK(st.s.acked_uninspected() == 10);
    st.inspect();
    CHECK(st.s.acked_uninspected() == 0);
    CHECK(st.due(true) == Spans{".html"});
}

TEST_CASE("a retransmission is not appended again: first data wins") {
    Stream st;
    st.add(0, "abcdef");
    const auto again = st.add(0, "abcdef");
    CHECK(again.retransmitted == 6);
    CHECK(again.added == 0);
    const auto overlap = st.add(3, "XYZghi"); // 3 old bytes (different!) and 3 new
    CHECK(overlap.retransmitted == 3);
    CHECK(overlap.added == 3);
    CHECK(st.due(true) == Spans{"abcdefghi"});
}

TEST_CASE("an out-of-order segment is held until the hole is filled") {
    Stream st;
    st.add(0, "abc");
    CHECK(st.add(6, "ghi").added == 3);
    CHECK(st.s.held_ranges() == 1);
    CHECK(st.s.end() == 3);
    st.add(3, "def");
    CHECK(st.s.held_ranges() == 0);
    CHECK(st.s.end() == 9);
    st.ack(9);
    CHECK(st.due() == Spans{"abcdefghi"});
}

TEST_CASE("at most a few out-of-order ranges are held; more are dropped and counted") {
    Stream st;
    st.add(0, "a");
    for (uint32_t i = 0; i < sg::TcpStream::kMaxHeldRanges; ++i) CHECK(st.add(10 + 10 * i, "x").added == 1);
    CHECK(st.add(100, "y").dropped == 1);
    CHECK(st.add(11, "x").added == 1); // touching a held range: merged, still held
}

TEST_CASE("a hole the peer ACKed is a gap: the stream restarts after it, blocks inspected apart") {
    Stream st;
    uint32_t skipped = 0;
    st.add(0, "before");
    st.add(20, "after"); // 14 bytes the capture lost
    st.ack(25);          // ... that the receiver had
    CHECK(st.s.resolve_gap(skipped));
    CHECK(skipped == 0);
    CHECK(st.due() == Spans{"before", "after"});
    st.inspect();
    CHECK_FALSE(st.s.has_uninspected());
    // A later segment continues the new block.
    st.add(25, "more");
    st.ack(29);
    CHECK_FALSE(st.s.resolve_gap(skipped));
    CHECK(st.due() == Spans{"more"});
}

TEST_CASE("a gap wider than the buffer: the stream restarts after it, the old block as far as it fits") {
    // Found by fuzzing (test/fuzz/regressions/packet): the restart slid the
    // buffer as if the hole's bytes were in it, reading past its end.
    Stream wide;
    uint32_t skipped = 0;
    wide.add(0, "before");
    wide.ack(100000);  // the receiver had 99,994 bytes the capture lost
    CHECK(wide.s.resolve_gap(skipped));
    CHECK(skipped == 6);  // no room for the old block beside the new one
    CHECK(wide.due(true).empty());
    wide.add(100000, "more");
    wide.ack(100004);
    CHECK(wide.due() == Spans{"more"});

    Stream part;
    skipped = 0;
    part.add(0, std::string(1000, 'a'));
    part.ack(5000);  // 4,000 lost bytes: the old block's last 96 bytes still fit
    CHECK(part.s.resolve_gap(skipped));
    CHECK(skipped == 904);
    CHECK(part.due(true) == Spans{std::string(96, 'a')});
}

TEST_CASE("the ACK of a FIN (one past the data) is not a gap") {
    Stream st;
    uint32_t skipped = 0;
    st.add(0, "bye");
    st.ack(4);
    CHECK_FALSE(st.s.resolve_gap(skipped));
    CHECK(st.due() == Spans{"bye"});
}

TEST_CASE("the buffer stays bounded: inspected bytes go first, then uninspected ones, counted") {
    Stream st(4000);
    const std::string block(1000, 'a');
    for (uint32_t i = 0; i < 4; ++i) st.add(i * 1000, block);
    st.ack(2000);
    st.inspect(); // 2000 inspected bytes can go
    CHECK(st.add(4000, block).skipped == 0);
    CHECK(st.add(5000, block).skipped == 0);
    // 4000 uninspected bytes held: 1000 more push the oldest 1000 out.
    CHECK(st.add(6000, std::string(1000, 'b')).skipped == 1000);
    CHECK(st.s.inspected() == 3000);
    const auto rest = st.due(true);
    REQUIRE(rest.size() == 1);
    CHECK(rest[0].size() == 4000);
    CHECK(rest[0].substr(3000) == std::string(1000, 'b'));
}
