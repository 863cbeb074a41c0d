// SPDX-License-Identifier: Apache-2.0
// The plugin with its real MSRP transport (stox_msrp_net) over 127.0.0.1, against a SIP UA "bob"
// whose MSRP side is another MsrpEndpoint on the same io_context. SIP and XMPP are the harness's
// fakes; MSRP callbacks run on the test thread while it drives the io_context, like the strand.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <cctype>
#include <chrono>
#include <functional>
#include <memory>

#include <stox/msrp/session.hpp>
#include <stox/msrp/uri.hpp>

#include "sdp.hpp"
#include "test_support.hpp"

namespace stox::plugins::chat::test {
namespace {

using namespace std::chrono_literals;

struct Recorder {
    std::vector<msrp::IncomingMessage> messages;
    std::vector<msrp::SendResult> results;
    std::optional<sdk::Status> closed;
    msrp::SessionHandlers handlers() {
        msrp::SessionHandlers h;
        h.on_message = [this](msrp::IncomingMessage&& m) { messages.push_back(std::move(m)); };
        h.on_report = [](const msrp::ReportEvent&) {};
        h.on_send_result = [this](const msrp::SendResult& r) { results.push_back(r); };
        h.on_closed = [this](const sdk::Status& s) { closed = s; };
        return h;
    }
};

class Net : public ::testing::Test {
protected:
    void SetUp() override {
        h.xmpp().set_component_domain("sip.example");
        h.config().set("/max_message_bytes", 1024);
        plugin = std::make_unique<ChatPlugin>("net",
                                              [this](sdk::PluginContext&, const ChatConfig&)
                                                  -> sdk::Result<std::unique_ptr<ChatTransport>> {
                                                  msrp::EndpointOptions o; // 127.0.0.1, port 0
                                                  return make_msrp_transport(io.get_executor(), o);
                                              });
        ASSERT_TRUE(h.start(*plugin).ok());
        bob = msrp::MsrpEndpoint::create(io.get_executor());
        ASSERT_TRUE(bob->listen().ok());
    }
    void TearDown() override {
        h.stop();
        plugin.reset();
        bob->shutdown();
        io.run_for(50ms);
    }

    /// Runs the io_context and the harness strand until `pred` holds (or 5 s).
    bool run_until(const std::function<bool()>& pred) {
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        while (std::chrono::steady_clock::now() < deadline) {
            h.run_pending();
            if (pred()) return true;
            io.run_for(5ms);
        }
        return pred();
    }

    std::string bob_sdp(const msrp::Uri& uri, std::string_view setup) {
        return "v=0\r\no=bob 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
               "m=message " +
               std::to_string(uri.port.value_or(0)) +
               " TCP/MSRP *\r\na=accept-types:text/plain message/cpim "
               "application/im-iscomposing+xml\r\na=path:" +
               msrp::to_string(uri) + "\r\na=setup:" + std::string(setup) + "\r\n";
    }

    boost::asio::io_context io;
    stox::sdk::testing::PluginHarness h{address_mapper(), error_mapper(), "org.stoxgw.chat"};
    std::unique_ptr<ChatPlugin> plugin;
    std::shared_ptr<msrp::MsrpEndpoint> bob;
};

TEST_F(Net, TV_03_TV_04_TV_05_TV_07_TV_12_TV_13_SipInitiatedSessionOverSockets) {
    const msrp::Uri bob_uri = bob->make_local_uri();
    sdk::SipRequest inv;
    inv.method = "INVITE";
    inv.request_uri = "sip:alice@xmpp.example";
    inv.set_header("From", "<sip:bob@sip.example>;tag=bt1");
    inv.set_header("To", "<sip:alice@xmpp.example>");
    inv.set_header("Call-ID", "c2-77a1@sip.example");
    inv.set_header("CSeq", "1 INVITE");
    inv.set_header("Contact", "<sip:bob@sip.example;gr=dev1>");
    inv.body = bob_sdp(bob_uri, "actpass");
    auto tx = h.receive_sip(inv);
    ASSERT_EQ(tx->status(), 200);
    auto answer = parse_msrp_sdp(tx->final_response()->body);
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->setup, Setup::Passive); // we wait for bob (TV-03)
    auto gw_path = msrp::parse_path(answer->path);
    ASSERT_TRUE(gw_path);

    // Bob is active: connects and binds with a bodiless SEND (TV-04).
    Recorder rec;
    msrp::SessionOptions so;
    so.local_uri = bob_uri;
    so.peer_path = *gw_path;
    so.role = msrp::SetupRole::Active;
    so.chunk_size = 7; // TV-07: "Hello, world!" goes in two chunks
    auto bs = bob->create_session(so, rec.handlers());
    ASSERT_TRUE(bs);
    ASSERT_TRUE(run_until([&] { return (*bs)->bound(); }));

    // TV-05 / TV-07: one SEND -> one chat message, reassembled.
    ASSERT_TRUE((*bs)->send_message("Hello, world!", "text/plain"));
    ASSERT_TRUE(run_until([&] { return h.xmpp().count() == 1 && rec.results.size() == 1; }));
    EXPECT_EQ(rec.results[0].outcome, msrp::SendOutcome::Delivered); // 200 per chunk
    EXPECT_EQ(canon_without_id(h.xmpp().last()),
              canon("<message from='bob@sip.example/dev1' to='alice@xmpp.example' id='ID' "
                    "type='chat'><thread>c2-77a1@sip.example</thread>"
                    "<body>Hello, world!</body></message>"));

    // TV-12: larger than max_message_bytes (1024) -> 413, nothing to XMPP.
    ASSERT_TRUE((*bs)->send_message(std::string(3000, 'x'), "text/plain"));
    ASSERT_TRUE(run_until([&] { return rec.results.size() == 2; }));
    EXPECT_EQ(rec.results[1].outcome, msrp::SendOutcome::Failed);
    EXPECT_EQ(rec.results[1].code, 413);
    // TV-13: image/png -> 415.
    ASSERT_TRUE((*bs)->send_message(std::string(100, '\x01'), "image/png"));
    ASSERT_TRUE(run_until([&] { return rec.results.size() == 3; }));
    EXPECT_EQ(rec.results[2].code, 415);
    EXPECT_EQ(h.xmpp().count(), 1u);

    // The XMPP reply goes back on the same session.
    h.receive_stanza(parse_xml("<message from='alice@xmpp.example/phone' to='bob@sip.example' "
                               "id='r1' type='chat'><thread>c2-77a1@sip.example</thread>"
                               "<body>Hi!</body></message>"));
    ASSERT_TRUE(run_until([&] { return rec.messages.size() == 1; }));
    EXPECT_EQ(rec.messages[0].body, "Hi!");
    EXPECT_EQ(rec.messages[0].content_type, "text/plain");
    EXPECT_EQ(h.sip().count(), 0u);

    // TV-20: BYE -> 200, the gateway's MSRP session and connection go (MSRP-22).
    sdk::SipRequest bye = inv;
    bye.method = "BYE";
    bye.body.clear();
    bye.set_header("To", tx->final_response()->header("To"));
    bye.set_header("CSeq", "2 BYE");
    EXPECT_EQ(h.receive_sip(bye)->status(), 200);
    ASSERT_TRUE(run_until([&] { return rec.closed.has_value(); }));
    EXPECT_NE(h.xmpp().last().child("gone", "http://jabber.org/protocol/chatstates"), nullptr);
}

TEST_F(Net, TV_01_TV_02_XmppInitiatedSessionOverSockets) {
    h.receive_stanza(parse_xml("<message from='alice@xmpp.example/phone' to='bob@sip.example' "
                               "id='m1' type='chat'><thread>th-5f2c1</thread>"
                               "<body>Hi Bob, are you free for a call?</body></message>"));
    ASSERT_EQ(h.sip().count(), 1u);
    auto offer = parse_msrp_sdp(h.sip().request(0).body);
    ASSERT_TRUE(offer);
    auto gw_path = msrp::parse_path(offer->path);
    ASSERT_TRUE(gw_path);
    // Bob answers passive: the gateway connects (RFC 6135) and sends the queued message.
    const msrp::Uri bob_uri = bob->make_local_uri();
    Recorder rec;
    msrp::SessionOptions so;
    so.local_uri = bob_uri;
    so.peer_path = *gw_path;
    so.role = msrp::SetupRole::Passive;
    auto bs = bob->create_session(so, rec.handlers());
    ASSERT_TRUE(bs);
    sdk::SipResponse ok;
    ok.status = 200;
    ok.reason = "OK";
    ok.headers.push_back({"To", "<sip:bob@sip.example>;tag=bt7"});
    ok.headers.push_back({"Contact", "<sip:bob@127.0.0.1:5060>"});
    ok.body = bob_sdp(bob_uri, "passive");
    h.sip().respond(0, ok);
    EXPECT_EQ(h.sip().request(1).method, "ACK");
    ASSERT_TRUE(run_until([&] { return rec.messages.size() == 1; }));
    EXPECT_EQ(rec.messages[0].body, "Hi Bob, are you free for a call?");
    EXPECT_EQ(h.xmpp().count(), 0u);

    ASSERT_TRUE((*bs)->send_message("Sure", "text/plain"));
    ASSERT_TRUE(run_until([&] { return h.xmpp().count() == 1; }));
    EXPECT_EQ(h.xmpp().last().attr("to"), "alice@xmpp.example/phone"); // CHAT-7: full JID
    EXPECT_EQ(h.xmpp().last().child_text("thread"), "th-5f2c1");

    // MSRP-22: bob's side goes away -> one re-INVITE with a new path.
    bob->shutdown();
    ASSERT_TRUE(run_until([&] { return h.sip().count() == 3; }));
    EXPECT_EQ(h.sip().request(2).method, "INVITE");
    EXPECT_EQ(h.sip().request(2).header("CSeq"), "2 INVITE");
    auto re = parse_msrp_sdp(h.sip().request(2).body);
    ASSERT_TRUE(re);
    EXPECT_NE(re->path, offer->path);
}

/// A raw MSRP peer: writes frames by hand, collects what comes back (responses by tid).
struct RawPeer {
    explicit RawPeer(boost::asio::io_context& io) : sock(io) {}
    // The read handler may run after this peer is gone (closing the socket only cancels the
    // read; the cancelled handler still runs on the next io.run): it must not touch `this` then.
    ~RawPeer() {
        *alive = false;
        boost::system::error_code ignored;
        sock.close(ignored);
    }
    RawPeer(const RawPeer&) = delete;
    RawPeer& operator=(const RawPeer&) = delete;
    void connect(std::uint16_t port) {
        sock.connect({boost::asio::ip::make_address("127.0.0.1"), port});
        read();
    }
    void read() {
        sock.async_read_some(boost::asio::buffer(buf),
                             [this, still = alive](boost::system::error_code ec, std::size_t n) {
                                 if (!*still) return;
                                 if (ec) {
                                     eof = true;
                                     return;
                                 }
                                 bytes.append(buf.data(), n);
                                 read();
                             });
    }
    void write(const std::string& s) { boost::asio::write(sock, boost::asio::buffer(s)); }
    /// The status line of the response to `tid`, or "".
    [[nodiscard]] std::string status_of(const std::string& tid) const {
        const std::string head = "MSRP " + tid + " ";
        auto p = bytes.find(head);
        while (p != std::string::npos) {
            auto eol = bytes.find("\r\n", p);
            std::string line = bytes.substr(p, eol - p);
            if (line.size() > head.size() &&
                std::isdigit(static_cast<unsigned char>(line[head.size()])))
                return line;
            p = bytes.find(head, p + 1);
        }
        return {};
    }
    std::shared_ptr<bool> alive = std::make_shared<bool>(true);
    boost::asio::ip::tcp::socket sock;
    std::array<char, 65536> buf{};
    std::string bytes;
    bool eof = false;
};

std::string send_frame(const std::string& tid, const std::string& to, const std::string& from,
                       const std::string& mid, const std::string& range, const std::string& body,
                       char flag, const std::string& extra = {},
                       const std::string& type = "text/plain") {
    std::string f = "MSRP " + tid + " SEND\r\nTo-Path: " + to + "\r\nFrom-Path: " + from +
                    "\r\nMessage-ID: " + mid + "\r\nByte-Range: " + range + "\r\n" + extra;
    if (!type.empty()) f += "Content-Type: " + type + "\r\n\r\n" + body + "\r\n";
    f += "-------" + tid + flag + "\r\n";
    return f;
}

TEST_F(Net, TV_04_TV_06_TV_08_TV_09_TV_10_TV_11_TV_23_TV_24_RawPeer) {
    const std::string bob_path = "msrp://127.0.0.1:40012/b2Kp;tcp";
    sdk::SipRequest inv;
    inv.method = "INVITE";
    inv.request_uri = "sip:alice@xmpp.example";
    inv.set_header("From", "<sip:bob@sip.example>;tag=bt1");
    inv.set_header("To", "<sip:alice@xmpp.example>");
    inv.set_header("Call-ID", "c2-77a1@sip.example");
    inv.set_header("CSeq", "1 INVITE");
    inv.set_header("Contact", "<sip:bob@sip.example;gr=dev1>");
    inv.body = "v=0\r\nc=IN IP4 127.0.0.1\r\nm=message 40012 TCP/MSRP *\r\n"
               "a=accept-types:text/plain\r\na=path:" +
               bob_path + "\r\na=setup:active\r\n";
    auto tx = h.receive_sip(inv);
    ASSERT_EQ(tx->status(), 200);
    auto answer = parse_msrp_sdp(tx->final_response()->body);
    ASSERT_TRUE(answer);
    const std::string gw = answer->path;
    RawPeer p(io);
    p.connect(answer->port);
    // TV-04: bodiless SEND binds, 200, no XMPP.
    p.write(send_frame("a1b2c3d4e5", gw, bob_path, "bx0", "1-0/0", "", '$', {}, ""));
    ASSERT_TRUE(run_until([&] { return !p.status_of("a1b2c3d4e5").empty(); }));
    EXPECT_EQ(p.status_of("a1b2c3d4e5").substr(0, 26), "MSRP a1b2c3d4e5 200 OK");
    // TV-06: Failure-Report: no -> delivered, no response.
    p.write(send_frame("q9w8e7r7", gw, bob_path, "bx1b", "1-4/4", "Ahoj", '$',
                       "Failure-Report: no\r\n"));
    ASSERT_TRUE(run_until([&] { return h.xmpp().count() == 1; }));
    EXPECT_EQ(h.xmpp().last().child_text("body"), "Ahoj");
    // TV-09 + TV-10: last chunk first, first chunk interruptible ("1-*").
    p.write(send_frame("k2chunkB2", gw, bob_path, "mc7", "8-13/13", "world!", '$'));
    io.run_for(20ms);
    h.run_pending();
    EXPECT_EQ(h.xmpp().count(), 1u);
    p.write(send_frame("k1chunkA1", gw, bob_path, "mc7", "1-*/13", "Hello, ", '+'));
    ASSERT_TRUE(run_until([&] { return h.xmpp().count() == 2; }));
    EXPECT_EQ(h.xmpp().last().child_text("body"), "Hello, world!");
    EXPECT_TRUE(p.status_of("q9w8e7r7").empty());
    // TV-08: a chunk boundary inside a UTF-8 sequence.
    p.write(send_frame("u8chunk1", gw, bob_path, "u8", "1-3/17", "Gr\xC3", '+'));
    p.write(send_frame("u8chunk2", gw, bob_path, "u8", "4-17/17",
                       "\xBC\xC3\x9F"
                       "e aus K\xC3\xB6ln",
                       '$'));
    ASSERT_TRUE(run_until([&] { return h.xmpp().count() == 3; }));
    EXPECT_EQ(h.xmpp().last().child_text("body"), "Gr\xC3\xBC\xC3\x9F"
                                                  "e aus K\xC3\xB6ln");
    // TV-11: aborted message -> 200s, no XMPP.
    p.write(send_frame("ab1chunk", gw, bob_path, "mc8", "1-7/13", "Hello, ", '+'));
    p.write(send_frame("ab2chunk", gw, bob_path, "mc8", "8-*/13", "wor", '#'));
    ASSERT_TRUE(run_until([&] { return !p.status_of("ab2chunk").empty(); }));
    EXPECT_NE(p.status_of("ab1chunk").find(" 200"), std::string::npos);
    // TV-23: unknown To-Path -> 481, no XMPP.
    p.write(send_frame("zz11yy22", "msrp://127.0.0.1:" + std::to_string(answer->port) + "/NOPE;tcp",
                       bob_path, "bx2", "1-6/6", "Noted.", '$'));
    ASSERT_TRUE(run_until([&] { return !p.status_of("zz11yy22").empty(); }));
    EXPECT_NE(p.status_of("zz11yy22").find(" 481"), std::string::npos);
    // TV-24: a second connection for the bound session -> 506, the first one unaffected.
    RawPeer q(io);
    q.connect(answer->port);
    q.write(send_frame("sec0nd01", gw, bob_path, "bx3", "1-2/2", "hi", '$'));
    ASSERT_TRUE(run_until([&] { return !q.status_of("sec0nd01").empty(); }));
    EXPECT_NE(q.status_of("sec0nd01").find(" 506"), std::string::npos);
    p.write(send_frame("after506", gw, bob_path, "bx4", "1-5/5", "still", '$'));
    ASSERT_TRUE(run_until([&] { return h.xmpp().count() == 4; }));
    EXPECT_EQ(h.xmpp().last().child_text("body"), "still");
}

} // namespace
} // namespace stox::plugins::chat::test
