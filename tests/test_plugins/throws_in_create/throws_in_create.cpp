// SPDX-License-Identifier: Apache-2.0
// create() is a plain function pointer: a hand-written one may throw (STOX_DECLARE_PLUGIN's
// catches). The core must survive it and mark the plugin failed.
#include <stdexcept>

#include "../common/test_plugin.hpp"

STOX_TEST_DESCRIPTOR([]() -> ::stox::sdk::Plugin* { throw std::runtime_error("boom in create"); },
                     STOX_SDK_ABI_MAJOR, STOX_SDK_ABI_MINOR, STOX_BUILD_FINGERPRINT, STOX_PLUGIN_ID,
                     STOX_PLUGIN_VERSION);
