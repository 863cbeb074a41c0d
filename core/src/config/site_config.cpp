// SPDX-License-Identifier: Apache-2.0
#include "config/site_config.hpp"

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <system_error>

#include "config/json_pointer.hpp"
#include "config/json_schema.hpp"

namespace stox::core::config {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const char* const kSiteSchemaText =
#include "schemas/stoxgw-1.schema.json.inc"
    ;

// A configuration file is a few kilobytes; anything this large is a mistake (a log file or a
// binary named *.json), and reading it whole would be too.
constexpr std::uintmax_t kMaxFileBytes = 16U * 1024U * 1024U;

struct Source {
    std::string name;
    std::string text;
    bool read = false;
};

// pointer -> every file that set it, in merge order; the last one holds the merged value.
using Provenance = std::map<std::string, std::vector<std::string>, std::less<>>;

// nlohmann's exception texts start with "[json.exception.parse_error.101] parse error at line
// 2, column 8: "; keep only the reason, the position is reported separately.
std::string exception_reason(const std::string& what) {
    std::string s = what;
    if (!s.empty() && s.front() == '[') {
        auto close = s.find("] ");
        if (close != std::string::npos) s = s.substr(close + 2);
    }
    if (s.rfind("parse error", 0) == 0) {
        auto colon = s.find(": ");
        if (colon != std::string::npos) s = s.substr(colon + 2);
    }
    return s;
}

// nlohmann's parse_error::byte is the 1-based index of the last byte read, i.e. the offending
// one. Columns count characters (UTF-8 continuation bytes do not start a new column).
std::pair<std::size_t, std::size_t> line_column(const std::string& text, std::size_t byte) {
    std::size_t end = std::min(byte == 0 ? std::size_t{0} : byte - 1, text.size());
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < end; ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else if ((static_cast<unsigned char>(text[i]) & 0xC0U) != 0x80U) {
            ++column;
        }
    }
    return {line, column};
}

// Deeper documents are refused while parsing: nlohmann::json copies and the provenance walk
// recurse per level, and no configuration needs more than a handful of levels.
constexpr std::size_t kMaxNesting = 64;

struct NestingTooDeep {
    std::string pointer;
};

// Tracks the position in the document during parsing to report duplicate keys, which
// nlohmann::json would otherwise resolve silently (the later one wins), and to stop at
// kMaxNesting.
class DuplicateKeyTracker {
public:
    DuplicateKeyTracker(const std::string& file, std::vector<ConfigError>& errors)
        : file_(file), errors_(errors) {}

    bool operator()(int /*depth*/, json::parse_event_t event, json& parsed) {
        switch (event) {
        case json::parse_event_t::object_start:
            stack_.push_back({true, next_pointer(), {}, {}, 0});
            break;
        case json::parse_event_t::array_start:
            stack_.push_back({false, next_pointer(), {}, {}, 0});
            break;
        case json::parse_event_t::object_end:
        case json::parse_event_t::array_end:
            if (!stack_.empty()) stack_.pop_back();
            break;
        case json::parse_event_t::key:
            if (!stack_.empty() && parsed.is_string()) {
                auto& top = stack_.back();
                top.key = parsed.get<std::string>();
                if (!top.keys.insert(top.key).second)
                    errors_.push_back(ConfigError{file_, append_pointer(top.pointer, top.key),
                                                  "duplicate key '" + top.key +
                                                      "' (only the last value would be used)",
                                                  0, 0});
            }
            break;
        case json::parse_event_t::value:
            if (!stack_.empty() && !stack_.back().object) ++stack_.back().next_index;
            break;
        }
        return true;
    }

private:
    struct Frame {
        bool object;
        std::string pointer;
        std::set<std::string> keys;
        std::string key;
        std::size_t next_index;
    };

    std::string next_pointer() {
        if (stack_.size() >= kMaxNesting) throw NestingTooDeep{stack_.back().pointer};
        if (stack_.empty()) return {};
        auto& top = stack_.back();
        if (top.object) return append_pointer(top.pointer, top.key);
        return append_pointer(top.pointer, top.next_index++);
    }

    const std::string& file_;
    std::vector<ConfigError>& errors_;
    std::vector<Frame> stack_;
};

// Parses one file; false (with an error) on a syntax error or a top level that is no object.
bool parse_source(const Source& source, json& out, std::vector<ConfigError>& errors) {
    DuplicateKeyTracker tracker(source.name, errors);
    try {
        out = json::parse(source.text, std::ref(tracker), true, false);
    } catch (const json::parse_error& e) {
        auto [line, column] = line_column(source.text, e.byte);
        errors.push_back(ConfigError{source.name, "", exception_reason(e.what()), line, column});
        return false;
    } catch (const json::exception& e) {
        errors.push_back(ConfigError{source.name, "", exception_reason(e.what()), 0, 0});
        return false;
    } catch (const NestingTooDeep& e) {
        errors.push_back(
            ConfigError{source.name, e.pointer,
                        "nested deeper than " + std::to_string(kMaxNesting) + " levels", 0, 0});
        return false;
    }
    if (!out.is_object()) {
        errors.push_back(
            ConfigError{source.name, "",
                        "the top level must be a JSON object, got " + json_type_name(out), 0, 0});
        return false;
    }
    return true;
}

bool read_file(const fs::path& path, std::string& out, std::vector<ConfigError>& errors) {
    auto fail = [&](const std::string& message) {
        errors.push_back(ConfigError{path.string(), "", message, 0, 0});
        return false;
    };
    std::error_code ec;
    auto status = fs::status(path, ec);
    if (status.type() == fs::file_type::not_found) return fail("no such file");
    if (ec) return fail("cannot read: " + ec.message());
    if (fs::is_directory(status)) return fail("is a directory, not a file");
    auto size = fs::file_size(path, ec);
    if (!ec && size > kMaxFileBytes) return fail("is larger than 16 MiB");
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail("cannot open: " + std::generic_category().message(errno));
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) return fail("cannot read: " + std::generic_category().message(errno));
    out = text.str();
    return true;
}

std::vector<fs::path> list_fragments(const fs::path& dir, bool explicitly_given,
                                     std::vector<ConfigError>& errors) {
    std::vector<fs::path> out;
    auto fail = [&](const std::string& message) {
        errors.push_back(ConfigError{dir.string(), "", message, 0, 0});
    };
    std::error_code ec;
    auto status = fs::status(dir, ec);
    if (status.type() == fs::file_type::not_found) {
        if (explicitly_given) fail("fragments directory does not exist");
        return out;
    }
    if (ec) {
        fail("cannot read fragments directory: " + ec.message());
        return out;
    }
    if (!fs::is_directory(status)) {
        fail("is not a directory (expected a directory of *.json fragments)");
        return out;
    }
    fs::directory_iterator it(dir, ec);
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
        const auto& path = it->path();
        std::string name = path.filename().string();
        // Dot files are editor droppings and package-manager leftovers, never fragments.
        if (name.empty() || name.front() == '.' || path.extension() != ".json") continue;
        std::error_code type_ec;
        if (!it->is_regular_file(type_ec)) {
            errors.push_back(ConfigError{path.string(), "",
                                         "is not a regular file (a *.json entry in the fragments "
                                         "directory must be a file)",
                                         0, 0});
            continue;
        }
        out.push_back(path);
    }
    if (ec) fail("cannot list fragments directory: " + ec.message());
    std::sort(out.begin(), out.end(), [](const fs::path& a, const fs::path& b) {
        return a.filename().string() < b.filename().string();
    });
    return out;
}

void add_file(std::vector<std::string>& files, const std::string& file) {
    files.erase(std::remove(files.begin(), files.end(), file), files.end());
    files.push_back(file);
}

void erase_below(Provenance& prov, const std::string& ptr) {
    std::string prefix = ptr + "/";
    auto it = prov.lower_bound(prefix);
    while (it != prov.end() && it->first.compare(0, prefix.size(), prefix) == 0)
        it = prov.erase(it);
}

// Records `file` as the sole source of every pointer strictly below `ptr` in `value`.
void record_below(Provenance& prov, const json& value, const std::string& ptr,
                  const std::string& file) {
    if (value.is_object()) {
        for (const auto& [key, child] : value.items()) {
            std::string p = append_pointer(ptr, key);
            prov[p] = {file};
            record_below(prov, child, p, file);
        }
    } else if (value.is_array()) {
        for (std::size_t i = 0; i < value.size(); ++i) {
            std::string p = append_pointer(ptr, i);
            prov[p] = {file};
            record_below(prov, value[i], p, file);
        }
    }
}

// Objects merge key by key; anything else replaces (house style §4.4 (b)).
void merge_into(json& base, const json& overlay, const std::string& ptr, const std::string& file,
                Provenance& prov) {
    for (const auto& [key, value] : overlay.items()) {
        std::string p = append_pointer(ptr, key);
        auto existing = base.find(key);
        if (existing != base.end() && existing->is_object() && value.is_object()) {
            add_file(prov[p], file);
            merge_into(*existing, value, p, file, prov);
            continue;
        }
        base[key] = value;
        erase_below(prov, p);
        add_file(prov[p], file);
        record_below(prov, value, p, file);
    }
}

// The files recorded for `ptr` or, failing that, its nearest recorded ancestor.
const std::vector<std::string>* nearest_sources(const Provenance& prov, std::string ptr) {
    while (true) {
        auto it = prov.find(ptr);
        if (it != prov.end() && !it->second.empty()) return &it->second;
        if (ptr.empty()) return nullptr;
        ptr = parent_pointer(ptr);
    }
}

// Checks the schema cannot express.
void check_semantics(const json& doc, std::vector<SchemaError>& errors) {
    const json* component = find_pointer(doc, "/xmpp/component");
    if (component && component->is_object()) {
        auto lo = component->find("reconnect_min_ms");
        auto hi = component->find("reconnect_max_ms");
        if (lo != component->end() && hi != component->end() && lo->is_number() &&
            hi->is_number() && lo->get<double>() > hi->get<double>())
            errors.push_back(SchemaError{"/xmpp/component/reconnect_min_ms",
                                         "must not exceed reconnect_max_ms (" + hi->dump() + ")",
                                         SchemaError::Kind::Invalid});
    }
}

LoadResult load_sources(const std::vector<Source>& sources, std::vector<ConfigError> errors) {
    LoadResult result;
    std::vector<json> docs(sources.size());
    bool all_parsed = true;
    for (std::size_t i = 0; i < sources.size(); ++i)
        if (!sources[i].read || !parse_source(sources[i], docs[i], errors)) all_parsed = false;
    // After a syntax or I/O error, schema errors would be misleading (keys of the broken file
    // would be reported missing): report what is broken and stop.
    if (!all_parsed || sources.empty()) {
        result.errors = std::move(errors);
        return result;
    }

    const std::string& main = sources.front().name;
    json merged = std::move(docs.front());
    Provenance prov;
    prov[""] = {main};
    record_below(prov, merged, "", main);
    for (std::size_t i = 1; i < sources.size(); ++i)
        merge_into(merged, docs[i], "", sources[i].name, prov);

    auto schema_errors = validate(site_schema(), merged, true);
    if (schema_errors.empty()) check_semantics(merged, schema_errors);

    for (auto& e : schema_errors) {
        const auto* files = nearest_sources(prov, e.pointer);
        switch (e.kind) {
        case SchemaError::Kind::UnknownKey: {
            // Every file that holds the unknown key gets the error, so fixing one file does
            // not reveal the same mistake in another on the next run.
            auto exact = prov.find(e.pointer);
            if (exact != prov.end() && !exact->second.empty()) {
                for (const auto& f : exact->second)
                    errors.push_back(ConfigError{f, e.pointer, e.message, 0, 0});
                continue;
            }
            break;
        }
        case SchemaError::Kind::MissingKey:
            // A missing key belongs in the main file, unless only fragments hold the object.
            if (!files || std::find(files->begin(), files->end(), main) != files->end()) {
                errors.push_back(ConfigError{main, e.pointer, e.message, 0, 0});
                continue;
            }
            break;
        case SchemaError::Kind::Invalid: break;
        }
        errors.push_back(ConfigError{files ? files->back() : main, e.pointer, e.message, 0, 0});
    }

    // Group errors by file, in merge order (errors about other paths, e.g. the fragments
    // directory, come last); keep the validator's order within a file.
    auto rank = [&](const ConfigError& e) {
        for (std::size_t i = 0; i < sources.size(); ++i)
            if (sources[i].name == e.file) return i;
        return sources.size();
    };
    std::stable_sort(errors.begin(), errors.end(),
                     [&](const ConfigError& a, const ConfigError& b) { return rank(a) < rank(b); });

    if (!errors.empty()) {
        result.errors = std::move(errors);
        return result;
    }
    SiteConfig config;
    config.doc = std::move(merged);
    for (const auto& s : sources) config.files.emplace_back(s.name);
    for (const auto& [ptr, files] : prov)
        if (!files.empty()) config.provenance.emplace_back(ptr, files.back());
    result.config = std::move(config);
    return result;
}

} // namespace

std::string ConfigError::to_string() const {
    std::string out = file;
    if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
    if (!out.empty()) out += ": ";
    if (!pointer.empty()) out += pointer + ": ";
    return out + message;
}

std::string SiteConfig::source_of(const std::string& pointer) const {
    std::string ptr = pointer;
    while (true) {
        auto it = std::lower_bound(provenance.begin(), provenance.end(), ptr,
                                   [](const std::pair<std::string, std::string>& e,
                                      const std::string& p) { return e.first < p; });
        if (it != provenance.end() && it->first == ptr) return it->second;
        if (ptr.empty()) break;
        ptr = parent_pointer(ptr);
    }
    return files.empty() ? std::string() : files.front().string();
}

const json& site_schema() {
    // Parsed once; the text is compiled in and checked by the test suite, so a parse failure
    // here is a build defect and the exception is allowed to surface.
    static const json schema = json::parse(kSiteSchemaText);
    return schema;
}

fs::path default_fragments_dir(const fs::path& file) {
    return file.parent_path() / "conf.d";
}

LoadResult load_site_config(const fs::path& file, const std::optional<fs::path>& fragments_dir) {
    std::vector<ConfigError> errors;
    std::vector<Source> sources;
    Source main{file.string(), {}, false};
    main.read = read_file(file, main.text, errors);
    sources.push_back(std::move(main));
    fs::path dir = fragments_dir ? *fragments_dir : default_fragments_dir(file);
    for (const auto& path : list_fragments(dir, fragments_dir.has_value(), errors)) {
        Source fragment{path.string(), {}, false};
        fragment.read = read_file(path, fragment.text, errors);
        sources.push_back(std::move(fragment));
    }
    return load_sources(sources, std::move(errors));
}

LoadResult load_site_config_text(const std::string& text, const std::string& name) {
    return load_sources({Source{name, text, true}}, {});
}

} // namespace stox::core::config
