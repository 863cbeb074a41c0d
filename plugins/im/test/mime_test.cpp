// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "mime.hpp"

namespace stox::plugins::im {
namespace {

TEST(Mime, HeaderBlockUnfoldsAndStopsAtEmptyLine) {
    std::vector<MimeHeader> h;
    auto at = parse_header_block("A: 1\r\nB: two\r\n  lines\r\n\r\nbody", h);
    ASSERT_TRUE(at);
    ASSERT_EQ(h.size(), 2u);
    EXPECT_EQ(h[1].value, "two lines");
    EXPECT_EQ(std::string_view("A: 1\r\nB: two\r\n  lines\r\n\r\nbody").substr(*at), "body");
    h.clear();
    EXPECT_FALSE(parse_header_block("no colon here\n\n", h));
    h.clear();
    EXPECT_FALSE(parse_header_block(" continuation first\n\n", h));
}

TEST(Mime, MultipartAlternative) {
    const std::string body = "preamble\r\n"
                             "--xyz\r\n"
                             "Content-Type: text/plain\r\n"
                             "\r\n"
                             "Hi there\r\n"
                             "--xyz\r\n"
                             "Content-Type: text/html\r\n"
                             "\r\n"
                             "<p>Hi <b>there</b></p>\r\n"
                             "--xyz--\r\n"
                             "epilogue";
    auto parts = parse_multipart(body, "xyz");
    ASSERT_TRUE(parts);
    ASSERT_EQ(parts->size(), 2u);
    EXPECT_EQ((*parts)[0].header("content-type"), "text/plain");
    EXPECT_EQ((*parts)[0].body, "Hi there");
    EXPECT_EQ((*parts)[1].body, "<p>Hi <b>there</b></p>");
}

TEST(Mime, MultipartMalformed) {
    EXPECT_FALSE(parse_multipart("--a\r\n\r\nx\r\n", "a")); // no close delimiter
    EXPECT_FALSE(parse_multipart("nothing", "a"));
    EXPECT_FALSE(parse_multipart("--a--", ""));
    EXPECT_TRUE(parse_multipart("--a--", "a")); // zero parts
    // "--a" inside a line is not a delimiter: that text is preamble, and no part follows.
    auto preamble_only = parse_multipart("x--a\r\n\r\ny\r\n--a--", "a");
    ASSERT_TRUE(preamble_only);
    EXPECT_TRUE(preamble_only->empty());
    std::string many;
    for (int i = 0; i < 20; ++i) many += "--a\r\n\r\nx\r\n";
    many += "--a--";
    EXPECT_FALSE(parse_multipart(many, "a")); // kMaxMimeParts
}

TEST(Mime, CpimRfc3862Example) {
    const std::string body = "From: MR SANDERS <im:piglet@100akerwood.com>\r\n"
                             "To: Depressed Donkey <im:eeyore@100akerwood.com>\r\n"
                             "DateTime: 2000-12-13T13:40:00-08:00\r\n"
                             "Subject: the weather will be fine today\r\n"
                             "Subject:;lang=fr beau temps prevu pour aujourd'hui\r\n"
                             "NS: MyFeatures <mid:MessageFeatures@id.foo.com>\r\n"
                             "\r\n"
                             "Content-type: text/plain\r\n"
                             "Content-ID: <1234567890@foo.com>\r\n"
                             "\r\n"
                             "Here is the text of my message.";
    auto m = parse_cpim(body);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->header("DateTime"), "2000-12-13T13:40:00-08:00");
    EXPECT_EQ(m->content.header("Content-Type"), "text/plain");
    EXPECT_EQ(m->content.body, "Here is the text of my message.");
    auto fr = parse_cpim_subject(";lang=fr beau temps");
    EXPECT_EQ(fr.lang, "fr");
    EXPECT_EQ(fr.text, "beau temps");
    EXPECT_EQ(parse_cpim_subject("plain").text, "plain");
    EXPECT_FALSE(parse_cpim("From: x\r\n")); // no content
}

TEST(Mime, IsComposing) {
    // RFC 3994 §6 example.
    EXPECT_EQ(parse_iscomposing("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                                "<isComposing xmlns=\"urn:ietf:params:xml:ns:im-iscomposing\">\n"
                                "  <state>active</state>\n  <contenttype>text/plain</contenttype>\n"
                                "  <refresh>90</refresh>\n</isComposing>"),
              ComposingState::Active);
    EXPECT_EQ(parse_iscomposing("<c:isComposing xmlns:c='urn:ietf:params:xml:ns:im-iscomposing'>"
                                "<c:state> idle </c:state></c:isComposing>"),
              ComposingState::Idle);
    EXPECT_FALSE(parse_iscomposing("<isComposing><state>typing</state></isComposing>"));
    EXPECT_FALSE(parse_iscomposing("<state>active</state>"));
    EXPECT_FALSE(parse_iscomposing("<isComposing><state>active"));
    EXPECT_FALSE(parse_iscomposing(""));
}

} // namespace
} // namespace stox::plugins::im
