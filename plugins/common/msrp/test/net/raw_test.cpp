// SPDX-License-Identifier: Apache-2.0
// The stack against a raw Asio socket that writes MSRP bytes by hand: chunk order, every
// response code the stack produces, timeouts, failure REPORTs, broken connections, garbage.
#include "net_fixture.hpp"

namespace stox::msrp::test {
namespace {

const Uri kBob = uri("msrp://192.0.2.20:40012/b2Kp;tcp");

class MsrpRaw : public MsrpNet {
protected:
    /// A passive session on a fresh endpoint whose peer is kBob, and a raw peer connected to it.
    void SetUp() override {
        ep = endpoint();
        local = ep->make_local_uri();
        s = session(ep, local, {kBob}, SetupRole::Passive, rec, [this](SessionOptions& o) {
            o.accept_types = {"text/plain", "message/cpim"};
            o.max_message_bytes = 65536; // TV-12
            o.incomplete_timeout = incomplete_timeout;
        });
        peer = std::make_unique<RawPeer>(io);
        peer->connect(ep->port());
    }
    const Response* await(const std::string& tid) {
        run_until([&] { return peer->response_for(tid) != nullptr || peer->eof; });
        return peer->response_for(tid);
    }
    std::uint16_t code_for(const std::string& tid) {
        const auto* r = await(tid);
        return r ? r->code : 0;
    }

    std::chrono::milliseconds incomplete_timeout{120000};
    std::shared_ptr<MsrpEndpoint> ep;
    Uri local;
    Recorder rec;
    std::shared_ptr<MsrpSession> s;
    std::unique_ptr<RawPeer> peer;
};

// TV-04 then TV-05: the bodiless SEND binds; the next one is delivered and answered 200 with
// the MSRP-17 paths.
TEST_F(MsrpRaw, Tv04BodilessSendBindsThenTv05Delivers) {
    peer->write(raw_send("a1b2c3d4e5", local, kBob, "bx0", ByteRange{1, 0, 0}, std::nullopt));
    const auto* r = await("a1b2c3d4e5");
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->code, 200);
    EXPECT_TRUE(equivalent(r->to_path, Path{kBob}));
    EXPECT_TRUE(equivalent(r->from_path, Path{local}));
    EXPECT_TRUE(s->bound());
    EXPECT_TRUE(rec.messages.empty());
    peer->write(raw_send("q9w8e7r6", local, kBob, "bx1", ByteRange{1, 27, 27},
                         "Sure, give me five minutes."));
    EXPECT_EQ(code_for("q9w8e7r6"), 200);
    ASSERT_TRUE(run_until([&] { return rec.messages.size() == 1; }));
    EXPECT_EQ(rec.messages[0].body, "Sure, give me five minutes.");
    EXPECT_EQ(rec.messages[0].message_id, "bx1");
    EXPECT_EQ(rec.messages[0].transaction_id, "q9w8e7r6"); // CHAT-7: becomes the stanza id
}

// TV-06 / MSRP-16: Failure-Report: no -> delivered, never answered.
TEST_F(MsrpRaw, Tv06FailureReportNoIsNeverAnswered) {
    peer->write(raw_send("q9w8e7r7", local, kBob, "bx1b", ByteRange{1, 2, 2}, "hi",
                         EndFlag::Complete, FailureReport::No));
    peer->write(raw_send("after0001", local, kBob, "bx1c", ByteRange{1, 2, 2}, "yo"));
    EXPECT_EQ(code_for("after0001"), 200);
    EXPECT_EQ(peer->response_for("q9w8e7r7"), nullptr);
    EXPECT_EQ(peer->responses.size(), 1u);
    EXPECT_EQ(rec.messages.size(), 2u);
}

// TV-09 (out of order), TV-10 (interrupted, range-end *), TV-11 (aborted, later chunk dropped).
TEST_F(MsrpRaw, Tv09Tv10Tv11OutOfOrderInterruptedAborted) {
    peer->write(raw_send("k2chunkB2", local, kBob, "mc7", ByteRange{8, 13, 13}, "world!"));
    EXPECT_EQ(code_for("k2chunkB2"), 200);
    EXPECT_TRUE(rec.messages.empty()); // only after the first chunk arrives
    peer->write(raw_send("k1chunkA1", local, kBob, "mc7", ByteRange{1, 7, 13}, "Hello, ",
                         EndFlag::Continues));
    EXPECT_EQ(code_for("k1chunkA1"), 200);
    ASSERT_TRUE(run_until([&] { return rec.messages.size() == 1; }));
    EXPECT_EQ(rec.messages[0].body, "Hello, world!");

    peer->write(raw_send("tv10aaaa", local, kBob, "mc9", ByteRange{1, std::nullopt, 13}, "Hello,",
                         EndFlag::Continues));
    peer->write(raw_send("tv10bbbb", local, kBob, "mc9", ByteRange{7, 13, 13}, " world!"));
    ASSERT_TRUE(run_until([&] { return rec.messages.size() == 2; }));
    EXPECT_EQ(rec.messages[1].body, "Hello, world!");

    peer->write(raw_send("tv11aaaa", local, kBob, "mc8", ByteRange{1, 7, 13}, "Hello, ",
                         EndFlag::Continues));
    peer->write(raw_send("tv11bbbb", local, kBob, "mc8", ByteRange{8, std::nullopt, 13}, "wor",
                         EndFlag::Aborted));
    peer->write(raw_send("tv11cccc", local, kBob, "mc8", ByteRange{8, 13, 13}, "world!"));
    EXPECT_EQ(code_for("tv11aaaa"), 200);
    EXPECT_EQ(code_for("tv11bbbb"), 200);
    EXPECT_EQ(code_for("tv11cccc"), 200); // discarded with a 200, no delivery
    run_for(std::chrono::milliseconds(50));
    EXPECT_EQ(rec.messages.size(), 2u);
}

// TV-23 (481), TV-24 (506), TV-13 (415), TV-12 (413), 400, 403, 501: every code the stack
// produces as a receiver. (423 is relay-only, spec §5.4: never produced by an endpoint.)
TEST_F(MsrpRaw, Msrp18Tv23Tv24AndEveryReceiverErrorCode) {
    peer->write(raw_send("bind0001", local, kBob, "b0", ByteRange{1, 0, 0}, std::nullopt));
    EXPECT_EQ(code_for("bind0001"), 200);

    // TV-23 / MSRP-18: unknown session -> 481, addressed per MSRP-17.
    auto nope = local;
    nope.session_id = "NOPE";
    peer->write(raw_send("zz11yy22", nope, kBob, "bx2", ByteRange{1, 6, 6}, "Noted."));
    const auto* r481 = await("zz11yy22");
    ASSERT_NE(r481, nullptr);
    EXPECT_EQ(r481->code, 481);
    EXPECT_EQ(r481->comment, "Session does not exist");
    EXPECT_EQ(to_string(r481->from_path), to_string(Path{nope}));

    // TV-24 / MSRP-21: a second connection for the bound session -> 506; the first lives on.
    RawPeer second(io);
    second.connect(ep->port());
    second.write(raw_send("dup00001", local, kBob, "d1", ByteRange{1, 1, 1}, "x"));
    ASSERT_TRUE(run_until([&] { return second.response_for("dup00001") != nullptr; }));
    EXPECT_EQ(second.response_for("dup00001")->code, 506);

    // TV-13 / MSRP-20: 415.
    peer->write(raw_send("png00001", local, kBob, "p1", ByteRange{1, 4, 4}, "\x89PNG",
                         EndFlag::Complete, std::nullopt, "image/png"));
    EXPECT_EQ(code_for("png00001"), 415);

    // TV-12 / MSRP-30: 413 on the first chunk of an oversized message, and on its next chunk.
    peer->write(raw_send("big0001x", local, kBob, "mbig", ByteRange{1, std::nullopt, 1048576},
                         std::string(2048, 'x'), EndFlag::Continues));
    const auto* r413 = await("big0001x");
    ASSERT_NE(r413, nullptr);
    EXPECT_EQ(r413->code, 413);
    EXPECT_EQ(r413->comment, "Message too large");
    peer->write(raw_send("big0002x", local, kBob, "mbig", ByteRange{2049, 4096, 1048576},
                         std::string(2048, 'x'), EndFlag::Continues));
    EXPECT_EQ(code_for("big0002x"), 413);

    // 400: a SEND with a body but no Message-ID; and a malformed header (skipped frame).
    peer->write(raw_send("nomid001", local, kBob, std::nullopt, ByteRange{1, 1, 1}, "x"));
    EXPECT_EQ(code_for("nomid001"), 400);
    peer->write("MSRP badhdr01 SEND\r\nTo-Path: " + to_string(local) +
                "\r\nFrom-Path: " + to_string(kBob) +
                "\r\nMessage-ID: q\r\nByte-Range: banana\r\nContent-Type: text/plain\r\n\r\nx\r\n"
                "-------badhdr01$\r\n");
    EXPECT_EQ(code_for("badhdr01"), 400);
    // 400 for a SEND without To-Path on the bound connection: answered from the session's URI
    // (found in a chat integration test: it used to be logged and left unanswered).
    peer->write("MSRP notopath SEND\r\nFrom-Path: " + to_string(kBob) +
                "\r\nMessage-ID: q2\r\nByte-Range: 1-1/1\r\nContent-Type: text/plain\r\n\r\n"
                "x\r\n-------notopath$\r\n");
    EXPECT_EQ(code_for("notopath"), 400);

    // 403: From-Path is not the peer the SDP named (RFC 4975 §5.4).
    peer->write(raw_send("evil0001", local, uri("msrp://198.51.100.1:9/evil;tcp"), "e1",
                         ByteRange{1, 1, 1}, "x"));
    EXPECT_EQ(code_for("evil0001"), 403);

    // 501: unknown method.
    peer->write(raw_send("meth0001", local, kBob, std::nullopt, std::nullopt, std::nullopt,
                         EndFlag::Complete, std::nullopt, "text/plain", "FROBNICATE"));
    EXPECT_EQ(code_for("meth0001"), 501);

    // None of it was delivered, and the connection survived all of it.
    peer->write(raw_send("last0001", local, kBob, "ok1", ByteRange{1, 2, 2}, "ok"));
    EXPECT_EQ(code_for("last0001"), 200);
    ASSERT_TRUE(run_until([&] { return rec.messages.size() == 1; }));
    EXPECT_EQ(rec.messages[0].body, "ok");
    EXPECT_FALSE(rec.closed);
}

// MSRP-14/23: REPORTs are never answered; unknown Message-IDs are ignored.
TEST_F(MsrpRaw, Msrp23ReportForUnknownMessageIgnoredAndUnanswered) {
    peer->write(raw_send("bind0002", local, kBob, "b0", ByteRange{1, 0, 0}, std::nullopt));
    EXPECT_EQ(code_for("bind0002"), 200);
    Request rep;
    rep.transaction_id = "rp55x1y2";
    rep.method = "REPORT";
    rep.to_path = {local};
    rep.from_path = {kBob};
    rep.message_id = "unknownM";
    rep.byte_range = ByteRange{1, 21, 21};
    rep.status = StatusHeader{0, 200, "OK"};
    peer->write(serialize(rep).value());
    peer->write(raw_send("after002", local, kBob, "z", ByteRange{1, 1, 1}, "z"));
    EXPECT_EQ(code_for("after002"), 200);
    EXPECT_EQ(peer->response_for("rp55x1y2"), nullptr);
    EXPECT_TRUE(rec.reports.empty());
}

// MSRP-15 on the wire (TV-22 shape): To-Path = the original From-Path, Status 000 200.
TEST_F(MsrpRaw, Tv22SuccessReportOnTheWire) {
    Request r;
    r.transaction_id = "z8x7w6v5";
    r.to_path = {local};
    r.from_path = {kBob};
    r.message_id = "bx9";
    r.byte_range = ByteRange{1, 4, 4};
    r.success_report = true;
    r.content_type = "text/plain";
    r.body = "Ahoj";
    peer->write(serialize(r).value());
    ASSERT_TRUE(run_until([&] { return !peer->requests.empty(); }));
    EXPECT_EQ(code_for("z8x7w6v5"), 200);
    const auto& rep = peer->requests[0];
    EXPECT_EQ(rep.method, "REPORT");
    EXPECT_TRUE(equivalent(rep.to_path, Path{kBob}));
    EXPECT_EQ(rep.message_id, "bx9");
    ASSERT_TRUE(rep.byte_range && rep.status);
    EXPECT_EQ(to_string(*rep.byte_range), "1-4/4");
    EXPECT_EQ(to_string(*rep.status), "000 200 OK");
    EXPECT_FALSE(rep.success_report.has_value()); // MSRP-14
}

// TV-09 [D] expiry: an incomplete message is dropped, and with Failure-Report yes the sender
// gets a failure REPORT for the missing range (RFC 4975 §7.1.4).
class MsrpRawExpiry : public MsrpRaw {
protected:
    void SetUp() override {
        incomplete_timeout = std::chrono::milliseconds(150);
        MsrpRaw::SetUp();
    }
};
TEST_F(MsrpRawExpiry, Tv09IncompleteMessageExpiresWithFailureReport) {
    peer->write(raw_send("exp00001", local, kBob, "mexp", ByteRange{1, 7, 13}, "Hello, ",
                         EndFlag::Continues));
    EXPECT_EQ(code_for("exp00001"), 200);
    ASSERT_TRUE(run_until([&] { return !peer->requests.empty(); }));
    const auto& rep = peer->requests[0];
    EXPECT_EQ(rep.method, "REPORT");
    EXPECT_EQ(rep.message_id, "mexp");
    ASSERT_TRUE(rep.status && rep.byte_range);
    EXPECT_EQ(rep.status->code, 408);
    EXPECT_EQ(to_string(*rep.byte_range), "8-13/13"); // the bytes that never came
    // The late chunk starts a new buffer that never completes: no delivery.
    peer->write(raw_send("exp00002", local, kBob, "mexp", ByteRange{8, 13, 13}, "world!"));
    EXPECT_EQ(code_for("exp00002"), 200);
    EXPECT_TRUE(rec.messages.empty());
}

// Garbage on a bound connection: the connection is closed, the session fails loudly.
TEST_F(MsrpRaw, GarbageFrameClosesConnectionAndFailsSession) {
    peer->write(raw_send("bind0003", local, kBob, "b0", ByteRange{1, 0, 0}, std::nullopt));
    EXPECT_EQ(code_for("bind0003"), 200);
    ASSERT_TRUE(s->send_message("pending", "text/plain").ok());
    ASSERT_TRUE(run_until([&] { return !peer->requests.empty(); })); // the SEND went out
    peer->write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(run_until([&] { return rec.closed.has_value() && peer->eof; }));
    EXPECT_EQ(rec.closed->code(), sdk::ErrorCode::BadRequest);
    EXPECT_TRUE(logged("parse error"));
    ASSERT_EQ(rec.results.size(), 1u); // the unanswered SEND failed, not silently dropped
    EXPECT_EQ(rec.results[0].outcome, SendOutcome::Failed);
    EXPECT_EQ(ep->connection_count(), 0u);
}

// Garbage before any binding: only that connection goes.
TEST_F(MsrpRaw, GarbageOnUnboundConnectionOnlyClosesIt) {
    peer->write(std::string("\x16\x03\x01\x02\x00", 5)); // a TLS ClientHello, say
    ASSERT_TRUE(run_until([&] { return peer->eof; }));
    EXPECT_FALSE(rec.closed);
    EXPECT_TRUE(logged("parse error"));
    RawPeer again(io);
    again.connect(ep->port());
    again.write(raw_send("bind0004", local, kBob, "b0", ByteRange{1, 0, 0}, std::nullopt));
    ASSERT_TRUE(run_until([&] { return again.response_for("bind0004") != nullptr; }));
    EXPECT_EQ(again.response_for("bind0004")->code, 200);
}

// A connection idle past its limit is closed (here: accepted, never bound).
TEST_F(MsrpNet, IdleTimeoutClosesConnection) {
    ConnectionOptions co;
    co.idle_timeout = std::chrono::milliseconds(100);
    auto ep = endpoint(co);
    RawPeer peer(io);
    peer.connect(ep->port());
    ASSERT_TRUE(run_until([&] { return ep->connection_count() == 1; }));
    ASSERT_TRUE(run_until([&] { return peer.eof; }, std::chrono::seconds(3)));
    EXPECT_EQ(ep->connection_count(), 0u);
    EXPECT_TRUE(logged("idle"));
}

/// The stack as the active side against a raw passive listener.
class MsrpRawListener : public MsrpNet {
protected:
    void SetUp() override {
        ep = endpoint();
        acceptor = std::make_unique<tcp::acceptor>(
            io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
        remote = uri("msrp://127.0.0.1:" + std::to_string(acceptor->local_endpoint().port()) +
                     "/rawpeer1;tcp");
        peer = std::make_unique<RawPeer>(io);
    }
    std::shared_ptr<MsrpSession> start(const std::function<void(SessionOptions&)>& tweak = {}) {
        auto s = session(ep, ep->make_local_uri(), {remote}, SetupRole::Active, rec, tweak);
        bool accepted = false;
        acceptor->async_accept(peer->sock, [&](boost::system::error_code ec) {
            EXPECT_FALSE(ec);
            accepted = true;
            peer->start_read();
        });
        EXPECT_TRUE(run_until([&] { return accepted; }));
        // The binding SEND (MSRP-21) comes first; acknowledge it like a real peer would.
        EXPECT_TRUE(run_until([&] { return !peer->requests.empty(); }));
        if (!peer->requests.empty() && peer->requests[0].bodiless()) answer(peer->requests[0], 200);
        return s;
    }
    void answer(const Request& r, std::uint16_t code) {
        peer->write(serialize(make_response(r, code)).value());
    }

    std::shared_ptr<MsrpEndpoint> ep;
    std::unique_ptr<tcp::acceptor> acceptor;
    Uri remote;
    Recorder rec;
    std::unique_ptr<RawPeer> peer;
};

// MSRP-21/32: the active side sends a bodiless SEND at once (TV-04 shape).
TEST_F(MsrpRawListener, Msrp21ActiveSideSendsBodilessSendImmediately) {
    auto s = start();
    ASSERT_TRUE(run_until([&] { return !peer->requests.empty(); }));
    const auto& r = peer->requests[0];
    EXPECT_EQ(r.method, "SEND");
    EXPECT_TRUE(r.bodiless());
    EXPECT_EQ(to_string(*r.byte_range), "1-0/0");
    EXPECT_TRUE(r.message_id.has_value());
    EXPECT_TRUE(equivalent(r.to_path, Path{remote}));
    EXPECT_GE(r.transaction_id.size(), 16u); // MSRP-2
    run_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(rec.closed);
}

// MSRP-10 / RFC 4975 §7.1.1: no response within the (shortened) timeout -> 408 locally.
TEST_F(MsrpRawListener, Msrp10NoResponseGives408) {
    auto s =
        start([](SessionOptions& o) { o.transaction_timeout = std::chrono::milliseconds(150); });
    auto id = s->send_message("anyone there?", "text/plain");
    ASSERT_TRUE(id.ok());
    ASSERT_TRUE(run_until([&] { return rec.results.size() == 1; }));
    EXPECT_EQ(rec.results[0].message_id, *id);
    EXPECT_EQ(rec.results[0].outcome, SendOutcome::Failed);
    EXPECT_EQ(rec.results[0].code, 408);
    EXPECT_EQ(rec.results[0].error, sdk::ErrorCode::Timeout);
    ASSERT_EQ(peer->requests.size(), 2u);
    EXPECT_EQ(peer->requests[1].body, "anyone there?");
    EXPECT_FALSE(rec.closed); // a 408 fails the message, not the session
}

// MSRP-30 / TV-27: an error response stops the Message-ID: the rest of the message is not
// sent, a `#` chunk ends it; 423 (relay code) and 481 are consumed too.
TEST_F(MsrpRawListener, Msrp30ErrorResponseAbortsMessage) {
    auto s = start([](SessionOptions& o) { o.chunk_size = 2048; });
    SendOptions so;
    so.failure_report = FailureReport::Partial; // robust profile: no 200s, errors still come
    auto id = s->send_message(std::string(2048 * 40, 'y'), "text/plain", so);
    ASSERT_TRUE(run_until([&] { return peer->requests.size() >= 2; }));
    // MSRP-11/12: 2048-octet chunks, 1-based ranges, the same Message-ID on each.
    EXPECT_EQ(peer->requests[1].body.size(), 2048u);
    EXPECT_EQ(to_string(*peer->requests[1].byte_range), "1-2048/81920");
    EXPECT_EQ(peer->requests[1].message_id, *id);
    answer(peer->requests[1], 413);
    ASSERT_TRUE(run_until([&] { return rec.results.size() == 1; }));
    EXPECT_EQ(rec.results[0].code, 413);
    EXPECT_EQ(rec.results[0].error, sdk::ErrorCode::TooLarge);
    ASSERT_TRUE(run_until([&] {
        return !peer->requests.empty() && peer->requests.back().end_flag == EndFlag::Aborted;
    }));
    const auto sent = peer->requests.size();
    EXPECT_LT(sent, 42u); // bind + chunks stopped early + one `#`
    for (std::size_t i = 1; i < sent; ++i) {
        EXPECT_EQ(peer->requests[i].failure_report, FailureReport::Partial); // MSRP-8
    }

    auto id2 = s->send_message("x", "text/plain");
    ASSERT_TRUE(run_until([&] { return peer->requests.size() == sent + 1; }));
    answer(peer->requests.back(), 423);
    ASSERT_TRUE(run_until([&] { return rec.results.size() == 2; }));
    EXPECT_EQ(rec.results[1].code, 423);

    // 481 terminates the session (MSRP-30).
    auto id3 = s->send_message("y", "text/plain");
    ASSERT_TRUE(run_until([&] { return peer->requests.size() == sent + 2; }));
    answer(peer->requests.back(), 481);
    ASSERT_TRUE(run_until([&] { return rec.closed.has_value(); }));
    EXPECT_EQ(rec.results.back().code, 481);
    EXPECT_EQ(rec.closed->code(), sdk::ErrorCode::ItemNotFound);
    (void)id;
    (void)id2;
    (void)id3;
}

// MSRP-22: the TCP connection dropped mid-message -> session closed with an error, and the
// pending send fails (nothing silent).
TEST_F(MsrpRawListener, Msrp22ConnectionDroppedMidMessage) {
    auto s = start([](SessionOptions& o) { o.chunk_size = 2048; });
    ASSERT_TRUE(s->send_message(std::string(100 * 1024, 'z'), "text/plain").ok());
    ASSERT_TRUE(s->send_message("queued behind it", "text/plain").ok());
    ASSERT_TRUE(run_until([&] { return peer->requests.size() >= 2; }));
    peer->sock.close(); // no response ever; gone
    ASSERT_TRUE(run_until([&] { return rec.closed.has_value(); }));
    EXPECT_EQ(rec.closed->code(), sdk::ErrorCode::Unreachable);
    ASSERT_TRUE(run_until([&] { return rec.results.size() == 2; }));
    for (const auto& r : rec.results) {
        EXPECT_EQ(r.outcome, SendOutcome::Failed);
        EXPECT_EQ(r.code, 0);
    }
    EXPECT_EQ(ep->connection_count(), 0u);
}

// Failure-Report: no without Success-Report: Sent as soon as it is written (no proof).
TEST_F(MsrpRawListener, Msrp9FailureReportNoIsSentNotDelivered) {
    auto s = start();
    SendOptions so;
    so.failure_report = FailureReport::No;
    ASSERT_TRUE(s->send_message("fire and forget", "text/plain", so).ok());
    ASSERT_TRUE(run_until([&] { return rec.results.size() == 1; }));
    EXPECT_EQ(rec.results[0].outcome, SendOutcome::Sent);
    ASSERT_TRUE(
        run_until([&] { return !peer->requests.empty() && !peer->requests.back().bodiless(); }));
    EXPECT_EQ(peer->requests.back().body, "fire and forget");
    EXPECT_EQ(peer->requests.back().failure_report, FailureReport::No);
    EXPECT_FALSE(peer->requests.back().success_report.has_value()); // MSRP-9 default omitted
}

} // namespace
} // namespace stox::msrp::test
