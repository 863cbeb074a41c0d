// SPDX-License-Identifier: Apache-2.0
// Requires good_minimal 1.x: must start after it and stop before it.
#include "../common/test_plugin.hpp"

namespace stox::test_plugins {
namespace {

class GoodDependent final : public SequencePlugin {
public:
    GoodDependent() : SequencePlugin("good_dependent") {}
};

} // namespace
} // namespace stox::test_plugins

STOX_DECLARE_PLUGIN(stox::test_plugins::GoodDependent, STOX_PLUGIN_ID, STOX_PLUGIN_VERSION);
