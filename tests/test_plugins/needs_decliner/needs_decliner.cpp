// SPDX-License-Identifier: Apache-2.0
// Requires declines_start, which never starts: this one must be skipped.
#include "../common/test_plugin.hpp"

namespace stox::test_plugins {
namespace {

class NeedsDecliner final : public SequencePlugin {
public:
    NeedsDecliner() : SequencePlugin("needs_decliner") {}
};

} // namespace
} // namespace stox::test_plugins

STOX_DECLARE_PLUGIN(stox::test_plugins::NeedsDecliner, STOX_PLUGIN_ID, STOX_PLUGIN_VERSION);
