// SPDX-License-Identifier: Apache-2.0
// Storm control of the presence plugin (issue: rapid changes coalesced, per-watcher and global
// rates bounded, refreshes spread with jitter). Pure logic over a caller-supplied clock, so that
// it is tested with virtual time.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

namespace stox::plugins::presence {

using Clock = std::chrono::steady_clock;

/// Token bucket: `rate` tokens per second, at most `burst` saved. rate <= 0 means unlimited.
class TokenBucket {
public:
    TokenBucket() = default;
    TokenBucket(double rate, double burst)
        : rate_(rate), burst_(std::max(burst, 1.0)), tokens_(burst_) {}

    /// Takes one token if available.
    bool try_take(Clock::time_point now) {
        if (rate_ <= 0) return true;
        refill(now);
        if (tokens_ < 1.0) return false;
        tokens_ -= 1.0;
        return true;
    }
    /// How long until one token is available (0 when one is).
    [[nodiscard]] std::chrono::milliseconds wait_time(Clock::time_point now) {
        if (rate_ <= 0) return std::chrono::milliseconds(0);
        refill(now);
        if (tokens_ >= 1.0) return std::chrono::milliseconds(0);
        return std::chrono::milliseconds(
            static_cast<std::int64_t>((1.0 - tokens_) * 1000.0 / rate_) + 1);
    }

private:
    void refill(Clock::time_point now) {
        if (last_ != Clock::time_point{}) {
            double dt = std::chrono::duration<double>(now - last_).count();
            tokens_ = std::min(burst_, tokens_ + dt * rate_);
        }
        last_ = now;
    }
    double rate_ = 0;
    double burst_ = 1;
    double tokens_ = 1;
    Clock::time_point last_{};
};

/// A-23 refresh point with jitter: the earlier of 85 % of the interval and `expires - 32 s`
/// (at least 5 s), then spread uniformly over [point - jitter*point, point] so that
/// subscriptions created together do not refresh in the same second.
inline std::chrono::milliseconds refresh_delay(std::uint32_t expires_s, double jitter,
                                               std::mt19937_64& rng) {
    double point = std::min(0.85 * expires_s, static_cast<double>(expires_s) - 32.0);
    point = std::max(point, 5.0);
    if (jitter > 0) {
        std::uniform_real_distribution<double> d(1.0 - std::min(jitter, 0.9), 1.0);
        point *= d(rng);
    }
    return std::chrono::milliseconds(static_cast<std::int64_t>(point * 1000.0));
}

} // namespace stox::plugins::presence
