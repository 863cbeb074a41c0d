// SPDX-License-Identifier: Apache-2.0
// Has a config_schema with defaults; reports what it got in counters:
//   test.config.max_items     the value of /max_items
//   test.config.greeting_len  the length of /greeting
#include "../common/test_plugin.hpp"

namespace stox::test_plugins {
namespace {

class Configured final : public SequencePlugin {
public:
    Configured() : SequencePlugin("config_schema_plugin") {}

protected:
    sdk::Status on_start(sdk::PluginContext& ctx) noexcept override {
        auto max_items = ctx.config().get_int("/max_items");
        auto greeting = ctx.config().get_string("/greeting");
        if (!max_items || !greeting)
            return sdk::Status(sdk::ErrorCode::InvalidConfig, "defaults were not applied");
        ctx.metrics().counter("test.config.max_items").add(static_cast<std::uint64_t>(*max_items));
        ctx.metrics().counter("test.config.greeting_len").add(greeting->size());
        return {};
    }
};

} // namespace
} // namespace stox::test_plugins

STOX_DECLARE_PLUGIN(stox::test_plugins::Configured, STOX_PLUGIN_ID, STOX_PLUGIN_VERSION);
