// SPDX-License-Identifier: Apache-2.0
// Shared by the presence role and plugin tests: the core's real RFC 7247 mappers, a harness
// context with a memory store, and helpers to read what the roles sent.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>

#include "mapping/address_mapper.hpp"
#include "mapping/error_mapper.hpp"
#include "presence_shared.hpp"
#include "stox/sdk/testing/plugin_harness.hpp"
#include "store/memory_store.hpp"

namespace stox::plugins::presence::test {

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

/// A fake plugin context (component domain example.net, SIP domain example.net, contact host
/// s2x.example.net), a memory store and the Shared state the roles use.
struct RoleFixture {
    explicit RoleFixture(PresenceConfig cfg = {})
        : ctx("org.stoxgw.presence", address_mapper(), error_mapper()) {
        ctx.fake_xmpp().set_component_domain("example.net");
        ctx.fake_xmpp().set_auto_write(true);
        ctx.fake_sip().set_domains({"example.net"});
        ctx.set_contact_host("s2x.example.net");
        cfg.refresh_jitter = 0; // deterministic timers unless a test wants jitter
        shared = std::make_unique<Shared>(ctx, cfg, store);
    }
    sdk::testing::FakePluginContext ctx;
    store::MemoryStore store;
    std::unique_ptr<Shared> shared;

    sdk::testing::FakeSipService& sip() { return ctx.fake_sip(); }
    sdk::testing::FakeXmppService& xmpp() { return ctx.fake_xmpp(); }
    sdk::testing::ManualExecutor& exec() { return ctx.manual_executor(); }
};

/// Canonical form of an expected stanza written as XML.
inline std::string canon(std::string_view xml) {
    return canonical_xml(parse_xml(xml));
}
/// Canonical form of a stanza with its `id` replaced (ids are minted at random).
inline std::string canon_without_id(sdk::Stanza s, std::string_view placeholder = "ID") {
    if (s.has_attr("id")) s.set_attr("id", std::string(placeholder));
    return canonical_xml(s);
}

} // namespace stox::plugins::presence::test
