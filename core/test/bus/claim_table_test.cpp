// SPDX-License-Identifier: Apache-2.0
// ClaimTable: overlap refusal (house style §4.4 "claims"), validation, routing.
#include "bus/claim_table.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "test_support.hpp"

namespace stox::core::test {
namespace {

using sdk::ErrorCode;

SipClaim sip(std::string method, std::string event = {}, std::string media = {}) {
    return SipClaim{std::move(method), std::move(event), std::move(media)};
}

StanzaClaim stanza(std::string name, std::vector<std::string> types = {}, std::string ns = {}) {
    return StanzaClaim{std::move(name), std::move(types), std::move(ns)};
}

sdk::Stanza make(std::string name, std::string type = {}) {
    auto s = sdk::make_stanza(std::move(name));
    s.set_attr("from", "romeo@example.org/orchard");
    s.set_attr("to", "juliet@example.net");
    if (!type.empty()) s.set_attr("type", std::move(type));
    return s;
}

sdk::Stanza iq(std::string type, std::string payload_ns) {
    auto s = make("iq", std::move(type));
    s.set_attr("id", "q1");
    s.add_child(sdk::XmlElement("query", std::move(payload_ns)));
    return s;
}

sdk::SipRequest subscribe(std::string event) {
    return make_request("SUBSCRIBE", {{"Event", std::move(event)}});
}

sdk::SipRequest invite(std::string sdp, std::string content_type = "application/sdp") {
    return make_request("INVITE", {{"Content-Type", std::move(content_type)}}, std::move(sdp));
}

const char* kAudioOffer = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
                          "t=0 0\r\nm=audio 49170 RTP/AVP 0\r\nm=video 51372 RTP/AVP 31\r\n";
const char* kMsrpOffer = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n"
                         "m=message 7394 TCP/MSRP *\r\na=accept-types:text/plain\r\n";

// ---- SIP overlap rules --------------------------------------------------------------------

TEST(ClaimTableSip, SameMethodWithoutQualifiersIsRefusedNamingTheHolder) {
    ClaimTable t;
    ASSERT_TRUE(t.add("org.im", sip("MESSAGE")));
    const auto s = t.add("org.other", sip("MESSAGE"));
    EXPECT_EQ(s.code(), ErrorCode::InvalidConfig);
    EXPECT_NE(s.message().find("org.im"), std::string::npos);
    EXPECT_NE(s.message().find("org.other"), std::string::npos);
}

TEST(ClaimTableSip, DifferentMethodsDoNotOverlap) {
    ClaimTable t;
    ASSERT_TRUE(t.add("org.im", sip("MESSAGE")));
    EXPECT_TRUE(t.add("org.options", sip("OPTIONS")));
}

TEST(ClaimTableSip, MethodsAreNormalizedToUpperCase) {
    ClaimTable t;
    ASSERT_TRUE(t.add("org.im", sip("message")));
    EXPECT_EQ(t.add("org.other", sip("MESSAGE")).code(), ErrorCode::InvalidConfig);
    EXPECT_EQ(t.route(make_request("MESSAGE")), "org.im");
}

TEST(ClaimTableSip, DifferentEventPackagesDoNotOverlap) {
    ClaimTable t;
    ASSERT_TRUE(t.add("org.presence", sip("SUBSCRIBE", "presence")));
    EXPECT_TRUE(t.add("org.dialog", sip("SUBSCRIBE", "dialog")));
}

TEST(ClaimTableSip, EqualEventPackagesOverlap) {
    ClaimTable t;
    ASSERT_TRUE(t.add("org.presence", sip("SUBSCRIBE", "presence")));
    EXPECT_EQ(t.add("org.other", sip("SUBSCRIBE", "presence")).code(), ErrorCode::InvalidConfig);
}

TEST(ClaimTableSip, AnyEventOverlapsASpecificEventBothWays) {
    ClaimTable t;
    ASSERT_TRUE(t.add("org.presence", sip("SUBSCRIBE", "presence")));
    EXPECT_EQ(t.add("org.all", sip("SUBSCRIBE")).code(), ErrorCode::InvalidConfig);
    ClaimTable u;
    ASSERT_TRUE(u.add("org.all", sip("SUBSCRIBE")));
    EXPECT_EQ(u.add("org.presence", sip("SUBSCRIBE", "presence")).code(), ErrorCode::InvalidConfig);
}

TEST(ClaimTableSip, InviteMessageAndInviteAudioDoNotOverlap) {
    ClaimTable t;
    ASSERT_TRUE(t.add("org.chat", sip("INVITE", {}, "message")));
    EXPECT_TRUE(t.add("org.media", sip("INVITE", {}, "audio")));
}

TEST(ClaimTableSip, InviteAnyMediaOverlapsInviteWithMedia) {
    ClaimTable t;
    ASSERT_TRUE(t.add("org.media", sip("INVITE", {}, "audio")));
    EXPECT_EQ(t.add("org.all", sip("INVITE")).code(), ErrorCode::InvalidConfig);
}

TEST(ClaimTableSip, SameMediaOverlaps) {
    ClaimTable t;
    ASSERT_TRUE(t.add("org.media", sip("INVITE", {}, "audio")));
    EXPECT_EQ(t.add("org.other", sip("INVITE", {}, "AUDIO")).code(), ErrorCode::InvalidConfig);
}

TEST(ClaimTableSip, APluginMayRepeatOrRefineItsOwnClaims) {
    ClaimTable t;
    ASSERT_TRUE(t.add("org.presence", sip("SUBSCRIBE", "presence")));
    EXPECT_TRUE(t.add("org.presence", sip("SUBSCRIBE", "presence"))); // no-op
    EXPECT_TRUE(t.add("org.presence", sip("SUBSCRIBE")));
    EXPECT_EQ(t.sip_claims().size(), 2u);
}

TEST(ClaimTableSip, ClaimsThatCouldNeverMatchAreRefused) {
    ClaimTable t;
    EXPECT_EQ(t.add("p", sip("")).code(), ErrorCode::InvalidConfig);
    EXPECT_EQ(t.add("p", sip("MES SAGE")).code(), ErrorCode::InvalidConfig);
    EXPECT_EQ(t.add("p", sip("MESSAGE", "presence")).code(), ErrorCode::InvalidConfig);
    EXPECT_EQ(t.add("p", sip("SUBSCRIBE", {}, "audio")).code(), ErrorCode::InvalidConfig);
    EXPECT_EQ(t.add("p", sip("SUBSCRIBE", "presence;id=1")).code(), ErrorCode::InvalidConfig);
    EXPECT_TRUE(t.sip_claims().empty());
}

// ---- stanza overlap rules -----------------------------------------------------------------

TEST(ClaimTableStanza, SameNameAllTypesOverlap) {
    ClaimTable t;
    ASSERT_TRUE(t.add("org.im", stanza("message")));
    const auto s = t.add("org.other", stanza("message"));
    EXPECT_EQ(s.code(), ErrorCode::InvalidConfig);
    EXPECT_NE(s.message().find("org.im"), std::string::npos);
}

TEST(ClaimTableStanza, DisjointTypeSetsDoNotOverlap) {
    ClaimTable t;
    ASSERT_TRUE(t.add("org.im", stanza("message", {"chat", "normal"})));
    EXPECT_TRUE(t.add("org.muc", stanza("message", {"groupchat"})));
}

TEST(ClaimTableStanza, IntersectingTypeSetsOverlap) {
    ClaimTable t;
    ASSERT_TRUE(t.add("org.im", stanza("message", {"chat", "normal"})));
    EXPECT_EQ(t.add("org.other", stanza("message", {"headline", "chat"})).code(),
              ErrorCode::InvalidConfig);
}

TEST(ClaimTableStanza, EmptyTypeSetOverlapsAnySpecificSet) {
    ClaimTable t;
    ASSERT_TRUE(t.add("org.muc", stanza("message", {"groupchat"})));
    EXPECT_EQ(t.add("org.all", stanza("message")).code(), ErrorCode::InvalidConfig);
}

TEST(ClaimTableStanza, DifferentNamesDoNotOverlap) {
    ClaimTable t;
    ASSERT_TRUE(t.add("org.im", stanza("message")));
    EXPECT_TRUE(t.add("org.presence", stanza("presence")));
    EXPECT_TRUE(t.add("org.iq", stanza("iq")));
}

TEST(ClaimTableStanza, DifferentPayloadNamespacesDoNotOverlap) {
    ClaimTable t;
    ASSERT_TRUE(t.add("org.version", stanza("iq", {"get"}, "jabber:iq:version")));
    EXPECT_TRUE(t.add("org.ping", stanza("iq", {"get"}, "urn:xmpp:ping")));
}

TEST(ClaimTableStanza, AnyNamespaceOverlapsASpecificOne) {
    ClaimTable t;
    ASSERT_TRUE(t.add("org.ping", stanza("iq", {"get"}, "urn:xmpp:ping")));
    EXPECT_EQ(t.add("org.all", stanza("iq", {"get"})).code(), ErrorCode::InvalidConfig);
    EXPECT_TRUE(t.add("org.sets", stanza("iq", {"set"}))); // types disjoint: no overlap
}

TEST(ClaimTableStanza, MessagePayloadClaimNestsInsideAGeneralOne) {
    // Typeless XEP-0184 receipts of chat sessions (RFC 7573 plugin) inside the pager-mode
    // plugin's claim of normal messages (RFC 7572): the more specific claim wins.
    ClaimTable t;
    ASSERT_TRUE(t.add("org.im", stanza("message", {"normal", "headline"})));
    EXPECT_TRUE(t.add("org.chat", stanza("message", {"normal"}, "urn:xmpp:receipts")));
    EXPECT_EQ(t.add("org.other", stanza("message", {"normal"}, "urn:xmpp:receipts")).code(),
              ErrorCode::InvalidConfig); // the same payload claim twice still conflicts
    auto receipt = make("message", "");
    receipt.add_child(sdk::XmlElement("received", "urn:xmpp:receipts"));
    EXPECT_EQ(t.route(receipt), "org.chat");
    auto pager = make("message", "");
    pager.add_child(sdk::XmlElement("body", std::string(sdk::kComponentNs)));
    pager.add_child(sdk::XmlElement("request", "urn:xmpp:receipts")); // first child: the body
    EXPECT_EQ(t.route(pager), "org.im");
    auto headline = make("message", "headline");
    headline.add_child(sdk::XmlElement("received", "urn:xmpp:receipts"));
    EXPECT_EQ(t.route(headline), "org.im"); // the payload claim names only normal
}

TEST(ClaimTableStanza, ClaimsThatCouldNeverMatchAreRefused) {
    ClaimTable t;
    EXPECT_EQ(t.add("p", stanza("stream:features")).code(), ErrorCode::InvalidConfig);
    EXPECT_EQ(t.add("p", stanza("message", {"error"})).code(), ErrorCode::InvalidConfig);
    EXPECT_EQ(t.add("p", stanza("iq", {"result"})).code(), ErrorCode::InvalidConfig);
    EXPECT_EQ(t.add("p", stanza("presence", {"chat"})).code(), ErrorCode::InvalidConfig);
    EXPECT_EQ(t.add("p", stanza("presence", {}, "urn:xmpp:receipts")).code(),
              ErrorCode::InvalidConfig); // presence has no payload claims
    EXPECT_FALSE(t.route(make("message")).has_value());
}

TEST(ClaimTable, RemovePluginFreesItsClaims) {
    ClaimTable t;
    ASSERT_TRUE(t.add("org.im", sip("MESSAGE")));
    ASSERT_TRUE(t.add("org.im", stanza("message")));
    t.remove_plugin("org.im");
    EXPECT_FALSE(t.route(make_request("MESSAGE")).has_value());
    EXPECT_FALSE(t.route(make("message", "chat")).has_value());
    EXPECT_TRUE(t.add("org.other", sip("MESSAGE")));
    EXPECT_TRUE(t.add("org.other", stanza("message")));
}

TEST(ClaimTable, DescribeNamesEveryQualifier) {
    EXPECT_EQ(sip("SUBSCRIBE", "presence").describe(), "SUBSCRIBE Event: presence");
    EXPECT_EQ(sip("INVITE", {}, "audio").describe(), "INVITE m=audio");
    EXPECT_EQ(stanza("iq", {"get", "set"}, "urn:xmpp:ping").describe(),
              "<iq type='get|set'/> with payload 'urn:xmpp:ping'");
    EXPECT_EQ(stanza("presence").describe(), "<presence/>");
}

// ---- SIP routing --------------------------------------------------------------------------

TEST(ClaimTableSipRoute, ByMethod) {
    ClaimTable t;
    ASSERT_TRUE(t.add("org.im", sip("MESSAGE")));
    EXPECT_EQ(t.route(make_request("MESSAGE")), "org.im");
    EXPECT_FALSE(t.route(make_request("OPTIONS")).has_value());
    EXPECT_FALSE(t.route(make_request("message")).has_value()); // RFC 3261 §7.1: case-sensitive
}

// RFC 6665 §8.2.1: only the event-type is compared (byte by byte); ";id=" is a parameter.
TEST(ClaimTableSipRoute, SubscribeUsesTheEventPackageWithoutParameters) {
    ClaimTable t;
    ASSERT_TRUE(t.add("org.presence", sip("SUBSCRIBE", "presence")));
    ASSERT_TRUE(t.add("org.dialog", sip("SUBSCRIBE", "dialog")));
    EXPECT_EQ(t.route(subscribe("presence;id=123")), "org.presence");
    EXPECT_EQ(t.route(subscribe(" dialog ; call-id=abc")), "org.dialog");
    EXPECT_FALSE(t.route(subscribe("Presence")).has_value());
    EXPECT_FALSE(t.route(subscribe("presence.winfo")).has_value()); // another package
    EXPECT_FALSE(t.route(make_request("SUBSCRIBE")).has_value());   // no Event header
}

TEST(ClaimTableSipRoute, NotifyAndPublishUseTheEventPackageToo) {
    ClaimTable t;
    ASSERT_TRUE(t.add("org.presence", sip("NOTIFY", "presence")));
    ASSERT_TRUE(t.add("org.presence", sip("PUBLISH", "presence")));
    EXPECT_EQ(t.route(make_request("NOTIFY", {{"Event", "presence;id=9"}})), "org.presence");
    EXPECT_EQ(t.route(make_request("PUBLISH", {{"Event", "presence"}})), "org.presence");
    EXPECT_FALSE(t.route(make_request("PUBLISH", {{"Event", "dialog"}})).has_value());
}

TEST(ClaimTableSipRoute, InviteUsesTheFirstMediaOfTheOffer) {
    ClaimTable t;
    ASSERT_TRUE(t.add("org.chat", sip("INVITE", {}, "message")));
    ASSERT_TRUE(t.add("org.media", sip("INVITE", {}, "audio")));
    EXPECT_EQ(t.route(invite(kAudioOffer)), "org.media");
    EXPECT_EQ(t.route(invite(kMsrpOffer)), "org.chat");
    EXPECT_EQ(t.route(invite(kAudioOffer, "Application/SDP; charset=utf-8")), "org.media");
}

TEST(ClaimTableSipRoute, InviteWithoutAnSdpOfferMatchesOnlyAnyMediaClaims) {
    ClaimTable t;
    ASSERT_TRUE(t.add("org.media", sip("INVITE", {}, "audio")));
    EXPECT_FALSE(t.route(make_request("INVITE")).has_value()); // late offer: no body
    EXPECT_FALSE(t.route(invite(kAudioOffer, "text/plain")).has_value());
    ClaimTable any;
    ASSERT_TRUE(any.add("org.all", sip("INVITE")));
    EXPECT_EQ(any.route(make_request("INVITE")), "org.all");
    EXPECT_EQ(any.route(invite(kMsrpOffer)), "org.all");
}

// Matching claims of two plugins always overlap, so the most specific claim decides only
// among one plugin's claims; across plugins the qualifiers select disjoint traffic.
TEST(ClaimTableSipRoute, MostSpecificClaimWinsAndRoutingIsUnambiguous) {
    ClaimTable t;
    ASSERT_TRUE(t.add("org.presence", sip("SUBSCRIBE", "presence")));
    ASSERT_TRUE(t.add("org.presence", sip("SUBSCRIBE"))); // own catch-all
    ASSERT_TRUE(t.add("org.chat", sip("INVITE", {}, "message")));
    ASSERT_TRUE(t.add("org.media", sip("INVITE", {}, "audio")));
    ASSERT_TRUE(t.add("org.media", sip("INVITE", {}, "video")));
    EXPECT_EQ(t.route(subscribe("presence")), "org.presence");
    EXPECT_EQ(t.route(subscribe("message-summary")), "org.presence");
    EXPECT_EQ(t.route(invite("v=0\r\nm=video 5000 RTP/AVP 96\r\n")), "org.media");
    EXPECT_FALSE(t.route(invite("v=0\r\nm=text 5000 RTP/AVP 98\r\n")).has_value());
    EXPECT_EQ(t.add("org.mwi", sip("SUBSCRIBE", "message-summary")).code(),
              ErrorCode::InvalidConfig);
}

TEST(ClaimTableSdp, FirstMediaOfAnSdpBody) {
    EXPECT_EQ(ClaimTable::first_sdp_media(kAudioOffer), "audio");
    EXPECT_EQ(ClaimTable::first_sdp_media(kMsrpOffer), "message");
    EXPECT_EQ(ClaimTable::first_sdp_media("v=0\nm=video 0 RTP/AVP 31\n"), "video"); // bare LF
    EXPECT_EQ(ClaimTable::first_sdp_media("v=0\r\nm=audio"), "audio");
    EXPECT_EQ(ClaimTable::first_sdp_media("v=0\r\ns=-\r\n"), "");
    EXPECT_EQ(ClaimTable::first_sdp_media(""), "");
    EXPECT_EQ(ClaimTable::first_sdp_media("m="), "");
}

TEST(ClaimTableSdp, EventPackageStripsParameters) {
    EXPECT_EQ(ClaimTable::event_package("presence;id=123"), "presence");
    EXPECT_EQ(ClaimTable::event_package(" dialog ;call-id=x"), "dialog");
    EXPECT_EQ(ClaimTable::event_package("presence.winfo"), "presence.winfo");
    EXPECT_EQ(ClaimTable::event_package(""), "");
}

// ---- stanza routing -----------------------------------------------------------------------

// RFC 6121 §5.2.2: a message without a type (or with one not understood) is "normal".
TEST(ClaimTableStanzaRoute, MessageWithoutTypeIsNormal) {
    ClaimTable t;
    ASSERT_TRUE(t.add("org.im", stanza("message", {"normal", "chat"})));
    ASSERT_TRUE(t.add("org.muc", stanza("message", {"groupchat"})));
    EXPECT_EQ(t.route(make("message")), "org.im");
    EXPECT_EQ(t.route(make("message", "chat")), "org.im");
    EXPECT_EQ(t.route(make("message", "bogus")), "org.im");
    EXPECT_EQ(t.route(make("message", "groupchat")), "org.muc");
    EXPECT_FALSE(t.route(make("message", "headline")).has_value());
}

// RFC 6121 §4.7.1: a presence without a type is "available".
TEST(ClaimTableStanzaRoute, PresenceWithoutTypeIsAvailable) {
    ClaimTable t;
    ASSERT_TRUE(t.add("org.presence", stanza("presence", {"available", "unavailable"})));
    ASSERT_TRUE(t.add("org.roster", stanza("presence", {"subscribe", "subscribed"})));
    EXPECT_EQ(t.route(make("presence")), "org.presence");
    EXPECT_EQ(t.route(make("presence", "unavailable")), "org.presence");
    EXPECT_EQ(t.route(make("presence", "subscribe")), "org.roster");
    EXPECT_FALSE(t.route(make("presence", "probe")).has_value());
}

TEST(ClaimTableStanzaRoute, IqUsesTheNamespaceOfItsFirstElementChild) {
    ClaimTable t;
    ASSERT_TRUE(t.add("org.version", stanza("iq", {"get"}, "jabber:iq:version")));
    ASSERT_TRUE(t.add("org.ping", stanza("iq", {"get"}, "urn:xmpp:ping")));
    EXPECT_EQ(t.route(iq("get", "jabber:iq:version")), "org.version");
    EXPECT_EQ(t.route(iq("get", "urn:xmpp:ping")), "org.ping");
    EXPECT_FALSE(t.route(iq("set", "urn:xmpp:ping")).has_value());
    EXPECT_FALSE(t.route(iq("get", "jabber:iq:last")).has_value());
    auto with_text = make("iq", "get");
    with_text.add_text("\n  ");
    with_text.add_child(sdk::XmlElement("ping", "urn:xmpp:ping"));
    EXPECT_EQ(t.route(with_text), "org.ping"); // whitespace text is not the payload
}

TEST(ClaimTableStanzaRoute, MostSpecificClaimOfAPluginWins) {
    ClaimTable t;
    ASSERT_TRUE(t.add("org.disco", stanza("iq", {"get"}, "http://jabber.org/protocol/disco#info")));
    ASSERT_TRUE(t.add("org.disco", stanza("iq", {"get"})));
    ASSERT_TRUE(t.add("org.setter", stanza("iq", {"set"})));
    EXPECT_EQ(t.route(iq("get", "http://jabber.org/protocol/disco#info")), "org.disco");
    EXPECT_EQ(t.route(iq("get", "jabber:iq:last")), "org.disco");
    EXPECT_EQ(t.route(iq("set", "http://jabber.org/protocol/disco#info")), "org.setter");
}

// RFC 6120 §8.3.1 and §8.2.3: replies are never routed by claims.
TEST(ClaimTableStanzaRoute, ErrorsAndResultsAreNeverRouted) {
    ClaimTable t;
    ASSERT_TRUE(t.add("org.im", stanza("message")));
    ASSERT_TRUE(t.add("org.presence", stanza("presence")));
    ASSERT_TRUE(t.add("org.iq", stanza("iq")));
    EXPECT_FALSE(t.route(make("message", "error")).has_value());
    EXPECT_FALSE(t.route(make("presence", "error")).has_value());
    EXPECT_FALSE(t.route(iq("result", "jabber:iq:version")).has_value());
    EXPECT_FALSE(t.route(iq("error", "jabber:iq:version")).has_value());
    EXPECT_FALSE(t.route(make("iq")).has_value()); // no type: not a valid request
    EXPECT_EQ(t.route(iq("get", "jabber:iq:version")), "org.iq");
}

TEST(ClaimTableStanzaRoute, NonStanzaElementsAreNotRouted) {
    ClaimTable t;
    ASSERT_TRUE(t.add("org.im", stanza("message")));
    EXPECT_FALSE(t.route(sdk::make_stanza("handshake")).has_value());
    EXPECT_FALSE(t.route(sdk::XmlElement::text_node("message")).has_value());
}

// Claims are read by the router while a failing plugin's claims are removed (TSan).
TEST(ClaimTable, ConcurrentRouteAndRemove) {
    ClaimTable t;
    for (int i = 0; i < 50; ++i)
        ASSERT_TRUE(t.add("org.p" + std::to_string(i), sip("M" + std::to_string(i))));
    std::atomic<bool> stop{false};
    std::thread reader([&] {
        while (!stop.load()) {
            (void)t.route(make_request("M7"));
            (void)t.sip_claims();
        }
    });
    for (int i = 0; i < 50; ++i) t.remove_plugin("org.p" + std::to_string(i));
    stop = true;
    reader.join();
    EXPECT_TRUE(t.sip_claims().empty());
}

} // namespace
} // namespace stox::core::test
