// SPDX-License-Identifier: Apache-2.0
/// \file xml.hpp
/// SDK-owned XML tree for XMPP stanzas (no Xerces types cross the plugin boundary).
/// A node is either an element (name, namespace, attributes, children) or a text node.
/// Mixed content keeps its order, which XHTML-IM needs.
/// Attribute names are stored as written on the wire ("type", "xml:lang").
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stox::sdk {

class XmlElement {
public:
    XmlElement() = default;
    XmlElement(std::string name, std::string ns) : name_(std::move(name)), ns_(std::move(ns)) {}

    static XmlElement text_node(std::string text) {
        XmlElement n;
        n.is_text_ = true;
        n.text_ = std::move(text);
        return n;
    }

    [[nodiscard]] bool is_text() const noexcept { return is_text_; }
    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    [[nodiscard]] const std::string& ns() const noexcept { return ns_; }
    void set_ns(std::string ns) { ns_ = std::move(ns); }
    /// For a text node, its text; for an element, the concatenation of its direct text children.
    [[nodiscard]] std::string text() const {
        if (is_text_) return text_;
        std::string out;
        for (const auto& c : children_)
            if (c.is_text_) out += c.text_;
        return out;
    }

    // --- attributes ---------------------------------------------------------------------
    [[nodiscard]] const std::vector<std::pair<std::string, std::string>>&
    attributes() const noexcept {
        return attrs_;
    }
    [[nodiscard]] bool has_attr(std::string_view name) const noexcept {
        for (const auto& a : attrs_)
            if (a.first == name) return true;
        return false;
    }
    /// The attribute's value, or "" when absent.
    [[nodiscard]] std::string attr(std::string_view name) const {
        for (const auto& a : attrs_)
            if (a.first == name) return a.second;
        return {};
    }
    XmlElement& set_attr(std::string name, std::string value) {
        for (auto& a : attrs_)
            if (a.first == name) {
                a.second = std::move(value);
                return *this;
            }
        attrs_.emplace_back(std::move(name), std::move(value));
        return *this;
    }
    void remove_attr(std::string_view name) {
        for (auto it = attrs_.begin(); it != attrs_.end(); ++it)
            if (it->first == name) {
                attrs_.erase(it);
                return;
            }
    }

    // --- children -----------------------------------------------------------------------
    [[nodiscard]] const std::vector<XmlElement>& children() const noexcept { return children_; }
    [[nodiscard]] std::vector<XmlElement>& children() noexcept { return children_; }
    /// First child element with this local name (and namespace, when given), or nullptr.
    [[nodiscard]] const XmlElement* child(std::string_view name, std::string_view ns = {}) const {
        for (const auto& c : children_)
            if (!c.is_text_ && c.name_ == name && (ns.empty() || c.ns_ == ns)) return &c;
        return nullptr;
    }
    [[nodiscard]] XmlElement* child(std::string_view name, std::string_view ns = {}) {
        for (auto& c : children_)
            if (!c.is_text_ && c.name_ == name && (ns.empty() || c.ns_ == ns)) return &c;
        return nullptr;
    }
    /// Text of the first matching child, or "".
    [[nodiscard]] std::string child_text(std::string_view name, std::string_view ns = {}) const {
        const XmlElement* c = child(name, ns);
        return c ? c->text() : std::string{};
    }
    /// Appends an element child and returns it. A child whose namespace is empty inherits ours.
    XmlElement& add_child(XmlElement child) {
        if (!child.is_text_ && child.ns_.empty()) child.ns_ = ns_;
        children_.push_back(std::move(child));
        return children_.back();
    }
    XmlElement& add_child(std::string name, std::string ns = {}) {
        return add_child(XmlElement(std::move(name), std::move(ns)));
    }
    XmlElement& add_text(std::string text) {
        children_.push_back(text_node(std::move(text)));
        return *this;
    }

    // --- serialization ------------------------------------------------------------------
    /// Serializes this node. `parent_ns` is the default namespace in scope; an xmlns attribute
    /// is written only where the namespace changes.
    [[nodiscard]] std::string to_string(std::string_view parent_ns = {}) const {
        std::string out;
        append_to(out, parent_ns);
        return out;
    }
    void append_to(std::string& out, std::string_view parent_ns) const {
        if (is_text_) {
            escape_into(out, text_, false);
            return;
        }
        out += '<';
        out += name_;
        if (ns_ != parent_ns) {
            out += " xmlns='";
            escape_into(out, ns_, true);
            out += '\'';
        }
        for (const auto& a : attrs_) {
            out += ' ';
            out += a.first;
            out += "='";
            escape_into(out, a.second, true);
            out += '\'';
        }
        if (children_.empty()) {
            out += "/>";
            return;
        }
        out += '>';
        for (const auto& c : children_) c.append_to(out, ns_);
        out += "</";
        out += name_;
        out += '>';
    }

    /// XML-escapes character data (and, for attributes, quotes).
    static void escape_into(std::string& out, std::string_view s, bool attribute) {
        for (char ch : s) {
            switch (ch) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '\'':
                if (attribute)
                    out += "&apos;";
                else
                    out += ch;
                break;
            case '"':
                if (attribute)
                    out += "&quot;";
                else
                    out += ch;
                break;
            // XML 1.0 §3.3.3 normalizes whitespace in attribute values and §2.11 turns CR into
            // LF everywhere: character references keep them exact on a round trip.
            case '\t':
                if (attribute)
                    out += "&#x9;";
                else
                    out += ch;
                break;
            case '\n':
                if (attribute)
                    out += "&#xA;";
                else
                    out += ch;
                break;
            case '\r': out += "&#xD;"; break;
            default: out += ch;
            }
        }
    }

    friend bool operator==(const XmlElement&, const XmlElement&) = default;

private:
    bool is_text_ = false;
    std::string name_;
    std::string ns_;
    std::string text_;
    std::vector<std::pair<std::string, std::string>> attrs_;
    std::vector<XmlElement> children_;
};

} // namespace stox::sdk
