// SPDX-License-Identifier: Apache-2.0
// A small sdk::ErrorMapper for the router tests: the real one (core/src/mapping) is tested on
// its own. Only xmpp_for() matters here; it records the codes it was asked about so a test can
// check that the router asks instead of hard-coding conditions.
#pragma once

#include <mutex>
#include <vector>

#include "stox/sdk/mapping.hpp"

namespace stox::core::test {

class FakeErrorMapper final : public sdk::ErrorMapper {
public:
    [[nodiscard]] sdk::XmppError sip_to_xmpp(int, std::string_view,
                                             std::string_view) const override {
        return {"undefined-condition", "cancel", {}, {}};
    }
    [[nodiscard]] sdk::SipError xmpp_to_sip(const sdk::XmppError&,
                                            const sdk::XmppToSipContext&) const override {
        return {500, "Server Internal Error", {}, {}};
    }
    [[nodiscard]] sdk::XmppError xmpp_for(const sdk::Status& status) const override {
        {
            std::lock_guard lock(mu_);
            asked_.push_back(status.code());
        }
        // RFC 6120 §8.3.3.3 and §8.3.3.18, with their default types.
        switch (status.code()) {
        case sdk::ErrorCode::Unsupported: return {"feature-not-implemented", "cancel", text_, {}};
        case sdk::ErrorCode::Overloaded: return {"resource-constraint", "wait", text_, {}};
        default: return {"undefined-condition", "cancel", text_, {}};
        }
    }
    [[nodiscard]] sdk::SipError sip_for(const sdk::Status&) const override {
        return {500, "Server Internal Error", {}, {}};
    }

    /// Text the mapped errors carry (none by default).
    void set_text(std::string text) { text_ = std::move(text); }
    [[nodiscard]] std::vector<sdk::ErrorCode> asked() const {
        std::lock_guard lock(mu_);
        return asked_;
    }

private:
    std::string text_;
    mutable std::mutex mu_;
    mutable std::vector<sdk::ErrorCode> asked_;
};

} // namespace stox::core::test
