// SPDX-License-Identifier: Apache-2.0
// The plugin manifest schema (plugin.json, house style §4.4 (a)): a good manifest passes with
// defaults applied; missing identity, bad semver, unknown keys, bad claims, bad events and a
// broken config_schema are rejected with their pointers.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "config/manifest_schema.hpp"
#include "test_util.hpp"

namespace stox::core::config {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Lines = std::vector<std::string>;

const fs::path kSourceDir = STOX_SOURCE_DIR;

// The example of house style §4.4 (a), in the claims format the core's ClaimTable takes.
const char* const kGoodManifest = R"json({
  "manifest_version": 1,
  "id": "org.stoxgw.presence",
  "name": "Presence interworking",
  "description": "SIP SUBSCRIBE/NOTIFY/PUBLISH (PIDF) <-> XMPP presence (RFC 7248)",
  "version": "1.4.2",
  "license": "Apache-2.0",
  "library": "stox_presence",
  "abi": { "major": 1, "minor": 3 },
  "status": "stable",
  "security_posture": "robust_to_untrusted_peers",
  "requires": [ { "id": "org.stoxgw.im", "version": ">=1.0.0 <2.0.0", "optional": true } ],
  "provides": ["service:presence-cache@1"],
  "claims": {
    "sip": [ { "method": "SUBSCRIBE", "event": "presence" }, { "method": "PUBLISH" },
             { "method": "INVITE", "sdp_media": "message" } ],
    "xmpp": [ { "name": "presence" }, { "name": "iq", "types": ["get", "set"],
                "child_ns": "urn:xmpp:ping" } ]
  },
  "events": { "publishes": ["presence.updated@1"],
              "subscribes": ["session.user_online@1", "session.user_offline@1"] },
  "config_schema": {
    "type": "object", "additionalProperties": false,
    "properties": {
      "default_expiry": { "type": "integer", "minimum": 60, "maximum": 86400, "default": 3600,
                          "description": "Expires used for outgoing SUBSCRIBE (seconds)." },
      "pidf_extensions": { "type": "array", "items": { "enum": ["rpid", "caps"] }, "default": [] }
    }
  }
})json";
Lines errors_for(json manifest) {
    Lines out;
    for (const auto& e : validate_manifest(manifest)) out.push_back(e.pointer + ": " + e.message);
    return out;
}

// The good manifest with one change applied at `pointer` (value null = remove the key).
Lines errors_with(const std::string& pointer, const json& value) {
    json m = json::parse(kGoodManifest);
    json::json_pointer p(pointer);
    if (value.is_null())
        m[p.parent_pointer()].erase(p.back());
    else
        m[p] = value;
    return errors_for(m);
}

TEST(ManifestSchema, IsAWellFormedSchema) {
    for (const auto& e : check_schema(manifest_schema()))
        ADD_FAILURE() << e.pointer << ": " << e.message;
}

TEST(ManifestSchema, CompiledInTextMatchesTheSourceFile) {
    json on_disk = json::parse(
        test::read_text(kSourceDir / "core/src/config/schemas/plugin-manifest-1.schema.json"));
    EXPECT_EQ(manifest_schema(), on_disk) << "re-run cmake after editing the schema";
}

TEST(ManifestSchema, AcceptsTheHouseStyleExample) {
    EXPECT_EQ(errors_for(json::parse(kGoodManifest)), Lines{});
}

TEST(ManifestSchema, AcceptsTheSdkTemplateManifest) {
    json m = json::parse(test::read_text(kSourceDir / "sdk/template/plugin.json"));
    EXPECT_EQ(errors_for(m), Lines{});
}

TEST(ManifestSchema, MinimalManifestGetsDefaults) {
    json m = json::parse(R"({"manifest_version":1,"id":"org.example.min","name":"Min",
                             "version":"0.1.0","library":"stox_min","abi":{"major":1,"minor":0}})");
    ASSERT_EQ(errors_for(m), Lines{});
    ASSERT_TRUE(validate_manifest(m).empty());
    EXPECT_EQ(m["status"], "experimental");
    EXPECT_EQ(m["security_posture"], "unknown");
    EXPECT_EQ(m["requires"], json::array());
    EXPECT_EQ(m["provides"], json::array());
    EXPECT_EQ(m["claims"], json::parse(R"({"sip":[],"xmpp":[]})"));
    EXPECT_EQ(m["events"], json::parse(R"({"publishes":[],"subscribes":[]})"));
    // No config schema: the plugin accepts no config keys.
    EXPECT_EQ(m["config_schema"], json::parse(R"({"type":"object","additionalProperties":false})"));
}

TEST(ManifestSchema, ClaimAndRequireDefaultsAreApplied) {
    json m = json::parse(kGoodManifest);
    ASSERT_TRUE(validate_manifest(m).empty());
    EXPECT_EQ(m["claims"]["sip"][1],
              json::parse(R"({"method":"PUBLISH","event":"","sdp_media":""})"));
    EXPECT_EQ(m["claims"]["xmpp"][0],
              json::parse(R"({"name":"presence","types":[],"child_ns":""})"));
    EXPECT_EQ(m["requires"][0]["optional"], true);
}

TEST(ManifestSchema, RequiredIdentityKeys) {
    for (const char* key : {"manifest_version", "id", "name", "version", "library", "abi"})
        EXPECT_EQ(errors_with(std::string("/") + key, nullptr),
                  Lines{std::string(": missing required key '") + key + "'"});
}

TEST(ManifestSchema, RejectsBadIds) {
    EXPECT_EQ(
        errors_with("/id", "presence"),
        Lines{"/id: must be a reverse-DNS plugin id (lower-case labels separated by dots, like "
              "org.stoxgw.presence), got \"presence\""});
    EXPECT_EQ(errors_with("/id", "Org.Stoxgw.Presence").size(), 1U);
    EXPECT_EQ(errors_with("/id", "org..x").size(), 1U);
    EXPECT_EQ(errors_with("/id", "org.stoxgw.presence-2_x"), Lines{});
}

TEST(ManifestSchema, RejectsBadSemver) {
    for (const char* bad : {"1.4", "01.4.2", "1.4.2.1", "v1.4.2", "1.4.2-", "1.4.x"})
        EXPECT_EQ(errors_with("/version", bad),
                  Lines{std::string("/version: must be a semantic version (Semantic Versioning "
                                    "2.0.0), like 1.4.2 or 2.0.0-rc.1, got \"") +
                        bad + "\""})
            << bad;
    for (const char* good : {"0.0.1", "1.4.2-rc.1", "1.4.2+build.5", "10.20.30-alpha.beta+x"})
        EXPECT_EQ(errors_with("/version", good), Lines{}) << good;
}

TEST(ManifestSchema, RejectsUnknownKeysEverywhere) {
    EXPECT_EQ(errors_with("/homepage", "https://x"), Lines{"/homepage: unknown key 'homepage'"});
    EXPECT_EQ(errors_with("/abi/patch", 1), Lines{"/abi/patch: unknown key 'patch'"});
    EXPECT_EQ(errors_with("/claims/sip/0/methods", json::array()),
              Lines{"/claims/sip/0/methods: unknown key 'methods' (did you mean 'method'?)"});
    EXPECT_EQ(errors_with("/events/emits", json::array()),
              Lines{"/events/emits: unknown key 'emits'"});
}

TEST(ManifestSchema, RejectsBadClaims) {
    EXPECT_EQ(
        errors_with("/claims/sip/0/method", "subscribe"),
        Lines{"/claims/sip/0/method: must be an upper-case SIP method name, like MESSAGE, got "
              "\"subscribe\""});
    EXPECT_EQ(errors_with("/claims/sip/1", json::parse(R"({"event":"presence"})")),
              Lines{"/claims/sip/1: missing required key 'method'"});
    EXPECT_EQ(errors_with("/claims/xmpp/0/name", "stanza"),
              Lines{"/claims/xmpp/0/name: must be one of \"message\", \"presence\", \"iq\", got "
                    "\"stanza\""});
    EXPECT_EQ(errors_with("/claims/xmpp/1", json::parse(R"({"types":["get"]})")),
              Lines{"/claims/xmpp/1: missing required key 'name'"});
    // The house style sketch's object form is not the claims format.
    EXPECT_EQ(errors_with("/claims/sip", json::parse(R"({"methods":["MESSAGE"]})")),
              Lines{"/claims/sip: must be of type array, got object"});
}

TEST(ManifestSchema, RejectsBadAbiRequiresAndEvents) {
    EXPECT_EQ(errors_with("/abi/major", -1), Lines{"/abi/major: must be >= 0, got -1"});
    EXPECT_EQ(errors_with("/abi/minor", "3"),
              Lines{"/abi/minor: must be of type integer, got string"});
    EXPECT_EQ(
        errors_with("/requires/0/version", "1.x"),
        Lines{"/requires/0/version: must be space-separated comparators, like >=1.0.0 <2.0.0, "
              "got \"1.x\""});
    EXPECT_EQ(errors_with("/requires/0/version", ">=1.0.0  <2.0.0"), Lines{});
    EXPECT_EQ(errors_with("/requires/0/id", nullptr),
              Lines{"/requires/0: missing required key 'id'"});
    EXPECT_EQ(errors_with("/events/publishes/0", "presence.updated"),
              Lines{"/events/publishes/0: must be an event name with its version, like "
                    "presence.updated@1, got \"presence.updated\""});
    EXPECT_EQ(
        errors_with("/status", "gold"),
        Lines{"/status: must be one of \"stable\", \"beta\", \"alpha\", \"experimental\", got "
              "\"gold\""});
    EXPECT_EQ(errors_with("/library", "lib/stox_presence.so").size(), 1U);
    EXPECT_EQ(errors_with("/manifest_version", 2), Lines{"/manifest_version: must be 1, got 2"});
}

TEST(ManifestSchema, ConfigSchemaIsCheckedWithCheckSchema) {
    EXPECT_EQ(errors_with("/config_schema/properties/default_expiry/minimun", 1),
              Lines{"/config_schema/properties/default_expiry/minimun: invalid config schema: "
                    "unknown keyword 'minimun'"});
    EXPECT_EQ(errors_with("/config_schema/properties/default_expiry/default", 10),
              Lines{"/config_schema/properties/default_expiry/default: invalid config schema: "
                    "default value is invalid: must be >= 60, got 10"});
    EXPECT_EQ(errors_with("/config_schema", "object"),
              Lines{"/config_schema: must be of type object, got string"});
}

TEST(ManifestSchema, NonObjectManifestIsRejected) {
    EXPECT_EQ(errors_for(json::array()), Lines{": must be of type object, got array"});
}

} // namespace
} // namespace stox::core::config
