#include "incident/journal.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <fmt/format.h>

#include "core/log.hpp"

namespace sg {
namespace {

constexpr char kMagic[8] = {'S', 'G', 'I', 'N', 'C', 'J', 'N', 'L'};

void put_u32(std::string& out, uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(char((v >> (8 * i)) & 0xff));
}
uint32_t get_u32(const char* p) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = v << 8 | uint8_t(p[i]);
    return v;
}
uint32_t crc_of(std::string_view s) {
    return uint32_t(crc32(0L, reinterpret_cast<const Bytef*>(s.data()), uInt(s.size())));
}

Error sys_error(const std::string& what, const std::string& path, int err = errno) {
    return make_error(fmt::format("{}: {}: {}", path, what, std::strerror(err)));
}

Result<> write_all(int fd, std::string_view data, const std::string& path) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return sys_error("cannot write", path);
        }
        data.remove_prefix(size_t(n));
    }
    return {};
}

Result<> fsync_dir(const std::string& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return sys_error("cannot open directory", dir);
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return sys_error("cannot fsync directory", dir, err);
    return {};
}

Result<std::string> read_file(int fd, const std::string& path) {
    std::string data;
    char buf[65536];
    if (::lseek(fd, 0, SEEK_SET) < 0) return sys_error("cannot seek", path);
    while (true) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return sys_error("cannot read", path);
        }
        if (n == 0) break;
        data.append(buf, size_t(n));
    }
    return data;
}

// Writes header + records to a temporary file and renames it over `path`.
Result<> replace_file(const std::string& dir, const std::string& path,
                      const std::vector<nlohmann::json>& records) {
    const std::string tmp = path + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return sys_error("cannot create", tmp);
    std::string data = journal_header();
    for (const auto& r : records) data += journal_record(r);
    auto ok = write_all(fd, data, tmp);
    if (ok && ::fsync(fd) != 0) ok = sys_error("cannot fsync", tmp);
    ::close(fd);
    if (!ok) {
        ::unlink(tmp.c_str());
        return ok;
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        return sys_error("cannot rename over", path, err);
    }
    return fsync_dir(dir);
}

} // namespace

std::string journal_header() {
    std::string h(kMagic, sizeof kMagic);
    put_u32(h, Journal::kVersion);
    put_u32(h, 0);
    return h;
}

std::string journal_record(const nlohmann::json& payload) {
    const std::string text = payload.dump();
    std::string out;
    out.reserve(Journal::kRecordHeaderSize + text.size());
    put_u32(out, uint32_t(text.size()));
    put_u32(out, crc_of(text));
    out += text;
    return out;
}

Result<std::unique_ptr<Journal>> Journal::open(
    const std::string& dir, const std::function<Result<>(const nlohmann::json&)>& apply) {
    std::error_code ec;
    if (std::filesystem::exists(dir, ec) && !std::filesystem::is_directory(dir, ec))
        return make_error(fmt::format("{}: not a directory", dir));
    std::filesystem::create_directories(dir, ec);
    if (ec) return make_error(fmt::format("{}: cannot create directory: {}", dir, ec.message()));
    const std::string path = (std::filesystem::path(dir) / kFileName).string();

    // A journal is born whole: created by rename, never half a header.
    if (::access(path.c_str(), F_OK) != 0) {
        if (errno != ENOENT) return sys_error("cannot access", path);
        if (auto ok = replace_file(dir, path, {}); !ok) return ok.error();
    }
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return sys_error("cannot open", path);
    std::unique_ptr<Journal> j(new Journal(dir, path, fd, 0));

    auto data = read_file(fd, path);
    if (!data) return data.error();
    const std::string& d = *data;
    if (d.size() < kHeaderSize || std::memcmp(d.data(), kMagic, sizeof kMagic) != 0)
        return make_error(fmt::format("{}: not a Safeguard incident journal (bad header)", path));
    if (const uint32_t v = get_u32(d.data() + 8); v != kVersion)
        return make_error(fmt::format("{}: journal version {}, this Safeguard reads version {}",
                                      path, v, kVersion));

    size_t at = kHeaderSize;
    std::string problem;
    while (at < d.size()) {
        if (d.size() - at < kRecordHeaderSize) {
            problem = "torn record header";
            break;
        }
        const uint32_t len = get_u32(d.data() + at);
        const uint32_t crc = get_u32(d.data() + at + 4);
        if (len > kMaxRecord) {
            problem = fmt::format("impossible record length {}", len);
            break;
        }
        if (d.size() - at - kRecordHeaderSize < len) {
            problem = fmt::format("torn record ({} of {} bytes)", d.size() - at - kRecordHeaderSize, len);
            break;
        }
        const std::string_view payload(d.data() + at + kRecordHeaderSize, len);
        if (crc_of(payload) != crc) {
            problem = "CRC mismatch";
            break;
        }
        nlohmann::json record = nlohmann::json::parse(payload, nullptr, false);
        if (record.is_discarded()) {
            problem = "record is not JSON";
            break;
        }
        if (auto ok = apply(record); !ok)
            return make_error(fmt::format("{}: record at byte {}: {}", path, at, ok.error().message));
        ++j->recovery_.records;
        at += kRecordHeaderSize + len;
    }
    if (at < d.size()) {
        j->recovery_.dropped_bytes = d.size() - at;
        j->recovery_.warning = fmt::format("{}: {} at byte {}: dropped the last {} bytes "
                                           "(an interrupted write or damage); {} records kept",
                                           path, problem, at, d.size() - at, j->recovery_.records);
        log::warn("{}", j->recovery_.warning);
        if (::ftruncate(fd, off_t(at)) != 0 || ::fsync(fd) != 0)
            return sys_error("cannot cut the damaged tail", path);
    }
    j->size_ = at;
    if (::lseek(fd, off_t(at), SEEK_SET) < 0) return sys_error("cannot seek", path);
    return j;
}

Journal::~Journal() {
    if (fd_ >= 0) ::close(fd_);
}

Result<> Journal::append(const nlohmann::json& record) {
    const std::string bytes = journal_record(record);
    if (bytes.size() - kRecordHeaderSize > kMaxRecord)
        return make_error(fmt::format("{}: record of {} bytes is over the limit", path_, bytes.size()));
    if (auto ok = write_all(fd_, bytes, path_); !ok) {
        // Leave no half record behind for the next append to follow.
        if (::ftruncate(fd_, off_t(size_)) == 0) ::lseek(fd_, off_t(size_), SEEK_SET);
        return ok;
    }
    if (::fdatasync(fd_) != 0) return sys_error("cannot fsync", path_);
    size_ += bytes.size();
    return {};
}

Result<> Journal::rewrite(const std::vector<nlohmann::json>& records) {
    if (auto ok = replace_file(dir_, path_, records); !ok) return ok;
    const int fd = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return sys_error("cannot reopen", path_);
    const off_t end = ::lseek(fd, 0, SEEK_END);
    if (end < 0) {
        ::close(fd);
        return sys_error("cannot seek", path_);
    }
    ::close(fd_);
    fd_ = fd;
    size_ = uint64_t(end);
    return {};
}

} // namespace sg
