// SPDX-License-Identifier: Apache-2.0
#include "store/memory_store.hpp"

#include <utility>
#include <vector>

namespace stox::presence::store {

void MemoryStore::put_watcher(WatcherRecord record) {
    std::lock_guard lk(mu_);
    auto key = record.key;
    watchers_.insert_or_assign(std::move(key), std::move(record));
}

void MemoryStore::erase_watcher(const WatcherKey& key) {
    std::lock_guard lk(mu_);
    watchers_.erase(key);
}

void MemoryStore::put_notifier(NotifierRecord record) {
    std::lock_guard lk(mu_);
    auto key = record.key;
    notifiers_.insert_or_assign(std::move(key), std::move(record));
}

void MemoryStore::erase_notifier(const NotifierKey& key) {
    std::lock_guard lk(mu_);
    notifiers_.erase(key);
}

sdk::Result<LoadStats> MemoryStore::load_all(const LoadVisitor& visitor) {
    // Copy under the lock, visit outside it: a visitor may call put_* (e.g. to repair a record).
    std::vector<WatcherRecord> ws;
    std::vector<NotifierRecord> ns;
    {
        std::lock_guard lk(mu_);
        ws.reserve(watchers_.size());
        for (const auto& [k, v] : watchers_) ws.push_back(v);
        ns.reserve(notifiers_.size());
        for (const auto& [k, v] : notifiers_) ns.push_back(v);
    }
    LoadStats stats;
    stats.watchers = ws.size();
    stats.notifiers = ns.size();
    if (visitor.on_watcher)
        for (auto& w : ws) visitor.on_watcher(std::move(w));
    if (visitor.on_notifier)
        for (auto& n : ns) visitor.on_notifier(std::move(n));
    return stats;
}

std::size_t MemoryStore::watcher_count() const {
    std::lock_guard lk(mu_);
    return watchers_.size();
}

std::size_t MemoryStore::notifier_count() const {
    std::lock_guard lk(mu_);
    return notifiers_.size();
}

} // namespace stox::presence::store
