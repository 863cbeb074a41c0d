// SPDX-License-Identifier: Apache-2.0
// X2S translation (<message/> -> SIP MESSAGE): RFC 7572 Table 1 / stox-core.md Table M1, with
// the TV-IM vectors; stanza error helpers.
#include <gtest/gtest.h>

#include "stanza_errors.hpp"
#include "test_support.hpp"
#include "x2s.hpp"

namespace stox::plugins::im {
namespace {

using stox::sdk::SipRequest;
using stox::sdk::Stanza;

class X2s : public ::testing::Test {
protected:
    X2sResult run(std::string_view xml) {
        X2sContext ctx{test::address_mapper(), config_, "freshcallid", "tag1"};
        return translate_x2s(test::parse_xml(xml), ctx);
    }
    SipRequest request(std::string_view xml) {
        X2sResult r = run(xml);
        if (!std::holds_alternative<X2sRequest>(r)) {
            ADD_FAILURE() << "not translated: " << xml;
            return {};
        }
        return std::get<X2sRequest>(r).request;
    }
    ImConfig config_;
};

TEST_F(X2s, TV_IM_01_BasicMessage) {
    // IM-3, IM-5, IM-6, Table M1.
    const SipRequest r = request("<message from='juliet@example.com/yn0cl4bnw0yr3vym' "
                                 "to='romeo@example.net' id='m1'>"
                                 "<body>Art thou not Romeo, and a Montague?</body></message>");
    EXPECT_EQ(r.method, "MESSAGE");
    EXPECT_EQ(r.request_uri, "sip:romeo@example.net");
    EXPECT_EQ(r.header("Max-Forwards"), "70");
    EXPECT_EQ(r.header("To"), "<sip:romeo@example.net>");
    EXPECT_EQ(r.header("From"), "<sip:juliet@example.com;gr=yn0cl4bnw0yr3vym>;tag=tag1");
    EXPECT_EQ(r.header("Call-ID"), "freshcallid");
    EXPECT_EQ(r.header("CSeq"), "1 MESSAGE");
    EXPECT_EQ(r.header("Content-Type"), "text/plain;charset=UTF-8");
    EXPECT_EQ(r.body, "Art thou not Romeo, and a Montague?");
    EXPECT_EQ(r.body.size(), 35u);
    // No Contact (IM-REF-1), Subject or Content-Language; the id is in no header.
    EXPECT_FALSE(r.has_header("Contact"));
    EXPECT_FALSE(r.has_header("Subject"));
    EXPECT_FALSE(r.has_header("Content-Language"));
    EXPECT_FALSE(r.has_header("Expires"));
    for (const auto& h : r.headers) EXPECT_EQ(h.value.find("m1"), std::string::npos) << h.name;
}

TEST_F(X2s, TV_IM_03_ThreadCopiedToCallId) {
    EXPECT_EQ(request("<message from='juliet@example.com/b' to='romeo@example.net' id='m1'>"
                      "<thread>e0ffe42b28561960c6b12b944a092794b9683a38</thread><body>x</body>"
                      "</message>")
                  .header("Call-ID"),
              "e0ffe42b28561960c6b12b944a092794b9683a38");
}

TEST_F(X2s, TV_IM_04_ThreadHexEncoded) {
    EXPECT_EQ(request("<message from='juliet@example.com/b' to='romeo@example.net'>"
                      "<thread parent='p'>chat 42#\xC3\xA9</thread><body>x</body></message>")
                  .header("Call-ID"),
              "thr-6368617420343223c3a9");
}

TEST_F(X2s, TV_IM_05_LanguageChoice) {
    // A-31; IM-REF-7: several <body/>/<subject/> differ by xml:lang.
    const SipRequest r = request(
        "<message from='juliet@example.com/balcony' to='romeo@example.net' id='m5' xml:lang='en'>"
        "<subject>Greetings</subject><subject xml:lang='cs'>Pozdrav</subject>"
        "<body>Hello</body><body xml:lang='cs'>Ahoj</body></message>");
    EXPECT_EQ(r.request_uri, "sip:romeo@example.net");
    EXPECT_EQ(r.header("From"), "<sip:juliet@example.com;gr=balcony>;tag=tag1");
    EXPECT_EQ(r.header("Subject"), "Greetings");
    EXPECT_EQ(r.header("Content-Language"), "en");
    EXPECT_EQ(r.header("Content-Type"), "text/plain;charset=UTF-8");
    EXPECT_EQ(r.body, "Hello");
    EXPECT_EQ(r.body.size(), 5u);
}

TEST_F(X2s, A_31_FallbacksWhenNoBodyMatchesTheStanzaLanguage) {
    // No element in the stanza language: the first without xml:lang, else the first.
    SipRequest r = request("<message from='j@example.com/b' to='r@example.net' xml:lang='de'>"
                           "<body xml:lang='fr'>Bonjour</body><body xml:lang='cs'>Ahoj</body>"
                           "</message>");
    EXPECT_EQ(r.body, "Bonjour");
    EXPECT_EQ(r.header("Content-Language"), "fr");
    r = request("<message from='j@example.com/b' to='r@example.net'>"
                "<body xml:lang='fr'>Bonjour</body><body>Hi</body></message>");
    EXPECT_EQ(r.body, "Hi");
    EXPECT_FALSE(r.has_header("Content-Language"));
}

TEST_F(X2s, TV_IM_08_XmlLangToContentLanguage) {
    const SipRequest r = request("<message from='juliet@example.com/b' to='romeo@example.net' "
                                 "xml:lang='de'><body>Guten Tag</body></message>");
    EXPECT_EQ(r.header("Content-Language"), "de");
    EXPECT_EQ(r.body.size(), 9u);
}

TEST_F(X2s, TV_IM_10_TooLargeForSip) {
    // IM-14, IM-REF-3: policy-violation when the serialized MESSAGE would exceed 1300 bytes;
    // IM-15: no silent upgrade to MSRP session mode.
    const std::string big = "<message from='juliet@example.com/balcony' to='romeo@example.net' "
                            "id='big'><body>" +
                            std::string(1300, 'A') + "</body></message>";
    X2sResult r = run(big);
    ASSERT_TRUE(std::holds_alternative<X2sReject>(r));
    const stox::sdk::XmppError e = test::error_mapper().xmpp_for(std::get<X2sReject>(r).status);
    EXPECT_EQ(e.condition, "policy-violation");
    EXPECT_EQ(e.type, "modify");
    // Boundary: a 100-character body is sent normally.
    EXPECT_TRUE(std::holds_alternative<X2sRequest>(
        run("<message from='juliet@example.com/balcony' to='romeo@example.net' id='ok'><body>" +
            std::string(100, 'A') + "</body></message>")));
}

TEST_F(X2s, SizeLimitIsMeasuredOnTheWholeRequest) {
    // the estimate counts the request line, every header, Content-Length, the body and
    // the stack's allowance; the limit is inclusive.
    const std::string head =
        "<message from='juliet@example.com/balcony' to='romeo@example.net'><body>";
    X2sResult probe = run(head + "x</body></message>");
    ASSERT_TRUE(std::holds_alternative<X2sRequest>(probe));
    const std::size_t base = std::get<X2sRequest>(probe).estimated_size - 1;
    EXPECT_GT(base, kStackHeaderAllowance);
    const std::size_t fits = config_.max_sip_message_bytes - base;
    // Content-Length gains a digit at 10, 100 and 1000 bytes; find the largest body that fits.
    std::size_t n = fits;
    while (n > 0 && !std::holds_alternative<X2sRequest>(
                        run(head + std::string(n, 'b') + "</body></message>")))
        --n;
    ASSERT_GT(n, 800u);
    const X2sResult at_limit = run(head + std::string(n, 'b') + "</body></message>");
    EXPECT_LE(std::get<X2sRequest>(at_limit).estimated_size, config_.max_sip_message_bytes);
    EXPECT_TRUE(std::holds_alternative<X2sReject>(
        run(head + std::string(n + 1, 'b') + "</body></message>")));
    config_.max_sip_message_bytes = 4000; // operator knows the path is congestion-safe
    EXPECT_TRUE(std::holds_alternative<X2sRequest>(
        run(head + std::string(2000, 'b') + "</body></message>")));
}

TEST_F(X2s, EstimateCountsWidestCSeqAndAllowance) {
    SipRequest r;
    r.method = "MESSAGE";
    r.request_uri = "sip:a@b";
    r.add_header("CSeq", "1 MESSAGE");
    r.body = "hi";
    // "MESSAGE sip:a@b SIP/2.0\r\n" (25) + "CSeq: 1 MESSAGE\r\n" (17 + 9 widening)
    // + "Content-Length: 2\r\n" (19) + "\r\n" (2) + "hi" (2) + allowance.
    EXPECT_EQ(estimate_wire_size(r), 25u + 26u + 19u + 2u + 2u + kStackHeaderAllowance);
}

TEST_F(X2s, TV_IM_23_NoBodyNoRequest) {
    EXPECT_TRUE(std::holds_alternative<X2sNoBody>(
        run("<message from='juliet@example.com/b' to='romeo@example.net'>"
            "<composing xmlns='http://jabber.org/protocol/chatstates'/></message>")));
    EXPECT_TRUE(std::holds_alternative<X2sNoBody>(
        run("<message from='juliet@example.com/b' to='romeo@example.net'><body/></message>")));
    EXPECT_TRUE(std::holds_alternative<X2sNoBody>(
        run("<message from='juliet@example.com/b' to='romeo@example.net'><subject>s</subject>"
            "</message>")));
}

TEST_F(X2s, TV_IM_25_FullJidTo) {
    const SipRequest r = request("<message from='juliet@example.com/b' "
                                 "to='romeo@example.net/dr4hcr0st3lup4c'><body>x</body></message>");
    EXPECT_EQ(r.request_uri, "sip:romeo@example.net;gr=dr4hcr0st3lup4c");
    EXPECT_EQ(r.header("To"), "<sip:romeo@example.net;gr=dr4hcr0st3lup4c>");
}

TEST_F(X2s, SubjectFoldedAndDelayBecomesDate) {
    // Table M1: Subject folds CR/LF; <delay/> -> Date.
    const SipRequest r =
        request("<message from='juliet@example.com/b' to='romeo@example.net'><subject>two&#10;lines"
                "</subject><body>x</body><delay xmlns='urn:xmpp:delay' from='example.com' "
                "stamp='2002-09-10T23:08:25Z'/></message>");
    EXPECT_EQ(r.header("Subject"), "two lines");
    EXPECT_EQ(r.header("Date"), "Tue, 10 Sep 2002 23:08:25 GMT");
    // Never from the local clock for a fresh message.
    EXPECT_FALSE(request("<message from='j@example.com/b' to='r@example.net'><body>x</body>"
                         "</message>")
                     .has_header("Date"));
    EXPECT_FALSE(request("<message from='j@example.com/b' to='r@example.net'><body>x</body>"
                         "<delay xmlns='urn:xmpp:delay' stamp='yesterday'/></message>")
                     .has_header("Date"));
}

TEST_F(X2s, UnmappableAddressesAreRefused) {
    X2sResult r = run("<message from='juliet@example.com/b' to='bad\"jid@example.net'>"
                      "<body>x</body></message>");
    ASSERT_TRUE(std::holds_alternative<X2sReject>(r));
    EXPECT_EQ(std::get<X2sReject>(r).status.code(), stox::sdk::ErrorCode::BadRequest);
    r = run("<message from='' to='romeo@example.net'><body>x</body></message>");
    ASSERT_TRUE(std::holds_alternative<X2sReject>(r));
}

TEST(StanzaErrors, ParseDefinedCondition) {
    const auto e = parse_stanza_error(test::parse_xml(
        "<message type='error' id='x'><error type='cancel'>"
        "<gone xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>xmpp:romeo@other.example</gone>"
        "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>moved</text></error></message>"));
    EXPECT_EQ(e.condition, "gone");
    EXPECT_EQ(e.type, "cancel");
    EXPECT_EQ(e.address, "xmpp:romeo@other.example");
    EXPECT_EQ(e.text, "moved");
}

TEST(StanzaErrors, ParseLegacyAndMissing) {
    // XEP-0086 legacy codes; no <error/> at all is never success.
    EXPECT_EQ(
        parse_stanza_error(test::parse_xml("<message type='error'><error code='404'/></message>"))
            .condition,
        "item-not-found");
    EXPECT_EQ(
        parse_stanza_error(test::parse_xml("<message type='error'><error code='503'/></message>"))
            .condition,
        "service-unavailable");
    EXPECT_EQ(parse_stanza_error(test::parse_xml("<message type='error'/>")).condition,
              "undefined-condition");
    EXPECT_EQ(parse_stanza_error(test::parse_xml("<message type='error'><error type='wait'>"
                                                 "<foo xmlns='urn:other'/></error></message>"))
                  .condition,
              "undefined-condition");
}

TEST(StanzaErrors, ReplyShape_TV_IM_17) {
    // §3.4: from = original to, to = original from, id = original id.
    const Stanza original =
        test::parse_xml("<message from='juliet@example.com/yn0cl4bnw0yr3vym' "
                        "to='romeo@example.net' id='m1'><body>x</body></message>");
    const Stanza reply = make_error_reply(
        original, test::error_mapper().sip_to_xmpp(480, "Temporarily Unavailable"));
    EXPECT_EQ(
        test::canonical_xml(reply),
        test::canon("<message from='romeo@example.net' to='juliet@example.com/yn0cl4bnw0yr3vym' "
                    "id='m1' type='error'><error type='wait'><recipient-unavailable "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>Temporarily Unavailable"
                    "</text></error></message>"));
}

} // namespace
} // namespace stox::plugins::im
