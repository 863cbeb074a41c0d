// SPDX-License-Identifier: Apache-2.0
#include "config/json_schema.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <string_view>

#include "config/json_pointer.hpp"

namespace stox::core::config {

using nlohmann::json;

namespace {

// Deeper nesting than this (of schemas through $ref, or of values) is reported, not followed:
// it bounds the recursion, so a "$ref": "#" loop or a hostile document cannot exhaust the stack.
constexpr int kMaxDepth = 128;
// libstdc++'s std::regex matcher recurses per input character; longer strings are refused
// rather than risking a stack overflow.
constexpr std::size_t kMaxPatternInput = 8192;
// How deep absent objects are created from defaults (bounds the work on recursive schemas).
constexpr int kMaxCreateDepth = 8;

const std::set<std::string, std::less<>> kTypeNames = {"null",   "boolean", "object", "array",
                                                       "number", "integer", "string"};

std::string quote(std::string_view s) {
    return "'" + std::string(s) + "'";
}

// A value for an error message: JSON text (so control characters are escaped), cut short.
std::string show_value(const json& v) {
    if (v.is_string()) {
        const auto& s = v.get_ref<const std::string&>();
        constexpr std::size_t kMax = 60;
        if (s.size() > kMax) {
            std::size_t cut = kMax;
            // Do not split a UTF-8 sequence (continuation bytes are 10xxxxxx).
            while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0U) == 0x80U) --cut;
            return json(s.substr(0, cut)).dump(-1, ' ', false, json::error_handler_t::replace) +
                   "...";
        }
    }
    std::string text = v.dump(-1, ' ', false, json::error_handler_t::replace);
    if (text.size() > 80) text = text.substr(0, 77) + "...";
    return text;
}

std::size_t utf8_length(const std::string& s) {
    std::size_t n = 0;
    for (char c : s)
        if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) ++n;
    return n;
}

// A non-negative integer keyword value (minLength, ...), whether parsed (unsigned) or built in
// code (signed).
std::optional<std::uint64_t> count_value(const json& v) {
    if (v.is_number_unsigned()) return v.get<std::uint64_t>();
    if (v.is_number_integer() && v.get<std::int64_t>() >= 0)
        return static_cast<std::uint64_t>(v.get<std::int64_t>());
    return std::nullopt;
}

bool is_integral(const json& v) {
    if (v.is_number_integer()) return true;
    if (!v.is_number_float()) return false;
    double d = v.get<double>();
    return std::isfinite(d) && std::floor(d) == d;
}

bool type_matches(const json& v, std::string_view type) {
    if (type == "null") return v.is_null();
    if (type == "boolean") return v.is_boolean();
    if (type == "object") return v.is_object();
    if (type == "array") return v.is_array();
    if (type == "number") return v.is_number();
    if (type == "integer") return is_integral(v); // JSON Schema: 1.0 is an integer
    if (type == "string") return v.is_string();
    return false;
}

// Exact three-way comparison of two JSON numbers (int64/uint64 are not rounded through double).
int compare_numbers(const json& a, const json& b) {
    if (a.is_number_integer() && b.is_number_integer()) {
        auto big = [](const json& v) {
            return v.is_number_unsigned() &&
                   v.get<std::uint64_t>() >
                       static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
        };
        if (big(a) || big(b)) {
            if (big(a) && big(b)) {
                auto x = a.get<std::uint64_t>(), y = b.get<std::uint64_t>();
                return x < y ? -1 : (x > y ? 1 : 0);
            }
            return big(a) ? 1 : -1;
        }
        auto x = a.get<std::int64_t>(), y = b.get<std::int64_t>();
        return x < y ? -1 : (x > y ? 1 : 0);
    }
    auto x = a.get<long double>(), y = b.get<long double>();
    return x < y ? -1 : (x > y ? 1 : 0);
}

// Levenshtein distance, for "did you mean" hints on unknown keys.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diag = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diag = up;
        }
    }
    return row[b.size()];
}

const json* resolve_ref(const json& root, const std::string& ref) {
    if (ref.empty() || ref.front() != '#') return nullptr;
    return find_pointer(root, std::string_view(ref).substr(1));
}

bool is_pure_required(const json& branch) {
    if (!branch.is_object() || !branch.contains("required")) return false;
    for (const auto& [k, v] : branch.items())
        if (k != "required" && k != "description" && k != "title" && k != "$comment") return false;
    return branch["required"].is_array() && branch["required"].size() == 1 &&
           branch["required"][0].is_string();
}

// State shared by a validation and the sub-validations of its anyOf/oneOf/not branches.
struct Shared {
    const json& root;
    std::map<std::string, std::unique_ptr<std::regex>, std::less<>> regexes;
    std::map<std::string, std::string, std::less<>> bad_regexes;
};

class Validator {
public:
    Validator(Shared& shared, bool defaults, std::vector<SchemaError>& errors, int create_depth = 0)
        : shared_(shared), defaults_(defaults), errors_(errors), create_depth_(create_depth) {}

    void run(const json& schema, json& inst, const std::string& ptr, int depth) {
        if (depth > kMaxDepth) {
            fail(ptr, "nested too deeply (schema $ref loop or value depth over " +
                          std::to_string(kMaxDepth) + ")");
            return;
        }
        if (schema.is_boolean()) {
            if (!schema.get<bool>()) fail(ptr, "is not allowed here");
            return;
        }
        if (!schema.is_object()) {
            fail(ptr, "invalid schema (neither an object nor a boolean)");
            return;
        }
        if (auto it = schema.find("$ref"); it != schema.end()) {
            const json* target =
                it->is_string() ? resolve_ref(shared_.root, it->get<std::string>()) : nullptr;
            if (!target)
                fail(ptr, "invalid schema: unresolvable $ref " + show_value(*it));
            else
                run(*target, inst, ptr, depth + 1);
        }
        if (!check_type(schema, inst, ptr)) return; // other keywords would only add noise
        check_const_enum(schema, inst, ptr);
        if (inst.is_number()) check_number(schema, inst, ptr);
        if (inst.is_string()) check_string(schema, inst, ptr);
        if (inst.is_array()) check_array(schema, inst, ptr, depth);
        if (inst.is_object()) check_object(schema, inst, ptr, depth);
        check_combinators(schema, inst, ptr, depth);
    }

private:
    void fail(const std::string& ptr, std::string message,
              SchemaError::Kind kind = SchemaError::Kind::Invalid) {
        errors_.push_back(SchemaError{ptr, std::move(message), kind});
    }

    bool check_type(const json& schema, const json& inst, const std::string& ptr) {
        auto it = schema.find("type");
        if (it == schema.end()) return true;
        std::vector<std::string> types;
        if (it->is_string())
            types.push_back(it->get<std::string>());
        else if (it->is_array())
            for (const auto& t : *it)
                if (t.is_string()) types.push_back(t.get<std::string>());
        for (const auto& t : types)
            if (type_matches(inst, t)) return true;
        std::string expected;
        for (std::size_t i = 0; i < types.size(); ++i) expected += (i ? " or " : "") + types[i];
        fail(ptr, "must be of type " + expected + ", got " + json_type_name(inst));
        return false;
    }

    void check_const_enum(const json& schema, const json& inst, const std::string& ptr) {
        if (auto it = schema.find("const"); it != schema.end() && inst != *it)
            fail(ptr, "must be " + show_value(*it) + ", got " + show_value(inst));
        if (auto it = schema.find("enum"); it != schema.end() && it->is_array()) {
            if (std::find(it->begin(), it->end(), inst) != it->end()) return;
            std::string list;
            for (std::size_t i = 0; i < it->size(); ++i)
                list += (i ? ", " : "") + show_value((*it)[i]);
            fail(ptr, "must be one of " + list + ", got " + show_value(inst));
        }
    }

    void check_number(const json& schema, const json& inst, const std::string& ptr) {
        struct Bound {
            const char* keyword;
            const char* op;
            bool (*ok)(int);
        };
        static constexpr Bound kBounds[] = {
            {"minimum", ">=", [](int c) { return c >= 0; }},
            {"maximum", "<=", [](int c) { return c <= 0; }},
            {"exclusiveMinimum", ">", [](int c) { return c > 0; }},
            {"exclusiveMaximum", "<", [](int c) { return c < 0; }},
        };
        for (const auto& b : kBounds) {
            auto it = schema.find(b.keyword);
            if (it == schema.end() || !it->is_number()) continue;
            if (!b.ok(compare_numbers(inst, *it)))
                fail(ptr,
                     std::string("must be ") + b.op + " " + it->dump() + ", got " + inst.dump());
        }
    }

    const std::regex* regex(const std::string& pattern, std::string& error) {
        if (auto it = shared_.regexes.find(pattern); it != shared_.regexes.end())
            return it->second.get();
        if (auto it = shared_.bad_regexes.find(pattern); it != shared_.bad_regexes.end()) {
            error = it->second;
            return nullptr;
        }
        try {
            auto re = std::make_unique<std::regex>(pattern, std::regex::ECMAScript);
            return shared_.regexes.emplace(pattern, std::move(re)).first->second.get();
        } catch (const std::regex_error& e) {
            error = e.what();
            shared_.bad_regexes.emplace(pattern, error);
            return nullptr;
        }
    }

    // Returns the problem with `text` against `pattern` ("" when it matches).
    std::string match_problem(const json& schema, const std::string& pattern,
                              const std::string& text) {
        std::string error;
        const std::regex* re = regex(pattern, error);
        if (!re) return "invalid schema: pattern " + quote(pattern) + " does not compile: " + error;
        if (text.size() > kMaxPatternInput)
            return "is too long (" + std::to_string(text.size()) +
                   " bytes) to be checked against its pattern";
        try {
            if (std::regex_search(text, *re)) return {};
        } catch (const std::regex_error& e) {
            return "could not be checked against pattern " + quote(pattern) + ": " + e.what();
        }
        auto hint = schema.find("x-pattern-description");
        if (hint != schema.end() && hint->is_string())
            return "must be " + hint->get<std::string>() + ", got " + show_value(json(text));
        return "must match the pattern " + quote(pattern) + ", got " + show_value(json(text));
    }

    // The value of a count keyword (minLength, ...), when present and well formed.
    static std::optional<std::uint64_t> count_of(const json& schema, const char* keyword) {
        auto it = schema.find(keyword);
        return it == schema.end() ? std::nullopt : count_value(*it);
    }

    static std::string plural(std::uint64_t n, const char* word) {
        return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
    }

    void check_string(const json& schema, const json& inst, const std::string& ptr) {
        const auto& s = inst.get_ref<const std::string&>();
        std::uint64_t length = utf8_length(s);
        if (auto n = count_of(schema, "minLength"); n && length < *n)
            fail(ptr, "must be at least " + plural(*n, "character") + " long");
        if (auto n = count_of(schema, "maxLength"); n && length > *n)
            fail(ptr, "must be at most " + plural(*n, "character") + " long, got " +
                          std::to_string(length));
        if (auto it = schema.find("pattern"); it != schema.end() && it->is_string()) {
            std::string problem = match_problem(schema, it->get<std::string>(), s);
            if (!problem.empty()) fail(ptr, problem);
        }
    }

    void check_array(const json& schema, json& inst, const std::string& ptr, int depth) {
        auto count = static_cast<std::uint64_t>(inst.size());
        if (auto n = count_of(schema, "minItems"); n && count < *n)
            fail(ptr, "must have at least " + plural(*n, "item"));
        if (auto n = count_of(schema, "maxItems"); n && count > *n)
            fail(ptr, "must have at most " + plural(*n, "item") + ", got " + std::to_string(count));
        if (auto it = schema.find("uniqueItems");
            it != schema.end() && it->is_boolean() && it->get<bool>()) {
            for (std::size_t j = 1; j < inst.size(); ++j)
                for (std::size_t i = 0; i < j; ++i)
                    if (inst[i] == inst[j]) {
                        fail(append_pointer(ptr, j),
                             "duplicates item " + std::to_string(i) + " (items must be unique)");
                        break;
                    }
        }
        if (auto it = schema.find("items"); it != schema.end())
            for (std::size_t i = 0; i < inst.size(); ++i)
                run(*it, inst[i], append_pointer(ptr, i), depth + 1);
    }

    // Follows a chain of $refs, for deciding whether an absent property can be created.
    const json* resolved(const json& schema) const {
        const json* s = &schema;
        for (int hops = 0; hops < kMaxDepth && s->is_object(); ++hops) {
            auto it = s->find("$ref");
            if (it == s->end() || !it->is_string()) return s;
            s = resolve_ref(shared_.root, it->get<std::string>());
            if (!s) return nullptr;
        }
        return s->is_object() ? s : nullptr;
    }

    void apply_defaults(const json& schema, json& inst, const std::string& ptr, int depth) {
        auto props = schema.find("properties");
        if (props == schema.end() || !props->is_object()) return;
        for (const auto& [name, sub] : props->items()) {
            if (inst.contains(name)) continue;
            const json* target = resolved(sub);
            if (!target) continue;
            if (auto d = sub.find("default"); sub.is_object() && d != sub.end()) {
                inst[name] = *d;
            } else if (auto td = target->find("default"); td != target->end()) {
                inst[name] = *td;
            } else if (target->contains("properties") && create_depth_ < kMaxCreateDepth) {
                auto type = target->find("type");
                if (type != target->end() && !(type->is_string() && *type == "object")) continue;
                // Create the object only when its defaults alone make it valid (an absent
                // section with required keys stays absent and is not reported here).
                json candidate = json::object();
                std::vector<SchemaError> scratch;
                Validator sub_validator(shared_, true, scratch, create_depth_ + 1);
                sub_validator.run(sub, candidate, append_pointer(ptr, name), depth + 1);
                if (scratch.empty() && candidate.is_object() && !candidate.empty())
                    inst[name] = std::move(candidate);
            }
        }
    }

    std::string suggestion(const json& schema, const std::string& key) const {
        auto props = schema.find("properties");
        if (props == schema.end() || !props->is_object()) return {};
        std::string best;
        std::size_t best_distance = 3; // only close misspellings
        for (const auto& [name, sub] : props->items()) {
            std::size_t d = edit_distance(key, name);
            // Short keys are "close" to everything: require most of the key to be right.
            if (d < best_distance && 2 * d < key.size()) {
                best_distance = d;
                best = name;
            }
        }
        return best.empty() ? std::string() : " (did you mean " + quote(best) + "?)";
    }

    void check_object(const json& schema, json& inst, const std::string& ptr, int depth) {
        if (auto it = schema.find("required"); it != schema.end() && it->is_array())
            for (const auto& key : *it)
                if (key.is_string() && !inst.contains(key.get<std::string>()))
                    fail(ptr, "missing required key " + quote(key.get<std::string>()),
                         SchemaError::Kind::MissingKey);
        if (defaults_) apply_defaults(schema, inst, ptr, depth);

        auto props = schema.find("properties");
        bool has_props = props != schema.end() && props->is_object();
        auto patterns = schema.find("patternProperties");
        bool has_patterns = patterns != schema.end() && patterns->is_object();
        auto additional = schema.find("additionalProperties");
        auto names = schema.find("propertyNames");

        for (auto& [key, value] : inst.items()) {
            std::string child = append_pointer(ptr, key);
            bool known = false;
            if (has_props) {
                if (auto p = props->find(key); p != props->end()) {
                    known = true;
                    run(*p, value, child, depth + 1);
                }
            }
            if (has_patterns) {
                for (const auto& [pattern, sub] : patterns->items()) {
                    std::string error;
                    const std::regex* re = regex(pattern, error);
                    if (!re) {
                        fail(child, "invalid schema: patternProperties key " + quote(pattern) +
                                        " does not compile: " + error);
                        continue;
                    }
                    bool matched = false;
                    try {
                        matched = key.size() <= kMaxPatternInput && std::regex_search(key, *re);
                    } catch (const std::regex_error& e) {
                        fail(child, "key could not be checked against " + quote(pattern) + ": " +
                                        e.what());
                    }
                    if (matched) {
                        known = true;
                        run(sub, value, child, depth + 1);
                    }
                }
            }
            if (names != schema.end()) {
                json key_json = key;
                std::vector<SchemaError> key_errors;
                Validator key_validator(shared_, false, key_errors, create_depth_);
                key_validator.run(*names, key_json, child, depth + 1);
                for (auto& e : key_errors)
                    fail(child, "invalid key " + show_value(key_json) + ": " + e.message);
            }
            if (known || additional == schema.end()) continue;
            if (additional->is_boolean() && !additional->get<bool>())
                fail(child, "unknown key " + quote(key) + suggestion(schema, key),
                     SchemaError::Kind::UnknownKey);
            else
                run(*additional, value, child, depth + 1);
        }

        auto count = static_cast<std::uint64_t>(inst.size());
        if (auto n = count_of(schema, "minProperties"); n && count < *n)
            fail(ptr, "must have at least " + plural(*n, "key"));
        if (auto n = count_of(schema, "maxProperties"); n && count > *n)
            fail(ptr, "must have at most " + plural(*n, "key") + ", got " + std::to_string(count));
    }

    // Runs one branch on a copy of the instance; the copy carries the branch's defaults.
    bool try_branch(const json& branch, const json& inst, const std::string& ptr, int depth,
                    json& result, std::vector<SchemaError>& errors) {
        result = inst;
        Validator branch_validator(shared_, defaults_, errors, create_depth_);
        branch_validator.run(branch, result, ptr, depth + 1);
        return errors.empty();
    }

    static std::string branch_summary(const std::vector<std::vector<SchemaError>>& errors) {
        std::string out;
        for (std::size_t i = 0; i < errors.size(); ++i) {
            if (errors[i].empty()) continue;
            const auto& e = errors[i].front();
            out += "; [" + std::to_string(i + 1) + "] " +
                   (e.pointer.empty() ? "" : e.pointer + ": ") + e.message;
        }
        return out;
    }

    void check_combinators(const json& schema, json& inst, const std::string& ptr, int depth) {
        if (auto it = schema.find("allOf"); it != schema.end() && it->is_array())
            for (const auto& branch : *it) run(branch, inst, ptr, depth + 1);

        for (const char* keyword : {"anyOf", "oneOf"}) {
            auto it = schema.find(keyword);
            if (it == schema.end() || !it->is_array() || it->empty()) continue;
            bool one = std::string_view(keyword) == "oneOf";
            std::vector<std::vector<SchemaError>> errors(it->size());
            std::vector<std::size_t> matched;
            json first_match;
            for (std::size_t i = 0; i < it->size(); ++i) {
                json result;
                if (try_branch((*it)[i], inst, ptr, depth, result, errors[i])) {
                    if (matched.empty()) first_match = std::move(result);
                    matched.push_back(i);
                    if (!one) break;
                }
            }
            if (one ? matched.size() == 1 : !matched.empty()) {
                inst = std::move(first_match);
                continue;
            }
            fail(ptr, combinator_message(*it, inst, one, matched, errors));
        }

        if (auto it = schema.find("not"); it != schema.end()) {
            json copy = inst;
            std::vector<SchemaError> errors;
            Validator not_validator(shared_, false, errors, create_depth_);
            not_validator.run(*it, copy, ptr, depth + 1);
            if (errors.empty()) fail(ptr, "must not match the schema given in 'not'");
        }
    }

    static std::string combinator_message(const json& branches, const json& inst, bool one,
                                          const std::vector<std::size_t>& matched,
                                          const std::vector<std::vector<SchemaError>>& errors) {
        // The common "exactly one of these keys" idiom gets a message in the operator's terms.
        if (inst.is_object() && std::all_of(branches.begin(), branches.end(), is_pure_required)) {
            std::string keys, present;
            std::size_t n_present = 0;
            for (std::size_t i = 0; i < branches.size(); ++i) {
                std::string key = branches[i]["required"][0].get<std::string>();
                keys += (i ? (i + 1 == branches.size() ? " or " : ", ") : "") + quote(key);
                if (inst.contains(key)) {
                    present += (n_present++ ? " and " : "") + quote(key);
                }
            }
            if (!one) return "one of " + keys + " must be given";
            if (n_present == 0) return "exactly one of " + keys + " must be given, found none";
            return "exactly one of " + keys + " must be given, found " + present;
        }
        if (one && matched.size() > 1) {
            std::string list;
            for (std::size_t i = 0; i < matched.size(); ++i)
                list += (i ? ", " : "") + std::to_string(matched[i] + 1);
            return "must match exactly one alternative (oneOf), but matches " + list;
        }
        return std::string("must match ") + (one ? "exactly one" : "at least one") + " of " +
               std::to_string(branches.size()) + " alternatives (" + (one ? "oneOf" : "anyOf") +
               ")" + branch_summary(errors);
    }

    Shared& shared_;
    bool defaults_;
    std::vector<SchemaError>& errors_;
    int create_depth_;
};

// ---- check_schema ----------------------------------------------------------------------------

class SchemaChecker {
public:
    SchemaChecker(const json& root, std::vector<SchemaError>& errors)
        : root_(root), errors_(errors) {}

    void check(const json& s, const std::string& ptr, int depth) {
        if (depth > kMaxDepth) {
            fail(ptr, "schema nested too deeply");
            return;
        }
        if (s.is_boolean()) return;
        if (!s.is_object()) {
            fail(ptr, "a schema must be an object or a boolean, got " + json_type_name(s));
            return;
        }
        for (const auto& [key, value] : s.items())
            check_keyword(key, value, append_pointer(ptr, key), depth);
    }

    // Second pass, on a well-formed schema: every default must satisfy its own schema.
    void check_defaults(const json& s, const std::string& ptr, int depth) {
        if (depth > kMaxDepth || !s.is_object()) return;
        if (auto d = s.find("default"); d != s.end()) {
            json value = *d;
            Shared shared{root_, {}, {}};
            std::vector<SchemaError> errors;
            Validator(shared, true, errors).run(s, value, "", 0);
            for (const auto& e : errors)
                fail(append_pointer(ptr, "default") + e.pointer,
                     "default value is invalid: " + e.message);
        }
        for_each_subschema(s, ptr, [&](const json& sub, const std::string& sub_ptr) {
            check_defaults(sub, sub_ptr, depth + 1);
        });
    }

private:
    template <class F>
    static void for_each_subschema(const json& s, const std::string& ptr, F&& f) {
        for (const char* map : {"properties", "patternProperties", "$defs", "definitions"}) {
            auto it = s.find(map);
            if (it == s.end() || !it->is_object()) continue;
            for (const auto& [name, sub] : it->items())
                f(sub, append_pointer(append_pointer(ptr, map), name));
        }
        for (const char* single : {"additionalProperties", "items", "not", "propertyNames"})
            if (auto it = s.find(single); it != s.end()) f(*it, append_pointer(ptr, single));
        for (const char* list : {"anyOf", "oneOf", "allOf"}) {
            auto it = s.find(list);
            if (it == s.end() || !it->is_array()) continue;
            for (std::size_t i = 0; i < it->size(); ++i)
                f((*it)[i], append_pointer(append_pointer(ptr, list), i));
        }
    }

    void fail(const std::string& ptr, std::string message) {
        errors_.push_back(SchemaError{ptr, std::move(message), SchemaError::Kind::Invalid});
    }

    void check_pattern(const json& value, const std::string& ptr) {
        if (!value.is_string()) {
            fail(ptr, "must be a string (a regular expression)");
            return;
        }
        try {
            std::regex re(value.get<std::string>(), std::regex::ECMAScript);
        } catch (const std::regex_error& e) {
            fail(ptr,
                 "pattern " + quote(value.get<std::string>()) + " does not compile: " + e.what());
        }
    }

    void check_schema_map(const json& value, const std::string& ptr, int depth, bool patterns) {
        if (!value.is_object()) {
            fail(ptr, "must be an object mapping names to schemas");
            return;
        }
        for (const auto& [name, sub] : value.items()) {
            std::string sub_ptr = append_pointer(ptr, name);
            if (patterns) check_pattern(json(name), sub_ptr);
            check(sub, sub_ptr, depth + 1);
        }
    }

    void check_keyword(const std::string& key, const json& value, const std::string& ptr,
                       int depth) {
        if (key.rfind("x-", 0) == 0) return; // extension annotations
        if (key == "type") {
            auto one = [&](const json& t) {
                if (!t.is_string() || !kTypeNames.count(t.get<std::string>()))
                    fail(ptr, "unknown type " + show_value(t));
            };
            if (value.is_array()) {
                if (value.empty()) fail(ptr, "must not be empty");
                for (const auto& t : value) one(t);
            } else {
                one(value);
            }
        } else if (key == "properties" || key == "$defs" || key == "definitions") {
            check_schema_map(value, ptr, depth, false);
        } else if (key == "patternProperties") {
            check_schema_map(value, ptr, depth, true);
        } else if (key == "items") {
            if (value.is_array())
                fail(ptr, "must be a schema (the array form is not supported)");
            else
                check(value, ptr, depth + 1);
        } else if (key == "additionalProperties" || key == "not" || key == "propertyNames") {
            check(value, ptr, depth + 1);
        } else if (key == "anyOf" || key == "oneOf" || key == "allOf") {
            if (!value.is_array() || value.empty()) {
                fail(ptr, "must be a non-empty array of schemas");
                return;
            }
            for (std::size_t i = 0; i < value.size(); ++i)
                check(value[i], append_pointer(ptr, i), depth + 1);
        } else if (key == "required") {
            if (!value.is_array()) {
                fail(ptr, "must be an array of key names");
                return;
            }
            std::set<std::string> seen;
            for (const auto& k : value)
                if (!k.is_string())
                    fail(ptr, "must contain only strings");
                else if (!seen.insert(k.get<std::string>()).second)
                    fail(ptr, "lists " + quote(k.get<std::string>()) + " twice");
        } else if (key == "enum") {
            if (!value.is_array() || value.empty()) fail(ptr, "must be a non-empty array");
        } else if (key == "const" || key == "default") {
            // any value; defaults are checked against their schema in a second pass
        } else if (key == "minimum" || key == "maximum" || key == "exclusiveMinimum" ||
                   key == "exclusiveMaximum") {
            if (!value.is_number()) fail(ptr, "must be a number");
        } else if (key == "minLength" || key == "maxLength" || key == "minItems" ||
                   key == "maxItems" || key == "minProperties" || key == "maxProperties") {
            if (!count_value(value)) fail(ptr, "must be a non-negative integer");
        } else if (key == "uniqueItems") {
            if (!value.is_boolean()) fail(ptr, "must be a boolean");
        } else if (key == "pattern") {
            check_pattern(value, ptr);
        } else if (key == "$ref") {
            if (!value.is_string())
                fail(ptr, "must be a string");
            else if (!resolve_ref(root_, value.get<std::string>()))
                fail(ptr, "cannot resolve " + show_value(value) +
                              " (only local references such as \"#/$defs/name\" are supported)");
        } else if (key == "title" || key == "description" || key == "$comment" ||
                   key == "$schema" || key == "$id") {
            if (!value.is_string()) fail(ptr, "must be a string");
        } else if (key == "examples") {
            if (!value.is_array()) fail(ptr, "must be an array");
        } else {
            fail(ptr, "unknown keyword " + quote(key));
        }
    }

    const json& root_;
    std::vector<SchemaError>& errors_;
};

} // namespace

std::string json_type_name(const json& value) {
    switch (value.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "boolean";
    case json::value_t::object: return "object";
    case json::value_t::array: return "array";
    case json::value_t::string: return "string";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "integer";
    case json::value_t::number_float: return "number";
    case json::value_t::binary: return "binary";
    case json::value_t::discarded: return "discarded";
    }
    return "unknown";
}

std::vector<SchemaError> check_schema(const json& schema) {
    std::vector<SchemaError> errors;
    SchemaChecker checker(schema, errors);
    checker.check(schema, "", 0);
    if (errors.empty()) checker.check_defaults(schema, "", 0);
    return errors;
}

std::vector<SchemaError> validate(const json& schema, json& instance, bool apply_defaults) {
    std::vector<SchemaError> errors;
    Shared shared{schema, {}, {}};
    Validator(shared, apply_defaults, errors).run(schema, instance, "", 0);
    return errors;
}

} // namespace stox::core::config
