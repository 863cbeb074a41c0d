// SPDX-License-Identifier: Apache-2.0
/// \file logger.hpp
/// Logging facade implemented by the core. A plugin's logger is already tagged with the
/// plugin id. Rule: message bodies are logged at Debug level or below, never above.
/// Thread context: safe to call from any thread.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "stox/sdk/format.hpp"

namespace stox::sdk {

enum class LogLevel : std::uint8_t { Trace = 0, Debug = 1, Info = 2, Warn = 3, Error = 4, Off = 5 };

/// A structured field attached to one log line (shown as key=value, or as JSON members).
struct LogField {
    std::string_view key;
    std::string_view value;
};

class Logger {
public:
    virtual ~Logger() = default;
    /// Cheap check so callers do not format lines that would be dropped.
    [[nodiscard]] virtual bool enabled(LogLevel level) const noexcept = 0;
    virtual void write(LogLevel level, std::string_view message,
                       std::initializer_list<LogField> fields = {}) noexcept = 0;
};

} // namespace stox::sdk

/// STOX_LOG_INFO(ctx.log(), "subscribed {} to {}", from, to)
#define STOX_LOG_AT(logger, level, ...)                                                            \
    do {                                                                                           \
        auto& stox_log_ref_ = (logger);                                                            \
        if (stox_log_ref_.enabled(level))                                                          \
            stox_log_ref_.write(level, ::stox::sdk::format(__VA_ARGS__));                          \
    } while (0)
#define STOX_LOG_TRACE(logger, ...) STOX_LOG_AT(logger, ::stox::sdk::LogLevel::Trace, __VA_ARGS__)
#define STOX_LOG_DEBUG(logger, ...) STOX_LOG_AT(logger, ::stox::sdk::LogLevel::Debug, __VA_ARGS__)
#define STOX_LOG_INFO(logger, ...) STOX_LOG_AT(logger, ::stox::sdk::LogLevel::Info, __VA_ARGS__)
#define STOX_LOG_WARN(logger, ...) STOX_LOG_AT(logger, ::stox::sdk::LogLevel::Warn, __VA_ARGS__)
#define STOX_LOG_ERROR(logger, ...) STOX_LOG_AT(logger, ::stox::sdk::LogLevel::Error, __VA_ARGS__)
