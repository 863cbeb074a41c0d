// SPDX-License-Identifier: Apache-2.0
/// \file mapping.hpp
/// RFC 7247 address mapping (§6) and error mapping (§7), implemented once in the core and
/// offered to every plugin. Thread context: pure functions, safe from any thread.
#pragma once

#include <string>
#include <string_view>

#include "stox/sdk/status.hpp"

namespace stox::sdk {

enum class UriScheme { Sip, Sips, Im, Pres };

/// Where a URI was found. A sips: Request-URI or To must not be translated (RFC 7247 §8);
/// sips: in From/Contact is accepted as an identity.
enum class UriRole { RequestUri, To, From, Contact, Entity };

class AddressMapper {
public:
    virtual ~AddressMapper() = default;
    /// sip:/sips:/im:/pres: URI -> JID (bare, or full when the URI carries a public GRUU
    /// `gr` value). Errors: BadRequest (malformed, leading/trailing \20, PRECIS failure),
    /// UnsupportedScheme (tel: and others), SecureOnly (sips: as Request-URI or To).
    [[nodiscard]] virtual Result<std::string> to_jid(std::string_view uri,
                                                     UriRole role = UriRole::From) const = 0;
    /// JID -> URI of the given scheme; a resource becomes `;gr=` for sip/sips.
    /// Errors: BadRequest for a malformed JID.
    [[nodiscard]] virtual Result<std::string> to_uri(std::string_view jid,
                                                     UriScheme scheme = UriScheme::Sip) const = 0;
};

/// An XMPP stanza error (RFC 6120 §8.3).
struct XmppError {
    std::string condition; ///< "item-not-found"; empty when there is no error (1xx/2xx)
    std::string type;      ///< "cancel" | "modify" | "auth" | "wait" | "continue"
    std::string text;      ///< optional <text/>
    std::string address;   ///< character data of <gone/> / <redirect/> ("xmpp:romeo@example.org")
};

/// A SIP final response to synthesize for an XMPP error.
struct SipError {
    int status = 0;      ///< 300..699
    std::string reason;  ///< Reason-Phrase
    std::string contact; ///< Contact for 301/302 ("<sip:romeo@example.org>"), else ""
    std::string allow;   ///< Allow for 405, else ""
};

/// What the failed XMPP request was addressed to (RFC 7247 §7.1 notes 1-2).
enum class TargetKind { Bare, Full };

struct XmppToSipContext {
    TargetKind target = TargetKind::Bare;
    std::string_view method = "MESSAGE"; ///< SIP method being answered (for unexpected-request)
    bool remote_server_exists = true;    ///< remote-server-not-found: false -> 404, true -> 408
};

class ErrorMapper {
public:
    virtual ~ErrorMapper() = default;
    /// RFC 7247 §7.2 (Table E2): SIP final response -> XMPP error. For 1xx/2xx the condition is
    /// empty. `contact` is the first Contact URI of a 3xx, used for <gone/>/<redirect/>.
    [[nodiscard]] virtual XmppError sip_to_xmpp(int status, std::string_view reason,
                                                std::string_view contact = {}) const = 0;
    /// RFC 7247 §7.1 (Table E1): XMPP error condition -> SIP final response.
    [[nodiscard]] virtual SipError xmpp_to_sip(const XmppError& error,
                                               const XmppToSipContext& context = {}) const = 0;
    /// A semantic Status -> the XMPP error the gateway should send for it.
    [[nodiscard]] virtual XmppError xmpp_for(const Status& status) const = 0;
    /// A semantic Status -> the SIP final response the gateway should send for it.
    [[nodiscard]] virtual SipError sip_for(const Status& status) const = 0;
};

} // namespace stox::sdk
