// SPDX-License-Identifier: Apache-2.0
#include "content.hpp"

#include <cctype>
#include <charconv>

#include "stox/sdk/text.hpp"

namespace stox::plugins::chat {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0)
        s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0)
        s.remove_suffix(1);
    return s;
}

/// Text between <name ...> and </name> (any prefix-free form), or nullopt.
std::optional<std::string_view> element_text(std::string_view doc, std::string_view name) {
    const std::string open = "<" + std::string(name);
    std::size_t p = 0;
    while ((p = doc.find(open, p)) != std::string_view::npos) {
        const std::size_t after = p + open.size();
        if (after < doc.size() && (doc[after] == '>' || doc[after] == ' ')) break;
        p = after;
    }
    if (p == std::string_view::npos) return std::nullopt;
    const std::size_t gt = doc.find('>', p);
    if (gt == std::string_view::npos) return std::nullopt;
    const std::size_t close = doc.find("</" + std::string(name), gt);
    if (close == std::string_view::npos) return std::nullopt;
    return trim(doc.substr(gt + 1, close - gt - 1));
}

/// Splits "Name: value" header lines up to the first empty line; returns the rest.
std::string_view read_headers(std::string_view text,
                              std::vector<std::pair<std::string, std::string>>& headers) {
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        std::string_view line = text.substr(pos, nl - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        pos = nl + 1;
        if (line.empty()) return pos <= text.size() ? text.substr(pos) : std::string_view();
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        headers.emplace_back(lower(trim(line.substr(0, colon))),
                             std::string(trim(line.substr(colon + 1))));
    }
    return {};
}

} // namespace

std::string make_iscomposing(bool active, unsigned refresh_s) {
    // CRLF line ends: the byte counts of TV-16 (202) and TV-18 (138).
    std::string s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
                    "<isComposing xmlns=\"urn:ietf:params:xml:ns:im-iscomposing\">\r\n";
    if (active) {
        s += "<state>active</state>\r\n<contenttype>text/plain</contenttype>\r\n<refresh>" +
             std::to_string(refresh_s) + "</refresh>\r\n";
    } else {
        s += "<state>idle</state>\r\n";
    }
    s += "</isComposing>\r\n";
    return s;
}

std::optional<IsComposing> parse_iscomposing(std::string_view body) {
    if (body.find("isComposing") == std::string_view::npos) return std::nullopt;
    auto state = element_text(body, "state");
    if (!state) return std::nullopt;
    IsComposing out;
    out.active = lower(*state) == "active";
    if (auto r = element_text(body, "refresh")) {
        unsigned v = 0;
        auto [p, ec] = std::from_chars(r->data(), r->data() + r->size(), v);
        if (ec == std::errc() && p == r->data() + r->size() && v > 0) out.refresh = v;
    }
    return out;
}

std::optional<Cpim> parse_cpim(std::string_view body) {
    std::vector<std::pair<std::string, std::string>> outer;
    std::string_view rest = read_headers(body, outer);
    Cpim c;
    for (const auto& [k, v] : outer) {
        if (k == "datetime") c.date_time = v;
        // AMB-27: a Content-Type among the CPIM headers is the encapsulated one.
        if (k == "content-type") c.content_type = bare_type(v);
    }
    if (c.content_type.empty()) {
        std::vector<std::pair<std::string, std::string>> inner;
        rest = read_headers(rest, inner);
        for (const auto& [k, v] : inner) {
            if (k == "content-type") c.content_type = bare_type(v);
            if (k == "content-language") c.content_language = v;
        }
    }
    if (c.content_type.empty()) return std::nullopt;
    c.body = std::string(rest);
    return c;
}

std::string make_cpim(std::string_view from_uri, std::string_view to_uri, std::string_view type,
                      std::string_view body) {
    std::string s;
    s += "From: <" + std::string(from_uri) + ">\r\n";
    s += "To: <" + std::string(to_uri) + ">\r\n";
    s += "\r\n";
    s += "Content-Type: " + std::string(type) + "\r\n";
    s += "\r\n";
    s += body;
    return s;
}

std::string bare_type(std::string_view content_type) {
    return lower(trim(content_type.substr(0, content_type.find(';'))));
}

bool is_stanza_content_ns(std::string_view ns) noexcept {
    return ns.empty() || ns == sdk::kComponentNs || ns == "jabber:client" || ns == "jabber:server";
}

sdk::XmppError parse_stanza_error(const sdk::Stanza& stanza) {
    sdk::XmppError e;
    const sdk::XmlElement* err = nullptr;
    for (const auto& c : stanza.children())
        if (!c.is_text() && c.name() == "error" && is_stanza_content_ns(c.ns())) {
            err = &c;
            break;
        }
    if (err == nullptr) {
        e.condition = "undefined-condition";
        e.type = "cancel";
        return e;
    }
    e.type = err->attr("type");
    for (const auto& c : err->children()) {
        if (c.is_text() || c.ns() != sdk::kStanzaErrorNs) continue;
        if (c.name() == "text") {
            if (e.text.empty()) e.text = c.text();
        } else if (e.condition.empty()) {
            e.condition = c.name();
            e.address = c.text();
        }
    }
    if (e.condition.empty()) e.condition = "undefined-condition";
    return e;
}

sdk::Stanza make_error_reply(const sdk::Stanza& original, const sdk::XmppError& error) {
    sdk::Stanza reply = sdk::make_stanza(original.name());
    if (original.has_attr("to")) reply.set_attr("from", original.attr("to"));
    if (original.has_attr("from")) reply.set_attr("to", original.attr("from"));
    if (original.has_attr("id")) reply.set_attr("id", original.attr("id"));
    reply.set_attr("type", "error");
    auto& err = reply.add_child("error");
    err.set_attr("type", error.type.empty() ? std::string("cancel") : error.type);
    auto& cond = err.add_child(error.condition.empty() ? std::string("undefined-condition")
                                                       : error.condition,
                               std::string(sdk::kStanzaErrorNs));
    if (!error.address.empty()) cond.add_text(error.address);
    if (!error.text.empty())
        err.add_child("text", std::string(sdk::kStanzaErrorNs)).add_text(error.text);
    return reply;
}

} // namespace stox::plugins::chat
