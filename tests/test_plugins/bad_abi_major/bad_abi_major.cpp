// SPDX-License-Identifier: Apache-2.0
// The manifest is right; the descriptor claims the next ABI major.
#include "../common/test_plugin.hpp"

namespace stox::test_plugins {
namespace {

class Lying final : public SequencePlugin {
public:
    Lying() : SequencePlugin("bad_abi_major") {}
};

} // namespace
} // namespace stox::test_plugins

STOX_TEST_DESCRIPTOR([]() -> ::stox::sdk::Plugin* { return new stox::test_plugins::Lying(); },
                     STOX_SDK_ABI_MAJOR + 1, STOX_SDK_ABI_MINOR, STOX_BUILD_FINGERPRINT,
                     STOX_PLUGIN_ID, STOX_PLUGIN_VERSION);
