// SPDX-License-Identifier: Apache-2.0
#include "xmpp/stanza_parser.hpp"

#include <chrono>
#include <iostream>
#include <string>

#include <gtest/gtest.h>

#include "stox/sdk/xmpp.hpp"
#include "xmpp/stream_framer.hpp"
#include "xmpp/stream_header.hpp"

namespace stox::core::xmpp {
namespace {

using sdk::XmlElement;

constexpr std::string_view kXhtmlIm = "http://jabber.org/protocol/xhtml-im";
constexpr std::string_view kXhtml = "http://www.w3.org/1999/xhtml";

// Like main(), the test process holds Xerces initialized for its whole life.
const XercesGuard kXerces;

class StanzaParserTest : public ::testing::Test {
protected:
    XmlElement ok(std::string_view text) {
        ParseResult r = parser_.parse(text);
        EXPECT_TRUE(r.ok()) << r.condition << ": " << r.detail
                            << "\n  input: " << text.substr(0, 300);
        return r.stanza;
    }
    std::string_view refused(std::string_view text) {
        ParseResult r = parser_.parse(text);
        EXPECT_FALSE(r.ok()) << "accepted: " << text.substr(0, 300);
        EXPECT_FALSE(r.detail.empty());
        return r.condition;
    }
    StanzaParser parser_;
};

TEST_F(StanzaParserTest, MessageWithBody) {
    XmlElement m = ok("<message to='juliet@example.com' from='romeo@sip.example.net' "
                      "type='chat' id='m1'><body>hi</body></message>");
    EXPECT_EQ(m.name(), "message");
    EXPECT_EQ(m.ns(), sdk::kComponentNs); // inherited from the stream (XEP-0114)
    ASSERT_EQ(m.attributes().size(), 4U);
    EXPECT_EQ(m.attributes()[0].first, "to");
    EXPECT_EQ(m.attributes()[3], (std::pair<std::string, std::string>{"id", "m1"}));
    const XmlElement* body = m.child("body", sdk::kComponentNs);
    ASSERT_NE(body, nullptr);
    EXPECT_EQ(body->text(), "hi");
}

TEST_F(StanzaParserTest, ChildNamespacesResolve) {
    XmlElement iq = ok("<iq type='get' id='v'><query xmlns='jabber:iq:version'><name>x</name>"
                       "</query><q:ping xmlns:q='urn:xmpp:ping'/><e xmlns=''/></iq>");
    ASSERT_EQ(iq.children().size(), 3U);
    EXPECT_EQ(iq.children()[0].ns(), "jabber:iq:version");
    EXPECT_EQ(iq.children()[0].children()[0].ns(), "jabber:iq:version"); // default ns inherited
    EXPECT_EQ(iq.children()[1].name(), "ping");                          // local name
    EXPECT_EQ(iq.children()[1].ns(), "urn:xmpp:ping");
    EXPECT_EQ(iq.children()[1].attr("xmlns:q"), "urn:xmpp:ping"); // prefix declarations kept
    EXPECT_EQ(iq.children()[2].ns(), "");                         // xmlns='' undeclares
    EXPECT_FALSE(iq.children()[0].has_attr("xmlns")); // carried by ns(), not an attribute
}

// The stream header's prefixes are in scope for stanzas (RFC 6120 §4.8.5).
TEST_F(StanzaParserTest, StreamPrefixFromDefaultHeader) {
    XmlElement e = ok("<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
                      "</stream:error>");
    EXPECT_EQ(e.name(), "error");
    EXPECT_EQ(e.ns(), kStreamsNs);
    ASSERT_EQ(e.children().size(), 1U);
    EXPECT_EQ(e.children()[0].name(), "conflict");
    EXPECT_EQ(e.children()[0].ns(), kStreamErrorNs);
}

TEST_F(StanzaParserTest, PrefixesDeclaredOnTheServersHeader) {
    auto header = parse_stream_header(
        "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:server' "
        "xmlns:db='jabber:server:dialback' id='x'>");
    ASSERT_TRUE(header.ok());
    parser_.set_stream_namespaces(header->namespaces());
    XmlElement r = ok("<db:result to='a' from='b'>key</db:result>");
    EXPECT_EQ(r.name(), "result");
    EXPECT_EQ(r.ns(), "jabber:server:dialback");
    XmlElement m = ok("<message/>");
    EXPECT_EQ(m.ns(), "jabber:server");
    EXPECT_EQ(refused("<foo:bar/>"), kNotWellFormed); // undeclared prefix
}

TEST_F(StanzaParserTest, XmlLangAttributeKeepsItsName) {
    XmlElement m = ok("<message xml:lang='en'><body xml:lang='fr'>salut</body></message>");
    EXPECT_EQ(m.attr("xml:lang"), "en");
    EXPECT_EQ(m.child("body")->attr("xml:lang"), "fr");
}

// XEP-0071 XHTML-IM needs mixed content in document order.
TEST_F(StanzaParserTest, MixedContentKeepsOrder) {
    XmlElement m = ok("<message><html xmlns='http://jabber.org/protocol/xhtml-im'><body "
                      "xmlns='http://www.w3.org/1999/xhtml'><p>one <b>two</b> three<br/>four</p>"
                      "</body></html></message>");
    const XmlElement* html = m.child("html", kXhtmlIm);
    ASSERT_NE(html, nullptr);
    const XmlElement* body = html->child("body", kXhtml);
    ASSERT_NE(body, nullptr);
    const XmlElement& p = body->children().at(0);
    ASSERT_EQ(p.children().size(), 5U);
    EXPECT_TRUE(p.children()[0].is_text());
    EXPECT_EQ(p.children()[0].text(), "one ");
    EXPECT_EQ(p.children()[1].name(), "b");
    EXPECT_EQ(p.children()[1].ns(), kXhtml);
    EXPECT_EQ(p.children()[1].text(), "two");
    EXPECT_EQ(p.children()[2].text(), " three");
    EXPECT_EQ(p.children()[3].name(), "br");
    EXPECT_EQ(p.children()[4].text(), "four");
    EXPECT_EQ(p.text(), "one  threefour");
}

TEST_F(StanzaParserTest, EntitiesAndCharacterReferencesAreDecoded) {
    XmlElement m = ok("<message id='a&amp;b&apos;&quot;&lt;&gt;&#x263A;'><body>x &amp; y &lt; z "
                      "&#x263A;&#9786; &gt;</body></message>");
    EXPECT_EQ(m.attr("id"), "a&b'\"<>\xE2\x98\xBA");
    const XmlElement* body = m.child("body");
    ASSERT_NE(body, nullptr);
    // Xerces reports the text around each reference separately; it is one text node here.
    ASSERT_EQ(body->children().size(), 1U);
    EXPECT_EQ(body->text(), "x & y < z \xE2\x98\xBA\xE2\x98\xBA >");
}

TEST_F(StanzaParserTest, Utf8OutsideTheBmpAndCdata) {
    XmlElement m = ok("<message><body>\xF0\x9F\x98\x80<![CDATA[<b>&amp;</b>]]>\xC3\xA9</body>"
                      "</message>");
    EXPECT_EQ(m.child("body")->text(), "\xF0\x9F\x98\x80<b>&amp;</b>\xC3\xA9");
}

// Xerces counts predefined entity references as expansions (SecurityManager); a stanza full of
// &amp; must still parse.
TEST_F(StanzaParserTest, LongTextArrivingInPiecesIsAccumulated) {
    std::string text;
    for (int i = 0; i < 5000; ++i) text += "abc&amp;\xE2\x98\xBA";
    XmlElement m = ok("<message><body>" + text + "</body></message>");
    std::string want;
    for (int i = 0; i < 5000; ++i) want += "abc&\xE2\x98\xBA";
    ASSERT_EQ(m.child("body")->children().size(), 1U);
    EXPECT_EQ(m.child("body")->text(), want);
}

// RFC 6120 §11.1: no DTD (billion laughs), no comments, no processing instructions.
TEST_F(StanzaParserTest, BillionLaughsIsRefused) {
    const std::string lol =
        "<!DOCTYPE lolz [<!ENTITY lol 'lol'><!ENTITY lol2 '&lol;&lol;&lol;&lol;&lol;&lol;'>"
        "<!ENTITY lol3 '&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'>]><message><body>&lol3;</body>"
        "</message>";
    auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(parser_.parse(lol).ok());
    EXPECT_EQ(refused("<message><!DOCTYPE x [<!ENTITY a 'b'>]><body>&a;</body></message>"),
              kNotWellFormed);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(StanzaParserTest, UndeclaredEntityIsRefused) {
    EXPECT_FALSE(parser_.parse("<message><body>&lol;</body></message>").ok());
}

TEST_F(StanzaParserTest, ProcessingInstructionIsRestrictedXml) {
    EXPECT_EQ(refused("<message><?php system('x'); ?></message>"), kRestrictedXml);
}

TEST_F(StanzaParserTest, CommentIsRestrictedXml) {
    EXPECT_EQ(refused("<message><body>a<!-- hidden -->b</body></message>"), kRestrictedXml);
}

TEST_F(StanzaParserTest, MalformedInputIsNotWellFormed) {
    const std::vector<std::string> bad = {
        "",
        "text",
        "<message>",
        "<message></presence>",
        "<message><body></message></body>",
        "<message to=juliet/>",
        "<message to='a<b'/>",
        "<message to='a' to='b'/>",
        "<message/><presence/>",
        "<message/>trailing",
        "<message>&#0;</message>",
        "<message>\xFF\xFE</message>",
        "<message>\xC3</message>",
        std::string("<message>\0</message>", 20),
        "<message xmlns:x='' x:y='1'/>",
        "</message>",
    };
    for (const auto& b : bad) EXPECT_EQ(refused(b), kNotWellFormed) << b;
}

TEST_F(StanzaParserTest, ParserIsReusableAfterAnError) {
    for (int i = 0; i < 3; ++i) {
        EXPECT_FALSE(parser_.parse("<message><!-- x --></message>").ok());
        EXPECT_FALSE(parser_.parse("<message>").ok());
        XmlElement m = ok("<presence type='unavailable'/>");
        EXPECT_EQ(m.attr("type"), "unavailable");
    }
}

XmlElement sample_tree() {
    XmlElement m("message", std::string(sdk::kComponentNs));
    m.set_attr("to", "juliet@example.com/balcony");
    m.set_attr("from", "romeo@sip.example.net");
    m.set_attr("id", "quotes ' \" & < > here");
    m.set_attr("xml:lang", "en");
    m.add_child("body").add_text("Wherefore art thou, Romeo? & <3 \xE2\x98\xBA");
    XmlElement& html = m.add_child("html", std::string(kXhtmlIm));
    XmlElement& p = html.add_child("body", std::string(kXhtml)).add_child("p");
    p.add_text("a ");
    p.add_child("b").add_text("b");
    p.add_text(" c");
    XmlElement& x = m.add_child("x", "urn:example:x");
    x.set_attr("xmlns:e", "urn:example:e");
    x.set_attr("e:flag", "1");
    x.children().push_back(XmlElement("none", "")); // no namespace: serialized as xmlns=''
    m.add_child("request", "urn:xmpp:receipts");
    return m;
}

// parse(to_string(x)) == x: what the link sends is what a peer (and we) would read back.
TEST_F(StanzaParserTest, RoundTripOfBuiltTree) {
    XmlElement m = sample_tree();
    ASSERT_EQ(m.child("x")->children()[0].ns(), "");
    std::string wire = m.to_string(sdk::kComponentNs);
    EXPECT_EQ(ok(wire), m) << wire;
}

TEST_F(StanzaParserTest, RoundTripOfParsedStanzas) {
    const std::vector<std::string> inputs = {
        "<presence/>",
        "<iq type='result' id='1'><query xmlns='jabber:iq:roster'><item jid='a@b' "
        "subscription='both'><group>G &amp; H</group></item></query></iq>",
        "<message type='error'><error type='cancel'><item-not-found "
        "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>",
        "<message><body xml:lang='de'>\xC3\xBC</body><x:y xmlns:x='urn:x' x:z='1'/></message>",
    };
    for (const auto& in : inputs) {
        XmlElement first = ok(in);
        XmlElement second = ok(first.to_string(sdk::kComponentNs));
        EXPECT_EQ(second, first) << in;
    }
}

// What the framer cuts, the parser accepts: the two agree on a realistic stream.
TEST_F(StanzaParserTest, ParsesWhatTheFramerCuts) {
    StreamFramer f(1 << 16);
    f.feed("<stream:stream xmlns='jabber:component:accept' "
           "xmlns:stream='http://etherx.jabber.org/streams' id='1'>"
           "<message to='a@b'><body>1</body></message> <presence/>\n"
           "<iq id='x&gt;' type='get'><ping xmlns='urn:xmpp:ping'/></iq>");
    Frame h = f.next();
    ASSERT_EQ(h.kind, FrameKind::StreamHeader);
    auto header = parse_stream_header(h.text);
    ASSERT_TRUE(header.ok());
    parser_.set_stream_namespaces(header->namespaces());
    std::vector<std::string> names;
    for (Frame fr = f.next(); fr.kind == FrameKind::Stanza; fr = f.next())
        names.push_back(ok(fr.text).name());
    EXPECT_EQ(names, (std::vector<std::string>{"message", "presence", "iq"}));
}

TEST(XercesGuard, NestedGuardsAndParsersOutsideTheProcessGuard) {
    // Guards are reference counted: several at once, in any order, are fine.
    auto a = std::make_unique<XercesGuard>();
    auto b = std::make_unique<XercesGuard>();
    a.reset();
    StanzaParser p;
    EXPECT_TRUE(p.parse("<presence/>").ok());
    b.reset();
    EXPECT_TRUE(p.parse("<presence/>").ok()); // the parser holds its own guard
}

// Cost per stanza, for the decision record; no timing assertion.
TEST_F(StanzaParserTest, CountsManyParses) {
    const std::string stanza = "<message to='juliet@example.com' from='romeo@sip.example.net/x' "
                               "type='chat' id='abc123'><body>Wherefore art thou?</body></message>";
    constexpr int kCount = 20000;
    int parsed = 0;
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kCount; ++i) parsed += parser_.parse(stanza).ok() ? 1 : 0;
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                  std::chrono::steady_clock::now() - start)
                  .count();
    EXPECT_EQ(parsed, kCount);
    std::cout << "[ parser  ] " << stanza.size()
              << "-byte stanzas: " << static_cast<double>(ns) / kCount / 1000.0 << " us/stanza\n";
}

} // namespace
} // namespace stox::core::xmpp
