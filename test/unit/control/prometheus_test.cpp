// PromText: the exposition format Prometheus parses.

#include <catch2/catch.hpp>

#include <limits>

#include "control/prometheus.hpp"

using namespace sg::control;

TEST_CASE("Families, labelled samples and escaping") {
    PromText p;
    p.family("safeguard_packets_total", "counter", "Frames received.\nPer port.");
    p.sample("safeguard_packets_total", {{"port", "wire0"}}, uint64_t(42));
    p.sample("safeguard_packets_total", {{"port", "we\"ird\\na\nme"}, {"x", "1"}}, uint64_t(7));
    p.single("safeguard_rules_generation", "gauge", "The running rule set.", 3);
    p.family("safeguard_ratio", "gauge", "A ratio.");
    p.sample("safeguard_ratio", {}, 0.25);
    p.sample("safeguard_ratio", {{"k", "nan"}}, std::numeric_limits<double>::quiet_NaN());
    p.sample("safeguard_ratio", {{"k", "inf"}}, std::numeric_limits<double>::infinity());
    CHECK(p.text() ==
          "# HELP safeguard_packets_total Frames received.\\nPer port.\n"
          "# TYPE safeguard_packets_total counter\n"
          "safeguard_packets_total{port=\"wire0\"} 42\n"
          "safeguard_packets_total{port=\"we\\\"ird\\\\na\\nme\",x=\"1\"} 7\n"
          "# HELP safeguard_rules_generation The running rule set.\n"
          "# TYPE safeguard_rules_generation gauge\n"
          "safeguard_rules_generation 3\n"
          "# HELP safeguard_ratio A ratio.\n"
          "# TYPE safeguard_ratio gauge\n"
          "safeguard_ratio 0.25\n"
          "safeguard_ratio{k=\"nan\"} NaN\n"
          "safeguard_ratio{k=\"inf\"} +Inf\n");
}
