// SPDX-License-Identifier: Apache-2.0
// Exclusive ingress routing (house style §4.5, channel 1). The protocol endpoints hand every
// incoming SIP request and stanza to the router; it finds the claiming plugin in the ClaimTable
// and posts the handler onto that plugin's strand with try_post().
//   - unclaimed SIP request          -> 501 Not Implemented + Allow    (counter
//   ingress.sip.unclaimed)
//     refined where RFCs name a better answer for a method the gateway does handle:
//       SUBSCRIBE/NOTIFY/PUBLISH with an unclaimed event package -> 489 Bad Event + Allow-Events
//                                                                   (RFC 6665 §4.2.1.1, §8.3.2)
//       INVITE whose offer's media is unclaimed                   -> 488 Not Acceptable Here
//                                                                   (RFC 3264 §6, RFC 3261
//                                                                   §21.4.26)
//       ACK is never answered (RFC 3261 §17.2.1); it is counted and logged only.
//   - unclaimed stanza               -> <feature-not-implemented/> cancel (ingress.xmpp.unclaimed)
//   - claimed but no handler set, or the plugin's strand closed -> same as unclaimed
//   - plugin strand full (overload)  -> SIP 503 + Retry-After (it concerns the gateway itself) /
//                                       <resource-constraint/> wait      (ingress.*.overload)
//   - error stanzas and result iqs are never answered with an error (RFC 6120 §8.3.1); they are
//     counted (ingress.xmpp.dropped_error_stanza) and logged at debug instead.
//   - routed                          -> ingress.sip.routed / ingress.xmpp.routed
// Every refusal is logged at warn with the reason (never the body). XMPP conditions come from
// the injected sdk::ErrorMapper (Unsupported, Overloaded), not from this file.
// Thread-safe: deliver_* run on the endpoints' threads; handlers may be set or cleared anytime.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "bus/claim_table.hpp"
#include "stox/sdk/logger.hpp"
#include "stox/sdk/mapping.hpp"
#include "stox/sdk/metrics.hpp"
#include "stox/sdk/sip.hpp"
#include "stox/sdk/xmpp.hpp"

namespace stox::core {

class MetricsRegistry;
class PluginStrand;

class IngressRouter {
public:
    /// Sends a stanza back to the XMPP server (used for error replies).
    using StanzaSink = std::function<void(sdk::Stanza)>;
    /// Retry-After of the 503 sent when a plugin's strand is full (RFC 3261 §21.5.4).
    static constexpr int kRetryAfterSeconds = 5;

    IngressRouter(const ClaimTable& claims, const sdk::ErrorMapper& errors,
                  MetricsRegistry& metrics, sdk::Logger& log);

    /// An empty handler clears the plugin's SIP handler. `strand` is the plugin's strand; a
    /// null strand is refused (logged) unless one was set before.
    void set_sip_handler(const std::string& plugin_id, std::shared_ptr<PluginStrand> strand,
                         sdk::SipRequestHandler handler);
    void set_stanza_handler(const std::string& plugin_id, std::shared_ptr<PluginStrand> strand,
                            sdk::StanzaHandler handler);
    /// Removes a plugin's handlers (it stopped or failed); its traffic becomes unclaimed.
    /// Handler calls already queued on its strand still run.
    void clear_handlers(const std::string& plugin_id);

    /// Called by the SIP endpoint for every request outside an existing dialog. The handler
    /// receives the transaction itself; refusals are answered through it.
    void deliver_sip(std::shared_ptr<sdk::SipServerTransaction> tx) noexcept;
    /// Called by the XMPP endpoint for every stanza received on the component stream.
    void deliver_stanza(sdk::Stanza stanza, const StanzaSink& reply) noexcept;

    /// Builds the error reply to `original` (from/to swapped, same id, type='error'), carrying
    /// only the <error/> child (RFC 6120 §8.3.1 rule 6 makes the original payload optional; we
    /// never echo it). An iq without id gets id='' (rule 3).
    static sdk::Stanza make_error_reply(const sdk::Stanza& original, const sdk::XmppError& error);

private:
    using SipHandlerPtr = std::shared_ptr<const sdk::SipRequestHandler>;
    using StanzaHandlerPtr = std::shared_ptr<const sdk::StanzaHandler>;
    struct Route {
        std::shared_ptr<PluginStrand> strand;
        SipHandlerPtr sip;
        StanzaHandlerPtr stanza;
    };
    /// The route of `plugin` if it has an open strand; handlers may still be null.
    [[nodiscard]] Route find(const std::optional<std::string>& plugin) const;
    void set_route(const std::string& plugin_id, std::shared_ptr<PluginStrand> strand,
                   SipHandlerPtr* sip, StanzaHandlerPtr* stanza);
    void refuse_unrouted_sip(sdk::SipServerTransaction& tx, const std::string& why);
    void refuse_stanza(const sdk::Stanza& stanza, const StanzaSink& reply, sdk::ErrorCode code,
                       sdk::Counter& counter, const std::string& why);

    const ClaimTable& claims_;
    const sdk::ErrorMapper& errors_;
    sdk::Logger& log_;
    sdk::Counter& sip_routed_;
    sdk::Counter& sip_unclaimed_;
    sdk::Counter& sip_overload_;
    sdk::Counter& xmpp_routed_;
    sdk::Counter& xmpp_unclaimed_;
    sdk::Counter& xmpp_overload_;
    sdk::Counter& xmpp_dropped_error_;
    mutable std::mutex mu_;
    std::unordered_map<std::string, Route> routes_;
};

} // namespace stox::core
