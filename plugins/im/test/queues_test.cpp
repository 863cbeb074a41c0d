// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "cseq_cache.hpp"
#include "destination_queues.hpp"

namespace stox::plugins::im {
namespace {

using Q = DestinationQueues<int>;

TEST(DestinationQueues, OnePendingPerDestination_TV_IM_20) {
    // RFC 3428 §8 (IM-REF-2).
    Q q(10, 2, 100);
    int a = 1, b = 2, c = 3, d = 4;
    EXPECT_EQ(q.offer("sip:romeo@example.net", a), Q::Admit::SendNow);
    EXPECT_EQ(q.offer("sip:romeo@example.net", b), Q::Admit::Queued);
    EXPECT_EQ(q.offer("sip:romeo@example.net", c), Q::Admit::Queued);
    EXPECT_EQ(q.offer("sip:romeo@example.net", d), Q::Admit::QueueFull);
    EXPECT_EQ(q.offer("sip:other@example.net", d), Q::Admit::SendNow); // other URIs are independent
    EXPECT_EQ(q.queued(), 2u);
    EXPECT_EQ(q.finish("sip:romeo@example.net"), 2); // FIFO
    EXPECT_TRUE(q.busy("sip:romeo@example.net"));
    EXPECT_EQ(q.finish("sip:romeo@example.net"), 3);
    EXPECT_EQ(q.finish("sip:romeo@example.net"), std::nullopt);
    EXPECT_FALSE(q.busy("sip:romeo@example.net"));
    EXPECT_EQ(q.finish("sip:unknown@example.net"), std::nullopt);
}

TEST(DestinationQueues, DestinationsAreBounded) {
    Q q(1, 5, 100);
    int x = 0;
    EXPECT_EQ(q.offer("a", x), Q::Admit::SendNow);
    EXPECT_EQ(q.offer("b", x), Q::Admit::TooManyDestinations);
    EXPECT_EQ(q.offer("a", x), Q::Admit::Queued); // an existing one still queues
    EXPECT_EQ(q.finish("a"), 0);
    EXPECT_EQ(q.finish("a"), std::nullopt);
    EXPECT_EQ(q.offer("b", x), Q::Admit::SendNow);
}

TEST(DestinationQueues, ZeroQueueMeansNoWaiting) {
    Q q(5, 0, 100);
    int x = 0;
    EXPECT_EQ(q.offer("a", x), Q::Admit::SendNow);
    EXPECT_EQ(q.offer("a", x), Q::Admit::QueueFull);
}

TEST(DestinationQueues, TotalQueuedIsBounded) {
    Q q(10, 5, 2);
    int x = 0;
    EXPECT_EQ(q.offer("a", x), Q::Admit::SendNow);
    EXPECT_EQ(q.offer("b", x), Q::Admit::SendNow);
    EXPECT_EQ(q.offer("a", x), Q::Admit::Queued);
    EXPECT_EQ(q.offer("b", x), Q::Admit::Queued);
    EXPECT_EQ(q.offer("a", x), Q::Admit::QueueFull); // 2 waiting in total
    EXPECT_EQ(q.offer("c", x), Q::Admit::SendNow);   // sending now is not waiting
    q.finish("a");
    EXPECT_EQ(q.offer("b", x), Q::Admit::Queued);
}

TEST(DestinationQueues, DrainReturnsWaitingItemsOnly) {
    Q q(5, 5, 100);
    int a = 1, b = 2, c = 3;
    q.offer("a", a);
    q.offer("a", b);
    q.offer("b", c);
    auto rest = q.drain();
    ASSERT_EQ(rest.size(), 1u);
    EXPECT_EQ(rest[0], 2);
    EXPECT_EQ(q.destinations(), 0u);
    EXPECT_EQ(q.queued(), 0u);
}

TEST(CSeqCache, IncreasesPerCallIdAndForgetsLeastRecentlyUsed) {
    // Table M1: CSeq increases when a thread's Call-ID is reused.
    CSeqCache c(2);
    EXPECT_EQ(c.next("t1"), 1u);
    EXPECT_EQ(c.next("t1"), 2u);
    EXPECT_EQ(c.next("t2"), 1u);
    EXPECT_EQ(c.next("t1"), 3u); // t1 is now the most recent
    EXPECT_EQ(c.next("t3"), 1u); // evicts t2
    EXPECT_EQ(c.size(), 2u);
    EXPECT_EQ(c.next("t2"), 1u);
    EXPECT_EQ(c.next("t3"), 2u);
    c.set_capacity(1);
    EXPECT_EQ(c.size(), 1u);
}

} // namespace
} // namespace stox::plugins::im
