// SPDX-License-Identifier: Apache-2.0
// The opening <stream:stream ...> tag, parsed by hand: Xerces never sees it (the framer hands
// the parser single stanzas), but its namespace declarations are the stanzas' context.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stox/sdk/status.hpp"

namespace stox::core::xmpp {

inline constexpr std::string_view kStreamsNs = "http://etherx.jabber.org/streams";
/// RFC 6120 §4.9.2: namespace of stream error conditions and of their <text/>.
inline constexpr std::string_view kStreamErrorNs = "urn:ietf:params:xml:ns:xmpp-streams";

struct StreamHeader {
    std::string qname; ///< as written, e.g. "stream:stream"
    /// Attributes in document order, values decoded; namespace declarations included.
    std::vector<std::pair<std::string, std::string>> attributes;

    /// The attribute's value, or "" when absent.
    [[nodiscard]] std::string attr(std::string_view name) const;
    [[nodiscard]] bool has_attr(std::string_view name) const;
    /// (prefix, URI) of each namespace declaration; prefix "" is the default namespace.
    [[nodiscard]] std::vector<std::pair<std::string, std::string>> namespaces() const;
    /// URI bound to `prefix` ("" = default namespace) on this tag, or "" when not declared.
    [[nodiscard]] std::string namespace_uri(std::string_view prefix) const;
    [[nodiscard]] std::string_view prefix() const;
    [[nodiscard]] std::string_view local_name() const;
};

/// Parses a start tag (as returned by StreamFramer with FrameKind::StreamHeader). Checks XML
/// well-formedness of the tag only (names, quoting, entity references, duplicate attributes);
/// whether it is a valid XMPP stream header is the caller's decision.
[[nodiscard]] sdk::Result<StreamHeader> parse_stream_header(std::string_view tag);

/// Decodes the predefined entities and character references of an attribute value and applies
/// XML 1.0 §3.3.3 attribute-value normalization. Fails on '<', on other entity references
/// (RFC 6120 §11.1) and on references to characters XML does not allow.
[[nodiscard]] sdk::Result<std::string> decode_attribute_value(std::string_view raw);

} // namespace stox::core::xmpp
