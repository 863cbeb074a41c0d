// SPDX-License-Identifier: Apache-2.0
// Incremental framer for an XMPP stream: finds the stream header, then each complete top-level
// stanza, without parsing XML. It is quote-, CDATA- and depth-aware, so a stanza can be split
// at any byte (also inside a UTF-8 sequence: every delimiter it looks for is ASCII, and UTF-8
// continuation bytes are >= 0x80). Only complete stanzas go to the XML parser (see
// docs/decisions/xmpp-framing.md: Xerces cannot be driven progressively from Asio, peers.md G11).
//
// It enforces what needs no parser: a per-stanza size limit (policy-violation) and RFC 6120
// §11.1 restricted XML (no DOCTYPE, no comments, no processing instructions after the XML
// declaration: restricted-xml). Well-formedness inside a stanza is left to the parser.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace stox::core::xmpp {

/// RFC 6120 §4.9.3 stream error conditions the framer reports.
inline constexpr std::string_view kBadFormat = "bad-format";
inline constexpr std::string_view kNotWellFormed = "not-well-formed";
inline constexpr std::string_view kPolicyViolation = "policy-violation";
inline constexpr std::string_view kRestrictedXml = "restricted-xml";
inline constexpr std::string_view kUnsupportedEncoding = "unsupported-encoding";

enum class FrameKind : std::uint8_t {
    NeedMore,     ///< nothing complete is buffered; read more bytes
    StreamHeader, ///< text = the opening `<stream:stream ...>` tag (XML declaration excluded)
    Stanza,       ///< text = one complete top-level element, from '<' to its final '>'
    StreamEnd,    ///< the peer closed the stream (`</stream:stream>` or a self-closed header)
    Error,        ///< see error_condition(); the framer stays failed until reset()
};

struct Frame {
    FrameKind kind = FrameKind::NeedMore;
    /// Points into the framer's buffer: valid until the next prepare(), feed() or reset().
    std::string_view text;
};

class StreamFramer {
public:
    /// `max_stanza_bytes`: the largest stanza (and stream header) accepted, in bytes.
    explicit StreamFramer(std::size_t max_stanza_bytes);
    StreamFramer(const StreamFramer&) = delete;
    StreamFramer& operator=(const StreamFramer&) = delete;

    /// Zero-copy input: returns writable space for up to `n` bytes (read into it, then commit()).
    /// Drops consumed bytes first, which invalidates views returned by next().
    [[nodiscard]] std::span<char> prepare(std::size_t n);
    /// Makes `n` bytes written into the span from prepare() available to next().
    void commit(std::size_t n) noexcept;
    /// Copying input: prepare + memcpy + commit.
    void feed(std::string_view bytes);

    /// Scans newly committed bytes and returns the next complete unit, or NeedMore. Each byte is
    /// scanned once, whatever the read boundaries were.
    [[nodiscard]] Frame next();

    /// Condition of the last Error ("not-well-formed", "restricted-xml", ...), empty otherwise.
    [[nodiscard]] std::string_view error_condition() const noexcept { return error_condition_; }
    /// Human-readable reason of the last Error, for logs.
    [[nodiscard]] const std::string& error_detail() const noexcept { return error_detail_; }
    /// Bytes held that do not belong to a returned frame yet.
    [[nodiscard]] std::size_t pending_bytes() const noexcept { return len_ - consumed_; }
    [[nodiscard]] std::size_t max_stanza_bytes() const noexcept { return max_; }
    /// Back to the initial state (a new stream), keeping the allocated buffer.
    void reset() noexcept;

private:
    enum class State : std::uint8_t {
        Prolog,    // before the stream header: XML declaration, whitespace
        XmlDecl,   // inside <?xml ... ?>
        TopLevel,  // inside the stream, between stanzas: whitespace only
        Content,   // inside a stanza, character data
        LtSeen,    // just after '<'
        StartTag,  // inside a start tag, outside quotes
        Quoted,    // inside an attribute value
        EndTag,    // inside an end tag
        Bang,      // just after "<!"
        CdataOpen, // matching "<![CDATA["
        Cdata,     // inside a CDATA section
        Closed,    // after the stream end
        Failed,
    };

    Frame fail(std::string_view condition, std::string detail);
    Frame finish_start_tag(std::size_t gt);
    Frame finish_end_tag(std::size_t gt);
    Frame emit_stanza(std::size_t end);
    [[nodiscard]] bool header_done() const noexcept { return !header_qname_.empty(); }

    std::size_t max_;
    std::unique_ptr<char[]> buf_;
    std::size_t cap_ = 0;
    std::size_t len_ = 0;      // bytes committed
    std::size_t consumed_ = 0; // bytes belonging to returned frames (or skipped whitespace)
    std::size_t pos_ = 0;      // next byte to scan
    std::size_t tag_start_ = 0;
    std::size_t stanza_start_ = 0;
    std::size_t depth_ = 0; // open elements inside the stream element (a stanza root is depth 1)
    State state_ = State::Prolog;
    char quote_ = 0;
    bool slash_ = false;       // StartTag: the last byte outside quotes was '/'
    bool seen_bytes_ = false;  // Prolog: a byte was seen (the XML declaration must be first)
    std::uint8_t match_ = 0;   // CdataOpen: bytes of "[CDATA[" matched; Cdata: ']' run
    bool pending_end_ = false; // a self-closed header owes a StreamEnd frame
    std::string header_qname_; // "stream:stream", set once the header is complete
    std::string_view error_condition_;
    std::string error_detail_;
};

} // namespace stox::core::xmpp
