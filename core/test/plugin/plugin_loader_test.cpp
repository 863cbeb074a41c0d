// SPDX-License-Identifier: Apache-2.0
// Descriptor negotiation (LOAD-3..LOAD-7) on in-memory descriptors, the manifest ABI check and
// discovery (LOAD-1). The same checks on real shared objects are in tests/loader.
#include <gtest/gtest.h>

#include "plugin/plugin_loader.hpp"
#include "plugin_test_support.hpp"

namespace stox::core {
namespace {

sdk::Plugin* no_plugin() {
    return nullptr;
}
void no_destroy(sdk::Plugin*) {}

class DescriptorTest : public ::testing::Test {
protected:
    DescriptorTest() {
        auto r = parse_manifest(test::manifest_json("org.example.d", "1.2.3"));
        EXPECT_TRUE(r.manifest) << r.summary();
        manifest = *r.manifest;
        d = {sizeof(stox_plugin_descriptor_v1),
             STOX_SDK_ABI_MAJOR,
             STOX_SDK_ABI_MINOR,
             STOX_BUILD_FINGERPRINT,
             "org.example.d",
             "1.2.3",
             &no_plugin,
             &no_destroy,
             {nullptr, nullptr, nullptr, nullptr}};
    }
    std::string refusal() { return check_descriptor(d, manifest).message(); }

    Manifest manifest;
    stox_plugin_descriptor_v1 d{};
};

TEST_F(DescriptorTest, GoodDescriptorIsAccepted) {
    EXPECT_TRUE(check_descriptor(d, manifest).ok());
}

TEST_F(DescriptorTest, LOAD3_SmallerStructIsRefused) {
    d.struct_size = sizeof(stox_plugin_descriptor_v1) - 8;
    EXPECT_NE(refusal().find("struct_size"), std::string::npos) << refusal();
    d.struct_size = sizeof(stox_plugin_descriptor_v1) + 16; // a later, larger layout is fine
    EXPECT_TRUE(check_descriptor(d, manifest).ok());
}

TEST_F(DescriptorTest, LOAD4_OtherAbiMajorIsRefused) {
    d.abi_major = STOX_SDK_ABI_MAJOR + 1;
    EXPECT_NE(refusal().find("different major"), std::string::npos) << refusal();
}

TEST_F(DescriptorTest, LOAD5_NewerAbiMinorIsRefusedOlderAccepted) {
    d.abi_minor = STOX_SDK_ABI_MINOR + 1;
    EXPECT_NE(refusal().find("newer than the core"), std::string::npos) << refusal();
    CoreAbi newer_core{STOX_SDK_ABI_MAJOR, STOX_SDK_ABI_MINOR + 1, STOX_BUILD_FINGERPRINT};
    d.abi_minor = STOX_SDK_ABI_MINOR; // an older plugin on a newer core loads (GStreamer rule)
    EXPECT_TRUE(check_descriptor(d, manifest, newer_core).ok());
}

TEST_F(DescriptorTest, LOAD6_FingerprintMustMatch) {
    d.build_fingerprint = "gcc-11;libstdc++-20210728-abi1;cxx201703;boost107400;noasan;notsan";
    EXPECT_NE(refusal().find("build fingerprint"), std::string::npos) << refusal();
    d.build_fingerprint = nullptr;
    EXPECT_NE(refusal().find("no build fingerprint"), std::string::npos) << refusal();
}

TEST_F(DescriptorTest, LOAD7_IdAndVersionMustMatchTheManifest) {
    d.id = "org.example.other";
    EXPECT_NE(refusal().find("descriptor id 'org.example.other' differs from the manifest id "
                             "'org.example.d'"),
              std::string::npos)
        << refusal();
    d.id = "org.example.d";
    d.version = "1.2.4";
    EXPECT_NE(refusal().find("descriptor version '1.2.4' differs"), std::string::npos) << refusal();
    d.version = nullptr;
    EXPECT_NE(refusal().find("no id or version"), std::string::npos) << refusal();
}

TEST_F(DescriptorTest, LOAD8_DescriptorWithoutFunctionsIsRefused) {
    d.create = nullptr;
    EXPECT_NE(refusal().find("no create or destroy"), std::string::npos) << refusal();
}

TEST_F(DescriptorTest, LOAD4_LOAD5_ManifestAbiIsCheckedBeforeOpening) {
    EXPECT_TRUE(check_manifest_abi(manifest).ok());
    manifest.abi_major = STOX_SDK_ABI_MAJOR + 1;
    EXPECT_NE(check_manifest_abi(manifest).message().find("ABI major"), std::string::npos);
    manifest.abi_major = STOX_SDK_ABI_MAJOR;
    manifest.abi_minor = STOX_SDK_ABI_MINOR + 1;
    EXPECT_NE(check_manifest_abi(manifest).message().find("newer than the core"),
              std::string::npos);
}

TEST_F(DescriptorTest, LOAD9_MissingLibraryIsReportedNotThrown) {
    test::TempDir dir;
    auto r = open_plugin(manifest, dir.path() / "nope.so");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("nope.so not found"), std::string::npos);
    // A file that is not a shared object: the loader's own reason is kept.
    auto junk = dir.write("junk.so", "this is not ELF");
    auto j = open_plugin(manifest, junk);
    ASSERT_FALSE(j.ok());
    EXPECT_NE(j.status().message().find("cannot load library " + junk.string()), std::string::npos)
        << j.status().message();
    EXPECT_NE(j.status().message().find("junk.so:"), std::string::npos) << j.status().message();
}

TEST(FindManifestsTest, LOAD1_SubdirectoriesInNameOrderAndDirectManifests) {
    test::TempDir dir;
    dir.write("plugins/b.plugin/plugin.json", "{}");
    dir.write("plugins/a.plugin/plugin.json", "{}");
    dir.write("plugins/no-manifest/readme.txt", "");
    dir.write("plugins/stray.json", "{}");
    dir.write("single/plugin.json", "{}");
    std::vector<std::string> problems;
    auto found = find_manifests({dir.path() / "plugins", dir.path() / "single",
                                 dir.path() / "missing", dir.path() / "plugins"},
                                problems);
    ASSERT_EQ(found.size(), 3u);
    EXPECT_EQ(found[0], dir.path() / "plugins" / "a.plugin" / "plugin.json");
    EXPECT_EQ(found[1], dir.path() / "plugins" / "b.plugin" / "plugin.json");
    EXPECT_EQ(found[2], dir.path() / "single" / "plugin.json");
    ASSERT_EQ(problems.size(), 1u); // the listed-twice directory is not a problem, just deduped
    EXPECT_NE(problems[0].find((dir.path() / "missing").string() + " does not exist"),
              std::string::npos);
}

} // namespace
} // namespace stox::core
