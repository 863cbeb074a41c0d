// SPDX-License-Identifier: Apache-2.0
#include "chat_config.hpp"

#include <cctype>
#include <string_view>

namespace stox::plugins::chat {

namespace {

using sdk::ErrorCode;
using sdk::Status;

Status bad(std::string_view key, std::string_view what) {
    return Status(ErrorCode::InvalidConfig, "/" + std::string(key) + ": " + std::string(what));
}

/// An integer key within [lo, hi]; absent keys keep `out` (the default).
Status read_int(const sdk::ConfigView& v, std::string_view key, std::int64_t lo, std::int64_t hi,
                std::int64_t& out) {
    const std::string p = "/" + std::string(key);
    if (!v.has(p)) return {};
    auto r = v.get_int(p);
    if (!r) return bad(key, "must be an integer");
    if (*r < lo || *r > hi)
        return bad(key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    out = *r;
    return {};
}

Status read_string(const sdk::ConfigView& v, std::string_view key, std::string& out) {
    const std::string p = "/" + std::string(key);
    if (!v.has(p)) return {};
    auto r = v.get_string(p);
    if (!r) return bad(key, "must be a string");
    out = *r;
    return {};
}

Status read_bool(const sdk::ConfigView& v, std::string_view key, bool& out) {
    const std::string p = "/" + std::string(key);
    if (!v.has(p)) return {};
    auto r = v.get_bool(p);
    if (!r) return bad(key, "must be a boolean");
    out = *r;
    return {};
}

/// A string key restricted to two values; `out` is true for `yes_value`.
Status read_choice(const sdk::ConfigView& v, std::string_view key, std::string_view yes_value,
                   std::string_view no_value, bool& out) {
    std::string s(out ? yes_value : no_value);
    if (auto st = read_string(v, key, s); !st) return st;
    if (s == yes_value) {
        out = true;
    } else if (s == no_value) {
        out = false;
    } else {
        return bad(key, "must be \"" + std::string(yes_value) + "\" or \"" + std::string(no_value) +
                            "\"");
    }
    return {};
}

bool plausible_host(const std::string& h) {
    if (h.empty() || h.size() > 253) return false;
    for (char c : h)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':'))
            return false;
    return true;
}

} // namespace

sdk::Result<ChatConfig> load_config(const sdk::ConfigView& v) {
    ChatConfig c;
    std::int64_t n = 0;
#define STOX_CHAT_TRY(expr)                                                                        \
    do {                                                                                           \
        if (auto st_ = (expr); !st_) return st_;                                                   \
    } while (0)
    STOX_CHAT_TRY(read_string(v, "msrp_listen_address", c.msrp_listen_address));
    if (!plausible_host(c.msrp_listen_address))
        return bad("msrp_listen_address", "must be an IP address");
    n = c.msrp_listen_port;
    STOX_CHAT_TRY(read_int(v, "msrp_listen_port", 0, 65535, n));
    c.msrp_listen_port = static_cast<std::uint16_t>(n);
    STOX_CHAT_TRY(read_string(v, "msrp_advertised_host", c.msrp_advertised_host));
    if (!c.msrp_advertised_host.empty() && !plausible_host(c.msrp_advertised_host))
        return bad("msrp_advertised_host", "must be a host name or IP address");
    STOX_CHAT_TRY(read_choice(v, "answer_setup", "passive", "active", c.answer_passive));
    STOX_CHAT_TRY(read_choice(v, "failure_report", "partial", "no", c.failure_report_partial));
    STOX_CHAT_TRY(
        read_choice(v, "success_report_mode", "accepted", "receipt", c.success_report_on_accept));
    n = c.idle_timeout.count();
    STOX_CHAT_TRY(read_int(v, "idle_timeout_s", 10, 86400, n));
    c.idle_timeout = std::chrono::seconds(n);
    n = static_cast<std::int64_t>(c.max_sessions);
    STOX_CHAT_TRY(read_int(v, "max_sessions", 1, 100000, n));
    c.max_sessions = static_cast<std::size_t>(n);
    n = static_cast<std::int64_t>(c.max_queued_messages);
    STOX_CHAT_TRY(read_int(v, "max_queued_messages", 1, 10000, n));
    c.max_queued_messages = static_cast<std::size_t>(n);
    n = static_cast<std::int64_t>(c.max_message_bytes);
    STOX_CHAT_TRY(read_int(v, "max_message_bytes", 1024, 1048576, n));
    c.max_message_bytes = static_cast<std::size_t>(n);
    n = c.xmpp_reply_window.count();
    STOX_CHAT_TRY(read_int(v, "xmpp_reply_window_ms", 0, 30000, n));
    c.xmpp_reply_window = std::chrono::milliseconds(n);
    n = c.invite_timeout.count();
    STOX_CHAT_TRY(read_int(v, "invite_timeout_s", 5, 300, n));
    c.invite_timeout = std::chrono::seconds(n);
    STOX_CHAT_TRY(read_bool(v, "chat_states", c.chat_states));
    STOX_CHAT_TRY(read_bool(v, "reinvite_on_connection_loss", c.reinvite_on_connection_loss));
#undef STOX_CHAT_TRY
    return c;
}

} // namespace stox::plugins::chat
