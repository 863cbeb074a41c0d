// SPDX-License-Identifier: Apache-2.0
#include <stox/msrp/message.hpp>

#include <new>

#include <stox/msrp/status.hpp>

#include "headers.hpp"
#include "syntax.hpp"

namespace stox::msrp {

using sdk::ErrorCode;
using sdk::Result;
using sdk::Status;
using namespace detail;

namespace {

constexpr std::string_view kCrlf = "\r\n";

Status bad(std::string why) {
    return Status(ErrorCode::BadRequest, "MSRP: " + why);
}

bool valid_method(std::string_view m) noexcept {
    if (m.empty()) return false;
    for (char c : m) {
        if (!is_upalpha(c)) return false;
    }
    return true;
}

bool valid_header_name(std::string_view n) noexcept {
    // §9 hname = ALPHA *token
    return !n.empty() && is_alpha(n.front()) && is_token(n);
}

/// A header value must stay on one line; we also refuse other control characters.
bool valid_header_value(std::string_view v) noexcept {
    return is_utf8text(v);
}

Status check_headers(const std::vector<Header>& headers) {
    for (const auto& h : headers) {
        if (!valid_header_name(h.name)) return bad("invalid header name \"" + h.name + "\"");
        if (!valid_header_value(h.value)) return bad("invalid value of header " + h.name);
    }
    return {};
}

void put(std::string& out, std::string_view name, std::string_view value) {
    out.append(name).append(": ").append(value).append(kCrlf);
}

std::string_view failure_report_text(FailureReport f) noexcept {
    switch (f) {
    case FailureReport::Yes: return "yes";
    case FailureReport::No: return "no";
    case FailureReport::Partial: return "partial";
    }
    return "yes";
}

std::string end_line(std::string_view tid, EndFlag flag) {
    std::string out = "-------";
    out.append(tid).push_back(static_cast<char>(flag));
    out.append(kCrlf);
    return out;
}

Result<std::string> serialize_request(const Request& r) {
    if (!is_ident(r.transaction_id)) return bad("invalid transaction id");
    if (!valid_method(r.method)) return bad("invalid method");
    if (r.to_path.empty() || r.from_path.empty()) return bad("To-Path and From-Path are required");
    if (r.message_id && !is_ident(*r.message_id)) return bad("invalid Message-ID");
    if (r.end_flag != EndFlag::Complete && r.end_flag != EndFlag::Continues &&
        r.end_flag != EndFlag::Aborted) {
        return bad("invalid end-line flag");
    }
    if (r.status && (r.status->ns > 999 || r.status->code < 100 || r.status->code > 999 ||
                     !is_utf8text(r.status->comment))) {
        return bad("invalid Status header");
    }
    if (r.byte_range && r.byte_range->start == 0) return bad("Byte-Range start is 1-based");
    if (auto s = check_headers(r.extension_headers); !s) return s;
    if (auto s = check_headers(r.mime_headers); !s) return s;
    for (const auto& h : r.mime_headers) {
        if (!is_mime_header(h.name)) return bad(h.name + " is not a MIME header");
    }
    if (!r.content_type) {
        // MSRP-4: bodiless means no Content-Type and no other MIME header.
        if (!r.body.empty()) return bad("a body requires Content-Type (RFC 4975 §7.1)");
        if (!r.mime_headers.empty()) return bad("MIME headers on a bodiless request");
    } else if (!is_utf8text(*r.content_type) || r.content_type->empty()) {
        return bad("invalid Content-Type");
    }
    // MSRP-6: only "\r\n-------<tid>" + flag + CRLF terminates; other dashes are content.
    if (r.content_type) {
        const std::string framed = r.body + "\r\n";
        const std::string needle = "\r\n-------" + r.transaction_id;
        for (auto f = framed.find(needle); f != std::string::npos; f = framed.find(needle, f + 1)) {
            const auto k = f + needle.size();
            if (k + 3 <= framed.size() &&
                std::string_view("$+#").find(framed[k]) != std::string_view::npos &&
                framed.compare(k + 1, 2, "\r\n") == 0) {
                return bad(
                    "body contains the end-line; use another transaction id (RFC 4975 §7.1)");
            }
        }
    }
    std::string out;
    out.reserve(256 + r.body.size());
    out.append("MSRP ").append(r.transaction_id).append(" ").append(r.method).append(kCrlf);
    put(out, "To-Path", to_string(r.to_path));
    put(out, "From-Path", to_string(r.from_path));
    if (r.message_id) put(out, "Message-ID", *r.message_id);
    if (r.byte_range) put(out, "Byte-Range", to_string(*r.byte_range));
    if (r.success_report) put(out, "Success-Report", *r.success_report ? "yes" : "no");
    if (r.failure_report) put(out, "Failure-Report", failure_report_text(*r.failure_report));
    if (r.status) put(out, "Status", to_string(*r.status));
    for (const auto& h : r.extension_headers) put(out, h.name, h.value);
    for (const auto& h : r.mime_headers) put(out, h.name, h.value);
    if (r.content_type) {
        // MSRP-3/MSRP-5: Content-Type last, an empty line, the body, and a CRLF that is not part
        // of the body before the end-line.
        put(out, "Content-Type", *r.content_type);
        out.append(kCrlf).append(r.body).append(kCrlf);
    }
    out.append(end_line(r.transaction_id, r.end_flag));
    return out;
}

Result<std::string> serialize_response(const Response& r) {
    if (!is_ident(r.transaction_id)) return bad("invalid transaction id");
    if (r.code < 100 || r.code > 999) return bad("invalid status code");
    if (!is_utf8text(r.comment)) return bad("invalid comment");
    if (r.to_path.empty() || r.from_path.empty()) return bad("To-Path and From-Path are required");
    if (auto s = check_headers(r.extension_headers); !s) return s;
    for (const auto& h : r.extension_headers) {
        if (is_mime_header(h.name) || iequals(h.name, "Content-Type")) {
            return bad("a response has no body (RFC 4975 §7.2)");
        }
    }
    std::string out = "MSRP " + r.transaction_id + " " + std::to_string(r.code);
    if (!r.comment.empty()) out.append(" ").append(r.comment);
    out.append(kCrlf);
    put(out, "To-Path", to_string(r.to_path));
    put(out, "From-Path", to_string(r.from_path));
    for (const auto& h : r.extension_headers) put(out, h.name, h.value);
    out.append(end_line(r.transaction_id, EndFlag::Complete));
    return out;
}

template <class F> auto guarded(F&& f) noexcept -> Result<std::string> {
    try {
        return f();
    } catch (const std::bad_alloc&) {
        return Status(ErrorCode::Internal, "MSRP: out of memory");
    }
}

} // namespace

Method method_from_name(std::string_view name) noexcept {
    if (name == "SEND") return Method::Send;
    if (name == "REPORT") return Method::Report;
    if (name == "AUTH") return Method::Auth; // RFC 4976 §5
    return Method::Other;
}

std::string to_string(const ByteRange& range) {
    std::string out = std::to_string(range.start) + "-";
    out += range.end ? std::to_string(*range.end) : "*";
    out += "/";
    out += range.total ? std::to_string(*range.total) : "*";
    return out;
}

Result<ByteRange> parse_byte_range(std::string_view text) noexcept {
    const auto dash = text.find('-');
    const auto slash = text.find('/');
    if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash) {
        return bad("malformed Byte-Range");
    }
    ByteRange r;
    const auto start = parse_u64(text.substr(0, dash));
    if (!start || *start == 0) return bad("malformed Byte-Range start");
    r.start = *start;
    const auto end_text = text.substr(dash + 1, slash - dash - 1);
    if (end_text != "*") {
        r.end = parse_u64(end_text);
        if (!r.end) return bad("malformed Byte-Range end");
    }
    const auto total_text = text.substr(slash + 1);
    if (total_text != "*") {
        r.total = parse_u64(total_text);
        if (!r.total) return bad("malformed Byte-Range total");
    }
    // An empty range ends right before its start ("1-0/0", MSRP-11); anything lower is nonsense.
    if (r.end && *r.end + 1 < r.start) return bad("Byte-Range end before start");
    if (r.end && r.total && *r.end > *r.total) return bad("Byte-Range end beyond total");
    return r;
}

std::string to_string(const StatusHeader& status) {
    std::string out(3, '0');
    out[0] = static_cast<char>('0' + status.ns / 100 % 10);
    out[1] = static_cast<char>('0' + status.ns / 10 % 10);
    out[2] = static_cast<char>('0' + status.ns % 10);
    out += " " + std::to_string(status.code);
    if (!status.comment.empty()) out += " " + status.comment;
    return out;
}

Result<StatusHeader> parse_status_header(std::string_view text) noexcept {
    try {
        // namespace SP status-code [SP comment]
        if (text.size() < 7 || text[3] != ' ' || (text.size() > 7 && text[7] != ' ')) {
            return bad("malformed Status header");
        }
        const auto ns = parse_u64(text.substr(0, 3));
        const auto code = parse_u64(text.substr(4, 3));
        if (!ns || !code || *code < 100) return bad("malformed Status header");
        StatusHeader s;
        s.ns = static_cast<std::uint16_t>(*ns);
        s.code = static_cast<std::uint16_t>(*code);
        if (text.size() > 8) s.comment = std::string(text.substr(8));
        return s;
    } catch (const std::bad_alloc&) {
        return Status(ErrorCode::Internal, "MSRP: out of memory");
    }
}

Result<std::string> serialize(const Request& request) noexcept {
    return guarded([&] { return serialize_request(request); });
}

Result<std::string> serialize(const Response& response) noexcept {
    return guarded([&] { return serialize_response(response); });
}

Result<std::string> serialize(const Frame& frame) noexcept {
    if (const auto* r = std::get_if<Request>(&frame)) return serialize(*r);
    return serialize(std::get<Response>(frame));
}

Response make_response(const Request& request, std::uint16_t code) {
    Response resp;
    resp.transaction_id = request.transaction_id;
    resp.code = code;
    resp.comment = std::string(reason_phrase(code));
    if (!request.from_path.empty()) resp.to_path.push_back(request.from_path.front());
    if (!request.to_path.empty()) resp.from_path.push_back(request.to_path.back());
    return resp;
}

namespace detail {

bool is_mime_header(std::string_view name) noexcept {
    return name.size() > 8 && iequals(name.substr(0, 8), "Content-") &&
           !iequals(name, "Content-Type");
}

namespace {

template <class T> Status set_once(std::optional<T>& slot, T value, std::string_view name) {
    if (slot) return bad("repeated " + std::string(name) + " header");
    slot = std::move(value);
    return {};
}

Status apply_path(Path& path, std::string_view name, std::string_view value) {
    if (!path.empty()) return bad("repeated " + std::string(name) + " header");
    auto parsed = parse_path(value);
    if (!parsed) return bad(std::string(name) + ": " + parsed.status().message());
    path = std::move(parsed).value();
    return {};
}

} // namespace

Status apply_header(Request& r, std::string_view name, std::string_view value) {
    if (!valid_header_name(name)) return bad("invalid header name");
    if (!valid_header_value(value)) return bad("invalid header value");
    if (iequals(name, "To-Path")) return apply_path(r.to_path, "To-Path", value);
    if (iequals(name, "From-Path")) return apply_path(r.from_path, "From-Path", value);
    if (iequals(name, "Message-ID")) {
        if (!is_ident(value)) return bad("invalid Message-ID");
        return set_once(r.message_id, std::string(value), "Message-ID");
    }
    if (iequals(name, "Byte-Range")) {
        auto br = parse_byte_range(value);
        if (!br) return br.status();
        return set_once(r.byte_range, *br, "Byte-Range");
    }
    if (iequals(name, "Success-Report")) {
        if (value != "yes" && value != "no") return bad("invalid Success-Report");
        return set_once(r.success_report, value == "yes", "Success-Report");
    }
    if (iequals(name, "Failure-Report")) {
        FailureReport f = FailureReport::Yes;
        if (value == "no")
            f = FailureReport::No;
        else if (value == "partial")
            f = FailureReport::Partial;
        else if (value != "yes")
            return bad("invalid Failure-Report");
        return set_once(r.failure_report, f, "Failure-Report");
    }
    if (iequals(name, "Status")) {
        auto s = parse_status_header(value);
        if (!s) return s.status();
        return set_once(r.status, *s, "Status");
    }
    if (iequals(name, "Content-Type")) {
        if (value.empty()) return bad("empty Content-Type");
        return set_once(r.content_type, std::string(value), "Content-Type");
    }
    // Order is enforced when sending (MSRP-3); on receipt we are liberal and just classify.
    if (is_mime_header(name)) {
        r.mime_headers.push_back({std::string(name), std::string(value)});
    } else {
        r.extension_headers.push_back({std::string(name), std::string(value)});
    }
    return {};
}

Status apply_header(Response& r, std::string_view name, std::string_view value) {
    if (!valid_header_name(name)) return bad("invalid header name");
    if (!valid_header_value(value)) return bad("invalid header value");
    if (iequals(name, "To-Path")) return apply_path(r.to_path, "To-Path", value);
    if (iequals(name, "From-Path")) return apply_path(r.from_path, "From-Path", value);
    if (iequals(name, "Content-Type") || is_mime_header(name)) {
        return bad("a response has no body (RFC 4975 §7.2)");
    }
    r.extension_headers.push_back({std::string(name), std::string(value)});
    return {};
}

} // namespace detail

} // namespace stox::msrp
