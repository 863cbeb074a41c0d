// SPDX-License-Identifier: Apache-2.0
// List encoding of the store's vector<string> columns (route set, announced resources).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/list_codec.hpp"

using stox::presence::store::decode_list;
using stox::presence::store::encode_list;

namespace {

std::vector<std::string> round_trip(const std::vector<std::string>& in) {
    std::vector<std::string> out{"garbage"};
    EXPECT_TRUE(decode_list(encode_list(in), out));
    return out;
}

TEST(StoreListCodec, RoundTripsAnyBytes) {
    EXPECT_EQ(encode_list({}), "");
    EXPECT_EQ(encode_list({"ab", ""}), "2:ab,0:,");
    const std::vector<std::string> cases[] = {
        {},
        {""},
        {"", ""},
        {"<sip:p1.example.net;lr>", "<sip:p2.example.net;lr;transport=tcp>"},
        {"12:ab,", ":,:,", "0:"},                               // looks like the encoding itself
        {std::string("nul\0inside", 10), "\xff\xfe bad utf-8"}, // binary-safe
        {std::string(100000, 'x')},
    };
    for (const auto& c : cases) EXPECT_EQ(round_trip(c), c);
}

TEST(StoreListCodec, RejectsMalformedInput) {
    std::vector<std::string> out;
    for (const char* bad : {"3:ab,", "2:ab", "2:abc", "2ab,", ":ab,", "02:ab,", "x:,", "2:ab;",
                            "1:a,2", "9999999999:a,", "-1:a,"})
        EXPECT_FALSE(decode_list(bad, out)) << bad;
    EXPECT_TRUE(decode_list("0:,", out));
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0], "");
}

} // namespace
