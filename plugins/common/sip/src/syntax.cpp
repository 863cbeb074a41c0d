// SPDX-License-Identifier: Apache-2.0
#include "stox/sip/syntax.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <random>

#include "stox/sdk/text.hpp"

namespace stox::sip {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

/// Splits "a;b=c;d" into trimmed parts.
std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= s.size(); ++i)
        if (i == s.size() || s[i] == sep) {
            out.push_back(trim(s.substr(start, i - start)));
            start = i + 1;
        }
    return out;
}

/// Comma-separated header values, ignoring commas inside <...> and "...".
std::vector<std::string_view> split_header_list(std::string_view s) {
    std::vector<std::string_view> out;
    bool in_angle = false, in_quote = false;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= s.size(); ++i) {
        if (i < s.size()) {
            char c = s[i];
            if (c == '"' && !in_angle) in_quote = !in_quote;
            if (!in_quote && c == '<') in_angle = true;
            if (!in_quote && c == '>') in_angle = false;
            if (c != ',' || in_angle || in_quote) continue;
        }
        auto v = trim(s.substr(start, i - start));
        if (!v.empty()) out.push_back(v);
        start = i + 1;
    }
    return out;
}

std::string param_value(std::string_view params, std::string_view name) {
    for (auto p : split(params, ';')) {
        auto eq = p.find('=');
        auto key = trim(p.substr(0, eq));
        if (sdk::ascii_iequals(key, name))
            return eq == std::string_view::npos ? std::string()
                                                : std::string(trim(p.substr(eq + 1)));
    }
    return {};
}

std::optional<NameAddr> parse_name_addr(std::string_view value) {
    value = trim(value);
    if (value.empty()) return std::nullopt;
    NameAddr out;
    std::string_view params;
    auto lt = value.find('<');
    if (lt != std::string_view::npos) {
        auto gt = value.find('>', lt);
        if (gt == std::string_view::npos) return std::nullopt;
        out.uri = std::string(trim(value.substr(lt + 1, gt - lt - 1)));
        params = value.substr(gt + 1);
    } else {
        // addr-spec form: header parameters follow the first ';' (RFC 3261 §20.10).
        auto semi = value.find(';');
        out.uri = std::string(trim(value.substr(0, semi)));
        if (semi != std::string_view::npos) params = value.substr(semi);
    }
    if (out.uri.find(':') == std::string::npos) return std::nullopt;
    out.tag = param_value(params, "tag");
    return out;
}

std::string format_name_addr(std::string_view uri, std::string_view tag) {
    std::string out = "<" + std::string(uri) + ">";
    if (!tag.empty()) out += ";tag=" + std::string(tag);
    return out;
}

std::string aor_of(std::string_view uri) {
    uri = trim(uri);
    auto colon = uri.find(':');
    if (colon == std::string_view::npos) return {};
    std::string scheme = lower(uri.substr(0, colon));
    if (scheme != "sip" && scheme != "sips") return {};
    std::string_view rest = uri.substr(colon + 1);
    rest = rest.substr(0, rest.find_first_of(";?"));
    auto at = rest.rfind('@');
    if (at == std::string_view::npos || at == 0) return {};
    std::string_view host = rest.substr(at + 1);
    if (!host.empty() && host.front() == '[') {
        host = host.substr(0, host.find(']') + 1);
    } else {
        host = host.substr(0, host.find(':'));
    }
    if (host.empty()) return {};
    return scheme + ":" + std::string(rest.substr(0, at)) + "@" + lower(host);
}

std::optional<std::uint32_t> parse_delta_seconds(std::string_view value) {
    value = trim(value);
    if (value.empty() || value.size() > 10) return std::nullopt;
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc() || p != value.data() + value.size() || v > 0xffffffffULL)
        return std::nullopt;
    return static_cast<std::uint32_t>(v);
}

std::optional<std::uint32_t> cseq_number(std::string_view value) {
    value = trim(value);
    return parse_delta_seconds(value.substr(0, value.find_first_of(" \t")));
}

std::string uri_param(std::string_view uri, std::string_view name) {
    uri = uri.substr(0, uri.find('?'));
    auto semi = uri.find(';');
    if (semi == std::string_view::npos) return {};
    return param_value(uri.substr(semi + 1), name);
}

std::vector<std::string> route_set_of(const sdk::SipMessage& message, bool reverse) {
    std::vector<std::string> out;
    for (const auto& v : message.header_values("Record-Route"))
        for (auto item : split_header_list(v)) out.emplace_back(item);
    if (reverse) std::reverse(out.begin(), out.end());
    return out;
}

std::string random_token(std::size_t n) {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::string out(n, '0');
    for (char& c : out) c = alphabet[rng() % (sizeof alphabet - 1)];
    return out;
}

} // namespace stox::sip
