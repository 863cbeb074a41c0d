// SPDX-License-Identifier: Apache-2.0
// Requires a plugin nobody has.
#include "../common/test_plugin.hpp"

namespace stox::test_plugins {
namespace {

class Orphan final : public SequencePlugin {
public:
    Orphan() : SequencePlugin("missing_dependency") {}
};

} // namespace
} // namespace stox::test_plugins

STOX_DECLARE_PLUGIN(stox::test_plugins::Orphan, STOX_PLUGIN_ID, STOX_PLUGIN_VERSION);
