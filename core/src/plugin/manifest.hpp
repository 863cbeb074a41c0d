// SPDX-License-Identifier: Apache-2.0
// The plugin manifest (`<id>/plugin.json`, house style §4.4 (a)): parsed, validated against
// schemas/plugin-manifest-1.schema.json (config::validate_manifest, which also checks that
// config_schema is a valid schema), then checked for what a schema cannot express (version
// ranges, duplicate or self dependencies, a config_schema describing an object). This all
// happens before the plugin's library is opened ("metadata before code"). The reference for every
// key is sdk/docs/manifest.md; the schema is authoritative.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "bus/claim_table.hpp"
#include "plugin/version_range.hpp"

namespace stox::core {

struct ManifestDependency {
    std::string id;
    VersionRange range; ///< parsed "version" (empty = any)
    bool optional = false;
};

struct Manifest {
    std::uint32_t manifest_version = 0;
    std::string id;
    std::string name;
    std::string description;
    std::string version; ///< as written; `semver` is the parsed form
    SemVer semver;
    std::string license;
    std::string library; ///< base name of the shared object: `<library>.so` next to plugin.json
    std::uint32_t abi_major = 0;
    std::uint32_t abi_minor = 0;
    std::string status;
    std::string security_posture;
    std::vector<ManifestDependency> dependencies; ///< "requires"
    std::vector<std::string> provides;
    std::vector<SipClaim> sip_claims;
    std::vector<StanzaClaim> stanza_claims;
    std::vector<std::string> publishes;
    std::vector<std::string> subscribes;
    /// The plugin's config_schema; when the manifest has none, the schema's default, which only
    /// accepts an empty object (so a stray config section is an error, not silently ignored).
    nlohmann::json config_schema;
    nlohmann::json document; ///< the validated manifest, schema defaults applied
};

struct ManifestError {
    std::string pointer; ///< JSON Pointer in plugin.json ("" = the document)
    std::string message;
    /// "/pointer: message" (or just the message for the document itself)
    [[nodiscard]] std::string to_string() const;
};

struct ManifestResult {
    std::optional<Manifest> manifest; ///< set only when there are no errors
    std::vector<ManifestError> errors;
    /// Best-effort identity read from the raw JSON even when it is invalid, so that a refused
    /// plugin is still listed under its id ("" when unknown).
    std::string id_hint;
    std::string version_hint;
    std::string name_hint;
    /// All errors on one line ("; "-separated), for the single refusal log line.
    [[nodiscard]] std::string summary() const;
};

/// Parses and validates manifest text (JSON syntax, schema, then semantics).
ManifestResult parse_manifest(std::string_view text);
/// Reads `file` and parses it; an unreadable file is an error of the result.
ManifestResult load_manifest(const std::filesystem::path& file);

/// The shared object a manifest designates: `<dir of plugin.json>/<library>.so`.
std::filesystem::path library_path(const Manifest& manifest,
                                   const std::filesystem::path& manifest_file);

} // namespace stox::core
