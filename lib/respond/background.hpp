#pragma once
// Background: one thread that runs jobs in the order they were posted, and
// an idle task every `period` (retries). The incident desk keeps slow,
// external work off the reporter thread with it: SMTP delivery, the
// enforcement hook.
//
// Thread: post()/flush()/stop() from the owner's thread; jobs and the idle
// task run on the background thread.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "core/time.hpp"

namespace sg::respond {

class Background {
public:
    // `idle` (may be empty) runs after each batch of jobs and every `period`.
    Background(std::function<void()> idle, Nanos period) : idle_(std::move(idle)), period_(period) {}
    ~Background() { stop(); }
    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;

    void start();
    void post(std::function<void()> job);
    // Returns once every job posted before the call has run, and the idle
    // task after them (replay: results are in before the next window).
    void flush();
    // Runs what is queued, then joins the thread.
    void stop();

private:
    void loop();

    std::function<void()> idle_;
    Nanos period_;
    std::thread thread_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable done_;
    std::deque<std::function<void()>> jobs_;
    uint64_t requested_ = 0;   // flush requests (and posts) so far
    uint64_t completed_ = 0;   // the last request fully served
    bool stopping_ = false;
    bool running_ = false;
};

} // namespace sg::respond
