// AlertOrderer: alerts of several workers come out in packet-time order,
// only once no worker can still send an earlier one, and in the same order
// whatever the interleaving of the rings or the number of workers.

#include <catch2/catch.hpp>

#include <vector>

#include "alert_test_util.hpp"
#include "report/alert_orderer.hpp"

using namespace sg;
using sg::test::alert_at;

namespace {

std::vector<Nanos> times(AlertOrderer& o, bool all) {
    std::vector<Nanos> out;
    AlertRecord a;
    while (all ? o.next_any(a) : o.next(a)) out.push_back(a.ts);
    return out;
}

Nanos sec(double s) { return Nanos(s * double(kNsPerSec)); }

} // namespace

TEST_CASE("orderer: an alert waits until every worker has moved past its time") {
    AlertOrderer o;
    o.set_workers(2);
    AlertRecord early;
    // Worker 1 is slow to deliver: worker 0's alerts arrive first.
    CHECK_FALSE(o.push(0, alert_at(2, "10.0.0.1", "10.0.0.2"), early));
    CHECK_FALSE(o.push(0, alert_at(4, "10.0.0.1", "10.0.0.2"), early));
    CHECK(o.watermark() == 0);
    CHECK(times(o, false).empty());  // worker 1 has said nothing yet

    // Worker 1's first alert is earlier than all of them. Until worker 1 is
    // past time 1, it may still send another alert at time 1.
    CHECK_FALSE(o.push(1, alert_at(1, "10.0.0.3", "10.0.0.4"), early));
    CHECK(o.watermark() == sec(1));
    CHECK(times(o, false).empty());
    o.observe(1, sec(3));
    CHECK(times(o, false) == std::vector<Nanos>{sec(1), sec(2)});
    CHECK(times(o, true) == std::vector<Nanos>{sec(4)});
}

TEST_CASE("orderer: released in packet-time order across workers") {
    AlertOrderer o;
    o.set_workers(2);
    AlertRecord early;
    o.push(0, alert_at(2, "10.0.0.1", "10.0.0.2"), early);
    o.push(0, alert_at(5, "10.0.0.1", "10.0.0.2"), early);
    o.push(1, alert_at(1, "10.0.0.3", "10.0.0.4"), early);
    o.push(1, alert_at(3, "10.0.0.3", "10.0.0.4"), early);
    // Watermark min(5, 3) = 3: everything before 3 may go.
    CHECK(o.watermark() == sec(3));
    CHECK(times(o, false) == std::vector<Nanos>{sec(1), sec(2)});
    // A flow end moves worker 1's time on without an alert.
    o.observe(1, sec(6));
    CHECK(times(o, false) == std::vector<Nanos>{sec(3)});
    CHECK(o.held() == 1);
    // The end of the input: the rest, in order.
    CHECK(times(o, true) == std::vector<Nanos>{sec(5)});
    CHECK(o.held() == 0);
}

TEST_CASE("orderer: an idle worker holds the order back until the end") {
    AlertOrderer o;
    o.set_workers(3);
    AlertRecord early;
    // Worker 0's ring is drained before worker 1's: arrival is not time order.
    for (int i = 0; i < 10; ++i)
        o.push(unsigned(i / 5), alert_at(1 + 2 * (i % 5) + i / 5, "10.0.0.1", "10.0.0.2"), early);
    CHECK(times(o, false).empty());  // worker 2 never sent anything
    const auto all = times(o, true);
    REQUIRE(all.size() == 10);
    CHECK(std::is_sorted(all.begin(), all.end()));
}

TEST_CASE("orderer: at the same packet time, the order does not depend on the worker") {
    // Three flows with alerts at the same instants. With one worker they
    // arrive in capture order; with two, the flows are spread over the
    // workers and their rings are drained in some interleaving.
    const std::vector<AlertRecord> in = {
        alert_at(1, "10.0.0.9", "10.0.0.2"), alert_at(1, "10.0.0.1", "10.0.0.2"),
        alert_at(1, "10.0.0.5", "10.0.0.2"), alert_at(2, "10.0.0.5", "10.0.0.2"),
        alert_at(2, "10.0.0.1", "10.0.0.2"), alert_at(2, "10.0.0.9", "10.0.0.2"),
    };
    auto run = [&](unsigned workers, bool reverse_rings) {
        AlertOrderer o;
        o.set_workers(workers);
        std::vector<std::pair<unsigned, AlertRecord>> arrivals;
        for (const AlertRecord& a : in) {
            const unsigned w = workers == 1 ? 0 : (a.src == *IpAddress::parse("10.0.0.5") ? 1 : 0);
            arrivals.emplace_back(w, a);
        }
        // Drain worker 1's ring first, or worker 0's.
        std::stable_sort(arrivals.begin(), arrivals.end(), [&](const auto& x, const auto& y) {
            return reverse_rings ? x.first > y.first : x.first < y.first;
        });
        std::vector<std::string> out;
        AlertRecord a, early;
        for (const auto& [w, rec] : arrivals) {
            o.push(w, rec, early);
            while (o.next(a)) out.push_back(a.src.to_string() + "@" + std::to_string(a.ts));
        }
        while (o.next_any(a)) out.push_back(a.src.to_string() + "@" + std::to_string(a.ts));
        return out;
    };
    const auto one = run(1, false);
    REQUIRE(one.size() == in.size());
    CHECK(run(2, false) == one);
    CHECK(run(2, true) == one);
    // Within one instant the order is the flows', not the arrival order.
    CHECK(one[0] == "10.0.0.1@" + std::to_string(sec(1)));
    CHECK(one[1] == "10.0.0.5@" + std::to_string(sec(1)));
    CHECK(one[2] == "10.0.0.9@" + std::to_string(sec(1)));
}

TEST_CASE("orderer: one flow keeps its own order at the same instant") {
    AlertOrderer o;
    o.set_workers(1);
    AlertRecord early, a;
    for (uint32_t rule = 0; rule < 5; ++rule)
        o.push(0, alert_at(1, "10.0.0.1", "10.0.0.2", 40000, 80, 4 - rule), early);
    std::vector<uint32_t> rules;
    while (o.next_any(a)) rules.push_back(a.rule_index);
    CHECK(rules == std::vector<uint32_t>{4, 3, 2, 1, 0});
}

TEST_CASE("orderer: bounded; a full hold releases the earliest alert and counts it") {
    AlertOrderer o(3);
    o.set_workers(2);  // worker 1 idle: nothing is released by the watermark
    AlertRecord early;
    CHECK_FALSE(o.push(0, alert_at(5, "10.0.0.1", "10.0.0.2"), early));
    CHECK_FALSE(o.push(0, alert_at(6, "10.0.0.1", "10.0.0.2"), early));
    CHECK_FALSE(o.push(0, alert_at(7, "10.0.0.1", "10.0.0.2"), early));
    REQUIRE(o.push(0, alert_at(8, "10.0.0.1", "10.0.0.2"), early));
    CHECK(early.ts == sec(5));
    CHECK(o.overflow() == 1);
    CHECK(o.held() == 3);
    CHECK(times(o, true) == std::vector<Nanos>{sec(6), sec(7), sec(8)});
}

TEST_CASE("orderer: a worker id beyond the announced count is one more worker") {
    AlertOrderer o;
    o.set_workers(1);
    AlertRecord early;
    o.push(0, alert_at(1, "10.0.0.1", "10.0.0.2"), early);
    o.push(0, alert_at(3, "10.0.0.1", "10.0.0.2"), early);
    CHECK(times(o, false) == std::vector<Nanos>{sec(1)});
    o.push(1, alert_at(2, "10.0.0.3", "10.0.0.2"), early);  // worker 1 appears at time 2
    CHECK(times(o, false).empty());                          // min(3, 2) = 2: nothing below it
    o.observe(1, sec(9));
    CHECK(times(o, false) == std::vector<Nanos>{sec(2)});
}

TEST_CASE("orderer: a worker whose packet times go backwards keeps its own order") {
    AlertOrderer o;
    o.set_workers(1);
    AlertRecord early, a;
    o.push(0, alert_at(100, "10.0.0.1", "10.0.0.2"), early);
    o.push(0, alert_at(1, "10.0.0.1", "10.0.0.2"), early);  // the capture stepped back
    o.push(0, alert_at(2, "10.0.0.1", "10.0.0.2"), early);
    std::vector<Nanos> got;
    while (o.next_any(a)) got.push_back(a.ts);
    CHECK(got == std::vector<Nanos>{sec(100), sec(1), sec(2)});  // times unchanged, order kept
}
