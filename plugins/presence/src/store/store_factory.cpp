// SPDX-License-Identifier: Apache-2.0
#include "store/memory_store.hpp"
#include "store/sqlite_store.hpp"

namespace stox::presence::store {

sdk::Result<std::unique_ptr<SubscriptionStore>> open_store(const StoreOptions& options) {
    if (options.kind == StoreOptions::Kind::memory)
        return std::unique_ptr<SubscriptionStore>(std::make_unique<MemoryStore>());
    auto r = SqliteStore::open(options);
    if (!r) return r.status();
    return std::unique_ptr<SubscriptionStore>(std::move(r).value());
}

} // namespace stox::presence::store
