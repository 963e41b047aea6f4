#pragma once
// Ownership: which deployment owns an address, and the direction of a packet
// relative to the protected address space.
//
// IPv4 addresses (stored v4-mapped in IpAddress) are looked up in an rte_lpm,
// or, with few IPv4 prefixes (the usual handful of protected networks), in a
// small sorted table of address ranges; IPv6 addresses in an rte_lpm6; the
// next hop is the DeploymentId. Nested
// prefixes of different deployments are allowed and the longest prefix wins
// (a /24 carved out of another deployment's /16 belongs to the /24's owner).
// The two families are separate, as in Prefix::contains(): an IPv6 prefix
// never owns an IPv4 address, whatever its bits.
//
// Thread: create() and the destructor run on the control side after
// rte_eal_init. After create() the object is read-only: lookup(),
// lookup_bulk(), size() and deployment() may be called from any number of
// threads at once (every worker and the reporter may share one instance)
// without locks. lookup() and lookup_bulk() do not allocate, throw or log.
// To change the deployments, build a new Ownership and publish it by pointer
// swap; free the old one only after every reader let go of it.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "config/config.hpp"
#include "core/ip_address.hpp"
#include "core/result.hpp"

struct rte_lpm;
struct rte_lpm6;

namespace sg {

// Index of a deployment in the list given to Ownership::create().
using DeploymentId = uint16_t;
inline constexpr DeploymentId kNoDeployment = 0xffff;
// Every id below kNoDeployment is usable.
inline constexpr size_t kMaxDeployments = kNoDeployment;

enum class Direction : uint8_t {
    inbound,   // external -> deployment
    outbound,  // deployment -> external
    internal,  // deployment -> deployment (the same one or another)
    transit,   // external -> external: neither end is protected
};
const char* direction_name(Direction d); // "inbound", "outbound", "internal", "transit"

// Direction of a packet from its source's and destination's owners
// (kNoDeployment = external).
inline Direction classify(DeploymentId src, DeploymentId dst) {
    const bool src_owned = src != kNoDeployment;
    const bool dst_owned = dst != kNoDeployment;
    if (src_owned) return dst_owned ? Direction::internal : Direction::outbound;
    return dst_owned ? Direction::inbound : Direction::transit;
}

class Ownership {
public:
    // Builds the lookup tables from the deployments (ids are their indices).
    // `name` makes the rte_lpm names unique in the process (at most
    // kMaxNameLength characters; only read here). Errors: a prefix claimed by
    // two deployments with the same length, a prefix with host bits set or
    // a bad length, more than kMaxDeployments deployments, a name in use, or
    // an LPM create/add failure (usually: EAL has too little memory).
    // A deployment listing the same prefix twice is fine.
    //
    // Memory (EAL heap): an rte_lpm's and an rte_lpm6's first-level table
    // are 64 MiB each (2^24 4-byte entries), plus small second-level groups;
    // a table is created only when its family has a prefix longer than /0,
    // and the rte_lpm only for more than kMaxV4TablePrefixes such IPv4
    // prefixes (fewer go into the range table, at most 2n + 1 ranges).
    // Without hugepages every lookup of a new address in the rte_lpm's first
    // level misses the cache and the TLB; the range table stays in cache.
    static Result<std::unique_ptr<Ownership>> create(const std::vector<Deployment>& deployments,
                                                     const char* name);
    static constexpr size_t kMaxNameLength = 16;
    static constexpr size_t kMaxV4TablePrefixes = 127;

    ~Ownership();
    Ownership(const Ownership&) = delete;
    Ownership& operator=(const Ownership&) = delete;

    // The deployment with the longest prefix containing `a`; kNoDeployment
    // when none does.
    DeploymentId lookup(const IpAddress& a) const;
    // The same for a burst: out[i] = lookup(a[i]). Uses rte_lpm_lookup_bulk
    // (or the range table) and rte_lpm6_lookup_bulk_func on the addresses of
    // each family.
    void lookup_bulk(const IpAddress* a, DeploymentId* out, unsigned n) const;

    // Direction of a packet from `src` to `dst`.
    Direction direction(const IpAddress& src, const IpAddress& dst) const {
        return classify(lookup(src), lookup(dst));
    }

    size_t size() const { return deployments_.size(); }
    // `id` < size().
    const Deployment& deployment(DeploymentId id) const { return deployments_[id]; }

private:
    Ownership() = default;

    std::vector<Deployment> deployments_;
    DeploymentId lookup_v4_ranges(uint32_t a) const;

    rte_lpm* v4_ = nullptr;   // null when no IPv4 prefix is longer than /0, or few are
    // Few IPv4 prefixes: the IPv4 space cut into ranges of one owner each
    // (longest prefix already resolved, /0 included): range i is
    // [v4_first_[i], v4_first_[i + 1]), v4_first_[0] = 0. Empty otherwise.
    std::vector<uint32_t> v4_first_;
    std::vector<DeploymentId> v4_owner_;
    rte_lpm6* v6_ = nullptr;  // null when no IPv6 prefix is longer than /0
    // Owner of 0.0.0.0/0 and ::/0: an LPM cannot hold a depth-0 rule, so a
    // miss falls back to these.
    DeploymentId default_v4_ = kNoDeployment;
    DeploymentId default_v6_ = kNoDeployment;
};

} // namespace sg
