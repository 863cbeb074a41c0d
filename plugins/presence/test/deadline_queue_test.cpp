// SPDX-License-Identifier: Apache-2.0
// DeadlineQueue: many deadlines on one executor timer (memory per subscription, issue 4 item 7).
#include "deadline_queue.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "stox/sdk/testing/plugin_harness.hpp"

namespace stox::plugins::presence {
namespace {

using namespace std::chrono_literals;

struct Item {
    std::string name;
    DeadlineQueue<Item>::Slot slot;
};

struct Fixture {
    sdk::testing::ManualExecutor exec;
    std::vector<std::string> fired;
    DeadlineQueue<Item> q{exec, [this](Item& i) {
                              EXPECT_FALSE(i.slot.armed()); // emptied before the callback
                              fired.push_back(i.name);
                          }};
};

TEST(DeadlineQueue, FiresInDeadlineOrderOnOneTimer) {
    Fixture f;
    Item a{"a", {}}, b{"b", {}}, c{"c", {}};
    f.q.schedule(c, c.slot, 300ms);
    f.q.schedule(a, a.slot, 100ms);
    f.q.schedule(b, b.slot, 200ms);
    EXPECT_EQ(f.q.size(), 3u);
    f.exec.advance(150ms);
    EXPECT_EQ(f.fired, (std::vector<std::string>{"a"}));
    f.exec.advance(200ms);
    EXPECT_EQ(f.fired, (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(f.q.size(), 0u);
}

TEST(DeadlineQueue, CancelAndRescheduleReplaceTheDeadline) {
    Fixture f;
    Item a{"a", {}}, b{"b", {}};
    f.q.schedule(a, a.slot, 100ms);
    f.q.schedule(b, b.slot, 100ms);
    f.q.cancel(a.slot);
    EXPECT_FALSE(a.slot.armed());
    f.q.schedule(b, b.slot, 500ms); // moved later: nothing at 100 ms
    f.exec.advance(200ms);
    EXPECT_TRUE(f.fired.empty());
    f.q.schedule(a, a.slot, 50ms); // earlier than the armed timer
    f.exec.advance(60ms);
    EXPECT_EQ(f.fired, (std::vector<std::string>{"a"}));
    f.exec.advance(300ms);
    EXPECT_EQ(f.fired, (std::vector<std::string>{"a", "b"}));
}

TEST(DeadlineQueue, CallbackMayScheduleAgainAndClearEmptiesSlots) {
    sdk::testing::ManualExecutor exec;
    int fired = 0;
    Item a{"a", {}};
    DeadlineQueue<Item>* self = nullptr;
    DeadlineQueue<Item> q{exec, [&](Item& i) {
                              if (++fired < 3) self->schedule(i, i.slot, 100ms);
                          }};
    self = &q;
    q.schedule(a, a.slot, 100ms);
    exec.advance(1000ms);
    EXPECT_EQ(fired, 3);
    q.schedule(a, a.slot, 100ms);
    q.clear();
    EXPECT_FALSE(a.slot.armed());
    exec.advance(1000ms);
    EXPECT_EQ(fired, 3);
}

} // namespace
} // namespace stox::plugins::presence
