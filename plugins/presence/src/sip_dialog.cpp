// SPDX-License-Identifier: Apache-2.0
#include "sip_dialog.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <random>

#include "stox/sdk/text.hpp"

namespace stox::plugins::presence {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

/// Splits "a;b=c;d" into trimmed parts.
std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= s.size(); ++i)
        if (i == s.size() || s[i] == sep) {
            out.push_back(trim(s.substr(start, i - start)));
            start = i + 1;
        }
    return out;
}

/// Comma-separated header values, ignoring commas inside <...> and "...".
std::vector<std::string_view> split_header_list(std::string_view s) {
    std::vector<std::string_view> out;
    bool in_angle = false, in_quote = false;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= s.size(); ++i) {
        if (i < s.size()) {
            char c = s[i];
            if (c == '"' && !in_angle) in_quote = !in_quote;
            if (!in_quote && c == '<') in_angle = true;
            if (!in_quote && c == '>') in_angle = false;
            if (c != ',' || in_angle || in_quote) continue;
        }
        auto v = trim(s.substr(start, i - start));
        if (!v.empty()) out.push_back(v);
        start = i + 1;
    }
    return out;
}

std::string param_value(std::string_view params, std::string_view name) {
    for (auto p : split(params, ';')) {
        auto eq = p.find('=');
        auto key = trim(p.substr(0, eq));
        if (sdk::ascii_iequals(key, name))
            return eq == std::string_view::npos ? std::string()
                                                : std::string(trim(p.substr(eq + 1)));
    }
    return {};
}

} // namespace

std::optional<NameAddr> parse_name_addr(std::string_view value) {
    value = trim(value);
    if (value.empty()) return std::nullopt;
    NameAddr out;
    std::string_view params;
    auto lt = value.find('<');
    if (lt != std::string_view::npos) {
        auto gt = value.find('>', lt);
        if (gt == std::string_view::npos) return std::nullopt;
        out.uri = std::string(trim(value.substr(lt + 1, gt - lt - 1)));
        params = value.substr(gt + 1);
    } else {
        // addr-spec form: header parameters follow the first ';' (RFC 3261 §20.10).
        auto semi = value.find(';');
        out.uri = std::string(trim(value.substr(0, semi)));
        if (semi != std::string_view::npos) params = value.substr(semi);
    }
    if (out.uri.find(':') == std::string::npos) return std::nullopt;
    out.tag = param_value(params, "tag");
    return out;
}

std::string format_name_addr(std::string_view uri, std::string_view tag) {
    std::string out = "<" + std::string(uri) + ">";
    if (!tag.empty()) out += ";tag=" + std::string(tag);
    return out;
}

std::string aor_of(std::string_view uri) {
    uri = trim(uri);
    auto colon = uri.find(':');
    if (colon == std::string_view::npos) return {};
    std::string scheme = lower(uri.substr(0, colon));
    if (scheme != "sip" && scheme != "sips") return {};
    std::string_view rest = uri.substr(colon + 1);
    rest = rest.substr(0, rest.find_first_of(";?"));
    auto at = rest.rfind('@');
    if (at == std::string_view::npos || at == 0) return {};
    std::string_view host = rest.substr(at + 1);
    if (!host.empty() && host.front() == '[') {
        host = host.substr(0, host.find(']') + 1);
    } else {
        host = host.substr(0, host.find(':'));
    }
    if (host.empty()) return {};
    return scheme + ":" + std::string(rest.substr(0, at)) + "@" + lower(host);
}

std::optional<std::uint32_t> parse_delta_seconds(std::string_view value) {
    value = trim(value);
    if (value.empty() || value.size() > 10) return std::nullopt;
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc() || p != value.data() + value.size() || v > 0xffffffffULL)
        return std::nullopt;
    return static_cast<std::uint32_t>(v);
}

std::optional<std::uint32_t> cseq_number(std::string_view value) {
    value = trim(value);
    return parse_delta_seconds(value.substr(0, value.find_first_of(" \t")));
}

std::optional<SubscriptionState> parse_subscription_state(std::string_view value) {
    auto parts = split(value, ';');
    if (parts.empty() || parts[0].empty()) return std::nullopt;
    SubscriptionState s;
    std::string v = lower(parts[0]);
    s.value = v == "pending"      ? SubscriptionState::Value::pending
              : v == "active"     ? SubscriptionState::Value::active
              : v == "terminated" ? SubscriptionState::Value::terminated
                                  : SubscriptionState::Value::unknown;
    for (std::size_t i = 1; i < parts.size(); ++i) {
        auto eq = parts[i].find('=');
        if (eq == std::string_view::npos) continue;
        std::string key = lower(trim(parts[i].substr(0, eq)));
        auto val = trim(parts[i].substr(eq + 1));
        if (key == "expires") s.expires = parse_delta_seconds(val);
        if (key == "retry-after") s.retry_after = parse_delta_seconds(val);
        if (key == "reason") s.reason = lower(val);
    }
    return s;
}

std::string format_subscription_state(const SubscriptionState& s) {
    std::string out;
    switch (s.value) {
    case SubscriptionState::Value::pending: out = "pending"; break;
    case SubscriptionState::Value::active: out = "active"; break;
    default: out = "terminated"; break;
    }
    if (!s.reason.empty()) out += ";reason=" + s.reason;
    if (s.expires) out += ";expires=" + std::to_string(*s.expires);
    if (s.retry_after) out += ";retry-after=" + std::to_string(*s.retry_after);
    return out;
}

std::string event_package(std::string_view value) {
    return lower(trim(value.substr(0, value.find(';'))));
}

bool event_is_presence(std::string_view value) {
    return event_package(value) == "presence";
}

bool accept_allows_pidf(const sdk::SipMessage& request) {
    auto values = request.header_values("Accept");
    if (values.empty()) return true;
    for (const auto& v : values)
        for (auto item : split_header_list(v)) {
            std::string type = lower(trim(item.substr(0, item.find(';'))));
            if (type == "application/pidf+xml" || type == "application/*" || type == "*/*")
                return true;
        }
    // An empty Accept header means the subscriber accepts no body at all (RFC 3261 §20.1);
    // presence NOTIFYs may always carry PIDF, so that is refused too (406).
    return false;
}

std::vector<std::string> route_set_of(const sdk::SipMessage& message, bool reverse) {
    std::vector<std::string> out;
    for (const auto& v : message.header_values("Record-Route"))
        for (auto item : split_header_list(v)) out.emplace_back(item);
    if (reverse) std::reverse(out.begin(), out.end());
    return out;
}

sdk::SipRequest in_dialog_request(store::DialogRecord& dialog, std::string method) {
    sdk::SipRequest r;
    r.method = std::move(method);
    r.request_uri = dialog.remote_target.empty() ? dialog.remote_uri : dialog.remote_target;
    // Distinct names on an empty list: appended without searching. Room for the few headers
    // the roles add (Event, Subscription-State, Contact, Expires, Content-*).
    r.headers.reserve(dialog.route_set.size() + 11);
    r.add_header("From", format_name_addr(dialog.local_uri, dialog.local_tag));
    r.add_header("To", format_name_addr(dialog.remote_uri, dialog.remote_tag));
    r.add_header("Call-ID", dialog.call_id);
    r.add_header("CSeq", std::to_string(++dialog.local_cseq) + " " + r.method);
    for (const auto& route : dialog.route_set) r.add_header("Route", route);
    r.add_header("Max-Forwards", "70");
    return r;
}

std::string random_token(std::size_t n) {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::string out(n, '0');
    for (char& c : out) c = alphabet[rng() % (sizeof alphabet - 1)];
    return out;
}

} // namespace stox::plugins::presence
