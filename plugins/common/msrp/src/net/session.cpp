// SPDX-License-Identifier: Apache-2.0
#include <stox/msrp/session.hpp>

#include <algorithm>

#include <boost/asio/steady_timer.hpp>

#include <stox/msrp/ids.hpp>
#include <stox/msrp/status.hpp>

namespace stox::msrp {

namespace {

constexpr std::size_t kInterruptibleAbove = 2048; // MSRP-12
constexpr std::size_t kMaxRemembered = 256;       // completed messages kept for report()

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
        return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    });
    return out;
}

/// "Type/Sub; charset=x" -> "type/sub".
std::string media_type(std::string_view content_type) {
    auto semi = content_type.find(';');
    auto t = content_type.substr(0, semi);
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
    return lower(t);
}

bool type_accepted(const std::vector<std::string>& accept, std::string_view content_type) {
    const auto media = media_type(content_type);
    // MSRP-20: every endpoint must be able to receive these two.
    if (media == "multipart/mixed" || media == "multipart/alternative") return true;
    for (const auto& a : accept) {
        const auto pattern = media_type(a);
        if (pattern == "*" || pattern == "*/*" || pattern == media) return true;
        if (pattern.size() > 2 && pattern.ends_with("/*") &&
            media.starts_with(pattern.substr(0, pattern.size() - 1))) {
            return true;
        }
    }
    return false;
}

bool text_like(std::string_view content_type) {
    const auto media = media_type(content_type);
    return media.starts_with("text/") || media == "message/cpim";
}

} // namespace

struct MsrpSession::Outgoing {
    std::string id;
    std::string body;
    std::string content_type;
    SendOptions options;
    std::size_t next = 0;    ///< 0-based offset of the next byte to send
    bool started = false;    ///< at least one chunk went out
    bool all_sent = false;   ///< the `$` (or `#`) chunk was written
    bool done = false;       ///< the SendResult was delivered
    std::size_t unacked = 0; ///< transactions still waiting for their response
    std::map<std::uint64_t, std::uint64_t> reported; ///< success REPORT coverage [start, end)
};

struct MsrpSession::Transaction {
    std::shared_ptr<Outgoing> message; ///< null for the bodiless binding SEND
    FailureReport failure_report = FailureReport::Yes;
    boost::asio::steady_timer timer;
    explicit Transaction(const boost::asio::any_io_executor& ex) : timer(ex) {}
};

struct MsrpSession::Incoming {
    boost::asio::steady_timer timer;
    Path from_path;
    FailureReport failure_report = FailureReport::Yes;
    std::optional<std::uint64_t> total;
    explicit Incoming(const boost::asio::any_io_executor& ex) : timer(ex) {}
};

struct MsrpSession::Remembered {
    Path from_path;
    bool success_report = false;
    FailureReport failure_report = FailureReport::Yes;
    std::uint64_t total = 0;
};

MsrpSession::MsrpSession(std::shared_ptr<MsrpEndpoint> endpoint, SessionOptions options,
                         SessionHandlers handlers)
    : endpoint_(endpoint), executor_(endpoint->get_executor()), options_(std::move(options)),
      handlers_(std::move(handlers)),
      reassembler_(ReassemblyLimits{options_.max_message_bytes, options_.max_incomplete_messages}) {
}

MsrpSession::~MsrpSession() {
    if (auto ep = endpoint_.lock()) ep->detach(this);
}

void MsrpSession::log(sdk::LogLevel level, std::string text) const {
    if (auto ep = endpoint_.lock())
        ep->log(level, "MSRP session " + to_string(options_.local_uri) + ": " + text);
}

// ---- sending ------------------------------------------------------------------------------

sdk::Result<std::string> MsrpSession::send_message(std::string body, std::string content_type,
                                                   SendOptions options) {
    if (closed_) return sdk::Status(sdk::ErrorCode::Unreachable, "MSRP session is closed");
    if (content_type.empty()) {
        return sdk::Status(sdk::ErrorCode::BadRequest, "MSRP: a message needs a Content-Type");
    }
    auto msg = std::make_shared<Outgoing>();
    msg->id = options.message_id.empty() ? make_message_id() : options.message_id;
    if (outgoing_.count(msg->id) != 0) {
        return sdk::Status(sdk::ErrorCode::BadRequest, "MSRP: Message-ID already in flight");
    }
    // Validate the headers once with a probe chunk, so that a bad type or header fails here.
    Request probe;
    probe.transaction_id = "probe0000";
    probe.to_path = options_.peer_path;
    probe.from_path = {options_.local_uri};
    probe.message_id = msg->id;
    probe.mime_headers = options.mime_headers;
    probe.content_type = content_type;
    if (auto s = serialize(probe); !s) return s.status();
    msg->body = std::move(body);
    msg->content_type = std::move(content_type);
    msg->options = std::move(options);
    outgoing_.emplace(msg->id, msg);
    queue_.push_back(msg);
    pump();
    return msg->id;
}

void MsrpSession::pump() {
    while (!closed_ && conn_ && !writing_) {
        if (queue_.empty()) {
            if (need_bind_) send_bind();
            return;
        }
        auto msg = queue_.front();
        if (msg->done || msg->all_sent) {
            queue_.pop_front();
            continue;
        }
        send_chunk(msg);
        return;
    }
}

void MsrpSession::send_chunk(const std::shared_ptr<Outgoing>& msg) {
    const std::string_view body(msg->body);
    const auto rest = body.substr(msg->next);
    std::size_t len = std::min(std::max<std::size_t>(options_.chunk_size, 1), rest.size());
    if (len < rest.size() && text_like(msg->content_type)) {
        const auto safe = utf8_safe_split(rest, len);
        if (safe > 0) len = safe;
    }
    const bool last = msg->next + len == body.size();
    const FailureReport fr = msg->options.failure_report;

    Request r;
    r.method = "SEND";
    r.to_path = options_.peer_path;
    r.from_path = {options_.local_uri};
    r.message_id = msg->id;
    ByteRange range;
    range.start = msg->next + 1;
    if (len <= kInterruptibleAbove) range.end = msg->next + len; // else `*` (MSRP-12)
    range.total = body.size();
    r.byte_range = range;
    if (msg->options.success_report) r.success_report = true; // same on every chunk (MSRP-8)
    if (fr != FailureReport::Yes) r.failure_report = fr;
    r.mime_headers = msg->options.mime_headers;
    r.content_type = msg->content_type;
    r.body = std::string(rest.substr(0, len));
    r.end_flag = last ? EndFlag::Complete : EndFlag::Continues;

    sdk::Result<std::string> bytes = sdk::Status(sdk::ErrorCode::Internal, "unset");
    for (int attempt = 0; attempt < 4; ++attempt) {
        // MSRP-6: if the body happens to contain the end-line, a fresh tid avoids it.
        r.transaction_id = make_transaction_id();
        if (transactions_.count(r.transaction_id) != 0) continue; // MSRP-2: no collision
        bytes = serialize(r);
        if (bytes) break;
    }
    if (!bytes) {
        finish_send(msg, SendOutcome::Failed, 0, bytes.status().code(), bytes.status().message());
        return;
    }
    const std::string tid = r.transaction_id;
    msg->started = true;
    msg->next += len;
    msg->all_sent = last;
    need_bind_ = false;
    if (fr != FailureReport::No) {
        auto t = std::make_unique<Transaction>(executor_);
        t->message = msg;
        t->failure_report = fr;
        transactions_.emplace(tid, std::move(t));
        ++msg->unacked;
    }
    writing_ = true;
    auto status = conn_->send_bytes(
        std::move(bytes).value(), [weak = weak_from_this(), msg, tid](const sdk::Status& s) {
            auto self = weak.lock();
            if (!self) return;
            self->writing_ = false;
            if (!s) return; // the connection is gone; its close fails the session
            // RFC 4975 §7.1.1: the timer runs from the moment the last byte was handed over.
            self->arm_transaction(tid);
            if (msg->all_sent) self->check_delivered(msg);
            self->pump();
        });
    if (!status) {
        writing_ = false;
        transactions_.erase(tid);
        finish_send(msg, SendOutcome::Failed, 0, status.code(), status.message());
        pump();
    }
}

void MsrpSession::send_bind() {
    // MSRP-21 / MSRP-32: the active side sends a SEND at once, bodiless when it has nothing
    // to say (TV-04 shape: Message-ID, Byte-Range 1-0/0, no Content-Type).
    need_bind_ = false;
    Request r;
    r.transaction_id = make_transaction_id();
    r.to_path = options_.peer_path;
    r.from_path = {options_.local_uri};
    r.message_id = make_message_id();
    r.byte_range = ByteRange{1, 0, 0};
    auto t = std::make_unique<Transaction>(executor_);
    const std::string tid = r.transaction_id;
    transactions_.emplace(tid, std::move(t));
    writing_ = true;
    auto status = conn_->send(Frame(r), [weak = weak_from_this(), tid](const sdk::Status& s) {
        auto self = weak.lock();
        if (!self) return;
        self->writing_ = false;
        if (!s) return;
        self->arm_transaction(tid);
        self->pump();
    });
    if (!status) {
        writing_ = false;
        transactions_.erase(tid);
        fail(status, true);
    }
}

void MsrpSession::send_abort(const std::shared_ptr<Outgoing>& msg) {
    // MSRP-23 / MSRP-30: stop this Message-ID; a `#` chunk lets the receiver free its buffer.
    if (!conn_ || !msg->started || msg->all_sent) return;
    msg->all_sent = true;
    Request r;
    r.transaction_id = make_transaction_id();
    r.to_path = options_.peer_path;
    r.from_path = {options_.local_uri};
    r.message_id = msg->id;
    r.byte_range = ByteRange{msg->next + 1, std::nullopt, msg->body.size()};
    if (msg->options.success_report) r.success_report = true;
    if (msg->options.failure_report != FailureReport::Yes) {
        r.failure_report = msg->options.failure_report;
    }
    r.mime_headers = msg->options.mime_headers;
    r.content_type = msg->content_type;
    r.end_flag = EndFlag::Aborted;
    // Its response, if any, finds no transaction and is dropped: the message already failed.
    if (auto s = conn_->send(Frame(r)); !s)
        log(sdk::LogLevel::Debug, "abort chunk: " + s.message());
}

void MsrpSession::arm_transaction(const std::string& tid) {
    auto it = transactions_.find(tid);
    if (it == transactions_.end()) return; // already answered
    auto& t = *it->second;
    t.timer.expires_after(options_.transaction_timeout);
    t.timer.async_wait([weak = weak_from_this(), tid](const boost::system::error_code& ec) {
        if (ec) return;
        if (auto self = weak.lock()) self->on_timeout(tid);
    });
}

void MsrpSession::on_timeout(const std::string& tid) {
    auto it = transactions_.find(tid);
    if (it == transactions_.end()) return;
    auto t = std::move(it->second);
    transactions_.erase(it);
    if (!t->message) {
        fail(sdk::Status(sdk::ErrorCode::Timeout, "MSRP: no response to the binding SEND"), true);
        return;
    }
    auto msg = t->message;
    if (t->failure_report == FailureReport::Partial) {
        // "partial" runs no failure timer (RFC 4975 §7.1.1): silence means no error was seen.
        if (msg->unacked > 0) --msg->unacked;
        check_delivered(msg);
        return;
    }
    // MSRP-10 / §10: no response in time -> treat as a local 408.
    finish_send(msg, SendOutcome::Failed, to_int(StatusCode::RequestTimeout),
                sdk::ErrorCode::Timeout, "no response within the transaction timeout");
    send_abort(msg);
}

void MsrpSession::finish_send(const std::shared_ptr<Outgoing>& msg, SendOutcome outcome,
                              std::uint16_t code, sdk::ErrorCode error, std::string reason) {
    if (msg->done) return;
    msg->done = true;
    outgoing_.erase(msg->id);
    for (auto it = transactions_.begin(); it != transactions_.end();) {
        it = it->second->message == msg ? transactions_.erase(it) : std::next(it);
    }
    if (handlers_.on_send_result) {
        SendResult r;
        r.message_id = msg->id;
        r.outcome = outcome;
        r.code = code;
        r.error = error;
        r.reason = std::move(reason);
        handlers_.on_send_result(r);
    }
}

void MsrpSession::check_delivered(const std::shared_ptr<Outgoing>& msg) {
    if (msg->done || !msg->all_sent || msg->unacked > 0) return;
    const FailureReport fr = msg->options.failure_report;
    if (msg->options.success_report) {
        // MSRP-15: success REPORTs must cover every byte (an empty message: any report).
        const std::uint64_t total = msg->body.size();
        const bool covered =
            !msg->reported.empty() &&
            (total == 0 || (msg->reported.size() == 1 && msg->reported.begin()->first == 0 &&
                            msg->reported.begin()->second >= total));
        if (!covered) return;
        finish_send(msg, SendOutcome::Delivered, 200, sdk::ErrorCode::Ok, "success REPORT");
        return;
    }
    if (fr == FailureReport::Yes) {
        finish_send(msg, SendOutcome::Delivered, 200, sdk::ErrorCode::Ok, "200 for every chunk");
    } else {
        finish_send(msg, SendOutcome::Sent, 200, sdk::ErrorCode::Ok, "sent without confirmation");
    }
}

void MsrpSession::handle_response(const Response& response) {
    auto it = transactions_.find(response.transaction_id);
    if (it == transactions_.end()) {
        log(sdk::LogLevel::Debug, "response to an unknown transaction " + response.transaction_id);
        return;
    }
    auto t = std::move(it->second);
    transactions_.erase(it);
    t->timer.cancel();
    const auto code = response.code;
    if (code / 100 == 2) {
        if (t->message) {
            if (t->message->unacked > 0) --t->message->unacked;
            check_delivered(t->message);
        }
        return;
    }
    const std::string why = std::to_string(code) + " " + response.comment;
    if (t->message) {
        auto msg = t->message;
        finish_send(msg, SendOutcome::Failed, code, to_error_code(code), why);
        send_abort(msg); // MSRP-30: 413 and friends stop that Message-ID
    }
    // MSRP-30: 481 terminates the session; 506 means this connection cannot carry it. A failed
    // binding SEND leaves the session unusable either way.
    if (code == to_int(StatusCode::SessionDoesNotExist) ||
        code == to_int(StatusCode::SessionAlreadyBound) || !t->message) {
        fail(sdk::Status(to_error_code(code), "MSRP: peer answered " + why), true);
    }
}

// ---- receiving ----------------------------------------------------------------------------

void MsrpSession::respond(const Request& request, std::uint16_t code) {
    // MSRP-16/17: "no" -> never answer; "partial" -> only errors; "yes"/absent -> always.
    const auto fr = request.effective_failure_report();
    if (fr == FailureReport::No) return;
    if (fr == FailureReport::Partial && code == 200) return;
    if (!conn_) return;
    if (auto s = conn_->send(Frame(make_response(request, code))); !s) {
        log(sdk::LogLevel::Warn, "cannot answer " + request.transaction_id + ": " + s.message());
    }
}

std::uint16_t MsrpSession::admission(const Request& request) const {
    if (options_.check_from_path && !options_.peer_path.empty() &&
        (request.from_path.empty() ||
         !equivalent(request.from_path.back(), options_.peer_path.back()))) {
        return to_int(StatusCode::Forbidden); // not the peer the SDP named (RFC 4975 §5.4)
    }
    return 200;
}

void MsrpSession::handle_request(Request&& request) {
    if (closed_) return;
    if (const auto code = admission(request); code != 200) {
        if (request.method_kind() != Method::Report) respond(request, code);
        log(sdk::LogLevel::Info, "request from an unexpected From-Path refused");
        return;
    }
    switch (request.method_kind()) {
    case Method::Send: handle_send(std::move(request)); return;
    case Method::Report: handle_report(request); return; // never answered (MSRP-14)
    case Method::Auth:
    case Method::Other: break;
    }
    respond(request, to_int(StatusCode::UnknownMethod));
}

void MsrpSession::handle_send(Request&& request) {
    if (request.bodiless()) {
        respond(request, 200); // e.g. the binding SEND (TV-04): nothing to deliver
        return;
    }
    if (!options_.receive_allowed) {
        respond(request, to_int(StatusCode::Forbidden)); // MSRP-29: we declared sendonly
        return;
    }
    if (!type_accepted(options_.accept_types, *request.content_type)) {
        respond(request, to_int(StatusCode::UnsupportedMediaType)); // MSRP-20, TV-13
        return;
    }
    if (!request.message_id) {
        respond(request, to_int(StatusCode::BadRequest));
        return;
    }
    const std::string id = *request.message_id;
    auto result = reassembler_.add(request);
    switch (result.outcome) {
    case ChunkOutcome::Incomplete:
        respond(request, 200);
        touch_incoming(request);
        return;
    case ChunkOutcome::Complete: break;
    case ChunkOutcome::Aborted:   // TV-11
    case ChunkOutcome::Discarded: // duplicates and late chunks (TV-11, TV-12)
    case ChunkOutcome::TooLarge:  // TV-12
    case ChunkOutcome::Malformed:
        incoming_.erase(id);
        respond(request, result.status);
        return;
    }
    incoming_.erase(id);
    respond(request, 200);
    Remembered rem;
    rem.from_path = request.from_path;
    rem.success_report = request.wants_success_report();
    rem.failure_report = request.effective_failure_report();
    rem.total = result.body.size();
    if (remembered_.size() >= kMaxRemembered && !remembered_order_.empty()) {
        remembered_.erase(remembered_order_.front());
        remembered_order_.pop_front();
    }
    if (remembered_.insert_or_assign(id, rem).second) remembered_order_.push_back(id);
    if (rem.success_report && options_.auto_success_report) {
        if (auto s = send_report(rem, id, 200); !s) log(sdk::LogLevel::Warn, s.message());
    }
    if (handlers_.on_message) {
        IncomingMessage m;
        m.message_id = id;
        m.transaction_id = request.transaction_id;
        m.content_type = *request.content_type;
        m.body = std::move(result.body);
        m.from_path = std::move(request.from_path);
        m.mime_headers = std::move(request.mime_headers);
        m.success_report = rem.success_report;
        handlers_.on_message(std::move(m));
    }
}

void MsrpSession::touch_incoming(const Request& request) {
    const std::string& id = *request.message_id;
    auto it = incoming_.find(id);
    if (it == incoming_.end()) {
        auto in = std::make_unique<Incoming>(executor_);
        in->from_path = request.from_path;
        in->failure_report = request.effective_failure_report();
        it = incoming_.emplace(id, std::move(in)).first;
    }
    auto& in = *it->second;
    if (request.byte_range && request.byte_range->total) in.total = request.byte_range->total;
    // The expiry counts from the latest chunk: a slow but live transfer is not cut.
    in.timer.expires_after(options_.incomplete_timeout);
    in.timer.async_wait([weak = weak_from_this(), id](const boost::system::error_code& ec) {
        if (ec) return;
        if (auto self = weak.lock()) self->expire_incoming(id);
    });
}

void MsrpSession::expire_incoming(const std::string& message_id) {
    auto it = incoming_.find(message_id);
    if (it == incoming_.end()) return;
    auto in = std::move(it->second);
    incoming_.erase(it);
    const auto gaps = reassembler_.gaps(message_id);
    reassembler_.drop(message_id);
    log(sdk::LogLevel::Info, "incomplete message " + message_id + " expired");
    // RFC 4975 §7.1.4: the bytes were acknowledged but the message was never delivered; with
    // Failure-Report yes the sender learns it from a failure REPORT on the missing range.
    if (in->failure_report != FailureReport::Yes || !conn_) return;
    Request r;
    r.transaction_id = make_transaction_id();
    r.method = "REPORT";
    r.to_path = in->from_path;
    r.from_path = {options_.local_uri};
    r.message_id = message_id;
    ByteRange range{1, std::nullopt, in->total};
    if (!gaps.empty()) {
        range.start = gaps.front().first + 1;
        if (in->total) range.end = std::min(gaps.front().second, *in->total);
    }
    r.byte_range = range;
    r.status = StatusHeader{0, to_int(StatusCode::RequestTimeout),
                            std::string(reason_phrase(to_int(StatusCode::RequestTimeout)))};
    if (auto s = conn_->send(Frame(r)); !s) log(sdk::LogLevel::Warn, s.message());
}

void MsrpSession::handle_report(const Request& request) {
    if (!request.message_id || !request.status) {
        log(sdk::LogLevel::Info, "REPORT without Message-ID or Status ignored (MSRP-14)");
        return;
    }
    auto it = outgoing_.find(*request.message_id);
    if (it == outgoing_.end()) {
        // MSRP-23 / RFC 4975 §7.1.2: a REPORT for an unknown Message-ID is silently ignored.
        log(sdk::LogLevel::Debug, "REPORT for unknown Message-ID " + *request.message_id);
        return;
    }
    auto msg = it->second;
    ReportEvent ev;
    ev.message_id = msg->id;
    ev.status = *request.status;
    ev.range = request.byte_range;
    ev.known = true;
    if (handlers_.on_report) handlers_.on_report(ev);
    if (closed_ || msg->done) return;
    const auto code = request.status->code;
    if (code / 100 == 2) {
        std::uint64_t start = 0;
        std::uint64_t end = msg->body.size();
        if (request.byte_range) {
            start = request.byte_range->start - 1;
            if (request.byte_range->end) end = *request.byte_range->end;
        }
        if (end > start) {
            auto& cov = msg->reported;
            auto jt = cov.upper_bound(start);
            if (jt != cov.begin() && std::prev(jt)->second >= start) {
                jt = std::prev(jt);
                start = jt->first;
                end = std::max(end, jt->second);
                jt = cov.erase(jt);
            }
            while (jt != cov.end() && jt->first <= end) {
                end = std::max(end, jt->second);
                jt = cov.erase(jt);
            }
            cov.emplace(start, end);
        } else if (msg->reported.empty()) {
            msg->reported.emplace(0, 0); // an empty message's report
        }
        check_delivered(msg);
        return;
    }
    // A failure REPORT (MSRP-23): the message failed; stop sending what is left of it.
    const std::string why = "failure REPORT " + to_string(*request.status);
    finish_send(msg, SendOutcome::Failed, code, to_error_code(code), why);
    send_abort(msg);
    // RFC 4975 §7.3.2: bytes that were never received (a 408 timeout REPORT) fail the session.
    if (code == to_int(StatusCode::RequestTimeout) && request.byte_range) {
        fail(sdk::Status(sdk::ErrorCode::Timeout, "MSRP: " + why), true);
    }
}

sdk::Status MsrpSession::send_report(const Remembered& r, const std::string& message_id,
                                     std::uint16_t code) {
    if (!conn_ || closed_) {
        return sdk::Status(sdk::ErrorCode::Unreachable, "MSRP: no REPORT on a dead session");
    }
    Request rep;
    rep.transaction_id = make_transaction_id();
    rep.method = "REPORT";
    rep.to_path = r.from_path; // MSRP-15: the original From-Path
    rep.from_path = {options_.local_uri};
    rep.message_id = message_id;
    rep.byte_range = ByteRange{1, r.total, r.total};
    rep.status = StatusHeader{0, code, std::string(reason_phrase(code))};
    return conn_->send(Frame(rep));
}

sdk::Status MsrpSession::report(const std::string& message_id, std::uint16_t code) {
    auto it = remembered_.find(message_id);
    if (it == remembered_.end()) {
        return sdk::Status(sdk::ErrorCode::ItemNotFound, "MSRP: no such received message");
    }
    if (code == 200 && !it->second.success_report) {
        // MSRP-15: never a success REPORT unless Success-Report was yes.
        return sdk::Status(sdk::ErrorCode::Forbidden, "MSRP: the sender asked for no REPORT");
    }
    if (code != 200 && it->second.failure_report == FailureReport::No) {
        return sdk::Status(sdk::ErrorCode::Forbidden, "MSRP: Failure-Report: no");
    }
    if (code < 200 || code > 999) {
        return sdk::Status(sdk::ErrorCode::BadRequest, "MSRP: invalid status code");
    }
    return send_report(it->second, message_id, code);
}

// ---- life cycle ---------------------------------------------------------------------------

void MsrpSession::attach(std::shared_ptr<MsrpConnection> conn, bool send_bind) {
    conn_ = std::move(conn);
    need_bind_ = send_bind;
    pump();
}

void MsrpSession::fail(sdk::Status reason, bool notify) {
    if (closed_) return;
    auto self = shared_from_this();
    closed_ = true;
    if (auto ep = endpoint_.lock()) ep->detach(this);
    conn_.reset();
    need_bind_ = false;
    transactions_.clear(); // cancels the timers
    incoming_.clear();
    queue_.clear();
    const auto error = reason.ok() ? sdk::ErrorCode::Cancelled : reason.code();
    const std::string why = reason.ok() ? "MSRP session closed" : reason.message();
    auto pending = std::move(outgoing_);
    outgoing_.clear();
    for (auto& [id, msg] : pending) finish_send(msg, SendOutcome::Failed, 0, error, why);
    if (notify && handlers_.on_closed) {
        handlers_.on_closed(reason.ok() ? sdk::Status(sdk::ErrorCode::Cancelled, why) : reason);
    }
}

void MsrpSession::close() {
    fail(sdk::Status{}, false);
}

} // namespace stox::msrp
