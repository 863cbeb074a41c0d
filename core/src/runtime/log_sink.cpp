// SPDX-License-Identifier: Apache-2.0
#include "runtime/log_sink.hpp"

#include <chrono>
#include <ctime>

namespace stox::core {

bool parse_log_level(std::string_view s, sdk::LogLevel& out) noexcept {
    using L = sdk::LogLevel;
    if (s == "trace")
        out = L::Trace;
    else if (s == "debug")
        out = L::Debug;
    else if (s == "info")
        out = L::Info;
    else if (s == "warn")
        out = L::Warn;
    else if (s == "error")
        out = L::Error;
    else if (s == "off")
        out = L::Off;
    else
        return false;
    return true;
}

std::string_view to_string(sdk::LogLevel level) noexcept {
    switch (level) {
    case sdk::LogLevel::Trace: return "trace";
    case sdk::LogLevel::Debug: return "debug";
    case sdk::LogLevel::Info: return "info";
    case sdk::LogLevel::Warn: return "warn";
    case sdk::LogLevel::Error: return "error";
    case sdk::LogLevel::Off: return "off";
    }
    return "?";
}

namespace {

void json_escape(std::string& out, std::string_view s) {
    static const char* hex = "0123456789abcdef";
    for (unsigned char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20) {
                out += "\\u00";
                out += hex[c >> 4];
                out += hex[c & 15];
            } else {
                out += static_cast<char>(c);
            }
        }
    }
}

// Text mode keeps one line per record: control characters from the network are escaped.
void text_escape(std::string& out, std::string_view s) {
    for (unsigned char c : s) {
        if (c == '\n')
            out += "\\n";
        else if (c == '\r')
            out += "\\r";
        else if (c < 0x20 && c != '\t')
            out += '?';
        else
            out += static_cast<char>(c);
    }
}

std::string timestamp() {
    using namespace std::chrono;
    auto now = system_clock::now();
    auto secs = system_clock::to_time_t(now);
    auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms));
    return buf;
}

} // namespace

void LogSink::set_output(std::FILE* out) noexcept {
    std::lock_guard lock(mu_);
    out_ = out;
}

void LogSink::write(sdk::LogLevel level, std::string_view tag, std::string_view message,
                    std::initializer_list<sdk::LogField> fields) noexcept {
    try {
        std::string line;
        line.reserve(message.size() + 96);
        if (format() == LogFormat::Json) {
            line += "{\"ts\":\"";
            line += timestamp();
            line += "\",\"level\":\"";
            line += to_string(level);
            line += "\",\"tag\":\"";
            json_escape(line, tag);
            line += "\",\"msg\":\"";
            json_escape(line, message);
            line += '"';
            for (const auto& f : fields) {
                line += ",\"";
                json_escape(line, f.key);
                line += "\":\"";
                json_escape(line, f.value);
                line += '"';
            }
            line += "}\n";
        } else {
            line += timestamp();
            line += ' ';
            line += to_string(level);
            line += " [";
            line += tag;
            line += "] ";
            text_escape(line, message);
            for (const auto& f : fields) {
                line += ' ';
                line += f.key;
                line += '=';
                text_escape(line, f.value);
            }
            line += '\n';
        }
        std::lock_guard lock(mu_);
        std::fwrite(line.data(), 1, line.size(), out_);
        std::fflush(out_);
    } catch (...) {
        // Logging must never take the gateway down (allocation failure while formatting).
    }
}

} // namespace stox::core
