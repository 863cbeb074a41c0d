// SPDX-License-Identifier: Apache-2.0
// Parses ONE complete stanza (as cut by StreamFramer) into sdk::XmlElement with Xerces-C++ SAX2.
// The stanza is wrapped in a synthetic root that redeclares the stream header's namespaces, so
// its default namespace (jabber:component:accept) and the stream's prefixes resolve as they did
// on the wire (peers.md §3c: 3.9 µs/stanza, against 8.7 µs for DOM).
// Hardened per peers.md G13: no DTD, comments, PIs or external entities (RFC 6120 §11.1).
// Thread context: one parser per connection, used from one thread at a time.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stox/sdk/xml.hpp"

namespace stox::core::xmpp {

/// Process-wide Xerces initialization, reference-counted: the first guard calls
/// XMLPlatformUtils::Initialize, the last one Terminate. Safe to create several (main() holds
/// one for the life of the process, so parsers do not re-initialize Xerces each time).
/// Throws std::runtime_error if Xerces cannot be initialized.
class XercesGuard {
public:
    XercesGuard();
    ~XercesGuard();
    XercesGuard(const XercesGuard&) = delete;
    XercesGuard& operator=(const XercesGuard&) = delete;
};

struct ParseResult {
    sdk::XmlElement stanza; ///< valid when ok()
    /// RFC 6120 §4.9.3 stream error condition when the stanza was refused, empty when ok().
    std::string_view condition;
    std::string detail; ///< why, for logs
    [[nodiscard]] bool ok() const noexcept { return condition.empty(); }
};

class StanzaParser {
public:
    static constexpr std::size_t kDefaultMaxStanzaBytes = 512 * 1024;

    /// Namespaces in scope before set_stream_namespaces(): the XEP-0114 defaults.
    /// `max_stanza_bytes` sizes the entity-expansion limit: Xerces counts every predefined
    /// entity reference (&amp;) as an expansion, so a fixed limit of 100 (peers.md G13) would
    /// refuse a legitimate stanza with 101 ampersands. A reference is at least 4 bytes long, so
    /// max_stanza_bytes / 4 is never reached by them.
    explicit StanzaParser(std::size_t max_stanza_bytes = kDefaultMaxStanzaBytes);
    ~StanzaParser();
    StanzaParser(const StanzaParser&) = delete;
    StanzaParser& operator=(const StanzaParser&) = delete;

    /// The namespace declarations of the stream header, (prefix, URI), prefix "" = default
    /// namespace. Stanzas are parsed as children of an element that declares them.
    void set_stream_namespaces(const std::vector<std::pair<std::string, std::string>>& decls);

    /// Parses exactly one element. Elements get name() = local name, ns() = resolved URI;
    /// attributes keep their names as written ("xml:lang"), minus the default namespace
    /// declaration (which ns() carries); text is merged per run and mixed content keeps its order.
    /// Failure conditions: "not-well-formed", "restricted-xml" (DTD, comment, PI, external
    /// entity), "internal-server-error".
    [[nodiscard]] ParseResult parse(std::string_view stanza) noexcept;

private:
    struct Impl;
    XercesGuard guard_; // declared first: outlives the reader
    std::unique_ptr<Impl> impl_;
};

} // namespace stox::core::xmpp
