// SPDX-License-Identifier: Apache-2.0
#include "config/config_view.hpp"

#include <cmath>
#include <limits>

#include "config/json_pointer.hpp"
#include "config/json_schema.hpp"

namespace stox::core::config {

using nlohmann::json;
using sdk::ErrorCode;
using sdk::Result;
using sdk::Status;

namespace {

std::string shown(std::string_view pointer) {
    return pointer.empty() ? std::string("(the whole section)") : "'" + std::string(pointer) + "'";
}

// Runs `body`; an exception (only std::bad_alloc is possible) becomes an Internal error, so the
// noexcept SDK contract holds. The error carries no message: building one could throw again.
template <class T, class F> Result<T> guarded(F&& body) noexcept {
    try {
        return body();
    } catch (...) {
        return Result<T>(Status(ErrorCode::Internal));
    }
}

// The value `pointer` names, or nullptr with the error an absent or malformed pointer deserves.
const json* lookup(const json& doc, std::string_view pointer, Status& error) {
    if (const json* node = find_pointer(doc, pointer)) return node;
    if (!split_pointer(pointer))
        error = Status(ErrorCode::InvalidConfig, "invalid JSON pointer " + shown(pointer) +
                                                     " (it must be empty or start with '/')");
    else
        error = Status(ErrorCode::ItemNotFound, "config key " + shown(pointer) + " is not set");
    return nullptr;
}

template <class T>
Result<T> type_error(std::string_view pointer, const char* expected, const json& value) {
    return Result<T>(ErrorCode::InvalidConfig, "config key " + shown(pointer) + " must be " +
                                                   expected + ", got " + json_type_name(value));
}

} // namespace

const json* JsonConfigView::find(std::string_view pointer) const noexcept {
    try {
        return find_pointer(j_, pointer);
    } catch (...) {
        return nullptr;
    }
}

bool JsonConfigView::has(std::string_view pointer) const noexcept {
    return find(pointer);
}

Result<std::string> JsonConfigView::get_string(std::string_view pointer) const noexcept {
    return guarded<std::string>([&]() -> Result<std::string> {
        Status error;
        const nlohmann::json* node = lookup(j_, pointer, error);
        if (!node) return error;
        if (!node->is_string()) return type_error<std::string>(pointer, "a string", *node);
        return node->get<std::string>();
    });
}

Result<std::int64_t> JsonConfigView::get_int(std::string_view pointer) const noexcept {
    return guarded<std::int64_t>([&]() -> Result<std::int64_t> {
        Status error;
        const nlohmann::json* node = lookup(j_, pointer, error);
        if (!node) return error;
        if (node->is_number_unsigned()) {
            auto v = node->get<std::uint64_t>();
            if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
                return Result<std::int64_t>(ErrorCode::InvalidConfig,
                                            "config key " + shown(pointer) +
                                                " is too large for a 64-bit integer");
            return static_cast<std::int64_t>(v);
        }
        if (node->is_number_integer()) return node->get<std::int64_t>();
        if (node->is_number_float()) {
            // JSON Schema counts 3.0 as an integer, so the view accepts it too.
            double d = node->get<double>();
            if (std::isfinite(d) && std::floor(d) == d && d >= -9.2e18 && d <= 9.2e18)
                return static_cast<std::int64_t>(d);
        }
        return type_error<std::int64_t>(pointer, "an integer", *node);
    });
}

Result<double> JsonConfigView::get_double(std::string_view pointer) const noexcept {
    return guarded<double>([&]() -> Result<double> {
        Status error;
        const nlohmann::json* node = lookup(j_, pointer, error);
        if (!node) return error;
        if (!node->is_number()) return type_error<double>(pointer, "a number", *node);
        return node->get<double>();
    });
}

Result<bool> JsonConfigView::get_bool(std::string_view pointer) const noexcept {
    return guarded<bool>([&]() -> Result<bool> {
        Status error;
        const nlohmann::json* node = lookup(j_, pointer, error);
        if (!node) return error;
        if (!node->is_boolean()) return type_error<bool>(pointer, "a boolean", *node);
        return node->get<bool>();
    });
}

Result<std::vector<std::string>>
JsonConfigView::get_string_list(std::string_view pointer) const noexcept {
    using List = std::vector<std::string>;
    return guarded<List>([&]() -> Result<List> {
        Status error;
        const nlohmann::json* node = lookup(j_, pointer, error);
        if (!node) return error;
        if (!node->is_array()) return type_error<List>(pointer, "an array of strings", *node);
        List out;
        out.reserve(node->size());
        for (std::size_t i = 0; i < node->size(); ++i) {
            const nlohmann::json& item = (*node)[i];
            if (!item.is_string())
                return type_error<List>(append_pointer(std::string(pointer), i), "a string", item);
            out.push_back(item.get<std::string>());
        }
        return out;
    });
}

Result<std::vector<std::string>> JsonConfigView::keys(std::string_view pointer) const noexcept {
    using List = std::vector<std::string>;
    return guarded<List>([&]() -> Result<List> {
        Status error;
        const nlohmann::json* node = lookup(j_, pointer, error);
        if (!node) return error;
        if (!node->is_object()) return type_error<List>(pointer, "an object", *node);
        List out;
        out.reserve(node->size());
        for (const auto& [key, value] : node->items()) out.push_back(key);
        return out;
    });
}

Result<std::size_t> JsonConfigView::size(std::string_view pointer) const noexcept {
    return guarded<std::size_t>([&]() -> Result<std::size_t> {
        Status error;
        const nlohmann::json* node = lookup(j_, pointer, error);
        if (!node) return error;
        if (!node->is_array()) return type_error<std::size_t>(pointer, "an array", *node);
        return node->size();
    });
}

} // namespace stox::core::config
