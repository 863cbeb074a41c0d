// SPDX-License-Identifier: Apache-2.0
// PRECIS (RFC 8264) profiles used by XMPP addresses (RFC 7622 §3.3-3.4), approximated with
// libunistring: UsernameCaseMapped (RFC 8265 §3.3) for localparts and OpaqueString (RFC 8265
// §4.2) for resourceparts. docs/decisions/mapping.md lists exactly what is enforced.
// Internal to the mapping module.
#pragma once

#include <string>
#include <string_view>

#include "stox/sdk/status.hpp"

namespace stox::core::precis {

/// True when `s` is well-formed UTF-8 (no overlongs, surrogates or code points > U+10FFFF).
bool is_valid_utf8(std::string_view s) noexcept;

/// UsernameCaseMapped preparation mappings, in RFC 8265 §3.3.2 order: width mapping (fullwidth
/// and halfwidth to their decompositions), Unicode toLowerCase, NFC. Input must be valid UTF-8.
/// Errors: BadRequest for invalid UTF-8, Internal on allocation failure.
sdk::Result<std::string> map_username(std::string_view utf8);

/// UsernameCaseMapped validity of an already mapped string: non-empty, NFC-stable, every code
/// point allowed by the IdentifierClass (with the RFC 5892 CONTEXTJ/CONTEXTO rules), and the
/// RFC 5893 Bidi Rule when the string contains right-to-left characters.
sdk::Status check_username(std::string_view mapped);

/// OpaqueString enforcement (RFC 8265 §4.2.2): non-ASCII spaces -> U+0020, NFC, then every
/// code point allowed by the FreeformClass; the result must be non-empty.
sdk::Result<std::string> enforce_opaque(std::string_view utf8);

} // namespace stox::core::precis
