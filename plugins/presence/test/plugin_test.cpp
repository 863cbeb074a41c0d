// SPDX-License-Identifier: Apache-2.0
// The presence plugin as the core runs it: manifest, configuration, routing of SIP requests and
// stanzas to the two roles, restart through the store, and requirements that span both roles.
#include "presence_plugin.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "config/config_view.hpp"
#include "config/json_schema.hpp"
#include "pidf_codec.hpp"
#include "plugin/manifest.hpp"
#include "presence_test_support.hpp"
#include "sip_dialog.hpp"

namespace stox::plugins::presence::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using sdk::testing::PluginHarness;

std::string manifest_text() {
    std::ifstream in(STOX_PRESENCE_MANIFEST);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}
const json& schema() {
    static const json s = json::parse(manifest_text()).at("config_schema");
    return s;
}

TEST(PresenceManifest, IsValidForTheLoaderAndClaimsPresenceOnly) {
    const auto result = stox::core::parse_manifest(manifest_text());
    ASSERT_TRUE(result.manifest) << result.summary();
    const auto& m = *result.manifest;
    EXPECT_EQ(m.id, "org.stoxgw.presence");
    EXPECT_EQ(m.library, "stox_presence");
    EXPECT_EQ(m.abi_minor, 1u); // needs SipDialogSupport
    ASSERT_EQ(m.sip_claims.size(), 2u);
    EXPECT_EQ(m.sip_claims[0].method, "SUBSCRIBE");
    EXPECT_EQ(m.sip_claims[0].event, "presence");
    EXPECT_EQ(m.sip_claims[1].method, "NOTIFY");
    EXPECT_EQ(m.sip_claims[1].event, "presence");
    ASSERT_EQ(m.stanza_claims.size(), 1u);
    EXPECT_EQ(m.stanza_claims[0].name, "presence");
}

TEST(PresenceManifest, SchemaDefaultsAreTheCodeDefaults) {
    json section = json::object();
    auto errors = stox::core::config::validate(schema(), section, true);
    ASSERT_TRUE(errors.empty()) << errors.front().pointer << ": " << errors.front().message;
    auto cfg = read_config(stox::core::config::JsonConfigView(section));
    ASSERT_TRUE(cfg) << cfg.status().message();
    const PresenceConfig d;
    EXPECT_EQ(cfg->subscribe_expires, d.subscribe_expires);
    EXPECT_EQ(cfg->max_expires, d.max_expires);
    EXPECT_EQ(cfg->min_expires, d.min_expires);
    EXPECT_EQ(cfg->timer_n, d.timer_n);
    EXPECT_EQ(cfg->poll_wait, d.poll_wait);
    EXPECT_EQ(cfg->backoff_initial_s, d.backoff_initial_s);
    EXPECT_EQ(cfg->backoff_max_s, d.backoff_max_s);
    EXPECT_DOUBLE_EQ(cfg->refresh_jitter, d.refresh_jitter);
    EXPECT_EQ(cfg->coalesce_window, d.coalesce_window);
    EXPECT_EQ(cfg->max_notifies_in_flight, d.max_notifies_in_flight);
    EXPECT_DOUBLE_EQ(cfg->subscribe_rate, d.subscribe_rate);
    EXPECT_DOUBLE_EQ(cfg->subscribe_rate_per_watcher, d.subscribe_rate_per_watcher);
    EXPECT_DOUBLE_EQ(cfg->outgoing_subscribe_rate, d.outgoing_subscribe_rate);
    EXPECT_EQ(cfg->overload_retry_after_s, d.overload_retry_after_s);
    EXPECT_EQ(cfg->max_watchers, d.max_watchers);
    EXPECT_EQ(cfg->max_notifiers, d.max_notifiers);
    EXPECT_EQ(cfg->restrict_from_domains, d.restrict_from_domains);
    EXPECT_EQ(cfg->probe_before_refresh, d.probe_before_refresh);
    EXPECT_EQ(cfg->xmpp_domains, d.xmpp_domains);
    auto store = read_store_options(stox::core::config::JsonConfigView(section));
    ASSERT_TRUE(store) << store.status().message();
    EXPECT_EQ(store->kind, store::StoreOptions::Kind::sqlite);
    EXPECT_EQ(store->path, "/var/lib/stoxgw/presence.sqlite");
}

TEST(PresenceManifest, EveryKeyIsRead) {
    // Values different from the defaults: a key the code forgets to read fails here.
    json section = {{"subscribe_expires", 1800},
                    {"max_expires", 7200},
                    {"min_expires", 30},
                    {"timer_n_ms", 20000},
                    {"poll_wait_ms", 500},
                    {"backoff_initial_s", 30},
                    {"backoff_max_s", 600},
                    {"refresh_jitter", 0.5},
                    {"coalesce_window_ms", 1000},
                    {"max_notifies_in_flight", 32},
                    {"subscribe_rate", 10.0},
                    {"subscribe_rate_per_watcher", 1.0},
                    {"outgoing_subscribe_rate", 5.0},
                    {"overload_retry_after_s", 9},
                    {"max_watchers", 7},
                    {"max_notifiers", 8},
                    {"restrict_from_domains", false},
                    {"probe_before_refresh", true},
                    {"xmpp_domains", {"example.com"}}};
    auto errors = stox::core::config::validate(schema(), section, true);
    ASSERT_TRUE(errors.empty()) << errors.front().pointer << ": " << errors.front().message;
    auto cfg = read_config(stox::core::config::JsonConfigView(section));
    ASSERT_TRUE(cfg) << cfg.status().message();
    EXPECT_EQ(cfg->subscribe_expires, 1800u);
    EXPECT_EQ(cfg->max_expires, 7200u);
    EXPECT_EQ(cfg->min_expires, 30u);
    EXPECT_EQ(cfg->timer_n, std::chrono::milliseconds(20000));
    EXPECT_EQ(cfg->poll_wait, std::chrono::milliseconds(500));
    EXPECT_EQ(cfg->backoff_initial_s, 30u);
    EXPECT_EQ(cfg->backoff_max_s, 600u);
    EXPECT_DOUBLE_EQ(cfg->refresh_jitter, 0.5);
    EXPECT_EQ(cfg->coalesce_window, std::chrono::milliseconds(1000));
    EXPECT_EQ(cfg->max_notifies_in_flight, 32u);
    EXPECT_DOUBLE_EQ(cfg->subscribe_rate, 10.0);
    EXPECT_DOUBLE_EQ(cfg->subscribe_rate_per_watcher, 1.0);
    EXPECT_DOUBLE_EQ(cfg->outgoing_subscribe_rate, 5.0);
    EXPECT_EQ(cfg->overload_retry_after_s, 9u);
    EXPECT_EQ(cfg->max_watchers, 7u);
    EXPECT_EQ(cfg->max_notifiers, 8u);
    EXPECT_FALSE(cfg->restrict_from_domains);
    EXPECT_TRUE(cfg->probe_before_refresh);
    EXPECT_EQ(cfg->xmpp_domains, std::vector<std::string>{"example.com"});
}

TEST(PresenceManifest, InconsistentExpiresAreRefused) {
    json section = {{"min_expires", 7200}, {"max_expires", 3600}};
    auto cfg = read_config(stox::core::config::JsonConfigView(section));
    EXPECT_FALSE(cfg);
}

/// The plugin on the SDK harness with a memory store the test keeps.
struct PluginFixture {
    explicit PluginFixture(store::SubscriptionStore& s)
        : h(address_mapper(), error_mapper(), "org.stoxgw.presence"), plugin(&s) {
        h.context().set_claims(true, true);
        h.context().fake_xmpp().set_component_domain("example.net");
        h.context().fake_xmpp().set_auto_write(true);
        h.context().fake_sip().set_domains({"example.net"});
        h.context().set_contact_host("s2x.example.net");
        h.config().set("/coalesce_window_ms", std::int64_t{0});
        h.config().set("/refresh_jitter", 0.0);
    }
    PluginHarness h;
    PresencePlugin plugin;
    sdk::testing::FakeSipService& sip() { return h.context().fake_sip(); }
    sdk::testing::FakeXmppService& xmpp() { return h.context().fake_xmpp(); }
};

sdk::SipRequest subscribe_from_romeo(std::string event = "presence") {
    return parse_sip_request("SUBSCRIBE sip:juliet@example.com SIP/2.0\r\n"
                             "From: <sip:romeo@example.net>;tag=xfg9\r\n"
                             "To: <sip:juliet@example.com>\r\n"
                             "Call-ID: AA5A8BE5-CBB7-42B9-8181-6230012B1E11\r\n"
                             "CSeq: 1 SUBSCRIBE\r\n"
                             "Contact: <sip:romeo@192.0.2.9:5060>\r\n"
                             "Event: " +
                             event +
                             "\r\n"
                             "Accept: application/pidf+xml\r\n\r\n");
}

TEST(PresencePlugin, RefusesToStartWithoutDialogSupport) {
    store::MemoryStore s;
    PluginFixture f(s);
    f.h.context().set_dialog_support(false);
    EXPECT_FALSE(f.h.start(f.plugin).ok());
}

// TV-PRES-32: an event package other than presence -> 489 with Allow-Events, no stanza.
TEST(PresencePlugin, TvPres32OtherEventGets489) {
    store::MemoryStore s;
    PluginFixture f(s);
    ASSERT_TRUE(f.h.start(f.plugin).ok());
    auto tx = f.h.receive_sip(subscribe_from_romeo("dialog"));
    ASSERT_TRUE(tx->final_response());
    EXPECT_EQ(tx->final_response()->status, 489);
    EXPECT_EQ(tx->final_response()->header("Allow-Events"), "presence");
    EXPECT_EQ(f.xmpp().count(), 0u);
}

// PRES-WX-15 / PRES-WS-9: the two authorizations are independent. juliet cancels her watch of
// romeo (W-X); romeo's watch of juliet (W-S) keeps its dialog and its NOTIFYs.
TEST(PresencePlugin, PresWx15OutboundCancelLeavesInboundAlone) {
    store::MemoryStore s;
    PluginFixture f(s);
    ASSERT_TRUE(f.h.start(f.plugin).ok());
    // W-S: romeo subscribes to juliet, juliet approves.
    auto tx = f.h.receive_sip(subscribe_from_romeo());
    ASSERT_EQ(tx->final_response()->status, 200);
    f.h.receive_stanza(parse_xml(
        "<presence from='juliet@example.com' to='romeo@example.net' type='subscribed'/>"));
    for (std::size_t i = 0; i < f.sip().count(); ++i)
        if (!f.sip().completed(i)) f.sip().respond(i, 200);
    f.h.executor().run_pending();
    // W-X: juliet subscribes to romeo, then unsubscribes.
    f.h.receive_stanza(
        parse_xml("<presence from='juliet@example.com' to='romeo@example.net' type='subscribe'/>"));
    std::size_t sub = f.sip().count() - 1;
    ASSERT_EQ(f.sip().request(sub).method, "SUBSCRIBE");
    sdk::SipResponse ok;
    ok.status = 200;
    ok.set_header("To", "<sip:romeo@example.net>;tag=r1");
    ok.set_header("Expires", "3600");
    f.sip().respond(sub, ok);
    f.h.executor().run_pending();
    f.h.receive_stanza(parse_xml(
        "<presence from='juliet@example.com' to='romeo@example.net' type='unsubscribe'/>"));
    std::size_t unsub = f.sip().count() - 1;
    EXPECT_EQ(f.sip().request(unsub).header("Expires"), "0");
    f.sip().respond(unsub, 200);
    f.h.executor().run_pending();
    EXPECT_EQ(f.plugin.watchers(), 0u);
    EXPECT_EQ(f.plugin.notifiers(), 1u);
    // juliet's presence still reaches romeo (PRES-NOT-2, Table P1).
    std::size_t before = f.sip().count();
    f.h.receive_stanza(
        parse_xml("<presence from='juliet@example.com/balcony' to='romeo@example.net' id='p42'>"
                  "<show>away</show></presence>"));
    f.h.executor().advance(10ms);
    ASSERT_EQ(f.sip().count(), before + 1);
    const auto& notify = f.sip().request(before);
    EXPECT_EQ(notify.method, "NOTIFY");
    EXPECT_NE(notify.body.find("<show xmlns='jabber:client'>away</show>"), std::string::npos)
        << notify.body; // PRES-NOT-9: show inside the PIDF
    // PRES-NOT-4: the stanza id is not mapped (RFC 7248's CSeq mapping was removed).
    EXPECT_EQ(notify.body.find("p42"), std::string::npos);
    EXPECT_EQ(notify.header("CSeq").find("42"), std::string::npos);
}

// PRES-SEC-1, PRES-SEC-2: with xmpp_domains set, users of other domains cannot make the gateway
// subscribe.
TEST(PresencePlugin, PresSec1ForeignXmppDomainIsForbidden) {
    store::MemoryStore s;
    PluginFixture f(s);
    f.h.config().set("/xmpp_domains", std::vector<std::string>{"example.com"});
    ASSERT_TRUE(f.h.start(f.plugin).ok());
    f.h.receive_stanza(
        parse_xml("<presence from='eve@evil.example' to='romeo@example.net' type='subscribe'/>"));
    EXPECT_EQ(f.sip().count(), 0u);
    ASSERT_EQ(f.xmpp().count(), 1u);
    EXPECT_EQ(f.xmpp().stanza(0).attr("type"), "error");
    ASSERT_NE(f.xmpp().stanza(0).child("error"), nullptr);
    EXPECT_NE(f.xmpp().stanza(0).child("error")->child("forbidden", sdk::kStanzaErrorNs), nullptr);
    f.h.receive_stanza(
        parse_xml("<presence from='juliet@example.com' to='romeo@example.net' type='subscribe'/>"));
    EXPECT_EQ(f.sip().count(), 1u);
}

// Issue 4 item 4: stop flushes the store; a new plugin instance resumes both roles from it
// without sending anything to the SIP side, and the W-S dialog goes on notifying.
TEST(PresencePlugin, RestartResumesBothRolesWithoutSipTraffic) {
    store::MemoryStore s;
    {
        PluginFixture f(s);
        ASSERT_TRUE(f.h.start(f.plugin).ok());
        auto tx = f.h.receive_sip(subscribe_from_romeo());
        ASSERT_EQ(tx->final_response()->status, 200);
        f.h.receive_stanza(parse_xml(
            "<presence from='juliet@example.com' to='romeo@example.net' type='subscribed'/>"));
        f.h.receive_stanza(parse_xml(
            "<presence from='juliet@example.com' to='romeo@example.net' type='subscribe'/>"));
        for (std::size_t i = 0; i < f.sip().count(); ++i) {
            sdk::SipResponse ok;
            ok.status = 200;
            if (f.sip().request(i).method == "SUBSCRIBE") {
                ok.set_header("To", "<sip:romeo@example.net>;tag=r1");
                ok.set_header("Expires", "3600");
            }
            f.sip().respond(i, ok);
        }
        f.h.executor().run_pending();
        f.h.stop();
    }
    PluginFixture g(s);
    ASSERT_TRUE(g.h.start(g.plugin).ok());
    g.h.executor().run_pending();
    EXPECT_EQ(g.plugin.watchers(), 1u);
    EXPECT_EQ(g.plugin.notifiers(), 1u);
    EXPECT_EQ(g.sip().count(), 0u); // no SUBSCRIBE or NOTIFY burst at restart
    g.h.receive_stanza(parse_xml(
        "<presence from='juliet@example.com/balcony' to='romeo@example.net'><show>dnd</show>"
        "</presence>"));
    g.h.executor().advance(10ms);
    ASSERT_GE(g.sip().count(), 1u);
    const auto& notify = g.sip().last();
    EXPECT_EQ(notify.method, "NOTIFY");
    EXPECT_EQ(notify.header("Call-ID"), "AA5A8BE5-CBB7-42B9-8181-6230012B1E11");
    EXPECT_NE(notify.body.find("dnd"), std::string::npos);
}

} // namespace
} // namespace stox::plugins::presence::test
