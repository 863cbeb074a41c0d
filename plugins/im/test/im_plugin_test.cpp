// SPDX-License-Identifier: Apache-2.0
// The IM plugin driven through the SDK test harness: honest delivery (S2X), per-destination
// FIFO and error reporting (X2S), limits, logging and lifecycle.
#include <gtest/gtest.h>

#include "im_plugin.hpp"
#include "test_support.hpp"

namespace stox::plugins::im {
namespace {

using namespace std::chrono;
using stox::sdk::ErrorCode;
using stox::sdk::LogLevel;
using stox::sdk::Stanza;
using stox::sdk::Status;
using stox::sdk::testing::FakeSipServerTransaction;
using stox::sdk::testing::MapConfigView;
using stox::sdk::testing::PluginHarness;

constexpr std::string_view kTvIm02 = "MESSAGE sip:juliet@example.com SIP/2.0\n"
                                     "Via: SIP/2.0/TCP s2x.example.net;branch=z9hG4bKeskdgs677\n"
                                     "Max-Forwards: 70\n"
                                     "To: sip:juliet@example.com\n"
                                     "From: sip:romeo@example.net;tag=vwxyz\n"
                                     "Call-ID: 9E97FB43-85F4-4A00-8751-1124FD4C7B2E\n"
                                     "CSeq: 1 MESSAGE\n"
                                     "Content-Type: text/plain\n"
                                     "Content-Length: 44\n"
                                     "\n"
                                     "Neither, fair saint, if either thee dislike.";

constexpr std::string_view kTvIm01 = "<message from='juliet@example.com/yn0cl4bnw0yr3vym' "
                                     "to='romeo@example.net' id='m1'>"
                                     "<body>Art thou not Romeo, and a Montague?</body></message>";

std::string x2s(std::string_view id, std::string_view to = "romeo@example.net",
                std::string_view extra = {}) {
    return "<message from='juliet@example.com/balcony' to='" + std::string(to) + "' id='" +
           std::string(id) + "'" + std::string(extra) + "><body>hello " + std::string(id) +
           "</body></message>";
}

class ImPluginTest : public ::testing::Test {
protected:
    ImPluginTest() {
        h_.sip().set_domains({"example.net"});
        h_.xmpp().set_component_domain("example.net");
    }
    ~ImPluginTest() override { h_.stop(); }

    void start() { ASSERT_TRUE(h_.start(plugin_).ok()); }
    MapConfigView& config() { return h_.config(); }

    std::shared_ptr<FakeSipServerTransaction> sip(std::string_view raw) {
        return h_.receive_sip(test::parse_sip_request(raw));
    }
    void stanza(std::string_view xml) { h_.receive_stanza(test::parse_xml(xml)); }
    Stanza error_reply(std::string_view from, std::string_view to, std::string_view id,
                       std::string_view condition, std::string_view type = "cancel") {
        return test::parse_xml("<message from='" + std::string(from) + "' to='" + std::string(to) +
                               "' id='" + std::string(id) + "' type='error'><error type='" +
                               std::string(type) + "'><" + std::string(condition) +
                               " xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>");
    }
    /// Error reply to the i-th S2X stanza, as the XMPP server would send it.
    void refuse_stanza(std::size_t i, std::string_view condition) {
        const Stanza& s = h_.xmpp().stanza(i);
        h_.xmpp().reply(i, error_reply(s.attr("to"), s.attr("from"), s.attr("id"), condition));
    }
    std::uint64_t counter(std::string_view name) const { return h_.counter(name); }

    ImPlugin plugin_{"1.0.0", [] { return system_clock::time_point{sys_days{year{2024} / 5 / 1}}; },
                     42};
    PluginHarness h_{test::address_mapper(), test::error_mapper(), "org.stoxgw.im"};
};

// ---------------------------------------------------------------------------------------------
// S2X: honest delivery

TEST_F(ImPluginTest, TV_IM_02_AnsweredOnlyAfterWriteAndWindow) {
    start();
    auto tx = sip(kTvIm02);
    EXPECT_FALSE(tx->answered()); // nothing is known yet
    ASSERT_EQ(h_.xmpp().count(), 1u);
    const auto& sent = h_.xmpp().at(0);
    EXPECT_TRUE(sent.tracked);
    // IM-13: sent to the bare JID; fanning out to resources is the XMPP server's forking.
    EXPECT_EQ(sent.window, milliseconds(300));
    EXPECT_EQ(test::canon_without_id(sent.stanza),
              test::canon("<message from='romeo@example.net' to='juliet@example.com' id='ID'>"
                          "<thread>9E97FB43-85F4-4A00-8751-1124FD4C7B2E</thread>"
                          "<body>Neither, fair saint, if either thee dislike.</body></message>"));
    EXPECT_FALSE(sent.stanza.attr("id").empty());

    h_.xmpp().write(0);
    EXPECT_FALSE(tx->answered()); // written, but the window is open
    h_.advance(milliseconds(299));
    EXPECT_FALSE(tx->answered());
    h_.advance(milliseconds(1));
    ASSERT_TRUE(tx->answered());
    const auto r = *tx->final_response();
    EXPECT_EQ(r.status, 202);    // A-28 default: Accepted (IM-REF-5)
    EXPECT_TRUE(r.body.empty()); // IM-REF-4
    EXPECT_FALSE(r.has_header("Contact"));
    EXPECT_EQ(counter("im.s2x.delivered"), 1u);
    EXPECT_EQ(plugin_.pending_deliveries(), 0u);
    EXPECT_TRUE(tx->violations().empty());
    EXPECT_TRUE(h_.xmpp().violations().empty());
}

TEST_F(ImPluginTest, TV_IM_02_StrictRfc7572Answers200) {
    // IM-9: RFC 7572 returns 200 OK.
    config().set("/success_status", 200);
    start();
    auto tx = sip(kTvIm02);
    h_.xmpp().write(0);
    h_.advance(milliseconds(300));
    EXPECT_EQ(tx->status(), 200);
    EXPECT_EQ(tx->final_response()->reason, "OK");
}

TEST_F(ImPluginTest, TV_ERR_E3_XmppRefusalBecomesTheSipAnswer) {
    // Unknown user: <service-unavailable/> -> 403, never 503 (CORE-ERR-6, A-10).
    start();
    auto tx = sip(kTvIm02);
    h_.xmpp().write(0);
    h_.advance(milliseconds(100));
    refuse_stanza(0, "service-unavailable");
    EXPECT_EQ(tx->status(), 403);
    EXPECT_EQ(counter("im.s2x.refused"), 1u);
    EXPECT_EQ(counter("im.s2x.delivered"), 0u);
    h_.advance(seconds(60)); // nothing else happens: one final response
    EXPECT_TRUE(tx->violations().empty());
}

TEST_F(ImPluginTest, RefusalUsesBareOrFullTarget_A_9) {
    start();
    auto bare = sip(kTvIm02);
    h_.xmpp().write(0);
    refuse_stanza(0, "item-not-found");
    EXPECT_EQ(bare->status(), 604); // bare JID: 6xx (CORE-ERR-3)

    std::string raw(kTvIm02);
    raw.replace(raw.find("sip:juliet@example.com"), 22, "sip:juliet@example.com;gr=balcony");
    auto full = sip(raw);
    EXPECT_EQ(h_.xmpp().stanza(1).attr("to"), "juliet@example.com/balcony");
    h_.xmpp().write(1);
    refuse_stanza(1, "item-not-found");
    EXPECT_EQ(full->status(), 404); // full JID: 4xx
}

TEST_F(ImPluginTest, WriteFailuresAreMapped) {
    start();
    auto down = sip(kTvIm02);
    h_.xmpp().fail(0, Status(ErrorCode::Unreachable, "XMPP link down past the queue deadline"));
    EXPECT_EQ(down->status(), 408);
    auto full = sip(kTvIm02);
    h_.xmpp().fail(1, Status(ErrorCode::Overloaded, "queue full"));
    EXPECT_EQ(full->status(), 503);
    EXPECT_EQ(full->final_response()->header("Retry-After"), "5");
    EXPECT_EQ(counter("im.s2x.failed"), 2u);
    EXPECT_EQ(plugin_.pending_deliveries(), 0u);
}

TEST_F(ImPluginTest, AwaitWindowZeroAnswersWhenWritten) {
    config().set("/await_window_ms", 0);
    start();
    auto tx = sip(kTvIm02);
    EXPECT_EQ(h_.xmpp().at(0).window, milliseconds(0));
    EXPECT_FALSE(tx->answered());
    h_.xmpp().write(0);
    EXPECT_EQ(tx->status(), 202);
    EXPECT_EQ(counter("im.s2x.delivered"), 1u);
}

TEST_F(ImPluginTest, DeadlineAnswers408AndLateRefusalIsOnlyCounted) {
    config().set("/answer_deadline_ms", 1000);
    start();
    auto tx = sip(kTvIm02);
    h_.advance(milliseconds(999));
    EXPECT_FALSE(tx->answered());
    h_.advance(milliseconds(1));
    EXPECT_EQ(tx->status(), 408);
    EXPECT_EQ(counter("im.s2x.deadline_expired"), 1u);
    // The stanza is written late and refused: the SIP side already has its answer.
    h_.xmpp().write(0);
    refuse_stanza(0, "service-unavailable");
    EXPECT_EQ(counter("im.s2x.late_refusal"), 1u);
    EXPECT_TRUE(tx->violations().empty());
}

TEST_F(ImPluginTest, PendingDeliveriesAreBounded) {
    config().set("/max_pending_deliveries", 1);
    start();
    auto first = sip(kTvIm02);
    auto second = sip(kTvIm02);
    EXPECT_FALSE(first->answered());
    EXPECT_EQ(second->status(), 503);
    EXPECT_EQ(second->final_response()->header("Retry-After"), "5");
    EXPECT_EQ(h_.xmpp().count(), 1u);
    EXPECT_EQ(counter("im.s2x.overloaded"), 1u);
    h_.xmpp().write(0);
    h_.advance(milliseconds(300));
    EXPECT_EQ(first->status(), 202);
    EXPECT_FALSE(sip(kTvIm02)->answered()); // room again
}

TEST_F(ImPluginTest, LocalRejectionsSendNoStanza) {
    start();
    std::string mf0(kTvIm02);
    mf0.replace(mf0.find("Max-Forwards: 70"), 16, "Max-Forwards: 0");
    EXPECT_EQ(sip(mf0)->status(), 483); // TV-IM-21

    std::string sips(kTvIm02);
    sips.replace(0, 12, "MESSAGE sips:");
    auto tx = sip(sips); // TV-IM-13
    EXPECT_EQ(tx->status(), 480);
    EXPECT_EQ(tx->final_response()->header("Warning"), "380 example.net \"SIPS Not Allowed\"");

    std::string evil(kTvIm02);
    evil.replace(evil.find("sip:romeo@example.net;tag=vwxyz"), 31, "<sip:mallory@evil.example>");
    EXPECT_EQ(sip(evil)->status(), 403); // TV-IM-22

    std::string png(kTvIm02);
    png.replace(png.find("text/plain"), 10, "image/png");
    EXPECT_EQ(sip(png)->status(), 415); // TV-IM-12

    EXPECT_EQ(h_.xmpp().count(), 0u);
    EXPECT_EQ(counter("im.s2x.rejected"), 4u);
    EXPECT_EQ(counter("im.s2x.received"), 4u);
}

TEST_F(ImPluginTest, StanzaIdsAreUnique) {
    start();
    sip(kTvIm02);
    sip(kTvIm02);
    const std::string a = h_.xmpp().stanza(0).attr("id");
    const std::string b = h_.xmpp().stanza(1).attr("id");
    EXPECT_FALSE(a.empty());
    EXPECT_NE(a, b);
    // never derived from the SIP CSeq or Call-ID.
    EXPECT_EQ(a.find("9E97FB43"), std::string::npos);
}

TEST_F(ImPluginTest, ComponentDomainIsAnAllowedFromDomain) {
    h_.sip().set_domains({"sip.example.org"});
    h_.xmpp().set_component_domain("example.net");
    start();
    auto tx = sip(kTvIm02); // From romeo@example.net: the component's domain
    EXPECT_FALSE(tx->answered());
    EXPECT_EQ(h_.xmpp().count(), 1u);
}

TEST_F(ImPluginTest, NoDomainsMeansDegradedAndEveryMessageRefused) {
    h_.sip().set_domains({});
    h_.xmpp().set_component_domain("");
    start();
    ASSERT_FALSE(h_.context().health().empty());
    EXPECT_EQ(h_.context().health().back().first, stox::sdk::HealthLevel::Degraded);
    EXPECT_EQ(sip(kTvIm02)->status(), 403);
}

TEST_F(ImPluginTest, ChatStateIsDelivered) {
    start();
    std::string raw(kTvIm02);
    raw.replace(raw.find("text/plain"), 10, "application/im-iscomposing+xml");
    raw.erase(raw.find("Content-Length: 44\n"), 19);
    raw.replace(raw.find("Neither"), std::string::npos,
                "<isComposing xmlns='urn:ietf:params:xml:ns:im-iscomposing'><state>active</state>"
                "</isComposing>");
    auto tx = sip(raw);
    ASSERT_EQ(h_.xmpp().count(), 1u);
    EXPECT_NE(h_.xmpp().stanza(0).child("composing", "http://jabber.org/protocol/chatstates"),
              nullptr);
    EXPECT_EQ(counter("im.s2x.chat_state"), 1u);
    h_.xmpp().write(0);
    h_.advance(milliseconds(300));
    EXPECT_EQ(tx->status(), 202);
}

// ---------------------------------------------------------------------------------------------
// X2S

TEST_F(ImPluginTest, TV_IM_01_SentAndSuccessIsSilent) {
    start();
    stanza(kTvIm01);
    ASSERT_EQ(h_.sip().count(), 1u);
    const auto& r = h_.sip().request(0);
    EXPECT_EQ(r.request_uri, "sip:romeo@example.net");
    EXPECT_EQ(r.header("To"), "<sip:romeo@example.net>");
    EXPECT_EQ(r.header("From").rfind("<sip:juliet@example.com;gr=yn0cl4bnw0yr3vym>;tag=", 0), 0u);
    EXPECT_EQ(r.header("CSeq"), "1 MESSAGE");
    EXPECT_FALSE(r.header("Call-ID").empty());
    EXPECT_FALSE(r.has_header("Contact"));
    EXPECT_EQ(r.body, "Art thou not Romeo, and a Montague?");
    h_.sip().respond(0, 200, "OK");
    EXPECT_EQ(h_.xmpp().count(), 0u); // IM-4: nothing on success
    EXPECT_EQ(counter("im.x2s.delivered"), 1u);
    EXPECT_EQ(plugin_.busy_destinations(), 0u);
}

TEST_F(ImPluginTest, FreshTagsAndCallIds) {
    start();
    stanza(x2s("a"));
    h_.sip().respond(0, 200);
    stanza(x2s("b"));
    const auto& r0 = h_.sip().request(0);
    const auto& r1 = h_.sip().request(1);
    EXPECT_NE(r0.header("From"), r1.header("From"));
    EXPECT_NE(r0.header("Call-ID"), r1.header("Call-ID"));
}

TEST_F(ImPluginTest, TV_IM_17_Sip480BecomesRecipientUnavailable) {
    // IM-REF-6: a 4xx/5xx/6xx means not delivered (or refused): the sender is told.
    start();
    stanza(kTvIm01);
    h_.sip().respond(0, 480, "Temporarily Unavailable");
    ASSERT_EQ(h_.xmpp().count(), 1u);
    EXPECT_FALSE(h_.xmpp().at(0).tracked); // an error is never tracked for a reply
    EXPECT_EQ(test::canonical_xml(h_.xmpp().stanza(0)),
              test::canon("<message from='romeo@example.net' "
                          "to='juliet@example.com/yn0cl4bnw0yr3vym' id='m1' type='error'>"
                          "<error type='wait'><recipient-unavailable "
                          "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text "
                          "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>Temporarily Unavailable"
                          "</text></error></message>"));
    EXPECT_EQ(counter("im.x2s.failed"), 1u);
}

TEST_F(ImPluginTest, TV_IM_18_Sip603BecomesRecipientUnavailable) {
    start();
    stanza(kTvIm01);
    h_.sip().respond(0, 603, "Decline");
    EXPECT_EQ(test::canonical_xml(h_.xmpp().stanza(0)),
              test::canon("<message from='romeo@example.net' "
                          "to='juliet@example.com/yn0cl4bnw0yr3vym' id='m1' type='error'>"
                          "<error type='wait'><recipient-unavailable "
                          "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text "
                          "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>Decline</text></error>"
                          "</message>"));
}

TEST_F(ImPluginTest, TV_ERR_E1_Sip404BecomesItemNotFound) {
    start();
    stanza("<message from='juliet@example.com/yn0cl4bnw0yr3vym' to='romeo@example.net' "
           "id='m404'><body>hello</body></message>");
    h_.sip().respond(0, 404, "Not Found");
    EXPECT_EQ(test::canonical_xml(h_.xmpp().stanza(0)),
              test::canon("<message from='romeo@example.net' "
                          "to='juliet@example.com/yn0cl4bnw0yr3vym' id='m404' type='error'>"
                          "<error type='cancel'><item-not-found "
                          "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text "
                          "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>Not Found</text></error>"
                          "</message>"));
}

TEST_F(ImPluginTest, RedirectCarriesTheFirstContact) {
    // Table E2 302: the alternate address from Contact (TV-ERR-E2 shape, here for MESSAGE).
    start();
    stanza(kTvIm01);
    h_.sip().respond(0, 302, "Moved Temporarily",
                     {{"Contact", "<sip:romeo@other.example.net>;q=0.5, <sip:x@y.example>"}});
    const Stanza& e = h_.xmpp().stanza(0);
    const auto* err = e.child("error");
    ASSERT_NE(err, nullptr);
    EXPECT_EQ(err->attr("type"), "modify");
    const auto* redirect = err->child("redirect", "urn:ietf:params:xml:ns:xmpp-stanzas");
    ASSERT_NE(redirect, nullptr);
    EXPECT_EQ(redirect->text(), "xmpp:romeo@other.example.net");
}

TEST_F(ImPluginTest, TV_IM_14_GroupchatIsRefused) {
    // IM-REF-9: an undeliverable groupchat message gets <service-unavailable/> back.
    start();
    stanza("<message type='groupchat' from='room@conference.example.com/nick' "
           "to='romeo@example.net' id='g1'><body>hi</body></message>");
    EXPECT_EQ(h_.sip().count(), 0u);
    ASSERT_EQ(h_.xmpp().count(), 1u);
    const Stanza& e = h_.xmpp().stanza(0);
    EXPECT_EQ(e.attr("type"), "error");
    EXPECT_EQ(e.attr("from"), "romeo@example.net");
    EXPECT_EQ(e.attr("to"), "room@conference.example.com/nick");
    EXPECT_EQ(e.attr("id"), "g1");
    EXPECT_EQ(e.child("error")->attr("type"), "cancel");
    EXPECT_NE(e.child("error")->child("service-unavailable", "urn:ietf:params:xml:ns:xmpp-stanzas"),
              nullptr);
}

TEST_F(ImPluginTest, TV_IM_15_HeadlineErrorsAreNotReported) {
    // IM-REF-9: an undeliverable headline is dropped silently.
    start();
    stanza("<message type='headline' from='juliet@example.com/b' to='romeo@example.net' "
           "id='h1'><body>news</body></message>");
    ASSERT_EQ(h_.sip().count(), 1u);
    EXPECT_EQ(h_.sip().request(0).body, "news");
    h_.sip().respond(0, 404, "Not Found");
    EXPECT_EQ(h_.xmpp().count(), 0u);
    EXPECT_EQ(counter("im.x2s.headline_error_dropped"), 1u);
    // Nor local refusals (RFC 6121 §8.5.2.2.1).
    stanza("<message type='headline' from='juliet@example.com/b' to='romeo@example.net' "
           "id='h2'><body>" +
           std::string(2000, 'n') + "</body></message>");
    EXPECT_EQ(h_.xmpp().count(), 0u);
    EXPECT_EQ(counter("im.x2s.headline_error_dropped"), 2u);
}

TEST_F(ImPluginTest, TV_IM_20_OnePendingMessagePerDestination) {
    start();
    stanza(x2s("a"));
    stanza(x2s("b"));
    ASSERT_EQ(h_.sip().count(), 1u); // b waits for a's final response
    EXPECT_EQ(h_.sip().request(0).body, "hello a");
    EXPECT_EQ(plugin_.queued_messages(), 1u);
    EXPECT_EQ(counter("im.x2s.queued"), 1u);
    stanza(x2s("c", "other@example.net")); // another destination is not blocked
    ASSERT_EQ(h_.sip().count(), 2u);
    h_.sip().respond(0, 200);
    ASSERT_EQ(h_.sip().count(), 3u);
    EXPECT_EQ(h_.sip().request(2).body, "hello b");
    EXPECT_EQ(h_.sip().request(2).request_uri, "sip:romeo@example.net");
    h_.sip().respond(2, 200);
    h_.sip().respond(1, 200);
    EXPECT_EQ(plugin_.busy_destinations(), 0u);
}

TEST_F(ImPluginTest, QueueAndDestinationLimits) {
    config().set("/max_queue_per_destination", 1);
    config().set("/max_destinations", 2);
    start();
    stanza(x2s("a"));
    stanza(x2s("b"));
    stanza(x2s("c")); // the queue for romeo is full
    ASSERT_EQ(h_.xmpp().count(), 1u);
    const Stanza& e = h_.xmpp().stanza(0);
    EXPECT_EQ(e.attr("id"), "c");
    EXPECT_EQ(e.child("error")->attr("type"), "wait");
    EXPECT_NE(e.child("error")->child("resource-constraint", "urn:ietf:params:xml:ns:xmpp-stanzas"),
              nullptr);
    stanza(x2s("d", "two@example.net"));
    stanza(x2s("e", "three@example.net")); // a third destination
    ASSERT_EQ(h_.xmpp().count(), 2u);
    EXPECT_EQ(h_.xmpp().stanza(1).attr("id"), "e");
    EXPECT_EQ(counter("im.x2s.queue_full"), 2u);
    EXPECT_EQ(h_.sip().count(), 2u);
}

TEST_F(ImPluginTest, TotalQueuedMessagesAreBounded) {
    config().set("/max_queued_messages", 1);
    start();
    stanza(x2s("a"));
    stanza(x2s("b"));                    // waits behind a
    stanza(x2s("c", "two@example.net")); // sent at once
    stanza(x2s("d", "two@example.net")); // would be the second waiting stanza
    EXPECT_EQ(h_.sip().count(), 2u);
    ASSERT_EQ(h_.xmpp().count(), 1u);
    EXPECT_EQ(h_.xmpp().stanza(0).attr("id"), "d");
    EXPECT_EQ(counter("im.x2s.queue_full"), 1u);
}

TEST_F(ImPluginTest, CSeqIncreasesWhenAThreadContinues) {
    start();
    auto with_thread = [](std::string_view id) {
        return "<message from='juliet@example.com/b' to='romeo@example.net' id='" +
               std::string(id) + "'><thread>t-1</thread><body>x</body></message>";
    };
    stanza(with_thread("a"));
    h_.sip().respond(0, 200);
    stanza(with_thread("b"));
    ASSERT_EQ(h_.sip().count(), 2u);
    EXPECT_EQ(h_.sip().request(0).header("Call-ID"), "t-1");
    EXPECT_EQ(h_.sip().request(1).header("Call-ID"), "t-1");
    EXPECT_EQ(h_.sip().request(0).header("CSeq"), "1 MESSAGE");
    EXPECT_EQ(h_.sip().request(1).header("CSeq"), "2 MESSAGE");
}

TEST_F(ImPluginTest, TV_ERR_E5_ErrorStanzasAreNeverTranslated) {
    // CORE-ERR-14.
    start();
    stanza("<message type='error' from='juliet@example.com/a' to='romeo@example.net' id='zz'>"
           "<body>x</body><error type='cancel'><item-not-found "
           "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>");
    EXPECT_EQ(h_.sip().count(), 0u);
    EXPECT_EQ(h_.xmpp().count(), 0u);
    EXPECT_EQ(counter("im.x2s.error_ignored"), 1u);
}

TEST_F(ImPluginTest, TV_IM_23_NoBodyNothingSentNoError) {
    start();
    stanza("<message from='juliet@example.com/b' to='romeo@example.net'>"
           "<composing xmlns='http://jabber.org/protocol/chatstates'/></message>");
    EXPECT_EQ(h_.sip().count(), 0u);
    EXPECT_EQ(h_.xmpp().count(), 0u);
    EXPECT_EQ(counter("im.x2s.no_body"), 1u);
    EXPECT_TRUE(h_.log().contains("has no body", LogLevel::Debug));
    EXPECT_FALSE(h_.log().contains("has no body", LogLevel::Info));
}

TEST_F(ImPluginTest, TV_IM_10_TooLargeGivesPolicyViolation) {
    start();
    stanza("<message from='juliet@example.com/balcony' to='romeo@example.net' id='big'><body>" +
           std::string(1300, 'A') + "</body></message>");
    EXPECT_EQ(h_.sip().count(), 0u);
    ASSERT_EQ(h_.xmpp().count(), 1u);
    const Stanza& e = h_.xmpp().stanza(0);
    EXPECT_EQ(e.attr("from"), "romeo@example.net");
    EXPECT_EQ(e.attr("to"), "juliet@example.com/balcony");
    EXPECT_EQ(e.attr("id"), "big");
    EXPECT_EQ(e.attr("type"), "error");
    EXPECT_EQ(e.child("error")->attr("type"), "modify");
    EXPECT_NE(e.child("error")->child("policy-violation", "urn:ietf:params:xml:ns:xmpp-stanzas"),
              nullptr);
    // Boundary: 100 characters go out.
    std::string small = x2s("small");
    small.replace(small.find("hello small"), 11, std::string(100, 'A'));
    stanza(small);
    EXPECT_EQ(h_.sip().count(), 1u);
}

TEST_F(ImPluginTest, GuardReleasesAStuckDestination) {
    config().set("/sip_response_guard_ms", 5000);
    start();
    stanza(x2s("a"));
    stanza(x2s("b"));
    h_.advance(milliseconds(4999));
    EXPECT_EQ(h_.sip().count(), 1u);
    h_.advance(milliseconds(1));
    ASSERT_EQ(h_.xmpp().count(), 1u); // a: remote-server-timeout back to the sender
    EXPECT_EQ(h_.xmpp().stanza(0).attr("id"), "a");
    EXPECT_NE(h_.xmpp().stanza(0).child("error")->child("remote-server-timeout",
                                                        "urn:ietf:params:xml:ns:xmpp-stanzas"),
              nullptr);
    ASSERT_EQ(h_.sip().count(), 2u); // b goes out
    EXPECT_EQ(counter("im.x2s.guard_expired"), 1u);
    h_.sip().respond(0, 200); // a's answer arrives after all: ignored
    EXPECT_EQ(counter("im.x2s.late_response"), 1u);
    EXPECT_EQ(h_.sip().count(), 2u);
    h_.sip().respond(1, 200);
    EXPECT_EQ(counter("im.x2s.delivered"), 1u);
}

TEST_F(ImPluginTest, UnknownTypeIsTreatedAsNormal) {
    // RFC 6121 §5.2.2: an unknown type is handled as normal; IM-2/IM-7: the type itself is
    // not mapped.
    start();
    stanza(x2s("a", "romeo@example.net", " type='bogus'"));
    EXPECT_EQ(h_.sip().count(), 1u);
}

TEST_F(ImPluginTest, UnmappableAddressGetsAnError) {
    start();
    stanza("<message from='juliet@example.com/b' to='bad\"x@example.net' id='q'><body>x</body>"
           "</message>");
    EXPECT_EQ(h_.sip().count(), 0u);
    ASSERT_EQ(h_.xmpp().count(), 1u);
    EXPECT_EQ(h_.xmpp().stanza(0).attr("type"), "error");
    EXPECT_EQ(counter("im.x2s.rejected"), 1u);
}

TEST_F(ImPluginTest, StanzaWithoutFromIsDroppedWithAWarning) {
    start();
    stanza("<message to='romeo@example.net' id='nf'><body>x</body></message>");
    EXPECT_EQ(h_.sip().count(), 0u);
    EXPECT_EQ(h_.xmpp().count(), 0u);
    EXPECT_EQ(counter("im.x2s.invalid"), 1u);
    EXPECT_TRUE(h_.log().contains("without from", LogLevel::Warn));
}

TEST_F(ImPluginTest, ErrorReplyThatCannotBeWrittenIsCounted) {
    start();
    stanza(kTvIm01);
    h_.sip().respond(0, 486, "Busy Here");
    ASSERT_EQ(h_.xmpp().count(), 1u);
    h_.xmpp().fail(0, Status(ErrorCode::Unreachable, "link down"));
    EXPECT_EQ(counter("im.x2s.error_send_failed"), 1u);
}

// ---------------------------------------------------------------------------------------------
// Logging, lifecycle, reconfiguration

TEST_F(ImPluginTest, BodiesAreNeverLoggedAboveDebug) {
    start();
    EXPECT_TRUE(h_.log().contains("started", LogLevel::Info)); // lifecycle at info
    sip(kTvIm02);
    h_.xmpp().write(0);
    h_.advance(milliseconds(300));
    stanza(kTvIm01);
    h_.sip().respond(0, 480, "Temporarily Unavailable");
    EXPECT_FALSE(h_.log().contains("fair saint", LogLevel::Info));
    EXPECT_FALSE(h_.log().contains("Montague", LogLevel::Info));
    EXPECT_FALSE(h_.log().contains("fair saint", LogLevel::Debug));
    EXPECT_FALSE(h_.log().contains("Montague", LogLevel::Debug));
    EXPECT_TRUE(h_.log().contains("Montague", LogLevel::Trace));
}

TEST_F(ImPluginTest, StopAnswersEverythingOwed) {
    start();
    auto written = sip(kTvIm02);
    auto unwritten = sip(kTvIm02);
    h_.xmpp().write(0);
    stanza(x2s("a"));
    stanza(x2s("b")); // queued behind a
    const std::size_t before = h_.xmpp().count();
    h_.stop();
    EXPECT_EQ(written->status(), 202);   // written, no error seen
    EXPECT_EQ(unwritten->status(), 503); // not delivered: retry later
    EXPECT_EQ(unwritten->final_response()->header("Retry-After"), "5");
    ASSERT_EQ(h_.xmpp().count(), before + 1); // b's sender is told
    EXPECT_EQ(h_.xmpp().last().attr("id"), "b");
    EXPECT_NE(h_.xmpp().last().child("error")->child("resource-constraint",
                                                     "urn:ietf:params:xml:ns:xmpp-stanzas"),
              nullptr);
    EXPECT_TRUE(h_.log().contains("stopped", LogLevel::Info));
    // Completions after stop are dropped by the strand; nothing runs, nothing crashes.
    h_.sip().respond(0, 200);
    h_.xmpp().write(1);
    EXPECT_TRUE(written->violations().empty());
    EXPECT_TRUE(unwritten->violations().empty());
}

TEST_F(ImPluginTest, ReconfigureAppliesNewLimits) {
    start();
    config().set("/max_queue_per_destination", 0);
    config().set("/success_status", 200);
    ASSERT_TRUE(h_.reconfigure().ok());
    stanza(x2s("a"));
    stanza(x2s("b"));
    EXPECT_EQ(counter("im.x2s.queue_full"), 1u);
    auto tx = sip(kTvIm02);
    h_.xmpp().write(1);
    h_.advance(milliseconds(300));
    EXPECT_EQ(tx->status(), 200);
    config().set("/await_window_ms", -1);
    EXPECT_EQ(h_.reconfigure().code(), ErrorCode::InvalidConfig);
    EXPECT_EQ(plugin_.config().success_status, 200); // the old config stays
}

TEST_F(ImPluginTest, InvalidConfigFailsStart) {
    config().set("/max_sip_message_bytes", 10);
    EXPECT_EQ(h_.start(plugin_).code(), ErrorCode::InvalidConfig);
}

} // namespace
} // namespace stox::plugins::im
