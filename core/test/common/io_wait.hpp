// SPDX-License-Identifier: Apache-2.0
// io_context drivers shared by the core's unit tests and the loader tests: they wait on a
// predicate instead of sleeping (run handlers, or yield, until it holds or a generous bound
// passes).
#pragma once

#include <utility> // before Asio: Boost 1.74 + g++ 12 + C++20 (peers.md G1)
#include <chrono>
#include <functional>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace stox::core::test {

using namespace std::chrono_literals;

/// Generous upper bound for every wait: the machine is shared and may run under TSan.
inline constexpr std::chrono::milliseconds kWaitLimit = 20s;

/// Runs `io` on the calling thread until `done()` holds; false if the bound passed first.
inline bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
                      std::chrono::milliseconds limit = kWaitLimit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        if (io.stopped()) io.restart();
        io.run_one_for(5ms);
    }
    return true;
}

/// Runs every handler that is ready now (no waiting on timers).
inline void drain(boost::asio::io_context& io) {
    if (io.stopped()) io.restart();
    io.poll();
}

/// `n` threads running `io` for the life of this object.
class IoThreads {
public:
    IoThreads(boost::asio::io_context& io, int n) : io_(io), guard_(io.get_executor()) {
        for (int i = 0; i < n; ++i) threads_.emplace_back([this] { io_.run(); });
    }
    ~IoThreads() { stop(); }
    IoThreads(const IoThreads&) = delete;
    IoThreads& operator=(const IoThreads&) = delete;
    void stop() {
        guard_.reset();
        io_.stop();
        for (auto& t : threads_)
            if (t.joinable()) t.join();
    }

private:
    boost::asio::io_context& io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
    std::vector<std::thread> threads_;
};

/// Waits (yielding) until `done()` holds, while other threads run the io_context.
inline bool wait_until(const std::function<bool()>& done,
                       std::chrono::milliseconds limit = kWaitLimit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::yield();
    }
    return true;
}

/// Keeps every line; thread-safe.

} // namespace stox::core::test
