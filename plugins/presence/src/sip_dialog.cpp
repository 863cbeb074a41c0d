// SPDX-License-Identifier: Apache-2.0
#include "sip_dialog.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <random>

#include "stox/sdk/text.hpp"

namespace stox::plugins::presence {
using sip::lower;
using sip::split;
using sip::split_header_list;
using sip::trim;

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

} // namespace stox::plugins::presence
