#include "match/address_set.hpp"

#include <algorithm>
#include <bit>
#include <utility>

#include <fmt/format.h>

#include "match/text_util.hpp"

namespace sg::rules {
namespace {

using u128 = unsigned __int128;

// A set of integers as sorted, disjoint, non-adjacent inclusive intervals.
// Set algebra on these is exact, so nested negations cost nothing in
// precision; the result is turned back into prefixes or port ranges once.
template <class T>
struct Ranges {
    std::vector<std::pair<T, T>> r;

    bool empty() const { return r.empty(); }
    bool operator==(const Ranges&) const = default;

    static Ranges of(T lo, T hi) { return Ranges{{{lo, hi}}}; }

    void normalise() {
        std::sort(r.begin(), r.end());
        std::vector<std::pair<T, T>> out;
        for (const auto& iv : r) {
            if (!out.empty() && (iv.first <= out.back().second || iv.first - 1 == out.back().second)) {
                out.back().second = std::max(out.back().second, iv.second);
            } else {
                out.push_back(iv);
            }
        }
        r = std::move(out);
    }
    Ranges unite(const Ranges& o) const {
        Ranges u{r};
        u.r.insert(u.r.end(), o.r.begin(), o.r.end());
        u.normalise();
        return u;
    }
    Ranges intersect(const Ranges& o) const {
        Ranges out;
        size_t i = 0, j = 0;
        while (i < r.size() && j < o.r.size()) {
            const T lo = std::max(r[i].first, o.r[j].first);
            const T hi = std::min(r[i].second, o.r[j].second);
            if (lo <= hi) out.r.push_back({lo, hi});
            if (r[i].second < o.r[j].second) ++i;
            else ++j;
        }
        return out;
    }
    // Everything in `universe` that is not in this set.
    Ranges complement_in(const Ranges& universe, T max) const {
        Ranges gaps;
        T next = 0;
        bool open = true;  // false once `next` would pass max
        for (const auto& [lo, hi] : r) {
            if (open && lo > next) gaps.r.push_back({next, T(lo - 1)});
            if (hi == max) open = false;
            else next = hi + 1;
        }
        if (open) gaps.r.push_back({next, max});
        return gaps.intersect(universe);
    }
};

constexpr uint32_t kV4Max = 0xffffffffu;
constexpr u128 kV6Max = ~u128(0);
// ::ffff:0:0/96 holds IPv4 addresses in the 16-byte form: not part of the v6 universe.
constexpr u128 kMappedLo = u128(0xffff) << 32;
constexpr u128 kMappedHi = kMappedLo | 0xffffffffu;

const Ranges<uint32_t>& v4_universe() {
    static const Ranges<uint32_t> u = Ranges<uint32_t>::of(0, kV4Max);
    return u;
}
const Ranges<u128>& v6_universe() {
    static const Ranges<u128> u{{{0, kMappedLo - 1}, {kMappedHi + 1, kV6Max}}};
    return u;
}

struct AddrValue {
    Ranges<uint32_t> v4;
    Ranges<u128> v6;

    static AddrValue all() { return {v4_universe(), v6_universe()}; }
    bool empty() const { return v4.empty() && v6.empty(); }
    AddrValue unite(const AddrValue& o) const { return {v4.unite(o.v4), v6.unite(o.v6)}; }
    AddrValue complement() const {
        return {v4.complement_in(v4_universe(), kV4Max), v6.complement_in(v6_universe(), kV6Max)};
    }
    AddrValue minus(const AddrValue& o) const {
        const AddrValue c = o.complement();
        return {v4.intersect(c.v4), v6.intersect(c.v6)};
    }
};

u128 to_u128(const IpAddress& a) {
    u128 v = 0;
    for (uint8_t b : a.bytes) v = v << 8 | b;
    return v;
}

IpAddress from_u128(u128 v) {
    IpAddress a;
    for (int i = 15; i >= 0; --i) {
        a.bytes[size_t(i)] = uint8_t(v);
        v >>= 8;
    }
    return a;
}

// Interval [lo, hi] of `width`-bit integers -> the fewest covering prefixes.
template <class T>
void to_prefixes(T lo, T hi, unsigned width, const auto& make, std::vector<Prefix>& out) {
    for (;;) {
        unsigned k = 0;  // block of 2^k addresses starting at lo
        while (k < width && ((lo >> k) & 1) == 0) ++k;
        const T span = hi - lo;  // block size - 1 must not exceed this
        while (k > 0 && (k < width ? T((T(1) << k) - 1) > span : span != T(~T(0) >> (sizeof(T) * 8 - width))))
            --k;
        out.push_back(make(lo, uint8_t(width - k)));
        if (k == width) return;
        const T last = lo + T((T(1) << k) - 1);
        if (last == hi) return;
        lo = last + 1;
    }
}

std::vector<Prefix> prefixes_v4(const Ranges<uint32_t>& s) {
    std::vector<Prefix> out;
    const auto make = [](uint32_t lo, uint8_t len) { return Prefix{IpAddress::from_v4_host(lo), len}; };
    for (const auto& [lo, hi] : s.r) to_prefixes<uint32_t>(lo, hi, 32, make, out);
    return out;
}

std::vector<Prefix> prefixes_v6(const Ranges<u128>& s) {
    std::vector<Prefix> out;
    const auto make = [](u128 lo, uint8_t len) { return Prefix{from_u128(lo), len}; };
    for (const auto& [lo, hi] : s.r) to_prefixes<u128>(lo, hi, 128, make, out);
    return out;
}

// Splits "a,[b,c],!d" at the commas outside brackets.
Result<std::vector<std::string_view>> split_list(std::string_view s) {
    std::vector<std::string_view> items;
    int depth = 0;
    size_t start = 0;
    for (size_t i = 0; i <= s.size(); ++i) {
        const char c = i < s.size() ? s[i] : ',';
        if (c == '[') ++depth;
        else if (c == ']' && --depth < 0) return make_error(fmt::format("unbalanced ']' in '{}'", s));
        else if (c == ',' && depth == 0) {
            const auto item = trim(s.substr(start, i - start));
            if (item.empty()) return make_error(fmt::format("empty item in list '[{}]'", s));
            items.push_back(item);
            start = i + 1;
        }
    }
    if (depth != 0) return make_error(fmt::format("unbalanced '[' in '{}'", s));
    return items;
}

// Shared walk over the grammar; `Value` is AddrValue or Ranges<uint32_t> (ports).
template <class Value, class Leaf, class Lookup>
class Evaluator {
public:
    Evaluator(const Value& all, Leaf leaf, Lookup lookup, const char* kind)
        : all_(all), leaf_(leaf), lookup_(lookup), kind_(kind) {}

    Result<Value> item(std::string_view text, int depth) {
        const auto t = trim(text);
        if (t.empty()) return make_error(fmt::format("empty {}", kind_));
        if (t.front() == '!') {
            auto v = item(t.substr(1), depth);
            if (!v) return v;
            return complement(*v);
        }
        if (t.front() == '[') {
            if (t.back() != ']') return make_error(fmt::format("unbalanced '[' in '{}'", t));
            return list(t.substr(1, t.size() - 2), depth);
        }
        if (t.front() == '$') {
            const auto name = t.substr(1);
            const std::string* value = lookup_(name);
            if (!value) return make_error(fmt::format("undefined {} variable ${}", kind_, name));
            if (depth >= kMaxVarDepth)
                return make_error(fmt::format("${} nests variables more than {} deep (a loop?)", name,
                                              kMaxVarDepth));
            return item(*value, depth + 1);
        }
        if (t == "any") return all_;
        return leaf_(t);
    }

private:
    Result<Value> list(std::string_view inner, int depth) {
        if (trim(inner).empty()) return make_error(fmt::format("empty {} list '[]'", kind_));
        const auto items = split_list(inner);
        if (!items) return items.error();
        Value pos, neg;
        bool any_pos = false;
        for (const auto it : *items) {
            const bool negated = it.front() == '!';
            auto v = item(negated ? it.substr(1) : it, depth);
            if (!v) return v;
            if (negated) {
                neg = neg.unite(*v);
            } else {
                pos = pos.unite(*v);
                any_pos = true;
            }
        }
        return minus(any_pos ? pos : all_, neg);
    }

    Value complement(const Value& v) const {
        if constexpr (std::is_same_v<Value, AddrValue>) return v.complement();
        else return v.complement_in(all_, 65535);
    }
    Value minus(const Value& a, const Value& b) const {
        if constexpr (std::is_same_v<Value, AddrValue>) return a.minus(b);
        else return a.intersect(b.complement_in(all_, 65535));
    }

    Value all_;
    Leaf leaf_;
    Lookup lookup_;
    const char* kind_;
};

Result<AddrValue> address_literal(std::string_view t, std::vector<std::string>* warnings) {
    const auto not_address = [&](std::string_view a) {
        return make_error(fmt::format("'{}' is not an IPv4 or IPv6 address", a));
    };
    const auto dash = t.find('-');
    if (dash != std::string_view::npos) {  // "a-b" range
        const auto lo = IpAddress::parse(trim(t.substr(0, dash)));
        const auto hi = IpAddress::parse(trim(t.substr(dash + 1)));
        if (!lo) return not_address(trim(t.substr(0, dash)));
        if (!hi) return not_address(trim(t.substr(dash + 1)));
        if (lo->is_v4() != hi->is_v4() || *hi < *lo)
            return make_error(fmt::format("address range '{}' is reversed or mixes families", t));
        AddrValue v;
        if (lo->is_v4()) v.v4 = Ranges<uint32_t>::of(lo->v4_host(), hi->v4_host());
        else v.v6 = Ranges<u128>::of(to_u128(*lo), to_u128(*hi)).intersect(v6_universe());
        return v;
    }
    const auto slash = t.find('/');
    const auto addr_text = t.substr(0, slash);
    const auto addr = IpAddress::parse(addr_text);
    if (!addr) return not_address(addr_text);
    const unsigned width = addr->is_v4() ? 32 : 128;
    unsigned len = width;
    if (slash != std::string_view::npos) {
        const auto len_text = t.substr(slash + 1);
        if (const auto n = parse_uint(len_text, 0, width)) {
            len = unsigned(*n);
        } else if (const auto mask = IpAddress::parse(len_text); mask && mask->is_v4() && addr->is_v4()) {
            const uint32_t m = mask->v4_host();
            len = unsigned(std::countl_one(m));
            if (uint32_t(uint64_t(m) << len) != 0)
                return make_error(fmt::format("'{}': netmask {} is not contiguous", t, len_text));
        } else {
            return make_error(fmt::format("'{}': prefix length must be 0-{}", t, width));
        }
    }
    AddrValue v;
    if (addr->is_v4()) {
        const uint32_t a = addr->v4_host();
        const uint32_t host = len == 32 ? 0 : uint32_t(kV4Max >> len);
        if ((a & host) && warnings)
            warnings->push_back(fmt::format("'{}': host bits set, using {}/{}", t,
                                            IpAddress::from_v4_host(a & ~host).to_string(), len));
        v.v4 = Ranges<uint32_t>::of(a & ~host, a | host);
    } else {
        const u128 a = to_u128(*addr);
        const u128 host = len == 128 ? 0 : kV6Max >> len;
        if ((a & host) && warnings)
            warnings->push_back(fmt::format("'{}': host bits set, using {}/{}", t,
                                            from_u128(a & ~host).to_string(), len));
        v.v6 = Ranges<u128>::of(a & ~host, a | host).intersect(v6_universe());
    }
    return v;
}

Result<Ranges<uint32_t>> port_literal(std::string_view t) {
    const auto port = [&](std::string_view p) { return parse_uint(trim(p), 0, 65535); };
    const auto bad = [&](std::string_view p) {
        return make_error(fmt::format("'{}' is not a port (0-65535)", trim(p)));
    };
    const auto colon = t.find(':');
    if (colon == std::string_view::npos) {
        const auto p = port(t);
        if (!p) return bad(t);
        return Ranges<uint32_t>::of(uint32_t(*p), uint32_t(*p));
    }
    const auto lo_text = trim(t.substr(0, colon));
    const auto hi_text = trim(t.substr(colon + 1));
    if (lo_text.empty() && hi_text.empty()) return bad(t);
    const auto lo = lo_text.empty() ? std::optional<uint64_t>(0) : port(lo_text);
    const auto hi = hi_text.empty() ? std::optional<uint64_t>(65535) : port(hi_text);
    if (!lo) return bad(lo_text);
    if (!hi) return bad(hi_text);
    if (*lo > *hi) return make_error(fmt::format("port range '{}' is reversed", t));
    return Ranges<uint32_t>::of(uint32_t(*lo), uint32_t(*hi));
}

} // namespace

Result<std::optional<AddressSet>> parse_address_set(std::string_view text, const Vars& vars,
                                     std::vector<std::string>* warnings) {
    const auto leaf = [warnings](std::string_view t) { return address_literal(t, warnings); };
    const auto lookup = [&vars](std::string_view name) { return vars.address(name); };
    Evaluator<AddrValue, decltype(leaf), decltype(lookup)> eval(AddrValue::all(), leaf, lookup, "address");
    const auto value = eval.item(text, 0);
    if (!value) return value.error();
    if (value->empty()) return std::optional<AddressSet>();

    AddressSet set;
    set.text = std::string(trim(text));
    // Per family: all, nothing, the listed prefixes, or all but a few (whichever is shorter).
    enum class Mode { none, all, listed, all_but };
    const auto choose = [](size_t listed, size_t complement, bool is_empty, bool is_all) {
        if (is_empty) return Mode::none;
        if (is_all) return Mode::all;
        return complement < listed ? Mode::all_but : Mode::listed;
    };
    const auto v4_in = prefixes_v4(value->v4);
    const auto v6_in = prefixes_v6(value->v6);
    const auto c = value->complement();
    const auto v4_out = prefixes_v4(c.v4);
    const auto v6_out = prefixes_v6(c.v6);
    const Mode m4 = choose(v4_in.size(), v4_out.size(), value->v4.empty(), c.v4.empty());
    const Mode m6 = choose(v6_in.size(), v6_out.size(), value->v6.empty(), c.v6.empty());
    const auto wide = [](Mode m) { return m == Mode::all || m == Mode::all_but; };
    const bool everything = wide(m4) && wide(m6);
    const Prefix all4{IpAddress::from_v4_host(0), 0};
    const Prefix all6{IpAddress{}, 0};
    if (m4 == Mode::listed) set.include = v4_in;
    else if (wide(m4) && !everything) set.include.push_back(all4);
    if (m6 == Mode::listed) set.include.insert(set.include.end(), v6_in.begin(), v6_in.end());
    else if (wide(m6) && !everything) set.include.push_back(all6);
    if (m4 == Mode::all_but) set.exclude = v4_out;
    if (m6 == Mode::all_but) set.exclude.insert(set.exclude.end(), v6_out.begin(), v6_out.end());
    return std::optional<AddressSet>(std::move(set));
}

Result<std::optional<PortSet>> parse_port_set(std::string_view text, const Vars& vars) {
    const auto lookup = [&vars](std::string_view name) { return vars.port(name); };
    Evaluator<Ranges<uint32_t>, decltype(&port_literal), decltype(lookup)> eval(
        Ranges<uint32_t>::of(0, 65535), &port_literal, lookup, "port");
    const auto value = eval.item(text, 0);
    if (!value) return value.error();
    if (value->empty()) return std::optional<PortSet>();
    PortSet set;
    set.text = std::string(trim(text));
    set.ranges.clear();
    for (const auto& [lo, hi] : value->r) set.ranges.push_back(PortRange{uint16_t(lo), uint16_t(hi)});
    return std::optional<PortSet>(std::move(set));
}

} // namespace sg::rules
