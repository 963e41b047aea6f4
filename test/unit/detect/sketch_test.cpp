#include "detect/sketch.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>

#include "core/ip_address.hpp"

using namespace sg;

namespace {

uint64_t hash_u64(uint64_t v) { return sketch_hash(&v, sizeof v); }

template <unsigned P>
Hll<P> hll_of_range(uint64_t first, uint64_t last) {
    Hll<P> h;
    for (uint64_t i = first; i < last; ++i) h.add(hash_u64(i));
    return h;
}

// Relative error of Hll<P> over `n` distinct items, for a few seeds
// (disjoint item ranges): every single error and their RMS.
template <unsigned P>
void check_hll_accuracy(uint64_t n) {
    constexpr int kSeeds = 5;
    const double se = Hll<P>::standard_error();
    double sum_sq = 0;
    for (int seed = 0; seed < kSeeds; ++seed) {
        const uint64_t base = uint64_t(seed + 1) << 40;
        const double err = (hll_of_range<P>(base, base + n).estimate() - double(n)) / double(n);
        INFO("P=" << P << " n=" << n << " seed=" << seed << " relative error " << err
                  << " (standard error " << se << ")");
        CHECK(std::fabs(err) <= 4 * se);
        sum_sq += err * err;
    }
    const double rms = std::sqrt(sum_sq / kSeeds);
    INFO("P=" << P << " n=" << n << " RMS relative error " << rms << " (standard error " << se << ")");
    CHECK(rms <= 2 * se);
}

// A deterministic Zipf(s) sampler over keys 0..n-1 (own CDF and uniform
// draw, so the stream does not depend on the standard library's
// distributions).
class Zipf {
public:
    Zipf(unsigned n, double s, uint64_t seed) : cdf_(n), rng_(seed) {
        double sum = 0;
        for (unsigned k = 0; k < n; ++k) cdf_[k] = sum += 1.0 / std::pow(double(k + 1), s);
        for (double& c : cdf_) c /= sum;
    }
    uint32_t next() {
        const double u = double(rng_() >> 11) * 0x1.0p-53;
        return uint32_t(std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin());
    }

private:
    std::vector<double> cdf_;
    std::mt19937_64 rng_;
};

// Keys compared by bytes: a big-endian 32-bit id, so byte order = numeric order.
struct Id {
    std::array<uint8_t, 4> bytes;
    static Id of(uint32_t v) { return {{uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)}}; }
    uint32_t value() const {
        return uint32_t(bytes[0]) << 24 | uint32_t(bytes[1]) << 16 | uint32_t(bytes[2]) << 8 | bytes[3];
    }
    bool operator==(const Id&) const = default;
};
uint64_t hash_id(const Id& id) { return sketch_hash_of(id); }

// Counts every payload touch, to check that payloads follow their key.
struct Tally {
    uint64_t n = 0;
    void merge(const Tally& other) { n += other.n; }
    void clear() { n = 0; }
};

template <class S>
std::vector<const typename S::Entry*> top_all(const S& s) {
    std::vector<const typename S::Entry*> out(s.size());
    CHECK(s.top(out) == s.size());
    return out;
}

// Every space-saving guarantee of `s` against the exact weights of the stream.
template <class S>
void check_guarantees(const S& s, const std::map<uint32_t, uint64_t>& exact, uint64_t total) {
    REQUIRE(s.total() == total);
    const uint64_t bound = total / S::capacity();
    CHECK(s.min_count() <= bound);
    uint64_t sum = 0;
    std::set<uint32_t> kept;
    s.for_each([&](const typename S::Entry& e) {
        const auto it = exact.find(e.key.value());
        const uint64_t w = it == exact.end() ? 0 : it->second;
        INFO("key " << e.key.value() << " count " << e.count << " error " << e.error << " true " << w);
        CHECK(e.count >= w);
        CHECK(e.count - e.error <= w);
        CHECK(e.error <= s.min_count());
        sum += e.count;
        kept.insert(e.key.value());
    });
    CHECK(sum <= total);
    for (const auto& [key, w] : exact) {
        if (kept.count(key)) continue;
        INFO("key " << key << " not kept, true " << w << ", min_count " << s.min_count());
        CHECK(w <= s.min_count());
    }
}

} // namespace

// ---------------------------------------------------------------------------
// Hashing

TEST_CASE("sketch_hash: stable, length-aware, seedable, and its bits are balanced") {
    const char text[] = "abcdefghijklmnopqrstuvwxyz";
    CHECK(sketch_hash(text, 26) == sketch_hash(text, 26));
    CHECK(sketch_hash(text, 26) != sketch_hash(text, 25));
    CHECK(sketch_hash(text, 26, 1) != sketch_hash(text, 26, 2));
    // A zero-padded tail must not collide with the longer input.
    const char with_zero[3] = {'a', 'b', 0};
    CHECK(sketch_hash(with_zero, 2) != sketch_hash(with_zero, 3));
    CHECK(sketch_hash(nullptr, 0) != sketch_hash(with_zero, 1));

    // HyperLogLog reads the top bits, the space-saving index the product's
    // high bits: every output bit must be set about half of the time, even
    // for sequential inputs.
    constexpr int kDraws = 100000;
    std::array<int, 64> ones{};
    for (uint64_t i = 0; i < kDraws; ++i) {
        const uint64_t h = hash_u64(i);
        for (int b = 0; b < 64; ++b) ones[b] += int((h >> b) & 1);
    }
    for (int b = 0; b < 64; ++b) {
        INFO("bit " << b << " set " << ones[b] << " times of " << kDraws);
        CHECK(std::abs(ones[b] - kDraws / 2) < 1000); // > 6 sigma
    }
}

// ---------------------------------------------------------------------------
// HyperLogLog

TEST_CASE("Hll is a fixed-size plain value") {
    static_assert(std::is_trivially_copyable_v<Hll<4>>);
    static_assert(std::is_trivially_copyable_v<Hll<14>>);
    static_assert(sizeof(Hll<4>) == 16);
    static_assert(sizeof(Hll<14>) == 16384);
    Hll<8> h;
    CHECK(h.empty());
    CHECK(h.estimate() == 0);
    CHECK(h.add(hash_u64(1)));
    CHECK_FALSE(h.add(hash_u64(1))); // a repeat changes nothing
    CHECK_FALSE(h.empty());
    h.clear();
    CHECK(h.empty());
    CHECK(h.estimate() == 0);
}

TEST_CASE("Hll: error within the standard error bound from 10^2 to 10^6 distinct items") {
    for (uint64_t n : {100u, 1000u, 10000u, 100000u, 1000000u}) {
        check_hll_accuracy<14>(n);
        check_hll_accuracy<10>(n);
        check_hll_accuracy<6>(n);
    }
}

TEST_CASE("Hll: repeats do not count, only distinct items") {
    Hll<12> once, many;
    for (uint64_t i = 0; i < 5000; ++i) once.add(hash_u64(i));
    for (int round = 0; round < 20; ++round)
        for (uint64_t i = 0; i < 5000; ++i) many.add(hash_u64(i));
    CHECK(once == many);
}

TEST_CASE("Hll: small counts are exact or nearly (linear counting)") {
    Hll<14> h;
    for (uint64_t n = 1; n <= 200; ++n) {
        h.add(hash_u64(n));
        INFO("n=" << n << " estimate " << h.estimate());
        CHECK(std::fabs(h.estimate() - double(n)) <= std::max(1.0, 0.01 * double(n)));
    }
    Hll<10> small;
    for (uint64_t n = 1; n <= 20; ++n) small.add(hash_u64(n + 1000));
    CHECK(std::round(small.estimate()) == Approx(20).margin(1));
}

TEST_CASE("Hll: merge equals adding the union; merging is order-free") {
    // Overlapping halves: 0..60k and 40k..100k, union 100k.
    const auto a = hll_of_range<12>(0, 60000);
    const auto b = hll_of_range<12>(40000, 100000);
    const auto all = hll_of_range<12>(0, 100000);
    auto ab = a;
    ab.merge(b);
    auto ba = b;
    ba.merge(a);
    CHECK(ab == all);
    CHECK(ba == all);
    CHECK(ab.estimate() == Approx(100000).epsilon(4 * Hll<12>::standard_error()));
    auto twice = a;
    twice.merge(a);
    CHECK(twice == a);
}

// ---------------------------------------------------------------------------
// Space-saving

TEST_CASE("SpaceSaving is a fixed-size plain value, with payloads like Hll") {
    using PerSource = SpaceSaving<IpAddress, Hll<6>, 64>;
    static_assert(std::is_trivially_copyable_v<PerSource>);
    static_assert(std::is_trivially_copyable_v<SpaceSaving<Id, NoPayload, 1024>>);
    // A summary inside a big window struct, copied whole.
    struct Window {
        PerSource sources;
        Hll<12> destinations;
    };
    auto w = std::make_unique<Window>();
    const IpAddress src = IpAddress::from_v4_host(0x0a000001);
    for (uint64_t dst = 0; dst < 500; ++dst) w->sources.add(src, sketch_hash_of(src)).add(hash_u64(dst));
    auto copy = std::make_unique<Window>(*w);
    const auto* e = copy->sources.find(src, sketch_hash_of(src));
    REQUIRE(e != nullptr);
    CHECK(e->count == 500);
    CHECK(e->value.estimate() == Approx(500).epsilon(4 * Hll<6>::standard_error()));
}

TEST_CASE("SpaceSaving: exact while there are no more keys than entries") {
    SpaceSaving<Id, Tally, 128> s;
    std::map<uint32_t, uint64_t> exact;
    std::mt19937_64 rng(7);
    uint64_t total = 0;
    for (int i = 0; i < 20000; ++i) {
        const uint32_t key = uint32_t(rng() % 128);
        const uint64_t weight = 1 + rng() % 1500; // e.g. bytes
        s.add(Id::of(key), hash_id(Id::of(key)), weight).n++;
        exact[key] += weight;
        total += weight;
    }
    REQUIRE(s.size() == 128);
    CHECK(s.full());
    CHECK(s.total() == total);
    for (const auto& [key, w] : exact) {
        const auto* e = s.find(Id::of(key), hash_id(Id::of(key)));
        REQUIRE(e != nullptr);
        CHECK(e->count == w);
        CHECK(e->error == 0);
    }
    // top() is the exact ranking.
    std::vector<std::pair<uint64_t, uint32_t>> expected;
    for (const auto& [key, w] : exact) expected.push_back({w, key});
    std::sort(expected.begin(), expected.end(), [](auto x, auto y) {
        return x.first != y.first ? x.first > y.first : x.second < y.second;
    });
    const auto top = top_all(s);
    for (size_t i = 0; i < top.size(); ++i) CHECK(top[i]->key.value() == expected[i].second);
    // A shorter output gets the heaviest.
    std::array<const decltype(s)::Entry*, 5> top5{};
    CHECK(s.top(top5) == 5);
    for (size_t i = 0; i < 5; ++i) CHECK(top5[i] == top[i]);
}

TEST_CASE("SpaceSaving: a new key replaces the minimum, inheriting its count as error") {
    SpaceSaving<Id, Tally, 2> s;
    const Id a = Id::of(1), b = Id::of(2), c = Id::of(3);
    s.add(a, hash_id(a), 5).n = 11;
    s.add(b, hash_id(b), 3).n = 22;
    CHECK(s.min_count() == 3);
    Tally& t = s.add(c, hash_id(c), 2);
    CHECK(t.n == 0); // b's payload was cleared, not inherited
    CHECK(s.find(b, hash_id(b)) == nullptr);
    const auto* ec = s.find(c, hash_id(c));
    REQUIRE(ec != nullptr);
    CHECK(ec->count == 5);
    CHECK(ec->error == 3);
    CHECK(s.find(a, hash_id(a))->value.n == 11);
    // Equal counts: the larger key bytes is the minimum (last in top()).
    const auto top = top_all(s);
    CHECK(top[0]->key == a);
    CHECK(top[1]->key == c);
    s.add(Id::of(4), hash_id(Id::of(4)));
    CHECK(s.find(c, hash_id(c)) == nullptr);
    CHECK(s.find(a, hash_id(a)) != nullptr);
}

TEST_CASE("SpaceSaving: heavy hitters of a Zipf stream, counts within the error bound") {
    constexpr unsigned kK = 256;
    SpaceSaving<Id, NoPayload, kK> s;
    Zipf zipf(100000, 1.1, 42);
    std::map<uint32_t, uint64_t> exact;
    constexpr uint64_t kN = 1000000;
    for (uint64_t i = 0; i < kN; ++i) {
        const uint32_t key = zipf.next();
        s.add(Id::of(key), hash_id(Id::of(key)));
        ++exact[key];
    }
    check_guarantees(s, exact, kN);
    // Every key heavier than N/K is kept...
    unsigned heavy = 0;
    for (const auto& [key, w] : exact)
        if (w > kN / kK) {
            ++heavy;
            CHECK(s.find(Id::of(key), hash_id(Id::of(key))) != nullptr);
        }
    CHECK(heavy >= 20); // the stream must have heavy hitters to find
    // ... and the top ten come out in the true order (Zipf ranks: 0, 1, 2, ...).
    std::array<const decltype(s)::Entry*, 10> top{};
    REQUIRE(s.top(top) == 10);
    for (uint32_t i = 0; i < 10; ++i) CHECK(top[i]->key.value() == i);
}

TEST_CASE("SpaceSaving: merging two halves finds what one pass finds") {
    constexpr unsigned kK = 200;
    using S = SpaceSaving<Id, Tally, kK>;
    auto whole = std::make_unique<S>();
    auto first = std::make_unique<S>();
    auto second = std::make_unique<S>();
    Zipf zipf(50000, 1.05, 99);
    std::map<uint32_t, uint64_t> exact;
    constexpr uint64_t kN = 600000;
    std::mt19937_64 rng(5);
    for (uint64_t i = 0; i < kN; ++i) {
        const uint32_t key = zipf.next();
        const Id id = Id::of(key);
        // Two workers: a random split, as RSS would make it.
        S& half = rng() & 1 ? *first : *second;
        half.add(id, hash_id(id)).n++;
        whole->add(id, hash_id(id)).n++;
        ++exact[key];
    }
    const uint64_t first_min = first->min_count(), second_min = second->min_count();
    CHECK(first_min > 0);
    CHECK(second_min > 0);
    auto merged = std::make_unique<S>(*first);
    merged->merge(*second);
    check_guarantees(*merged, exact, kN);

    std::set<uint32_t> heavy;
    for (const auto& [key, w] : exact)
        if (w > kN / kK) heavy.insert(key);
    REQUIRE(heavy.size() >= 15);
    for (uint32_t key : heavy) {
        INFO("heavy key " << key);
        CHECK(whole->find(Id::of(key), hash_id(Id::of(key))) != nullptr);
        CHECK(merged->find(Id::of(key), hash_id(Id::of(key))) != nullptr);
    }
    // The heaviest keys rank alike in both.
    std::array<const S::Entry*, 10> top_whole{}, top_merged{};
    REQUIRE(whole->top(top_whole) == 10);
    REQUIRE(merged->top(top_merged) == 10);
    for (size_t i = 0; i < 10; ++i) CHECK(top_merged[i]->key == top_whole[i]->key);

    // Payloads follow their keys: a key never evicted from either half
    // (error 0) has the union of both halves' payloads, here its exact count.
    unsigned exact_payloads = 0;
    merged->for_each([&](const S::Entry& e) {
        if (e.error != 0) return;
        ++exact_payloads;
        CHECK(e.value.n == exact.at(e.key.value()));
        CHECK(e.count == exact.at(e.key.value()));
    });
    CHECK(exact_payloads >= 10);

    // The merge is symmetric in what it keeps.
    auto other_way = std::make_unique<S>(*second);
    other_way->merge(*first);
    const auto a = top_all(*merged), b = top_all(*other_way);
    REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); ++i) {
        CHECK(a[i]->key == b[i]->key);
        CHECK(a[i]->count == b[i]->count);
        CHECK(a[i]->error == b[i]->error);
    }
}

TEST_CASE("SpaceSaving: a tree of merges keeps every guarantee") {
    constexpr unsigned kK = 64;
    using S = SpaceSaving<Id, NoPayload, kK>;
    std::vector<S> parts(8);
    std::map<uint32_t, uint64_t> exact;
    std::mt19937_64 rng(11);
    uint64_t total = 0;
    for (size_t p = 0; p < parts.size(); ++p) {
        // Parts see different mixes: some keys are heavy in one part only.
        Zipf zipf(5000, 0.9 + 0.05 * double(p), 100 + p);
        for (int i = 0; i < 30000; ++i) {
            const uint32_t key = (zipf.next() + uint32_t(p) * 37) % 5000;
            const uint64_t weight = 1 + rng() % 4;
            parts[p].add(Id::of(key), hash_id(Id::of(key)), weight);
            exact[key] += weight;
            total += weight;
        }
    }
    for (size_t step = 1; step < parts.size(); step *= 2)
        for (size_t p = 0; p + step < parts.size(); p += 2 * step) parts[p].merge(parts[p + step]);
    check_guarantees(parts[0], exact, total);
}

TEST_CASE("SpaceSaving: merging summaries that are not full is exact") {
    SpaceSaving<Id, Tally, 16> a, b;
    for (uint32_t k = 0; k < 6; ++k) a.add(Id::of(k), hash_id(Id::of(k)), k + 1).n = k + 1;
    for (uint32_t k = 3; k < 10; ++k) b.add(Id::of(k), hash_id(Id::of(k)), 10).n = 10;
    a.merge(b);
    CHECK(a.size() == 10);
    CHECK(a.total() == 21 + 70);
    for (uint32_t k = 0; k < 10; ++k) {
        const auto* e = a.find(Id::of(k), hash_id(Id::of(k)));
        REQUIRE(e != nullptr);
        const uint64_t expected = (k < 6 ? k + 1 : 0) + (k >= 3 ? 10 : 0);
        CHECK(e->count == expected);
        CHECK(e->error == 0);
        CHECK(e->value.n == expected);
    }
    // Merging with itself doubles every weight.
    a.merge(a);
    CHECK(a.total() == 2 * 91);
    CHECK(a.find(Id::of(4), hash_id(Id::of(4)))->count == 2 * 15);
}

TEST_CASE("SpaceSaving: the order of top() does not depend on arrival order") {
    // 40 keys, all with the same weight: only the key bytes decide.
    std::vector<uint32_t> keys(40);
    for (uint32_t i = 0; i < 40; ++i) keys[i] = 1000 - 7 * i;
    SpaceSaving<Id, NoPayload, 64> x, y;
    for (uint32_t k : keys) x.add(Id::of(k), hash_id(Id::of(k)), 3);
    std::shuffle(keys.begin(), keys.end(), std::mt19937_64(3));
    for (uint32_t k : keys) y.add(Id::of(k), hash_id(Id::of(k)), 3);
    const auto tx = top_all(x), ty = top_all(y);
    REQUIRE(tx.size() == 40);
    for (size_t i = 0; i < 40; ++i) {
        CHECK(tx[i]->key == ty[i]->key);
        if (i > 0) CHECK(tx[i - 1]->key.value() < tx[i]->key.value());
    }
}

TEST_CASE("SpaceSaving: the index stays consistent through evictions, even with colliding hashes") {
    // A constant hash puts every key in one probe run: each eviction's
    // backward shift must keep every other key findable.
    const auto hash = GENERATE(0, 1); // 0: real hash, 1: all keys collide
    SpaceSaving<Id, Tally, 32> s;
    std::mt19937_64 rng(17);
    const auto h = [&](uint32_t key) { return hash == 0 ? hash_id(Id::of(key)) : 0x1234u; };
    for (int i = 0; i < 5000; ++i) {
        const uint32_t key = uint32_t(rng() % 100);
        s.add(Id::of(key), h(key)).n++;
        if (i % 97 != 0) continue;
        unsigned found = 0;
        for (uint32_t k = 0; k < 100; ++k) {
            const auto* e = s.find(Id::of(k), h(k));
            if (e == nullptr) continue;
            ++found;
            CHECK(e->key == Id::of(k));
        }
        CHECK(found == s.size());
    }
    s.clear();
    CHECK(s.size() == 0);
    CHECK(s.total() == 0);
    CHECK(s.find(Id::of(1), h(1)) == nullptr);
    CHECK(s.add(Id::of(1), h(1)).n == 0); // a reused entry's payload starts cleared
}

namespace {

// 20-byte keys: two 8-byte words and a 4-byte tail, so every part of the
// key comparison is exercised; most keys share their first word, as IPv4
// addresses in the 16-byte form do.
struct Wide {
    std::array<uint8_t, 20> bytes{};
    static Wide of(uint32_t v, uint8_t tag) {
        Wide w;
        w.bytes[10] = tag;
        w.bytes[15] = uint8_t(v >> 8);
        w.bytes[19] = uint8_t(v);
        return w;
    }
    bool operator==(const Wide&) const = default;
};

// A naive space-saving summary: the same rules, spelled out over a vector.
struct Reference {
    struct Item {
        Wide key;
        uint64_t count, error;
    };
    std::vector<Item> items;
    size_t k;
    void add(const Wide& key, uint64_t w) {
        for (Item& it : items)
            if (it.key == key) {
                it.count += w;
                return;
            }
        if (items.size() < k) {
            items.push_back({key, w, 0});
            return;
        }
        // The minimum: lowest count, then the largest key bytes.
        auto min = std::min_element(items.begin(), items.end(), [](const Item& a, const Item& b) {
            if (a.count != b.count) return a.count < b.count;
            return std::memcmp(&b.key, &a.key, sizeof(Wide)) < 0;
        });
        const uint64_t inherited = min->count;
        *min = {key, inherited + w, inherited};
    }
};

} // namespace

TEST_CASE("SpaceSaving: every eviction picks the entry the (count, key bytes) order says") {
    // Few distinct weights and many keys: ties in count all the time, so the
    // heap's tie-break decides which key stays.
    constexpr unsigned kK = 24;
    SpaceSaving<Wide, NoPayload, kK> s;
    Reference ref{{}, kK};
    std::mt19937_64 rng(31);
    for (int i = 0; i < 20000; ++i) {
        const Wide key = Wide::of(uint32_t(rng() % 300), uint8_t(rng() % 3));
        const uint64_t w = i % 7 == 0 ? 0 : 1 + rng() % 2; // weight 0 too, as ServiceStats uses it
        s.add(key, sketch_hash_of(key), w);
        ref.add(key, w);
        if (i % 101 != 0) continue;
        REQUIRE(s.size() == ref.items.size());
        for (const auto& it : ref.items) {
            const auto* e = s.find(it.key, sketch_hash_of(it.key));
            REQUIRE(e != nullptr);
            CHECK(e->count == it.count);
            CHECK(e->error == it.error);
        }
    }
    // A merge keeps the K heaviest in the same order: both ways round alike.
    SpaceSaving<Wide, NoPayload, kK> t;
    for (uint32_t v = 0; v < 100; ++v) t.add(Wide::of(v, 1), sketch_hash_of(Wide::of(v, 1)), 1 + v % 3);
    auto a = s, b = t;
    a.merge(t);
    b.merge(s);
    const auto ta = top_all(a), tb = top_all(b);
    REQUIRE(ta.size() == tb.size());
    for (size_t i = 0; i < ta.size(); ++i) {
        CHECK(ta[i]->key == tb[i]->key);
        CHECK(ta[i]->count == tb[i]->count);
    }
    CHECK(a.min_count() == b.min_count());
}
