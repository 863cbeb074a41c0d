// SPDX-License-Identifier: Apache-2.0
#include "plugin/manifest.hpp"

#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "config/manifest_schema.hpp"

namespace stox::core {
namespace {

using nlohmann::json;

std::string string_or_empty(const json& doc, const char* key) {
    if (doc.is_object()) {
        auto it = doc.find(key);
        if (it != doc.end() && it->is_string()) return it->get<std::string>();
    }
    return {};
}

std::vector<std::string> strings(const json& doc, const json::json_pointer& ptr) {
    std::vector<std::string> out;
    if (!doc.contains(ptr)) return out;
    for (const auto& v : doc.at(ptr))
        if (v.is_string()) out.push_back(v.get<std::string>());
    return out;
}

// nlohmann's message carries an "[json.exception.parse_error.101] " prefix meant for developers.
std::string syntax_message(const json::parse_error& e) {
    std::string what = e.what();
    if (auto pos = what.find("] "); what.starts_with("[json.exception") && pos != std::string::npos)
        what.erase(0, pos + 2);
    return "invalid JSON: " + what;
}

} // namespace

std::string ManifestError::to_string() const {
    return pointer.empty() ? message : pointer + ": " + message;
}

std::string ManifestResult::summary() const {
    std::string s;
    for (const auto& e : errors) s += (s.empty() ? "" : "; ") + e.to_string();
    return s;
}

ManifestResult parse_manifest(std::string_view text) {
    ManifestResult result;
    json doc;
    try {
        doc = json::parse(text.begin(), text.end());
    } catch (const json::parse_error& e) {
        result.errors.push_back({"", syntax_message(e)});
        return result;
    }
    result.id_hint = string_or_empty(doc, "id");
    result.version_hint = string_or_empty(doc, "version");
    result.name_hint = string_or_empty(doc, "name");

    // 1. Schema, and config_schema being a schema the validator fully understands (defaults
    // applied, so every optional key below is present afterwards).
    for (auto& e : config::validate_manifest(doc))
        result.errors.push_back({std::move(e.pointer), std::move(e.message)});
    if (!result.errors.empty()) return result;

    // 2. What the schema cannot say.
    Manifest m;
    m.document = doc;
    m.manifest_version = doc.at("manifest_version").get<std::uint32_t>();
    m.id = doc.at("id").get<std::string>();
    m.name = doc.at("name").get<std::string>();
    m.description = doc.value("description", "");
    m.version = doc.at("version").get<std::string>();
    m.license = doc.value("license", "");
    m.library = doc.at("library").get<std::string>();
    m.status = doc.value("status", "");
    m.security_posture = doc.value("security_posture", "");

    if (auto v = SemVer::parse(m.version))
        m.semver = *v;
    else
        result.errors.push_back({"/version", v.status().message()});

    constexpr auto kMaxAbi = std::numeric_limits<std::uint32_t>::max();
    const auto& abi = doc.at("abi");
    for (const char* key : {"major", "minor"}) {
        if (abi.at(key).get<std::uint64_t>() > kMaxAbi)
            result.errors.push_back({std::string("/abi/") + key, "ABI number too large"});
    }
    if (result.errors.empty()) {
        m.abi_major = abi.at("major").get<std::uint32_t>();
        m.abi_minor = abi.at("minor").get<std::uint32_t>();
    }

    std::set<std::string> dep_ids;
    const auto& reqs = doc.at("requires");
    for (std::size_t i = 0; i < reqs.size(); ++i) {
        const auto& r = reqs.at(i);
        const std::string at = "/requires/" + std::to_string(i);
        ManifestDependency dep;
        dep.id = r.at("id").get<std::string>();
        dep.optional = r.value("optional", false);
        if (dep.id == m.id) result.errors.push_back({at + "/id", "a plugin cannot require itself"});
        if (!dep_ids.insert(dep.id).second)
            result.errors.push_back({at + "/id", "'" + dep.id + "' is required twice"});
        auto range = VersionRange::parse(r.value("version", ""));
        if (range)
            dep.range = *range;
        else
            result.errors.push_back({at + "/version", range.status().message()});
        m.dependencies.push_back(std::move(dep));
    }

    m.provides = strings(doc, json::json_pointer("/provides"));
    if (doc.contains("claims")) {
        const auto& claims = doc.at("claims");
        for (const auto& c : claims.value("sip", json::array()))
            m.sip_claims.push_back({c.at("method").get<std::string>(), c.value("event", ""),
                                    c.value("sdp_media", "")});
        for (const auto& c : claims.value("xmpp", json::array())) {
            StanzaClaim sc;
            sc.name = c.at("name").get<std::string>();
            for (const auto& t : c.value("types", json::array()))
                sc.types.push_back(t.get<std::string>());
            sc.child_ns = c.value("child_ns", "");
            m.stanza_claims.push_back(std::move(sc));
        }
    }
    m.publishes = strings(doc, json::json_pointer("/events/publishes"));
    m.subscribes = strings(doc, json::json_pointer("/events/subscribes"));

    // The config section is a JSON object (site schema), so its schema must describe one.
    m.config_schema = doc.at("config_schema");
    if (auto it = m.config_schema.find("type");
        it != m.config_schema.end() && *it != json("object"))
        result.errors.push_back({"/config_schema/type",
                                 "config_schema must describe an object (\"type\": \"object\")"});

    if (result.errors.empty()) result.manifest = std::move(m);
    return result;
}

ManifestResult load_manifest(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        ManifestResult r;
        r.errors.push_back({"", "cannot read " + file.string()});
        return r;
    }
    std::ostringstream text;
    text << in.rdbuf();
    return parse_manifest(text.str());
}

std::filesystem::path library_path(const Manifest& manifest,
                                   const std::filesystem::path& manifest_file) {
    return manifest_file.parent_path() / (manifest.library + ".so");
}

} // namespace stox::core
