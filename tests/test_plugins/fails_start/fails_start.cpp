// SPDX-License-Identifier: Apache-2.0
// start() returns an error other than Declined: a hard failure.
#include "../common/test_plugin.hpp"

namespace stox::test_plugins {
namespace {

class Failer final : public SequencePlugin {
public:
    Failer() : SequencePlugin("fails_start") {}

protected:
    sdk::Status on_start(sdk::PluginContext& ctx) noexcept override {
        // Left armed on purpose: the core must cancel it, never run it after destroying us.
        timer_ = ctx.executor().after(std::chrono::milliseconds(100), [&ctx] {
            ctx.metrics().counter("test.fails_start.timer_fired").add();
        });
        return sdk::Status(sdk::ErrorCode::Unreachable, "backend at 192.0.2.1 unreachable");
    }

private:
    sdk::TimerHandle timer_;
};

} // namespace
} // namespace stox::test_plugins

STOX_DECLARE_PLUGIN(stox::test_plugins::Failer, STOX_PLUGIN_ID, STOX_PLUGIN_VERSION);
