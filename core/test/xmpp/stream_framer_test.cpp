// SPDX-License-Identifier: Apache-2.0
#include "xmpp/stream_framer.hpp"

#include <chrono>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace stox::core::xmpp {
namespace {

struct Event {
    FrameKind kind;
    std::string text;
    friend bool operator==(const Event&, const Event&) = default;
};

std::ostream& operator<<(std::ostream& os, const Event& e) {
    return os << static_cast<int>(e.kind) << ":" << e.text;
}

// Drains every frame available now. Stops after an Error.
void drain(StreamFramer& f, std::vector<Event>& out) {
    for (;;) {
        Frame fr = f.next();
        if (fr.kind == FrameKind::NeedMore) return;
        out.push_back({fr.kind, std::string(fr.text)});
        if (fr.kind == FrameKind::Error) return;
    }
}

std::vector<Event> frame_all(std::string_view input, std::size_t max = 1 << 20) {
    StreamFramer f(max);
    std::vector<Event> out;
    f.feed(input);
    drain(f, out);
    return out;
}

// Feeds `input` in pieces cut at the given offsets (ascending).
std::vector<Event> frame_split(std::string_view input, const std::vector<std::size_t>& cuts,
                               std::size_t max = 1 << 20) {
    StreamFramer f(max);
    std::vector<Event> out;
    std::size_t from = 0;
    for (std::size_t cut : cuts) {
        f.feed(input.substr(from, cut - from));
        drain(f, out);
        from = cut;
    }
    f.feed(input.substr(from));
    drain(f, out);
    return out;
}

const std::string kHeader = "<stream:stream xmlns='jabber:component:accept' "
                            "xmlns:stream='http://etherx.jabber.org/streams' "
                            "from='sip.example.net' id='3BF96D32'>";

// Fits small stanza limits (the header counts against the limit too).
const std::string kShortHeader = "<stream:stream>";

// Everything the framer must get right in one stream: XML declaration, whitespace keepalives,
// '>' and '/' inside both kinds of quotes, UTF-8 (2-, 3- and 4-byte sequences), CDATA holding
// markup and ']]' runs, self-closing stanzas, nested elements with the stanza's own name, a
// prefixed stream error, and the stream end.
const std::vector<std::string> kStanzas = {
    "<message to='a@b' from=\"c@d/x>y\" id='1' type='chat'><body>h\xC3\xA9llo \xE2\x98\xBA "
    "\xF0\x9F\x98\x80 &amp; &#x263A;</body></message>",
    "<presence/>",
    "<presence to='x@y' type='unavailable' />",
    "<iq type='get' id='a/b>c' to='d'><query xmlns='jabber:iq:version'/></iq>",
    "<message><body><![CDATA[<not-a-tag> ]] ]]] > </message>]]]></body></message>",
    "<message><message><message/></message><x><message>t</message></x></message>",
    "<message xml:lang='en'><html xmlns='http://jabber.org/protocol/xhtml-im'><body "
    "xmlns='http://www.w3.org/1999/xhtml'><p>a <b>b</b> c</p></body></html></message>",
    "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
};

std::string multi_stanza_stream() {
    std::string s = "<?xml version='1.0' encoding='UTF-8'?>\n" + kHeader;
    for (const auto& st : kStanzas) s += " \n\t" + st;
    s += "   </stream:stream  >";
    return s;
}

std::vector<Event> expected_events() {
    std::vector<Event> ev{{FrameKind::StreamHeader, kHeader}};
    for (const auto& st : kStanzas) ev.push_back({FrameKind::Stanza, st});
    ev.push_back({FrameKind::StreamEnd, ""});
    return ev;
}

TEST(StreamFramer, FramesHeaderStanzasAndEndInOneRead) {
    EXPECT_EQ(frame_all(multi_stanza_stream()), expected_events());
}

// A read may end at any byte: inside a tag name, a quoted value, a UTF-8 sequence, "]]>", ...
TEST(StreamFramer, SameFramesWhenSplitAtEveryBytePosition) {
    const std::string s = multi_stanza_stream();
    const auto want = expected_events();
    for (std::size_t cut = 0; cut <= s.size(); ++cut)
        ASSERT_EQ(frame_split(s, {cut}), want) << "split at byte " << cut;
}

TEST(StreamFramer, SameFramesWhenSplitIntoTwoPiecesAtEveryPairOfPositions) {
    const std::string s =
        "<stream:stream a='>'><m a=\"/>\"><![CDATA[]]]]>x</m><p/></stream:stream>";
    const std::vector<Event> want = {{FrameKind::StreamHeader, "<stream:stream a='>'>"},
                                     {FrameKind::Stanza, "<m a=\"/>\"><![CDATA[]]]]>x</m>"},
                                     {FrameKind::Stanza, "<p/>"},
                                     {FrameKind::StreamEnd, ""}};
    for (std::size_t a = 0; a <= s.size(); ++a)
        for (std::size_t b = a; b <= s.size(); ++b)
            ASSERT_EQ(frame_split(s, {a, b}), want) << "cuts at " << a << "," << b;
}

TEST(StreamFramer, SameFramesWhenFedOneByteAtATime) {
    const std::string s = multi_stanza_stream();
    std::vector<std::size_t> cuts;
    for (std::size_t i = 1; i < s.size(); ++i) cuts.push_back(i);
    EXPECT_EQ(frame_split(s, cuts), expected_events());
}

TEST(StreamFramer, ZeroCopyPrepareCommitPath) {
    const std::string s = multi_stanza_stream();
    StreamFramer f(1 << 20);
    std::vector<Event> out;
    for (std::size_t at = 0; at < s.size(); at += 7) {
        std::size_t n = std::min<std::size_t>(7, s.size() - at);
        std::span<char> dst = f.prepare(64); // more room than the read fills
        std::memcpy(dst.data(), s.data() + at, n);
        f.commit(n);
        drain(f, out);
    }
    EXPECT_EQ(out, expected_events());
    EXPECT_EQ(f.pending_bytes(), 0U);
}

TEST(StreamFramer, HeaderWithoutXmlDeclarationAndDoubleQuotes) {
    auto ev = frame_all("<stream:stream xmlns=\"jabber:component:accept\" id=\"a>b\"><iq/>");
    ASSERT_EQ(ev.size(), 2U);
    EXPECT_EQ(ev[0].text, "<stream:stream xmlns=\"jabber:component:accept\" id=\"a>b\">");
    EXPECT_EQ(ev[1], (Event{FrameKind::Stanza, "<iq/>"}));
}

TEST(StreamFramer, NoFrameUntilStanzaIsComplete) {
    StreamFramer f(1024);
    f.feed(kHeader + "<message><body>partial");
    EXPECT_EQ(f.next().kind, FrameKind::StreamHeader);
    EXPECT_EQ(f.next().kind, FrameKind::NeedMore);
    f.feed("</body>");
    EXPECT_EQ(f.next().kind, FrameKind::NeedMore);
    f.feed("</message>");
    Frame fr = f.next();
    EXPECT_EQ(fr.kind, FrameKind::Stanza);
    EXPECT_EQ(fr.text, "<message><body>partial</body></message>");
}

// RFC 6120 §4.4: a self-closed stream element opens and closes the stream at once.
TEST(StreamFramer, SelfClosedHeaderIsHeaderThenEnd) {
    auto ev = frame_all("<stream:stream xmlns:stream='http://etherx.jabber.org/streams'/>");
    ASSERT_EQ(ev.size(), 2U);
    EXPECT_EQ(ev[0].kind, FrameKind::StreamHeader);
    EXPECT_EQ(ev[1].kind, FrameKind::StreamEnd);
}

TEST(StreamFramer, BytesAfterStreamEndAreIgnored) {
    StreamFramer f(64);
    f.feed("<stream:stream></stream:stream>");
    EXPECT_EQ(f.next().kind, FrameKind::StreamHeader);
    EXPECT_EQ(f.next().kind, FrameKind::StreamEnd);
    f.feed("<message/>garbage that would otherwise be far too large for the limit..........");
    EXPECT_EQ(f.next().kind, FrameKind::NeedMore);
    EXPECT_EQ(f.pending_bytes(), 0U);
}

TEST(StreamFramer, StreamEndWithOtherPrefix) {
    auto ev = frame_all("<s:stream xmlns:s='http://etherx.jabber.org/streams'><a/></s:stream>");
    ASSERT_EQ(ev.size(), 3U);
    EXPECT_EQ(ev[2].kind, FrameKind::StreamEnd);
}

TEST(StreamFramer, WrongEndTagAtStreamLevelIsNotWellFormed) {
    StreamFramer f(1024);
    f.feed(kHeader + "<a/></stream:streamx>");
    EXPECT_EQ(f.next().kind, FrameKind::StreamHeader);
    EXPECT_EQ(f.next().kind, FrameKind::Stanza);
    EXPECT_EQ(f.next().kind, FrameKind::Error);
    EXPECT_EQ(f.error_condition(), kNotWellFormed);
}

// RFC 6120 §4.9.3.12 policy-violation: a stanza larger than the limit, complete or not.
TEST(StreamFramer, StanzaSizeLimit) {
    const std::string ok = "<message><body>" + std::string(100 - 32, 'x') + "</body></message>";
    ASSERT_EQ(ok.size(), 100U);
    {
        auto ev = frame_all(kShortHeader + ok, 100);
        ASSERT_EQ(ev.size(), 2U);
        EXPECT_EQ(ev[1], (Event{FrameKind::Stanza, ok}));
    }
    {
        StreamFramer f(99);
        f.feed(kShortHeader + ok);
        EXPECT_EQ(f.next().kind, FrameKind::StreamHeader);
        EXPECT_EQ(f.next().kind, FrameKind::Error);
        EXPECT_EQ(f.error_condition(), kPolicyViolation);
    }
}

TEST(StreamFramer, UnfinishedStanzaOverLimitFailsBeforeItEnds) {
    StreamFramer f(200);
    f.feed(kHeader + "<message><body>");
    EXPECT_EQ(f.next().kind, FrameKind::StreamHeader);
    EXPECT_EQ(f.next().kind, FrameKind::NeedMore);
    for (int i = 0; i < 20; ++i) {
        f.feed(std::string(10, 'y'));
        Frame fr = f.next();
        if (fr.kind == FrameKind::Error) {
            EXPECT_EQ(f.error_condition(), kPolicyViolation);
            EXPECT_LE(f.pending_bytes(), 210U);
            return;
        }
        ASSERT_EQ(fr.kind, FrameKind::NeedMore);
    }
    ADD_FAILURE() << "limit never enforced";
}

TEST(StreamFramer, LimitAppliesPerStanzaNotPerStream) {
    std::string s = kShortHeader;
    for (int i = 0; i < 1000; ++i) s += "<presence to='a@b'/>";
    auto ev = frame_all(s, 32);
    EXPECT_EQ(ev.size(), 1001U);
    EXPECT_EQ(ev.back().kind, FrameKind::Stanza);
}

TEST(StreamFramer, OversizedHeaderIsPolicyViolation) {
    StreamFramer f(64);
    f.feed("<stream:stream id='" + std::string(100, 'a') + "'>");
    EXPECT_EQ(f.next().kind, FrameKind::Error);
    EXPECT_EQ(f.error_condition(), kPolicyViolation);
}

TEST(StreamFramer, WhitespaceKeepalivesAreNotBuffered) {
    StreamFramer f(16);
    f.feed(kShortHeader);
    EXPECT_EQ(f.next().kind, FrameKind::StreamHeader);
    for (int i = 0; i < 100; ++i) {
        f.feed("  \n ");
        EXPECT_EQ(f.next().kind, FrameKind::NeedMore);
    }
    EXPECT_EQ(f.pending_bytes(), 0U);
}

struct RestrictedCase {
    const char* name;
    std::string input;
    std::string_view condition;
};

// RFC 6120 §11.1: comments, processing instructions and DTDs are refused with restricted-xml.
TEST(StreamFramer, RestrictedXmlIsRefused) {
    const std::vector<RestrictedCase> cases = {
        {"doctype before header", "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]>" + kHeader,
         kRestrictedXml},
        {"comment before header", "<!-- hi -->" + kHeader, kRestrictedXml},
        {"PI before header", "<?php echo 1 ?>" + kHeader, kRestrictedXml},
        {"XML declaration after whitespace", " <?xml version='1.0'?>" + kHeader, kRestrictedXml},
        {"second XML declaration", "<?xml version='1.0'?><?xml version='1.0'?>" + kHeader,
         kRestrictedXml},
        {"PI between stanzas", kHeader + "<a/><?xml version='1.0'?>", kRestrictedXml},
        {"PI inside stanza", kHeader + "<message><?pi x?></message>", kRestrictedXml},
        {"comment between stanzas", kHeader + "<!-- c -->", kRestrictedXml},
        {"comment inside stanza", kHeader + "<message><!-- c --></message>", kRestrictedXml},
        {"DTD inside stanza", kHeader + "<message><!ENTITY x 'y'></message>", kRestrictedXml},
        {"non-UTF-8 encoding", "<?xml version='1.0' encoding='ISO-8859-1'?>" + kHeader,
         kUnsupportedEncoding},
        {"text before header", "hello" + kHeader, kNotWellFormed},
        {"BOM is a character", "\xEF\xBB\xBF" + kHeader, kNotWellFormed},
        {"end tag before header", "</stream:stream>", kNotWellFormed},
        {"text between stanzas", kHeader + "<a/>text<b/>", kBadFormat},
        {"CDATA between stanzas", kHeader + "<![CDATA[x]]>", kBadFormat},
        {"'<' then space", kHeader + "< message/>", kNotWellFormed},
        {"'<' inside a tag", kHeader + "<message <body/>", kNotWellFormed},
        {"bad CDATA opener", kHeader + "<m><![CDATX[x]]></m>", kNotWellFormed},
    };
    for (const auto& c : cases) {
        auto ev = frame_all(c.input);
        ASSERT_FALSE(ev.empty()) << c.name;
        EXPECT_EQ(ev.back().kind, FrameKind::Error) << c.name;
        StreamFramer f(1 << 20);
        f.feed(c.input);
        std::vector<Event> ignored;
        drain(f, ignored);
        EXPECT_EQ(f.error_condition(), c.condition) << c.name;
        EXPECT_FALSE(f.error_detail().empty()) << c.name;
    }
}

TEST(StreamFramer, ErrorIsStickyUntilReset) {
    StreamFramer f(1024);
    f.feed("<!--");
    EXPECT_EQ(f.next().kind, FrameKind::Error);
    f.feed(kHeader);
    EXPECT_EQ(f.next().kind, FrameKind::Error);
    f.reset();
    EXPECT_TRUE(f.error_condition().empty());
    f.feed(kHeader + "<a/>");
    EXPECT_EQ(f.next().kind, FrameKind::StreamHeader);
    EXPECT_EQ(f.next().kind, FrameKind::Stanza);
}

TEST(StreamFramer, XmlDeclarationWithUtf8EncodingAnyCase) {
    auto ev = frame_all("<?xml version=\"1.0\" encoding=\"utf-8\" ?>" + kHeader);
    ASSERT_EQ(ev.size(), 1U);
    EXPECT_EQ(ev[0].kind, FrameKind::StreamHeader);
}

// Throughput sanity check: frames 100k stanzas of ~130 bytes in random-sized reads and counts
// them. No timing assertion (shared CI machine); the figure is printed for the decision record.
TEST(StreamFramer, CountsManyStanzasAcrossRandomReads) {
    const std::string stanza = "<message to='juliet@example.com' from='romeo@sip.example.net/x' "
                               "type='chat' id='abc123'><body>Wherefore art thou?</body></message>";
    std::string stream = kHeader;
    constexpr int kCount = 100000;
    for (int i = 0; i < kCount; ++i) stream += stanza;
    StreamFramer f(4096);
    std::size_t stanzas = 0;
    std::size_t bytes = 0;
    std::uint32_t seed = 12345;
    auto start = std::chrono::steady_clock::now();
    for (std::size_t at = 0; at < stream.size();) {
        seed = seed * 1664525U + 1013904223U;
        std::size_t n = std::min<std::size_t>(1 + (seed >> 16) % 4096, stream.size() - at);
        std::span<char> dst = f.prepare(n);
        std::memcpy(dst.data(), stream.data() + at, n);
        f.commit(n);
        at += n;
        for (Frame fr = f.next(); fr.kind != FrameKind::NeedMore; fr = f.next()) {
            ASSERT_NE(fr.kind, FrameKind::Error) << f.error_detail();
            if (fr.kind == FrameKind::Stanza) {
                ++stanzas;
                bytes += fr.text.size();
            }
        }
    }
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                  std::chrono::steady_clock::now() - start)
                  .count();
    EXPECT_EQ(stanzas, static_cast<std::size_t>(kCount));
    EXPECT_EQ(bytes, stanza.size() * kCount);
    std::cout << "[ framer  ] " << stanza.size()
              << "-byte stanzas: " << static_cast<double>(ns) / kCount << " ns/stanza\n";
}

} // namespace
} // namespace stox::core::xmpp
