#include "respond/background.hpp"

#include <chrono>

namespace sg::respond {

void Background::start() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (running_) return;
    running_ = true;
    stopping_ = false;
    thread_ = std::thread([this] { loop(); });
}

void Background::post(std::function<void()> job) {
    std::lock_guard<std::mutex> lock(mutex_);
    jobs_.push_back(std::move(job));
    ++requested_;
    wake_.notify_one();
}

void Background::flush() {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!running_) return;
    const uint64_t ticket = ++requested_;
    wake_.notify_one();
    done_.wait(lock, [&] { return completed_ >= ticket || !running_; });
}

void Background::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!running_) return;
        stopping_ = true;
        wake_.notify_one();
    }
    thread_.join();
    std::lock_guard<std::mutex> lock(mutex_);
    running_ = false;
    done_.notify_all();
}

void Background::loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
        const uint64_t serving = requested_;
        std::deque<std::function<void()>> batch;
        batch.swap(jobs_);
        lock.unlock();
        for (auto& job : batch) job();
        if (idle_) idle_();
        lock.lock();
        completed_ = serving;
        done_.notify_all();
        if (stopping_ && jobs_.empty()) return;
        if (requested_ != completed_ || !jobs_.empty()) continue;
        if (period_)
            wake_.wait_for(lock, std::chrono::nanoseconds(period_),
                           [&] { return stopping_ || requested_ != completed_; });
        else
            wake_.wait(lock, [&] { return stopping_ || requested_ != completed_; });
    }
}

} // namespace sg::respond
