// SPDX-License-Identifier: Apache-2.0
/// \file plugin.hpp
/// The interface every plugin implements.
#pragma once

#include "stox/sdk/config.hpp"
#include "stox/sdk/status.hpp"

namespace stox::sdk {

class PluginContext;

class Plugin {
public:
    virtual ~Plugin() = default;
    /// Called once on the plugin's strand after every plugin it `requires` has started.
    /// Register handlers, subscribe, read config here. `ctx` outlives the plugin object.
    /// Return Ok, ErrorCode::Declined (the plugin disabled itself; the gateway goes on), or
    /// any other error (the plugin failed; fatal if the operator marked it required).
    virtual Status start(PluginContext& ctx) noexcept = 0;
    /// Apply a new configuration without a restart. Default: unsupported.
    virtual Status reconfigure(const ConfigView& /*config*/) noexcept {
        return Status(ErrorCode::Unsupported, "reconfigure not supported");
    }
    /// Called once on the plugin's strand, in reverse dependency order. By then the core has
    /// cancelled the plugin's handlers, subscriptions and timers.
    virtual void stop() noexcept = 0;
};

} // namespace stox::sdk
