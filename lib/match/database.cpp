#include "match/database.hpp"

#include <algorithm>
#include <chrono>

#include <hs.h>

#include <fmt/format.h>

namespace sg {

namespace {

// The groups a rule's protocol can apply to.
RuleGroup group_of(rules::Protocol p) {
    switch (p) {
    case rules::Protocol::tcp: return RuleGroup::tcp;
    case rules::Protocol::udp: return RuleGroup::udp;
    case rules::Protocol::icmp:
    case rules::Protocol::icmpv4:
    case rules::Protocol::icmpv6: return RuleGroup::icmp;
    case rules::Protocol::ip: return RuleGroup::ip;
    }
    return RuleGroup::ip;
}

// The literal Hyperscan looks for: fast_pattern if marked, else the longest
// positive content (the most selective one, as Suricata chooses).
const rules::Content* fast_pattern(const rules::Rule& r) {
    const rules::Content* best = nullptr;
    for (const rules::PayloadMatch& m : r.payload) {
        const auto* c = std::get_if<rules::Content>(&m);
        if (!c || c->negated || c->bytes.empty()) continue;
        if (c->fast_pattern) return c;
        if (!best || c->bytes.size() > best->bytes.size()) best = c;
    }
    return best;
}

PayloadScope payload_scope(const rules::Rule& r) {
    using Stream = rules::FlowMatch::Stream;
    if (r.flow && r.flow->stream == Stream::no_stream) return PayloadScope::packet;
    if (r.flow && r.flow->stream == Stream::only_stream) return PayloadScope::stream;
    // Suricata's packet-only keywords (SIG_FLAG_REQUIRE_PACKET at setup).
    if (r.dsize || r.ttl || r.tos || r.ip_id || !r.ipopts.empty() || r.fragbits || r.fragoffset || r.flags ||
        r.window || r.seq || r.ack || r.itype || r.icode || r.icmp_id || r.icmp_seq)
        return PayloadScope::packet;
    for (const rules::PayloadMatch& m : r.payload)
        if (const auto* c = std::get_if<rules::Content>(&m); c && (c->offset || c->depth || c->startswith))
            return PayloadScope::packet_and_stream;
    return PayloadScope::stream;
}

// Evaluation order: rules that set flowbits before rules that test them (a
// setter and a tester matching one packet must see the bit), pass rules
// first within that, then file order.
int order_class(const rules::Rule& r) {
    bool sets = false, tests = false;
    for (const rules::Flowbit& fb : r.flowbits) {
        if (fb.op == rules::Flowbit::Op::isset || fb.op == rules::Flowbit::Op::isnotset) tests = true;
        else sets = true;
    }
    const int fb = sets && !tests ? 0 : (sets ? 1 : 2);
    return fb * 2 + (r.action == rules::Action::pass ? 0 : 1);
}

} // namespace

MatchDatabase::~MatchDatabase() {
    for (GroupDatabase& g : groups_)
        if (g.db) hs_free_database(g.db);
}

Result<hs_scratch*> MatchDatabase::make_scratch() const {
    hs_scratch_t* scratch = nullptr;
    for (const GroupDatabase& g : groups_)
        if (g.db && hs_alloc_scratch(g.db, &scratch) != HS_SUCCESS)
            return make_error("cannot allocate Hyperscan scratch");
    return scratch;
}

const std::string& MatchDatabase::category(const rules::Rule& r) const {
    static const std::string none;
    auto it = categories_.find(r.classtype);
    return it == categories_.end() ? none : it->second;
}

Result<std::shared_ptr<const MatchDatabase>> MatchDatabase::build(std::vector<rules::Rule> rules,
                                                                  uint64_t generation,
                                                                  const rules::Classifications& classes) {
    const auto t0 = std::chrono::steady_clock::now();
    std::shared_ptr<MatchDatabase> db(new MatchDatabase);
    db->generation_ = generation;
    std::stable_sort(rules.begin(), rules.end(),
                     [](const rules::Rule& a, const rules::Rule& b) { return order_class(a) < order_class(b); });
    db->rules_ = std::move(rules);

    auto bit = [&](const std::string& name) -> Result<uint64_t> {
        auto [it, inserted] = db->flowbit_ids_.emplace(name, unsigned(db->flowbit_ids_.size()));
        if (it->second >= kMaxFlowbits)
            return make_error(fmt::format("more than {} distinct flowbit names (at '{}')", kMaxFlowbits, name));
        return uint64_t(1) << it->second;
    };

    struct Literal {
        std::string bytes;
        unsigned flags;
        unsigned id;
    };
    std::vector<Literal> literals[kRuleGroups];

    db->compiled_.reserve(db->rules_.size());
    for (uint32_t i = 0; i < db->rules_.size(); ++i) {
        const rules::Rule& r = db->rules_[i];
        auto where = [&] { return fmt::format("{}:{}: sid {}", r.file, r.line, r.sid); };
        CompiledRule cr;
        cr.rule = &r;
        if (!r.classtype.empty() && !db->categories_.count(r.classtype))
            if (const rules::Classification* c = classes.find(r.classtype))
                db->categories_[r.classtype] = c->description;
        auto prog = compile_payload(r.payload);
        if (!prog) return make_error(fmt::format("{}: {}", where(), prog.error().message));
        cr.payload = std::move(*prog);
        cr.scope = payload_scope(r);
        for (const rules::Flowbit& fb : r.flowbits) {
            uint64_t mask = 0;
            for (const std::string& name : fb.names) {
                auto b = bit(name);
                if (!b) return make_error(fmt::format("{}: {}", where(), b.error().message));
                mask |= *b;
            }
            switch (fb.op) {
            case rules::Flowbit::Op::set: cr.flowbits_set |= mask; break;
            case rules::Flowbit::Op::unset: cr.flowbits_unset |= mask; break;
            case rules::Flowbit::Op::toggle: cr.flowbits_toggle |= mask; break;
            case rules::Flowbit::Op::isset:
                (fb.all || fb.names.size() == 1 ? cr.flowbits_isset_all : cr.flowbits_isset_any) |= mask;
                break;
            case rules::Flowbit::Op::isnotset:
                (fb.all || fb.names.size() == 1 ? cr.flowbits_isnotset_all : cr.flowbits_isnotset_any) |= mask;
                break;
            }
        }
        cr.ip_only = r.payload.empty() && !r.flow && !r.flags &&
                     !r.fragbits && !r.dsize && !r.ttl && !r.tos && !r.ip_id && !r.window && !r.seq && !r.ack &&
                     !r.icmp_id && !r.icmp_seq && !r.itype && !r.icode && !r.fragoffset && r.ipopts.empty() &&
                     !r.sameip && !cr.flowbits_isset_all && !cr.flowbits_isset_any && !cr.flowbits_isnotset_all &&
                     !cr.flowbits_isnotset_any;
        const unsigned g = unsigned(group_of(r.protocol));
        if (const rules::Content* fp = fast_pattern(r)) {
            std::string bytes = fp->bytes;
            if (fp->fast_pattern_chop && fp->fast_pattern_chop->offset < bytes.size())
                bytes = bytes.substr(fp->fast_pattern_chop->offset, fp->fast_pattern_chop->length);
            unsigned flags = HS_FLAG_SINGLEMATCH;
            if (fp->nocase) flags |= HS_FLAG_CASELESS;
            literals[g].push_back({std::move(bytes), flags, i});
            cr.has_fast_pattern = true;
        } else {
            db->groups_[g].always.push_back(i);
        }
        db->compiled_.push_back(std::move(cr));
    }

    const auto& ip_always = db->groups_[unsigned(RuleGroup::ip)].always;
    for (unsigned g = 0; g < kRuleGroups; ++g) {
        GroupDatabase& group = db->groups_[g];
        group.packet_always = group.always;
        if (g != unsigned(RuleGroup::ip)) {
            group.packet_always.insert(group.packet_always.end(), ip_always.begin(), ip_always.end());
            std::sort(group.packet_always.begin(), group.packet_always.end());
        }
    }

    for (unsigned g = 0; g < kRuleGroups; ++g) {
        if (literals[g].empty()) continue;
        std::vector<const char*> exprs;
        std::vector<size_t> lens;
        std::vector<unsigned> flags, ids;
        for (const Literal& l : literals[g]) {
            exprs.push_back(l.bytes.data());
            lens.push_back(l.bytes.size());
            flags.push_back(l.flags);
            ids.push_back(l.id);
        }
        hs_compile_error_t* err = nullptr;
        if (hs_compile_lit_multi(exprs.data(), flags.data(), ids.data(), lens.data(), unsigned(exprs.size()),
                                 HS_MODE_BLOCK, nullptr, &db->groups_[g].db, &err) != HS_SUCCESS) {
            std::string msg = err && err->message ? err->message : "unknown error";
            const int at = err ? err->expression : -1;
            hs_free_compile_error(err);
            if (at >= 0) {
                const rules::Rule& r = db->rules_[ids[size_t(at)]];
                return make_error(fmt::format("{}:{}: sid {}: Hyperscan rejected the fast pattern: {}", r.file,
                                              r.line, r.sid, msg));
            }
            return make_error("Hyperscan compile failed: " + msg);
        }
        size_t bytes = 0;
        hs_database_size(db->groups_[g].db, &bytes);
        db->database_bytes_ += bytes;
    }
    db->compile_seconds_ =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return std::shared_ptr<const MatchDatabase>(std::move(db));
}

} // namespace sg
