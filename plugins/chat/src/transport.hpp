// SPDX-License-Identifier: Apache-2.0
// The seam between the conversation logic and MSRP (RFC 4975). The real implementation
// (MsrpTransport) drives stox_msrp_net on an Asio executor (the plugin's strand in the gateway,
// a test io_context in the socket tests); harness tests use a fake that records what the logic
// asks for and fires the MSRP events by hand, since the harness's ManualExecutor runs no Asio.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <stox/msrp/session.hpp>

#include "stox/sdk/status.hpp"

namespace stox::plugins::chat {

/// One MSRP session (the subset of msrp::MsrpSession the plugin uses).
class ChatMsrpSession {
public:
    virtual ~ChatMsrpSession() = default;
    virtual sdk::Result<std::string> send_message(std::string body, std::string content_type,
                                                  msrp::SendOptions options) = 0;
    virtual sdk::Status report(const std::string& message_id, std::uint16_t code) = 0;
    /// Ends the session without an on_closed callback.
    virtual void close() = 0;
};

/// The MSRP endpoint of the plugin: listener, path URIs, sessions.
class ChatTransport {
public:
    virtual ~ChatTransport() = default;
    /// Binds the listener (needed before any SDP is written: the port goes into a=path).
    virtual sdk::Status start() = 0;
    [[nodiscard]] virtual std::string host() const = 0;
    [[nodiscard]] virtual std::uint16_t port() const = 0;
    /// A fresh, unguessable local path URI (MSRP-25, TV-01: >= 80 random bits).
    [[nodiscard]] virtual msrp::Uri make_local_uri() = 0;
    /// Callbacks of `handlers` run on the plugin's strand.
    virtual sdk::Result<std::shared_ptr<ChatMsrpSession>>
    create_session(msrp::SessionOptions options, msrp::SessionHandlers handlers) = 0;
    /// Closes every connection; live sessions get on_closed(Cancelled).
    virtual void shutdown() = 0;
};

/// stox_msrp_net over `executor` (every call and callback on it).
std::unique_ptr<ChatTransport> make_msrp_transport(boost::asio::any_io_executor executor,
                                                   msrp::EndpointOptions options);

} // namespace stox::plugins::chat
