// SPDX-License-Identifier: Apache-2.0
// PIDF (RFC 3863) + RPID (RFC 4480) codec of the presence plugin: parses NOTIFY bodies into a
// small model and maps that model to and from XMPP <presence/> stanzas per RFC 8048 §6.2/§6.3
// (stox-core.md §2.4 Tables P1/P2, §2.5 priority conversion, choices A-19..A-27).
//
// Xerces-C: parse_pidf() uses Xerces SAX2 and assumes the host process has already called
// XMLPlatformUtils::Initialize() (the core holds a XercesGuard for the process lifetime). It
// returns ErrorCode::Internal, never crashes, when Xerces is not initialised. Every call builds
// its own reader, so the functions are safe to call from several threads at once.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stox/sdk/status.hpp"
#include "stox/sdk/xml.hpp"

namespace stox::plugins::presence {

inline constexpr std::string_view kPidfNs = "urn:ietf:params:xml:ns:pidf";
inline constexpr std::string_view kRpidNs = "urn:ietf:params:xml:ns:pidf:rpid";
inline constexpr std::string_view kDataModelNs = "urn:ietf:params:xml:ns:pidf:data-model";
/// RFC 8048 §6.2 n7: <show/> is carried in PIDF in the jabber:client namespace.
inline constexpr std::string_view kJabberClientNs = "jabber:client";
inline constexpr std::string_view kDelayNs = "urn:xmpp:delay";

/// Bodies larger than this are refused with ErrorCode::TooLarge before any parsing.
inline constexpr std::size_t kMaxPidfBytes = 256 * 1024;
/// Structural limits (defence against hostile bodies): element nesting and element count.
inline constexpr int kMaxPidfDepth = 32;
inline constexpr std::size_t kMaxPidfElements = 8192;

/// A PIDF <note/> or XMPP <status/>: text plus its xml:lang ("" when none is in scope).
struct Note {
    std::string text;
    std::string lang;
    friend bool operator==(const Note&, const Note&) = default;
};

/// One PIDF <tuple/> (RFC 3863 §4.1.1), i.e. one XMPP resource (RFC 8048 §6.2 n2).
struct PresenceTuple {
    std::string id;                 ///< xs:ID, "ID-" + enc(resource) when built from XMPP (A-27)
    bool has_basic = false;         ///< RFC 3863 allows a <status/> without <basic/> (P2: skip it)
    bool open = false;              ///< <basic>open</basic>
    std::string contact;            ///< <contact/> URI, "" when absent
    std::optional<double> priority; ///< <contact priority/>, only when within 0..1
    std::vector<Note> notes;
    std::string show;                    ///< <show xmlns='jabber:client'/>: "", away, chat, dnd, xa
    std::vector<std::string> activities; ///< RPID <activities/> children (local names)
    std::string user_input;              ///< RPID <user-input/>: "", active, idle
    std::string timestamp;               ///< <timestamp/>, verbatim
    friend bool operator==(const PresenceTuple&, const PresenceTuple&) = default;
};

/// A PIDF document (RFC 3863 §4.1). Person- and device-level RPID data (RFC 4479/4480, as
/// common phones send it) describes the whole presentity and applies to every tuple that has
/// none of its own.
struct PresenceDoc {
    std::string entity; ///< presence@entity, e.g. "pres:romeo@example.net"
    std::vector<PresenceTuple> tuples;
    std::vector<Note> notes;                    ///< presence-level <note/>s
    std::string show;                           ///< a presence-level jabber:client <show/> (A-25)
    std::vector<std::string> person_activities; ///< <dm:person><rpid:activities/>
    std::string person_user_input;              ///< <dm:person|dm:device><rpid:user-input/>
    std::vector<Note> person_notes;             ///< <dm:person><dm:note/>
    friend bool operator==(const PresenceDoc&, const PresenceDoc&) = default;
};

/// Parses a NOTIFY body. Refused with ErrorCode::BadRequest and a reason: not well-formed XML,
/// any DTD (internal subset, external id, entity declarations: billion laughs), external or
/// undeclared entities, a root other than {pidf}presence, a missing entity, a tuple without
/// id, a <basic/> other than open/closed, nesting or element counts over the limits above.
/// Bodies over kMaxPidfBytes: ErrorCode::TooLarge. Unknown extensions are ignored (RFC 3863
/// §4.2.3, including mustUnderstand ones inside <status/>). Never throws.
[[nodiscard]] sdk::Result<PresenceDoc> parse_pidf(std::string_view xml) noexcept;

/// What Table P2 needs besides the body; addresses are already mapped by the caller (§1.4).
struct PidfToXmppParams {
    std::string from_bare;        ///< map(NOTIFY From AOR), e.g. "romeo@example.net"
    std::string to;               ///< the watcher: bare JID, or the prober's full JID (A-20)
    std::string content_language; ///< NOTIFY Content-Language -> presence xml:lang
    std::string notify_contact;   ///< NOTIFY Contact URI: its gr names a single tuple's resource
    std::string id;               ///< stanza id to mirror (probe answers, RFC 6121 §4.3.2)
};

/// Table P2: one <presence/> per resource, in tuple order. Tuples without <basic/> are skipped;
/// when several tuples name one resource, the first open one (else the first) is used.
/// open -> no type, closed -> type='unavailable'; show from jabber:client <show/>, else from
/// RPID; notes -> <status xml:lang/>; contact priority -> <priority/> (§2.5). Stanzas
/// are in the component namespace (sdk::kComponentNs); a closed tuple carries no show/priority.
[[nodiscard]] std::vector<sdk::XmlElement> pidf_to_xmpp(const PresenceDoc& doc,
                                                        const PidfToXmppParams& params);

/// What Table P1 needs besides the stanzas; addresses are already mapped by the caller (§1.4).
struct XmppToPidfParams {
    std::string entity;       ///< "pres:" + map(bare JID), e.g. "pres:juliet@example.com"
    std::string contact_base; ///< map(bare JID) as sip:, e.g. "sip:juliet@example.com"; the
                              ///< tuple contact is contact_base + ";gr=" + resource ("": none)
    std::string default_lang; ///< language of statuses that carry no xml:lang ("": none)
    std::string now;          ///< <timestamp/> when a stanza has no XEP-0203 delay ("": none)
};

/// Table P1 for the current presence of each resource of one XMPP user (one stanza per
/// resource; a later stanza for the same resource replaces the earlier one). Only presence
/// without type or with type='unavailable' is mapped (PRES-NOT-2): anything else is refused
/// with ErrorCode::BadRequest. An empty input gives a document without tuples.
[[nodiscard]] sdk::Result<PresenceDoc>
presence_doc_from_xmpp(const std::vector<sdk::XmlElement>& presences_per_resource,
                       const XmppToPidfParams& params);

/// Serializes a document as application/pidf+xml (UTF-8, escaped; characters XML 1.0 cannot
/// carry are dropped). Tuple child order follows RFC 3863 §4.1.2.
[[nodiscard]] std::string serialize_pidf(const PresenceDoc& doc);

/// presence_doc_from_xmpp() + serialize_pidf().
[[nodiscard]] sdk::Result<std::string>
xmpp_to_pidf(const std::vector<sdk::XmlElement>& presences_per_resource,
             const XmppToPidfParams& params);

// --- building blocks, exposed for tests and for the plugin --------------------------------

/// §2.5: q = floor(p*1000/127)/1000 printed with at most 3 decimals; nullopt for p < 0
/// (PRES-NOT-7 MUST NOT) and p > 127.
[[nodiscard]] std::optional<std::string> xmpp_priority_to_q(int priority);
/// §2.5: p = round_half_up(q*127); nullopt when q is outside 0..1 (RFC 3863 §4.1.5).
[[nodiscard]] std::optional<int> q_to_xmpp_priority(double q);

/// "ID-" + the resource with every octet outside [A-Za-z0-9.-] written as _HH.
[[nodiscard]] std::string tuple_id_for_resource(std::string_view resource);
/// Inverse of tuple_id_for_resource(); nullopt when `id` is not in that form.
[[nodiscard]] std::optional<std::string> resource_from_tuple_id(std::string_view id);
/// The value of the `gr` URI parameter (RFC 5627) of a SIP URI, percent-decoded; "" if none.
/// Accepts a name-addr ("<sip:u@d;gr=x>").
[[nodiscard]] std::string gruu_of(std::string_view uri);

/// the XMPP <show/> an RPID activity set implies ("" when none).
[[nodiscard]] std::string show_from_rpid(const std::vector<std::string>& activities,
                                         std::string_view user_input);

} // namespace stox::plugins::presence
