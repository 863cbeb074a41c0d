// SPDX-License-Identifier: Apache-2.0
// W-X role (gateway = SIP subscriber): stox-core §2.3.1 and vectors TV-PRES-01..12, 25..28, 31.
#include "watcher_role.hpp"

#include <gtest/gtest.h>

#include <map>

#include "pidf_codec.hpp"
#include "presence_test_support.hpp"
#include "sip_dialog.hpp"

namespace stox::plugins::presence::test {
namespace {

using namespace std::chrono_literals;
using sdk::testing::FakeSipServerTransaction;

constexpr const char* kRomeoPidfAway =
    "<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='pres:romeo@example.net'>"
    "<tuple id='ID-dr4hcr0st3lup4c'><status><basic>open</basic>"
    "<show xmlns='jabber:client'>away</show></status></tuple></presence>";
constexpr const char* kRomeoPidfClosed =
    "<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='pres:romeo@example.net'>"
    "<tuple id='ID-dr4hcr0st3lup4c'><status><basic>closed</basic></status></tuple></presence>";

struct WatcherFixture : RoleFixture {
    explicit WatcherFixture(PresenceConfig cfg = {}) : RoleFixture(cfg), role(*shared) {}
    WatcherRole role;

    void stanza(std::string_view xml) {
        role.on_stanza(parse_xml(xml));
        exec().run_pending();
    }
    /// juliet subscribes to romeo; the SUBSCRIBE is answered `status` with tag ffd2.
    void subscribe_and_answer(int status = 200, std::string expires = "3600") {
        stanza("<presence from='juliet@example.com' to='romeo@example.net' type='subscribe'/>");
        ASSERT_EQ(sip().count(), 1u);
        sdk::SipResponse r;
        r.status = status;
        r.set_header("To", "<sip:romeo@example.net>;tag=ffd2");
        r.set_header("Contact", "<sip:romeo@192.0.2.9:5060>");
        r.set_header("Expires", expires);
        sip().respond(0, r);
        exec().run_pending();
    }
    /// An in-dialog NOTIFY built from our last SUBSCRIBE.
    std::shared_ptr<FakeSipServerTransaction> notify(std::string state, std::string body = {},
                                                     std::size_t subscribe_index = 0,
                                                     std::string contact = {}) {
        const auto& sub = sip().request(subscribe_index);
        auto from = parse_name_addr(sub.header("From"));
        sdk::SipRequest n;
        n.method = "NOTIFY";
        n.request_uri = "sip:juliet@s2x.example.net";
        n.set_header("From", "<sip:romeo@example.net>;tag=ffd2");
        n.set_header("To", "<sip:juliet@example.com>;tag=" + from->tag);
        n.set_header("Call-ID", sub.header("Call-ID"));
        n.set_header("CSeq", std::to_string(++notify_cseq) + " NOTIFY");
        n.set_header("Event", "presence");
        n.set_header("Subscription-State", state);
        n.set_header("Contact",
                     contact.empty() ? "<sip:romeo@example.net;gr=dr4hcr0st3lup4c>" : contact);
        if (!body.empty()) {
            n.set_header("Content-Type", "application/pidf+xml");
            n.body = std::move(body);
        }
        auto tx = std::make_shared<FakeSipServerTransaction>(n);
        role.on_notify(tx);
        exec().run_pending();
        return tx;
    }
    std::vector<std::string> stanzas_canon(std::size_t from = 0) {
        std::vector<std::string> out;
        for (std::size_t i = from; i < xmpp().count(); ++i)
            out.push_back(canon_without_id(xmpp().stanza(i)));
        return out;
    }
    int notify_cseq = 0;
};

int status_of(const std::shared_ptr<FakeSipServerTransaction>& tx) {
    auto f = tx->final_response();
    return f ? f->status : 0;
}

// TV-PRES-01, PRES-WX-1: subscribe -> SUBSCRIBE in a new dialog, nothing to XMPP yet.
TEST(WatcherRole, TvPres01SubscribeBecomesSubscribe) {
    WatcherFixture f;
    f.stanza("<presence from='juliet@example.com' to='romeo@example.net' type='subscribe'/>");
    ASSERT_EQ(f.sip().count(), 1u);
    const auto& r = f.sip().request(0);
    EXPECT_EQ(r.method, "SUBSCRIBE");
    EXPECT_EQ(r.request_uri, "sip:romeo@example.net");
    auto from = parse_name_addr(r.header("From"));
    ASSERT_TRUE(from);
    EXPECT_EQ(from->uri, "sip:juliet@example.com");
    EXPECT_FALSE(from->tag.empty());
    auto to = parse_name_addr(r.header("To"));
    ASSERT_TRUE(to);
    EXPECT_EQ(to->uri, "sip:romeo@example.net");
    EXPECT_TRUE(to->tag.empty()); // To has no tag
    EXPECT_FALSE(r.header("Call-ID").empty());
    EXPECT_EQ(r.header("CSeq"), "1 SUBSCRIBE");
    EXPECT_EQ(r.header("Contact"), "<sip:juliet@s2x.example.net>"); // no gr as header param
    EXPECT_EQ(r.header("Event"), "presence");
    EXPECT_EQ(r.header("Accept"), "application/pidf+xml");
    EXPECT_EQ(r.header("Expires"), "3600");
    EXPECT_EQ(f.xmpp().count(), 0u);
}

// TV-PRES-02, PRES-WX-4 MUST, PRES-WX-2 (neutral until active): pending NOTIFY -> 200, zero
// stanzas, Timer N cancelled.
TEST(WatcherRole, TvPres02PendingNotifyProducesNoStanza) {
    WatcherFixture f;
    f.subscribe_and_answer();
    auto tx = f.notify("pending;expires=3600");
    EXPECT_EQ(status_of(tx), 200);
    EXPECT_EQ(f.xmpp().count(), 0u);
    f.exec().advance(40s); // past Timer N: cancelled, so no resubscribe
    EXPECT_EQ(f.sip().count(), 1u);
}

// TV-PRES-03, PRES-WX-5/6, PRES-NOT-12 (Table P2): first active NOTIFY with a body ->
// subscribed, then the presence; PRES-WX-8: refreshed before expiry.
TEST(WatcherRole, TvPres03FirstActiveNotifyWithBody) {
    WatcherFixture f;
    f.subscribe_and_answer();
    auto tx = f.notify("active;expires=499", kRomeoPidfAway);
    EXPECT_EQ(status_of(tx), 200);
    EXPECT_EQ(f.stanzas_canon(),
              (std::vector<std::string>{
                  canon("<presence xmlns='jabber:component:accept' from='romeo@example.net' "
                        "to='juliet@example.com' type='subscribed'/>"),
                  canon("<presence xmlns='jabber:component:accept' "
                        "from='romeo@example.net/dr4hcr0st3lup4c' to='juliet@example.com'>"
                        "<show>away</show></presence>")}));
    // The refresh is scheduled before 499 s: an in-dialog SUBSCRIBE with CSeq 2, same tags.
    f.exec().advance(420s);
    EXPECT_EQ(f.sip().count(), 1u);
    f.exec().advance(5s); // 85 % of 499 s = 424.15 s
    ASSERT_EQ(f.sip().count(), 2u);
    const auto& refresh = f.sip().request(1);
    EXPECT_EQ(refresh.header("Call-ID"), f.sip().request(0).header("Call-ID"));
    EXPECT_EQ(refresh.header("CSeq"), "2 SUBSCRIBE");
    EXPECT_NE(refresh.header("To").find("tag=ffd2"), std::string::npos);
    EXPECT_EQ(refresh.request_uri, "sip:romeo@example.net;gr=dr4hcr0st3lup4c"); // remote target
}

// TV-PRES-04, PRES-WX-6: first active NOTIFY without a body -> only subscribed.
TEST(WatcherRole, TvPres04FirstActiveNotifyWithoutBody) {
    WatcherFixture f;
    f.subscribe_and_answer();
    f.notify("active;expires=3600");
    EXPECT_EQ(f.stanzas_canon(),
              (std::vector<std::string>{
                  canon("<presence xmlns='jabber:component:accept' from='romeo@example.net' "
                        "to='juliet@example.com' type='subscribed'/>")}));
}

// TV-PRES-05, PRES-NOT-13 MUST, A-21: later closed -> unavailable from the full JID, no second
// subscribed.
TEST(WatcherRole, TvPres05LaterClosedNotify) {
    WatcherFixture f;
    f.subscribe_and_answer();
    f.notify("active;expires=499", kRomeoPidfAway);
    std::size_t before = f.xmpp().count();
    f.notify("active;expires=300", kRomeoPidfClosed);
    EXPECT_EQ(f.stanzas_canon(before),
              (std::vector<std::string>{
                  canon("<presence xmlns='jabber:component:accept' "
                        "from='romeo@example.net/dr4hcr0st3lup4c' to='juliet@example.com' "
                        "type='unavailable'/>")}));
}

// TV-PRES-06, PRES-WX-10 MUST: 403 (and 489, 603) on refresh cancels the authorization.
class WatcherRoleRefreshRefused : public ::testing::TestWithParam<int> {};
TEST_P(WatcherRoleRefreshRefused, TvPres06PermanentCancel) {
    WatcherFixture f;
    f.subscribe_and_answer();
    f.notify("active;expires=3600", kRomeoPidfAway);
    std::size_t before = f.xmpp().count();
    f.exec().advance(3600s);
    ASSERT_EQ(f.sip().count(), 2u); // the refresh
    f.sip().respond(1, GetParam());
    f.exec().run_pending();
    EXPECT_EQ(f.stanzas_canon(before),
              (std::vector<std::string>{
                  canon("<presence xmlns='jabber:component:accept' from='romeo@example.net' "
                        "to='juliet@example.com' type='unsubscribed'/>"),
                  canon("<presence xmlns='jabber:component:accept' "
                        "from='romeo@example.net/dr4hcr0st3lup4c' to='juliet@example.com' "
                        "type='unavailable'/>")}));
    EXPECT_EQ(f.role.size(), 0u);
    f.exec().advance(10000s);
    EXPECT_EQ(f.sip().count(), 2u); // no more SUBSCRIBEs
    bool stored = false;
    f.store.load_all({[&](store::WatcherRecord&&) { stored = true; }, {}});
    EXPECT_FALSE(stored); // the state is deleted
}
INSTANTIATE_TEST_SUITE_P(Codes, WatcherRoleRefreshRefused, ::testing::Values(403, 489, 603));

// TV-PRES-07, PRES-WX-11: 481 on refresh -> a new dialog (new Call-ID and tag, CSeq 1), no stanza.
TEST(WatcherRole, TvPres07RefreshAnswered481StartsANewDialog) {
    WatcherFixture f;
    f.subscribe_and_answer();
    f.notify("active;expires=3600");
    std::size_t before = f.xmpp().count();
    f.exec().advance(3600s);
    ASSERT_EQ(f.sip().count(), 2u);
    f.sip().respond(1, 481);
    f.exec().run_pending();
    ASSERT_EQ(f.sip().count(), 3u);
    const auto& fresh = f.sip().request(2);
    EXPECT_NE(fresh.header("Call-ID"), f.sip().request(0).header("Call-ID"));
    EXPECT_NE(parse_name_addr(fresh.header("From"))->tag,
              parse_name_addr(f.sip().request(0).header("From"))->tag);
    EXPECT_EQ(fresh.header("CSeq"), "1 SUBSCRIBE");
    EXPECT_EQ(fresh.header("Expires"), "3600");
    EXPECT_TRUE(parse_name_addr(fresh.header("To"))->tag.empty());
    EXPECT_EQ(f.xmpp().count(), before);
    EXPECT_EQ(f.role.size(), 1u); // the authorization is kept
}

// TV-PRES-08: 423 with Min-Expires -> resent with that Expires, no stanza.
TEST(WatcherRole, TvPres08IntervalTooBriefRetriesWithMinExpires) {
    WatcherFixture f;
    f.stanza("<presence from='juliet@example.com' to='romeo@example.net' type='subscribe'/>");
    sdk::SipResponse r;
    r.status = 423;
    r.set_header("Min-Expires", "7200");
    f.sip().respond(0, r);
    f.exec().run_pending();
    ASSERT_EQ(f.sip().count(), 2u);
    EXPECT_EQ(f.sip().request(1).header("Expires"), "7200");
    EXPECT_EQ(f.xmpp().count(), 0u);
}

// TV-PRES-09, PRES-SEC-4: with probe_before_refresh the refresh waits for the user's answer.
TEST(WatcherRole, TvPres09RefreshPrecededByAProbe) {
    PresenceConfig cfg;
    cfg.probe_before_refresh = true;
    WatcherFixture f(cfg);
    f.subscribe_and_answer();
    f.notify("active;expires=3600");
    std::size_t before = f.xmpp().count();
    f.exec().advance(3600s);
    EXPECT_EQ(f.sip().count(), 1u); // no SUBSCRIBE before the probe is answered
    ASSERT_EQ(f.xmpp().count(), before + 1);
    auto probe = f.xmpp().stanza(before);
    EXPECT_EQ(probe.attr("type"), "probe");
    EXPECT_EQ(probe.attr("from"), "example.net");      // the gateway's own address
    EXPECT_EQ(probe.attr("to"), "juliet@example.com"); // the bare JID
    f.stanza("<presence from='juliet@example.com/chamber' to='example.net' id='" +
             probe.attr("id") + "'/>");
    ASSERT_EQ(f.sip().count(), 2u);
    EXPECT_EQ(f.sip().request(1).header("CSeq"), "2 SUBSCRIBE");
    EXPECT_EQ(f.sip().request(1).header("Expires"), "3600");
}

TEST(WatcherRole, TvPres09ProbeAnsweredUnavailableLetsTheDialogLapse) {
    PresenceConfig cfg;
    cfg.probe_before_refresh = true;
    WatcherFixture f(cfg);
    f.subscribe_and_answer();
    f.notify("active;expires=3600");
    std::size_t before = f.xmpp().count();
    f.exec().advance(3600s);
    auto probe = f.xmpp().stanza(before);
    f.stanza("<presence from='juliet@example.com' to='example.net' type='unsubscribed' id='" +
             probe.attr("id") + "'/>");
    EXPECT_EQ(f.sip().count(), 1u);
}

// TV-PRES-10, PRES-WX-12, PRES-WX-13, PRES-WX-14, A-15: unsubscribe -> SUBSCRIBE Expires: 0 in the
// dialog, `unsubscribed` on its 2xx, the terminal NOTIFY gets 200 and no stanza.
TEST(WatcherRole, TvPres10XmppUnsubscribe) {
    WatcherFixture f;
    f.subscribe_and_answer();
    f.notify("active;expires=3600");
    std::size_t before = f.xmpp().count();
    f.stanza("<presence from='juliet@example.com' to='romeo@example.net' type='unsubscribe'/>");
    ASSERT_EQ(f.sip().count(), 2u);
    const auto& unsub = f.sip().request(1);
    EXPECT_EQ(unsub.method, "SUBSCRIBE");
    EXPECT_EQ(unsub.header("Expires"), "0");
    EXPECT_EQ(unsub.header("CSeq"), "2 SUBSCRIBE");
    EXPECT_EQ(unsub.header("Call-ID"), f.sip().request(0).header("Call-ID"));
    EXPECT_EQ(unsub.header("Event"), "presence");
    EXPECT_EQ(f.xmpp().count(), before); // not before the 200 (RFC 8048 change)
    f.sip().respond(1, 200);
    f.exec().run_pending();
    EXPECT_EQ(f.stanzas_canon(before),
              (std::vector<std::string>{
                  canon("<presence xmlns='jabber:component:accept' from='romeo@example.net' "
                        "to='juliet@example.com' type='unsubscribed'/>")}));
    auto tx = f.notify("terminated;reason=timeout");
    EXPECT_EQ(status_of(tx), 200);
    EXPECT_EQ(f.xmpp().count(), before + 1);
    // The gateway never sends a NOTIFY itself on a subscriber dialog.
    for (std::size_t i = 0; i < f.sip().count(); ++i)
        EXPECT_NE(f.sip().request(i).method, "NOTIFY");
}

// TV-PRES-11, PRES-POLL-1: a probe without authorization -> SUBSCRIBE Expires: 0, new dialog;
// the answer goes to the prober with the probe id mirrored.
TEST(WatcherRole, TvPres11ProbeWithoutAuthorizationPolls) {
    WatcherFixture f;
    f.stanza("<presence from='juliet@example.com/chamber' to='romeo@example.net' type='probe' "
             "id='probe1'/>");
    ASSERT_EQ(f.sip().count(), 1u);
    const auto& poll = f.sip().request(0);
    EXPECT_EQ(poll.header("Expires"), "0");
    EXPECT_EQ(poll.header("CSeq"), "1 SUBSCRIBE");
    EXPECT_EQ(poll.header("Event"), "presence");
    EXPECT_EQ(poll.header("Accept"), "application/pidf+xml");
    f.sip().respond(0, 200);
    f.exec().run_pending();
    auto tx = f.notify("terminated;reason=timeout",
                       "<presence xmlns='urn:ietf:params:xml:ns:pidf' "
                       "entity='pres:romeo@example.net'><tuple id='ID-dr4hcr0st3lup4c'>"
                       "<status><basic>open</basic></status></tuple></presence>");
    EXPECT_EQ(status_of(tx), 200);
    ASSERT_EQ(f.xmpp().count(), 1u);
    EXPECT_EQ(canonical_xml(f.xmpp().stanza(0)),
              canon("<presence xmlns='jabber:component:accept' "
                    "from='romeo@example.net/dr4hcr0st3lup4c' to='juliet@example.com/chamber' "
                    "id='probe1'/>"));
}

// TV-PRES-12: the poll is refused 403 -> unsubscribed from the bare JID, id mirrored.
TEST(WatcherRole, TvPres12ProbeAnswered403) {
    WatcherFixture f;
    f.stanza("<presence from='juliet@example.com/chamber' to='romeo@example.net' type='probe' "
             "id='probe1'/>");
    f.sip().respond(0, 403);
    f.exec().run_pending();
    ASSERT_EQ(f.xmpp().count(), 1u);
    EXPECT_EQ(canonical_xml(f.xmpp().stanza(0)),
              canon("<presence xmlns='jabber:component:accept' from='romeo@example.net' "
                    "to='juliet@example.com/chamber' id='probe1' type='unsubscribed'/>"));
}

// TV-PRES-25: several tuples -> one stanza each; A-27 resource from the contact's gr.
TEST(WatcherRole, TvPres25SeveralTuples) {
    WatcherFixture f;
    f.subscribe_and_answer();
    f.notify("active;expires=3600",
             "<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='pres:romeo@example.net'>"
             "<tuple id='ID-a'><status><basic>open</basic></status>"
             "<contact>sip:romeo@example.net;gr=a</contact></tuple>"
             "<tuple id='ID-b'><status><basic>closed</basic></status></tuple></presence>",
             0, "<sip:romeo@192.0.2.9>");
    EXPECT_EQ(f.stanzas_canon(1),
              (std::vector<std::string>{
                  canon("<presence xmlns='jabber:component:accept' from='romeo@example.net/a' "
                        "to='juliet@example.com'/>"),
                  canon("<presence xmlns='jabber:component:accept' from='romeo@example.net/b' "
                        "to='juliet@example.com' type='unavailable'/>")}));
}

// TV-PRES-26/27/28: notes, priority and RPID through the role (Table P2). PRES-NOT-10: an
// availability extension (RPID here) is turned into <show/> where it can be.
TEST(WatcherRole, TvPres26To28NotesPriorityAndRpid) {
    WatcherFixture f;
    f.subscribe_and_answer();
    f.notify("active;expires=3600",
             "<presence xmlns='urn:ietf:params:xml:ns:pidf' "
             "xmlns:rpid='urn:ietf:params:xml:ns:pidf:rpid' entity='pres:romeo@example.net'>"
             "<tuple id='ID-x'><status><basic>open</basic></status>"
             "<rpid:activities><rpid:on-the-phone/></rpid:activities>"
             "<contact priority='0.8'>sip:romeo@example.net;gr=x</contact>"
             "<note xml:lang='en'>Gone fishing</note><note xml:lang='fr'>Parti pêcher</note>"
             "</tuple></presence>",
             0, "<sip:romeo@192.0.2.9>");
    ASSERT_EQ(f.xmpp().count(), 2u);
    EXPECT_EQ(canonical_xml(f.xmpp().stanza(1)),
              canon("<presence xmlns='jabber:component:accept' from='romeo@example.net/x' "
                    "to='juliet@example.com'><show>dnd</show>"
                    "<status xml:lang='en'>Gone fishing</status>"
                    "<status xml:lang='fr'>Parti pêcher</status><priority>102</priority>"
                    "</presence>"));
}

// TV-PRES-31: rejected after active -> unsubscribed + unavailable, no resubscribe.
TEST(WatcherRole, TvPres31RejectedAfterActive) {
    WatcherFixture f;
    f.subscribe_and_answer();
    f.notify("active;expires=3600", kRomeoPidfAway);
    std::size_t before = f.xmpp().count();
    auto tx = f.notify("terminated;reason=rejected");
    EXPECT_EQ(status_of(tx), 200);
    EXPECT_EQ(f.stanzas_canon(before),
              (std::vector<std::string>{
                  canon("<presence xmlns='jabber:component:accept' from='romeo@example.net' "
                        "to='juliet@example.com' type='unsubscribed'/>"),
                  canon("<presence xmlns='jabber:component:accept' "
                        "from='romeo@example.net/dr4hcr0st3lup4c' to='juliet@example.com' "
                        "type='unavailable'/>")}));
    f.exec().advance(5000s);
    EXPECT_EQ(f.sip().count(), 1u);
}

// PRES-WX-9 / A-22: another failure on refresh keeps the authorization, withdraws the
// resources and resubscribes after 60 s, doubling.
TEST(WatcherRole, PresWx9RefreshFailureBacksOff) {
    WatcherFixture f;
    f.subscribe_and_answer();
    f.notify("active;expires=3600", kRomeoPidfAway);
    std::size_t before = f.xmpp().count();
    f.exec().advance(3600s);
    ASSERT_EQ(f.sip().count(), 2u);
    f.sip().respond(1, 480);
    f.exec().run_pending();
    EXPECT_EQ(f.stanzas_canon(before),
              (std::vector<std::string>{
                  canon("<presence xmlns='jabber:component:accept' "
                        "from='romeo@example.net/dr4hcr0st3lup4c' to='juliet@example.com' "
                        "type='unavailable'/>")}));
    f.exec().advance(59s);
    EXPECT_EQ(f.sip().count(), 2u);
    f.exec().advance(1s);
    ASSERT_EQ(f.sip().count(), 3u);
    EXPECT_EQ(f.sip().request(2).header("CSeq"), "1 SUBSCRIBE"); // a new dialog
    f.sip().respond(2, 503);
    f.exec().run_pending();
    f.exec().advance(119s);
    EXPECT_EQ(f.sip().count(), 3u);
    f.exec().advance(1s);
    EXPECT_EQ(f.sip().count(), 4u); // 120 s: doubled
}

// Initial SUBSCRIBE refused with another code: presence error per Table E2 (§2.3.1).
TEST(WatcherRole, InitialSubscribeRefusedGivesPresenceError) {
    WatcherFixture f;
    f.stanza("<presence from='juliet@example.com' to='romeo@example.net' type='subscribe'/>");
    f.sip().respond(0, 404);
    f.exec().run_pending();
    ASSERT_EQ(f.xmpp().count(), 1u);
    auto err = f.xmpp().stanza(0);
    EXPECT_EQ(err.attr("type"), "error");
    EXPECT_EQ(err.attr("from"), "romeo@example.net");
    EXPECT_EQ(err.attr("to"), "juliet@example.com");
    ASSERT_NE(err.child("error"), nullptr);
    EXPECT_NE(err.child("error")->child("item-not-found", sdk::kStanzaErrorNs), nullptr);
    EXPECT_EQ(f.role.size(), 0u);
}

// Timer N (RFC 6665 §4.1.2.4): no NOTIFY after the 2xx -> transient failure, backoff.
TEST(WatcherRole, TimerNWithoutNotifyBacksOff) {
    WatcherFixture f;
    f.subscribe_and_answer();
    f.exec().advance(32s);
    EXPECT_EQ(f.sip().count(), 1u);
    f.exec().advance(60s);
    EXPECT_EQ(f.sip().count(), 2u);
}

// PRES-SEC-5: a NOTIFY that matches no dialog is refused (481) and produces nothing.
TEST(WatcherRole, PresSec5NotifyForAnUnknownDialogGets481) {
    WatcherFixture f;
    f.subscribe_and_answer();
    sdk::SipRequest n = parse_sip_request(
        "NOTIFY sip:juliet@s2x.example.net SIP/2.0\r\n"
        "From: <sip:romeo@example.net>;tag=zz\r\nTo: <sip:juliet@example.com>;tag=nope\r\n"
        "Call-ID: unknown-dialog\r\nCSeq: 1 NOTIFY\r\nEvent: presence\r\n"
        "Subscription-State: active;expires=60\r\n\r\n");
    auto tx = std::make_shared<FakeSipServerTransaction>(n);
    f.role.on_notify(tx);
    EXPECT_EQ(status_of(tx), 481);
    // Right Call-ID but a foreign To tag: refused as well.
    auto wrong_tag = f.notify("active;expires=60");
    (void)wrong_tag;
    sdk::SipRequest n2 = f.sip().request(0);
    EXPECT_EQ(f.xmpp().count(), 1u); // only the subscribed of the good NOTIFY
}

// Malformed PIDF: 400 with a reason, no stanza, no crash (issue 4 item 2).
TEST(WatcherRole, MalformedPidfIsRefusedWith400) {
    WatcherFixture f;
    f.subscribe_and_answer();
    auto tx = f.notify("active;expires=3600", "<presence xmlns='urn:ietf:params:xml:ns:pidf'");
    EXPECT_EQ(status_of(tx), 400);
    EXPECT_EQ(f.xmpp().count(), 0u);
    auto dtd = f.notify("active;expires=3600",
                        "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaa'>]>"
                        "<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='pres:a@b'/>");
    EXPECT_EQ(status_of(dtd), 400);
    // A well-formed NOTIFY afterwards still works (state untouched by the refused ones).
    auto ok = f.notify("active;expires=3600", kRomeoPidfAway);
    EXPECT_EQ(status_of(ok), 200);
    EXPECT_EQ(f.xmpp().count(), 2u);
}

TEST(WatcherRole, NotifyWithoutSubscriptionStateGets400) {
    WatcherFixture f;
    f.subscribe_and_answer();
    auto tx = f.notify("");
    EXPECT_EQ(status_of(tx), 400);
}

TEST(WatcherRole, NotifyWithOtherContentTypeGets415) {
    WatcherFixture f;
    f.subscribe_and_answer();
    const auto& sub = f.sip().request(0);
    auto from = parse_name_addr(sub.header("From"));
    sdk::SipRequest n = parse_sip_request("NOTIFY sip:juliet@s2x.example.net SIP/2.0\r\n\r\n");
    n.set_header("From", "<sip:romeo@example.net>;tag=ffd2");
    n.set_header("To", "<sip:juliet@example.com>;tag=" + from->tag);
    n.set_header("Call-ID", sub.header("Call-ID"));
    n.set_header("CSeq", "5 NOTIFY");
    n.set_header("Event", "presence");
    n.set_header("Subscription-State", "active;expires=60");
    n.set_header("Content-Type", "application/xpidf+xml");
    n.body = "<presence/>";
    auto tx = std::make_shared<FakeSipServerTransaction>(n);
    f.role.on_notify(tx);
    EXPECT_EQ(status_of(tx), 415);
}

// NOTIFY terminated;reason=deactivated -> resubscribe at once in a new dialog (RFC 6665).
TEST(WatcherRole, DeactivatedResubscribesImmediately) {
    WatcherFixture f;
    f.subscribe_and_answer();
    f.notify("active;expires=3600");
    f.notify("terminated;reason=deactivated");
    ASSERT_EQ(f.sip().count(), 2u);
    EXPECT_NE(f.sip().request(1).header("Call-ID"), f.sip().request(0).header("Call-ID"));
}

// the user went offline: the refresh is skipped and the dialog lapses; PRES-WX-7: the
// next initial presence resubscribes.
TEST(WatcherRole, PresWx7OfflineUserLapsesAndInitialPresenceResubscribes) {
    WatcherFixture f;
    f.stanza("<presence from='juliet@example.com/balcony' to='romeo@example.net'/>");
    f.subscribe_and_answer();
    f.notify("active;expires=600");
    f.stanza("<presence from='juliet@example.com/balcony' to='romeo@example.net' "
             "type='unavailable'/>");
    f.exec().advance(700s);
    EXPECT_EQ(f.sip().count(), 1u); // no refresh while offline
    f.notify("terminated;reason=timeout");
    EXPECT_EQ(f.sip().count(), 1u);
    f.stanza("<presence from='juliet@example.com/balcony' to='romeo@example.net'/>");
    ASSERT_EQ(f.sip().count(), 2u);
    EXPECT_EQ(f.sip().request(1).header("CSeq"), "1 SUBSCRIBE");
}

// Storm control: SUBSCRIBEs toward the SIP side are paced by outgoing_subscribe_rate.
TEST(WatcherRole, OutgoingSubscribesArePaced) {
    PresenceConfig cfg;
    cfg.outgoing_subscribe_rate = 10;
    WatcherFixture f(cfg);
    for (int i = 0; i < 50; ++i)
        f.stanza("<presence from='user" + std::to_string(i) +
                 "@example.com' to='romeo@example.net' type='subscribe'/>");
    EXPECT_EQ(f.sip().count(), 10u); // the burst
    f.exec().advance(1000ms);
    EXPECT_NEAR(static_cast<double>(f.sip().count()), 20.0, 1.0);
    f.exec().advance(3200ms);
    EXPECT_EQ(f.sip().count(), 50u);
    EXPECT_GE(f.ctx.fake_metrics().value("presence.wx.subscribes_paced"), 40u);
}

// Durable state (issue 4 item 4): a restored active dialog is refreshed on schedule, with no
// SUBSCRIBE at restore time; NOTIFYs in it keep working.
TEST(WatcherRole, RestoreResumesWithoutSubscribing) {
    store::MemoryStore shared_store;
    std::string call_id, local_tag;
    {
        WatcherFixture f;
        f.subscribe_and_answer();
        f.notify("active;expires=3600", kRomeoPidfAway);
        call_id = f.sip().request(0).header("Call-ID");
        local_tag = parse_name_addr(f.sip().request(0).header("From"))->tag;
        f.store.load_all({[&](store::WatcherRecord&& r) { shared_store.put_watcher(r); }, {}});
    }
    WatcherFixture g;
    shared_store.load_all({[&](store::WatcherRecord&& r) { g.role.restore(std::move(r)); }, {}});
    g.exec().run_pending();
    EXPECT_EQ(g.sip().count(), 0u);
    EXPECT_EQ(g.role.size(), 1u);
    sdk::SipRequest n = parse_sip_request("NOTIFY sip:juliet@s2x.example.net SIP/2.0\r\n\r\n");
    n.set_header("From", "<sip:romeo@example.net>;tag=ffd2");
    n.set_header("To", "<sip:juliet@example.com>;tag=" + local_tag);
    n.set_header("Call-ID", call_id);
    n.set_header("CSeq", "9 NOTIFY");
    n.set_header("Event", "presence");
    n.set_header("Subscription-State", "active;expires=3000");
    n.set_header("Content-Type", "application/pidf+xml");
    n.body = kRomeoPidfClosed;
    auto tx = std::make_shared<FakeSipServerTransaction>(n);
    g.role.on_notify(tx);
    g.exec().run_pending();
    EXPECT_EQ(status_of(tx), 200);
    ASSERT_EQ(g.xmpp().count(), 1u); // no second `subscribed` after the restart
    EXPECT_EQ(g.xmpp().stanza(0).attr("type"), "unavailable");
    g.exec().advance(3000s);
    ASSERT_EQ(g.sip().count(), 1u); // the refresh, in the same dialog
    EXPECT_EQ(g.sip().request(0).header("Call-ID"), call_id);
}

} // namespace
} // namespace stox::plugins::presence::test

namespace stox::plugins::presence::test {
namespace {

// Storm control (issue 4 item 5): a thousand subscriptions created in the same second do not
// refresh in the same second; refreshes spread over the jitter window (A-23 refresh point).
TEST(WatcherRoleStorm, RefreshesOfSimultaneousSubscriptionsAreSpread) {
    PresenceConfig cfg;
    cfg.outgoing_subscribe_rate = 0;     // unlimited: this test isolates the jitter
    cfg.timer_n = std::chrono::hours(2); // the notifier's NOTIFYs are not simulated here
    WatcherFixture f(cfg);
    f.shared->cfg.refresh_jitter = 0.2;
    constexpr int kCount = 1000;
    for (int i = 0; i < kCount; ++i)
        f.stanza("<presence from='user" + std::to_string(i) +
                 "@example.com' to='romeo@example.net' type='subscribe'/>");
    ASSERT_EQ(f.sip().count(), static_cast<std::size_t>(kCount));
    for (int i = 0; i < kCount; ++i) {
        sdk::SipResponse r;
        r.status = 200;
        r.set_header("To", "<sip:romeo@example.net>;tag=t" + std::to_string(i));
        r.set_header("Expires", "3600");
        f.sip().respond(static_cast<std::size_t>(i), r);
    }
    f.exec().run_pending();
    // Refresh point 3060 s (85 %), spread over [2448 s, 3060 s]: count refreshes per second.
    std::map<int, int> per_second;
    std::size_t seen = f.sip().count();
    for (int s = 0; s < 3100; ++s) {
        f.exec().advance(std::chrono::seconds(1));
        for (; seen < f.sip().count(); ++seen)
            if (f.sip().request(seen).header("CSeq") == "2 SUBSCRIBE") ++per_second[s];
    }
    int total = 0, peak = 0;
    for (auto [second, n] : per_second) {
        total += n;
        peak = std::max(peak, n);
    }
    EXPECT_EQ(total, kCount);
    EXPECT_GE(per_second.size(), 300u); // spread over hundreds of distinct seconds
    // With 612 s of spread, 1000 refreshes average under 2 per second; allow random clumping.
    EXPECT_LE(peak, 12) << "refreshes bunched in one second";
}

} // namespace
} // namespace stox::plugins::presence::test
