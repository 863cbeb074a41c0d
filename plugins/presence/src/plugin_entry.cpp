// SPDX-License-Identifier: Apache-2.0
// The one exported symbol of the presence plugin module.
#include "presence_plugin.hpp"
#include "stox/sdk/abi.hpp"

STOX_DECLARE_PLUGIN(stox::plugins::presence::PresencePlugin, STOX_PLUGIN_ID, STOX_PLUGIN_VERSION);
