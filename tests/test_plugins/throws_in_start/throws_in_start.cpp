// SPDX-License-Identifier: Apache-2.0
// A plugin whose start() throws. Plugin::start is noexcept, so a conforming C++ override cannot
// let an exception out (it would terminate). This one imitates a plugin built against a header
// without noexcept (or not written in C++): a class with the same vtable layout as sdk::Plugin
// whose start() throws. The core must catch it, mark the plugin failed and carry on.
#include <stdexcept>

#include "stox/sdk/sdk.hpp"

namespace stox::test_plugins {

class Thrower {
public:
    virtual ~Thrower() = default;
    virtual sdk::Status start(sdk::PluginContext& ctx) {
        ctx.metrics().counter("test.throws_in_start.started").add();
        throw std::runtime_error("boom in start");
    }
    virtual sdk::Status reconfigure(const sdk::ConfigView&) { return {}; }
    virtual void stop() { throw std::runtime_error("boom in stop"); }
};

namespace {

sdk::Plugin* create() noexcept {
    // Same layout as sdk::Plugin (Itanium C++ ABI: two destructor slots, then start,
    // reconfigure, stop); this deliberate lie is the point of the test.
    return reinterpret_cast<sdk::Plugin*>(new Thrower());
}

void destroy(sdk::Plugin* p) noexcept {
    delete reinterpret_cast<Thrower*>(p);
}

} // namespace
} // namespace stox::test_plugins

extern "C" STOX_PLUGIN_EXPORT const stox_plugin_descriptor_v1 stox_plugin_descriptor = {
    sizeof(stox_plugin_descriptor_v1),
    STOX_SDK_ABI_MAJOR,
    STOX_SDK_ABI_MINOR,
    STOX_BUILD_FINGERPRINT,
    STOX_PLUGIN_ID,
    STOX_PLUGIN_VERSION,
    &stox::test_plugins::create,
    &stox::test_plugins::destroy,
    {nullptr, nullptr, nullptr, nullptr}};
