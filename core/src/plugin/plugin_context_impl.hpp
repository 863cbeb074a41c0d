// SPDX-License-Identifier: Apache-2.0
// The sdk::PluginContext the core hands each plugin. It records everything the plugin
// registers (handlers, subscriptions via PluginBus, timers via its strand) so that stopping the
// plugin cancels all of it (Prosody's module event_handlers).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "bus/event_bus.hpp"
#include "bus/plugin_strand.hpp"
#include "config/config_view.hpp"
#include "plugin/strand_bound_services.hpp"
#include "runtime/log_sink.hpp"
#include "stox/sdk/context.hpp"
#include "stox/sdk/unstable/asio.hpp"

namespace stox::core {

class IngressRouter;
class MetricsRegistry;

/// Services shared by every plugin context (owned by the Application).
struct CoreServices {
    LogSink& log_sink;
    MetricsRegistry& metrics;
    EventBusCore& bus;
    IngressRouter& router;
    const sdk::AddressMapper& addresses;
    const sdk::ErrorMapper& errors;
    sdk::SipService& sip;
    sdk::XmppService& xmpp;
    /// Offered to plugins as sdk::kSipDialogSupportInterface (ABI 1.1); nullptr offers nothing.
    sdk::SipDialogSupport* sip_dialogs = nullptr;
};

class PluginContextImpl final : public sdk::PluginContext, public sdk::unstable::AsioAccess {
public:
    /// `claims_sip` / `claims_xmpp`: whether the manifest claims any SIP / XMPP traffic
    /// (on_sip_request / on_stanza fail with Unsupported otherwise).
    PluginContextImpl(std::string plugin_id, CoreServices services,
                      std::shared_ptr<PluginStrand> strand, config::JsonConfigView config,
                      bool claims_sip, bool claims_xmpp);
    ~PluginContextImpl() override;

    [[nodiscard]] std::string_view plugin_id() const noexcept override { return id_; }
    sdk::Logger& log() noexcept override { return logger_; }
    [[nodiscard]] const sdk::ConfigView& config() const noexcept override { return config_; }
    sdk::Executor& executor() noexcept override { return *strand_; }
    sdk::EventBus& bus() noexcept override { return bus_; }
    sdk::Metrics& metrics() noexcept override;
    [[nodiscard]] const sdk::AddressMapper& addresses() const noexcept override {
        return services_.addresses;
    }
    [[nodiscard]] const sdk::ErrorMapper& errors() const noexcept override {
        return services_.errors;
    }
    /// The shared services, with completions re-posted onto this plugin's strand.
    sdk::SipService& sip() noexcept override { return sip_; }
    sdk::XmppService& xmpp() noexcept override { return xmpp_; }
    sdk::Status on_sip_request(sdk::SipRequestHandler handler) noexcept override;
    sdk::Status on_stanza(sdk::StanzaHandler handler) noexcept override;
    void set_status(sdk::HealthLevel level, std::string message) noexcept override;
    void* unstable_interface(std::string_view name) noexcept override;

    // sdk::unstable::AsioAccess
    boost::asio::io_context& io_context() noexcept override { return strand_->io_context(); }
    sdk::unstable::Strand& strand() noexcept override { return strand_->strand(); }

    /// Cancels handlers and closes the strand (timers cancelled); called before Plugin::stop().
    void revoke() noexcept;
    [[nodiscard]] std::shared_ptr<PluginStrand> plugin_strand() const { return strand_; }
    /// Last set_status() (set on the plugin's strand, read from any thread).
    [[nodiscard]] sdk::HealthLevel health() const noexcept;
    [[nodiscard]] std::string health_message() const;

private:
    std::string id_;
    CoreServices services_;
    std::shared_ptr<PluginStrand> strand_;
    config::JsonConfigView config_;
    TaggedLogger logger_;
    PluginBus bus_;
    StrandBoundSipService sip_;
    StrandBoundXmppService xmpp_;
    bool claims_sip_;
    bool claims_xmpp_;
    mutable std::mutex health_mu_;
    sdk::HealthLevel health_ = sdk::HealthLevel::Ok;
    std::string health_message_;
};

} // namespace stox::core
