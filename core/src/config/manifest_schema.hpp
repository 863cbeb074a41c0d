// SPDX-License-Identifier: Apache-2.0
// The plugin manifest schema (plugin.json, house style §4.4 (a)), compiled in from
// schemas/plugin-manifest-1.schema.json, and its validation.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "config/json_schema.hpp"

namespace stox::core::config {

/// The manifest schema shipped with the core.
const nlohmann::json& manifest_schema();

/// Validates a parsed plugin.json against manifest_schema() with defaults applied, then checks
/// its "config_schema" with check_schema (those errors point below "/config_schema"). Identity
/// checks against the core (ABI, descriptor, uniqueness) are the loader's.
std::vector<SchemaError> validate_manifest(nlohmann::json& manifest);

} // namespace stox::core::config
