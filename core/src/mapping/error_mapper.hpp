// SPDX-License-Identifier: Apache-2.0
// RFC 7247 §7 error mapping: Table E1 (XMPP condition -> SIP) and Table E2 (SIP -> XMPP) of
// ../shared/spec/stox-core.md §1.5, with the profile choices A-9..A-14 and A-38. Every profile
// choice is recorded in docs/decisions/mapping.md.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "stox/sdk/mapping.hpp"

namespace stox::core {

/// True for the 22 RFC 6120 §8.3.3 defined conditions (plus legacy payment-required).
bool is_known_condition(std::string_view condition) noexcept;
/// RFC 6120 §8.3.3 default error type of a condition ("cancel" for unknown ones and for
/// undefined-condition, which allows any type).
std::string_view default_error_type(std::string_view condition) noexcept;

/// Standard Reason-Phrase of a SIP status code (RFC 3261 §21 and the IANA registry); for an
/// unregistered code the name of its class ("Redirection", "Request Failure", ...); "" outside
/// 100..699.
std::string_view sip_reason_phrase(int code) noexcept;

/// The Allow header value a 405 synthesised for <feature-not-implemented/> carries
/// (RFC 3261 §21.4.6): the methods the gateway translates.
inline constexpr std::string_view kGatewayAllow = "MESSAGE, SUBSCRIBE, NOTIFY, OPTIONS";

/// Longest SIP Reason-Phrase built from an XMPP <text/> (octets, UTF-8 sequences kept whole).
inline constexpr std::size_t kMaxReasonPhrase = 128;
/// Longest XMPP <text/> built from a SIP Reason-Phrase or a Status message.
inline constexpr std::size_t kMaxErrorText = 1024;

/// Makes free text safe as a SIP Reason-Phrase or XMPP <text/>: invalid UTF-8 and control
/// characters (C0 except CR/LF/HT, DEL, C1, U+FFFE/U+FFFF) dropped, CR/LF/HT turned into spaces,
/// runs of spaces collapsed, trimmed, capped at `max_octets` without cutting a UTF-8 sequence.
std::string sanitize_text(std::string_view text, std::size_t max_octets);

/// The bare condition name of "item-not-found", "<item-not-found/>" or
/// "<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>" (surrounding whitespace
/// ignored). A view into the input. For command-line tools and legacy callers.
std::string_view normalize_condition(std::string_view s) noexcept;

/// Parses "bare" | "full" (ASCII case-insensitive).
bool parse_target_kind(std::string_view s, sdk::TargetKind& out) noexcept;

/// Full when the JID has a resourcepart, else Bare.
sdk::TargetKind target_kind_of(std::string_view jid) noexcept;

/// Thread context: stateless, safe from any thread. <gone/>/<redirect/> addresses and 3xx
/// Contacts are converted with an internal AddressMapperImpl.
class ErrorMapperImpl final : public sdk::ErrorMapper {
public:
    // Default arguments repeat the base class ones so that calls on the concrete type agree.
    [[nodiscard]] sdk::XmppError sip_to_xmpp(int status, std::string_view reason,
                                             std::string_view contact = {}) const override;
    [[nodiscard]] sdk::SipError
    xmpp_to_sip(const sdk::XmppError& error,
                const sdk::XmppToSipContext& context = {}) const override;
    [[nodiscard]] sdk::XmppError xmpp_for(const sdk::Status& status) const override;
    [[nodiscard]] sdk::SipError sip_for(const sdk::Status& status) const override;
};

} // namespace stox::core
