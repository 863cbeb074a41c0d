// SPDX-License-Identifier: Apache-2.0
// Stand-ins for the SIP and XMPP endpoints, used by the gateway until those endpoints run.
// They never pretend: every SIP request fails with a synthesized 503 "SIP endpoint not running"
// (a transport failure, RFC 3261 §8.1.3.1) and every stanza with ErrorCode::Unreachable.
//
// Threading: completions are never run inline (a plugin must not be re-entered from its own
// send call); they are posted to the io_context. They do not need the caller's strand: the
// plugin reaches these services through its PluginContextImpl, whose StrandBoundSipService /
// StrandBoundXmppService re-post every completion onto the calling plugin's strand. That one
// mechanism serves these stand-ins and the real endpoints alike, and CoreServices keeps one
// shared SipService / XmppService for all plugins.
#pragma once

#include <utility> // before Asio: Boost 1.74 + g++ 12 + C++20 (peers.md G1)
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "stox/sdk/logger.hpp"
#include "stox/sdk/sip.hpp"
#include "stox/sdk/xmpp.hpp"

namespace stox::core {

class OfflineSipService final : public sdk::SipService {
public:
    static constexpr int kStatus = 503;
    static constexpr std::string_view kReason = "SIP endpoint not running";

    OfflineSipService(boost::asio::io_context& io, sdk::Logger& log,
                      std::vector<std::string> domains);
    void send_request(sdk::SipRequest request, sdk::SipResponseHandler on_final) noexcept override;
    [[nodiscard]] std::vector<std::string> domains() const override { return domains_; }

private:
    boost::asio::io_context& io_;
    sdk::Logger& log_;
    std::vector<std::string> domains_;
};

class OfflineXmppService final : public sdk::XmppService {
public:
    static constexpr std::string_view kReason = "XMPP component link not running";

    OfflineXmppService(boost::asio::io_context& io, sdk::Logger& log, std::string domain);
    void send(sdk::Stanza stanza, sdk::SendCompletion done) noexcept override;
    /// Fails like send(); `on_reply` is never called (nothing was sent, xmpp.hpp).
    void send_tracked(sdk::Stanza stanza, sdk::SendCompletion done, std::chrono::milliseconds,
                      sdk::ReplyHandler) noexcept override {
        send(std::move(stanza), std::move(done));
    }
    [[nodiscard]] std::string component_domain() const override { return domain_; }
    [[nodiscard]] bool connected() const noexcept override { return false; }

private:
    boost::asio::io_context& io_;
    sdk::Logger& log_;
    std::string domain_;
};

} // namespace stox::core
