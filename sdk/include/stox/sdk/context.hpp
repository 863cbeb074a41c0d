// SPDX-License-Identifier: Apache-2.0
/// \file context.hpp
/// Everything the core hands a plugin. Owned by the core; valid from start() until after
/// stop() returns. Every callback registered here runs on the plugin's strand.
#pragma once

#include <string>
#include <string_view>

#include "stox/sdk/bus.hpp"
#include "stox/sdk/config.hpp"
#include "stox/sdk/executor.hpp"
#include "stox/sdk/logger.hpp"
#include "stox/sdk/mapping.hpp"
#include "stox/sdk/metrics.hpp"
#include "stox/sdk/sip.hpp"
#include "stox/sdk/status.hpp"
#include "stox/sdk/xmpp.hpp"

namespace stox::sdk {

enum class HealthLevel { Ok, Degraded, Failed };

class PluginContext {
public:
    virtual ~PluginContext() = default;

    [[nodiscard]] virtual std::string_view plugin_id() const noexcept = 0;
    /// Logger tagged with the plugin id.
    virtual Logger& log() noexcept = 0;
    /// The plugin's validated config section, defaults applied.
    [[nodiscard]] virtual const ConfigView& config() const noexcept = 0;
    /// The plugin's strand and timers.
    virtual Executor& executor() noexcept = 0;
    virtual EventBus& bus() noexcept = 0;
    virtual Metrics& metrics() noexcept = 0;
    [[nodiscard]] virtual const AddressMapper& addresses() const noexcept = 0;
    [[nodiscard]] virtual const ErrorMapper& errors() const noexcept = 0;
    virtual SipService& sip() noexcept = 0;
    virtual XmppService& xmpp() noexcept = 0;

    /// Receive the SIP requests this plugin claims in its manifest (claims.sip).
    /// Fails with Unsupported if the manifest claims no SIP traffic.
    virtual Status on_sip_request(SipRequestHandler handler) noexcept = 0;
    /// Receive the stanzas this plugin claims in its manifest (claims.xmpp).
    /// Fails with Unsupported if the manifest claims no stanzas.
    virtual Status on_stanza(StanzaHandler handler) noexcept = 0;

    /// Report health (shown by the status output and logged at warn when not Ok).
    virtual void set_status(HealthLevel level, std::string message) noexcept = 0;

    /// Escape hatch to version-pinned native interfaces (see stox/sdk/unstable/). Returns
    /// nullptr when the core offers nothing under that name. Prefer the typed helpers.
    virtual void* unstable_interface(std::string_view name) noexcept = 0;
};

/// SIP dialog support of the core (SDK ABI 1.1), or nullptr on an older gateway. Interfaces
/// added in a minor release are reached by name so that the vtable of PluginContext never changes
/// (sdk/docs/abi-policy.md §1).
inline SipDialogSupport* sip_dialog_support(PluginContext& ctx) noexcept {
    return static_cast<SipDialogSupport*>(ctx.unstable_interface(kSipDialogSupportInterface));
}

} // namespace stox::sdk
