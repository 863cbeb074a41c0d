// SPDX-License-Identifier: Apache-2.0
#include "plugin/plugin_context_impl.hpp"

#include "bus/ingress_router.hpp"
#include "bus/noexcept_log.hpp"
#include "runtime/metrics_registry.hpp"

namespace stox::core {
namespace {

std::string_view level_name(sdk::HealthLevel level) {
    switch (level) {
    case sdk::HealthLevel::Ok: return "ok";
    case sdk::HealthLevel::Degraded: return "degraded";
    case sdk::HealthLevel::Failed: return "failed";
    }
    return "unknown";
}

} // namespace

PluginContextImpl::PluginContextImpl(std::string plugin_id, CoreServices services,
                                     std::shared_ptr<PluginStrand> strand,
                                     config::JsonConfigView config, bool claims_sip,
                                     bool claims_xmpp)
    : id_(std::move(plugin_id)), services_(services), strand_(std::move(strand)),
      config_(std::move(config)), logger_(services_.log_sink, id_),
      bus_(services_.bus, strand_, id_), sip_(services_.sip, strand_),
      xmpp_(services_.xmpp, strand_), claims_sip_(claims_sip), claims_xmpp_(claims_xmpp) {}

PluginContextImpl::~PluginContextImpl() {
    revoke();
}

sdk::Metrics& PluginContextImpl::metrics() noexcept {
    return services_.metrics;
}

sdk::Status PluginContextImpl::on_sip_request(sdk::SipRequestHandler handler) noexcept {
    if (!claims_sip_)
        return sdk::Status(sdk::ErrorCode::Unsupported,
                           "the manifest of " + id_ + " claims no SIP requests (claims.sip)");
    if (!handler) return sdk::Status(sdk::ErrorCode::BadRequest, "empty SIP request handler");
    if (strand_->closed())
        return sdk::Status(sdk::ErrorCode::Cancelled, "plugin " + id_ + " is stopping");
    try {
        services_.router.set_sip_handler(id_, strand_, std::move(handler));
        return {};
    } catch (const std::exception& e) {
        return sdk::Status(sdk::ErrorCode::Internal, e.what());
    }
}

sdk::Status PluginContextImpl::on_stanza(sdk::StanzaHandler handler) noexcept {
    if (!claims_xmpp_)
        return sdk::Status(sdk::ErrorCode::Unsupported,
                           "the manifest of " + id_ + " claims no stanzas (claims.xmpp)");
    if (!handler) return sdk::Status(sdk::ErrorCode::BadRequest, "empty stanza handler");
    if (strand_->closed())
        return sdk::Status(sdk::ErrorCode::Cancelled, "plugin " + id_ + " is stopping");
    try {
        services_.router.set_stanza_handler(id_, strand_, std::move(handler));
        return {};
    } catch (const std::exception& e) {
        return sdk::Status(sdk::ErrorCode::Internal, e.what());
    }
}

void PluginContextImpl::set_status(sdk::HealthLevel level, std::string message) noexcept {
    try {
        // House style §4.6: not-Ok health is an operator concern (warn); recovery is lifecycle.
        if (level != sdk::HealthLevel::Ok)
            STOX_LOG_WARN(static_cast<sdk::Logger&>(logger_), "health {}: {}", level_name(level),
                          message);
        else
            STOX_LOG_INFO(static_cast<sdk::Logger&>(logger_), "health ok{}{}",
                          message.empty() ? "" : ": ", message);
        std::lock_guard lock(health_mu_);
        health_ = level;
        health_message_ = std::move(message);
    } catch (...) {
        // Formatting failed (allocation): still record the level, which needs no allocation.
        std::lock_guard lock(health_mu_);
        health_ = level;
    }
}

sdk::HealthLevel PluginContextImpl::health() const noexcept {
    std::lock_guard lock(health_mu_);
    return health_;
}

std::string PluginContextImpl::health_message() const {
    std::lock_guard lock(health_mu_);
    return health_message_;
}

void* PluginContextImpl::unstable_interface(std::string_view name) noexcept {
    // The name carries the Boost version (asio/107400); a plugin built against another Boost asks
    // for another name and gets nullptr instead of a mismatched io_context.
    if (name == sdk::unstable::kAsioInterface)
        return static_cast<void*>(static_cast<sdk::unstable::AsioAccess*>(this));
    if (name == sdk::kSipDialogSupportInterface) return static_cast<void*>(services_.sip_dialogs);
    return nullptr;
}

void PluginContextImpl::revoke() noexcept {
    try {
        services_.router.clear_handlers(id_);
    } catch (...) {
        detail::log_noexcept(logger_, sdk::LogLevel::Error,
                             "could not clear the ingress handlers of {}", id_);
    }
    strand_->close();
}

} // namespace stox::core
