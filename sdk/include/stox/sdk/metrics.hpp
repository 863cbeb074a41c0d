// SPDX-License-Identifier: Apache-2.0
/// \file metrics.hpp
/// Counters. Every log line a test or an operator depends on should also be a counter.
/// Names are dotted ("im.delivered"); the core prefixes nothing, so pick plugin-unique names.
/// Thread context: safe from any thread; counters live as long as the gateway.
#pragma once

#include <cstdint>
#include <string_view>

namespace stox::sdk {

class Counter {
public:
    virtual ~Counter() = default;
    virtual void add(std::uint64_t n = 1) noexcept = 0;
    [[nodiscard]] virtual std::uint64_t value() const noexcept = 0;
};

class Metrics {
public:
    virtual ~Metrics() = default;
    /// Returns the counter with this name, creating it on first use. The reference stays valid
    /// for the life of the process.
    virtual Counter& counter(std::string_view name) noexcept = 0;
};

} // namespace stox::sdk
