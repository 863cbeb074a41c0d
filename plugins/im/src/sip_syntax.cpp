// SPDX-License-Identifier: Apache-2.0
#include "sip_syntax.hpp"

#include "text.hpp"

namespace stox::plugins::im {

namespace {

bool is_alnum(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool is_alpha(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_word(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (char c : s)
        if (!is_word_char(c)) return false;
    return true;
}

} // namespace

bool is_token_char(char c) noexcept {
    if (is_alnum(c)) return true;
    switch (c) {
    case '-':
    case '.':
    case '!':
    case '%':
    case '*':
    case '_':
    case '+':
    case '`':
    case '\'':
    case '~': return true;
    default: return false;
    }
}

bool is_word_char(char c) noexcept {
    if (is_token_char(c)) return true;
    switch (c) {
    case '(':
    case ')':
    case '<':
    case '>':
    case ':':
    case '\\':
    case '"':
    case '/':
    case '[':
    case ']':
    case '?':
    case '{':
    case '}': return true;
    default: return false;
    }
}

bool is_call_id(std::string_view s) noexcept {
    const std::size_t at = s.find('@');
    if (at == std::string_view::npos) return is_word(s);
    return is_word(s.substr(0, at)) && is_word(s.substr(at + 1));
}

std::string_view name_addr_uri(std::string_view value) noexcept {
    value = trim(value);
    bool quoted = false;
    for (std::size_t i = 0; i < value.size(); ++i) {
        const char c = value[i];
        if (quoted) {
            if (c == '\\')
                ++i; // quoted-pair
            else if (c == '"')
                quoted = false;
            continue;
        }
        if (c == '"') {
            quoted = true;
        } else if (c == '<') {
            const std::size_t end = value.find('>', i + 1);
            if (end == std::string_view::npos) return {};
            return trim(value.substr(i + 1, end - i - 1));
        }
    }
    if (quoted) return {};
    // addr-spec form: parameters after ';' are header parameters (tag=...).
    return trim(value.substr(0, value.find(';')));
}

std::string_view first_list_element(std::string_view value) noexcept {
    bool quoted = false;
    bool angle = false;
    for (std::size_t i = 0; i < value.size(); ++i) {
        const char c = value[i];
        if (quoted) {
            if (c == '\\')
                ++i;
            else if (c == '"')
                quoted = false;
        } else if (c == '"') {
            quoted = true;
        } else if (c == '<') {
            angle = true;
        } else if (c == '>') {
            angle = false;
        } else if (c == ',' && !angle) {
            return trim(value.substr(0, i));
        }
    }
    return trim(value);
}

std::optional<std::string> MediaType::param(std::string_view name) const {
    for (const auto& [k, v] : params)
        if (iequals(k, name)) return v;
    return std::nullopt;
}

std::optional<MediaType> parse_media_type(std::string_view value) {
    value = trim(value);
    std::size_t i = 0;
    auto read_token = [&]() -> std::string {
        const std::size_t start = i;
        while (i < value.size() && is_token_char(value[i])) ++i;
        return ascii_lower(value.substr(start, i - start));
    };
    auto skip_ws = [&] {
        while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
    };
    MediaType mt;
    mt.type = read_token();
    skip_ws();
    if (mt.type.empty() || i >= value.size() || value[i] != '/') return std::nullopt;
    ++i;
    skip_ws();
    mt.subtype = read_token();
    if (mt.subtype.empty()) return std::nullopt;
    skip_ws();
    while (i < value.size()) {
        if (value[i] != ';') return std::nullopt;
        ++i;
        skip_ws();
        std::string name = read_token();
        skip_ws();
        if (name.empty() || i >= value.size() || value[i] != '=') return std::nullopt;
        ++i;
        skip_ws();
        std::string val;
        if (i < value.size() && value[i] == '"') {
            ++i;
            bool closed = false;
            while (i < value.size()) {
                const char c = value[i++];
                if (c == '\\' && i < value.size()) {
                    val += value[i++];
                } else if (c == '"') {
                    closed = true;
                    break;
                } else {
                    val += c;
                }
            }
            if (!closed) return std::nullopt;
        } else {
            const std::size_t start = i;
            while (i < value.size() && is_token_char(value[i])) ++i;
            val = std::string(value.substr(start, i - start));
            if (val.empty()) return std::nullopt;
        }
        mt.params.emplace_back(std::move(name), std::move(val));
        skip_ws();
    }
    return mt;
}

std::optional<int> parse_max_forwards(std::string_view value) noexcept {
    value = trim(value);
    if (value.empty()) return std::nullopt;
    int n = 0;
    for (char c : value) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + (c - '0');
        if (n > 255) n = 255;
    }
    return n;
}

bool is_language_tag(std::string_view tag) noexcept {
    std::size_t i = 0;
    std::size_t n = 0;
    while (i < tag.size() && is_alpha(tag[i])) {
        ++i;
        ++n;
    }
    if (n < 1 || n > 8) return false;
    while (i < tag.size()) {
        if (tag[i] != '-') return false;
        ++i;
        n = 0;
        while (i < tag.size() && is_alnum(tag[i])) {
            ++i;
            ++n;
        }
        if (n < 1 || n > 8) return false;
    }
    return true;
}

std::string first_language_tag(std::string_view content_language) {
    const std::string_view first = first_list_element(content_language);
    if (!is_language_tag(first)) return {};
    return std::string(first);
}

} // namespace stox::plugins::im
