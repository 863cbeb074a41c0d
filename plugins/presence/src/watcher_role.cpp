// SPDX-License-Identifier: Apache-2.0
// W-X role: the gateway is the SIP subscriber for an XMPP user U watching a SIP contact C.
// Life cycle: stox-core §2.3.1 (RFC 8048 §5.2, RFC 6665 §4.1); mapping: Table P2 (§6.3).
#include "watcher_role.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <unordered_map>

#include "deadline_queue.hpp"
#include "pidf_codec.hpp"
#include "sip_dialog.hpp"
#include "stox/sdk/format.hpp"
#include "stox/sdk/logger.hpp"

namespace stox::plugins::presence {
namespace {

using store::DialogRecord;
using store::SubState;
using store::WatcherKey;
using store::WatcherRecord;

std::string bare_of(std::string_view jid) {
    return std::string(jid.substr(0, jid.find('/')));
}
std::string localpart_of(std::string_view jid) {
    auto at = jid.find('@');
    auto slash = jid.find('/');
    if (at == std::string_view::npos || (slash != std::string_view::npos && slash < at)) return {};
    return std::string(jid.substr(0, at));
}

/// RFC 6665 §4.1.2.2: refresh failures that mean the dialog is gone.
bool terminates_dialog(int status) {
    switch (status) {
    case 404:
    case 405:
    case 410:
    case 416:
    case 480:
    case 481:
    case 482:
    case 483:
    case 484:
    case 485:
    case 489:
    case 501:
    case 604: return true;
    default: return false;
    }
}

} // namespace

// ---------------------------------------------------------------------------------------------
struct WatcherRole::Impl {
    explicit Impl(Shared& s)
        : sh(s),
          outgoing(s.cfg.outgoing_subscribe_rate, std::max(1.0, s.cfg.outgoing_subscribe_rate)) {}

    enum class Session : std::uint8_t { unknown, active, inactive };
    enum class Pending : std::uint8_t { none, subscribe, unsubscribe };

    /// One authorization (persisted part in `rec`) plus what lives only in memory.
    struct Entry {
        WatcherRecord rec;
        /// What the refresh slot does when due: refresh the dialog, or start a new one (backoff,
        /// retry-after, restore).
        enum class Next : std::uint8_t { refresh, resubscribe } next = Next::refresh;
        DeadlineQueue<Entry>::Slot refresh; ///< refresh, backoff or retry-after
        DeadlineQueue<Entry>::Slot timer_n; ///< RFC 6665 §4.1.2.4: first NOTIFY expected
        Pending in_flight = Pending::none;
        bool queued = false; ///< waiting for a token of the outgoing rate
        bool queued_new_dialog = false;
        std::uint32_t queued_expires = 0;
        std::string probe_to, probe_id; ///< a probe to answer with the next NOTIFY (A-42)
        std::string sec_probe_id;       ///< PRES-SEC-4 probe awaiting its answer
    };
    /// A probe answered by polling (PRES-POLL-1): SUBSCRIBE Expires: 0 in a new dialog.
    struct Poll {
        std::string call_id, local_tag;
        std::string contact_bare; ///< C's bare JID
        std::string prober;       ///< the probe's from (full JID)
        std::string probe_id;
        sdk::TimerHandle cleanup;
    };

    Shared& sh;
    std::map<WatcherKey, Entry> entries;
    std::unordered_map<std::string, Entry*> by_call_id; ///< entries are std::map nodes: stable
    std::unordered_map<std::string, Poll> polls;        ///< by Call-ID
    std::map<std::string, Session> sessions;            ///< per bare U
    std::map<std::string, std::set<std::string>> online_resources; ///< per bare U
    std::unordered_map<std::string, WatcherKey> sec_probes;        ///< probe id -> key
    /// Dialogs we ended ourselves: their final NOTIFY gets 200 and no stanza (TV-PRES-10).
    std::unordered_map<std::string, sdk::TimerHandle> ended_dialogs;
    TokenBucket outgoing;
    DeadlineQueue<Entry> refresh_q{sh.ctx.executor(), [this](Entry& e) { on_refresh_slot(e); }};
    DeadlineQueue<Entry> timer_n_q{sh.ctx.executor(), [this](Entry& e) { on_timer_n(e); }};
    std::deque<WatcherKey> send_queue;
    sdk::TimerHandle drain_timer;
    bool stopped = false;

    sdk::Logger& log() { return sh.ctx.log(); }
    void count(std::string_view name) { sh.ctx.metrics().counter(name).add(); }

    // --- XMPP output -------------------------------------------------------------------------
    void send_presence(std::string from, std::string to, std::string type, std::string id = {}) {
        sdk::Stanza p = sdk::make_stanza("presence");
        p.set_attr("from", std::move(from));
        p.set_attr("to", std::move(to));
        if (!type.empty()) p.set_attr("type", std::move(type));
        if (!id.empty()) p.set_attr("id", std::move(id));
        send(std::move(p));
    }
    void send(sdk::Stanza s) {
        count("presence.wx.stanzas_out");
        sh.ctx.xmpp().send(std::move(s), [this](const sdk::Status& st) {
            if (!st.ok()) {
                count("presence.wx.stanzas_failed");
                STOX_LOG_WARN(log(), "presence stanza not written to the XMPP server: {}",
                              st.message());
            }
        });
    }
    /// `unavailable` for every resource of C announced to U, then forget them.
    void withdraw_resources(Entry& e) {
        const std::string contact = contact_jid(e.rec.key);
        for (const auto& r : e.rec.announced_resources) {
            std::string full = contact;
            full.append("/").append(r);
            send_presence(std::move(full), e.rec.key.xmpp_user, "unavailable");
        }
        e.rec.announced_resources.clear();
    }
    std::string contact_jid(const WatcherKey& k) {
        auto j = sh.ctx.addresses().to_jid(k.sip_contact, sdk::UriRole::From);
        return j ? bare_of(*j) : std::string();
    }

    // --- persistence -------------------------------------------------------------------------
    void save(Entry& e) { sh.store.put_watcher(e.rec); }
    /// Drops the in-memory entry only (restore of a record that is already loaded).
    void forget_in_memory(const WatcherKey& key) {
        auto it = entries.find(key);
        if (it == entries.end()) return;
        if (it->second.rec.dialog) by_call_id.erase(it->second.rec.dialog->call_id);
        refresh_q.cancel(it->second.refresh);
        timer_n_q.cancel(it->second.timer_n);
        entries.erase(it);
    }

    void forget(const WatcherKey& key) {
        auto it = entries.find(key);
        if (it == entries.end()) return;
        if (it->second.rec.dialog) by_call_id.erase(it->second.rec.dialog->call_id);
        refresh_q.cancel(it->second.refresh);
        timer_n_q.cancel(it->second.timer_n);
        entries.erase(it);
        sh.store.erase_watcher(key);
    }

    // --- SUBSCRIBE ---------------------------------------------------------------------------
    /// Queue a SUBSCRIBE behind the outgoing rate limit (storm control: restarts and mass
    /// refreshes never exceed outgoing_subscribe_rate toward the SIP side).
    void schedule_subscribe(const WatcherKey& key, bool new_dialog, std::uint32_t expires) {
        auto it = entries.find(key);
        if (it == entries.end() || stopped) return;
        Entry& e = it->second;
        if (e.in_flight != Pending::none) return; // the answer will decide what comes next
        if (outgoing.try_take(sh.now()) && send_queue.empty()) {
            send_subscribe(e, new_dialog, expires);
            return;
        }
        e.queued_new_dialog = e.queued ? (e.queued_new_dialog || new_dialog) : new_dialog;
        e.queued_expires = expires;
        if (!e.queued) {
            e.queued = true;
            send_queue.push_back(key);
            count("presence.wx.subscribes_paced");
        }
        arm_drain();
    }
    void arm_drain() {
        if (drain_timer.armed() || send_queue.empty()) return;
        auto wait = std::max(outgoing.wait_time(sh.now()), std::chrono::milliseconds(1));
        drain_timer = sh.ctx.executor().after(wait, [this] {
            drain_timer.detach();
            while (!send_queue.empty() && outgoing.try_take(sh.now())) {
                WatcherKey k = send_queue.front();
                send_queue.pop_front();
                auto it = entries.find(k);
                if (it == entries.end() || !it->second.queued) continue;
                it->second.queued = false;
                if (it->second.in_flight == Pending::none)
                    send_subscribe(it->second, it->second.queued_new_dialog,
                                   it->second.queued_expires);
            }
            arm_drain();
        });
    }

    void send_subscribe(Entry& e, bool new_dialog, std::uint32_t expires) {
        WatcherRecord& rec = e.rec;
        if (new_dialog || !rec.dialog) {
            if (rec.dialog) by_call_id.erase(rec.dialog->call_id);
            auto local = sh.ctx.addresses().to_uri(rec.key.xmpp_user, sdk::UriScheme::Sip);
            DialogRecord d;
            d.call_id = random_token(24);
            d.local_uri = local ? *local : "sip:" + rec.key.xmpp_user;
            d.local_tag = random_token(10);
            d.remote_uri = rec.key.sip_contact;
            d.remote_target = rec.key.sip_contact;
            d.state = SubState::pending;
            rec.dialog = d;
            by_call_id[d.call_id] = &e;
        }
        DialogRecord& d = *rec.dialog;
        sdk::SipRequest req = in_dialog_request(d, "SUBSCRIBE");
        req.set_header("Contact", "<" + sh.contact_uri(localpart_of(rec.key.xmpp_user)) + ">");
        req.set_header("Event", "presence");
        req.set_header("Accept", "application/pidf+xml");
        req.set_header("Expires", std::to_string(expires));
        e.in_flight = expires == 0 ? Pending::unsubscribe : Pending::subscribe;
        rec.pending_out = true;
        save(e);
        count("presence.wx.subscribes_out");
        const WatcherKey key = rec.key;
        const std::string call_id = d.call_id;
        const bool was_refresh = !d.remote_tag.empty();
        sh.ctx.sip().send_request(
            std::move(req), [this, key, call_id, expires, was_refresh](const sdk::SipResponse& r) {
                on_subscribe_response(key, call_id, expires, was_refresh, r);
            });
    }

    void on_subscribe_response(const WatcherKey& key, const std::string& call_id,
                               std::uint32_t expires, bool was_refresh, const sdk::SipResponse& r) {
        auto it = entries.find(key);
        if (it == entries.end()) return;
        Entry& e = it->second;
        if (!e.rec.dialog || e.rec.dialog->call_id != call_id) return; // superseded
        const Pending what = e.in_flight;
        e.in_flight = Pending::none;
        DialogRecord& d = *e.rec.dialog;
        if (r.status >= 200 && r.status < 300) {
            // RFC 6665 §4.1.2.1: 200 and (deprecated) 202 alike; the NOTIFY carries the state.
            if (auto to = parse_name_addr(r.header("To")); to && d.remote_tag.empty())
                d.remote_tag = to->tag;
            if (auto c = parse_name_addr(r.header("Contact"))) d.remote_target = c->uri;
            if (!was_refresh) d.route_set = route_set_of(r, /*reverse=*/true);
            std::uint32_t granted = expires;
            if (auto ex = parse_delta_seconds(r.header("Expires")))
                granted = std::min(*ex, expires);
            if (what == Pending::unsubscribe) {
                // PRES-WX-13 (RFC 8048 §5.2.3): `unsubscribed` once the SIP side agreed.
                ended_dialog(call_id);
                send_presence(contact_jid(key), key.xmpp_user, "unsubscribed");
                forget(key);
                return;
            }
            d.expires_at = sh.unix_now() + granted;
            e.rec.backoff_seconds = 0;
            e.rec.backoff_until = 0;
            save(e);
            arm_refresh(e, granted);
            if (d.state != SubState::active) arm_timer_n(e);
            return;
        }
        count("presence.wx.subscribe_failed");
        STOX_LOG_INFO(log(), "SUBSCRIBE for {} watching {} answered {} {}", key.xmpp_user,
                      key.sip_contact, r.status, r.reason);
        if (r.status == 423) {
            // TV-PRES-08: retry with Min-Expires, same dialog if it was a refresh.
            auto min = parse_delta_seconds(r.header("Min-Expires"));
            if (min && *min > expires) {
                schedule_subscribe(key, !was_refresh, *min);
                return;
            }
        }
        if (what == Pending::unsubscribe) {
            // The SIP side refused the unsubscribe: the XMPP user still gets the answer it asked
            // for; the dialog lapses by itself (RFC 6665 §4.1.2.3 allows either).
            ended_dialog(call_id);
            send_presence(contact_jid(key), key.xmpp_user, "unsubscribed");
            forget(key);
            return;
        }
        if (r.status == 403 || r.status == 489 || r.status == 603) {
            // PRES-WX-10 MUST, TV-PRES-06: the authorization is permanently cancelled.
            cancel_authorization(e);
            return;
        }
        if (r.status == 481 && was_refresh) {
            // PRES-WX-11, TV-PRES-07: transient; a new dialog, no stanza.
            schedule_subscribe(key, /*new_dialog=*/true, sh.cfg.subscribe_expires);
            return;
        }
        if (!was_refresh && !e.rec.subscribed_sent) {
            // Initial SUBSCRIBE refused: presence error with the Table E2 condition (§2.3.1).
            auto err = sh.ctx.errors().sip_to_xmpp(r.status, r.reason, r.header("Contact"));
            sdk::Stanza p = sdk::make_stanza("presence");
            p.set_attr("from", contact_jid(key));
            p.set_attr("to", key.xmpp_user);
            p.set_attr("type", "error");
            auto& er = p.add_child("error");
            er.set_attr("type", err.type.empty() ? std::string("cancel") : err.type);
            auto& cond = er.add_child(err.condition.empty() ? std::string("undefined-condition")
                                                            : err.condition,
                                      std::string(sdk::kStanzaErrorNs));
            if (!err.address.empty()) cond.add_text(err.address);
            send(std::move(p));
            forget(key);
            return;
        }
        // keep the authorization, announce unavailable, resubscribe with backoff. RFC 6665
        // §4.1.2.2: the listed codes end the dialog; others leave it valid until it expires.
        withdraw_resources(e);
        if (terminates_dialog(r.status) || r.status == 408) {
            ended_dialog(call_id);
            by_call_id.erase(call_id);
            e.rec.dialog.reset();
        }
        start_backoff(e);
    }

    void cancel_authorization(Entry& e) {
        const WatcherKey key = e.rec.key;
        send_presence(contact_jid(key), key.xmpp_user, "unsubscribed");
        withdraw_resources(e);
        if (e.rec.dialog) ended_dialog(e.rec.dialog->call_id);
        forget(key);
    }

    void start_backoff(Entry& e) {
        std::uint32_t step = e.rec.backoff_seconds == 0
                                 ? sh.cfg.backoff_initial_s
                                 : std::min(e.rec.backoff_seconds * 2, sh.cfg.backoff_max_s);
        e.rec.backoff_seconds = step;
        e.rec.backoff_until = sh.unix_now() + step;
        e.rec.pending_out = false;
        save(e);
        resubscribe_after(e, std::chrono::seconds(step));
    }

    void resubscribe_after(Entry& e, std::chrono::milliseconds delay) {
        e.next = Entry::Next::resubscribe;
        refresh_q.schedule(e, e.refresh, delay);
    }

    void on_refresh_slot(Entry& e) {
        if (e.next == Entry::Next::resubscribe) {
            schedule_subscribe(e.rec.key, /*new_dialog=*/true, sh.cfg.subscribe_expires);
        } else {
            refresh_due(e.rec.key);
        }
    }

    void arm_refresh(Entry& e, std::uint32_t granted) {
        if (granted == 0) return;
        e.next = Entry::Next::refresh;
        refresh_q.schedule(e, e.refresh, refresh_delay(granted, sh.cfg.refresh_jitter, sh.rng));
    }

    void refresh_due(const WatcherKey& key) {
        auto it = entries.find(key);
        if (it == entries.end()) return;
        Entry& e = it->second;
        auto s = sessions.find(key.xmpp_user);
        if (s != sessions.end() && s->second == Session::inactive) {
            // the user is offline: stop refreshing and let the dialog lapse. The
            // authorization stays; the next initial presence resubscribes (PRES-WX-7).
            count("presence.wx.lapsed_offline");
            return;
        }
        if (sh.cfg.probe_before_refresh) {
            // PRES-SEC-4 / TV-PRES-09: probe the user's bare JID from the gateway's address.
            e.sec_probe_id = "sec-" + random_token(12);
            sec_probes[e.sec_probe_id] = key;
            send_presence(sh.component_domain(), key.xmpp_user, "probe", e.sec_probe_id);
            return;
        }
        schedule_subscribe(key, !e.rec.dialog, sh.cfg.subscribe_expires);
    }

    void arm_timer_n(Entry& e) { timer_n_q.schedule(e, e.timer_n, sh.cfg.timer_n); }

    void on_timer_n(Entry& e) {
        // RFC 6665 §4.1.2.4: no NOTIFY within Timer N: the subscription failed; transient.
        count("presence.wx.timer_n_expired");
        STOX_LOG_INFO(log(), "no NOTIFY for {} watching {} within Timer N; backing off",
                      e.rec.key.xmpp_user, e.rec.key.sip_contact);
        if (e.rec.dialog) {
            by_call_id.erase(e.rec.dialog->call_id);
            e.rec.dialog.reset();
        }
        start_backoff(e);
    }

    void ended_dialog(const std::string& call_id) {
        // Remember for 64*T1 so that the notifier's final NOTIFY gets 200, not 481.
        ended_dialogs[call_id] = sh.ctx.executor().after(
            sh.cfg.timer_n, [this, call_id] { ended_dialogs.erase(call_id); });
    }

    // --- NOTIFY ------------------------------------------------------------------------------
    void on_notify(const std::shared_ptr<sdk::SipServerTransaction>& tx) {
        const sdk::SipRequest& req = tx->request();
        count("presence.wx.notifies_in");
        auto respond = [&](int status, std::string reason = {}) {
            sdk::SipResponse r;
            r.status = status;
            r.reason = std::move(reason);
            tx->respond(std::move(r));
        };
        const std::string call_id = req.header("Call-ID");
        auto to = parse_name_addr(req.header("To"));
        auto from = parse_name_addr(req.header("From"));
        auto cseq = cseq_number(req.header("CSeq"));
        auto state = parse_subscription_state(req.header("Subscription-State"));
        if (!to || !from || !cseq) return respond(400, "Bad Request (From, To or CSeq)");
        if (!state) return respond(400, "Bad Request (Subscription-State missing or malformed)");

        if (auto p = polls.find(call_id); p != polls.end() && p->second.local_tag == to->tag)
            return on_poll_notify(tx, p->second, *state);
        auto k = by_call_id.find(call_id);
        if (k == by_call_id.end()) {
            if (ended_dialogs.count(call_id)) return respond(200);
            count("presence.wx.notify_unknown_dialog");
            return respond(481, "Subscription Does Not Exist");
        }
        Entry& e = *k->second;
        DialogRecord& d = *e.rec.dialog;
        if (to->tag != d.local_tag || (!d.remote_tag.empty() && from->tag != d.remote_tag)) {
            // PRES-SEC-5: a NOTIFY from another dialog (a fork we did not keep) is refused.
            return respond(481, "Subscription Does Not Exist");
        }
        if (d.remote_cseq != 0 && *cseq <= d.remote_cseq)
            return respond(500, "Server Internal Error (CSeq out of order)"); // RFC 3261 §12.2.2
        // Body first, so that a malformed PIDF is refused before any state changes.
        std::optional<PresenceDoc> doc;
        if (!req.body.empty()) {
            std::string ct = req.header("Content-Type");
            std::string type = ct.substr(0, ct.find(';'));
            type.erase(std::remove(type.begin(), type.end(), ' '), type.end());
            if (!sdk::ascii_iequals(type, "application/pidf+xml"))
                return respond(415, "Unsupported Media Type");
            auto parsed = parse_pidf(req.body);
            if (!parsed) {
                count("presence.wx.bad_pidf");
                STOX_LOG_WARN(log(), "malformed PIDF from {} (Call-ID {}): {}", from->uri, call_id,
                              parsed.status().message());
                auto err = sh.ctx.errors().sip_for(parsed.status());
                return respond(err.status >= 400 ? err.status : 400, err.reason);
            }
            doc = std::move(parsed).value();
        }
        d.remote_cseq = *cseq;
        if (d.remote_tag.empty()) d.remote_tag = from->tag; // NOTIFY before the 2xx (§4.1.2.4)
        if (auto c = parse_name_addr(req.header("Contact"))) d.remote_target = c->uri;
        respond(200);
        timer_n_q.cancel(e.timer_n);

        using V = SubscriptionState::Value;
        if (state->value == V::pending) {
            d.state = SubState::pending; // PRES-WX-4 MUST: answer, send nothing to XMPP
            save(e);
            return;
        }
        if (state->value == V::active) {
            d.state = SubState::active;
            e.rec.pending_out = false;
            if (state->expires) {
                d.expires_at = sh.unix_now() + *state->expires;
                if (e.in_flight == Pending::none) arm_refresh(e, *state->expires);
            }
            if (!e.rec.subscribed_sent) {
                // PRES-WX-5: `subscribed` once per authorization lifetime, before any presence.
                send_presence(contact_jid(e.rec.key), e.rec.key.xmpp_user, "subscribed");
                e.rec.subscribed_sent = true;
            }
            e.rec.authorized = true;
            if (doc) deliver(e, *doc, req, /*full_state=*/true);
            save(e);
            return;
        }
        // terminated (or an unknown value, treated as terminated: RFC 6665 §8.2.3).
        const std::string& reason = state->reason;
        const bool ours = e.in_flight == Pending::unsubscribe;
        if (doc) deliver(e, *doc, req, /*full_state=*/false);
        by_call_id.erase(call_id);
        ended_dialog(call_id);
        e.rec.dialog.reset();
        refresh_q.cancel(e.refresh);
        timer_n_q.cancel(e.timer_n);
        if (ours) return; // TV-PRES-10: the end of our own unsubscribe, no stanza
        if (reason == "rejected" || reason == "noresource") {
            // TV-PRES-31 / §2.3.1: the authorization is cancelled.
            cancel_authorization(e);
            return;
        }
        if (reason == "invariant") {
            withdraw_resources(e);
            forget(e.rec.key);
            return;
        }
        if (reason == "deactivated") {
            save(e);
            schedule_subscribe(e.rec.key, true, sh.cfg.subscribe_expires);
            return;
        }
        if (reason == "probation" || reason == "giveup") withdraw_resources(e);
        if (reason == "timeout") {
            auto s = sessions.find(e.rec.key.xmpp_user);
            if (s != sessions.end() && s->second == Session::inactive) {
                save(e);
                return; // resubscribed by the next initial presence
            }
        }
        save(e);
        if (state->retry_after) {
            resubscribe_after(e, std::chrono::seconds(*state->retry_after));
        } else if (reason == "probation" || reason == "giveup") {
            start_backoff(e);
        } else {
            schedule_subscribe(e.rec.key, true, sh.cfg.subscribe_expires);
        }
    }

    /// Table P2 for a NOTIFY of this dialog. `full_state`: resources announced before but
    /// missing now become unavailable (§2.3.1 "later NOTIFY active").
    void deliver(Entry& e, const PresenceDoc& doc, const sdk::SipRequest& req, bool full_state) {
        PidfToXmppParams params;
        params.from_bare = contact_jid(e.rec.key);
        params.to = e.probe_to.empty() ? e.rec.key.xmpp_user : e.probe_to;
        params.id = e.probe_id;
        params.content_language = req.header("Content-Language");
        params.notify_contact = req.header("Contact");
        e.probe_to.clear();
        e.probe_id.clear();
        std::vector<std::string> now_present, mentioned;
        for (auto& stanza : pidf_to_xmpp(doc, params)) {
            std::string from = stanza.attr("from");
            auto slash = from.find('/');
            std::string resource = slash == std::string::npos ? "" : from.substr(slash + 1);
            mentioned.push_back(resource);
            if (!resource.empty() && stanza.attr("type").empty()) now_present.push_back(resource);
            send(std::move(stanza));
        }
        if (full_state)
            for (const auto& r : e.rec.announced_resources)
                if (std::find(mentioned.begin(), mentioned.end(), r) == mentioned.end())
                    send_presence(params.from_bare + "/" + r, e.rec.key.xmpp_user, "unavailable");
        if (full_state) {
            e.rec.announced_resources = std::move(now_present);
        } else {
            e.rec.announced_resources.clear();
        }
    }

    void on_poll_notify(const std::shared_ptr<sdk::SipServerTransaction>& tx, Poll& poll,
                        const SubscriptionState& state) {
        const sdk::SipRequest& req = tx->request();
        std::optional<PresenceDoc> doc;
        if (!req.body.empty()) {
            auto parsed = parse_pidf(req.body);
            if (!parsed) {
                sdk::SipResponse r;
                r.status = 400;
                r.reason = "Bad Request (malformed PIDF)";
                tx->respond(std::move(r));
                return;
            }
            doc = std::move(parsed).value();
        }
        sdk::SipResponse ok;
        ok.status = 200;
        tx->respond(std::move(ok));
        if (state.value == SubscriptionState::Value::pending) return;
        // TV-PRES-11: the answer goes to the prober, mirroring the probe id.
        bool any = false;
        if (doc) {
            PidfToXmppParams params;
            params.from_bare = poll.contact_bare;
            params.to = poll.prober;
            params.id = poll.probe_id;
            params.content_language = req.header("Content-Language");
            params.notify_contact = req.header("Contact");
            for (auto& stanza : pidf_to_xmpp(*doc, params)) {
                any = true;
                send(std::move(stanza));
            }
        }
        if (!any) send_presence(poll.contact_bare, poll.prober, "unavailable", poll.probe_id);
        if (state.value == SubscriptionState::Value::terminated) polls.erase(req.header("Call-ID"));
    }

    // --- stanzas from XMPP users -------------------------------------------------------------
    bool on_stanza(const sdk::Stanza& p) {
        const std::string type = p.attr("type");
        const std::string from = p.attr("from");
        const std::string to = p.attr("to");
        if (to == sh.component_domain()) return on_gateway_probe_answer(p);
        if (type == "subscribe" || type == "unsubscribe" || type == "probe") {
            if (!domain_allowed(from)) {
                // PRES-SEC-1/2: only users of the configured XMPP domains may make the gateway
                // subscribe on the SIP side (amplification, RFC 8048 §8.1).
                count("presence.wx.foreign_domain");
                STOX_LOG_INFO(log(), "presence {} from {} refused: not one of xmpp_domains", type,
                              from);
                send_error(p, {"forbidden", "auth", {}, {}});
                return true;
            }
            auto contact = sh.ctx.addresses().to_uri(bare_of(to), sdk::UriScheme::Sip);
            if (!contact || from.empty()) {
                count("presence.wx.bad_address");
                send_error(p, sh.ctx.errors().xmpp_for(
                                  contact ? sdk::Status(sdk::ErrorCode::BadRequest, "no from")
                                          : contact.status()));
                return true;
            }
            WatcherKey key{bare_of(from), aor_of(*contact)};
            if (key.sip_contact.empty()) key.sip_contact = *contact;
            if (type == "subscribe") on_subscribe(key);
            if (type == "unsubscribe") on_unsubscribe(key);
            if (type == "probe") on_probe(key, from, p.attr("id"));
            return true;
        }
        if (type.empty() || type == "unavailable") {
            track_session(from, type.empty());
            return false; // the notifier role may also need it
        }
        return false;
    }

    bool domain_allowed(std::string_view jid) const {
        if (sh.cfg.xmpp_domains.empty()) return true;
        std::string_view bare = jid.substr(0, jid.find('/'));
        auto at = bare.find('@');
        std::string_view domain = at == std::string_view::npos ? bare : bare.substr(at + 1);
        for (const auto& d : sh.cfg.xmpp_domains)
            if (sdk::ascii_iequals(d, domain)) return true;
        return false;
    }

    void send_error(const sdk::Stanza& original, const sdk::XmppError& err) {
        sdk::Stanza r = sdk::make_stanza("presence");
        r.set_attr("from", original.attr("to"));
        r.set_attr("to", original.attr("from"));
        if (original.has_attr("id")) r.set_attr("id", original.attr("id"));
        r.set_attr("type", "error");
        auto& er = r.add_child("error");
        er.set_attr("type", err.type.empty() ? std::string("modify") : err.type);
        er.add_child(err.condition.empty() ? std::string("jid-malformed") : err.condition,
                     std::string(sdk::kStanzaErrorNs));
        send(std::move(r));
    }

    void on_subscribe(const WatcherKey& key) {
        auto it = entries.find(key);
        if (it == entries.end()) {
            if (entries.size() >= sh.cfg.max_watchers) {
                count("presence.wx.overload");
                STOX_LOG_WARN(log(), "presence: {} watcher authorizations, refusing {} -> {}",
                              entries.size(), key.xmpp_user, key.sip_contact);
                sdk::Stanza fake = sdk::make_stanza("presence");
                auto c = contact_jid(key);
                fake.set_attr("from", key.xmpp_user);
                fake.set_attr("to", c);
                send_error(fake, {"resource-constraint", "wait", {}, {}});
                return;
            }
            Entry e;
            e.rec.key = key;
            it = entries.emplace(key, std::move(e)).first;
        }
        Entry& e = it->second;
        sessions[key.xmpp_user] = Session::active;
        if (e.rec.dialog && e.rec.dialog->state == SubState::active && e.rec.subscribed_sent) {
            // RFC 6121 §3.1.3: already authorized: answer `subscribed` again right away.
            send_presence(contact_jid(key), key.xmpp_user, "subscribed");
            return;
        }
        if (e.in_flight == Pending::none)
            schedule_subscribe(key, !e.rec.dialog, sh.cfg.subscribe_expires);
    }

    void on_unsubscribe(const WatcherKey& key) {
        auto it = entries.find(key);
        if (it == entries.end() || !it->second.rec.dialog ||
            it->second.rec.dialog->remote_tag.empty()) {
            // No dialog to end: the answer is immediate (PRES-WX-15: inbound untouched).
            send_presence(contact_jid(key), key.xmpp_user, "unsubscribed");
            if (it != entries.end()) {
                withdraw_resources(it->second);
                forget(key);
            }
            return;
        }
        Entry& e = it->second;
        refresh_q.cancel(e.refresh);
        withdraw_resources(e);
        e.in_flight = Pending::none;
        // TV-PRES-10: SUBSCRIBE Expires: 0 in the dialog; `unsubscribed` on its 2xx.
        send_subscribe(e, /*new_dialog=*/false, 0);
    }

    void on_probe(const WatcherKey& key, const std::string& prober, const std::string& id) {
        auto it = entries.find(key);
        if (it != entries.end() && it->second.rec.authorized && it->second.rec.dialog) {
            // the authorization exists: refresh; the immediate NOTIFY answers the probe.
            it->second.probe_to = prober;
            it->second.probe_id = id;
            sessions[key.xmpp_user] = Session::active;
            if (it->second.in_flight == Pending::none)
                schedule_subscribe(key, false, sh.cfg.subscribe_expires);
            return;
        }
        // PRES-POLL-1: SUBSCRIBE Expires: 0 in a new dialog.
        auto local = sh.ctx.addresses().to_uri(key.xmpp_user, sdk::UriScheme::Sip);
        DialogRecord d;
        d.call_id = random_token(24);
        d.local_uri = local ? *local : "sip:" + key.xmpp_user;
        d.local_tag = random_token(10);
        d.remote_uri = key.sip_contact;
        d.remote_target = key.sip_contact;
        sdk::SipRequest req = in_dialog_request(d, "SUBSCRIBE");
        req.set_header("Contact", "<" + sh.contact_uri(localpart_of(key.xmpp_user)) + ">");
        req.set_header("Event", "presence");
        req.set_header("Accept", "application/pidf+xml");
        req.set_header("Expires", "0");
        Poll poll;
        poll.call_id = d.call_id;
        poll.local_tag = d.local_tag;
        poll.contact_bare = contact_jid(key);
        poll.prober = prober;
        poll.probe_id = id;
        const std::string call_id = d.call_id;
        poll.cleanup =
            sh.ctx.executor().after(sh.cfg.timer_n, [this, call_id] { polls.erase(call_id); });
        polls[call_id] = std::move(poll);
        count("presence.wx.polls_out");
        sh.ctx.sip().send_request(std::move(req), [this, call_id](const sdk::SipResponse& r) {
            auto p = polls.find(call_id);
            if (p == polls.end() || r.status < 300) return;
            // TV-PRES-12: a refused poll answers the probe with `unsubscribed` (bare JID).
            if (r.status == 403 || r.status == 489 || r.status == 603)
                send_presence(p->second.contact_bare, p->second.prober, "unsubscribed",
                              p->second.probe_id);
            else
                send_presence(p->second.contact_bare, p->second.prober, "unavailable",
                              p->second.probe_id);
            polls.erase(p);
        });
    }

    /// PRES-WX-7 / A-24: the user's presence session, from the presence its server routes here.
    void track_session(const std::string& from, bool available) {
        const std::string bare = bare_of(from);
        auto& online = online_resources[bare];
        const std::string resource = from.size() > bare.size() ? from.substr(bare.size() + 1) : "";
        const bool was_active = sessions.count(bare) && sessions[bare] == Session::active;
        if (available) {
            online.insert(resource);
            sessions[bare] = Session::active;
            if (was_active) return;
            // Initial presence: refresh every authorization of this user whose dialog is not
            // active (equivalent to a probe, RFC 8048 §5.2.2), paced by the outgoing rate.
            for (auto it = entries.lower_bound(WatcherKey{bare, {}});
                 it != entries.end() && it->first.xmpp_user == bare; ++it)
                if (it->second.rec.authorized &&
                    (!it->second.rec.dialog || it->second.rec.dialog->state != SubState::active))
                    schedule_subscribe(it->first, true, sh.cfg.subscribe_expires);
        } else {
            online.erase(resource);
            if (online.empty()) {
                sessions[bare] = Session::inactive;
                online_resources.erase(bare);
            }
        }
    }

    bool on_gateway_probe_answer(const sdk::Stanza& p) {
        auto it = sec_probes.find(p.attr("id"));
        if (it == sec_probes.end()) return false;
        WatcherKey key = it->second;
        sec_probes.erase(it);
        auto e = entries.find(key);
        if (e == entries.end()) return true;
        const std::string type = p.attr("type");
        if (type.empty()) {
            schedule_subscribe(key, !e->second.rec.dialog, sh.cfg.subscribe_expires);
        } else if (type == "unsubscribed") {
            // a deployment problem (the gateway is not a trusted service) or a real
            // revocation; either way say it loudly and let the dialog lapse.
            STOX_LOG_WARN(log(),
                          "probe of {} before refreshing its subscription to {} was answered "
                          "'unsubscribed'; letting the dialog lapse (is the gateway trusted by "
                          "the XMPP server? A-39)",
                          key.xmpp_user, key.sip_contact);
        }
        return true;
    }

    // --- restart -----------------------------------------------------------------------------
    void restore(WatcherRecord rec) {
        const WatcherKey key = rec.key;
        forget_in_memory(key);
        Entry& entry = entries[key];
        entry.rec = std::move(rec);
        const std::int64_t now = sh.unix_now();
        if (entry.rec.dialog) {
            by_call_id[entry.rec.dialog->call_id] = &entry;
            const std::int64_t left = entry.rec.dialog->expires_at - now;
            if (!entry.rec.dialog->remote_tag.empty() && left > 40) {
                // Still valid: refresh on schedule, spread by jitter (no burst at restart).
                arm_refresh(entry, static_cast<std::uint32_t>(left));
                return;
            }
        }
        if (entry.rec.backoff_until > now) {
            resubscribe_after(entry, std::chrono::seconds(entry.rec.backoff_until - now));
            return;
        }
        schedule_subscribe(key, /*new_dialog=*/true, sh.cfg.subscribe_expires);
    }

    void stop() {
        stopped = true;
        drain_timer.cancel();
        refresh_q.clear();
        timer_n_q.clear();
        for (auto& [k, p] : polls) p.cleanup.cancel();
        ended_dialogs.clear();
    }
};

WatcherRole::WatcherRole(Shared& shared) : impl_(std::make_unique<Impl>(shared)) {}
WatcherRole::~WatcherRole() = default;
void WatcherRole::restore(store::WatcherRecord record) {
    impl_->restore(std::move(record));
}
void WatcherRole::on_notify(const std::shared_ptr<sdk::SipServerTransaction>& tx) {
    impl_->on_notify(tx);
}
bool WatcherRole::on_stanza(const sdk::Stanza& presence) {
    return impl_->on_stanza(presence);
}
void WatcherRole::stop() {
    impl_->stop();
}
std::size_t WatcherRole::size() const {
    return impl_->entries.size();
}

} // namespace stox::plugins::presence
