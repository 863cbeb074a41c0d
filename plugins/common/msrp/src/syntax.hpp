// SPDX-License-Identifier: Apache-2.0
/// \file syntax.hpp
/// Character classes and small lexical helpers of the RFC 4975 §9 grammar (internal).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stox::msrp::detail {

constexpr bool is_alpha(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
constexpr bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}
constexpr bool is_alnum(char c) noexcept {
    return is_alpha(c) || is_digit(c);
}
constexpr bool is_upalpha(char c) noexcept {
    return c >= 'A' && c <= 'Z';
}
constexpr bool is_hex(char c) noexcept {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
/// RFC 3986 unreserved.
constexpr bool is_unreserved(char c) noexcept {
    return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
/// §9 ident-char.
constexpr bool is_ident_char(char c) noexcept {
    return is_alnum(c) || c == '.' || c == '-' || c == '+' || c == '%' || c == '=';
}
/// §9 token.
constexpr bool is_token_char(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return u == 0x21 || (u >= 0x23 && u <= 0x27) || u == 0x2A || u == 0x2B || u == 0x2D ||
           u == 0x2E || (u >= 0x30 && u <= 0x39) || (u >= 0x41 && u <= 0x5A) ||
           (u >= 0x5E && u <= 0x7E);
}
constexpr char to_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept;
std::string lowercase(std::string_view s);
bool is_token(std::string_view s) noexcept;

/// Identifier for transaction ids and Message-IDs. §9 says ALPHANUM 3*31ident-char; we accept
/// 1..64 characters on receipt because real peers (and the spec's vectors, e.g. TV-04 `bx0`)
/// use shorter Message-IDs.
bool is_ident(std::string_view s) noexcept;

/// 1*DIGIT that fits in 64 bits.
std::optional<std::uint64_t> parse_u64(std::string_view s) noexcept;

/// §9 utf8text: HTAB / %x20-7E / UTF8-NONASCII (checked as well-formed UTF-8).
bool is_utf8text(std::string_view s) noexcept;

} // namespace stox::msrp::detail
