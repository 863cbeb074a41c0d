// SPDX-License-Identifier: Apache-2.0
// JSON Pointer helpers (RFC 6901) shared by the validator, the site config loader and
// JsonConfigView. Hand-written rather than nlohmann::json_pointer because lookups here must not
// throw, and array indices must be canonical ("01" is not an index, RFC 6901 §4).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace stox::core::config {

/// "a/b~c" -> "a~1b~0c" (RFC 6901 §3).
std::string escape_pointer_token(std::string_view token);

/// `base` + "/" + escaped `token`.
std::string append_pointer(const std::string& base, std::string_view token);
std::string append_pointer(const std::string& base, std::size_t index);

/// Unescaped reference tokens of `pointer`; nullopt when it is not a JSON Pointer (neither
/// empty nor starting with '/', or a '~' not followed by '0' or '1').
std::optional<std::vector<std::string>> split_pointer(std::string_view pointer);

/// The value `pointer` names in `doc`, or nullptr when absent or malformed.
const nlohmann::json* find_pointer(const nlohmann::json& doc, std::string_view pointer);

/// "/a/b" -> "/a"; "/a" -> ""; "" -> "".
std::string parent_pointer(std::string_view pointer);

/// True when `pointer` is `ancestor` or lies below it ("/a/b" is under "/a", "/ab" is not).
bool pointer_is_under(std::string_view pointer, std::string_view ancestor);

} // namespace stox::core::config
