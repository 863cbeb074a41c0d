// SPDX-License-Identifier: Apache-2.0
// create() returns nullptr (STOX_DECLARE_PLUGIN does so when the constructor throws).
#include "../common/test_plugin.hpp"

STOX_TEST_DESCRIPTOR([]() -> ::stox::sdk::Plugin* { return nullptr; }, STOX_SDK_ABI_MAJOR,
                     STOX_SDK_ABI_MINOR, STOX_BUILD_FINGERPRINT, STOX_PLUGIN_ID,
                     STOX_PLUGIN_VERSION);
