// SPDX-License-Identifier: Apache-2.0
#include "bus/claim_table.hpp"

#include <algorithm>
#include <array>
#include <mutex>

namespace stox::core {

namespace {

using sdk::ErrorCode;
using sdk::SipMessage;
using sdk::Status;

constexpr std::string_view kWhitespace = " \t\r\n";

std::string_view trim(std::string_view s) {
    const auto b = s.find_first_not_of(kWhitespace);
    if (b == std::string_view::npos) return {};
    const auto e = s.find_last_not_of(kWhitespace);
    return s.substr(b, e - b + 1);
}

std::string ascii_upper(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return out;
}

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// RFC 3261 §25.1 token.
bool is_token(std::string_view s) {
    if (s.empty()) return false;
    constexpr std::string_view kMarks = "-.!%*_+`'~";
    for (char c : s) {
        const bool alnum =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && kMarks.find(c) == std::string_view::npos) return false;
    }
    return true;
}

// Stanza types a claim may name. error (and iq result) stanzas are replies and never routed by
// claims; "available" stands for a presence without a type (RFC 6121 §4.7.1).
bool known_type(std::string_view name, std::string_view type) {
    static constexpr std::array<std::string_view, 4> kMessage{"normal", "chat", "groupchat",
                                                              "headline"}; // RFC 6121 §5.2.2
    static constexpr std::array<std::string_view, 7> kPresence{
        "available",   "unavailable",  "subscribe", "subscribed",
        "unsubscribe", "unsubscribed", "probe"};                        // RFC 6121 §4.7.1
    static constexpr std::array<std::string_view, 2> kIq{"get", "set"}; // RFC 6120 §8.2.3
    auto in = [&](const auto& list) {
        return std::find(list.begin(), list.end(), type) != list.end();
    };
    if (name == "message") return in(kMessage);
    if (name == "presence") return in(kPresence);
    if (name == "iq") return in(kIq);
    return false;
}

bool sip_overlap(const SipClaim& a, const SipClaim& b) {
    return a.method == b.method && (a.event.empty() || b.event.empty() || a.event == b.event) &&
           (a.sdp_media.empty() || b.sdp_media.empty() || a.sdp_media == b.sdp_media);
}

bool types_intersect(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    if (a.empty() || b.empty()) return true;
    for (const auto& t : a)
        if (std::find(b.begin(), b.end(), t) != b.end()) return true;
    return false;
}

bool stanza_overlap(const StanzaClaim& a, const StanzaClaim& b) {
    if (a.name != b.name || !types_intersect(a.types, b.types)) return false;
    // A message claim with a payload namespace nests inside a general one held by another
    // plugin: the more specific claim wins at routing (receipts of chat sessions are typeless
    // messages, which the pager-mode plugin claims). For iq the payload is the request, so a
    // general iq claim and a specific one still conflict.
    if (a.name == "message") return a.child_ns == b.child_ns;
    return a.child_ns.empty() || b.child_ns.empty() || a.child_ns == b.child_ns;
}

bool same_types(std::vector<std::string> a, std::vector<std::string> b) {
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    return a == b;
}

Status invalid(std::string message) {
    return Status(ErrorCode::InvalidConfig, std::move(message));
}

Status validate(const SipClaim& c) {
    if (!is_token(c.method))
        return invalid("SIP claim '" + c.describe() + "': method must be a SIP token");
    if (!c.event.empty()) {
        if (!ClaimTable::routes_by_event(c.method))
            return invalid("SIP claim '" + c.describe() +
                           "': an event package applies only to SUBSCRIBE, NOTIFY and PUBLISH");
        if (c.event.find(';') != std::string::npos || !is_token(c.event))
            return invalid("SIP claim '" + c.describe() +
                           "': event must be a bare package name, without parameters");
    }
    if (!c.sdp_media.empty()) {
        if (c.method != "INVITE")
            return invalid("SIP claim '" + c.describe() + "': sdp_media applies only to INVITE");
        if (!is_token(c.sdp_media))
            return invalid("SIP claim '" + c.describe() + "': sdp_media must be a media token");
    }
    return {};
}

Status validate(const StanzaClaim& c) {
    if (c.name != "message" && c.name != "presence" && c.name != "iq")
        return invalid("stanza claim '" + c.describe() + "': name must be message, presence or iq");
    for (const auto& t : c.types)
        if (!known_type(c.name, t))
            return invalid("stanza claim '" + c.describe() + "': type '" + t +
                           "' cannot be claimed for <" + c.name +
                           "/> (error and result stanzas are replies, never routed by claims)");
    if (!c.child_ns.empty() && c.name == "presence")
        return invalid("stanza claim '" + c.describe() +
                       "': child_ns applies only to iq and message");
    return {};
}

} // namespace

std::string SipClaim::describe() const {
    std::string out = method.empty() ? std::string("(no method)") : method;
    if (!event.empty()) out += " Event: " + event;
    if (!sdp_media.empty()) out += " m=" + sdp_media;
    return out;
}

std::string StanzaClaim::describe() const {
    std::string out = "<" + name;
    if (!types.empty()) {
        out += " type='";
        for (std::size_t i = 0; i < types.size(); ++i) {
            if (i) out += '|';
            out += types[i];
        }
        out += '\'';
    }
    out += "/>";
    if (!child_ns.empty()) out += " with payload '" + child_ns + "'";
    return out;
}

Status ClaimTable::add(std::string_view plugin_id, const SipClaim& claim) {
    SipClaim c{ascii_upper(trim(claim.method)), std::string(trim(claim.event)),
               ascii_lower(trim(claim.sdp_media))};
    if (Status s = validate(c); !s) return s;
    std::unique_lock lock(mu_);
    for (const auto& e : sip_) {
        if (!sip_overlap(e.claim, c)) continue;
        if (e.plugin == plugin_id) {
            if (e.claim.event == c.event && e.claim.sdp_media == c.sdp_media) return {};
            continue; // a plugin may refine its own claims
        }
        return invalid("SIP claim '" + c.describe() + "' of " + std::string(plugin_id) +
                       " overlaps '" + e.claim.describe() + "' held by " + e.plugin);
    }
    sip_.push_back({std::string(plugin_id), std::move(c)});
    return {};
}

Status ClaimTable::add(std::string_view plugin_id, const StanzaClaim& claim) {
    StanzaClaim c{std::string(trim(claim.name)), {}, std::string(trim(claim.child_ns))};
    for (const auto& t : claim.types) c.types.emplace_back(trim(t));
    if (Status s = validate(c); !s) return s;
    std::unique_lock lock(mu_);
    for (const auto& e : stanza_) {
        if (!stanza_overlap(e.claim, c)) continue;
        if (e.plugin == plugin_id) {
            if (e.claim.child_ns == c.child_ns && same_types(e.claim.types, c.types)) return {};
            continue;
        }
        return invalid("stanza claim '" + c.describe() + "' of " + std::string(plugin_id) +
                       " overlaps '" + e.claim.describe() + "' held by " + e.plugin);
    }
    stanza_.push_back({std::string(plugin_id), std::move(c)});
    return {};
}

void ClaimTable::remove_plugin(std::string_view plugin_id) {
    std::unique_lock lock(mu_);
    std::erase_if(sip_, [&](const SipClaimEntry& e) { return e.plugin == plugin_id; });
    std::erase_if(stanza_, [&](const StanzaEntry& e) { return e.plugin == plugin_id; });
}

std::optional<std::string> ClaimTable::route(const sdk::SipRequest& request) const {
    std::string package;
    std::string media;
    if (ClaimTable::routes_by_event(request.method))
        package = event_package(request.header("Event"));
    if (request.method == "INVITE") {
        // An offer in the INVITE (RFC 3264 §5); a late-offer INVITE has no media to route on.
        const std::string type = request.header("Content-Type");
        if (SipMessage::iequals(trim(std::string_view(type).substr(0, type.find(';'))),
                                "application/sdp"))
            media = ascii_lower(first_sdp_media(request.body));
    }
    std::shared_lock lock(mu_);
    const SipClaimEntry* best = nullptr;
    int best_score = -1;
    for (const auto& e : sip_) {
        const SipClaim& c = e.claim;
        if (c.method != request.method) continue;             // RFC 3261 §7.1: case-sensitive
        if (!c.event.empty() && c.event != package) continue; // RFC 6665 §8.2.1: byte by byte
        if (!c.sdp_media.empty() && c.sdp_media != media) continue;
        const int score =
            static_cast<int>(!c.event.empty()) + static_cast<int>(!c.sdp_media.empty());
        if (score > best_score) {
            best = &e;
            best_score = score;
        }
    }
    if (!best) return std::nullopt;
    return best->plugin;
}

std::optional<std::string> ClaimTable::route(const sdk::Stanza& stanza) const {
    const std::string& name = stanza.name();
    if (stanza.is_text() || (name != "message" && name != "presence" && name != "iq"))
        return std::nullopt;
    std::string type = stanza.attr("type");
    if (type == "error") return std::nullopt; // RFC 6120 §8.3.1 rule 8: replies, not requests
    std::string payload_ns;
    if (name == "message") {
        // RFC 6121 §5.2.2: absent or not understood -> "normal".
        if (!known_type(name, type)) type = "normal";
    } else if (name == "presence") {
        if (type.empty()) type = "available"; // RFC 6121 §4.7.1
    } else {
        if (type != "get" && type != "set") return std::nullopt; // result, or invalid
    }
    if (name != "presence") {
        // The payload is the first element child (an iq's request; a message's first extension,
        // e.g. a XEP-0184 <received/>).
        for (const auto& c : stanza.children())
            if (!c.is_text()) {
                payload_ns = c.ns();
                break;
            }
    }
    std::shared_lock lock(mu_);
    const StanzaEntry* best = nullptr;
    int best_score = -1;
    for (const auto& e : stanza_) {
        const StanzaClaim& c = e.claim;
        if (c.name != name) continue;
        if (!c.types.empty() && std::find(c.types.begin(), c.types.end(), type) == c.types.end())
            continue;
        if (!c.child_ns.empty() && c.child_ns != payload_ns) continue;
        const int score =
            static_cast<int>(!c.types.empty()) + static_cast<int>(!c.child_ns.empty());
        if (score > best_score) {
            best = &e;
            best_score = score;
        }
    }
    if (!best) return std::nullopt;
    return best->plugin;
}

std::vector<SipClaimEntry> ClaimTable::sip_claims() const {
    std::shared_lock lock(mu_);
    return sip_;
}

std::string ClaimTable::first_sdp_media(std::string_view sdp) {
    // RFC 8866 §5.14: m=<media> <port> <proto> <fmt> ...; lines end in CRLF (LF tolerated).
    std::size_t pos = 0;
    while (pos < sdp.size()) {
        std::size_t end = sdp.find('\n', pos);
        if (end == std::string_view::npos) end = sdp.size();
        std::string_view line = trim(sdp.substr(pos, end - pos));
        if (line.size() > 2 && line.substr(0, 2) == "m=") {
            std::string_view rest = line.substr(2);
            return std::string(trim(rest.substr(0, rest.find_first_of(" \t"))));
        }
        pos = end + 1;
    }
    return {};
}

bool ClaimTable::routes_by_event(std::string_view method) noexcept {
    return method == "SUBSCRIBE" || method == "NOTIFY" || method == "PUBLISH";
}

std::string ClaimTable::event_package(std::string_view event_header) {
    return std::string(trim(event_header.substr(0, event_header.find(';'))));
}

} // namespace stox::core
