// SPDX-License-Identifier: Apache-2.0
// W-S role (stox-core §2.3.2): the gateway as SIP notifier. Vectors TV-PRES-13/14/16/18..24/
// 29/30/32, PRES-WS-*, RFC 6665 §4.2 dialog rules, storm control and restart.
#include "notifier_role.hpp"

#include <gtest/gtest.h>

#include <optional>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "pidf_codec.hpp"
#include "presence_test_support.hpp"
#include "sip_dialog.hpp"

namespace stox::plugins::presence::test {
namespace {

using sdk::testing::FakeSipServerTransaction;

constexpr const char* kCallId = "AA5A8BE5-CBB7-42B9-8181-6230012B1E11";

std::string initial_subscribe(std::string extra = {}, std::string from_host = "example.net",
                              std::string ruri = "sip:juliet@example.com") {
    return "SUBSCRIBE " + ruri + " SIP/2.0\n" + "From: <sip:romeo@" + from_host + ">;tag=xfg9\n" +
           "To: <" + ruri + ">\n" + "Call-ID: " + kCallId + "\n" + "CSeq: 1 SUBSCRIBE\n" +
           "Contact: <sip:romeo@example.net;gr=dr4hcr0st3lup4c>\n" + "Event: presence\n" + extra +
           "Content-Length: 0\n\n";
}

struct Ws {
    explicit Ws(PresenceConfig cfg = {}) : f(cfg), role(*f.shared) {}
    RoleFixture f;
    NotifierRole role;

    std::shared_ptr<FakeSipServerTransaction> subscribe(const std::string& text) {
        auto tx = std::make_shared<FakeSipServerTransaction>(parse_sip_request(text));
        role.on_subscribe(tx);
        f.exec().run_pending();
        return tx;
    }
    void stanza(std::string_view xml) {
        role.on_stanza(parse_xml(xml));
        f.exec().run_pending();
    }
    /// The To tag the gateway gave the dialog in its 200.
    static std::string our_tag(const FakeSipServerTransaction& tx) {
        auto na = parse_name_addr(tx.final_response()->header("To"));
        return na ? na->tag : std::string();
    }
    std::string in_dialog(const std::string& tag, int cseq, int expires) {
        return "SUBSCRIBE sip:juliet@s2x.example.net SIP/2.0\nFrom: <sip:romeo@example.net>;"
               "tag=xfg9\nTo: <sip:juliet@example.com>;tag=" +
               tag + "\nCall-ID: " + kCallId + "\nCSeq: " + std::to_string(cseq) +
               " SUBSCRIBE\nContact: <sip:romeo@example.net;gr=dr4hcr0st3lup4c>\n"
               "Event: presence\nExpires: " +
               std::to_string(expires) + "\nContent-Length: 0\n\n";
    }
    /// TV-PRES-19 then TV-PRES-20: an active dialog; every NOTIFY so far answered 200.
    std::string make_active() {
        auto tx = subscribe(initial_subscribe());
        f.sip().respond(0, 200, "OK");
        stanza("<presence from='juliet@example.com' to='romeo@example.net' type='subscribed'/>");
        f.exec().advance(f.shared->cfg.coalesce_window);
        f.sip().respond(1, 200, "OK");
        return our_tag(*tx);
    }
    /// Pass the storm-control window and answer the last NOTIFY.
    void settle() {
        f.exec().advance(f.shared->cfg.coalesce_window);
        if (f.sip().count() > 0 && !f.sip().completed(f.sip().count() - 1))
            f.sip().respond(f.sip().count() - 1, 200, "OK");
    }
    std::uint64_t counter(std::string_view n) { return f.ctx.fake_metrics().value(n); }
};

PresenceDoc pidf(const sdk::SipRequest& r) {
    auto doc = parse_pidf(r.body);
    EXPECT_TRUE(doc.ok()) << doc.status().message() << "\n" << r.body;
    return doc ? doc.value() : PresenceDoc{};
}

/// A copy: callers often pass a temporary document (pidf(n)).
std::optional<PresenceTuple> tuple(const PresenceDoc& d, std::string_view id) {
    for (const auto& t : d.tuples)
        if (t.id == id) return t;
    return std::nullopt;
}

TEST(NotifierRole, TvPres19InitialSubscribeAnswers200ThenPendingNotifyThenSubscribe) {
    Ws w;
    auto tx = w.subscribe(initial_subscribe("Accept: application/pidf+xml\n"));
    ASSERT_EQ(tx->status(), 200);
    const sdk::SipResponse ok = *tx->final_response();
    auto to = parse_name_addr(ok.header("To"));
    ASSERT_TRUE(to);
    EXPECT_EQ(to->uri, "sip:juliet@example.com");
    EXPECT_FALSE(to->tag.empty());
    EXPECT_EQ(ok.header("Expires"), "3600");
    EXPECT_EQ(ok.header("Contact"), "<sip:juliet@s2x.example.net>");

    ASSERT_EQ(w.f.sip().count(), 1u);
    const auto& n = w.f.sip().request(0);
    EXPECT_EQ(n.method, "NOTIFY");
    EXPECT_EQ(n.request_uri, "sip:romeo@example.net;gr=dr4hcr0st3lup4c");
    EXPECT_EQ(n.header("From"), "<sip:juliet@example.com>;tag=" + to->tag);
    EXPECT_EQ(n.header("To"), "<sip:romeo@example.net>;tag=xfg9");
    EXPECT_EQ(n.header("Call-ID"), kCallId);
    EXPECT_EQ(n.header("CSeq"), "1 NOTIFY");
    EXPECT_EQ(n.header("Event"), "presence");
    EXPECT_EQ(n.header("Subscription-State"), "pending;expires=3600"); // A-16
    EXPECT_EQ(n.header("Contact"), "<sip:juliet@s2x.example.net>");
    EXPECT_TRUE(n.body.empty());
    EXPECT_FALSE(n.has_header("Content-Type"));

    ASSERT_EQ(w.f.xmpp().count(), 1u);
    EXPECT_EQ(canon_without_id(w.f.xmpp().stanza(0)),
              canon("<presence from='romeo@example.net' to='juliet@example.com' "
                    "type='subscribe' id='ID'/>"));
    // Durable: the authorization is asked and the dialog stored.
    std::optional<store::NotifierRecord> rec;
    ASSERT_TRUE(w.f.store.load_all({{}, [&](store::NotifierRecord&& r) { rec = r; }}).ok());
    ASSERT_TRUE(rec && rec->dialog);
    EXPECT_EQ(rec->key.sip_watcher, "sip:romeo@example.net");
    EXPECT_EQ(rec->key.xmpp_contact, "juliet@example.com");
    EXPECT_EQ(rec->approval, store::Approval::requested);
    EXPECT_EQ(rec->dialog->local_cseq, 1u);
    EXPECT_EQ(w.role.size(), 1u);
}

TEST(NotifierRole, TvPres20ApprovalSendsEmptyActiveNotifyThenPidf) {
    Ws w;
    auto tx = w.subscribe(initial_subscribe());
    w.f.sip().respond(0, 200, "OK");
    w.stanza("<presence from='juliet@example.com' to='romeo@example.net' type='subscribed'/>");
    w.f.exec().advance(w.f.shared->cfg.coalesce_window);
    ASSERT_EQ(w.f.sip().count(), 2u);
    const auto& n = w.f.sip().request(1);
    EXPECT_EQ(n.header("CSeq"), "2 NOTIFY");
    EXPECT_EQ(n.header("Subscription-State"), "active;expires=3600"); // PRES-WS-3
    EXPECT_TRUE(n.body.empty());
    w.f.sip().respond(1, 200, "OK");

    w.stanza("<presence from='juliet@example.com/balcony' to='romeo@example.net'/>");
    w.f.exec().advance(w.f.shared->cfg.coalesce_window);
    ASSERT_EQ(w.f.sip().count(), 3u);
    const auto& p = w.f.sip().request(2);
    EXPECT_EQ(p.header("Content-Type"), "application/pidf+xml");
    auto doc = pidf(p);
    const auto t = tuple(doc, "ID-balcony");
    ASSERT_TRUE(t);
    EXPECT_TRUE(t->open);
    std::optional<store::NotifierRecord> rec;
    ASSERT_TRUE(w.f.store.load_all({{}, [&](store::NotifierRecord&& r) { rec = r; }}).ok());
    ASSERT_TRUE(rec);
    EXPECT_EQ(rec->approval, store::Approval::approved);
    EXPECT_EQ(rec->dialog->state, store::SubState::active);
}

TEST(NotifierRole, TvPres21DeclineTerminatesRejectedAndDestroysDialog) {
    Ws w;
    auto tx = w.subscribe(initial_subscribe());
    w.f.sip().respond(0, 200, "OK");
    w.stanza("<presence from='juliet@example.com' to='romeo@example.net' type='unsubscribed'/>");
    w.f.exec().advance(w.f.shared->cfg.coalesce_window);
    ASSERT_EQ(w.f.sip().count(), 2u);
    const auto& n = w.f.sip().request(1);
    EXPECT_EQ(n.header("Subscription-State"), "terminated;reason=rejected"); // PRES-WS-4
    EXPECT_TRUE(n.body.empty());
    w.f.sip().respond(1, 200, "OK");
    EXPECT_EQ(w.f.store.notifier_count(), 0u);
    EXPECT_EQ(w.role.size(), 0u);

    w.stanza("<presence from='juliet@example.com/balcony' to='romeo@example.net'/>");
    w.f.exec().advance(std::chrono::seconds(1));
    EXPECT_EQ(w.f.sip().count(), 2u); // TV-PRES-18
    // The dialog is gone: a refresh is refused.
    auto r = w.subscribe(w.in_dialog(Ws::our_tag(*tx), 2, 600));
    EXPECT_EQ(r->status(), 481);
}

/// The TV-PRES-13 precondition, restored from the store (as after a restart).
store::NotifierRecord tv13_record(std::int64_t now) {
    store::NotifierRecord rec;
    rec.key = {"sip:romeo@example.net", "juliet@example.com"};
    rec.approval = store::Approval::approved;
    store::DialogRecord d;
    d.call_id = kCallId;
    d.local_uri = "sip:juliet@example.com";
    d.local_tag = "ur93";
    d.remote_uri = "sip:romeo@example.net";
    d.remote_tag = "xfg9";
    d.remote_target = "sip:romeo@example.net;gr=dr4hcr0st3lup4c";
    d.local_cseq = 2;
    d.remote_cseq = 1;
    d.expires_at = now + 1800;
    d.state = store::SubState::active;
    rec.dialog = d;
    return rec;
}

TEST(NotifierRole, TvPres13XmppPresenceBecomesNotifyPerTableP1) {
    Ws w;
    w.role.restore(tv13_record(w.f.shared->unix_now()));
    w.f.exec().run_pending();
    EXPECT_EQ(w.f.sip().count(), 0u);
    w.stanza("<presence from='juliet@example.com/balcony' to='romeo@example.net' xml:lang='en'>"
             "<show>dnd</show><status>In a meeting</status><priority>5</priority></presence>");
    ASSERT_EQ(w.f.sip().count(), 1u);
    const auto& n = w.f.sip().request(0);
    EXPECT_EQ(n.request_uri, "sip:romeo@example.net;gr=dr4hcr0st3lup4c");
    EXPECT_EQ(n.header("From"), "<sip:juliet@example.com>;tag=ur93");
    EXPECT_EQ(n.header("To"), "<sip:romeo@example.net>;tag=xfg9");
    EXPECT_EQ(n.header("Call-ID"), kCallId);
    EXPECT_EQ(n.header("CSeq"), "3 NOTIFY");
    EXPECT_EQ(n.header("Contact"), "<sip:juliet@s2x.example.net>");
    EXPECT_EQ(n.header("Event"), "presence");
    EXPECT_EQ(n.header("Subscription-State"), "active;expires=1800");
    EXPECT_EQ(n.header("Content-Type"), "application/pidf+xml");
    EXPECT_EQ(n.header("Content-Language"), "en");
    auto doc = pidf(n);
    EXPECT_EQ(doc.entity, "pres:juliet@example.com");
    ASSERT_EQ(doc.tuples.size(), 1u);
    const auto& t = doc.tuples[0];
    EXPECT_EQ(t.id, "ID-balcony");
    EXPECT_TRUE(t.open);
    EXPECT_EQ(t.show, "dnd");
    EXPECT_EQ(t.contact, "sip:juliet@example.com;gr=balcony");
    ASSERT_TRUE(t.priority);
    EXPECT_DOUBLE_EQ(*t.priority, 0.039);
    ASSERT_EQ(t.notes.size(), 1u);
    EXPECT_EQ(t.notes[0], (Note{"In a meeting", "en"}));
    EXPECT_NE(n.body.find("priority='0.039'"), std::string::npos);
}

TEST(NotifierRole, TvPres14NegativePriorityIsNotMapped) {
    Ws w;
    w.role.restore(tv13_record(w.f.shared->unix_now()));
    w.stanza("<presence from='juliet@example.com/balcony' to='romeo@example.net'>"
             "<priority>-5</priority></presence>");
    ASSERT_EQ(w.f.sip().count(), 1u);
    auto doc = pidf(w.f.sip().request(0));
    ASSERT_EQ(doc.tuples.size(), 1u);
    EXPECT_FALSE(doc.tuples[0].priority);
    EXPECT_EQ(w.f.sip().request(0).body.find("priority="), std::string::npos);
}

TEST(NotifierRole, TvPres16UnavailableGivesClosedTupleAndNoSubscribe) {
    Ws w;
    w.make_active();
    w.stanza("<presence from='juliet@example.com/balcony' to='romeo@example.net'/>");
    w.settle();
    w.stanza("<presence from='juliet@example.com/balcony' to='romeo@example.net' "
             "type='unavailable'/>");
    w.f.exec().advance(w.f.shared->cfg.coalesce_window);
    const auto& n = w.f.sip().last();
    EXPECT_EQ(n.method, "NOTIFY");
    const auto doc = pidf(n); // keeps the tuples alive while t points into them
    const auto t = tuple(doc, "ID-balcony");
    ASSERT_TRUE(t);
    EXPECT_TRUE(t->has_basic);
    EXPECT_FALSE(t->open);
    for (std::size_t i = 0; i < w.f.sip().count(); ++i)
        EXPECT_EQ(w.f.sip().request(i).method, "NOTIFY"); // PRES-NOT-6: no SUBSCRIBE Expires: 0
}

TEST(NotifierRole, TvPres18NoDialogNoNotify) {
    Ws w;
    w.stanza("<presence from='juliet@example.com/balcony' to='romeo@example.net'/>");
    w.f.exec().advance(std::chrono::seconds(1));
    EXPECT_EQ(w.f.sip().count(), 0u);
    EXPECT_EQ(w.f.xmpp().count(), 0u); // no error either
    EXPECT_EQ(w.counter("presence.ws.dropped_no_dialog"), 1u);
}

TEST(NotifierRole, TvPres22aRefreshWithCacheNotifiesPidf) {
    Ws w;
    auto tag = w.make_active();
    w.stanza("<presence from='juliet@example.com/balcony' to='romeo@example.net'/>");
    w.settle();
    const auto before = w.f.sip().count();
    const auto stanzas = w.f.xmpp().count();
    auto tx = w.subscribe(w.in_dialog(tag, 2, 600));
    ASSERT_EQ(tx->status(), 200); // PRES-WS-5
    EXPECT_EQ(tx->final_response()->header("Expires"), "600");
    w.f.exec().advance(w.f.shared->cfg.coalesce_window);
    ASSERT_EQ(w.f.sip().count(), before + 1);
    const auto& n = w.f.sip().last();
    EXPECT_EQ(n.header("Subscription-State"), "active;expires=600");
    const auto doc = pidf(n);                // keeps the tuples alive while t points into them
    const auto t = tuple(doc, "ID-balcony"); // PRES-WS-6
    ASSERT_TRUE(t);
    EXPECT_TRUE(t->open);
    EXPECT_EQ(w.f.xmpp().count(), stanzas); // cached: no probe
}

TEST(NotifierRole, TvPres22bRefreshWithoutCacheIsEmptyAndProbes) {
    Ws w;
    auto tag = w.make_active();
    const auto stanzas = w.f.xmpp().count();
    auto tx = w.subscribe(w.in_dialog(tag, 2, 600));
    ASSERT_EQ(tx->status(), 200);
    w.f.exec().advance(w.f.shared->cfg.coalesce_window);
    const auto& n = w.f.sip().last();
    EXPECT_EQ(n.header("Subscription-State"), "active;expires=600");
    EXPECT_TRUE(n.body.empty()); // PRES-WS-7
    ASSERT_EQ(w.f.xmpp().count(), stanzas + 1);
    EXPECT_EQ(canon(w.f.xmpp().last().to_string()),
              canon("<presence from='romeo@example.net' to='juliet@example.com' type='probe'/>"));
}

// PRES-WS-8 (RFC 8048 §5.3.3), PRES-WS-9: no XMPP unsubscribe, the authorization stays.
TEST(NotifierRole, TvPres23UnsubscribeClosesAllTuplesAndSendsUnavailable) {
    Ws w;
    auto tag = w.make_active();
    w.stanza("<presence from='juliet@example.com/balcony' to='romeo@example.net'/>");
    w.stanza("<presence from='juliet@example.com/garden' to='romeo@example.net'/>");
    w.settle();
    auto tx = w.subscribe(w.in_dialog(tag, 2, 0));
    ASSERT_EQ(tx->status(), 200);
    EXPECT_EQ(tx->final_response()->header("Expires"), "0");
    w.f.exec().advance(w.f.shared->cfg.coalesce_window);
    const auto& n = w.f.sip().last();
    EXPECT_EQ(n.header("Subscription-State"), "terminated;reason=timeout");
    auto doc = pidf(n);
    ASSERT_EQ(doc.tuples.size(), 2u);
    for (const auto& t : doc.tuples) EXPECT_FALSE(t.open) << t.id;
    EXPECT_TRUE(tuple(doc, "ID-balcony") && tuple(doc, "ID-garden"));
    EXPECT_EQ(canon(w.f.xmpp().last().to_string()),
              canon("<presence from='romeo@example.net' to='juliet@example.com' "
                    "type='unavailable'/>"));
    for (std::size_t i = 0; i < w.f.xmpp().count(); ++i)
        EXPECT_NE(w.f.xmpp().stanza(i).attr("type"), "unsubscribe"); // PRES-WS-9
    // PRES-WS-9: the authorization survives the dialog.
    std::optional<store::NotifierRecord> rec;
    ASSERT_TRUE(w.f.store.load_all({{}, [&](store::NotifierRecord&& r) { rec = r; }}).ok());
    ASSERT_TRUE(rec);
    EXPECT_EQ(rec->approval, store::Approval::approved);
    EXPECT_FALSE(rec->dialog);
}

// PRES-POLL-2: a SIP poll probes the XMPP side only when nothing is cached.
TEST(NotifierRole, TvPres24PollWithoutCacheProbesAndHoldsTheAnswer) {
    Ws w;
    auto tx = w.subscribe(initial_subscribe("Expires: 0\n"));
    EXPECT_EQ(tx->status(), 0); // held (A-17)
    ASSERT_EQ(w.f.xmpp().count(), 1u);
    const auto probe = w.f.xmpp().stanza(0);
    EXPECT_EQ(canon_without_id(probe), canon("<presence from='romeo@example.net' "
                                             "to='juliet@example.com' type='probe' id='ID'/>"));
    ASSERT_FALSE(probe.attr("id").empty());
    w.f.exec().advance(std::chrono::milliseconds(500));
    w.stanza("<presence from='juliet@example.com/balcony' to='romeo@example.net' id='" +
             probe.attr("id") + "'/>");
    ASSERT_EQ(tx->status(), 200);
    EXPECT_EQ(tx->final_response()->header("Expires"), "0");
    ASSERT_EQ(w.f.sip().count(), 1u);
    const auto& n = w.f.sip().request(0);
    EXPECT_EQ(n.header("Subscription-State"), "terminated;reason=timeout");
    const auto doc = pidf(n); // keeps the tuples alive while t points into them
    const auto t = tuple(doc, "ID-balcony");
    ASSERT_TRUE(t);
    EXPECT_TRUE(t->open);
    EXPECT_EQ(w.role.size(), 0u); // a poll creates no authorization
}

TEST(NotifierRole, TvPres24PollWithoutAnswerNotifiesEmptyAfterPollWait) {
    Ws w;
    auto tx = w.subscribe(initial_subscribe("Expires: 0\n"));
    w.f.exec().advance(w.f.shared->cfg.poll_wait - std::chrono::milliseconds(1));
    EXPECT_EQ(tx->status(), 0);
    w.f.exec().advance(std::chrono::milliseconds(1));
    ASSERT_EQ(tx->status(), 200);
    ASSERT_EQ(w.f.sip().count(), 1u);
    EXPECT_EQ(w.f.sip().request(0).header("Subscription-State"), "terminated;reason=timeout");
    EXPECT_TRUE(w.f.sip().request(0).body.empty());
}

TEST(NotifierRole, PresPoll2PollWithFreshCacheAnswersAtOnceWithoutProbe) {
    Ws w;
    w.make_active();
    w.stanza("<presence from='juliet@example.com/balcony' to='romeo@example.net'/>");
    w.settle();
    const auto stanzas = w.f.xmpp().count();
    const auto sent = w.f.sip().count();
    std::string poll = initial_subscribe("Expires: 0\n");
    poll.replace(poll.find(kCallId), std::string(kCallId).size(), "poll-1");
    auto tx = w.subscribe(poll);
    ASSERT_EQ(tx->status(), 200);
    EXPECT_EQ(w.f.xmpp().count(), stanzas);
    ASSERT_EQ(w.f.sip().count(), sent + 1);
    const auto& n = w.f.sip().last();
    EXPECT_EQ(n.header("Call-ID"), "poll-1");
    EXPECT_EQ(n.header("Subscription-State"), "terminated;reason=timeout");
    EXPECT_TRUE(tuple(pidf(n), "ID-balcony"));
}

TEST(NotifierRole, TvPres29ErrorAnsweringSubscribeTerminatesNoresource) {
    Ws w;
    auto tx = w.subscribe(initial_subscribe());
    w.f.sip().respond(0, 200, "OK");
    w.stanza("<presence from='juliet@example.com' to='romeo@example.net' type='error'>"
             "<error type='cancel'><item-not-found "
             "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>");
    w.f.exec().advance(w.f.shared->cfg.coalesce_window);
    ASSERT_EQ(w.f.sip().count(), 2u);
    EXPECT_EQ(w.f.sip().request(1).header("Subscription-State"), "terminated;reason=noresource");
    EXPECT_TRUE(w.f.sip().request(1).body.empty());
    auto r = w.subscribe(w.in_dialog(Ws::our_tag(*tx), 2, 600));
    EXPECT_EQ(r->status(), 481); // destroyed
}

TEST(NotifierRole, A36TransientErrorTerminatesGiveupWithRetryAfter) {
    Ws w;
    w.subscribe(initial_subscribe());
    w.f.sip().respond(0, 200, "OK");
    w.stanza("<presence from='juliet@example.com' to='romeo@example.net' type='error'>"
             "<error type='wait'><remote-server-timeout "
             "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>");
    w.f.exec().advance(w.f.shared->cfg.coalesce_window);
    EXPECT_EQ(w.f.sip().last().header("Subscription-State"),
              "terminated;reason=giveup;retry-after=600");
}

TEST(NotifierRole, TvPres30BareUnavailableWhilePendingIsIgnored) {
    Ws w;
    w.subscribe(initial_subscribe());
    w.f.sip().respond(0, 200, "OK");
    w.stanza("<presence from='juliet@example.com' to='romeo@example.net' type='unavailable'/>");
    w.f.exec().advance(std::chrono::seconds(1));
    EXPECT_EQ(w.f.sip().count(), 1u); // A-37: still pending, no NOTIFY
    std::optional<store::NotifierRecord> rec;
    ASSERT_TRUE(w.f.store.load_all({{}, [&](store::NotifierRecord&& r) { rec = r; }}).ok());
    EXPECT_EQ(rec->dialog->state, store::SubState::pending);
}

TEST(NotifierRole, TvPres32AcceptWithoutPidfIs406AndNoStanza) {
    Ws w;
    auto tx = w.subscribe(initial_subscribe("Accept: application/xpidf+xml\n"));
    EXPECT_EQ(tx->status(), 406);
    EXPECT_EQ(w.f.xmpp().count(), 0u);
    EXPECT_EQ(w.f.sip().count(), 0u);
}

TEST(NotifierRole, ShortExpiresIs423WithMinExpires) {
    Ws w;
    auto tx = w.subscribe(initial_subscribe("Expires: 30\n"));
    ASSERT_EQ(tx->status(), 423);
    EXPECT_EQ(tx->final_response()->header("Min-Expires"), "60");
    EXPECT_EQ(w.f.xmpp().count(), 0u);
}

TEST(NotifierRole, LongExpiresIsCappedAtMaxExpires) {
    Ws w;
    auto tx = w.subscribe(initial_subscribe("Expires: 86400\n"));
    ASSERT_EQ(tx->status(), 200);
    EXPECT_EQ(tx->final_response()->header("Expires"), "3600"); // A-23
    EXPECT_EQ(w.f.sip().request(0).header("Subscription-State"), "pending;expires=3600");
}

TEST(NotifierRole, PresSec3ForeignFromDomainIs403) {
    Ws w;
    auto tx = w.subscribe(initial_subscribe({}, "evil.example"));
    EXPECT_EQ(tx->status(), 403);
    EXPECT_EQ(w.f.xmpp().count(), 0u);
    EXPECT_EQ(w.counter("presence.ws.foreign_domain"), 1u);
}

TEST(NotifierRole, SipsRequestUriIs480WithWarning380) {
    Ws w;
    auto tx = w.subscribe(initial_subscribe({}, "example.net", "sips:juliet@example.com"));
    ASSERT_EQ(tx->status(), 480);
    EXPECT_EQ(tx->final_response()->header("Warning").rfind("380 ", 0), 0u);
}

TEST(NotifierRole, UnknownDialogIs481) {
    Ws w;
    auto tx = w.subscribe(w.in_dialog("nosuchtag", 2, 600));
    EXPECT_EQ(tx->status(), 481);
    EXPECT_EQ(w.f.sip().count(), 0u);
}

TEST(NotifierRole, PerWatcherRateLimitAnswers503WithRetryAfter) {
    PresenceConfig cfg;
    cfg.subscribe_rate_per_watcher = 1; // burst 2
    Ws w(cfg);
    EXPECT_EQ(w.subscribe(initial_subscribe())->status(), 200);
    EXPECT_EQ(w.subscribe(initial_subscribe())->status(), 200);
    auto tx = w.subscribe(initial_subscribe());
    ASSERT_EQ(tx->status(), 503);
    EXPECT_EQ(tx->final_response()->header("Retry-After"), "5");
    EXPECT_EQ(w.counter("presence.ws.rate_limited"), 1u);
    EXPECT_TRUE(w.f.ctx.recording_log().contains("503"));
    w.f.exec().advance(std::chrono::seconds(1)); // refilled
    EXPECT_EQ(w.subscribe(initial_subscribe())->status(), 200);
}

TEST(NotifierRole, MaxNotifiersAnswers503) {
    PresenceConfig cfg;
    cfg.max_notifiers = 1;
    Ws w(cfg);
    EXPECT_EQ(w.subscribe(initial_subscribe())->status(), 200);
    auto tx = w.subscribe(initial_subscribe({}, "example.net", "sip:nurse@example.com"));
    ASSERT_EQ(tx->status(), 503);
    EXPECT_EQ(tx->final_response()->header("Retry-After"), "5");
    EXPECT_EQ(w.counter("presence.ws.max_notifiers"), 1u);
    EXPECT_EQ(w.role.size(), 1u);
}

TEST(NotifierRole, StormControlCoalescesFiveChangesIntoOneNotifyWithTheLatest) {
    Ws w;
    w.make_active();
    w.f.exec().advance(std::chrono::seconds(1));
    const auto before = w.f.sip().count();
    w.stanza("<presence from='juliet@example.com/balcony' to='romeo@example.net'/>");
    ASSERT_EQ(w.f.sip().count(), before + 1); // the first change goes at once
    w.f.sip().respond(before, 200, "OK");     // answered at once: only the window holds back
    const std::string shows[] = {"away", "xa", "chat", "away", "dnd"};
    for (const auto& s : shows) {
        w.f.exec().advance(std::chrono::milliseconds(30));
        w.stanza("<presence from='juliet@example.com/balcony' to='romeo@example.net'><show>" + s +
                 "</show><status>" + s + "</status></presence>");
    }
    EXPECT_EQ(w.f.sip().count(), before + 1); // 150 ms: still within the 200 ms window
    w.f.exec().advance(std::chrono::milliseconds(50));
    ASSERT_EQ(w.f.sip().count(), before + 2); // one NOTIFY for the five changes
    auto doc = pidf(w.f.sip().last());
    const auto t = tuple(doc, "ID-balcony");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->show, "dnd"); // the latest state wins
    ASSERT_EQ(t->notes.size(), 1u);
    EXPECT_EQ(t->notes[0].text, "dnd");
    w.f.sip().respond(before + 1, 200, "OK");
    w.f.exec().advance(std::chrono::seconds(2));
    EXPECT_EQ(w.f.sip().count(), before + 2);
}

TEST(NotifierRole, OneNotifyInFlightPerDialog) {
    Ws w;
    w.subscribe(initial_subscribe()); // pending NOTIFY 0 unanswered
    w.stanza("<presence from='juliet@example.com' to='romeo@example.net' type='subscribed'/>");
    w.f.exec().advance(std::chrono::seconds(2));
    EXPECT_EQ(w.f.sip().count(), 1u); // RFC 6665 §4.2.2 order: wait for the answer
    w.f.sip().respond(0, 200, "OK");
    ASSERT_EQ(w.f.sip().count(), 2u);
    EXPECT_EQ(w.f.sip().request(1).header("Subscription-State"), "active;expires=3598");
}

TEST(NotifierRole, NotifyAnswered481DestroysTheDialog) {
    Ws w;
    auto tag = w.make_active();
    w.stanza("<presence from='juliet@example.com/balcony' to='romeo@example.net'/>");
    w.f.exec().advance(w.f.shared->cfg.coalesce_window);
    ASSERT_FALSE(w.f.sip().completed(w.f.sip().count() - 1));
    w.f.sip().respond(w.f.sip().count() - 1, 481, "Subscription Does Not Exist");
    w.stanza("<presence from='juliet@example.com/balcony' to='romeo@example.net' "
             "type='unavailable'/>");
    const auto sent = w.f.sip().count();
    w.f.exec().advance(std::chrono::seconds(1));
    EXPECT_EQ(w.f.sip().count(), sent);
    EXPECT_EQ(w.subscribe(w.in_dialog(tag, 2, 600))->status(), 481);
    std::optional<store::NotifierRecord> rec;
    ASSERT_TRUE(w.f.store.load_all({{}, [&](store::NotifierRecord&& r) { rec = r; }}).ok());
    ASSERT_TRUE(rec);
    EXPECT_FALSE(rec->dialog);
    EXPECT_EQ(rec->approval, store::Approval::approved); // the authorization stays
}

TEST(NotifierRole, NotifyAnswered500KeepsTheDialog) {
    Ws w;
    w.make_active();
    w.stanza("<presence from='juliet@example.com/balcony' to='romeo@example.net'/>");
    w.f.exec().advance(w.f.shared->cfg.coalesce_window);
    ASSERT_FALSE(w.f.sip().completed(w.f.sip().count() - 1));
    w.f.sip().respond(w.f.sip().count() - 1, 500, "Server Error");
    w.f.exec().advance(std::chrono::seconds(1));
    const auto sent = w.f.sip().count();
    w.stanza("<presence from='juliet@example.com/balcony' to='romeo@example.net' "
             "type='unavailable'/>");
    EXPECT_EQ(w.f.sip().count(), sent + 1);
}

TEST(NotifierRole, A23ExpiryWithoutRefreshTerminatesTimeoutAndSendsUnavailable) {
    Ws w;
    w.make_active();
    const auto sent = w.f.sip().count();
    w.f.exec().advance(std::chrono::seconds(3599));
    EXPECT_EQ(w.f.sip().count(), sent);
    w.f.exec().advance(std::chrono::seconds(2));
    ASSERT_EQ(w.f.sip().count(), sent + 1);
    const auto& n = w.f.sip().last();
    EXPECT_EQ(n.header("Subscription-State"), "terminated;reason=timeout");
    auto doc = pidf(n);
    ASSERT_FALSE(doc.tuples.empty());
    for (const auto& t : doc.tuples) EXPECT_FALSE(t.open);
    EXPECT_EQ(canon(w.f.xmpp().last().to_string()),
              canon("<presence from='romeo@example.net' to='juliet@example.com' "
                    "type='unavailable'/>"));
    // Expired: presence is dropped (PRES-SEC-5).
    w.stanza("<presence from='juliet@example.com/balcony' to='romeo@example.net'/>");
    w.f.exec().advance(std::chrono::seconds(1));
    EXPECT_EQ(w.f.sip().count(), sent + 1);
}

TEST(NotifierRole, RestoreAfterRestartKeepsNotifyingWithoutSipTrafficAtRestore) {
    store::MemoryStore saved;
    std::string tag;
    {
        Ws before;
        tag = before.make_active();
        before.role.stop();
        ASSERT_TRUE(
            before.f.store.load_all({{}, [&](store::NotifierRecord&& r) { saved.put_notifier(r); }})
                .ok());
    }
    Ws w;
    std::vector<store::NotifierRecord> recs;
    ASSERT_TRUE(saved.load_all({{}, [&](store::NotifierRecord&& r) { recs.push_back(r); }}).ok());
    ASSERT_EQ(recs.size(), 1u);
    for (auto& r : recs) w.role.restore(r);
    EXPECT_EQ(w.f.sip().count(), 0u); // nothing at restore time
    w.f.exec().advance(std::chrono::seconds(1));
    EXPECT_EQ(w.f.sip().count(), 0u);
    // The cache is refilled with a paced probe from bare W to bare C.
    ASSERT_EQ(w.f.xmpp().count(), 1u);
    EXPECT_EQ(canon(w.f.xmpp().stanza(0).to_string()),
              canon("<presence from='romeo@example.net' to='juliet@example.com' type='probe'/>"));
    EXPECT_EQ(w.role.size(), 1u);

    w.stanza("<presence from='juliet@example.com/balcony' to='romeo@example.net'/>");
    ASSERT_EQ(w.f.sip().count(), 1u);
    const auto& n = w.f.sip().request(0);
    EXPECT_EQ(n.header("CSeq"), "3 NOTIFY"); // continues the stored CSeq
    EXPECT_EQ(n.header("From"), "<sip:juliet@example.com>;tag=" + tag);
    EXPECT_TRUE(tuple(pidf(n), "ID-balcony"));
    w.f.sip().respond(0, 200, "OK");
    // In-dialog requests still find the dialog.
    EXPECT_EQ(w.subscribe(w.in_dialog(tag, 2, 600))->status(), 200);
}

TEST(NotifierRole, RestoreOfAnExpiredDialogSendsOnlyTheFinalNotify) {
    Ws w;
    auto rec = tv13_record(w.f.shared->unix_now() - 3700);
    w.role.restore(rec);
    w.f.exec().run_pending();
    ASSERT_EQ(w.f.sip().count(), 1u);
    EXPECT_EQ(w.f.sip().request(0).header("Subscription-State"), "terminated;reason=timeout");
    EXPECT_EQ(w.f.sip().request(0).header("CSeq"), "3 NOTIFY");
    std::optional<store::NotifierRecord> stored;
    ASSERT_TRUE(w.f.store.load_all({{}, [&](store::NotifierRecord&& r) { stored = r; }}).ok());
    ASSERT_TRUE(stored);
    EXPECT_FALSE(stored->dialog);
}

TEST(NotifierRole, CSeqOutOfOrderIs500) {
    Ws w;
    auto tag = w.make_active();
    EXPECT_EQ(w.subscribe(w.in_dialog(tag, 1, 600))->status(), 500); // RFC 3261 §12.2.2
}

TEST(NotifierRole, PresSec5PresenceForAnotherWatcherIsDropped) {
    Ws w;
    w.make_active();
    const auto sent = w.f.sip().count();
    w.stanza("<presence from='juliet@example.com/balcony' to='benvolio@example.net'/>");
    w.f.exec().advance(std::chrono::seconds(1));
    EXPECT_EQ(w.f.sip().count(), sent);
    EXPECT_EQ(w.counter("presence.ws.dropped_no_dialog"), 1u);
}

TEST(NotifierRole, ApprovedWatcherResubscribingGetsActiveAtOnceWithoutSubscribeStanza) {
    Ws w;
    auto tag = w.make_active();
    EXPECT_EQ(w.subscribe(w.in_dialog(tag, 2, 0))->status(), 200);
    w.settle();
    const auto stanzas = w.f.xmpp().count();
    std::string again = initial_subscribe();
    again.replace(again.find(kCallId), std::string(kCallId).size(), "second-dialog");
    auto tx = w.subscribe(again);
    ASSERT_EQ(tx->status(), 200);
    EXPECT_EQ(w.f.sip().last().header("Subscription-State"), "active;expires=3600");
    for (std::size_t i = stanzas; i < w.f.xmpp().count(); ++i)
        EXPECT_NE(w.f.xmpp().stanza(i).attr("type"), "subscribe");
}

// --- storm control: the global window of NOTIFYs in flight -----------------------------------

/// Watcher i of juliet: an active, approved dialog as restored after a restart.
store::NotifierRecord watcher_record(int i, std::int64_t now) {
    auto rec = tv13_record(now);
    rec.key.sip_watcher = "sip:w" + std::to_string(i) + "@example.net";
    rec.dialog->call_id = "fan-" + std::to_string(i);
    rec.dialog->local_tag = "t" + std::to_string(i);
    rec.dialog->remote_uri = rec.key.sip_watcher;
    rec.dialog->remote_target = rec.key.sip_watcher;
    return rec;
}
std::string presence_to(int i, std::string_view inner = {}) {
    return "<presence from='juliet@example.com/balcony' to='w" + std::to_string(i) +
           "@example.net'>" + std::string(inner) + "</presence>";
}
/// Index of the last NOTIFY sent on Call-ID `call_id`, or -1.
long last_on(Ws& w, const std::string& call_id) {
    for (std::size_t i = w.f.sip().count(); i-- > 0;)
        if (w.f.sip().request(i).header("Call-ID") == call_id) return static_cast<long>(i);
    return -1;
}

// PRES-NOT-1 fan-out: 1,000 watchers of one contact, one status change. At most
// max_notifies_in_flight NOTIFYs are outstanding at any time; every watcher gets exactly one
// NOTIFY with the new state once the responses come.
TEST(NotifierRole, FanOutOf1000KeepsAtMostTheWindowInFlightAndSendsEachNotifyOnce) {
    PresenceConfig cfg;
    cfg.max_notifies_in_flight = 64;
    Ws w(cfg);
    constexpr int kWatchers = 1000;
    for (int i = 0; i < kWatchers; ++i) w.role.restore(watcher_record(i, w.f.shared->unix_now()));
    w.f.exec().advance(std::chrono::seconds(2)); // the paced restore probes
    ASSERT_EQ(w.f.sip().count(), 0u);
    for (int i = 0; i < kWatchers; ++i) w.stanza(presence_to(i, "<show>away</show>"));
    EXPECT_EQ(w.f.sip().count(), 64u);
    EXPECT_EQ(w.f.sip().outstanding(), 64u);
    EXPECT_EQ(w.counter("presence.ws.notify_queued"), static_cast<std::uint64_t>(kWatchers - 64));
    // Answer in a scrambled order; a freed slot starts the next waiting dialog at once.
    std::size_t answered = 0;
    std::size_t max_outstanding = 0;
    while (answered < w.f.sip().count()) {
        std::vector<std::size_t> open;
        for (std::size_t i = 0; i < w.f.sip().count(); ++i)
            if (!w.f.sip().completed(i)) open.push_back(i);
        ASSERT_FALSE(open.empty());
        for (std::size_t k = 0; k < open.size(); k += 2) {
            w.f.sip().respond(open[open.size() - 1 - k], 200, "OK");
            ++answered;
            max_outstanding = std::max(max_outstanding, w.f.sip().outstanding());
            ASSERT_LE(w.f.sip().outstanding(), 64u);
        }
    }
    EXPECT_EQ(max_outstanding, 64u);
    w.f.exec().advance(std::chrono::seconds(5));
    ASSERT_EQ(w.f.sip().count(), static_cast<std::size_t>(kWatchers)); // none lost, none twice
    std::set<std::string> call_ids;
    for (std::size_t i = 0; i < w.f.sip().count(); ++i) {
        const auto& n = w.f.sip().request(i);
        EXPECT_EQ(n.header("CSeq"), "3 NOTIFY");
        call_ids.insert(n.header("Call-ID"));
        const auto t = tuple(pidf(n), "ID-balcony");
        ASSERT_TRUE(t);
        EXPECT_EQ(t->show, "away");
    }
    EXPECT_EQ(call_ids.size(), static_cast<std::size_t>(kWatchers));
    EXPECT_EQ(w.counter("presence.ws.notify_sent"), static_cast<std::uint64_t>(kWatchers));
}

// RFC 6665 §4.2.2: failure responses (kept or removing the dialog) free their slot too.
TEST(NotifierRole, FailureResponsesFreeTheirWindowSlot) {
    PresenceConfig cfg;
    cfg.max_notifies_in_flight = 1;
    Ws w(cfg);
    for (int i = 0; i < 4; ++i) w.role.restore(watcher_record(i, w.f.shared->unix_now()));
    w.f.exec().run_pending();
    for (int i = 0; i < 4; ++i) w.stanza(presence_to(i));
    ASSERT_EQ(w.f.sip().count(), 1u);
    w.f.sip().respond(0, 481, "Subscription Does Not Exist"); // removes that dialog
    ASSERT_EQ(w.f.sip().count(), 2u);
    w.f.sip().respond(1, 500, "Server Error"); // keeps it
    ASSERT_EQ(w.f.sip().count(), 3u);
    w.f.sip().respond(2, 408, "Request Timeout"); // Timer F: removes it
    ASSERT_EQ(w.f.sip().count(), 4u);
    w.f.sip().respond(3, 200, "OK");
    w.f.exec().advance(std::chrono::seconds(2));
    EXPECT_EQ(w.f.sip().count(), 4u);
    std::set<std::string> call_ids;
    for (std::size_t i = 0; i < 4; ++i) call_ids.insert(w.f.sip().request(i).header("Call-ID"));
    EXPECT_EQ(call_ids.size(), 4u);
    EXPECT_EQ(w.counter("presence.ws.notify_failed"), 3u);
    // The dialog answered 500 still gets the next change; those answered 481/408 do not.
    for (int i = 0; i < 4; ++i) w.stanza(presence_to(i, "<show>xa</show>"));
    std::set<std::string> again;
    for (std::size_t i = 4; i < w.f.sip().count(); ++i) {
        again.insert(w.f.sip().request(i).header("Call-ID"));
        w.f.sip().respond(i, 200, "OK");
    }
    w.f.exec().advance(std::chrono::seconds(2));
    for (std::size_t i = 4; i < w.f.sip().count(); ++i) {
        if (!w.f.sip().completed(i)) w.f.sip().respond(i, 200, "OK");
        again.insert(w.f.sip().request(i).header("Call-ID"));
    }
    const std::string removed1 = w.f.sip().request(0).header("Call-ID");
    const std::string removed2 = w.f.sip().request(2).header("Call-ID");
    EXPECT_EQ(again.size(), 2u);
    EXPECT_FALSE(again.count(removed1));
    EXPECT_FALSE(again.count(removed2));
}

// A waiting dialog is in the queue once; what it sends is the state when its turn comes
// (RFC 6665 §4.2.2 rate control, per-dialog order kept).
TEST(NotifierRole, WaitingDialogIsQueuedOnceAndSendsTheLatestState) {
    PresenceConfig cfg;
    cfg.max_notifies_in_flight = 1;
    Ws w(cfg);
    for (int i = 0; i < 2; ++i) w.role.restore(watcher_record(i, w.f.shared->unix_now()));
    w.f.exec().run_pending();
    w.stanza(presence_to(0, "<show>away</show>"));
    w.stanza(presence_to(1, "<show>away</show>"));
    w.stanza(presence_to(1, "<show>xa</show>"));
    w.stanza(presence_to(1, "<show>dnd</show>"));
    ASSERT_EQ(w.f.sip().count(), 1u);
    EXPECT_EQ(w.counter("presence.ws.notify_queued"), 1u);
    w.f.sip().respond(0, 200, "OK");
    ASSERT_EQ(w.f.sip().count(), 2u);
    EXPECT_EQ(w.f.sip().request(1).header("Call-ID"), "fan-1");
    const auto t = tuple(pidf(w.f.sip().request(1)), "ID-balcony");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->show, "dnd");
    w.f.sip().respond(1, 200, "OK");
    w.f.exec().advance(std::chrono::seconds(2));
    EXPECT_EQ(w.f.sip().count(), 2u);
}

// A dialog that goes away while it waits does not hold the queue up; its terminal NOTIFY
// (RFC 6665 §4.2.2, A-23) waits its turn like any other.
TEST(NotifierRole, DialogsEndingWhileQueuedKeepTheQueueMoving) {
    PresenceConfig cfg;
    cfg.max_notifies_in_flight = 1;
    Ws w(cfg);
    for (int i = 0; i < 3; ++i) w.role.restore(watcher_record(i, w.f.shared->unix_now()));
    w.f.exec().run_pending();
    for (int i = 0; i < 3; ++i) w.stanza(presence_to(i));
    ASSERT_EQ(w.f.sip().count(), 1u);
    // Watcher 1 unsubscribes while queued: its final NOTIFY replaces the pending one.
    auto tx = w.subscribe(
        "SUBSCRIBE sip:juliet@s2x.example.net SIP/2.0\nFrom: <sip:w1@example.net>;tag=xfg9\n"
        "To: <sip:juliet@example.com>;tag=t1\nCall-ID: fan-1\nCSeq: 2 SUBSCRIBE\n"
        "Contact: <sip:w1@example.net>\nEvent: presence\nExpires: 0\nContent-Length: 0\n\n");
    ASSERT_EQ(tx->status(), 200);
    // Watcher 2's authorization is withdrawn while queued (PRES-WS-4).
    w.stanza("<presence from='juliet@example.com' to='w2@example.net' type='unsubscribed'/>");
    ASSERT_EQ(w.f.sip().count(), 1u);
    w.f.sip().respond(0, 200, "OK");
    ASSERT_EQ(w.f.sip().count(), 2u);
    EXPECT_EQ(w.f.sip().request(1).header("Call-ID"), "fan-1");
    EXPECT_EQ(w.f.sip().request(1).header("Subscription-State"), "terminated;reason=timeout");
    w.f.sip().respond(1, 200, "OK");
    ASSERT_EQ(w.f.sip().count(), 3u);
    EXPECT_EQ(w.f.sip().request(2).header("Call-ID"), "fan-2");
    EXPECT_EQ(w.f.sip().request(2).header("Subscription-State"), "terminated;reason=rejected");
    w.f.sip().respond(2, 200, "OK");
    w.f.exec().advance(std::chrono::seconds(2));
    EXPECT_EQ(w.f.sip().count(), 3u);
    EXPECT_EQ(w.f.sip().outstanding(), 0u);
}

// --- presence cached once per contact ---------------------------------------------------------

// The cache is shared between the watchers of C, but each watcher's NOTIFYs carry only what
// C's server sent to that watcher (PRES-SEC-5: directed presence to w0 is not shown to w1).
TEST(NotifierRole, SharedCacheShowsEachWatcherOnlyWhatWasSentToIt) {
    Ws w;
    for (int i = 0; i < 2; ++i) w.role.restore(watcher_record(i, w.f.shared->unix_now()));
    w.f.exec().run_pending();
    w.stanza(presence_to(0, "<show>chat</show>"));
    w.stanza(presence_to(1, "<show>chat</show>"));
    w.stanza("<presence from='juliet@example.com/garden' to='w0@example.net'/>"); // directed
    w.settle();
    for (std::size_t i = 0; i < w.f.sip().count(); ++i)
        if (!w.f.sip().completed(i)) w.f.sip().respond(i, 200, "OK");
    w.f.exec().advance(std::chrono::seconds(1));
    const long n0 = last_on(w, "fan-0");
    const long n1 = last_on(w, "fan-1");
    ASSERT_GE(n0, 0);
    ASSERT_GE(n1, 0);
    auto d0 = pidf(w.f.sip().request(static_cast<std::size_t>(n0)));
    auto d1 = pidf(w.f.sip().request(static_cast<std::size_t>(n1)));
    EXPECT_EQ(d0.tuples.size(), 2u);
    ASSERT_EQ(d1.tuples.size(), 1u);
    EXPECT_EQ(d1.tuples[0].id, "ID-balcony");
    EXPECT_EQ(d1.tuples[0].show, "chat");
    // A later change seen by w1 only: w0's view keeps the earlier state.
    w.stanza(presence_to(1, "<show>dnd</show>"));
    w.f.exec().advance(std::chrono::seconds(1));
    const long m1 = last_on(w, "fan-1");
    ASSERT_GT(m1, n1);
    EXPECT_EQ(tuple(pidf(w.f.sip().request(static_cast<std::size_t>(m1))), "ID-balcony")->show,
              "dnd");
    EXPECT_EQ(last_on(w, "fan-0"), n0);
}

// PRES-NOT-1 / Table P1: the watchers of C that got the same stanza get the same PIDF (built
// once per contact state and second, then shared); a later second (the <timestamp/> default)
// or a new state gives a new body, and a watcher's body follows only its own stanzas.
TEST(NotifierRole, PresNot1WatchersOfOneStateShareOneBodyRebuiltWhenStateOrSecondChanges) {
    Ws w;
    for (int i = 0; i < 3; ++i) w.role.restore(watcher_record(i, w.f.shared->unix_now()));
    w.f.exec().run_pending();
    auto answer_all = [&] {
        for (std::size_t i = 0; i < w.f.sip().count(); ++i)
            if (!w.f.sip().completed(i)) w.f.sip().respond(i, 200, "OK");
    };
    auto last_tuple = [&](int i) {
        const long n = last_on(w, "fan-" + std::to_string(i));
        EXPECT_GE(n, 0);
        return n < 0 ? std::nullopt
                     : tuple(pidf(w.f.sip().request(static_cast<std::size_t>(n))), "ID-balcony");
    };
    auto body_of = [&](int i) {
        const long n = last_on(w, "fan-" + std::to_string(i));
        return n < 0 ? std::string() : w.f.sip().request(static_cast<std::size_t>(n)).body;
    };
    for (int i = 0; i < 2; ++i) w.stanza(presence_to(i, "<show>away</show>"));
    answer_all();
    EXPECT_EQ(body_of(1), body_of(0));
    const auto t0 = last_tuple(0);
    ASSERT_TRUE(t0);
    EXPECT_EQ(t0->show, "away");
    EXPECT_FALSE(t0->timestamp.empty());
    EXPECT_EQ(last_on(w, "fan-2"), -1);

    // Three seconds later w2 gets the same stanza: same state, but <timestamp/> is the time of
    // this NOTIFY, not of the body built for w0 and w1.
    w.f.exec().advance(std::chrono::seconds(3));
    w.stanza(presence_to(2, "<show>away</show>"));
    answer_all();
    const auto t2 = last_tuple(2);
    ASSERT_TRUE(t2);
    EXPECT_EQ(t2->show, "away");
    EXPECT_NE(t2->timestamp, t0->timestamp);

    // C changes, seen by w0 and w1 only: both get the new state, w2 is told nothing.
    const long before2 = last_on(w, "fan-2");
    for (int i = 0; i < 2; ++i) w.stanza(presence_to(i, "<show>dnd</show>"));
    answer_all();
    EXPECT_EQ(body_of(1), body_of(0));
    ASSERT_TRUE(last_tuple(1));
    EXPECT_EQ(last_tuple(1)->show, "dnd");
    EXPECT_EQ(last_on(w, "fan-2"), before2);

    // In the same second (after w2's coalescing window, 200 ms) w2 gets a stanza of its own:
    // its body is its state, not the last one built for C (dnd); w0 is not re-notified.
    const long n0 = last_on(w, "fan-0");
    w.stanza(presence_to(2, "<show>xa</show>"));
    w.f.exec().advance(w.f.shared->cfg.coalesce_window);
    answer_all();
    ASSERT_GT(last_on(w, "fan-2"), before2);
    ASSERT_TRUE(last_tuple(2));
    EXPECT_EQ(last_tuple(2)->show, "xa");
    EXPECT_EQ(last_on(w, "fan-0"), n0);
}

// --- timers on the deadline queue -------------------------------------------------------------

// A-23: many dialogs on one timer queue each expire at their own time, refreshes move them.
TEST(NotifierRole, A23DialogsExpireEachAtItsOwnTime) {
    Ws w;
    const auto now = w.f.shared->unix_now();
    for (int i = 0; i < 3; ++i) {
        auto rec = watcher_record(i, now);
        rec.dialog->expires_at = now + 100 * (i + 1);
        w.role.restore(rec);
    }
    w.f.exec().run_pending();
    // Watcher 0 refreshes for 600 s: it now expires after watchers 1 and 2.
    auto tx = w.subscribe(
        "SUBSCRIBE sip:juliet@s2x.example.net SIP/2.0\nFrom: <sip:w0@example.net>;tag=xfg9\n"
        "To: <sip:juliet@example.com>;tag=t0\nCall-ID: fan-0\nCSeq: 2 SUBSCRIBE\n"
        "Contact: <sip:w0@example.net>\nEvent: presence\nExpires: 600\nContent-Length: 0\n\n");
    ASSERT_EQ(tx->status(), 200);
    w.f.sip().respond(0, 200, "OK");
    auto terminated = [&] {
        std::vector<std::string> ids;
        for (std::size_t i = 0; i < w.f.sip().count(); ++i) {
            if (w.f.sip().request(i).header("Subscription-State").rfind("terminated", 0) == 0)
                ids.push_back(w.f.sip().request(i).header("Call-ID"));
            if (!w.f.sip().completed(i)) w.f.sip().respond(i, 200, "OK");
        }
        return ids;
    };
    w.f.exec().advance(std::chrono::seconds(199));
    EXPECT_TRUE(terminated().empty());
    w.f.exec().advance(std::chrono::seconds(2));
    EXPECT_EQ(terminated(), (std::vector<std::string>{"fan-1"}));
    w.f.exec().advance(std::chrono::seconds(100));
    EXPECT_EQ(terminated(), (std::vector<std::string>{"fan-1", "fan-2"}));
    w.f.exec().advance(std::chrono::seconds(298));
    EXPECT_EQ(terminated(), (std::vector<std::string>{"fan-1", "fan-2"}));
    w.f.exec().advance(std::chrono::seconds(2));
    EXPECT_EQ(terminated(), (std::vector<std::string>{"fan-1", "fan-2", "fan-0"}));
}

// The (Call-ID, tag) index: a replaced dialog's tag no longer matches, the new one does, and a
// matching Call-ID with another tag is still unknown (RFC 3261 §12.2.2).
TEST(NotifierRole, ReplacedDialogIsNoLongerFoundByItsTag) {
    Ws w;
    auto old_tag = w.make_active();
    std::string again = initial_subscribe();
    again.replace(again.find(kCallId), std::string(kCallId).size(), "second-dialog");
    auto tx = w.subscribe(again);
    ASSERT_EQ(tx->status(), 200);
    const auto new_tag = Ws::our_tag(*tx);
    ASSERT_NE(new_tag, old_tag);
    EXPECT_EQ(w.subscribe(w.in_dialog(old_tag, 2, 600))->status(), 481);
    std::string refresh = w.in_dialog(new_tag, 2, 600);
    refresh.replace(refresh.find(kCallId), std::string(kCallId).size(), "second-dialog");
    EXPECT_EQ(w.subscribe(refresh)->status(), 200);
    EXPECT_EQ(w.subscribe(w.in_dialog(new_tag, 3, 600))->status(), 481); // other Call-ID
}

// RFC 6665 §4.2.2 / PRES-WS-8: a dialog ended while a NOTIFY is in flight still gets its
// terminated NOTIFY once that one is answered.
TEST(NotifierRole, UnsubscribeWhileANotifyIsInFlightStillSendsTheFinalNotify) {
    Ws w;
    auto tag = w.make_active();
    w.f.exec().advance(std::chrono::seconds(1));
    w.stanza("<presence from='juliet@example.com/balcony' to='romeo@example.net'/>");
    const auto sent = w.f.sip().count();
    ASSERT_FALSE(w.f.sip().completed(sent - 1));
    ASSERT_EQ(w.subscribe(w.in_dialog(tag, 2, 0))->status(), 200);
    EXPECT_EQ(w.f.sip().count(), sent); // one NOTIFY at a time per dialog
    w.f.sip().respond(sent - 1, 200, "OK");
    w.f.exec().advance(w.f.shared->cfg.coalesce_window);
    ASSERT_EQ(w.f.sip().count(), sent + 1);
    EXPECT_EQ(w.f.sip().last().header("Subscription-State"), "terminated;reason=timeout");
    auto doc = pidf(w.f.sip().last());
    const auto t = tuple(doc, "ID-balcony");
    ASSERT_TRUE(t);
    EXPECT_FALSE(t->open);
    w.f.sip().respond(sent, 200, "OK");
    w.f.exec().advance(std::chrono::seconds(2));
    EXPECT_EQ(w.f.sip().count(), sent + 1);
}

} // namespace
} // namespace stox::plugins::presence::test
