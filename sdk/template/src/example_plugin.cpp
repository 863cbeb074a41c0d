// SPDX-License-Identifier: Apache-2.0
// The smallest useful stoxgw plugin: it answers <iq type='get'> carrying
// <ping xmlns='urn:example:stoxgw:template'/> with a result holding the configured greeting,
// and logs when the gateway is ready. Everything runs on the plugin's strand: no locks.
#include <stox/sdk/sdk.hpp>

namespace example {

constexpr std::string_view kNs = "urn:example:stoxgw:template";

class TemplatePlugin final : public stox::sdk::Plugin {
public:
    stox::sdk::Status start(stox::sdk::PluginContext& ctx) noexcept override {
        ctx_ = &ctx;
        greeting_ = ctx.config().get_string("/greeting").value_or("hello");
        answered_ = &ctx.metrics().counter("template.answered");

        ready_ = ctx.bus().subscribe<stox::sdk::events::GatewayReady>(
            [this](const stox::sdk::events::GatewayReady&) {
                STOX_LOG_INFO(ctx_->log(), "gateway ready; answering pings in {}", kNs);
            });
        return ctx.on_stanza([this](const stox::sdk::Stanza& iq) { answer(iq); });
    }

    void stop() noexcept override { ready_.reset(); }

private:
    void answer(const stox::sdk::Stanza& iq) {
        auto reply = stox::sdk::make_stanza("iq");
        reply.set_attr("type", "result");
        reply.set_attr("id", iq.attr("id"));
        reply.set_attr("from", iq.attr("to"));
        reply.set_attr("to", iq.attr("from"));
        reply.add_child("pong", std::string(kNs)).add_text(greeting_);
        ctx_->xmpp().send(std::move(reply), [this](const stox::sdk::Status& s) {
            if (s)
                answered_->add();
            else
                STOX_LOG_WARN(ctx_->log(), "pong not delivered: {}", s.message());
        });
    }

    stox::sdk::PluginContext* ctx_ = nullptr;
    stox::sdk::Counter* answered_ = nullptr;
    stox::sdk::Subscription ready_;
    std::string greeting_;
};

} // namespace example

STOX_DECLARE_PLUGIN(example::TemplatePlugin, STOX_PLUGIN_ID, STOX_PLUGIN_VERSION);
