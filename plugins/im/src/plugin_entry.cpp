// SPDX-License-Identifier: Apache-2.0
// The exported descriptor of the IM plugin; id and version come from plugin.json through
// stox_add_plugin(), so they cannot drift from the manifest.
#include "im_plugin.hpp"
#include "stox/sdk/abi.hpp"

namespace stox::plugins::im {
namespace {

class ImPluginEntry final : public ImPlugin {
public:
    ImPluginEntry() : ImPlugin(STOX_PLUGIN_VERSION) {}
};

} // namespace
} // namespace stox::plugins::im

STOX_DECLARE_PLUGIN(stox::plugins::im::ImPluginEntry, STOX_PLUGIN_ID, STOX_PLUGIN_VERSION);
