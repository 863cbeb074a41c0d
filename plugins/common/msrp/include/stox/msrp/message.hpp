// SPDX-License-Identifier: Apache-2.0
/// \file message.hpp
/// MSRP requests and responses (RFC 4975 §7, §9) and their wire serialization.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <stox/msrp/uri.hpp>
#include <stox/sdk/status.hpp>

namespace stox::msrp {

enum class Method : std::uint8_t { Send, Report, Auth, Other };

/// Method for a method token ("SEND" -> Send; any other 1*UPALPHA -> Other).
Method method_from_name(std::string_view name) noexcept;

/// §7.1 end-line continuation flag.
enum class EndFlag : char {
    Complete = '$',  ///< last (or only) chunk
    Continues = '+', ///< more chunks follow
    Aborted = '#',   ///< the sender aborted the message
};

/// Byte-Range: start-end/total (§7.1.1), 1-based; nullopt end/total = "*".
struct ByteRange {
    std::uint64_t start = 1;
    std::optional<std::uint64_t> end;
    std::optional<std::uint64_t> total;
    bool operator==(const ByteRange&) const = default;
};
std::string to_string(const ByteRange& range);
sdk::Result<ByteRange> parse_byte_range(std::string_view text) noexcept;

/// Failure-Report values (§7.1.1); absent means Yes (MSRP-9).
enum class FailureReport : std::uint8_t { Yes, No, Partial };

/// Status header of a REPORT (§9): namespace, code, optional comment.
struct StatusHeader {
    std::uint16_t ns = 0; ///< "000" for RFC 4975 codes (MSRP-23)
    std::uint16_t code = 200;
    std::string comment;
    bool operator==(const StatusHeader&) const = default;
};
std::string to_string(const StatusHeader& status);
sdk::Result<StatusHeader> parse_status_header(std::string_view text) noexcept;

/// A header the typed fields do not model (Use-Path, Expires, WWW-Authenticate, extensions, and
/// the Other-Mime-headers such as Content-ID). The value is kept verbatim.
struct Header {
    std::string name;
    std::string value;
    bool operator==(const Header&) const = default;
};

struct Request {
    std::string transaction_id;
    std::string method = "SEND"; ///< the token as received; see method_from_name()
    Path to_path;
    Path from_path;
    std::optional<std::string> message_id;
    std::optional<ByteRange> byte_range;
    std::optional<bool> success_report; ///< absent means "no" (MSRP-9)
    std::optional<FailureReport> failure_report;
    std::optional<StatusHeader> status;
    std::vector<Header> extension_headers; ///< after the typed ones, in received order
    std::vector<Header> mime_headers;      ///< Content-* other than Content-Type (MSRP-3)
    /// Present iff the request has a body (MSRP-4: a bodiless request has no Content-Type; an
    /// empty body has Content-Type and zero octets).
    std::optional<std::string> content_type;
    std::string body; ///< must be empty when content_type is absent
    EndFlag end_flag = EndFlag::Complete;

    [[nodiscard]] Method method_kind() const noexcept { return method_from_name(method); }
    [[nodiscard]] bool bodiless() const noexcept { return !content_type.has_value(); }
    /// Effective values with the MSRP-9 defaults applied.
    [[nodiscard]] bool wants_success_report() const noexcept {
        return success_report.value_or(false);
    }
    [[nodiscard]] FailureReport effective_failure_report() const noexcept {
        return failure_report.value_or(FailureReport::Yes);
    }
    bool operator==(const Request&) const = default;
};

struct Response {
    std::string transaction_id;
    std::uint16_t code = 200;
    std::string comment; ///< empty = no comment on the wire
    Path to_path;
    Path from_path;
    std::vector<Header> extension_headers;
    bool operator==(const Response&) const = default;
};

using Frame = std::variant<Request, Response>;

/// Serializes a request in the §7.1/§9 order: To-Path, From-Path, Message-ID, Byte-Range,
/// Success-Report, Failure-Report, Status, extension headers, MIME headers, Content-Type, empty
/// line, body, CRLF, end-line. Fails (BadRequest) rather than emit something a peer would
/// misparse: invalid tid or method, empty paths, a body or MIME header without Content-Type
/// (MSRP-4), CR/LF in a header value, or a body that contains the end-line (MSRP-6: choose
/// another tid).
sdk::Result<std::string> serialize(const Request& request) noexcept;

/// Serializes a response (§7.2): the end-line flag is always `$` and there is never a body.
sdk::Result<std::string> serialize(const Response& response) noexcept;

sdk::Result<std::string> serialize(const Frame& frame) noexcept;

/// The response to a request (MSRP-17): same tid, To-Path = the leftmost From-Path URI of the
/// request, From-Path = the request's To-Path (our own URI), comment = the reason phrase.
Response make_response(const Request& request, std::uint16_t code);

} // namespace stox::msrp
