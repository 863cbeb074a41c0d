// SPDX-License-Identifier: Apache-2.0
#include "bus/event_bus.hpp"

#include <atomic>
#include <exception>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "bus/noexcept_log.hpp"
#include "bus/plugin_strand.hpp"
#include "runtime/metrics_registry.hpp"

namespace stox::core {

using detail::log_noexcept;

namespace {

// Drops of one subscription are all counted; the warning is written for the first one and then
// every kDropLogEvery-th, so an overloaded subscriber cannot flood the log.
constexpr std::uint64_t kDropLogEvery = 1000;

std::string make_key(std::string_view name, std::uint32_t version) {
    std::string key(name);
    key += '@';
    key += std::to_string(version);
    return key;
}

class BusState;

struct Sub final : sdk::SubscriptionToken {
    Sub(std::weak_ptr<BusState> b, std::string k, EventBusCore::ErasedHandler h,
        std::shared_ptr<PluginStrand> t, std::uint32_t max_q, sdk::Counter& dropped,
        sdk::Counter& delivered_total)
        : bus(std::move(b)), key(std::move(k)), handler(std::move(h)), target(std::move(t)),
          max_queue(max_q), dropped_named(dropped), delivered(delivered_total) {}

    void unsubscribe() noexcept override;

    const std::weak_ptr<BusState> bus;
    const std::string key; // "name@version"
    // Called only on target's strand. Never reset: a delivery may be running on that strand
    // while another thread unsubscribes.
    const EventBusCore::ErasedHandler handler;
    const std::shared_ptr<PluginStrand> target;
    const std::uint32_t max_queue;
    sdk::Counter& dropped_named;          // bus.dropped.<name>
    sdk::Counter& delivered;              // bus.delivered
    std::atomic<std::uint32_t> queued{0}; // posted, not yet started
    std::atomic<std::uint64_t> drops{0};
    std::atomic<bool> active{true};
};

using SubList = std::vector<std::shared_ptr<Sub>>;
// Copy-on-write at two levels: a change copies the map of pointers and the one list it touches.
using Table = std::unordered_map<std::string, std::shared_ptr<const SubList>>;

class BusState {
public:
    BusState(MetricsRegistry& metrics, sdk::Logger& log)
        : metrics_(metrics), log_(log), dropped_(metrics.counter("bus.dropped")),
          delivered_(metrics.counter("bus.delivered")), table_(std::make_shared<const Table>()) {}

    sdk::Subscription subscribe(std::weak_ptr<BusState> self, std::string_view name,
                                std::uint32_t version, EventBusCore::ErasedHandler handler,
                                sdk::SubscribeOptions options,
                                std::shared_ptr<PluginStrand> target) {
        if (!target || !handler) {
            log_noexcept(log_, sdk::LogLevel::Error, "bus: subscription to {}@{} refused: {}", name,
                         version, target ? "empty handler" : "no target strand");
            return {};
        }
        if (target->closed()) {
            log_noexcept(log_, sdk::LogLevel::Warn,
                         "bus: subscription of {} to {}@{} refused: plugin strand closed",
                         target->owner(), name, version);
            return {};
        }
        std::string key = make_key(name, version);
        auto& dropped_named = metrics_.counter("bus.dropped." + std::string(name));
        auto sub =
            std::make_shared<Sub>(std::move(self), key, std::move(handler), std::move(target),
                                  options.max_queue, dropped_named, delivered_);
        std::shared_ptr<const Table> old; // released after the lock, see install()
        std::lock_guard lock(mu_);
        auto list = std::make_shared<SubList>();
        if (auto it = table_->find(key); it != table_->end()) *list = *it->second;
        list->push_back(sub);
        old = install(key, std::move(list));
        return sdk::Subscription(std::move(sub));
    }

    void publish(std::string_view name, std::uint32_t version,
                 const std::shared_ptr<const void>& event) {
        metrics_.counter("bus.published." + std::string(name)).add(1);
        const std::string key = make_key(name, version);
        std::shared_ptr<const SubList> subs;
        {
            std::shared_ptr<const Table> table = load();
            auto it = table->find(key);
            if (it == table->end()) return;
            subs = it->second;
        } // the table lock was released in load(); only the list is kept alive
        bool closed_seen = false;
        for (const auto& s : *subs) {
            if (!s->active.load()) continue;
            if (s->target->closed()) {
                closed_seen = true;
                continue;
            }
            offer(s, event);
        }
        if (closed_seen) prune_closed(key);
    }

    void remove(const Sub& sub) noexcept {
        try {
            std::shared_ptr<const Table> old;
            std::lock_guard lock(mu_);
            auto it = table_->find(sub.key);
            if (it == table_->end()) return;
            auto list = std::make_shared<SubList>();
            list->reserve(it->second->size());
            for (const auto& s : *it->second)
                if (s.get() != &sub) list->push_back(s);
            if (list->size() == it->second->size()) return; // already removed
            old = install(sub.key, std::move(list));
        } catch (const std::exception& e) {
            // The subscription stays in the table but inactive: publish skips it.
            log_noexcept(log_, sdk::LogLevel::Error, "bus: could not remove subscription {}: {}",
                         sub.key, e.what());
        }
    }

    std::size_t count(std::string_view name, std::uint32_t version) const {
        auto table = load();
        auto it = table->find(make_key(name, version));
        if (it == table->end()) return 0;
        std::size_t n = 0;
        for (const auto& s : *it->second)
            if (s->active.load()) ++n;
        return n;
    }

    sdk::Logger& log() noexcept { return log_; }

private:
    std::shared_ptr<const Table> load() const {
        std::lock_guard lock(mu_);
        return table_;
    }

    // Requires mu_. Replaces (or erases, when empty) one list in a copy of the table and
    // returns the previous table, which the caller releases after unlocking: the last reference
    // to a subscription may go with it, and destroying a handler runs plugin destructors that
    // may unsubscribe (re-entering this mutex).
    [[nodiscard]] std::shared_ptr<const Table> install(const std::string& key,
                                                       std::shared_ptr<SubList> list) {
        auto next = std::make_shared<Table>(*table_);
        if (list->empty())
            next->erase(key);
        else
            (*next)[key] = std::move(list);
        return std::exchange(table_, std::move(next));
    }

    void offer(const std::shared_ptr<Sub>& s, const std::shared_ptr<const void>& event) {
        // Built before counting: constructing the std::function may throw.
        std::function<void()> delivery = [s, event] {
            s->queued.fetch_sub(1);
            if (!s->active.load()) return; // unsubscribed while queued
            s->delivered.add(1);
            s->handler(event.get());
        };
        if (s->queued.fetch_add(1) >= s->max_queue) {
            s->queued.fetch_sub(1);
            drop(*s, "subscriber queue full");
            return;
        }
        if (!s->target->try_post(std::move(delivery))) {
            s->queued.fetch_sub(1);
            drop(*s, s->target->closed() ? "plugin strand closed" : "plugin strand full");
        }
    }

    void drop(Sub& s, const char* reason) noexcept {
        dropped_.add(1);
        s.dropped_named.add(1);
        const std::uint64_t n = s.drops.fetch_add(1) + 1;
        if (n == 1 || n % kDropLogEvery == 0)
            log_noexcept(log_, sdk::LogLevel::Warn,
                         "bus: event {} dropped for {}: {} ({} dropped for this subscription)",
                         s.key, s.target->owner(), reason, n);
    }

    // A closed strand never reopens (plugin stopped): forget its subscriptions instead of
    // counting every later event as a drop.
    void prune_closed(const std::string& key) {
        std::vector<std::shared_ptr<Sub>> pruned;
        std::shared_ptr<const Table> old;
        {
            std::lock_guard lock(mu_);
            auto it = table_->find(key);
            if (it == table_->end()) return;
            auto list = std::make_shared<SubList>();
            for (const auto& s : *it->second) {
                if (s->target->closed())
                    pruned.push_back(s);
                else
                    list->push_back(s);
            }
            if (pruned.empty()) return;
            old = install(key, std::move(list));
        }
        for (const auto& s : pruned) {
            s->active.store(false);
            log_noexcept(log_, sdk::LogLevel::Info,
                         "bus: subscription of {} to {} removed: plugin strand closed",
                         s->target->owner(), key);
        }
    }

    MetricsRegistry& metrics_;
    sdk::Logger& log_;
    sdk::Counter& dropped_;
    sdk::Counter& delivered_;
    mutable std::mutex mu_; // guards table_ (the pointer, not the table)
    std::shared_ptr<const Table> table_;
};

void Sub::unsubscribe() noexcept {
    active.store(false);
    if (auto b = bus.lock()) b->remove(*this);
}

} // namespace

struct EventBusCore::Impl : BusState {
    using BusState::BusState;
};

EventBusCore::EventBusCore(MetricsRegistry& metrics, sdk::Logger& log)
    : impl_(std::make_shared<Impl>(metrics, log)) {}

// Subscriptions outliving the bus hold only a weak reference: unsubscribing them is a no-op.
EventBusCore::~EventBusCore() = default;

sdk::Subscription EventBusCore::subscribe(std::string_view name, std::uint32_t version,
                                          ErasedHandler handler, sdk::SubscribeOptions options,
                                          std::shared_ptr<PluginStrand> target) noexcept {
    try {
        return impl_->subscribe(std::weak_ptr<BusState>(impl_), name, version, std::move(handler),
                                options, std::move(target));
    } catch (const std::exception& e) {
        log_noexcept(impl_->log(), sdk::LogLevel::Error, "bus: subscription to {}@{} failed: {}",
                     name, version, e.what());
        return {};
    }
}

void EventBusCore::publish(std::string_view name, std::uint32_t version,
                           std::shared_ptr<const void> event) noexcept {
    if (!event) {
        log_noexcept(impl_->log(), sdk::LogLevel::Error, "bus: null {}@{} event not published",
                     name, version);
        return;
    }
    try {
        impl_->publish(name, version, event);
    } catch (const std::exception& e) {
        // Allocation failure mid fan-out: some subscribers may not have been offered the event.
        log_noexcept(impl_->log(), sdk::LogLevel::Error, "bus: publishing {}@{} failed: {}", name,
                     version, e.what());
    }
}

std::size_t EventBusCore::subscriber_count(std::string_view name, std::uint32_t version) const {
    return impl_->count(name, version);
}

PluginBus::PluginBus(EventBusCore& core, std::shared_ptr<PluginStrand> strand, std::string origin)
    : core_(core), strand_(std::move(strand)), origin_(std::move(origin)) {}

sdk::Subscription PluginBus::subscribe_erased(std::string_view name, std::uint32_t version,
                                              ErasedHandler handler,
                                              sdk::SubscribeOptions options) {
    return core_.subscribe(name, version, std::move(handler), options, strand_);
}

void PluginBus::publish_erased(std::string_view name, std::uint32_t version,
                               std::shared_ptr<const void> event) {
    core_.publish(name, version, std::move(event));
}

void PluginBus::stamp(sdk::EventMeta& meta) const noexcept {
    try {
        meta.origin = origin_;
    } catch (...) {
        meta.origin.clear(); // allocation failed: better no origin than a forged one
    }
    if (meta.at == std::chrono::system_clock::time_point{})
        meta.at = std::chrono::system_clock::now();
}

} // namespace stox::core
