#include "match/payload_match.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <cstring>

#include <fmt/format.h>

namespace sg {

namespace {

// Work allowed per rule and buffer before giving up: a hostile payload must
// not make one rule scan quadratically.
constexpr unsigned kBacktrackBudget = 3000;
// PCRE2's own default (10 million) would let one hostile payload stall a
// worker; Suricata's (3,500) cuts off real matches such as ET 2022028 on the
// canonical Shellshock request (3,601 steps). 100,000 bounds the work and
// keeps those.
constexpr uint32_t kPcreMatchLimit = 100'000;
constexpr uint32_t kPcreDepthLimit = 10'000;

uint8_t lower(uint8_t c) { return (c >= 'A' && c <= 'Z') ? uint8_t(c + 32) : c; }

// First occurrence of `pat` in buf[from, limit) as a start offset, or -1.
// `limit` bounds where the match must END.
int64_t find(const PayloadStep& s, const uint8_t* buf, uint32_t from, uint32_t limit) {
    const uint32_t n = uint32_t(s.bytes.size());
    if (n == 0 || limit < n || from > limit - n) return -1;
    const auto* pat = reinterpret_cast<const uint8_t*>(s.bytes.data());
    if (!s.nocase) {
        const void* hit = memmem(buf + from, limit - from, pat, n);
        return hit ? static_cast<const uint8_t*>(hit) - buf : -1;
    }
    for (uint32_t i = from; i + n <= limit; ++i) {
        if (lower(buf[i]) != pat[0]) continue;
        uint32_t k = 1;
        while (k < n && lower(buf[i + k]) == pat[k]) ++k;
        if (k == n) return i;
    }
    return -1;
}

bool match_from(const PayloadStep* s, size_t n, const uint8_t* buf, uint32_t len, uint32_t prev_end,
                PayloadScratch& scratch) {
    if (n == 0) return true;
    if (scratch.budget == 0) return false;
    --scratch.budget;
    const PayloadStep& st = *s;

    if (st.is_pcre) {
        const uint32_t start = st.pcre_relative ? prev_end : 0;
        if (start > len) return st.negated && match_from(s + 1, n - 1, buf, len, prev_end, scratch);
        // A relative pcre sees the buffer from the previous match on, so that
        // ^ anchors there (as in Suricata), not at the start of the payload.
        const uint8_t* subject = buf + start;
        const uint32_t subject_len = len - start;
        int rc = pcre2_match(st.code, subject, subject_len, 0, 0, scratch.match_data, scratch.match_context);
        if (st.negated) return rc < 0 && match_from(s + 1, n - 1, buf, len, prev_end, scratch);
        // When what follows is relative to this match and fails, a later
        // match of the pcre may still satisfy it: try again one byte after
        // the start of the last one, within the backtracking budget.
        const bool next_relative = n > 1 && (s[1].is_pcre ? s[1].pcre_relative : s[1].relative);
        while (rc >= 0) {
            const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(scratch.match_data);
            const uint32_t match_start = uint32_t(ov[0]);
            const uint32_t match_end = uint32_t(ov[1]); // copied: the recursion reuses match_data
            if (match_from(s + 1, n - 1, buf, len, start + match_end, scratch)) return true;
            if (!next_relative || scratch.budget == 0 || match_start + 1 > subject_len) return false;
            --scratch.budget;
            rc = pcre2_match(st.code, subject, subject_len, match_start + 1, 0, scratch.match_data,
                             scratch.match_context);
        }
        return false;
    }

    // The window a content may occupy: [lo, end_limit).
    int64_t lo;
    int64_t end_limit = len;
    if (st.relative) {
        lo = int64_t(prev_end) + st.distance;
        if (lo < 0) lo = 0;
        if (st.within) end_limit = std::min<int64_t>(end_limit, int64_t(prev_end) + st.distance + *st.within);
    } else {
        lo = st.offset;
        if (st.depth) end_limit = std::min<int64_t>(end_limit, int64_t(st.offset) + *st.depth);
    }
    const uint32_t n_bytes = uint32_t(st.bytes.size());
    if (st.endswith) lo = std::max<int64_t>(lo, int64_t(len) - n_bytes);

    if (end_limit < lo + int64_t(n_bytes)) return st.negated && match_from(s + 1, n - 1, buf, len, prev_end, scratch);
    int64_t pos = find(st, buf, uint32_t(lo), uint32_t(end_limit));
    if (st.negated) return pos < 0 && match_from(s + 1, n - 1, buf, len, prev_end, scratch);
    while (pos >= 0) {
        if (match_from(s + 1, n - 1, buf, len, uint32_t(pos) + n_bytes, scratch)) return true;
        if (scratch.budget == 0 || st.endswith) return false;
        --scratch.budget;
        pos = find(st, buf, uint32_t(pos) + 1, uint32_t(end_limit));
    }
    return false;
}

} // namespace

PayloadProgram::~PayloadProgram() {
    for (PayloadStep& s : steps)
        if (s.code) pcre2_code_free(s.code);
}

PayloadScratch::PayloadScratch()
    : match_data(pcre2_match_data_create(32, nullptr)), match_context(pcre2_match_context_create(nullptr)) {
    // Bounded work per pattern and buffer (see kPcreMatchLimit).
    pcre2_set_match_limit(match_context, kPcreMatchLimit);
    pcre2_set_depth_limit(match_context, kPcreDepthLimit);
}
PayloadScratch::~PayloadScratch() {
    pcre2_match_data_free(match_data);
    pcre2_match_context_free(match_context);
}

Result<PayloadProgram> compile_payload(const std::vector<rules::PayloadMatch>& matches) {
    PayloadProgram prog;
    for (const rules::PayloadMatch& m : matches) {
        PayloadStep st;
        if (const auto* c = std::get_if<rules::Content>(&m)) {
            st.bytes = c->bytes;
            st.nocase = c->nocase;
            if (st.nocase)
                for (char& ch : st.bytes) ch = char(lower(uint8_t(ch)));
            st.negated = c->negated;
            st.relative = c->relative();
            st.distance = c->distance.value_or(0);
            st.within = c->within;
            st.offset = c->offset.value_or(0);
            st.depth = c->depth;
            if (c->startswith) {
                st.offset = 0;
                st.depth = uint32_t(c->bytes.size());
            }
            st.endswith = c->endswith;
        } else {
            const auto& p = std::get<rules::Pcre>(m);
            st.is_pcre = true;
            st.negated = p.negated;
            st.pcre_relative = p.relative;
            uint32_t opts = 0;
            if (p.caseless) opts |= PCRE2_CASELESS;
            if (p.dotall) opts |= PCRE2_DOTALL;
            if (p.multiline) opts |= PCRE2_MULTILINE;
            if (p.extended) opts |= PCRE2_EXTENDED;
            if (p.anchored) opts |= PCRE2_ANCHORED;
            if (p.dollar_endonly) opts |= PCRE2_DOLLAR_ENDONLY;
            if (p.ungreedy) opts |= PCRE2_UNGREEDY;
            int err = 0;
            PCRE2_SIZE err_off = 0;
            st.code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(p.pattern.data()), p.pattern.size(), opts, &err,
                                    &err_off, nullptr);
            if (!st.code) {
                PCRE2_UCHAR msg[256];
                pcre2_get_error_message(err, msg, sizeof msg);
                return make_error(fmt::format("pcre /{}/: {} at offset {}", p.pattern,
                                              reinterpret_cast<const char*>(msg), err_off));
            }
            pcre2_jit_compile(st.code, PCRE2_JIT_COMPLETE); // best effort: falls back to the interpreter
        }
        prog.steps.push_back(std::move(st));
    }
    return prog;
}

bool match_payload(const PayloadProgram& prog, const uint8_t* buf, uint32_t len, PayloadScratch& scratch) {
    scratch.budget = kBacktrackBudget;
    return match_from(prog.steps.data(), prog.steps.size(), buf, len, 0, scratch);
}

} // namespace sg
