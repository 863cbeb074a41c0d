// SPDX-License-Identifier: Apache-2.0
// S2X translation: SIP MESSAGE -> <message/> (RFC 7572 §5 and Table 2; stox-core.md §3.3,
// §3.4 "locally detected errors"). Pure: no I/O, no clock of its own, so every rule is unit
// tested. The plugin (im_plugin.cpp) owns delivery and the answer to the SIP sender.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "im_config.hpp"
#include "stox/sdk/mapping.hpp"
#include "stox/sdk/sip.hpp"
#include "stox/sdk/xmpp.hpp"

namespace stox::plugins::im {

inline constexpr std::string_view kChatStatesNs = "http://jabber.org/protocol/chatstates";
inline constexpr std::string_view kDelayNs = "urn:xmpp:delay";
/// a SIP Date (or CPIM DateTime) older than this becomes <delay/>.
inline constexpr std::chrono::seconds kStaleAfter{60};
/// Accept of a 415 (RFC 3428 Table 1: mandatory): every type S2X translates.
inline constexpr std::string_view kAcceptedTypes =
    "text/plain, text/html, message/cpim, multipart/alternative, "
    "application/im-iscomposing+xml";
/// Seconds a 503 asks the sender to wait (RFC 3261 §21.5.4); the gateway's own overload only.
inline constexpr int kRetryAfterSeconds = 5;

struct S2xContext {
    const stox::sdk::AddressMapper& addresses;
    const stox::sdk::ErrorMapper& errors;
    const ImConfig& config;
    /// Domains (JID form, lower case) a `from` may carry; used when
    /// config.restrict_from_domains is set.
    const std::vector<std::string>& from_domains;
    /// Host named in a Warning header (RFC 3261 §20.43 warn-agent).
    std::string warn_agent;
    /// `from` of a <delay/> we add: the SIP domain that held the message (XEP-0203 §3).
    std::string delay_from;
    std::chrono::system_clock::time_point now;
    /// `id` of the stanza (unique, minted by the plugin; A-41).
    std::string stanza_id;
};

/// A MESSAGE the gateway answers itself, without a stanza.
struct S2xReject {
    stox::sdk::SipResponse response;
    std::string why; ///< for the debug log
};

struct S2xMessage {
    stox::sdk::Stanza stanza;
    stox::sdk::TargetKind target = stox::sdk::TargetKind::Bare; ///< kind of `to` (A-9)
    std::size_t stripped_chars = 0; ///< non-XML characters removed from body/subject
    std::size_t html_removed = 0;   ///< elements and attributes removed by the sanitiser
    bool chat_state_only = false;   ///< RFC 3994 isComposing: a chat state, no body
};

using S2xResult = std::variant<S2xMessage, S2xReject>;

S2xResult translate_s2x(const stox::sdk::SipRequest& request, const S2xContext& ctx);

/// A final response rendering a mapped SipError (status, reason, Contact, Allow).
stox::sdk::SipResponse make_sip_response(const stox::sdk::SipError& error);

/// The response for a semantic failure: ctx.errors().sip_for(status), plus the Warning
/// header of a sips refusal (RFC 5630 §5.3 analogy, TV-IM-13) and Retry-After on a 503.
stox::sdk::SipResponse response_for(const stox::sdk::ErrorMapper& errors,
                                    const stox::sdk::Status& status, std::string_view warn_agent);

} // namespace stox::plugins::im
