// SPDX-License-Identifier: Apache-2.0
// The SIP endpoint of the core: real RFC 3261 transactions on UDP and TCP through sofia-sip's
// transaction layer (nta). nta, not nua: the gateway is a B2BUA that needs transactions and
// (later) dialogs it controls itself, and nta costs half of nua's CPU per message (peers.md §3b:
// 4.6 s vs 9.7 s for 150k MESSAGEs).
//
// Threading: every sofia object lives on the SofiaLoop thread. Requests arriving there are
// converted to sdk::SipRequest on that thread and handed to the request handler (the ingress
// router), which posts them to a plugin strand. Responses and new requests from plugins are
// marshalled back with SofiaLoop::post.
//
// Malformed requests are answered 400 by nta itself and never reach the handler.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "stox/sdk/logger.hpp"
#include "stox/sdk/sip.hpp"
#include "stox/sdk/status.hpp"

namespace stox::core {
class MetricsRegistry;
}

namespace stox::core::sip {

class SofiaLoop;

struct SipListen {
    std::string transport; ///< "udp" | "tcp"
    std::string host;
    std::uint16_t port = 0; ///< 0 = pick a free port (tests)
};

/// Parses "udp:127.0.0.1:5060" / "tcp:[::1]:5060".
sdk::Result<SipListen> parse_listen(std::string_view text);

struct SipEndpointConfig {
    std::vector<SipListen> listen;
    std::string outbound_proxy;       ///< "" = RFC 3263 resolution of the Request-URI
    std::string contact_host;         ///< host[:port] of Contact URIs; "" = first listen address
    std::vector<std::string> domains; ///< the SIP domains the gateway represents
    std::string user_agent = "stoxgw";
    unsigned udp_mtu = 1300;   ///< RFC 3261 §18.1.1: larger requests go over TCP
    unsigned t1x64_ms = 32000; ///< Timer B/F/H/J (64*T1); lower it in benchmarks
    std::size_t max_message_bytes = 65536;
};

/// Bound address after start(), e.g. for tests that listen on port 0.
struct BoundAddress {
    std::string transport;
    std::string host;
    std::uint16_t port = 0;
};

class SipEndpoint {
public:
    using RequestHandler = std::function<void(std::shared_ptr<sdk::SipServerTransaction>)>;

    SipEndpoint(SipEndpointConfig config, MetricsRegistry& metrics, sdk::Logger& log);
    ~SipEndpoint();
    SipEndpoint(const SipEndpoint&) = delete;
    SipEndpoint& operator=(const SipEndpoint&) = delete;

    /// Called on the sofia thread for every request outside a dialog. Set before start().
    void set_request_handler(RequestHandler handler);

    /// Creates the transaction agent and binds every listen address. Fails (with the address
    /// and the OS reason) when a port is busy.
    sdk::Status start();
    /// Answers every pending server transaction 503, destroys the agent, joins the sofia thread.
    void stop();

    /// Sends a request statefully; `on_final` runs on the sofia thread with the final response
    /// (timeouts and transport errors arrive as responses synthesized by nta: 408, 503).
    void send_request(sdk::SipRequest request, std::function<void(sdk::SipResponse)> on_final);

    [[nodiscard]] std::vector<BoundAddress> bound() const;
    /// Contact URI routing back to this endpoint (RFC 3261 §8.1.1.8): "sip:USER@HOST:PORT",
    /// with ";transport=tcp" when only TCP is bound. Any thread; valid after start().
    [[nodiscard]] std::string contact_uri(std::string_view user) const;
    [[nodiscard]] const SipEndpointConfig& config() const noexcept { return config_; }

    struct Impl; // public so the sofia C callbacks in the .cpp can name it

private:
    SipEndpointConfig config_;
    std::shared_ptr<Impl> impl_;
    mutable std::mutex contact_mu_;
    std::string contact_hostport_; ///< set by start()
    bool contact_tcp_only_ = false;
};

} // namespace stox::core::sip
