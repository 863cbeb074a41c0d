// SPDX-License-Identifier: Apache-2.0
// ChatTransport over stox_msrp_net (plugins/common/msrp): MsrpEndpoint owns the listener and the
// connections (COMEDIA active/passive, connection reuse, RFC 4975 §5.4 binding by To-Path).
#include "transport.hpp"

#include <utility>

namespace stox::plugins::chat {

namespace {

class MsrpSessionAdapter final : public ChatMsrpSession {
public:
    explicit MsrpSessionAdapter(std::shared_ptr<msrp::MsrpSession> s) : s_(std::move(s)) {}
    ~MsrpSessionAdapter() override { s_->close(); }
    MsrpSessionAdapter(const MsrpSessionAdapter&) = delete;
    MsrpSessionAdapter& operator=(const MsrpSessionAdapter&) = delete;

    sdk::Result<std::string> send_message(std::string body, std::string content_type,
                                          msrp::SendOptions options) override {
        return s_->send_message(std::move(body), std::move(content_type), std::move(options));
    }
    sdk::Status report(const std::string& message_id, std::uint16_t code) override {
        return s_->report(message_id, code);
    }
    void close() override { s_->close(); }

private:
    std::shared_ptr<msrp::MsrpSession> s_;
};

class MsrpTransport final : public ChatTransport {
public:
    MsrpTransport(boost::asio::any_io_executor executor, msrp::EndpointOptions options)
        : host_(options.advertised_host.empty() ? options.listen_address : options.advertised_host),
          endpoint_(msrp::MsrpEndpoint::create(std::move(executor), std::move(options))) {}
    ~MsrpTransport() override { endpoint_->shutdown(); }
    MsrpTransport(const MsrpTransport&) = delete;
    MsrpTransport& operator=(const MsrpTransport&) = delete;

    sdk::Status start() override { return endpoint_->listen(); }
    [[nodiscard]] std::string host() const override { return host_; }
    [[nodiscard]] std::uint16_t port() const override { return endpoint_->port(); }
    [[nodiscard]] msrp::Uri make_local_uri() override { return endpoint_->make_local_uri(); }
    sdk::Result<std::shared_ptr<ChatMsrpSession>>
    create_session(msrp::SessionOptions options, msrp::SessionHandlers handlers) override {
        auto s = endpoint_->create_session(std::move(options), std::move(handlers));
        if (!s) return s.status();
        return std::shared_ptr<ChatMsrpSession>(std::make_shared<MsrpSessionAdapter>(*s));
    }
    void shutdown() override { endpoint_->shutdown(); }

private:
    std::string host_;
    std::shared_ptr<msrp::MsrpEndpoint> endpoint_;
};

} // namespace

std::unique_ptr<ChatTransport> make_msrp_transport(boost::asio::any_io_executor executor,
                                                   msrp::EndpointOptions options) {
    return std::make_unique<MsrpTransport>(std::move(executor), std::move(options));
}

} // namespace stox::plugins::chat
