// SPDX-License-Identifier: Apache-2.0
// Text helpers shared by both directions: UTF-8 validation and decoding, the XML 1.0 Char
// production, charset conversion, hex, ASCII case handling. Pure functions, no allocation
// beyond their results; nothing throws except std::bad_alloc.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "stox/sdk/text.hpp"

namespace stox::plugins::im {

/// Decodes the UTF-8 sequence at s[i] into cp and advances i. Rejects overlong forms,
/// surrogates and values above U+10FFFF (RFC 3629). On failure i is unchanged.
bool next_code_point(std::string_view s, std::size_t& i, char32_t& cp) noexcept;
bool is_valid_utf8(std::string_view s) noexcept;
using sdk::append_utf8; // stox/sdk/text.hpp

/// XML 1.0 §2.2 Char: TAB, LF, CR, U+0020-U+D7FF, U+E000-U+FFFD, U+10000-U+10FFFF.
constexpr bool is_xml_char(char32_t cp) noexcept {
    return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
           (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

/// Removes every code point that is not an XML 1.0 Char from valid UTF-8 text; returns how many
/// were removed. Precondition: is_valid_utf8(text).
std::size_t strip_non_xml_chars(std::string& text);
/// Number of code points in valid UTF-8 text that are not XML 1.0 Chars.
std::size_t count_non_xml_chars(std::string_view text) noexcept;

/// ISO-8859-1 octets to UTF-8 (every octet is a code point, so this cannot fail).
std::string latin1_to_utf8(std::string_view latin1);

/// Lower-case hex of every octet ("é" -> "c3a9").
std::string hex_lower(std::string_view bytes);
/// Inverse of hex_lower; nullopt unless the input is an even number of lower-case hex digits.
std::optional<std::string> unhex_lower(std::string_view hex);

char ascii_lower(char c) noexcept;
std::string ascii_lower(std::string_view s);
inline bool iequals(std::string_view a, std::string_view b) noexcept {
    return sdk::ascii_iequals(a, b);
}
bool istarts_with(std::string_view s, std::string_view prefix) noexcept;
std::string_view trim(std::string_view s) noexcept;

/// Single-line header text (SIP TEXT-UTF8-TRIM): every run of CR/LF becomes one space, TAB
/// becomes a space, other control characters are dropped, the ends are trimmed.
std::string fold_to_header_text(std::string_view text);

} // namespace stox::plugins::im
