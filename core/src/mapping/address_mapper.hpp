// SPDX-License-Identifier: Apache-2.0
// RFC 7247 §6 address mapping, hardened as ../shared/spec/stox-core.md §1.3-1.4 describes
// (full XEP-0106 escape set, gr <-> resource, sips refusal, im/pres schemes, PRECIS
// UsernameCaseMapped via libunistring, IDNA2008 via libidn2).
#pragma once

#include <string>
#include <string_view>

#include "stox/sdk/mapping.hpp"

namespace stox::core {

/// Parses the scheme names "sip" | "sips" | "im" | "pres"; false for anything else.
bool parse_uri_scheme(std::string_view s, sdk::UriScheme& out) noexcept;

class AddressMapperImpl final : public sdk::AddressMapper {
public:
    [[nodiscard]] sdk::Result<std::string> to_jid(std::string_view uri,
                                                  sdk::UriRole role) const override;
    [[nodiscard]] sdk::Result<std::string> to_uri(std::string_view jid,
                                                  sdk::UriScheme scheme) const override;
};

} // namespace stox::core
