// SPDX-License-Identifier: Apache-2.0
#include "bus/plugin_strand.hpp"

#include <cstdint>
#include <exception>
#include <mutex>
#include <unordered_map>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "bus/noexcept_log.hpp"
#include "runtime/metrics_registry.hpp"

namespace stox::core {

using detail::log_noexcept;

// Everything a queued callback or a timer may touch after the PluginStrand object is gone.
struct PluginStrand::State {
    State(std::string owner_tag, MetricsRegistry& metrics, sdk::Logger& logger)
        : owner(std::move(owner_tag)), log(logger),
          exceptions(metrics.counter("plugin.exceptions")),
          owner_exceptions(metrics.counter("plugin.exceptions." + owner)),
          refused_closed(metrics.counter("strand.refused_closed")) {}

    /// Runs one plugin callback; nothing escapes (house style §4.6).
    void invoke(std::function<void()>& fn) noexcept {
        try {
            fn();
        } catch (const std::exception& e) {
            report(e.what());
        } catch (...) {
            report("non-standard exception");
        }
    }

    void report(const char* what) noexcept {
        exceptions.add(1);
        owner_exceptions.add(1);
        log_noexcept(log, sdk::LogLevel::Error, "plugin {}: exception escaped a callback: {}",
                     owner, what);
    }

    void refuse_closed(const char* what) noexcept {
        refused_closed.add(1);
        log_noexcept(log, sdk::LogLevel::Debug, "plugin {}: {} ignored, strand closed", owner,
                     what);
    }

    /// Removes a timer that fired or was cancelled from the close() list.
    void forget(std::uint64_t id) noexcept {
        std::lock_guard lock(mu);
        timers.erase(id);
    }

    const std::string owner;
    sdk::Logger& log;
    sdk::Counter& exceptions;
    sdk::Counter& owner_exceptions;
    sdk::Counter& refused_closed;
    std::atomic<std::size_t> pending{0};
    std::atomic<bool> closed{false};

    std::mutex mu; // guards the two members below
    std::uint64_t next_timer_id = 0;
    std::unordered_map<std::uint64_t, std::weak_ptr<Timer>> timers;
};

// One armed timer. Owned only by the Asio handlers that concern it (arm, wait, release), so
// it dies with them even if the io_context is destroyed first; the TimerHandle holds a
// TimerToken with a weak reference. The timer object and fn_ are only touched on the strand.
class PluginStrand::Timer final : public std::enable_shared_from_this<Timer> {
public:
    Timer(std::shared_ptr<State> state, const Strand& strand, std::uint64_t id,
          std::function<void()> fn)
        : state_(std::move(state)), strand_(strand), timer_(strand), id_(id), fn_(std::move(fn)) {}

    /// On the strand.
    void arm(std::chrono::milliseconds delay) noexcept {
        if (done_.load()) {
            fn_ = nullptr;
            return;
        }
        try {
            timer_.expires_after(delay);
            timer_.async_wait(boost::asio::bind_executor(
                strand_, [self = shared_from_this()](const boost::system::error_code& ec) {
                    self->fire(ec);
                }));
        } catch (const std::exception& e) {
            fail(e.what());
        }
    }

    /// Any thread. After it returns the callback does not start: fire() re-checks done_ on the
    /// strand, and whoever flips done_ first wins.
    void cancel() noexcept {
        if (done_.exchange(true)) return;
        state_->forget(id_);
        if (strand_.running_in_this_thread()) {
            release();
            return;
        }
        try {
            // Wake the wait now rather than at expiry, so fn_'s captures are freed promptly.
            boost::asio::post(strand_, [self = shared_from_this()] { self->release(); });
        } catch (...) {
            // Allocation failed: the wait completes at expiry, sees done_ and frees fn_ then.
        }
    }

private:
    void fire(const boost::system::error_code& ec) noexcept {
        if (done_.exchange(true)) {
            fn_ = nullptr;
            return;
        }
        state_->forget(id_);
        // Moved out first: the callback may cancel its own handle or post a new timer.
        std::function<void()> fn = std::move(fn_);
        fn_ = nullptr;
        if (ec) {
            // Only operation_aborted is expected, and it implies done_. Anything else is a
            // timer failure; the deadline has still passed as far as we can tell, so run it.
            log_noexcept(state_->log, sdk::LogLevel::Warn,
                         "plugin {}: timer wait failed ({}), running callback", state_->owner,
                         ec.value());
        }
        state_->invoke(fn);
    }

    void release() noexcept {
        try {
            timer_.cancel();
        } catch (...) {
            // cancel() only throws on a broken reactor; the wait then completes at expiry.
        }
        fn_ = nullptr;
    }

    void fail(const char* what) noexcept {
        done_.store(true);
        state_->forget(id_);
        fn_ = nullptr;
        log_noexcept(state_->log, sdk::LogLevel::Error, "plugin {}: could not arm timer: {}",
                     state_->owner, what);
    }

    std::shared_ptr<State> state_;
    Strand strand_;
    boost::asio::steady_timer timer_;
    const std::uint64_t id_;
    std::function<void()> fn_;
    std::atomic<bool> done_{false}; // fired or cancelled
};

class PluginStrand::TimerToken final : public sdk::Cancellable {
public:
    explicit TimerToken(std::weak_ptr<Timer> t) : t_(std::move(t)) {}
    void cancel() noexcept override {
        if (auto t = t_.lock()) t->cancel();
    }

private:
    std::weak_ptr<Timer> t_;
};

PluginStrand::PluginStrand(boost::asio::io_context& io, std::string owner, std::size_t max_pending,
                           MetricsRegistry& metrics, sdk::Logger& log)
    : io_(io), strand_(boost::asio::make_strand(io)), owner_(std::move(owner)),
      max_pending_(max_pending), metrics_(metrics), log_(log),
      state_(std::make_shared<State>(owner_, metrics_, log_)) {}

PluginStrand::~PluginStrand() {
    close();
}

bool PluginStrand::enqueue(std::function<void()>& fn) noexcept {
    try {
        boost::asio::post(strand_, [st = state_, f = std::move(fn)]() mutable {
            // Decremented when the callback starts, so it may re-post itself within the bound.
            st->pending.fetch_sub(1);
            st->invoke(f);
        });
        return true;
    } catch (const std::exception& e) {
        state_->pending.fetch_sub(1);
        log_noexcept(log_, sdk::LogLevel::Error, "plugin {}: could not queue a callback: {}",
                     owner_, e.what());
        return false;
    }
}

void PluginStrand::post(std::function<void()> fn) noexcept {
    if (!fn) {
        log_noexcept(log_, sdk::LogLevel::Error, "plugin {}: empty callback posted, ignored",
                     owner_);
        return;
    }
    if (closed()) {
        state_->refuse_closed("post");
        return;
    }
    state_->pending.fetch_add(1);
    enqueue(fn);
}

bool PluginStrand::try_post(std::function<void()> fn) noexcept {
    if (!fn) {
        log_noexcept(log_, sdk::LogLevel::Error, "plugin {}: empty callback offered, refused",
                     owner_);
        return false;
    }
    if (closed()) return false; // the caller counts and logs the refusal
    std::size_t n = state_->pending.load();
    do {
        if (n >= max_pending_) return false;
    } while (!state_->pending.compare_exchange_weak(n, n + 1));
    return enqueue(fn);
}

sdk::TimerHandle PluginStrand::after(std::chrono::milliseconds delay,
                                     std::function<void()> fn) noexcept {
    if (!fn) {
        log_noexcept(log_, sdk::LogLevel::Error, "plugin {}: timer with empty callback ignored",
                     owner_);
        return {};
    }
    std::shared_ptr<Timer> timer;
    try {
        {
            // Registered under the lock that close() takes, so close() cannot miss it.
            std::lock_guard lock(state_->mu);
            if (!state_->closed.load()) {
                const std::uint64_t id = state_->next_timer_id++;
                timer = std::make_shared<Timer>(state_, strand_, id, std::move(fn));
                state_->timers.emplace(id, timer);
            }
        }
        if (!timer) {
            state_->refuse_closed("timer");
            return {};
        }
        sdk::TimerHandle handle(std::make_shared<TimerToken>(timer));
        if (strand_.running_in_this_thread()) {
            timer->arm(delay);
        } else {
            // steady_timer is not thread-safe: arm it on the strand, where it is cancelled.
            boost::asio::post(strand_, [timer, delay] { timer->arm(delay); });
        }
        return handle;
    } catch (const std::exception& e) {
        if (timer) timer->cancel(); // unregisters it
        log_noexcept(log_, sdk::LogLevel::Error, "plugin {}: could not create timer: {}", owner_,
                     e.what());
        return {};
    }
}

std::chrono::steady_clock::time_point PluginStrand::now() const noexcept {
    return std::chrono::steady_clock::now();
}

void PluginStrand::close() noexcept {
    state_->closed.store(true);
    std::unordered_map<std::uint64_t, std::weak_ptr<Timer>> armed; // swap: no allocation
    {
        std::lock_guard lock(state_->mu);
        armed.swap(state_->timers);
    }
    for (auto& [id, w] : armed)
        if (auto t = w.lock()) t->cancel();
}

bool PluginStrand::closed() const noexcept {
    return state_->closed.load();
}

std::size_t PluginStrand::pending() const noexcept {
    return state_->pending.load();
}

} // namespace stox::core
