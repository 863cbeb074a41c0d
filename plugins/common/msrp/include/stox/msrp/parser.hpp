// SPDX-License-Identifier: Apache-2.0
/// \file parser.hpp
/// Incremental, push-style MSRP frame parser (RFC 4975 §7, §9) over a TCP byte stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <stox/msrp/message.hpp>

namespace stox::msrp {

struct ParserLimits {
    std::size_t max_header_bytes = 16 * 1024;  ///< start line + headers (+ the empty line)
    std::size_t max_chunk_bytes = 1024 * 1024; ///< body of one request
};

/// A frame that could not be accepted. `code` is the response to send (400 malformed, 413 too
/// large) when `transaction_id` is known and the frame was a request. An unknown method is NOT an
/// error: the frame is returned and the session answers 501.
struct ParseError {
    std::uint16_t code = 400;
    std::string reason;
    std::string transaction_id;     ///< empty when the start line itself was unreadable
    std::optional<Request> request; ///< the request's headers when they could be read (for To-Path)
    bool is_response = false;       ///< never answer a response
    /// The stream cannot be resynchronised: close the connection. When false the parser has
    /// skipped the offending frame and continues with the next one.
    bool close_connection = true;
    bool operator==(const ParseError&) const = default;
};

using ParseEvent = std::variant<Request, Response, ParseError>;

class Parser {
public:
    explicit Parser(ParserLimits limits = {}) noexcept : limits_(limits) {}

    /// Appends bytes and returns every frame (or error) completed by them, in stream order.
    /// After an error with close_connection, the parser is failed and further input is ignored
    /// (feed() returns nothing). Never throws.
    std::vector<ParseEvent> feed(std::string_view bytes) noexcept;

    [[nodiscard]] bool failed() const noexcept { return failed_; }
    /// Bytes buffered for the frame in progress.
    [[nodiscard]] std::size_t buffered() const noexcept { return buffer_.size(); }
    /// Forgets all state (e.g. for a new connection).
    void reset() noexcept;

private:
    enum class State : std::uint8_t { StartLine, Headers, Body, Discard };

    /// Tries to make progress; returns false when more input is needed.
    bool step(std::vector<ParseEvent>& out);
    bool step_start_line(std::vector<ParseEvent>& out);
    bool step_headers(std::vector<ParseEvent>& out);
    bool step_body(std::vector<ParseEvent>& out);
    bool step_discard();
    void finish_frame(std::vector<ParseEvent>& out, std::size_t consumed);
    void fail(std::vector<ParseEvent>& out, std::uint16_t code, std::string reason);
    void start_discard(std::vector<ParseEvent>& out, std::uint16_t code, std::string reason);

    ParserLimits limits_;
    std::string buffer_;
    State state_ = State::StartLine;
    bool failed_ = false;
    std::size_t pos_ = 0;        ///< scan position inside buffer_ for the current state
    std::size_t body_start_ = 0; ///< offset of the body in buffer_ (State::Body)
    bool is_request_ = true;
    bool has_body_ = false;
    std::string tid_;
    Request request_;
    Response response_;
    std::optional<ParseError> pending_; ///< a header error reported once the frame ends
};

} // namespace stox::msrp
