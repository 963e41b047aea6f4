// The window codec: the documented layout byte by byte, and every way a
// message can be refused (with its byte offset, the block left cleared).
#include "fleet/window_codec.hpp"

#include <random>
#include <string>

#include "window_codec_harness.hpp"

using namespace sg;
using namespace sg::fleet::codec_test;

// ---- 3. Refused messages -----------------------------------------------------------

TEST_CASE("window codec: the documented layout, byte by byte", "[fleet]") {
    SECTION("header and window") {
        const Summary w = decoded(message());
        CHECK(w->index == 7);
        CHECK(w->next_index == 8);
        CHECK(w->workers == 2);
        CHECK(w->packets == 100);
        CHECK(w->transit_packets == 5);
        CHECK(w->first_packet == 1000);
        CHECK(w->last_packet == 2000);
        // Magic, version, five one-byte and two two-byte varints, two per part.
        CHECK(message().size() == 4 + 2 + 5 + 2 * 2 + 2 * 6);
    }
    SECTION("a host: IPv4, sparse and dense HyperLogLogs, one reflection service") {
        Bytes host;
        host.varint(3).varint(1);                    // overflow 3, one host
        host.u8(0b00101);                            // IPv4; peers_in sparse, ports_in dense, the rest sparse
        host.v4(0x0a010002).varint(1);               // 10.1.0.2, deployment 1
        for (uint64_t v : {10, 1500, 2, 0, 0, 8, 0, 0}) host.varint(v);  // in
        for (uint64_t v : {1, 60, 0, 1, 0, 0, 0, 0}) host.varint(v);     // out
        host.varint(2).u16(3 << 6 | 1).u16(63 << 6 | 59);                   // peers_in: r3 = 1, r63 = 59
        for (unsigned i = 0; i < 64; ++i) host.u8(uint8_t(i % 4 + 1));     // ports_in dense
        host.varint(0).varint(0);                                           // peers_out, ports_out empty
        host.varint(1 << 1);                                                // dns
        for (uint64_t v : {8, 480, 0, 0, 0, 0, 0, 0}) host.varint(v);
        const Summary w = decoded(message(kHosts, host));
        REQUIRE(w->hosts.size() == 1);
        CHECK(w->hosts.overflow() == 3);
        const HostStats* h = w->hosts.find(web_host(2), summary_hash(web_host(2)));
        REQUIRE(h);
        CHECK(h->deployment == 1);
        CHECK(h->in.bytes == 1500);
        CHECK(h->in.udp == 8);
        CHECK(h->out.synack == 1);
        CHECK(h->peers_in.registers()[3] == 1);
        CHECK(h->peers_in.registers()[63] == 59);
        CHECK(h->ports_in.registers()[5] == 2);
        CHECK(h->peers_out.empty());
        CHECK(h->reflection[1].requests_in.packets == 8);
        CHECK(h->reflection[1].requests_in.bytes == 480);
        CHECK(encoded(*w) == message(kHosts, host));
    }
    SECTION("a pair and a sweep: IPv6 in 16 bytes, IPv4 in 4, hashes recomputed") {
        const IpAddress v6 = addr("2001:db8::1");
        Bytes pairs;
        pairs.varint(9).varint(1).u8(0b10).raw({reinterpret_cast<const char*>(v6.bytes.data()), 16});
        pairs.v4(0x0a010005).varint(9).varint(2);
        const Summary w = decoded(message(kPairs, pairs));
        const PairKey key{v6, web_host(5)};
        const auto* e = w->pairs.find(key, summary_hash(key));
        REQUIRE(e);
        CHECK(e->count == 9);
        CHECK(e->error == 2);
        CHECK(w->pairs.total() == 9);

        Bytes sweeps;
        sweeps.varint(4).varint(1).u8(0b01).v4(0xc6120001).u16(22).varint(1).u8(6);
        sweeps.varint(4).varint(0).varint(4).varint(0).varint(0).varint(1).u16(7 << 6 | 2);
        const Summary s = decoded(message(kSweeps, sweeps));
        SweepKey k;
        k.src = outside_host(1);
        k.port = 22;
        k.target_deployment = kCorp;
        k.proto = kProtoTcp;
        const auto* sw = s->sweeps.find(k, summary_hash(k));
        REQUIRE(sw);
        CHECK(sw->value.probes == 4);
        CHECK(sw->value.targets.registers()[7] == 2);
    }
}

TEST_CASE("window codec: every malformed message is refused with its byte offset and the block cleared", "[fleet]") {
    SECTION("truncated at every byte of real encodings") {
        const Summary scan = counted(scan_traffic());
        const Summary encodings[] = {copy_of(*scan), random_summary(7)};
        for (const Summary& w : encodings) {
            const std::string bytes = encoded(*w);
            auto out = empty_summary();
            size_t bad = 0;
            for (size_t len = 0; len < bytes.size(); ++len) {
                out->hosts.get(web_host(1), summary_hash(web_host(1)), kWeb);  // something to clear
                const Result<> r = decode_window(std::string_view(bytes).substr(0, len), *out);
                const bool refused_well = !r.ok() && r.error().message.find("truncated") != std::string::npos &&
                                          out->hosts.size() == 0 && out->pairs.size() == 0 && out->packets == 0;
                if (!refused_well && bad++ < 5) {
                    INFO("cut at " << len << " of " << bytes.size() << ": " << (r.ok() ? "accepted" : r.error().message));
                    CHECK(refused_well);
                }
            }
            CHECK(bad == 0);
        }
    }
    SECTION("header") {
        std::string wrong = message();
        wrong[3] = 'X';
        check_refused(wrong, {"byte 0", "no SGWS magic"});
        check_refused(header(2).s, {"byte 4", "version 2; this build reads version 1"});
        check_refused(message() + "x", {"byte 27 (end)", "1 more byte after the summary"});
        check_refused(message() + "xyz", {"3 more bytes after the summary"});
        Bytes workers;
        workers.raw("SGWS").u16(1).varint(0).varint(0).varint(uint64_t(1) << 32);
        check_refused(workers.s, {"byte 8", "workers is 4294967296, more than 4294967295"});
        Bytes long_varint;
        long_varint.raw("SGWS").u16(1).raw("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02");
        check_refused(long_varint.s, {"byte 6", "index: a varint over 64 bits"});
        check_refused("", {"byte 0", "truncated in the magic"});
    }
    SECTION("counts over a table's capacity") {
        check_refused(message(kHosts, Bytes().varint(0).varint(769)), {"byte 16 (hosts)", "the number of hosts is 769, more than 768"});
        check_refused(message(kTargets, Bytes().varint(0).varint(257)), {"(targets)", "more than 256"});
        check_refused(message(kPairs, Bytes().varint(0).varint(1025)), {"(pairs)", "more than 1024"});
        check_refused(message(kSweeps, Bytes().varint(0).varint(513)), {"(sweeps)", "more than 512"});
        Bytes registers;
        registers.varint(1).varint(1).u8(0b011).v4(1).v4(2).varint(1).varint(0).varint(1).varint(0).varint(0);
        registers.varint(513);
        check_refused(message(kScans, registers), {"(scans entry 0)", "ports is 513, more than 512"});
    }
    SECTION("values out of range") {
        const auto pair = [](uint8_t flags, uint64_t count, uint64_t error, uint64_t total = 100) {
            return Bytes().varint(total).varint(1).u8(flags).v4(1).v4(2).varint(count).varint(error);
        };
        check_refused(message(kPairs, pair(0b111, 1, 0)), {"(pairs entry 0)", "unknown flag bits in 0x07"});
        check_refused(message(kPairs, pair(0b11, 5, 6)), {"error 6 above count 5"});
        check_refused(message(kPairs, pair(0b11, 101, 0)), {"the counts add up to more than the total 100"});
        const auto scan_with_ports = [](const Bytes& ports, uint8_t flags = 0b011) {
            Bytes b;
            b.varint(1).varint(1).u8(flags).v4(1).v4(2).varint(1).varint(0).varint(1).varint(0).varint(0);
            return message(kScans, b.raw(ports.s));
        };
        check_refused(scan_with_ports(Bytes().varint(1).u16(512 << 6 | 1)), {"ports: register 512 of 512"});
        check_refused(scan_with_ports(Bytes().varint(1).u16(3 << 6 | 57)), {"ports: register value 57 out of 1..56"});
        check_refused(scan_with_ports(Bytes().varint(1).u16(3 << 6 | 0)), {"register value 0 out of 1..56"});
        check_refused(scan_with_ports(Bytes().varint(2).u16(4 << 6 | 1).u16(4 << 6 | 2)), {"ports: registers out of order"});
        Bytes dense;
        for (unsigned i = 0; i < 512; ++i) dense.u8(i == 300 ? 57 : 1);
        check_refused(scan_with_ports(dense, 0b111), {"register value 57 out of 1..56"});

        Bytes host;
        host.varint(0).varint(1).u8(1).v4(0x0a010001).varint(0x10000);
        check_refused(message(kHosts, host), {"(hosts entry 0)", "the deployment is 65536, more than 65535"});
        Bytes reflection;
        reflection.varint(0).varint(1).u8(1).v4(0x0a010001).varint(0);
        for (int i = 0; i < 16; ++i) reflection.varint(0);
        for (int i = 0; i < 4; ++i) reflection.varint(0);
        reflection.varint(1 << 10);
        check_refused(message(kHosts, reflection), {"reflection mask 0x400 names services past the 10 known"});
        Bytes sweep;
        sweep.varint(1).varint(1).u8(1).v4(1).u16(22).varint(0x10000);
        check_refused(message(kSweeps, sweep), {"(sweeps entry 0)", "the target deployment is 65536"});
    }
    SECTION("a key or host listed twice") {
        Bytes pairs;
        pairs.varint(2).varint(2);
        for (int i = 0; i < 2; ++i) pairs.u8(0b11).v4(1).v4(2).varint(1).varint(0);
        check_refused(message(kPairs, pairs), {"(pairs entry 1)", "the key is listed twice"});
        Bytes hosts;
        hosts.varint(0).varint(2);
        for (int i = 0; i < 2; ++i) {
            hosts.u8(1).v4(0x0a010001).varint(0);
            for (int j = 0; j < 16 + 4 + 1; ++j) hosts.varint(0);
        }
        check_refused(message(kHosts, hosts), {"(hosts entry 1)", "host 10.1.0.1 listed twice"});
    }
    SECTION("random damage: refused cleanly, or accepted and stable when re-encoded") {
        const std::string good = encoded(*counted(quiet_traffic()));
        std::mt19937_64 rng(11);
        auto out = empty_summary(), again = empty_summary();
        unsigned accepted = 0;
        for (int round = 0; round < 3000; ++round) {
            std::string bytes = good;
            for (uint64_t n = 1 + rng() % 3; n > 0; --n) bytes[rng() % bytes.size()] = char(rng());
            const Result<> r = decode_window(bytes, *out);
            if (!r.ok()) {
                CHECK(r.error().message.rfind("byte ", 0) == 0);
                continue;
            }
            ++accepted;
            const std::string once = encoded(*out);
            REQUIRE(decode_window(once, *again).ok());
            CHECK(encoded(*again) == once);
        }
        CHECK(accepted > 0);  // counters changed, say: the re-encoding path ran
    }
}
