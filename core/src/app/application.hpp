// SPDX-License-Identifier: Apache-2.0
// Wires the core together for the CLI commands: configuration, logging, the io_context and its
// threads, the event bus and ingress router, the protocol endpoints and the plugin host.
#pragma once

#include <filesystem>
#include <optional>
#include <vector>

namespace stox::core {

struct AppOptions {
    std::optional<std::filesystem::path> config_file; ///< default: STOX_DEFAULT_CONFIG
    std::optional<std::filesystem::path> config_dir;  ///< default: conf.d next to config_file
    std::vector<std::filesystem::path> plugin_paths;  ///< added to the config's plugin_path
};

/// `stoxgw run`: runs until SIGINT/SIGTERM; returns the exit code.
int run_gateway(const AppOptions& options);
/// `stoxgw check-config`: prints every error; 0 when valid.
int check_config(const AppOptions& options);
/// `stoxgw list-plugins`: one line per plugin found (or JSON).
int list_plugins(const AppOptions& options, bool json);

} // namespace stox::core
