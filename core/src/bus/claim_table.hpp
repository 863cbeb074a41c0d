// SPDX-License-Identifier: Apache-2.0
// Exclusive ingress claims (house style §4.4 "claims"): who handles which SIP request and which
// stanza. Built at startup from manifests; a claim that overlaps an existing one is refused
// ("double registration", as Envoy does).
#pragma once

#include <optional>
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

class ClaimTable {
public:
    /// Refuses (ErrorCode::InvalidConfig, message naming the other plugin) a claim that
    /// overlaps one already held by another plugin.
    sdk::Status add(std::string_view plugin_id, const SipClaim& claim);
    sdk::Status add(std::string_view plugin_id, const StanzaClaim& claim);
    /// Drops every claim of a plugin (when it fails to start or is refused).
    void remove_plugin(std::string_view plugin_id);

    /// The plugin that claimed this request, if any. Most specific claim wins.
    [[nodiscard]] std::optional<std::string> route(const sdk::SipRequest& request) const;
    [[nodiscard]] std::optional<std::string> route(const sdk::Stanza& stanza) const;

    /// Extracts the first m= media of an SDP body ("" if none).
    static std::string first_sdp_media(std::string_view sdp);

private:
    struct SipEntry { std::string plugin; SipClaim claim; };
    struct StanzaEntry { std::string plugin; StanzaClaim claim; };
    std::vector<SipEntry> sip_;
    std::vector<StanzaEntry> stanza_;
};

} // namespace stox::core
