// SPDX-License-Identifier: Apache-2.0
// Many deadlines on one executor timer. A timer per subscription costs about 500 bytes (the
// executor's timer state, a std::function and a shared_ptr); 100,000 subscriptions each holding
// refresh and expiry timers made timers the largest item of the plugin's memory (massif, see
// docs/performance.md). Here a deadline costs one multimap node (~64 bytes).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <utility>

#include "stox/sdk/executor.hpp"

namespace stox::plugins::presence {

/// Deadlines for objects of type T, identified by pointer. Each object holds one Slot per queue
/// (at a stable address, e.g. inside a std::map node) and cancels it before it goes away.
/// Callbacks run on the executor (the plugin's strand), one per due deadline, in deadline order;
/// the slot is already empty when the callback runs.
template <class T> class DeadlineQueue {
public:
    struct Slot;

private:
    using Queue = std::multimap<std::chrono::steady_clock::time_point, std::pair<T*, Slot*>>;

public:
    struct Slot {
        std::optional<typename Queue::iterator> it;
        [[nodiscard]] bool armed() const { return it.has_value(); }
    };

    DeadlineQueue(sdk::Executor& executor, std::function<void(T&)> on_due)
        : executor_(executor), on_due_(std::move(on_due)) {}
    DeadlineQueue(const DeadlineQueue&) = delete;
    DeadlineQueue& operator=(const DeadlineQueue&) = delete;

    /// (Re)schedules `object` at now + delay; `slot` is the object's slot of this queue.
    void schedule(T& object, Slot& slot, std::chrono::milliseconds delay) {
        cancel(slot);
        const auto when = executor_.now() + delay;
        slot.it = queue_.emplace(when, std::make_pair(&object, &slot));
        if (!timer_.armed() || when < armed_for_) arm(when);
    }
    void cancel(Slot& slot) {
        if (!slot.it) return;
        queue_.erase(*slot.it);
        slot.it.reset();
        // The timer may stay armed for a deadline that is gone; it then finds nothing due and
        // re-arms for the next one. Cheaper than re-arming on every cancel.
    }
    /// Drops every deadline and empties the slots (stop).
    void clear() {
        for (auto& [when, entry] : queue_) entry.second->it.reset();
        queue_.clear();
        timer_.cancel();
    }
    [[nodiscard]] std::size_t size() const { return queue_.size(); }

private:
    void arm(std::chrono::steady_clock::time_point when) {
        armed_for_ = when;
        const auto now = executor_.now();
        const auto delay = when > now ? std::chrono::ceil<std::chrono::milliseconds>(when - now)
                                      : std::chrono::milliseconds(0);
        timer_ = executor_.after(delay, [this] { fire(); });
    }
    void fire() {
        timer_.detach();
        const auto now = executor_.now();
        // Each callback may schedule or cancel (its own or other objects' deadlines): take one
        // due entry at a time from the front.
        while (!queue_.empty() && queue_.begin()->first <= now) {
            auto [object, slot] = queue_.begin()->second;
            slot->it.reset();
            queue_.erase(queue_.begin());
            on_due_(*object);
        }
        if (!queue_.empty() && !timer_.armed()) arm(queue_.begin()->first);
    }

    sdk::Executor& executor_;
    std::function<void(T&)> on_due_;
    Queue queue_;
    sdk::TimerHandle timer_;
    std::chrono::steady_clock::time_point armed_for_{};
};

} // namespace stox::plugins::presence
