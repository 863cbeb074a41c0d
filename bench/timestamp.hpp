// SPDX-License-Identifier: Apache-2.0
// The send timestamp every benchmark message carries in its body: "s=SECONDS u=1XXXXXX" where
// u is 1000000 + microseconds (sipp's gettimeofday action cannot zero-pad, the offset keeps 7
// digits). Both ends use CLOCK_REALTIME on the same machine.
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace bench {

inline double now_us() {
    return static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

/// Writes "s=SEC u=1USEC" for now.
inline std::string stamp() {
    auto us = static_cast<long long>(now_us());
    char buf[48];
    std::snprintf(buf, sizeof buf, "s=%lld u=%lld", us / 1000000, 1000000 + us % 1000000);
    return buf;
}

/// The send time in microseconds since the epoch, or 0 when `text` holds no stamp.
inline double parse_stamp_us(std::string_view text) {
    auto s = text.find("s=");
    auto u = text.find("u=", s == std::string_view::npos ? 0 : s);
    if (s == std::string_view::npos || u == std::string_view::npos) return 0;
    double sec = std::strtod(std::string(text.substr(s + 2, 16)).c_str(), nullptr);
    double usec = std::strtod(std::string(text.substr(u + 2, 16)).c_str(), nullptr) - 1e6;
    return sec > 0 && usec >= 0 ? sec * 1e6 + usec : 0;
}

} // namespace bench
