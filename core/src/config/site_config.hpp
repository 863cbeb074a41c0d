// SPDX-License-Identifier: Apache-2.0
// The operator's configuration: one JSON file plus an optional directory of *.json fragments
// merged in name order (objects merge recursively, anything else replaces). Validated against
// schemas/stoxgw-1.schema.json with defaults applied. Every error names the file the offending
// key came from, its JSON Pointer and the reason.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace stox::core::config {

struct ConfigError {
    std::string file;    ///< the file the value came from ("" if unknown)
    std::string pointer; ///< JSON Pointer ("/sip/listen/0"); "" for the whole file
    std::string message;
    /// 1-based line and column (in characters) of a JSON syntax error: where the parser noticed
    /// it, i.e. the last character of the offending token. 0 = not a syntax error.
    std::size_t line = 0;
    std::size_t column = 0;
    /// "FILE: /pointer: message"; "FILE:LINE:COLUMN: message" for syntax errors; parts that are
    /// empty (no file, root pointer) are left out.
    [[nodiscard]] std::string to_string() const;
};

struct SiteConfig {
    nlohmann::json doc;                       ///< merged, validated, defaults applied
    std::vector<std::filesystem::path> files; ///< main file then fragments, in merge order
    /// Which file last set `pointer` or its nearest ancestor that a file set (values filled in
    /// from defaults belong to the file holding their parent); "" when there are no files.
    [[nodiscard]] std::string source_of(const std::string& pointer) const;
    std::vector<std::pair<std::string, std::string>> provenance; ///< pointer -> file, sorted
};

struct LoadResult {
    std::optional<SiteConfig> config; ///< set only when there are no errors
    std::vector<ConfigError> errors;
};

/// The site schema shipped with the core (compiled in from schemas/stoxgw-1.schema.json).
const nlohmann::json& site_schema();

/// Loads `file`, then every *.json in the fragments directory in name order (byte order of the
/// file names; names starting with '.' and anything not a regular *.json file are ignored).
/// `fragments_dir` unset means default_fragments_dir(file), which may be absent; a directory
/// given explicitly must exist. Syntax errors of every file are reported (and stop there);
/// otherwise every schema error of the merged document is reported.
LoadResult load_site_config(const std::filesystem::path& file,
                            const std::optional<std::filesystem::path>& fragments_dir);

/// Same, from already-read text (tests). `name` is used in error messages.
LoadResult load_site_config_text(const std::string& text, const std::string& name);

/// The default fragments directory for a main file: "<dir of file>/conf.d".
std::filesystem::path default_fragments_dir(const std::filesystem::path& file);

/// Markdown reference of every key of a schema (docs/config.md is generated from this; a test
/// checks the committed file matches): the title, the schema's "x-doc-intro" lines, then one
/// section per object with a table of key | type | default | allowed values | description, keys
/// written as dotted paths ("xmpp.component.port").
std::string render_config_reference(const nlohmann::json& schema, const std::string& title);

} // namespace stox::core::config
