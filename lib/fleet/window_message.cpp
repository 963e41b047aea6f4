#include "fleet/window_message.hpp"

#include <cstring>

#include <fmt/format.h>

#include "detect/sketch.hpp"

namespace sg::fleet {

namespace {
constexpr char kMagic[4] = {'S', 'G', 'F', 'W'};
constexpr size_t kPrefix = 9;  // magic, version, header length
} // namespace

std::string encode_message(const WindowMessage& m, std::string_view summary_bytes) {
    const nlohmann::json header = {{"appliance", m.appliance}, {"run", m.run},         {"seq", m.seq},
                                   {"id", m.id},               {"kind", m.kind},       {"config", m.config},
                                   {"window_ns", m.window},    {"index", m.index},     {"attributions", m.attributions}};
    const std::string text = header.dump();
    std::string out;
    out.reserve(kPrefix + text.size() + summary_bytes.size());
    out.append(kMagic, sizeof kMagic);
    out.push_back(char(kWindowMessageVersion));
    const auto n = uint32_t(text.size());
    for (int i = 0; i < 4; ++i) out.push_back(char((n >> (8 * i)) & 0xff));
    out += text;
    out.append(summary_bytes.data(), summary_bytes.size());
    return out;
}

Result<WindowMessage> decode_message(std::string_view bytes) {
    if (bytes.size() < kPrefix || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
        return make_error(fmt::format("not a window message ({} bytes, no SGFW magic)", bytes.size()));
    if (uint8_t(bytes[4]) != kWindowMessageVersion)
        return make_error(fmt::format("window message version {}, this build reads {}", uint8_t(bytes[4]),
                                      kWindowMessageVersion));
    uint32_t n = 0;
    for (int i = 0; i < 4; ++i) n |= uint32_t(uint8_t(bytes[5 + i])) << (8 * i);
    if (n > bytes.size() - kPrefix)
        return make_error(fmt::format("window message header of {} bytes in a message of {}", n, bytes.size()));
    WindowMessage m;
    try {
        const auto h = nlohmann::json::parse(bytes.substr(kPrefix, n));
        m.appliance = h.at("appliance").get<std::string>();
        m.run = h.at("run").get<std::string>();
        m.seq = h.at("seq").get<uint64_t>();
        m.id = h.at("id").get<std::string>();
        m.kind = h.at("kind").get<std::string>();
        m.config = h.at("config").get<std::string>();
        m.window = h.at("window_ns").get<Nanos>();
        m.index = h.at("index").get<uint64_t>();
        m.attributions = h.at("attributions");
    } catch (const std::exception& e) {
        return make_error(fmt::format("window message header: {}", e.what()));
    }
    if (m.kind != "window" && m.kind != "bye")
        return make_error(fmt::format("window message of kind '{}' (expected window or bye)", m.kind));
    if (m.appliance.empty()) return make_error("window message without an appliance name");
    m.summary = bytes.substr(kPrefix + n);
    return m;
}

std::string config_fingerprint(const Config& cfg) {
    // JSON, so that no name or prefix can run into the next one.
    nlohmann::json what = {{"window", cfg.detect.window}, {"deployments", nlohmann::json::array()}};
    for (const Deployment& d : cfg.deployments) {
        nlohmann::json prefixes = nlohmann::json::array();
        for (const Prefix& p : d.prefixes) prefixes.push_back(p.to_string());
        what["deployments"].push_back({d.name, prefixes});
    }
    const std::string text = what.dump();
    return fmt::format("{:016x}", sketch_hash(text.data(), text.size(), 0x5347464c45455431ull));
}

} // namespace sg::fleet
