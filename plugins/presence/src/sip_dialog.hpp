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
#include "store/subscription_store.hpp"

namespace stox::plugins::presence {

namespace store = stox::presence::store;

/// A From/To/Contact value: "Name" <uri>;tag=x  or  uri;tag=x (RFC 3261 §20.10, §20.20).
struct NameAddr {
    std::string uri; ///< without the angle brackets and without header parameters
    std::string tag; ///< "" when absent
};
/// nullopt when the value has no URI (empty, unbalanced brackets, no scheme).
[[nodiscard]] std::optional<NameAddr> parse_name_addr(std::string_view value);
/// "<uri>" or "<uri>;tag=TAG".
[[nodiscard]] std::string format_name_addr(std::string_view uri, std::string_view tag = {});
/// The address of record of a SIP URI: "sip:user@host" without port, parameters or headers
/// (case of the scheme and host lowered). "" when it is not a sip:/sips: URI with a user.
[[nodiscard]] std::string aor_of(std::string_view uri);

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

/// Decimal delta-seconds (RFC 3261 §25.1), at most 2^32-1; nullopt otherwise.
[[nodiscard]] std::optional<std::uint32_t> parse_delta_seconds(std::string_view value);
/// "CSeq: 12 SUBSCRIBE" -> 12 (nullopt when malformed).
[[nodiscard]] std::optional<std::uint32_t> cseq_number(std::string_view value);
/// Event header names the presence package (RFC 3856 §6.2; parameters such as id= allowed).
[[nodiscard]] bool event_is_presence(std::string_view value);
/// The event package of an Event header ("presence;id=1" -> "presence"), lower case.
[[nodiscard]] std::string event_package(std::string_view value);
/// RFC 3856 §6.7 / RFC 6665 §4.1.2.1: no Accept means application/pidf+xml; otherwise one
/// entry must allow it (application/pidf+xml, application/*, */*).
[[nodiscard]] bool accept_allows_pidf(const sdk::SipMessage& request);

/// Route set of a dialog (RFC 3261 §12.1): the Record-Route values of the request (UAS, in
/// order) or of the 2xx response (UAC, reversed).
[[nodiscard]] std::vector<std::string> route_set_of(const sdk::SipMessage& message, bool reverse);

/// A request inside `dialog` (RFC 3261 §12.2.1.1): Request-URI = remote target, From/To with
/// the dialog's URIs and tags, Call-ID, CSeq = ++local_cseq, Route = route set, Max-Forwards.
[[nodiscard]] sdk::SipRequest in_dialog_request(store::DialogRecord& dialog, std::string method);

/// Random token of `n` characters from [a-z0-9] for tags and Call-IDs (RFC 3261 §19.3: at least
/// 32 bits of randomness).
[[nodiscard]] std::string random_token(std::size_t n);

} // namespace stox::plugins::presence
