// SPDX-License-Identifier: Apache-2.0
// sdk::SipService over the SipEndpoint, shared by all plugins. Completions run on the sofia
// thread; each plugin reaches this through StrandBoundSipService, which re-posts them onto the
// plugin's strand (plugin/strand_bound_services.hpp).
#pragma once

#include "sip/sip_endpoint.hpp"
#include "stox/sdk/sip.hpp"

namespace stox::core::sip {

class SipServiceImpl final : public sdk::SipService, public sdk::SipDialogSupport {
public:
    explicit SipServiceImpl(SipEndpoint& endpoint) : endpoint_(endpoint) {}
    void send_request(sdk::SipRequest request, sdk::SipResponseHandler on_final) noexcept override;
    [[nodiscard]] std::vector<std::string> domains() const override {
        return endpoint_.config().domains;
    }

    // sdk::SipDialogSupport
    [[nodiscard]] std::string contact_uri(std::string_view user) const override {
        return endpoint_.contact_uri(user);
    }

private:
    SipEndpoint& endpoint_;
};

} // namespace stox::core::sip
