// SPDX-License-Identifier: Apache-2.0
// Per-plugin views of the shared SIP and XMPP services. CoreServices holds one SipService and
// one XmppService for all plugins, and their implementations (sip::SipServiceImpl on the sofia
// thread, xmpp::XmppServiceImpl on the link's strand) complete requests on their own threads. The
// SDK promises that a completion "runs on the sending plugin's strand" (sip.hpp, xmpp.hpp), so each
// PluginContextImpl wraps the shared services in these adapters, which re-post every completion
// onto the plugin's strand. A completion that arrives after the plugin was stopped (strand closed)
// is dropped by the strand, which counts and logs it (strand.refused_closed).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "bus/plugin_strand.hpp"
#include "stox/sdk/sip.hpp"
#include "stox/sdk/xmpp.hpp"

namespace stox::core {

class StrandBoundSipService final : public sdk::SipService {
public:
    StrandBoundSipService(sdk::SipService& inner, std::shared_ptr<PluginStrand> strand)
        : inner_(inner), strand_(std::move(strand)) {}
    void send_request(sdk::SipRequest request, sdk::SipResponseHandler on_final) noexcept override;
    [[nodiscard]] std::vector<std::string> domains() const override { return inner_.domains(); }

private:
    sdk::SipService& inner_;
    std::shared_ptr<PluginStrand> strand_;
};

class StrandBoundXmppService final : public sdk::XmppService {
public:
    StrandBoundXmppService(sdk::XmppService& inner, std::shared_ptr<PluginStrand> strand)
        : inner_(inner), strand_(std::move(strand)) {}
    void send(sdk::Stanza stanza, sdk::SendCompletion done) noexcept override;
    void send_tracked(sdk::Stanza stanza, sdk::SendCompletion done,
                      std::chrono::milliseconds window,
                      sdk::ReplyHandler on_reply) noexcept override;
    [[nodiscard]] std::string component_domain() const override {
        return inner_.component_domain();
    }
    [[nodiscard]] bool connected() const noexcept override { return inner_.connected(); }

private:
    sdk::XmppService& inner_;
    std::shared_ptr<PluginStrand> strand_;
};

} // namespace stox::core
