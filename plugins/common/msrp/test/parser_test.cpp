// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <stox/msrp/parser.hpp>

using namespace stox::msrp;

namespace {
const std::string kTv05 = "MSRP q9w8e7r6 SEND\r\n"
                          "To-Path: msrp://gw.xmpp.example:2855/g2Hn;tcp\r\n"
                          "From-Path: msrp://192.0.2.20:40012/b2Kp;tcp\r\n"
                          "Message-ID: bx1\r\n"
                          "Byte-Range: 1-27/27\r\n"
                          "Content-Type: text/plain\r\n"
                          "\r\n"
                          "Sure, give me five minutes.\r\n"
                          "-------q9w8e7r6$\r\n";
const std::string kTv04 = "MSRP a1b2c3d4e5 SEND\r\n"
                          "To-Path: msrp://gw.xmpp.example:2855/g2Hn;tcp\r\n"
                          "From-Path: msrp://192.0.2.20:40012/b2Kp;tcp\r\n"
                          "Message-ID: bx0\r\n"
                          "Byte-Range: 1-0/0\r\n"
                          "-------a1b2c3d4e5$\r\n";
const std::string kResp = "MSRP a1b2c3d4e5 200 OK\r\n"
                          "To-Path: msrp://192.0.2.20:40012/b2Kp;tcp\r\n"
                          "From-Path: msrp://gw.xmpp.example:2855/g2Hn;tcp\r\n"
                          "-------a1b2c3d4e5$\r\n";

std::vector<ParseEvent> feed_all(Parser& p, const std::string& s) {
    return p.feed(s);
}
} // namespace

TEST(MsrpParser, ParsesSend_TV05) {
    Parser p;
    auto ev = feed_all(p, kTv05);
    ASSERT_EQ(ev.size(), 1U);
    const auto& r = std::get<Request>(ev[0]);
    EXPECT_EQ(r.transaction_id, "q9w8e7r6");
    EXPECT_EQ(r.method_kind(), Method::Send);
    EXPECT_EQ(r.body, "Sure, give me five minutes.");
    EXPECT_EQ(r.content_type, "text/plain");
    EXPECT_EQ(r.end_flag, EndFlag::Complete);
    EXPECT_EQ(r.effective_failure_report(), FailureReport::Yes); // MSRP-9
    EXPECT_FALSE(r.wants_success_report());
    EXPECT_EQ(serialize(r).value(), kTv05); // round trip
}

// TV-04 / MSRP-4: bodiless SEND followed by a response in the same segment.
TEST(MsrpParser, BodilessThenResponse_TV04) {
    Parser p;
    auto ev = feed_all(p, kTv04 + kResp);
    ASSERT_EQ(ev.size(), 2U);
    EXPECT_TRUE(std::get<Request>(ev[0]).bodiless());
    EXPECT_EQ(std::get<Response>(ev[1]).code, 200);
    EXPECT_EQ(std::get<Response>(ev[1]).comment, "OK");
    EXPECT_EQ(serialize(std::get<Response>(ev[1])).value(), kResp);
}

// Split at every byte boundary, and byte by byte.
TEST(MsrpParser, SurvivesEverySplit) {
    const std::string stream = kTv05 + kTv04 + kResp;
    Parser whole;
    const auto expected = whole.feed(stream);
    ASSERT_EQ(expected.size(), 3U);
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
        Parser p;
        auto a = p.feed(std::string_view(stream).substr(0, cut));
        auto b = p.feed(std::string_view(stream).substr(cut));
        a.insert(a.end(), b.begin(), b.end());
        ASSERT_EQ(a, expected) << "cut at " << cut;
    }
    Parser p;
    std::vector<ParseEvent> all;
    for (char c : stream) {
        auto e = p.feed(std::string_view(&c, 1));
        all.insert(all.end(), e.begin(), e.end());
    }
    EXPECT_EQ(all, expected);
}

// MSRP-5/6: "-------" inside the body, even with the tid but no valid flag+CRLF.
TEST(MsrpParser, BodyMayContainDashes_MSRP5) {
    Request r;
    r.transaction_id = "t1abc";
    r.to_path = parse_path("msrp://a.example:1/s;tcp").value();
    r.from_path = parse_path("msrp://b.example:2/t;tcp").value();
    r.content_type = "text/plain";
    r.body = "x\r\n-------\r\n-------t1abcX\r\n-------t1abc+y\r\n";
    r.end_flag = EndFlag::Continues;
    Parser p;
    auto ev = p.feed(serialize(r).value());
    ASSERT_EQ(ev.size(), 1U);
    EXPECT_EQ(std::get<Request>(ev[0]), r);
}

// TV-07 / TV-11: `+` and `#` flags; empty body with Content-Type (MSRP-4).
TEST(MsrpParser, FlagsAndEmptyBody_TV11) {
    Parser p;
    auto ev =
        p.feed("MSRP k1chunkA1 SEND\r\nTo-Path: msrp://a:1/s;tcp\r\nFrom-Path: msrp://b:2/t;tcp\r\n"
               "Message-ID: mc8\r\nByte-Range: 8-*/13\r\nContent-Type: text/plain\r\n\r\nwor\r\n"
               "-------k1chunkA1#\r\n"
               "MSRP k2chunkB2 SEND\r\nTo-Path: msrp://a:1/s;tcp\r\nFrom-Path: msrp://b:2/t;tcp\r\n"
               "Content-Type: text/plain\r\n\r\n\r\n-------k2chunkB2$\r\n");
    ASSERT_EQ(ev.size(), 2U);
    EXPECT_EQ(std::get<Request>(ev[0]).end_flag, EndFlag::Aborted);
    EXPECT_EQ(std::get<Request>(ev[0]).body, "wor");
    EXPECT_FALSE(std::get<Request>(ev[1]).bodiless());
    EXPECT_EQ(std::get<Request>(ev[1]).body, "");
}

// 501 is the session's decision: unknown methods parse (MSRP-30).
TEST(MsrpParser, UnknownMethodIsNotAnError_MSRP30) {
    Parser p;
    auto ev =
        p.feed("MSRP abcd1234 FROB\r\nTo-Path: msrp://a:1/s;tcp\r\nFrom-Path: msrp://b:2/t;tcp\r\n"
               "-------abcd1234$\r\n");
    ASSERT_EQ(ev.size(), 1U);
    EXPECT_EQ(std::get<Request>(ev[0]).method_kind(), Method::Other);
    EXPECT_EQ(std::get<Request>(ev[0]).method, "FROB");
}

// Malformed headers: 400 for that frame, the connection survives and the next frame parses.
TEST(MsrpParser, BadHeaderGives400AndResyncs) {
    Parser p;
    auto ev =
        p.feed("MSRP abcd1234 SEND\r\nTo-Path: msrp://a:1/s;tcp\r\nFrom-Path: msrp://b:2/t;tcp\r\n"
               "Byte-Range: 9-1/3\r\nContent-Type: text/plain\r\n\r\nhi\r\n-------abcd1234$\r\n" +
               kTv04);
    ASSERT_EQ(ev.size(), 2U);
    const auto& e = std::get<ParseError>(ev[0]);
    EXPECT_EQ(e.code, 400);
    EXPECT_EQ(e.transaction_id, "abcd1234");
    EXPECT_FALSE(e.close_connection);
    ASSERT_TRUE(e.request);
    EXPECT_FALSE(e.request->to_path.empty());
    EXPECT_TRUE(std::holds_alternative<Request>(ev[1]));
    // Missing To-Path, body without Content-Type, Content-Type without body (MSRP-4).
    for (const std::string bad :
         {"MSRP abcd1234 SEND\r\nFrom-Path: msrp://b:2/t;tcp\r\n-------abcd1234$\r\n",
          "MSRP abcd1234 SEND\r\nTo-Path: msrp://a:1/s;tcp\r\nFrom-Path: "
          "msrp://b:2/t;tcp\r\n\r\nx\r\n"
          "-------abcd1234$\r\n",
          "MSRP abcd1234 SEND\r\nTo-Path: msrp://a:1/s;tcp\r\nFrom-Path: msrp://b:2/t;tcp\r\n"
          "Content-Type: text/plain\r\n-------abcd1234$\r\n"}) {
        Parser q;
        auto r = q.feed(bad);
        ASSERT_EQ(r.size(), 1U) << bad;
        EXPECT_EQ(std::get<ParseError>(r[0]).code, 400) << bad;
    }
}

TEST(MsrpParser, GarbageClosesConnection) {
    Parser p;
    auto ev = p.feed("GET / HTTP/1.1\r\n");
    ASSERT_EQ(ev.size(), 1U);
    EXPECT_TRUE(std::get<ParseError>(ev[0]).close_connection);
    EXPECT_TRUE(p.failed());
    EXPECT_TRUE(p.feed(kTv04).empty());
    p.reset();
    EXPECT_EQ(p.feed(kTv04).size(), 1U);
}

// TV-12 / MSRP-30: limits give 413; an oversize chunk is skipped, the stream continues.
TEST(MsrpParser, LimitsGive413_TV12) {
    Parser p(ParserLimits{256, 64});
    std::string big =
        "MSRP big0001x SEND\r\nTo-Path: msrp://a:1/s;tcp\r\nFrom-Path: msrp://b:2/t;tcp\r\n"
        "Message-ID: mbig\r\nByte-Range: 1-*/1048576\r\nContent-Type: text/plain\r\n\r\n" +
        std::string(2048, 'a') + "\r\n-------big0001x+\r\n";
    std::vector<ParseEvent> ev;
    for (std::size_t i = 0; i < big.size(); i += 100) {
        auto e = p.feed(std::string_view(big).substr(i, 100));
        ev.insert(ev.end(), e.begin(), e.end());
    }
    auto e2 = p.feed(kTv04);
    ev.insert(ev.end(), e2.begin(), e2.end());
    ASSERT_EQ(ev.size(), 2U);
    EXPECT_EQ(std::get<ParseError>(ev[0]).code, 413);
    EXPECT_EQ(std::get<ParseError>(ev[0]).transaction_id, "big0001x");
    EXPECT_FALSE(std::get<ParseError>(ev[0]).close_connection);
    EXPECT_TRUE(std::holds_alternative<Request>(ev[1]));
    EXPECT_LT(p.buffered(), 100U);

    Parser q(ParserLimits{64, 64});
    auto h = q.feed("MSRP abcd1234 SEND\r\nX-Long: " + std::string(100, 'x'));
    ASSERT_EQ(h.size(), 1U);
    EXPECT_EQ(std::get<ParseError>(h[0]).code, 413);
    EXPECT_TRUE(std::get<ParseError>(h[0]).close_connection);
}
