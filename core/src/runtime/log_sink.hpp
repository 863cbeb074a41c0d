// SPDX-License-Identifier: Apache-2.0
// The process-wide log sink and the per-plugin (tagged) loggers built on it.
#pragma once

#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "stox/sdk/logger.hpp"

namespace stox::core {

enum class LogFormat { Text, Json };

/// Parses "trace|debug|info|warn|error|off"; returns false on anything else.
bool parse_log_level(std::string_view s, sdk::LogLevel& out) noexcept;
std::string_view to_string(sdk::LogLevel level) noexcept;

/// Writes formatted lines to a FILE* (stderr by default). One mutex; lines never interleave.
class LogSink {
public:
    explicit LogSink(std::FILE* out = stderr) : out_(out) {}
    void set_level(sdk::LogLevel level) noexcept { level_.store(level, std::memory_order_relaxed); }
    [[nodiscard]] sdk::LogLevel level() const noexcept {
        return level_.load(std::memory_order_relaxed);
    }
    void set_format(LogFormat f) noexcept { format_.store(f, std::memory_order_relaxed); }
    [[nodiscard]] LogFormat format() const noexcept {
        return format_.load(std::memory_order_relaxed);
    }
    void write(sdk::LogLevel level, std::string_view tag, std::string_view message,
               std::initializer_list<sdk::LogField> fields) noexcept;
    /// Redirect output (tests capture lines into a memstream/tmpfile).
    void set_output(std::FILE* out) noexcept;

private:
    std::mutex mu_;
    std::FILE* out_;
    std::atomic<sdk::LogLevel> level_{sdk::LogLevel::Info};
    std::atomic<LogFormat> format_{LogFormat::Text};
};

/// A logger bound to a tag ("core", "org.stoxgw.im").
class TaggedLogger final : public sdk::Logger {
public:
    TaggedLogger(LogSink& sink, std::string tag) : sink_(sink), tag_(std::move(tag)) {}
    [[nodiscard]] bool enabled(sdk::LogLevel level) const noexcept override {
        return level >= sink_.level() && level != sdk::LogLevel::Off;
    }
    void write(sdk::LogLevel level, std::string_view message,
               std::initializer_list<sdk::LogField> fields = {}) noexcept override {
        if (enabled(level)) sink_.write(level, tag_, message, fields);
    }
    [[nodiscard]] const std::string& tag() const noexcept { return tag_; }

private:
    LogSink& sink_;
    std::string tag_;
};

} // namespace stox::core
