#include "fleet/publisher.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>

#include <fmt/format.h>

#include "core/log.hpp"
#include "fleet/window_codec.hpp"
#include "fleet/window_message.hpp"
#include "notify/outbox.hpp"

namespace sg::fleet {

namespace fs = std::filesystem;

namespace {

constexpr size_t kBatch = 64;                                   // messages per publish batch
constexpr auto kAckWait = std::chrono::milliseconds(5000);      // for a batch's acknowledgements
constexpr auto kRetryFirst = std::chrono::milliseconds(250);
constexpr auto kRetryMax = std::chrono::milliseconds(5000);

Nanos wall_now() {
    return Nanos(std::chrono::duration_cast<std::chrono::nanoseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count());
}

std::string spool_name(uint64_t seq) { return fmt::format("{:020}.win", seq); }

} // namespace

Publisher::Publisher(PublisherOptions options, std::unique_ptr<Bus> bus)
    : options_(std::move(options)), bus_(std::move(bus)), run_(fmt::format("{}", wall_now())) {}

Result<std::unique_ptr<Publisher>> Publisher::open(PublisherOptions options, std::unique_ptr<Bus> bus) {
    std::error_code ec;
    fs::create_directories(options.spool_dir, ec);
    if (ec) return make_error(fmt::format("{}: cannot create the fleet spool: {}", options.spool_dir, ec.message()));
    std::unique_ptr<Publisher> p(new Publisher(std::move(options), std::move(bus)));
    p->load_spool();
    return p;
}

Publisher::~Publisher() {
    if (thread_.joinable()) stop(std::chrono::milliseconds(0));
}

void Publisher::load_spool() {
    std::vector<std::pair<uint64_t, fs::path>> files;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(options_.spool_dir, ec)) {
        const std::string name = e.path().filename().string();
        if (name.starts_with(".tmp-")) {
            fs::remove(e.path(), ec);  // a write a crash cut short: never renamed, never counted
            continue;
        }
        if (!name.ends_with(".win")) continue;
        uint64_t seq = 0;
        if (std::sscanf(name.c_str(), "%20lu", &seq) != 1) continue;
        files.emplace_back(seq, e.path());
    }
    std::sort(files.begin(), files.end());
    uint64_t bytes = 0;
    for (const auto& [seq, path] : files) {
        std::ifstream in(path, std::ios::binary);
        std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        auto m = decode_message(data);
        if (!m) {
            log::warn("fleet spool: {}: {} (removed)", path.string(), m.error().message);
            fs::remove(path, ec);
            continue;
        }
        bytes += data.size();
        queue_.push_back(Queued{seq, m->id, std::move(data), path.string()});
        next_seq_ = seq + 1;
    }
    spool_files_ = queue_.size();
    spool_bytes_ = bytes;
    if (!queue_.empty())
        log::info("fleet: {} window message(s) ({} bytes) left in {} by an earlier run are published first",
                  queue_.size(), bytes, options_.spool_dir);
}

void Publisher::start() { thread_ = std::thread([this] { loop(); }); }

void Publisher::on_merged(const WindowSummary& w) {
    encoded_.clear();
    encode_window(w, encoded_);
    encoded_index_ = w.index;
}

void Publisher::on_window(uint64_t index, const std::vector<const Attribution*>& touched) {
    nlohmann::json attributions = nlohmann::json::array();
    if (options_.ownership)
        for (const Attribution* a : touched) attributions.push_back(to_json(*a, *options_.ownership));
    // An analysed window always went through on_merged first.
    const std::string_view summary = encoded_index_ == index ? std::string_view(encoded_) : std::string_view();
    enqueue("window", index, std::move(attributions), summary);
}

void Publisher::enqueue(std::string kind, uint64_t index, nlohmann::json attributions, std::string_view summary) {
    WindowMessage m;
    m.appliance = options_.fleet.name;
    m.run = run_;
    m.kind = std::move(kind);
    m.config = options_.fingerprint;
    m.window = options_.window;
    m.index = index;
    m.attributions = std::move(attributions);
    std::lock_guard<std::mutex> lock(mutex_);
    m.seq = next_seq_++;
    m.id = fmt::format("{}-{}-{}", m.appliance, m.run, m.seq);
    std::string bytes = encode_message(m, summary);
    encoded_bytes_ = bytes.size();
    queue_.push_back(Queued{m.seq, m.id, std::move(bytes), {}});
    wake_.notify_one();
}

void Publisher::stop(std::chrono::milliseconds flush) {
    if (!thread_.joinable()) return;
    enqueue("bye", 0, nlohmann::json::array(), {});
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
        flush_until_ = std::chrono::steady_clock::now() + flush;
        wake_.notify_one();
    }
    thread_.join();
    // What could not be published in time waits in the spool for the next run.
    std::lock_guard<std::mutex> lock(mutex_);
    size_t left = 0;
    for (Queued& q : queue_) {
        spool(q);
        ++left;
    }
    if (left) log::warn("fleet: {} window message(s) not published at the stop are kept in {}", left, options_.spool_dir);
}

void Publisher::spool(Queued& q) {
    if (!q.file.empty()) return;
    const std::string path = options_.spool_dir + "/" + spool_name(q.seq);
    if (auto ok = notify::write_file_atomic(path, q.bytes); !ok) {
        // A full disk: the message stays in memory, which is bounded by the same trim.
        if (!failing_) log::error("fleet spool: {}", ok.error().message);
        return;
    }
    q.file = path;
    ++spooled_;
    ++spool_files_;
    spool_bytes_ += q.bytes.size();
}

void Publisher::unspool(const Queued& q) {
    if (q.file.empty()) return;
    std::error_code ec;
    fs::remove(q.file, ec);
    --spool_files_;
    spool_bytes_ -= q.bytes.size();
}

void Publisher::trim_spool() {
    const uint64_t bound = uint64_t(options_.fleet.backlog_mib) << 20;
    uint64_t total = 0;
    for (const Queued& q : queue_) total += q.bytes.size();
    uint64_t dropped = 0;
    while (total > bound && queue_.size() > 1) {
        Queued& q = queue_.front();
        total -= q.bytes.size();
        unspool(q);
        queue_.pop_front();
        ++dropped;
    }
    if (dropped) {
        if (dropped_ == 0)
            log::error("fleet: the backlog is over fleet.backlog_mib ({} MiB): the oldest windows are dropped "
                       "(counted in fleet.dropped)", options_.fleet.backlog_mib);
        dropped_ += dropped;
    }
}

bool Publisher::publish_some() {
    std::vector<Outgoing> batch;
    std::vector<uint64_t> seqs;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        // A message the server can never take (over its max_payload) must not
        // hold the others back: dropped, counted, logged.
        const int64_t max = bus_->max_payload();
        while (max > 0 && !queue_.empty() && int64_t(queue_.front().bytes.size()) > max) {
            Queued& q = queue_.front();
            log::error("fleet: window message {} is {} bytes, over the server's max_payload ({}): dropped; raise "
                       "max_payload on the NATS servers (docs/fleet.md, sizing)", q.id, q.bytes.size(), max);
            unspool(q);
            queue_.pop_front();
            ++oversize_;
        }
        for (const Queued& q : queue_) {
            if (max > 0 && int64_t(q.bytes.size()) > max) break;  // dropped at the next pass, in order
            if (batch.size() == kBatch) break;
            batch.push_back(Outgoing{bus_->names().window_subject(options_.fleet.name), q.id, q.bytes});
            seqs.push_back(q.seq);
        }
    }
    if (batch.empty()) return true;
    // The payloads stay valid: only this thread removes from the queue, and
    // a deque keeps its elements in place when others push at the back.
    auto ok = bus_->publish_batch(batch, kAckWait);
    if (!ok) {
        ++errors_;
        bus_ok_ = false;
        std::lock_guard<std::mutex> lock(mutex_);
        last_error_ = ok.error().message;
        return false;
    }
    ++batches_;
    bus_ok_ = true;
    published_ += batch.size();
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t i = 0; i < seqs.size(); ++i) {
        Queued& q = queue_.front();
        unspool(q);
        queue_.pop_front();
    }
    return true;
}

void Publisher::loop() {
    using Clock = std::chrono::steady_clock;
    auto retry = kRetryFirst;
    auto next_try = Clock::now();
    for (;;) {
        {
            std::unique_lock<std::mutex> lock(mutex_);
            const auto ready = [&] { return !queue_.empty() && Clock::now() >= next_try; };
            if (!stopping_) {
                const auto until = std::max(next_try, Clock::now() + std::chrono::milliseconds(250));
                wake_.wait_until(lock, until, [&] { return stopping_ || ready(); });
            }
            if (stopping_ && (queue_.empty() || Clock::now() >= flush_until_)) return;
            if (!ready()) {
                // Stopping with a backlog: the next try comes before the flush ends.
                if (stopping_) wake_.wait_until(lock, std::min(next_try, flush_until_));
                continue;
            }
        }
        if (publish_some()) {
            if (failing_) {
                log::warn("fleet: publishing again; the backlog is being sent");
                failing_ = false;
            }
            retry = kRetryFirst;
            continue;
        }
        // The bus is away: what waits goes to disk, bounded, and the next try backs off.
        std::lock_guard<std::mutex> lock(mutex_);
        if (!failing_)
            log::warn("fleet: cannot publish ({}); windows are kept in {} (at most {} MiB) until the bus is back",
                      last_error_, options_.spool_dir, options_.fleet.backlog_mib);
        failing_ = true;
        for (Queued& q : queue_) spool(q);
        trim_spool();
        next_try = Clock::now() + retry;
        retry = std::min(retry * 2, kRetryMax);
    }
}

nlohmann::json Publisher::status() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return {{"appliance", options_.fleet.name},
            {"site", options_.fleet.site},
            {"connected", bus_->connected()},
            {"publishing", bus_ok_.load()},
            {"published", published_.load()},
            {"batches", batches_.load()},
            {"errors", errors_.load()},
            {"queued", queue_.size()},
            {"spooled", spooled_.load()},
            {"spool_files", spool_files_.load()},
            {"spool_bytes", spool_bytes_.load()},
            {"dropped", dropped_.load()},
            {"oversize", oversize_.load()},
            {"last_message_bytes", encoded_bytes_.load()},
            {"last_error", last_error_.empty() ? nlohmann::json(nullptr) : nlohmann::json(last_error_)}};
}

} // namespace sg::fleet
