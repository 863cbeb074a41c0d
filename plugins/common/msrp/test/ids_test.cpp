// SPDX-License-Identifier: Apache-2.0
#include <set>

#include <gtest/gtest.h>

#include <stox/msrp/ids.hpp>

namespace stox::msrp {
namespace {

bool base62(const std::string& s) {
    for (char c : s) {
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return false;
    }
    return true;
}

// MSRP-2: >= 64 random bits in the §9 ident charset, 4..32 characters; no repeats.
TEST(MsrpIds, Msrp2TransactionIdsAreIdentsWithEnoughEntropy) {
    std::set<std::string> seen;
    for (int i = 0; i < 2000; ++i) {
        const auto tid = make_transaction_id();
        EXPECT_EQ(tid.size(), 16u);
        EXPECT_TRUE(base62(tid)) << tid;
        EXPECT_TRUE(seen.insert(tid).second) << "repeat " << tid;
    }
    const auto mid = make_message_id(); // MSRP-8
    EXPECT_EQ(mid.size(), 20u);
    EXPECT_TRUE(base62(mid));
    EXPECT_NE(mid, make_message_id());
}

// TV-01: the path session-id carries >= 80 random bits; MSRP-1: explicit port and ;tcp.
TEST(MsrpIds, Tv01SessionUriHasPortTransportAndRandomId) {
    const auto sid = make_session_id();
    EXPECT_GE(sid.size() * 5.95, 80.0);
    const auto uri = make_uri("127.0.0.1", 40123, sid);
    EXPECT_EQ(to_string(uri), "msrp://127.0.0.1:40123/" + sid + ";tcp");
    EXPECT_EQ(uri.host_kind, HostKind::IPv4);
    auto parsed = parse_uri(to_string(uri));
    ASSERT_TRUE(parsed.ok());
    EXPECT_TRUE(equivalent(*parsed, uri));
    EXPECT_EQ(to_string(make_uri("::1", 2855, "abc")), "msrp://[::1]:2855/abc;tcp");
    EXPECT_EQ(to_string(make_uri("gw.example", 2855, "abc", true)),
              "msrps://gw.example:2855/abc;tcp");
}

TEST(MsrpIds, RandomBase62IsRoughlyUniform) {
    std::array<int, 256> counts{};
    const auto s = random_base62(64);
    EXPECT_EQ(s.size(), 64u);
    std::string big;
    for (int i = 0; i < 400; ++i) big += random_base62(64);
    for (char c : big) ++counts[static_cast<unsigned char>(c)];
    // 25600 draws over 62 symbols: ~413 each; a modulo bias or a stuck RNG would stand out.
    for (char c : std::string("aAzZ09")) {
        EXPECT_GT(counts[static_cast<unsigned char>(c)], 250) << c;
        EXPECT_LT(counts[static_cast<unsigned char>(c)], 600) << c;
    }
}

} // namespace
} // namespace stox::msrp
