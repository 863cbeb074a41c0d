// SPDX-License-Identifier: Apache-2.0
// RFC 8048 §6.2/§6.3 notification syntax (stox-core.md §2.4 Tables P1/P2, §2.5, A-19..A-27).
// The NOTIFY/SUBSCRIBE headers of the vectors belong to the plugin, not the codec; the bodies
// and stanzas here are written from the tables, not copied from the RFC examples (§2.7, A-18).
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "pidf_codec.hpp"
#include "stox/sdk/xmpp.hpp"

namespace stox::plugins::presence {
namespace {

using sdk::ErrorCode;
using sdk::XmlElement;

std::string str(const XmlElement& st) {
    return st.to_string(sdk::kComponentNs);
}

std::vector<XmlElement> s2x(std::string_view body, PidfToXmppParams p = {}) {
    if (p.from_bare.empty()) p.from_bare = "romeo@example.net";
    if (p.to.empty()) p.to = "juliet@example.com";
    auto doc = parse_pidf(body);
    EXPECT_TRUE(doc.ok()) << doc.status().message();
    return doc.ok() ? pidf_to_xmpp(doc.value(), p) : std::vector<XmlElement>{};
}

std::string tuple_body(std::string_view inner, std::string_view extra_ns = {}) {
    return "<presence xmlns='urn:ietf:params:xml:ns:pidf' " + std::string(extra_ns) +
           " entity='pres:romeo@example.net'>" + std::string(inner) + "</presence>";
}

XmlElement presence(std::string from, std::string type = {}) {
    XmlElement st = sdk::make_stanza("presence");
    st.set_attr("from", std::move(from));
    st.set_attr("to", "romeo@example.net");
    if (!type.empty()) st.set_attr("type", std::move(type));
    return st;
}

XmppToPidfParams juliet() {
    return XmppToPidfParams{"pres:juliet@example.com", "sip:juliet@example.com", "", ""};
}

// ====================================== Table P2 ==========================================

// TV-PRES-03: open + jabber:client show (PRES-NOT-13, PRES-NOT-14); the resource comes from the
// NOTIFY Contact gr (single tuple) and agrees with the tuple id.
TEST(PidfToXmpp, TvPres03OpenWithShow) {
    PidfToXmppParams p;
    p.notify_contact = "<sip:romeo@example.net;gr=dr4hcr0st3lup4c>";
    const auto out = s2x(tuple_body("<tuple id='ID-dr4hcr0st3lup4c'><status><basic>open</basic>"
                                    "<show xmlns='jabber:client'>away</show></status></tuple>"),
                         p);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(str(out[0]), "<presence from='romeo@example.net/dr4hcr0st3lup4c' "
                           "to='juliet@example.com'><show>away</show></presence>");
    EXPECT_EQ(out[0].ns(), sdk::kComponentNs);
}

// TV-PRES-05 (PRES-NOT-13 MUST, A-21 full JID): closed -> type='unavailable'.
TEST(PidfToXmpp, TvPres05Closed) {
    const auto out = s2x(tuple_body(
        "<tuple id='ID-dr4hcr0st3lup4c'><status><basic>closed</basic></status></tuple>"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(str(out[0]), "<presence from='romeo@example.net/dr4hcr0st3lup4c' "
                           "to='juliet@example.com' type='unavailable'/>");
}

// TV-PRES-11: a probe answer mirrors the probe id and goes to the prober's full JID (A-20).
TEST(PidfToXmpp, TvPres11ProbeAnswer) {
    PidfToXmppParams p;
    p.to = "juliet@example.com/chamber";
    p.id = "probe1";
    const auto out = s2x(
        tuple_body("<tuple id='ID-dr4hcr0st3lup4c'><status><basic>open</basic></status></tuple>"),
        p);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(str(out[0]), "<presence from='romeo@example.net/dr4hcr0st3lup4c' "
                           "to='juliet@example.com/chamber' id='probe1'/>");
}

// TV-PRES-25: several tuples -> several stanzas; the contact gr names the resource, else the
// tuple id.
TEST(PidfToXmpp, TvPres25SeveralTuples) {
    const auto out =
        s2x(tuple_body("<tuple id='ID-a'><status><basic>open</basic></status>"
                       "<contact>sip:romeo@example.net;gr=a</contact></tuple>"
                       "<tuple id='ID-b'><status><basic>closed</basic></status></tuple>"));
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(str(out[0]), "<presence from='romeo@example.net/a' to='juliet@example.com'/>");
    EXPECT_EQ(str(out[1]),
              "<presence from='romeo@example.net/b' to='juliet@example.com' type='unavailable'/>");
}

// TV-PRES-26: one <status/> per note, each with its xml:lang.
TEST(PidfToXmpp, TvPres26SeveralNotes) {
    const auto out = s2x(tuple_body("<tuple id='ID-x'><status><basic>open</basic></status>"
                                    "<note xml:lang='en'>Gone fishing</note>"
                                    "<note xml:lang='fr'>Parti pêcher</note></tuple>"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(str(out[0]), "<presence from='romeo@example.net/x' to='juliet@example.com'>"
                           "<status xml:lang='en'>Gone fishing</status>"
                           "<status xml:lang='fr'>Parti pêcher</status></presence>");
}

// TV-PRES-27 (§2.5): contact priority 0.8 -> <priority>102</priority>.
TEST(PidfToXmpp, TvPres27Priority) {
    const auto out = s2x(tuple_body("<tuple id='t1'><status><basic>open</basic></status>"
                                    "<contact priority='0.8'>sip:romeo@example.net;gr=x</contact>"
                                    "</tuple>"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(str(out[0]), "<presence from='romeo@example.net/x' to='juliet@example.com'>"
                           "<priority>102</priority></presence>");
}

// TV-PRES-15 (right column): 1.5 is out of range and gives no <priority/>.
TEST(PidfToXmpp, TvPres15OutOfRangePriorityDropped) {
    const auto out = s2x(tuple_body("<tuple id='ID-x'><status><basic>open</basic></status>"
                                    "<contact priority='1.5'>sip:romeo@example.net</contact>"
                                    "</tuple>"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].child("priority"), nullptr);
}

// TV-PRES-28 (A-26): RPID on-the-phone without a jabber:client show -> dnd.
TEST(PidfToXmpp, TvPres28RpidActivity) {
    const auto out = s2x(tuple_body(
        "<tuple id='ID-x'><status><basic>open</basic></status>"
        "<rpid:activities xmlns:rpid='urn:ietf:params:xml:ns:pidf:rpid'><rpid:on-the-phone/>"
        "</rpid:activities></tuple>"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(str(out[0]),
              "<presence from='romeo@example.net/x' to='juliet@example.com'><show>dnd</show>"
              "</presence>");
}

// Table P2 RPID row (A-26), every listed activity, plus user-input idle.
TEST(PidfToXmpp, RpidTable) {
    for (const char* a : {"busy", "meeting", "on-the-phone", "performance", "presentation"})
        EXPECT_EQ(show_from_rpid({a}, ""), "dnd") << a;
    for (const char* a : {"away", "lunch", "meal", "steering", "travel", "sleeping", "vacation"})
        EXPECT_EQ(show_from_rpid({a}, ""), "away") << a;
    EXPECT_EQ(show_from_rpid({}, "idle"), "away");
    EXPECT_EQ(show_from_rpid({}, "active"), "");
    for (const char* a : {"unknown", "other", "holiday", "shopping", "working", "appointment"})
        EXPECT_EQ(show_from_rpid({a}, ""), "") << a;
    EXPECT_EQ(show_from_rpid({"travel", "meeting"}, "idle"), "dnd");
}

// RPID from a typical phone body: person activities apply to the tuple; the contact gr (a
// urn:uuid instance) is the resource; person notes stand in for missing tuple notes.
TEST(PidfToXmpp, RpidFromTypicalPhoneBody) {
    const auto out = s2x(R"(<?xml version="1.0" encoding="UTF-8"?>
<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model"
    xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="sip:romeo@example.net">
  <tuple id="t54bb0569"><status><basic>open</basic></status>
    <contact priority="0.5">sip:romeo@example.net;gr=urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6</contact>
  </tuple>
  <dm:person id="p1"><rpid:activities><rpid:vacation/></rpid:activities>
    <dm:note xml:lang="en">Back on Monday</dm:note></dm:person>
  <dm:device id="d1"><rpid:user-input>idle</rpid:user-input></dm:device>
</presence>)");
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(str(out[0]),
              "<presence from='romeo@example.net/urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6' "
              "to='juliet@example.com'><show>away</show><status xml:lang='en'>Back on Monday"
              "</status><priority>64</priority></presence>");
}

// Device-level idle alone gives away (RFC 4480 §3.7 via A-26).
TEST(PidfToXmpp, DeviceIdleGivesAway) {
    const auto out =
        s2x(tuple_body("<tuple id='ID-x'><status><basic>open</basic></status></tuple>"
                       "<dm:device id='d'><r:user-input>idle</r:user-input></dm:device>",
                       "xmlns:dm='urn:ietf:params:xml:ns:pidf:data-model' "
                       "xmlns:r='urn:ietf:params:xml:ns:pidf:rpid'"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].child_text("show"), "away");
}

// A-26: RPID is used only when no jabber:client show exists (PRES-NOT-14 wins).
TEST(PidfToXmpp, JabberShowBeatsRpid) {
    const auto out = s2x(tuple_body(
        "<tuple id='ID-x'><status><basic>open</basic><show xmlns='jabber:client'>chat</show>"
        "</status><r:activities><r:busy/></r:activities></tuple>",
        "xmlns:r='urn:ietf:params:xml:ns:pidf:rpid'"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].child_text("show"), "chat");
}

// A-25: <show xmlns='jabber:client'> is accepted anywhere in the tuple or at presence level;
// values outside away/chat/dnd/xa are not mapped.
TEST(PidfToXmpp, ShowAnywhereAndInvalidShow) {
    auto out = s2x(tuple_body("<tuple id='ID-x'><status><basic>open</basic></status>"
                              "<show xmlns='jabber:client'>xa</show></tuple>"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].child_text("show"), "xa");
    out = s2x(tuple_body("<tuple id='ID-x'><status><basic>open</basic></status></tuple>"
                         "<show xmlns='jabber:client'>dnd</show>"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].child_text("show"), "dnd");
    out = s2x(tuple_body("<tuple id='ID-x'><status><basic>open</basic>"
                         "<show xmlns='jabber:client'>online</show></status></tuple>"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].child("show"), nullptr);
}

// Table P2: a tuple without <basic> is skipped (CHOICE).
TEST(PidfToXmpp, TupleWithoutBasicSkipped) {
    const auto out =
        s2x(tuple_body("<tuple id='ID-a'><status/></tuple>"
                       "<tuple id='ID-b'><status><basic>open</basic></status></tuple>"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].attr("from"), "romeo@example.net/b");
}

// Table P2 "From / PIDF entity" resource order: tuple contact gr; NOTIFY Contact gr only for a
// single tuple; the decoded ID- id; the raw id.
TEST(PidfToXmpp, ResourceDerivationOrder) {
    PidfToXmppParams p;
    p.notify_contact = "<sip:romeo@example.net;gr=fromcontact>";
    auto out = s2x(tuple_body("<tuple id='ID-byid'><status><basic>open</basic></status>"
                              "<contact>sip:romeo@example.net;gr=bycontact</contact></tuple>"),
                   p);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].attr("from"), "romeo@example.net/bycontact");

    out = s2x(tuple_body("<tuple id='ID-byid'><status><basic>open</basic></status></tuple>"), p);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].attr("from"), "romeo@example.net/fromcontact");

    out = s2x(tuple_body("<tuple id='ID-one'><status><basic>open</basic></status></tuple>"
                         "<tuple id='ID-urn_3Auuid_3Aabc'><status><basic>open</basic></status>"
                         "</tuple><tuple id='raw_id'><status><basic>open</basic></status></tuple>"),
              p);
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[0].attr("from"), "romeo@example.net/one");
    EXPECT_EQ(out[1].attr("from"), "romeo@example.net/urn:uuid:abc");
    EXPECT_EQ(out[2].attr("from"), "romeo@example.net/raw_id");
}

// §2.7 defect (do not copy): RFC examples write the GRUU as a header parameter
// (<sip:u@d>;gr=x). That is not a GRUU, so the tuple id decides the resource.
TEST(PidfToXmpp, GruuAsHeaderParameterIsNotAGruu) {
    PidfToXmppParams p;
    p.notify_contact = "<sip:romeo@example.net>;gr=dr4hcr0st3lup4c";
    const auto out =
        s2x(tuple_body("<tuple id='ID-other'><status><basic>open</basic></status></tuple>"), p);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].attr("from"), "romeo@example.net/other");
}

// Two tuples naming one resource give one stanza, preferring the open tuple.
TEST(PidfToXmpp, DuplicateResourcePrefersOpen) {
    const auto out =
        s2x(tuple_body("<tuple id='t1'><status><basic>closed</basic></status>"
                       "<contact>sip:romeo@example.net;gr=pc</contact></tuple>"
                       "<tuple id='t2'><status><basic>open</basic></status><note>here</note>"
                       "<contact>sip:romeo@example.net;gr=pc</contact></tuple>"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].attr("type"), "");
    EXPECT_EQ(out[0].child_text("status"), "here");
}

// Table P2: Content-Language -> xml:lang; notes fall back to presence-level ones; a closed
// tuple keeps its status text but carries no show or priority.
TEST(PidfToXmpp, ContentLanguageAndPresenceNotes) {
    PidfToXmppParams p;
    p.content_language = "en";
    const auto out = s2x(tuple_body("<tuple id='ID-x'><status><basic>closed</basic>"
                                    "<show xmlns='jabber:client'>away</show></status>"
                                    "<contact priority='1'>sip:a@b</contact></tuple>"
                                    "<note>Out</note><note xml:lang='de'>Weg</note>"),
                         p);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(str(out[0]), "<presence from='romeo@example.net/x' to='juliet@example.com' "
                           "type='unavailable' xml:lang='en'><status>Out</status>"
                           "<status xml:lang='de'>Weg</status></presence>");
}

// A-19 helper: a document without tuples maps to no stanza.
TEST(PidfToXmpp, NoTuplesNoStanza) {
    EXPECT_TRUE(s2x(tuple_body("")).empty());
}

// ====================================== Table P1 ==========================================

// TV-PRES-13: XMPP presence -> PIDF body (PRES-NOT-1, -3, -5, -8, -9; Table P1 xml:lang).
TEST(XmppToPidf, TvPres13Body) {
    XmlElement st = presence("juliet@example.com/balcony");
    st.set_attr("xml:lang", "en");
    st.add_child("show").add_text("dnd");
    st.add_child("status").add_text("In a meeting");
    st.add_child("priority").add_text("5");
    const auto body = xmpp_to_pidf({st}, juliet());
    ASSERT_TRUE(body.ok()) << body.status().message();
    EXPECT_EQ(*body, "<?xml version='1.0' encoding='UTF-8'?>\n"
                     "<presence xmlns='urn:ietf:params:xml:ns:pidf' "
                     "entity='pres:juliet@example.com'>\n"
                     "  <tuple id='ID-balcony'>\n"
                     "    <status><basic>open</basic><show xmlns='jabber:client'>dnd</show>"
                     "</status>\n"
                     "    <contact priority='0.039'>sip:juliet@example.com;gr=balcony</contact>\n"
                     "    <note xml:lang='en'>In a meeting</note>\n"
                     "  </tuple>\n"
                     "</presence>\n");
    EXPECT_TRUE(parse_pidf(*body).ok());
}

// TV-PRES-14 (PRES-NOT-7 MUST NOT): a negative priority is not mapped.
TEST(XmppToPidf, TvPres14NegativePriority) {
    XmlElement st = presence("juliet@example.com/balcony");
    st.add_child("priority").add_text("-5");
    const auto body = xmpp_to_pidf({st}, juliet());
    ASSERT_TRUE(body.ok());
    EXPECT_NE(body->find("<contact>sip:juliet@example.com;gr=balcony</contact>"), std::string::npos)
        << *body;
    EXPECT_EQ(body->find("priority"), std::string::npos);
}

// TV-PRES-16 (PRES-NOT-5, PRES-NOT-6): unavailable -> closed.
TEST(XmppToPidf, TvPres16Unavailable) {
    const auto body =
        xmpp_to_pidf({presence("juliet@example.com/balcony", "unavailable")}, juliet());
    ASSERT_TRUE(body.ok());
    EXPECT_NE(body->find("<tuple id='ID-balcony'>\n    <status><basic>closed</basic></status>"),
              std::string::npos)
        << *body;
}

// TV-PRES-15 (left column) and PRES-NOT-8: 0 -> 0, 127 -> 1, unique values in between.
TEST(XmppToPidf, TvPres15PriorityConversion) {
    EXPECT_EQ(xmpp_priority_to_q(0), "0");
    EXPECT_EQ(xmpp_priority_to_q(1), "0.007");
    EXPECT_EQ(xmpp_priority_to_q(2), "0.015");
    EXPECT_EQ(xmpp_priority_to_q(5), "0.039");
    EXPECT_EQ(xmpp_priority_to_q(10), "0.078");
    EXPECT_EQ(xmpp_priority_to_q(32), "0.251");
    EXPECT_EQ(xmpp_priority_to_q(64), "0.503");
    EXPECT_EQ(xmpp_priority_to_q(100), "0.787");
    EXPECT_EQ(xmpp_priority_to_q(126), "0.992");
    EXPECT_EQ(xmpp_priority_to_q(127), "1");
    EXPECT_EQ(xmpp_priority_to_q(-1), std::nullopt); // PRES-NOT-7
    EXPECT_EQ(xmpp_priority_to_q(128), std::nullopt);
    EXPECT_EQ(q_to_xmpp_priority(0.8), 102);
    EXPECT_EQ(q_to_xmpp_priority(0.5), 64);
    EXPECT_EQ(q_to_xmpp_priority(1.0), 127);
    EXPECT_EQ(q_to_xmpp_priority(0.0), 0);
    EXPECT_EQ(q_to_xmpp_priority(1.5), std::nullopt);
    EXPECT_EQ(q_to_xmpp_priority(-0.001), std::nullopt);
}

// §2.5: all 128 values distinct, and each survives the text form and the way back.
TEST(XmppToPidf, PriorityRoundTripAll128) {
    std::set<std::string> seen;
    for (int p = 0; p <= 127; ++p) {
        const auto q = xmpp_priority_to_q(p);
        ASSERT_TRUE(q.has_value());
        EXPECT_TRUE(seen.insert(*q).second) << "duplicate " << *q;
        EXPECT_EQ(q_to_xmpp_priority(std::stod(*q)), p) << *q;
    }
}

// TV-PRES-17 (PRES-NOT-3, A-27): tuple ids are NCNames and decode back to the resource.
TEST(XmppToPidf, TvPres17TupleIds) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"1st-phone", "ID-1st-phone"},
        {"urn:uuid:abc", "ID-urn_3Auuid_3Aabc"},
        {"my_phone", "ID-my_5Fphone"},
        {"Balcony Phone \xC3\xA9", "ID-Balcony_20Phone_20_C3_A9"},
    };
    for (const auto& [resource, id] : cases) {
        EXPECT_EQ(tuple_id_for_resource(resource), id);
        EXPECT_EQ(resource_from_tuple_id(id), resource);
    }
    EXPECT_EQ(resource_from_tuple_id("ID-"), std::nullopt);
    EXPECT_EQ(resource_from_tuple_id("id-x"), std::nullopt);
    EXPECT_EQ(resource_from_tuple_id("ID-a_3a"), std::nullopt); // only the form we write
    EXPECT_EQ(resource_from_tuple_id("ID-a_3"), std::nullopt);
    EXPECT_EQ(resource_from_tuple_id("ID-a_"), std::nullopt);
    EXPECT_EQ(resource_from_tuple_id("ID-a:b"), std::nullopt);
}

// RFC 5627 gr parameter inside the URI; not in headers, not in the user part.
TEST(XmppToPidf, GruuOf) {
    EXPECT_EQ(gruu_of("sip:romeo@example.net;gr=dr4hcr0st3lup4c"), "dr4hcr0st3lup4c");
    EXPECT_EQ(gruu_of("<sip:romeo@example.net;transport=tcp;GR=a%20b>"), "a b");
    EXPECT_EQ(gruu_of("sip:romeo;gr=fake@example.net"), "");
    EXPECT_EQ(gruu_of("sip:romeo@example.net?gr=x"), "");
    EXPECT_EQ(gruu_of("sip:romeo@example.net;gr"), "");
    EXPECT_EQ(gruu_of("sip:romeo@example.net;gr=%zz"), "");
    EXPECT_EQ(gruu_of("<sip:romeo@example.net"), "");
    EXPECT_EQ(gruu_of(""), "");
}

// PRES-NOT-11: one tuple per resource; a later stanza of a resource replaces the earlier one.
TEST(XmppToPidf, MultiResource) {
    XmlElement a = presence("juliet@example.com/balcony");
    a.add_child("show").add_text("away");
    XmlElement b = presence("juliet@example.com/chamber", "unavailable");
    XmlElement a2 = presence("juliet@example.com/balcony");
    a2.add_child("show").add_text("chat");
    const auto doc = presence_doc_from_xmpp({a, b, a2}, juliet());
    ASSERT_TRUE(doc.ok());
    ASSERT_EQ(doc->tuples.size(), 2u);
    EXPECT_EQ(doc->tuples[0].id, "ID-balcony");
    EXPECT_EQ(doc->tuples[0].show, "chat");
    EXPECT_TRUE(doc->tuples[0].open);
    EXPECT_EQ(doc->tuples[1].id, "ID-chamber");
    EXPECT_FALSE(doc->tuples[1].open);
}

// Table P1 <status/> row + xml:lang CHOICE: one note per status; own lang, else the stanza's,
// else the default.
TEST(XmppToPidf, StatusLanguages) {
    XmlElement st = presence("juliet@example.com/balcony");
    st.add_child("status").set_attr("xml:lang", "fr").add_text("Sur le balcon");
    st.add_child("status").add_text("No language");
    auto params = juliet();
    params.default_lang = "en";
    auto doc = presence_doc_from_xmpp({st}, params);
    ASSERT_TRUE(doc.ok());
    ASSERT_EQ(doc->tuples.size(), 1u);
    EXPECT_EQ(doc->tuples[0].notes,
              (std::vector<Note>{{"Sur le balcon", "fr"}, {"No language", "en"}}));
    st.set_attr("xml:lang", "de");
    doc = presence_doc_from_xmpp({st}, params);
    ASSERT_TRUE(doc.ok());
    EXPECT_EQ(doc->tuples[0].notes[1].lang, "de");
}

// PRES-NOT-2: only no-type and unavailable presence become NOTIFY bodies.
TEST(XmppToPidf, OtherTypesRefused) {
    for (const char* type :
         {"subscribe", "subscribed", "unsubscribe", "unsubscribed", "probe", "error"}) {
        const auto r = xmpp_to_pidf({presence("juliet@example.com/x", type)}, juliet());
        ASSERT_FALSE(r.ok()) << type;
        EXPECT_EQ(r.status().code(), ErrorCode::BadRequest);
        EXPECT_NE(r.status().message().find("PRES-NOT-2"), std::string::npos);
    }
    const auto r = xmpp_to_pidf({sdk::make_stanza("message")}, juliet());
    EXPECT_FALSE(r.ok());
    EXPECT_FALSE(xmpp_to_pidf({}, XmppToPidfParams{}).ok()); // no entity
}

// PRES-WS-7 helper: no resources -> a valid document without tuples.
TEST(XmppToPidf, EmptyInput) {
    const auto body = xmpp_to_pidf({}, juliet());
    ASSERT_TRUE(body.ok());
    const auto doc = parse_pidf(*body);
    ASSERT_TRUE(doc.ok());
    EXPECT_TRUE(doc->tuples.empty());
}

// Table P1 <delay/> CHOICE: timestamp from XEP-0203 stamp, else "now", else none; invalid
// show values are not mapped; a bare-JID presence has no contact.
TEST(XmppToPidf, TimestampShowAndBareJid) {
    XmlElement st = presence("juliet@example.com/balcony");
    st.add_child("delay", "urn:xmpp:delay").set_attr("stamp", "2002-09-10T23:08:25Z");
    st.add_child("show").add_text("online");
    auto params = juliet();
    params.now = "2026-11-26T16:00:00Z";
    auto doc = presence_doc_from_xmpp({st, presence("juliet@example.com")}, params);
    ASSERT_TRUE(doc.ok());
    ASSERT_EQ(doc->tuples.size(), 2u);
    EXPECT_EQ(doc->tuples[0].timestamp, "2002-09-10T23:08:25Z");
    EXPECT_TRUE(doc->tuples[0].show.empty());
    EXPECT_EQ(doc->tuples[1].timestamp, "2026-11-26T16:00:00Z");
    EXPECT_TRUE(doc->tuples[1].contact.empty());
    const std::string body = serialize_pidf(doc.value());
    EXPECT_NE(body.find("<timestamp>2002-09-10T23:08:25Z</timestamp>\n  </tuple>"),
              std::string::npos)
        << body;
    EXPECT_TRUE(parse_pidf(body).ok());
}

// Serialization is well-formed whatever the text: markup characters are escaped, characters
// XML 1.0 cannot carry are dropped, odd resources are escaped in the tuple id and gr.
TEST(XmppToPidf, EscapingIsWellFormed) {
    XmlElement st = presence("juliet@example.com/it's <me> & \"you\"");
    st.add_child("status").add_text("a<b>&c'd\"e\x01\x1F\tf\r\ng");
    auto params = juliet();
    params.entity = "pres:o'neil&co@example.com";
    const auto body = xmpp_to_pidf({st}, params);
    ASSERT_TRUE(body.ok());
    const auto doc = parse_pidf(*body);
    ASSERT_TRUE(doc.ok()) << doc.status().message() << "\n" << *body;
    EXPECT_EQ(doc->entity, "pres:o'neil&co@example.com");
    ASSERT_EQ(doc->tuples.size(), 1u);
    ASSERT_EQ(doc->tuples[0].notes.size(), 1u);
    EXPECT_EQ(doc->tuples[0].notes[0].text, "a<b>&c'd\"e\tf\r\ng");
    EXPECT_EQ(resource_from_tuple_id(doc->tuples[0].id), "it's <me> & \"you\"");
    EXPECT_EQ(gruu_of(doc->tuples[0].contact), "it's <me> & \"you\"");
}

// ===================================== Round trip =========================================

// xmpp -> pidf -> xmpp preserves show, statuses (with languages) and priority, per resource.
TEST(RoundTrip, XmppPidfXmppPreservesShowStatusPriority) {
    const std::vector<std::string> shows = {"", "away", "chat", "dnd", "xa"};
    for (int prio = 0; prio <= 127; ++prio) {
        const std::string& show = shows[static_cast<std::size_t>(prio) % shows.size()];
        XmlElement a = presence("juliet@example.com/balcony " + std::to_string(prio));
        if (!show.empty()) a.add_child("show").add_text(show);
        a.add_child("status").set_attr("xml:lang", "en").add_text("status " + std::to_string(prio));
        a.add_child("status").set_attr("xml:lang", "fr").add_text("état & <co>");
        a.add_child("priority").add_text(std::to_string(prio));
        XmlElement b = presence("juliet@example.com/urn:uuid:abc", "unavailable");
        b.add_child("status").add_text("bye");

        const auto body = xmpp_to_pidf({a, b}, juliet());
        ASSERT_TRUE(body.ok());
        auto doc = parse_pidf(*body);
        ASSERT_TRUE(doc.ok()) << doc.status().message();
        PidfToXmppParams p;
        p.from_bare = "juliet@example.com";
        p.to = "romeo@example.net";
        const auto back = pidf_to_xmpp(doc.value(), p);
        ASSERT_EQ(back.size(), 2u);
        EXPECT_EQ(str(back[0]), str(a)) << *body;
        EXPECT_EQ(str(back[1]), str(b)) << *body;
    }
}

} // namespace
} // namespace stox::plugins::presence
