// SPDX-License-Identifier: Apache-2.0
// docs/config.md is generated from the site schema (house style §4.4 "Generate the config
// reference docs from the schemas"); this test fails when the committed file is stale.
// Regenerate with scripts/gen-config-doc.sh (or STOX_UPDATE_DOCS=1 and this test).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/site_config.hpp"
#include "test_util.hpp"

namespace stox::core::config {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kDocPath = fs::path(STOX_SOURCE_DIR) / "docs" / "config.md";
constexpr const char* kTitle = "stoxgw configuration reference";

TEST(ConfigDocs, ReferenceIsCurrent) {
    std::string rendered = render_config_reference(site_schema(), kTitle);
    const char* update = std::getenv("STOX_UPDATE_DOCS");
    if (update && std::string(update) == "1") {
        std::ofstream out(kDocPath, std::ios::binary | std::ios::trunc);
        out << rendered;
        out.close();
        ASSERT_TRUE(out) << "cannot write " << kDocPath;
        GTEST_SKIP() << "rewrote " << kDocPath;
    }
    ASSERT_TRUE(fs::exists(kDocPath)) << kDocPath << " is missing; run scripts/gen-config-doc.sh";
    EXPECT_TRUE(test::read_text(kDocPath) == rendered)
        << kDocPath << " is out of date with core/src/config/schemas/stoxgw-1.schema.json.\n"
        << "Regenerate it with scripts/gen-config-doc.sh (or run this test with "
           "STOX_UPDATE_DOCS=1) and commit the result.";
}

// The renderer itself, on a small schema (the site reference above only checks staleness).
TEST(ConfigDocs, RendersSectionsTablesAndDottedPaths) {
    json schema = json::parse(R"({
      "x-doc-intro": ["Intro line one.", "", "Intro | two."],
      "type": "object", "additionalProperties": false, "required": ["v"],
      "oneOf": [{"required": ["v"]}, {"required": ["w"]}],
      "properties": {
        "v": {"description": "Version.", "type": "integer", "const": 1},
        "w": {"description": "Other.", "type": "string", "pattern": "^a|b$"},
        "net": {"description": "Network.", "type": "object", "additionalProperties": false,
          "properties": {
            "port": {"description": "Port.", "type": "integer", "minimum": 1, "maximum": 65535,
                     "default": 5347},
            "hosts": {"description": "Hosts.", "type": "array", "minItems": 1, "uniqueItems": true,
                      "items": {"type": "string", "x-pattern-description": "a host", "pattern": "."},
                      "default": ["a", "b"]},
            "mode": {"$ref": "#/$defs/mode"}}},
        "map": {"description": "Map.", "type": "object", "x-doc-key": "<id>",
                "propertyNames": {"minLength": 2},
                "additionalProperties": {"type": "object", "description": "One entry.",
                  "properties": {"on": {"description": "On.", "type": "boolean", "default": true}}}}
      },
      "$defs": {"mode": {"description": "Mode.", "type": "string", "enum": ["a", "b"],
                         "default": "a"}}
    })");
    EXPECT_EQ(
        render_config_reference(schema, "T"),
        "# T\n\nIntro line one.\n\nIntro | two.\n\n"
        "## Top level\n\n"
        "Exactly one of `v` or `w` must be given.\n\n"
        "| Key | Type | Default | Allowed values | Description |\n"
        "| --- | --- | --- | --- | --- |\n"
        "| `map` | object |  | keys: length >= 2 | Map. See [`map.<id>`](#mapid). |\n"
        "| `net` | object |  |  | Network. See [`net`](#net). |\n"
        "| `v` | integer | required | `1` | Version. |\n"
        "| `w` | string |  | pattern `^a\\|b$` | Other. |\n\n"
        "## `map.<id>`\n\n"
        "One entry.\n\n"
        "| Key | Type | Default | Allowed values | Description |\n"
        "| --- | --- | --- | --- | --- |\n"
        "| `map.<id>.on` | boolean | `true` |  | On. |\n\n"
        "## `net`\n\n"
        "Network.\n\n"
        "| Key | Type | Default | Allowed values | Description |\n"
        "| --- | --- | --- | --- | --- |\n"
        "| `net.hosts` | array of string | `[\"a\",\"b\"]` | >= 1 items; no duplicates; each: "
        "a host | Hosts. |\n"
        "| `net.mode` | string | `\"a\"` | `a`, `b` | Mode. |\n"
        "| `net.port` | integer | `5347` | 1 to 65535 | Port. |\n");
}

TEST(ConfigDocs, SchemaWithoutKeysRendersAPlaceholder) {
    EXPECT_EQ(render_config_reference(json::parse(R"({"type":"object"})"), "T"),
              "# T\n\n(The schema documents no keys.)\n");
}

} // namespace
} // namespace stox::core::config
