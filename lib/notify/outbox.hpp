#pragma once
// The outbox: every notification on disk until the relay accepted it.
//
//   STATE_DIR/outbox/pending/ID.eml   the message, exactly as sent
//   STATE_DIR/outbox/pending/ID.json  envelope, attempts, next try, last error
//   STATE_DIR/outbox/sent/ID.eml      accepted by the relay (kept as the record)
//
// Every file is written atomically (temp file, fsync, rename, fsync of the
// directory). enqueue() writes ID.json, then ID.eml: the .eml's rename is the
// enqueue. Delivery moves ID.eml from pending/ to sent/ once the relay said
// 250 to the DATA; that rename is the commit, so a restart never sends a
// message that reached sent/. A crash between the relay's 250 and the rename
// sends that one message again after the restart, with the same Message-ID
// (at-least-once to the relay; the receiver can deduplicate on Message-ID).
//
// Thread: one owner (the incident thread) calls every method; the outbox has
// no thread of its own. The owner calls deliver_due() when next_due() has
// come. Two processes must not share one state directory.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/time.hpp"
#include "notify/message.hpp"

namespace sg::notify {

struct Envelope {
    std::string from;
    std::vector<std::string> to;
};

// Hands one message to the relay. Ok means the relay accepted it.
using Sender = std::function<Result<>(const Envelope&, std::string_view bytes)>;

struct SmtpSettings {
    std::string url;                  // smtp://host:port or smtps://...; STARTTLS is used when offered
    long connect_timeout_s = 10;
    long timeout_s = 60;              // the whole transaction
};

// The libcurl SMTP sender.
Sender smtp_sender(SmtpSettings settings);

struct Backoff {
    Nanos first = 30 * kNsPerSec;     // after the first failure
    Nanos max = 3600 * kNsPerSec;     // the bound of the doubling
};
// When attempt `attempts` (1 = the first failure) is retried: now + first * 2^(attempts-1), at most max.
Nanos next_try(Nanos now, uint32_t attempts, const Backoff& backoff);

struct PendingInfo {
    std::string id;
    Envelope envelope;
    uint32_t attempts = 0;
    Nanos next_try = 0;               // 0: as soon as possible
    std::string last_error;
};

struct DeliveryResult {
    unsigned sent = 0;
    unsigned failed = 0;              // attempts that failed (the messages stay pending)
    std::vector<std::string> errors;  // "ID: what went wrong", one per failed attempt
    std::vector<std::string> sent_ids; // the messages the relay accepted, in order
};

enum class EnqueueOutcome : uint8_t { queued, already_pending, already_sent };

class Outbox {
public:
    // Creates STATE_DIR/outbox/{pending,sent} when missing, removes temp files
    // a crash left, and picks up what is pending. Errors name the path.
    static Result<Outbox> open(const std::string& state_dir, Sender sender, Backoff backoff = {});

    // Stores the message. The same id twice is not stored again (a restarted
    // incident thread may enqueue what it enqueued before it died).
    Result<EnqueueOutcome> enqueue(const Message& message);

    // Sends every pending message whose next try is due at `now` (wall time,
    // ns since the epoch), in id order. A failure is recorded (attempts, next
    // try, error) and the message stays; a failure to record it is returned.
    Result<DeliveryResult> deliver_due(Nanos now);

    // The earliest next try among pending messages; none when nothing is pending.
    std::optional<Nanos> next_due() const;
    std::vector<PendingInfo> pending() const;
    std::vector<std::string> sent() const;      // ids in sent/, sorted
    const std::string& dir() const { return dir_; }

private:
    Outbox(std::string dir, Sender sender, Backoff backoff)
        : dir_(std::move(dir)), sender_(std::move(sender)), backoff_(backoff) {}
    Result<PendingInfo> load(const std::string& id) const;
    std::vector<std::string> pending_ids() const;

    std::string dir_;                 // STATE_DIR/outbox
    Sender sender_;
    Backoff backoff_;
};

Nanos wall_now();

// Atomic file replacement in the same directory: temp file, fsync, rename,
// fsync of the directory. Also used for the evidence index and by tests.
Result<> write_file_atomic(const std::string& path, std::string_view bytes);

} // namespace sg::notify
