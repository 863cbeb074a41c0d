// SPDX-License-Identifier: Apache-2.0
// Exclusive ingress routing (house style §4.5, channel 1). The protocol endpoints hand every
// incoming SIP request and stanza to the router; it finds the claiming plugin in the ClaimTable
// and posts the handler onto that plugin's strand with try_post().
//   - unclaimed SIP request          -> 501 Not Implemented            (counter ingress.sip.unclaimed)
//   - unclaimed stanza               -> <feature-not-implemented/> cancel (ingress.xmpp.unclaimed)
//   - claimed but no handler set     -> same as unclaimed
//   - plugin strand full (overload)  -> SIP 503 + Retry-After (it concerns the gateway itself) /
//                                       <resource-constraint/> wait      (ingress.*.overload)
//   - error stanzas and result iqs are never answered with an error (RFC 6120 §8.3.1); they are
//     counted and logged instead.
// Every refusal is logged with the reason.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "bus/claim_table.hpp"
#include "stox/sdk/logger.hpp"
#include "stox/sdk/mapping.hpp"
#include "stox/sdk/sip.hpp"
#include "stox/sdk/xmpp.hpp"

namespace stox::core {

class MetricsRegistry;
class PluginStrand;

class IngressRouter {
public:
    /// Sends a stanza back to the XMPP server (used for error replies).
    using StanzaSink = std::function<void(sdk::Stanza)>;

    IngressRouter(const ClaimTable& claims, const sdk::ErrorMapper& errors,
                  MetricsRegistry& metrics, sdk::Logger& log);

    void set_sip_handler(const std::string& plugin_id, std::shared_ptr<PluginStrand> strand,
                         sdk::SipRequestHandler handler);
    void set_stanza_handler(const std::string& plugin_id, std::shared_ptr<PluginStrand> strand,
                            sdk::StanzaHandler handler);
    /// Removes a plugin's handlers (it stopped or failed); its traffic becomes unclaimed.
    void clear_handlers(const std::string& plugin_id);

    /// Called by the SIP endpoint for every request outside an existing dialog.
    void deliver_sip(std::shared_ptr<sdk::SipServerTransaction> tx);
    /// Called by the XMPP endpoint for every stanza received on the component stream.
    void deliver_stanza(sdk::Stanza stanza, const StanzaSink& reply);

    /// Builds the error reply to `original` (from/to swapped, same id, type='error').
    static sdk::Stanza make_error_reply(const sdk::Stanza& original, const sdk::XmppError& error);

private:
    struct Route {
        std::shared_ptr<PluginStrand> strand;
        sdk::SipRequestHandler sip;
        sdk::StanzaHandler stanza;
    };
    const ClaimTable& claims_;
    const sdk::ErrorMapper& errors_;
    MetricsRegistry& metrics_;
    sdk::Logger& log_;
    mutable std::mutex mu_;
    std::unordered_map<std::string, Route> routes_;
};

} // namespace stox::core
