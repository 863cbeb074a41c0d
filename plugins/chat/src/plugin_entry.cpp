// SPDX-License-Identifier: Apache-2.0
// The exported descriptor of the chat plugin; id and version come from plugin.json through
// stox_add_plugin(), so they cannot drift from the manifest.
#include "chat_plugin.hpp"
#include "stox/sdk/abi.hpp"

namespace stox::plugins::chat {
namespace {

class ChatPluginEntry final : public ChatPlugin {
public:
    ChatPluginEntry() : ChatPlugin(STOX_PLUGIN_VERSION) {}
};

} // namespace
} // namespace stox::plugins::chat

STOX_DECLARE_PLUGIN(stox::plugins::chat::ChatPluginEntry, STOX_PLUGIN_ID, STOX_PLUGIN_VERSION);
