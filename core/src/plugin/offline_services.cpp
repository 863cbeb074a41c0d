// SPDX-License-Identifier: Apache-2.0
#include "plugin/offline_services.hpp"

#include <boost/asio/post.hpp>

#include "bus/noexcept_log.hpp"

namespace stox::core {

using detail::log_noexcept;

OfflineSipService::OfflineSipService(boost::asio::io_context& io, sdk::Logger& log,
                                     std::vector<std::string> domains)
    : io_(io), log_(log), domains_(std::move(domains)) {}

void OfflineSipService::send_request(sdk::SipRequest request,
                                     sdk::SipResponseHandler on_final) noexcept {
    log_noexcept(log_, sdk::LogLevel::Warn, "SIP {} to {} not sent: {}", request.method,
                 request.request_uri, kReason);
    if (!on_final) return; // the caller asked not to be told; the warning above is the record
    try {
        sdk::SipResponse response;
        response.status = kStatus;
        response.reason = std::string(kReason);
        boost::asio::post(io_, [cb = std::move(on_final), r = std::move(response)] { cb(r); });
    } catch (const std::exception& e) {
        log_noexcept(log_, sdk::LogLevel::Error, "could not report the failed SIP {}: {}",
                     request.method, e.what());
    }
}

OfflineXmppService::OfflineXmppService(boost::asio::io_context& io, sdk::Logger& log,
                                       std::string domain)
    : io_(io), log_(log), domain_(std::move(domain)) {}

void OfflineXmppService::send(sdk::Stanza stanza, sdk::SendCompletion done) noexcept {
    try {
        log_noexcept(log_, sdk::LogLevel::Warn, "<{}/> to '{}' not sent: {}", stanza.name(),
                     stanza.attr("to"), kReason);
        if (!done) return;
        boost::asio::post(io_, [cb = std::move(done)] {
            cb(sdk::Status(sdk::ErrorCode::Unreachable, std::string(kReason)));
        });
    } catch (const std::exception& e) {
        log_noexcept(log_, sdk::LogLevel::Error, "could not report the failed <{}/>: {}",
                     stanza.name(), e.what());
    }
}

} // namespace stox::core
