// SPDX-License-Identifier: Apache-2.0
// W-S role: the gateway as SIP notifier (RFC 6665 §4.2, RFC 3856, RFC 8048 §5.3, stox-core
// §2.3.2). One authorization per (SIP watcher W, XMPP contact C); at most one live notifier
// dialog per authorization, plus terminated dialogs whose final NOTIFY is still on its way.
#include "notifier_role.hpp"

#include <algorithm>
#include <ctime>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "pidf_codec.hpp"
#include "sip_dialog.hpp"
#include "stox/sdk/logger.hpp"
#include "stox/sdk/text.hpp"

namespace stox::plugins::presence {
namespace {

using sdk::ErrorCode;
using sdk::SipResponse;
using sdk::Stanza;
using sdk::Status;

/// a cache younger than this answers a poll without a probe.
constexpr std::chrono::seconds kPollCacheFresh{300};
/// Resources remembered per authorization (closed ones are dropped first).
constexpr std::size_t kMaxResources = 32;
/// retry-after on a giveup termination.
constexpr std::uint32_t kGiveupRetryAfter = 600;
/// Per-watcher rate buckets kept before the table is reset (bounded memory).
constexpr std::size_t kMaxWatcherBuckets = 65536;

std::string bare_of(std::string_view jid) {
    return std::string(jid.substr(0, jid.find('/')));
}
std::string resource_of(std::string_view jid) {
    auto slash = jid.find('/');
    return slash == std::string_view::npos ? std::string() : std::string(jid.substr(slash + 1));
}
std::string localpart_of(std::string_view jid) {
    jid = jid.substr(0, jid.find('/'));
    auto at = jid.find('@');
    return at == std::string_view::npos ? std::string() : std::string(jid.substr(0, at));
}
std::string host_of_aor(std::string_view aor) {
    auto at = aor.rfind('@');
    return at == std::string_view::npos ? std::string() : std::string(aor.substr(at + 1));
}

std::string rfc3339(std::int64_t unix_seconds) {
    std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

SipResponse plain(int status, std::string reason) {
    SipResponse r;
    r.status = status;
    r.reason = std::move(reason);
    return r;
}

/// RFC 6665 §4.2.2: these NOTIFY failures (and a Timer F timeout, 408) remove the subscription.
bool notify_failure_removes(int status) {
    return status == 404 || status == 405 || status == 408 || status == 410 || status == 416 ||
           (status >= 480 && status <= 485) || status == 489 || status == 501 || status == 604;
}

/// Subscription-State reason for an XMPP error answering our `subscribe`.
std::pair<std::string, std::optional<std::uint32_t>> reason_for_error(const Stanza& st) {
    std::string condition;
    std::string type;
    if (const auto* err = st.child("error")) {
        type = err->attr("type");
        for (const auto& c : err->children())
            if (!c.is_text() && c.ns() == sdk::kStanzaErrorNs && c.name() != "text") {
                condition = c.name();
                break;
            }
    }
    if (condition == "item-not-found" || condition == "remote-server-not-found")
        return {"noresource", std::nullopt};
    if (condition == "forbidden" || condition == "not-authorized" || condition == "not-allowed" ||
        condition == "service-unavailable" || condition == "policy-violation")
        return {"rejected", std::nullopt};
    if (condition == "remote-server-timeout" || condition == "recipient-unavailable" ||
        condition == "resource-constraint" || condition == "internal-server-error")
        return {"giveup", kGiveupRetryAfter};
    // Not in the A-36 table: a transient error type means "try later", anything else refusal.
    if (type == "wait") return {"giveup", kGiveupRetryAfter};
    return {"rejected", std::nullopt};
}

} // namespace

struct NotifierRole::Impl {
    struct Cached {
        Stanza presence; ///< the last <presence/> of this resource (type none or unavailable)
        Clock::time_point at;
    };

    /// One notifier dialog and its NOTIFY pipeline (one NOTIFY in flight, paced, RFC 6665
    /// §4.2.2 ordering; the state is read when the NOTIFY leaves, so the latest state wins).
    struct DialogCtl {
        store::NotifierKey key;
        store::DialogRecord d;
        std::string contact; ///< our Contact for this dialog
        bool in_flight = false;
        bool want = false;
        bool sent_any = false;
        Clock::time_point last_sent{};
        sdk::TimerHandle pace;
        // Set once the dialog is terminated: the final NOTIFY's content.
        std::string reason;
        std::optional<std::uint32_t> retry_after;
        std::optional<std::string> final_body;
        std::string final_lang;
    };

    struct Entry {
        store::NotifierRecord rec;
        std::map<std::string, Cached> resources; ///< C's presence per resource (not persisted)
        std::shared_ptr<DialogCtl> live;
        sdk::TimerHandle expiry;
    };

    /// A new-dialog SUBSCRIBE with Expires: 0 waiting for the probe answer.
    struct Poll {
        std::shared_ptr<sdk::SipServerTransaction> tx;
        store::NotifierKey key;
        std::shared_ptr<DialogCtl> ctl;
        sdk::TimerHandle timer;
    };

    explicit Impl(Shared& s)
        : sh(s), global(s.cfg.subscribe_rate, 2 * s.cfg.subscribe_rate),
          probe_pace(s.cfg.subscribe_rate, std::max(1.0, s.cfg.subscribe_rate)),
          alive(std::make_shared<bool>(true)) {}
    ~Impl() { *alive = false; }

    Shared& sh;
    std::map<store::NotifierKey, Entry> entries;
    std::map<std::pair<std::string, std::string>, store::NotifierKey> by_dialog;
    std::set<std::shared_ptr<DialogCtl>> closing;
    std::map<std::string, Poll> polls; ///< by probe id
    TokenBucket global;
    std::unordered_map<std::string, TokenBucket> per_watcher;
    TokenBucket probe_pace;
    std::deque<store::NotifierKey> probe_queue;
    sdk::TimerHandle probe_timer;
    std::shared_ptr<bool> alive;
    bool stopped = false;

    sdk::PluginContext& ctx() { return sh.ctx; }
    void count(std::string_view name) { ctx().metrics().counter(name).add(); }

    // --- addresses -----------------------------------------------------------------------

    /// The watcher's AOR as the mapper writes it for its bare JID, so that SUBSCRIBEs and
    /// stanzas agree on the key ("" when it does not map).
    std::string watcher_aor_for_jid(std::string_view bare_jid) {
        auto uri = ctx().addresses().to_uri(bare_jid, sdk::UriScheme::Sip);
        return uri ? aor_of(*uri) : std::string();
    }
    std::string watcher_jid(const store::NotifierKey& key) {
        auto jid = ctx().addresses().to_jid(key.sip_watcher, sdk::UriRole::From);
        return jid ? bare_of(*jid) : std::string();
    }
    std::string contact_for(const store::NotifierKey& key) {
        return sh.contact_uri(localpart_of(key.xmpp_contact));
    }

    // --- XMPP side -----------------------------------------------------------------------

    void send_presence(const store::NotifierKey& key, std::string type, std::string id = {}) {
        std::string from = watcher_jid(key);
        if (from.empty()) return;
        Stanza st = sdk::make_stanza("presence");
        st.set_attr("from", from);
        st.set_attr("to", key.xmpp_contact);
        if (!type.empty()) st.set_attr("type", std::move(type));
        if (!id.empty()) st.set_attr("id", std::move(id));
        ctx().xmpp().send(std::move(st), [this, a = alive](const Status& s) {
            if (*a && !s.ok()) STOX_LOG_DEBUG(ctx().log(), "presence not sent: {}", s.message());
        });
    }

    /// Paced probe (after a restore), so that a restart does not flood C's servers.
    void queue_probe(const store::NotifierKey& key) {
        probe_queue.push_back(key);
        drain_probes();
    }
    void drain_probes() {
        if (probe_timer.armed() || stopped) return;
        while (!probe_queue.empty()) {
            auto wait = probe_pace.wait_time(sh.now());
            if (wait.count() > 0) {
                probe_timer = ctx().executor().after(wait, [this, a = alive] {
                    if (!*a) return;
                    probe_timer.detach();
                    drain_probes();
                });
                return;
            }
            probe_pace.try_take(sh.now());
            auto key = probe_queue.front();
            probe_queue.pop_front();
            auto it = entries.find(key);
            if (it != entries.end() && it->second.live) send_presence(key, "probe");
        }
    }

    // --- PIDF ----------------------------------------------------------------------------

    XmppToPidfParams pidf_params(const store::NotifierKey& key) {
        XmppToPidfParams p;
        if (auto e = ctx().addresses().to_uri(key.xmpp_contact, sdk::UriScheme::Pres))
            p.entity = *e;
        if (auto c = ctx().addresses().to_uri(key.xmpp_contact, sdk::UriScheme::Sip))
            p.contact_base = *c;
        p.now = rfc3339(sh.unix_now());
        return p;
    }

    /// Table P1 for a list of stanzas; nullopt when it cannot be built (logged).
    std::optional<std::string> pidf_of(const store::NotifierKey& key,
                                       const std::vector<Stanza>& presences) {
        auto body = xmpp_to_pidf(presences, pidf_params(key));
        if (!body) {
            STOX_LOG_WARN(ctx().log(), "PIDF for {} not built: {}", key.xmpp_contact,
                          body.status().message());
            return std::nullopt;
        }
        return body.value();
    }

    /// Content-Language: the xml:lang of the most recently updated resource (Table P1).
    static std::string lang_of(const Entry& e) {
        const Cached* newest = nullptr;
        for (const auto& [res, c] : e.resources)
            if (newest == nullptr || c.at >= newest->at) newest = &c;
        return newest ? newest->presence.attr("xml:lang") : std::string();
    }

    std::optional<std::string> current_pidf(const Entry& e) {
        if (e.resources.empty()) return std::nullopt; // PRES-WS-7: nothing known, empty NOTIFY
        std::vector<Stanza> list;
        for (const auto& [res, c] : e.resources) list.push_back(c.presence);
        return pidf_of(e.rec.key, list);
    }

    /// PRES-WS-8 / TV-PRES-23: every resource reported so far, closed; the bare JID when none.
    std::optional<std::string> closed_pidf(const Entry& e) {
        std::vector<Stanza> list;
        for (const auto& [res, c] : e.resources) {
            Stanza st = sdk::make_stanza("presence");
            st.set_attr("from", c.presence.attr("from"));
            st.set_attr("type", "unavailable");
            list.push_back(std::move(st));
        }
        if (list.empty()) {
            Stanza st = sdk::make_stanza("presence");
            st.set_attr("from", e.rec.key.xmpp_contact);
            st.set_attr("type", "unavailable");
            list.push_back(std::move(st));
        }
        return pidf_of(e.rec.key, list);
    }

    // --- NOTIFY pipeline -----------------------------------------------------------------

    std::uint32_t remaining(const store::DialogRecord& d) {
        return static_cast<std::uint32_t>(std::max<std::int64_t>(0, d.expires_at - sh.unix_now()));
    }

    void request_notify(const std::shared_ptr<DialogCtl>& ctl) {
        ctl->want = true;
        pump(ctl);
    }

    void pump(const std::shared_ptr<DialogCtl>& ctl) {
        if (stopped || !ctl->want || ctl->in_flight || ctl->pace.armed()) return;
        const auto now = sh.now();
        const auto due = ctl->last_sent + sh.cfg.coalesce_window;
        if (ctl->sent_any && now < due) {
            // Storm control: one NOTIFY per window; what is sent then is the latest state.
            std::weak_ptr<DialogCtl> w = ctl;
            ctl->pace = ctx().executor().after(
                std::chrono::duration_cast<std::chrono::milliseconds>(due - now),
                [this, a = alive, w] {
                    if (!*a) return;
                    if (auto c = w.lock()) {
                        c->pace.detach(); // fired: no longer pending
                        pump(c);
                    }
                });
            return;
        }
        send_notify(ctl);
    }

    void send_notify(const std::shared_ptr<DialogCtl>& ctl) {
        SubscriptionState ss;
        std::optional<std::string> body;
        std::string lang;
        const bool terminal = ctl->d.state == store::SubState::terminated;
        Entry* entry = nullptr;
        if (terminal) {
            ss.value = SubscriptionState::Value::terminated;
            ss.reason = ctl->reason;
            ss.retry_after = ctl->retry_after;
            body = ctl->final_body;
            lang = ctl->final_lang;
        } else {
            auto it = entries.find(ctl->key);
            if (it == entries.end() || it->second.live != ctl) return; // superseded
            entry = &it->second;
            ss.expires = remaining(ctl->d);
            if (ctl->d.state == store::SubState::active) {
                ss.value = SubscriptionState::Value::active;
                body = current_pidf(*entry);
                lang = lang_of(*entry);
            } else {
                ss.value = SubscriptionState::Value::pending; // no body while pending
            }
        }
        sdk::SipRequest rq = in_dialog_request(ctl->d, "NOTIFY");
        rq.set_header("Event", "presence");
        rq.set_header("Subscription-State", format_subscription_state(ss));
        if (!ctl->contact.empty()) rq.set_header("Contact", format_name_addr(ctl->contact));
        if (body) {
            rq.set_header("Content-Type", "application/pidf+xml");
            if (!lang.empty()) rq.set_header("Content-Language", lang);
            rq.body = std::move(*body);
        }
        ctl->want = false;
        ctl->in_flight = true;
        ctl->sent_any = true;
        ctl->last_sent = sh.now();
        count("presence.ws.notify_sent");
        // The CSeq must survive a restart (RFC 3261 §12.2.1.1: it only grows).
        if (entry != nullptr) persist(ctl->key);
        std::weak_ptr<DialogCtl> w = ctl;
        ctx().sip().send_request(std::move(rq), [this, a = alive, w](const SipResponse& r) {
            if (!*a) return;
            if (auto c = w.lock()) on_notify_response(c, r);
        });
    }

    void on_notify_response(const std::shared_ptr<DialogCtl>& ctl, const SipResponse& r) {
        ctl->in_flight = false;
        const bool terminal = ctl->d.state == store::SubState::terminated;
        if (r.status >= 300) {
            count("presence.ws.notify_failed");
            STOX_LOG_DEBUG(ctx().log(), "NOTIFY to {} answered {}", ctl->key.sip_watcher, r.status);
        }
        if (terminal) {
            closing.erase(ctl);
            return;
        }
        if (r.status >= 300 && notify_failure_removes(r.status)) {
            // RFC 6665 §4.2.2: the subscription is gone; no further NOTIFY on this dialog.
            auto it = entries.find(ctl->key);
            if (it != entries.end() && it->second.live == ctl) {
                STOX_LOG_INFO(ctx().log(), "W-S dialog {} -> {} removed after NOTIFY {}",
                              ctl->key.sip_watcher, ctl->key.xmpp_contact, r.status);
                drop_live(it->second);
                persist(ctl->key);
            }
            return;
        }
        pump(ctl);
    }

    // --- dialogs -------------------------------------------------------------------------

    void drop_live(Entry& e) {
        if (!e.live) return;
        by_dialog.erase({e.live->d.call_id, e.live->d.local_tag});
        e.live->pace.cancel();
        e.live.reset();
        e.expiry.cancel();
    }

    void arm_expiry(Entry& e) {
        const auto key = e.rec.key;
        const std::int64_t left = e.live->d.expires_at - sh.unix_now();
        e.expiry = ctx().executor().after(
            std::chrono::milliseconds(std::max<std::int64_t>(0, left) * 1000),
            [this, a = alive, key] {
                if (!*a) return;
                auto it = entries.find(key);
                if (it == entries.end() || !it->second.live) return;
                // A-23 / RFC 6665 §4.2.1.4: expired without a refresh.
                count("presence.ws.expired");
                terminate(it->second, "timeout", std::nullopt, true, true);
                persist(key);
            });
    }

    /// Ends the live dialog with a final NOTIFY (queued behind one in flight).
    void terminate(Entry& e, std::string reason, std::optional<std::uint32_t> retry_after,
                   bool closed_body, bool send_unavailable) {
        auto ctl = e.live;
        if (!ctl) return;
        drop_live(e);
        ctl->d.state = store::SubState::terminated;
        ctl->reason = std::move(reason);
        ctl->retry_after = retry_after;
        if (closed_body) ctl->final_body = closed_pidf(e);
        closing.insert(ctl);
        request_notify(ctl);
        // PRES-WS-8 (2) / A-23: tell C that W no longer watches; never `unsubscribe`
        // (PRES-WS-9: SIP cannot cancel the authorization).
        if (send_unavailable) send_presence(e.rec.key, "unavailable");
    }

    /// Writes the record after a change; forgets authorizations that hold nothing worth
    /// keeping (no dialog and nothing approved or asked). `key`'s entry may be gone after.
    void persist(const store::NotifierKey& key) {
        auto it = entries.find(key);
        if (it == entries.end()) return;
        Entry& e = it->second;
        if (e.live)
            e.rec.dialog = e.live->d;
        else
            e.rec.dialog.reset();
        if (!e.live && (e.rec.approval == store::Approval::unknown ||
                        e.rec.approval == store::Approval::rejected)) {
            sh.store.erase_notifier(key);
            entries.erase(it);
            return;
        }
        sh.store.put_notifier(e.rec);
    }

    // --- SUBSCRIBE -----------------------------------------------------------------------

    SipResponse error_response(const Status& status) {
        const sdk::SipError err = ctx().errors().sip_for(status);
        SipResponse r = plain(err.status, err.reason);
        if (!err.contact.empty()) r.set_header("Contact", err.contact);
        if (status.code() == ErrorCode::SecureOnly) // RFC 7247 §8, §2.3.2 table
            r.set_header("Warning", "380 " + sh.component_domain() + " \"SIPS Not Allowed\"");
        if (r.status == 503)
            r.set_header("Retry-After", std::to_string(sh.cfg.overload_retry_after_s));
        return r;
    }

    void reject(const std::shared_ptr<sdk::SipServerTransaction>& tx, SipResponse r,
                std::string_view why) {
        STOX_LOG_DEBUG(ctx().log(), "SUBSCRIBE refused with {}: {}", r.status, why);
        tx->respond(std::move(r));
    }

    void overloaded(const std::shared_ptr<sdk::SipServerTransaction>& tx, std::string_view what,
                    const std::string& watcher) {
        count(what);
        STOX_LOG_WARN(ctx().log(), "SUBSCRIBE from {} refused (503): {}", watcher, what);
        SipResponse r = plain(503, "Service Unavailable");
        r.set_header("Retry-After", std::to_string(sh.cfg.overload_retry_after_s));
        tx->respond(std::move(r));
    }

    bool rate_ok(const std::string& watcher) {
        const auto now = sh.now();
        if (!global.try_take(now)) return false;
        if (per_watcher.size() >= kMaxWatcherBuckets && !per_watcher.count(watcher))
            per_watcher.clear();
        auto it = per_watcher.find(watcher);
        if (it == per_watcher.end())
            it = per_watcher
                     .emplace(watcher, TokenBucket(sh.cfg.subscribe_rate_per_watcher,
                                                   2 * sh.cfg.subscribe_rate_per_watcher))
                     .first;
        return it->second.try_take(now);
    }

    /// The 2xx that creates (or refreshes) the dialog: our To tag, Expires, Contact, and the
    /// Record-Route values (RFC 3261 §12.1.1).
    SipResponse ok_response(const sdk::SipRequest& rq, const DialogCtl& ctl, std::uint32_t e) {
        SipResponse r = plain(200, "OK");
        r.set_header("To", format_name_addr(ctl.d.local_uri, ctl.d.local_tag));
        r.set_header("Expires", std::to_string(e));
        if (!ctl.contact.empty()) r.set_header("Contact", format_name_addr(ctl.contact));
        for (const auto& rr : rq.header_values("Record-Route")) r.add_header("Record-Route", rr);
        return r;
    }

    void on_subscribe(const std::shared_ptr<sdk::SipServerTransaction>& tx) {
        if (!tx) return;
        const sdk::SipRequest& rq = tx->request();
        auto from = parse_name_addr(rq.header("From"));
        auto to = parse_name_addr(rq.header("To"));
        const std::string call_id = rq.header("Call-ID");
        auto cseq = cseq_number(rq.header("CSeq"));
        if (!from || from->tag.empty() || !to || call_id.empty() || !cseq)
            return reject(tx, plain(400, "Bad Request"), "From/To/Call-ID/CSeq malformed");
        const std::string watcher = aor_of(from->uri);
        if (watcher.empty()) return reject(tx, plain(400, "Bad Request"), "From is not a SIP AOR");

        if (!rate_ok(watcher)) return overloaded(tx, "presence.ws.rate_limited", watcher);
        // RFC 6665 §4.1.2.1 / RFC 3856 §6.7.
        if (!accept_allows_pidf(rq))
            return reject(tx, plain(406, "Not Acceptable"), "Accept excludes PIDF");
        // PRES-SEC-3 [CHOICE]: only watchers of the domains we serve.
        if (sh.cfg.restrict_from_domains) {
            const std::string host = host_of_aor(watcher);
            auto domains = ctx().sip().domains();
            bool ours = std::any_of(domains.begin(), domains.end(), [&](const std::string& d) {
                return sdk::ascii_iequals(d, host);
            });
            if (!ours) {
                count("presence.ws.foreign_domain");
                return reject(tx, plain(403, "Forbidden"), "From domain is not served");
            }
        }
        std::optional<std::uint32_t> expires = 3600; // RFC 3856 §6.4 default
        if (rq.has_header("Expires")) {
            expires = parse_delta_seconds(rq.header("Expires"));
            if (!expires) return reject(tx, plain(400, "Invalid Expires"), "bad Expires");
        }
        if (*expires > 0 && *expires < sh.cfg.min_expires) {
            SipResponse r = plain(423, "Interval Too Brief");
            r.set_header("Min-Expires", std::to_string(sh.cfg.min_expires));
            return reject(tx, std::move(r), "Expires below Min-Expires");
        }
        const std::uint32_t e = std::min(*expires, sh.cfg.max_expires);
        if (!to->tag.empty()) return in_dialog(tx, *from, *to, call_id, *cseq, e);
        initial(tx, *from, *to, call_id, *cseq, e);
    }

    void in_dialog(const std::shared_ptr<sdk::SipServerTransaction>& tx, const NameAddr& from,
                   const NameAddr& to, const std::string& call_id, std::uint32_t cseq,
                   std::uint32_t e) {
        const sdk::SipRequest& rq = tx->request();
        auto idx = by_dialog.find({call_id, to.tag});
        auto it = idx == by_dialog.end() ? entries.end() : entries.find(idx->second);
        if (it == entries.end() || !it->second.live || it->second.live->d.remote_tag != from.tag)
            return reject(tx, plain(481, "Subscription Does Not Exist"), "unknown dialog");
        Entry& entry = it->second;
        auto ctl = entry.live;
        // RFC 3261 §12.2.2: an out-of-order request is refused with 500.
        if (cseq <= ctl->d.remote_cseq)
            return reject(tx, plain(500, "CSeq Out Of Order"), "CSeq not increasing");
        ctl->d.remote_cseq = cseq;
        // SUBSCRIBE is a target refresh request (RFC 6665 §4.1.2.1, RFC 3261 §12.2.2).
        if (auto c = parse_name_addr(rq.header("Contact"))) ctl->d.remote_target = c->uri;
        const auto key = entry.rec.key;
        if (e == 0) {
            // TV-PRES-23 / PRES-WS-8: unsubscribe.
            tx->respond(ok_response(rq, *ctl, 0));
            terminate(entry, "timeout", std::nullopt, true, true);
            persist(key);
            return;
        }
        // TV-PRES-22 / PRES-WS-5: refresh.
        ctl->d.expires_at = sh.unix_now() + e;
        arm_expiry(entry);
        tx->respond(ok_response(rq, *ctl, e));
        if (entry.rec.approval == store::Approval::approved && entry.resources.empty())
            send_presence(key, "probe"); // [CHOICE] TV-PRES-22(b)
        request_notify(ctl);
        persist(key);
    }

    void initial(const std::shared_ptr<sdk::SipServerTransaction>& tx, const NameAddr& from,
                 const NameAddr& to, const std::string& call_id, std::uint32_t cseq,
                 std::uint32_t e) {
        const sdk::SipRequest& rq = tx->request();
        auto target = ctx().addresses().to_jid(rq.request_uri, sdk::UriRole::RequestUri);
        if (!target) return reject(tx, error_response(target.status()), "Request-URI unmapped");
        auto wjid = ctx().addresses().to_jid(from.uri, sdk::UriRole::From);
        if (!wjid) return reject(tx, error_response(wjid.status()), "From unmapped");
        auto contact = parse_name_addr(rq.header("Contact"));
        if (!contact) return reject(tx, plain(400, "Missing Contact"), "no Contact");

        store::NotifierKey key;
        key.xmpp_contact = bare_of(*target);
        key.sip_watcher = watcher_aor_for_jid(bare_of(*wjid));
        if (key.sip_watcher.empty()) key.sip_watcher = aor_of(from.uri);

        auto ctl = std::make_shared<DialogCtl>();
        ctl->key = key;
        ctl->contact = contact_for(key);
        ctl->d.call_id = call_id;
        ctl->d.local_uri = to.uri;
        ctl->d.local_tag = random_token(10);
        ctl->d.remote_uri = from.uri;
        ctl->d.remote_tag = from.tag;
        ctl->d.remote_target = contact->uri;
        ctl->d.route_set = route_set_of(rq, false);
        ctl->d.remote_cseq = cseq;
        ctl->d.accept = rq.header("Accept");

        if (e == 0) return poll(tx, key, ctl); // PRES-POLL-2, A-17

        auto it = entries.find(key);
        if (it == entries.end()) {
            if (entries.size() >= sh.cfg.max_notifiers)
                return overloaded(tx, "presence.ws.max_notifiers", key.sip_watcher);
            it = entries.emplace(key, Entry{}).first;
            it->second.rec.key = key;
        }
        Entry& entry = it->second;
        if (entry.live) {
            // A new dialog from the same watcher replaces the old one (the record holds one).
            STOX_LOG_DEBUG(ctx().log(), "W-S dialog of {} -> {} replaced", key.sip_watcher,
                           key.xmpp_contact);
            drop_live(entry);
        }
        const bool approved = entry.rec.approval == store::Approval::approved;
        ctl->d.expires_at = sh.unix_now() + e;
        ctl->d.state = approved ? store::SubState::active : store::SubState::pending;
        entry.live = ctl;
        by_dialog[{call_id, ctl->d.local_tag}] = key;
        arm_expiry(entry);
        tx->respond(ok_response(rq, *ctl, e)); // PRES-WS-1: 200 at once
        request_notify(ctl);                   // pending (or active) NOTIFY right away
        if (!approved) {
            entry.rec.approval = store::Approval::requested;
            send_presence(key, "subscribe", "ws-" + random_token(12)); // PRES-WS-1
        } else if (entry.resources.empty()) {
            send_presence(key, "probe"); // so that a following NOTIFY carries C's state
        }
        count("presence.ws.subscriptions");
        persist(key);
    }

    void poll(const std::shared_ptr<sdk::SipServerTransaction>& tx, const store::NotifierKey& key,
              const std::shared_ptr<DialogCtl>& ctl) {
        ctl->d.expires_at = sh.unix_now();
        count("presence.ws.polls");
        auto it = entries.find(key);
        if (it != entries.end() && it->second.rec.approval == store::Approval::approved &&
            !it->second.resources.empty()) {
            Clock::time_point newest{};
            for (const auto& [r, c] : it->second.resources) newest = std::max(newest, c.at);
            if (sh.now() - newest < kPollCacheFresh) {
                std::vector<Stanza> list;
                for (const auto& [r, c] : it->second.resources) list.push_back(c.presence);
                return finish_poll(tx, ctl, "timeout", std::nullopt, pidf_of(key, list),
                                   lang_of(it->second));
            }
        }
        // Nothing fresh: probe and hold the answer for at most poll_wait (A-17, TV-PRES-24).
        const std::string id = "ws-" + random_token(12);
        send_presence(key, "probe", id);
        Poll p{tx, key, ctl, {}};
        p.timer = ctx().executor().after(sh.cfg.poll_wait, [this, a = alive, id] {
            if (!*a) return;
            auto pit = polls.find(id);
            if (pit == polls.end()) return;
            Poll done = std::move(pit->second);
            polls.erase(pit);
            finish_poll(done.tx, done.ctl, "timeout", std::nullopt, std::nullopt, {});
        });
        polls.emplace(id, std::move(p));
    }

    void finish_poll(const std::shared_ptr<sdk::SipServerTransaction>& tx,
                     const std::shared_ptr<DialogCtl>& ctl, std::string reason,
                     std::optional<std::uint32_t> retry_after, std::optional<std::string> body,
                     std::string lang) {
        tx->respond(ok_response(tx->request(), *ctl, 0));
        ctl->d.state = store::SubState::terminated;
        ctl->reason = std::move(reason);
        ctl->retry_after = retry_after;
        ctl->final_body = std::move(body);
        ctl->final_lang = std::move(lang);
        closing.insert(ctl);
        request_notify(ctl);
    }

    /// A stanza from C to W answering a held poll; true when it was consumed by the poll only.
    bool answer_poll(const Stanza& st, const store::NotifierKey& key) {
        auto pit = polls.find(st.attr("id"));
        if (pit == polls.end() || !(pit->second.key == key))
            pit = std::find_if(polls.begin(), polls.end(),
                               [&](const auto& p) { return p.second.key == key; });
        if (pit == polls.end()) return false;
        const std::string type = st.attr("type");
        const bool by_id = !st.attr("id").empty() && pit->first == st.attr("id");
        Poll p = std::move(pit->second);
        polls.erase(pit);
        if (type.empty() || type == "unavailable") {
            finish_poll(p.tx, p.ctl, "timeout", std::nullopt, pidf_of(key, {st}),
                        st.attr("xml:lang"));
            // Also a normal notification when a live dialog exists for the pair.
            auto it = entries.find(key);
            return it == entries.end() || !it->second.live;
        }
        if (type == "unsubscribed") {
            finish_poll(p.tx, p.ctl, "rejected", std::nullopt, std::nullopt, {});
            return by_id;
        }
        auto [reason, retry] = reason_for_error(st);
        finish_poll(p.tx, p.ctl, reason, retry, std::nullopt, {});
        return true; // an error answers the probe, not the subscription
    }

    // --- stanzas -------------------------------------------------------------------------

    void drop(const Stanza& st, std::string_view why) {
        count("presence.ws.dropped_no_dialog");
        STOX_LOG_DEBUG(ctx().log(), "presence from {} to {} dropped: {}", st.attr("from"),
                       st.attr("to"), why);
    }

    void on_stanza(const Stanza& st) {
        const std::string type = st.attr("type");
        const std::string from = st.attr("from");
        store::NotifierKey key;
        key.xmpp_contact = bare_of(from);
        key.sip_watcher = watcher_aor_for_jid(bare_of(st.attr("to")));
        if (key.xmpp_contact.empty() || key.sip_watcher.empty())
            return drop(st, "addresses do not map");

        if ((type.empty() || type == "unavailable" || type == "unsubscribed" || type == "error") &&
            !polls.empty() && answer_poll(st, key))
            return;

        auto it = entries.find(key);
        if (type == "subscribed") {
            if (it == entries.end()) return drop(st, "no authorization asked");
            Entry& e = it->second;
            e.rec.approval = store::Approval::approved;
            if (e.live && e.live->d.state == store::SubState::pending) {
                e.live->d.state = store::SubState::active; // PRES-WS-3, TV-PRES-20
                request_notify(e.live);
            }
            return persist(key);
        }
        if (type == "unsubscribed") {
            if (it == entries.end()) return drop(st, "no authorization");
            Entry& e = it->second;
            terminate(e, "rejected", std::nullopt, false, false); // PRES-WS-4, TV-PRES-21
            e.rec.approval = store::Approval::rejected;
            e.resources.clear();
            return persist(key);
        }
        if (type == "error") {
            if (it == entries.end() || !it->second.live ||
                it->second.live->d.state != store::SubState::pending)
                return drop(st, "error outside a pending subscription");
            auto [reason, retry] = reason_for_error(st); // A-36, TV-PRES-29
            terminate(it->second, reason, retry, false, false);
            it->second.rec.approval = store::Approval::unknown;
            return persist(key);
        }
        if (!type.empty() && type != "unavailable") {
            STOX_LOG_DEBUG(ctx().log(), "presence of type {} from {} ignored by W-S", type, from);
            return;
        }
        if (it == entries.end() || !it->second.live) return drop(st, "no dialog"); // TV-PRES-18
        Entry& e = it->second;
        if (e.live->d.state != store::SubState::active) {
            // A-37 / TV-PRES-30: the RFC 6121 §3.1.3 acknowledgement carries nothing authorized.
            return drop(st, "subscription not active");
        }
        const std::string res = resource_of(from);
        e.resources[res] = Cached{st, sh.now()};
        trim_cache(e);
        request_notify(e.live); // PRES-NOT-1, Table P1
    }

    static void trim_cache(Entry& e) {
        while (e.resources.size() > kMaxResources) {
            auto victim = e.resources.begin();
            for (auto i = e.resources.begin(); i != e.resources.end(); ++i) {
                const bool closed_i = i->second.presence.attr("type") == "unavailable";
                const bool closed_v = victim->second.presence.attr("type") == "unavailable";
                if ((closed_i && !closed_v) ||
                    (closed_i == closed_v && i->second.at < victim->second.at))
                    victim = i;
            }
            e.resources.erase(victim);
        }
    }

    // --- restart -------------------------------------------------------------------------

    void restore(store::NotifierRecord record) {
        const auto key = record.key;
        if (key.sip_watcher.empty() || key.xmpp_contact.empty()) return;
        Entry& e = entries[key];
        e = Entry{};
        e.rec = std::move(record);
        if (e.rec.dialog && e.rec.dialog->state != store::SubState::terminated) {
            auto ctl = std::make_shared<DialogCtl>();
            ctl->key = key;
            ctl->contact = contact_for(key);
            ctl->d = *e.rec.dialog;
            // The remote target is a bare URI (the Request-URI of our NOTIFYs).
            if (ctl->d.remote_target.find('<') != std::string::npos)
                if (auto na = parse_name_addr(ctl->d.remote_target)) ctl->d.remote_target = na->uri;
            e.live = ctl;
            if (ctl->d.expires_at <= sh.unix_now()) {
                // Expired while we were down: the final NOTIFY is the only SIP traffic.
                terminate(e, "timeout", std::nullopt, true, true);
                return persist(key);
            }
            by_dialog[{ctl->d.call_id, ctl->d.local_tag}] = key;
            arm_expiry(e);
            if (e.rec.approval == store::Approval::approved &&
                ctl->d.state == store::SubState::active)
                queue_probe(key);
        } else if (e.rec.dialog) {
            e.rec.dialog.reset();
            persist(key);
        }
    }

    void stop() {
        stopped = true;
        for (auto& [k, e] : entries) {
            e.expiry.cancel();
            if (e.live) e.live->pace.cancel();
        }
        for (auto& c : closing) c->pace.cancel();
        probe_timer.cancel();
        for (auto& [id, p] : polls) {
            p.timer.cancel();
            SipResponse r = plain(503, "Service Unavailable");
            r.set_header("Retry-After", std::to_string(sh.cfg.overload_retry_after_s));
            p.tx->respond(std::move(r));
        }
        polls.clear();
    }
};

NotifierRole::NotifierRole(Shared& shared) : impl_(std::make_unique<Impl>(shared)) {}
NotifierRole::~NotifierRole() = default;

void NotifierRole::restore(store::NotifierRecord record) {
    impl_->restore(std::move(record));
}
void NotifierRole::on_subscribe(const std::shared_ptr<sdk::SipServerTransaction>& tx) {
    impl_->on_subscribe(tx);
}
void NotifierRole::on_stanza(const sdk::Stanza& presence) {
    impl_->on_stanza(presence);
}
void NotifierRole::stop() {
    impl_->stop();
}
std::size_t NotifierRole::size() const {
    return impl_->entries.size();
}

} // namespace stox::plugins::presence
