// SPDX-License-Identifier: Apache-2.0
// The MIME bodies S2X unwraps: multipart/alternative (RFC 2046 §5.1) and message/cpim
// (RFC 3862), plus the RFC 3994 isComposing document. Parsers of untrusted input: they never
// throw on malformed text, they return nullopt.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stox::plugins::im {

struct MimeHeader {
    std::string name;
    std::string value;
};

struct MimeEntity {
    std::vector<MimeHeader> headers;
    std::string body;
    /// First value of a header (name compared case-insensitively), or "".
    [[nodiscard]] std::string header(std::string_view name) const;
};

/// Most body parts of a multipart body looked at; more is malformed.
inline constexpr std::size_t kMaxMimeParts = 16;

/// Parses "Name: value" lines (CRLF or LF, folded lines unfolded) up to the empty line and
/// returns the offset just after it. A text with no empty line is all headers (offset = size).
std::optional<std::size_t> parse_header_block(std::string_view text, std::vector<MimeHeader>& out);

/// The body parts of a multipart body (RFC 2046 §5.1.1). nullopt when the boundary never
/// appears, the close delimiter is missing, or a part is malformed.
std::optional<std::vector<MimeEntity>> parse_multipart(std::string_view body,
                                                       std::string_view boundary);

/// A message/cpim body (RFC 3862 §2): message headers, then the encapsulated MIME entity.
struct CpimMessage {
    std::vector<MimeHeader> headers; ///< From, To, DateTime, Subject, NS, ... in order
    MimeEntity content;
    /// First value of a message header, or "".
    [[nodiscard]] std::string header(std::string_view name) const;
};
std::optional<CpimMessage> parse_cpim(std::string_view body);

/// A CPIM Subject value "[;lang=xx ]text" (RFC 3862 §3.3.4 / §4.6).
struct CpimSubject {
    std::string lang;
    std::string text;
};
CpimSubject parse_cpim_subject(std::string_view value);

/// RFC 3994 <isComposing><state>active|idle</state>...</isComposing>.
enum class ComposingState { Active, Idle };
std::optional<ComposingState> parse_iscomposing(std::string_view xml);

} // namespace stox::plugins::im
