#include "respond/background.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

using namespace sg;
using namespace sg::respond;

namespace {

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

} // namespace

TEST_CASE("Background: jobs run in the order they were posted, on another thread") {
    std::vector<int> ran;  // written by the background thread only, read after flush()
    std::thread::id where;
    Background bg(nullptr, 0);
    bg.start();
    for (int i = 0; i < 100; ++i)
        bg.post([&, i] {
            if (i == 1) sleep_ms(5);  // a slow job does not let later ones overtake it
            ran.push_back(i);
            where = std::this_thread::get_id();
        });
    bg.flush();
    REQUIRE(ran.size() == 100);
    for (int i = 0; i < 100; ++i) CHECK(ran[size_t(i)] == i);
    CHECK(where != std::this_thread::get_id());
    bg.stop();
}

TEST_CASE("Background: flush() returns only after every earlier post ran") {
    Background bg(nullptr, 0);
    bg.start();
    for (int round = 0; round < 20; ++round) {
        std::atomic<int> done{0};
        bg.post([&] {
            sleep_ms(round % 3 == 0 ? 20 : 0);
            ++done;
        });
        bg.post([&] { ++done; });
        bg.flush();
        CHECK(done.load() == 2);
    }
    // Nothing posted: flush() returns all the same.
    bg.flush();
    bg.stop();
}

TEST_CASE("Background: the idle task runs after each batch, and flush() waits for it") {
    std::atomic<int> jobs{0};
    std::mutex m;
    std::vector<int> jobs_seen_by_idle;
    Background bg(
        [&] {
            std::lock_guard<std::mutex> lock(m);
            jobs_seen_by_idle.push_back(jobs.load());
        },
        0);
    bg.start();
    bg.flush();
    for (int i = 1; i <= 3; ++i) {
        bg.post([&] { ++jobs; });
        bg.flush();
        std::lock_guard<std::mutex> lock(m);
        REQUIRE_FALSE(jobs_seen_by_idle.empty());
        // The latest idle pass came after the job posted before the flush.
        CHECK(jobs_seen_by_idle.back() == i);
    }
    bg.stop();
}

TEST_CASE("Background: with a period, the idle task repeats without posts") {
    std::atomic<int> idle{0};
    Background bg([&] { ++idle; }, 5 * kNsPerMs);
    bg.start();
    for (int i = 0; i < 2000 && idle.load() < 4; ++i) sleep_ms(5);  // at most 10 s on a loaded machine
    CHECK(idle.load() >= 4);
    bg.stop();
    const int after_stop = idle.load();
    sleep_ms(30);
    CHECK(idle.load() == after_stop);
}

TEST_CASE("Background: stop() runs what is queued before it returns") {
    std::atomic<int> done{0};
    Background bg(nullptr, 0);
    bg.start();
    bg.post([&] {
        sleep_ms(30);  // the rest queue up behind it
        ++done;
    });
    for (int i = 0; i < 10; ++i) bg.post([&] { ++done; });
    bg.stop();
    CHECK(done.load() == 11);
    // Stopping twice, and the destructor after stop(), are harmless.
    bg.stop();
}

TEST_CASE("Background: jobs posted before start() run once it starts; flush() before start() does not wait") {
    std::atomic<int> done{0};
    Background bg(nullptr, 0);
    bg.post([&] { ++done; });
    bg.flush();  // not running: returns at once
    CHECK(done.load() == 0);
    bg.start();
    bg.flush();
    CHECK(done.load() == 1);
}

TEST_CASE("Background: the destructor runs queued jobs and joins") {
    std::atomic<int> done{0};
    {
        Background bg(nullptr, 0);
        bg.start();
        for (int i = 0; i < 5; ++i)
            bg.post([&] {
                sleep_ms(2);
                ++done;
            });
    }
    CHECK(done.load() == 5);
}
