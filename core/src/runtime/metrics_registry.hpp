// SPDX-License-Identifier: Apache-2.0
// Process-wide counters (sdk::Metrics). Counters are never removed, so references stay valid.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "stox/sdk/metrics.hpp"

namespace stox::core {

class AtomicCounter final : public sdk::Counter {
public:
    void add(std::uint64_t n) noexcept override { v_.fetch_add(n, std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t value() const noexcept override {
        return v_.load(std::memory_order_relaxed);
    }

private:
    std::atomic<std::uint64_t> v_{0};
};

class MetricsRegistry final : public sdk::Metrics {
public:
    sdk::Counter& counter(std::string_view name) noexcept override;
    /// Value of a counter, 0 if it was never created.
    [[nodiscard]] std::uint64_t value(std::string_view name) const;
    /// Name -> value, sorted by name.
    [[nodiscard]] std::map<std::string, std::uint64_t> snapshot() const;

private:
    mutable std::mutex mu_;
    std::map<std::string, std::unique_ptr<AtomicCounter>, std::less<>> counters_;
};

} // namespace stox::core
