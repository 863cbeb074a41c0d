// SPDX-License-Identifier: Apache-2.0
#include "plugin/strand_bound_services.hpp"

#include <optional>

namespace stox::core {

void StrandBoundSipService::send_request(sdk::SipRequest request,
                                         sdk::SipResponseHandler on_final) noexcept {
    sdk::SipResponseHandler hop;
    if (on_final) {
        try {
            // Holds the strand by weak_ptr: a completion must not keep a stopped plugin's
            // strand (and through it the plugin's callbacks) alive.
            hop = [weak = std::weak_ptr<PluginStrand>(strand_),
                   cb = std::move(on_final)](const sdk::SipResponse& response) {
                if (auto strand = weak.lock()) strand->post([cb, response] { cb(response); });
            };
        } catch (...) {
            // Out of memory building the hop: the request is still sent, unobserved.
        }
    }
    inner_.send_request(std::move(request), std::move(hop));
}

namespace {

// Empty in, empty out: the service then knows nobody is waiting.
sdk::SendCompletion hop_done(const std::shared_ptr<PluginStrand>& strand,
                             sdk::SendCompletion done) noexcept {
    if (!done) return {};
    try {
        return [weak = std::weak_ptr<PluginStrand>(strand),
                cb = std::move(done)](const sdk::Status& status) {
            if (auto s = weak.lock()) s->post([cb, status] { cb(status); });
        };
    } catch (...) {
        return {}; // out of memory building the hop: the stanza is still sent, unobserved
    }
}

} // namespace

void StrandBoundXmppService::send(sdk::Stanza stanza, sdk::SendCompletion done) noexcept {
    inner_.send(std::move(stanza), hop_done(strand_, std::move(done)));
}

void StrandBoundXmppService::send_tracked(sdk::Stanza stanza, sdk::SendCompletion done,
                                          std::chrono::milliseconds window,
                                          sdk::ReplyHandler on_reply) noexcept {
    sdk::ReplyHandler reply_hop;
    if (on_reply) {
        try {
            // The reply is only valid during the call: the copy travels to the strand.
            reply_hop = [weak = std::weak_ptr<PluginStrand>(strand_),
                         cb = std::move(on_reply)](const sdk::Stanza* reply) {
                auto s = weak.lock();
                if (!s) return;
                std::optional<sdk::Stanza> copy;
                if (reply != nullptr) copy = *reply;
                s->post([cb, copy = std::move(copy)] { cb(copy ? &*copy : nullptr); });
            };
        } catch (...) {
            // Out of memory building the hop: sent, but the reply goes unobserved.
        }
    }
    inner_.send_tracked(std::move(stanza), hop_done(strand_, std::move(done)), window,
                        std::move(reply_hop));
}

} // namespace stox::core
