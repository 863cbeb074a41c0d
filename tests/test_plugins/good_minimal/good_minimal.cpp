// SPDX-License-Identifier: Apache-2.0
// Starts, counts its start and stop, and answers the SIP MESSAGEs it claims with 200.
#include "../common/test_plugin.hpp"

namespace stox::test_plugins {
namespace {

class GoodMinimal final : public SequencePlugin {
public:
    GoodMinimal() : SequencePlugin("good_minimal") {}

protected:
    sdk::Status on_start(sdk::PluginContext& ctx) noexcept override {
        return ctx.on_sip_request([](std::shared_ptr<sdk::SipServerTransaction> tx) {
            sdk::SipResponse ok;
            ok.status = 200;
            ok.reason = "OK";
            tx->respond(std::move(ok));
        });
    }
};

} // namespace
} // namespace stox::test_plugins

STOX_DECLARE_PLUGIN(stox::test_plugins::GoodMinimal, STOX_PLUGIN_ID, STOX_PLUGIN_VERSION);
