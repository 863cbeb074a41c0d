// SPDX-License-Identifier: Apache-2.0
// Shared by the chat plugin tests: the core's real RFC 7247 mappers (the vectors depend on them),
// a fake MSRP transport for harness tests (the harness's ManualExecutor runs no Asio), and a
// fixture that starts the plugin with it.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <stox/msrp/ids.hpp>

#include "chat_plugin.hpp"
#include "mapping/address_mapper.hpp"
#include "mapping/error_mapper.hpp"
#include "stox/sdk/testing/plugin_harness.hpp"

namespace stox::plugins::chat::test {

using stox::sdk::testing::canonical_xml;
using stox::sdk::testing::parse_sip_request;
using stox::sdk::testing::parse_xml;

inline const stox::core::AddressMapperImpl& address_mapper() {
    static const stox::core::AddressMapperImpl m;
    return m;
}
inline const stox::core::ErrorMapperImpl& error_mapper() {
    static const stox::core::ErrorMapperImpl m;
    return m;
}

/// Canonical form of an expected stanza written as XML.
inline std::string canon(std::string_view xml) {
    return canonical_xml(parse_xml(xml));
}
/// Canonical form of a stanza with its `id` replaced (ids are minted at random).
inline std::string canon_without_id(stox::sdk::Stanza s, std::string_view placeholder = "ID") {
    if (s.has_attr("id")) s.set_attr("id", std::string(placeholder));
    return canonical_xml(s);
}

/// Records what the plugin asks of one MSRP session; the test fires its events.
class FakeSession final : public ChatMsrpSession {
public:
    struct Sent {
        std::string body;
        std::string content_type;
        msrp::SendOptions options;
        std::string message_id;
        bool finished = false;
    };
    FakeSession(msrp::SessionOptions o, msrp::SessionHandlers h)
        : options(std::move(o)), handlers(std::move(h)) {}

    sdk::Result<std::string> send_message(std::string body, std::string content_type,
                                          msrp::SendOptions o) override {
        if (closed) return sdk::Status(sdk::ErrorCode::Unreachable, "closed");
        std::string mid = o.message_id.empty() ? msrp::make_message_id() : o.message_id;
        sent.push_back({std::move(body), std::move(content_type), std::move(o), mid, false});
        return mid;
    }
    sdk::Status report(const std::string& message_id, std::uint16_t code) override {
        reports.emplace_back(message_id, code);
        return {};
    }
    void close() override {
        if (closed) return;
        closed = true;
        fail_pending(); // like msrp::MsrpSession::close(): pending sends fail, no on_closed
    }

    // --- test side ---
    void deliver(std::string body, std::string type, bool success_report = false,
                 std::vector<msrp::Header> mime = {}, std::string mid = {}, std::string tid = {}) {
        msrp::IncomingMessage m;
        m.message_id = mid.empty() ? msrp::make_message_id() : std::move(mid);
        m.transaction_id = std::move(tid);
        m.content_type = std::move(type);
        m.body = std::move(body);
        m.success_report = success_report;
        m.mime_headers = std::move(mime);
        handlers.on_message(std::move(m));
    }
    void result(std::size_t i, msrp::SendOutcome outcome, std::uint16_t code = 200) {
        Sent& s = sent.at(i);
        s.finished = true;
        msrp::SendResult r;
        r.message_id = s.message_id;
        r.outcome = outcome;
        r.code = code;
        handlers.on_send_result(r);
    }
    /// The connection went: pending sends fail (code 0), then on_closed (MSRP-22).
    void lose() {
        closed = true;
        fail_pending();
        handlers.on_closed(sdk::Status(sdk::ErrorCode::Unreachable, "connection lost"));
    }

    msrp::SessionOptions options;
    msrp::SessionHandlers handlers;
    std::vector<Sent> sent;
    std::vector<std::pair<std::string, std::uint16_t>> reports;
    bool closed = false;

private:
    void fail_pending() {
        for (auto& s : sent) {
            if (s.finished) continue;
            s.finished = true;
            msrp::SendResult r;
            r.message_id = s.message_id;
            r.outcome = msrp::SendOutcome::Failed;
            r.code = 0;
            r.error = sdk::ErrorCode::Unreachable;
            if (handlers.on_send_result) handlers.on_send_result(r);
        }
    }
};

class FakeTransport final : public ChatTransport {
public:
    sdk::Status start() override {
        started = true;
        return {};
    }
    [[nodiscard]] std::string host() const override { return "gw.xmpp.example"; }
    [[nodiscard]] std::uint16_t port() const override { return 2855; }
    [[nodiscard]] msrp::Uri make_local_uri() override {
        return msrp::make_uri(host(), port(), msrp::make_session_id());
    }
    sdk::Result<std::shared_ptr<ChatMsrpSession>> create_session(msrp::SessionOptions o,
                                                                 msrp::SessionHandlers h) override {
        auto s = std::make_shared<FakeSession>(std::move(o), std::move(h));
        sessions.push_back(s);
        return std::shared_ptr<ChatMsrpSession>(s);
    }
    void shutdown() override { shut_down = true; }

    std::vector<std::shared_ptr<FakeSession>> sessions;
    bool started = false;
    bool shut_down = false;
};

/// The plugin started in the SDK harness with a FakeTransport. Component domain sip.example
/// (the SIP side as XMPP sees it), SIP domain xmpp.example.
class ChatFixture : public ::testing::Test {
protected:
    void SetUp() override { configure(); }
    virtual void configure() {}

    void start() {
        h.xmpp().set_component_domain("sip.example");
        h.sip().set_domains({"xmpp.example"});
        plugin = std::make_unique<ChatPlugin>(
            "test",
            [this](sdk::PluginContext&,
                   const ChatConfig&) -> sdk::Result<std::unique_ptr<ChatTransport>> {
                auto t = std::make_unique<FakeTransport>();
                transport = t.get();
                return std::unique_ptr<ChatTransport>(std::move(t));
            });
        ASSERT_TRUE(h.start(*plugin).ok());
    }
    void TearDown() override {
        h.stop();
        plugin.reset();
    }

    FakeSession& session(std::size_t i = 0) { return *transport->sessions.at(i); }

    /// An XMPP chat message from alice's phone to bob.
    static std::string chat(std::string_view id, std::string_view thread, std::string_view body,
                            std::string_view extra = {}) {
        std::string s = "<message from='alice@xmpp.example/phone' to='bob@sip.example' id='" +
                        std::string(id) + "' type='chat'>";
        if (!thread.empty()) s += "<thread>" + std::string(thread) + "</thread>";
        if (!body.empty()) s += "<body>" + std::string(body) + "</body>";
        s += std::string(extra) + "</message>";
        return s;
    }
    void receive(std::string_view xml) { h.receive_stanza(parse_xml(xml)); }

    /// A 200 to SIP request `i` with an SDP answer.
    void answer_200(std::size_t i, std::string_view sdp_media, std::string to_tag = "bt7") {
        sdk::SipResponse r;
        r.status = 200;
        r.reason = "OK";
        r.headers.push_back({"To", "<sip:bob@sip.example>;tag=" + to_tag});
        r.headers.push_back({"Contact", "<sip:bob@192.0.2.20:5060>"});
        r.headers.push_back({"Content-Type", "application/sdp"});
        r.body = "v=0\r\no=- 1 1 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\n" +
                 std::string(sdp_media);
        h.sip().respond(i, std::move(r));
    }
    static constexpr std::string_view kBobAnswer = "m=message 40010 TCP/MSRP *\r\n"
                                                   "a=accept-types:text/plain\r\n"
                                                   "a=path:msrp://192.0.2.20:40010/b1Qz;tcp\r\n";

    /// TV-03's INVITE from bob, with `accept` as accept-types and `setup` as a=setup.
    sdk::SipRequest
    bob_invite(std::string_view accept = "message/cpim text/plain application/im-iscomposing+xml",
               std::string_view setup = "actpass",
               std::string_view call_id = "c2-77a1@sip.example") {
        std::string sdp = "v=0\r\no=bob 1 1 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 "
                          "192.0.2.20\r\nt=0 0\r\nm=message 40012 TCP/MSRP *\r\n"
                          "a=accept-types:" +
                          std::string(accept) + "\r\na=path:msrp://192.0.2.20:40012/b2Kp;tcp\r\n";
        if (!setup.empty()) sdp += "a=setup:" + std::string(setup) + "\r\n";
        sdk::SipRequest r;
        r.method = "INVITE";
        r.request_uri = "sip:alice@xmpp.example";
        r.set_header("From", "\"Bob\" <sip:bob@sip.example>;tag=bt1");
        r.set_header("To", "<sip:alice@xmpp.example>");
        r.set_header("Call-ID", std::string(call_id));
        r.set_header("CSeq", "1 INVITE");
        r.set_header("Contact", "<sip:bob@sip.example;gr=dev1>");
        r.set_header("Content-Type", "application/sdp");
        r.body = sdp;
        return r;
    }

    stox::sdk::testing::PluginHarness h{address_mapper(), error_mapper(), "org.stoxgw.chat"};
    std::unique_ptr<ChatPlugin> plugin;
    FakeTransport* transport = nullptr;
};

} // namespace stox::plugins::chat::test
