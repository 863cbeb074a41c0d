// SPDX-License-Identifier: Apache-2.0
#include "config/manifest_schema.hpp"

namespace stox::core::config {

namespace {

const char* const kManifestSchemaText =
#include "schemas/plugin-manifest-1.schema.json.inc"
    ;

} // namespace

const nlohmann::json& manifest_schema() {
    // Parsed once; the text is compiled in and checked by the test suite, so a parse failure
    // here is a build defect and the exception is allowed to surface.
    static const nlohmann::json schema = nlohmann::json::parse(kManifestSchemaText);
    return schema;
}

std::vector<SchemaError> validate_manifest(nlohmann::json& manifest) {
    auto errors = validate(manifest_schema(), manifest, true);
    if (manifest.is_object()) {
        auto it = manifest.find("config_schema");
        if (it != manifest.end() && it->is_object()) {
            // The plugin's config schema must itself be valid, or plugin config checks could be
            // silently disabled by a typo in it (house style §4.4).
            for (auto& e : check_schema(*it))
                errors.push_back(SchemaError{"/config_schema" + e.pointer,
                                             "invalid config schema: " + e.message,
                                             SchemaError::Kind::Invalid});
        }
    }
    return errors;
}

} // namespace stox::core::config
