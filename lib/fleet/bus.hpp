#pragma once
// The fleet's bus: NATS JetStream through the NATS C client (libnats), kept
// behind a small C++ surface so that nothing else includes nats.h.
//
//   Bus          one connection and its JetStream context; reconnects by
//                itself to any server of the cluster (the list in the config
//                and the ones the cluster announces)
//   Kv           a JetStream key-value bucket (get, put, compare-and-set,
//                delete, keys, watch)
//   PullConsumer a durable pull consumer on a stream, fetched in batches
//
// The names of everything on the bus derive from the site (Names below);
// docs/fleet.md lists them with the message formats.
//
// Thread: a Bus may be shared (libnats is thread-safe); each Kv watcher,
// PullConsumer and publish batch belongs to one thread at a time.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "core/result.hpp"

// libnats' types, opaque here.
struct __natsConnection;
struct __natsMsg;
struct __jsCtx;
struct __kvStore;
struct __kvWatcher;
struct __natsSubscription;

namespace sg::fleet {

struct Names {
    std::string windows_stream;      // SAFEGUARD_<site>_WINDOWS
    std::string windows_subjects;    // safeguard.<site>.*.window
    std::string state_bucket;        // safeguard-<site>-state: lease, cursor, incidents
    std::string decisions_bucket;    // safeguard-<site>-decisions: deactivated deployments
    std::string consumer;            // the aggregators' durable consumer
    std::string window_subject(std::string_view appliance) const;
};
Names names_for(std::string_view site);

class Bus;

// One message fetched from a pull consumer. Ack() tells JetStream it is done.
class Fetched {
public:
    Fetched(__natsMsg* m, uint64_t stream_seq);
    ~Fetched();
    Fetched(Fetched&& o) noexcept;
    Fetched& operator=(Fetched&& o) noexcept;
    Fetched(const Fetched&) = delete;
    Fetched& operator=(const Fetched&) = delete;

    std::string_view subject() const;
    std::string_view data() const;
    uint64_t stream_seq() const { return seq_; }
    void ack();

private:
    __natsMsg* msg_ = nullptr;
    uint64_t seq_ = 0;
};

class PullConsumer {
public:
    ~PullConsumer();
    // Up to `batch` messages, waiting at most `wait` for the first; none on
    // a timeout. An error when the bus is away.
    Result<std::vector<Fetched>> fetch(int batch, std::chrono::milliseconds wait);

private:
    friend class Bus;
    explicit PullConsumer(__natsSubscription* sub) : sub_(sub) {}
    __natsSubscription* sub_;
};

struct KvEntry {
    std::string key;
    std::string value;
    uint64_t revision = 0;
    bool deleted = false;   // a delete or purge marker (watch only)
};

class KvWatcher {
public:
    ~KvWatcher();
    // The next change; std::nullopt on a timeout. The first calls return
    // the current values, then one entry with an empty key marks that the
    // current values are all in (libnats' "initial values done").
    Result<std::optional<KvEntry>> next(std::chrono::milliseconds wait);

private:
    friend class Kv;
    explicit KvWatcher(__kvWatcher* w) : w_(w) {}
    __kvWatcher* w_;
};

class Kv {
public:
    ~Kv();
    const std::string& bucket() const { return bucket_; }
    // nullopt: no such key (or deleted).
    Result<std::optional<KvEntry>> get(const std::string& key);
    Result<uint64_t> put(const std::string& key, std::string_view value);
    // Only when the key does not exist: an error saying so otherwise.
    Result<uint64_t> create(const std::string& key, std::string_view value);
    // Only when the key's revision is still `last` (compare and set).
    Result<uint64_t> update(const std::string& key, std::string_view value, uint64_t last);
    Result<> erase(const std::string& key);
    Result<std::vector<std::string>> keys();
    Result<std::unique_ptr<KvWatcher>> watch_all();

private:
    friend class Bus;
    Kv(__kvStore* kv, std::string bucket) : kv_(kv), bucket_(std::move(bucket)) {}
    __kvStore* kv_;
    std::string bucket_;
};

// What publish_batch() sends: the subject, the de-duplication id
// (Nats-Msg-Id: JetStream drops a second message with the same id within
// the stream's duplicate window) and the payload.
struct Outgoing {
    std::string subject;
    std::string msg_id;
    std::string_view payload;
};

class Bus {
public:
    // Connects to the servers; with `retry_connect` the call returns at once
    // even when no server answers yet, and the client keeps trying (an
    // appliance must start and work without its bus).
    static Result<std::unique_ptr<Bus>> connect(const FleetConfig& cfg, std::string_view client_name,
                                                bool retry_connect);
    ~Bus();
    Bus(const Bus&) = delete;
    Bus& operator=(const Bus&) = delete;

    bool connected() const;
    // The largest message the server takes (its max_payload; 0 while not connected).
    int64_t max_payload() const;
    const Names& names() const { return names_; }
    const FleetConfig& config() const { return cfg_; }

    // Creates the windows stream, or brings its settings up to date.
    Result<> ensure_windows_stream();
    // Opens a key-value bucket, creating it when absent.
    Result<std::unique_ptr<Kv>> bucket(const std::string& name, uint8_t history);

    // Publishes the batch and waits for JetStream's acknowledgement of every
    // message (at most `wait` in all). Ok only when all were stored (or were
    // duplicates of stored ones): on an error, publish the batch again.
    // While disconnected, an error at once (nothing is buffered for later).
    Result<> publish_batch(std::span<const Outgoing> batch, std::chrono::milliseconds wait);

    // (Re)creates the durable pull consumer on the windows stream so that it
    // delivers from stream sequence `start` (1: from the beginning), and binds
    // to it. Explicit acks.
    Result<std::unique_ptr<PullConsumer>> windows_consumer(uint64_t start);
    // Messages of the windows stream the consumer has not delivered yet.
    Result<uint64_t> windows_pending();

private:
    explicit Bus(FleetConfig cfg) : cfg_(std::move(cfg)), names_(names_for(cfg_.site)) {}
    friend struct BusCallbacks;

    FleetConfig cfg_;
    Names names_;
    __natsConnection* nc_ = nullptr;
    __jsCtx* js_ = nullptr;
    // Set by libnats' thread when an asynchronous publish failed.
    std::mutex async_mutex_;
    std::string async_error_;
};

} // namespace sg::fleet
