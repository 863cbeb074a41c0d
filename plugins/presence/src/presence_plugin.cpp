// SPDX-License-Identifier: Apache-2.0
#include "presence_plugin.hpp"

#include <chrono>

#include "sip_dialog.hpp"
#include "stox/sdk/context.hpp"
#include "stox/sdk/logger.hpp"

namespace stox::plugins::presence {
namespace {

template <class T> sdk::Status read_int(const sdk::ConfigView& v, const char* ptr, T& out) {
    if (!v.has(ptr)) return {};
    auto r = v.get_int(ptr);
    if (!r) return r.status();
    out = static_cast<T>(*r);
    return {};
}
sdk::Status read_ms(const sdk::ConfigView& v, const char* ptr, std::chrono::milliseconds& out) {
    std::int64_t ms = out.count();
    if (auto s = read_int(v, ptr, ms); !s) return s;
    out = std::chrono::milliseconds(ms);
    return {};
}
sdk::Status read_double(const sdk::ConfigView& v, const char* ptr, double& out) {
    if (!v.has(ptr)) return {};
    auto r = v.get_double(ptr);
    if (!r) return r.status();
    out = *r;
    return {};
}
sdk::Status read_bool(const sdk::ConfigView& v, const char* ptr, bool& out) {
    if (!v.has(ptr)) return {};
    auto r = v.get_bool(ptr);
    if (!r) return r.status();
    out = *r;
    return {};
}

} // namespace

sdk::Result<PresenceConfig> read_config(const sdk::ConfigView& v) {
    PresenceConfig c;
    for (auto s :
         {read_int(v, "/subscribe_expires", c.subscribe_expires),
          read_int(v, "/max_expires", c.max_expires), read_int(v, "/min_expires", c.min_expires),
          read_ms(v, "/timer_n_ms", c.timer_n), read_ms(v, "/poll_wait_ms", c.poll_wait),
          read_int(v, "/backoff_initial_s", c.backoff_initial_s),
          read_int(v, "/backoff_max_s", c.backoff_max_s),
          read_double(v, "/refresh_jitter", c.refresh_jitter),
          read_ms(v, "/coalesce_window_ms", c.coalesce_window),
          read_int(v, "/max_notifies_in_flight", c.max_notifies_in_flight),
          read_double(v, "/subscribe_rate", c.subscribe_rate),
          read_double(v, "/subscribe_rate_per_watcher", c.subscribe_rate_per_watcher),
          read_double(v, "/outgoing_subscribe_rate", c.outgoing_subscribe_rate),
          read_int(v, "/overload_retry_after_s", c.overload_retry_after_s),
          read_int(v, "/max_watchers", c.max_watchers),
          read_int(v, "/max_notifiers", c.max_notifiers),
          read_bool(v, "/restrict_from_domains", c.restrict_from_domains),
          read_bool(v, "/probe_before_refresh", c.probe_before_refresh)})
        if (!s) return s;
    if (v.has("/xmpp_domains")) {
        auto d = v.get_string_list("/xmpp_domains");
        if (!d) return d.status();
        c.xmpp_domains = *d;
    }
    if (c.min_expires > c.max_expires)
        return sdk::Status(sdk::ErrorCode::InvalidConfig,
                           "min_expires must not exceed max_expires");
    return c;
}

sdk::Result<store::StoreOptions> read_store_options(const sdk::ConfigView& v) {
    store::StoreOptions o;
    if (v.has("/store/kind")) {
        auto k = v.get_string("/store/kind");
        if (!k) return k.status();
        o.kind =
            *k == "memory" ? store::StoreOptions::Kind::memory : store::StoreOptions::Kind::sqlite;
    }
    if (v.has("/store/path")) {
        auto p = v.get_string("/store/path");
        if (!p) return p.status();
        o.path = *p;
    }
    if (auto s = read_ms(v, "/store/batch_interval_ms", o.batch_interval); !s) return s;
    if (auto s = read_int(v, "/store/batch_max_records", o.batch_max_records); !s) return s;
    if (o.kind == store::StoreOptions::Kind::sqlite && o.path.empty())
        return sdk::Status(sdk::ErrorCode::InvalidConfig,
                           "store.path is required for the sqlite store");
    return o;
}

PresencePlugin::~PresencePlugin() = default;

sdk::Status PresencePlugin::start(sdk::PluginContext& ctx) noexcept {
    try {
        ctx_ = &ctx;
        if (sdk::sip_dialog_support(ctx) == nullptr)
            return sdk::Status(sdk::ErrorCode::Unsupported,
                               "the gateway offers no SIP dialog support (SDK ABI 1.1 needed)");
        auto cfg = read_config(ctx.config());
        if (!cfg) return cfg.status();
        store::SubscriptionStore* st = injected_store_;
        if (st == nullptr) {
            auto options = read_store_options(ctx.config());
            if (!options) return options.status();
            auto opened = store::open_store(*options);
            if (!opened) return opened.status();
            owned_store_ = std::move(opened).value();
            st = owned_store_.get();
        }
        shared_ = std::make_unique<Shared>(ctx, *cfg, *st);
        watcher_ = std::make_unique<WatcherRole>(*shared_);
        notifier_ = std::make_unique<NotifierRole>(*shared_);

        // Restart: resume every stored subscription (issue 4 item 4) before taking traffic.
        const auto t0 = std::chrono::steady_clock::now();
        auto loaded = st->load_all(store::LoadVisitor{
            [this](store::WatcherRecord&& r) { watcher_->restore(std::move(r)); },
            [this](store::NotifierRecord&& r) { notifier_->restore(std::move(r)); }});
        if (!loaded) return loaded.status();
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - t0)
                            .count();
        STOX_LOG_INFO(ctx.log(),
                      "presence: resumed {} watcher and {} notifier subscriptions in {} ms "
                      "({} unreadable records skipped)",
                      loaded->watchers, loaded->notifiers, ms, loaded->skipped);
        if (loaded->skipped > 0)
            STOX_LOG_WARN(ctx.log(), "presence store: {} records skipped, first because: {}",
                          loaded->skipped, loaded->first_skip_reason);

        if (auto s = ctx.on_sip_request([this](auto tx) { on_sip(tx); }); !s) return s;
        if (auto s = ctx.on_stanza([this](const sdk::Stanza& p) { on_stanza(p); }); !s) return s;
        return {};
    } catch (const std::exception& e) {
        return sdk::Status(sdk::ErrorCode::Internal, e.what());
    }
}

void PresencePlugin::stop() noexcept {
    try {
        if (watcher_) watcher_->stop();
        if (notifier_) notifier_->stop();
        if (shared_) {
            if (auto s = shared_->store.flush(); !s && ctx_)
                STOX_LOG_ERROR(ctx_->log(), "presence store flush at stop failed: {}", s.message());
        }
    } catch (...) {
    }
}

void PresencePlugin::on_sip(const std::shared_ptr<sdk::SipServerTransaction>& tx) {
    const sdk::SipRequest& req = tx->request();
    if (!event_is_presence(req.header("Event"))) {
        // RFC 6665 §8.2.2 / TV-PRES-32: only the presence package is ours.
        sdk::SipResponse r;
        r.status = 489;
        r.reason = "Bad Event";
        r.set_header("Allow-Events", "presence");
        tx->respond(std::move(r));
        return;
    }
    if (req.method == "SUBSCRIBE") return notifier_->on_subscribe(tx);
    if (req.method == "NOTIFY") return watcher_->on_notify(tx);
    sdk::SipResponse r;
    r.status = 405;
    r.reason = "Method Not Allowed";
    r.set_header("Allow", "SUBSCRIBE, NOTIFY");
    tx->respond(std::move(r));
}

void PresencePlugin::on_stanza(const sdk::Stanza& p) {
    if (p.name() != "presence") return;
    const std::string type = p.attr("type");
    // subscribe/unsubscribe/probe and answers to the gateway's own probes: W-X. Approval,
    // refusal and errors answer a subscribe made for a SIP watcher: W-S. Availability may
    // concern both: the user's own session (W-X, PRES-WX-7) and NOTIFYs to SIP watchers (W-S).
    if (watcher_->on_stanza(p)) return;
    notifier_->on_stanza(p);
}

} // namespace stox::plugins::presence
