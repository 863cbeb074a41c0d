// SPDX-License-Identifier: Apache-2.0
#include "syntax.hpp"

namespace stox::msrp::detail {

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (to_lower(a[i]) != to_lower(b[i])) return false;
    }
    return true;
}

std::string lowercase(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = to_lower(c);
    return out;
}

bool is_token(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (char c : s) {
        if (!is_token_char(c)) return false;
    }
    return true;
}

bool is_ident(std::string_view s) noexcept {
    if (s.empty() || s.size() > 64 || !is_alnum(s.front())) return false;
    for (char c : s) {
        if (!is_ident_char(c)) return false;
    }
    return true;
}

std::optional<std::uint64_t> parse_u64(std::string_view s) noexcept {
    if (s.empty() || s.size() > 19) return std::nullopt; // 19 digits always fit in 64 bits
    std::uint64_t v = 0;
    for (char c : s) {
        if (!is_digit(c)) return std::nullopt;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return v;
}

bool is_utf8text(std::string_view s) noexcept {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto u = static_cast<unsigned char>(s[i]);
        if (u == 0x09 || (u >= 0x20 && u <= 0x7E)) {
            ++i;
            continue;
        }
        std::size_t len = 0;
        if (u >= 0xC2 && u <= 0xDF)
            len = 2;
        else if (u >= 0xE0 && u <= 0xEF)
            len = 3;
        else if (u >= 0xF0 && u <= 0xF4)
            len = 4;
        else
            return false;
        if (i + len > s.size()) return false;
        for (std::size_t k = 1; k < len; ++k) {
            const auto cu = static_cast<unsigned char>(s[i + k]);
            if ((cu & 0xC0) != 0x80) return false;
        }
        i += len;
    }
    return true;
}

} // namespace stox::msrp::detail
