// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "date_time.hpp"

namespace stox::plugins::im {
namespace {

using namespace std::chrono;

SysSeconds at(int y, unsigned m, unsigned d, int h, int mi, int s) {
    return sys_days{year{y} / month{m} / day{d}} + hours{h} + minutes{mi} + seconds{s};
}

TEST(DateTime, Rfc1123) {
    // TV-IM-19's Date.
    EXPECT_EQ(parse_rfc1123("Sat, 13 Nov 2010 23:29:00 GMT"), at(2010, 11, 13, 23, 29, 0));
    EXPECT_EQ(parse_rfc1123("13 Nov 2010 23:29:00 GMT"), at(2010, 11, 13, 23, 29, 0));
    EXPECT_EQ(parse_rfc1123("Tue, 1 Feb 2000 00:00:60 gmt"), at(2000, 2, 1, 0, 0, 59));
    EXPECT_FALSE(parse_rfc1123("Sat, 31 Feb 2010 23:29:00 GMT"));
    EXPECT_FALSE(parse_rfc1123("Sat, 13 Nov 2010 23:29:00 +0100"));
    EXPECT_FALSE(parse_rfc1123("Xyz, 13 Nov 2010 23:29:00 GMT"));
    EXPECT_FALSE(parse_rfc1123("Sat, 13 Foo 2010 23:29:00 GMT"));
    EXPECT_FALSE(parse_rfc1123("Sat, 13 Nov 2010 24:00:00 GMT"));
    EXPECT_FALSE(parse_rfc1123(""));
    EXPECT_EQ(format_rfc1123(at(2010, 11, 13, 23, 29, 0)), "Sat, 13 Nov 2010 23:29:00 GMT");
    EXPECT_EQ(format_rfc1123(at(2002, 9, 10, 23, 8, 25)), "Tue, 10 Sep 2002 23:08:25 GMT");
}

TEST(DateTime, Xep0082) {
    EXPECT_EQ(parse_xep0082("2010-11-13T23:29:00Z"), at(2010, 11, 13, 23, 29, 0));
    EXPECT_EQ(parse_xep0082("2002-09-10T23:08:25.123Z"), at(2002, 9, 10, 23, 8, 25));
    EXPECT_EQ(parse_xep0082("2000-12-13T13:40:00-08:00"), at(2000, 12, 13, 21, 40, 0));
    EXPECT_EQ(parse_xep0082("2000-12-14T01:00:00+02:30"), at(2000, 12, 13, 22, 30, 0));
    EXPECT_FALSE(parse_xep0082("2010-11-13T23:29:00"));
    EXPECT_FALSE(parse_xep0082("2010-13-13T23:29:00Z"));
    EXPECT_FALSE(parse_xep0082("2010-11-13 23:29:00Z"));
    EXPECT_FALSE(parse_xep0082("2010-11-13T23:29:00Zjunk"));
    EXPECT_FALSE(parse_xep0082("2010-11-13T23:29:00."));
    EXPECT_EQ(format_xep0082(at(2010, 11, 13, 23, 29, 0)), "2010-11-13T23:29:00Z");
}

} // namespace
} // namespace stox::plugins::im
