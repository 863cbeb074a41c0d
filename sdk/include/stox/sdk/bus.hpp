// SPDX-License-Identifier: Apache-2.0
/// \file bus.hpp
/// Fan-out notifications between the core and plugins. Events are plain immutable structs
/// with a stable name and version (no RTTI crosses the plugin boundary):
///
///   struct MyEvent { static constexpr std::string_view kName = "area.happened";
///                    static constexpr std::uint32_t kVersion = 1; EventMeta meta; ... };
///
/// A handler runs on the subscribing plugin's strand. Each subscription has a bounded queue:
/// when it is full the newest event is refused for that subscriber, counted
/// (bus.dropped{event}) and logged at warn; the publisher never blocks.
/// Thread context: publish/subscribe are safe from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace stox::sdk {

/// Correlation and provenance carried by every event.
struct EventMeta {
    std::string trace_id; ///< minted at ingress (from Call-ID or stanza id)
    std::string origin;   ///< "core" or the publishing plugin's id (filled by the bus)
    std::chrono::system_clock::time_point at{}; ///< filled by the bus when left empty
};

struct SubscribeOptions {
    std::uint32_t max_queue = 10'000; ///< events waiting for this subscriber before refusal
};

/// Implemented by the core: removes one subscription.
class SubscriptionToken {
public:
    virtual ~SubscriptionToken() = default;
    virtual void unsubscribe() noexcept = 0;
};

/// Move-only RAII subscription, like signals2::scoped_connection. Safe to destroy anywhere.
class Subscription {
public:
    Subscription() = default;
    explicit Subscription(std::shared_ptr<SubscriptionToken> t) : t_(std::move(t)) {}
    Subscription(Subscription&&) noexcept = default;
    Subscription& operator=(Subscription&& o) noexcept {
        if (this != &o) {
            reset();
            t_ = std::move(o.t_);
        }
        return *this;
    }
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;
    ~Subscription() { reset(); }
    void reset() noexcept {
        if (t_) t_->unsubscribe();
        t_.reset();
    }
    [[nodiscard]] bool active() const noexcept { return t_ != nullptr; }

private:
    std::shared_ptr<SubscriptionToken> t_;
};

class EventBus {
public:
    virtual ~EventBus() = default;

    template <class E>
    [[nodiscard]] Subscription subscribe(std::function<void(const E&)> handler,
                                         SubscribeOptions options = {}) {
        return subscribe_erased(
            E::kName, E::kVersion,
            [h = std::move(handler)](const void* e) { h(*static_cast<const E*>(e)); }, options);
    }

    /// Fire-and-forget fan-out; the payload is shared immutably between subscribers.
    template <class E> void publish(E event) {
        auto p = std::make_shared<E>(std::move(event));
        stamp(p->meta);
        publish_erased(E::kName, E::kVersion, std::shared_ptr<const void>(p, p.get()));
    }

protected:
    using ErasedHandler = std::function<void(const void*)>;
    virtual Subscription subscribe_erased(std::string_view name, std::uint32_t version,
                                          ErasedHandler handler, SubscribeOptions options) = 0;
    virtual void publish_erased(std::string_view name, std::uint32_t version,
                                std::shared_ptr<const void> event) = 0;
    /// Fills origin and time in the event's meta.
    virtual void stamp(EventMeta& meta) const noexcept = 0;
};

} // namespace stox::sdk
