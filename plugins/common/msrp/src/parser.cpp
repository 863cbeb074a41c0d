// SPDX-License-Identifier: Apache-2.0
#include <stox/msrp/parser.hpp>

#include <algorithm>
#include <new>

#include "headers.hpp"
#include "syntax.hpp"

namespace stox::msrp {

using namespace detail;

namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kDashes = "-------";
constexpr std::string_view kPrefix = "MSRP ";

bool is_flag(char c) noexcept {
    return c == '$' || c == '+' || c == '#';
}

} // namespace

void Parser::reset() noexcept {
    buffer_.clear();
    buffer_.shrink_to_fit();
    state_ = State::StartLine;
    failed_ = false;
    pos_ = 0;
    body_start_ = 0;
    is_request_ = true;
    has_body_ = false;
    tid_.clear();
    request_ = Request{};
    response_ = Response{};
    pending_.reset();
}

std::vector<ParseEvent> Parser::feed(std::string_view bytes) noexcept {
    std::vector<ParseEvent> out;
    if (failed_) return out;
    try {
        buffer_.append(bytes);
        while (!failed_ && step(out)) {
        }
    } catch (const std::bad_alloc&) {
        // Out of memory while buffering hostile input: the stream is lost either way.
        failed_ = true;
        buffer_.clear();
        try {
            ParseError e;
            e.code = 413;
            e.reason = "out of memory";
            out.emplace_back(std::move(e));
        } catch (const std::bad_alloc&) {
            out.clear(); // nothing sensible left to report; failed() tells the caller
        }
    }
    return out;
}

bool Parser::step(std::vector<ParseEvent>& out) {
    switch (state_) {
    case State::StartLine: return step_start_line(out);
    case State::Headers: return step_headers(out);
    case State::Body: return step_body(out);
    case State::Discard: return step_discard();
    }
    return false;
}

void Parser::fail(std::vector<ParseEvent>& out, std::uint16_t code, std::string reason) {
    ParseError e;
    e.code = code;
    e.reason = std::move(reason);
    e.transaction_id = tid_;
    e.is_response = !is_request_;
    if (is_request_ && !tid_.empty()) e.request = request_;
    e.close_connection = true;
    out.emplace_back(std::move(e));
    failed_ = true;
    buffer_.clear();
}

void Parser::start_discard(std::vector<ParseEvent>& out, std::uint16_t code, std::string reason) {
    // The frame's tid is known, so its end-line can still be found: report now (MSRP-30 wants
    // the sender interrupted early) and skip the rest of the frame.
    ParseError e;
    e.code = code;
    e.reason = std::move(reason);
    e.transaction_id = tid_;
    e.is_response = !is_request_;
    if (is_request_) e.request = request_;
    e.close_connection = false;
    out.emplace_back(std::move(e));
    buffer_.erase(0, body_start_);
    pos_ = 0;
    state_ = State::Discard;
}

bool Parser::step_start_line(std::vector<ParseEvent>& out) {
    // Reject garbage as soon as the first bytes are visible, not after a full header block.
    const auto probe = std::min(buffer_.size(), kPrefix.size());
    if (std::string_view(buffer_).substr(0, probe) != kPrefix.substr(0, probe)) {
        fail(out, 400, "stream does not start with \"MSRP \"");
        return false;
    }
    const auto eol = buffer_.find(kCrlf);
    if (eol == std::string::npos) {
        if (buffer_.size() > limits_.max_header_bytes) fail(out, 413, "start line too long");
        return false;
    }
    if (eol + 2 > limits_.max_header_bytes) {
        fail(out, 413, "start line too long");
        return false;
    }
    const std::string_view line = std::string_view(buffer_).substr(kPrefix.size(), eol - 5);
    const auto sp = line.find(' ');
    const auto tid = line.substr(0, sp);
    if (sp == std::string_view::npos || !is_ident(tid)) {
        fail(out, 400, "malformed transaction id");
        return false;
    }
    tid_ = std::string(tid);
    const auto rest = line.substr(sp + 1);
    const bool numeric = rest.size() >= 3 && is_digit(rest[0]) && is_digit(rest[1]) &&
                         is_digit(rest[2]) && (rest.size() == 3 || rest[3] == ' ');
    if (numeric) {
        is_request_ = false;
        response_.transaction_id = tid_;
        response_.code = static_cast<std::uint16_t>((rest[0] - '0') * 100 + (rest[1] - '0') * 10 +
                                                    (rest[2] - '0'));
        if (rest.size() > 4) response_.comment = std::string(rest.substr(4));
        if (response_.code < 100 || !is_utf8text(response_.comment)) {
            pending_ = ParseError{400, "malformed status line", tid_, std::nullopt, true, false};
        }
    } else {
        is_request_ = true;
        request_.transaction_id = tid_;
        request_.method = std::string(rest);
        bool ok = !rest.empty();
        for (char c : rest) ok = ok && is_upalpha(c);
        if (!ok) pending_ = ParseError{400, "malformed method", tid_, std::nullopt, false, false};
    }
    pos_ = eol + 2;
    state_ = State::Headers;
    return true;
}

bool Parser::step_headers(std::vector<ParseEvent>& out) {
    const auto eol = buffer_.find(kCrlf, pos_);
    if (eol == std::string::npos) {
        if (buffer_.size() > limits_.max_header_bytes) fail(out, 413, "header block too large");
        return false;
    }
    if (eol + 2 > limits_.max_header_bytes) {
        fail(out, 413, "header block too large");
        return false;
    }
    const std::string_view line = std::string_view(buffer_).substr(pos_, eol - pos_);
    if (line.empty()) {
        // §9 content-stuff: the empty line after Content-Type; the body follows.
        has_body_ = true;
        body_start_ = eol + 2;
        pos_ = body_start_;
        state_ = State::Body;
        return true;
    }
    if (line.size() == kDashes.size() + tid_.size() + 1 &&
        line.substr(0, kDashes.size()) == kDashes &&
        line.substr(kDashes.size(), tid_.size()) == tid_ && is_flag(line.back())) {
        // A bodiless frame: the end-line directly follows the last header (MSRP-4).
        has_body_ = false;
        const auto flag = static_cast<EndFlag>(line.back());
        request_.end_flag = flag;
        if (!is_request_ && flag != EndFlag::Complete && !pending_) {
            pending_ = ParseError{
                400, "response end-line flag must be '$'", tid_, std::nullopt, true, false};
        }
        finish_frame(out, eol + 2);
        return true;
    }
    if (!pending_) {
        const auto colon = line.find(':');
        sdk::Status s;
        if (colon == std::string_view::npos) {
            s = sdk::Status(sdk::ErrorCode::BadRequest, "MSRP: header line without ':'");
        } else {
            auto value = line.substr(colon + 1);
            if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
            const auto name = line.substr(0, colon);
            s = is_request_ ? apply_header(request_, name, value)
                            : apply_header(response_, name, value);
        }
        if (!s) pending_ = ParseError{400, s.message(), tid_, std::nullopt, !is_request_, false};
    }
    pos_ = eol + 2;
    return true;
}

bool Parser::step_body(std::vector<ParseEvent>& out) {
    const std::string needle = std::string(kCrlf) + std::string(kDashes) + tid_;
    while (true) {
        const auto f = buffer_.find(needle, pos_);
        if (f == std::string::npos) {
            // Everything that cannot start the terminator is body; resume the scan there.
            if (buffer_.size() >= needle.size()) {
                pos_ = std::max(pos_, buffer_.size() - needle.size() + 1);
            }
            if (pos_ - body_start_ > limits_.max_chunk_bytes) {
                start_discard(out, 413, "chunk larger than the configured limit");
                return true;
            }
            return false;
        }
        if (f - body_start_ > limits_.max_chunk_bytes) {
            start_discard(out, 413, "chunk larger than the configured limit");
            return true;
        }
        if (f + needle.size() + 3 > buffer_.size()) {
            pos_ = f; // need the flag and the CRLF
            return false;
        }
        const char flag = buffer_[f + needle.size()];
        if (is_flag(flag) && buffer_.compare(f + needle.size() + 1, 2, kCrlf) == 0) {
            if (is_request_) {
                request_.body = buffer_.substr(body_start_, f - body_start_);
                request_.end_flag = static_cast<EndFlag>(flag);
            } else if (!pending_) {
                pending_ = ParseError{
                    400, "a response has no body (RFC 4975 §7.2)", tid_, std::nullopt, true, false};
            }
            finish_frame(out, f + needle.size() + 3);
            return true;
        }
        // "-------<tid>" not followed by a flag and CRLF is ordinary body content.
        pos_ = f + 1;
    }
}

bool Parser::step_discard() {
    const std::string needle = std::string(kCrlf) + std::string(kDashes) + tid_;
    while (true) {
        const auto f = buffer_.find(needle, pos_);
        if (f == std::string::npos || f + needle.size() + 3 > buffer_.size()) {
            // Keep only a tail that may still hold the start of the end-line.
            const auto keep = std::min(buffer_.size(), needle.size() + 2);
            const auto cut = f == std::string::npos ? buffer_.size() - keep : f;
            buffer_.erase(0, cut);
            pos_ = 0;
            return false;
        }
        const char flag = buffer_[f + needle.size()];
        if (is_flag(flag) && buffer_.compare(f + needle.size() + 1, 2, kCrlf) == 0) {
            buffer_.erase(0, f + needle.size() + 3);
            pos_ = 0;
            tid_.clear();
            request_ = Request{};
            response_ = Response{};
            pending_.reset();
            is_request_ = true;
            has_body_ = false;
            state_ = State::StartLine;
            return true;
        }
        pos_ = f + 1;
    }
}

void Parser::finish_frame(std::vector<ParseEvent>& out, std::size_t consumed) {
    if (!pending_) {
        auto err = [&](std::string why) {
            pending_ = ParseError{400, std::move(why), tid_, std::nullopt, !is_request_, false};
        };
        if (is_request_) {
            if (request_.to_path.empty() || request_.from_path.empty()) {
                err("To-Path and From-Path are required (RFC 4975 §9)");
            } else if (has_body_ && !request_.content_type) {
                err("a body requires Content-Type (RFC 4975 §7.1)");
            } else if (!has_body_ && (request_.content_type || !request_.mime_headers.empty())) {
                err("a bodiless request carries no MIME header (RFC 4975 §7.1)");
            }
        } else if (response_.to_path.empty() || response_.from_path.empty()) {
            err("To-Path and From-Path are required (RFC 4975 §9)");
        }
    }
    if (pending_) {
        pending_->transaction_id = tid_;
        if (is_request_) pending_->request = std::move(request_);
        out.emplace_back(std::move(*pending_));
    } else if (is_request_) {
        out.emplace_back(std::move(request_));
    } else {
        out.emplace_back(std::move(response_));
    }
    buffer_.erase(0, consumed);
    pos_ = 0;
    body_start_ = 0;
    tid_.clear();
    request_ = Request{};
    response_ = Response{};
    pending_.reset();
    is_request_ = true;
    has_body_ = false;
    state_ = State::StartLine;
}

} // namespace stox::msrp
