// SPDX-License-Identifier: Apache-2.0
// A small JSON Schema validator for the subset our schemas use (pboettch/json-schema-validator
// is not packaged in Debian 12). Supported keywords: type (string or array), properties,
// patternProperties, additionalProperties (bool or schema), propertyNames, required, items
// (schema), enum, const, minimum, maximum, exclusiveMinimum, exclusiveMaximum (numbers, as in
// draft 6+), minLength, maxLength (in code points), pattern (ECMAScript via std::regex, not
// anchored), minItems, maxItems, uniqueItems, minProperties, maxProperties, anyOf, oneOf, allOf,
// not, $ref (local "#", "#/$defs/..." / "#/definitions/..." only), $defs, definitions, default,
// boolean schemas, and the annotations title, description, examples, $schema, $id, $comment,
// x-* (ignored by validation). An unknown keyword in a schema is itself an error
// (check_schema), so a typo in a schema cannot silently disable a check.
//
// Annotations with a meaning here: "x-pattern-description" (text used instead of the raw
// pattern in error messages and docs: "must be <text>"), "x-doc-intro" (array of Markdown lines
// put at the top of a rendered reference), "x-doc-key" (placeholder naming the keys of an
// additionalProperties map in docs, "<plugin-id>").
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace stox::core::config {

struct SchemaError {
    /// What went wrong, so callers can attribute the error (the config loader blames the file
    /// that introduced an unknown key, and the main file for a missing one).
    enum class Kind {
        Invalid,    ///< the value at `pointer` violates a keyword
        UnknownKey, ///< `pointer` names a key additionalProperties:false does not allow
        MissingKey, ///< `pointer` names the object lacking a required key
    };
    std::string pointer; ///< JSON Pointer of the offending value in the instance ("" = root)
    std::string message; ///< human-readable reason ("unknown key 'foo'", "must be >= 1")
    Kind kind = Kind::Invalid;
};

/// Checks that `schema` only uses supported keywords and is well formed (keyword values of the
/// right type, patterns that compile, $refs that resolve, defaults valid against their own
/// schema). Pointers in the errors point into the schema.
std::vector<SchemaError> check_schema(const nlohmann::json& schema);

/// Validates `instance` against `schema`. When `apply_defaults` is true, a missing property whose
/// schema has a "default" is inserted (recursively: defaults of nested objects are applied too,
/// and an absent object property whose schema has properties with defaults is created, provided
/// the created object is valid on its own, e.g. has no required keys).
/// `required` is checked before defaults are inserted: a required key must be written.
/// Returns every error found (does not stop at the first one). `schema` should have passed
/// check_schema; a malformed schema yields errors, never a crash.
std::vector<SchemaError> validate(const nlohmann::json& schema, nlohmann::json& instance,
                                  bool apply_defaults);

/// The JSON type name of a value as schemas spell it ("integer" for 3, "number" for 3.5).
std::string json_type_name(const nlohmann::json& value);

} // namespace stox::core::config
