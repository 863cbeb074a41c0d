// SPDX-License-Identifier: Apache-2.0
#include "html.hpp"

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

#include "sip_syntax.hpp"
#include "text.hpp"

namespace stox::plugins::im {

namespace {

using stox::sdk::XmlElement;

struct Node {
    bool is_text = false;
    std::string name;                                       // lower-case element name
    std::vector<std::pair<std::string, std::string>> attrs; // lower-case names, decoded values
    std::string text;
    std::vector<Node> children;

    [[nodiscard]] const std::string* attr(std::string_view n) const {
        for (const auto& a : attrs)
            if (a.first == n) return &a.second;
        return nullptr;
    }
};

template <std::size_t N>
bool one_of(std::string_view name, const std::array<std::string_view, N>& list) {
    return std::find(list.begin(), list.end(), name) != list.end();
}

// Elements whose content is skipped by the tokenizer (raw text in HTML, or never meaningful).
constexpr std::array<std::string_view, 10> kRawTextDropped = {
    "script",   "style",    "xmp",   "iframe",   "noembed",
    "noframes", "noscript", "title", "textarea", "plaintext"};
// Elements dropped with everything inside them.
constexpr std::array<std::string_view, 18> kDroppedWithContent = {
    "head",  "frame", "frameset", "object", "embed", "applet", "template", "svg",   "math",
    "audio", "video", "canvas",   "link",   "meta",  "base",   "select",   "param", "source"};
constexpr std::array<std::string_view, 14> kVoid = {"area",  "base",   "br",    "col",  "embed",
                                                    "hr",    "img",    "input", "link", "meta",
                                                    "param", "source", "track", "wbr"};
// Separated from their surroundings by an empty line in the plain rendition.
constexpr std::array<std::string_view, 14> kParagraphBlocks = {
    "p", "blockquote", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "table", "dl", "hr"};
// Put on a line of their own in the plain rendition.
constexpr std::array<std::string_view, 15> kLineBlocks = {
    "div",    "li",      "tr",  "dt",    "dd",   "section", "article", "header",
    "footer", "address", "nav", "aside", "main", "figure",  "form"};
// Elements whose start closes an open <p> (HTML "p in button scope", simplified to the top).
constexpr std::array<std::string_view, 22> kClosesP = {
    "p",       "div",     "ul",     "ol",     "dl",  "blockquote", "h1", "h2",
    "h3",      "h4",      "h5",     "h6",     "pre", "table",      "hr", "address",
    "section", "article", "header", "footer", "nav", "form"};

// XEP-0071 §7 recommended profile (plus code and blockquote/@cite, XHTML 1.0 text module).
constexpr std::array<std::string_view, 13> kAllowed = {
    "a", "blockquote", "br", "cite", "code", "em", "img", "li", "ol", "p", "span", "strong", "ul"};
// XEP-0071 §7: elements that may carry style.
constexpr std::array<std::string_view, 10> kStyled = {"a",  "blockquote", "cite", "img", "li",
                                                      "ol", "p",          "span", "ul",  "body"};

struct Mapping {
    std::string_view name; ///< "" = unwrap (keep the content, drop the element)
    std::string_view extra_style;
};

Mapping map_element(std::string_view n) {
    if (one_of(n, kAllowed)) return {n, {}};
    if (n == "b") return {"strong", {}};
    if (n == "i" || n == "dfn") return {"em", {}};
    if (n == "u" || n == "ins") return {"span", "text-decoration: underline"};
    if (n == "s" || n == "strike" || n == "del") return {"span", "text-decoration: line-through"};
    if (n == "tt" || n == "kbd" || n == "samp" || n == "var") return {"code", {}};
    if (n.size() == 2 && n[0] == 'h' && n[1] >= '1' && n[1] <= '6') return {"p", {}};
    if (n == "pre" || n == "address") return {"p", {}};
    if (n == "font" || n == "abbr" || n == "acronym" || n == "big" || n == "small" || n == "sub" ||
        n == "sup" || n == "mark" || n == "q")
        return {"span", {}};
    return {{}, {}};
}

bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}
bool is_name_char(char c) {
    return is_alpha(c) || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == ':' || c == '.';
}

struct NamedEntity {
    std::string_view name;
    char32_t cp;
};
constexpr std::array<NamedEntity, 48> kEntities = {{
    {"amp", 38},     {"lt", 60},      {"gt", 62},      {"quot", 34},    {"apos", 39},
    {"nbsp", 160},   {"copy", 169},   {"reg", 174},    {"trade", 8482}, {"hellip", 8230},
    {"mdash", 8212}, {"ndash", 8211}, {"lsquo", 8216}, {"rsquo", 8217}, {"ldquo", 8220},
    {"rdquo", 8221}, {"laquo", 171},  {"raquo", 187},  {"bull", 8226},  {"middot", 183},
    {"deg", 176},    {"times", 215},  {"divide", 247}, {"euro", 8364},  {"pound", 163},
    {"yen", 165},    {"cent", 162},   {"sect", 167},   {"para", 182},   {"shy", 173},
    {"iexcl", 161},  {"iquest", 191}, {"auml", 228},   {"ouml", 246},   {"uuml", 252},
    {"Auml", 196},   {"Ouml", 214},   {"Uuml", 220},   {"szlig", 223},  {"eacute", 233},
    {"egrave", 232}, {"agrave", 224}, {"aacute", 225}, {"ccedil", 231}, {"ntilde", 241},
    {"Eacute", 201}, {"oacute", 243}, {"iacute", 237},
}};

class TreeBuilder {
public:
    TreeBuilder() : stack_{&root_} { root_.name = "#root"; }

    void start(std::string name, std::vector<std::pair<std::string, std::string>> attrs,
               bool self_closing) {
        Node* top = stack_.back();
        if ((one_of(name, kClosesP) && top->name == "p") || (name == "li" && top->name == "li")) {
            stack_.pop_back();
            top = stack_.back();
        }
        Node n;
        n.name = std::move(name);
        n.attrs = std::move(attrs);
        const bool is_void = one_of(n.name, kVoid) || self_closing;
        if (!is_void && stack_.size() > kMaxHtmlDepth) {
            ++deep_unwrapped_; // too deep: the content stays, the element goes
            return;
        }
        top->children.push_back(std::move(n));
        // Safe: a node's children only grow while it is the top of the stack.
        if (!is_void) stack_.push_back(&top->children.back());
    }

    void end(std::string_view name) {
        if (name == "br") { // </br> is a line break in every browser
            start("br", {}, true);
            return;
        }
        for (std::size_t k = stack_.size(); k-- > 1;) {
            if (stack_[k]->name == name) {
                stack_.resize(k);
                return;
            }
        }
    }

    void text(std::string t) {
        if (t.empty()) return;
        Node* top = stack_.back();
        if (!top->children.empty() && top->children.back().is_text) {
            top->children.back().text += t;
            return;
        }
        Node n;
        n.is_text = true;
        n.text = std::move(t);
        top->children.push_back(std::move(n));
    }

    Node& root() { return root_; }
    [[nodiscard]] std::size_t deep_unwrapped() const { return deep_unwrapped_; }

private:
    Node root_;
    std::vector<Node*> stack_;
    std::size_t deep_unwrapped_ = 0;
};

void tokenize(std::string_view s, TreeBuilder& b, std::size_t& removed_chars,
              std::size_t& raw_dropped) {
    const std::string lower = ascii_lower(s); // same offsets, for case-insensitive searches
    std::string pending;
    auto flush = [&] {
        if (!pending.empty()) b.text(decode_html_entities(pending, removed_chars));
        pending.clear();
    };
    auto skip_past = [&](std::size_t from, std::string_view what) {
        const std::size_t e = lower.find(what, from);
        return e == std::string::npos ? s.size() : e + what.size();
    };
    std::size_t i = 0;
    while (i < s.size()) {
        const char c = s[i];
        if (c != '<') {
            pending += c;
            ++i;
            continue;
        }
        const char next = i + 1 < s.size() ? s[i + 1] : '\0';
        if (s.substr(i, 4) == "<!--") {
            flush();
            i = skip_past(i + 4, "-->");
        } else if (next == '!' || next == '?') {
            flush();
            i = skip_past(i + 2, ">");
        } else if (next == '/' && i + 2 < s.size() && is_alpha(s[i + 2])) {
            flush();
            std::size_t j = i + 2;
            while (j < s.size() && is_name_char(s[j])) ++j;
            const std::string name = ascii_lower(s.substr(i + 2, j - i - 2));
            i = skip_past(j, ">");
            b.end(name);
        } else if (is_alpha(next)) {
            flush();
            std::size_t j = i + 1;
            while (j < s.size() && is_name_char(s[j])) ++j;
            std::string name = ascii_lower(s.substr(i + 1, j - i - 1));
            std::vector<std::pair<std::string, std::string>> attrs;
            bool self_closing = false;
            bool complete = false;
            while (j < s.size()) {
                while (j < s.size() && is_space(s[j])) ++j;
                if (j >= s.size()) break;
                if (s[j] == '>') {
                    ++j;
                    complete = true;
                    break;
                }
                if (s[j] == '/') {
                    self_closing = j + 1 < s.size() && s[j + 1] == '>';
                    ++j;
                    continue;
                }
                const std::size_t ns = j++;
                while (j < s.size() && !is_space(s[j]) && s[j] != '/' && s[j] != '>' && s[j] != '=')
                    ++j;
                std::string aname = ascii_lower(s.substr(ns, j - ns));
                while (j < s.size() && is_space(s[j])) ++j;
                std::string value;
                if (j < s.size() && s[j] == '=') {
                    ++j;
                    while (j < s.size() && is_space(s[j])) ++j;
                    if (j < s.size() && (s[j] == '"' || s[j] == '\'')) {
                        const char q = s[j];
                        const std::size_t e = s.find(q, j + 1);
                        if (e == std::string_view::npos) {
                            j = s.size();
                            break;
                        }
                        value = std::string(s.substr(j + 1, e - j - 1));
                        j = e + 1;
                    } else {
                        const std::size_t vs = j;
                        while (j < s.size() && !is_space(s[j]) && s[j] != '>') ++j;
                        value = std::string(s.substr(vs, j - vs));
                    }
                }
                const bool dup = std::any_of(attrs.begin(), attrs.end(),
                                             [&](const auto& a) { return a.first == aname; });
                if (!dup)
                    attrs.emplace_back(std::move(aname),
                                       decode_html_entities(value, removed_chars));
            }
            if (!complete) { // a tag cut off by the end of the body: drop it
                i = s.size();
                break;
            }
            i = j;
            if (one_of(name, kRawTextDropped)) {
                ++raw_dropped;
                if (!self_closing) i = skip_past(i, "</" + name);
                if (i < s.size()) i = skip_past(i, ">");
                continue;
            }
            b.start(std::move(name), std::move(attrs), self_closing);
        } else {
            pending += c;
            ++i;
        }
    }
    flush();
}

/// Builds the plain rendition with HTML whitespace rules and block breaks.
class PlainBuilder {
public:
    void text(std::string_view t, bool pre) {
        for (char c : t) {
            if (pre && c == '\n') {
                emit_pending();
                out_ += '\n';
                continue;
            }
            if (!pre && is_space(c)) {
                space_ = true;
                continue;
            }
            emit_pending();
            out_ += c;
        }
    }
    void line_break() {
        emit_pending();
        out_ += '\n';
        space_ = false;
    }
    void block(int n) {
        breaks_ = std::max(breaks_, n);
        space_ = false;
    }
    [[nodiscard]] std::string finish() const { return std::string(trim(out_)); }

private:
    void emit_pending() {
        if (!out_.empty()) {
            if (breaks_ > 0) {
                int have = 0;
                for (auto it = out_.rbegin(); it != out_.rend() && *it == '\n'; ++it) ++have;
                for (int k = have; k < breaks_; ++k) out_ += '\n';
            } else if (space_ && out_.back() != '\n' && out_.back() != ' ') {
                out_ += ' ';
            }
        }
        breaks_ = 0;
        space_ = false;
    }

    std::string out_;
    int breaks_ = 0;
    bool space_ = false;
};

void render_plain(const Node& n, PlainBuilder& pb, bool pre) {
    for (const Node& c : n.children) {
        if (c.is_text) {
            pb.text(c.text, pre);
            continue;
        }
        const std::string& name = c.name;
        if (one_of(name, kDroppedWithContent)) continue;
        if (name == "br") {
            pb.line_break();
            continue;
        }
        if (name == "img") {
            if (const std::string* alt = c.attr("alt"); alt && !trim(*alt).empty())
                pb.text(*alt, false);
            continue;
        }
        const int breaks = one_of(name, kParagraphBlocks) ? 2 : one_of(name, kLineBlocks) ? 1 : 0;
        if (breaks) pb.block(breaks);
        if (name == "td" || name == "th") pb.text(" ", false);
        render_plain(c, pb, pre || name == "pre");
        if (name == "a") {
            // XEP-0071 §4: the meaning stays in <body/>, so a link keeps its target.
            const std::string* href = c.attr("href");
            auto url = href ? sanitize_url(*href, false) : std::nullopt;
            if (url) {
                PlainBuilder label;
                render_plain(c, label, false);
                const std::string text = label.finish();
                std::string_view bare = *url;
                if (istarts_with(bare, "mailto:")) bare.remove_prefix(7);
                if (text != *url && text != bare)
                    pb.text(text.empty() ? *url : " (" + *url + ")", false);
            }
        }
        if (breaks) pb.block(breaks);
    }
}

bool valid_dimension(std::string_view v) {
    std::size_t digits = 0;
    while (digits < v.size() && v[digits] >= '0' && v[digits] <= '9') ++digits;
    if (digits == 0 || digits > 5) return false;
    return digits == v.size() || (digits + 1 == v.size() && v.back() == '%');
}

/// Copies the attributes the target element may carry, sanitised; returns how many were dropped.
std::size_t copy_attributes(const Node& from, XmlElement& to, const Mapping& m) {
    std::size_t dropped = 0;
    std::string style;
    const std::string_view t = m.name;
    for (const auto& [name, value] : from.attrs) {
        if (name == "style" && one_of(t, kStyled)) {
            style = sanitize_css(value);
            if (style.empty()) ++dropped;
        } else if ((name == "href" && t == "a") || (name == "cite" && t == "blockquote") ||
                   (name == "src" && t == "img")) {
            if (auto url = sanitize_url(value, t == "img"))
                to.set_attr(name, std::move(*url));
            else
                ++dropped;
        } else if (name == "type" && t == "a") {
            if (parse_media_type(value))
                to.set_attr(name, std::string(trim(value)));
            else
                ++dropped;
        } else if (name == "alt" && t == "img") {
            to.set_attr(name, value);
        } else if ((name == "height" || name == "width") && t == "img") {
            if (valid_dimension(value))
                to.set_attr(name, value);
            else
                ++dropped;
        } else {
            ++dropped; // event handlers, class, id, unknown attributes
        }
    }
    if (!m.extra_style.empty())
        style =
            style.empty() ? std::string(m.extra_style) : style + "; " + std::string(m.extra_style);
    if (!style.empty()) to.set_attr("style", std::move(style));
    return dropped;
}

void render_xhtml(const Node& n, XmlElement& parent, HtmlRendition& r) {
    for (const Node& c : n.children) {
        if (c.is_text) {
            parent.add_text(c.text);
            continue;
        }
        if (one_of(c.name, kDroppedWithContent)) {
            ++r.removed_elements;
            continue;
        }
        const Mapping m = map_element(c.name);
        if (m.name.empty()) {
            ++r.removed_elements;
            render_xhtml(c, parent, r);
            continue;
        }
        XmlElement e{std::string(m.name), std::string(kXhtmlNs)};
        r.removed_attributes += copy_attributes(c, e, m);
        if (m.name == "img" && !e.has_attr("src")) {
            ++r.removed_elements; // an image without a safe source is only its alt text
            continue;
        }
        if (m.name == "a" && !e.has_attr("href")) {
            ++r.removed_elements;
            render_xhtml(c, parent, r);
            continue;
        }
        render_xhtml(c, e, r);
        parent.add_child(std::move(e));
    }
}

bool has_content(const XmlElement& e) {
    for (const auto& c : e.children())
        if (!c.is_text() || !trim(c.text()).empty()) return true;
    return false;
}

} // namespace

std::string decode_html_entities(std::string_view text, std::size_t& removed) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        if (text[i] != '&') {
            out += text[i++];
            continue;
        }
        const std::size_t semi = text.find(';', i + 1);
        if (semi == std::string_view::npos || semi - i > 12) {
            out += text[i++];
            continue;
        }
        const std::string_view ref = text.substr(i + 1, semi - i - 1);
        bool matched = false;
        char32_t cp = 0;
        if (ref.size() >= 2 && ref[0] == '#') {
            const bool hex = ref[1] == 'x' || ref[1] == 'X';
            const std::string_view digits = ref.substr(hex ? 2 : 1);
            if (!digits.empty() && digits.size() <= 8) {
                matched = true;
                for (char d : digits) {
                    int v = -1;
                    if (d >= '0' && d <= '9')
                        v = d - '0';
                    else if (hex && d >= 'a' && d <= 'f')
                        v = d - 'a' + 10;
                    else if (hex && d >= 'A' && d <= 'F')
                        v = d - 'A' + 10;
                    if (v < 0) {
                        matched = false;
                        break;
                    }
                    cp = cp * (hex ? 16 : 10) + static_cast<char32_t>(v);
                }
            }
        } else {
            for (const auto& e : kEntities)
                if (e.name == ref) {
                    cp = e.cp;
                    matched = true;
                }
        }
        if (!matched) {
            out += text[i++];
            continue;
        }
        if (is_xml_char(cp))
            append_utf8(out, cp);
        else
            ++removed;
        i = semi + 1;
    }
    return out;
}

std::optional<std::string> sanitize_url(std::string_view url, bool image) {
    url = trim(url);
    if (url.empty() || url.size() > 2048) return std::nullopt;
    for (char ch : url) {
        const auto c = static_cast<unsigned char>(ch);
        if (c <= 0x20 || c == 0x7F || c == '<' || c == '>' || c == '"' || c == '\\' || c == '`')
            return std::nullopt;
    }
    const std::size_t colon = url.find(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt; // relative: no base
    const std::string_view scheme_raw = url.substr(0, colon);
    if (!is_alpha(scheme_raw[0])) return std::nullopt;
    for (char c : scheme_raw)
        if (!is_alpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.')
            return std::nullopt;
    const std::string scheme = ascii_lower(scheme_raw);
    static constexpr std::array<std::string_view, 2> kImage = {"http", "https"};
    static constexpr std::array<std::string_view, 8> kLink = {"http", "https", "mailto", "xmpp",
                                                              "sip",  "sips",  "im",     "tel"};
    if (image ? !one_of(scheme, kImage) : !one_of(scheme, kLink)) return std::nullopt;
    return std::string(url);
}

std::string sanitize_css(std::string_view style) {
    // XEP-0071 §8: the recommended subset of CSS1/CSS2 properties.
    static constexpr std::array<std::string_view, 10> kProperties = {
        "background-color", "color",       "font-family",  "font-size",  "font-style",
        "font-weight",      "margin-left", "margin-right", "text-align", "text-decoration"};
    std::string out;
    std::size_t pos = 0;
    while (pos <= style.size()) {
        const std::size_t end = std::min(style.find(';', pos), style.size());
        const std::string_view decl = style.substr(pos, end - pos);
        pos = end + 1;
        const std::size_t colon = decl.find(':');
        if (colon == std::string_view::npos) continue;
        const std::string prop = ascii_lower(trim(decl.substr(0, colon)));
        const std::string_view value = trim(decl.substr(colon + 1));
        if (!one_of(prop, kProperties) || value.empty() || value.size() > 100) continue;
        const bool safe = std::all_of(value.begin(), value.end(), [](char ch) {
            const auto c = static_cast<unsigned char>(ch);
            return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                   (c >= '0' && c <= '9') || c == ' ' || c == '#' || c == '%' || c == '.' ||
                   c == ',' || c == '-' || c == '\'' || c == '"';
        });
        if (!safe) continue; // url(), expression(), comments, escapes, !important
        if (!out.empty()) out += "; ";
        out += prop;
        out += ": ";
        out += value;
    }
    return out;
}

HtmlRendition render_html(std::string_view html, bool want_xhtml, std::string_view lang) {
    HtmlRendition r;
    TreeBuilder builder;
    std::size_t raw_dropped = 0;
    tokenize(html, builder, r.removed_chars, raw_dropped);
    r.removed_elements = raw_dropped + builder.deep_unwrapped();

    PlainBuilder pb;
    render_plain(builder.root(), pb, false);
    r.plain = pb.finish();

    if (want_xhtml) {
        XmlElement body{"body", std::string(kXhtmlNs)};
        if (!lang.empty()) body.set_attr("xml:lang", std::string(lang));
        render_xhtml(builder.root(), body, r);
        if (has_content(body)) {
            XmlElement wrapper{"html", std::string(kXhtmlImNs)};
            wrapper.add_child(std::move(body));
            r.xhtml = std::move(wrapper);
        }
    }
    return r;
}

} // namespace stox::plugins::im
