// SPDX-License-Identifier: Apache-2.0
// Two MsrpEndpoints talking over 127.0.0.1 (one io_context): sessions, chunking, reports,
// COMEDIA roles and connection reuse.
#include "net_fixture.hpp"

namespace stox::msrp::test {
namespace {

std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 26) % 26);
    return s;
}

struct Pair {
    std::shared_ptr<MsrpSession> active;
    std::shared_ptr<MsrpSession> passive;
};

class MsrpSessions : public MsrpNet {
protected:
    /// Offerer on `a` (active unless reversed), answerer on `b` (RFC 6135 a=setup outcome).
    Pair pair(const std::shared_ptr<MsrpEndpoint>& a, const std::shared_ptr<MsrpEndpoint>& b,
              Recorder& ra, Recorder& rb, const std::function<void(SessionOptions&)>& tweak = {}) {
        const auto ua = a->make_local_uri();
        const auto ub = b->make_local_uri();
        Pair p;
        p.passive = session(b, ub, {ua}, SetupRole::Passive, rb, tweak);
        p.active = session(a, ua, {ub}, SetupRole::Active, ra, tweak);
        return p;
    }
};

// MSRP-17/21, TV-04/TV-05: the active side binds with an immediate SEND; messages flow both
// ways and each gets its 200 -> Delivered.
TEST_F(MsrpSessions, Msrp21TwoSessionsTalkBothWays) {
    auto a = endpoint();
    auto b = endpoint();
    Recorder ra, rb;
    auto p = pair(a, b, ra, rb);
    ASSERT_TRUE(run_until([&] { return p.active->bound() && p.passive->bound(); }));
    EXPECT_EQ(b->connection_count(), 1u); // the bodiless binding SEND bound it (TV-04)

    auto id1 = p.active->send_message("Hi Bob, are you free for a call?", "text/plain");
    ASSERT_TRUE(id1.ok());
    auto id2 = p.passive->send_message("Sure, give me five minutes.", "text/plain");
    ASSERT_TRUE(id2.ok());
    ASSERT_TRUE(run_until([&] {
        return rb.messages.size() == 1 && ra.messages.size() == 1 && ra.results.size() == 1 &&
               rb.results.size() == 1;
    }));
    EXPECT_EQ(rb.messages[0].body, "Hi Bob, are you free for a call?");
    EXPECT_EQ(rb.messages[0].content_type, "text/plain");
    EXPECT_EQ(rb.messages[0].message_id, *id1);
    ASSERT_EQ(rb.messages[0].from_path.size(), 1u);
    EXPECT_TRUE(equivalent(rb.messages[0].from_path[0], p.active->local_uri()));
    EXPECT_EQ(ra.messages[0].body, "Sure, give me five minutes.");
    EXPECT_EQ(ra.results[0].outcome, SendOutcome::Delivered);
    EXPECT_EQ(ra.results[0].message_id, *id1);
    EXPECT_EQ(rb.results[0].outcome, SendOutcome::Delivered);
    EXPECT_FALSE(ra.closed);
    EXPECT_FALSE(rb.closed);
}

// MSRP-11/12/13/19: 100 KB in 2 KB chunks, both directions, reassembled byte-exact.
TEST_F(MsrpSessions, Msrp12HundredKilobytesIn2KChunksBothWays) {
    auto a = endpoint();
    auto b = endpoint();
    Recorder ra, rb;
    auto p = pair(a, b, ra, rb, [](SessionOptions& o) { o.chunk_size = 2048; });
    const auto big = pattern(100 * 1024);
    ASSERT_TRUE(p.active->send_message(big, "application/octet-stream").ok());
    ASSERT_TRUE(p.passive->send_message(big + "!", "application/octet-stream").ok());
    ASSERT_TRUE(run_until([&] {
        return rb.messages.size() == 1 && ra.messages.size() == 1 && ra.results.size() == 1 &&
               rb.results.size() == 1;
    }));
    EXPECT_EQ(rb.messages[0].body, big);
    EXPECT_EQ(ra.messages[0].body, big + "!");
    EXPECT_EQ(ra.results[0].outcome, SendOutcome::Delivered); // every chunk got its 200
    EXPECT_EQ(rb.results[0].outcome, SendOutcome::Delivered);
}

// MSRP-12: chunks above 2048 octets go out interruptible (range-end `*`) and still reassemble;
// UTF-8 text is never split inside a sequence (TV-08).
TEST_F(MsrpSessions, Msrp12LargeChunksAndUtf8Text) {
    auto a = endpoint();
    auto b = endpoint();
    Recorder ra, rb;
    auto p = pair(a, b, ra, rb, [](SessionOptions& o) { o.chunk_size = 5000; });
    std::string text;
    for (int i = 0; i < 3000; ++i) text += "Grüße ";
    ASSERT_TRUE(p.active->send_message(text, "text/plain; charset=UTF-8").ok());
    ASSERT_TRUE(run_until([&] { return rb.messages.size() == 1 && ra.results.size() == 1; }));
    EXPECT_EQ(rb.messages[0].body, text);
    EXPECT_EQ(ra.results[0].outcome, SendOutcome::Delivered);
}

// RFC 6135 / MSRP-32, TV-02 variant: the answerer is active and the offerer waits; the
// passive side's message queued before binding goes out once the connection is bound.
TEST_F(MsrpSessions, Msrp32ComediaBothDirections) {
    auto a = endpoint();
    auto b = endpoint();
    for (int round = 0; round < 2; ++round) {
        Recorder ra, rb;
        // round 0: a active -> b passive; round 1: b active -> a passive.
        auto p = round == 0 ? pair(a, b, ra, rb) : pair(b, a, ra, rb);
        ASSERT_TRUE(p.passive->send_message("queued before binding", "text/plain").ok());
        ASSERT_TRUE(run_until([&] { return ra.messages.size() == 1 && rb.results.size() == 1; }))
            << "round " << round;
        EXPECT_EQ(ra.messages[0].body, "queued before binding");
        EXPECT_EQ(rb.results[0].outcome, SendOutcome::Delivered);
        p.active->close();
        p.passive->close();
    }
    // Only the active endpoints dialled: each round used the connection its active side opened.
    EXPECT_FALSE(logged("connect 127.0.0.1")); // no dial failure
}

// RFC 4975 §8.1 / RFC 6135 §4, MSRP-21/22, TV-19: two sessions to the same authority share one
// connection; it closes only when the last session goes.
TEST_F(MsrpSessions, Msrp21ConnectionReuseByTwoSessions) {
    auto a = endpoint();
    auto b = endpoint();
    Recorder ra1, rb1, ra2, rb2;
    auto p1 = pair(a, b, ra1, rb1);
    auto p2 = pair(a, b, ra2, rb2);
    ASSERT_TRUE(p1.active->send_message("one", "text/plain").ok());
    ASSERT_TRUE(p2.active->send_message("two", "text/plain").ok());
    ASSERT_TRUE(p2.passive->send_message("back two", "text/plain").ok());
    ASSERT_TRUE(run_until([&] {
        return rb1.messages.size() == 1 && rb2.messages.size() == 1 && ra2.messages.size() == 1;
    }));
    EXPECT_EQ(rb1.messages[0].body, "one");
    EXPECT_EQ(rb2.messages[0].body, "two");
    EXPECT_EQ(ra2.messages[0].body, "back two");
    EXPECT_EQ(a->connection_count(), 1u);
    EXPECT_EQ(b->connection_count(), 1u);

    p1.active->close();
    p1.passive->close();
    run_for(std::chrono::milliseconds(50));
    EXPECT_EQ(a->connection_count(), 1u); // still carries session 2 (MSRP-22)
    ASSERT_TRUE(p2.active->send_message("still here", "text/plain").ok());
    ASSERT_TRUE(run_until([&] { return rb2.messages.size() == 2; }));
    p2.active->close();
    ASSERT_TRUE(
        run_until([&] { return a->connection_count() == 0 && b->connection_count() == 0; }));
    EXPECT_TRUE(rb2.closed.has_value()); // the peer saw the connection go (MSRP-22)
}

// MSRP-15, TV-21/TV-22: a success REPORT covers the whole message; the result is Delivered only
// after it. Deferred REPORTs come from report(); never when not asked.
TEST_F(MsrpSessions, Msrp15SuccessReportsAutomaticAndDeferred) {
    auto a = endpoint();
    auto b = endpoint();
    Recorder ra, rb;
    auto p = pair(a, b, ra, rb, [](SessionOptions& o) { o.chunk_size = 4; });
    SendOptions so;
    so.success_report = true;
    so.failure_report = FailureReport::No; // TV-21 profile: no responses, only the REPORT
    auto id = p.active->send_message("Meeting moved to 3pm.", "text/plain", so);
    ASSERT_TRUE(id.ok());
    ASSERT_TRUE(run_until([&] { return ra.results.size() == 1; }));
    ASSERT_EQ(ra.reports.size(), 1u);
    EXPECT_EQ(ra.reports[0].message_id, *id);
    EXPECT_EQ(ra.reports[0].status.code, 200);
    ASSERT_TRUE(ra.reports[0].range.has_value());
    EXPECT_EQ(to_string(*ra.reports[0].range), "1-21/21");
    EXPECT_EQ(ra.results[0].outcome, SendOutcome::Delivered);
    ASSERT_EQ(rb.messages.size(), 1u);
    EXPECT_TRUE(rb.messages[0].success_report);
}

TEST_F(MsrpSessions, Tv22DeferredSuccessReportAndFailureReport) {
    auto a = endpoint();
    auto b = endpoint();
    Recorder ra, rb;
    auto p = pair(a, b, ra, rb, [](SessionOptions& o) { o.auto_success_report = false; });
    SendOptions so;
    so.success_report = true;
    auto id = p.active->send_message("Ahoj", "text/plain", so);
    ASSERT_TRUE(id.ok());
    ASSERT_TRUE(run_until([&] { return rb.messages.size() == 1; }));
    run_for(std::chrono::milliseconds(100));
    EXPECT_TRUE(ra.results.empty());               // 200 arrived, but the REPORT was asked for
    ASSERT_TRUE(p.passive->report(*id, 200).ok()); // e.g. the XMPP <received/> came in
    ASSERT_TRUE(run_until([&] { return ra.results.size() == 1; }));
    EXPECT_EQ(ra.results[0].outcome, SendOutcome::Delivered);

    // Not asked: no success REPORT (MSRP-15); unknown ids are refused.
    auto id2 = p.active->send_message("plain", "text/plain");
    ASSERT_TRUE(run_until([&] { return rb.messages.size() == 2 && ra.results.size() == 2; }));
    EXPECT_EQ(p.passive->report(*id2, 200).code(), sdk::ErrorCode::Forbidden);
    EXPECT_EQ(p.passive->report("nope", 200).code(), sdk::ErrorCode::ItemNotFound);

    // A gateway MAY answer 200 and send a failure REPORT later (MSRP-16): the sender's
    // pending message fails with that code.
    auto id3 = p.active->send_message("fails downstream", "text/plain", so);
    ASSERT_TRUE(run_until([&] { return rb.messages.size() == 3; }));
    ASSERT_TRUE(p.passive->report(*id3, 415).ok());
    ASSERT_TRUE(run_until([&] { return ra.results.size() == 3; }));
    EXPECT_EQ(ra.results[2].message_id, *id3);
    EXPECT_EQ(ra.results[2].outcome, SendOutcome::Failed);
    EXPECT_EQ(ra.results[2].code, 415);
    EXPECT_EQ(ra.results[2].error, sdk::ErrorCode::Unsupported);
    EXPECT_FALSE(ra.closed); // not a 408 range failure: the session lives on
}

// MSRP-20/30, TV-12/13 between two stacks: 413 and 415 come back as send failures.
TEST_F(MsrpSessions, Msrp30ErrorsReachTheSender) {
    auto a = endpoint();
    auto b = endpoint();
    Recorder ra, rb;
    auto p = pair(a, b, ra, rb, [](SessionOptions& o) {
        o.accept_types = {"text/*", "message/cpim"};
        o.max_message_bytes = 10000;
    });
    auto png = p.active->send_message(std::string(1024, '\x89'), "image/png");
    auto big = p.active->send_message(pattern(50000), "text/plain");
    auto ok = p.active->send_message("fine", "text/plain");
    ASSERT_TRUE(run_until([&] { return ra.results.size() == 3; }));
    std::map<std::string, SendResult> by_id;
    for (auto& r : ra.results) by_id[r.message_id] = r;
    EXPECT_EQ(by_id[*png].code, 415);
    EXPECT_EQ(by_id[*big].code, 413);
    EXPECT_EQ(by_id[*big].error, sdk::ErrorCode::TooLarge);
    EXPECT_EQ(by_id[*ok].outcome, SendOutcome::Delivered);
    ASSERT_EQ(rb.messages.size(), 1u);
    EXPECT_EQ(rb.messages[0].body, "fine");
    // multipart/mixed is always acceptable (MSRP-20).
    ASSERT_TRUE(p.active->send_message("--b--", "multipart/mixed; boundary=b").ok());
    ASSERT_TRUE(run_until([&] { return rb.messages.size() == 2; }));
}

// MSRP-29: a sendonly session refuses content with 403 but can still send.
TEST_F(MsrpSessions, Msrp29SendonlyRefusesContentWith403) {
    auto a = endpoint();
    auto b = endpoint();
    Recorder ra, rb;
    const auto ua = a->make_local_uri();
    const auto ub = b->make_local_uri();
    auto pb = session(b, ub, {ua}, SetupRole::Passive, rb,
                      [](SessionOptions& o) { o.receive_allowed = false; });
    auto pa = session(a, ua, {ub}, SetupRole::Active, ra);
    ASSERT_TRUE(pa->send_message("hello?", "text/plain").ok());
    ASSERT_TRUE(pb->send_message("announcement", "text/plain").ok());
    ASSERT_TRUE(run_until([&] { return ra.results.size() == 1 && ra.messages.size() == 1; }));
    EXPECT_EQ(ra.results[0].code, 403);
    EXPECT_EQ(ra.results[0].outcome, SendOutcome::Failed);
    EXPECT_TRUE(rb.messages.empty());
}

// MSRP-1: msrps is refused clearly (no TLS in this layer); a bad peer path too.
TEST_F(MsrpSessions, Msrp1UnsupportedOrInvalidSessions) {
    auto a = endpoint();
    Recorder r;
    SessionOptions o;
    o.local_uri = a->make_local_uri();
    o.peer_path = {uri("msrps://127.0.0.1:1/x;tcp")};
    EXPECT_EQ(a->create_session(o, r.handlers()).status().code(), sdk::ErrorCode::Unsupported);
    o.peer_path.clear();
    EXPECT_EQ(a->create_session(o, r.handlers()).status().code(), sdk::ErrorCode::BadRequest);
    o.peer_path = {uri("msrp://127.0.0.1:1/x;tcp")};
    o.role = SetupRole::Passive;
    auto first = a->create_session(o, r.handlers());
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(a->create_session(o, r.handlers()).status().code(), sdk::ErrorCode::Forbidden);
}

// MSRP-22: an unreachable peer fails the active session and its queued messages, loudly.
TEST_F(MsrpSessions, Msrp22ConnectFailureFailsSessionAndSends) {
    auto a = endpoint();
    // A port that was free a moment ago: bind, read the port, close.
    boost::asio::ip::tcp::acceptor probe(
        io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    const auto dead_port = probe.local_endpoint().port();
    probe.close();
    Recorder r;
    auto s = session(a, a->make_local_uri(),
                     {uri("msrp://127.0.0.1:" + std::to_string(dead_port) + "/gone;tcp")},
                     SetupRole::Active, r);
    ASSERT_TRUE(s->send_message("lost", "text/plain").ok());
    ASSERT_TRUE(run_until([&] { return r.closed.has_value() && r.results.size() == 1; }));
    EXPECT_EQ(r.closed->code(), sdk::ErrorCode::Unreachable);
    EXPECT_EQ(r.results[0].outcome, SendOutcome::Failed);
    EXPECT_EQ(r.results[0].code, 0);
    EXPECT_EQ(s->send_message("after", "text/plain").status().code(), sdk::ErrorCode::Unreachable);
}

} // namespace
} // namespace stox::msrp::test
