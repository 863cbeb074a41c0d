// SPDX-License-Identifier: Apache-2.0
// Reading and writing RFC 6120 §8.3 stanza errors. The mapping between SIP and XMPP errors is
// the core's (ctx.errors(), RFC 7247 §7); this only moves an sdk::XmppError in and out of XML.
#pragma once

#include <string_view>

#include "stox/sdk/mapping.hpp"
#include "stox/sdk/xmpp.hpp"

namespace stox::plugins::im {

/// The <error/> of an error stanza: the defined condition (or, for a legacy error with only a
/// `code`, the XEP-0086 condition), its type, <text/> and the character data of the condition
/// (<gone/>/<redirect/> address). A stanza without a usable <error/> gives
/// undefined-condition, so a refusal is never mistaken for success.
stox::sdk::XmppError parse_stanza_error(const stox::sdk::Stanza& stanza);

/// The error reply to `original` (RFC 6120 §8.3.1, stox-core.md §3.4): same kind, type
/// "error", from = original to, to = original from, id = original id, and
/// <error type='..'><cond xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>[address]</cond>
/// [<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>..</text>]</error>.
stox::sdk::Stanza make_error_reply(const stox::sdk::Stanza& original,
                                   const stox::sdk::XmppError& error);

/// True for the namespaces a stanza's own children (body, subject, thread, error) carry on a
/// component stream (or jabber:client/jabber:server when a test builds them that way).
bool is_stanza_content_ns(std::string_view ns) noexcept;

} // namespace stox::plugins::im
