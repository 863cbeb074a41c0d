// SPDX-License-Identifier: Apache-2.0
// A plugin library that forgot STOX_DECLARE_PLUGIN: it exports no descriptor.
#include "../common/test_plugin.hpp"

namespace stox::test_plugins {

sdk::Plugin* make_forgotten_plugin();

namespace {
class Forgotten final : public SequencePlugin {
public:
    Forgotten() : SequencePlugin("missing_descriptor") {}
};
} // namespace

sdk::Plugin* make_forgotten_plugin() {
    return new Forgotten();
}

} // namespace stox::test_plugins
