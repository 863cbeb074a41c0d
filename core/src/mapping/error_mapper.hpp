// SPDX-License-Identifier: Apache-2.0
// RFC 7247 §7 error mapping: Table E1 (XMPP condition -> SIP) and Table E2 (SIP -> XMPP) of
// ../shared/spec/stox-core.md §1.5, with the profile choices A-9..A-14 and A-38.
#pragma once

#include <string_view>

#include "stox/sdk/mapping.hpp"

namespace stox::core {

/// True for the 22 RFC 6120 §8.3.3 defined conditions (plus legacy payment-required).
bool is_known_condition(std::string_view condition) noexcept;
/// RFC 6120 §8.3.3 default error type of a condition ("cancel" for unknown ones).
std::string_view default_error_type(std::string_view condition) noexcept;

class ErrorMapperImpl final : public sdk::ErrorMapper {
public:
    [[nodiscard]] sdk::XmppError sip_to_xmpp(int status, std::string_view reason,
                                             std::string_view contact) const override;
    [[nodiscard]] sdk::SipError xmpp_to_sip(const sdk::XmppError& error,
                                            const sdk::XmppToSipContext& context) const override;
    [[nodiscard]] sdk::XmppError xmpp_for(const sdk::Status& status) const override;
    [[nodiscard]] sdk::SipError sip_for(const sdk::Status& status) const override;
};

} // namespace stox::core
