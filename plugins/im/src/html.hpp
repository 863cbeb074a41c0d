// SPDX-License-Identifier: Apache-2.0
// text/html -> XMPP (RFC 7572 §7, IM-17, A-35, TV-IM-11): a tolerant HTML tokenizer, a plain-text
// rendition for <body/> (XEP-0071 keeps the meaning in <body/>), and an allow-list sanitiser that
// produces XEP-0071 XHTML-IM content. No scripts, no event handlers, no unknown elements or
// attributes, no URLs other than the listed schemes, and style restricted to the XEP-0071 CSS
// subset. Input is UTF-8; the caller has already decoded the charset.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "stox/sdk/xml.hpp"

namespace stox::plugins::im {

inline constexpr std::string_view kXhtmlImNs = "http://jabber.org/protocol/xhtml-im";
inline constexpr std::string_view kXhtmlNs = "http://www.w3.org/1999/xhtml";

/// Deepest element nesting kept; deeper elements are unwrapped (their text is kept).
inline constexpr std::size_t kMaxHtmlDepth = 32;

struct HtmlRendition {
    std::string plain; ///< plain-text rendition, trimmed; never contains non-XML characters
    /// <html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='...xhtml'>...</body></html>
    /// when requested and something is left after sanitising.
    std::optional<stox::sdk::XmlElement> xhtml;
    std::size_t removed_elements = 0;   ///< elements dropped or unwrapped by the allow-list
    std::size_t removed_attributes = 0; ///< attributes dropped (events, bad URLs, CSS, ...)
    std::size_t removed_chars = 0;      ///< character references to non-XML characters
};

/// Renders `html` (UTF-8 with XML-legal characters). `want_xhtml` builds the XHTML-IM element.
/// `lang` (may be empty) goes on the XHTML body as xml:lang.
HtmlRendition render_html(std::string_view html, bool want_xhtml, std::string_view lang = {});

/// Decodes HTML character references (&amp; &#233; &#xE9; and the common named ones); unknown
/// or malformed references stay literal, references to non-XML characters are dropped and
/// counted in `removed`.
std::string decode_html_entities(std::string_view text, std::size_t& removed);

/// The URL if its scheme is allowed for the attribute (href/cite: http, https, mailto, xmpp,
/// sip, sips, im, tel; src: http, https), else nullopt. Relative URLs are refused (no base).
std::optional<std::string> sanitize_url(std::string_view url, bool image);
/// The declarations of a style attribute that XEP-0071 §8 recommends, with harmless values only
/// (no url(), expression(), comments, escapes); "" when nothing is left.
std::string sanitize_css(std::string_view style);

} // namespace stox::plugins::im
