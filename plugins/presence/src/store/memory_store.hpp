// SPDX-License-Identifier: Apache-2.0
/// \file memory_store.hpp
/// In-memory SubscriptionStore: unit tests of the plugin, and the `store: "memory"` option for
/// deployments that accept losing subscriptions on restart (subscribers then re-subscribe when
/// their dialogs fail, RFC 6665 §4.1.2.2).
#pragma once

#include <map>
#include <mutex>

#include "store/subscription_store.hpp"

namespace stox::presence::store {

class MemoryStore final : public SubscriptionStore {
public:
    void put_watcher(WatcherRecord record) override;
    void erase_watcher(const WatcherKey& key) override;
    void put_notifier(NotifierRecord record) override;
    void erase_notifier(const NotifierKey& key) override;
    sdk::Result<LoadStats> load_all(const LoadVisitor& visitor) override;
    sdk::Status flush() override { return {}; }
    [[nodiscard]] sdk::Status health() const override { return {}; }

    /// Test helpers: current contents.
    [[nodiscard]] std::size_t watcher_count() const;
    [[nodiscard]] std::size_t notifier_count() const;

private:
    mutable std::mutex mu_;
    std::map<WatcherKey, WatcherRecord> watchers_;
    std::map<NotifierKey, NotifierRecord> notifiers_;
};

} // namespace stox::presence::store
