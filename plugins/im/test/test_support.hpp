// SPDX-License-Identifier: Apache-2.0
// Shared by the IM plugin tests: the core's real RFC 7247 mappers (the vectors depend on them)
// and small helpers. Only the test executable links the core; the plugin module never does.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "mapping/address_mapper.hpp"
#include "mapping/error_mapper.hpp"
#include "stox/sdk/testing/plugin_harness.hpp"

namespace stox::plugins::im::test {

using stox::sdk::testing::canonical_xml;
using stox::sdk::testing::parse_sip_request;
using stox::sdk::testing::parse_xml;

inline const stox::core::AddressMapperImpl& address_mapper() {
    static const stox::core::AddressMapperImpl m;
    return m;
}
inline const stox::core::ErrorMapperImpl& error_mapper() {
    static const stox::core::ErrorMapperImpl m;
    return m;
}

/// Canonical form of an expected stanza written as XML.
inline std::string canon(std::string_view xml) {
    return canonical_xml(parse_xml(xml));
}

/// Canonical form of a stanza with its `id` replaced (ids are minted at random).
inline std::string canon_without_id(stox::sdk::Stanza s, std::string_view placeholder = "ID") {
    if (s.has_attr("id")) s.set_attr("id", std::string(placeholder));
    return canonical_xml(s);
}

} // namespace stox::plugins::im::test
