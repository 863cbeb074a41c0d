// SPDX-License-Identifier: Apache-2.0
// What both roles of the presence plugin share: configuration, the plugin context, the store,
// clocks, identifiers and global rate limits.
//   W-X (watcher_role.*):  an XMPP user watches a SIP contact; the gateway is the SIP subscriber.
//   W-S (notifier_role.*): a SIP user watches an XMPP contact; the gateway is the SIP notifier.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "stox/sdk/context.hpp"
#include "stox/sdk/plugin.hpp"
#include "storm_control.hpp"
#include "store/subscription_store.hpp"

namespace stox::plugins::presence {

namespace store = stox::presence::store;

struct PresenceConfig {
    // --- RFC 6665 timing (A-23) ---
    std::uint32_t subscribe_expires = 3600;    ///< W-X: Expires of our SUBSCRIBEs
    std::uint32_t max_expires = 3600;          ///< W-S: longest interval granted
    std::uint32_t min_expires = 60;            ///< W-S: shorter requests get 423 + Min-Expires
    std::chrono::milliseconds timer_n{32000};  ///< W-X: wait for the first NOTIFY (64*T1)
    std::chrono::milliseconds poll_wait{1500}; ///< W-S poll without cache (A-17)
    std::uint32_t backoff_initial_s = 60;      ///< W-X resubscribe backoff (A-22)
    std::uint32_t backoff_max_s = 3600;
    double refresh_jitter = 0.2; ///< fraction of the refresh interval spread randomly
    // --- storm control ---
    std::chrono::milliseconds coalesce_window{200}; ///< W-S: one NOTIFY per dialog per window
    /// W-S: NOTIFYs awaiting their final response, all dialogs together; more wait their turn
    /// (a fan-out of 10,000 at once overflows UDP buffers and sofia's retransmission lists).
    std::size_t max_notifies_in_flight = 256;
    double subscribe_rate = 2000;           ///< W-S: incoming SUBSCRIBEs per second (all watchers)
    double subscribe_rate_per_watcher = 10; ///< W-S: per watcher AOR (burst = 2x)
    double outgoing_subscribe_rate = 200;   ///< W-X: SUBSCRIBEs sent per second (queued beyond)
    std::uint32_t overload_retry_after_s = 5;
    std::size_t max_watchers = 1000000;  ///< W-X authorizations kept
    std::size_t max_notifiers = 1000000; ///< W-S authorizations kept
    // --- policy ---
    bool restrict_from_domains = true; ///< PRES-SEC-3: W-S From must be in our SIP domains
    bool probe_before_refresh = false; ///< PRES-SEC-4 probe from the gateway before refreshes
    /// PRES-SEC-1/2: XMPP domains whose users may subscribe to SIP contacts (empty: any).
    std::vector<std::string> xmpp_domains;
};

/// Shared state of the plugin; lives as long as the plugin. Strand-confined.
class Shared {
public:
    Shared(sdk::PluginContext& c, PresenceConfig config, store::SubscriptionStore& s)
        : ctx(c), cfg(config), store(s), rng(std::random_device{}()),
          unix_at_start_(std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count()),
          steady_at_start_(c.executor().now()) {}

    sdk::PluginContext& ctx;
    PresenceConfig cfg;
    store::SubscriptionStore& store;
    std::mt19937_64 rng;

    /// Wall-clock seconds, advanced by the executor's clock (so tests can move time).
    [[nodiscard]] std::int64_t unix_now() const {
        return unix_at_start_ + std::chrono::duration_cast<std::chrono::seconds>(
                                    ctx.executor().now() - steady_at_start_)
                                    .count();
    }
    [[nodiscard]] Clock::time_point now() const { return ctx.executor().now(); }
    /// Contact routing back to the gateway for dialogs of `user`.
    [[nodiscard]] std::string contact_uri(std::string_view user) const {
        if (auto* d = sdk::sip_dialog_support(ctx)) return d->contact_uri(user);
        return {};
    }
    [[nodiscard]] std::string component_domain() const { return ctx.xmpp().component_domain(); }

private:
    std::int64_t unix_at_start_;
    Clock::time_point steady_at_start_;
};

} // namespace stox::plugins::presence
