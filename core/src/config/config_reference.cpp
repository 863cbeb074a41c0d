// SPDX-License-Identifier: Apache-2.0
// render_config_reference(): Markdown reference generated from a schema, so the documentation
// of every key cannot drift from what the validator enforces (as FreeSWITCH, Flexisip and
// ejabberd generate theirs from their option descriptors).
#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "config/json_pointer.hpp"
#include "config/json_schema.hpp"
#include "config/site_config.hpp"

namespace stox::core::config {

using nlohmann::json;

namespace {

// Inside a table cell: '|' would end the cell (also inside code spans, GFM §4.10), and a line
// break would end the row.
std::string cell(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == '|')
            out += "\\|";
        else if (c == '\n' || c == '\r')
            out += ' ';
        else
            out += c;
    }
    return out;
}

std::string code(const std::string& text) {
    return "`" + text + "`";
}

// Plain text (descriptions): "<plugin-id>" or "<policy-violation/>" would be taken for HTML
// tags and vanish from the rendered page, so '<' is backslash-escaped (CommonMark §2.4).
std::string text(const std::string& plain) {
    std::string out;
    for (char c : plain) {
        if (c == '<') out += '\\';
        out += c;
    }
    return out;
}

// A literal value as written in a config file, in a code span.
std::string literal(const json& v) {
    return code(v.is_string() ? v.get<std::string>() : v.dump());
}

// GitHub's heading anchors: lower case, spaces to '-', punctuation other than '-'/'_' dropped.
std::string anchor(const std::string& heading) {
    std::string out;
    for (char c : heading) {
        auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u))
            out += static_cast<char>(std::tolower(u));
        else if (c == ' ' || c == '-')
            out += '-';
        else if (c == '_')
            out += '_';
    }
    return out;
}

std::string get_string(const json& s, const char* key) {
    auto it = s.find(key);
    return it != s.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool is_pure_required(const json& branch) {
    if (!branch.is_object()) return false;
    auto it = branch.find("required");
    if (it == branch.end() || !it->is_array() || it->size() != 1 || !(*it)[0].is_string())
        return false;
    return std::all_of(branch.items().begin(), branch.items().end(), [](const auto& kv) {
        return kv.key() == "required" || kv.key() == "description" || kv.key() == "title" ||
               kv.key() == "$comment";
    });
}

class Renderer {
public:
    explicit Renderer(const json& root) : root_(root) {}

    std::string render(const std::string& title) {
        out_ += "# " + title + "\n\n";
        if (auto intro = root_.find("x-doc-intro"); intro != root_.end() && intro->is_array()) {
            for (const auto& line : *intro)
                if (line.is_string()) out_ += line.get<std::string>() + "\n";
            out_ += "\n";
        }
        section("", deref(root_));
        // One trailing newline, whatever the last section ended with.
        while (out_.size() > 1 && out_[out_.size() - 1] == '\n' && out_[out_.size() - 2] == '\n')
            out_.pop_back();
        return out_;
    }

private:
    // Follows $refs so a property defined through "#/$defs/..." is documented like any other.
    const json& deref(const json& s) const {
        const json* cur = &s;
        for (int hops = 0; hops < 32 && cur->is_object(); ++hops) {
            auto ref = cur->find("$ref");
            if (ref == cur->end() || !ref->is_string()) break;
            const std::string& r = ref->get_ref<const std::string&>();
            const json* target = r.empty() || r.front() != '#'
                                     ? nullptr
                                     : find_pointer(root_, std::string_view(r).substr(1));
            if (!target) break;
            cur = target;
        }
        return *cur;
    }

    // The description written next to the $ref wins over the target's.
    std::string description(const json& s) const {
        std::string d = s.is_object() ? get_string(s, "description") : std::string();
        return d.empty() && s.is_object() ? get_string(deref(s), "description") : d;
    }

    const json* default_of(const json& s) const {
        if (!s.is_object()) return nullptr;
        if (auto it = s.find("default"); it != s.end()) return &*it;
        const json& d = deref(s);
        if (auto it = d.find("default"); d.is_object() && it != d.end()) return &*it;
        return nullptr;
    }

    static bool documents_keys(const json& s) {
        auto props = s.find("properties");
        return s.is_object() && props != s.end() && props->is_object() && !props->empty();
    }

    // The object schema whose keys get a section of their own, with the path suffix naming it.
    std::pair<const json*, std::string> child_section(const json& s) const {
        const json& d = deref(s);
        if (!d.is_object()) return {nullptr, {}};
        if (documents_keys(d)) return {&d, ""};
        if (auto add = d.find("additionalProperties"); add != d.end() && add->is_object()) {
            const json& value = deref(*add);
            std::string key = get_string(d, "x-doc-key");
            if (documents_keys(value)) return {&value, "." + (key.empty() ? "<name>" : key)};
        }
        if (auto items = d.find("items"); items != d.end() && items->is_object()) {
            const json& item = deref(*items);
            if (documents_keys(item)) return {&item, "[]"};
        }
        return {nullptr, {}};
    }

    std::string type_text(const json& s) const {
        const json& d = deref(s);
        if (!d.is_object()) return d.is_boolean() && d.get<bool>() ? "any" : "none";
        std::vector<std::string> types;
        if (auto t = d.find("type"); t != d.end()) {
            if (t->is_string())
                types.push_back(t->get<std::string>());
            else if (t->is_array())
                for (const auto& x : *t)
                    if (x.is_string()) types.push_back(x.get<std::string>());
        } else if (auto c = d.find("const"); c != d.end()) {
            types.push_back(json_type_name(*c));
        }
        if (types.empty()) return "any";
        std::string out;
        for (std::size_t i = 0; i < types.size(); ++i) {
            out += i ? " or " : "";
            out += types[i];
            if (types[i] == "array")
                if (auto items = d.find("items"); items != d.end())
                    out += " of " + type_text(*items);
        }
        return out;
    }

    static std::string range(const json& s, const char* lo, const char* hi, const char* what,
                             const char* unit) {
        auto l = s.find(lo), h = s.find(hi);
        bool has_l = l != s.end(), has_h = h != s.end();
        std::string prefix = std::string(what) + (*what ? " " : "");
        if (has_l && has_h) return prefix + l->dump() + " to " + h->dump() + unit;
        if (has_l) return prefix + ">= " + l->dump() + unit;
        if (has_h) return prefix + "<= " + h->dump() + unit;
        return {};
    }

    std::vector<std::string> constraints(const json& s) const {
        std::vector<std::string> parts;
        const json& d = deref(s);
        if (!d.is_object()) return parts;
        auto add = [&](std::string part) {
            if (!part.empty()) parts.push_back(std::move(part));
        };
        if (auto c = d.find("const"); c != d.end()) add(literal(*c));
        if (auto e = d.find("enum"); e != d.end() && e->is_array()) {
            std::string list;
            for (std::size_t i = 0; i < e->size(); ++i) list += (i ? ", " : "") + literal((*e)[i]);
            add(list);
        }
        add(range(d, "minimum", "maximum", "", ""));
        if (auto x = d.find("exclusiveMinimum"); x != d.end()) add("> " + x->dump());
        if (auto x = d.find("exclusiveMaximum"); x != d.end()) add("< " + x->dump());
        add(range(d, "minLength", "maxLength", "length", ""));
        if (auto p = d.find("pattern"); p != d.end() && p->is_string()) {
            std::string hint = get_string(d, "x-pattern-description");
            add(hint.empty() ? "pattern " + code(p->get<std::string>()) : hint);
        }
        add(range(d, "minItems", "maxItems", "", " items"));
        if (auto u = d.find("uniqueItems"); u != d.end() && u->is_boolean() && u->get<bool>())
            add("no duplicates");
        add(range(d, "minProperties", "maxProperties", "", " keys"));
        if (auto n = d.find("propertyNames"); n != d.end()) {
            auto inner = constraints(*n);
            if (!inner.empty()) add("keys: " + join(inner));
        }
        if (auto items = d.find("items"); items != d.end()) {
            auto inner = constraints(*items);
            if (!inner.empty()) add("each: " + join(inner));
        }
        return parts;
    }

    static std::string join(const std::vector<std::string>& parts) {
        std::string out;
        for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? "; " : "") + parts[i];
        return out;
    }

    static std::string dotted(const std::string& path, const std::string& key) {
        return path.empty() ? key : path + "." + key;
    }

    static std::string heading(const std::string& path) {
        return path.empty() ? "Top level" : code(path);
    }

    void section(const std::string& path, const json& schema) {
        out_ += "## " + heading(path) + "\n\n";
        if (std::string d = get_string(schema, "description"); !d.empty()) out_ += text(d) + "\n\n";
        for (const char* keyword : {"oneOf", "anyOf"}) {
            auto it = schema.find(keyword);
            if (it == schema.end() || !it->is_array() || it->empty() ||
                !std::all_of(it->begin(), it->end(), is_pure_required))
                continue;
            std::string keys;
            for (std::size_t i = 0; i < it->size(); ++i)
                keys += (i ? (i + 1 == it->size() ? " or " : ", ") : "") +
                        code((*it)[i]["required"][0].get<std::string>());
            out_ += std::string(keyword[0] == 'o' ? "Exactly one" : "At least one") + " of " +
                    keys + " must be given.\n\n";
        }

        std::vector<std::string> required;
        if (auto r = schema.find("required"); r != schema.end() && r->is_array())
            for (const auto& k : *r)
                if (k.is_string()) required.push_back(k.get<std::string>());

        out_ += "| Key | Type | Default | Allowed values | Description |\n";
        out_ += "| --- | --- | --- | --- | --- |\n";
        std::vector<std::pair<std::string, const json*>> children;
        const json& properties = *schema.find("properties"); // documents_keys() holds
        for (const auto& [key, sub] : properties.items()) {
            std::string full = dotted(path, key);
            std::string def;
            if (std::find(required.begin(), required.end(), key) != required.end()) {
                def = "required";
            } else if (const json* d = default_of(sub)) {
                def = code(d->dump());
            }
            std::string desc = text(description(sub));
            auto [child, suffix] = child_section(sub);
            if (child) {
                std::string child_path = full + suffix;
                desc += (desc.empty() ? "" : " ") + std::string("See [") + heading(child_path) +
                        "](#" + anchor(heading(child_path)) + ").";
                children.emplace_back(child_path, child);
            }
            out_ += "| " + cell(code(full)) + " | " + cell(type_text(sub)) + " | " + cell(def) +
                    " | " + cell(join(constraints(sub))) + " | " + cell(desc) + " |\n";
        }
        out_ += "\n";
        for (const auto& [child_path, child] : children) section(child_path, *child);
    }

    const json& root_;
    std::string out_;
};

} // namespace

std::string render_config_reference(const json& schema, const std::string& title) {
    if (!schema.is_object() || !schema.contains("properties") || !schema["properties"].is_object())
        return "# " + title + "\n\n(The schema documents no keys.)\n";
    return Renderer(schema).render(title);
}

} // namespace stox::core::config
