// SPDX-License-Identifier: Apache-2.0
// Its manifest fails the schema, so the library must never be opened. Opening it would run the
// constructor below, which leaves a trace the loader test looks for (plugins must not have static
// constructors; this one exists only to prove that the manifest is checked before dlopen).
#include <cstdlib>

#include "../common/test_plugin.hpp"

namespace stox::test_plugins {
namespace {

__attribute__((constructor)) void leave_trace() {
    setenv("STOX_TEST_INVALID_MANIFEST_OPENED", "1", 1);
}

class Invalid final : public SequencePlugin {
public:
    Invalid() : SequencePlugin("invalid_manifest") {}
};

} // namespace
} // namespace stox::test_plugins

STOX_DECLARE_PLUGIN(stox::test_plugins::Invalid, STOX_PLUGIN_ID, STOX_PLUGIN_VERSION);
