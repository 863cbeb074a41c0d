// SPDX-License-Identifier: Apache-2.0
// SIP header syntax shared by the plugins that own dialogs (presence, chat): name-addr and tags,
// AORs, URI parameters, CSeq, delta-seconds, route sets and random tokens (RFC 3261 §12, §19,
// §20, §25). SDK value types only; plugins never include each other, so this lives here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stox/sdk/sip.hpp"

namespace stox::sip {

/// Without surrounding spaces and tabs.
[[nodiscard]] std::string_view trim(std::string_view s);
/// ASCII lower case.
[[nodiscard]] std::string lower(std::string_view s);
/// Splits "a;b=c;d" into trimmed parts.
[[nodiscard]] std::vector<std::string_view> split(std::string_view s, char sep);
/// Comma-separated header values, ignoring commas inside <...> and "...".
[[nodiscard]] std::vector<std::string_view> split_header_list(std::string_view s);
/// Value of parameter `name` in ";a=1;b=2" (case-insensitive name), "" when absent.
[[nodiscard]] std::string param_value(std::string_view params, std::string_view name);

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
/// The value of URI parameter `name` ("gr") of a URI, "" when absent.
[[nodiscard]] std::string uri_param(std::string_view uri, std::string_view name);
/// Decimal delta-seconds (RFC 3261 §25.1), at most 2^32-1; nullopt otherwise.
[[nodiscard]] std::optional<std::uint32_t> parse_delta_seconds(std::string_view value);
/// "CSeq: 12 SUBSCRIBE" -> 12 (nullopt when malformed).
[[nodiscard]] std::optional<std::uint32_t> cseq_number(std::string_view value);
/// Route set of a dialog (RFC 3261 §12.1): the Record-Route values of the request (UAS, in
/// order) or of the 2xx response (UAC, reversed).
[[nodiscard]] std::vector<std::string> route_set_of(const sdk::SipMessage& message, bool reverse);
/// Random token of `n` characters from [a-z0-9] for tags and Call-IDs (RFC 3261 §19.3: at least
/// 32 bits of randomness).
[[nodiscard]] std::string random_token(std::size_t n);

} // namespace stox::sip
