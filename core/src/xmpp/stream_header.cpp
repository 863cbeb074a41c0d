// SPDX-License-Identifier: Apache-2.0
#include "xmpp/stream_header.hpp"

#include <charconv>
#include <cstdint>

#include "stox/sdk/text.hpp"

namespace stox::core::xmpp {
namespace {

using sdk::ErrorCode;

constexpr bool is_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Bytes that end a name; everything else (incl. UTF-8 >= 0x80) is accepted as a name byte.
constexpr bool ends_name(char c) noexcept {
    return is_space(c) || c == '=' || c == '>' || c == '/' || c == '<' || c == '\'' || c == '"' ||
           c == '&';
}

// XML 1.0 §2.2 Char production.
constexpr bool is_xml_char(std::uint32_t cp) noexcept {
    return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
           (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

sdk::Status bad(std::string message) {
    return sdk::Status(ErrorCode::BadRequest, std::move(message));
}

} // namespace

sdk::Result<std::string> decode_attribute_value(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
        char c = raw[i];
        if (c == '<') return bad("'<' in an attribute value");
        if (is_space(c)) {
            out += ' '; // XML 1.0 §3.3.3
            continue;
        }
        if (c != '&') {
            out += c;
            continue;
        }
        std::size_t semi = raw.find(';', i + 1);
        if (semi == std::string_view::npos) return bad("unterminated entity reference");
        std::string_view ref = raw.substr(i + 1, semi - i - 1);
        i = semi;
        if (ref == "amp")
            out += '&';
        else if (ref == "lt")
            out += '<';
        else if (ref == "gt")
            out += '>';
        else if (ref == "apos")
            out += '\'';
        else if (ref == "quot")
            out += '"';
        else if (ref.size() > 1 && ref[0] == '#') {
            bool hex = ref[1] == 'x';
            std::string_view digits = ref.substr(hex ? 2 : 1);
            std::uint32_t cp = 0;
            auto [end, ec] =
                std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
            if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
                !is_xml_char(cp))
                return bad("invalid character reference");
            sdk::append_utf8(out, cp);
        } else {
            // RFC 6120 §11.1: only the predefined entities are allowed.
            return bad("entity reference other than a predefined entity");
        }
    }
    return out;
}

sdk::Result<StreamHeader> parse_stream_header(std::string_view tag) {
    if (tag.size() < 3 || tag.front() != '<' || tag.back() != '>') return bad("not a start tag");
    std::string_view body = tag.substr(1, tag.size() - 2);
    if (!body.empty() && body.back() == '/') body.remove_suffix(1);
    StreamHeader h;
    std::size_t i = 0;
    while (i < body.size() && !ends_name(body[i])) ++i;
    if (i == 0) return bad("start tag without a name");
    h.qname.assign(body.substr(0, i));
    while (i < body.size()) {
        std::size_t ws = i;
        while (i < body.size() && is_space(body[i])) ++i;
        if (i == body.size()) break;
        if (i == ws) return bad("attributes must be separated by whitespace");
        std::size_t name_start = i;
        while (i < body.size() && !ends_name(body[i])) ++i;
        if (i == name_start) return bad("attribute without a name");
        std::string name(body.substr(name_start, i - name_start));
        while (i < body.size() && is_space(body[i])) ++i;
        if (i == body.size() || body[i] != '=') return bad("attribute '" + name + "' has no value");
        ++i;
        while (i < body.size() && is_space(body[i])) ++i;
        if (i == body.size() || (body[i] != '\'' && body[i] != '"'))
            return bad("attribute '" + name + "' is not quoted");
        char q = body[i++];
        std::size_t end = body.find(q, i);
        if (end == std::string_view::npos) return bad("unterminated attribute value");
        auto value = decode_attribute_value(body.substr(i, end - i));
        if (!value) return value.status();
        i = end + 1;
        if (h.has_attr(name)) return bad("duplicate attribute '" + name + "'");
        h.attributes.emplace_back(std::move(name), std::move(value).value());
    }
    return h;
}

std::string StreamHeader::attr(std::string_view name) const {
    for (const auto& a : attributes)
        if (a.first == name) return a.second;
    return {};
}

bool StreamHeader::has_attr(std::string_view name) const {
    for (const auto& a : attributes)
        if (a.first == name) return true;
    return false;
}

std::vector<std::pair<std::string, std::string>> StreamHeader::namespaces() const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [name, value] : attributes) {
        if (name == "xmlns")
            out.emplace_back("", value);
        else if (name.starts_with("xmlns:"))
            out.emplace_back(name.substr(6), value);
    }
    return out;
}

std::string StreamHeader::namespace_uri(std::string_view prefix) const {
    if (prefix.empty()) return attr("xmlns");
    std::string name = "xmlns:";
    name += prefix;
    return attr(name);
}

std::string_view StreamHeader::prefix() const {
    std::string_view q = qname;
    std::size_t colon = q.find(':');
    return colon == std::string_view::npos ? std::string_view{} : q.substr(0, colon);
}

std::string_view StreamHeader::local_name() const {
    std::string_view q = qname;
    std::size_t colon = q.find(':');
    return colon == std::string_view::npos ? q : q.substr(colon + 1);
}

} // namespace stox::core::xmpp
