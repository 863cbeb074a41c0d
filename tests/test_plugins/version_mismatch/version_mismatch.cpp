// SPDX-License-Identifier: Apache-2.0
// The descriptor's version is not the manifest's.
#include "../common/test_plugin.hpp"

namespace stox::test_plugins {
namespace {

class Lying final : public SequencePlugin {
public:
    Lying() : SequencePlugin("version_mismatch") {}
};

} // namespace
} // namespace stox::test_plugins

STOX_TEST_DESCRIPTOR([]() -> ::stox::sdk::Plugin* { return new stox::test_plugins::Lying(); },
                     STOX_SDK_ABI_MAJOR, STOX_SDK_ABI_MINOR, STOX_BUILD_FINGERPRINT, STOX_PLUGIN_ID,
                     "9.9.9");
