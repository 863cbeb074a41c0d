// SPDX-License-Identifier: Apache-2.0
// EventBusCore / PluginBus: fan-out, versions, bounded queues, unsubscribe, stamping.
#include "bus/event_bus.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "bus/plugin_strand.hpp"
#include "runtime/metrics_registry.hpp"
#include "test_support.hpp"

namespace stox::core::test {
namespace {

struct PingV1 {
    static constexpr std::string_view kName = "test.ping";
    static constexpr std::uint32_t kVersion = 1;
    sdk::EventMeta meta;
    int n = 0;
};

// Same name, another layout: must never reach a v1 subscriber.
struct PingV2 {
    static constexpr std::string_view kName = "test.ping";
    static constexpr std::uint32_t kVersion = 2;
    sdk::EventMeta meta;
    std::string text;
};

class EventBusTest : public ::testing::Test {
protected:
    std::shared_ptr<PluginStrand> strand(std::string owner, std::size_t max_pending = 100'000) {
        return std::make_shared<PluginStrand>(io_, std::move(owner), max_pending, metrics_, log_);
    }
    /// A plugin's view of the bus on its own strand.
    std::unique_ptr<PluginBus> plugin_bus(const std::shared_ptr<PluginStrand>& s) {
        return std::make_unique<PluginBus>(core_, s, s->owner());
    }

    // Order matters: strands (held by subscriptions) must go before the io_context, and the
    // registry and logger must outlive both.
    MetricsRegistry metrics_;
    RecordingLogger log_;
    boost::asio::io_context io_;
    EventBusCore core_{metrics_, log_};
};

TEST_F(EventBusTest, FanOutReachesEverySubscriberOnItsOwnStrand) {
    std::vector<std::shared_ptr<PluginStrand>> strands{strand("org.a"), strand("org.b"),
                                                       strand("org.c")};
    std::vector<std::unique_ptr<PluginBus>> buses;
    std::vector<sdk::Subscription> subs;
    std::vector<int> got(3, 0);
    std::vector<bool> on_own_strand(3, false);
    for (int i = 0; i < 3; ++i) {
        buses.push_back(plugin_bus(strands[i]));
        subs.push_back(buses[i]->subscribe<PingV1>([&, i](const PingV1& e) {
            got[i] += e.n;
            on_own_strand[i] = strands[i]->strand().running_in_this_thread();
        }));
    }
    EXPECT_EQ(core_.subscriber_count("test.ping", 1), 3u);
    buses[0]->publish(PingV1{{}, 7}); // the publisher receives its own event too
    ASSERT_TRUE(run_until(io_, [&] { return got[0] && got[1] && got[2]; }));
    EXPECT_EQ(got, (std::vector<int>{7, 7, 7}));
    EXPECT_EQ(on_own_strand, (std::vector<bool>{true, true, true}));
    EXPECT_EQ(metrics_.value("bus.published.test.ping"), 1u);
    EXPECT_EQ(metrics_.value("bus.delivered"), 3u);
}

TEST_F(EventBusTest, PayloadIsSharedImmutablyBetweenSubscribers) {
    auto a = strand("org.a");
    auto b = strand("org.b");
    const void* seen_a = nullptr;
    const void* seen_b = nullptr;
    auto sa = plugin_bus(a)->subscribe<PingV1>([&](const PingV1& e) { seen_a = &e; });
    auto sb = plugin_bus(b)->subscribe<PingV1>([&](const PingV1& e) { seen_b = &e; });
    plugin_bus(a)->publish(PingV1{{}, 1});
    ASSERT_TRUE(run_until(io_, [&] { return seen_a && seen_b; }));
    EXPECT_EQ(seen_a, seen_b);
}

TEST_F(EventBusTest, AnotherVersionIsNotDelivered) {
    auto s = strand("org.a");
    auto bus = plugin_bus(s);
    int v1 = 0;
    int v2 = 0;
    auto sub1 = bus->subscribe<PingV1>([&](const PingV1&) { ++v1; });
    auto sub2 = bus->subscribe<PingV2>([&](const PingV2& e) { v2 += e.text == "two" ? 1 : 100; });
    bus->publish(PingV2{{}, "two"});
    ASSERT_TRUE(run_until(io_, [&] { return v2 > 0; })); // same strand: v1 had its chance
    drain(io_);
    EXPECT_EQ(v1, 0);
    EXPECT_EQ(v2, 1);
    EXPECT_EQ(core_.subscriber_count("test.ping", 1), 1u);
    EXPECT_EQ(core_.subscriber_count("test.ping", 2), 1u);
    EXPECT_EQ(core_.subscriber_count("test.ping", 3), 0u);
}

TEST_F(EventBusTest, PublishWithoutSubscribersIsCountedOnly) {
    auto s = strand("org.a");
    plugin_bus(s)->publish(PingV1{{}, 1});
    EXPECT_EQ(metrics_.value("bus.published.test.ping"), 1u);
    EXPECT_EQ(metrics_.value("bus.dropped"), 0u);
    EXPECT_EQ(s->pending(), 0u);
}

TEST_F(EventBusTest, StampSetsOriginAndFillsAnEmptyTime) {
    auto s = strand("org.publisher");
    auto bus = plugin_bus(s);
    std::vector<sdk::EventMeta> seen;
    auto sub = bus->subscribe<PingV1>([&](const PingV1& e) { seen.push_back(e.meta); });
    const auto before = std::chrono::system_clock::now();
    PingV1 forged;
    forged.meta.origin = "org.someone.else";
    forged.meta.trace_id = "t-1";
    bus->publish(forged);
    PingV1 dated;
    dated.meta.at = std::chrono::system_clock::time_point(std::chrono::seconds(1234));
    bus->publish(dated);
    ASSERT_TRUE(run_until(io_, [&] { return seen.size() == 2; }));
    EXPECT_EQ(seen[0].origin, "org.publisher"); // provenance cannot be forged
    EXPECT_EQ(seen[0].trace_id, "t-1");
    EXPECT_GE(seen[0].at, before);
    EXPECT_EQ(seen[1].origin, "org.publisher");
    EXPECT_EQ(seen[1].at, std::chrono::system_clock::time_point(std::chrono::seconds(1234)));
}

// sdk/bus.hpp: a full subscriber queue refuses the newest event; every refusal is counted.
TEST_F(EventBusTest, BoundedSubscriberQueueDropsAndCounts) {
    auto s = strand("org.slow");
    auto bus = plugin_bus(s);
    std::vector<int> got;
    auto sub = bus->subscribe<PingV1>([&](const PingV1& e) { got.push_back(e.n); },
                                      sdk::SubscribeOptions{3});
    for (int i = 0; i < 10; ++i) bus->publish(PingV1{{}, i}); // io not running: all wait
    EXPECT_EQ(metrics_.value("bus.dropped"), 7u);
    EXPECT_EQ(metrics_.value("bus.dropped.test.ping"), 7u);
    EXPECT_EQ(log_.count(sdk::LogLevel::Warn, "org.slow"), 1u); // first drop only
    drain(io_);
    EXPECT_EQ(got, (std::vector<int>{0, 1, 2}));
    bus->publish(PingV1{{}, 10}); // room again
    drain(io_);
    EXPECT_EQ(got.back(), 10);
    EXPECT_EQ(metrics_.value("bus.delivered"), 4u);
}

TEST_F(EventBusTest, DropWarningsAreRateLimitedButEveryDropIsCounted) {
    auto s = strand("org.deaf");
    auto sub = plugin_bus(s)->subscribe<PingV1>([](const PingV1&) {}, sdk::SubscribeOptions{0});
    auto pub = plugin_bus(strand("org.pub"));
    for (int i = 0; i < 2500; ++i) pub->publish(PingV1{{}, i});
    EXPECT_EQ(metrics_.value("bus.dropped.test.ping"), 2500u);
    EXPECT_EQ(log_.count(sdk::LogLevel::Warn, "dropped"), 3u); // drops 1, 1000 and 2000
}

TEST_F(EventBusTest, StrandBoundAlsoRefusesDeliveries) {
    auto s = strand("org.busy", 2);
    int got = 0;
    auto sub = plugin_bus(s)->subscribe<PingV1>([&](const PingV1&) { ++got; });
    auto pub = plugin_bus(strand("org.pub"));
    for (int i = 0; i < 5; ++i) pub->publish(PingV1{{}, i});
    EXPECT_EQ(metrics_.value("bus.dropped"), 3u);
    EXPECT_TRUE(log_.contains("plugin strand full"));
    drain(io_);
    EXPECT_EQ(got, 2);
}

TEST_F(EventBusTest, UnsubscribeInsideTheHandler) {
    auto s = strand("org.once");
    auto bus = plugin_bus(s);
    int got = 0;
    sdk::Subscription sub;
    sub = bus->subscribe<PingV1>([&](const PingV1&) {
        ++got;
        sub.reset(); // safe from inside the handler; the deliveries already queued are skipped
    });
    for (int i = 0; i < 5; ++i) bus->publish(PingV1{{}, i});
    drain(io_);
    EXPECT_EQ(got, 1);
    EXPECT_FALSE(sub.active());
    EXPECT_EQ(core_.subscriber_count("test.ping", 1), 0u);
}

TEST_F(EventBusTest, QueuedDeliveriesDoNotStartAfterUnsubscribe) {
    auto s = strand("org.a");
    auto bus = plugin_bus(s);
    int got = 0;
    auto sub = bus->subscribe<PingV1>([&](const PingV1&) { ++got; });
    for (int i = 0; i < 3; ++i) bus->publish(PingV1{{}, i});
    sub.reset();
    drain(io_);
    EXPECT_EQ(got, 0);
    EXPECT_EQ(metrics_.value("bus.delivered"), 0u);
}

TEST_F(EventBusTest, HandlerExceptionDoesNotAffectOtherSubscribers) {
    auto a = strand("org.thrower");
    auto b = strand("org.fine");
    int fine = 0;
    auto sa = plugin_bus(a)->subscribe<PingV1>(
        [](const PingV1&) { throw std::runtime_error("handler boom"); });
    auto sb = plugin_bus(b)->subscribe<PingV1>([&](const PingV1&) { ++fine; });
    plugin_bus(b)->publish(PingV1{{}, 1});
    plugin_bus(b)->publish(PingV1{{}, 2});
    drain(io_);
    EXPECT_EQ(fine, 2);
    EXPECT_EQ(metrics_.value("plugin.exceptions.org.thrower"), 2u);
}

TEST_F(EventBusTest, InvalidSubscriptionsAreInactive) {
    auto s = strand("org.a");
    EXPECT_FALSE(core_.subscribe("test.ping", 1, {}, {}, s).active());
    EXPECT_FALSE(core_
                     .subscribe(
                         "test.ping", 1, [](const void*) {}, {}, nullptr)
                     .active());
    s->close();
    EXPECT_FALSE(core_
                     .subscribe(
                         "test.ping", 1, [](const void*) {}, {}, s)
                     .active());
    EXPECT_EQ(core_.subscriber_count("test.ping", 1), 0u);
    EXPECT_EQ(log_.count(sdk::LogLevel::Error), 2u);
    EXPECT_EQ(log_.count(sdk::LogLevel::Warn, "closed"), 1u);
}

TEST_F(EventBusTest, NullEventIsNotPublished) {
    auto s = strand("org.a");
    int got = 0;
    auto sub = core_.subscribe(
        "test.ping", 1, [&](const void*) { ++got; }, {}, s);
    core_.publish("test.ping", 1, nullptr);
    drain(io_);
    EXPECT_EQ(got, 0);
    EXPECT_EQ(log_.count(sdk::LogLevel::Error, "null"), 1u);
}

// A stopped plugin (closed strand) is forgotten, not counted as dropping every later event.
TEST_F(EventBusTest, SubscriptionsOfAClosedStrandArePruned) {
    auto s = strand("org.stopped");
    auto sub = plugin_bus(s)->subscribe<PingV1>([](const PingV1&) {});
    s->close();
    auto pub = plugin_bus(strand("org.pub"));
    pub->publish(PingV1{{}, 1});
    pub->publish(PingV1{{}, 2});
    EXPECT_EQ(metrics_.value("bus.dropped"), 0u);
    EXPECT_EQ(core_.subscriber_count("test.ping", 1), 0u);
    EXPECT_EQ(log_.count(sdk::LogLevel::Info, "org.stopped"), 1u);
    sub.reset(); // already pruned: a no-op
}

// Destroying a handler runs plugin destructors, which may unsubscribe other subscriptions:
// that must not re-enter the bus's lock.
TEST_F(EventBusTest, HandlerDestructionMayUnsubscribeOthers) {
    auto s = strand("org.a");
    auto bus = plugin_bus(s);
    struct Holder {
        sdk::Subscription other;
    };
    auto holder = std::make_shared<Holder>();
    holder->other = bus->subscribe<PingV2>([](const PingV2&) {});
    auto sub = bus->subscribe<PingV1>([holder](const PingV1&) {});
    holder.reset(); // now owned by the handler only
    EXPECT_EQ(core_.subscriber_count("test.ping", 2), 1u);
    sub.reset(); // destroys the handler, the Holder, and through it the v2 subscription
    EXPECT_EQ(core_.subscriber_count("test.ping", 1), 0u);
    EXPECT_EQ(core_.subscriber_count("test.ping", 2), 0u);
}

TEST(EventBusLifetime, SubscriptionMayOutliveTheBus) {
    MetricsRegistry metrics;
    RecordingLogger log;
    boost::asio::io_context io;
    auto s = std::make_shared<PluginStrand>(io, "org.a", 10, metrics, log);
    sdk::Subscription sub;
    {
        EventBusCore core(metrics, log);
        sub = core.subscribe(
            "test.ping", 1, [](const void*) {}, {}, s);
        EXPECT_TRUE(sub.active());
    }
    sub.reset(); // the bus is gone: nothing to remove, nothing touched
    EXPECT_FALSE(sub.active());
}

// Stress (TSan): 2 publishers, 1 thread subscribing and unsubscribing, 4 io threads
// delivering. After the last unsubscribe returns and the queue drains, nothing more arrives.
TEST_F(EventBusTest, UnsubscribeFromAnotherThreadWhilePublishing) {
    constexpr int kRounds = 300;
    std::vector<std::shared_ptr<PluginStrand>> strands;
    for (int i = 0; i < 4; ++i) strands.push_back(strand("org.s" + std::to_string(i)));
    auto pub_strand = strand("org.pub");
    std::atomic<long> calls{0};
    std::atomic<bool> stop{false};
    std::atomic<long> published{0};

    IoThreads threads(io_, 4);
    std::vector<std::thread> publishers;
    for (int p = 0; p < 2; ++p)
        publishers.emplace_back([&] {
            auto bus = plugin_bus(pub_strand);
            for (int n = 0; !stop.load(); ++n) {
                bus->publish(PingV1{{}, n});
                published.fetch_add(1);
            }
        });
    std::thread churn([&] {
        for (int r = 0; r < kRounds; ++r) {
            std::vector<sdk::Subscription> subs;
            for (auto& s : strands)
                subs.push_back(core_.subscribe(
                    "test.ping", 1, [&](const void*) { calls.fetch_add(1); },
                    sdk::SubscribeOptions{64}, s));
            // Let a few publishes through, then drop them all from this (foreign) thread.
            const long mark = published.load();
            wait_until([&] { return published.load() > mark + 4; }, 2s);
            subs.clear();
        }
    });
    churn.join();
    stop = true;
    for (auto& t : publishers) t.join();

    EXPECT_EQ(core_.subscriber_count("test.ping", 1), 0u);
    // Drain: a marker through every strand proves queued deliveries have been skipped or run.
    std::atomic<int> markers{0};
    for (auto& s : strands) s->post([&] { markers.fetch_add(1); });
    ASSERT_TRUE(wait_until([&] { return markers.load() == 4; }));
    const long settled = calls.load();
    auto bus = plugin_bus(pub_strand);
    for (int i = 0; i < 100; ++i) bus->publish(PingV1{{}, i});
    markers = 0;
    for (auto& s : strands) s->post([&] { markers.fetch_add(1); });
    ASSERT_TRUE(wait_until([&] { return markers.load() == 4; }));
    threads.stop();
    EXPECT_EQ(calls.load(), settled);
    EXPECT_GT(calls.load(), 0);
    EXPECT_EQ(metrics_.value("bus.delivered"), static_cast<std::uint64_t>(calls.load()));
}

} // namespace
} // namespace stox::core::test
