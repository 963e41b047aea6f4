#include "io/eal.hpp"

#include <sched.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include <fmt/format.h>

namespace sg {

std::vector<std::string> default_eal_args(unsigned lcores) {
    cpu_set_t set;
    CPU_ZERO(&set);
    std::vector<int> cpus;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        for (int c = 0; c < CPU_SETSIZE; ++c)
            if (CPU_ISSET(c, &set)) cpus.push_back(c);
    if (cpus.empty()) cpus.push_back(0);

    // lcore i runs on CPU cpus[i % n]: the main lcore (0) and the first worker
    // get different CPUs whenever there are two.
    std::string map;
    for (unsigned i = 0; i < lcores; ++i)
        map += fmt::format("{}{}@{}", i ? "," : "", i, cpus[i % cpus.size()]);
    // Memory: the mbuf pool, then per worker its flow table and rings, and
    // the deployments' LPM tables (rte_lpm's first level is 64 MiB per
    // family, IPv4 and IPv6).
    const unsigned megabytes = 512 + 48 * lcores + 2 * 64;
    return {"--no-huge", "--no-pci", "--no-shconf", "-m", std::to_string(megabytes), "--no-telemetry",
            "--log-level", "*:warning", "--lcores", map};
}

Result<> init_eal(const std::string& program, const std::vector<std::string>& args) {
    std::vector<std::string> storage;
    storage.push_back(program);
    storage.insert(storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : storage) argv.push_back(s.data());
    argv.push_back(nullptr);
    if (rte_eal_init(int(storage.size()), argv.data()) < 0)
        return make_error(fmt::format("EAL initialisation failed: {} (arguments: {})",
                                      rte_strerror(rte_errno), fmt::join(args, " ")));
    return {};
}

Result<std::vector<std::string>> split_args(const std::string& text) {
    std::vector<std::string> out;
    std::string cur;
    bool in_word = false;
    char quote = 0;
    for (char c : text) {
        if (quote) {
            if (c == quote) quote = 0;
            else cur += c;
        } else if (c == '\'' || c == '"') {
            quote = c;
            in_word = true;
        } else if (c == ' ' || c == '\t' || c == '\n') {
            if (in_word) out.push_back(std::move(cur));
            cur.clear();
            in_word = false;
        } else {
            cur += c;
            in_word = true;
        }
    }
    if (quote) return make_error(fmt::format("unbalanced {} quote in '{}'", quote, text));
    if (in_word) out.push_back(std::move(cur));
    return out;
}

} // namespace sg
