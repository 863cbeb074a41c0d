// SPDX-License-Identifier: Apache-2.0
// SIP header syntax and dialog helpers of the presence plugin. The core runs transactions; the
// plugin owns its dialogs as plain values (store::DialogRecord) so that they survive a restart
// (docs/decisions/architecture.md). RFC 3261 §12 (dialogs), RFC 6665 (SUBSCRIBE/NOTIFY).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stox/sdk/sip.hpp"
#include "stox/sip/syntax.hpp"
#include "store/subscription_store.hpp"

namespace stox::plugins::presence {

namespace store = stox::presence::store;

// Shared SIP syntax (plugins/common/sip).
using sip::aor_of;
using sip::cseq_number;
using sip::format_name_addr;
using sip::NameAddr;
using sip::parse_delta_seconds;
using sip::parse_name_addr;
using sip::random_token;
using sip::route_set_of;

/// RFC 6665 §8.2.3 Subscription-State.
struct SubscriptionState {
    enum class Value { pending, active, terminated, unknown };
    Value value = Value::unknown;
    std::optional<std::uint32_t> expires;
    std::string reason; ///< lower case; "" when absent
    std::optional<std::uint32_t> retry_after;
};
[[nodiscard]] std::optional<SubscriptionState> parse_subscription_state(std::string_view value);
/// "active;expires=600", "terminated;reason=rejected", ...
[[nodiscard]] std::string format_subscription_state(const SubscriptionState& s);

/// Event header names the presence package (RFC 3856 §6.2; parameters such as id= allowed).
[[nodiscard]] bool event_is_presence(std::string_view value);
/// The event package of an Event header ("presence;id=1" -> "presence"), lower case.
[[nodiscard]] std::string event_package(std::string_view value);
/// RFC 3856 §6.7 / RFC 6665 §4.1.2.1: no Accept means application/pidf+xml; otherwise one
/// entry must allow it (application/pidf+xml, application/*, */*).
[[nodiscard]] bool accept_allows_pidf(const sdk::SipMessage& request);

/// A request inside `dialog` (RFC 3261 §12.2.1.1): Request-URI = remote target, From/To with
/// the dialog's URIs and tags, Call-ID, CSeq = ++local_cseq, Route = route set, Max-Forwards.
[[nodiscard]] sdk::SipRequest in_dialog_request(store::DialogRecord& dialog, std::string method);

} // namespace stox::plugins::presence
