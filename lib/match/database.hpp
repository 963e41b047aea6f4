#pragma once
// MatchDatabase: a rule set compiled for the workers. Built on the control
// side from a parsed rule set, then only read: by every worker (through its
// Matcher) and by the reporter (rule metadata for alerts). Replaced whole on
// reload, never modified.
//
// Rules are grouped by the protocols they can apply to. Each group has one
// Hyperscan block-mode database of its rules' fast patterns (one literal per
// rule: the content marked fast_pattern, else the longest positive one), and
// a list of rules without a usable literal that must be tried on every
// packet of the group.

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/result.hpp"
#include "match/classification.hpp"
#include "match/payload_match.hpp"
#include "match/rule.hpp"

struct hs_database;
struct hs_scratch;

namespace sg {

enum class RuleGroup : uint8_t { ip = 0, tcp, udp, icmp, count_ };
inline constexpr unsigned kRuleGroups = unsigned(RuleGroup::count_);
inline constexpr unsigned kMaxFlowbits = 64;

// Which buffers a rule's payload matches look at on TCP, as Suricata 7
// decides it: packet keywords (dsize, flags, ttl, ...) or flow:no_stream
// make a packet rule; flow:only_stream a stream rule; otherwise a stream
// rule that also inspects packets when a content has offset or depth.
// On other protocols, and TCP packets kept out of a stream, every rule
// inspects the packet.
enum class PayloadScope : uint8_t { packet, stream, packet_and_stream };

struct CompiledRule {
    const rules::Rule* rule = nullptr;   // owned by the database
    PayloadProgram payload;
    uint64_t flowbits_isset_any = 0;     // isset a|b: one of them
    uint64_t flowbits_isset_all = 0;     // isset a (or a&b): all of them
    uint64_t flowbits_isnotset_any = 0;  // isnotset a|b: one of them unset
    uint64_t flowbits_isnotset_all = 0;  // isnotset a (or a&b): all unset
    uint64_t flowbits_set = 0;
    uint64_t flowbits_unset = 0;
    uint64_t flowbits_toggle = 0;
    bool has_fast_pattern = false;
    PayloadScope scope = PayloadScope::packet;
    // Only addresses, ports and ip_proto (no payload, flow, flowbit tests or
    // packet keywords): Suricata decides these once per flow direction, on
    // its first packet, and so does Safeguard.
    bool ip_only = false;
};

struct GroupDatabase {
    hs_database* db = nullptr;          // nullptr when no rule in the group has a literal
    std::vector<uint32_t> always;       // rules tried on every packet of the group
    // The rules without a literal that a packet of this group tries: its own
    // `always` and, for tcp, udp and icmp, the ip group's, merged in rule
    // order once at build time so the matcher need only sort its hits.
    std::vector<uint32_t> packet_always;
};

class MatchDatabase {
public:
    // Compiles the accepted rules of a parse. Rules the matcher cannot take
    // (a pcre PCRE2 rejects, more than kMaxFlowbits flowbit names) are errors.
    // `classes` gives each classtype its description (eve's alert.category).
    static Result<std::shared_ptr<const MatchDatabase>> build(std::vector<rules::Rule> rules,
                                                              uint64_t generation,
                                                              const rules::Classifications& classes);
    ~MatchDatabase();

    const std::vector<CompiledRule>& rules() const { return compiled_; }
    const GroupDatabase& group(RuleGroup g) const { return groups_[unsigned(g)]; }
    uint64_t generation() const { return generation_; }
    // The description of the rule's classtype, or "" when it has none.
    const std::string& category(const rules::Rule& r) const;
    double compile_seconds() const { return compile_seconds_; }
    size_t database_bytes() const { return database_bytes_; }
    size_t size() const { return compiled_.size(); }
    // Fresh Hyperscan scratch large enough for every group (control side).
    Result<hs_scratch*> make_scratch() const;

private:
    MatchDatabase() = default;
    std::vector<rules::Rule> rules_;
    std::vector<CompiledRule> compiled_;
    GroupDatabase groups_[kRuleGroups];
    std::unordered_map<std::string, unsigned> flowbit_ids_;
    std::unordered_map<std::string, std::string> categories_;
    uint64_t generation_ = 0;
    double compile_seconds_ = 0;
    size_t database_bytes_ = 0;
};

} // namespace sg
