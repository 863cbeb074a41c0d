// SPDX-License-Identifier: Apache-2.0
// A small JSON Schema validator for the subset our schemas use (pboettch/json-schema-validator
// is not packaged in Debian 12). Supported keywords: type (string or array), properties,
// additionalProperties (bool or schema), required, items (schema), enum, const, minimum, maximum,
// exclusiveMinimum, exclusiveMaximum, minLength, maxLength, pattern (ECMAScript via std::regex),
// minItems, maxItems, uniqueItems, minProperties, maxProperties, anyOf, oneOf, allOf, not,
// $ref (local "#/$defs/..." / "#/definitions/..." only), default, and the annotations title,
// description, examples, $schema, $id, $comment, x-* (ignored). An unknown keyword in a schema is
// itself an error (check_schema), so a typo in a schema cannot silently disable a check.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace stox::core::config {

struct SchemaError {
    std::string pointer;  ///< JSON Pointer of the offending value in the instance ("" = root)
    std::string message;  ///< human-readable reason ("unknown key 'foo'", "must be >= 1")
};

/// Checks that `schema` only uses supported keywords and is well formed.
std::vector<SchemaError> check_schema(const nlohmann::json& schema);

/// Validates `instance` against `schema`. When `apply_defaults` is true, a missing property whose
/// schema has a "default" is inserted (recursively: defaults of nested objects are applied too,
/// and an absent object property whose schema has properties with defaults is created).
/// Returns every error found (does not stop at the first one).
std::vector<SchemaError> validate(const nlohmann::json& schema, nlohmann::json& instance,
                                  bool apply_defaults);

} // namespace stox::core::config
