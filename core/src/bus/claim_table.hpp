// SPDX-License-Identifier: Apache-2.0
// Exclusive ingress claims (house style §4.4 "claims"): who handles which SIP request and which
// stanza. Built at startup from manifests; a claim that overlaps an existing one is refused
// ("double registration", as Envoy does).
//
// Overlap rules (so that routing is never ambiguous between two plugins):
//   SIP:    same method, and (either event empty or equal), and (either sdp_media empty or
//           equal). "INVITE m=message" and "INVITE m=audio" do not overlap; "SUBSCRIBE" (any
//           event) overlaps every SUBSCRIBE claim.
//   stanza: same name, and type sets intersect (empty = all), and (either child_ns empty or
//           equal).
// Routing: the most specific matching claim wins (ties: the first added). Because matching
// claims of different plugins always overlap, specificity only chooses among one plugin's own
// claims; the answer is the same plugin either way. Error stanzas and iq result/error are never
// routed by claims (RFC 6120 §8.3.1, §8.2.3): they are replies, correlated elsewhere.
// Thread-safe: built at startup, read by the ingress router from any thread; remove_plugin()
// may run while traffic flows (a plugin failing to start).
#pragma once

#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "stox/sdk/sip.hpp"
#include "stox/sdk/status.hpp"
#include "stox/sdk/xmpp.hpp"

namespace stox::core {

/// A SIP claim. `event` applies to SUBSCRIBE/NOTIFY/PUBLISH (the Event package, RFC 6665 §8.2);
/// `sdp_media` applies to INVITE (the first m= line media of the offer: "message", "audio",
/// "video"). Empty means "any". Methods are upper-case.
struct SipClaim {
    std::string method;
    std::string event;
    std::string sdp_media;
    [[nodiscard]] std::string describe() const;
};

/// A stanza claim: element name ("message" | "presence" | "iq"), the `type` values it covers
/// (empty = all; for message, an absent type counts as "normal"; for presence, absent counts as
/// "available"), and for iq the namespace of the payload child (empty = any).
struct StanzaClaim {
    std::string name;
    std::vector<std::string> types;
    std::string child_ns;
    [[nodiscard]] std::string describe() const;
};

/// One claim and the plugin that holds it.
struct SipClaimEntry {
    std::string plugin;
    SipClaim claim;
};

class ClaimTable {
public:
    /// Refuses (ErrorCode::InvalidConfig, message naming the other plugin) a claim that
    /// overlaps one already held by another plugin, and a claim that could never match (empty
    /// method, `event` on a method other than SUBSCRIBE/NOTIFY/PUBLISH, `sdp_media` on a method
    /// other than INVITE, unknown stanza name or type, `child_ns` on message/presence).
    /// Methods are stored upper-case (RFC 3261 §7.1: methods are case-sensitive and every
    /// standard one is upper-case). Adding a claim a plugin already holds is a no-op.
    sdk::Status add(std::string_view plugin_id, const SipClaim& claim);
    sdk::Status add(std::string_view plugin_id, const StanzaClaim& claim);
    /// Drops every claim of a plugin (when it fails to start or is refused).
    void remove_plugin(std::string_view plugin_id);

    /// The plugin that claimed this request, if any. Most specific claim wins.
    [[nodiscard]] std::optional<std::string> route(const sdk::SipRequest& request) const;
    [[nodiscard]] std::optional<std::string> route(const sdk::Stanza& stanza) const;

    /// Snapshot of the SIP claims, in the order they were added (for Allow / Allow-Events).
    [[nodiscard]] std::vector<SipClaimEntry> sip_claims() const;

    /// Extracts the first m= media of an SDP body ("" if none).
    static std::string first_sdp_media(std::string_view sdp);
    /// The event package of an Event header value: "presence;id=7" -> "presence" (RFC 6665
    /// §8.2.1: parameters are not part of the package).
    static std::string event_package(std::string_view event_header);
    /// SUBSCRIBE, NOTIFY (RFC 6665 §7.2) and PUBLISH (RFC 3903 §4): routed by Event package.
    static bool routes_by_event(std::string_view method) noexcept;

private:
    struct StanzaEntry {
        std::string plugin;
        StanzaClaim claim;
    };
    mutable std::shared_mutex mu_;
    std::vector<SipClaimEntry> sip_;
    std::vector<StanzaEntry> stanza_;
};

} // namespace stox::core
