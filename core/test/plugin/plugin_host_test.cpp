// SPDX-License-Identifier: Apache-2.0
// PluginHost decisions that need no shared object: discovery, manifest refusals, duplicate ids,
// site settings (enabled/required/config), unknown plugin sections, dependency resolution,
// cycles and claims (LOAD-*; the real-dlopen cases are in tests/loader). Plugins here have no
// library file, so a plugin that passes every metadata check is refused with "not found": the
// tests assert that it got that far, or that it was stopped earlier for the expected reason.
#include <gtest/gtest.h>

#include "plugin/plugin_host.hpp"
#include "plugin_test_support.hpp"

namespace stox::core {
namespace {

using test::manifest_json;
using test::site_json;

constexpr const char* kSiteFile = "/etc/stoxgw/stoxgw.json";

class PluginHostTest : public ::testing::Test {
protected:
    PluginHostTest() { rig.sink.set_level(sdk::LogLevel::Debug); }

    void add(const std::string& id, const std::string& version = "1.0.0",
             const std::string& extra = {}) {
        dir.write("plugins/" + id + "/plugin.json", manifest_json(id, version, extra));
    }
    std::vector<PluginRecord> discover() { return host.discover({dir.path() / "plugins"}); }
    config::SiteConfig site(const std::string& plugins) {
        auto r = config::load_site_config_text(site_json(plugins), kSiteFile);
        EXPECT_TRUE(r.config.has_value()) << (r.errors.empty() ? "" : r.errors[0].to_string());
        return r.config ? *r.config : config::SiteConfig{};
    }
    PluginRecord rec(const std::string& id) {
        auto r = host.record(id);
        EXPECT_TRUE(r.has_value()) << id;
        return r ? *r : PluginRecord{};
    }
    std::string manifest_of(const std::string& id) {
        return (dir.path() / "plugins" / id / "plugin.json").string();
    }
    /// Error/warn lines naming `file`.
    std::size_t complaints_about(const std::string& file) {
        return rig.capture.complaints(file).size();
    }

    test::CoreRig rig;
    test::TempDir dir;
    PluginHost host{rig.sink, rig.metrics};
};

TEST_F(PluginHostTest, LOAD1_DiscoversEveryManifestAndOpensNothing) {
    add("org.test.a");
    add("org.test.b", "2.1.0");
    const std::size_t opened = opened_library_count();
    auto records = discover();
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].id, "org.test.a");
    EXPECT_EQ(records[1].id, "org.test.b");
    EXPECT_EQ(records[1].version, "2.1.0");
    EXPECT_EQ(records[1].name, "Test org.test.b");
    EXPECT_EQ(records[1].abi_major, static_cast<std::uint32_t>(STOX_SDK_ABI_MAJOR));
    EXPECT_EQ(records[1].state, PluginState::Discovered);
    EXPECT_EQ(records[1].manifest_path.string(), manifest_of("org.test.b"));
    EXPECT_EQ(records[1].library_path, dir.path() / "plugins" / "org.test.b" / "lib_org_test_b.so");
    EXPECT_EQ(opened_library_count(), opened);
}

TEST_F(PluginHostTest, LOAD2_LOAD13_InvalidJsonIsRefusedWithOneLineNamingTheFile) {
    dir.write("plugins/broken/plugin.json", "{ \"id\": ");
    auto records = discover();
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].id, "broken"); // no id readable: the directory name
    EXPECT_EQ(records[0].state, PluginState::Refused);
    EXPECT_NE(records[0].reason.find("invalid manifest: invalid JSON"), std::string::npos)
        << records[0].reason;
    EXPECT_EQ(complaints_about(manifest_of("broken")), 1u) << rig.capture.text();
    EXPECT_EQ(rig.metrics.value("plugins.refused"), 1u);
}

TEST_F(PluginHostTest, LOAD2_LOAD13_SchemaErrorIsRefusedUnderTheClaimedId) {
    add("org.test.schema", "1.0.0", R"("claims": {"sip": [{"method": "message"}]})");
    discover();
    auto r = rec("org.test.schema");
    EXPECT_EQ(r.state, PluginState::Refused);
    EXPECT_NE(r.reason.find("/claims/sip/0/method"), std::string::npos) << r.reason;
    EXPECT_EQ(complaints_about(manifest_of("org.test.schema")), 1u) << rig.capture.text();
}

TEST_F(PluginHostTest, LOAD4_ManifestAbiMajorIsRefusedBeforeOpening) {
    std::string text = manifest_json("org.test.abi");
    text.replace(text.find("\"major\": 1"), 10, "\"major\": 99");
    dir.write("plugins/org.test.abi/plugin.json", text);
    discover();
    auto r = rec("org.test.abi");
    EXPECT_EQ(r.state, PluginState::Refused);
    EXPECT_NE(r.reason.find("manifest declares ABI 99."), std::string::npos) << r.reason;
}

TEST_F(PluginHostTest, LOAD12_DuplicateIdIsRefusedFirstOneWins) {
    add("org.test.dup", "1.0.0");
    dir.write("other/org.test.dup/plugin.json", manifest_json("org.test.dup", "1.1.0"));
    auto records = host.discover({dir.path() / "plugins", dir.path() / "other"});
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].state, PluginState::Discovered);
    EXPECT_EQ(records[1].state, PluginState::Refused);
    EXPECT_NE(records[1].reason.find("duplicate plugin id 'org.test.dup': already provided by " +
                                     manifest_of("org.test.dup")),
              std::string::npos)
        << records[1].reason;
    EXPECT_EQ(rec("org.test.dup").version, "1.0.0");
}

TEST_F(PluginHostTest, LOAD15_DisabledPluginIsNeverOpened) {
    add("org.test.off");
    discover();
    auto s = site(R"({"org.test.off": {"enabled": false}})");
    EXPECT_TRUE(host.load_all(rig.claims, &s).ok());
    auto r = rec("org.test.off");
    EXPECT_EQ(r.state, PluginState::Disabled);
    EXPECT_EQ(r.reason, "disabled in the site configuration");
    // Had it been opened, the missing library would have refused it.
    EXPECT_TRUE(rig.capture.matching({"not found"}).empty()) << rig.capture.text();
    EXPECT_EQ(rig.capture.matching({" info [", "org.test.off disabled", kSiteFile}).size(), 1u)
        << rig.capture.text();
}

TEST_F(PluginHostTest, LOAD9_LOAD14_OptionalPluginWithoutLibraryIsRefusedGatewayGoesOn) {
    add("org.test.nolib");
    discover();
    EXPECT_TRUE(host.load_all(rig.claims).ok());
    auto r = rec("org.test.nolib");
    EXPECT_EQ(r.state, PluginState::Refused);
    EXPECT_NE(r.reason.find("lib_org_test_nolib.so not found"), std::string::npos) << r.reason;
    EXPECT_EQ(complaints_about(manifest_of("org.test.nolib")), 1u) << rig.capture.text();
}

TEST_F(PluginHostTest, LOAD14_RequiredPluginRefusedFailsLoading) {
    add("org.test.needed");
    discover();
    auto s = site(R"({"org.test.needed": {"required": true}})");
    auto st = host.load_all(rig.claims, &s);
    EXPECT_FALSE(st.ok());
    EXPECT_NE(st.message().find("required plugin org.test.needed"), std::string::npos)
        << st.message();
    EXPECT_NE(st.message().find("not found"), std::string::npos) << st.message();
    EXPECT_TRUE(rec("org.test.needed").required);
}

TEST_F(PluginHostTest, LOAD14_RequiredButAbsentOrDisabledIsAnError) {
    add("org.test.off");
    discover();
    auto s = site(R"({"org.test.off": {"enabled": false, "required": true},
                      "org.test.ghost": {"required": true}})");
    auto errors = host.validate_plugin_configs(s);
    ASSERT_EQ(errors.size(), 2u);
    EXPECT_EQ(errors[0].pointer, "/plugins/org.test.off/required");
    EXPECT_NE(errors[0].message.find("required but disabled"), std::string::npos);
    EXPECT_EQ(errors[1].pointer, "/plugins/org.test.ghost");
    auto st = host.load_all(rig.claims, &s);
    EXPECT_FALSE(st.ok());
    EXPECT_NE(st.message().find("org.test.off is disabled"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("org.test.ghost was not found"), std::string::npos) << st.message();
}

TEST_F(PluginHostTest, LOAD16_ConfigErrorsNameFilePointerAndReason) {
    add("org.test.cfg", "1.0.0", R"("config_schema": {"type": "object",
        "additionalProperties": false, "properties": {
          "port": {"type": "integer", "minimum": 1, "default": 5060},
          "name": {"type": "string", "default": "gw"}}})");
    add("org.test.nocfg");
    discover();
    auto s = site(R"({"org.test.cfg": {"config": {"port": 0, "colour": "red"}},
                      "org.test.nocfg": {"config": {"x": 1}}})");
    auto errors = host.validate_plugin_configs(s);
    ASSERT_EQ(errors.size(), 3u);
    for (const auto& e : errors) EXPECT_EQ(e.file, kSiteFile);
    std::vector<std::string> pointers;
    for (const auto& e : errors) pointers.push_back(e.pointer);
    EXPECT_NE(std::find(pointers.begin(), pointers.end(), "/plugins/org.test.cfg/config/port"),
              pointers.end());
    EXPECT_NE(std::find(pointers.begin(), pointers.end(), "/plugins/org.test.cfg/config/colour"),
              pointers.end());
    EXPECT_NE(std::find(pointers.begin(), pointers.end(), "/plugins/org.test.nocfg/config/x"),
              pointers.end());
    EXPECT_EQ(errors[0].to_string().rfind(std::string(kSiteFile) + ": /plugins/", 0), 0u)
        << errors[0].to_string();

    // At run the plugin is refused with the same text, the others go on.
    EXPECT_TRUE(host.load_all(rig.claims, &s).ok());
    auto r = rec("org.test.cfg");
    EXPECT_EQ(r.state, PluginState::Refused);
    EXPECT_NE(r.reason.find(std::string("invalid configuration: ") + kSiteFile +
                            ": /plugins/org.test.cfg/config/"),
              std::string::npos)
        << r.reason;
}

TEST_F(PluginHostTest, LOAD16_ValidConfigPassesWithDefaults) {
    add("org.test.cfg", "1.0.0", R"("config_schema": {"type": "object",
        "properties": {"port": {"type": "integer", "default": 5060}}})");
    discover();
    EXPECT_TRUE(host.validate_plugin_configs(site(R"({"org.test.cfg": {}})")).empty());
    EXPECT_TRUE(host.validate_plugin_configs(site("{}")).empty());
}

TEST_F(PluginHostTest, LOAD17_UnknownPluginSectionIsAnErrorInCheckAndAWarningAtRun) {
    add("org.test.known");
    discover();
    auto s = site(R"({"org.test.typo": {"config": {}}})");
    auto errors = host.validate_plugin_configs(s);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].file, kSiteFile);
    EXPECT_EQ(errors[0].pointer, "/plugins/org.test.typo");
    EXPECT_NE(errors[0].message.find("unknown plugin 'org.test.typo'"), std::string::npos);
    EXPECT_TRUE(host.load_all(rig.claims, &s).ok());
    EXPECT_EQ(rig.capture.matching({" warn [", "unknown plugin 'org.test.typo'", kSiteFile}).size(),
              1u)
        << rig.capture.text();
}

TEST_F(PluginHostTest, LOAD10_MissingWrongVersionAndRefusedDependencies) {
    add("org.test.base", "2.0.0");
    add("org.test.wants-missing", "1.0.0", R"("requires": [{"id": "org.test.nobody"}])");
    add("org.test.wants-v1", "1.0.0",
        R"("requires": [{"id": "org.test.base", "version": ">=1.0.0 <2.0.0"}])");
    add("org.test.wants-base", "1.0.0", R"("requires": [{"id": "org.test.base"}])");
    add("org.test.optional", "1.0.0",
        R"("requires": [{"id": "org.test.nobody", "optional": true}])");
    discover();
    EXPECT_TRUE(host.load_all(rig.claims).ok());
    EXPECT_EQ(rec("org.test.wants-missing").reason,
              "required dependency 'org.test.nobody' not found on the plugin path");
    EXPECT_EQ(rec("org.test.wants-v1").reason,
              "required dependency 'org.test.base' (>=1.0.0 <2.0.0) has version 2.0.0");
    // base itself has no library: refused, and its dependants with it.
    EXPECT_NE(rec("org.test.base").reason.find("not found"), std::string::npos);
    auto wb = rec("org.test.wants-base");
    EXPECT_EQ(wb.state, PluginState::Refused);
    EXPECT_EQ(wb.reason.rfind("required dependency 'org.test.base' is refused (library ", 0), 0u)
        << wb.reason;
    // An optional dependency may be absent: the plugin goes on (to its own missing library).
    EXPECT_NE(rec("org.test.optional").reason.find("lib_org_test_optional.so not found"),
              std::string::npos);
    EXPECT_EQ(rig.capture.matching({" info [", "optional dependency 'org.test.nobody'"}).size(), 1u)
        << rig.capture.text();
    for (const char* id : {"org.test.wants-missing", "org.test.wants-v1", "org.test.wants-base"})
        EXPECT_EQ(complaints_about(manifest_of(id)), 1u) << id << "\n" << rig.capture.text();
}

TEST_F(PluginHostTest, LOAD18_CycleIsRefusedWithItsPath) {
    add("org.test.cycle-a", "1.0.0", R"("requires": [{"id": "org.test.cycle-b"}])");
    add("org.test.cycle-b", "1.0.0", R"("requires": [{"id": "org.test.cycle-a"}])");
    add("org.test.on-cycle", "1.0.0", R"("requires": [{"id": "org.test.cycle-a"}])");
    discover();
    EXPECT_TRUE(host.load_all(rig.claims).ok());
    const std::string cycle = "dependency cycle: org.test.cycle-a -> org.test.cycle-b -> "
                              "org.test.cycle-a";
    EXPECT_EQ(rec("org.test.cycle-a").reason, cycle);
    EXPECT_EQ(rec("org.test.cycle-b").reason, cycle);
    EXPECT_EQ(rec("org.test.on-cycle").reason,
              "required dependency 'org.test.cycle-a' is refused (" + cycle + ")");
}

TEST_F(PluginHostTest, LOAD11_OverlappingClaimIsRefusedAndClaimsRollBack) {
    ASSERT_TRUE(rig.claims.add("org.core.existing", SipClaim{"MESSAGE", "", ""}).ok());
    add("org.test.clash", "1.0.0", R"("claims": {"sip": [{"method": "MESSAGE"}]})");
    add("org.test.presence", "1.0.0",
        R"("claims": {"sip": [{"method": "SUBSCRIBE", "event": "presence"}],
                      "xmpp": [{"name": "presence"}]})");
    discover();
    EXPECT_TRUE(host.load_all(rig.claims).ok());
    auto r = rec("org.test.clash");
    EXPECT_EQ(r.state, PluginState::Refused);
    EXPECT_EQ(r.reason.rfind("SIP claim ", 0), 0u) << r.reason;
    EXPECT_NE(r.reason.find("org.core.existing"), std::string::npos) << r.reason;
    // presence passed the claims but has no library: its claims were withdrawn again.
    EXPECT_NE(rec("org.test.presence").reason.find("not found"), std::string::npos);
    EXPECT_TRUE(rig.claims.add("org.other", SipClaim{"SUBSCRIBE", "presence", ""}).ok());
    EXPECT_TRUE(rig.claims.add("org.other", StanzaClaim{"presence", {}, ""}).ok());
}

TEST_F(PluginHostTest, LOAD13_RecordsJson) {
    add("org.test.json", "3.2.1");
    dir.write("plugins/zz-broken/plugin.json", "nope");
    discover();
    auto j = host.records_json();
    ASSERT_EQ(j.size(), 2u);
    EXPECT_EQ(j[0]["id"], "org.test.json");
    EXPECT_EQ(j[0]["version"], "3.2.1");
    EXPECT_EQ(j[0]["abi"]["major"], STOX_SDK_ABI_MAJOR);
    EXPECT_EQ(j[0]["abi"]["minor"], STOX_SDK_ABI_MINOR);
    EXPECT_EQ(j[0]["state"], "discovered");
    EXPECT_EQ(j[0]["reason"], "");
    EXPECT_EQ(j[0]["required"], false);
    EXPECT_EQ(j[0]["manifest"], manifest_of("org.test.json"));
    EXPECT_EQ(j[1]["state"], "refused");
    EXPECT_NE(j[1]["reason"].get<std::string>().find("invalid JSON"), std::string::npos);
}

TEST_F(PluginHostTest, LifecycleMisuseIsReportedNotFatal) {
    add("org.test.a");
    discover();
    EXPECT_FALSE(host.start_all(rig.services(), rig.io).ok()); // before load_all
    EXPECT_TRUE(host.load_all(rig.claims).ok());
    EXPECT_FALSE(host.load_all(rig.claims).ok());
    EXPECT_EQ(host.discover({dir.path() / "plugins"}).size(), 1u); // ignored after load
    EXPECT_TRUE(host.start_all(rig.services(), rig.io).ok());      // nothing loadable: no-op
    EXPECT_FALSE(host.start_all(rig.services(), rig.io).ok());
    host.stop_all();
    host.stop_all();
}

} // namespace
} // namespace stox::core
