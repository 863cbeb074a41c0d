// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <stox/msrp/message.hpp>

using namespace stox::msrp;

namespace {
Request bob_send() {
    Request r;
    r.transaction_id = "q9w8e7r6";
    r.to_path = parse_path("msrp://192.0.2.20:40010/b1Qz;tcp").value();
    r.from_path = parse_path("msrp://gw.xmpp.example:2855/s1xA9;tcp").value();
    r.message_id = "m1x";
    r.byte_range = ByteRange{1, 32, 32};
    r.failure_report = FailureReport::No;
    r.content_type = "text/plain";
    r.body = "Hi Bob, are you free for a call?";
    return r;
}
} // namespace

// TV-02: exact wire format and header order (MSRP-3, MSRP-5).
TEST(MsrpMessage, SerializesSendWire_TV02) {
    auto wire = serialize(bob_send());
    ASSERT_TRUE(wire.ok());
    EXPECT_EQ(*wire, "MSRP q9w8e7r6 SEND\r\n"
                     "To-Path: msrp://192.0.2.20:40010/b1Qz;tcp\r\n"
                     "From-Path: msrp://gw.xmpp.example:2855/s1xA9;tcp\r\n"
                     "Message-ID: m1x\r\n"
                     "Byte-Range: 1-32/32\r\n"
                     "Failure-Report: no\r\n"
                     "Content-Type: text/plain\r\n"
                     "\r\n"
                     "Hi Bob, are you free for a call?\r\n"
                     "-------q9w8e7r6$\r\n");
}

// TV-26: Content-Language (a MIME header) goes right before Content-Type (MSRP-3).
TEST(MsrpMessage, MimeHeadersBeforeContentType_TV26) {
    auto r = bob_send();
    r.mime_headers.push_back({"Content-Language", "cs"});
    r.extension_headers.push_back({"Use-Path", "msrp://x:1/y;tcp"});
    auto wire = serialize(r);
    ASSERT_TRUE(wire.ok());
    const auto fr = wire->find("Failure-Report");
    const auto up = wire->find("Use-Path");
    const auto cl = wire->find("Content-Language");
    const auto ct = wire->find("Content-Type");
    EXPECT_LT(fr, up);
    EXPECT_LT(up, cl);
    EXPECT_LT(cl, ct);
}

// TV-04 / MSRP-4: bodiless request, end-line right after the last header.
TEST(MsrpMessage, BodilessAndInvariants_MSRP4) {
    auto r = bob_send();
    r.content_type.reset();
    r.body.clear();
    r.byte_range = ByteRange{1, 0, 0};
    auto wire = serialize(r);
    ASSERT_TRUE(wire.ok());
    EXPECT_NE(wire->find("Byte-Range: 1-0/0\r\nFailure-Report: no\r\n-------q9w8e7r6$\r\n"),
              std::string::npos);
    r.body = "x"; // body without Content-Type
    EXPECT_FALSE(serialize(r).ok());
    r.body.clear();
    r.mime_headers.push_back({"Content-ID", "<a@b>"});
    EXPECT_FALSE(serialize(r).ok());
}

// MSRP-6: the body must not contain the end-line.
TEST(MsrpMessage, RefusesEndLineInBody_MSRP6) {
    auto r = bob_send();
    r.body = "abc\r\n-------q9w8e7r6$\r\nxyz";
    EXPECT_FALSE(serialize(r).ok());
    r.body = "abc\r\n-------other$"; // another tid is fine
    EXPECT_TRUE(serialize(r).ok());
    r.transaction_id = "bad tid";
    EXPECT_FALSE(serialize(r).ok());
}

// MSRP-17 / TV-23: response addressing and wire format.
TEST(MsrpMessage, ResponseWire_TV23) {
    Request r = bob_send();
    r.transaction_id = "zz11yy22";
    r.to_path = parse_path("msrp://gw.xmpp.example:2855/NOPE;tcp").value();
    r.from_path = parse_path("msrp://192.0.2.20:40012/b2Kp;tcp").value();
    auto wire = serialize(make_response(r, 481));
    ASSERT_TRUE(wire.ok());
    EXPECT_EQ(*wire, "MSRP zz11yy22 481 Session does not exist\r\n"
                     "To-Path: msrp://192.0.2.20:40012/b2Kp;tcp\r\n"
                     "From-Path: msrp://gw.xmpp.example:2855/NOPE;tcp\r\n"
                     "-------zz11yy22$\r\n");
}

TEST(MsrpMessage, ByteRangeAndStatusHeader_MSRP11) {
    auto br = parse_byte_range("1-*/13");
    ASSERT_TRUE(br.ok());
    EXPECT_FALSE(br->end);
    EXPECT_EQ(br->total, 13U);
    EXPECT_EQ(to_string(*br), "1-*/13");
    EXPECT_TRUE(parse_byte_range("1-0/0").ok());
    for (const char* bad : {"0-1/1", "5-3/9", "1-20/10", "x-1/1", "1-1", "1/1-1", ""}) {
        EXPECT_FALSE(parse_byte_range(bad).ok()) << bad;
    }
    auto st = parse_status_header("000 200 OK");
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->code, 200);
    EXPECT_EQ(to_string(*st), "000 200 OK");
    EXPECT_FALSE(parse_status_header("00 200").ok());
    EXPECT_EQ(method_from_name("REPORT"), Method::Report);
    EXPECT_EQ(method_from_name("NICKNAME"), Method::Other);
}
