#pragma once
// Matcher: one per worker. Runs the signature rules of a MatchDatabase over
// one decoded packet and the TCP stream bytes due with it: Hyperscan finds
// the rules whose fast pattern occurs in the payload or the stream chunks,
// every candidate (plus the group's rules without a literal) is then
// confirmed exactly: header, flow, packet fields, payload, flowbits.
//
// Payload matches of a rule look at the stream chunks first (stream rules,
// see PayloadScope), then at the packet; a rule alerts at most once per
// packet. Alerts found in the stream land on the packet that made the
// inspection due, as in Suricata. In a stream chunk, offset and depth count
// from the chunk's first byte (Suricata's raw-stream inspection does too).
//
// Thread: inspect() on the owning worker only; attach() on the control side
// before the worker runs. Nothing allocates in inspect().

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/time.hpp"
#include "flow/flow_table.hpp"
#include "match/database.hpp"
#include "parse/packet_view.hpp"
#include "stream/stream_tracker.hpp"

struct hs_scratch;

namespace sg {

// What a matching rule asks the worker to do.
struct RuleHit {
    uint32_t rule_index;
    bool drop;        // a drop rule matched: inline mode discards the packet
};

class Matcher {
public:
    Matcher() = default;
    ~Matcher();
    Matcher(const Matcher&) = delete;
    Matcher& operator=(const Matcher&) = delete;

    // Control side: prepares scratch space for `db` (and keeps it alive).
    Result<> attach(std::shared_ptr<const MatchDatabase> db);
    const MatchDatabase* database() const { return db_.get(); }

    // Inspects one packet and the stream chunks due with it (`stream`, from
    // the StreamTracker; a default one for block mode only). `flow` may be
    // null (untracked packets: later fragments, malformed L4). `dir` is 0
    // from the flow's initiator. At flow end `pv` is stream_end_packet() and
    // `frame` may be null: only rules with payload matches in stream scope
    // are tried. Calls emit(hit) for each rule that alerts or drops, in rule
    // order.
    template <class Emit>
    void inspect(const PacketView& pv, const uint8_t* frame, Flow* flow, unsigned dir,
                 const StreamInspection& stream, Emit&& emit);

    uint64_t candidates_checked() const { return checked_; }

private:
    static int on_hs_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                           void* ctx);
    // The packet's candidate rules, in rule order: valid until the next call.
    std::span<const uint32_t> collect(const PacketView& pv, const uint8_t* frame, const StreamInspection& stream);
    bool evaluate(const CompiledRule& cr, const PacketView& pv, const uint8_t* frame, Flow* flow,
                  unsigned dir, const StreamInspection& stream);
    bool payload_matches(const CompiledRule& cr, const PacketView& pv, const uint8_t* frame,
                         const StreamInspection& stream);

    std::shared_ptr<const MatchDatabase> db_;
    hs_scratch* scratch_ = nullptr;
    PayloadScratch payload_scratch_;
    std::vector<uint32_t> hits_;         // Hyperscan's hits; capacity = rules, never grows in inspect()
    std::vector<uint32_t> candidates_;   // hits merged with the rules without a literal; same capacity
    std::vector<uint32_t> seen_;         // per rule: stamp of the packet whose hits hold it
    uint32_t stamp_ = 0;
    uint64_t checked_ = 0;
};

template <class Emit>
void Matcher::inspect(const PacketView& pv, const uint8_t* frame, Flow* flow, unsigned dir,
                      const StreamInspection& stream, Emit&& emit) {
    if (!db_ || db_->size() == 0) return;
    const std::span<const uint32_t> candidates = collect(pv, frame, stream);
    const auto& rules = db_->rules();
    for (uint32_t idx : candidates) {
        const CompiledRule& cr = rules[idx];
        ++checked_;
        if (!evaluate(cr, pv, frame, flow, dir, stream)) continue;
        const rules::Rule& r = *cr.rule;
        if (r.action == rules::Action::pass) break; // a pass rule ends inspection of this packet
        if (!r.noalert || r.action == rules::Action::drop || r.action == rules::Action::reject)
            emit(RuleHit{idx, r.action == rules::Action::drop || r.action == rules::Action::reject});
    }
}

} // namespace sg
