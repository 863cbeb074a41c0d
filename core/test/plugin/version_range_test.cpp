// SPDX-License-Identifier: Apache-2.0
// Semantic versions and the `requires[].version` ranges of manifests (sdk/docs/manifest.md,
// MAN-REQ; LOAD-10 depends on them).
#include <gtest/gtest.h>

#include "plugin/version_range.hpp"

namespace stox::core {
namespace {

SemVer v(const char* text) {
    auto r = SemVer::parse(text);
    EXPECT_TRUE(r.ok()) << text << ": " << r.status().message();
    return r.ok() ? *r : SemVer{};
}

bool in(const char* range, const char* version) {
    auto r = VersionRange::parse(range);
    EXPECT_TRUE(r.ok()) << range << ": " << r.status().message();
    return r.ok() && r->matches(v(version));
}

TEST(SemVerTest, ParsesCoreAndPrereleaseAndBuild) {
    auto x = v("1.20.3-rc.1+build.7");
    EXPECT_EQ(x.major, 1u);
    EXPECT_EQ(x.minor, 20u);
    EXPECT_EQ(x.patch, 3u);
    ASSERT_EQ(x.prerelease.size(), 2u);
    EXPECT_EQ(x.prerelease[0], "rc");
    EXPECT_EQ(x.prerelease[1], "1");
    EXPECT_EQ(x.build, "build.7");
    EXPECT_EQ(x.to_string(), "1.20.3-rc.1+build.7");
}

TEST(SemVerTest, RejectsMalformedVersions) {
    for (const char* bad :
         {"", "1", "1.2", "1.2.3.4", "01.2.3", "1.02.3", "v1.2.3", "1.2.x", "1.2.3-", "1.2.3-01",
          "1.2.3+", "1.2.3-a..b", "1.2.3 ", "99999999999999999999.0.0"}) {
        auto r = SemVer::parse(bad);
        EXPECT_FALSE(r.ok()) << "'" << bad << "' accepted";
        if (!r.ok()) {
            EXPECT_NE(r.status().message().find("not a semantic version"), std::string::npos);
        }
    }
}

// semver.org §11 precedence example: 1.0.0-alpha < 1.0.0-alpha.1 < 1.0.0-alpha.beta <
// 1.0.0-beta < 1.0.0-beta.2 < 1.0.0-beta.11 < 1.0.0-rc.1 < 1.0.0.
TEST(SemVerTest, PrecedenceFollowsSemver11) {
    const char* ordered[] = {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
                             "1.0.0-beta",  "1.0.0-beta.2",  "1.0.0-beta.11",
                             "1.0.0-rc.1",  "1.0.0",         "1.0.1",
                             "1.1.0",       "2.0.0",         "10.0.0"};
    for (std::size_t i = 0; i + 1 < std::size(ordered); ++i)
        EXPECT_LT(v(ordered[i]), v(ordered[i + 1])) << ordered[i] << " vs " << ordered[i + 1];
    EXPECT_EQ(v("1.0.0+a"), v("1.0.0+b")); // build metadata is ignored (§10)
}

TEST(VersionRangeTest, IntersectionOfComparators) {
    EXPECT_TRUE(in(">=1.0.0 <2.0.0", "1.0.0"));
    EXPECT_TRUE(in(">=1.0.0 <2.0.0", "1.9.99"));
    EXPECT_FALSE(in(">=1.0.0 <2.0.0", "2.0.0"));
    EXPECT_FALSE(in(">=1.0.0 <2.0.0", "0.9.0"));
    EXPECT_FALSE(in(">=1.0.0 <2.0.0", "1.0.0-rc.1")); // a pre-release precedes its release
    EXPECT_TRUE(in(">1.0.0", "1.0.1"));
    EXPECT_FALSE(in(">1.0.0", "1.0.0"));
    EXPECT_TRUE(in("<=1.0.0", "1.0.0"));
    EXPECT_FALSE(in("<=1.0.0", "1.0.1"));
    EXPECT_TRUE(in("=1.2.3", "1.2.3"));
    EXPECT_TRUE(in("1.2.3", "1.2.3"));
    EXPECT_FALSE(in("1.2.3", "1.2.4"));
    EXPECT_TRUE(in("  >=1.0.0   <2.0.0 ", "1.5.0")); // extra blanks
}

TEST(VersionRangeTest, EmptyRangeAcceptsEverything) {
    EXPECT_TRUE(in("", "0.0.1"));
    EXPECT_TRUE(in("", "99.0.0-beta"));
}

TEST(VersionRangeTest, RejectsMalformedRanges) {
    for (const char* bad : {">=1.0", "=>1.0.0", ">= 1.0.0", "~1.0.0", "^1.0.0", "1.0.0 || 2.0.0",
                            "*", ">", "latest"}) {
        auto r = VersionRange::parse(bad);
        EXPECT_FALSE(r.ok()) << "'" << bad << "' accepted";
        if (!r.ok()) {
            EXPECT_NE(r.status().message().find(bad), std::string::npos);
        }
    }
}

} // namespace
} // namespace stox::core
