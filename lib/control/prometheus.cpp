#include "control/prometheus.hpp"

#include <cmath>

#include <fmt/format.h>

namespace sg::control {

std::string escape_label_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (const char c : value) {
        switch (c) {
        case '\\': out += "\\\\"; break;
        case '"': out += "\\\""; break;
        case '\n': out += "\\n"; break;
        default: out += c;
        }
    }
    return out;
}

void PromText::family(std::string_view name, std::string_view type, std::string_view help) {
    // HELP text escapes only backslash and newline.
    std::string h;
    for (const char c : help) {
        if (c == '\\') h += "\\\\";
        else if (c == '\n') h += "\\n";
        else h += c;
    }
    out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, h, name, type);
}

void PromText::labels(const Labels& labels) {
    if (labels.empty()) return;
    out_ += '{';
    bool first = true;
    for (const auto& [k, v] : labels) {
        if (!first) out_ += ',';
        first = false;
        out_ += fmt::format("{}=\"{}\"", k, escape_label_value(v));
    }
    out_ += '}';
}

void PromText::sample(std::string_view name, const Labels& l, double value) {
    out_ += name;
    labels(l);
    if (std::isnan(value)) out_ += " NaN\n";
    else if (std::isinf(value)) out_ += value > 0 ? " +Inf\n" : " -Inf\n";
    else out_ += fmt::format(" {}\n", value);
}

void PromText::sample(std::string_view name, const Labels& l, uint64_t value) {
    out_ += name;
    labels(l);
    out_ += fmt::format(" {}\n", value);
}

void PromText::single(std::string_view name, std::string_view type, std::string_view help, uint64_t value) {
    family(name, type, help);
    sample(name, value);
}

} // namespace sg::control
