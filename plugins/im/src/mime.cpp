// SPDX-License-Identifier: Apache-2.0
#include "mime.hpp"

#include "sip_syntax.hpp"
#include "text.hpp"

namespace stox::plugins::im {

namespace {

std::string find_header(const std::vector<MimeHeader>& headers, std::string_view name) {
    for (const auto& h : headers)
        if (iequals(h.name, name)) return h.value;
    return {};
}

/// One line without its terminator; `next` is set to the start of the following line.
std::string_view line_at(std::string_view text, std::size_t pos, std::size_t& next) {
    const std::size_t nl = text.find('\n', pos);
    const std::size_t end = nl == std::string_view::npos ? text.size() : nl;
    next = nl == std::string_view::npos ? text.size() : nl + 1;
    std::string_view line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

} // namespace

std::string MimeEntity::header(std::string_view name) const {
    return find_header(headers, name);
}

std::string CpimMessage::header(std::string_view name) const {
    return find_header(headers, name);
}

std::optional<std::size_t> parse_header_block(std::string_view text, std::vector<MimeHeader>& out) {
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t next = 0;
        const std::string_view line = line_at(text, pos, next);
        if (line.empty()) return next;
        if (line.front() == ' ' || line.front() == '\t') { // folded continuation
            if (out.empty()) return std::nullopt;
            out.back().value += ' ';
            out.back().value += trim(line);
        } else {
            const std::size_t colon = line.find(':');
            if (colon == std::string_view::npos || colon == 0) return std::nullopt;
            const std::string_view name = trim(line.substr(0, colon));
            for (char c : name)
                if (!is_token_char(c)) return std::nullopt;
            if (name.empty()) return std::nullopt;
            out.push_back({std::string(name), std::string(trim(line.substr(colon + 1)))});
        }
        pos = next;
    }
    return text.size();
}

std::optional<std::vector<MimeEntity>> parse_multipart(std::string_view body,
                                                       std::string_view boundary) {
    if (boundary.empty() || boundary.size() > 70) return std::nullopt;
    const std::string delim = "--" + std::string(boundary);
    // A delimiter counts only at the start of a line (RFC 2046 §5.1.1).
    auto find_delim = [&](std::size_t from) -> std::size_t {
        for (std::size_t p = body.find(delim, from); p != std::string_view::npos;
             p = body.find(delim, p + 1))
            if (p == 0 || body[p - 1] == '\n') return p;
        return std::string_view::npos;
    };
    std::size_t d = find_delim(0);
    if (d == std::string_view::npos) return std::nullopt;
    std::vector<MimeEntity> parts;
    while (true) {
        std::size_t after = d + delim.size();
        if (body.substr(after, 2) == "--") return parts; // close delimiter
        while (after < body.size() && (body[after] == ' ' || body[after] == '\t')) ++after;
        if (body.substr(after, 2) == "\r\n")
            after += 2;
        else if (body.substr(after, 1) == "\n")
            after += 1;
        else
            return std::nullopt;
        const std::size_t next = find_delim(after);
        if (next == std::string_view::npos) return std::nullopt; // no close delimiter
        std::size_t end = next; // the line break before a delimiter belongs to it
        if (end > after && body[end - 1] == '\n') --end;
        if (end > after && body[end - 1] == '\r') --end;
        if (parts.size() == kMaxMimeParts) return std::nullopt;
        const std::string_view raw = body.substr(after, end - after);
        MimeEntity part;
        auto body_at = parse_header_block(raw, part.headers);
        if (!body_at) return std::nullopt;
        part.body = std::string(raw.substr(*body_at));
        parts.push_back(std::move(part));
        d = next;
    }
}

std::optional<CpimMessage> parse_cpim(std::string_view body) {
    CpimMessage m;
    auto content_at = parse_header_block(body, m.headers);
    if (!content_at || *content_at >= body.size()) return std::nullopt;
    const std::string_view entity = body.substr(*content_at);
    auto body_at = parse_header_block(entity, m.content.headers);
    if (!body_at) return std::nullopt;
    m.content.body = std::string(entity.substr(*body_at));
    return m;
}

CpimSubject parse_cpim_subject(std::string_view value) {
    CpimSubject s;
    value = trim(value);
    while (!value.empty() && value.front() == ';') {
        const std::size_t sp = value.find(' ');
        const std::string_view param =
            value.substr(1, sp == std::string_view::npos ? value.npos : sp - 1);
        if (istarts_with(param, "lang=")) s.lang = std::string(param.substr(5));
        value = sp == std::string_view::npos ? std::string_view{} : trim(value.substr(sp));
    }
    s.text = std::string(value);
    return s;
}

std::optional<ComposingState> parse_iscomposing(std::string_view xml) {
    // The document is tiny and fixed (RFC 3994 §4); read the local names <isComposing> and
    // <state> whatever their prefix, and nothing else.
    auto find_element = [&](std::string_view local, std::size_t from) -> std::size_t {
        for (std::size_t p = xml.find('<', from); p != std::string_view::npos;
             p = xml.find('<', p + 1)) {
            std::size_t q = p + 1;
            std::size_t name_start = q;
            while (q < xml.size() && xml[q] != '>' && xml[q] != ' ' && xml[q] != '/' &&
                   xml[q] != '\t' && xml[q] != '\r' && xml[q] != '\n') {
                if (xml[q] == ':') name_start = q + 1;
                ++q;
            }
            if (xml.substr(name_start, q - name_start) == local) {
                const std::size_t gt = xml.find('>', q);
                return gt == std::string_view::npos ? gt : gt + 1;
            }
        }
        return std::string_view::npos;
    };
    const std::size_t root = find_element("isComposing", 0);
    if (root == std::string_view::npos) return std::nullopt;
    const std::size_t state = find_element("state", root);
    if (state == std::string_view::npos) return std::nullopt;
    const std::size_t end = xml.find('<', state);
    if (end == std::string_view::npos) return std::nullopt;
    const std::string_view value = trim(xml.substr(state, end - state));
    if (value == "active") return ComposingState::Active;
    if (value == "idle") return ComposingState::Idle;
    return std::nullopt;
}

} // namespace stox::plugins::im
