// SPDX-License-Identifier: Apache-2.0
// The manifest is right; the descriptor claims a minor newer than the core's.
#include "../common/test_plugin.hpp"

namespace stox::test_plugins {
namespace {

class Lying final : public SequencePlugin {
public:
    Lying() : SequencePlugin("newer_minor") {}
};

} // namespace
} // namespace stox::test_plugins

STOX_TEST_DESCRIPTOR([]() -> ::stox::sdk::Plugin* { return new stox::test_plugins::Lying(); },
                     STOX_SDK_ABI_MAJOR, STOX_SDK_ABI_MINOR + 1, STOX_BUILD_FINGERPRINT,
                     STOX_PLUGIN_ID, STOX_PLUGIN_VERSION);
