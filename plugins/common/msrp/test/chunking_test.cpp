// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <stox/msrp/chunking.hpp>

using namespace stox::msrp;

namespace {
std::optional<ByteRange> BR(std::uint64_t s, std::optional<std::uint64_t> e,
                            std::optional<std::uint64_t> t) {
    return ByteRange{s, e, t};
}
} // namespace

TEST(MsrpChunking, SplitRanges_MSRP11) {
    auto c = split_body("Hello, world!", 7, false);
    ASSERT_EQ(c.size(), 2U);
    EXPECT_EQ(to_string(c[0].range), "1-7/13");
    EXPECT_EQ(c[0].flag, EndFlag::Continues);
    EXPECT_EQ(to_string(c[1].range), "8-13/13");
    EXPECT_EQ(c[1].body, "world!");
    EXPECT_EQ(c[1].flag, EndFlag::Complete);
    auto e = split_body("", 10, true);
    ASSERT_EQ(e.size(), 1U);
    EXPECT_EQ(to_string(e[0].range), "1-0/0");
}

// TV-08: text-safe boundaries never split "ü" (C3 BC).
TEST(MsrpChunking, Utf8SafeSplit_TV08) {
    const std::string s = "Gr\xC3\xBC\xC3\x9F"
                          "e aus K\xC3\xB6ln";
    EXPECT_EQ(utf8_safe_split(s, 3), 2U);
    EXPECT_EQ(utf8_safe_split(s, 4), 4U);
    EXPECT_EQ(utf8_safe_split("\xF0\x9F\x98\x80", 2), 2U); // no boundary in range: fall back
    for (std::size_t n = 2; n < 8; ++n) {
        std::string joined;
        for (const auto& ch : split_body(s, n, true)) {
            EXPECT_FALSE(!ch.body.empty() &&
                         (static_cast<unsigned char>(ch.body[0]) & 0xC0) == 0x80);
            joined += ch.body;
        }
        EXPECT_EQ(joined, s);
    }
}

TEST(MsrpChunking, ReassembleInOrder_TV07) {
    Reassembler r;
    EXPECT_EQ(r.add("mc7", BR(1, 7, 13), "Hello, ", EndFlag::Continues).outcome,
              ChunkOutcome::Incomplete);
    auto done = r.add("mc7", BR(8, 13, 13), "world!", EndFlag::Complete);
    EXPECT_EQ(done.outcome, ChunkOutcome::Complete);
    EXPECT_EQ(done.body, "Hello, world!");
    EXPECT_EQ(r.pending(), 0U);
    // A duplicate after delivery is discarded (MSRP-22).
    EXPECT_EQ(r.add("mc7", BR(8, 13, 13), "world!", EndFlag::Complete).outcome,
              ChunkOutcome::Discarded);
}

TEST(MsrpChunking, ReassembleUtf8Bytes_TV08) {
    Reassembler r;
    r.add("u8", BR(1, 3, 17), "\x47\x72\xC3", EndFlag::Continues);
    auto done =
        r.add("u8", BR(4, 17, 17), "\xBC\xC3\x9F\x65\x20\x61\x75\x73\x20\x4B\xC3\xB6\x6C\x6E",
              EndFlag::Complete);
    EXPECT_EQ(done.body, "Gr\xC3\xBC\xC3\x9F"
                         "e aus K\xC3\xB6ln");
}

TEST(MsrpChunking, OutOfOrderGapsAndStarTotal_TV09_TV10) {
    Reassembler r;
    EXPECT_EQ(r.add("a", BR(8, 13, 13), "world!", EndFlag::Complete).outcome,
              ChunkOutcome::Incomplete);
    auto g = r.gaps("a");
    ASSERT_EQ(g.size(), 1U);
    EXPECT_EQ(g[0], (std::pair<std::uint64_t, std::uint64_t>{0, 7}));
    EXPECT_EQ(r.add("a", BR(1, 7, 13), "Hello, ", EndFlag::Continues).body, "Hello, world!");
    // TV-10: range-end "*", the real payload length counts; total "*" defined by `$`.
    EXPECT_EQ(r.add("b", BR(1, std::nullopt, std::nullopt), "Hello,", EndFlag::Continues).outcome,
              ChunkOutcome::Incomplete);
    EXPECT_EQ(r.add("b", BR(7, 13, std::nullopt), " world!", EndFlag::Complete).body,
              "Hello, world!");
    // Overlap: the last received wins (MSRP-19).
    r.add("c", BR(1, 3, 5), "abc", EndFlag::Continues);
    EXPECT_EQ(r.add("c", BR(2, 5, 5), "XYZW", EndFlag::Complete).body, "aXYZW");
}

TEST(MsrpChunking, AbortAndLimits_TV11_TV12) {
    Reassembler r(ReassemblyLimits{65536, 4});
    r.add("mc8", BR(1, 7, 13), "Hello, ", EndFlag::Continues);
    auto ab = r.add("mc8", BR(8, std::nullopt, 13), "wor", EndFlag::Aborted);
    EXPECT_EQ(ab.outcome, ChunkOutcome::Aborted);
    EXPECT_EQ(ab.status, 200);
    EXPECT_EQ(r.pending(), 0U);
    EXPECT_EQ(r.add("mc8", BR(8, 13, 13), "world!", EndFlag::Complete).outcome,
              ChunkOutcome::Discarded);
    auto big =
        r.add("mbig", BR(1, std::nullopt, 1048576), std::string(2048, 'a'), EndFlag::Continues);
    EXPECT_EQ(big.outcome, ChunkOutcome::TooLarge);
    EXPECT_EQ(big.status, 413);
    EXPECT_EQ(r.add("mbig", BR(2049, std::nullopt, 1048576), "b", EndFlag::Continues).status, 413);
    // Inconsistent totals and range-end vs payload length.
    r.add("x", BR(1, 3, 10), "abc", EndFlag::Continues);
    EXPECT_EQ(r.add("x", BR(4, 6, 11), "def", EndFlag::Continues).outcome, ChunkOutcome::Malformed);
    EXPECT_EQ(r.add("y", BR(1, 5, 10), "abc", EndFlag::Continues).status, 400);
    // Whole message without Byte-Range (MSRP-19).
    EXPECT_EQ(r.add("z", std::nullopt, "hi", EndFlag::Complete).body, "hi");
}
