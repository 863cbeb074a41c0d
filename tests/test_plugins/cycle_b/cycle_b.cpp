// SPDX-License-Identifier: Apache-2.0
// Requires cycle_a, which requires this one.
#include "../common/test_plugin.hpp"

namespace stox::test_plugins {
namespace {

class Cycle final : public SequencePlugin {
public:
    Cycle() : SequencePlugin("cycle_b") {}
};

} // namespace
} // namespace stox::test_plugins

STOX_DECLARE_PLUGIN(stox::test_plugins::Cycle, STOX_PLUGIN_ID, STOX_PLUGIN_VERSION);
