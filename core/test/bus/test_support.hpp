// SPDX-License-Identifier: Apache-2.0
// Helpers for the bus tests: a recording logger, io_context drivers that wait on a predicate
// (no sleeps: they run handlers, or yield, until the predicate holds or a generous bound
// passes), and a fake SIP server transaction.
#pragma once

#include <utility> // before Asio: Boost 1.74 + g++ 12 + C++20 (peers.md G1)
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "../common/io_wait.hpp"
#include "stox/sdk/logger.hpp"
#include "stox/sdk/sip.hpp"

namespace stox::core::test {

using namespace std::chrono_literals;

class RecordingLogger final : public sdk::Logger {
public:
    struct Line {
        sdk::LogLevel level;
        std::string message;
    };
    [[nodiscard]] bool enabled(sdk::LogLevel) const noexcept override { return true; }
    void write(sdk::LogLevel level, std::string_view message,
               std::initializer_list<sdk::LogField>) noexcept override {
        std::lock_guard lock(mu_);
        lines_.push_back({level, std::string(message)});
    }
    [[nodiscard]] std::vector<Line> lines() const {
        std::lock_guard lock(mu_);
        return lines_;
    }
    /// Lines at `level` containing `needle`.
    [[nodiscard]] std::size_t count(sdk::LogLevel level, std::string_view needle = {}) const {
        std::lock_guard lock(mu_);
        std::size_t n = 0;
        for (const auto& l : lines_)
            if (l.level == level && l.message.find(needle) != std::string::npos) ++n;
        return n;
    }
    [[nodiscard]] bool contains(std::string_view needle) const {
        std::lock_guard lock(mu_);
        for (const auto& l : lines_)
            if (l.message.find(needle) != std::string::npos) return true;
        return false;
    }

private:
    mutable std::mutex mu_;
    std::vector<Line> lines_;
};

/// Records the responses it is given. The real one (SIP endpoint) answers 500 when dropped
/// unanswered; this fake only records, so tests can see what the router did.
class FakeSipTransaction final : public sdk::SipServerTransaction {
public:
    explicit FakeSipTransaction(sdk::SipRequest request) : request_(std::move(request)) {}
    [[nodiscard]] const sdk::SipRequest& request() const noexcept override { return request_; }
    void respond(sdk::SipResponse response) noexcept override {
        std::lock_guard lock(mu_);
        if (response.status >= 200) answered_.store(true);
        responses_.push_back(std::move(response));
    }
    [[nodiscard]] bool answered() const noexcept override { return answered_.load(); }
    [[nodiscard]] std::vector<sdk::SipResponse> responses() const {
        std::lock_guard lock(mu_);
        return responses_;
    }
    /// The only response; fails the test (by returning a 0 status) if there is not exactly one.
    [[nodiscard]] sdk::SipResponse only_response() const {
        auto r = responses();
        return r.size() == 1 ? r.front() : sdk::SipResponse{};
    }

private:
    const sdk::SipRequest request_;
    mutable std::mutex mu_;
    std::vector<sdk::SipResponse> responses_;
    std::atomic<bool> answered_{false};
};

inline sdk::SipRequest make_request(std::string method, std::vector<sdk::SipHeader> headers = {},
                                    std::string body = {}) {
    sdk::SipRequest r;
    r.method = std::move(method);
    r.request_uri = "sip:juliet@example.net";
    r.headers = std::move(headers);
    r.body = std::move(body);
    return r;
}

} // namespace stox::core::test
