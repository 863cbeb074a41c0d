// SPDX-License-Identifier: Apache-2.0
// XMPP -> SIP/MSRP (RFC 7573 §4): session set-up by the first chat message, queueing, ACK, MSRP
// binding per a=setup, chat states, receipts, teardown, errors and limits. Harness + fake MSRP.
#include <gtest/gtest.h>

#include <regex>

#include <stox/msrp/uri.hpp>

#include "sdp.hpp"
#include "test_support.hpp"

namespace stox::plugins::chat::test {
namespace {

using namespace std::chrono_literals;

class X2s : public ChatFixture {
protected:
    void configure() override { start(); }

    /// TV-01 + TV-02: alice's first message, bob's 200 (answer without a=setup).
    void establish(std::string_view extra_media = {}) {
        receive(chat("m1", "th-5f2c1", "Hi Bob, are you free for a call?"));
        answer_200(0, std::string(kBobAnswer) + std::string(extra_media));
        session().result(0, msrp::SendOutcome::Sent); // Failure-Report: no, written
    }
};

TEST_F(X2s, TV_01_FirstChatMessageSendsInviteWithMsrpOffer) {
    receive(chat("m1", "th-5f2c1", "Hi Bob, are you free for a call?"));
    EXPECT_EQ(h.xmpp().count(), 0u); // CHAT-6: queued, nothing to XMPP
    ASSERT_EQ(h.sip().count(), 1u);
    const auto& r = h.sip().request(0);
    EXPECT_EQ(r.method, "INVITE");
    EXPECT_EQ(r.request_uri, "sip:bob@sip.example");
    EXPECT_TRUE(std::regex_match(r.header("From"),
                                 std::regex("<sip:alice@xmpp\\.example>;tag=[a-z0-9]{8,}")));
    EXPECT_EQ(r.header("To"), "<sip:bob@sip.example>");
    EXPECT_EQ(r.header("Call-ID"), "th-5f2c1"); // CHAT-5
    EXPECT_EQ(r.header("CSeq"), "1 INVITE");
    // COMMON-1: gr inside the URI (§2.7 item 4), Contact host from the core (ABI 1.1).
    EXPECT_EQ(r.header("Contact"), "<sip:alice@gateway.test:5060;gr=phone>");
    EXPECT_EQ(r.header("Content-Type"), "application/sdp");
    auto m = parse_msrp_sdp(r.body);
    ASSERT_TRUE(m) << m.status().message();
    EXPECT_EQ(m->setup, Setup::ActPass); // MSRP-31/32
    EXPECT_TRUE(accepts(m->accept_types, "text/plain"));
    EXPECT_TRUE(accepts(m->accept_types, "message/cpim"));
    EXPECT_TRUE(accepts(m->accept_types, "application/im-iscomposing+xml"));
    auto path = msrp::parse_uri(m->path);
    ASSERT_TRUE(path);
    EXPECT_EQ(m->port, path->port.value_or(0)); // MSRP-24: m= port = path port
    EXPECT_EQ(m->connection_host, path->host);  // c= host = path host
    ASSERT_TRUE(path->session_id);
    EXPECT_GE(path->session_id->size(), 14u); // >= 80 random bits of base62
    EXPECT_NE(m->path.find(";tcp"), std::string::npos);
    EXPECT_EQ(transport->sessions.size(), 0u); // no MSRP before the answer
    auto v = plugin->session_by_call_id("th-5f2c1");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->queued, 1u);
}

TEST_F(X2s, TV_02_AnswerAcksBindsActiveAndSendsQueuedMessage) {
    establish();
    ASSERT_EQ(h.sip().count(), 2u);
    const auto& ack = h.sip().request(1);
    EXPECT_EQ(ack.method, "ACK");
    EXPECT_EQ(ack.request_uri, "sip:bob@192.0.2.20:5060"); // Contact of the 200
    EXPECT_EQ(ack.header("CSeq"), "1 ACK");                // not "2 ACK" (§2.7 item 2)
    EXPECT_EQ(ack.header("To"), "<sip:bob@sip.example>;tag=bt7");
    ASSERT_EQ(transport->sessions.size(), 1u);
    auto& s = session();
    EXPECT_EQ(s.options.role, msrp::SetupRole::Active); // no a=setup: offerer connects
    EXPECT_EQ(msrp::to_string(s.options.peer_path), "msrp://192.0.2.20:40010/b1Qz;tcp");
    ASSERT_EQ(s.sent.size(), 1u);
    EXPECT_EQ(s.sent[0].body, "Hi Bob, are you free for a call?");
    EXPECT_EQ(s.sent[0].content_type, "text/plain");
    EXPECT_FALSE(s.sent[0].options.success_report);                       // no receipt asked
    EXPECT_EQ(s.sent[0].options.failure_report, msrp::FailureReport::No); // strict, CHAT-16
    EXPECT_EQ(s.options.max_message_bytes, plugin->config().max_message_bytes);
    // No isComposing will ever go to this peer (its accept-types lacks it).
    receive("<message from='alice@xmpp.example/phone' to='bob@sip.example' type='chat'>"
            "<thread>th-5f2c1</thread><composing xmlns='http://jabber.org/protocol/chatstates'/>"
            "</message>");
    EXPECT_EQ(s.sent.size(), 1u);
    EXPECT_EQ(h.xmpp().count(), 0u);
}

TEST_F(X2s, TV_02_VariantAnswerActiveMakesUsPassive) {
    receive(chat("m1", "th-5f2c1", "Hi"));
    answer_200(0, std::string(kBobAnswer) + "a=setup:active\r\n");
    ASSERT_EQ(transport->sessions.size(), 1u);
    EXPECT_EQ(session().options.role, msrp::SetupRole::Passive); // RFC 6135: wait for bob
}

TEST_F(X2s, CHAT_6_MessagesQueuedInOrderWhilePendingThenSameSession) {
    receive(chat("m1", "t1", "one"));
    receive(chat("m2", "t1", "two"));
    EXPECT_EQ(h.sip().count(), 1u); // one INVITE for the conversation
    answer_200(0, kBobAnswer);
    receive(chat("m3", "t1", "three"));
    ASSERT_EQ(session().sent.size(), 3u);
    EXPECT_EQ(session().sent[0].body, "one");
    EXPECT_EQ(session().sent[1].body, "two");
    EXPECT_EQ(session().sent[2].body, "three");
    // A different thread is a different conversation (CHAT-2).
    receive(chat("m4", "t2", "other"));
    EXPECT_EQ(h.sip().count(), 3u);
    EXPECT_EQ(plugin->session_count(), 2u);
}

TEST_F(X2s, AMB_5_NoThreadJoinsNewestSessionAndMintsThread) {
    receive(chat("m1", "", "hello"));
    ASSERT_EQ(h.sip().count(), 1u);
    const std::string call_id = h.sip().request(0).header("Call-ID");
    answer_200(0, kBobAnswer);
    receive(chat("m2", "", "again"));
    EXPECT_EQ(h.sip().count(), 2u); // INVITE + ACK only
    EXPECT_EQ(session().sent.size(), 2u);
    // Replies from bob carry the minted thread.
    session().deliver("yo", "text/plain");
    ASSERT_EQ(h.xmpp().count(), 1u);
    const auto v = plugin->session_by_call_id(call_id);
    ASSERT_TRUE(v);
    EXPECT_FALSE(v->thread.empty());
    EXPECT_EQ(h.xmpp().last().child_text("thread"), v->thread);
}

TEST_F(X2s, TV_25_InvalidThreadGetsGeneratedCallIdAndRepliesKeepThread) {
    receive(chat("m1", "project plan / Q3", "x"));
    const std::string call_id = h.sip().request(0).header("Call-ID");
    EXPECT_NE(call_id, "project plan / Q3");
    EXPECT_TRUE(is_valid_call_id(call_id));
    answer_200(0, kBobAnswer);
    session().deliver("ok", "text/plain");
    ASSERT_EQ(h.xmpp().count(), 1u);
    EXPECT_EQ(h.xmpp().last().child_text("thread"), "project plan / Q3");
}

TEST_F(X2s, TV_26_XmlLangBecomesContentLanguage) {
    establish();
    receive("<message from='alice@xmpp.example/phone' to='bob@sip.example' type='chat' "
            "xml:lang='cs'><thread>th-5f2c1</thread><body>Ahoj</body></message>");
    ASSERT_EQ(session().sent.size(), 2u);
    const auto& mime = session().sent[1].options.mime_headers;
    ASSERT_EQ(mime.size(), 1u);
    EXPECT_EQ(mime[0].name, "Content-Language");
    EXPECT_EQ(mime[0].value, "cs");
}

TEST_F(X2s, TV_16_ComposingBecomesIsComposingActive) {
    establish("a=accept-types:text/plain application/im-iscomposing+xml\r\n");
    receive("<message from='alice@xmpp.example/phone' to='bob@sip.example' type='chat'>"
            "<thread>th-5f2c1</thread><composing xmlns='http://jabber.org/protocol/chatstates'/>"
            "</message>");
    ASSERT_EQ(session().sent.size(), 2u);
    const auto& s = session().sent[1];
    EXPECT_EQ(s.content_type, "application/im-iscomposing+xml");
    EXPECT_EQ(s.body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
                      "<isComposing xmlns=\"urn:ietf:params:xml:ns:im-iscomposing\">\r\n"
                      "<state>active</state>\r\n<contenttype>text/plain</contenttype>\r\n"
                      "<refresh>60</refresh>\r\n</isComposing>\r\n");
    EXPECT_EQ(s.body.size(), 202u); // TV-16 Byte-Range 1-202/202
    EXPECT_EQ(s.options.failure_report, msrp::FailureReport::No);
}

TEST_F(X2s, TV_18_PausedThenInactiveSendsOneIdle) {
    establish("a=accept-types:text/plain application/im-iscomposing+xml\r\n");
    auto state = [&](std::string_view st) {
        receive("<message from='alice@xmpp.example/phone' to='bob@sip.example' type='chat'>"
                "<thread>th-5f2c1</thread><" +
                std::string(st) + " xmlns='http://jabber.org/protocol/chatstates'/></message>");
    };
    state("composing");
    state("paused");
    state("inactive");
    state("active");
    ASSERT_EQ(session().sent.size(), 3u); // message, active, one idle
    EXPECT_NE(session().sent[2].body.find("<state>idle</state>"), std::string::npos);
    EXPECT_EQ(session().sent[2].body.size(), 138u); // TV-18 Byte-Range 1-138/138
}

TEST_F(X2s, TV_19_GoneSendsByeAndClosesMsrp) {
    establish();
    receive("<message from='alice@xmpp.example/phone' to='bob@sip.example' type='chat'>"
            "<thread>th-5f2c1</thread><gone xmlns='http://jabber.org/protocol/chatstates'/>"
            "</message>");
    ASSERT_EQ(h.sip().count(), 3u);
    const auto& bye = h.sip().request(2);
    EXPECT_EQ(bye.method, "BYE");
    EXPECT_EQ(bye.header("CSeq"), "2 BYE");
    EXPECT_NE(bye.header("From").find(";tag="), std::string::npos);
    EXPECT_EQ(bye.header("To"), "<sip:bob@sip.example>;tag=bt7");
    EXPECT_EQ(bye.request_uri, "sip:bob@192.0.2.20:5060");
    EXPECT_TRUE(session().closed);
    EXPECT_EQ(plugin->session_count(), 0u);
    EXPECT_EQ(h.xmpp().count(), 0u); // nothing to XMPP
}

TEST_F(X2s, CHAT_10_IdleTimeoutSendsBye) {
    establish();
    h.advance(std::chrono::seconds(599));
    EXPECT_EQ(h.sip().count(), 2u);
    h.advance(std::chrono::seconds(2));
    ASSERT_EQ(h.sip().count(), 3u);
    EXPECT_EQ(h.sip().request(2).method, "BYE");
    EXPECT_EQ(plugin->session_count(), 0u);
}

TEST_F(X2s, TV_21_ReceiptRequestAndSuccessReportGiveReceived) {
    establish();
    receive(
        chat("m5", "th-5f2c1", "Meeting moved to 3pm.", "<request xmlns='urn:xmpp:receipts'/>"));
    ASSERT_EQ(session().sent.size(), 2u);
    EXPECT_TRUE(session().sent[1].options.success_report);
    EXPECT_EQ(session().sent[1].options.failure_report, msrp::FailureReport::No);
    session().result(1, msrp::SendOutcome::Delivered); // REPORTs cover 1-21/21
    ASSERT_EQ(h.xmpp().count(), 1u);
    EXPECT_EQ(canon_without_id(h.xmpp().last()),
              canon("<message from='bob@sip.example' to='alice@xmpp.example/phone' id='ID'>"
                    "<received xmlns='urn:xmpp:receipts' id='m5'/></message>"));
}

class X2sRobust : public ChatFixture {
protected:
    void configure() override {
        h.config().set("/failure_report", "partial");
        start();
    }
};

TEST_F(X2sRobust, TV_27_413BecomesPolicyViolation) {
    receive(chat("m7", "th-5f2c1", "big"));
    answer_200(0, kBobAnswer);
    ASSERT_EQ(session().sent.size(), 1u);
    EXPECT_EQ(session().sent[0].options.failure_report, msrp::FailureReport::Partial);
    session().result(0, msrp::SendOutcome::Failed, 413);
    ASSERT_EQ(h.xmpp().count(), 1u);
    EXPECT_EQ(canonical_xml(h.xmpp().last()),
              canon("<message type='error' id='m7' from='bob@sip.example' "
                    "to='alice@xmpp.example/phone'><error type='modify'><policy-violation "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>"));
}

TEST_F(X2sRobust, MSRP_30_481FailsMessageAndEndsSession) {
    receive(chat("m7", "th-5f2c1", "x"));
    answer_200(0, kBobAnswer);
    session().result(0, msrp::SendOutcome::Failed, 481);
    ASSERT_GE(h.xmpp().count(), 1u);
    EXPECT_NE(canonical_xml(h.xmpp().stanza(0)).find("item-not-found"), std::string::npos);
    EXPECT_EQ(h.sip().last().method, "BYE");
    EXPECT_EQ(plugin->session_count(), 0u);
}

TEST_F(X2s, TV_28_InviteRefusedBouncesEveryQueuedMessage) {
    receive(chat("m1", "th-5f2c1", "Hi Bob, are you free for a call?"));
    receive(chat("m2", "th-5f2c1", "hello?"));
    h.sip().respond(0, 486, "Busy Here");
    ASSERT_EQ(h.xmpp().count(), 2u);
    EXPECT_EQ(canonical_xml(h.xmpp().stanza(0)),
              canon("<message type='error' id='m1' from='bob@sip.example' "
                    "to='alice@xmpp.example/phone'><error type='wait'><recipient-unavailable "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>Busy Here</text></error>"
                    "</message>"));
    EXPECT_EQ(h.xmpp().stanza(1).attr("id"), "m2");
    EXPECT_EQ(plugin->session_count(), 0u);
    EXPECT_EQ(h.sip().count(), 1u); // the stack ACKs a non-2xx itself
}

TEST_F(X2s, TV_28_B_488StrictProfileGivesNotAcceptable) {
    receive(chat("m1", "th-5f2c1", "Hi"));
    h.sip().respond(0, 488, "Not Acceptable Here");
    ASSERT_EQ(h.xmpp().count(), 1u);
    EXPECT_NE(canonical_xml(h.xmpp().last()).find("not-acceptable"), std::string::npos);
}

TEST_F(X2s, UnusableSdpAnswerAcksByesAndBounces) {
    receive(chat("m1", "th-5f2c1", "Hi"));
    answer_200(0, "m=message 40010 TCP/MSRP *\r\na=accept-types:image/png\r\n"
                  "a=path:msrp://192.0.2.20:40010/b1Qz;tcp\r\n");
    ASSERT_EQ(h.sip().count(), 3u);
    EXPECT_EQ(h.sip().request(1).method, "ACK");
    EXPECT_EQ(h.sip().request(2).method, "BYE");
    ASSERT_EQ(h.xmpp().count(), 1u);
    EXPECT_NE(canonical_xml(h.xmpp().last()).find("not-acceptable"), std::string::npos);
}

TEST_F(X2s, InviteTimeoutBouncesAndLate2xxIsAckedAndByed) {
    receive(chat("m1", "th-5f2c1", "Hi"));
    h.advance(std::chrono::seconds(61));
    ASSERT_EQ(h.xmpp().count(), 1u);
    EXPECT_NE(canonical_xml(h.xmpp().last()).find("remote-server-timeout"), std::string::npos);
    answer_200(0, kBobAnswer);
    ASSERT_EQ(h.sip().count(), 3u);
    EXPECT_EQ(h.sip().request(1).method, "ACK");
    EXPECT_EQ(h.sip().request(2).method, "BYE");
    EXPECT_EQ(transport->sessions.size(), 0u);
}

TEST_F(X2s, MSRP_22_LostConnectionReinvitesAndResendsWithSameMessageId) {
    establish();
    receive(chat("m2", "th-5f2c1", "second"));
    const std::string mid = session().sent[1].message_id;
    session().result(0, msrp::SendOutcome::Sent);
    session().lose(); // m2 still pending
    ASSERT_EQ(h.sip().count(), 3u);
    const auto& re = h.sip().request(2);
    EXPECT_EQ(re.method, "INVITE");
    EXPECT_EQ(re.header("CSeq"), "2 INVITE");
    EXPECT_EQ(re.header("To"), "<sip:bob@sip.example>;tag=bt7");
    receive(chat("m3", "th-5f2c1", "third")); // queued while recovering
    EXPECT_EQ(h.xmpp().count(), 0u);
    answer_200(2, "m=message 40020 TCP/MSRP *\r\na=accept-types:text/plain\r\n"
                  "a=path:msrp://192.0.2.20:40020/new1;tcp\r\n");
    EXPECT_EQ(h.sip().request(3).method, "ACK");
    EXPECT_EQ(h.sip().request(3).header("CSeq"), "2 ACK");
    ASSERT_EQ(transport->sessions.size(), 2u);
    auto& s2 = session(1);
    ASSERT_EQ(s2.sent.size(), 2u);
    EXPECT_EQ(s2.sent[0].body, "second");
    EXPECT_EQ(s2.sent[0].message_id, mid); // MSRP-22: resent content keeps its Message-ID
    EXPECT_EQ(s2.sent[1].body, "third");
}

TEST_F(X2s, MSRP_22_FailedRecoveryByesGoneAndBounces) {
    establish();
    receive(chat("m2", "th-5f2c1", "second"));
    session().lose();
    h.sip().respond(2, 488, "Not Acceptable Here");
    // m2 bounced, <gone/> to alice, BYE to bob.
    ASSERT_EQ(h.xmpp().count(), 2u);
    EXPECT_EQ(h.xmpp().stanza(0).attr("id"), "m2");
    EXPECT_EQ(h.xmpp().stanza(0).attr("type"), "error");
    EXPECT_NE(h.xmpp().stanza(1).child("gone", "http://jabber.org/protocol/chatstates"), nullptr);
    EXPECT_EQ(h.sip().last().method, "BYE");
    EXPECT_EQ(plugin->session_count(), 0u);
}

class X2sLimits : public ChatFixture {
protected:
    void configure() override {
        h.config().set("/max_sessions", 1);
        h.config().set("/max_queued_messages", 2);
        h.config().set("/max_message_bytes", 1024);
        start();
    }
};

TEST_F(X2sLimits, MaxQueuedMessagesGivesResourceConstraint) {
    receive(chat("m1", "t", "1"));
    receive(chat("m2", "t", "2"));
    receive(chat("m3", "t", "3"));
    ASSERT_EQ(h.xmpp().count(), 1u);
    EXPECT_EQ(h.xmpp().last().attr("id"), "m3");
    EXPECT_NE(canonical_xml(h.xmpp().last()).find("resource-constraint"), std::string::npos);
}

TEST_F(X2sLimits, MaxSessionsGivesResourceConstraint) {
    receive(chat("m1", "t1", "1"));
    receive(chat("m2", "t2", "2"));
    EXPECT_EQ(h.sip().count(), 1u);
    ASSERT_EQ(h.xmpp().count(), 1u);
    EXPECT_EQ(h.xmpp().last().attr("id"), "m2");
    EXPECT_NE(canonical_xml(h.xmpp().last()).find("resource-constraint"), std::string::npos);
}

TEST_F(X2sLimits, CHAT_18_MaxMessageBytesGivesPolicyViolation) {
    receive(chat("m1", "t1", std::string(1025, 'a')));
    EXPECT_EQ(h.sip().count(), 0u);
    ASSERT_EQ(h.xmpp().count(), 1u);
    EXPECT_NE(canonical_xml(h.xmpp().last()).find("policy-violation"), std::string::npos);
}

TEST_F(X2s, AMB_33_LargerThanPeerMaxSizeGivesPolicyViolation) {
    receive(chat("m1", "th-5f2c1", "hi"));
    answer_200(0, std::string(kBobAnswer) + "a=max-size:10\r\n");
    receive(chat("m2", "th-5f2c1", "this is more than ten"));
    EXPECT_EQ(session().sent.size(), 1u);
    ASSERT_EQ(h.xmpp().count(), 1u);
    EXPECT_EQ(h.xmpp().last().attr("id"), "m2");
    EXPECT_NE(canonical_xml(h.xmpp().last()).find("policy-violation"), std::string::npos);
}

TEST_F(X2s, MSRP_27_CpimOnlyPeerGetsWrappedText) {
    receive(chat("m1", "th-5f2c1", "hi"));
    answer_200(0, "m=message 40010 TCP/MSRP *\r\na=accept-types:message/cpim\r\n"
                  "a=accept-wrapped-types:text/plain\r\n"
                  "a=path:msrp://192.0.2.20:40010/b1Qz;tcp\r\n");
    ASSERT_EQ(session().sent.size(), 1u);
    EXPECT_EQ(session().sent[0].content_type, "message/cpim");
    EXPECT_NE(session().sent[0].body.find("Content-Type: text/plain\r\n\r\nhi"), std::string::npos);
}

TEST_F(X2s, BadAddressesAreRefused) {
    receive("<message from='alice@xmpp.example/phone' to='sip.example' id='x' type='chat'>"
            "<body>hi</body></message>");
    ASSERT_EQ(h.xmpp().count(), 1u);
    EXPECT_NE(canonical_xml(h.xmpp().last()).find("jid-malformed"), std::string::npos);
    EXPECT_EQ(h.sip().count(), 0u);
}

TEST_F(X2s, ChatStateAloneOpensNoSession_AMB_7) {
    receive("<message from='alice@xmpp.example/phone' to='bob@sip.example' type='chat'>"
            "<composing xmlns='http://jabber.org/protocol/chatstates'/></message>");
    EXPECT_EQ(h.sip().count(), 0u);
    EXPECT_EQ(h.xmpp().count(), 0u);
}

TEST_F(X2s, StopByesEstablishedSessions) {
    establish();
    h.stop();
    EXPECT_EQ(h.sip().last().method, "BYE");
    EXPECT_TRUE(transport->shut_down);
}

} // namespace
} // namespace stox::plugins::chat::test
