// SPDX-License-Identifier: Apache-2.0
// Chooses not to run (ErrorCode::Declined): a soft failure.
#include "../common/test_plugin.hpp"

namespace stox::test_plugins {
namespace {

class Decliner final : public SequencePlugin {
public:
    Decliner() : SequencePlugin("declines_start") {}

protected:
    sdk::Status on_start(sdk::PluginContext&) noexcept override {
        return sdk::Status(sdk::ErrorCode::Declined, "nothing to do with this configuration");
    }
};

} // namespace
} // namespace stox::test_plugins

STOX_DECLARE_PLUGIN(stox::test_plugins::Decliner, STOX_PLUGIN_ID, STOX_PLUGIN_VERSION);
