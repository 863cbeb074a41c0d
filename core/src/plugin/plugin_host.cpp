// SPDX-License-Identifier: Apache-2.0
#include "plugin/plugin_host.hpp"

#include <algorithm>
#include <future>
#include <map>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include "bus/claim_table.hpp"
#include "bus/noexcept_log.hpp"
#include "config/json_pointer.hpp"
#include "config/json_schema.hpp"
#include "plugin/dependency_graph.hpp"
#include "runtime/metrics_registry.hpp"
#include "stox/sdk/plugin.hpp"

namespace stox::core {

namespace fs = std::filesystem;
using detail::log_noexcept;
using nlohmann::json;

struct PluginHost::Entry {
    PluginRecord record;              ///< guarded by PluginHost::mu_
    std::optional<Manifest> manifest; ///< set when the manifest is valid
    json config = json::object();     ///< validated, defaults applied (load_all)
    const stox_plugin_descriptor_v1* descriptor = nullptr;
    std::unique_ptr<TaggedLogger> strand_log; ///< the strand's logger; outlives the strand
    std::shared_ptr<PluginStrand> strand;
    std::unique_ptr<PluginContextImpl> context;
    sdk::Plugin* plugin = nullptr; ///< from descriptor->create(); freed by descriptor->destroy()
    /// start() or stop() timed out: the plugin may still be running, so its object, context and
    /// logger are never freed or touched again.
    bool abandoned = false;
};

namespace {

// Calls into the plugin go through pointers to members whose type is potentially-throwing.
// Plugin::start/stop are declared noexcept, but a plugin built against a mismatched header, or
// not in C++ at all, may still throw. Called directly, the compiler may drop the handler around
// a call it knows cannot throw; through these pointers (volatile, so the optimiser cannot fold
// them back into a direct call) the try/catch stays real (house style §4.6: "the core still
// wraps calls in try/catch(...)").
using StartFn = sdk::Status (sdk::Plugin::*)(sdk::PluginContext&);
using StopFn = void (sdk::Plugin::*)();
StartFn volatile kStart = &sdk::Plugin::start;
StopFn volatile kStop = &sdk::Plugin::stop;

std::string plugin_pointer(std::string_view id) {
    return config::append_pointer("/plugins", id);
}

const json* plugin_section(const config::SiteConfig* site, const std::string& id) {
    if (site == nullptr) return nullptr;
    auto it = site->doc.find("plugins");
    if (it == site->doc.end() || !it->is_object()) return nullptr;
    auto sec = it->find(id);
    return sec != it->end() && sec->is_object() ? &*sec : nullptr;
}

bool flag(const json* section, const char* key, bool fallback) {
    if (section == nullptr) return fallback;
    auto it = section->find(key);
    return it != section->end() && it->is_boolean() ? it->get<bool>() : fallback;
}

std::string what_of(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        return ex.what();
    } catch (...) {
        return "non-standard exception";
    }
}

} // namespace

std::string_view to_string(PluginState state) noexcept {
    switch (state) {
    case PluginState::Discovered: return "discovered";
    case PluginState::Disabled: return "disabled";
    case PluginState::Refused: return "refused";
    case PluginState::Loaded: return "loaded";
    case PluginState::Started: return "started";
    case PluginState::Declined: return "declined";
    case PluginState::Failed: return "failed";
    case PluginState::Stopped: return "stopped";
    }
    return "unknown";
}

json to_json(const std::vector<PluginRecord>& records) {
    json out = json::array();
    for (const auto& r : records) {
        out.push_back({{"id", r.id},
                       {"name", r.name},
                       {"version", r.version},
                       {"abi", {{"major", r.abi_major}, {"minor", r.abi_minor}}},
                       {"state", std::string(to_string(r.state))},
                       {"reason", r.reason},
                       {"required", r.required},
                       {"library", r.library_path.string()},
                       {"manifest", r.manifest_path.string()}});
    }
    return out;
}

PluginHostOptions PluginHostOptions::from_site(const config::SiteConfig& site) {
    PluginHostOptions o;
    const json core = site.doc.value("core", json::object());
    if (core.is_object()) {
        if (auto it = core.find("plugin_queue_limit"); it != core.end() && it->is_number_unsigned())
            o.plugin_queue_limit = it->get<std::size_t>();
        if (auto it = core.find("shutdown_timeout_ms");
            it != core.end() && it->is_number_unsigned())
            o.stop_timeout = std::chrono::milliseconds(it->get<std::int64_t>());
    }
    return o;
}

PluginHost::PluginHost(LogSink& sink, MetricsRegistry& metrics, Options options)
    : metrics_(metrics), options_(options), log_(sink, "plugins") {}

PluginHost::~PluginHost() {
    stop_all();
    // A plugin whose start()/stop() timed out may still run and use its context: leave those
    // contexts (and the strand loggers they use) alive rather than free them under its feet.
    for (auto& e : entries_) {
        if (e->abandoned) {
            (void)e->context.release();
            (void)e->strand_log.release();
        }
    }
}

void PluginHost::set_state(Entry& e, PluginState state, std::string reason) {
    std::lock_guard lock(mu_);
    e.record.state = state;
    e.record.reason = std::move(reason);
}

void PluginHost::refuse(Entry& e, std::string reason) {
    // The one log line of a refusal: which plugin, which file, why.
    STOX_LOG_ERROR(log(), "plugin {} refused ({}): {}", e.record.id,
                   e.record.manifest_path.string(), reason);
    metrics_.counter("plugins.refused").add();
    set_state(e, PluginState::Refused, std::move(reason));
}

std::vector<PluginRecord> PluginHost::discover(const std::vector<fs::path>& plugin_path) {
    if (loaded_) {
        STOX_LOG_ERROR(log(), "discover() after load_all() ignored: plugins are loaded only once");
        return records();
    }
    {
        std::lock_guard lock(mu_);
        entries_.clear();
    }
    std::vector<std::string> problems;
    const auto manifests = find_manifests(plugin_path, problems);
    for (const auto& p : problems) STOX_LOG_WARN(log(), "{}", p);

    for (const auto& path : manifests) {
        auto e = std::make_unique<Entry>();
        auto parsed = load_manifest(path);
        e->record.manifest_path = path;
        if (parsed.manifest) {
            const Manifest& m = *parsed.manifest;
            e->record.id = m.id;
            e->record.name = m.name;
            e->record.version = m.version;
            e->record.abi_major = m.abi_major;
            e->record.abi_minor = m.abi_minor;
            e->record.library_path = library_path(m, path);
        } else {
            // Listed under the id it claims, or its directory when even that is unreadable.
            e->record.id =
                parsed.id_hint.empty() ? path.parent_path().filename().string() : parsed.id_hint;
            e->record.name = parsed.name_hint;
            e->record.version = parsed.version_hint;
        }
        Entry& entry = *e;
        {
            std::lock_guard lock(mu_);
            entries_.push_back(std::move(e));
        }
        if (!parsed.manifest) {
            refuse(entry, "invalid manifest: " + parsed.summary());
            continue;
        }
        entry.manifest = std::move(parsed.manifest);
        if (auto st = check_manifest_abi(*entry.manifest, options_.abi); !st.ok()) {
            refuse(entry, st.message());
            continue;
        }
        // First come, first served, in plugin path order (like PATH lookup).
        if (Entry* other = find_candidate(entry.record.id); other != nullptr && other != &entry) {
            refuse(entry, "duplicate plugin id '" + entry.record.id + "': already provided by " +
                              other->record.manifest_path.string());
            continue;
        }
        STOX_LOG_DEBUG(log(), "found plugin {} {} at {}", entry.record.id, entry.record.version,
                       path.string());
    }
    return records();
}

bool PluginHost::is_primary(const Entry& e) const {
    const Entry* c = find_candidate(e.record.id);
    return c == nullptr || c == &e;
}

PluginHost::Entry* PluginHost::find_candidate(std::string_view id) const {
    // The accepted entry for an id: the first one not refused at discovery.
    for (const auto& e : entries_)
        if (e->record.id == id && e->manifest && e->record.state != PluginState::Refused)
            return e.get();
    for (const auto& e : entries_)
        if (e->record.id == id && e->manifest) return e.get();
    return nullptr;
}

std::vector<config::ConfigError>
PluginHost::check_config(const Entry& e, const config::SiteConfig* site, json& config) const {
    std::vector<config::ConfigError> errors;
    const std::string base = plugin_pointer(e.record.id) + "/config";
    const json* section = plugin_section(site, e.record.id);
    config =
        section != nullptr && section->contains("config") ? section->at("config") : json::object();
    for (auto& err : config::validate(e.manifest->config_schema, config, true)) {
        const std::string pointer = base + err.pointer;
        errors.push_back({site != nullptr ? site->source_of(pointer) : std::string(), pointer,
                          std::move(err.message)});
    }
    return errors;
}

std::vector<config::ConfigError>
PluginHost::validate_plugin_configs(const config::SiteConfig& site) const {
    std::vector<config::ConfigError> errors;
    for (const auto& e : entries_) {
        if (!is_primary(*e)) continue; // a refused duplicate: its id is reported once
        const std::string base = plugin_pointer(e->record.id);
        const json* section = plugin_section(&site, e->record.id);
        const bool enabled = flag(section, "enabled", true);
        const bool required = flag(section, "required", false);
        if (required && !enabled)
            errors.push_back({site.source_of(base + "/required"), base + "/required",
                              "plugin " + e->record.id + " is required but disabled"});
        if (!e->manifest || e->record.state == PluginState::Refused) {
            if (required)
                errors.push_back(
                    {site.source_of(base + "/required"), base + "/required",
                     "required plugin " + e->record.id + " cannot be loaded: " + e->record.reason});
            continue;
        }
        if (!enabled) continue; // a disabled plugin's config is not used
        json config;
        auto errs = check_config(*e, &site, config);
        errors.insert(errors.end(), errs.begin(), errs.end());
    }
    if (auto it = site.doc.find("plugins"); it != site.doc.end() && it->is_object()) {
        for (const auto& item : it->items()) {
            const std::string& id = item.key();
            const bool known = std::any_of(entries_.begin(), entries_.end(),
                                           [&](const auto& e) { return e->record.id == id; });
            if (known) continue;
            const std::string pointer = plugin_pointer(id);
            errors.push_back({site.source_of(pointer), pointer,
                              "unknown plugin '" + id +
                                  "': no plugin with this id was found on the plugin path"});
        }
    }
    return errors;
}

std::optional<std::string> PluginHost::unmet_dependency(const Entry& e) {
    for (const auto& dep : e.manifest->dependencies) {
        const std::string wanted =
            "'" + dep.id + "'" + (dep.range.text().empty() ? "" : " (" + dep.range.text() + ")");
        const Entry* d = find_candidate(dep.id);
        std::string problem;
        if (d == nullptr)
            problem = "dependency " + wanted + " not found on the plugin path";
        else if (!dep.range.matches(d->manifest->semver))
            problem = "dependency " + wanted + " has version " + d->manifest->version;
        else if (d->record.state != PluginState::Loaded)
            problem = "dependency " + wanted + " is " + std::string(to_string(d->record.state)) +
                      (d->record.reason.empty() ? "" : " (" + d->record.reason + ")");
        if (problem.empty()) continue;
        if (!dep.optional) return "required " + problem;
        STOX_LOG_INFO(log(), "plugin {}: optional {}; starting without it", e.record.id, problem);
    }
    return std::nullopt;
}

sdk::Status PluginHost::load_all(ClaimTable& claims, const config::SiteConfig* site) {
    if (loaded_) return sdk::Status(sdk::ErrorCode::Internal, "load_all() called twice");
    loaded_ = true;
    std::vector<std::string> fatal;

    // 1. Site settings and configuration.
    for (auto& ep : entries_) {
        Entry& e = *ep;
        const json* section = plugin_section(site, e.record.id);
        const bool enabled = flag(section, "enabled", true);
        const bool required = flag(section, "required", false);
        {
            std::lock_guard lock(mu_);
            e.record.required = required;
        }
        if (e.record.state == PluginState::Refused) {
            if (required && is_primary(e))
                fatal.push_back("required plugin " + e.record.id +
                                " was refused: " + e.record.reason);
            continue;
        }
        if (!enabled) {
            STOX_LOG_INFO(log(), "plugin {} disabled in the site configuration ({})", e.record.id,
                          site->source_of(plugin_pointer(e.record.id) + "/enabled"));
            metrics_.counter("plugins.disabled").add();
            set_state(e, PluginState::Disabled, "disabled in the site configuration");
            if (required) fatal.push_back("required plugin " + e.record.id + " is disabled");
            continue;
        }
        auto errors = check_config(e, site, e.config);
        if (!errors.empty()) {
            std::string why = "invalid configuration: ";
            for (std::size_t i = 0; i < errors.size(); ++i)
                why += (i == 0 ? "" : "; ") + errors[i].to_string();
            refuse(e, why);
            if (required) fatal.push_back("required plugin " + e.record.id + ": " + why);
        }
    }
    if (site != nullptr) {
        if (auto it = site->doc.find("plugins"); it != site->doc.end() && it->is_object()) {
            for (const auto& item : it->items()) {
                const std::string& id = item.key();
                if (std::any_of(entries_.begin(), entries_.end(),
                                [&](const auto& e) { return e->record.id == id; }))
                    continue;
                const std::string pointer = plugin_pointer(id);
                STOX_LOG_WARN(log(), "{}: {}: unknown plugin '{}': not found on the plugin path",
                              site->source_of(pointer), pointer, id);
                if (flag(&item.value(), "required", false))
                    fatal.push_back("required plugin " + id + " was not found on the plugin path");
            }
        }
    }

    // 2. Order: dependencies first. Cycle members are refused; then the rest is ordered again
    // so that plugins merely depending on a cycle are resolved (and refused) like any other.
    const auto candidates = [&] {
        std::vector<Entry*> c;
        for (auto& e : entries_)
            if (e->record.state == PluginState::Discovered) c.push_back(e.get());
        return c;
    };
    const auto sort = [&](const std::vector<Entry*>& nodes) {
        DependencyGraph graph;
        for (Entry* e : nodes) graph.add_node(e->record.id);
        for (Entry* e : nodes)
            for (const auto& dep : e->manifest->dependencies)
                if (std::any_of(nodes.begin(), nodes.end(),
                                [&](Entry* n) { return n->record.id == dep.id; }))
                    graph.add_edge(e->record.id, dep.id);
        return graph.sort();
    };
    std::map<std::string, Entry*, std::less<>> by_id;
    for (Entry* e : candidates()) by_id.emplace(e->record.id, e);
    for (const auto& cycle : sort(candidates()).cycles) {
        const std::string why = "dependency cycle: " + DependencyGraph::describe_cycle(cycle);
        for (const auto& id : cycle) {
            Entry& e = *by_id.at(id);
            refuse(e, why);
            if (e.record.required)
                fatal.push_back(
                    std::string("required plugin ").append(id).append(": ").append(why));
        }
    }

    // 3. Dependencies, claims, library and descriptor, in order.
    for (const auto& id : sort(candidates()).order) {
        Entry& e = *by_id.at(id);
        std::optional<std::string> why = unmet_dependency(e);
        if (!why) {
            // Claims before dlopen: metadata before code.
            for (const auto& c : e.manifest->sip_claims) {
                if (auto st = claims.add(id, c); !st.ok()) {
                    why = st.message(); // names the claim and the plugin holding it
                    break;
                }
            }
        }
        if (!why) {
            for (const auto& c : e.manifest->stanza_claims) {
                if (auto st = claims.add(id, c); !st.ok()) {
                    why = st.message();
                    break;
                }
            }
        }
        if (!why) {
            auto opened = open_plugin(*e.manifest, e.record.library_path, options_.abi);
            if (opened)
                e.descriptor = *opened;
            else
                why = opened.status().message();
        }
        if (why) {
            claims.remove_plugin(id);
            refuse(e, *why);
            if (e.record.required) fatal.push_back("required plugin " + id + ": " + *why);
            continue;
        }
        set_state(e, PluginState::Loaded, {});
        load_order_.push_back(&e);
        STOX_LOG_INFO(log(), "plugin {} {} loaded from {}", id, e.record.version,
                      e.record.library_path.string());
    }

    if (fatal.empty()) return {};
    std::string msg;
    for (const auto& f : fatal) msg += (msg.empty() ? "" : "; ") + f;
    return sdk::Status(sdk::ErrorCode::InvalidConfig, msg);
}

PluginHost::Wait PluginHost::run_on_strand(Entry& e, std::function<void()> job,
                                           std::chrono::milliseconds timeout) {
    boost::asio::io_context& io = *io_;
    if (io.stopped()) return Wait::Stopped;
    auto done = std::make_shared<std::promise<void>>();
    std::future<void> finished = done->get_future();
    // Straight onto the Asio strand: the PluginStrand may be closed already (revoke), which
    // refuses new work from the plugin but must not refuse the core's stop/destroy. FIFO order
    // puts this after every callback queued before.
    boost::asio::post(e.strand->strand(), [job = std::move(job), done, log = &log()] {
        try {
            job(); // plugin calls inside catch their own exceptions; this is for the core's
        } catch (...) {
            log_noexcept(*log, sdk::LogLevel::Error, "plugin lifecycle step failed: {}",
                         what_of(std::current_exception()));
        }
        done->set_value();
    });
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    // Asio forbids running an io_context from a thread already inside it; then only wait.
    const bool inside = io.get_executor().running_in_this_thread();
    while (finished.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) return Wait::Timeout;
        const auto slice = std::min<std::chrono::steady_clock::duration>(
            deadline - now, std::chrono::milliseconds(20));
        if (inside || io.stopped())
            finished.wait_for(slice);
        else
            io.run_one_for(slice);
    }
    return Wait::Ready;
}

sdk::Status PluginHost::start_all(const CoreServices& services, boost::asio::io_context& io) {
    if (!loaded_) return sdk::Status(sdk::ErrorCode::Internal, "start_all() before load_all()");
    if (start_called_) return sdk::Status(sdk::ErrorCode::Internal, "start_all() called twice");
    start_called_ = true;
    io_ = &io;
    // Keeps `io` from stopping for lack of work between two plugins when no worker holds a guard.
    auto guard = boost::asio::make_work_guard(io);

    for (std::size_t i = 0; i < load_order_.size(); ++i) {
        Entry& e = *load_order_[i];
        sdk::Status st = start_one(e, services, io);
        if (st.ok() || !e.record.required) continue;
        const std::string msg = "required plugin " + e.record.id +
                                " did not start: " + std::string(to_string(e.record.state)) + " (" +
                                e.record.reason + ")";
        STOX_LOG_ERROR(log(), "startup aborted: {}", msg);
        for (std::size_t j = i + 1; j < load_order_.size(); ++j)
            set_state(*load_order_[j], PluginState::Loaded,
                      "not started: startup aborted because " + e.record.id + " did not start");
        stop_all();
        return sdk::Status(st.code(), msg);
    }
    return {};
}

sdk::Status PluginHost::start_one(Entry& e, const CoreServices& services,
                                  boost::asio::io_context& io) {
    const std::string& id = e.record.id;
    // Dependants of a plugin that declined or failed are skipped (Asterisk semantics).
    for (const auto& dep : e.manifest->dependencies) {
        const Entry* d = find_candidate(dep.id);
        if (dep.optional || d == nullptr || d->record.state == PluginState::Started) continue;
        std::string why = "required dependency '" + dep.id + "' did not start (" +
                          std::string(to_string(d->record.state)) + ")";
        refuse(e, why);
        return sdk::Status(sdk::ErrorCode::Declined, why);
    }

    struct Outcome {
        sdk::Plugin* plugin = nullptr;
        sdk::Status status;
        bool threw = false;
    };
    auto outcome = std::make_shared<Outcome>();
    try {
        e.strand_log = std::make_unique<TaggedLogger>(services.log_sink, id);
        e.strand = std::make_shared<PluginStrand>(io, id, options_.plugin_queue_limit,
                                                  services.metrics, *e.strand_log);
        e.context = std::make_unique<PluginContextImpl>(
            id, services, e.strand, config::JsonConfigView(e.config),
            !e.manifest->sip_claims.empty(), !e.manifest->stanza_claims.empty());
    } catch (const std::exception& ex) {
        const std::string why = std::string("could not create the plugin context: ") + ex.what();
        STOX_LOG_ERROR(log(), "plugin {} failed ({}): {}", id, e.record.library_path.string(), why);
        set_state(e, PluginState::Failed, why);
        return sdk::Status(sdk::ErrorCode::Internal, why);
    }

    const stox_plugin_descriptor_v1* descriptor = e.descriptor;
    PluginContextImpl* ctx = e.context.get();
    const Wait wait = run_on_strand(
        e,
        [outcome, descriptor, ctx] {
            try {
                outcome->plugin = descriptor->create();
            } catch (...) {
                outcome->threw = true;
                outcome->status =
                    sdk::Status(sdk::ErrorCode::Internal,
                                "create() threw: " + what_of(std::current_exception()));
                return;
            }
            if (outcome->plugin == nullptr) {
                outcome->status =
                    sdk::Status(sdk::ErrorCode::Internal, "create() returned nullptr");
                return;
            }
            try {
                outcome->status = (outcome->plugin->*kStart)(*ctx);
            } catch (...) {
                outcome->threw = true;
                outcome->status =
                    sdk::Status(sdk::ErrorCode::Internal,
                                "start() threw: " + what_of(std::current_exception()));
            }
        },
        options_.start_timeout);

    if (wait != Wait::Ready) {
        const std::string why = wait == Wait::Stopped
                                    ? std::string("not started: the io_context is stopped")
                                    : "start() did not return within " +
                                          std::to_string(options_.start_timeout.count()) + " ms";
        STOX_LOG_ERROR(log(), "plugin {} failed ({}): {}", id, e.record.library_path.string(), why);
        metrics_.counter("plugins.failed").add();
        set_state(e, PluginState::Failed, why);
        // A start() still running keeps using the plugin object and its context: neither is
        // freed (see ~PluginHost); the plugin is cut off from traffic and timers.
        e.context->revoke();
        e.abandoned = wait == Wait::Timeout;
        return sdk::Status(sdk::ErrorCode::Timeout, why);
    }

    e.plugin = outcome->plugin;
    const sdk::Status& st = outcome->status;
    if (st.ok()) {
        set_state(e, PluginState::Started, {});
        started_.push_back(&e);
        metrics_.counter("plugins.started").add();
        STOX_LOG_INFO(log(), "plugin {} {} started", id, e.record.version);
        return {};
    }
    if (outcome->threw) metrics_.counter("plugin.exceptions").add();
    if (st.code() == sdk::ErrorCode::Declined) {
        STOX_LOG_WARN(log(), "plugin {} declined to start ({}): {}", id,
                      e.record.library_path.string(), st.message());
        metrics_.counter("plugins.declined").add();
        set_state(e, PluginState::Declined, st.message());
    } else {
        const std::string why = outcome->plugin == nullptr || outcome->threw
                                    ? st.message()
                                    : "start() returned " + std::string(sdk::to_string(st.code())) +
                                          (st.message().empty() ? "" : ": " + st.message());
        STOX_LOG_ERROR(log(), "plugin {} failed to start ({}): {}", id,
                       e.record.library_path.string(), why);
        metrics_.counter("plugins.failed").add();
        set_state(e, PluginState::Failed, why);
    }
    discard(e);
    return st;
}

PluginHost::Wait PluginHost::run_or_inline(Entry& e, const std::function<void()>& job) {
    Wait wait = run_on_strand(e, job, options_.stop_timeout);
    if (wait == Wait::Stopped) {
        // Nobody runs the io_context any more, so nothing else runs this plugin's code.
        STOX_LOG_WARN(log(), "plugin {}: the io_context is stopped; running its shutdown here",
                      e.record.id);
        job();
        wait = Wait::Ready;
    }
    return wait;
}

void PluginHost::discard(Entry& e) {
    e.context->revoke();
    if (e.plugin == nullptr) return;
    sdk::Plugin* plugin = e.plugin;
    const stox_plugin_descriptor_v1* descriptor = e.descriptor;
    sdk::Logger* host_log = &log();
    const std::string id = e.record.id;
    // Destroyed on its strand, after the callbacks it queued during start(), which may use it.
    const Wait wait = run_or_inline(e, [plugin, descriptor, host_log, id] {
        try {
            descriptor->destroy(plugin);
        } catch (...) {
            log_noexcept(*host_log, sdk::LogLevel::Error, "plugin {}: destroy() threw: {}", id,
                         what_of(std::current_exception()));
        }
    });
    if (wait == Wait::Ready) {
        e.plugin = nullptr;
        return;
    }
    e.abandoned = true;
    STOX_LOG_ERROR(log(), "plugin {}: destroy() did not return within {} ms; the object is leaked",
                   id, options_.stop_timeout.count());
}

void PluginHost::stop_all() noexcept {
    while (!started_.empty()) {
        Entry* e = started_.back();
        started_.pop_back();
        stop_one(*e);
    }
}

void PluginHost::stop_one(Entry& e) noexcept {
    sdk::Plugin* plugin = e.plugin;
    const stox_plugin_descriptor_v1* descriptor = e.descriptor;
    auto error = std::make_shared<std::string>();
    // Handlers, timers and new posts are cut first: stop() is the last callback (plugin.hpp).
    e.context->revoke();
    auto job = [plugin, descriptor, error] {
        try {
            (plugin->*kStop)();
        } catch (...) {
            *error = "stop() threw: " + what_of(std::current_exception());
        }
        try {
            descriptor->destroy(plugin);
        } catch (...) {
            *error += (error->empty() ? "" : "; ") +
                      ("destroy() threw: " + what_of(std::current_exception()));
        }
    };
    try {
        if (run_or_inline(e, job) == Wait::Timeout) {
            const std::string why = "stop() did not return within " +
                                    std::to_string(options_.stop_timeout.count()) + " ms";
            STOX_LOG_ERROR(log(), "plugin {} ({}): {}", e.record.id, e.record.library_path.string(),
                           why);
            metrics_.counter("plugins.failed").add();
            e.abandoned = true;
            set_state(e, PluginState::Failed, why);
            return;
        }
        e.plugin = nullptr;
        if (!error->empty()) {
            metrics_.counter("plugin.exceptions").add();
            STOX_LOG_ERROR(log(), "plugin {} ({}): {}", e.record.id, e.record.library_path.string(),
                           *error);
        } else {
            STOX_LOG_INFO(log(), "plugin {} stopped", e.record.id);
        }
        set_state(e, PluginState::Stopped, *error);
    } catch (...) {
        log_noexcept(log_, sdk::LogLevel::Error, "plugin {}: stopping failed: {}", e.record.id,
                     what_of(std::current_exception()));
    }
}

std::vector<PluginRecord> PluginHost::records() const {
    std::lock_guard lock(mu_);
    std::vector<PluginRecord> out;
    out.reserve(entries_.size());
    for (const auto& e : entries_) out.push_back(e->record);
    return out;
}

std::optional<PluginRecord> PluginHost::record(std::string_view id) const {
    std::lock_guard lock(mu_);
    const Entry* e = find_candidate(id);
    if (e == nullptr) {
        for (const auto& x : entries_)
            if (x->record.id == id) return x->record;
        return std::nullopt;
    }
    return e->record;
}

json PluginHost::effective_config(std::string_view id) const {
    const Entry* e = find_candidate(id);
    return e != nullptr && e->record.state != PluginState::Refused &&
                   e->record.state != PluginState::Disabled
               ? e->config
               : json();
}

const PluginContextImpl* PluginHost::context(std::string_view id) const {
    const Entry* e = find_candidate(id);
    return e != nullptr ? e->context.get() : nullptr;
}

} // namespace stox::core
