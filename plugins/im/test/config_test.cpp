// SPDX-License-Identifier: Apache-2.0
// plugin.json: valid for the core's loader, defaults and bounds that agree with load_config(),
// unknown keys refused, and a module whose descriptor matches it (house style §4.7 "config").
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "config/config_view.hpp"
#include "config/json_schema.hpp"
#include "im_config.hpp"
#include "plugin/manifest.hpp"
#include "plugin/plugin_loader.hpp"
#include "stox/sdk/testing/plugin_harness.hpp"

namespace stox::plugins::im {
namespace {

using nlohmann::json;

std::string manifest_text() {
    std::ifstream in(STOX_IM_MANIFEST);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

const json& schema() {
    static const json s = json::parse(manifest_text()).at("config_schema");
    return s;
}

/// Validates a section with defaults applied; "" when valid, else the first error.
std::string validate_section(json& section) {
    auto errors = stox::core::config::validate(schema(), section, true);
    return errors.empty() ? std::string() : errors.front().pointer + ": " + errors.front().message;
}

stox::sdk::Result<ImConfig> load(const json& section) {
    return load_config(stox::core::config::JsonConfigView(section));
}

TEST(Manifest, IsValidForTheLoader) {
    const auto result = stox::core::parse_manifest(manifest_text());
    ASSERT_TRUE(result.manifest) << result.summary();
    const auto& m = *result.manifest;
    EXPECT_EQ(m.id, "org.stoxgw.im");
    EXPECT_EQ(m.version, "1.1.0");
    EXPECT_EQ(m.library, "stox_im");
    EXPECT_EQ(m.abi_major, 1u);
    EXPECT_EQ(m.abi_minor, 0u);
    // IM-1: pager mode only: MESSAGE, nothing of MSRP session mode (RFC 7573).
    ASSERT_EQ(m.sip_claims.size(), 1u);
    EXPECT_EQ(m.sip_claims[0].method, "MESSAGE");
    ASSERT_EQ(m.stanza_claims.size(), 1u);
    EXPECT_EQ(m.stanza_claims[0].name, "message");
    // Error stanzas are never claimed (CORE-ERR-14): replies reach send_tracked instead. Chat
    // belongs to the chat plugin (RFC 7573 sessions, AMB-35).
    EXPECT_EQ(m.stanza_claims[0].types,
              (std::vector<std::string>{"normal", "headline", "groupchat"}));
}

TEST(Manifest, SchemaDefaultsAreTheCodeDefaults) {
    json section = json::object();
    ASSERT_EQ(validate_section(section), "");
    auto cfg = load(section);
    ASSERT_TRUE(cfg) << cfg.status().message();
    const ImConfig d;
    EXPECT_EQ(cfg->success_status, d.success_status);
    EXPECT_EQ(cfg->await_window, d.await_window);
    EXPECT_EQ(cfg->answer_deadline, d.answer_deadline);
    EXPECT_EQ(cfg->restrict_from_domains, d.restrict_from_domains);
    EXPECT_EQ(cfg->xhtml_im, d.xhtml_im);
    EXPECT_EQ(cfg->message_type, d.message_type);
    EXPECT_EQ(cfg->max_stanza_bytes, d.max_stanza_bytes);
    EXPECT_EQ(cfg->non_xml_chars, d.non_xml_chars);
    EXPECT_EQ(cfg->max_pending_deliveries, d.max_pending_deliveries);
    EXPECT_EQ(cfg->max_sip_message_bytes, d.max_sip_message_bytes);
    EXPECT_EQ(cfg->max_queue_per_destination, d.max_queue_per_destination);
    EXPECT_EQ(cfg->max_destinations, d.max_destinations);
    EXPECT_EQ(cfg->max_queued_messages, d.max_queued_messages);
    EXPECT_EQ(cfg->max_tracked_threads, d.max_tracked_threads);
    EXPECT_EQ(cfg->sip_response_guard, d.sip_response_guard);
    // The documented defaults (docs/delivery.md, A-28, A-35, IM-14).
    EXPECT_EQ(d.success_status, 202);
    EXPECT_EQ(d.await_window.count(), 300);
    EXPECT_FALSE(d.xhtml_im);
    EXPECT_EQ(d.max_sip_message_bytes, 1300u);
    // Every schema key is set by the defaults (the section is complete after validation).
    for (const auto& [key, prop] : schema().at("properties").items())
        EXPECT_TRUE(section.contains(key)) << key << " has no default";
}

TEST(Manifest, UnknownKeyIsRefused) {
    json section = {{"await_window", 100}};
    EXPECT_NE(validate_section(section), "");
}

TEST(Manifest, IntegerBoundsAgreeWithLoadConfig) {
    // Every limit is enforced twice (schema by the core, load_config by the plugin): same bounds.
    for (const auto& [key, prop] : schema().at("properties").items()) {
        if (prop.at("type") != "integer") continue;
        std::vector<std::int64_t> valid, invalid;
        if (prop.contains("enum")) {
            for (const auto& v : prop.at("enum")) valid.push_back(v.get<std::int64_t>());
            invalid = {valid.front() - 1, valid.back() + 1};
        } else {
            const auto lo = prop.at("minimum").get<std::int64_t>();
            const auto hi = prop.at("maximum").get<std::int64_t>();
            valid = {lo, hi};
            invalid = {lo - 1, hi + 1};
        }
        for (auto v : valid) {
            json section = {{key, v}};
            if (key == "await_window_ms") section["answer_deadline_ms"] = 31000;
            if (key == "answer_deadline_ms") section["await_window_ms"] = 0;
            EXPECT_EQ(validate_section(section), "") << key << "=" << v;
            auto cfg = load(section);
            EXPECT_TRUE(cfg) << key << "=" << v << ": " << cfg.status().message();
        }
        for (auto v : invalid) {
            json section = {{key, v}};
            EXPECT_NE(validate_section(section), "") << key << "=" << v;
            auto cfg = load(json{{key, v}});
            EXPECT_FALSE(cfg) << key << "=" << v;
            if (!cfg) {
                EXPECT_EQ(cfg.status().code(), stox::sdk::ErrorCode::InvalidConfig);
            }
        }
    }
}

TEST(Manifest, EnumsAgreeWithLoadConfig) {
    for (const char* key : {"message_type", "non_xml_chars"}) {
        for (const auto& v : schema().at("properties").at(key).at("enum")) {
            json section = {{key, v}};
            EXPECT_EQ(validate_section(section), "");
            EXPECT_TRUE(load(section)) << key << "=" << v;
        }
        json bad = {{key, "bogus"}};
        EXPECT_NE(validate_section(bad), "");
        EXPECT_FALSE(load(json{{key, "bogus"}}));
    }
}

TEST(LoadConfig, WrongTypesAndInconsistentValuesAreInvalidConfig) {
    stox::sdk::testing::MapConfigView v;
    v.set("/xhtml_im", std::string("yes"));
    auto r = load_config(v);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.status().code(), stox::sdk::ErrorCode::InvalidConfig);
    EXPECT_NE(r.status().message().find("/xhtml_im"), std::string::npos);

    // The answer deadline must leave room for the await window.
    auto c = load(json{{"await_window_ms", 10000}, {"answer_deadline_ms", 10000}});
    ASSERT_FALSE(c);
    EXPECT_NE(c.status().message().find("answer_deadline_ms"), std::string::npos);
    EXPECT_TRUE(load(json{{"await_window_ms", 10000}, {"answer_deadline_ms", 10501}}));
    EXPECT_TRUE(load_config(stox::sdk::testing::MapConfigView{})); // all defaults
}

TEST(Module, DescriptorMatchesTheManifest) {
    // What the loader checks before running any plugin code (sdk/docs/abi-policy.md).
    const auto result = stox::core::parse_manifest(manifest_text());
    ASSERT_TRUE(result.manifest);
    auto d = stox::core::open_plugin(*result.manifest, STOX_IM_MODULE);
    ASSERT_TRUE(d) << d.status().message();
    EXPECT_STREQ((*d)->id, "org.stoxgw.im");
    EXPECT_STREQ((*d)->version, "1.1.0");
    // create/destroy work and create no side effects beyond the object.
    stox::sdk::Plugin* p = (*d)->create();
    ASSERT_NE(p, nullptr);
    (*d)->destroy(p);
}

} // namespace
} // namespace stox::plugins::im
