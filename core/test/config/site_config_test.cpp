// SPDX-License-Identifier: Apache-2.0
// Loading the operator's configuration: main file + conf.d fragments, merge order, provenance
// in error messages, syntax errors with line/column, the shipped default config and the data
// files under tests/data/configs (house style §4.4 (b), §4.9 habit 7).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "config/json_schema.hpp"
#include "config/site_config.hpp"
#include "test_util.hpp"

namespace stox::core::config {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::TempDir;

const fs::path kSourceDir = STOX_SOURCE_DIR;
const fs::path kConfigData = kSourceDir / "tests" / "data" / "configs";

constexpr const char* kMinimal =
    R"({"config_version": 1, "xmpp": {"component": {"secret": "s3cret"}}})";

std::vector<std::string> strings(const std::vector<ConfigError>& errors) {
    std::vector<std::string> out;
    for (const auto& e : errors) out.push_back(e.to_string());
    return out;
}

std::vector<fs::path> json_files(const fs::path& dir) {
    std::vector<fs::path> out;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.path().extension() == ".json") out.push_back(entry.path());
    std::sort(out.begin(), out.end());
    return out;
}

using Lines = std::vector<std::string>;

// ---- the schema itself ---------------------------------------------------------------------

TEST(SiteSchema, IsAWellFormedSchema) {
    for (const auto& e : check_schema(site_schema()))
        ADD_FAILURE() << e.pointer << ": " << e.message;
}

TEST(SiteSchema, CompiledInTextMatchesTheSourceFile) {
    // core/CMakeLists.txt turns the file into a raw string with file(CONFIGURE @ONLY); an
    // "@name@" sequence in the schema would be silently substituted. Compare parsed forms.
    json on_disk =
        json::parse(test::read_text(kSourceDir / "core/src/config/schemas/stoxgw-1.schema.json"));
    EXPECT_EQ(site_schema(), on_disk) << "re-run cmake after editing the schema";
}

TEST(SiteSchema, EveryKeyHasADescriptionAndUnknownKeysAreRejectedEverywhere) {
    // Walk every object schema: operators must be able to read what each key does, and no
    // object may silently accept misspelt keys.
    std::vector<std::pair<std::string, const json*>> todo{{"", &site_schema()}};
    int objects = 0;
    while (!todo.empty()) {
        auto [path, s] = todo.back();
        todo.pop_back();
        if (!s->is_object()) continue;
        if (s->value("type", "") == "object" && s->contains("properties")) {
            ++objects;
            EXPECT_EQ(s->value("additionalProperties", json(true)), json(false)) << path;
        }
        if (auto props = s->find("properties"); props != s->end())
            for (const auto& [key, sub] : props->items()) {
                EXPECT_TRUE(sub.contains("description")) << path << "/" << key;
                EXPECT_TRUE(sub.contains("type")) << path << "/" << key;
                todo.emplace_back(path + "/" + key, &sub);
            }
        if (auto add = s->find("additionalProperties"); add != s->end() && add->is_object())
            todo.emplace_back(path + "/*", &*add);
    }
    EXPECT_EQ(objects, 7); // root, log, core, sip, xmpp, xmpp.component, plugins.<id>
}

// ---- defaults ------------------------------------------------------------------------------

TEST(SiteConfig, MinimalConfigGetsEveryDocumentedDefault) {
    auto r = load_site_config_text(kMinimal, "min.json");
    ASSERT_TRUE(r.config) << strings(r.errors).front();
    const json& d = r.config->doc;
    EXPECT_EQ(d["log"], json::parse(R"({"level":"info","format":"text","sip_trace":false,
                                         "xmpp_trace":false})"));
    EXPECT_EQ(d["core"], json::parse(R"({"threads":2,"plugin_queue_limit":10000,
                                          "shutdown_timeout_ms":5000})"));
    EXPECT_EQ(d["plugin_path"], json::array());
    EXPECT_EQ(d["sip"]["listen"], json::parse(R"(["udp:127.0.0.1:5060","tcp:127.0.0.1:5060"])"));
    EXPECT_EQ(d["sip"]["domains"], json::parse(R"(["example.net"])"));
    EXPECT_EQ(d["sip"]["outbound_proxy"], "");
    EXPECT_EQ(d["sip"]["max_forwards"], 70); // RFC 3261 §8.1.1.6
    EXPECT_EQ(d["sip"]["user_agent"], "stoxgw");
    EXPECT_EQ(d["sip"]["udp_mtu"], 1300); // RFC 3261 §18.1.1
    const json& c = d["xmpp"]["component"];
    EXPECT_EQ(c["host"], "127.0.0.1");
    EXPECT_EQ(c["port"], 5347); // XEP-0114 convention
    EXPECT_EQ(c["domain"], "example.net");
    EXPECT_EQ(c["keepalive_interval_ms"], 30000);
    EXPECT_EQ(c["reconnect_min_ms"], 500);
    EXPECT_EQ(c["reconnect_max_ms"], 30000);
    EXPECT_EQ(c["max_stanza_bytes"], 262144);
    EXPECT_EQ(c["send_queue_limit"], 10000);
    EXPECT_EQ(c["send_queue_deadline_ms"], 10000);
    EXPECT_TRUE(c.contains("connect_timeout_ms"));
    EXPECT_FALSE(c.contains("secret_file"));
    EXPECT_EQ(d["plugins"], json::object());
}

TEST(SiteConfig, PluginEntriesGetDefaults) {
    auto r = load_site_config_text(
        R"({"config_version":1,"xmpp":{"component":{"secret":"s"}},
            "plugins":{"org.stoxgw.im":{},"org.stoxgw.media":{"enabled":false,"config":{"a":1}}}})",
        "p.json");
    ASSERT_TRUE(r.config);
    EXPECT_EQ(r.config->doc["plugins"]["org.stoxgw.im"],
              json::parse(R"({"enabled":true,"required":false,"config":{}})"));
    EXPECT_EQ(r.config->doc["plugins"]["org.stoxgw.media"],
              json::parse(R"({"enabled":false,"required":false,"config":{"a":1}})"));
}

// ---- errors --------------------------------------------------------------------------------

TEST(SiteConfig, UnknownKeyAtRootAndNestedIsAnError) {
    auto r = load_site_config_text(
        R"({"config_version":1,"xmpp":{"component":{"secret":"s","secrett":"x"}},"extra":1})",
        "f.json");
    EXPECT_FALSE(r.config);
    EXPECT_EQ(
        strings(r.errors),
        (Lines{"f.json: /extra: unknown key 'extra'",
               "f.json: /xmpp/component/secrett: unknown key 'secrett' (did you mean 'secret'?)"}));
}

TEST(SiteConfig, BadTypesAndBoundsAreErrors) {
    auto r = load_site_config_text(
        R"({"config_version":1,"xmpp":{"component":{"secret":"s","port":65536}},
            "core":{"threads":0},"log":{"sip_trace":"yes"}})",
        "f.json");
    EXPECT_EQ(strings(r.errors),
              (Lines{"f.json: /core/threads: must be >= 1, got 0",
                     "f.json: /log/sip_trace: must be of type boolean, got string",
                     "f.json: /xmpp/component/port: must be <= 65535, got 65536"}));
}

TEST(SiteConfig, MissingRequiredKeyNamesTheFile) {
    auto r = load_site_config_text(R"({"xmpp":{"component":{"secret":"s"}}})", "f.json");
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_EQ(r.errors[0].file, "f.json");
    EXPECT_EQ(r.errors[0].pointer, "");
    EXPECT_EQ(r.errors[0].to_string(), "f.json: missing required key 'config_version'");
}

TEST(SiteConfig, SyntaxErrorHasLineAndColumn) {
    auto r = load_site_config_text(
        "{\n  \"config_version\": 1,\n  \"log\": { \"level\" \"info\" }\n}\n", "f.json");
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_EQ(r.errors[0].line, 3U);
    // nlohmann reports where it noticed the error: the last character of the offending token,
    // here the closing quote of "info".
    EXPECT_EQ(r.errors[0].column, 25U);
    EXPECT_EQ(r.errors[0].to_string(),
              "f.json:3:25: syntax error while parsing object separator - unexpected string "
              "literal; expected ':'");
}

TEST(SiteConfig, SyntaxErrorColumnCountsCharactersNotBytes) {
    // "é" is two bytes in UTF-8 but one column in an editor.
    auto r = load_site_config_text("{\"a\": \"\xC3\xA9\", x}", "f.json");
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_EQ(r.errors[0].line, 1U);
    EXPECT_EQ(r.errors[0].column, 12U); // the 'x' (byte 13)
}

TEST(SiteConfig, TruncatedFileIsASyntaxError) {
    auto r = load_site_config_text("{\"config_version\": 1,\n", "f.json");
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_EQ(r.errors[0].line, 2U);
    EXPECT_NE(r.errors[0].message.find("unexpected end of input"), std::string::npos)
        << r.errors[0].message;
}

TEST(SiteConfig, EmptyAndNonObjectDocumentsAreRejected) {
    EXPECT_EQ(load_site_config_text("", "f.json").errors.size(), 1U);
    EXPECT_EQ(strings(load_site_config_text("42", "f.json").errors),
              Lines{"f.json: the top level must be a JSON object, got integer"});
}

TEST(SiteConfig, DuplicateKeysAreReportedNotSilentlyResolved) {
    auto r = load_site_config_text(
        R"({"config_version":1,"xmpp":{"component":{"secret":"a","secret":"b"}},"config_version":1})",
        "f.json");
    EXPECT_FALSE(r.config);
    EXPECT_EQ(strings(r.errors),
              (Lines{"f.json: /xmpp/component/secret: duplicate key 'secret' (only the last value "
                     "would be used)",
                     "f.json: /config_version: duplicate key 'config_version' (only the last value "
                     "would be used)"}));
}

TEST(SiteConfig, DuplicateKeyInsideArraysGetsTheRightIndex) {
    auto r = load_site_config_text(R"({"a":[1,[2,{}],{"k":1,"k":2}]})", "f.json");
    ASSERT_FALSE(r.errors.empty());
    EXPECT_EQ(r.errors[0].pointer, "/a/2/k");
}

TEST(SiteConfig, HostileInputIsReportedNotCrashedOn) {
    // Nesting deep enough to overflow recursive copies is refused while parsing.
    std::string deep = "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
    auto r = load_site_config_text(deep, "deep.json");
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_EQ(r.errors[0].message, "nested deeper than 64 levels");
    EXPECT_EQ(r.errors[0].pointer.substr(0, 8), "/a/0/0/0");

    // Invalid UTF-8 in a string is a syntax error with a position.
    r = load_site_config_text("{\n\"a\": \"\xFF\"}", "utf8.json");
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_EQ(r.errors[0].line, 2U);

    // A number too large for a double.
    r = load_site_config_text("{\"config_version\": 1e400}", "big.json");
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_FALSE(r.config);

    // A NUL byte, and a byte order mark (accepted, as editors on Windows write one).
    r = load_site_config_text(std::string("{\"a\":\0}", 7), "nul.json");
    EXPECT_EQ(r.errors.size(), 1U);
    r = load_site_config_text(std::string("\xEF\xBB\xBF") + kMinimal, "bom.json");
    EXPECT_TRUE(r.config);
}

TEST(SiteConfig, SemanticCheckReconnectOrder) {
    auto r = load_site_config_text(
        R"({"config_version":1,"xmpp":{"component":{"secret":"s","reconnect_min_ms":40000}}})",
        "f.json");
    EXPECT_EQ(strings(r.errors),
              Lines{"f.json: /xmpp/component/reconnect_min_ms: must not exceed reconnect_max_ms "
                    "(30000)"});
}

TEST(ConfigError, ToStringLeavesOutEmptyParts) {
    EXPECT_EQ((ConfigError{"a.json", "/x", "bad", 0, 0}).to_string(), "a.json: /x: bad");
    EXPECT_EQ((ConfigError{"a.json", "", "bad", 0, 0}).to_string(), "a.json: bad");
    EXPECT_EQ((ConfigError{"", "/x", "bad", 0, 0}).to_string(), "/x: bad");
    EXPECT_EQ((ConfigError{"a.json", "", "bad", 2, 5}).to_string(), "a.json:2:5: bad");
}

// ---- files and fragments -------------------------------------------------------------------

TEST(SiteConfigFiles, MissingMainFileIsAnError) {
    TempDir dir;
    auto r = load_site_config(dir.path() / "nope.json", std::nullopt);
    EXPECT_FALSE(r.config);
    EXPECT_EQ(strings(r.errors), Lines{(dir.path() / "nope.json").string() + ": no such file"});
}

TEST(SiteConfigFiles, DirectoryAsMainFileIsAnError) {
    TempDir dir;
    auto r = load_site_config(dir.path(), std::nullopt);
    EXPECT_EQ(strings(r.errors), Lines{dir.path().string() + ": is a directory, not a file"});
}

TEST(SiteConfigFiles, DefaultFragmentsDirIsConfDNextToTheFile) {
    EXPECT_EQ(default_fragments_dir("/etc/stoxgw/stoxgw.json"), fs::path("/etc/stoxgw/conf.d"));
    EXPECT_EQ(default_fragments_dir("stoxgw.json"), fs::path("conf.d"));
}

TEST(SiteConfigFiles, MissingDefaultFragmentsDirIsFine) {
    TempDir dir;
    auto main = dir.write("stoxgw.json", kMinimal);
    auto r = load_site_config(main, std::nullopt);
    ASSERT_TRUE(r.config) << strings(r.errors).front();
    EXPECT_EQ(r.config->files, std::vector<fs::path>{main});
}

TEST(SiteConfigFiles, MissingExplicitFragmentsDirIsAnError) {
    TempDir dir;
    auto main = dir.write("stoxgw.json", kMinimal);
    auto r = load_site_config(main, dir.path() / "frags");
    EXPECT_FALSE(r.config);
    EXPECT_EQ(strings(r.errors),
              Lines{(dir.path() / "frags").string() + ": fragments directory does not exist"});
}

TEST(SiteConfigFiles, FragmentsDirThatIsAFileIsAnError) {
    TempDir dir;
    auto main = dir.write("stoxgw.json", kMinimal);
    dir.write("conf.d", "not a directory");
    auto r = load_site_config(main, std::nullopt);
    EXPECT_FALSE(r.config);
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_EQ(r.errors[0].file, (dir.path() / "conf.d").string());
}

TEST(SiteConfigFiles, FragmentsMergeInNameOrder) {
    TempDir dir;
    auto main = dir.write("stoxgw.json", R"({"config_version":1,
        "log":{"level":"warn","format":"json"},
        "sip":{"listen":["udp:127.0.0.1:5060","tcp:127.0.0.1:5060"]},
        "xmpp":{"component":{"secret":"s","port":5000}}})");
    // Written out of order: the loader must sort by name, not rely on directory order.
    dir.write("conf.d/20-later.json",
              R"({"log":{"level":"debug"},"xmpp":{"component":{"port":5002}}})");
    dir.write("conf.d/10-first.json", R"({"log":{"level":"error"},"xmpp":{"component":{"port":5001,
        "host":"xmpp.example.net"}},"sip":{"listen":["tcp:0.0.0.0:5070"]}})");
    dir.write("conf.d/README", "not json, ignored");
    dir.write("conf.d/30-disabled.json.off", "{ broken");
    dir.write("conf.d/.hidden.json", "{ broken");
    auto r = load_site_config(main, std::nullopt);
    ASSERT_TRUE(r.config) << strings(r.errors).front();
    const json& d = r.config->doc;
    EXPECT_EQ(d["log"]["level"], "debug"); // 20 overrides 10 overrides main
    EXPECT_EQ(d["log"]["format"], "json"); // objects merge: main's key survives
    EXPECT_EQ(d["xmpp"]["component"]["port"], 5002);
    EXPECT_EQ(d["xmpp"]["component"]["host"], "xmpp.example.net");
    EXPECT_EQ(d["xmpp"]["component"]["secret"], "s");
    EXPECT_EQ(d["sip"]["listen"], json::parse(R"(["tcp:0.0.0.0:5070"])")); // arrays replace
    EXPECT_EQ(r.config->files, (std::vector<fs::path>{main, dir.path() / "conf.d/10-first.json",
                                                      dir.path() / "conf.d/20-later.json"}));
}

TEST(SiteConfigFiles, ProvenanceTracksTheLastFileToSetEachKey) {
    TempDir dir;
    auto main = dir.write("stoxgw.json", R"({"config_version":1,
        "sip":{"listen":["udp:127.0.0.1:5060","tcp:127.0.0.1:5060"]},
        "xmpp":{"component":{"secret":"s"}}})");
    auto frag = dir.write("conf.d/10-sip.json", R"({"sip":{"listen":["tcp:0.0.0.0:5070"]}})");
    auto r = load_site_config(main, std::nullopt);
    ASSERT_TRUE(r.config);
    EXPECT_EQ(r.config->source_of("/sip/listen"), frag.string());
    EXPECT_EQ(r.config->source_of("/sip/listen/0"), frag.string());
    EXPECT_EQ(r.config->source_of("/xmpp/component/secret"), main.string());
    // A value filled in from a default belongs to the file holding its parent.
    EXPECT_EQ(r.config->source_of("/xmpp/component/port"), main.string());
    EXPECT_EQ(r.config->source_of("/sip/udp_mtu"), frag.string());
    EXPECT_EQ(r.config->source_of(""), main.string());
    // The main file's second listen entry was replaced: no stale provenance for it.
    auto stale = std::find_if(r.config->provenance.begin(), r.config->provenance.end(),
                              [](const auto& p) { return p.first == "/sip/listen/1"; });
    EXPECT_EQ(stale, r.config->provenance.end());
}

TEST(SiteConfigFiles, UnknownKeyInAFragmentNamesTheFragment) {
    TempDir dir;
    auto main = dir.write("stoxgw.json", kMinimal);
    auto frag = dir.write("conf.d/50-typo.json", R"({"sip":{"domain":["example.org"]}})");
    auto r = load_site_config(main, std::nullopt);
    EXPECT_FALSE(r.config);
    EXPECT_EQ(
        strings(r.errors),
        Lines{frag.string() + ": /sip/domain: unknown key 'domain' (did you mean 'domains'?)"});
}

TEST(SiteConfigFiles, UnknownKeyInSeveralFilesIsReportedForEach) {
    TempDir dir;
    auto main = dir.write("stoxgw.json", R"({"config_version":1,"xmpp":{"component":{"secret":"s"}},
                                            "bogus":1})");
    auto frag = dir.write("conf.d/10.json", R"({"bogus":2})");
    auto r = load_site_config(main, std::nullopt);
    EXPECT_EQ(strings(r.errors), (Lines{main.string() + ": /bogus: unknown key 'bogus'",
                                        frag.string() + ": /bogus: unknown key 'bogus'"}));
}

TEST(SiteConfigFiles, BadValueIsBlamedOnTheFileThatSetItLast) {
    TempDir dir;
    auto main = dir.write("stoxgw.json", R"({"config_version":1,"core":{"threads":4},
                                            "xmpp":{"component":{"secret":"s"}}})");
    auto frag = dir.write("conf.d/10.json", R"({"core":{"threads":100}})");
    auto r = load_site_config(main, std::nullopt);
    EXPECT_EQ(strings(r.errors), Lines{frag.string() + ": /core/threads: must be <= 64, got 100"});
}

TEST(SiteConfigFiles, MissingRequiredKeyIsBlamedOnTheMainFile) {
    TempDir dir;
    auto main = dir.write("stoxgw.json", R"({"xmpp":{"component":{"secret":"s"}}})");
    dir.write("conf.d/10.json", R"({"sip":{"max_forwards":10}})");
    auto r = load_site_config(main, std::nullopt);
    EXPECT_EQ(strings(r.errors), Lines{main.string() + ": missing required key 'config_version'"});
}

TEST(SiteConfigFiles, SecretInBothMainAndFragmentIsReportedOnTheMergedSection) {
    // The fragment adds secret_file while the main file has secret: the merged section has
    // both, and the error names the file that last touched the section.
    TempDir dir;
    auto main = dir.write("stoxgw.json", kMinimal);
    auto frag = dir.write("conf.d/10-secret.json",
                          R"({"xmpp":{"component":{"secret_file":"/etc/stoxgw/xmpp.secret"}}})");
    auto r = load_site_config(main, std::nullopt);
    EXPECT_EQ(strings(r.errors),
              Lines{frag.string() + ": /xmpp/component: exactly one of 'secret' or 'secret_file' "
                                    "must be given, found 'secret' and 'secret_file'"});
}

TEST(SiteConfigFiles, SyntaxErrorsOfAllFilesAreReportedAndStopValidation) {
    TempDir dir;
    auto main = dir.write("stoxgw.json", "{\"config_version\": 1,,}");
    auto f1 = dir.write("conf.d/10.json", "{\"sip\": }");
    auto f2 = dir.write("conf.d/20.json", R"({"unknown_but_not_reported": 1})");
    auto r = load_site_config(main, std::nullopt);
    ASSERT_EQ(r.errors.size(), 2U) << strings(r.errors).back();
    EXPECT_EQ(r.errors[0].file, main.string());
    EXPECT_EQ(r.errors[0].line, 1U);
    EXPECT_EQ(r.errors[0].column, 22U);
    EXPECT_EQ(r.errors[1].file, f1.string());
    EXPECT_EQ(r.errors[1].column, 9U);
}

TEST(SiteConfigFiles, ExplicitFragmentsDirIsUsedInsteadOfConfD) {
    TempDir dir;
    auto main = dir.write("stoxgw.json", kMinimal);
    dir.write("conf.d/10.json", R"({"log":{"level":"debug"}})");
    dir.write("other/10.json", R"({"log":{"level":"error"}})");
    auto r = load_site_config(main, dir.path() / "other");
    ASSERT_TRUE(r.config);
    EXPECT_EQ(r.config->doc["log"]["level"], "error");
}

TEST(SiteConfigFiles, FragmentCanReplaceAScalarWithAnObjectAndBack) {
    TempDir dir;
    auto main = dir.write("stoxgw.json", R"({"config_version":1,"xmpp":{"component":{"secret":"s"}},
                                            "log":"oops"})");
    dir.write("conf.d/10.json", R"({"log":{"level":"warn"}})");
    auto r = load_site_config(main, std::nullopt);
    ASSERT_TRUE(r.config) << strings(r.errors).front();
    EXPECT_EQ(r.config->doc["log"]["level"], "warn");
}

// ---- shipped and test data files -----------------------------------------------------------

TEST(SiteConfigData, ShippedDefaultConfigValidates) {
    const fs::path shipped = kSourceDir / "packaging/etc/stoxgw.json";
    auto r = load_site_config(shipped, std::nullopt); // with packaging/etc/conf.d
    ASSERT_TRUE(r.config) << strings(r.errors).front();
    const json& d = r.config->doc;
    EXPECT_EQ(d["sip"]["listen"], json::parse(R"(["udp:127.0.0.1:5060","tcp:127.0.0.1:5060"])"));
    EXPECT_EQ(d["sip"]["domains"], json::parse(R"(["example.net"])"));
    EXPECT_EQ(d["xmpp"]["component"]["host"], "127.0.0.1");
    EXPECT_EQ(d["xmpp"]["component"]["port"], 5347);
    EXPECT_EQ(d["xmpp"]["component"]["domain"], "example.net");
    EXPECT_EQ(d["xmpp"]["component"]["secret"], "changeme-component-secret");
    EXPECT_EQ(d["log"]["level"], "info");
    EXPECT_EQ(d["log"]["format"], "text");
}

TEST(SiteConfigData, EveryValidFileValidates) {
    auto files = json_files(kConfigData / "valid");
    ASSERT_GE(files.size(), 4U);
    for (const auto& f : files) {
        auto r = load_site_config(f, std::nullopt);
        EXPECT_TRUE(r.config) << f << ": " << (r.errors.empty() ? "" : r.errors[0].to_string());
    }
}

TEST(SiteConfigData, EveryInvalidFileFailsWithExactlyTheExpectedErrors) {
    auto files = json_files(kConfigData / "invalid");
    ASSERT_GE(files.size(), 10U);
    for (const auto& f : files) {
        auto r = load_site_config(f, std::nullopt);
        EXPECT_FALSE(r.config) << f;
        Lines actual;
        for (auto e : r.errors) {
            e.file = fs::path(e.file).filename().string();
            actual.push_back(e.to_string());
        }
        auto expected_file = fs::path(f).replace_extension(".expected");
        ASSERT_TRUE(fs::exists(expected_file)) << expected_file << " is missing";
        Lines expected;
        std::istringstream in(test::read_text(expected_file));
        for (std::string line; std::getline(in, line);)
            if (!line.empty()) expected.push_back(line);
        EXPECT_EQ(actual, expected) << f;
    }
}

} // namespace
} // namespace stox::core::config
