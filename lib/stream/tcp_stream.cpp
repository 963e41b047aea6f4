#include "stream/tcp_stream.hpp"

#include <algorithm>
#include <cstring>

namespace sg {

void TcpStream::start(uint8_t* buffer, uint32_t capacity, uint32_t seq) {
    *this = TcpStream{};
    data_ = buffer;
    capacity_ = capacity;
    end_seq_ = seq;
}

int64_t TcpStream::offset_of(uint32_t seq) const {
    return int64_t(end_) + int32_t(seq - end_seq_);
}

uint64_t TcpStream::make_room(uint64_t from, uint64_t to, bool may_skip, uint32_t& skipped) {
    if (to - base_ <= capacity_) return from;
    // The highest offset whose byte must move along: the in-order end or a
    // held range past it.
    uint64_t top = end_;
    for (unsigned i = 0; i < held_count_; ++i) top = std::max(top, held_[i].to);
    // After a gap the in-order end may lie past the buffer (resolve_gap): the
    // hole's bytes were never stored, and nothing beyond the buffer exists.
    top = std::min(top, base_ + capacity_);
    auto slide_to = [&](uint64_t new_base) {
        if (top > new_base) std::memmove(data_, data_ + (new_base - base_), top - new_base);
        base_ = new_base;
    };
    // Inspected bytes are not needed any more.
    if (inspected_ > base_) slide_to(inspected_);
    if (to - base_ <= capacity_) return from;
    if (!may_skip) return to;
    // Still too much: the oldest uninspected bytes go, uninspected (counted).
    // Suricata bounds its raw stream the same way, by the TCP window.
    const uint64_t new_base = to - capacity_;
    if (gap_pending_ && new_base > inspected_) {
        if (new_base >= gap_at_) { // the whole old block goes
            skipped += uint32_t(gap_at_ - inspected_);
            gap_pending_ = false;
            inspected_ = block_start_;
        } else {
            skipped += uint32_t(new_base - inspected_);
            inspected_ = new_base;
        }
    }
    if (!gap_pending_ && new_base > inspected_) {
        skipped += uint32_t(std::min(new_base, end_) - std::min(inspected_, end_));
        inspected_ = new_base;
    }
    slide_to(new_base);
    return std::max(from, new_base);
}

void TcpStream::write(uint64_t from, const uint8_t* bytes, uint64_t len) {
    std::memcpy(data_ + (from - base_), bytes, len);
}

void TcpStream::advance_over_held() {
    bool moved = true;
    while (moved) {
        moved = false;
        for (unsigned i = 0; i < held_count_; ++i) {
            if (held_[i].from > end_) continue;
            if (held_[i].to > end_) {
                end_seq_ += uint32_t(held_[i].to - end_);
                end_ = held_[i].to;
            }
            held_[i] = held_[--held_count_];
            moved = true;
            break;
        }
    }
}

SegmentResult TcpStream::add_segment(uint32_t seq, const uint8_t* bytes, uint32_t len) {
    SegmentResult r;
    int64_t from = offset_of(seq);
    const int64_t to = from + len;
    if (to <= int64_t(end_)) {
        r.retransmitted = len;
        return r;
    }
    if (from < int64_t(end_)) { // partly old: keep what is held (first data wins)
        r.retransmitted = uint32_t(int64_t(end_) - from);
        bytes += r.retransmitted;
        from = int64_t(end_);
    }
    const uint64_t lo = uint64_t(from), hi = uint64_t(to);
    if (lo == end_) {
        const uint64_t first = make_room(lo, hi, true, r.skipped);
        write(first, bytes + (first - lo), hi - first);
        r.skipped += uint32_t(first - lo); // a segment longer than the buffer keeps its tail
        r.added = uint32_t(hi - first);
        end_seq_ += uint32_t(hi - end_);
        end_ = hi;
        advance_over_held();
        return r;
    }

    // Past a hole: hold it if it fits and a range is free (or it touches one).
    Range merged{lo, hi};
    unsigned keep = 0;
    Range rest[kMaxHeldRanges];
    for (unsigned i = 0; i < held_count_; ++i) {
        if (held_[i].from <= merged.to && merged.from <= held_[i].to) {
            merged.from = std::min(merged.from, held_[i].from);
            merged.to = std::max(merged.to, held_[i].to);
        } else {
            rest[keep++] = held_[i];
        }
    }
    uint32_t unused = 0;
    if (keep == kMaxHeldRanges || make_room(lo, hi, false, unused) != lo) {
        r.dropped = len - r.retransmitted;
        return r;
    }
    write(lo, bytes, hi - lo);
    for (unsigned i = 0; i < keep; ++i) held_[i] = rest[i];
    held_[keep] = merged;
    held_count_ = keep + 1;
    r.added = uint32_t(hi - lo);
    return r;
}

void TcpStream::ack(uint32_t ack_seq) {
    const int64_t off = offset_of(ack_seq);
    if (off > int64_t(acked_)) acked_ = uint64_t(off);
}

bool TcpStream::resolve_gap(uint32_t& skipped) {
    // One past the data is the FIN's own sequence number, not a hole.
    if (acked_ <= end_ + 1) return false;
    // Data resumes at the first held range the peer acknowledged past, else
    // where the acknowledgement points.
    uint64_t resume = acked_;
    for (unsigned i = 0; i < held_count_; ++i)
        if (held_[i].from < resume) resume = held_[i].from;
    if (end_ > inspected_) {
        if (gap_pending_) { // an older block was never inspected: give it up
            skipped += uint32_t(gap_at_ - inspected_);
            inspected_ = block_start_;
        }
        gap_pending_ = true;
        gap_at_ = end_;
    } else {
        inspected_ = resume;
    }
    block_start_ = resume;
    gap_from_ = end_;
    gap_to_ = resume;
    end_seq_ += uint32_t(resume - end_);
    end_ = resume;
    // The hole's bytes are never written; make sure the new block's start fits.
    make_room(resume, resume, true, skipped);
    advance_over_held();
    return true;
}

StreamChunks TcpStream::chunks(bool eof) const {
    StreamChunks c;
    const uint64_t limit = eof ? end_ : std::min(acked_, end_);
    auto add = [&](uint64_t from, uint64_t to) {
        if (to > from) c.span[c.count++] = StreamSpan{data_ + (from - base_), uint32_t(to - from)};
    };
    if (gap_pending_) {
        add(inspected_, gap_at_);
        add(block_start_, limit);
        c.limit = std::max(limit, block_start_);
    } else {
        add(inspected_, limit);
        c.limit = std::max(limit, inspected_);
    }
    return c;
}

StreamSpan TcpStream::app_bytes(uint64_t from, bool eof, bool& lost) const {
    uint64_t limit = eof ? end_ : std::min(acked_, end_);
    if (from >= limit) return {};
    if (from < base_) {
        lost = true;
        return {};
    }
    if (from < gap_to_) {
        if (from >= gap_from_) {
            lost = true;
            return {};
        }
        limit = std::min(limit, gap_from_);
    }
    return StreamSpan{data_ + (from - base_), uint32_t(limit - from)};
}

void TcpStream::mark_inspected(const StreamChunks& c) {
    inspected_ = std::max(inspected_, c.limit);
    gap_pending_ = false;
}

} // namespace sg
