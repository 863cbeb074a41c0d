// SPDX-License-Identifier: Apache-2.0
// plugin.json: valid for the core's loader, claims as the brief and RFC 7573 need, defaults and
// bounds that agree with load_config().
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "chat_config.hpp"
#include "config/config_view.hpp"
#include "config/json_schema.hpp"
#include "plugin/manifest.hpp"

namespace stox::plugins::chat {
namespace {

using nlohmann::json;

std::string manifest_text() {
    std::ifstream in(STOX_CHAT_MANIFEST);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

const json& schema() {
    static const json s = json::parse(manifest_text()).at("config_schema");
    return s;
}

std::string validate_section(json& section) {
    auto errors = stox::core::config::validate(schema(), section, true);
    return errors.empty() ? std::string() : errors.front().pointer + ": " + errors.front().message;
}

sdk::Result<ChatConfig> load(const json& section) {
    return load_config(stox::core::config::JsonConfigView(section));
}

TEST(Manifest, IsValidForTheLoaderWithChatClaims) {
    const auto result = stox::core::parse_manifest(manifest_text());
    ASSERT_TRUE(result.manifest) << result.summary();
    const auto& m = *result.manifest;
    EXPECT_EQ(m.id, "org.stoxgw.chat");
    EXPECT_EQ(m.version, "1.0.0");
    EXPECT_EQ(m.library, "stox_chat");
    EXPECT_EQ(m.abi_major, 1u);
    EXPECT_EQ(m.abi_minor, 1u);
    ASSERT_EQ(m.sip_claims.size(), 2u);
    EXPECT_EQ(m.sip_claims[0].method, "INVITE");
    EXPECT_EQ(m.sip_claims[0].sdp_media, "message"); // CHAT-8
    EXPECT_EQ(m.sip_claims[1].method, "BYE");
    ASSERT_EQ(m.stanza_claims.size(), 2u);
    EXPECT_EQ(m.stanza_claims[0].name, "message");
    EXPECT_EQ(m.stanza_claims[0].types, (std::vector<std::string>{"chat"})); // AMB-35
    // Typeless XEP-0184 receipts (TV-22): normal messages whose payload is a receipt.
    EXPECT_EQ(m.stanza_claims[1].types, (std::vector<std::string>{"normal"}));
    EXPECT_EQ(m.stanza_claims[1].child_ns, "urn:xmpp:receipts");
}

TEST(Manifest, SchemaDefaultsAreTheCodeDefaults) {
    json section = json::object();
    ASSERT_EQ(validate_section(section), "");
    auto cfg = load(section);
    ASSERT_TRUE(cfg) << cfg.status().message();
    const ChatConfig d;
    EXPECT_EQ(cfg->msrp_listen_address, d.msrp_listen_address);
    EXPECT_EQ(cfg->msrp_listen_port, d.msrp_listen_port);
    EXPECT_EQ(cfg->msrp_advertised_host, d.msrp_advertised_host);
    EXPECT_EQ(cfg->answer_passive, d.answer_passive);
    EXPECT_EQ(cfg->failure_report_partial, d.failure_report_partial);
    EXPECT_EQ(cfg->success_report_on_accept, d.success_report_on_accept);
    EXPECT_EQ(cfg->idle_timeout, d.idle_timeout);
    EXPECT_EQ(cfg->max_sessions, d.max_sessions);
    EXPECT_EQ(cfg->max_queued_messages, d.max_queued_messages);
    EXPECT_EQ(cfg->max_message_bytes, d.max_message_bytes);
    EXPECT_EQ(cfg->xmpp_reply_window, d.xmpp_reply_window);
    EXPECT_EQ(cfg->invite_timeout, d.invite_timeout);
    EXPECT_EQ(cfg->chat_states, d.chat_states);
    EXPECT_EQ(cfg->reinvite_on_connection_loss, d.reinvite_on_connection_loss);
    // CHAT-16 strict profile, XEP-0085 ten minutes, CHAT-18 under 10000-byte stanzas.
    EXPECT_FALSE(d.failure_report_partial);
    EXPECT_EQ(d.idle_timeout.count(), 600);
    EXPECT_LT(d.max_message_bytes, 10000u);
    for (const auto& [key, prop] : schema().at("properties").items()) {
        EXPECT_TRUE(section.contains(key)) << key << " has no default";
        EXPECT_FALSE(prop.value("description", "").empty()) << key << " has no description";
    }
}

TEST(Manifest, UnknownKeyAndBadValuesAreRefused) {
    json unknown = {{"idle_timeout", 100}};
    EXPECT_NE(validate_section(unknown), "");
    json bad_enum = {{"failure_report", "yes"}}; // AMB-3: never yes
    EXPECT_NE(validate_section(bad_enum), "");
}

TEST(Manifest, IntegerBoundsAgreeWithLoadConfig) {
    for (const auto& [key, prop] : schema().at("properties").items()) {
        if (prop.at("type") != "integer") continue;
        const auto lo = prop.at("minimum").get<std::int64_t>();
        const auto hi = prop.at("maximum").get<std::int64_t>();
        EXPECT_TRUE(load(json{{key, lo}})) << key;
        EXPECT_TRUE(load(json{{key, hi}})) << key;
        EXPECT_FALSE(load(json{{key, hi + 1}})) << key;
        if (lo > 0) {
            EXPECT_FALSE(load(json{{key, lo - 1}})) << key;
        }
    }
}

TEST(Config, ChoicesAndHosts) {
    auto c = load(json{{"answer_setup", "active"},
                       {"failure_report", "partial"},
                       {"success_report_mode", "accepted"},
                       {"msrp_advertised_host", "gw.example.net"}});
    ASSERT_TRUE(c);
    EXPECT_FALSE(c->answer_passive);
    EXPECT_TRUE(c->failure_report_partial);
    EXPECT_TRUE(c->success_report_on_accept);
    EXPECT_EQ(c->advertised_host(), "gw.example.net");
    EXPECT_FALSE(load(json{{"answer_setup", "holdconn"}}));
    EXPECT_FALSE(load(json{{"msrp_listen_address", "not a host!"}}));
}

} // namespace
} // namespace stox::plugins::chat
