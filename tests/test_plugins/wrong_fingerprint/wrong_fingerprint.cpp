// SPDX-License-Identifier: Apache-2.0
// Built with another toolchain: the descriptor's fingerprint differs.
#include "../common/test_plugin.hpp"

namespace stox::test_plugins {
namespace {

class Lying final : public SequencePlugin {
public:
    Lying() : SequencePlugin("wrong_fingerprint") {}
};

} // namespace
} // namespace stox::test_plugins

STOX_TEST_DESCRIPTOR([]() -> ::stox::sdk::Plugin* { return new stox::test_plugins::Lying(); },
                     STOX_SDK_ABI_MAJOR, STOX_SDK_ABI_MINOR,
                     "gcc-0;libstdc++-0-abi0;cxx0;boost0;noasan;notsan", STOX_PLUGIN_ID,
                     STOX_PLUGIN_VERSION);
