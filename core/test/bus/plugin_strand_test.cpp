// SPDX-License-Identifier: Apache-2.0
// PluginStrand: serialization, bounded try_post, exception containment, timers, close().
#include "bus/plugin_strand.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "runtime/metrics_registry.hpp"
#include "test_support.hpp"

namespace stox::core::test {
namespace {

class PluginStrandTest : public ::testing::Test {
protected:
    std::shared_ptr<PluginStrand> make(std::string owner, std::size_t max_pending = 100) {
        return std::make_shared<PluginStrand>(io_, std::move(owner), max_pending, metrics_, log_);
    }

    // Declared first: handlers still queued in io_ when it is destroyed may refer to them.
    MetricsRegistry metrics_;
    RecordingLogger log_;
    boost::asio::io_context io_;
};

// House style §4.5: callbacks of one plugin never run concurrently. The counters below are
// plain ints: under TSan any concurrent access is a report, and the totals check lost updates.
TEST_F(PluginStrandTest, CallbacksOfOneStrandAreSerializedAcrossThreads) {
    constexpr int kStrands = 4;
    constexpr int kPosters = 4;
    constexpr int kPerPoster = 2000;
    std::vector<std::shared_ptr<PluginStrand>> strands;
    std::vector<int> counters(kStrands, 0);
    std::vector<int> inside(kStrands, 0);
    std::atomic<int> overlaps{0};
    std::atomic<int> done{0};
    for (int i = 0; i < kStrands; ++i) strands.push_back(make("p" + std::to_string(i), 1u << 20));

    IoThreads threads(io_, 4);
    std::vector<std::thread> posters;
    for (int p = 0; p < kPosters; ++p)
        posters.emplace_back([&] {
            for (int n = 0; n < kPerPoster; ++n)
                for (int s = 0; s < kStrands; ++s)
                    strands[s]->post([&, s] {
                        if (inside[s]++ != 0) overlaps.fetch_add(1);
                        ++counters[s];
                        --inside[s];
                        done.fetch_add(1);
                    });
        });
    for (auto& t : posters) t.join();
    ASSERT_TRUE(wait_until([&] { return done.load() == kStrands * kPosters * kPerPoster; }));
    threads.stop();
    EXPECT_EQ(overlaps.load(), 0);
    for (int s = 0; s < kStrands; ++s) EXPECT_EQ(counters[s], kPosters * kPerPoster);
}

TEST_F(PluginStrandTest, CallbacksRunOnTheStrandInPostingOrder) {
    auto strand = make("org.test");
    std::vector<int> order;
    bool on_strand = true;
    for (int i = 0; i < 5; ++i)
        strand->post([&, i] {
            on_strand = on_strand && strand->strand().running_in_this_thread();
            order.push_back(i);
        });
    ASSERT_TRUE(run_until(io_, [&] { return order.size() == 5; }));
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
    EXPECT_TRUE(on_strand);
}

TEST_F(PluginStrandTest, TryPostRefusesBeyondTheBound) {
    auto strand = make("org.test", 3);
    int ran = 0;
    EXPECT_TRUE(strand->try_post([&] { ++ran; }));
    EXPECT_TRUE(strand->try_post([&] { ++ran; }));
    EXPECT_TRUE(strand->try_post([&] { ++ran; }));
    EXPECT_FALSE(strand->try_post([&] { ran += 100; })); // nothing queued
    EXPECT_EQ(strand->pending(), 3u);
    drain(io_);
    EXPECT_EQ(ran, 3);
    EXPECT_EQ(strand->pending(), 0u);
    EXPECT_TRUE(strand->try_post([&] { ++ran; })); // room again once the queue drained
    drain(io_);
    EXPECT_EQ(ran, 4);
}

TEST_F(PluginStrandTest, PostIsNeverRefusedButCountsAgainstTheBound) {
    auto strand = make("org.test", 2);
    int ran = 0;
    for (int i = 0; i < 5; ++i) strand->post([&] { ++ran; });
    EXPECT_EQ(strand->pending(), 5u);
    EXPECT_FALSE(strand->try_post([&] { ++ran; })); // the plugin's own backlog sheds ingress
    drain(io_);
    EXPECT_EQ(ran, 5);
}

TEST_F(PluginStrandTest, PendingIsDecrementedWhenTheCallbackStarts) {
    auto strand = make("org.test", 1);
    std::size_t seen = 99;
    bool reposted = false;
    int second = 0;
    ASSERT_TRUE(strand->try_post([&] {
        seen = strand->pending();
        reposted = strand->try_post([&] { ++second; }); // re-arming itself fits in the bound
    }));
    drain(io_);
    EXPECT_EQ(seen, 0u);
    EXPECT_TRUE(reposted);
    EXPECT_EQ(second, 1);
}

TEST_F(PluginStrandTest, EmptyCallbacksAreRefusedAndLogged) {
    auto strand = make("org.test");
    EXPECT_FALSE(strand->try_post({}));
    strand->post({});
    EXPECT_FALSE(strand->after(1ms, {}).armed());
    EXPECT_EQ(strand->pending(), 0u);
    EXPECT_EQ(log_.count(sdk::LogLevel::Error, "org.test"), 3u);
}

// House style §4.6: an exception escaping plugin code is logged, counted and swallowed.
TEST_F(PluginStrandTest, ExceptionsAreCountedLoggedAndDoNotPropagate) {
    auto strand = make("org.thrower");
    int after_throw = 0;
    strand->post([] { throw std::runtime_error("boom"); });
    strand->post([] { throw 42; });
    strand->post([&] { ++after_throw; });
    EXPECT_NO_THROW(drain(io_));
    EXPECT_EQ(after_throw, 1);
    EXPECT_EQ(metrics_.value("plugin.exceptions"), 2u);
    EXPECT_EQ(metrics_.value("plugin.exceptions.org.thrower"), 2u);
    EXPECT_EQ(log_.count(sdk::LogLevel::Error, "org.thrower"), 2u);
    EXPECT_TRUE(log_.contains("boom"));
}

TEST_F(PluginStrandTest, ExceptionsAreCountedPerOwner) {
    auto a = make("org.a");
    auto b = make("org.b");
    a->post([] { throw std::logic_error("a"); });
    b->post([] { throw std::logic_error("b"); });
    b->post([] { throw std::logic_error("b"); });
    drain(io_);
    EXPECT_EQ(metrics_.value("plugin.exceptions"), 3u);
    EXPECT_EQ(metrics_.value("plugin.exceptions.org.a"), 1u);
    EXPECT_EQ(metrics_.value("plugin.exceptions.org.b"), 2u);
}

TEST_F(PluginStrandTest, CloseRefusesNewPostsButQueuedCallbacksStillRun) {
    auto strand = make("org.test");
    int ran = 0;
    strand->post([&] { ++ran; });
    ASSERT_TRUE(strand->try_post([&] { ++ran; }));
    strand->close();
    EXPECT_TRUE(strand->closed());
    EXPECT_FALSE(strand->try_post([&] { ran += 100; }));
    strand->post([&] { ran += 100; });
    EXPECT_EQ(metrics_.value("strand.refused_closed"), 1u);
    drain(io_);
    EXPECT_EQ(ran, 2);
    strand->close(); // idempotent
    EXPECT_TRUE(strand->closed());
}

TEST_F(PluginStrandTest, TimerFiresOnTheStrand) {
    auto strand = make("org.test");
    bool fired = false;
    bool on_strand = false;
    auto h = strand->after(2ms, [&] {
        fired = true;
        on_strand = strand->strand().running_in_this_thread();
    });
    EXPECT_TRUE(h.armed());
    const auto start = strand->now();
    ASSERT_TRUE(run_until(io_, [&] { return fired; }));
    EXPECT_TRUE(on_strand);
    EXPECT_GE(strand->now() - start, 2ms);
}

TEST_F(PluginStrandTest, TimersFireInDeadlineOrder) {
    auto strand = make("org.test");
    std::vector<int> order;
    auto late = strand->after(30ms, [&] { order.push_back(2); });
    auto early = strand->after(1ms, [&] { order.push_back(1); });
    ASSERT_TRUE(run_until(io_, [&] { return order.size() == 2; }));
    EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

TEST_F(PluginStrandTest, CancelledTimerNeverFiresAndReleasesItsCallback) {
    auto strand = make("org.test");
    auto token = std::make_shared<int>(0);
    std::weak_ptr<int> watch = token;
    bool fired = false;
    auto h = strand->after(1ms, [&fired, token] { fired = true; });
    token.reset();
    h.cancel();
    EXPECT_FALSE(h.armed());
    bool sentinel = false;
    auto s = strand->after(20ms, [&] { sentinel = true; });
    ASSERT_TRUE(run_until(io_, [&] { return sentinel && watch.expired(); }));
    EXPECT_FALSE(fired);
}

TEST_F(PluginStrandTest, DestroyingTheHandleCancels) {
    auto strand = make("org.test");
    bool fired = false;
    {
        auto h = strand->after(1ms, [&] { fired = true; });
    }
    bool sentinel = false;
    auto s = strand->after(20ms, [&] { sentinel = true; });
    ASSERT_TRUE(run_until(io_, [&] { return sentinel; }));
    EXPECT_FALSE(fired);
}

TEST_F(PluginStrandTest, DetachedTimerStillFires) {
    auto strand = make("org.test");
    bool fired = false;
    {
        auto h = strand->after(1ms, [&] { fired = true; });
        h.detach();
    }
    ASSERT_TRUE(run_until(io_, [&] { return fired; }));
}

// A cancel from another thread wakes the timer at once: an hour-long timer does not keep its
// captures alive for an hour.
TEST_F(PluginStrandTest, CancelFromAnotherThreadReleasesPromptly) {
    auto strand = make("org.test");
    auto token = std::make_shared<int>(0);
    std::weak_ptr<int> watch = token;
    std::atomic<bool> fired{false};
    auto h = strand->after(std::chrono::hours(1), [&fired, token] { fired = true; });
    token.reset();
    IoThreads threads(io_, 2);
    std::thread other([&] { h.cancel(); });
    other.join();
    ASSERT_TRUE(wait_until([&] { return watch.expired(); }));
    threads.stop();
    EXPECT_FALSE(fired.load());
}

// Cancelling on the strand while the timer's completion is already queued behind the running
// callback: the callback must not run once cancel() has returned.
TEST_F(PluginStrandTest, CancelFromTheStrandWinsOverAnExpiredTimer) {
    auto strand = make("org.test");
    std::atomic<bool> fired{false};
    std::atomic<bool> cancelled{false};
    sdk::TimerHandle victim;
    IoThreads threads(io_, 2);
    strand->post([&] {
        victim = strand->after(0ms, [&] { fired = true; });
        // Hold the strand briefly so the other io thread can expire the timer and queue its
        // completion behind us: that is the race this test is about.
        const auto until = std::chrono::steady_clock::now() + 20ms;
        while (std::chrono::steady_clock::now() < until) std::this_thread::yield();
        victim.cancel();
        cancelled = true;
    });
    std::atomic<bool> sentinel{false};
    auto s = strand->after(60ms, [&] { sentinel = true; });
    ASSERT_TRUE(wait_until([&] { return sentinel.load() && cancelled.load(); }));
    threads.stop();
    EXPECT_FALSE(fired.load());
}

// Stress: cancels from a foreign thread race with expiries (safe from any thread; the exact
// "does not run after cancel() returns" promise is for cancels made on the strand). Every
// timer runs at most once, and every timer that was not cancelled runs.
TEST_F(PluginStrandTest, CancelFromAnotherThreadRacingWithExpiry) {
    constexpr int kTimers = 400;
    auto strand = make("org.test");
    std::vector<std::atomic<int>> runs(kTimers);
    std::vector<sdk::TimerHandle> handles(kTimers);
    IoThreads threads(io_, 3);
    for (int i = 0; i < kTimers; ++i)
        handles[i] = strand->after(std::chrono::milliseconds(i % 3), [&, i] { runs[i]++; });
    std::thread canceller([&] {
        for (int i = 0; i < kTimers; i += 2) handles[i].cancel();
    });
    for (int i = 1; i < kTimers; i += 2) handles[i].detach();
    canceller.join();
    // Due well after every timer above: once it has run, they all had their chance.
    std::atomic<bool> sentinel{false};
    auto s = strand->after(50ms, [&] { sentinel = true; });
    ASSERT_TRUE(wait_until([&] { return sentinel.load(); }));
    threads.stop();
    for (int i = 0; i < kTimers; ++i) {
        EXPECT_LE(runs[i].load(), 1) << i;
        if (i % 2 == 1) {
            EXPECT_EQ(runs[i].load(), 1) << i;
        }
    }
}

TEST_F(PluginStrandTest, CloseCancelsArmedTimersAndRefusesNewOnes) {
    auto strand = make("org.test");
    auto token = std::make_shared<int>(0);
    std::weak_ptr<int> watch = token;
    bool fired = false;
    auto h1 = strand->after(std::chrono::hours(1), [&fired, token] { fired = true; });
    auto h2 = strand->after(1ms, [&fired] { fired = true; });
    token.reset();
    strand->close();
    auto h3 = strand->after(1ms, [&fired] { fired = true; });
    EXPECT_FALSE(h3.armed());
    EXPECT_EQ(metrics_.value("strand.refused_closed"), 1u);
    ASSERT_TRUE(run_until(io_, [&] { return watch.expired(); }));
    // A second strand's timer, on the same io_context, bounds the wait for h2.
    auto other = make("org.other");
    bool sentinel = false;
    auto s = other->after(20ms, [&] { sentinel = true; });
    ASSERT_TRUE(run_until(io_, [&] { return sentinel; }));
    EXPECT_FALSE(fired);
}

TEST_F(PluginStrandTest, TimerCallbackMayCancelItselfAndArmAnother) {
    auto strand = make("org.test");
    sdk::TimerHandle h;
    sdk::TimerHandle next;
    int first = 0;
    bool second = false;
    h = strand->after(1ms, [&] {
        ++first;
        h.cancel(); // own handle: harmless, the callback is already running
        next = strand->after(1ms, [&] { second = true; });
    });
    ASSERT_TRUE(run_until(io_, [&] { return second; }));
    EXPECT_EQ(first, 1);
}

TEST_F(PluginStrandTest, ExceptionInTimerCallbackIsContained) {
    auto strand = make("org.timer");
    bool fired = false;
    auto h = strand->after(1ms, [&] {
        fired = true;
        throw std::runtime_error("timer boom");
    });
    ASSERT_TRUE(run_until(io_, [&] { return fired; }));
    EXPECT_EQ(metrics_.value("plugin.exceptions.org.timer"), 1u);
}

// Queued callbacks only own the shared state, not the PluginStrand object.
TEST_F(PluginStrandTest, QueuedCallbacksMayOutliveTheStrandObject) {
    auto strand = make("org.test");
    int ran = 0;
    bool fired = false;
    strand->post([&] { ++ran; });
    strand->post([] { throw std::runtime_error("after destruction"); });
    auto h = strand->after(1ms, [&] { fired = true; });
    strand.reset(); // destructor closes: the timer is cancelled, the posts still run
    auto other = make("org.other");
    bool sentinel = false;
    auto s = other->after(20ms, [&] { sentinel = true; });
    ASSERT_TRUE(run_until(io_, [&] { return sentinel; }));
    EXPECT_EQ(ran, 1);
    EXPECT_FALSE(fired);
    EXPECT_EQ(metrics_.value("plugin.exceptions.org.test"), 1u);
    h.cancel(); // the timer is gone: cancelling is a no-op
}

// A plugin keeping a TimerHandle past the io_context: the handle is inert, not dangling.
TEST(PluginStrandLifetime, TimerHandleOutlivesTheIoContext) {
    MetricsRegistry metrics;
    RecordingLogger log;
    sdk::TimerHandle h;
    {
        boost::asio::io_context io;
        auto strand = std::make_shared<PluginStrand>(io, "org.test", 10, metrics, log);
        h = strand->after(std::chrono::hours(1), [] {});
        drain(io); // armed
        EXPECT_TRUE(h.armed());
    }
    h.cancel();
    EXPECT_FALSE(h.armed());
}

TEST_F(PluginStrandTest, NowIsMonotonic) {
    auto strand = make("org.test");
    const auto a = strand->now();
    const auto b = strand->now();
    EXPECT_LE(a, b);
}

} // namespace
} // namespace stox::core::test
