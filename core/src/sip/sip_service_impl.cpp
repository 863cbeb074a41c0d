// SPDX-License-Identifier: Apache-2.0
#include "sip/sip_service_impl.hpp"

namespace stox::core::sip {

void SipServiceImpl::send_request(sdk::SipRequest request,
                                  sdk::SipResponseHandler on_final) noexcept {
    try {
        endpoint_.send_request(std::move(request), [cb = std::move(on_final)](sdk::SipResponse r) {
            if (cb) cb(r);
        });
    } catch (...) {
        // Allocation failure while queuing: the caller learns it like any transport failure.
        if (on_final) {
            sdk::SipResponse r;
            r.status = 503;
            r.reason = "Gateway Out Of Memory";
            try {
                on_final(r);
            } catch (...) {
            }
        }
    }
}

} // namespace stox::core::sip
