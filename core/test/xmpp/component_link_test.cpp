// SPDX-License-Identifier: Apache-2.0
// ComponentLink against an in-test XEP-0114 server on 127.0.0.1 (port 0). No sleeps: the test
// runs the io_context until a predicate holds, with a generous timeout.
#include "xmpp/component_link.hpp"

#include <cstdio>
#include <functional>
#include <optional>
#include <thread>

#include <gtest/gtest.h>

#include "fake_component_server.hpp"
#include "runtime/log_sink.hpp"
#include "runtime/metrics_registry.hpp"

namespace stox::core::xmpp {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using sdk::ErrorCode;
using sdk::Status;
using testing::FakeComponentServer;

constexpr std::string_view kDomain = "sip.example.net";
constexpr std::string_view kSecret = "s3cret";

const XercesGuard kXerces;

bool contains(const std::string& s, std::string_view what) {
    return s.find(what) != std::string::npos;
}

sdk::Stanza message(const std::string& id, const std::string& body = "hi") {
    sdk::Stanza m = sdk::make_stanza("message");
    m.set_attr("from", "romeo@sip.example.net");
    m.set_attr("to", "juliet@example.com");
    m.set_attr("id", id);
    m.add_child("body").add_text(body);
    return m;
}

// Records completions in arrival order.
struct Completions {
    std::vector<std::pair<std::string, Status>> got;
    sdk::SendCompletion make(std::string tag) {
        return [this, tag = std::move(tag)](const Status& s) { got.emplace_back(tag, s); };
    }
    [[nodiscard]] std::optional<Status> of(const std::string& tag) const {
        for (const auto& [t, s] : got)
            if (t == tag) return s;
        return std::nullopt;
    }
};

struct Replies {
    int calls = 0;
    std::optional<sdk::Stanza> last; // empty after a nullptr call
    sdk::ReplyHandler make() {
        return [this](const sdk::Stanza* r) {
            ++calls;
            if (r != nullptr)
                last = *r;
            else
                last.reset();
        };
    }
};

class ComponentLinkTest : public ::testing::Test {
protected:
    ComponentLinkTest() { sink_.set_level(sdk::LogLevel::Debug); }

    ~ComponentLinkTest() override {
        if (link_) {
            bool stopped = false;
            link_->stop([&] { stopped = true; });
            EXPECT_TRUE(run_until([&] { return stopped; }));
        }
        if (HasFailure()) {
            std::rewind(log_file_);
            char buf[512];
            std::fputs("---- link log ----\n", stderr);
            while (std::fgets(buf, sizeof buf, log_file_) != nullptr) std::fputs(buf, stderr);
        }
        link_.reset();
        std::fclose(log_file_);
    }

    ComponentConfig config() {
        ComponentConfig c;
        c.host = "127.0.0.1";
        c.port = server_.port();
        c.domain = std::string(kDomain);
        c.secret = std::string(kSecret);
        c.connect_timeout = 3s;
        c.keepalive_interval = 0ms;
        c.reconnect_min = 10ms;
        c.reconnect_max = 40ms;
        c.send_queue_deadline = 10s;
        c.close_timeout = 1s;
        return c;
    }

    void make(const ComponentConfig& c) {
        auto r = ComponentLink::create(io_, c, log_, metrics_);
        ASSERT_TRUE(r.ok()) << r.status().message();
        link_ = r.value();
        link_->set_on_stanza([this](sdk::Stanza s) { received_.push_back(std::move(s)); });
        link_->set_on_state(
            [this](bool up, const std::string& why) { states_.emplace_back(up, why); });
    }

    void start_up(const ComponentConfig& c) {
        make(c);
        link_->start();
        ASSERT_TRUE(run_until([&] { return link_->connected(); })) << "link never came up";
    }

    bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 10s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!pred()) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            if (io_.stopped()) io_.restart();
            io_.run_one_for(5ms);
        }
        return true;
    }

    std::uint64_t metric(std::string_view name) const { return metrics_.value(name); }

    MetricsRegistry metrics_;
    std::FILE* log_file_ = std::tmpfile();
    LogSink sink_{log_file_};
    TaggedLogger log_{sink_, "xmpp"};
    asio::io_context io_; // after the logger: handlers it destroys may still log
    FakeComponentServer server_{io_, std::string(kDomain), std::string(kSecret)};
    std::shared_ptr<ComponentLink> link_;
    std::vector<sdk::Stanza> received_;
    std::vector<std::pair<bool, std::string>> states_;
    Completions done_;
    Replies replies_; // outlives the stop() in the destructor, which may call it
};

// XEP-0114 §3: header with the component namespace and 'to', then SHA-1(id + secret) in
// hex.
TEST_F(ComponentLinkTest, HandshakeSucceeds) {
    start_up(config());
    auto& c = server_.conn(0);
    EXPECT_TRUE(c.rx.starts_with("<?xml version='1.0'?><stream:stream "
                                 "xmlns='jabber:component:accept' "
                                 "xmlns:stream='http://etherx.jabber.org/streams' "
                                 "to='sip.example.net'>"))
        << c.rx;
    EXPECT_EQ(c.header_to, kDomain);
    EXPECT_EQ(c.digest, FakeComponentServer::sha1_hex(c.id + std::string(kSecret)));
    EXPECT_EQ(server_.handshakes_ok, 1);
    ASSERT_EQ(states_.size(), 1U);
    EXPECT_TRUE(states_[0].first);
    EXPECT_EQ(metric("xmpp.handshakes"), 1U);
    EXPECT_EQ(metric("xmpp.reconnects"), 0U);
}

// XEP-0114 §3 handshake value, computed independently (Python hashlib).
TEST(ComponentHandshake, DigestKnownAnswer) {
    EXPECT_EQ(handshake_digest("3BF96D32", "s3cret"), "a984b871214a298f0f743fcd25f99b10838ba12b");
    EXPECT_EQ(handshake_digest("id\xC3\xA9\xE2\x98\xBA", "secret"),
              "5d0d193b4822d58bb2652dd8535e209f2541cbe2");
}

TEST_F(ComponentLinkTest, SendWhileUpCompletesOkInOrder) {
    start_up(config());
    for (int i = 1; i <= 3; ++i)
        link_->send(message(std::to_string(i)), done_.make(std::to_string(i)));
    sdk::Stanza bare("presence", ""); // no namespace: treated as jabber:component:accept
    bare.add_child("status").add_text("here");
    link_->send(std::move(bare), done_.make("p"));
    ASSERT_TRUE(run_until([&] { return done_.got.size() == 4; }));
    for (const auto& [tag, s] : done_.got) EXPECT_TRUE(s.ok()) << tag << ": " << s.message();
    EXPECT_EQ(done_.got[0].first, "1");
    EXPECT_EQ(done_.got[2].first, "3");
    std::string want;
    for (int i = 1; i <= 3; ++i) want += message(std::to_string(i)).to_string(sdk::kComponentNs);
    want += "<presence><status>here</status></presence>";
    ASSERT_TRUE(run_until([&] { return server_.conn(0).after_auth().size() >= want.size(); }));
    EXPECT_EQ(server_.conn(0).after_auth(), want);
    EXPECT_EQ(metric("xmpp.stanzas_out"), 4U);
}

// Stanzas for another domain are passed on too: the router decides.
TEST_F(ComponentLinkTest, IncomingStanzasAreParsedAndPassedOn) {
    start_up(config());
    auto& c = server_.conn(0);
    server_.send(c, "<message from='juliet@example.com/balcony' to='romeo@sip.example.net' "
                    "type='chat' id='m1'><body>hi &amp; bye</bo");
    server_.send(c, "dy></message> <presence from='a@example.com' to='x@other.example'/>");
    ASSERT_TRUE(run_until([&] { return received_.size() == 2; }));
    EXPECT_EQ(received_[0].name(), "message");
    EXPECT_EQ(received_[0].ns(), sdk::kComponentNs);
    EXPECT_EQ(received_[0].attr("id"), "m1");
    EXPECT_EQ(received_[0].child_text("body"), "hi & bye");
    EXPECT_EQ(received_[1].attr("to"), "x@other.example");
    EXPECT_EQ(metric("xmpp.stanzas_in"), 2U);
    EXPECT_TRUE(link_->connected());
}

// XEP-0114 §3: a wrong secret gets <not-authorized/>; the link backs off and retries, and
// comes up once the secret matches.
TEST_F(ComponentLinkTest, WrongSecretBacksOffAndRetries) {
    server_.secret = "something-else";
    make(config());
    link_->start();
    ASSERT_TRUE(run_until([&] { return server_.handshakes_bad >= 3; }));
    EXPECT_FALSE(link_->connected());
    EXPECT_TRUE(states_.empty());
    EXPECT_GE(metric("xmpp.stream_errors"), 2U);
    EXPECT_GE(metric("xmpp.reconnects"), 2U);
    server_.secret = std::string(kSecret);
    ASSERT_TRUE(run_until([&] { return link_->connected(); }));
    ASSERT_EQ(states_.size(), 1U);
    EXPECT_TRUE(states_[0].first);
}

// The server closes the stream: the link answers with its close tag, reconnects, and what
// was queued while down is flushed in order after the new handshake (and not before).
TEST_F(ComponentLinkTest, ServerCloseReconnectsAndFlushesQueueInOrder) {
    start_up(config());
    server_.answer_handshake = false;
    server_.send(server_.conn(0), "</stream:stream>");
    ASSERT_TRUE(
        run_until([&] { return server_.conns.size() == 2 && server_.conn(1).handshake_seen; }));
    EXPECT_FALSE(link_->connected());
    ASSERT_EQ(states_.size(), 2U);
    EXPECT_FALSE(states_[1].first);
    EXPECT_EQ(states_[1].second, "server closed the stream");
    EXPECT_TRUE(server_.conn(0).rx.ends_with("</stream:stream>")); // RFC 6120 §4.4 reply
    ASSERT_TRUE(run_until([&] { return server_.conn(0).eof; }));

    for (int i = 1; i <= 5; ++i)
        link_->send(message(std::to_string(i)), done_.make(std::to_string(i)));
    io_.poll();
    EXPECT_TRUE(done_.got.empty());
    EXPECT_EQ(server_.conn(1).after_auth(), ""); // nothing before the handshake is accepted

    server_.accept_pending();
    ASSERT_TRUE(run_until([&] { return done_.got.size() == 5; }));
    std::string want;
    for (int i = 1; i <= 5; ++i) {
        EXPECT_EQ(done_.got[static_cast<std::size_t>(i - 1)].first, std::to_string(i));
        EXPECT_TRUE(done_.got[static_cast<std::size_t>(i - 1)].second.ok());
        want += message(std::to_string(i)).to_string(sdk::kComponentNs);
    }
    ASSERT_TRUE(run_until([&] { return server_.conn(1).after_auth().size() >= want.size(); }));
    EXPECT_EQ(server_.conn(1).after_auth(), want);
    EXPECT_EQ(metric("xmpp.reconnects"), 1U);
}

TEST_F(ComponentLinkTest, TcpCloseWithoutStreamCloseReconnects) {
    start_up(config());
    server_.close(server_.conn(0));
    ASSERT_TRUE(run_until([&] { return server_.handshakes_ok == 2 && link_->connected(); }));
    EXPECT_EQ(states_.size(), 3U);
    EXPECT_EQ(metric("xmpp.reconnects"), 1U);
}

// Sends racing a dropped connection: whatever was not written to the old socket is written
// on the new one, in order, after the handshake; every send completes Ok exactly once.
TEST_F(ComponentLinkTest, SendsRacingADropAreResentInOrder) {
    start_up(config());
    server_.close(server_.conn(0));
    constexpr int kCount = 200;
    for (int i = 0; i < kCount; ++i)
        link_->send(message(std::to_string(i), std::string(500, 'x')),
                    done_.make(std::to_string(i)));
    ASSERT_TRUE(run_until([&] { return done_.got.size() == kCount; }));
    for (int i = 0; i < kCount; ++i) {
        EXPECT_EQ(done_.got[static_cast<std::size_t>(i)].first, std::to_string(i));
        EXPECT_TRUE(done_.got[static_cast<std::size_t>(i)].second.ok());
    }
    ASSERT_EQ(server_.conns.size(), 2U);
    // Ok means handed to the kernel; wait until the server has read the last one.
    const std::string last = "id='" + std::to_string(kCount - 1) + "'";
    ASSERT_TRUE(run_until([&] { return contains(server_.conn(1).after_auth(), last); }));
    // The new stream carries a gap-free, ordered tail of the sequence.
    const std::string rx = server_.conn(1).after_auth();
    std::size_t first = 0;
    while (first < kCount && !contains(rx, "id='" + std::to_string(first) + "'")) ++first;
    std::size_t prev = 0;
    for (int i = static_cast<int>(first); i < kCount; ++i) {
        std::size_t at = rx.find("id='" + std::to_string(i) + "'");
        ASSERT_NE(at, std::string::npos) << i;
        EXPECT_GE(at, prev);
        prev = at;
    }
    EXPECT_EQ(metric("xmpp.stanzas_out"), static_cast<std::uint64_t>(kCount));
}

TEST_F(ComponentLinkTest, DeadlineExpiryWhileDownCompletesUnreachable) {
    auto c = config();
    c.send_queue_deadline = 100ms;
    server_.stop_listening(); // connection refused: the link stays down, retrying
    make(c);
    link_->start();
    link_->send(message("late"), done_.make("late"));
    ASSERT_TRUE(run_until([&] { return !done_.got.empty(); }));
    EXPECT_EQ(done_.got[0].second.code(), ErrorCode::Unreachable);
    EXPECT_TRUE(contains(done_.got[0].second.message(), "send_queue_deadline"));
    EXPECT_EQ(metric("xmpp.queue_expired"), 1U);
    EXPECT_GE(metric("xmpp.reconnects"), 1U);
}

TEST_F(ComponentLinkTest, QueueOverflowCompletesOverloadedAndStopCancelsTheRest) {
    auto c = config();
    c.send_queue_limit = 2;
    make(c); // not started: down
    for (const char* id : {"a", "b", "c"}) link_->send(message(id), done_.make(id));
    ASSERT_TRUE(run_until([&] { return done_.got.size() == 1; }));
    EXPECT_EQ(done_.got[0].first, "c");
    EXPECT_EQ(done_.got[0].second.code(), ErrorCode::Overloaded);
    EXPECT_EQ(metric("xmpp.queue_overflow"), 1U);
    bool stopped = false;
    link_->stop([&] { stopped = true; });
    ASSERT_TRUE(run_until([&] { return stopped; }));
    ASSERT_EQ(done_.got.size(), 3U);
    EXPECT_EQ(done_.of("a")->code(), ErrorCode::Cancelled);
    EXPECT_EQ(done_.of("b")->code(), ErrorCode::Cancelled);
}

TEST_F(ComponentLinkTest, OutgoingStanzaTooLarge) {
    auto c = config();
    c.max_stanza_bytes = 1024;
    start_up(c);
    link_->send(message("big", std::string(2000, 'x')), done_.make("big"));
    link_->send(message("small"), done_.make("small"));
    ASSERT_TRUE(run_until([&] { return done_.got.size() == 2; }));
    EXPECT_EQ(done_.of("big")->code(), ErrorCode::TooLarge);
    EXPECT_TRUE(done_.of("small")->ok());
    EXPECT_EQ(metric("xmpp.too_large"), 1U);
    EXPECT_TRUE(link_->connected());
}

// RFC 6120 §4.9.3.12: a stanza over the limit is a policy violation; stream error,
// reconnect.
TEST_F(ComponentLinkTest, OversizedIncomingStanzaIsPolicyViolation) {
    auto c = config();
    c.max_stanza_bytes = 1024;
    start_up(c);
    server_.send(server_.conn(0), "<message><body>" + std::string(2000, 'x') + "</body></message>");
    ASSERT_TRUE(run_until([&] { return server_.handshakes_ok == 2 && link_->connected(); }));
    const std::string& rx = server_.conn(0).rx;
    EXPECT_TRUE(contains(rx, "<stream:error><policy-violation "
                             "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"))
        << rx;
    EXPECT_TRUE(rx.ends_with("</stream:error></stream:stream>")) << rx;
    EXPECT_TRUE(received_.empty());
    EXPECT_EQ(metric("xmpp.stream_errors"), 1U);
    EXPECT_EQ(metric("xmpp.reconnects"), 1U);
}

// RFC 6120 §4.9.3.13: XML the parser refuses closes the stream with <not-well-formed/>.
TEST_F(ComponentLinkTest, GarbageIncomingIsNotWellFormed) {
    start_up(config());
    server_.send(server_.conn(0), "<message><body>x</bod></message>");
    ASSERT_TRUE(run_until([&] { return server_.handshakes_ok == 2 && link_->connected(); }));
    EXPECT_TRUE(
        contains(server_.conn(0).rx,
                 "<stream:error><not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"))
        << server_.conn(0).rx;
    EXPECT_TRUE(received_.empty());
    EXPECT_EQ(metric("xmpp.stream_errors"), 1U);
}

// RFC 6120 §11.1: a comment is refused by the framer with <restricted-xml/>.
TEST_F(ComponentLinkTest, CommentIncomingIsRestrictedXml) {
    start_up(config());
    server_.send(server_.conn(0), "<presence/><!-- nope -->");
    ASSERT_TRUE(run_until([&] { return server_.handshakes_ok == 2 && link_->connected(); }));
    EXPECT_TRUE(contains(server_.conn(0).rx, "<restricted-xml "));
    EXPECT_EQ(received_.size(), 1U); // the stanza before the comment was delivered
}

TEST_F(ComponentLinkTest, StreamErrorFromServerWhileUpReconnects) {
    start_up(config());
    server_.send_and_close(server_.conn(0),
                           "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
                           "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Replaced by new "
                           "connection</text></stream:error></stream:stream>");
    ASSERT_TRUE(run_until([&] { return server_.handshakes_ok == 2 && link_->connected(); }));
    ASSERT_EQ(states_.size(), 3U);
    EXPECT_EQ(states_[1],
              (std::pair<bool, std::string>{false, "stream error <conflict/> from server"}));
    EXPECT_EQ(metric("xmpp.stream_errors"), 1U);
    EXPECT_TRUE(received_.empty()); // the stream error is not a stanza for the router
}

// RFC 6120 §4.6.1: whitespace keepalive when idle.
TEST_F(ComponentLinkTest, KeepaliveWhitespaceWhenIdle) {
    auto c = config();
    c.keepalive_interval = 30ms;
    start_up(c);
    ASSERT_TRUE(run_until([&] { return server_.conn(0).after_auth().size() >= 3; }));
    EXPECT_EQ(server_.conn(0).after_auth().find_first_not_of(' '), std::string::npos);
    EXPECT_GE(metric("xmpp.keepalives_sent"), 3U);
    EXPECT_TRUE(link_->connected()); // the server never answers; that is not a failure
}

TEST_F(ComponentLinkTest, ReadSilenceDetectsDeadPeerWhenEnabled) {
    auto c = config();
    c.keepalive_interval = 30ms;
    c.dead_peer_intervals = 2;
    c.reconnect_on_rx_silence = true;
    start_up(c);
    ASSERT_TRUE(run_until([&] { return server_.conns.size() == 2 && link_->connected(); }));
    EXPECT_TRUE(contains(server_.conn(0).rx, "<connection-timeout "));
}

TEST_F(ComponentLinkTest, ConnectTimeoutWhenServerIsSilent) {
    auto c = config();
    c.connect_timeout = 100ms;
    server_.answer_header = false;
    make(c);
    link_->start();
    ASSERT_TRUE(run_until([&] { return server_.conns.size() >= 2; }));
    EXPECT_FALSE(link_->connected());
    EXPECT_GE(metric("xmpp.reconnects"), 1U);
}

TEST_F(ComponentLinkTest, StopCompletesQueuedSendsWithCancelled) {
    server_.answer_handshake = false;
    make(config());
    link_->start();
    ASSERT_TRUE(
        run_until([&] { return !server_.conns.empty() && server_.conn(0).handshake_seen; }));
    link_->send(message("1"), done_.make("1"));
    link_->send(message("2"), done_.make("2"));
    bool stopped = false;
    link_->stop([&] { stopped = true; });
    link_->send(message("3"), done_.make("3"));
    ASSERT_TRUE(run_until([&] { return stopped && done_.got.size() == 3; }));
    for (const auto& [tag, s] : done_.got) EXPECT_EQ(s.code(), ErrorCode::Cancelled) << tag;
    EXPECT_TRUE(server_.conn(0).rx.ends_with("</stream:stream>"));
    EXPECT_EQ(server_.conn(0).after_auth(), "</stream:stream>");
    link_.reset();
}

// stop() while the server has not answered our header yet: a header arriving during the close
// must not restart the handshake.
TEST_F(ComponentLinkTest, StopBeforeTheServerHeaderDoesNotHandshake) {
    server_.answer_header = false;
    server_.reply_close = false;
    auto c = config();
    c.close_timeout = 300ms;
    make(c);
    link_->start();
    ASSERT_TRUE(run_until([&] { return !server_.conns.empty() && !server_.conn(0).rx.empty(); }));
    bool stopped = false;
    link_->stop([&] { stopped = true; });
    ASSERT_TRUE(run_until([&] { return server_.conn(0).close_tag_seen; }));
    server_.send(server_.conn(0), "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
                                  "xmlns='jabber:component:accept' id='late'>");
    ASSERT_TRUE(run_until([&] { return stopped; }));
    EXPECT_FALSE(contains(server_.conn(0).rx, "<handshake>"));
    EXPECT_TRUE(states_.empty());
    link_.reset();
}

// RFC 6120 §4.4: stop() sends </stream:stream> and waits for the server's before closing.
TEST_F(ComponentLinkTest, StopWhileUpClosesTheStreamCleanly) {
    start_up(config());
    bool stopped = false;
    link_->stop([&] { stopped = true; });
    ASSERT_TRUE(run_until([&] { return stopped; }));
    ASSERT_TRUE(run_until([&] { return server_.conn(0).eof; }));
    EXPECT_EQ(server_.conn(0).after_auth(), "</stream:stream>");
    EXPECT_EQ(states_.back(), (std::pair<bool, std::string>{false, "stopped"}));
    EXPECT_FALSE(link_->connected());
    EXPECT_EQ(server_.conns.size(), 1U);
    link_.reset();
}

TEST_F(ComponentLinkTest, StopGivesUpWaitingAfterCloseTimeout) {
    auto c = config();
    c.close_timeout = 100ms;
    server_.reply_close = false;
    start_up(c);
    bool stopped = false;
    auto t0 = std::chrono::steady_clock::now();
    link_->stop([&] { stopped = true; });
    ASSERT_TRUE(run_until([&] { return stopped; }));
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 100ms);
    ASSERT_TRUE(run_until([&] { return server_.conn(0).eof; }));
    link_.reset();
}

TEST_F(ComponentLinkTest, SendsFromOtherThreadsKeepPerThreadOrder) {
    start_up(config());
    constexpr int kThreads = 4;
    constexpr int kPerThread = 100;
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < kPerThread; ++i)
                link_->send(message("t" + std::to_string(t) + "-" + std::to_string(i)),
                            [&](const Status& s) { ok += s.ok() ? 1 : 0; });
        });
    ASSERT_TRUE(run_until([&] { return ok == kThreads * kPerThread; }));
    for (auto& th : threads) th.join();
    std::size_t want = 0;
    for (int t = 0; t < kThreads; ++t)
        for (int i = 0; i < kPerThread; ++i)
            want += message("t" + std::to_string(t) + "-" + std::to_string(i))
                        .to_string(sdk::kComponentNs)
                        .size();
    ASSERT_TRUE(run_until([&] { return server_.conn(0).after_auth().size() >= want; }));
    const std::string rx = server_.conn(0).after_auth();
    for (int t = 0; t < kThreads; ++t) {
        std::size_t prev = 0;
        for (int i = 0; i < kPerThread; ++i) {
            std::size_t at = rx.find("id='t" + std::to_string(t) + "-" + std::to_string(i) + "'");
            ASSERT_NE(at, std::string::npos);
            EXPECT_GE(at, prev);
            prev = at;
        }
    }
    EXPECT_EQ(metric("xmpp.stanzas_out"), static_cast<std::uint64_t>(kThreads * kPerThread));
}

// The core runs one io_context on several threads; the strand serializes the link. The fake
// server stays on the test thread's io_context.
TEST_F(ComponentLinkTest, LinkOnAMultiThreadedIoContext) {
    asio::io_context link_io;
    auto guard = asio::make_work_guard(link_io);
    std::vector<std::thread> threads;
    for (int i = 0; i < 3; ++i) threads.emplace_back([&] { link_io.run(); });
    {
        auto r = ComponentLink::create(link_io, config(), log_, metrics_);
        ASSERT_TRUE(r.ok());
        auto link = r.value();
        std::atomic<int> in{0};
        std::atomic<int> ok{0};
        link->set_on_stanza([&](sdk::Stanza) { ++in; });
        link->start();
        ASSERT_TRUE(run_until([&] { return link->connected(); }));
        for (int i = 0; i < 300; ++i)
            link->send(message(std::to_string(i)), [&](const Status& s) { ok += s.ok() ? 1 : 0; });
        for (int i = 0; i < 50; ++i) server_.send(server_.conn(0), "<presence/>");
        ASSERT_TRUE(run_until([&] { return ok == 300 && in == 50; }));
        server_.close(server_.conn(0)); // reconnect while the threads run
        ASSERT_TRUE(run_until([&] { return server_.handshakes_ok == 2 && link->connected(); }));
        std::atomic<bool> stopped{false};
        link->stop([&] { stopped = true; });
        ASSERT_TRUE(run_until([&] { return stopped.load(); }));
    }
    guard.reset();
    link_io.stop();
    for (auto& t : threads) t.join();
}

// --- send_tracked (sdk/xmpp.hpp ReplyHandler) ---

const char* const kBounce =
    "<message from='juliet@example.com' to='romeo@sip.example.net' id='t1' type='error'>"
    "<error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
    "</error></message>";

TEST_F(ComponentLinkTest, TrackedSendGetsTheErrorReplyInsteadOfTheRouter) {
    start_up(config());
    link_->send_tracked(message("t1"), done_.make("t1"), 5s, replies_.make());
    ASSERT_TRUE(run_until([&] { return done_.got.size() == 1; }));
    EXPECT_TRUE(done_.got[0].second.ok());
    // Same id from another address, and a non-error from the right one: both are routed.
    server_.send(server_.conn(0), "<message from='other@example.com' id='t1' type='error'/>"
                                  "<message from='juliet@example.com' id='t1' type='chat'/>");
    server_.send(server_.conn(0), kBounce);
    ASSERT_TRUE(run_until([&] { return replies_.calls == 1; }));
    ASSERT_TRUE(replies_.last.has_value());
    EXPECT_EQ(replies_.last->attr("type"), "error");
    EXPECT_NE(replies_.last->child("error"), nullptr);
    ASSERT_TRUE(run_until([&] { return received_.size() == 2; }));
    EXPECT_EQ(received_[0].attr("from"), "other@example.com");
    EXPECT_EQ(received_[1].attr("type"), "chat");
    EXPECT_EQ(metric("xmpp.replies_matched"), 1U);
    // Matched once: a second bounce is routed like any stanza.
    server_.send(server_.conn(0), kBounce);
    ASSERT_TRUE(run_until([&] { return received_.size() == 3; }));
    EXPECT_EQ(replies_.calls, 1);
}

TEST_F(ComponentLinkTest, TrackedIqGetsTheResult) {
    start_up(config());
    sdk::Stanza iq = sdk::make_stanza("iq");
    iq.set_attr("type", "get").set_attr("id", "q1").set_attr("to", "example.com");
    iq.set_attr("from", "gw@sip.example.net");
    iq.add_child("ping", "urn:xmpp:ping");
    link_->send_tracked(std::move(iq), {}, 5s, replies_.make());
    server_.send(server_.conn(0), "<iq from='example.com' to='gw@sip.example.net' id='q1' "
                                  "type='result'/>");
    ASSERT_TRUE(run_until([&] { return replies_.calls == 1; }));
    ASSERT_TRUE(replies_.last.has_value());
    EXPECT_EQ(replies_.last->attr("type"), "result");
    EXPECT_TRUE(received_.empty());
}

TEST_F(ComponentLinkTest, TrackedWindowElapsesWithNullptrOnce) {
    start_up(config());
    link_->send_tracked(message("t1"), done_.make("t1"), 50ms, replies_.make());
    ASSERT_TRUE(run_until([&] { return replies_.calls == 1; }));
    EXPECT_FALSE(replies_.last.has_value());
    EXPECT_EQ(metric("xmpp.reply_timeouts"), 1U);
    server_.send(server_.conn(0), kBounce); // too late: routed
    ASSERT_TRUE(run_until([&] { return received_.size() == 1; }));
    EXPECT_EQ(replies_.calls, 1);
}

TEST_F(ComponentLinkTest, TrackedSendRefusals) {
    auto c = config();
    c.max_stanza_bytes = 1024;
    start_up(c);
    sdk::Stanza no_id = message("");
    no_id.remove_attr("id");
    link_->send_tracked(std::move(no_id), done_.make("no-id"), 5s, replies_.make());
    link_->send_tracked(message("big", std::string(2000, 'x')), done_.make("big"), 5s,
                        replies_.make());
    link_->send_tracked(message("t1"), done_.make("first"), 5s, replies_.make());
    link_->send_tracked(message("t1"), done_.make("dup"), 5s, replies_.make());
    ASSERT_TRUE(run_until([&] { return done_.got.size() == 4; }));
    EXPECT_EQ(done_.of("no-id")->code(), ErrorCode::BadRequest);
    EXPECT_EQ(done_.of("big")->code(), ErrorCode::TooLarge);
    EXPECT_TRUE(done_.of("first")->ok());
    EXPECT_EQ(done_.of("dup")->code(), ErrorCode::BadRequest);
    // A failed send is not tracked: the same (id, to) can be tracked again.
    link_->send_tracked(message("big"), done_.make("big-again"), 5s, replies_.make());
    ASSERT_TRUE(run_until([&] { return done_.got.size() == 5; }));
    EXPECT_TRUE(done_.of("big-again")->ok());
    EXPECT_EQ(replies_.calls, 0); // never called for sends that failed
}

// Honest delivery: a stanza written just before the TCP connection broke may never have been
// read by the server, so its open reply window ends with a synthesized remote-server-timeout
// (never with "no error", which the plugin would report to its sender as delivered).
TEST_F(ComponentLinkTest, ConnectionLossFailsOpenReplyWindows) {
    start_up(config());
    link_->send_tracked(message("t1"), done_.make("t1"), 60s, replies_.make());
    ASSERT_TRUE(run_until([&] { return done_.got.size() == 1; }));
    EXPECT_EQ(replies_.calls, 0);
    server_.close(server_.conn(0));
    ASSERT_TRUE(run_until([&] { return replies_.calls == 1; }));
    ASSERT_TRUE(replies_.last.has_value());
    EXPECT_EQ(replies_.last->attr("type"), "error");
    EXPECT_EQ(replies_.last->attr("id"), "t1");
    const sdk::XmlElement* err = replies_.last->child("error");
    ASSERT_NE(err, nullptr);
    EXPECT_EQ(err->attr("type"), "wait");
    EXPECT_NE(err->child("remote-server-timeout", sdk::kStanzaErrorNs), nullptr);
    EXPECT_EQ(metric("xmpp.replies_unconfirmed"), 1U);
    // The link comes back and nothing is called twice.
    ASSERT_TRUE(run_until([&] { return server_.handshakes_ok == 2 && link_->connected(); }));
    EXPECT_EQ(replies_.calls, 1);
}

TEST_F(ComponentLinkTest, StopEndsPendingTrackingWithNullptr) {
    start_up(config());
    link_->send_tracked(message("t1"), done_.make("t1"), 60s, replies_.make());
    ASSERT_TRUE(run_until([&] { return done_.got.size() == 1; }));
    bool stopped = false;
    link_->stop([&] { stopped = true; });
    ASSERT_TRUE(run_until([&] { return stopped; }));
    EXPECT_EQ(replies_.calls, 1);
    EXPECT_FALSE(replies_.last.has_value());
    link_.reset();
}

// The service has no hop of its own: everything on the link's strand (StrandBoundXmppService
// moves completions to the plugin's strand; tested with the plugin context, CTX-6).
TEST_F(ComponentLinkTest, SharedServiceCompletesOnTheLinkStrand) {
    start_up(config());
    XmppServiceImpl service(link_);
    EXPECT_EQ(service.component_domain(), kDomain);
    EXPECT_TRUE(service.connected());
    bool in_strand = false;
    bool called = false;
    service.send(message("s"), [&](const Status& s) {
        called = s.ok();
        in_strand = link_->strand().running_in_this_thread();
    });
    ASSERT_TRUE(run_until([&] { return called; }));
    EXPECT_TRUE(in_strand);
}

TEST(ComponentConfig, ValidationNamesTheField) {
    ComponentConfig good;
    good.domain = "sip.example.net";
    good.secret = "x";
    EXPECT_TRUE(validate(good).ok());
    struct Case {
        const char* field;
        std::function<void(ComponentConfig&)> mutate;
    };
    const std::vector<Case> cases = {
        {"host", [](ComponentConfig& c) { c.host.clear(); }},
        {"port", [](ComponentConfig& c) { c.port = 0; }},
        {"domain", [](ComponentConfig& c) { c.domain.clear(); }},
        {"secret", [](ComponentConfig& c) { c.secret.clear(); }},
        {"connect_timeout", [](ComponentConfig& c) { c.connect_timeout = 0ms; }},
        {"keepalive_interval", [](ComponentConfig& c) { c.keepalive_interval = -1ms; }},
        {"reconnect_on_rx_silence",
         [](ComponentConfig& c) {
             c.reconnect_on_rx_silence = true;
             c.dead_peer_intervals = 0;
         }},
        {"reconnect_min", [](ComponentConfig& c) { c.reconnect_min = 0ms; }},
        {"reconnect_max", [](ComponentConfig& c) { c.reconnect_max = c.reconnect_min - 1ms; }},
        {"max_stanza_bytes", [](ComponentConfig& c) { c.max_stanza_bytes = 100; }},
        {"send_queue_limit", [](ComponentConfig& c) { c.send_queue_limit = 0; }},
        {"send_queue_deadline", [](ComponentConfig& c) { c.send_queue_deadline = 0ms; }},
        {"close_timeout", [](ComponentConfig& c) { c.close_timeout = 0ms; }},
    };
    for (const auto& k : cases) {
        ComponentConfig c = good;
        k.mutate(c);
        Status s = validate(c);
        EXPECT_EQ(s.code(), ErrorCode::InvalidConfig) << k.field;
        EXPECT_TRUE(contains(s.message(), k.field)) << k.field << ": " << s.message();
    }
    MetricsRegistry m;
    LogSink sink(stderr);
    TaggedLogger log(sink, "xmpp");
    asio::io_context io;
    EXPECT_FALSE(ComponentLink::create(io, ComponentConfig{}, log, m).ok());
}

TEST(ComponentBackoff, ExponentialWithFullJitterWithinBounds) {
    std::mt19937_64 rng(42);
    const auto lo = 100ms;
    const auto hi = 3000ms;
    EXPECT_EQ(backoff_delay(0, lo, hi, rng), lo);
    for (unsigned attempt = 0; attempt < 12; ++attempt) {
        const auto ceiling = std::min<std::chrono::milliseconds>(hi, lo * (1LL << attempt));
        std::chrono::milliseconds seen_max{0};
        for (int i = 0; i < 500; ++i) {
            auto d = backoff_delay(attempt, lo, hi, rng);
            ASSERT_GE(d, lo);
            ASSERT_LE(d, ceiling);
            seen_max = std::max(seen_max, d);
        }
        if (attempt >= 2) {
            EXPECT_GT(seen_max, ceiling / 2) << attempt; // jitter spans the range
        }
    }
    EXPECT_LE(backoff_delay(1000, lo, hi, rng), hi); // no overflow for huge attempt counts
}

} // namespace
} // namespace stox::core::xmpp
