// SPDX-License-Identifier: Apache-2.0
// Loader tests: the plugin host against real shared objects built for the purpose
// (tests/test_plugins). Requirement IDs (LOAD-*) are listed in sdk/docs/abi-policy.md.
// Each plugin case is staged in its own directory, STOX_TEST_PLUGIN_DIR/<case>/<id>/.
#include <dlfcn.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <optional>

#include "plugin/plugin_host.hpp"
#include "plugin_test_support.hpp"

namespace stox::core {
namespace {

namespace fs = std::filesystem;
using test::site_json;
using namespace std::chrono_literals;

constexpr const char* kPrefix = "org.stoxgw.test.";

fs::path case_dir(const std::string& name) {
    return fs::path(STOX_TEST_PLUGIN_DIR) / name;
}
std::string id_of(const std::string& name) {
    return kPrefix + name;
}
fs::path manifest_of(const std::string& name, const std::string& stage = {}) {
    return case_dir(stage.empty() ? name : stage) / id_of(name) / "plugin.json";
}
fs::path library_of(const std::string& name, const std::string& stage = {}) {
    return case_dir(stage.empty() ? name : stage) / id_of(name) / ("stox_test_" + name + ".so");
}

class RecordingTransaction final : public sdk::SipServerTransaction {
public:
    RecordingTransaction() { request_.method = "MESSAGE"; }
    [[nodiscard]] const sdk::SipRequest& request() const noexcept override { return request_; }
    void respond(sdk::SipResponse response) noexcept override { status_.store(response.status); }
    [[nodiscard]] bool answered() const noexcept override { return status_.load() != 0; }
    [[nodiscard]] int status() const noexcept { return status_.load(); }

private:
    sdk::SipRequest request_;
    std::atomic<int> status_{0};
};

class LoaderTest : public ::testing::Test {
protected:
    /// Discovers the given case directories and loads them with `site` (JSON text of the
    /// `plugins` section, or none).
    sdk::Status load(const std::vector<std::string>& cases,
                     const std::optional<std::string>& plugins = std::nullopt) {
        std::vector<fs::path> dirs;
        for (const auto& c : cases) dirs.push_back(case_dir(c));
        host.discover(dirs);
        if (!plugins) return host.load_all(rig.claims);
        site_file = tmp.write("stoxgw.json", site_json(*plugins));
        auto r = config::load_site_config(site_file, std::nullopt);
        EXPECT_TRUE(r.config) << (r.errors.empty() ? "" : r.errors.front().to_string());
        site = r.config;
        return host.load_all(rig.claims, site ? &*site : nullptr);
    }
    sdk::Status start() { return host.start_all(rig.services(), rig.io); }

    PluginRecord rec(const std::string& name) {
        auto r = host.record(id_of(name));
        EXPECT_TRUE(r) << name;
        return r ? *r : PluginRecord{};
    }
    /// Asserts the state, the reason and that exactly one warn/error line names the file.
    void expect_outcome(const std::string& name, PluginState state, const std::string& reason,
                        const fs::path& file) {
        SCOPED_TRACE(name);
        auto r = rec(name);
        EXPECT_EQ(to_string(r.state), to_string(state)) << r.reason;
        EXPECT_NE(r.reason.find(reason), std::string::npos)
            << "reason: " << r.reason << "\nexpected: " << reason;
        auto lines = rig.capture.complaints(file.string());
        for (const auto& l : lines) EXPECT_NE(l.find(reason), std::string::npos) << l;
        EXPECT_EQ(lines.size(), 1u) << rig.capture.text();
    }
    void expect_refused(const std::string& name, const std::string& reason,
                        const std::string& stage = {}) {
        expect_outcome(name, PluginState::Refused, reason, manifest_of(name, stage));
    }
    int send_message() {
        auto tx = std::make_shared<RecordingTransaction>();
        rig.router.deliver_sip(tx);
        test::run_until(
            rig.io, [&] { return tx->answered(); }, 5s);
        return tx->status();
    }
    std::uint64_t counter(const std::string& name) { return rig.metrics.value(name); }

    test::CoreRig rig;
    test::TempDir tmp;
    fs::path site_file;
    std::optional<config::SiteConfig> site;
    PluginHost host{rig.sink, rig.metrics};
};

TEST_F(LoaderTest, LOAD18_LOAD19_GoodPluginsStartInDependencyOrderOnTheirStrandsAndStopInReverse) {
    std::atomic<int> calls{0};
    std::atomic<int> off_strand{0};
    rig.sip.on_domains = [&] {
        ++calls;
        bool on = false;
        for (const char* name : {"good_minimal", "good_dependent"})
            if (const auto* ctx = host.context(id_of(name)))
                on = on || ctx->plugin_strand()->strand().running_in_this_thread();
        if (!on) ++off_strand;
    };
    // The dependant is discovered first: the order comes from `requires`, not from the path.
    ASSERT_TRUE(load({"good_dependent", "good_minimal"}).ok());
    EXPECT_EQ(rec("good_minimal").state, PluginState::Loaded);
    EXPECT_EQ(rig.capture.matching({" info [", "loaded from", library_of("good_minimal").string()})
                  .size(),
              1u);
    {
        test::IoThreads workers(rig.io, 2);
        ASSERT_TRUE(start().ok());
        EXPECT_EQ(rec("good_minimal").state, PluginState::Started);
        EXPECT_EQ(rec("good_dependent").state, PluginState::Started);
        EXPECT_EQ(counter("test.good_minimal.started"), 1u);
        EXPECT_EQ(counter("test.good_dependent.started"), 1u);
        EXPECT_LT(counter("test.good_minimal.start_seq"), counter("test.good_dependent.start_seq"));

        // The claimed MESSAGE reaches good_minimal, which answers 200; the gateway runs.
        auto tx = std::make_shared<RecordingTransaction>();
        rig.router.deliver_sip(tx);
        ASSERT_TRUE(test::wait_until([&] { return tx->answered(); }));
        EXPECT_EQ(tx->status(), 200);

        host.stop_all();
        EXPECT_EQ(rec("good_minimal").state, PluginState::Stopped);
        EXPECT_EQ(rec("good_dependent").state, PluginState::Stopped);
        EXPECT_EQ(counter("test.good_minimal.stopped"), 1u);
        EXPECT_EQ(counter("test.good_dependent.stopped"), 1u);
        EXPECT_LT(counter("test.good_dependent.stop_seq"), counter("test.good_minimal.stop_seq"));
        EXPECT_GT(counter("test.good_minimal.start_seq"), 0u);
    }
    EXPECT_EQ(calls.load(), 4); // start and stop of both plugins
    EXPECT_EQ(off_strand.load(), 0);
    EXPECT_EQ(send_message(), 501) << "a stopped plugin's claim is no longer served";
    EXPECT_EQ(rig.capture.matching({" error ["}).size(), 0u) << rig.capture.text();
    host.stop_all(); // idempotent
    EXPECT_EQ(counter("test.good_minimal.stopped"), 1u);
}

TEST_F(LoaderTest, LOAD19_StartAndStopWithoutWorkerThreads) {
    // start_all() drives the io_context itself when nobody else runs it.
    auto guard = boost::asio::make_work_guard(rig.io); // what worker threads would hold
    ASSERT_TRUE(load({"good_minimal"}).ok());
    ASSERT_TRUE(start().ok());
    EXPECT_EQ(rec("good_minimal").state, PluginState::Started);
    EXPECT_EQ(send_message(), 200);
    host.stop_all();
    EXPECT_EQ(rec("good_minimal").state, PluginState::Stopped);
    EXPECT_EQ(counter("test.good_minimal.stopped"), 1u);
    EXPECT_TRUE(rig.capture.matching({" warn ["}).empty()) << rig.capture.text();
}

TEST_F(LoaderTest, LOAD19_StopOnAStoppedIoContextStillStopsThePlugin) {
    ASSERT_TRUE(load({"good_minimal"}).ok());
    ASSERT_TRUE(start().ok());
    rig.io.stop(); // the application stopped its loop first
    host.stop_all();
    EXPECT_EQ(rec("good_minimal").state, PluginState::Stopped);
    EXPECT_EQ(counter("test.good_minimal.stopped"), 1u);
    EXPECT_EQ(rig.capture.matching({" warn [", "io_context is stopped"}).size(), 1u)
        << rig.capture.text();
}

struct RefusalCase {
    const char* name;
    const char* reason; ///< expected in the reason and in the log line
};

class LoaderRefusalTest : public LoaderTest, public ::testing::WithParamInterface<RefusalCase> {};

// LOAD-3..LOAD-9, LOAD-10, LOAD-13: one line naming the manifest, the reason recorded, and the
// gateway goes on (the host still loads the good plugin next to it).
TEST_P(LoaderRefusalTest, RefusedWithOneLineAndTheOthersStillLoad) {
    const RefusalCase& c = GetParam();
    ASSERT_TRUE(load({c.name, "good_minimal"}).ok());
    expect_refused(c.name, c.reason);
    EXPECT_EQ(rec("good_minimal").state, PluginState::Loaded);
    ASSERT_TRUE(start().ok());
    EXPECT_EQ(rec("good_minimal").state, PluginState::Started);
    EXPECT_EQ(send_message(), 200);
    EXPECT_EQ(counter("plugins.refused"), 1u);
}

std::string refusal_name(const ::testing::TestParamInfo<RefusalCase>& info) {
    return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(
    LoadRefusals, LoaderRefusalTest,
    ::testing::Values(
        RefusalCase{"bad_abi_major", "has a different major than the core's ABI"}, // LOAD-4
        RefusalCase{"newer_minor", "is newer than the core's ABI"},                // LOAD-5
        RefusalCase{"wrong_fingerprint",                                           // LOAD-6
                    "build fingerprint 'gcc-0;libstdc++-0-abi0;cxx0;boost0;noasan;notsan' "
                    "differs from the core's '" STOX_BUILD_FINGERPRINT "'"},
        RefusalCase{"id_mismatch", "descriptor id 'org.stoxgw.test.someone_else' differs from "
                                   "the manifest id 'org.stoxgw.test.id_mismatch'"}, // LOAD-7
        RefusalCase{"version_mismatch",                                              // LOAD-7
                    "descriptor version '9.9.9' differs from the manifest version '1.0.0'"},
        RefusalCase{"missing_descriptor", // LOAD-8
                    "library exports no 'stox_plugin_descriptor' descriptor"},
        RefusalCase{"missing_library", "stox_test_missing_library.so not found"}, // LOAD-9
        RefusalCase{"invalid_manifest", "invalid manifest: "},                    // LOAD-2
        RefusalCase{"missing_dependency",                                         // LOAD-10
                    "required dependency 'org.stoxgw.test.nobody' (>=1.0.0) not found on the "
                    "plugin path"}),
    refusal_name);

TEST_F(LoaderTest, LOAD2_InvalidManifestIsRefusedBeforeTheLibraryIsOpened) {
    ::unsetenv("STOX_TEST_INVALID_MANIFEST_OPENED");
    ASSERT_TRUE(load({"invalid_manifest"}).ok());
    auto r = rec("invalid_manifest");
    EXPECT_EQ(r.state, PluginState::Refused);
    EXPECT_NE(r.reason.find("/colour"), std::string::npos) << r.reason;
    EXPECT_NE(r.reason.find("/claims/sip/0/method"), std::string::npos) << r.reason;
    // Its library has a constructor that sets this variable: it never ran.
    EXPECT_EQ(std::getenv("STOX_TEST_INVALID_MANIFEST_OPENED"), nullptr);
    ASSERT_TRUE(fs::exists(library_of("invalid_manifest")));
}

TEST_F(LoaderTest, LOAD9_UnloadableLibraryIsRefusedWithTheLoadersReason) {
    // A copy of good_minimal whose .so is not a shared object at all.
    const auto dir = tmp.path() / "plugins" / id_of("good_minimal");
    fs::create_directories(dir);
    fs::copy_file(manifest_of("good_minimal"), dir / "plugin.json");
    tmp.write("plugins/" + id_of("good_minimal") + "/stox_test_good_minimal.so", "garbage");
    host.discover({tmp.path() / "plugins"});
    ASSERT_TRUE(host.load_all(rig.claims).ok());
    auto r = rec("good_minimal");
    EXPECT_EQ(r.state, PluginState::Refused);
    EXPECT_NE(r.reason.find("cannot load library " + (dir / "stox_test_good_minimal.so").string()),
              std::string::npos)
        << r.reason;
}

TEST_F(LoaderTest, LOAD18_CycleIsRefused) {
    ASSERT_TRUE(load({"cycle", "good_minimal"}).ok());
    const std::string cycle =
        "dependency cycle: org.stoxgw.test.cycle_a -> org.stoxgw.test.cycle_b -> "
        "org.stoxgw.test.cycle_a";
    expect_refused("cycle_a", cycle, "cycle");
    expect_refused("cycle_b", cycle, "cycle");
    EXPECT_EQ(rec("good_minimal").state, PluginState::Loaded);
}

TEST_F(LoaderTest, LOAD10_DependantOfARefusedPluginIsRefused) {
    ASSERT_TRUE(load({"good_dependent", "good_minimal"},
                     R"({"org.stoxgw.test.good_minimal": {"enabled": false}})")
                    .ok());
    EXPECT_EQ(rec("good_minimal").state, PluginState::Disabled);
    expect_refused("good_dependent",
                   "required dependency 'org.stoxgw.test.good_minimal' (>=1.0.0 <2.0.0) is "
                   "disabled (disabled in the site configuration)");
}

TEST_F(LoaderTest, LOAD11_SecondClaimOfTheSameTrafficIsRefused) {
    ASSERT_TRUE(load({"good_minimal", "conflicting_claim"}).ok());
    expect_refused("conflicting_claim", "SIP claim 'MESSAGE' of org.stoxgw.test.conflicting_claim "
                                        "overlaps 'MESSAGE' held by org.stoxgw.test.good_minimal");
    ASSERT_TRUE(start().ok());
    EXPECT_EQ(send_message(), 200); // good_minimal keeps MESSAGE
}

TEST_F(LoaderTest, LOAD11_FirstOnThePluginPathWinsAClaim) {
    ASSERT_TRUE(load({"conflicting_claim", "good_minimal"}).ok());
    EXPECT_EQ(rec("conflicting_claim").state, PluginState::Loaded);
    expect_refused("good_minimal", "overlaps 'MESSAGE' held by org.stoxgw.test.conflicting_claim");
}

TEST_F(LoaderTest, LOAD12_DuplicateIdIsRefused) {
    const auto copy = tmp.path() / "copy" / id_of("good_minimal");
    fs::create_directories(copy);
    fs::copy_file(manifest_of("good_minimal"), copy / "plugin.json");
    fs::copy_file(library_of("good_minimal"), copy / "stox_test_good_minimal.so");
    host.discover({case_dir("good_minimal"), tmp.path() / "copy"});
    ASSERT_TRUE(host.load_all(rig.claims).ok());
    auto records = host.records();
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].state, PluginState::Loaded);
    EXPECT_EQ(records[1].state, PluginState::Refused);
    EXPECT_NE(records[1].reason.find("duplicate plugin id 'org.stoxgw.test.good_minimal': "
                                     "already provided by " +
                                     manifest_of("good_minimal").string()),
              std::string::npos)
        << records[1].reason;
    EXPECT_EQ(rig.capture.matching({" error [", (copy / "plugin.json").string()}).size(), 1u);
}

TEST_F(LoaderTest, LOAD15_DisabledPluginIsNotOpened) {
    // bad_abi_major would be refused if its library were opened; disabled, it is not.
    ASSERT_TRUE(
        load({"bad_abi_major"}, R"({"org.stoxgw.test.bad_abi_major": {"enabled": false}})").ok());
    auto r = rec("bad_abi_major");
    EXPECT_EQ(r.state, PluginState::Disabled);
    EXPECT_EQ(r.reason, "disabled in the site configuration");
    EXPECT_EQ(counter("plugins.refused"), 0u);
    void* handle = ::dlopen(library_of("bad_abi_major").c_str(), RTLD_NOW | RTLD_NOLOAD);
    EXPECT_EQ(handle, nullptr) << "the disabled plugin's library is loaded";
}

// LOAD-20: an exception, a nullptr from create(), an error from start() -> failed; Declined ->
// declined and its dependants skipped; none of it escapes, and the gateway runs on.
TEST_F(LoaderTest, LOAD20_FailuresAreContainedAndTheOthersRun) {
    test::IoThreads workers(rig.io, 2);
    ASSERT_TRUE(load({"throws_in_start", "throws_in_create", "returns_null", "fails_start",
                      "declines_start", "needs_decliner", "good_minimal"})
                    .ok());
    ASSERT_TRUE(start().ok()) << "optional plugins failing must not fail startup (LOAD-14)";
    expect_outcome("throws_in_start", PluginState::Failed, "start() threw: boom in start",
                   library_of("throws_in_start"));
    expect_outcome("throws_in_create", PluginState::Failed, "create() threw: boom in create",
                   library_of("throws_in_create"));
    expect_outcome("returns_null", PluginState::Failed, "create() returned nullptr",
                   library_of("returns_null"));
    expect_outcome("fails_start", PluginState::Failed,
                   "start() returned unreachable: backend at 192.0.2.1 unreachable",
                   library_of("fails_start"));
    expect_outcome("declines_start", PluginState::Declined, "nothing to do with this configuration",
                   library_of("declines_start"));
    expect_refused("needs_decliner",
                   "required dependency 'org.stoxgw.test.declines_start' did not start "
                   "(declined)");
    EXPECT_EQ(counter("test.needs_decliner.started"), 0u);
    EXPECT_EQ(counter("test.throws_in_start.started"), 1u); // it did run, then threw
    EXPECT_EQ(counter("plugin.exceptions"), 2u);
    EXPECT_EQ(counter("plugins.failed"), 4u);
    EXPECT_EQ(counter("plugins.declined"), 1u);
    EXPECT_EQ(rig.capture.matching({" warn [", "declined to start"}).size(), 1u);

    EXPECT_EQ(rec("good_minimal").state, PluginState::Started);
    auto tx = std::make_shared<RecordingTransaction>();
    rig.router.deliver_sip(tx);
    ASSERT_TRUE(test::wait_until([&] { return tx->answered(); }));
    EXPECT_EQ(tx->status(), 200);

    // fails_start armed a 100 ms timer before failing: the failed plugin's strand was closed,
    // which cancels it, and the plugin object was destroyed.
    for (const char* name : {"fails_start", "declines_start", "throws_in_start"}) {
        const auto* ctx = host.context(id_of(name));
        ASSERT_NE(ctx, nullptr) << name;
        EXPECT_TRUE(ctx->plugin_strand()->closed()) << name;
    }
    std::this_thread::sleep_for(250ms); // a negative check: the timer must not fire
    EXPECT_EQ(counter("test.fails_start.timer_fired"), 0u);

    host.stop_all();
    EXPECT_EQ(rec("good_minimal").state, PluginState::Stopped);
    EXPECT_EQ(rec("throws_in_start").state, PluginState::Failed); // never started: not stopped
}

TEST_F(LoaderTest, LOAD14_RequiredPluginFailingAbortsStartup) {
    test::IoThreads workers(rig.io, 2);
    ASSERT_TRUE(load({"good_minimal", "throws_in_start"},
                     R"({"org.stoxgw.test.throws_in_start": {"required": true}})")
                    .ok());
    auto st = start();
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.message().find("required plugin org.stoxgw.test.throws_in_start did not start: "
                                "failed (start() threw: boom in start)"),
              std::string::npos)
        << st.message();
    EXPECT_TRUE(rec("throws_in_start").required);
    // Everything already started was stopped again.
    EXPECT_EQ(rec("good_minimal").state, PluginState::Stopped);
    EXPECT_EQ(counter("test.good_minimal.stopped"), 1u);
    EXPECT_EQ(rig.capture.matching({" error [", "startup aborted"}).size(), 1u);
}

TEST_F(LoaderTest, LOAD14_RequiredPluginDecliningAbortsStartupBeforeTheRest) {
    ASSERT_TRUE(load({"declines_start", "good_minimal"},
                     R"({"org.stoxgw.test.declines_start": {"required": true}})")
                    .ok());
    auto st = start();
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.code(), sdk::ErrorCode::Declined);
    auto r = rec("good_minimal");
    EXPECT_EQ(r.state, PluginState::Loaded);
    EXPECT_EQ(r.reason, "not started: startup aborted because org.stoxgw.test.declines_start did "
                        "not start");
    EXPECT_EQ(counter("test.good_minimal.started"), 0u);
}

TEST_F(LoaderTest, LOAD14_RequiredPluginRefusedFailsLoading) {
    auto st = load({"wrong_fingerprint", "good_minimal"},
                   R"({"org.stoxgw.test.wrong_fingerprint": {"required": true}})");
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.message().find("required plugin org.stoxgw.test.wrong_fingerprint: build "
                                "fingerprint"),
              std::string::npos)
        << st.message();
    EXPECT_EQ(rec("good_minimal").state, PluginState::Loaded);
}

TEST_F(LoaderTest, LOAD16_ConfigDefaultsAreAppliedAndReachThePlugin) {
    ASSERT_TRUE(load({"config_schema_plugin"}, "{}").ok());
    EXPECT_EQ(host.effective_config(id_of("config_schema_plugin")),
              nlohmann::json::parse(R"({"greeting": "hello", "max_items": 7})"));
    ASSERT_TRUE(start().ok());
    EXPECT_EQ(rec("config_schema_plugin").state, PluginState::Started);
    EXPECT_EQ(counter("test.config.max_items"), 7u);
    EXPECT_EQ(counter("test.config.greeting_len"), 5u);
}

TEST_F(LoaderTest, LOAD16_ConfigValuesReachThePlugin) {
    ASSERT_TRUE(load({"config_schema_plugin"},
                     R"({"org.stoxgw.test.config_schema_plugin": {"config": {"max_items": 3}}})")
                    .ok());
    ASSERT_TRUE(start().ok());
    EXPECT_EQ(counter("test.config.max_items"), 3u);
    EXPECT_EQ(counter("test.config.greeting_len"), 5u);
}

TEST_F(LoaderTest, LOAD16_BadConfigIsReportedAndRefused) {
    const std::string plugins =
        R"({"org.stoxgw.test.config_schema_plugin": {"config": {"max_items": 500, "extra": 1}}})";
    site_file = tmp.write("stoxgw.json", site_json(plugins));
    auto loaded = config::load_site_config(site_file, std::nullopt);
    ASSERT_TRUE(loaded.config);
    host.discover({case_dir("config_schema_plugin")});
    auto errors = host.validate_plugin_configs(*loaded.config);
    ASSERT_EQ(errors.size(), 2u);
    const std::string base = "/plugins/org.stoxgw.test.config_schema_plugin/config/";
    for (const auto& e : errors) EXPECT_EQ(e.file, site_file.string());
    EXPECT_TRUE(std::any_of(errors.begin(), errors.end(),
                            [&](const auto& e) { return e.pointer == base + "max_items"; }));
    EXPECT_TRUE(std::any_of(errors.begin(), errors.end(),
                            [&](const auto& e) { return e.pointer == base + "extra"; }));

    ASSERT_TRUE(host.load_all(rig.claims, &*loaded.config).ok());
    expect_refused("config_schema_plugin",
                   "invalid configuration: " + site_file.string() + ": " + base);
}

TEST_F(LoaderTest, LOAD17_UnknownPluginSectionIsWarnedAtRun) {
    ASSERT_TRUE(load({"good_minimal"}, R"({"org.stoxgw.test.ghost": {}})").ok());
    EXPECT_EQ(
        rig.capture
            .matching({" warn [", site_file.string(), "unknown plugin 'org.stoxgw.test.ghost'"})
            .size(),
        1u)
        << rig.capture.text();
    EXPECT_EQ(rec("good_minimal").state, PluginState::Loaded);
}

TEST_F(LoaderTest, LOAD21_LibrariesStayLoadedAfterTheHostIsGone) {
    const std::size_t before = opened_library_count();
    {
        PluginHost other(rig.sink, rig.metrics);
        other.discover({case_dir("good_minimal")});
        ClaimTable claims;
        ASSERT_TRUE(other.load_all(claims).ok());
        ASSERT_TRUE(other.start_all(rig.services(), rig.io).ok());
        other.stop_all();
    }
    EXPECT_EQ(opened_library_count(), before + 1);
    void* handle = ::dlopen(library_of("good_minimal").c_str(), RTLD_NOW | RTLD_NOLOAD);
    EXPECT_NE(handle, nullptr) << "the library was unloaded";
    if (handle != nullptr) ::dlclose(handle); // drops only the reference taken just now
}

TEST_F(LoaderTest, LOAD13_ListPluginsJson) {
    ASSERT_TRUE(load({"good_minimal", "newer_minor", "missing_library"}).ok());
    ASSERT_TRUE(start().ok());
    auto j = host.records_json();
    ASSERT_EQ(j.size(), 3u);
    EXPECT_EQ(j[0]["id"], id_of("good_minimal"));
    EXPECT_EQ(j[0]["version"], "1.2.0");
    EXPECT_EQ(j[0]["state"], "started");
    EXPECT_EQ(j[0]["library"], library_of("good_minimal").string());
    EXPECT_EQ(j[1]["state"], "refused");
    EXPECT_NE(j[1]["reason"].get<std::string>().find("newer than the core"), std::string::npos);
    EXPECT_EQ(j[2]["state"], "refused");
    EXPECT_EQ(j[2]["abi"]["major"], 1);
}

} // namespace
} // namespace stox::core
