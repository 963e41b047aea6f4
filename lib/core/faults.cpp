#include "core/faults.hpp"

#include <charconv>
#include <cstdlib>

#include <fmt/format.h>

#include "core/time.hpp"

namespace sg {

std::string InjectedFaults::describe() const {
    std::string out;
    auto add = [&out](const std::string& item) { out += (out.empty() ? "" : ", ") + item; };
    if (reporter_stall.count() > 0) add(fmt::format("reporter_stall={}ms", reporter_stall.count()));
    if (mempool_exhaust > 0) add(fmt::format("mempool_exhaust={}", mempool_exhaust));
    return out;
}

Result<InjectedFaults> parse_faults(std::string_view text) {
    InjectedFaults f;
    while (!text.empty()) {
        const size_t comma = text.find(',');
        const std::string_view item = text.substr(0, comma);
        text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
        if (item.empty()) continue;
        const size_t eq = item.find('=');
        if (eq == std::string_view::npos)
            return make_error(fmt::format("expected NAME=VALUE, got '{}'", item));
        const std::string_view name = item.substr(0, eq);
        const std::string_view value = item.substr(eq + 1);
        if (name == "reporter_stall") {
            const auto d = parse_duration(value);
            if (!d || *d == 0)
                return make_error(fmt::format("reporter_stall: expected a duration such as 8s or 500ms, got '{}'", value));
            f.reporter_stall = std::chrono::milliseconds(*d / kNsPerMs);
        } else if (name == "mempool_exhaust") {
            uint64_t n = 0;
            const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
            if (ec != std::errc() || end != value.data() + value.size() || n == 0)
                return make_error(fmt::format("mempool_exhaust: expected a number of packets above 0, got '{}'", value));
            f.mempool_exhaust = n;
        } else {
            return make_error(fmt::format("unknown fault '{}' (reporter_stall, mempool_exhaust)", name));
        }
    }
    return f;
}

Result<InjectedFaults> faults_from_environment() {
    const char* text = std::getenv(kFaultsVariable);
    if (!text) return InjectedFaults{};
    auto f = parse_faults(text);
    if (!f) return make_error(fmt::format("{}: {}", kFaultsVariable, f.error().message));
    return f;
}

} // namespace sg
