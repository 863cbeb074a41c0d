// SPDX-License-Identifier: Apache-2.0
// X2S translation: <message/> -> SIP MESSAGE (RFC 7572 §4 and Table 1; stox-core.md §3.2).
// Pure: the plugin adds CSeq, queues per destination (RFC 3428 §8) and sends.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

#include "im_config.hpp"
#include "stox/sdk/mapping.hpp"
#include "stox/sdk/sip.hpp"
#include "stox/sdk/status.hpp"
#include "stox/sdk/xmpp.hpp"

namespace stox::plugins::im {

/// Octets the SIP stack adds to what the plugin hands it, counted by the 1300-byte rule
/// (IM-14, A-32): a Via with an IPv6 literal, port, rport and branch (128) and the stack's
/// User-Agent (32). See docs/delivery.md.
inline constexpr std::size_t kStackHeaderAllowance = 160;

struct X2sContext {
    const stox::sdk::AddressMapper& addresses;
    const ImConfig& config;
    std::string fresh_call_id; ///< used when the stanza has no <thread/>
    std::string from_tag;      ///< fresh per request (Table M1)
};

struct X2sRequest {
    /// Complete except CSeq, which the plugin sets when it sends (it increases per Call-ID).
    stox::sdk::SipRequest request;
    std::size_t estimated_size = 0;
};
/// Nothing to translate (no <body/>, TV-IM-23): no request and no error.
struct X2sNoBody {};
/// Refused here: the plugin sends ctx.errors().xmpp_for(status) back.
struct X2sReject {
    stox::sdk::Status status;
};

using X2sResult = std::variant<X2sRequest, X2sNoBody, X2sReject>;

X2sResult translate_x2s(const stox::sdk::Stanza& message, const X2sContext& ctx);

/// The wire size of `request` as the stack will send it: request line, the headers, a
/// Content-Length, the body, with CSeq counted at its widest and kStackHeaderAllowance.
std::size_t estimate_wire_size(const stox::sdk::SipRequest& request);

/// among the children called `name` (body or subject), the one whose effective language
/// equals the stanza's xml:lang, else the first without xml:lang, else the first; nullptr if
/// there is none. `lang` receives its effective language.
const stox::sdk::XmlElement* choose_by_language(const stox::sdk::Stanza& message,
                                                std::string_view name, std::string& lang);

} // namespace stox::plugins::im
