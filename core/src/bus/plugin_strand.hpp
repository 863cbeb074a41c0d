// SPDX-License-Identifier: Apache-2.0
// One per plugin (and one for the core): an Asio strand plus a bound on the callbacks waiting
// on it. Everything that calls into a plugin goes through its strand, so plugin code is
// single-threaded by construction (house style §4.5).
#pragma once

#include <utility>  // before Asio: Boost 1.74 + g++ 12 + C++20 (peers.md G1)
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include "stox/sdk/executor.hpp"
#include "stox/sdk/logger.hpp"

namespace stox::core {

class MetricsRegistry;

class PluginStrand final : public sdk::Executor {
public:
    using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;

    /// `max_pending`: callbacks allowed to wait on this strand before try_post() refuses.
    PluginStrand(boost::asio::io_context& io, std::string owner, std::size_t max_pending,
                 MetricsRegistry& metrics, sdk::Logger& log);
    ~PluginStrand() override;

    /// sdk::Executor: the plugin posting to itself is never refused (it is not ingress), but it
    /// is counted in pending(). Every callback runs inside try/catch: an exception escaping
    /// plugin code is logged, counted (plugin.exceptions) and swallowed.
    void post(std::function<void()> fn) noexcept override;
    [[nodiscard]] sdk::TimerHandle after(std::chrono::milliseconds delay,
                                         std::function<void()> fn) noexcept override;
    [[nodiscard]] std::chrono::steady_clock::time_point now() const noexcept override;

    /// Bounded post used for ingress and bus deliveries: false (and nothing queued) when
    /// `max_pending` callbacks are already waiting, or after close().
    [[nodiscard]] bool try_post(std::function<void()> fn) noexcept;

    /// After close(), posts are refused/ignored and pending timers are cancelled. Callbacks
    /// already queued still run (so replies owed to peers are still sent) unless the plugin has
    /// been stopped; see docs/architecture.md.
    void close() noexcept;
    [[nodiscard]] bool closed() const noexcept;

    [[nodiscard]] std::size_t pending() const noexcept;
    [[nodiscard]] const std::string& owner() const noexcept { return owner_; }
    Strand& strand() noexcept { return strand_; }
    boost::asio::io_context& io_context() noexcept { return io_; }

private:
    struct State;
    boost::asio::io_context& io_;
    Strand strand_;
    std::string owner_;
    std::size_t max_pending_;
    MetricsRegistry& metrics_;
    sdk::Logger& log_;
    std::shared_ptr<State> state_;
};

} // namespace stox::core
