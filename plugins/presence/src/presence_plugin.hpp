// SPDX-License-Identifier: Apache-2.0
// The presence plugin (RFC 8048): routes SUBSCRIBE/NOTIFY and <presence/> to the two roles,
// owns the durable store and reads the configuration.
#pragma once

#include <memory>

#include "notifier_role.hpp"
#include "presence_shared.hpp"
#include "stox/sdk/plugin.hpp"
#include "watcher_role.hpp"

namespace stox::plugins::presence {

/// Reads the plugin's config section (defaults come from the manifest schema).
sdk::Result<PresenceConfig> read_config(const sdk::ConfigView& view);
sdk::Result<store::StoreOptions> read_store_options(const sdk::ConfigView& view);

class PresencePlugin final : public sdk::Plugin {
public:
    PresencePlugin() = default;
    /// For tests: use this store instead of opening the configured one.
    explicit PresencePlugin(store::SubscriptionStore* injected) : injected_store_(injected) {}
    ~PresencePlugin() override;

    sdk::Status start(sdk::PluginContext& ctx) noexcept override;
    void stop() noexcept override;

    [[nodiscard]] std::size_t watchers() const { return watcher_ ? watcher_->size() : 0; }
    [[nodiscard]] std::size_t notifiers() const { return notifier_ ? notifier_->size() : 0; }

private:
    void on_sip(const std::shared_ptr<sdk::SipServerTransaction>& tx);
    void on_stanza(const sdk::Stanza& stanza);

    sdk::PluginContext* ctx_ = nullptr;
    store::SubscriptionStore* injected_store_ = nullptr;
    std::unique_ptr<store::SubscriptionStore> owned_store_;
    std::unique_ptr<Shared> shared_;
    std::unique_ptr<WatcherRole> watcher_;
    std::unique_ptr<NotifierRole> notifier_;
    sdk::TimerHandle health_timer_;
};

} // namespace stox::plugins::presence
