// SPDX-License-Identifier: Apache-2.0
/// \file xmpp.hpp
/// XMPP side of the gateway as plugins see it: stanzas in (routed by the manifest's claims),
/// stanzas out (through the core's XEP-0114 component link).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "stox/sdk/status.hpp"
#include "stox/sdk/xml.hpp"

namespace stox::sdk {

/// Namespace of stanzas on a XEP-0114 component stream. Stanzas handed to plugins carry it,
/// and stanzas built by plugins should use it (an empty namespace is treated the same).
inline constexpr std::string_view kComponentNs = "jabber:component:accept";
/// RFC 6120 §8.3 stanza error conditions.
inline constexpr std::string_view kStanzaErrorNs = "urn:ietf:params:xml:ns:xmpp-stanzas";

/// A top-level stanza: <message/>, <presence/> or <iq/>.
using Stanza = XmlElement;

/// Builds an empty stanza of the given kind in the component namespace.
inline Stanza make_stanza(std::string kind) {
    return Stanza(std::move(kind), std::string(kComponentNs));
}

/// Called on the plugin's strand with a stanza routed to this plugin. The plugin owns the reply:
/// an error stanza, a translated request, or both. Returning without doing either is a silent
/// drop, which the gateway forbids: a plugin that cannot handle a stanza sends the mapped error.
using StanzaHandler = std::function<void(const Stanza&)>;

/// Completion of XmppService::send: Ok once the stanza has been written to the XMPP server;
/// otherwise why it could not be (link down past the queue deadline, queue full, too large).
/// Runs on the sending plugin's strand.
using SendCompletion = std::function<void(const Status&)>;

/// Receives the reply to a stanza sent with XmppService::send_tracked: the first stanza that
/// comes back with the same `id` from the address it was sent to and whose type is "error" (or,
/// for an iq, "result"), or nullptr when `window` elapsed after the stanza was written without
/// one. Called exactly once, on the sending plugin's strand; not called if sending failed (the
/// SendCompletion reports that instead).
using ReplyHandler = std::function<void(const Stanza* reply)>;

class XmppService {
public:
    virtual ~XmppService() = default;
    /// Queues a stanza for the XMPP server. Never blocks. `done` may be empty.
    virtual void send(Stanza stanza, SendCompletion done) noexcept = 0;
    /// Like send(), and also watches for the reply (see ReplyHandler). The stanza must carry a
    /// non-empty `id` that is unique for the plugin. Replies caught here are not routed by claims.
    /// This is how a plugin learns that the XMPP side refused what it accepted on the SIP side
    /// (honest delivery: answer the SIP request with the mapped error instead of 200).
    virtual void send_tracked(Stanza stanza, SendCompletion done, std::chrono::milliseconds window,
                              ReplyHandler on_reply) noexcept = 0;
    /// The component's domain (the SIP domain it represents, e.g. "example.net").
    [[nodiscard]] virtual std::string component_domain() const = 0;
    /// Whether the component link is currently authenticated.
    [[nodiscard]] virtual bool connected() const noexcept = 0;
};

} // namespace stox::sdk
