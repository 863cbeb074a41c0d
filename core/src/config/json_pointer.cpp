// SPDX-License-Identifier: Apache-2.0
#include "config/json_pointer.hpp"

#include <charconv>

namespace stox::core::config {

std::string escape_pointer_token(std::string_view token) {
    std::string out;
    out.reserve(token.size());
    for (char c : token) {
        if (c == '~')
            out += "~0";
        else if (c == '/')
            out += "~1";
        else
            out += c;
    }
    return out;
}

std::string append_pointer(const std::string& base, std::string_view token) {
    return base + "/" + escape_pointer_token(token);
}

std::string append_pointer(const std::string& base, std::size_t index) {
    return base + "/" + std::to_string(index);
}

std::optional<std::vector<std::string>> split_pointer(std::string_view pointer) {
    std::vector<std::string> tokens;
    if (pointer.empty()) return tokens;
    if (pointer.front() != '/') return std::nullopt;
    std::string current;
    for (std::size_t i = 1; i <= pointer.size(); ++i) {
        if (i == pointer.size() || pointer[i] == '/') {
            tokens.push_back(std::move(current));
            current.clear();
            continue;
        }
        char c = pointer[i];
        if (c == '~') {
            // RFC 6901 §4: only "~0" and "~1" are valid escapes.
            if (i + 1 >= pointer.size()) return std::nullopt;
            char e = pointer[++i];
            if (e == '0')
                current += '~';
            else if (e == '1')
                current += '/';
            else
                return std::nullopt;
        } else {
            current += c;
        }
    }
    return tokens;
}

namespace {

// RFC 6901 §4: an array index is "0" or digits without a leading zero.
std::optional<std::size_t> array_index(const std::string& token) {
    if (token.empty() || token.size() > 19) return std::nullopt;
    if (token.size() > 1 && token.front() == '0') return std::nullopt;
    std::size_t value = 0;
    auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
    if (ec != std::errc() || end != token.data() + token.size()) return std::nullopt;
    return value;
}

} // namespace

const nlohmann::json* find_pointer(const nlohmann::json& doc, std::string_view pointer) {
    auto tokens = split_pointer(pointer);
    if (!tokens) return nullptr;
    const nlohmann::json* node = &doc;
    for (const auto& token : *tokens) {
        if (node->is_object()) {
            auto it = node->find(token);
            if (it == node->end()) return nullptr;
            node = &*it;
        } else if (node->is_array()) {
            auto index = array_index(token);
            if (!index || *index >= node->size()) return nullptr;
            node = &(*node)[*index];
        } else {
            return nullptr;
        }
    }
    return node;
}

std::string parent_pointer(std::string_view pointer) {
    auto slash = pointer.rfind('/');
    if (slash == std::string_view::npos) return {};
    return std::string(pointer.substr(0, slash));
}

bool pointer_is_under(std::string_view pointer, std::string_view ancestor) {
    if (pointer.size() < ancestor.size()) return false;
    if (pointer.substr(0, ancestor.size()) != ancestor) return false;
    return pointer.size() == ancestor.size() || pointer[ancestor.size()] == '/';
}

} // namespace stox::core::config
