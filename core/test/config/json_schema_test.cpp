// SPDX-License-Identifier: Apache-2.0
// The JSON Schema subset validator: every supported keyword, passing and failing, defaults,
// error collection and check_schema (house style §4.4 "Validation", §4.9 habit 7).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/json_schema.hpp"

namespace stox::core::config {
namespace {

using nlohmann::json;

// "pointer: message" for each error, in order.
std::vector<std::string> errors_of(const json& schema, json instance, bool defaults = false) {
    std::vector<std::string> out;
    for (const auto& e : validate(schema, instance, defaults))
        out.push_back(e.pointer + ": " + e.message);
    return out;
}

std::vector<std::string> errors_of(const char* schema, const char* instance) {
    return errors_of(json::parse(schema), json::parse(instance));
}

bool valid(const char* schema, const char* instance) {
    return errors_of(schema, instance).empty();
}

std::vector<std::string> schema_errors(const char* schema) {
    std::vector<std::string> out;
    for (const auto& e : check_schema(json::parse(schema)))
        out.push_back(e.pointer + ": " + e.message);
    return out;
}

using Errors = std::vector<std::string>;

// ---- type ----------------------------------------------------------------------------------

TEST(JsonSchemaType, EachTypeAcceptsItsValues) {
    EXPECT_TRUE(valid(R"({"type":"string"})", R"("x")"));
    EXPECT_TRUE(valid(R"({"type":"integer"})", "3"));
    EXPECT_TRUE(valid(R"({"type":"integer"})", "-3"));
    EXPECT_TRUE(valid(R"({"type":"integer"})", "3.0")); // JSON Schema: 3.0 is an integer
    EXPECT_TRUE(valid(R"({"type":"number"})", "3.5"));
    EXPECT_TRUE(valid(R"({"type":"number"})", "3"));
    EXPECT_TRUE(valid(R"({"type":"boolean"})", "false"));
    EXPECT_TRUE(valid(R"({"type":"null"})", "null"));
    EXPECT_TRUE(valid(R"({"type":"object"})", "{}"));
    EXPECT_TRUE(valid(R"({"type":"array"})", "[]"));
    EXPECT_TRUE(valid(R"({"type":["string","null"]})", "null"));
}

TEST(JsonSchemaType, MismatchNamesExpectedAndActualType) {
    EXPECT_EQ(errors_of(R"({"type":"integer"})", "3.5"),
              Errors{": must be of type integer, got number"});
    EXPECT_EQ(errors_of(R"({"type":"integer"})", R"("3")"),
              Errors{": must be of type integer, got string"});
    EXPECT_EQ(errors_of(R"({"type":"boolean"})", "0"),
              Errors{": must be of type boolean, got integer"});
    EXPECT_EQ(errors_of(R"({"type":"object"})", "[]"),
              Errors{": must be of type object, got array"});
    EXPECT_EQ(errors_of(R"({"type":"array"})", "{}"),
              Errors{": must be of type array, got object"});
    EXPECT_EQ(errors_of(R"({"type":"null"})", "true"),
              Errors{": must be of type null, got boolean"});
    EXPECT_EQ(errors_of(R"({"type":"string"})", "null"),
              Errors{": must be of type string, got null"});
    EXPECT_EQ(errors_of(R"({"type":["string","null"]})", "1"),
              Errors{": must be of type string or null, got integer"});
}

TEST(JsonSchemaType, TypeErrorSuppressesOtherKeywordsOfThatValue) {
    EXPECT_EQ(errors_of(R"({"type":"string","minLength":3,"enum":["abc"]})", "1"),
              Errors{": must be of type string, got integer"});
}

// ---- objects -------------------------------------------------------------------------------

TEST(JsonSchemaObject, PropertiesAreValidatedWithTheirPointer) {
    const char* s = R"({"type":"object","properties":{"a":{"type":"object","properties":
                        {"b":{"type":"integer"}}}}})";
    EXPECT_TRUE(valid(s, R"({"a":{"b":1}})"));
    EXPECT_TRUE(valid(s, R"({})"));
    EXPECT_EQ(errors_of(s, R"({"a":{"b":"x"}})"),
              Errors{"/a/b: must be of type integer, got string"});
}

TEST(JsonSchemaObject, PointerTokensAreEscaped) {
    const char* s = R"({"additionalProperties":{"type":"integer"}})";
    EXPECT_EQ(errors_of(s, R"({"a/b~c":"x"})"),
              Errors{"/a~1b~0c: must be of type integer, got string"});
}

TEST(JsonSchemaObject, AdditionalPropertiesFalseReportsUnknownKey) {
    const char* s = R"({"type":"object","additionalProperties":false,
                        "properties":{"level":{"type":"string"},"format":{"type":"string"}}})";
    EXPECT_TRUE(valid(s, R"({"level":"x"})"));
    json inst = json::parse(R"({"levle":"x","zzz":1})");
    auto errors = validate(json::parse(s), inst, false);
    ASSERT_EQ(errors.size(), 2U);
    EXPECT_EQ(errors[0].pointer, "/levle");
    EXPECT_EQ(errors[0].message, "unknown key 'levle' (did you mean 'level'?)");
    EXPECT_EQ(errors[0].kind, SchemaError::Kind::UnknownKey);
    EXPECT_EQ(errors[1].pointer, "/zzz");
    EXPECT_EQ(errors[1].message, "unknown key 'zzz'"); // nothing close enough to suggest
}

TEST(JsonSchemaObject, AdditionalPropertiesSchemaValidatesExtraKeys) {
    const char* s = R"({"properties":{"a":{"type":"string"}},
                        "additionalProperties":{"type":"integer"}})";
    EXPECT_TRUE(valid(s, R"({"a":"x","b":1,"c":2})"));
    EXPECT_EQ(errors_of(s, R"({"a":"x","b":"y"})"),
              Errors{"/b: must be of type integer, got string"});
}

TEST(JsonSchemaObject, AdditionalPropertiesTrueAllowsAnything) {
    EXPECT_TRUE(valid(R"({"properties":{},"additionalProperties":true})", R"({"x":[1]})"));
}

TEST(JsonSchemaObject, PatternPropertiesMatchKeysAndCountAsKnown) {
    const char* s = R"({"patternProperties":{"^x-":{"type":"string"}},
                        "additionalProperties":false})";
    EXPECT_TRUE(valid(s, R"({"x-a":"1","x-b":"2"})"));
    EXPECT_EQ(errors_of(s, R"({"x-a":1})"), Errors{"/x-a: must be of type string, got integer"});
    EXPECT_EQ(errors_of(s, R"({"y":"1"})"), Errors{"/y: unknown key 'y'"});
}

TEST(JsonSchemaObject, PropertyNamesChecksEveryKey) {
    const char* s = R"({"propertyNames":{"pattern":"^[a-z]+$","maxLength":3}})";
    EXPECT_TRUE(valid(s, R"({"abc":1})"));
    EXPECT_EQ(errors_of(s, R"({"Abc":1,"abcd":2})"),
              (Errors{"/Abc: invalid key \"Abc\": must match the pattern '^[a-z]+$', got \"Abc\"",
                      "/abcd: invalid key \"abcd\": must be at most 3 characters long, got 4"}));
}

TEST(JsonSchemaObject, RequiredReportsEachMissingKeyOnTheObject) {
    const char* s = R"({"properties":{"o":{"required":["a","b","c"]}}})";
    EXPECT_TRUE(valid(s, R"({"o":{"a":1,"b":2,"c":3}})"));
    json inst = json::parse(R"({"o":{"b":2}})");
    auto errors = validate(json::parse(s), inst, false);
    ASSERT_EQ(errors.size(), 2U);
    EXPECT_EQ(errors[0].pointer, "/o");
    EXPECT_EQ(errors[0].message, "missing required key 'a'");
    EXPECT_EQ(errors[0].kind, SchemaError::Kind::MissingKey);
    EXPECT_EQ(errors[1].message, "missing required key 'c'");
}

TEST(JsonSchemaObject, MinAndMaxProperties) {
    const char* s = R"({"minProperties":1,"maxProperties":2})";
    EXPECT_TRUE(valid(s, R"({"a":1})"));
    EXPECT_TRUE(valid(s, R"({"a":1,"b":2})"));
    EXPECT_EQ(errors_of(s, "{}"), Errors{": must have at least 1 key"});
    EXPECT_EQ(errors_of(s, R"({"a":1,"b":2,"c":3})"), Errors{": must have at most 2 keys, got 3"});
}

// ---- arrays --------------------------------------------------------------------------------

TEST(JsonSchemaArray, ItemsAreValidatedWithTheirIndex) {
    const char* s = R"({"type":"array","items":{"type":"string"}})";
    EXPECT_TRUE(valid(s, R"(["a","b"])"));
    EXPECT_EQ(errors_of(s, R"(["a",2,"c",true])"),
              (Errors{"/1: must be of type string, got integer",
                      "/3: must be of type string, got boolean"}));
}

TEST(JsonSchemaArray, MinAndMaxItems) {
    const char* s = R"({"minItems":1,"maxItems":2})";
    EXPECT_TRUE(valid(s, "[1]"));
    EXPECT_TRUE(valid(s, "[1,2]"));
    EXPECT_EQ(errors_of(s, "[]"), Errors{": must have at least 1 item"});
    EXPECT_EQ(errors_of(s, "[1,2,3]"), Errors{": must have at most 2 items, got 3"});
}

TEST(JsonSchemaArray, UniqueItemsPointsAtTheDuplicate) {
    const char* s = R"({"uniqueItems":true})";
    EXPECT_TRUE(valid(s, R"([1,"1",[1],{"a":1}])"));
    EXPECT_EQ(errors_of(s, R"(["a","b","a"])"),
              Errors{"/2: duplicates item 0 (items must be unique)"});
    EXPECT_EQ(errors_of(s, R"([{"a":1},{"a":1}])"),
              Errors{"/1: duplicates item 0 (items must be unique)"});
    EXPECT_TRUE(valid(R"({"uniqueItems":false})", "[1,1]"));
}

// ---- scalars -------------------------------------------------------------------------------

TEST(JsonSchemaScalar, Enum) {
    const char* s = R"({"enum":["a",1,null]})";
    EXPECT_TRUE(valid(s, R"("a")"));
    EXPECT_TRUE(valid(s, "1"));
    EXPECT_TRUE(valid(s, "null"));
    EXPECT_EQ(errors_of(s, R"("b")"), Errors{": must be one of \"a\", 1, null, got \"b\""});
}

TEST(JsonSchemaScalar, Const) {
    EXPECT_TRUE(valid(R"({"const":1})", "1"));
    EXPECT_TRUE(valid(R"({"const":1})", "1.0")); // numeric equality
    EXPECT_EQ(errors_of(R"({"const":1})", "2"), Errors{": must be 1, got 2"});
    EXPECT_EQ(errors_of(R"({"const":{"a":[1]}})", R"({"a":[2]})"),
              Errors{": must be {\"a\":[1]}, got {\"a\":[2]}"});
}

TEST(JsonSchemaScalar, MinimumAndMaximumAreInclusive) {
    const char* s = R"({"minimum":1,"maximum":64})";
    EXPECT_TRUE(valid(s, "1"));
    EXPECT_TRUE(valid(s, "64"));
    EXPECT_TRUE(valid(s, "1.5"));
    EXPECT_EQ(errors_of(s, "0"), Errors{": must be >= 1, got 0"});
    EXPECT_EQ(errors_of(s, "65"), Errors{": must be <= 64, got 65"});
    EXPECT_EQ(errors_of(s, "64.5"), Errors{": must be <= 64, got 64.5"});
}

TEST(JsonSchemaScalar, ExclusiveBoundsAreStrict) {
    const char* s = R"({"exclusiveMinimum":0,"exclusiveMaximum":1})";
    EXPECT_TRUE(valid(s, "0.5"));
    EXPECT_EQ(errors_of(s, "0"), Errors{": must be > 0, got 0"});
    EXPECT_EQ(errors_of(s, "1"), Errors{": must be < 1, got 1"});
}

TEST(JsonSchemaScalar, BoundsCompareLargeIntegersExactly) {
    // 2^63 + 1 and 2^63 - 1 differ from the bound by less than a double's precision there.
    EXPECT_EQ(errors_of(R"({"maximum":9223372036854775807})", "9223372036854775808"),
              Errors{": must be <= 9223372036854775807, got 9223372036854775808"});
    EXPECT_TRUE(valid(R"({"maximum":9223372036854775807})", "9223372036854775807"));
    EXPECT_TRUE(valid(R"({"minimum":-9223372036854775808})", "18446744073709551615"));
    EXPECT_EQ(errors_of(R"({"minimum":18446744073709551615})", "18446744073709551614"),
              Errors{": must be >= 18446744073709551615, got 18446744073709551614"});
}

TEST(JsonSchemaScalar, LengthCountsCodePoints) {
    const char* s = R"({"minLength":2,"maxLength":3})";
    EXPECT_TRUE(valid(s, R"("ab")"));
    EXPECT_TRUE(valid(s, "\"\xC3\xA9t\xC3\xA9\"")); // "été": 3 code points, 5 bytes
    EXPECT_EQ(errors_of(s, R"("a")"), Errors{": must be at least 2 characters long"});
    EXPECT_EQ(errors_of(s, R"("abcd")"), Errors{": must be at most 3 characters long, got 4"});
    EXPECT_EQ(errors_of(R"({"minLength":1})", R"("")"),
              Errors{": must be at least 1 character long"});
}

TEST(JsonSchemaScalar, PatternIsAnEcmaScriptSearch) {
    EXPECT_TRUE(valid(R"({"pattern":"b+"})", R"("abbbc")")); // not anchored (JSON Schema)
    EXPECT_TRUE(valid(R"({"pattern":"^[a-z]+(\\.[a-z]+)+$"})", R"("org.stoxgw")"));
    EXPECT_EQ(errors_of(R"({"pattern":"^[a-z]+$"})", R"("aB")"),
              Errors{": must match the pattern '^[a-z]+$', got \"aB\""});
}

TEST(JsonSchemaScalar, PatternDescriptionReplacesTheRawPatternInMessages) {
    EXPECT_EQ(errors_of(R"({"pattern":"^[0-9]+$","x-pattern-description":"a number in digits"})",
                        R"("12a")"),
              Errors{": must be a number in digits, got \"12a\""});
}

TEST(JsonSchemaScalar, LongValuesAreShortenedInMessages) {
    json inst = std::string(100, 'x');
    auto errors = errors_of(json::parse(R"({"pattern":"^y"})"), inst);
    ASSERT_EQ(errors.size(), 1U);
    EXPECT_EQ(errors[0], ": must match the pattern '^y', got \"" + std::string(60, 'x') + "\"...");
}

TEST(JsonSchemaScalar, HugeStringIsRefusedNotMatched) {
    // Guards libstdc++'s recursive regex matcher against stack exhaustion.
    json inst = std::string(100000, 'a');
    auto errors = errors_of(json::parse(R"({"pattern":"^a*$"})"), inst);
    ASSERT_EQ(errors.size(), 1U);
    EXPECT_EQ(errors[0], ": is too long (100000 bytes) to be checked against its pattern");
}

TEST(JsonSchemaScalar, ControlCharactersAreEscapedInMessages) {
    EXPECT_EQ(errors_of(R"({"enum":["a"]})", R"("x\ny")"),
              Errors{": must be one of \"a\", got \"x\\ny\""});
}

// ---- combinators ---------------------------------------------------------------------------

TEST(JsonSchemaCombinator, AllOfAppliesEverySchema) {
    const char* s = R"({"allOf":[{"minimum":1},{"maximum":3}]})";
    EXPECT_TRUE(valid(s, "2"));
    EXPECT_EQ(errors_of(s, "5"), Errors{": must be <= 3, got 5"});
}

TEST(JsonSchemaCombinator, AnyOfNeedsOneMatch) {
    const char* s = R"({"anyOf":[{"type":"string"},{"minimum":10}]})";
    EXPECT_TRUE(valid(s, R"("x")"));
    EXPECT_TRUE(valid(s, "11"));
    EXPECT_EQ(errors_of(s, "5"),
              Errors{": must match at least one of 2 alternatives (anyOf); [1] must be of type "
                     "string, got integer; [2] must be >= 10, got 5"});
}

TEST(JsonSchemaCombinator, OneOfNeedsExactlyOneMatch) {
    const char* s = R"({"oneOf":[{"type":"integer"},{"minimum":10}]})";
    EXPECT_TRUE(valid(s, "5"));
    EXPECT_TRUE(valid(s, "10.5"));
    EXPECT_EQ(errors_of(s, "11"),
              Errors{": must match exactly one alternative (oneOf), but matches 1, 2"});
    EXPECT_EQ(errors_of(s, "-0.5"),
              Errors{": must match exactly one of 2 alternatives (oneOf); [1] must be of type "
                     "integer, got number; [2] must be >= 10, got -0.5"});
}

TEST(JsonSchemaCombinator, OneOfOverRequiredKeysSpeaksInKeys) {
    const char* s =
        R"({"type":"object","oneOf":[{"required":["secret"]},{"required":["secret_file"]}]})";
    EXPECT_TRUE(valid(s, R"({"secret":"x"})"));
    EXPECT_TRUE(valid(s, R"({"secret_file":"/x"})"));
    EXPECT_EQ(errors_of(s, "{}"),
              Errors{": exactly one of 'secret' or 'secret_file' must be given, found none"});
    EXPECT_EQ(errors_of(s, R"({"secret":"x","secret_file":"/x"})"),
              Errors{": exactly one of 'secret' or 'secret_file' must be given, found 'secret' and "
                     "'secret_file'"});
    EXPECT_EQ(
        errors_of(R"({"anyOf":[{"required":["a"]},{"required":["b"]},{"required":["c"]}]})", "{}"),
        Errors{": one of 'a', 'b' or 'c' must be given"});
}

TEST(JsonSchemaCombinator, NotRejectsMatches) {
    const char* s = R"({"not":{"type":"string"}})";
    EXPECT_TRUE(valid(s, "1"));
    EXPECT_EQ(errors_of(s, R"("x")"), Errors{": must not match the schema given in 'not'"});
}

// ---- $ref and boolean schemas --------------------------------------------------------------

TEST(JsonSchemaRef, DefsAndDefinitionsResolve) {
    const char* s = R"({"$defs":{"port":{"type":"integer","maximum":65535}},
                        "definitions":{"name":{"type":"string"}},
                        "properties":{"p":{"$ref":"#/$defs/port"},"n":{"$ref":"#/definitions/name"}}})";
    EXPECT_TRUE(valid(s, R"({"p":5060,"n":"x"})"));
    EXPECT_EQ(
        errors_of(s, R"({"p":70000,"n":1})"),
        (Errors{"/n: must be of type string, got integer", "/p: must be <= 65535, got 70000"}));
}

TEST(JsonSchemaRef, RecursiveSchemaThroughRoot) {
    const char* s = R"({"type":"object","additionalProperties":false,
                        "properties":{"v":{"type":"integer"},"next":{"$ref":"#"}}})";
    EXPECT_TRUE(valid(s, R"({"v":1,"next":{"v":2,"next":{"v":3}}})"));
    EXPECT_EQ(errors_of(s, R"({"next":{"next":{"v":"x"}}})"),
              Errors{"/next/next/v: must be of type integer, got string"});
}

TEST(JsonSchemaRef, UnresolvableRefIsAnErrorNotACrash) {
    EXPECT_EQ(errors_of(R"({"$ref":"#/$defs/missing"})", "1"),
              Errors{": invalid schema: unresolvable $ref \"#/$defs/missing\""});
}

TEST(JsonSchemaRef, RefLoopIsCutOffNotFollowedForever) {
    auto errors = errors_of(R"({"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},
                                "$ref":"#/$defs/a"})",
                            "1");
    ASSERT_EQ(errors.size(), 1U);
    EXPECT_NE(errors[0].find("nested too deeply"), std::string::npos) << errors[0];
}

TEST(JsonSchemaRef, DeeplyNestedValueIsReportedNotOverflowed) {
    std::string deep = std::string(1000, '[') + std::string(1000, ']');
    auto errors = errors_of(json::parse(R"({"items":{"$ref":"#"}})"), json::parse(deep));
    ASSERT_EQ(errors.size(), 1U);
    EXPECT_NE(errors[0].find("nested too deeply"), std::string::npos) << errors[0];
}

TEST(JsonSchemaBoolean, TrueAcceptsAndFalseRejects) {
    EXPECT_TRUE(valid("true", R"({"a":1})"));
    EXPECT_EQ(errors_of(R"({"properties":{"a":false}})", R"({"a":1})"),
              Errors{"/a: is not allowed here"});
    EXPECT_TRUE(valid(R"({"properties":{"a":false}})", "{}"));
}

// ---- all errors are collected --------------------------------------------------------------

TEST(JsonSchemaErrors, EveryErrorIsReportedNotJustTheFirst) {
    const char* s = R"({"type":"object","additionalProperties":false,"required":["r"],
        "properties":{"a":{"type":"integer","minimum":0},"b":{"type":"array","items":{"enum":[1]}},
                      "c":{"type":"string","maxLength":1}}})";
    EXPECT_EQ(errors_of(s, R"({"a":-1,"b":[1,2,3],"c":"xy","d":0})"),
              (Errors{": missing required key 'r'", "/a: must be >= 0, got -1",
                      "/b/1: must be one of 1, got 2", "/b/2: must be one of 1, got 3",
                      "/c: must be at most 1 character long, got 2", "/d: unknown key 'd'"}));
}

// ---- defaults ------------------------------------------------------------------------------

const char* const kDefaultsSchema = R"({
  "type": "object", "additionalProperties": false,
  "properties": {
    "level": { "type": "string", "default": "info" },
    "log": { "type": "object", "properties": {
        "format": { "type": "string", "default": "text" },
        "deep": { "type": "object", "properties": { "x": { "type": "integer", "default": 7 } } } } },
    "component": { "type": "object", "required": ["secret"], "properties": {
        "secret": { "type": "string" }, "port": { "type": "integer", "default": 5347 } } },
    "list": { "type": "array", "default": [],
              "items": { "type": "object", "properties": { "optional": { "type": "boolean", "default": false } } } },
    "nodefault": { "type": "string" },
    "viaref": { "$ref": "#/$defs/r" }
  },
  "$defs": { "r": { "type": "integer", "default": 3 } }
})";

TEST(JsonSchemaDefaults, MissingKeysAreFilledRecursively) {
    json inst = json::object();
    auto errors = validate(json::parse(kDefaultsSchema), inst, true);
    EXPECT_TRUE(errors.empty());
    EXPECT_EQ(inst, json::parse(R"({"level":"info","log":{"format":"text","deep":{"x":7}},
                                    "list":[],"viaref":3})"));
}

TEST(JsonSchemaDefaults, ObjectWithRequiredKeysIsNotCreated) {
    json inst = json::object();
    ASSERT_TRUE(validate(json::parse(kDefaultsSchema), inst, true).empty());
    EXPECT_FALSE(inst.contains("component"));
    EXPECT_FALSE(inst.contains("nodefault"));
}

TEST(JsonSchemaDefaults, PresentValuesAreKeptAndPresentObjectsCompleted) {
    json inst = json::parse(R"({"level":"debug","log":{"deep":{}},"component":{"secret":"s"},
                                "list":[{},{"optional":true}]})");
    ASSERT_TRUE(validate(json::parse(kDefaultsSchema), inst, true).empty());
    EXPECT_EQ(inst["level"], "debug");
    EXPECT_EQ(inst["log"], json::parse(R"({"format":"text","deep":{"x":7}})"));
    EXPECT_EQ(inst["component"], json::parse(R"({"secret":"s","port":5347})"));
    EXPECT_EQ(inst["list"], json::parse(R"([{"optional":false},{"optional":true}])"));
}

TEST(JsonSchemaDefaults, NotAppliedWhenDisabled) {
    json inst = json::object();
    ASSERT_TRUE(validate(json::parse(kDefaultsSchema), inst, false).empty());
    EXPECT_EQ(inst, json::object());
}

TEST(JsonSchemaDefaults, RequiredIsCheckedBeforeDefaults) {
    // A required key must be written even when its schema has a default.
    json inst = json::object();
    auto errors = validate(
        json::parse(R"({"required":["a"],"properties":{"a":{"type":"integer","default":1}}})"),
        inst, true);
    ASSERT_EQ(errors.size(), 1U);
    EXPECT_EQ(errors[0].message, "missing required key 'a'");
}

TEST(JsonSchemaDefaults, MatchingOneOfBranchContributesItsDefaults) {
    const char* s = R"({"oneOf":[
        {"type":"object","required":["kind"],"properties":{"kind":{"const":"a"},"x":{"default":1}}},
        {"type":"object","required":["kind"],"properties":{"kind":{"const":"b"},"y":{"default":2}}}]})";
    json inst = json::parse(R"({"kind":"b"})");
    ASSERT_TRUE(validate(json::parse(s), inst, true).empty());
    EXPECT_EQ(inst, json::parse(R"({"kind":"b","y":2})"));
}

TEST(JsonSchemaDefaults, InvalidDefaultIsReportedWhenApplied) {
    json inst = json::object();
    auto errors = validate(json::parse(R"({"properties":{"n":{"type":"integer","default":"x"}}})"),
                           inst, true);
    ASSERT_EQ(errors.size(), 1U);
    EXPECT_EQ(errors[0].pointer, "/n");
}

// ---- check_schema --------------------------------------------------------------------------

TEST(JsonSchemaCheck, AcceptsEverySupportedKeyword) {
    EXPECT_EQ(schema_errors(R"({
      "$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "x", "$comment": "c",
      "title": "t", "description": "d", "examples": [1], "x-anything": {"weird": true},
      "type": ["object", "null"], "additionalProperties": false, "required": ["a"],
      "properties": { "a": { "type": "string", "minLength": 1, "maxLength": 9, "pattern": "^a",
                             "enum": ["a"], "const": "a", "default": "a" },
                      "n": { "type": "number", "minimum": 0, "maximum": 9.5, "exclusiveMinimum": -1,
                             "exclusiveMaximum": 10 },
                      "l": { "type": "array", "items": { "$ref": "#/$defs/i" }, "minItems": 0,
                             "maxItems": 3, "uniqueItems": true },
                      "o": { "patternProperties": { "^x": true }, "propertyNames": { "maxLength": 5 },
                             "minProperties": 0, "maxProperties": 2 },
                      "c": { "anyOf": [true], "oneOf": [{}], "allOf": [{}], "not": false } },
      "$defs": { "i": { "type": "integer" } }, "definitions": { "j": true }
    })"),
              Errors{});
}

TEST(JsonSchemaCheck, RejectsUnknownKeywordWithItsPointer) {
    EXPECT_EQ(schema_errors(R"({"properties":{"a":{"type":"string","minLenght":1}}})"),
              Errors{"/properties/a/minLenght: unknown keyword 'minLenght'"});
    EXPECT_EQ(schema_errors(R"({"format":"email"})"), Errors{"/format: unknown keyword 'format'"});
}

TEST(JsonSchemaCheck, RejectsMalformedKeywordValues) {
    EXPECT_EQ(schema_errors(R"({"type":"int"})"), Errors{"/type: unknown type \"int\""});
    EXPECT_EQ(schema_errors(R"({"type":[]})"), Errors{"/type: must not be empty"});
    EXPECT_EQ(schema_errors(R"({"minLength":-1})"),
              Errors{"/minLength: must be a non-negative integer"});
    EXPECT_EQ(schema_errors(R"({"maxItems":1.5})"),
              Errors{"/maxItems: must be a non-negative integer"});
    EXPECT_EQ(schema_errors(R"({"minimum":"1"})"), Errors{"/minimum: must be a number"});
    EXPECT_EQ(schema_errors(R"({"required":"a"})"),
              Errors{"/required: must be an array of key names"});
    EXPECT_EQ(schema_errors(R"({"required":["a","a"]})"), Errors{"/required: lists 'a' twice"});
    EXPECT_EQ(schema_errors(R"({"enum":[]})"), Errors{"/enum: must be a non-empty array"});
    EXPECT_EQ(schema_errors(R"({"uniqueItems":1})"), Errors{"/uniqueItems: must be a boolean"});
    EXPECT_EQ(schema_errors(R"({"anyOf":[]})"),
              Errors{"/anyOf: must be a non-empty array of schemas"});
    EXPECT_EQ(schema_errors(R"({"items":[{}]})"),
              Errors{"/items: must be a schema (the array form is not supported)"});
    EXPECT_EQ(schema_errors(R"({"properties":{"a":1}})"),
              Errors{"/properties/a: a schema must be an object or a boolean, got integer"});
    EXPECT_EQ(schema_errors(R"({"description":1})"), Errors{"/description: must be a string"});
    EXPECT_EQ(schema_errors("[]"), Errors{": a schema must be an object or a boolean, got array"});
}

TEST(JsonSchemaCheck, RejectsPatternsThatDoNotCompile) {
    auto errors = schema_errors(R"({"pattern":"(unclosed"})");
    ASSERT_EQ(errors.size(), 1U);
    EXPECT_EQ(errors[0].rfind("/pattern: pattern '(unclosed' does not compile", 0), 0U)
        << errors[0];
    errors = schema_errors(R"({"patternProperties":{"[":{}}})");
    ASSERT_EQ(errors.size(), 1U);
    EXPECT_EQ(errors[0].rfind("/patternProperties/[: pattern '[' does not compile", 0), 0U)
        << errors[0];
}

TEST(JsonSchemaCheck, RejectsRefsThatDoNotResolveOrAreRemote) {
    EXPECT_EQ(schema_errors(R"({"$ref":"#/$defs/nope"})"),
              Errors{"/$ref: cannot resolve \"#/$defs/nope\" (only local references such as "
                     "\"#/$defs/name\" are supported)"});
    EXPECT_EQ(schema_errors(R"({"$ref":"other.json#/a"})").size(), 1U);
}

TEST(JsonSchemaCheck, RejectsDefaultsThatViolateTheirSchema) {
    EXPECT_EQ(schema_errors(R"({"properties":{"t":{"type":"integer","minimum":1,"default":0}}})"),
              Errors{"/properties/t/default: default value is invalid: must be >= 1, got 0"});
    EXPECT_EQ(
        schema_errors(R"({"properties":{"o":{"additionalProperties":false,"default":{"x":1}}}})"),
        Errors{"/properties/o/default/x: default value is invalid: unknown key 'x'"});
}

TEST(JsonSchemaCheck, ChecksNestedSchemasEverywhere) {
    EXPECT_EQ(
        schema_errors(R"({"items":{"bogus":1},"not":{"bogus":2},"oneOf":[{"bogus":3}],
                                "additionalProperties":{"bogus":4},"$defs":{"d":{"bogus":5}},
                                "propertyNames":{"bogus":6}})"),
        (Errors{"/$defs/d/bogus: unknown keyword 'bogus'",
                "/additionalProperties/bogus: unknown keyword 'bogus'",
                "/items/bogus: unknown keyword 'bogus'", "/not/bogus: unknown keyword 'bogus'",
                "/oneOf/0/bogus: unknown keyword 'bogus'",
                "/propertyNames/bogus: unknown keyword 'bogus'"}));
}

TEST(JsonSchemaTypeName, NamesEveryJsonType) {
    EXPECT_EQ(json_type_name(json(nullptr)), "null");
    EXPECT_EQ(json_type_name(json(true)), "boolean");
    EXPECT_EQ(json_type_name(json(1)), "integer");
    EXPECT_EQ(json_type_name(json(1U)), "integer");
    EXPECT_EQ(json_type_name(json(1.5)), "number");
    EXPECT_EQ(json_type_name(json("s")), "string");
    EXPECT_EQ(json_type_name(json::array()), "array");
    EXPECT_EQ(json_type_name(json::object()), "object");
}

} // namespace
} // namespace stox::core::config
