// SPDX-License-Identifier: Apache-2.0
// Fan-out notifications (house style §4.5, channel 2). The handler table is copy-on-write:
// publish() takes no lock while delivering. Each delivery is posted to the subscriber's strand
// with try_post(); a full subscriber queue (SubscribeOptions::max_queue, or the strand's own
// bound) refuses that delivery, counts it in "bus.dropped" and "bus.dropped.<event>" and logs a
// warning: never silent, never blocking the publisher.
#pragma once

#include <cstdint>
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

    [[nodiscard]] sdk::Subscription subscribe(std::string_view name, std::uint32_t version,
                                              ErasedHandler handler, sdk::SubscribeOptions options,
                                              std::shared_ptr<PluginStrand> target);
    void publish(std::string_view name, std::uint32_t version, std::shared_ptr<const void> event);
    /// Number of live subscriptions to (name, version).
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
                                       ErasedHandler handler, sdk::SubscribeOptions options) override;
    void publish_erased(std::string_view name, std::uint32_t version,
                        std::shared_ptr<const void> event) override;
    void stamp(sdk::EventMeta& meta) const noexcept override;

private:
    EventBusCore& core_;
    std::shared_ptr<PluginStrand> strand_;
    std::string origin_;
};

} // namespace stox::core
