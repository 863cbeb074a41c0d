// SPDX-License-Identifier: Apache-2.0
// The descriptor's id is not the manifest's.
#include "../common/test_plugin.hpp"

namespace stox::test_plugins {
namespace {

class Lying final : public SequencePlugin {
public:
    Lying() : SequencePlugin("id_mismatch") {}
};

} // namespace
} // namespace stox::test_plugins

STOX_TEST_DESCRIPTOR([]() -> ::stox::sdk::Plugin* { return new stox::test_plugins::Lying(); },
                     STOX_SDK_ABI_MAJOR, STOX_SDK_ABI_MINOR, STOX_BUILD_FINGERPRINT,
                     "org.stoxgw.test.someone_else", STOX_PLUGIN_VERSION);
