#pragma once
// Publisher: an appliance's side of the fleet. At each window boundary the
// reporter thread hands it the merged window summary and the attributions
// the window opened or extended; it encodes them (window_codec.hpp,
// window_message.hpp) and queues the message. Its own thread publishes the
// queue to JetStream in batches and waits for the acknowledgements.
//
// When the bus is away (no server, no JetStream quorum, a publish not
// acknowledged in time), messages go to a spool directory on disk,
// STATE_DIR/fleet/spool/SEQ.win, oldest first, bounded by fleet.backlog_mib
// (past it the oldest are dropped and counted). Once the bus is back the
// spool is published first, in order, then the queue: the aggregator sees
// every appliance's windows in order. A batch that failed is sent again
// whole; JetStream drops the copies it already stored (the message id).
// The spool survives a restart of the appliance.
//
// Thread: on_merged()/on_window() on the reporter thread; start()/stop() on
// the main thread; status() anywhere. Nothing here touches a worker.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "attrib/ownership.hpp"
#include "config/config.hpp"
#include "core/result.hpp"
#include "detect/attribution.hpp"
#include "detect/summary.hpp"
#include "fleet/bus.hpp"

namespace sg::fleet {

struct PublisherOptions {
    FleetConfig fleet;
    std::string spool_dir;       // STATE_DIR/fleet/spool
    std::string fingerprint;     // config_fingerprint()
    Nanos window = kNsPerSec;
    const Ownership* ownership = nullptr;   // for the attributions' JSON
};

class Publisher {
public:
    // Creates the spool directory and counts what an earlier run left there.
    static Result<std::unique_ptr<Publisher>> open(PublisherOptions options, std::unique_ptr<Bus> bus);
    ~Publisher();
    Publisher(const Publisher&) = delete;
    Publisher& operator=(const Publisher&) = delete;

    void start();
    // Reporter thread: the merged window (DetectionEngine::set_on_merged),
    // then its attributions (set_on_window).
    void on_merged(const WindowSummary& w);
    void on_window(uint64_t index, const std::vector<const Attribution*>& touched);
    // Queues a "bye", then publishes for at most `flush`; what is left stays
    // in the spool for the next run.
    void stop(std::chrono::milliseconds flush);

    nlohmann::json status() const;
    Bus& bus() { return *bus_; }

private:
    struct Queued {
        uint64_t seq = 0;        // spool order
        std::string id;
        std::string bytes;
        std::string file;        // the spool file holding it ("" while only in memory)
    };

    Publisher(PublisherOptions options, std::unique_ptr<Bus> bus);
    void loop();
    void enqueue(std::string kind, uint64_t index, nlohmann::json attributions, std::string_view summary);
    // Publishes the oldest messages (spool first); false when the bus failed.
    bool publish_some();
    void spool(Queued& q);                 // writes q to disk (no-op when it is there)
    void unspool(const Queued& q);         // its spool file goes (published or dropped)
    void trim_spool();                     // drops the oldest past the bound
    void load_spool();                     // the files of an earlier run, in order

    PublisherOptions options_;
    std::unique_ptr<Bus> bus_;
    std::string run_;
    uint64_t next_seq_ = 1;                // reporter thread (enqueue)
    std::string encoded_;                  // reporter thread: the merged window, encoded
    uint64_t encoded_index_ = UINT64_MAX;

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Queued> queue_;             // in order: spool files first, then new messages
    bool stopping_ = false;
    std::chrono::steady_clock::time_point flush_until_;
    std::thread thread_;

    std::atomic<uint64_t> published_{0};   // acknowledged by JetStream
    std::atomic<uint64_t> batches_{0};
    std::atomic<uint64_t> errors_{0};      // failed batch attempts
    std::atomic<uint64_t> spooled_{0};     // messages written to the spool
    std::atomic<uint64_t> dropped_{0};     // spooled messages dropped past the bound
    std::atomic<uint64_t> oversize_{0};    // messages over the server's max_payload, dropped
    std::atomic<uint64_t> spool_bytes_{0};
    std::atomic<uint64_t> spool_files_{0};
    std::atomic<uint64_t> encoded_bytes_{0}; // the latest window message's size
    std::atomic<bool> bus_ok_{false};
    std::string last_error_;               // under mutex_
    bool failing_ = false;                 // publisher thread: logged, the recovery is logged too
};

} // namespace sg::fleet
