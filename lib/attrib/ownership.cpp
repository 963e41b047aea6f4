#include "attrib/ownership.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <string>

#include <rte_errno.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>
#include <rte_memory.h>

#include <fmt/format.h>

namespace sg {

namespace {

// Addresses are looked up in chunks of this many, so that the per-family
// scratch arrays of lookup_bulk() live on the stack (about 2 KiB).
constexpr unsigned kBulkChunk = 64;

// One LPM rule: a prefix (host bits zero) and the deployment that owns it.
struct Rule {
    Prefix prefix;
    DeploymentId id;
};

unsigned family_bits(const Prefix& p) { return p.is_v4() ? 32 : 128; }

// The prefix with every bit past `length` (in its own family) cleared.
Prefix masked(const Prefix& p) {
    Prefix m = p;
    const unsigned first_host_bit = (p.is_v4() ? 96 : 0) + p.length;
    for (unsigned i = first_host_bit; i < 128; ++i) m.address.bytes[i / 8] &= uint8_t(~(0x80u >> (i % 8)));
    return m;
}

// tbl8 groups an rte_lpm6 rule of this depth can need: one per byte past
// the 24-bit first level. Summing over the rules is an upper bound.
uint32_t v6_tbl8_groups(unsigned depth) { return depth > 24 ? (depth - 24 + 7) / 8 : 0; }

} // namespace

const char* direction_name(Direction d) {
    switch (d) {
    case Direction::inbound: return "inbound";
    case Direction::outbound: return "outbound";
    case Direction::internal: return "internal";
    case Direction::transit: return "transit";
    }
    return "unknown";
}

Ownership::~Ownership() {
    rte_lpm_free(v4_);
    rte_lpm6_free(v6_);
}

Result<std::unique_ptr<Ownership>> Ownership::create(const std::vector<Deployment>& deployments,
                                                     const char* name) {
    const std::string base = name ? name : "";
    const std::string what = fmt::format("ownership '{}': ", base);
    if (base.empty()) return make_error("ownership: a name is required (rte_lpm names are global)");
    if (base.size() > kMaxNameLength)
        return make_error(fmt::format("{}name is longer than {} characters", what, kMaxNameLength));
    if (deployments.size() > kMaxDeployments)
        return make_error(fmt::format("{}{} deployments, at most {} are supported", what,
                                      deployments.size(), kMaxDeployments));

    // Collect the rules, one per distinct prefix. The same prefix twice in
    // one deployment is harmless; the same prefix in two deployments has no
    // owner, which is a configuration error (different lengths nest: the
    // longest prefix wins).
    std::map<Prefix, DeploymentId> owner_of;
    std::vector<Rule> rules;
    for (size_t i = 0; i < deployments.size(); ++i) {
        const Deployment& d = deployments[i];
        const auto id = DeploymentId(i);
        for (const Prefix& p : d.prefixes) {
            if (p.length > family_bits(p))
                return make_error(fmt::format("{}deployment '{}': prefix length {} is above {}", what,
                                              d.name, p.length, family_bits(p)));
            if (masked(p) != p)
                return make_error(fmt::format("{}deployment '{}': prefix {} has host bits set", what,
                                              d.name, p.to_string()));
            const auto [it, inserted] = owner_of.emplace(p, id);
            if (!inserted && it->second != id)
                return make_error(fmt::format("{}prefix {} belongs to both deployment '{}' and '{}'",
                                              what, p.to_string(), deployments[it->second].name,
                                              d.name));
            if (inserted) rules.push_back({p, id});
        }
    }

    std::unique_ptr<Ownership> own(new Ownership());
    own->deployments_ = deployments;

    uint32_t v4_rules = 0, v4_deep = 0, v6_rules = 0, v6_groups = 0;
    for (const Rule& r : rules) {
        if (r.prefix.length == 0) {
            (r.prefix.is_v4() ? own->default_v4_ : own->default_v6_) = r.id;
        } else if (r.prefix.is_v4()) {
            ++v4_rules;
            v4_deep += r.prefix.length > 24; // each needs at most one tbl8 group
        } else {
            ++v6_rules;
            v6_groups += v6_tbl8_groups(r.prefix.length);
        }
    }

    if (v4_rules > 0 && v4_rules <= kMaxV4TablePrefixes) {
        // Cut the IPv4 space at every prefix's first address and one past its
        // last; within each piece the owner is constant: the longest prefix
        // containing its first address (or 0.0.0.0/0's owner).
        std::vector<uint64_t> cuts{0};
        for (const Rule& r : rules) {
            if (!r.prefix.is_v4() || r.prefix.length == 0) continue;
            const uint64_t first = r.prefix.address.v4_host();
            cuts.push_back(first);
            cuts.push_back(first + (uint64_t(1) << (32 - r.prefix.length)));
        }
        std::sort(cuts.begin(), cuts.end());
        cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
        for (const uint64_t cut : cuts) {
            if (cut > UINT32_MAX) break;
            const IpAddress a = IpAddress::from_v4_host(uint32_t(cut));
            DeploymentId owner = own->default_v4_;
            int best = 0;
            for (const Rule& r : rules)
                if (r.prefix.length > best && r.prefix.contains(a)) {
                    best = r.prefix.length;
                    owner = r.id;
                }
            if (!own->v4_owner_.empty() && own->v4_owner_.back() == owner) continue;
            own->v4_first_.push_back(uint32_t(cut));
            own->v4_owner_.push_back(owner);
        }
    } else if (v4_rules > 0) {
        const std::string lpm_name = base + "_v4";
        if (rte_lpm_find_existing(lpm_name.c_str()) != nullptr)
            return make_error(what + "name already in use in this process");
        rte_lpm_config cfg{};
        cfg.max_rules = v4_rules;
        cfg.number_tbl8s = v4_deep + 1; // rte_lpm refuses 0
        own->v4_ = rte_lpm_create(lpm_name.c_str(), SOCKET_ID_ANY, &cfg);
        if (own->v4_ == nullptr)
            return make_error(fmt::format("{}rte_lpm_create({} rules) failed: {} (it needs 64 MiB of "
                                          "EAL memory)", what, v4_rules, rte_strerror(rte_errno)));
    }
    if (v6_rules > 0) {
        const std::string lpm_name = base + "_v6";
        if (rte_lpm6_find_existing(lpm_name.c_str()) != nullptr)
            return make_error(what + "name already in use in this process");
        rte_lpm6_config cfg{};
        cfg.max_rules = v6_rules;
        cfg.number_tbl8s = v6_groups + 1;
        own->v6_ = rte_lpm6_create(lpm_name.c_str(), SOCKET_ID_ANY, &cfg);
        if (own->v6_ == nullptr)
            return make_error(fmt::format("{}rte_lpm6_create({} rules) failed: {} (it needs 64 MiB "
                                          "of EAL memory)", what, v6_rules, rte_strerror(rte_errno)));
    }

    for (const Rule& r : rules) {
        if (r.prefix.length == 0 || (r.prefix.is_v4() && own->v4_ == nullptr)) continue;
        const int rc = r.prefix.is_v4()
                           ? rte_lpm_add(own->v4_, r.prefix.address.v4_host(), r.prefix.length, r.id)
                           : rte_lpm6_add(own->v6_, r.prefix.address.bytes.data(), r.prefix.length, r.id);
        if (rc < 0)
            return make_error(fmt::format("{}adding {} (deployment '{}') failed: {}", what,
                                          r.prefix.to_string(), deployments[r.id].name,
                                          rte_strerror(-rc)));
    }
    return own;
}

DeploymentId Ownership::lookup_v4_ranges(uint32_t a) const {
    // v4_first_[0] is 0, so the range holding `a` is the one before the first start above it.
    const auto above = std::upper_bound(v4_first_.begin(), v4_first_.end(), a);
    return v4_owner_[size_t(above - v4_first_.begin()) - 1];
}

DeploymentId Ownership::lookup(const IpAddress& a) const {
    uint32_t hop;
    if (a.is_v4()) {
        if (!v4_first_.empty()) return lookup_v4_ranges(a.v4_host());
        if (v4_ != nullptr && rte_lpm_lookup(v4_, a.v4_host(), &hop) == 0) return DeploymentId(hop);
        return default_v4_;
    }
    if (v6_ != nullptr && rte_lpm6_lookup(v6_, a.bytes.data(), &hop) == 0) return DeploymentId(hop);
    return default_v6_;
}

void Ownership::lookup_bulk(const IpAddress* a, DeploymentId* out, unsigned n) const {
    // Split each chunk by family, look every family up in one call, then
    // scatter the answers back to their positions.
    uint32_t v4_ips[kBulkChunk];
    uint32_t v4_hops[kBulkChunk];
    uint8_t v4_pos[kBulkChunk];
    uint8_t v6_ips[kBulkChunk][RTE_LPM6_IPV6_ADDR_SIZE];
    int32_t v6_hops[kBulkChunk];
    uint8_t v6_pos[kBulkChunk];

    for (unsigned start = 0; start < n; start += kBulkChunk) {
        const unsigned count = std::min(kBulkChunk, n - start);
        unsigned n4 = 0, n6 = 0;
        for (unsigned i = 0; i < count; ++i) {
            const IpAddress& addr = a[start + i];
            if (addr.is_v4()) {
                v4_ips[n4] = addr.v4_host();
                v4_pos[n4++] = uint8_t(i);
            } else {
                std::memcpy(v6_ips[n6], addr.bytes.data(), RTE_LPM6_IPV6_ADDR_SIZE);
                v6_pos[n6++] = uint8_t(i);
            }
        }
        DeploymentId* chunk_out = out + start;
        if (n4 > 0) {
            if (!v4_first_.empty()) {
                for (unsigned i = 0; i < n4; ++i) chunk_out[v4_pos[i]] = lookup_v4_ranges(v4_ips[i]);
            } else if (v4_ != nullptr) {
                rte_lpm_lookup_bulk(v4_, v4_ips, v4_hops, n4);
                for (unsigned i = 0; i < n4; ++i)
                    chunk_out[v4_pos[i]] = (v4_hops[i] & RTE_LPM_LOOKUP_SUCCESS)
                                               ? DeploymentId(v4_hops[i] & 0x00ffffff)
                                               : default_v4_;
            } else {
                for (unsigned i = 0; i < n4; ++i) chunk_out[v4_pos[i]] = default_v4_;
            }
        }
        if (n6 > 0) {
            if (v6_ != nullptr) {
                rte_lpm6_lookup_bulk_func(v6_, v6_ips, v6_hops, n6);
                for (unsigned i = 0; i < n6; ++i)
                    chunk_out[v6_pos[i]] = v6_hops[i] >= 0 ? DeploymentId(v6_hops[i]) : default_v6_;
            } else {
                for (unsigned i = 0; i < n6; ++i) chunk_out[v6_pos[i]] = default_v6_;
            }
        }
    }
}

} // namespace sg
