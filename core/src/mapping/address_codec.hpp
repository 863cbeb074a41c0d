// SPDX-License-Identifier: Apache-2.0
// Building blocks of RFC 7247 §6 address mapping: percent-encoding (RFC 3986 §2.1), XEP-0106
// JID escaping, JID splitting and validation (RFC 7622 §3), IDNA2008 domains (libidn2) and
// XMPP IRIs (RFC 5122) as used in <gone/>/<redirect/> character data. Internal to the module.
#pragma once

#include <string>
#include <string_view>

#include "stox/sdk/status.hpp"

namespace stox::core::codec {

/// RFC 7622 §3.1: each part of a JID is at most 1023 octets.
inline constexpr std::size_t kMaxJidPart = 1023;

/// Percent-decodes `s` to octets. A '%' not followed by two hex digits -> BadRequest.
sdk::Result<std::string> percent_decode(std::string_view s);

/// Percent-encodes every octet for which `keep(octet)` is false, with uppercase hex (%C3%BC).
template <class Keep> std::string percent_encode(std::string_view s, Keep keep) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size());
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (keep(c)) {
            out.push_back(ch);
        } else {
            out.push_back('%');
            out.push_back(kHex[c >> 4U]);
            out.push_back(kHex[c & 0x0FU]);
        }
    }
    return out;
}

bool is_alnum(unsigned char c) noexcept;

/// XEP-0106 §4 escaping of a decoded localpart: every '\' that starts one of the ten escape
/// sequences (hex compared case-insensitively, see docs/decisions/mapping.md) becomes "\5c",
/// then space " & ' / : < > @ become \20 \22 \26 \27 \2f \3a \3c \3e \40.
std::string xep0106_escape(std::string_view decoded);

/// XEP-0106 unescaping in one left-to-right pass of exact lowercase sequences only, so
/// "\5c27" becomes "\27" and not "'". Other backslash sequences stay literal.
std::string xep0106_unescape(std::string_view escaped);

/// The characters RFC 7622 §3.3.1 excludes from a localpart on top of PRECIS, plus space.
bool is_jid_excluded(unsigned char c) noexcept;

/// A JID split per RFC 7622 §3.1 (resource after the first '/', localpart before the first
/// '@' of what remains). Views into the input.
struct JidParts {
    std::string_view local;
    std::string_view domain;
    std::string_view resource;
    bool has_local = false;
    bool has_resource = false;
};

/// Splits and checks the shape: valid UTF-8, non-empty parts where present, parts <= 1023
/// octets. Content rules (PRECIS, IDNA) are applied by the caller.
sdk::Result<JidParts> split_jid(std::string_view jid);

/// A domain in both forms: U-labels for XMPP, A-labels for SIP (CORE-ADDR-3, A-8).
struct Domain {
    std::string unicode;
    std::string ascii;
};

/// Validates and canonicalises a domain given as ASCII (possibly with xn-- A-labels), as
/// UTF-8 U-labels, or as an IP literal: lowercase, one trailing dot removed, LDH syntax of the
/// A-label form (labels 1..63, total <= 253), A-labels round-trip through IDNA2008
/// (IDN2_NONTRANSITIONAL). Errors: BadRequest.
sdk::Result<Domain> canonical_domain(std::string_view domain);

/// "xmpp:" IRI (RFC 5122 §2.2) of a JID given as parts: localpart and resourcepart
/// percent-encoded outside the RFC 5122 nodeid/resid sets (non-ASCII kept, it is an IRI).
std::string jid_to_xmpp_iri(std::string_view local, std::string_view domain,
                            std::string_view resource, bool has_resource);

/// The JID named by an "xmpp:" IRI (authority, query and fragment dropped, path
/// percent-decoded). Errors: BadRequest.
sdk::Result<std::string> xmpp_iri_to_jid(std::string_view iri);

} // namespace stox::core::codec
