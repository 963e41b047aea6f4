#include "notify/evidence.hpp"

#include <pcap/pcap.h>

#include <catch2/catch.hpp>

#include <filesystem>

#include "../disk_full.hpp"
#include "../temp_dir.hpp"

using sg::notify::EvidenceWriter;
using sg::test::TempDir;

namespace {

struct Packet {
    sg::Nanos ts;
    uint32_t len;
    std::vector<uint8_t> data;
};

std::vector<Packet> read_pcap(const std::string& path) {
    char err[PCAP_ERRBUF_SIZE];
    pcap_t* p = pcap_open_offline(path.c_str(), err);
    REQUIRE(p != nullptr);
    CHECK(pcap_datalink(p) == DLT_EN10MB);
    std::vector<Packet> out;
    pcap_pkthdr* h;
    const u_char* d;
    while (pcap_next_ex(p, &h, &d) == 1)
        out.push_back({sg::Nanos(h->ts.tv_sec) * sg::kNsPerSec + sg::Nanos(h->ts.tv_usec) * sg::kNsPerUs, h->len,
                       std::vector<uint8_t>(d, d + h->caplen)});
    pcap_close(p);
    return out;
}

std::vector<uint8_t> frame(uint8_t fill, size_t size = 60) { return std::vector<uint8_t>(size, fill); }

constexpr sg::Nanos kT = 1427726759303199000ULL;

} // namespace

TEST_CASE("evidence: the first N packets of an incident, in its own pcap file") {
    TempDir dir;
    auto w = EvidenceWriter::open(dir.path.string(), 3);
    REQUIRE(w.ok());
    CHECK(EvidenceWriter::file_name(42) == "incident-42.pcap");
    CHECK(w->path(42) == dir.path.string() + "/evidence/incident-42.pcap");
    for (uint8_t i = 0; i < 5; ++i) {
        const auto r = w->add(42, kT + i * sg::kNsPerMs, frame(i));
        REQUIRE(r.ok());
        CHECK(*r == (i < 3));
    }
    REQUIRE(w->add(7, kT, frame(9, 100)).ok());
    CHECK(w->count(42) == 3);
    CHECK(w->count(7) == 1);
    const auto pkts = read_pcap(w->path(42));
    REQUIRE(pkts.size() == 3);
    CHECK(pkts[0].ts == kT);
    CHECK(pkts[2].ts == kT + 2 * sg::kNsPerMs);
    CHECK(pkts[1].data == frame(1));
    CHECK(read_pcap(w->path(7)).size() == 1);
}

TEST_CASE("evidence: after a restart the file is appended to, up to N in all") {
    TempDir dir;
    {
        auto w = EvidenceWriter::open(dir.path.string(), 4);
        REQUIRE(w.ok());
        REQUIRE(w->add(1, kT, frame(1)).ok());
        REQUIRE(w->add(1, kT + 1000, frame(2)).ok());
        // No close(): a killed daemon; every add() was flushed.
        CHECK(read_pcap(w->path(1)).size() == 2);
    }
    auto w = EvidenceWriter::open(dir.path.string(), 4);
    REQUIRE(w.ok());
    CHECK(w->count(1) == 2);
    for (uint8_t i = 3; i < 8; ++i) REQUIRE(w->add(1, kT + i * 1000, frame(i)).ok());
    const auto pkts = read_pcap(w->path(1));
    REQUIRE(pkts.size() == 4);
    CHECK(pkts[3].data == frame(4));
    w->close(1);
    CHECK(*w->add(1, kT, frame(9)) == false);  // reopened, still full
}

TEST_CASE("evidence: the snap length cuts long frames, 0 packets writes nothing, bad dirs are errors") {
    TempDir dir;
    auto w = EvidenceWriter::open(dir.path.string(), 2, 128);
    REQUIRE(w.ok());
    REQUIRE(w->add(5, kT, frame(7, 1500)).ok());
    const auto pkts = read_pcap(w->path(5));
    REQUIRE(pkts.size() == 1);
    CHECK(pkts[0].len == 1500);
    CHECK(pkts[0].data.size() == 128);

    auto none = EvidenceWriter::open(dir.path.string() + "/none", 0);
    REQUIRE(none.ok());
    CHECK(*none->add(1, kT, frame(1)) == false);
    CHECK_FALSE(std::filesystem::exists(none->path(1)));

    TempDir other;
    other.write("file", "x");
    const auto bad = EvidenceWriter::open((other.path / "file").string(), 10);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message.find("expected a directory") != std::string::npos);
    CHECK_FALSE(EvidenceWriter::open(dir.path.string(), 10, 10).ok());
}

TEST_CASE("evidence: a write the disk refuses is an error; the capture stays whole and goes on once there is room") {
    TempDir dir;
    auto w = EvidenceWriter::open(dir.path.string(), 5);
    REQUIRE(w.ok());
    REQUIRE(w->add(42, kT, frame(1)).ok());
    {
        sg::test::DiskFull full;
        const auto r = w->add(42, kT + sg::kNsPerMs, frame(2));
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message.find(w->path(42)) != std::string::npos);
        CHECK(r.error().message.find("File too large") != std::string::npos);
        // A new incident's capture: no header-only or empty file left behind.
        REQUIRE_FALSE(w->add(43, kT, frame(3)).ok());
        CHECK_FALSE(std::filesystem::exists(w->path(43)));
    }
    // The torn packet was cut off: the capture reads, with the packet before.
    CHECK(read_pcap(w->path(42)).size() == 1);
    CHECK(w->count(42) == 1);
    // Room again: the packets go on after the last whole one.
    REQUIRE(w->add(42, kT + 2 * sg::kNsPerMs, frame(4)).ok());
    REQUIRE(w->add(43, kT, frame(5)).ok());
    w->close(42);
    w->close(43);
    const auto pkts = read_pcap(w->path(42));
    REQUIRE(pkts.size() == 2);
    CHECK(pkts[0].data == frame(1));
    CHECK(pkts[1].data == frame(4));
    CHECK(read_pcap(w->path(43)).size() == 1);
}
