// SPDX-License-Identifier: Apache-2.0
// The operator's configuration: one JSON file plus an optional directory of *.json fragments
// merged in name order (objects merge recursively, anything else replaces). Validated against
// schemas/stoxgw-1.schema.json with defaults applied. Every error names the file the offending
// key came from, its JSON Pointer and the reason.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace stox::core::config {

struct ConfigError {
    std::string file;     ///< the file the value came from ("" if unknown)
    std::string pointer;  ///< JSON Pointer ("/sip/listen/0")
    std::string message;
    /// "FILE: /pointer: message"
    [[nodiscard]] std::string to_string() const;
};

struct SiteConfig {
    nlohmann::json doc;                       ///< merged, validated, defaults applied
    std::vector<std::filesystem::path> files; ///< main file then fragments, in merge order
    /// Which file last set each pointer (for error messages about plugin sections).
    [[nodiscard]] std::string source_of(const std::string& pointer) const;
    std::vector<std::pair<std::string, std::string>> provenance; ///< pointer -> file
};

struct LoadResult {
    std::optional<SiteConfig> config;  ///< set only when there are no errors
    std::vector<ConfigError> errors;
};

/// The site schema shipped with the core (compiled in from schemas/stoxgw-1.schema.json).
const nlohmann::json& site_schema();

/// Loads `file`, then every *.json in `fragments_dir` (if given and present) in name order.
LoadResult load_site_config(const std::filesystem::path& file,
                            const std::optional<std::filesystem::path>& fragments_dir);

/// Same, from already-read text (tests). `name` is used in error messages.
LoadResult load_site_config_text(const std::string& text, const std::string& name);

/// The default fragments directory for a main file: "<dir of file>/conf.d".
std::filesystem::path default_fragments_dir(const std::filesystem::path& file);

/// Markdown reference of every key of a schema (docs/config.md is generated from this; a test
/// checks the committed file matches).
std::string render_config_reference(const nlohmann::json& schema, const std::string& title);

} // namespace stox::core::config
