// SPDX-License-Identifier: Apache-2.0
// RFC 7247 §6 address mapping, hardened as ../shared/spec/stox-core.md §1.3-1.4 describes
// (full XEP-0106 escape set, gr <-> resource, sips refusal, im/pres schemes, PRECIS
// UsernameCaseMapped via libunistring, IDNA2008 via libidn2). Every profile choice is recorded
// in docs/decisions/mapping.md.
#pragma once

#include <string>
#include <string_view>

#include "stox/sdk/mapping.hpp"

namespace stox::core {

/// Parses the scheme names "sip" | "sips" | "im" | "pres" (ASCII case-insensitive, as URI
/// schemes are); false for anything else.
bool parse_uri_scheme(std::string_view s, sdk::UriScheme& out) noexcept;
/// "sip" | "sips" | "im" | "pres".
std::string_view to_string(sdk::UriScheme scheme) noexcept;

/// Parses a role name: "request-uri" (or "ruri"), "to", "from", "contact", "entity"
/// (ASCII case-insensitive); false for anything else. For command-line tools.
bool parse_uri_role(std::string_view s, sdk::UriRole& out) noexcept;

/// Thread context: stateless, safe from any thread. Never throws: allocation failure is
/// reported as ErrorCode::Internal.
class AddressMapperImpl final : public sdk::AddressMapper {
public:
    /// Longest URI accepted by to_jid (a JID needs at most 3 x 1023 octets; the rest is
    /// parameters and headers that are dropped anyway).
    static constexpr std::size_t kMaxUriLength = 8192;

    // Default arguments repeat the base class ones so that calls on the concrete type agree.
    [[nodiscard]] sdk::Result<std::string>
    to_jid(std::string_view uri, sdk::UriRole role = sdk::UriRole::From) const override;
    [[nodiscard]] sdk::Result<std::string>
    to_uri(std::string_view jid, sdk::UriScheme scheme = sdk::UriScheme::Sip) const override;
};

} // namespace stox::core
