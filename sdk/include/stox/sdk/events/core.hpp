// SPDX-License-Identifier: Apache-2.0
/// \file events/core.hpp
/// Events published by the core. Names and versions are stable; see docs/events.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "stox/sdk/bus.hpp"

namespace stox::sdk::events {

/// A plugin changed lifecycle state ("started", "declined", "failed", "stopped").
struct PluginStateChanged {
    static constexpr std::string_view kName = "core.plugin_state_changed";
    static constexpr std::uint32_t kVersion = 1;
    EventMeta meta;
    std::string plugin_id;
    std::string state;
    std::string reason;
};

/// The XMPP component link went up or down.
struct XmppLinkChanged {
    static constexpr std::string_view kName = "xmpp.link_changed";
    static constexpr std::uint32_t kVersion = 1;
    EventMeta meta;
    bool up = false;
    std::string reason;
};

/// The gateway finished starting every plugin and serves traffic.
struct GatewayReady {
    static constexpr std::string_view kName = "core.gateway_ready";
    static constexpr std::uint32_t kVersion = 1;
    EventMeta meta;
};

} // namespace stox::sdk::events
