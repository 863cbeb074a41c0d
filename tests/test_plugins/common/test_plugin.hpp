// SPDX-License-Identifier: Apache-2.0
// Shared by the purpose-built test plugins (tests/loader asserts what they record).
//
// Counters recorded through ctx.metrics() (the core's shared registry):
//   test.sequence              bumped by every start()/stop() of a SequencePlugin
//   test.<name>.started        number of start() calls;  test.<name>.start_seq: 1 + sequence then
//   test.<name>.stopped        number of stop() calls;   test.<name>.stop_seq:  1 + sequence then
// start() and stop() also call ctx.sip().domains(): the loader test's fake SIP service checks,
// on the core side, that the call arrives on the plugin's strand (a strand check compiled into
// the plugin would read the plugin's own copy of Asio's thread-local call stack).
#pragma once

#include <string>

#include "stox/sdk/sdk.hpp"

namespace stox::test_plugins {

class SequencePlugin : public sdk::Plugin {
public:
    explicit SequencePlugin(const char* name) : name_(name) {}

    sdk::Status start(sdk::PluginContext& ctx) noexcept override {
        ctx_ = &ctx;
        record("start", "started");
        return on_start(ctx);
    }
    void stop() noexcept override {
        if (ctx_ != nullptr) record("stop", "stopped");
    }

protected:
    /// What the plugin does once its start has been recorded.
    virtual sdk::Status on_start(sdk::PluginContext&) noexcept { return {}; }

private:
    void record(const char* what, const char* done) noexcept {
        auto& seq = ctx_->metrics().counter("test.sequence");
        const auto n = seq.value();
        seq.add();
        const std::string prefix = "test." + std::string(name_) + ".";
        ctx_->metrics().counter(prefix + done).add();
        ctx_->metrics().counter(prefix + what + "_seq").add(n + 1);
        (void)ctx_->sip().domains();
    }

    const char* name_;
    sdk::PluginContext* ctx_ = nullptr;
};

} // namespace stox::test_plugins

/// A descriptor written by hand, for the cases that must lie about themselves.
#define STOX_TEST_DESCRIPTOR(CREATE, MAJOR, MINOR, FINGERPRINT, ID, VERSION)                       \
    extern "C" STOX_PLUGIN_EXPORT const stox_plugin_descriptor_v1 stox_plugin_descriptor = {       \
        sizeof(stox_plugin_descriptor_v1),                                                         \
        MAJOR,                                                                                     \
        MINOR,                                                                                     \
        FINGERPRINT,                                                                               \
        ID,                                                                                        \
        VERSION,                                                                                   \
        CREATE,                                                                                    \
        [](::stox::sdk::Plugin* p) noexcept { delete p; },                                         \
        {nullptr, nullptr, nullptr, nullptr}}
