// SPDX-License-Identifier: Apache-2.0
// Message content of the chat plugin: RFC 3994 isComposing documents, RFC 3862 CPIM wrappers,
// and RFC 6120 §8.3 error stanzas.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stox/sdk/mapping.hpp"
#include "stox/sdk/xmpp.hpp"

namespace stox::plugins::chat {

inline constexpr std::string_view kChatStatesNs = "http://jabber.org/protocol/chatstates";
inline constexpr std::string_view kReceiptsNs = "urn:xmpp:receipts";
inline constexpr std::string_view kIsComposingType = "application/im-iscomposing+xml";
inline constexpr std::string_view kIsComposingNs = "urn:ietf:params:xml:ns:im-iscomposing";

/// RFC 3994 §3.2 document. `active` true -> <state>active</state> with <contenttype> and
/// <refresh> (TV-16), false -> the minimal idle document (TV-18).
std::string make_iscomposing(bool active, unsigned refresh_s = 60);

struct IsComposing {
    bool active = false;             ///< unknown states count as idle (RFC 3994 §3.4)
    std::optional<unsigned> refresh; ///< seconds
};
/// nullopt when the body is not an isComposing document.
std::optional<IsComposing> parse_iscomposing(std::string_view body);

/// A message/cpim body (RFC 3862): the encapsulated Content-Type (lower-cased, without
/// parameters), its body and the DateTime header. Lenient per AMB-27.
struct Cpim {
    std::string content_type;
    std::string body;
    std::string date_time;
    std::string content_language;
};
std::optional<Cpim> parse_cpim(std::string_view body);
/// RFC 3862 layout: From/To/DateTime, empty line, Content-Type, empty line, body.
std::string make_cpim(std::string_view from_uri, std::string_view to_uri, std::string_view type,
                      std::string_view body);

/// Media type without parameters, lower-cased ("text/plain;charset=utf-8" -> "text/plain").
std::string bare_type(std::string_view content_type);

/// The <error/> of an error stanza (undefined-condition when missing).
sdk::XmppError parse_stanza_error(const sdk::Stanza& stanza);
/// The error reply to `original` (RFC 6120 §8.3.1): from/to swapped, same id, type error.
sdk::Stanza make_error_reply(const sdk::Stanza& original, const sdk::XmppError& error);
/// Whether an element namespace is the stanza's own (component/client/server or empty).
bool is_stanza_content_ns(std::string_view ns) noexcept;

} // namespace stox::plugins::chat
