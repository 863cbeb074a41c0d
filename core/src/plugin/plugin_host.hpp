// SPDX-License-Identifier: Apache-2.0
// The plugin host: discovers plugins on the plugin path, validates their manifests and their
// site configuration, opens them in dependency order, starts them on their strands and stops
// them in reverse (house style §4.3, §4.6). Every refusal or failure is one log line naming the
// file and the reason, and is recorded as the plugin's state for `stoxgw list-plugins`.
//
// Lifecycle (each step once, from one "loader" thread, Boost.DLL's rule):
//   discover(paths)            manifests read and checked; nothing opened
//   validate_plugin_configs()  for check-config: site `plugins.*` sections vs the manifests
//   load_all(claims, site)     enabled/required, config, dependencies, claims, dlopen, descriptor
//   start_all(services, io)    create() + start() on each plugin's strand, dependency order
//   stop_all()                 stop() + destroy() on each strand, reverse order
//
// start_all()/stop_all() post onto the plugin's strand and wait for the result. While waiting
// they help run `io` (run_one_for) unless the calling thread is already inside `io`, so they
// work both before the worker threads start and while they run. Keep a work guard on `io` for
// as long as plugins run (worker threads need one anyway): an io_context without work stops,
// and plugins can no longer be started or stopped on their strands. stop_all() on a stopped
// io_context runs stop() on the calling thread instead (the workers are gone, so nothing else
// runs plugin code) and logs a warning.
//
// CoreServices' objects must outlive the host. Libraries are never closed (plugin_loader.cpp).
//
//   PluginHost host(sink, metrics, PluginHost::Options::from_site(site));
//   host.discover(plugin_path);                          // list-plugins: host.records_json()
//   auto errors = host.validate_plugin_configs(site);    // check-config
//   if (auto st = host.load_all(claims, &site); !st.ok()) ... // fatal: a required plugin
//   if (auto st = host.start_all(services, io); !st.ok()) ... // fatal: a required plugin
//   ...
//   host.stop_all();                                     // before the io_context stops
#pragma once

#include <utility> // before Asio: Boost 1.74 + g++ 12 + C++20 (peers.md G1)
#include <chrono>
#include <functional>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "config/site_config.hpp"
#include "plugin/manifest.hpp"
#include "plugin/plugin_context_impl.hpp"
#include "plugin/plugin_loader.hpp"
#include "runtime/log_sink.hpp"

namespace stox::core {

class ClaimTable;
class MetricsRegistry;

enum class PluginState {
    Discovered, ///< manifest valid, not loaded yet
    Disabled,   ///< plugins.<id>.enabled = false: never opened
    Refused,    ///< manifest, config, ABI, descriptor, dependency or claim problem
    Loaded,     ///< library open and descriptor accepted, not started
    Started,
    Declined, ///< start() returned ErrorCode::Declined
    Failed,   ///< create()/start() failed, threw or timed out
    Stopped,
};
std::string_view to_string(PluginState state) noexcept;

struct PluginRecord {
    std::string id;
    std::string name;
    std::string version;
    std::uint32_t abi_major = 0;
    std::uint32_t abi_minor = 0;
    std::filesystem::path library_path;
    std::filesystem::path manifest_path;
    PluginState state = PluginState::Discovered;
    std::string reason; ///< why refused/declined/failed/disabled; "" otherwise
    bool required = false;
};

/// [{"id", "name", "version", "abi": {"major", "minor"}, "state", "reason", "required",
///   "library", "manifest"}, ...] in discovery order.
nlohmann::json to_json(const std::vector<PluginRecord>& records);

struct PluginHostOptions {
    std::size_t plugin_queue_limit = 10'000; ///< PluginStrand bound (core.plugin_queue_limit)
    std::chrono::milliseconds start_timeout{30'000};
    std::chrono::milliseconds stop_timeout{5'000}; ///< core.shutdown_timeout_ms
    CoreAbi abi{};
    /// Reads core.plugin_queue_limit and core.shutdown_timeout_ms.
    static PluginHostOptions from_site(const config::SiteConfig& site);
};

class PluginHost {
public:
    using Options = PluginHostOptions;

    PluginHost(LogSink& sink, MetricsRegistry& metrics, Options options = {});
    /// Stops whatever still runs (stop_all()).
    ~PluginHost();
    PluginHost(const PluginHost&) = delete;
    PluginHost& operator=(const PluginHost&) = delete;

    /// (a) Finds and checks manifests (schema, semantics, ABI, duplicate ids). Opens nothing.
    std::vector<PluginRecord> discover(const std::vector<std::filesystem::path>& plugin_path);

    /// (b) Each discovered plugin's `plugins.<id>.config` against its config_schema (defaults
    /// applied), `plugins.<id>` sections naming no discovered plugin (unknown plugin), and
    /// required plugins that are disabled or cannot be loaded. Errors name the site config file,
    /// the JSON Pointer (/plugins/<id>/config/...) and the reason.
    [[nodiscard]] std::vector<config::ConfigError>
    validate_plugin_configs(const config::SiteConfig& site) const;

    /// (c, first half) Applies the site settings (enabled, required, config), resolves
    /// dependencies, registers claims in `claims` and opens the libraries. Refused plugins are
    /// recorded and skipped; the result is an error only when a plugin marked required cannot
    /// be loaded. `site` may be null (every plugin enabled, optional, empty config).
    sdk::Status load_all(ClaimTable& claims, const config::SiteConfig* site = nullptr);

    /// (c, second half) Starts the loaded plugins in dependency order. An optional plugin that
    /// declines or fails is recorded and its dependants are skipped; a required one aborts
    /// startup: everything already started is stopped again and the error returned.
    sdk::Status start_all(const CoreServices& services, boost::asio::io_context& io);

    /// (d) Stops the started plugins in reverse start order. Idempotent.
    void stop_all() noexcept;

    /// (e) One record per discovered manifest, in discovery order. Thread-safe.
    [[nodiscard]] std::vector<PluginRecord> records() const;
    [[nodiscard]] nlohmann::json records_json() const { return to_json(records()); }
    /// The record of a plugin by id (the accepted one when refused duplicates exist).
    [[nodiscard]] std::optional<PluginRecord> record(std::string_view id) const;
    /// The validated configuration a loaded plugin gets (defaults applied); null if none.
    [[nodiscard]] nlohmann::json effective_config(std::string_view id) const;
    /// The plugin's context while it exists (started plugins); nullptr otherwise.
    [[nodiscard]] const PluginContextImpl* context(std::string_view id) const;

private:
    struct Entry;
    enum class Wait { Ready, Timeout, Stopped };

    void set_state(Entry& e, PluginState state, std::string reason);
    void refuse(Entry& e, std::string reason);
    /// The entry that stands for an id: the first not refused at discovery, else the first
    /// with a valid manifest; nullptr when none.
    [[nodiscard]] Entry* find_candidate(std::string_view id) const;
    /// False for refused duplicates of another entry's id.
    [[nodiscard]] bool is_primary(const Entry& e) const;
    [[nodiscard]] std::optional<std::string> unmet_dependency(const Entry& e);
    std::vector<config::ConfigError> check_config(const Entry& e, const config::SiteConfig* site,
                                                  nlohmann::json& config) const;
    /// Starts one plugin; returns its error when it did not start.
    sdk::Status start_one(Entry& e, const CoreServices& services, boost::asio::io_context& io);
    void stop_one(Entry& e) noexcept;
    /// Revokes the context of a plugin that did not start and destroys its object.
    void discard(Entry& e);
    /// Runs `job` on the plugin's Asio strand (even once the PluginStrand is closed, after
    /// everything already queued there) and waits up to `timeout` for it to finish.
    Wait run_on_strand(Entry& e, std::function<void()> job, std::chrono::milliseconds timeout);
    /// run_on_strand() with the stop timeout; on a stopped io_context runs `job` right here.
    Wait run_or_inline(Entry& e, const std::function<void()>& job);

    sdk::Logger& log() noexcept { return log_; }

    MetricsRegistry& metrics_;
    Options options_;
    TaggedLogger log_;
    mutable std::mutex mu_; ///< guards every Entry::record (read by records() from any thread)
    std::vector<std::unique_ptr<Entry>> entries_; ///< discovery order
    std::vector<Entry*> load_order_;              ///< loaded plugins, dependencies first
    std::vector<Entry*> started_;                 ///< in start order
    boost::asio::io_context* io_ = nullptr;
    bool loaded_ = false;
    bool start_called_ = false;
};

} // namespace stox::core
