// Fuzz entry "window_decode": the input is a message as an appliance sends
// its window summary to the fleet aggregator (lib/fleet/window_codec.hpp).
//
// What must hold besides "no crash, no read outside the input": a refused
// message leaves the summary cleared and says at which byte; an accepted
// one re-encodes to bytes that decode again and encode to the same bytes
// (what decode keeps is exactly what encode sends), and merges, top() and
// the HyperLogLog estimates work on it (the aggregator's next steps).

#include "fuzz_entries.hpp"

#include <array>
#include <memory>

#include "fleet/window_codec.hpp"

namespace sg::fuzz {
namespace {

bool is_cleared(const WindowSummary& w) {
    return w.packets == 0 && w.hosts.size() == 0 && w.hosts.overflow() == 0 && w.targets.size() == 0 &&
           w.pairs.size() == 0 && w.services.size() == 0 && w.scans.size() == 0 && w.sweeps.size() == 0 &&
           w.targets.total() == 0 && w.sweeps.total() == 0;
}

} // namespace

std::string window_decode(const uint8_t* data, size_t size) {
    // Three blocks of about 2 MB, reused from input to input as the
    // aggregator reuses its own.
    static const auto first = std::make_unique<WindowSummary>();
    static const auto second = std::make_unique<WindowSummary>();
    static const auto merged = std::make_unique<WindowSummary>();
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    const Result<> r = fleet::decode_window(bytes, *first);
    if (!r) {
        if (!is_cleared(*first)) return "a refused message left the summary not cleared: " + r.error().message;
        if (r.error().message.rfind("byte ", 0) != 0) return "an error without its byte offset: " + r.error().message;
        return {};
    }
    std::string once;
    fleet::encode_window(*first, once);
    const Result<> again = fleet::decode_window(once, *second);
    if (!again) return "a decoded summary re-encoded does not decode: " + again.error().message;
    std::string twice;
    fleet::encode_window(*second, twice);
    if (twice != once) return "re-encoding a decoded summary changes its bytes";

    *merged = *first;
    merged->merge(*second);
    merged->merge(*merged);
    std::array<const decltype(merged->targets)::Entry*, 8> top{};
    merged->targets.top(top);
    double sum = 0;
    merged->hosts.for_each([&](const HostStats& h) { sum += h.peers_in.estimate() + h.ports_out.estimate(); });
    merged->scans.for_each([&](const auto& e) { sum += e.value.ports.estimate(); });
    if (!(sum >= 0)) return "a HyperLogLog estimate is negative or NaN";
    return {};
}

} // namespace sg::fuzz
