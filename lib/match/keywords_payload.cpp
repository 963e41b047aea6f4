// Payload keywords: content and its modifiers, pcre. Matches are kept in
// rule order in Rule::payload; a modifier applies to the content right
// before it.

#include "match/keywords.hpp"

#include <cctype>

#include <fmt/format.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "match/text_util.hpp"

namespace sg::rules {
namespace {

// Bits of RuleContext::content_modifiers: which modifiers the last content has.
enum Modifier : uint32_t {
    kNocase = 1u << 0,
    kDepth = 1u << 1,
    kOffset = 1u << 2,
    kDistance = 1u << 3,
    kWithin = 1u << 4,
    kStartswith = 1u << 5,
    kEndswith = 1u << 6,
    kFastPattern = 1u << 7,
};

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// The bytes of a quoted content: text, "|41 42|" hex blocks, and the escapes
// \\ \" \; \: (the only ones Suricata allows).
Result<std::string> decode_content(std::string_view quoted) {
    if (quoted.size() < 2 || quoted.front() != '"' || quoted.back() != '"')
        return make_error(fmt::format("content: expected a quoted string, got '{}'", quoted));
    const auto s = quoted.substr(1, quoted.size() - 2);
    std::string out;
    bool hex = false;
    size_t hex_start = 0;
    int high = -1;  // first digit of a hex pair
    // The hex block being read, "|...|", for messages.
    const auto block = [&] {
        const auto end = s.find('|', hex_start + 1);
        return s.substr(hex_start, end == std::string_view::npos ? end : end + 1 - hex_start);
    };
    const auto odd = [&] {
        return make_error(fmt::format("content: odd number of hex digits in '{}'", block()));
    };
    for (size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '|') {
            if (hex && high >= 0) return odd();
            hex = !hex;
            hex_start = i;
            continue;
        }
        if (hex) {
            if (c == ' ' || c == '\t') {
                if (high >= 0) return odd();
                continue;
            }
            const int d = hex_digit(c);
            if (d < 0)
                return make_error(fmt::format("content: '{}' in '{}' is not a hex digit", c, block()));
            if (high < 0) {
                high = d;
            } else {
                out += char(high << 4 | d);
                high = -1;
            }
            continue;
        }
        if (c == '\\') {
            const char next = i + 1 < s.size() ? s[i + 1] : '\0';
            if (next != '\\' && next != '"' && next != ';' && next != ':')
                return make_error(fmt::format(
                    "content: invalid escape '\\{}': only \\\\ \\\" \\; \\: may be escaped, "
                    "write other bytes in hex (|5c| is a backslash)",
                    next ? std::string(1, next) : std::string()));
            out += next;
            ++i;
            continue;
        }
        if (c == '"') return make_error("content: unescaped '\"' inside the pattern (write \\\" or |22|)");
        out += c;
    }
    if (hex) return make_error(fmt::format("content: hex block '{}' is not closed with '|'", s.substr(hex_start)));
    if (out.empty()) return make_error("content: empty pattern");
    return out;
}

// The content a modifier applies to, checking the modifier is not repeated.
Result<Content*> modify(RuleContext& ctx, std::string_view keyword, uint32_t bit) {
    Content* c = ctx.last_content();
    if (!c) {
        if (!ctx.rule.payload.empty())
            return make_error(fmt::format("{}: applies to a content, but follows a pcre", keyword));
        return make_error(fmt::format("{}: needs a preceding content", keyword));
    }
    if (ctx.content_modifiers & bit)
        return make_error(fmt::format("{}: given twice for the same content", keyword));
    ctx.content_modifiers |= bit;
    return c;
}

Result<> no_startswith(RuleContext& ctx, std::string_view keyword) {
    if (ctx.content_modifiers & kStartswith)
        return make_error(fmt::format("{}: cannot be combined with startswith", keyword));
    return {};
}

Result<> not_relative(RuleContext& ctx, std::string_view keyword) {
    if (ctx.content_modifiers & (kDistance | kWithin))
        return make_error(fmt::format(
            "{}: cannot be combined with distance or within on the same content", keyword));
    return {};
}

Result<> not_absolute(RuleContext& ctx, std::string_view keyword) {
    if (ctx.content_modifiers & (kDepth | kOffset))
        return make_error(fmt::format(
            "{}: cannot be combined with depth or offset on the same content", keyword));
    return {};
}

// Runs the checks in order and stops at the first error.
template <class... Checks>
Result<> first_error(Checks&&... checks) {
    Result<> r;
    ((r.ok() ? (void)(r = checks()) : void()), ...);
    return r;
}

} // namespace

Result<> kw_content(RuleContext& ctx, const Option& o) {
    std::string_view v = o.value;
    Content c;
    if (v.front() == '!') {
        c.negated = true;
        v = trim(v.substr(1));
    }
    auto bytes = decode_content(v);
    if (!bytes) return bytes.error();
    c.bytes = std::move(*bytes);
    ctx.rule.payload.emplace_back(std::move(c));
    ctx.content_modifiers = 0;
    return {};
}

Result<> kw_nocase(RuleContext& ctx, const Option&) {
    auto c = modify(ctx, "nocase", kNocase);
    if (!c) return c.error();
    (*c)->nocase = true;
    return {};
}

Result<> kw_rawbytes(RuleContext& ctx, const Option&) {
    auto c = modify(ctx, "rawbytes", 0);
    if (!c) return c.error();
    (*c)->rawbytes = true;
    return {};
}

Result<> kw_depth(RuleContext& ctx, const Option& o) {
    auto c = modify(ctx, "depth", kDepth);
    if (!c) return c.error();
    if (auto r = first_error([&] { return no_startswith(ctx, "depth"); },
                             [&] { return not_relative(ctx, "depth"); });
        !r)
        return r;
    const auto v = parse_uint(o.value, 1, 65535);
    if (!v) return make_error(fmt::format("depth: expected an integer 1-65535, got '{}'", o.value));
    if (*v < (*c)->bytes.size())
        return make_error(fmt::format("depth: {} is less than the content length {}", *v, (*c)->bytes.size()));
    (*c)->depth = uint32_t(*v);
    return {};
}

Result<> kw_offset(RuleContext& ctx, const Option& o) {
    auto c = modify(ctx, "offset", kOffset);
    if (!c) return c.error();
    if (auto r = first_error([&] { return no_startswith(ctx, "offset"); },
                             [&] { return not_relative(ctx, "offset"); });
        !r)
        return r;
    const auto v = parse_uint(o.value, 0, 65535);
    if (!v) return make_error(fmt::format("offset: expected an integer 0-65535, got '{}'", o.value));
    (*c)->offset = uint32_t(*v);
    return {};
}

Result<> kw_distance(RuleContext& ctx, const Option& o) {
    auto c = modify(ctx, "distance", kDistance);
    if (!c) return c.error();
    if (auto r = first_error([&] { return no_startswith(ctx, "distance"); },
                             [&] { return not_absolute(ctx, "distance"); });
        !r)
        return r;
    const auto v = parse_int(o.value, -65535, 65535);
    if (!v) return make_error(fmt::format("distance: expected an integer -65535-65535, got '{}'", o.value));
    (*c)->distance = int32_t(*v);
    return {};
}

Result<> kw_within(RuleContext& ctx, const Option& o) {
    auto c = modify(ctx, "within", kWithin);
    if (!c) return c.error();
    if (auto r = first_error([&] { return no_startswith(ctx, "within"); },
                             [&] { return not_absolute(ctx, "within"); });
        !r)
        return r;
    const auto v = parse_uint(o.value, 1, 65535);
    if (!v) return make_error(fmt::format("within: expected an integer 1-65535, got '{}'", o.value));
    if (*v < (*c)->bytes.size())
        return make_error(fmt::format("within: {} is less than the content length {}", *v, (*c)->bytes.size()));
    (*c)->within = uint32_t(*v);
    return {};
}

Result<> kw_startswith(RuleContext& ctx, const Option&) {
    auto c = modify(ctx, "startswith", kStartswith);
    if (!c) return c.error();
    if (ctx.content_modifiers & (kDepth | kOffset | kDistance | kWithin))
        return make_error("startswith: cannot be combined with depth, offset, distance or within");
    (*c)->startswith = true;
    (*c)->offset = 0;
    (*c)->depth = uint32_t((*c)->bytes.size());
    return {};
}

Result<> kw_endswith(RuleContext& ctx, const Option&) {
    auto c = modify(ctx, "endswith", kEndswith);
    if (!c) return c.error();
    (*c)->endswith = true;
    return {};
}

Result<> kw_fast_pattern(RuleContext& ctx, const Option& o) {
    auto c = modify(ctx, "fast_pattern", kFastPattern);
    if (!c) return c.error();
    if (ctx.fast_pattern_used) return make_error("fast_pattern: already set on another content of this rule");
    ctx.fast_pattern_used = true;
    (*c)->fast_pattern = true;
    if (!o.has_value) return {};
    if (o.value == "only") {
        (*c)->fast_pattern_only = true;
        return {};
    }
    const auto parts = split(o.value, ',');
    const auto off = parts.size() == 2 ? parse_uint(trim(parts[0]), 0, 65535) : std::nullopt;
    const auto len = parts.size() == 2 ? parse_uint(trim(parts[1]), 1, 65535) : std::nullopt;
    if (!off || !len)
        return make_error(fmt::format("fast_pattern: expected nothing, 'only' or OFFSET,LENGTH, got '{}'", o.value));
    if (*off + *len > (*c)->bytes.size())
        return make_error(fmt::format("fast_pattern: {},{} reaches past the content length {}", *off, *len,
                                      (*c)->bytes.size()));
    (*c)->fast_pattern_chop = FastPatternChop{uint16_t(*off), uint16_t(*len)};
    return {};
}

Result<> kw_pcre(RuleContext& ctx, const Option& o) {
    std::string_view v = o.value;
    Pcre p;
    if (v.front() == '!') {
        p.negated = true;
        v = trim(v.substr(1));
    }
    // Quotes are stripped but escapes kept: "\;" and "\"" mean the same to PCRE.
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    const auto last = v.rfind('/');
    if (v.empty() || v.front() != '/' || last == 0)
        return make_error(fmt::format("pcre: expected \"/PATTERN/FLAGS\", got '{}'", o.value));
    p.pattern = std::string(v.substr(1, last - 1));
    p.flags = std::string(v.substr(last + 1));
    uint32_t options = 0;
    for (const char f : p.flags) {
        switch (f) {
        case 'i': p.caseless = true; options |= PCRE2_CASELESS; break;
        case 's': p.dotall = true; options |= PCRE2_DOTALL; break;
        case 'm': p.multiline = true; options |= PCRE2_MULTILINE; break;
        case 'x': p.extended = true; options |= PCRE2_EXTENDED; break;
        case 'A': p.anchored = true; options |= PCRE2_ANCHORED; break;
        case 'E': p.dollar_endonly = true; options |= PCRE2_DOLLAR_ENDONLY; break;
        case 'G': p.ungreedy = true; options |= PCRE2_UNGREEDY; break;
        case 'R': p.relative = true; break;
        case 'B': p.rawbytes = true; break;
        case 'O': break;  // overrides the engine's match limits: nothing to do here
        // HTTP buffers: the rule needs an app-layer parser.
        case 'U': case 'I': case 'P': case 'Q': case 'H': case 'D': case 'M':
        case 'C': case 'K': case 'S': case 'Y': case 'V': case 'W': case 'Z':
            if (!ctx.skip) ctx.skip = fmt::format("pcre:/{}", f);
            return {};
        default:
            return make_error(fmt::format("pcre: unknown modifier '{}' in '/{}/{}'", f, p.pattern, p.flags));
        }
    }
    int code = 0;
    PCRE2_SIZE at = 0;
    pcre2_code* re = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(p.pattern.data()), p.pattern.size(),
                                   options, &code, &at, nullptr);
    if (!re) {
        PCRE2_UCHAR buf[256];
        pcre2_get_error_message(code, buf, sizeof buf);
        return make_error(fmt::format("pcre: PCRE2 rejects '/{}/{}': {} at offset {}", p.pattern, p.flags,
                                      reinterpret_cast<const char*>(buf), at));
    }
    pcre2_code_free(re);
    ctx.rule.payload.emplace_back(std::move(p));
    ctx.content_modifiers = 0;
    return {};
}

} // namespace sg::rules
