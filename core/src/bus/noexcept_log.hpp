// SPDX-License-Identifier: Apache-2.0
// Logging from noexcept code in the bus module: formatting may throw (allocation), and a failed
// log line must not terminate the gateway. Callers count the event in a metric as well, so a
// lost line never means a lost record (house style §4.6).
#pragma once

#include <string_view>

#include "stox/sdk/format.hpp"
#include "stox/sdk/logger.hpp"

namespace stox::core::detail {

template <class... A>
void log_noexcept(sdk::Logger& log, sdk::LogLevel level, std::string_view fmt,
                  const A&... args) noexcept {
    try {
        if (log.enabled(level)) log.write(level, sdk::format(fmt, args...));
    } catch (...) {
        // Nothing to do: the caller's counter still records what happened.
    }
}

} // namespace stox::core::detail
