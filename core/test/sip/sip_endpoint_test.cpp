// SPDX-License-Identifier: Apache-2.0
// The SIP endpoint over real sofia-sip transactions on loopback: two endpoints talk to each other,
// plus raw sockets for malformed input.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "runtime/log_sink.hpp"
#include "runtime/metrics_registry.hpp"
#include "sip/sip_endpoint.hpp"

using namespace stox;
using namespace std::chrono_literals;
using core::sip::SipEndpoint;
using core::sip::SipEndpointConfig;

namespace {

core::LogSink& sink() {
    static core::LogSink s;
    s.set_level(sdk::LogLevel::Warn);
    return s;
}

template <class T> class Mailbox {
public:
    void put(T v) {
        std::lock_guard l(mu_);
        items_.push_back(std::move(v));
        cv_.notify_all();
    }
    std::optional<T> take(std::chrono::milliseconds timeout = 5s) {
        std::unique_lock l(mu_);
        if (!cv_.wait_for(l, timeout, [&] { return !items_.empty(); })) return std::nullopt;
        T v = std::move(items_.front());
        items_.erase(items_.begin());
        return v;
    }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<T> items_;
};

SipEndpointConfig config_on_free_ports() {
    SipEndpointConfig c;
    c.listen = {{"udp", "127.0.0.1", 0}, {"tcp", "127.0.0.1", 0}};
    c.domains = {"example.net"};
    c.t1x64_ms = 2000; // fail fast in tests
    return c;
}

std::uint16_t port_of(const SipEndpoint& ep, const std::string& transport) {
    for (const auto& b : ep.bound())
        if (b.transport == transport) return b.port;
    return 0;
}

sdk::SipRequest message_to(std::uint16_t port, std::string body) {
    sdk::SipRequest r;
    r.method = "MESSAGE";
    r.request_uri = "sip:juliet@127.0.0.1:" + std::to_string(port);
    r.set_header("From", "<sip:romeo@example.net>;tag=abc");
    r.set_header("To", "<sip:juliet@example.com>");
    r.set_header("Content-Type", "text/plain");
    r.body = std::move(body);
    return r;
}

struct Pair {
    core::MetricsRegistry metrics;
    core::TaggedLogger log{sink(), "sip-test"};
    SipEndpoint server{config_on_free_ports(), metrics, log};
    SipEndpoint client{config_on_free_ports(), metrics, log};
    Mailbox<std::shared_ptr<sdk::SipServerTransaction>> requests;
    Pair() {
        server.set_request_handler([this](auto tx) { requests.put(std::move(tx)); });
        EXPECT_TRUE(server.start().ok());
        EXPECT_TRUE(client.start().ok());
    }
};

} // namespace

TEST(SipEndpoint, ParsesListenAddresses) {
    auto l = core::sip::parse_listen("udp:127.0.0.1:5060");
    ASSERT_TRUE(l.ok());
    EXPECT_EQ(l->transport, "udp");
    EXPECT_EQ(l->host, "127.0.0.1");
    EXPECT_EQ(l->port, 5060);
    auto v6 = core::sip::parse_listen("tcp:[::1]:5070");
    ASSERT_TRUE(v6.ok());
    EXPECT_EQ(v6->host, "::1");
    EXPECT_FALSE(core::sip::parse_listen("sctp:1.2.3.4:5060").ok());
    EXPECT_FALSE(core::sip::parse_listen("udp:1.2.3.4").ok());
    EXPECT_FALSE(core::sip::parse_listen("udp:1.2.3.4:70000").ok());
    EXPECT_FALSE(core::sip::parse_listen("udp::5060").ok());
}

TEST(SipEndpoint, MessageRoundTripWithDelayedAnswer) {
    Pair p;
    std::uint16_t port = port_of(p.server, "udp");
    ASSERT_NE(port, 0);
    Mailbox<sdk::SipResponse> finals;
    p.client.send_request(message_to(port, "hello"),
                          [&](sdk::SipResponse r) { finals.put(std::move(r)); });
    auto tx = p.requests.take();
    ASSERT_TRUE(tx);
    EXPECT_EQ((*tx)->request().method, "MESSAGE");
    EXPECT_EQ((*tx)->request().body, "hello");
    EXPECT_NE((*tx)->request().header("From").find("romeo@example.net"), std::string::npos);
    EXPECT_EQ((*tx)->request().header("Content-Type"), "text/plain");
    // Answer later, from another thread: the honest-delivery path.
    std::thread([tx = *tx] {
        sdk::SipResponse r;
        r.status = 202;
        r.reason = "Accepted";
        tx->respond(r);
    }).join();
    auto final = finals.take();
    ASSERT_TRUE(final);
    EXPECT_EQ(final->status, 202);
    EXPECT_EQ(final->reason, "Accepted");
}

TEST(SipEndpoint, LargeRequestGoesOverTcp) {
    // RFC 3261 §18.1.1: a request larger than the path MTU (200 bytes under 1300) must use TCP.
    Pair p;
    std::uint16_t port = port_of(p.server, "udp");
    Mailbox<sdk::SipResponse> finals;
    p.client.send_request(message_to(port, std::string(4096, 'x')),
                          [&](sdk::SipResponse r) { finals.put(r); });
    auto tx = p.requests.take();
    ASSERT_TRUE(tx);
    EXPECT_EQ((*tx)->request().body.size(), 4096u);
    EXPECT_NE((*tx)->request().header("Via").find("SIP/2.0/TCP"), std::string::npos)
        << (*tx)->request().header("Via");
    sdk::SipResponse ok;
    ok.status = 200;
    (*tx)->respond(ok);
    auto final = finals.take();
    ASSERT_TRUE(final);
    EXPECT_EQ(final->status, 200);
}

TEST(SipEndpoint, UnansweredTransactionGets500) {
    Pair p;
    Mailbox<sdk::SipResponse> finals;
    p.client.send_request(message_to(port_of(p.server, "udp"), "x"),
                          [&](sdk::SipResponse r) { finals.put(r); });
    {
        auto tx = p.requests.take();
        ASSERT_TRUE(tx);
    } // last reference dropped without an answer
    auto final = finals.take();
    ASSERT_TRUE(final);
    EXPECT_EQ(final->status, 500);
    EXPECT_EQ(p.metrics.value("sip.unanswered"), 1u);
}

TEST(SipEndpoint, SecondFinalResponseIgnored) {
    Pair p;
    Mailbox<sdk::SipResponse> finals;
    p.client.send_request(message_to(port_of(p.server, "udp"), "x"),
                          [&](sdk::SipResponse r) { finals.put(r); });
    auto tx = p.requests.take();
    ASSERT_TRUE(tx);
    sdk::SipResponse a, b;
    a.status = 404;
    b.status = 200;
    (*tx)->respond(a);
    (*tx)->respond(b);
    auto final = finals.take();
    ASSERT_TRUE(final);
    EXPECT_EQ(final->status, 404);
    EXPECT_FALSE(finals.take(300ms));
}

TEST(SipEndpoint, MalformedRequestGets400AndNeverReachesHandler) {
    Pair p;
    std::uint16_t port = port_of(p.server, "udp");
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // CSeq method does not match the request method: invalid per RFC 3261 §8.2.
    std::string bad =
        "MESSAGE sip:juliet@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP "
        "127.0.0.1:9;rport;branch=z9hG4bKbad1\r\n"
        "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: bad1\r\nCSeq: x MESSAGE\r\n"
        "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    ASSERT_GT(::sendto(fd, bad.data(), bad.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
              0);
    timeval tv{3, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[2048];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    ::close(fd);
    ASSERT_GT(n, 0);
    EXPECT_EQ(std::string(buf, 12), "SIP/2.0 400 ");
    EXPECT_FALSE(p.requests.take(200ms));
}

TEST(SipEndpoint, UnreachableNextHopCompletesWithError) {
    Pair p;
    // Nobody listens on this port: ICMP unreachable or timeout -> a synthesized final response.
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    std::uint16_t dead = ntohs(a.sin_port);
    ::close(fd);
    Mailbox<sdk::SipResponse> finals;
    p.client.send_request(message_to(dead, "x"), [&](sdk::SipResponse r) { finals.put(r); });
    auto final = finals.take(10s);
    ASSERT_TRUE(final);
    EXPECT_GE(final->status, 400);
}

TEST(SipEndpoint, StopAnswersPendingTransactions) {
    Pair p;
    Mailbox<sdk::SipResponse> finals;
    p.client.send_request(message_to(port_of(p.server, "udp"), "x"),
                          [&](sdk::SipResponse r) { finals.put(r); });
    auto tx = p.requests.take();
    ASSERT_TRUE(tx);
    p.server.stop();
    auto final = finals.take();
    ASSERT_TRUE(final);
    EXPECT_EQ(final->status, 503);
    sdk::SipResponse late;
    late.status = 200;
    (*tx)->respond(late); // must be harmless after stop
}

TEST(SipEndpoint, BusyPortIsReported) {
    core::MetricsRegistry metrics;
    core::TaggedLogger log{sink(), "sip-test"};
    SipEndpoint first{config_on_free_ports(), metrics, log};
    ASSERT_TRUE(first.start().ok());
    SipEndpointConfig c = config_on_free_ports();
    c.listen = {{"udp", "127.0.0.1", port_of(first, "udp")}};
    SipEndpoint second{c, metrics, log};
    auto st = second.start();
    EXPECT_FALSE(st.ok());
    EXPECT_NE(st.message().find("cannot listen"), std::string::npos) << st.message();
}

// --- Dialog support (SDK ABI 1.1) ------------------------------------------------------------

TEST(SipEndpointDialogs, ResponseCarriesThePluginsToTagAndInDialogRequestsArrive) {
    // RFC 3261 §12.1.1: the UAS chooses the To tag of a dialog-creating response; RFC 6665
    // §4.2.1.2: the notifier's NOTIFY follows in that dialog, with the tags swapped.
    Pair p;
    std::uint16_t port = port_of(p.server, "udp");
    sdk::SipRequest sub;
    sub.method = "SUBSCRIBE";
    sub.request_uri = "sip:juliet@127.0.0.1:" + std::to_string(port);
    sub.set_header("From", "<sip:romeo@example.net>;tag=xfg9");
    sub.set_header("To", "<sip:juliet@example.com>");
    sub.set_header("Call-ID", "dialog-test-1");
    sub.set_header("CSeq", "1 SUBSCRIBE");
    sub.set_header("Contact", p.client.contact_uri("romeo"));
    sub.set_header("Event", "presence");
    sub.set_header("Expires", "600");
    Mailbox<sdk::SipResponse> finals;
    p.client.send_request(sub, [&](sdk::SipResponse r) { finals.put(std::move(r)); });
    auto tx = p.requests.take();
    ASSERT_TRUE(tx);
    sdk::SipResponse ok;
    ok.status = 200;
    ok.set_header("To", "<sip:juliet@example.com>;tag=ur93");
    ok.set_header("Expires", "600");
    ok.set_header("Contact", p.server.contact_uri("juliet"));
    (*tx)->respond(ok);
    auto final = finals.take();
    ASSERT_TRUE(final);
    EXPECT_EQ(final->status, 200);
    EXPECT_NE(final->header("To").find("tag=ur93"), std::string::npos) << final->header("To");
    EXPECT_EQ(final->header("Expires"), "600");
    const std::string remote_target = final->header("Contact");
    EXPECT_NE(remote_target.find("sip:juliet@127.0.0.1:"), std::string::npos) << remote_target;

    // The server (notifier) sends NOTIFY in the dialog; it reaches the client's handler.
    Mailbox<std::shared_ptr<sdk::SipServerTransaction>> client_requests;
    p.client.set_request_handler([&](auto t) { client_requests.put(std::move(t)); });
    sdk::SipRequest notify;
    notify.method = "NOTIFY";
    notify.request_uri = p.client.contact_uri("romeo");
    notify.set_header("From", "<sip:juliet@example.com>;tag=ur93");
    notify.set_header("To", "<sip:romeo@example.net>;tag=xfg9");
    notify.set_header("Call-ID", "dialog-test-1");
    notify.set_header("CSeq", "1 NOTIFY");
    notify.set_header("Event", "presence");
    notify.set_header("Subscription-State", "pending;expires=600");
    Mailbox<sdk::SipResponse> notify_finals;
    p.server.send_request(notify, [&](sdk::SipResponse r) { notify_finals.put(std::move(r)); });
    auto ntx = client_requests.take();
    ASSERT_TRUE(ntx);
    EXPECT_EQ((*ntx)->request().method, "NOTIFY");
    EXPECT_EQ((*ntx)->request().header("Call-ID"), "dialog-test-1");
    EXPECT_NE((*ntx)->request().header("To").find("tag=xfg9"), std::string::npos);
    sdk::SipResponse nok;
    nok.status = 200;
    (*ntx)->respond(nok);
    auto nfinal = notify_finals.take();
    ASSERT_TRUE(nfinal);
    EXPECT_EQ(nfinal->status, 200);
}

TEST(SipEndpointDialogs, InviteAnsweredThenAckedWithoutAResponse) {
    // RFC 3261 §13.2.2.4: the UAC core sends the ACK for a 2xx itself; it has no response.
    Pair p;
    std::uint16_t port = port_of(p.server, "udp");
    sdk::SipRequest inv;
    inv.method = "INVITE";
    inv.request_uri = "sip:juliet@127.0.0.1:" + std::to_string(port);
    inv.set_header("From", "<sip:romeo@example.net>;tag=a1");
    inv.set_header("To", "<sip:juliet@example.com>");
    inv.set_header("Call-ID", "invite-ack-1");
    inv.set_header("CSeq", "7 INVITE");
    inv.set_header("Contact", p.client.contact_uri("romeo"));
    Mailbox<sdk::SipResponse> finals;
    p.client.send_request(inv, [&](sdk::SipResponse r) { finals.put(std::move(r)); });
    auto tx = p.requests.take();
    ASSERT_TRUE(tx);
    sdk::SipResponse ok;
    ok.status = 200;
    ok.set_header("To", "<sip:juliet@example.com>;tag=b2");
    ok.set_header("Contact", p.server.contact_uri("juliet"));
    (*tx)->respond(ok);
    auto final = finals.take();
    ASSERT_TRUE(final);
    ASSERT_EQ(final->status, 200);

    sdk::SipRequest ack;
    ack.method = "ACK";
    ack.request_uri = p.server.contact_uri("juliet");
    ack.set_header("From", "<sip:romeo@example.net>;tag=a1");
    ack.set_header("To", "<sip:juliet@example.com>;tag=b2");
    ack.set_header("Call-ID", "invite-ack-1");
    ack.set_header("CSeq", "7 ACK");
    Mailbox<sdk::SipResponse> ack_done;
    p.client.send_request(ack, [&](sdk::SipResponse r) { ack_done.put(std::move(r)); });
    auto sent = ack_done.take();
    ASSERT_TRUE(sent);
    EXPECT_EQ(sent->status, 200);
    // ACK never reaches a plugin handler: it has no transaction to answer.
    EXPECT_FALSE(p.requests.take(300ms));
}

TEST(SipEndpointDialogs, ContactUriEscapesTheUserAndHonoursContactHost) {
    core::MetricsRegistry metrics;
    core::TaggedLogger log{sink(), "sip-test"};
    auto cfg = config_on_free_ports();
    SipEndpoint plain{cfg, metrics, log};
    ASSERT_TRUE(plain.start().ok());
    const std::string c = plain.contact_uri("juliet smith@x");
    EXPECT_EQ(c.rfind("sip:juliet%20smith%40x@127.0.0.1:", 0), 0u) << c;
    EXPECT_EQ(c.find(";transport"), std::string::npos) << c; // UDP is bound
    cfg.contact_host = "gw.example.net:5090";
    cfg.listen = {{"tcp", "127.0.0.1", 0}};
    SipEndpoint tcp_only{cfg, metrics, log};
    ASSERT_TRUE(tcp_only.start().ok());
    EXPECT_EQ(tcp_only.contact_uri("romeo"), "sip:romeo@gw.example.net:5090;transport=tcp");
}
