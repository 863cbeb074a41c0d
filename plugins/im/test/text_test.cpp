// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "sip_syntax.hpp"
#include "text.hpp"

namespace stox::plugins::im {
namespace {

TEST(Utf8, ValidatesPerRfc3629) {
    EXPECT_TRUE(is_valid_utf8(""));
    EXPECT_TRUE(is_valid_utf8("chat 42#\xC3\xA9"));
    EXPECT_TRUE(is_valid_utf8("\xF0\x9F\x98\x80"));  // U+1F600
    EXPECT_FALSE(is_valid_utf8("\xC3"));             // truncated
    EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));         // overlong '/'
    EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));     // surrogate
    EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80")); // > U+10FFFF
    EXPECT_FALSE(is_valid_utf8("\xFF"));
}

TEST(XmlChars, StripRemovesWhatXml10Forbids) {
    // stox-core.md Table M2: C0 controls except TAB/LF/CR, U+FFFE, U+FFFF.
    std::string s = std::string("a\x01"
                                "b\tc\n\rd") +
                    "\xEF\xBF\xBE" + "e" + "\xEF\xBF\xBF";
    EXPECT_EQ(count_non_xml_chars(s), 3u);
    EXPECT_EQ(strip_non_xml_chars(s), 3u);
    EXPECT_EQ(s, "ab\tc\n\rde");
    std::string clean = "nothing to do \xC3\xA9";
    EXPECT_EQ(strip_non_xml_chars(clean), 0u);
    EXPECT_EQ(clean, "nothing to do \xC3\xA9");
    std::string nul("x\0y", 3);
    EXPECT_EQ(strip_non_xml_chars(nul), 1u);
    EXPECT_EQ(nul, "xy");
}

TEST(Charset, Latin1BecomesUtf8) {
    EXPECT_EQ(latin1_to_utf8("caf\xE9"), "caf\xC3\xA9");
    EXPECT_EQ(latin1_to_utf8("\xFF"), "\xC3\xBF");
}

TEST(Hex, RoundTripsAndRejectsNonCanonical) {
    EXPECT_EQ(hex_lower("chat 42#\xC3\xA9"), "6368617420343223c3a9"); // TV-IM-04
    EXPECT_EQ(unhex_lower("6368617420343223c3a9"), "chat 42#\xC3\xA9");
    EXPECT_FALSE(unhex_lower("ABCD")); // upper case is not our encoding
    EXPECT_FALSE(unhex_lower("abc"));
    EXPECT_FALSE(unhex_lower("zz"));
    EXPECT_EQ(unhex_lower(""), "");
}

TEST(HeaderText, FoldsLineBreaksAndDropsControls) {
    // Table M1 Subject: fold CR/LF to a space.
    EXPECT_EQ(fold_to_header_text("Lunch\r\ntomorrow?"), "Lunch tomorrow?");
    EXPECT_EQ(fold_to_header_text("a\nb\n\nc"), "a b c");
    EXPECT_EQ(fold_to_header_text("  tab\there\x01  "), "tab here");
    EXPECT_EQ(fold_to_header_text("\xC3\xA9t\xC3\xA9"), "\xC3\xA9t\xC3\xA9");
}

TEST(Ascii, CaseHelpers) {
    EXPECT_TRUE(iequals("Content-Type", "content-type"));
    EXPECT_FALSE(iequals("a", "ab"));
    EXPECT_TRUE(istarts_with("MAILTO:x", "mailto:"));
    EXPECT_EQ(trim(" \t x \r\n"), "x");
}

TEST(SipSyntax, NameAddrUri) {
    EXPECT_EQ(name_addr_uri("sip:romeo@example.net;tag=vwxyz"), "sip:romeo@example.net");
    EXPECT_EQ(name_addr_uri("<sip:romeo@example.net;gr=abc>;tag=x"),
              "sip:romeo@example.net;gr=abc");
    EXPECT_EQ(name_addr_uri("\"Romeo <the one>\" <sip:r@example.net>"), "sip:r@example.net");
    EXPECT_EQ(name_addr_uri("\"Romeo \\\" x\" <im:r@example.net>"), "im:r@example.net");
    EXPECT_EQ(name_addr_uri("<sip:broken"), "");
    EXPECT_EQ(name_addr_uri("\"unterminated <sip:x@y>"), "");
    EXPECT_EQ(first_list_element("<sip:a@b;x=1,2>, <sip:c@d>"), "<sip:a@b;x=1,2>");
    EXPECT_EQ(first_list_element("\"a, b\" <sip:a@b>, sip:c@d"), "\"a, b\" <sip:a@b>");
}

TEST(SipSyntax, MediaType) {
    auto mt = parse_media_type("Text/Plain ; charset=\"UTF-8\";format=flowed");
    ASSERT_TRUE(mt);
    EXPECT_EQ(mt->essence(), "text/plain");
    EXPECT_EQ(mt->param("CHARSET"), "UTF-8");
    EXPECT_EQ(mt->param("format"), "flowed");
    EXPECT_FALSE(mt->param("boundary"));
    EXPECT_TRUE(parse_media_type("multipart/alternative;boundary=\"a b;c\""));
    EXPECT_FALSE(parse_media_type("text"));
    EXPECT_FALSE(parse_media_type("text/"));
    EXPECT_FALSE(parse_media_type("text/plain;charset"));
    EXPECT_FALSE(parse_media_type("text/plain;charset=\"open"));
    EXPECT_FALSE(parse_media_type("text/plain garbage"));
}

TEST(SipSyntax, CallIdGrammar) {
    // RFC 3261 §25.1 callid = word [ "@" word ].
    EXPECT_TRUE(is_call_id("e0ffe42b28561960c6b12b944a092794b9683a38"));
    EXPECT_TRUE(is_call_id("asd88asd77a@1.2.3.4"));
    EXPECT_TRUE(is_call_id("a<b>:\"c\"/[d]?{e}"));
    EXPECT_FALSE(is_call_id(""));
    EXPECT_FALSE(is_call_id("chat 42"));
    EXPECT_FALSE(is_call_id("a@b@c"));
    EXPECT_FALSE(is_call_id("@b"));
    EXPECT_FALSE(is_call_id("caf\xC3\xA9"));
}

TEST(SipSyntax, MaxForwards) {
    EXPECT_EQ(parse_max_forwards("70"), 70);
    EXPECT_EQ(parse_max_forwards(" 0 "), 0);
    EXPECT_EQ(parse_max_forwards("99999999999999"), 255);
    EXPECT_FALSE(parse_max_forwards(""));
    EXPECT_FALSE(parse_max_forwards("-1"));
    EXPECT_FALSE(parse_max_forwards("7a"));
}

TEST(SipSyntax, LanguageTags) {
    EXPECT_TRUE(is_language_tag("en"));
    EXPECT_TRUE(is_language_tag("zh-Hant-TW"));
    EXPECT_TRUE(is_language_tag("es-419"));
    EXPECT_FALSE(is_language_tag(""));
    EXPECT_FALSE(is_language_tag("en-"));
    EXPECT_FALSE(is_language_tag("toolongtag"));
    EXPECT_FALSE(is_language_tag("e n"));
    EXPECT_EQ(first_language_tag("cs, en"), "cs"); // Table M2: the first tag
    EXPECT_EQ(first_language_tag(" de "), "de");
    EXPECT_EQ(first_language_tag("<bad>"), "");
}

} // namespace
} // namespace stox::plugins::im
