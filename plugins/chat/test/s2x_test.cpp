// SPDX-License-Identifier: Apache-2.0
// SIP/MSRP -> XMPP (RFC 7573 §5): auto-answer with an SDP answer per the offer's a=setup, SENDs
// to chat messages, chat states, receipts, honest delivery (failure REPORTs), BYE, limits.
#include <gtest/gtest.h>

#include <algorithm>

#include <stox/msrp/uri.hpp>

#include "content.hpp"
#include "sdp.hpp"
#include "test_support.hpp"

namespace stox::plugins::chat::test {
namespace {

using namespace std::chrono_literals;

class S2x : public ChatFixture {
protected:
    void configure() override { start(); }

    std::shared_ptr<stox::sdk::testing::FakeSipServerTransaction> invite() {
        auto tx = h.receive_sip(bob_invite());
        EXPECT_EQ(tx->status(), 200);
        return tx;
    }
    std::string local_tag(const stox::sdk::testing::FakeSipServerTransaction& tx) {
        auto to = parse_name_addr(tx.final_response()->header("To"));
        return to ? to->tag : std::string();
    }
};

TEST_F(S2x, TV_03_InviteIsAutoAnsweredPassive) {
    auto tx = invite();
    const auto r = *tx->final_response();
    EXPECT_EQ(r.status, 200);
    EXPECT_FALSE(local_tag(*tx).empty()); // new To tag
    EXPECT_EQ(r.header("Contact"), "<sip:alice@gateway.test:5060>");
    EXPECT_EQ(r.header("Content-Type"), "application/sdp");
    auto m = parse_msrp_sdp(r.body);
    ASSERT_TRUE(m) << m.status().message();
    EXPECT_EQ(m->setup, Setup::Passive); // MSRP-32: actpass -> passive
    EXPECT_TRUE(accepts(m->accept_types, "text/plain"));
    EXPECT_TRUE(accepts(m->accept_types, "message/cpim"));
    EXPECT_TRUE(accepts(m->accept_types, "application/im-iscomposing+xml"));
    ASSERT_TRUE(m->max_size);
    EXPECT_EQ(*m->max_size, plugin->config().max_message_bytes); // CHAT-18
    auto path = msrp::parse_uri(m->path);
    ASSERT_TRUE(path);
    EXPECT_EQ(path->port.value_or(0), m->port);
    EXPECT_EQ(path->host, "gw.xmpp.example");
    ASSERT_EQ(transport->sessions.size(), 1u);
    EXPECT_EQ(session().options.role, msrp::SetupRole::Passive); // no outbound connect
    EXPECT_EQ(msrp::to_string(session().options.peer_path), "msrp://192.0.2.20:40012/b2Kp;tcp");
    EXPECT_EQ(h.xmpp().count(), 0u); // notified on the first content only
}

TEST_F(S2x, MSRP_32_SetupRoles) {
    auto a = h.receive_sip(bob_invite("text/plain", "active", "c-a"));
    EXPECT_EQ(parse_msrp_sdp(a->final_response()->body)->setup, Setup::Passive);
    EXPECT_EQ(session(0).options.role, msrp::SetupRole::Passive);
    auto p = h.receive_sip(bob_invite("text/plain", "passive", "c-p"));
    EXPECT_EQ(parse_msrp_sdp(p->final_response()->body)->setup, Setup::Active);
    EXPECT_EQ(session(1).options.role, msrp::SetupRole::Active);
    auto n = h.receive_sip(bob_invite("text/plain", "", "c-n")); // RFC 4975: offerer active
    EXPECT_EQ(session(2).options.role, msrp::SetupRole::Passive);
    (void)n;
}

class S2xActive : public ChatFixture {
protected:
    void configure() override {
        h.config().set("/answer_setup", "active");
        start();
    }
};

TEST_F(S2xActive, MSRP_32_ActpassAnsweredActiveWhenConfigured) {
    auto tx = h.receive_sip(bob_invite());
    EXPECT_EQ(parse_msrp_sdp(tx->final_response()->body)->setup, Setup::Active);
    EXPECT_EQ(session().options.role, msrp::SetupRole::Active);
}

TEST_F(S2x, TV_05_SendBecomesChatMessage) {
    invite();
    session().deliver("Sure, give me five minutes.", "text/plain", false, {}, "bx1", "q9w8e7r6");
    ASSERT_EQ(h.xmpp().count(), 1u);
    // CHAT-7: thread = Call-ID, id = the MSRP transaction id.
    EXPECT_EQ(canonical_xml(h.xmpp().last()),
              canon("<message from='bob@sip.example/dev1' to='alice@xmpp.example' id='q9w8e7r6' "
                    "type='chat'><thread>c2-77a1@sip.example</thread>"
                    "<body>Sure, give me five minutes.</body></message>"));
    EXPECT_TRUE(h.xmpp().at(0).tracked); // honest delivery
    // A transaction id already used as a stanza id in the session gets a fresh id instead.
    session().deliver("again", "text/plain", false, {}, "bx2", "q9w8e7r6");
    ASSERT_EQ(h.xmpp().count(), 2u);
    EXPECT_NE(h.xmpp().last().attr("id"), "q9w8e7r6");
    EXPECT_FALSE(h.xmpp().last().attr("id").empty());
}

TEST_F(S2x, TV_15_CpimIsUnwrapped) {
    invite();
    session().deliver("From: <sip:bob@sip.example>\r\nTo: <sip:alice@xmpp.example>\r\n"
                      "DateTime: 2024-05-01T09:30:00Z\r\n\r\nContent-Type: text/plain\r\n\r\n"
                      "See you soon",
                      "message/cpim");
    ASSERT_EQ(h.xmpp().count(), 1u);
    EXPECT_EQ(h.xmpp().last().child_text("body"), "See you soon");
    EXPECT_EQ(h.xmpp().last().attr("from"), "bob@sip.example/dev1"); // from the dialog
}

TEST_F(S2x, TV_26_ContentLanguageBecomesXmlLang) {
    invite();
    session().deliver("Ahoj", "text/plain", false, {{"Content-Language", "cs"}});
    ASSERT_EQ(h.xmpp().count(), 1u);
    EXPECT_EQ(h.xmpp().last().attr("xml:lang"), "cs");
}

TEST_F(S2x, TV_17_IsComposingBecomesChatStatesAndTimesOut) {
    invite();
    session().deliver(make_iscomposing(true), "application/im-iscomposing+xml");
    session().deliver(make_iscomposing(false), "application/im-iscomposing+xml");
    ASSERT_EQ(h.xmpp().count(), 2u);
    EXPECT_EQ(canon_without_id(h.xmpp().stanza(0)),
              canon("<message from='bob@sip.example/dev1' to='alice@xmpp.example' id='ID' "
                    "type='chat'><thread>c2-77a1@sip.example</thread>"
                    "<composing xmlns='http://jabber.org/protocol/chatstates'/></message>"));
    EXPECT_NE(h.xmpp().stanza(1).child("active", "http://jabber.org/protocol/chatstates"), nullptr);
    EXPECT_EQ(h.xmpp().stanza(0).child("body"), nullptr);
    // Timer case: active with refresh 60, then silence -> <active/> after 60 s.
    session().deliver(make_iscomposing(true, 60), "application/im-iscomposing+xml");
    h.advance(59s);
    EXPECT_EQ(h.xmpp().count(), 3u);
    h.advance(2s);
    ASSERT_EQ(h.xmpp().count(), 4u);
    EXPECT_NE(h.xmpp().last().child("active", "http://jabber.org/protocol/chatstates"), nullptr);
}

TEST_F(S2x, TV_16_ComposingGoesToPeerThatAcceptsIt) {
    invite();
    receive("<message from='alice@xmpp.example/phone' to='bob@sip.example' type='chat'>"
            "<thread>c2-77a1@sip.example</thread>"
            "<composing xmlns='http://jabber.org/protocol/chatstates'/></message>");
    ASSERT_EQ(session().sent.size(), 1u);
    EXPECT_EQ(session().sent[0].content_type, "application/im-iscomposing+xml");
    EXPECT_EQ(plugin->session_by_call_id("c2-77a1@sip.example")->local_jid,
              "alice@xmpp.example/phone"); // AMB-2: resource locked
}

TEST_F(S2x, AMB_2_RepliesGoOnSameSessionAndLockResource) {
    invite();
    session().deliver("Hello", "text/plain");
    receive(chat("r1", "c2-77a1@sip.example", "Hi!"));
    EXPECT_EQ(h.sip().count(), 0u); // no new INVITE
    ASSERT_EQ(session().sent.size(), 1u);
    EXPECT_EQ(session().sent[0].body, "Hi!");
    session().deliver("more", "text/plain");
    EXPECT_EQ(h.xmpp().last().attr("to"), "alice@xmpp.example/phone");
    // Without a thread the reply joins the newest session of the pair too.
    receive(chat("r2", "", "no thread"));
    EXPECT_EQ(session().sent.size(), 2u);
}

TEST_F(S2x, TV_22_SuccessReportAskedThenReceivedGivesReport) {
    invite();
    session().deliver("Ahoj", "text/plain", true, {}, "bx9");
    ASSERT_EQ(h.xmpp().count(), 1u);
    const auto& msg = h.xmpp().last();
    EXPECT_NE(msg.child("request", "urn:xmpp:receipts"), nullptr);
    EXPECT_TRUE(session().reports.empty()); // not before the receipt
    const std::string id = msg.attr("id");
    receive("<message from='alice@xmpp.example/phone' to='bob@sip.example'>"
            "<received xmlns='urn:xmpp:receipts' id='" +
            id + "'/></message>");
    ASSERT_EQ(session().reports.size(), 1u);
    EXPECT_EQ(session().reports[0], (std::pair<std::string, std::uint16_t>{"bx9", 200}));
}

class S2xAccepted : public ChatFixture {
protected:
    void configure() override {
        h.config().set("/success_report_mode", "accepted");
        start();
    }
};

TEST_F(S2xAccepted, AMB_8_ReportWhenNoErrorWithinWindow) {
    auto tx = h.receive_sip(bob_invite());
    session().deliver("Ahoj", "text/plain", true, {}, "bx9");
    h.xmpp().write(0);
    EXPECT_TRUE(session().reports.empty());
    h.advance(3001ms);
    ASSERT_EQ(session().reports.size(), 1u);
    EXPECT_EQ(session().reports[0].second, 200);
}

TEST_F(S2x, HonestDelivery_XmppErrorBecomesFailureReport) {
    invite();
    session().deliver("Hello", "text/plain", false, {}, "mx1");
    h.xmpp().write(0);
    auto reply = parse_xml("<message type='error' from='alice@xmpp.example' id='x'><error "
                           "type='cancel'><item-not-found "
                           "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>");
    h.xmpp().reply(0, reply);
    ASSERT_EQ(session().reports.size(), 1u);
    EXPECT_EQ(session().reports[0].first, "mx1");
    EXPECT_EQ(session().reports[0].second, 604); // bare JID item-not-found (RFC 7247 §7.1)
}

TEST_F(S2x, HonestDelivery_WriteFailureBecomesFailureReport) {
    invite();
    session().deliver("Hello", "text/plain", false, {}, "mx2");
    h.xmpp().fail(0, sdk::Status(sdk::ErrorCode::Unreachable, "link down"));
    ASSERT_EQ(session().reports.size(), 1u);
    EXPECT_GE(session().reports[0].second, 400);
}

TEST_F(S2x, TV_13_NonTextContentGetsFailureReportNoStanza) {
    invite();
    session().deliver("--b\r\n\r\nx\r\n--b--", "multipart/mixed", false, {}, "mm1");
    EXPECT_EQ(h.xmpp().count(), 0u);
    ASSERT_EQ(session().reports.size(), 1u);
    EXPECT_EQ(session().reports[0].second, 415);
    // Unsupported types never reach the plugin: the session's accept list refuses them (415).
    const auto& types = session().options.accept_types;
    EXPECT_EQ(std::count(types.begin(), types.end(), "image/png"), 0);
}

TEST_F(S2x, TV_14_InviteWithOnlyNonTextTypesGets488) {
    auto tx = h.receive_sip(bob_invite("image/jpeg application/octet-stream"));
    EXPECT_EQ(tx->status(), 488);
    EXPECT_NE(tx->final_response()->header("Warning").find("304 "), std::string::npos);
    EXPECT_EQ(h.xmpp().count(), 0u);
    EXPECT_EQ(plugin->session_count(), 0u);
    EXPECT_EQ(h.receive_sip(bob_invite("*", "actpass", "c-star"))->status(), 200);
    EXPECT_EQ(h.receive_sip(bob_invite("message/cpim", "actpass", "c-cpim"))->status(), 200);
}

TEST_F(S2x, InviteWithoutMsrpOrWithTlsGets488) {
    auto r = bob_invite();
    r.body = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
    EXPECT_EQ(h.receive_sip(r)->status(), 488);
    auto t = bob_invite();
    t.body =
        "v=0\r\nc=IN IP4 1.2.3.4\r\nm=message 1 TCP/TLS/MSRP *\r\na=accept-types:text/plain\r\n"
        "a=path:msrps://1.2.3.4:1/x;tcp\r\n";
    EXPECT_EQ(h.receive_sip(t)->status(), 488);
}

TEST_F(S2x, TV_20_ByeAnswered200AndGoneSent) {
    auto tx = invite();
    receive(chat("r1", "c2-77a1@sip.example", "Hi!")); // lock alice's resource
    session().result(0, msrp::SendOutcome::Sent);
    auto bye = bob_invite();
    bye.method = "BYE";
    bye.body.clear();
    bye.set_header("To", "<sip:alice@xmpp.example>;tag=" + local_tag(*tx));
    bye.set_header("CSeq", "2 BYE");
    auto btx = h.receive_sip(bye);
    EXPECT_EQ(btx->status(), 200);
    EXPECT_TRUE(session().closed);
    ASSERT_EQ(h.xmpp().count(), 1u);
    EXPECT_EQ(canon_without_id(h.xmpp().last()),
              canon("<message type='chat' from='bob@sip.example/dev1' id='ID' "
                    "to='alice@xmpp.example/phone'><thread>c2-77a1@sip.example</thread>"
                    "<gone xmlns='http://jabber.org/protocol/chatstates'/></message>"));
    // A later message with the same thread starts a new INVITE with a new Call-ID.
    receive(chat("r2", "c2-77a1@sip.example", "still there?"));
    ASSERT_EQ(h.sip().count(), 1u);
    EXPECT_NE(h.sip().last().header("Call-ID"), "c2-77a1@sip.example");
    answer_200(0, kBobAnswer);
    session(1).deliver("yes", "text/plain");
    EXPECT_EQ(h.xmpp().last().child_text("thread"), "c2-77a1@sip.example");
}

TEST_F(S2x, ByeForUnknownDialogGets481) {
    invite();
    auto bye = bob_invite();
    bye.method = "BYE";
    bye.set_header("To", "<sip:alice@xmpp.example>;tag=wrong");
    EXPECT_EQ(h.receive_sip(bye)->status(), 481);
    EXPECT_EQ(plugin->session_count(), 1u);
}

TEST_F(S2x, ReinviteWithNewPathRebindsAndSamePathKeepsSession) {
    auto tx = invite();
    const std::string first_answer = tx->final_response()->body;
    auto re = bob_invite();
    re.set_header("To", "<sip:alice@xmpp.example>;tag=" + local_tag(*tx));
    re.set_header("CSeq", "2 INVITE");
    auto rtx = h.receive_sip(re);
    EXPECT_EQ(rtx->status(), 200);
    EXPECT_EQ(rtx->final_response()->body, first_answer); // MSRP-26: nothing changed
    EXPECT_EQ(transport->sessions.size(), 1u);
    re.set_header("CSeq", "3 INVITE");
    const std::string old_path = "msrp://192.0.2.20:40012/b2Kp;tcp";
    re.body.replace(re.body.find(old_path), old_path.size(), "msrp://192.0.2.20:40013/nw;tcp");
    auto rtx2 = h.receive_sip(re);
    EXPECT_EQ(rtx2->status(), 200);
    ASSERT_EQ(transport->sessions.size(), 2u);
    EXPECT_TRUE(session(0).closed);
    EXPECT_EQ(msrp::to_string(session(1).options.peer_path), "msrp://192.0.2.20:40013/nw;tcp");
}

TEST_F(S2x, ReinviteForUnknownDialogGets481) {
    auto re = bob_invite();
    re.set_header("To", "<sip:alice@xmpp.example>;tag=nope");
    EXPECT_EQ(h.receive_sip(re)->status(), 481);
}

TEST_F(S2x, LostConnectionOnAnsweredSessionReinvites) {
    auto tx = invite();
    session().lose();
    ASSERT_EQ(h.sip().count(), 1u);
    const auto& re = h.sip().last();
    EXPECT_EQ(re.method, "INVITE");
    EXPECT_EQ(re.request_uri, "sip:bob@sip.example;gr=dev1"); // remote target = Contact
    EXPECT_EQ(re.header("From"), "<sip:alice@xmpp.example>;tag=" + local_tag(*tx));
    EXPECT_EQ(re.header("To"), "<sip:bob@sip.example>;tag=bt1");
    EXPECT_EQ(re.header("CSeq"), "1 INVITE");
}

class S2xLimits : public ChatFixture {
protected:
    void configure() override {
        h.config().set("/max_sessions", 1);
        h.config().set("/max_message_bytes", 65536);
        start();
    }
};

TEST_F(S2xLimits, MaxSessionsGives503) {
    EXPECT_EQ(h.receive_sip(bob_invite("text/plain", "actpass", "c1"))->status(), 200);
    auto tx = h.receive_sip(bob_invite("text/plain", "actpass", "c2"));
    EXPECT_EQ(tx->status(), 503);
    EXPECT_FALSE(tx->final_response()->header("Retry-After").empty());
}

TEST_F(S2xLimits, TV_12_MaxSizeAdvertisedAndEnforcedBySession) {
    auto tx = h.receive_sip(bob_invite());
    EXPECT_NE(tx->final_response()->body.find("a=max-size:65536"), std::string::npos);
    EXPECT_EQ(session().options.max_message_bytes, 65536u); // 413 above it (socket test)
}

TEST_F(S2x, DuplicateInviteGets482AndBadInvite400) {
    invite();
    EXPECT_EQ(h.receive_sip(bob_invite())->status(), 482);
    auto r = bob_invite("text/plain", "actpass", "c-x");
    r.set_header("From", "<sip:bob@sip.example>"); // no tag
    EXPECT_EQ(h.receive_sip(r)->status(), 400);
}

} // namespace
} // namespace stox::plugins::chat::test
