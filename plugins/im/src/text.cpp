// SPDX-License-Identifier: Apache-2.0
#include "text.hpp"

#include <cstdint>

#include "stox/sdk/text.hpp"

namespace stox::plugins::im {

bool next_code_point(std::string_view s, std::size_t& i, char32_t& cp) noexcept {
    if (i >= s.size()) return false;
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
        cp = b0;
        ++i;
        return true;
    }
    std::size_t len = 0;
    char32_t min = 0;
    if ((b0 & 0xE0) == 0xC0) {
        len = 2;
        cp = b0 & 0x1F;
        min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
        len = 3;
        cp = b0 & 0x0F;
        min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
        len = 4;
        cp = b0 & 0x07;
        min = 0x10000;
    } else {
        return false;
    }
    if (s.size() - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
        const auto b = static_cast<unsigned char>(s[i + k]);
        if ((b & 0xC0) != 0x80) return false;
        cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
    return true;
}

bool is_valid_utf8(std::string_view s) noexcept {
    std::size_t i = 0;
    char32_t cp = 0;
    while (i < s.size())
        if (!next_code_point(s, i, cp)) return false;
    return true;
}

std::size_t strip_non_xml_chars(std::string& text) {
    if (count_non_xml_chars(text) == 0) return 0;
    std::string out;
    out.reserve(text.size());
    std::size_t removed = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t start = i;
        char32_t cp = 0;
        if (!next_code_point(text, i, cp)) { // precondition broken: drop the octet, never loop
            ++i;
            ++removed;
            continue;
        }
        if (is_xml_char(cp))
            out.append(text, start, i - start);
        else
            ++removed;
    }
    text = std::move(out);
    return removed;
}

std::size_t count_non_xml_chars(std::string_view text) noexcept {
    std::size_t n = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        char32_t cp = 0;
        if (!next_code_point(text, i, cp)) {
            ++i;
            ++n;
            continue;
        }
        if (!is_xml_char(cp)) ++n;
    }
    return n;
}

std::string latin1_to_utf8(std::string_view latin1) {
    std::string out;
    out.reserve(latin1.size());
    for (char c : latin1) append_utf8(out, static_cast<unsigned char>(c));
    return out;
}

std::string hex_lower(std::string_view bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (char c : bytes) {
        const auto b = static_cast<unsigned char>(c);
        out += kDigits[b >> 4];
        out += kDigits[b & 0x0F];
    }
    return out;
}

std::optional<std::string> unhex_lower(std::string_view hex) {
    if (hex.size() % 2 != 0) return std::nullopt;
    auto value = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    std::string out;
    out.reserve(hex.size() / 2);
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        const int hi = value(hex[i]);
        const int lo = value(hex[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out += static_cast<char>((hi << 4) | lo);
    }
    return out;
}

char ascii_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = ascii_lower(c);
    return out;
}

bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

std::string_view trim(std::string_view s) noexcept {
    auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && blank(s.back())) s.remove_suffix(1);
    return s;
}

std::string fold_to_header_text(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    bool in_break = false;
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t start = i;
        char32_t cp = 0;
        if (!next_code_point(text, i, cp)) { // invalid UTF-8 never reaches a SIP header
            ++i;
            continue;
        }
        if (cp == '\r' || cp == '\n') {
            if (!in_break) out += ' ';
            in_break = true;
            continue;
        }
        in_break = false;
        if (cp == '\t') {
            out += ' ';
        } else if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || !is_xml_char(cp)) {
            continue; // controls have no place in TEXT-UTF8 (RFC 3261 §25.1)
        } else {
            out.append(text, start, i - start);
        }
    }
    return std::string(trim(out));
}

} // namespace stox::plugins::im
