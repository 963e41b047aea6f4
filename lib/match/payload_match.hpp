#pragma once
// Exact confirmation of a rule's payload matches (contents and pcres, in rule
// order) against one buffer. Hyperscan only says "the fast pattern occurs
// somewhere"; this decides offset, depth, distance, within, nocase,
// negation, startswith/endswith and pcre, with bounded backtracking: a later
// match that fails makes the earlier one try its next occurrence, as
// Suricata does.
//
// Thread: match_payload() runs on workers; compile_payload() on the control
// side. No allocation on the worker side: PCRE2 match data is per worker.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "match/rule.hpp"

typedef struct pcre2_real_code_8 pcre2_code_8;
typedef struct pcre2_real_match_data_8 pcre2_match_data_8;
typedef struct pcre2_real_match_context_8 pcre2_match_context_8;

namespace sg {

struct PayloadStep {
    bool is_pcre = false;
    bool negated = false;
    // content
    std::string bytes;          // lowercased when nocase
    bool nocase = false;
    bool relative = false;      // distance/within apply
    int32_t distance = 0;
    std::optional<uint32_t> within;
    uint32_t offset = 0;
    std::optional<uint32_t> depth;
    bool endswith = false;
    // pcre
    pcre2_code_8* code = nullptr;
    bool pcre_relative = false;
};

// Owns the compiled PCRE2 codes of one rule's steps.
struct PayloadProgram {
    std::vector<PayloadStep> steps;
    PayloadProgram() = default;
    PayloadProgram(PayloadProgram&& o) noexcept : steps(std::move(o.steps)) { o.steps.clear(); }
    PayloadProgram& operator=(PayloadProgram&& o) noexcept {
        std::swap(steps, o.steps);
        return *this;
    }
    PayloadProgram(const PayloadProgram&) = delete;
    ~PayloadProgram();
};

Result<PayloadProgram> compile_payload(const std::vector<rules::PayloadMatch>& matches);

// Per-worker scratch for match_payload().
struct PayloadScratch {
    pcre2_match_data_8* match_data = nullptr;
    pcre2_match_context_8* match_context = nullptr;
    unsigned budget = 0;        // backtracking steps left for this rule
    PayloadScratch();
    ~PayloadScratch();
    PayloadScratch(const PayloadScratch&) = delete;
    PayloadScratch& operator=(const PayloadScratch&) = delete;
};

// True when every step matches `buf` in order.
bool match_payload(const PayloadProgram& prog, const uint8_t* buf, uint32_t len, PayloadScratch& scratch);

} // namespace sg
