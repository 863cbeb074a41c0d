// SPDX-License-Identifier: Apache-2.0
// The SDK test harness itself (sdk/testing/include/stox/sdk/testing/plugin_harness.hpp): the
// fakes must behave like the core where plugins can tell the difference.
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace stox::sdk::testing {
namespace {

using namespace std::chrono;

TEST(ManualExecutor, PostsRunBeforeTimersAndTimersInDueOrder) {
    ManualExecutor ex;
    std::vector<std::string> order;
    auto start = ex.now();
    TimerHandle t2 = ex.after(milliseconds(20), [&] { order.push_back("t20"); });
    TimerHandle t1 = ex.after(milliseconds(10), [&] {
        order.push_back("t10");
        EXPECT_EQ(ex.now() - start, milliseconds(10)); // runs at its due time
        ex.post([&] { order.push_back("post-from-t10"); });
    });
    TimerHandle t1b = ex.after(milliseconds(10), [&] { order.push_back("t10b"); });
    ex.post([&] { order.push_back("post"); });
    EXPECT_EQ(ex.run_pending(), 1u);
    ex.advance(milliseconds(15));
    ex.advance(milliseconds(5));
    EXPECT_EQ(order, (std::vector<std::string>{"post", "t10", "post-from-t10", "t10b", "t20"}));
    EXPECT_EQ(ex.now() - start, milliseconds(20));
}

TEST(ManualExecutor, HandlesCancelDetachAndClose) {
    ManualExecutor ex;
    int fired = 0;
    {
        TimerHandle dropped = ex.after(milliseconds(1), [&] { ++fired; });
    } // destroyed: cancelled
    TimerHandle cancelled = ex.after(milliseconds(1), [&] { ++fired; });
    cancelled.cancel();
    TimerHandle detached = ex.after(milliseconds(1), [&] { fired += 10; });
    detached.detach();
    TimerHandle zero = ex.after(milliseconds(0), [&] { fired += 100; });
    EXPECT_EQ(ex.pending_timers(), 2u);
    ex.run_pending(); // a zero delay is due now
    EXPECT_EQ(fired, 100);
    ex.advance(milliseconds(1));
    EXPECT_EQ(fired, 110);
    TimerHandle late = ex.after(milliseconds(5), [&] { ++fired; });
    ex.post([&] { ++fired; });
    ex.close();
    ex.post([&] { ++fired; });
    ex.advance(seconds(1));
    EXPECT_EQ(fired, 110);
    EXPECT_EQ(ex.dropped(), 2u);
}

TEST(MapConfigView, TypedGettersAndErrors) {
    MapConfigView v;
    v.set("/a", 5).set("/b", true).set("/s", "x").set("/d", 1.5).set("/o/k", "v");
    v.set("/list", std::vector<std::string>{"p", "q"});
    EXPECT_EQ(v.get_int("/a").value(), 5);
    EXPECT_EQ(v.get_double("/a").value(), 5.0); // integers are numbers
    EXPECT_TRUE(v.get_bool("/b").value());
    EXPECT_EQ(v.get_string("/s").value(), "x");
    EXPECT_EQ(v.get_int("/missing").status().code(), ErrorCode::ItemNotFound);
    EXPECT_EQ(v.get_int("/b").status().code(), ErrorCode::InvalidConfig);
    EXPECT_EQ(v.get_string("/o").status().code(), ErrorCode::InvalidConfig);
    EXPECT_TRUE(v.has("/o"));
    EXPECT_TRUE(v.has(""));
    EXPECT_FALSE(v.has("/x"));
    EXPECT_EQ(v.keys("/o").value(), std::vector<std::string>{"k"});
    EXPECT_EQ(v.keys("/a").status().code(), ErrorCode::InvalidConfig);
    EXPECT_EQ(v.size("/list").value(), 2u);
    EXPECT_EQ(
        v.to_json(),
        "{\"a\":5,\"b\":true,\"d\":1.5,\"list\":[\"p\",\"q\"],\"o\":{\"k\":\"v\"},\"s\":\"x\"}");
}

TEST(FakeXmppService, TrackedStanzaWindowReplyAndFailure) {
    ManualExecutor ex;
    FakeXmppService x(ex);
    std::vector<std::string> events;
    auto tracked = [&](std::string id) {
        Stanza s = make_stanza("message");
        s.set_attr("id", id);
        x.send_tracked(
            s, [&, id](const Status& st) { events.push_back(id + (st ? ":written" : ":failed")); },
            milliseconds(100),
            [&, id](const Stanza* r) { events.push_back(id + (r ? ":reply" : ":none")); });
    };
    tracked("a");
    tracked("b");
    tracked("c");
    EXPECT_TRUE(events.empty()); // nothing completes by itself
    x.write(0);
    x.write(1);
    x.fail(2, Status(ErrorCode::Unreachable));
    ex.advance(milliseconds(50));
    x.reply(1, make_stanza("message"));
    EXPECT_THROW(x.reply(2, make_stanza("message")), std::logic_error); // failed: no reply
    ex.advance(milliseconds(50));
    EXPECT_EQ(events, (std::vector<std::string>{"a:written", "b:written", "c:failed", "b:reply",
                                                "a:none"}));
    EXPECT_THROW(x.reply(0, make_stanza("message")), std::logic_error); // window over
    Stanza no_id = make_stanza("message");
    x.send_tracked(no_id, {}, milliseconds(1), [](const Stanza*) {});
    EXPECT_EQ(x.violations().size(), 1u);
}

TEST(FakeSip, TransactionsAndRequests) {
    ManualExecutor ex;
    FakeSipServerTransaction tx(parse_sip_request("MESSAGE sip:a@b SIP/2.0\n\n"));
    SipResponse ok;
    ok.status = 200;
    tx.respond(ok);
    tx.respond(ok);
    EXPECT_EQ(tx.status(), 200);
    EXPECT_EQ(tx.violations().size(), 1u); // exactly one final response

    FakeSipService sip(ex);
    int final_status = 0;
    sip.send_request(parse_sip_request("MESSAGE sip:a@b SIP/2.0\n\n"),
                     [&](const SipResponse& r) { final_status = r.status; });
    EXPECT_EQ(sip.outstanding(), 1u);
    EXPECT_THROW(sip.respond(0, 180), std::logic_error);
    sip.respond(0, 404, "Not Found");
    EXPECT_EQ(final_status, 404);
    EXPECT_THROW(sip.respond(0, 200), std::logic_error);
}

TEST(ParseSipRequest, CompactFormsAndContentLength) {
    const SipRequest r = parse_sip_request("MESSAGE sip:juliet@example.com SIP/2.0\r\n"
                                           "f: <sip:romeo@example.net>;tag=1\r\n"
                                           "i: abc\r\n"
                                           "c: text/plain\r\n"
                                           "Subject: folded\r\n"
                                           " line\r\n"
                                           "l: 5\r\n"
                                           "\r\n"
                                           "hello, and more");
    EXPECT_EQ(r.method, "MESSAGE");
    EXPECT_EQ(r.request_uri, "sip:juliet@example.com");
    EXPECT_EQ(r.header("From"), "<sip:romeo@example.net>;tag=1");
    EXPECT_EQ(r.header("Call-ID"), "abc");
    EXPECT_EQ(r.header("Content-Type"), "text/plain");
    EXPECT_EQ(r.header("Subject"), "folded line");
    EXPECT_FALSE(r.has_header("Content-Length"));
    EXPECT_EQ(r.body, "hello");
    EXPECT_THROW(parse_sip_request("garbage"), std::invalid_argument);
    EXPECT_THROW(parse_sip_request("MESSAGE sip:a SIP/2.0\nl: 9\n\nshort"), std::invalid_argument);
}

TEST(ParseXml, NamespacesEntitiesAndCanonicalForm) {
    const XmlElement m = parse_xml(
        "<?xml version='1.0'?><message to='a&amp;b' xml:lang='en'><!-- c --><body>1 &lt; 2 &#xE9;"
        "</body><x:delay xmlns:x='urn:xmpp:delay' stamp='s'/>"
        "<html xmlns='http://jabber.org/protocol/xhtml-im'><body "
        "xmlns='http://www.w3.org/1999/xhtml'>"
        "<p><![CDATA[<raw>]]></p></body></html></message>");
    EXPECT_EQ(m.ns(), kComponentNs);
    EXPECT_EQ(m.attr("to"), "a&b");
    EXPECT_EQ(m.attr("xml:lang"), "en");
    EXPECT_EQ(m.child_text("body"), "1 < 2 \xC3\xA9");
    EXPECT_EQ(m.child("body")->ns(), kComponentNs);
    ASSERT_NE(m.child("delay", "urn:xmpp:delay"), nullptr);
    const XmlElement* p = m.child("html")->child("body")->child("p");
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->ns(), "http://www.w3.org/1999/xhtml");
    EXPECT_EQ(p->text(), "<raw>");
    EXPECT_TRUE(xml_equal(parse_xml("<m b='2' a='1'>\n  <x/>\n</m>"),
                          parse_xml("<m a='1' b='2'><x/></m>")));
    EXPECT_FALSE(xml_equal(parse_xml("<m><x>t</x></m>"), parse_xml("<m><x>u</x></m>")));
    EXPECT_THROW(parse_xml("<a><b></a>"), std::invalid_argument);
    EXPECT_THROW(parse_xml("<p:a/>"), std::invalid_argument);
    EXPECT_THROW(parse_xml("<a/><b/>"), std::invalid_argument);
}

struct Ping {
    static constexpr std::string_view kName = "test.pinged";
    static constexpr std::uint32_t kVersion = 1;
    EventMeta meta;
    int n = 0;
};

TEST(FakeEventBus, DeliversOnTheStrandAndUnsubscribes) {
    ManualExecutor ex;
    FakeEventBus bus(ex, "org.example.test");
    std::vector<int> got;
    std::string origin;
    Subscription sub = bus.subscribe<Ping>([&](const Ping& p) {
        got.push_back(p.n);
        origin = p.meta.origin;
    });
    bus.publish(Ping{{}, 1});
    EXPECT_TRUE(got.empty()); // delivered on the strand, not inline
    ex.run_pending();
    EXPECT_EQ(got, std::vector<int>{1});
    EXPECT_EQ(origin, "org.example.test");
    sub.reset();
    bus.publish(Ping{{}, 2});
    ex.run_pending();
    EXPECT_EQ(got, std::vector<int>{1});
    EXPECT_EQ(bus.published(), (std::vector<std::string>{"test.pinged@1", "test.pinged@1"}));
}

} // namespace
} // namespace stox::sdk::testing
