// SPDX-License-Identifier: Apache-2.0
// SIP header syntax and dialog helpers of the chat plugin (RFC 3261 §12, §19.3, §20). Written
// after the presence plugin's helpers; plugins do not depend on each other. The core runs the
// transactions; the plugin owns its INVITE dialogs as plain values (SDK ABI 1.1).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stox/sdk/sip.hpp"

namespace stox::plugins::chat {

/// A From/To/Contact value: "Name" <uri>;tag=x  or  uri;tag=x (RFC 3261 §20.10, §20.20).
struct NameAddr {
    std::string uri; ///< without the angle brackets and without header parameters
    std::string tag; ///< "" when absent
};
[[nodiscard]] std::optional<NameAddr> parse_name_addr(std::string_view value);
/// "<uri>" or "<uri>;tag=TAG".
[[nodiscard]] std::string format_name_addr(std::string_view uri, std::string_view tag = {});
/// "sip:user@host" of a sip:/sips: URI, without port, parameters or headers; "" otherwise.
[[nodiscard]] std::string aor_of(std::string_view uri);
/// The value of URI parameter `name` ("gr") of a URI, "" when absent.
[[nodiscard]] std::string uri_param(std::string_view uri, std::string_view name);
/// "CSeq: 12 INVITE" -> 12.
[[nodiscard]] std::optional<std::uint32_t> cseq_number(std::string_view value);
/// RFC 3261 §25.1 callid = word ["@" word], at most 128 characters here (AMB-5).
[[nodiscard]] bool is_valid_call_id(std::string_view s);
/// Record-Route values in order (UAS) or reversed (UAC, RFC 3261 §12.1.2).
[[nodiscard]] std::vector<std::string> route_set_of(const sdk::SipMessage& message, bool reverse);
/// Random token of n characters [a-z0-9] (RFC 3261 §19.3: >= 32 random bits for tags).
[[nodiscard]] std::string random_token(std::size_t n);

/// The SIP dialog of one chat session (RFC 3261 §12), owned by the plugin.
struct Dialog {
    std::string call_id;
    std::string local_uri; ///< our From (UAC) / To (UAS) URI
    std::string local_tag;
    std::string remote_uri; ///< the peer's URI (To for UAC, From for UAS)
    std::string remote_tag;
    std::string remote_target; ///< Contact of the peer
    std::vector<std::string> route_set;
    std::uint32_t local_cseq = 0;
    std::optional<std::uint32_t> remote_cseq;
};

/// A request inside `dialog` (RFC 3261 §12.2.1.1): Request-URI = remote target, From/To with
/// the dialog's URIs and tags, Call-ID, Route = route set, CSeq = `cseq` (0: ++local_cseq).
[[nodiscard]] sdk::SipRequest in_dialog_request(Dialog& dialog, std::string method,
                                                std::uint32_t cseq = 0);

} // namespace stox::plugins::chat
