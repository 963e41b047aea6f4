#pragma once
// PromText: the Prometheus text exposition format (version 0.0.4), written
// family by family: `# HELP` and `# TYPE` once per metric name, then its
// samples. Label values are escaped as the format requires (backslash,
// double quote, newline), so names taken from traffic or configuration
// cannot break a line.
//
// Thread: any (a value type).

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sg::control {

using Labels = std::vector<std::pair<std::string, std::string>>;

class PromText {
public:
    // type: "counter", "gauge" (or "untyped").
    void family(std::string_view name, std::string_view type, std::string_view help);
    void sample(std::string_view name, const Labels& labels, double value);
    void sample(std::string_view name, const Labels& labels, uint64_t value);
    void sample(std::string_view name, uint64_t value) { sample(name, {}, value); }
    // family() + one unlabelled sample.
    void single(std::string_view name, std::string_view type, std::string_view help, uint64_t value);
    const std::string& text() const { return out_; }

private:
    void labels(const Labels& labels);
    std::string out_;
};

std::string escape_label_value(std::string_view value);

} // namespace sg::control
