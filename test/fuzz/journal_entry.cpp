// Fuzz entry "journal": the input is an incidents.journal file. It is
// written into a directory of its own and opened with Journal::open, whose
// callback does what IncidentManager::apply_record does with a record
// (lib/incident/manager.cpp): read its incidents and exceptions back with
// incident_from_record / exception_from_record.
//
// What must hold besides "no crash": a record that reads back also writes
// the same record again (the journal form is lossless) and its report and
// eve forms can be printed; after a damaged tail was cut, the journal opens
// again cleanly with the same records (what comes back is a prefix of what
// was appended, and the cut is durable).

#include "fuzz_entries.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <zlib.h>

#include "incident/incident_json.hpp"
#include "incident/journal.hpp"

namespace sg::fuzz {
namespace {

using nlohmann::json;

// One directory per process, on tmpfs when there is one: open() fsyncs.
const std::string& work_dir() {
    static const std::string dir = [] {
        const std::filesystem::path base =
            std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
        std::string tmpl = (base / "sg-fuzz-journal-XXXXXX").string();
        if (!mkdtemp(tmpl.data())) std::abort();
        return tmpl;
    }();
    return dir;
}

// Removes the directory at exit (it holds a copy: work_dir()'s string may be
// destroyed first).
struct Removal {
    std::string dir;
    ~Removal() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
};

template <class T>
std::string round_trip(const T& value, const char* what) {
    const json first = to_record(value);
    auto back = [&] {
        if constexpr (std::is_same_v<T, Incident>) return incident_from_record(first);
        else return exception_from_record(first);
    }();
    if (!back) return fmt::format("the record of {} {} does not read back: {}", what, value.id, back.error().message);
    if (to_record(*back) != first) return fmt::format("the record of {} {} changes when read back", what, value.id);
    return {};
}

// IncidentManager::apply_record, less the manager's tables.
Result<> apply(const json& record, std::string& problem) {
    try {
        if (record.at("v").get<int>() != 1) return make_error("unknown record version");
        const auto& next = record.at("next");
        (void)next.at("incident").get<IncidentId>();
        (void)next.at("exception").get<ExceptionId>();
        (void)next.at("event").get<uint64_t>();
        for (const auto& j : record.at("incidents")) {
            auto inc = incident_from_record(j);
            if (!inc) return inc.error();
            if (problem.empty()) problem = round_trip(*inc, "incident");
            (void)to_json(*inc).dump();
            for (const Event& e : inc->events) (void)to_eve_json(e, &*inc, nullptr).dump();
        }
        for (const auto& j : record.at("exceptions")) {
            auto ex = exception_from_record(j);
            if (!ex) return ex.error();
            if (problem.empty()) problem = round_trip(*ex, "exception");
            (void)to_json(*ex).dump();
            for (const Event& e : ex->events) (void)to_eve_json(e, nullptr, &*ex).dump();
        }
    } catch (const std::exception& e) {
        return make_error(fmt::format("not a change record: {}", e.what()));
    }
    return {};
}

// A mutated payload almost never keeps its CRC, and the reader rightly stops
// at the first bad one: the JSON behind it would stay unexplored. So when the
// header's reserved word (which the reader ignores) is odd, the harness
// writes every whole record with its correct CRC.
std::string with_crcs(const uint8_t* data, size_t size) {
    std::string file(reinterpret_cast<const char*>(data), size);
    if (size < Journal::kHeaderSize || !(data[12] & 1)) return file;
    const auto u32 = [&](size_t at) {
        return uint32_t(uint8_t(file[at])) | uint32_t(uint8_t(file[at + 1])) << 8 |
               uint32_t(uint8_t(file[at + 2])) << 16 | uint32_t(uint8_t(file[at + 3])) << 24;
    };
    for (size_t at = Journal::kHeaderSize; file.size() - at >= Journal::kRecordHeaderSize;) {
        const uint32_t len = u32(at);
        if (file.size() - at - Journal::kRecordHeaderSize < len) break;
        const uint32_t crc = uint32_t(
            crc32(0L, reinterpret_cast<const Bytef*>(file.data() + at + Journal::kRecordHeaderSize), uInt(len)));
        for (int i = 0; i < 4; ++i) file[at + 4 + size_t(i)] = char((crc >> (8 * i)) & 0xff);
        at += Journal::kRecordHeaderSize + len;
    }
    return file;
}

} // namespace

std::string journal(const uint8_t* data, size_t size) {
    const std::string& dir = work_dir();
    static const Removal removal{dir};
    const std::string path = dir + "/" + Journal::kFileName;
    {
        const std::string bytes = with_crcs(data, size);
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(bytes.data(), std::streamsize(bytes.size()));
        if (!out) return "cannot write the journal file";
    }
    std::string problem;
    const auto callback = [&](const json& r) { return apply(r, problem); };
    auto first = Journal::open(dir, callback);
    if (!first) return problem;
    const uint64_t records = (*first)->recovery().records;
    const uint64_t kept = (*first)->size();
    if ((*first)->recovery().warning.empty() ? kept != size : kept + (*first)->recovery().dropped_bytes != size)
        return fmt::format("kept {} and dropped {} bytes of a {}-byte journal", kept, (*first)->recovery().dropped_bytes, size);
    first->reset();
    std::error_code ec;
    if (std::filesystem::file_size(path, ec) != kept) return "the damaged tail was not cut off on disk";
    auto again = Journal::open(dir, callback);
    if (!again) return "a journal that opened once does not open again: " + again.error().message;
    if (!(*again)->recovery().warning.empty())
        return "a journal cut once is damaged again: " + (*again)->recovery().warning;
    if ((*again)->recovery().records != records)
        return fmt::format("{} records the first time, {} the second", records, (*again)->recovery().records);
    return problem;
}

} // namespace sg::fuzz
