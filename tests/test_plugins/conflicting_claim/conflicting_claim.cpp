// SPDX-License-Identifier: Apache-2.0
// Claims SIP MESSAGE, as good_minimal does: whichever comes second is refused.
#include "../common/test_plugin.hpp"

namespace stox::test_plugins {
namespace {

class Conflicting final : public SequencePlugin {
public:
    Conflicting() : SequencePlugin("conflicting_claim") {}
};

} // namespace
} // namespace stox::test_plugins

STOX_DECLARE_PLUGIN(stox::test_plugins::Conflicting, STOX_PLUGIN_ID, STOX_PLUGIN_VERSION);
