#pragma once
// Journal: the incident state on disk. One append-only file,
// STATE_DIR/incidents.journal:
//
//   header   8 bytes "SGINCJNL", u32 version (1), u32 reserved (0)
//   record   u32 payload length, u32 CRC-32 (zlib) of the payload, payload
//            (compact JSON: one committed change), all integers little-endian
//
// append() writes one record and fsyncs before returning: a record that was
// appended survives kill -9 and power loss. open() replays the records in
// order; the first record that is torn (shorter than its length) or corrupt
// (CRC or JSON wrong) ends the replay, and the file is cut there, with a
// warning: what comes back is always a prefix of what was appended.
// rewrite() replaces the file by a snapshot atomically (write a temporary
// file, fsync it, rename it over the journal, fsync the directory).
//
// Thread: whoever owns the IncidentManager; not thread-safe.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.hpp"

namespace sg {

class Journal {
public:
    static constexpr uint32_t kVersion = 1;
    static constexpr size_t kHeaderSize = 16;
    static constexpr size_t kRecordHeaderSize = 8;
    static constexpr uint32_t kMaxRecord = 64u << 20;  // larger lengths are corruption
    static constexpr const char* kFileName = "incidents.journal";

    struct Recovery {
        uint64_t records = 0;        // replayed
        uint64_t dropped_bytes = 0;  // cut off the tail
        std::string warning;         // why, when something was cut
    };

    // Opens (or creates) DIR/incidents.journal, creating DIR when absent, and
    // hands each good record to `apply` in order. An error from `apply` stops
    // the open (a record this version cannot use is not corruption to cut).
    static Result<std::unique_ptr<Journal>> open(
        const std::string& dir, const std::function<Result<>(const nlohmann::json&)>& apply);
    ~Journal();
    Journal(const Journal&) = delete;
    Journal& operator=(const Journal&) = delete;

    Result<> append(const nlohmann::json& record);
    Result<> rewrite(const std::vector<nlohmann::json>& records);

    uint64_t size() const { return size_; }
    const Recovery& recovery() const { return recovery_; }
    const std::string& path() const { return path_; }

private:
    Journal(std::string dir, std::string path, int fd, uint64_t size)
        : dir_(std::move(dir)), path_(std::move(path)), fd_(fd), size_(size) {}

    std::string dir_;
    std::string path_;
    int fd_ = -1;
    uint64_t size_ = 0;
    Recovery recovery_;
};

// The framing, for tests and tools: header bytes, one encoded record.
std::string journal_header();
std::string journal_record(const nlohmann::json& payload);

} // namespace sg
