// SPDX-License-Identifier: Apache-2.0
// Manifest parsing (LOAD-2, sdk/docs/manifest.md MAN-*): JSON syntax, schema, then semantics;
// every error names the JSON Pointer and the reason.
#include <gtest/gtest.h>

#include "plugin/manifest.hpp"
#include "plugin_test_support.hpp"

namespace stox::core {
namespace {

using test::manifest_json;

bool has_error(const ManifestResult& r, const std::string& pointer, const std::string& text) {
    for (const auto& e : r.errors)
        if (e.pointer == pointer && e.message.find(text) != std::string::npos) return true;
    return false;
}

TEST(ManifestTest, MAN1_FullManifestIsParsed) {
    const std::string text = R"({
      "manifest_version": 1,
      "id": "org.stoxgw.presence",
      "name": "Presence interworking",
      "description": "SIP SUBSCRIBE/NOTIFY <-> XMPP presence",
      "version": "1.4.2",
      "license": "Apache-2.0",
      "library": "stox_presence",
      "abi": { "major": 1, "minor": 0 },
      "status": "stable",
      "security_posture": "robust_to_untrusted_peers",
      "requires": [ { "id": "org.stoxgw.im", "version": ">=1.0.0 <2.0.0", "optional": true },
                    { "id": "org.stoxgw.core-cache" } ],
      "provides": ["service:presence-cache@1"],
      "claims": {
        "sip": [ { "method": "SUBSCRIBE", "event": "presence" }, { "method": "PUBLISH" } ],
        "xmpp": [ { "name": "presence" }, { "name": "iq", "types": ["get"], "child_ns": "vcard-temp" } ]
      },
      "events": { "publishes": ["presence.updated@1"], "subscribes": ["session.user_online@1"] },
      "config_schema": { "type": "object", "additionalProperties": false,
        "properties": { "default_expiry": { "type": "integer", "minimum": 60, "default": 3600 } } }
    })";
    auto r = parse_manifest(text);
    ASSERT_TRUE(r.manifest) << r.summary();
    const Manifest& m = *r.manifest;
    EXPECT_EQ(m.manifest_version, 1u);
    EXPECT_EQ(m.id, "org.stoxgw.presence");
    EXPECT_EQ(m.name, "Presence interworking");
    EXPECT_EQ(m.version, "1.4.2");
    EXPECT_EQ(m.semver, *SemVer::parse("1.4.2"));
    EXPECT_EQ(m.license, "Apache-2.0");
    EXPECT_EQ(m.library, "stox_presence");
    EXPECT_EQ(m.abi_major, 1u);
    EXPECT_EQ(m.abi_minor, 0u);
    EXPECT_EQ(m.status, "stable");
    EXPECT_EQ(m.security_posture, "robust_to_untrusted_peers");
    ASSERT_EQ(m.dependencies.size(), 2u);
    EXPECT_EQ(m.dependencies[0].id, "org.stoxgw.im");
    EXPECT_TRUE(m.dependencies[0].optional);
    EXPECT_TRUE(m.dependencies[0].range.matches(*SemVer::parse("1.3.0")));
    EXPECT_FALSE(m.dependencies[0].range.matches(*SemVer::parse("2.0.0")));
    EXPECT_FALSE(m.dependencies[1].optional); // schema default
    EXPECT_TRUE(m.dependencies[1].range.matches(*SemVer::parse("7.0.0")));
    EXPECT_EQ(m.provides, (std::vector<std::string>{"service:presence-cache@1"}));
    ASSERT_EQ(m.sip_claims.size(), 2u);
    EXPECT_EQ(m.sip_claims[0].method, "SUBSCRIBE");
    EXPECT_EQ(m.sip_claims[0].event, "presence");
    EXPECT_EQ(m.sip_claims[1].method, "PUBLISH");
    EXPECT_EQ(m.sip_claims[1].event, "");
    ASSERT_EQ(m.stanza_claims.size(), 2u);
    EXPECT_EQ(m.stanza_claims[1].name, "iq");
    EXPECT_EQ(m.stanza_claims[1].types, (std::vector<std::string>{"get"}));
    EXPECT_EQ(m.stanza_claims[1].child_ns, "vcard-temp");
    EXPECT_EQ(m.publishes, (std::vector<std::string>{"presence.updated@1"}));
    EXPECT_EQ(m.subscribes, (std::vector<std::string>{"session.user_online@1"}));
    EXPECT_EQ(m.config_schema["properties"]["default_expiry"]["default"], 3600);
}

TEST(ManifestTest, MAN1_MinimalManifestGetsDefaults) {
    auto r = parse_manifest(manifest_json("org.example.min"));
    ASSERT_TRUE(r.manifest) << r.summary();
    EXPECT_EQ(r.manifest->status, "experimental");
    EXPECT_EQ(r.manifest->security_posture, "unknown");
    EXPECT_TRUE(r.manifest->dependencies.empty());
    EXPECT_TRUE(r.manifest->sip_claims.empty());
    // No config_schema: only an empty config object is accepted (MAN-CFG).
    EXPECT_EQ(r.manifest->config_schema,
              nlohmann::json::parse(R"({"type": "object", "additionalProperties": false})"));
}

TEST(ManifestTest, LOAD2_JsonSyntaxErrorIsReportedWithItsPosition) {
    auto r = parse_manifest("{\"manifest_version\": 1,\n  \"id\": }");
    ASSERT_FALSE(r.manifest);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_NE(r.summary().find("invalid JSON"), std::string::npos) << r.summary();
    EXPECT_NE(r.summary().find("line 2"), std::string::npos) << r.summary();
    EXPECT_EQ(r.summary().find("json.exception"), std::string::npos) << r.summary();
}

TEST(ManifestTest, LOAD2_SchemaErrorsNameThePointer) {
    auto r = parse_manifest(
        manifest_json("org.example.bad", "1.0.0", R"("status": "shiny", "colour": "red")"));
    ASSERT_FALSE(r.manifest);
    EXPECT_TRUE(has_error(r, "/status", "")) << r.summary();
    EXPECT_TRUE(has_error(r, "/colour", "")) << r.summary();
    EXPECT_EQ(r.id_hint, "org.example.bad"); // still listed under its id
    EXPECT_EQ(r.version_hint, "1.0.0");
}

TEST(ManifestTest, LOAD2_MissingRequiredKeysAndWrongTypes) {
    auto r =
        parse_manifest(R"({"manifest_version": 1, "id": "org.example.x", "abi": {"major": "1"}})");
    ASSERT_FALSE(r.manifest);
    EXPECT_FALSE(r.errors.empty());
    EXPECT_NE(r.summary().find("name"), std::string::npos) << r.summary();
    EXPECT_NE(r.summary().find("/abi"), std::string::npos) << r.summary();
    EXPECT_FALSE(parse_manifest("[]").manifest);
    EXPECT_FALSE(parse_manifest("").manifest);
}

TEST(ManifestTest, MAN_ID_IdAndLibraryMustMatchTheirPatterns) {
    EXPECT_FALSE(parse_manifest(manifest_json("NoDots")).manifest);
    EXPECT_FALSE(parse_manifest(manifest_json("org.Example.caps")).manifest);
    std::string bad_lib = manifest_json("org.example.lib");
    bad_lib.replace(bad_lib.find("lib_org_example_lib"), 19, "../../etc/evil");
    auto r = parse_manifest(bad_lib);
    EXPECT_FALSE(r.manifest);
    EXPECT_TRUE(has_error(r, "/library", "")) << r.summary();
}

TEST(ManifestTest, LOAD2_InvalidConfigSchemaIsRefused) {
    auto r = parse_manifest(manifest_json(
        "org.example.cfg", "1.0.0", R"("config_schema": {"type": "object", "propertiez": {}})"));
    ASSERT_FALSE(r.manifest);
    EXPECT_NE(r.summary().find("/config_schema"), std::string::npos) << r.summary();
    auto not_object = parse_manifest(
        manifest_json("org.example.cfg", "1.0.0", R"("config_schema": {"type": "array"})"));
    ASSERT_FALSE(not_object.manifest);
    EXPECT_TRUE(has_error(not_object, "/config_schema/type", "must describe an object"))
        << not_object.summary();
}

TEST(ManifestTest, MAN_REQ_BadDependencies) {
    auto self = parse_manifest(
        manifest_json("org.example.me", "1.0.0", R"("requires": [{"id": "org.example.me"}])"));
    EXPECT_TRUE(has_error(self, "/requires/0/id", "cannot require itself")) << self.summary();
    auto twice = parse_manifest(manifest_json(
        "org.example.me", "1.0.0", R"("requires": [{"id": "org.x.a"}, {"id": "org.x.a"}])"));
    EXPECT_TRUE(has_error(twice, "/requires/1/id", "required twice")) << twice.summary();
    auto range = parse_manifest(manifest_json(
        "org.example.me", "1.0.0", R"("requires": [{"id": "org.x.a", "version": "^1.0.0"}])"));
    EXPECT_FALSE(range.manifest);
    EXPECT_NE(range.summary().find("/requires/0/version"), std::string::npos) << range.summary();
}

TEST(ManifestTest, MAN_ABI_NumbersBeyond32BitsAreRefused) {
    std::string text = manifest_json("org.example.abi");
    text.replace(text.find("\"major\": 1"), 10, "\"major\": 4294967296");
    auto r = parse_manifest(text);
    EXPECT_TRUE(has_error(r, "/abi/major", "too large")) << r.summary();
}

TEST(ManifestTest, LoadManifestReadsFilesAndReportsUnreadableOnes) {
    test::TempDir dir;
    auto file = dir.write("org.example.f/plugin.json", manifest_json("org.example.f"));
    auto r = load_manifest(file);
    ASSERT_TRUE(r.manifest) << r.summary();
    EXPECT_EQ(library_path(*r.manifest, file),
              dir.path() / "org.example.f" / "lib_org_example_f.so");
    auto missing = load_manifest(dir.path() / "nope" / "plugin.json");
    ASSERT_FALSE(missing.manifest);
    EXPECT_NE(missing.summary().find("cannot read"), std::string::npos);
}

} // namespace
} // namespace stox::core
