// SPDX-License-Identifier: Apache-2.0
/// \file net_fixture.hpp
/// Loopback helpers for the stox_msrp_net tests: one io_context, endpoints on 127.0.0.1:0,
/// session recorders, and a raw Asio peer that speaks MSRP bytes directly.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <stox/msrp/parser.hpp>
#include <stox/msrp/session.hpp>

namespace stox::msrp::test {

using boost::asio::ip::tcp;

struct Recorder {
    std::vector<IncomingMessage> messages;
    std::vector<ReportEvent> reports;
    std::vector<SendResult> results;
    std::optional<sdk::Status> closed;

    SessionHandlers handlers() {
        SessionHandlers h;
        h.on_message = [this](IncomingMessage&& m) { messages.push_back(std::move(m)); };
        h.on_report = [this](const ReportEvent& r) { reports.push_back(r); };
        h.on_send_result = [this](const SendResult& r) { results.push_back(r); };
        h.on_closed = [this](const sdk::Status& s) { closed = s; };
        return h;
    }
};

/// A plain socket peer: writes raw bytes, parses what it receives with the framing parser.
struct RawPeer {
    explicit RawPeer(boost::asio::io_context& io) : sock(io) {}
    // The cancelled read handler still runs on the next io.run after this peer is gone: it must
    // not touch `this` then.
    ~RawPeer() {
        *alive = false;
        boost::system::error_code ignored;
        sock.close(ignored);
    }
    RawPeer(const RawPeer&) = delete;
    RawPeer& operator=(const RawPeer&) = delete;
    void connect(std::uint16_t port) {
        sock.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
        start_read();
    }
    void start_read() {
        sock.async_read_some(boost::asio::buffer(buf),
                             [this, still = alive](boost::system::error_code ec, std::size_t n) {
                                 if (!*still) return;
                                 if (ec) {
                                     eof = true;
                                     return;
                                 }
                                 bytes.append(buf.data(), n);
                                 for (auto& ev : parser.feed(std::string_view(buf.data(), n))) {
                                     if (auto* r = std::get_if<Request>(&ev))
                                         requests.push_back(std::move(*r));
                                     if (auto* r = std::get_if<Response>(&ev))
                                         responses.push_back(std::move(*r));
                                 }
                                 start_read();
                             });
    }
    void write(const std::string& s) { boost::asio::write(sock, boost::asio::buffer(s)); }
    const Response* response_for(const std::string& tid) const {
        for (const auto& r : responses) {
            if (r.transaction_id == tid) return &r;
        }
        return nullptr;
    }

    std::shared_ptr<bool> alive = std::make_shared<bool>(true);
    tcp::socket sock;
    std::array<char, 65536> buf{};
    std::string bytes;
    Parser parser;
    std::vector<Request> requests;
    std::vector<Response> responses;
    bool eof = false;
};

class MsrpNet : public ::testing::Test {
protected:
    /// Runs the io_context until pred() holds; false after the timeout.
    bool run_until(const std::function<bool()>& pred,
                   std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!pred()) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            if (io.stopped()) io.restart();
            io.run_one_for(std::chrono::milliseconds(20));
        }
        return true;
    }
    /// Runs pending work for a while (to show that something does NOT happen).
    void run_for(std::chrono::milliseconds d) {
        const auto deadline = std::chrono::steady_clock::now() + d;
        while (std::chrono::steady_clock::now() < deadline) {
            if (io.stopped()) io.restart();
            io.run_one_for(std::chrono::milliseconds(10));
        }
    }

    std::shared_ptr<MsrpEndpoint> endpoint(ConnectionOptions conn = {}) {
        EndpointOptions o;
        o.connection = conn;
        o.log = [this](sdk::LogLevel, const std::string& line) { logs.push_back(line); };
        auto ep = MsrpEndpoint::create(io.get_executor(), o);
        EXPECT_TRUE(ep->listen().ok());
        EXPECT_NE(ep->port(), 0);
        endpoints.push_back(ep);
        return ep;
    }

    std::shared_ptr<MsrpSession> session(const std::shared_ptr<MsrpEndpoint>& ep, Uri local,
                                         Path peer, SetupRole role, Recorder& rec,
                                         const std::function<void(SessionOptions&)>& tweak = {}) {
        SessionOptions o;
        o.local_uri = std::move(local);
        o.peer_path = std::move(peer);
        o.role = role;
        if (tweak) tweak(o);
        auto s = ep->create_session(std::move(o), rec.handlers());
        EXPECT_TRUE(s.ok()) << s.status().message();
        return s.ok() ? s.value() : nullptr;
    }

    bool logged(std::string_view needle) const {
        for (const auto& l : logs) {
            if (l.find(needle) != std::string::npos) return true;
        }
        return false;
    }

    void TearDown() override {
        for (auto& ep : endpoints) ep->shutdown();
        run_for(std::chrono::milliseconds(20));
    }

    boost::asio::io_context io;
    std::vector<std::shared_ptr<MsrpEndpoint>> endpoints;
    std::vector<std::string> logs;
};

/// A request the way a raw peer puts it on the wire.
inline std::string raw_send(const std::string& tid, const Uri& to, const Uri& from,
                            const std::optional<std::string>& message_id,
                            std::optional<ByteRange> range, std::optional<std::string> body,
                            EndFlag flag = EndFlag::Complete,
                            std::optional<FailureReport> fr = std::nullopt,
                            const std::string& content_type = "text/plain",
                            const std::string& method = "SEND") {
    Request r;
    r.transaction_id = tid;
    r.method = method;
    r.to_path = {to};
    r.from_path = {from};
    r.message_id = message_id;
    r.byte_range = range;
    r.failure_report = fr;
    if (body) {
        r.content_type = content_type;
        r.body = *body;
    }
    r.end_flag = flag;
    auto s = serialize(r);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? s.value() : std::string();
}

inline Uri uri(const std::string& text) {
    auto u = parse_uri(text);
    EXPECT_TRUE(u.ok()) << text;
    return u.ok() ? u.value() : Uri{};
}

} // namespace stox::msrp::test
