#pragma once
// Fixed-size, mergeable stream summaries for the behavioural detectors:
//
//   Hll<P>                  HyperLogLog distinct counter (how many different ...?)
//   SpaceSaving<Key, V, K>  the K heaviest keys with bounded-error counts, each
//                           with a payload V (e.g. a per-key Hll)
//
// Both are plain values: fixed size, no heap, no pointers inside, trivially
// copyable. They can be members of a big window struct that is allocated
// once and handed between threads by pointer (a worker fills it, the
// reporter merges and reads it), and two summaries of parts of a stream
// merge into a summary of the whole. Memory and accuracy per sketch:
// lib/detect/README.md, "Sketches".
//
// Thread: no internal synchronisation; one thread at a time per object.
// Nothing here allocates, throws, locks or logs. Hll::add() and
// SpaceSaving::add() are meant for the worker's packet path; estimate(),
// merge() and top() are cheap enough there too but belong to the reporter.

#include <algorithm>
#include <array>
#include <bit>
#include <bitset>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <type_traits>

namespace sg {

// ---------------------------------------------------------------------------
// Hashing

// A bijective 64-bit mixer (xor-shift / multiply rounds, the constants of
// Stafford's "Mix13" variant of the MurmurHash3 finaliser): every input bit
// flips each output bit with probability close to 1/2.
inline uint64_t sketch_mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

// 64-bit hash of a byte string for the sketches: the length seeds the state
// (so a zero-padded tail cannot collide with a longer input), then every
// 8-byte word is folded in through a full mixing round. Not keyed against
// an adversary who can choose inputs: use a secret `seed` where that matters.
// Reads native-endian words: hashes are for this process, not for storage.
inline uint64_t sketch_hash(const void* data, size_t len, uint64_t seed) {
    const auto* p = static_cast<const unsigned char*>(data);
    uint64_t h = sketch_mix64(seed ^ (uint64_t(len) * 0x9e3779b97f4a7c15ull));
    for (; len >= 8; len -= 8, p += 8) {
        uint64_t word;
        std::memcpy(&word, p, 8);
        h = sketch_mix64(h ^ word);
    }
    if (len > 0) {
        uint64_t tail = 0;
        std::memcpy(&tail, p, len);
        h = sketch_mix64(h ^ tail);
    }
    return h;
}
inline uint64_t sketch_hash(const void* data, size_t len) { return sketch_hash(data, len, 0); }

// The hash of a value's bytes. Only for types whose equal values have equal
// bytes (no padding, no floats): otherwise equal keys could hash apart.
template <class T>
    requires std::has_unique_object_representations_v<T>
uint64_t sketch_hash_of(const T& value, uint64_t seed = 0) {
    return sketch_hash(&value, sizeof value, seed);
}

// ---------------------------------------------------------------------------
// HyperLogLog

namespace sketch_detail {
// The HyperLogLog estimate of 2^precision registers with the small-range
// (linear counting) correction; out of line because it is the same loop for
// every P and runs on the reporter, not per packet.
double hll_estimate(const uint8_t* registers, unsigned precision);
} // namespace sketch_detail

// Distinct counter (Flajolet et al. 2007) with 2^P one-byte registers.
// add() takes a 64-bit hash of the item (sketch_hash(), or any hash whose
// bits are uniform): the top P bits pick a register, which keeps the
// largest "position of the first 1-bit" seen in the remaining 64 - P bits.
// Relative standard error 1.04 / sqrt(2^P); with 64-bit hashes no large-range
// correction is needed. merge() is exact: the union of two streams gives the
// same registers as one stream of both.
template <unsigned P>
class Hll {
    static_assert(P >= 4 && P <= 14, "Hll precision P must be 4..14 (16 B .. 16 KiB)");

public:
    static constexpr unsigned kPrecision = P;
    static constexpr size_t kRegisters = size_t(1) << P;

    // Returns true when a register grew (the item may be new). Worker-safe.
    bool add(uint64_t hash) {
        const size_t index = size_t(hash >> (64 - P));
        // A sentinel 1-bit just past the 64 - P usable bits caps the rank at
        // 64 - P + 1 when they are all zero.
        const uint64_t rest = (hash << P) | (uint64_t(1) << (P - 1));
        const auto rank = uint8_t(std::countl_zero(rest) + 1);
        if (rank <= registers_[index]) return false;
        registers_[index] = rank;
        return true;
    }

    // Estimated number of distinct hashes added (and merged in).
    double estimate() const { return sketch_detail::hll_estimate(registers_.data(), P); }

    // Register-wise maximum: afterwards *this summarises both streams.
    void merge(const Hll& other) {
        for (size_t i = 0; i < kRegisters; ++i)
            registers_[i] = std::max(registers_[i], other.registers_[i]);
    }

    void clear() { registers_.fill(0); }
    bool empty() const {
        return std::all_of(registers_.begin(), registers_.end(), [](uint8_t r) { return r == 0; });
    }

    // 1.04 / sqrt(2^P): one standard deviation of estimate() / true count.
    static double standard_error() { return 1.04 / std::sqrt(double(kRegisters)); }

    const std::array<uint8_t, kRegisters>& registers() const { return registers_; }
    friend bool operator==(const Hll&, const Hll&) = default;

private:
    std::array<uint8_t, kRegisters> registers_{};
};

// ---------------------------------------------------------------------------
// Space-saving top-k

// What a SpaceSaving entry may carry: a plain value that can absorb another
// (merge) and be reset (clear) when its entry is given to a new key.
template <class V>
concept SketchPayload = std::is_trivially_copyable_v<V> && requires(V v, const V& other) {
    v.merge(other);
    v.clear();
};

// Payload for a plain top-k without per-key data.
struct NoPayload {
    void merge(const NoPayload&) {}
    void clear() {}
};

// Space-saving (Metwally, Agrawal, El Abbadi 2005) over K entries: the heavy
// keys of a weighted stream with one-sided, bounded error.
//
// Guarantees (N = total() = sum of all weights added and merged in):
//   - a kept key's true weight w satisfies  count - error <= w <= count;
//   - error <= min_count() <= N / K;
//   - a key that is not kept has w <= min_count() (0 while not full: then
//     every count is exact), so every key with w > N / K is kept.
//
// Cost: add() is O(1) expected for the lookup (a linear-probing index of at
// least 2K slots over the entries, load <= 1/2, deletion by backward shift,
// so no tombstones) plus O(log K) to keep the minimum at the root of a
// binary heap over the entries (whose nodes carry each entry's count and
// key, so sifting never reads the entries). Ties in count are broken by key
// bytes, in the heap and in top(), so every result is deterministic.
//
// Key: trivially copyable, operator==, and equal keys have equal bytes (no
// padding; add explicit padding fields if needed) since ties are broken by
// the bytes. The caller supplies the key's 64-bit hash (e.g. sketch_hash_of)
// and must use the same hash function for summaries it merges.
template <class Key, class Value, unsigned K>
    requires std::is_trivially_copyable_v<Key> && std::equality_comparable<Key> &&
             std::has_unique_object_representations_v<Key> && SketchPayload<Value>
class SpaceSaving {
    static_assert(K >= 1 && K <= 32768, "SpaceSaving holds 1..32768 entries");

public:
    struct Entry {
        Key key;
        uint64_t hash;   // the caller's hash of key
        uint64_t count;  // upper bound of the key's weight
        uint64_t error;  // count - error is a lower bound
        [[no_unique_address]] Value value; // the caller's payload; cleared when the entry changes key
    };

    static constexpr unsigned capacity() { return K; }
    unsigned size() const { return size_; }
    bool full() const { return size_ == K; }
    uint64_t total() const { return total_; }
    // The smallest count once full (the bound on any key not kept), else 0.
    uint64_t min_count() const { return full() ? heap_[0].count : 0; }

    // Counts `weight` for `key` and returns its payload for the caller to
    // update. A new key takes a free entry, or when full the minimum entry's
    // (count = min + weight, error = min); either way with a cleared payload.
    // Worker-safe: no allocation.
    Value& add(const Key& key, uint64_t hash, uint64_t weight = 1) {
        total_ += weight;
        unsigned slot = find_slot(key, hash);
        if (slots_[slot] != kEmpty) {
            const Index index = slots_[slot];
            Entry& e = entries_[index];
            e.count += weight;
            const unsigned at = pos_[index];
            heap_[at].count = e.count;
            sift_down(at);
            return e.value;
        }
        // A new key: a free entry (a leaf of the heap, which may be the new
        // minimum) or, when full, the minimum's (the root, which only moves
        // down: its count did not shrink).
        const bool replacing = size_ == K;
        Index index;
        uint64_t inherited = 0;
        if (!replacing) {
            index = Index(size_++);
        } else {
            index = heap_[0].index;
            inherited = heap_[0].count;
            erase_slot(find_slot(entries_[index].key, entries_[index].hash));
            slot = find_slot(key, hash); // the erase may have shifted the probe chain
        }
        Entry& e = entries_[index];
        e.key = key;
        e.hash = hash;
        e.count = inherited + weight;
        e.error = inherited;
        e.value.clear();
        slots_[slot] = index;
        if (replacing) {
            heap_[0] = node_of(index); // pos_[index] is 0 already
            sift_down(0);
        } else {
            heap_place(size_ - 1, node_of(index));
            sift_up(size_ - 1);
        }
        return e.value;
    }

    // The entry of `key`, or nullptr when it is not kept.
    const Entry* find(const Key& key, uint64_t hash) const {
        const unsigned slot = find_slot(key, hash);
        return slots_[slot] == kEmpty ? nullptr : &entries_[slots_[slot]];
    }

    // The payload of `key` for the caller to update, or nullptr when it is
    // not kept. Counts nothing: for later events of a key counted before
    // (the answer to a probe), which must not make a key heavier.
    Value* find_value(const Key& key, uint64_t hash) {
        const unsigned slot = find_slot(key, hash);
        return slots_[slot] == kEmpty ? nullptr : &entries_[slots_[slot]].value;
    }

    // Calls fn(const Entry&) for every kept key, in no particular order.
    template <class Fn>
    void for_each(Fn&& fn) const {
        for (unsigned i = 0; i < size_; ++i) fn(static_cast<const Entry&>(entries_[i]));
    }

    // Writes the min(out.size(), size()) heaviest entries to `out`, by count
    // descending, equal counts by key bytes ascending; returns how many.
    // No scratch memory: a bounded heap in `out` itself, O(size() log n).
    unsigned top(std::span<const Entry*> out) const {
        const unsigned n = unsigned(std::min<size_t>(out.size(), size_));
        if (n == 0) return 0;
        const auto first = out.begin(), last = out.begin() + n;
        const auto heavier = [](const Entry* a, const Entry* b) { return ranks_above(*a, *b); };
        for (unsigned i = 0; i < n; ++i) out[i] = &entries_[i];
        // A heap ordered by `heavier` keeps its lightest element in front.
        std::make_heap(first, last, heavier);
        for (unsigned i = n; i < size_; ++i) {
            if (!ranks_above(entries_[i], *out[0])) continue;
            std::pop_heap(first, last, heavier);
            *(last - 1) = &entries_[i];
            std::push_heap(first, last, heavier);
        }
        std::sort_heap(first, last, heavier);
        return n;
    }

    // Folds `other` (a summary of another part of the stream, same key hash)
    // into this one, the merge of mergeable summaries (Agarwal et al. 2012)
    // in its space-saving form: a key kept by both gets the sum of the counts
    // and of the errors and the union of the payloads (Value::merge); a key
    // kept by one only gets the other's min_count() added to its count and
    // its error (the most it can have had there unseen); then the K heaviest
    // stay. The result is a space-saving summary of both parts with
    // N = N1 + N2 and every guarantee above (errors <= m1 + m2 <= N / K, the
    // kept counts sum to at most N), so merges can be chained in any tree.
    void merge(const SpaceSaving& other) {
        if (&other == this) { // the same stream twice: every weight doubles
            for (unsigned i = 0; i < size_; ++i) {
                entries_[i].count *= 2;
                entries_[i].error *= 2;
                entries_[i].value.merge(Value(entries_[i].value));
                heap_[i].count *= 2; // same order: every count doubles
            }
            total_ *= 2;
            return;
        }
        const uint64_t my_min = min_count();
        const uint64_t other_min = other.min_count();
        std::bitset<K> folded; // other's entries already added to one of ours

        for (unsigned i = 0; i < size_; ++i) {
            Entry& mine = entries_[i];
            const unsigned other_slot = other.find_slot(mine.key, mine.hash);
            if (other.slots_[other_slot] != kEmpty) {
                const Entry& theirs = other.entries_[other.slots_[other_slot]];
                mine.count += theirs.count;
                mine.error += theirs.error;
                mine.value.merge(theirs.value);
                folded.set(other.slots_[other_slot]);
            } else {
                mine.count += other_min;
                mine.error += other_min;
            }
        }
        rebuild_heap();

        // Keys only the other summary kept: take them while there is room,
        // then only when heavier than our current minimum (top-K selection).
        for (unsigned j = 0; j < other.size_; ++j) {
            if (folded.test(j)) continue;
            Entry candidate = other.entries_[j];
            candidate.count += my_min;
            candidate.error += my_min;
            if (size_ < K) {
                const auto index = Index(size_++);
                entries_[index] = candidate;
                slots_[find_slot(candidate.key, candidate.hash)] = index;
                heap_place(size_ - 1, node_of(index));
                sift_up(size_ - 1);
            } else if (ranks_above(candidate, entries_[heap_[0].index])) {
                const Index index = heap_[0].index;
                erase_slot(find_slot(entries_[index].key, entries_[index].hash));
                entries_[index] = candidate;
                slots_[find_slot(candidate.key, candidate.hash)] = index;
                heap_[0] = node_of(index);
                sift_down(0);
            }
        }
        total_ += other.total_;
    }

    void clear() {
        size_ = 0;
        total_ = 0;
        slots_.fill(kEmpty);
    }

    // Rebuilding a copy of a table from its entries (lib/fleet decodes the
    // summaries of other appliances): on a table cleared first, restore()
    // each entry in the original's for_each() order, then restore_total().
    // The copy then keeps the same entries in the same order, and add(),
    // merge() and top() act on it exactly as on the original (the heap's
    // shape may differ, never its order, which is total). Not for the packet
    // path.
    //
    // Appends `key` with exactly this count, error and payload. False,
    // changing nothing, when the table is full or keeps `key` already.
    bool restore(const Key& key, uint64_t hash, uint64_t count, uint64_t error, const Value& value) {
        if (size_ == K) return false;
        const unsigned slot = find_slot(key, hash);
        if (slots_[slot] != kEmpty) return false;
        const auto index = Index(size_++);
        entries_[index] = Entry{key, hash, count, error, value};
        slots_[slot] = index;
        heap_place(index, node_of(index));
        sift_up(index);
        return true;
    }
    // The weight the restored entries stand for: total() of the original.
    void restore_total(uint64_t total) { total_ = total; }

private:
    using Index = uint16_t;
    static constexpr Index kEmpty = std::numeric_limits<Index>::max();
    // At least twice as many slots as entries keeps linear probing short.
    static constexpr unsigned kSlots = std::bit_ceil(2u * K);
    static constexpr unsigned kSlotBits = std::countr_zero(kSlots);
    static constexpr unsigned kSlotMask = kSlots - 1;

    // Key bytes in memcmp order, compared 8 bytes at a time as big-endian
    // words (the keys here are 16-40 bytes; a libc memcmp call per heap
    // comparison was a sizeable part of add()).
    static bool key_before(const Key& a, const Key& b) {
        const auto* pa = reinterpret_cast<const unsigned char*>(&a);
        const auto* pb = reinterpret_cast<const unsigned char*>(&b);
        size_t i = 0;
        for (; i + 8 <= sizeof(Key); i += 8) {
            uint64_t wa, wb;
            std::memcpy(&wa, pa + i, 8);
            std::memcpy(&wb, pb + i, 8);
            if (wa != wb) {
                if constexpr (std::endian::native == std::endian::little)
                    return __builtin_bswap64(wa) < __builtin_bswap64(wb);
                else
                    return wa < wb;
            }
        }
        return i < sizeof(Key) && std::memcmp(pa + i, pb + i, sizeof(Key) - i) < 0;
    }

    // a before b in top(): heavier, or as heavy with smaller key bytes.
    static bool ranks_above(const Entry& a, const Entry& b) {
        if (a.count != b.count) return a.count > b.count;
        return key_before(a.key, b.key);
    }

    // Fibonacci hashing takes the slot from the product's high bits, so a
    // caller's hash with weak low bits (a 32-bit CRC) still spreads.
    static unsigned home_slot(uint64_t hash) {
        return unsigned((hash * 0x9e3779b97f4a7c15ull) >> (64 - kSlotBits));
    }

    // The slot holding `key`, or the empty slot where its probe ends.
    unsigned find_slot(const Key& key, uint64_t hash) const {
        unsigned s = home_slot(hash);
        while (slots_[s] != kEmpty) {
            const Entry& e = entries_[slots_[s]];
            if (e.hash == hash && e.key == key) return s;
            s = (s + 1) & kSlotMask;
        }
        return s;
    }

    // Empties slot `s` and moves later members of its probe run back into
    // the hole when their home allows, so every chain stays unbroken.
    void erase_slot(unsigned s) {
        unsigned hole = s;
        unsigned next = s;
        for (;;) {
            next = (next + 1) & kSlotMask;
            if (slots_[next] == kEmpty) break;
            const unsigned home = home_slot(entries_[slots_[next]].hash);
            // `next` may fill the hole if the hole lies on its probe path,
            // i.e. cyclically within [home, next).
            if (((next - home) & kSlotMask) >= ((next - hole) & kSlotMask)) {
                slots_[hole] = slots_[next];
                hole = next;
            }
        }
        slots_[hole] = kEmpty;
    }

    // A heap node: an entry's index with copies of its count and key, so
    // that sifting reads only the heap array, never the entries (which carry
    // payloads of up to half a KiB each, scattered over the table). The
    // order is exactly the entries' (ranks_above).
    struct Node {
        uint64_t count;
        Key key;
        Index index;
    };
    Node node_of(Index index) const { return Node{entries_[index].count, entries_[index].key, index}; }

    // Min-heap of nodes: the root is the entry a new key replaces (lowest
    // count; equal counts: largest key bytes, the last in top()).
    static bool heap_less(const Node& a, const Node& b) {
        if (a.count != b.count) return a.count < b.count;
        return key_before(b.key, a.key);
    }

    void heap_place(unsigned at, const Node& node) {
        heap_[at] = node;
        pos_[node.index] = Index(at);
    }

    void sift_up(unsigned at) {
        const Node moving = heap_[at];
        while (at > 0) {
            const unsigned parent = (at - 1) / 2;
            if (!heap_less(moving, heap_[parent])) break;
            heap_place(at, heap_[parent]);
            at = parent;
        }
        heap_place(at, moving);
    }

    void sift_down(unsigned at) {
        const Node moving = heap_[at];
        for (;;) {
            unsigned child = 2 * at + 1;
            if (child >= size_) break;
            if (child + 1 < size_ && heap_less(heap_[child + 1], heap_[child])) ++child;
            if (!heap_less(heap_[child], moving)) break;
            heap_place(at, heap_[child]);
            at = child;
        }
        heap_place(at, moving);
    }

    void rebuild_heap() {
        for (unsigned i = 0; i < size_; ++i) heap_place(i, node_of(Index(i)));
        for (unsigned i = size_ / 2; i-- > 0;) sift_down(i);
    }

    std::array<Entry, K> entries_{};   // [0, size_) in use
    std::array<Index, kSlots> slots_ = make_empty_slots();
    std::array<Node, K> heap_{};       // nodes of entries [0, size_), heap-ordered
    std::array<Index, K> pos_{};       // entry index -> position in heap_
    unsigned size_ = 0;
    uint64_t total_ = 0;

    static constexpr std::array<Index, kSlots> make_empty_slots() {
        std::array<Index, kSlots> s{};
        s.fill(kEmpty);
        return s;
    }
};

} // namespace sg
