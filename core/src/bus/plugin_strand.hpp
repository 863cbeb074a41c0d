// SPDX-License-Identifier: Apache-2.0
// One per plugin (and one for the core): an Asio strand plus a bound on the callbacks waiting
// on it. Everything that calls into a plugin goes through its strand, so plugin code is
// single-threaded by construction (house style §4.5).
//
// Threading model (copied into docs/architecture.md)
// ---------------------------------------------------
// * One boost::asio::io_context, run by N threads (config `core.threads`).
// * Each plugin has exactly one PluginStrand. Every callback into a plugin runs on it: event
//   deliveries, ingress handlers (SIP requests, stanzas), service completions, timers, start,
//   reconfigure and stop. Two callbacks of one plugin never run concurrently, and each sees the
//   memory effects of the previous one, so plugin code needs no locks. Different plugins run in
//   parallel; a slow plugin delays only itself.
// * Posting is allowed from any thread. Ingress and bus deliveries use try_post(), which is
//   bounded (`max_pending` callbacks waiting) and refuses rather than blocks; the caller turns a
//   refusal into a counted, logged drop (bus) or an overload answer (SIP 503 / <wait/>). A
//   plugin posting to itself (post()) is never refused while the strand is open, but it is
//   counted in pending(), so a plugin flooding itself sheds its own ingress first.
// * Every callback runs inside try/catch(...): an exception escaping plugin code is logged at
//   error with the owner tag and counted (`plugin.exceptions`, `plugin.exceptions.<owner>`);
//   it never reaches the io_context threads.
// * Timers (after()) are steady_timers whose waits complete on the strand. A TimerHandle may be
//   cancelled from any thread; once cancel() returns, the callback does not start (from the
//   strand itself this is exact: the check happens on the strand). Destroying the handle
//   cancels the timer.
// * close() is final: new posts and timers are refused, armed timers are cancelled; callbacks
//   already queued still run, in order, so replies owed to peers are still sent and a stop()
//   posted after close() with boost::asio::post(strand(), ...) runs last.
// * Subscribing/unsubscribing on the bus is thread-safe. The bus handler table is copy-on-write
//   (std::shared_ptr<const Table> swapped under a mutex); publish() loads it and releases the
//   lock before posting, so a publisher never waits for a delivery.
// * Lifetime: queued callbacks and timers own a std::shared_ptr to the strand's shared State
//   (counters, logger, pending count), never the PluginStrand object, so they may outlive it.
//   A TimerHandle only holds a weak reference to its timer: a handle kept past the io_context
//   is inert. The MetricsRegistry and Logger passed in must outlive the io_context's handlers.
//   A PluginStrand, and whatever holds one (subscriptions, router entries), must be destroyed
//   before its io_context: an Asio strand unlinks itself from the io_context's strand service.
#pragma once

#include <utility> // before Asio: Boost 1.74 + g++ 12 + C++20 (peers.md G1)
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
    /// Closes the strand (timers cancelled). Queued callbacks may still run afterwards: they
    /// only touch the shared state.
    ~PluginStrand() override;
    PluginStrand(const PluginStrand&) = delete;
    PluginStrand& operator=(const PluginStrand&) = delete;

    /// sdk::Executor: the plugin posting to itself is never refused (it is not ingress), but it
    /// is counted in pending(). Every callback runs inside try/catch: an exception escaping
    /// plugin code is logged, counted (plugin.exceptions) and swallowed. Ignored (logged at
    /// debug, counted in strand.refused_closed) after close().
    void post(std::function<void()> fn) noexcept override;
    /// An empty handle when the strand is closed.
    [[nodiscard]] sdk::TimerHandle after(std::chrono::milliseconds delay,
                                         std::function<void()> fn) noexcept override;
    [[nodiscard]] std::chrono::steady_clock::time_point now() const noexcept override;

    /// Bounded post used for ingress and bus deliveries: false (and nothing queued) when
    /// `max_pending` callbacks are already waiting, or after close().
    [[nodiscard]] bool try_post(std::function<void()> fn) noexcept;

    /// After close(), posts are refused/ignored and pending timers are cancelled. Callbacks
    /// already queued still run (so replies owed to peers are still sent) unless the plugin has
    /// been stopped; see docs/architecture.md. Safe from any thread; idempotent.
    void close() noexcept;
    [[nodiscard]] bool closed() const noexcept;

    /// Callbacks posted and not yet started (timers are not counted until they fire).
    [[nodiscard]] std::size_t pending() const noexcept;
    [[nodiscard]] std::size_t max_pending() const noexcept { return max_pending_; }
    [[nodiscard]] const std::string& owner() const noexcept { return owner_; }
    Strand& strand() noexcept { return strand_; }
    boost::asio::io_context& io_context() noexcept { return io_; }

private:
    struct State;
    class Timer;
    class TimerToken;
    /// Queues fn (already counted in pending) on the strand; false if allocation failed.
    bool enqueue(std::function<void()>& fn) noexcept;

    boost::asio::io_context& io_;
    Strand strand_;
    std::string owner_;
    std::size_t max_pending_;
    MetricsRegistry& metrics_;
    sdk::Logger& log_;
    std::shared_ptr<State> state_;
};

} // namespace stox::core
