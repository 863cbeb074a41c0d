// SPDX-License-Identifier: Apache-2.0
// IngressRouter: exclusive routing onto plugin strands, refusals and their answers.
#include "bus/ingress_router.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "bus/plugin_strand.hpp"
#include "fake_error_mapper.hpp"
#include "runtime/metrics_registry.hpp"
#include "test_support.hpp"

namespace stox::core::test {
namespace {

using sdk::ErrorCode;
using sdk::LogLevel;

constexpr std::string_view kNs = sdk::kComponentNs;

class IngressRouterTest : public ::testing::Test {
protected:
    std::shared_ptr<PluginStrand> strand(std::string owner, std::size_t max_pending = 100) {
        return std::make_shared<PluginStrand>(io_, std::move(owner), max_pending, metrics_, log_);
    }

    std::shared_ptr<FakeSipTransaction> tx(sdk::SipRequest r) {
        r.add_header("Call-ID", "call-1@192.0.2.1");
        return std::make_shared<FakeSipTransaction>(std::move(r));
    }

    /// Delivers a stanza and returns the replies the router sent.
    std::vector<sdk::Stanza> deliver(sdk::Stanza s) {
        std::vector<sdk::Stanza> replies;
        router_.deliver_stanza(std::move(s), [&](sdk::Stanza r) { replies.push_back(r); });
        return replies;
    }

    static sdk::Stanza chat(std::string body = "secret words") {
        auto s = sdk::make_stanza("message");
        s.set_attr("from", "romeo@example.org/orchard");
        s.set_attr("to", "juliet@example.net");
        s.set_attr("id", "m1");
        s.set_attr("type", "chat");
        s.add_child(sdk::XmlElement("body", {})).add_text(std::move(body));
        return s;
    }

    static sdk::Stanza iq(std::string type, std::string id = "q1") {
        auto s = sdk::make_stanza("iq");
        s.set_attr("from", "romeo@example.org/orchard");
        s.set_attr("to", "juliet@example.net");
        s.set_attr("id", std::move(id));
        s.set_attr("type", std::move(type));
        s.add_child(sdk::XmlElement("query", "jabber:iq:version"));
        return s;
    }

    // Order matters: strands (held by the router) must go before the io_context, and the
    // registry and logger must outlive both.
    MetricsRegistry metrics_;
    RecordingLogger log_;
    boost::asio::io_context io_;
    FakeErrorMapper errors_;
    ClaimTable claims_;
    IngressRouter router_{claims_, errors_, metrics_, log_};
};

// ---- SIP ----------------------------------------------------------------------------------

TEST_F(IngressRouterTest, SipRequestReachesTheClaimingPluginOnItsStrand) {
    ASSERT_TRUE(claims_.add("org.im", SipClaim{"MESSAGE", {}, {}}));
    auto s = strand("org.im");
    std::shared_ptr<sdk::SipServerTransaction> got;
    bool on_strand = false;
    router_.set_sip_handler("org.im", s, [&](std::shared_ptr<sdk::SipServerTransaction> t) {
        on_strand = s->strand().running_in_this_thread();
        got = t;
        sdk::SipResponse ok;
        ok.status = 200;
        ok.reason = "OK";
        t->respond(ok);
    });
    auto t = tx(make_request("MESSAGE", {}, "hello"));
    router_.deliver_sip(t);
    ASSERT_TRUE(run_until(io_, [&] { return got != nullptr; }));
    EXPECT_EQ(got.get(), t.get()); // the handler owns the transaction itself
    EXPECT_TRUE(on_strand);
    EXPECT_EQ(t->only_response().status, 200);
    EXPECT_EQ(metrics_.value("ingress.sip.routed"), 1u);
    EXPECT_EQ(metrics_.value("ingress.sip.unclaimed"), 0u);
}

// RFC 3261 §21.5.2; Allow lists the methods currently handled.
TEST_F(IngressRouterTest, UnclaimedSipMethodGets501WithAllow) {
    ASSERT_TRUE(claims_.add("org.im", SipClaim{"MESSAGE", {}, {}}));
    ASSERT_TRUE(claims_.add("org.presence", SipClaim{"SUBSCRIBE", "presence", {}}));
    router_.set_sip_handler("org.im", strand("org.im"), [](auto) {});
    router_.set_sip_handler("org.presence", strand("org.presence"), [](auto) {});
    auto t = tx(make_request("REFER", {}, "private body"));
    router_.deliver_sip(t);
    const auto r = t->only_response();
    EXPECT_EQ(r.status, 501);
    EXPECT_EQ(r.reason, "Not Implemented");
    EXPECT_EQ(r.header("Allow"), "MESSAGE, OPTIONS, SUBSCRIBE");
    EXPECT_EQ(metrics_.value("ingress.sip.unclaimed"), 1u);
    EXPECT_EQ(log_.count(LogLevel::Warn, "REFER"), 1u);
    EXPECT_FALSE(log_.contains("private body")); // never the body
}

// RFC 3261 §11.2: unclaimed OPTIONS is a capability query the core answers itself (health probe).
TEST_F(IngressRouterTest, UnclaimedOptionsIsAnsweredByTheCoreWith200AndAllow) {
    ASSERT_TRUE(claims_.add("org.im", SipClaim{"MESSAGE", {}, {}}));
    router_.set_sip_handler("org.im", strand("org.im"), [](auto) {});
    auto t = tx(make_request("OPTIONS", {}, ""));
    router_.deliver_sip(t);
    const auto r = t->only_response();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("Allow"), "MESSAGE, OPTIONS");
    EXPECT_FALSE(r.header("Accept").empty());
    EXPECT_EQ(metrics_.value("ingress.sip.unclaimed"), 0u);
}

TEST_F(IngressRouterTest, ClaimedButNoHandlerIsUnclaimed) {
    ASSERT_TRUE(claims_.add("org.im", SipClaim{"MESSAGE", {}, {}}));
    ASSERT_TRUE(claims_.add("org.presence", SipClaim{"SUBSCRIBE", {}, {}}));
    router_.set_sip_handler("org.presence", strand("org.presence"), [](auto) {});
    auto t = tx(make_request("MESSAGE"));
    router_.deliver_sip(t);
    const auto r = t->only_response();
    EXPECT_EQ(r.status, 501);
    EXPECT_EQ(r.header("Allow"), "OPTIONS, SUBSCRIBE"); // MESSAGE is claimed but not handled
    EXPECT_TRUE(log_.contains("org.im"));
    EXPECT_EQ(metrics_.value("ingress.sip.unclaimed"), 1u);
}

TEST_F(IngressRouterTest, NothingClaimedGives501AllowingOnlyOptions) {
    auto t = tx(make_request("MESSAGE"));
    router_.deliver_sip(t);
    const auto r = t->only_response();
    EXPECT_EQ(r.status, 501);
    EXPECT_EQ(r.header("Allow"), "OPTIONS"); // answered by the core itself
}

// RFC 6665 §4.2.1.1 / §8.3.2: a SUBSCRIBE for a package nobody handles is a 489.
TEST_F(IngressRouterTest, SubscribeForAnUnclaimedPackageGets489WithAllowEvents) {
    ASSERT_TRUE(claims_.add("org.presence", SipClaim{"SUBSCRIBE", "presence", {}}));
    ASSERT_TRUE(claims_.add("org.dialog", SipClaim{"SUBSCRIBE", "dialog", {}}));
    router_.set_sip_handler("org.presence", strand("org.presence"), [](auto) {});
    router_.set_sip_handler("org.dialog", strand("org.dialog"), [](auto) {});
    auto t = tx(make_request("SUBSCRIBE", {{"Event", "message-summary"}}));
    router_.deliver_sip(t);
    const auto r = t->only_response();
    EXPECT_EQ(r.status, 489);
    EXPECT_EQ(r.reason, "Bad Event");
    EXPECT_EQ(r.header("Allow-Events"), "dialog, presence");
    EXPECT_EQ(metrics_.value("ingress.sip.unclaimed"), 1u);
}

TEST_F(IngressRouterTest, SubscribeWithEventParametersIsRouted) {
    ASSERT_TRUE(claims_.add("org.presence", SipClaim{"SUBSCRIBE", "presence", {}}));
    auto s = strand("org.presence");
    int calls = 0;
    router_.set_sip_handler("org.presence", s, [&](auto) { ++calls; });
    router_.deliver_sip(tx(make_request("SUBSCRIBE", {{"Event", "presence;id=42"}})));
    ASSERT_TRUE(run_until(io_, [&] { return calls == 1; }));
    EXPECT_EQ(metrics_.value("ingress.sip.routed"), 1u);
}

// RFC 3264 §6: an offer whose media nobody handles is not acceptable here.
TEST_F(IngressRouterTest, InviteWithUnclaimedMediaGets488) {
    ASSERT_TRUE(claims_.add("org.chat", SipClaim{"INVITE", {}, "message"}));
    router_.set_sip_handler("org.chat", strand("org.chat"), [](auto) {});
    auto t = tx(make_request("INVITE", {{"Content-Type", "application/sdp"}},
                             "v=0\r\nm=audio 49170 RTP/AVP 0\r\n"));
    router_.deliver_sip(t);
    EXPECT_EQ(t->only_response().status, 488);
    EXPECT_EQ(t->only_response().reason, "Not Acceptable Here");
}

TEST_F(IngressRouterTest, InviteWithClaimedMediaIsRouted) {
    ASSERT_TRUE(claims_.add("org.chat", SipClaim{"INVITE", {}, "message"}));
    ASSERT_TRUE(claims_.add("org.media", SipClaim{"INVITE", {}, "audio"}));
    int chat = 0;
    int media = 0;
    router_.set_sip_handler("org.chat", strand("org.chat"), [&](auto) { ++chat; });
    router_.set_sip_handler("org.media", strand("org.media"), [&](auto) { ++media; });
    router_.deliver_sip(tx(make_request("INVITE", {{"Content-Type", "application/sdp"}},
                                        "v=0\r\nm=audio 49170 RTP/AVP 0\r\n")));
    ASSERT_TRUE(run_until(io_, [&] { return media == 1; }));
    EXPECT_EQ(chat, 0);
}

// RFC 3261 §17.2.1: an ACK is never answered.
TEST_F(IngressRouterTest, UnclaimedAckIsCountedButNotAnswered) {
    auto t = tx(make_request("ACK"));
    router_.deliver_sip(t);
    EXPECT_TRUE(t->responses().empty());
    EXPECT_EQ(metrics_.value("ingress.sip.unclaimed"), 1u);
    EXPECT_EQ(log_.count(LogLevel::Warn, "ACK"), 1u);
}

TEST_F(IngressRouterTest, FullStrandGets503WithRetryAfter) {
    ASSERT_TRUE(claims_.add("org.im", SipClaim{"MESSAGE", {}, {}}));
    auto s = strand("org.im", 1);
    int calls = 0;
    router_.set_sip_handler("org.im", s, [&](auto) { ++calls; });
    auto first = tx(make_request("MESSAGE"));
    auto second = tx(make_request("MESSAGE"));
    router_.deliver_sip(first); // io not running: it waits on the strand
    router_.deliver_sip(second);
    const auto r = second->only_response();
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.reason, "Service Unavailable");
    EXPECT_EQ(r.header("Retry-After"), "5");
    EXPECT_TRUE(first->responses().empty());
    EXPECT_EQ(metrics_.value("ingress.sip.overload"), 1u);
    EXPECT_EQ(metrics_.value("ingress.sip.routed"), 1u);
    EXPECT_EQ(log_.count(LogLevel::Warn, "overloaded"), 1u);
    drain(io_);
    EXPECT_EQ(calls, 1);
}

TEST_F(IngressRouterTest, ThrowingHandlerIsContainedByTheStrand) {
    ASSERT_TRUE(claims_.add("org.im", SipClaim{"MESSAGE", {}, {}}));
    int calls = 0;
    router_.set_sip_handler("org.im", strand("org.im"), [&](auto) {
        if (++calls == 1) throw std::runtime_error("handler boom");
    });
    auto t1 = tx(make_request("MESSAGE"));
    router_.deliver_sip(t1);
    router_.deliver_sip(tx(make_request("MESSAGE")));
    ASSERT_TRUE(run_until(io_, [&] { return calls == 2; }));
    EXPECT_EQ(metrics_.value("plugin.exceptions.org.im"), 1u);
    // Answering 500 for an abandoned transaction is the SIP endpoint's job, not the router's.
    EXPECT_TRUE(t1->responses().empty());
}

TEST_F(IngressRouterTest, ClearedHandlersMakeTrafficUnclaimed) {
    ASSERT_TRUE(claims_.add("org.im", SipClaim{"MESSAGE", {}, {}}));
    ASSERT_TRUE(claims_.add("org.im", StanzaClaim{"message", {}, {}}));
    auto s = strand("org.im");
    int calls = 0;
    router_.set_sip_handler("org.im", s, [&](auto) { ++calls; });
    router_.set_stanza_handler("org.im", s, [&](const sdk::Stanza&) { ++calls; });
    router_.clear_handlers("org.im");
    auto t = tx(make_request("MESSAGE"));
    router_.deliver_sip(t);
    EXPECT_EQ(t->only_response().status, 501);
    const auto replies = deliver(chat());
    ASSERT_EQ(replies.size(), 1u);
    EXPECT_EQ(replies[0].attr("type"), "error");
    drain(io_);
    EXPECT_EQ(calls, 0);
    EXPECT_EQ(metrics_.value("ingress.sip.unclaimed"), 1u);
    EXPECT_EQ(metrics_.value("ingress.xmpp.unclaimed"), 1u);
}

TEST_F(IngressRouterTest, EmptyHandlerClearsOnlyThatHandler) {
    ASSERT_TRUE(claims_.add("org.im", SipClaim{"MESSAGE", {}, {}}));
    ASSERT_TRUE(claims_.add("org.im", StanzaClaim{"message", {}, {}}));
    auto s = strand("org.im");
    int stanzas = 0;
    router_.set_sip_handler("org.im", s, [](auto) {});
    router_.set_stanza_handler("org.im", s, [&](const sdk::Stanza&) { ++stanzas; });
    router_.set_sip_handler("org.im", nullptr, {});
    auto t = tx(make_request("MESSAGE"));
    router_.deliver_sip(t);
    EXPECT_EQ(t->only_response().status, 501);
    EXPECT_TRUE(deliver(chat()).empty());
    drain(io_);
    EXPECT_EQ(stanzas, 1);
}

// Destroying a replaced or cleared handler may run plugin code that calls back into the
// router: it must not happen under the router's lock.
TEST_F(IngressRouterTest, HandlerDestructionMayCallTheRouter) {
    struct CallsRouterOnDestruction {
        explicit CallsRouterOnDestruction(IngressRouter& r, int& n) : router(r), destroyed(n) {}
        ~CallsRouterOnDestruction() {
            router.clear_handlers("org.other");
            ++destroyed;
        }
        CallsRouterOnDestruction(const CallsRouterOnDestruction&) = delete;
        CallsRouterOnDestruction& operator=(const CallsRouterOnDestruction&) = delete;
        IngressRouter& router;
        int& destroyed;
    };
    int destroyed = 0;
    auto first = std::make_shared<CallsRouterOnDestruction>(router_, destroyed);
    router_.set_sip_handler("org.im", strand("org.im"), [first](auto) {});
    auto second = std::make_shared<CallsRouterOnDestruction>(router_, destroyed);
    router_.set_stanza_handler("org.im", nullptr, [second](const sdk::Stanza&) {});
    first.reset();
    second.reset();
    router_.set_sip_handler("org.im", nullptr, [](auto) {}); // replaced: `first` goes
    EXPECT_EQ(destroyed, 1);
    router_.clear_handlers("org.im"); // `second` goes
    EXPECT_EQ(destroyed, 2);
}

TEST_F(IngressRouterTest, HandlerWithoutAStrandIsRefused) {
    ASSERT_TRUE(claims_.add("org.im", SipClaim{"MESSAGE", {}, {}}));
    router_.set_sip_handler("org.im", nullptr, [](auto) {});
    EXPECT_EQ(log_.count(LogLevel::Error, "org.im"), 1u);
    auto t = tx(make_request("MESSAGE"));
    router_.deliver_sip(t);
    EXPECT_EQ(t->only_response().status, 501);
}

TEST_F(IngressRouterTest, ClosedStrandMakesTrafficUnclaimed) {
    ASSERT_TRUE(claims_.add("org.im", SipClaim{"MESSAGE", {}, {}}));
    auto s = strand("org.im");
    router_.set_sip_handler("org.im", s, [](auto) {});
    s->close(); // the plugin is stopping
    auto t = tx(make_request("MESSAGE"));
    router_.deliver_sip(t);
    EXPECT_EQ(t->only_response().status, 501);
    EXPECT_EQ(metrics_.value("ingress.sip.overload"), 0u);
}

TEST_F(IngressRouterTest, NullTransactionIsLoggedNotFatal) {
    router_.deliver_sip(nullptr);
    EXPECT_EQ(log_.count(LogLevel::Error), 1u);
}

// ---- XMPP ---------------------------------------------------------------------------------

TEST_F(IngressRouterTest, StanzaReachesTheClaimingPluginOnItsStrand) {
    ASSERT_TRUE(claims_.add("org.im", StanzaClaim{"message", {"chat"}, {}}));
    auto s = strand("org.im");
    std::optional<sdk::Stanza> got;
    bool on_strand = false;
    router_.set_stanza_handler("org.im", s, [&](const sdk::Stanza& st) {
        on_strand = s->strand().running_in_this_thread();
        got = st;
    });
    EXPECT_TRUE(deliver(chat()).empty());
    ASSERT_TRUE(run_until(io_, [&] { return got.has_value(); }));
    EXPECT_EQ(*got, chat());
    EXPECT_TRUE(on_strand);
    EXPECT_EQ(metrics_.value("ingress.xmpp.routed"), 1u);
}

// RFC 6120 §8.3.1: from/to swapped, same id, type='error', only the <error/> child.
TEST_F(IngressRouterTest, UnclaimedMessageGetsFeatureNotImplementedExactXml) {
    const auto replies = deliver(chat());
    ASSERT_EQ(replies.size(), 1u);
    EXPECT_EQ(replies[0].to_string(kNs),
              "<message from='juliet@example.net' to='romeo@example.org/orchard' id='m1' "
              "type='error'><error type='cancel'><feature-not-implemented "
              "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>");
    EXPECT_EQ(errors_.asked(), (std::vector<ErrorCode>{ErrorCode::Unsupported}));
    EXPECT_EQ(metrics_.value("ingress.xmpp.unclaimed"), 1u);
    EXPECT_EQ(log_.count(LogLevel::Warn, "feature-not-implemented"), 1u);
    EXPECT_FALSE(log_.contains("secret words")); // never the body
}

TEST_F(IngressRouterTest, UnclaimedIqErrorCarriesOnlyTheError) {
    const auto replies = deliver(iq("get"));
    ASSERT_EQ(replies.size(), 1u);
    EXPECT_EQ(replies[0].to_string(kNs),
              "<iq from='juliet@example.net' to='romeo@example.org/orchard' id='q1' "
              "type='error'><error type='cancel'><feature-not-implemented "
              "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
}

TEST_F(IngressRouterTest, FullStrandGetsResourceConstraintWait) {
    ASSERT_TRUE(claims_.add("org.im", StanzaClaim{"message", {}, {}}));
    int calls = 0;
    router_.set_stanza_handler("org.im", strand("org.im", 1), [&](const sdk::Stanza&) { ++calls; });
    EXPECT_TRUE(deliver(chat()).empty());
    auto second = chat();
    second.set_attr("id", "m2");
    const auto replies = deliver(second);
    ASSERT_EQ(replies.size(), 1u);
    EXPECT_EQ(replies[0].to_string(kNs),
              "<message from='juliet@example.net' to='romeo@example.org/orchard' id='m2' "
              "type='error'><error type='wait'><resource-constraint "
              "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>");
    EXPECT_EQ(errors_.asked(), (std::vector<ErrorCode>{ErrorCode::Overloaded}));
    EXPECT_EQ(metrics_.value("ingress.xmpp.overload"), 1u);
    EXPECT_EQ(metrics_.value("ingress.xmpp.routed"), 1u);
    drain(io_);
    EXPECT_EQ(calls, 1);
}

// RFC 6120 §8.3.1 rule 8: never answer an error stanza with an error.
TEST_F(IngressRouterTest, ErrorStanzasAreNeverAnswered) {
    auto message_error = chat();
    message_error.set_attr("type", "error");
    auto presence_error = sdk::make_stanza("presence");
    presence_error.set_attr("type", "error");
    EXPECT_TRUE(deliver(message_error).empty());
    EXPECT_TRUE(deliver(presence_error).empty());
    EXPECT_TRUE(deliver(iq("error")).empty());
    EXPECT_EQ(metrics_.value("ingress.xmpp.dropped_error_stanza"), 3u);
    EXPECT_EQ(metrics_.value("ingress.xmpp.unclaimed"), 0u);
    EXPECT_EQ(log_.count(LogLevel::Debug, "reply"), 3u);
    EXPECT_TRUE(errors_.asked().empty());
}

TEST_F(IngressRouterTest, IqResultIsNeverAnswered) {
    ASSERT_TRUE(claims_.add("org.iq", StanzaClaim{"iq", {}, {}}));
    int calls = 0;
    router_.set_stanza_handler("org.iq", strand("org.iq"), [&](const sdk::Stanza&) { ++calls; });
    EXPECT_TRUE(deliver(iq("result")).empty());
    drain(io_);
    EXPECT_EQ(calls, 0); // not routed by claims either
    EXPECT_EQ(metrics_.value("ingress.xmpp.dropped_error_stanza"), 1u);
}

TEST_F(IngressRouterTest, StanzaHandlerClearedBecomesUnclaimed) {
    ASSERT_TRUE(claims_.add("org.iq", StanzaClaim{"iq", {"get"}, "jabber:iq:version"}));
    router_.set_stanza_handler("org.iq", strand("org.iq"), [](const sdk::Stanza&) {});
    router_.clear_handlers("org.iq");
    const auto replies = deliver(iq("get"));
    ASSERT_EQ(replies.size(), 1u);
    EXPECT_NE(replies[0].child("error"), nullptr);
    EXPECT_TRUE(log_.contains("org.iq"));
}

TEST_F(IngressRouterTest, NonStanzaIsCountedButNotAnswered) {
    EXPECT_TRUE(deliver(sdk::make_stanza("handshake")).empty());
    EXPECT_EQ(metrics_.value("ingress.xmpp.unclaimed"), 1u);
    EXPECT_EQ(log_.count(LogLevel::Warn, "handshake"), 1u);
}

TEST_F(IngressRouterTest, MissingReplySinkIsLogged) {
    router_.deliver_stanza(chat(), {});
    EXPECT_EQ(metrics_.value("ingress.xmpp.unclaimed"), 1u);
    EXPECT_EQ(log_.count(LogLevel::Error, "no reply path"), 1u);
}

// ---- make_error_reply ---------------------------------------------------------------------

TEST(IngressRouterErrorReply, TextAndAddressAreCarried) {
    auto original = sdk::make_stanza("presence");
    original.set_attr("from", "a@example.org");
    original.set_attr("to", "b@example.net");
    original.set_attr("type", "subscribe");
    const auto r = IngressRouter::make_error_reply(
        original, {"redirect", "modify", "try & retry", "xmpp:c@example.net"});
    EXPECT_EQ(r.to_string(kNs),
              "<presence from='b@example.net' to='a@example.org' type='error'><error "
              "type='modify'><redirect "
              "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>xmpp:c@example.net</redirect><text "
              "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>try &amp; retry</text></error>"
              "</presence>");
}

// RFC 6120 §8.3.1 rule 3: an iq error always has an id (empty if the request had none).
TEST(IngressRouterErrorReply, IqWithoutIdGetsAnEmptyId) {
    auto original = sdk::make_stanza("iq");
    original.set_attr("type", "get");
    const auto r = IngressRouter::make_error_reply(original, {"bad-request", "modify", {}, {}});
    EXPECT_TRUE(r.has_attr("id"));
    EXPECT_EQ(r.attr("id"), "");
    EXPECT_FALSE(r.has_attr("from"));
    EXPECT_FALSE(r.has_attr("to"));
}

TEST(IngressRouterErrorReply, EmptyConditionFallsBackToUndefinedCondition) {
    auto original = sdk::make_stanza("message");
    const auto r = IngressRouter::make_error_reply(original, {});
    EXPECT_EQ(r.to_string(kNs), "<message type='error'><error type='cancel'><undefined-condition "
                                "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>");
}

TEST(IngressRouterErrorReply, MessageWithoutIdGetsNoId) {
    auto original = sdk::make_stanza("message");
    original.set_attr("from", "a@example.org");
    const auto r = IngressRouter::make_error_reply(original, {"item-not-found", "cancel", {}, {}});
    EXPECT_FALSE(r.has_attr("id"));
    EXPECT_EQ(r.attr("to"), "a@example.org");
}

// Routing from several endpoint threads while handlers change (TSan).
TEST_F(IngressRouterTest, ConcurrentDeliveryAndHandlerChanges) {
    ASSERT_TRUE(claims_.add("org.im", SipClaim{"MESSAGE", {}, {}}));
    auto s = strand("org.im", 1u << 20);
    std::atomic<int> handled{0};
    IoThreads threads(io_, 2);
    std::vector<std::shared_ptr<FakeSipTransaction>> txs;
    for (int i = 0; i < 800; ++i) txs.push_back(tx(make_request("MESSAGE")));
    std::thread toggler([&] {
        for (int i = 0; i < 200; ++i) {
            router_.set_sip_handler("org.im", s, [&](auto) { handled.fetch_add(1); });
            router_.clear_handlers("org.im");
        }
        router_.set_sip_handler("org.im", s, [&](auto) { handled.fetch_add(1); });
    });
    std::thread a([&] {
        for (int i = 0; i < 400; ++i) router_.deliver_sip(txs[i]);
    });
    std::thread b([&] {
        for (int i = 400; i < 800; ++i) router_.deliver_sip(txs[i]);
    });
    a.join();
    b.join();
    toggler.join();
    const auto routed = metrics_.value("ingress.sip.routed");
    ASSERT_TRUE(wait_until([&] { return handled.load() == static_cast<int>(routed); }));
    threads.stop();
    EXPECT_EQ(routed + metrics_.value("ingress.sip.unclaimed"), 800u);
}

} // namespace
} // namespace stox::core::test
