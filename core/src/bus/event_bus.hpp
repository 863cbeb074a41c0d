// SPDX-License-Identifier: Apache-2.0
// Fan-out notifications (house style §4.5, channel 2). The handler table is copy-on-write:
// publish() takes no lock while delivering. Each delivery is posted to the subscriber's strand
// with try_post(); a full subscriber queue (SubscribeOptions::max_queue, or the strand's own
// bound) refuses that delivery (the newest event is the one refused, as sdk/bus.hpp states),
// counts it in "bus.dropped" and "bus.dropped.<event>" and logs a warning (the first drop of a
// subscription, then every 1000th): never silent, never blocking the publisher.
// Other counters: "bus.published.<event>" per publish, "bus.delivered" per handler call.
// A subscription whose strand has been closed (plugin stopped) is removed at the next publish.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "stox/sdk/bus.hpp"
#include "stox/sdk/logger.hpp"

namespace stox::core {

class MetricsRegistry;
class PluginStrand;

/// The shared bus. Thread-safe.
class EventBusCore {
public:
    using ErasedHandler = std::function<void(const void*)>;
    EventBusCore(MetricsRegistry& metrics, sdk::Logger& log);
    ~EventBusCore();
    EventBusCore(const EventBusCore&) = delete;
    EventBusCore& operator=(const EventBusCore&) = delete;

    /// Any thread. The handler runs on `target`. An inactive Subscription is returned (and an
    /// error logged) for a null target, an empty handler or a closed strand.
    /// Unsubscribing (Subscription::reset or destruction) is safe from any thread, including
    /// from inside the handler; once it returns no further delivery of it starts (one already
    /// running on the plugin's strand, when unsubscribing from another thread, completes).
    [[nodiscard]] sdk::Subscription subscribe(std::string_view name, std::uint32_t version,
                                              ErasedHandler handler, sdk::SubscribeOptions options,
                                              std::shared_ptr<PluginStrand> target) noexcept;
    /// Any thread; never blocks on a delivery and never throws (failures are logged).
    void publish(std::string_view name, std::uint32_t version,
                 std::shared_ptr<const void> event) noexcept;
    /// Number of active subscriptions to (name, version).
    [[nodiscard]] std::size_t subscriber_count(std::string_view name, std::uint32_t version) const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

/// The sdk::EventBus a plugin sees: subscriptions land on that plugin's strand and published
/// events carry its id as origin.
class PluginBus final : public sdk::EventBus {
public:
    PluginBus(EventBusCore& core, std::shared_ptr<PluginStrand> strand, std::string origin);

protected:
    sdk::Subscription subscribe_erased(std::string_view name, std::uint32_t version,
                                       ErasedHandler handler,
                                       sdk::SubscribeOptions options) override;
    void publish_erased(std::string_view name, std::uint32_t version,
                        std::shared_ptr<const void> event) override;
    /// The origin is always this plugin's id (provenance cannot be forged); `at` is set to now
    /// when left empty.
    void stamp(sdk::EventMeta& meta) const noexcept override;

private:
    EventBusCore& core_;
    std::shared_ptr<PluginStrand> strand_;
    std::string origin_;
};

} // namespace stox::core
