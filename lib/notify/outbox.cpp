#include "notify/outbox.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>

#include <curl/curl.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace sg::notify {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

std::string parent_of(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

Result<> fsync_dir(const std::string& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return make_error(fmt::format("{}: cannot open directory: {}", dir, errno_text(errno)));
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return make_error(fmt::format("{}: cannot sync directory: {}", dir, errno_text(err)));
    return {};
}

Result<> make_dir(const std::string& path) {
    if (::mkdir(path.c_str(), 0750) == 0 || errno == EEXIST) {
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
            return make_error(fmt::format("{}: expected a directory", path));
        return {};
    }
    return make_error(fmt::format("{}: cannot create directory: {}", path, errno_text(errno)));
}

Result<std::string> read_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return make_error(fmt::format("{}: cannot read: {}", path, errno_text(errno)));
    std::string out;
    char buf[65536];
    while (true) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int err = errno;
            ::close(fd);
            return make_error(fmt::format("{}: cannot read: {}", path, errno_text(err)));
        }
        if (n == 0) break;
        out.append(buf, size_t(n));
    }
    ::close(fd);
    return out;
}

bool exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

// File names in a directory with the given suffix, without it, sorted; dot files skipped.
std::vector<std::string> names_with(const std::string& dir, std::string_view suffix) {
    std::vector<std::string> out;
    DIR* d = ::opendir(dir.c_str());
    if (!d) return out;
    while (const dirent* e = ::readdir(d)) {
        const std::string_view name = e->d_name;
        if (name.empty() || name[0] == '.' || name.size() <= suffix.size() || !name.ends_with(suffix)) continue;
        out.emplace_back(name.substr(0, name.size() - suffix.size()));
    }
    ::closedir(d);
    std::sort(out.begin(), out.end());
    return out;
}

bool valid_id(std::string_view id) {
    return !id.empty() && id.size() <= 200 && id[0] != '.' &&
           std::all_of(id.begin(), id.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.';
           });
}

// The envelope of a message whose sidecar is gone: the From and To headers.
Envelope envelope_from_headers(std::string_view bytes) {
    Envelope env;
    const auto end = bytes.find("\r\n\r\n");
    const std::string_view raw = bytes.substr(0, end);
    // Unfold continuation lines.
    std::string head;
    for (size_t i = 0; i < raw.size(); ++i) {
        if (raw.substr(i, 3) == "\r\n " || raw.substr(i, 3) == "\r\n\t") {
            head += ' ';
            i += 2;
            continue;
        }
        head += raw[i];
    }
    const auto addresses = [](std::string_view value) {
        std::vector<std::string> out;
        size_t pos = 0;
        while (pos < value.size()) {
            size_t comma = value.find(',', pos);
            if (comma == std::string_view::npos) comma = value.size();
            std::string_view item = value.substr(pos, comma - pos);
            if (const auto lt = item.find('<'), gt = item.find('>'); lt != item.npos && gt != item.npos && gt > lt)
                item = item.substr(lt + 1, gt - lt - 1);
            while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
            while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
            if (is_plain_address(item)) out.emplace_back(item);
            pos = comma + 1;
        }
        return out;
    };
    size_t pos = 0;
    while (pos < head.size()) {
        size_t eol = head.find("\r\n", pos);
        if (eol == std::string::npos) eol = head.size();
        const std::string_view line = std::string_view(head).substr(pos, eol - pos);
        const auto colon = line.find(':');
        if (colon != std::string_view::npos) {
            std::string name(line.substr(0, colon));
            std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return char(std::tolower(c)); });
            const auto value = line.substr(colon + 1);
            if (name == "from" && env.from.empty()) {
                const auto a = addresses(value);
                if (!a.empty()) env.from = a[0];
            } else if (name == "to" || name == "cc") {
                for (auto& a : addresses(value)) env.to.push_back(std::move(a));
            }
        }
        pos = eol + 2;
    }
    return env;
}

std::string sidecar_text(const PendingInfo& p) {
    nlohmann::json j = {{"from", p.envelope.from},
                        {"to", p.envelope.to},
                        {"attempts", p.attempts},
                        {"next_try_ns", p.next_try},
                        {"last_error", p.last_error}};
    return j.dump() + "\n";
}

void curl_init_once() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Upload {
    std::string_view data;
    size_t pos = 0;
};

size_t read_upload(char* buffer, size_t size, size_t count, void* user) {
    auto* up = static_cast<Upload*>(user);
    const size_t n = std::min(size * count, up->data.size() - up->pos);
    std::memcpy(buffer, up->data.data() + up->pos, n);
    up->pos += n;
    return n;
}

} // namespace

Nanos wall_now() {
    return Nanos(std::chrono::duration_cast<std::chrono::nanoseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count());
}

Result<> write_file_atomic(const std::string& path, std::string_view bytes) {
    static std::atomic<uint64_t> counter{0};
    const std::string dir = parent_of(path);
    const std::string base = path.substr(path.rfind('/') + 1);
    const std::string tmp = fmt::format("{}/.tmp-{}-{}-{}", dir, base, ::getpid(), counter++);
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0) return make_error(fmt::format("{}: cannot write: {}", path, errno_text(errno)));
    const auto fail = [&](const char* what) {
        const int err = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        return make_error(fmt::format("{}: cannot {}: {}", path, what, errno_text(err)));
    };
    size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail("write");
        done += size_t(n);
    }
    if (::fsync(fd) != 0) return fail("sync");
    if (::close(fd) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        return make_error(fmt::format("{}: cannot write: {}", path, errno_text(err)));
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        return make_error(fmt::format("{}: cannot rename into place: {}", path, errno_text(err)));
    }
    return fsync_dir(dir);
}

Nanos next_try(Nanos now, uint32_t attempts, const Backoff& b) {
    Nanos delay = b.first;
    for (uint32_t i = 1; i < attempts && delay < b.max; ++i) delay *= 2;
    return now + std::min(delay, b.max);
}

Sender smtp_sender(SmtpSettings settings) {
    curl_init_once();
    return [settings](const Envelope& env, std::string_view bytes) -> Result<> {
        CURL* curl = curl_easy_init();
        if (!curl) return make_error("smtp: cannot create a libcurl handle");
        curl_slist* rcpt = nullptr;
        for (const auto& to : env.to) rcpt = curl_slist_append(rcpt, ("<" + to + ">").c_str());
        Upload up{bytes, 0};
        char error[CURL_ERROR_SIZE] = {};
        const std::string mail_from = "<" + env.from + ">";
        curl_easy_setopt(curl, CURLOPT_URL, settings.url.c_str());
        curl_easy_setopt(curl, CURLOPT_MAIL_FROM, mail_from.c_str());
        curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
        curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_upload);
        curl_easy_setopt(curl, CURLOPT_READDATA, &up);
        curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, curl_off_t(bytes.size()));
        curl_easy_setopt(curl, CURLOPT_USE_SSL, long(CURLUSESSL_TRY));
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, settings.connect_timeout_s);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT, settings.timeout_s);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
        const CURLcode rc = curl_easy_perform(curl);
        long code = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
        curl_slist_free_all(rcpt);
        curl_easy_cleanup(curl);
        if (rc == CURLE_OK) return {};
        return make_error(fmt::format("smtp {}: {}{}", settings.url, error[0] ? error : curl_easy_strerror(rc),
                                      code ? fmt::format(" (last reply {})", code) : ""));
    };
}

Result<Outbox> Outbox::open(const std::string& state_dir, Sender sender, Backoff backoff) {
    if (state_dir.empty()) return make_error("state_dir: expected a directory, got nothing");
    const std::string dir = state_dir + "/outbox";
    for (const auto& d : {state_dir, dir, dir + "/pending", dir + "/sent"})
        if (auto ok = make_dir(d); !ok) return ok.error();
    // Writability now, not at the first incident.
    if (::access((dir + "/pending").c_str(), W_OK) != 0 || ::access((dir + "/sent").c_str(), W_OK) != 0)
        return make_error(fmt::format("{}: cannot write: {}", dir, errno_text(errno)));
    // A crash may leave temp files (never renamed: nothing was committed) and
    // sidecars of messages already sent (the move is the commit).
    for (const auto& sub : {"/pending", "/sent"}) {
        const std::string d = dir + sub;
        if (DIR* dp = ::opendir(d.c_str())) {
            std::vector<std::string> stale;
            while (const dirent* e = ::readdir(dp))
                if (std::string_view(e->d_name).starts_with(".tmp-")) stale.emplace_back(e->d_name);
            ::closedir(dp);
            for (const auto& s : stale) ::unlink((d + "/" + s).c_str());
        }
    }
    for (const auto& id : names_with(dir + "/pending", ".json"))
        if (!exists(dir + "/pending/" + id + ".eml")) ::unlink((dir + "/pending/" + id + ".json").c_str());
    return Outbox(dir, std::move(sender), backoff);
}

std::vector<std::string> Outbox::pending_ids() const { return names_with(dir_ + "/pending", ".eml"); }

std::vector<std::string> Outbox::sent() const { return names_with(dir_ + "/sent", ".eml"); }

Result<PendingInfo> Outbox::load(const std::string& id) const {
    PendingInfo p;
    p.id = id;
    const std::string side = dir_ + "/pending/" + id + ".json";
    if (exists(side)) {
        auto text = read_file(side);
        if (!text) return text.error();
        try {
            const auto j = nlohmann::json::parse(*text);
            p.envelope.from = j.at("from").get<std::string>();
            p.envelope.to = j.at("to").get<std::vector<std::string>>();
            p.attempts = j.value("attempts", 0u);
            p.next_try = j.value("next_try_ns", Nanos(0));
            p.last_error = j.value("last_error", std::string());
            return p;
        } catch (const nlohmann::json::exception& e) {
            // A damaged sidecar loses the retry count, not the message.
            p.last_error = fmt::format("{}: unreadable ({}); envelope taken from the headers", side, e.what());
        }
    }
    auto bytes = read_file(dir_ + "/pending/" + id + ".eml");
    if (!bytes) return bytes.error();
    p.envelope = envelope_from_headers(*bytes);
    if (p.envelope.from.empty() || p.envelope.to.empty())
        return make_error(fmt::format("{}/pending/{}.eml: no sender or recipient in its headers", dir_, id));
    return p;
}

Result<EnqueueOutcome> Outbox::enqueue(const Message& m) {
    if (!valid_id(m.id))
        return make_error(fmt::format("outbox: expected a message id of letters, digits, '-', '_', '.', got '{}'", m.id));
    if (!is_plain_address(m.from) || m.to.empty() ||
        !std::all_of(m.to.begin(), m.to.end(), [](const std::string& a) { return is_plain_address(a); }))
        return make_error(fmt::format("outbox: message {}: expected a sender and recipients that are e-mail addresses", m.id));
    if (exists(dir_ + "/sent/" + m.id + ".eml")) return EnqueueOutcome::already_sent;
    const std::string eml = dir_ + "/pending/" + m.id + ".eml";
    if (exists(eml)) return EnqueueOutcome::already_pending;
    PendingInfo p;
    p.id = m.id;
    p.envelope = {m.from, m.to};
    if (auto ok = write_file_atomic(dir_ + "/pending/" + m.id + ".json", sidecar_text(p)); !ok)
        return ok.error();
    if (auto ok = write_file_atomic(eml, m.bytes); !ok) {
        ::unlink((dir_ + "/pending/" + m.id + ".json").c_str());
        return ok.error();
    }
    return EnqueueOutcome::queued;
}

Result<DeliveryResult> Outbox::deliver_due(Nanos now) {
    DeliveryResult r;
    for (const auto& id : pending_ids()) {
        auto info = load(id);
        if (!info) {
            r.failed++;
            r.errors.push_back(fmt::format("{}: {}", id, info.error().message));
            continue;
        }
        if (info->next_try > now) continue;
        const std::string eml = dir_ + "/pending/" + id + ".eml";
        auto bytes = read_file(eml);
        if (!bytes) return bytes.error();
        if (auto ok = sender_(info->envelope, *bytes); !ok) {
            info->attempts++;
            info->next_try = next_try(now, info->attempts, backoff_);
            info->last_error = ok.error().message;
            r.failed++;
            r.errors.push_back(fmt::format("{}: {}", id, ok.error().message));
            if (auto w = write_file_atomic(dir_ + "/pending/" + id + ".json", sidecar_text(*info)); !w)
                return make_error(fmt::format("outbox: cannot record the failed attempt of {}: {}", id,
                                              w.error().message));
            continue;
        }
        // The commit: once in sent/, a restart never sends it again.
        const std::string done = dir_ + "/sent/" + id + ".eml";
        if (::rename(eml.c_str(), done.c_str()) != 0)
            return make_error(fmt::format("outbox: {} was accepted by the relay but cannot be moved to {}: {} "
                                          "(it will be sent again)", id, done, errno_text(errno)));
        if (auto ok = fsync_dir(dir_ + "/sent"); !ok) return ok.error();
        if (auto ok = fsync_dir(dir_ + "/pending"); !ok) return ok.error();
        ::unlink((dir_ + "/pending/" + id + ".json").c_str());
        r.sent++;
        r.sent_ids.push_back(id);
    }
    return r;
}

std::optional<Nanos> Outbox::next_due() const {
    std::optional<Nanos> best;
    for (const auto& id : pending_ids()) {
        const auto info = load(id);
        const Nanos t = info ? info->next_try : 0;  // an unreadable one is "due": delivery reports it
        if (!best || t < *best) best = t;
    }
    return best;
}

std::vector<PendingInfo> Outbox::pending() const {
    std::vector<PendingInfo> out;
    for (const auto& id : pending_ids()) {
        auto info = load(id);
        if (info) out.push_back(std::move(*info));
        else out.push_back({id, {}, 0, 0, info.error().message});
    }
    return out;
}

} // namespace sg::notify
