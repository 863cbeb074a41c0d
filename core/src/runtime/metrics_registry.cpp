// SPDX-License-Identifier: Apache-2.0
#include "runtime/metrics_registry.hpp"

namespace stox::core {

sdk::Counter& MetricsRegistry::counter(std::string_view name) noexcept {
    std::lock_guard lock(mu_);
    auto it = counters_.find(name);
    if (it == counters_.end())
        it = counters_.emplace(std::string(name), std::make_unique<AtomicCounter>()).first;
    return *it->second;
}

std::uint64_t MetricsRegistry::value(std::string_view name) const {
    std::lock_guard lock(mu_);
    auto it = counters_.find(name);
    return it == counters_.end() ? 0 : it->second->value();
}

std::map<std::string, std::uint64_t> MetricsRegistry::snapshot() const {
    std::lock_guard lock(mu_);
    std::map<std::string, std::uint64_t> out;
    for (const auto& [k, v] : counters_) out.emplace(k, v->value());
    return out;
}

} // namespace stox::core
