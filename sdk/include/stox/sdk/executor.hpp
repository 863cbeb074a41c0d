// SPDX-License-Identifier: Apache-2.0
/// \file executor.hpp
/// The plugin's strand: everything posted here runs serially with every other callback into
/// the same plugin (event deliveries, ingress handlers, service completions, timers), so plugin
/// code needs no locks. Thread context: post() and after() are safe from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <utility>

namespace stox::sdk {

/// Implemented by the core; lets a TimerHandle cancel its timer.
class Cancellable {
public:
    virtual ~Cancellable() = default;
    virtual void cancel() noexcept = 0;
};

/// Owning handle of a pending timer. Destroying or resetting it cancels the timer
/// (RAII, like a scoped connection). A cancelled timer's callback never runs.
class TimerHandle {
public:
    TimerHandle() = default;
    explicit TimerHandle(std::shared_ptr<Cancellable> c) : c_(std::move(c)) {}
    TimerHandle(TimerHandle&&) noexcept = default;
    TimerHandle& operator=(TimerHandle&& other) noexcept {
        if (this != &other) {
            cancel();
            c_ = std::move(other.c_);
        }
        return *this;
    }
    TimerHandle(const TimerHandle&) = delete;
    TimerHandle& operator=(const TimerHandle&) = delete;
    ~TimerHandle() { cancel(); }
    void cancel() noexcept {
        if (c_) c_->cancel();
        c_.reset();
    }
    /// Let the timer fire even though this handle goes away.
    void detach() noexcept { c_.reset(); }
    [[nodiscard]] bool armed() const noexcept { return c_ != nullptr; }

private:
    std::shared_ptr<Cancellable> c_;
};

class Executor {
public:
    virtual ~Executor() = default;
    /// Run fn on the plugin's strand, after the current callback returns.
    virtual void post(std::function<void()> fn) noexcept = 0;
    /// Run fn on the plugin's strand once `delay` has elapsed, unless cancelled first.
    [[nodiscard]] virtual TimerHandle after(std::chrono::milliseconds delay,
                                            std::function<void()> fn) noexcept = 0;
    [[nodiscard]] virtual std::chrono::steady_clock::time_point now() const noexcept = 0;
};

} // namespace stox::sdk
