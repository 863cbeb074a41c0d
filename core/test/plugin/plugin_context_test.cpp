// SPDX-License-Identifier: Apache-2.0
// PluginContextImpl (CTX-*, sdk/docs/abi-policy.md): ingress registration through the router,
// health, the unstable Asio interface, revocation, shared metrics, and service completions on
// the plugin's strand. Also the offline SIP/XMPP stand-ins (OFF-*).
#include <gtest/gtest.h>

#include "plugin/plugin_context_impl.hpp"
#include "plugin_test_support.hpp"
#include "stox/sdk/unstable/asio.hpp"

namespace stox::core {
namespace {

using namespace std::chrono_literals;

class RecordingTransaction final : public sdk::SipServerTransaction {
public:
    explicit RecordingTransaction(std::string method) { request_.method = std::move(method); }
    [[nodiscard]] const sdk::SipRequest& request() const noexcept override { return request_; }
    void respond(sdk::SipResponse response) noexcept override {
        std::lock_guard lock(mu_);
        statuses_.push_back(response.status);
    }
    [[nodiscard]] bool answered() const noexcept override { return !statuses().empty(); }
    [[nodiscard]] std::vector<int> statuses() const {
        std::lock_guard lock(mu_);
        return statuses_;
    }

private:
    sdk::SipRequest request_;
    mutable std::mutex mu_;
    std::vector<int> statuses_;
};

struct TestEvent {
    static constexpr std::string_view kName = "test.happened";
    static constexpr std::uint32_t kVersion = 1;
    sdk::EventMeta meta;
    int value = 0;
};

class PluginContextTest : public ::testing::Test {
protected:
    std::unique_ptr<PluginContextImpl> make(bool claims_sip, bool claims_xmpp,
                                            nlohmann::json config = nlohmann::json::object()) {
        strand = std::make_shared<PluginStrand>(rig.io, kId, 100, rig.metrics, rig.core_log);
        return std::make_unique<PluginContextImpl>(kId, rig.services(), strand,
                                                   config::JsonConfigView(std::move(config)),
                                                   claims_sip, claims_xmpp);
    }

    static constexpr const char* kId = "org.test.ctx";
    test::CoreRig rig;
    std::shared_ptr<PluginStrand> strand;
};

TEST_F(PluginContextTest, IdentityConfigAndTaggedLogger) {
    auto ctx = make(false, false, nlohmann::json{{"greeting", "hi"}});
    EXPECT_EQ(ctx->plugin_id(), kId);
    EXPECT_EQ(*ctx->config().get_string("/greeting"), "hi");
    STOX_LOG_WARN(ctx->log(), "hello {}", 42);
    EXPECT_EQ(rig.capture.matching({kId, "hello 42"}).size(), 1u) << rig.capture.text();
    EXPECT_EQ(&ctx->executor(), strand.get());
    EXPECT_EQ(&ctx->addresses(), &rig.addresses);
    EXPECT_EQ(&ctx->errors(), &rig.errors);
}

TEST_F(PluginContextTest, CTX1_HandlersNeedAClaim) {
    auto ctx = make(false, false);
    auto st = ctx->on_sip_request([](auto) {});
    EXPECT_EQ(st.code(), sdk::ErrorCode::Unsupported);
    EXPECT_NE(st.message().find("claims no SIP requests"), std::string::npos);
    EXPECT_EQ(ctx->on_stanza([](const sdk::Stanza&) {}).code(), sdk::ErrorCode::Unsupported);
    auto claimed = make(true, true);
    EXPECT_EQ(claimed->on_sip_request(nullptr).code(), sdk::ErrorCode::BadRequest);
}

TEST_F(PluginContextTest, CTX1_SipHandlerIsRegisteredInTheRouterAndRunsOnTheStrand) {
    ASSERT_TRUE(rig.claims.add(kId, SipClaim{"MESSAGE", "", ""}).ok());
    auto ctx = make(true, false);
    std::atomic<bool> on_strand{false};
    ASSERT_TRUE(ctx->on_sip_request([&](std::shared_ptr<sdk::SipServerTransaction> tx) {
                       on_strand = strand->strand().running_in_this_thread();
                       sdk::SipResponse ok;
                       ok.status = 200;
                       tx->respond(ok);
                   })
                    .ok());
    auto tx = std::make_shared<RecordingTransaction>("MESSAGE");
    rig.router.deliver_sip(tx);
    ASSERT_TRUE(test::run_until(rig.io, [&] { return tx->answered(); }));
    EXPECT_EQ(tx->statuses(), std::vector<int>{200});
    EXPECT_TRUE(on_strand);
}

TEST_F(PluginContextTest, CTX1_StanzaHandlerIsRegisteredInTheRouter) {
    ASSERT_TRUE(rig.claims.add(kId, StanzaClaim{"message", {}, ""}).ok());
    auto ctx = make(false, true);
    std::atomic<int> got{0};
    ASSERT_TRUE(ctx->on_stanza([&](const sdk::Stanza& s) { got = s.name() == "message"; }).ok());
    rig.router.deliver_stanza(sdk::make_stanza("message"), [](sdk::Stanza) {});
    ASSERT_TRUE(test::run_until(rig.io, [&] { return got.load() == 1; }));
}

TEST_F(PluginContextTest, CTX2_SetStatusWarnsWhenNotOkAndStores) {
    auto ctx = make(false, false);
    EXPECT_EQ(ctx->health(), sdk::HealthLevel::Ok);
    ctx->set_status(sdk::HealthLevel::Degraded, "XMPP link flapping");
    EXPECT_EQ(ctx->health(), sdk::HealthLevel::Degraded);
    EXPECT_EQ(ctx->health_message(), "XMPP link flapping");
    auto warn = rig.capture.matching({" warn [", kId, "degraded", "XMPP link flapping"});
    EXPECT_EQ(warn.size(), 1u) << rig.capture.text();
    ctx->set_status(sdk::HealthLevel::Ok, "");
    EXPECT_EQ(ctx->health(), sdk::HealthLevel::Ok);
    EXPECT_EQ(rig.capture.matching({" warn [", kId}).size(), 1u) << "recovery is not a warning";
}

TEST_F(PluginContextTest, CTX3_UnstableAsioInterface) {
    auto ctx = make(false, false);
    void* raw = ctx->unstable_interface(sdk::unstable::kAsioInterface);
    ASSERT_NE(raw, nullptr);
    EXPECT_EQ(raw, static_cast<void*>(static_cast<sdk::unstable::AsioAccess*>(ctx.get())));
    sdk::unstable::AsioAccess* asio = sdk::unstable::native_asio(*ctx);
    ASSERT_NE(asio, nullptr);
    EXPECT_EQ(&asio->io_context(), &rig.io);
    EXPECT_EQ(&asio->strand(), &strand->strand());
    EXPECT_EQ(ctx->unstable_interface("asio/999999"), nullptr); // another Boost: refused
    EXPECT_EQ(ctx->unstable_interface(""), nullptr);
}

TEST_F(PluginContextTest, CTX4_RevokeClearsHandlersAndClosesTheStrand) {
    ASSERT_TRUE(rig.claims.add(kId, SipClaim{"MESSAGE", "", ""}).ok());
    auto ctx = make(true, false);
    std::atomic<int> calls{0};
    ASSERT_TRUE(ctx->on_sip_request([&](auto) { ++calls; }).ok());
    bool timer_fired = false;
    auto timer = ctx->executor().after(1ms, [&] { timer_fired = true; });
    ctx->revoke();
    EXPECT_TRUE(strand->closed());
    auto tx = std::make_shared<RecordingTransaction>("MESSAGE");
    rig.router.deliver_sip(tx);
    ASSERT_TRUE(tx->answered()); // refused at once: no handler any more
    EXPECT_GE(tx->statuses().front(), 500);
    test::run_until(
        rig.io, [] { return false; }, 30ms);
    EXPECT_EQ(calls.load(), 0);
    EXPECT_FALSE(timer_fired);
    EXPECT_EQ(ctx->on_sip_request([](auto) {}).code(), sdk::ErrorCode::Cancelled);
}

TEST_F(PluginContextTest, CTX5_MetricsAreTheSharedRegistry) {
    auto ctx = make(false, false);
    ctx->metrics().counter("test.ctx.count").add(3);
    EXPECT_EQ(rig.metrics.value("test.ctx.count"), 3u);
}

TEST_F(PluginContextTest, BusSubscriptionsDeliverOnTheStrand) {
    auto ctx = make(false, false);
    std::atomic<int> value{0};
    std::atomic<bool> on_strand{false};
    auto sub = ctx->bus().subscribe<TestEvent>([&](const TestEvent& e) {
        on_strand = strand->strand().running_in_this_thread();
        value = e.value;
    });
    TestEvent e;
    e.value = 7;
    ctx->bus().publish(e);
    ASSERT_TRUE(test::run_until(rig.io, [&] { return value.load() == 7; }));
    EXPECT_TRUE(on_strand);
}

TEST_F(PluginContextTest, CTX6_ServiceCompletionsRunOnThePluginStrand) {
    auto ctx = make(false, false);
    std::atomic<int> sip_status{0};
    std::atomic<bool> sip_on_strand{false};
    // The fake completes inline on the calling thread; the plugin must still see it later, on
    // its own strand (never re-entered from inside send_request).
    ctx->sip().send_request(sdk::SipRequest{}, [&](const sdk::SipResponse& r) {
        sip_on_strand = strand->strand().running_in_this_thread();
        sip_status = r.status;
    });
    EXPECT_EQ(sip_status.load(), 0);
    std::atomic<bool> xmpp_ok{false};
    std::atomic<bool> xmpp_on_strand{false};
    ctx->xmpp().send(sdk::make_stanza("message"), [&](const sdk::Status& s) {
        xmpp_on_strand = strand->strand().running_in_this_thread();
        xmpp_ok = s.ok();
    });
    EXPECT_FALSE(xmpp_ok.load());
    ASSERT_TRUE(test::run_until(rig.io, [&] { return sip_status.load() == 200 && xmpp_ok; }));
    EXPECT_TRUE(sip_on_strand);
    EXPECT_TRUE(xmpp_on_strand);
    EXPECT_EQ(rig.sip.sent.load(), 1);
    EXPECT_EQ(rig.xmpp.sent.load(), 1);
    EXPECT_EQ(ctx->sip().domains(), std::vector<std::string>{"example.net"});
    EXPECT_TRUE(ctx->xmpp().connected());
    EXPECT_EQ(ctx->xmpp().component_domain(), "example.net");
}

TEST_F(PluginContextTest, CTX6_TrackedRepliesArriveOnThePluginStrandAsACopy) {
    auto ctx = make(false, false);
    auto stanza = sdk::make_stanza("message");
    stanza.set_attr("id", "t1");
    std::atomic<bool> sent{false};
    std::optional<std::string> reply_id;
    std::atomic<bool> on_strand{false};
    std::atomic<bool> replied{false};
    ctx->xmpp().send_tracked(
        stanza, [&](const sdk::Status& s) { sent = s.ok(); }, 1s,
        [&](const sdk::Stanza* reply) {
            on_strand = strand->strand().running_in_this_thread();
            if (reply != nullptr) reply_id = reply->attr("id") + "/" + reply->attr("type");
            replied = true;
        });
    EXPECT_FALSE(replied.load()) << "delivered inline";
    ASSERT_TRUE(test::run_until(rig.io, [&] { return sent && replied; }));
    EXPECT_TRUE(on_strand);
    EXPECT_EQ(reply_id, "t1/error");
}

TEST_F(PluginContextTest, CTX6_CompletionAfterRevokeIsDroppedAndCounted) {
    auto ctx = make(false, false);
    ctx->revoke();
    bool called = false;
    ctx->sip().send_request(sdk::SipRequest{}, [&](const sdk::SipResponse&) { called = true; });
    test::run_until(
        rig.io, [] { return false; }, 20ms);
    EXPECT_FALSE(called);
    EXPECT_EQ(rig.metrics.value("strand.refused_closed"), 1u);
}

} // namespace
} // namespace stox::core
