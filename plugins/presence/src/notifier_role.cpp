// SPDX-License-Identifier: Apache-2.0
// W-S role: the gateway as SIP notifier (RFC 6665 §4.2, RFC 3856, RFC 8048 §5.3, stox-core
// §2.3.2). One authorization per (SIP watcher W, XMPP contact C); at most one live notifier
// dialog per authorization, plus terminated dialogs whose final NOTIFY is still on its way.
#include "notifier_role.hpp"

#include <algorithm>
#include <cstdint>
#include <ctime>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "deadline_queue.hpp"
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
/// Per-contact NOTIFY data (addresses, last PIDF) kept before the table is reset.
constexpr std::size_t kMaxContactShared = 4096;

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
    /// One <presence/> of C as received, without `to` and `id`: the part that is the same for
    /// every watcher C's server broadcast it to (RFC 6121 §4.4.2). Immutable and shared by the
    /// watchers that got the same stanza, so 10,000 watchers of C hold one copy, not 10,000.
    struct Cached {
        Stanza presence;
        std::string resource;
    };
    /// What one watcher has received for one resource of C, and when (A-17 freshness, Table P1
    /// Content-Language, cache trimming stay per watcher: a watcher only ever sees what C's
    /// server sent to it).
    struct Seen {
        std::shared_ptr<const Cached> c;
        Clock::time_point at;
    };

    struct Entry;

    /// A terminated dialog whose final NOTIFY is still to be sent (or a poll): its own copy of
    /// the dialog, since the record no longer holds it.
    struct Final {
        store::NotifierKey key;
        store::DialogRecord d;
        // The final NOTIFY's content.
        std::string reason;
        std::optional<std::uint32_t> retry_after;
        std::optional<std::string> body;
        std::string lang;
    };

    /// The NOTIFY pipeline of one dialog (one NOTIFY in flight per dialog, paced, RFC 6665
    /// §4.2.2 ordering; the state is read when the NOTIFY leaves, so the latest state wins).
    /// The dialog itself is in the entry while live (its only copy), in `fin` once
    /// terminated; neither once superseded by a new dialog of the same watcher.
    struct DialogCtl : std::enable_shared_from_this<DialogCtl> {
        Entry* entry = nullptr;
        std::unique_ptr<Final> fin;
        bool in_flight = false;
        bool want = false;
        bool sent_any = false;
        bool queued = false; ///< in the global window's FIFO
        Clock::time_point last_sent{};
        DeadlineQueue<DialogCtl>::Slot pace;

        [[nodiscard]] bool gone() const { return entry == nullptr && !fin; }
        store::DialogRecord& d() { return fin ? fin->d : *entry->dialog; }
        const store::NotifierKey& key() const { return fin ? fin->key : entry->key(); }
    };

    /// One authorization: a NotifierRecord whose key is the map's (not held twice).
    struct Entry {
        const store::NotifierKey* keyp = nullptr; ///< the key of this entry's map node
        store::Approval approval = store::Approval::unknown;
        std::optional<store::DialogRecord> dialog; ///< the live dialog (set iff `live`)
        std::vector<Seen> resources; ///< C's presence per resource, sorted (not persisted)
        std::shared_ptr<DialogCtl> live;
        DeadlineQueue<Entry>::Slot expiry;

        [[nodiscard]] const store::NotifierKey& key() const { return *keyp; }
    };

    /// What every NOTIFY to the watchers of one XMPP contact C shares: C's mapped addresses,
    /// our Contact, and the last Table P1 body built. The body depends only on C's stanzas and
    /// on the second of the <timestamp/> default (a stanza without XEP-0203 delay), so a
    /// status change of C with 10,000 watchers builds one PIDF instead of 10,000.
    struct ContactShared {
        bool mapped = false;
        std::string entity;         ///< pres: URI of C (RFC 3863 §4.1.1 entity)
        std::string contact_base;   ///< sip: URI of C (tuple <contact/>)
        std::string contact_header; ///< "<sip:c@gateway>" (RFC 6665 §4.2.2 Contact), or ""
        /// The body below was built from these stanzas (by identity, in the entry's order)
        /// during this second; weak references keep the identities from being reused.
        std::vector<std::weak_ptr<const Cached>> from;
        std::int64_t second = 0;
        std::optional<std::string> body;
    };

    /// A new-dialog SUBSCRIBE with Expires: 0 waiting for the probe answer.
    struct Poll {
        std::shared_ptr<sdk::SipServerTransaction> tx;
        store::NotifierKey key;
        std::shared_ptr<DialogCtl> ctl;
        sdk::TimerHandle timer;
    };

    explicit Impl(Shared& s)
        : sh(s), expiry_q(s.ctx.executor(), [this](Entry& e) { on_expired(e); }),
          pace_q(s.ctx.executor(), [this](DialogCtl& c) { pump(c); }),
          global(s.cfg.subscribe_rate, 2 * s.cfg.subscribe_rate),
          probe_pace(s.cfg.subscribe_rate, std::max(1.0, s.cfg.subscribe_rate)),
          alive(std::make_shared<bool>(true)),
          notify_sent(s.ctx.metrics().counter("presence.ws.notify_sent")),
          notify_queued(s.ctx.metrics().counter("presence.ws.notify_queued")) {}
    ~Impl() { *alive = false; }

    Shared& sh;
    DeadlineQueue<Entry> expiry_q;
    DeadlineQueue<DialogCtl> pace_q;
    std::map<store::NotifierKey, Entry> entries;
    /// (Call-ID, our tag) -> entry, keyed by a hash of both; lookups compare the full values.
    std::unordered_multimap<std::uint64_t, Entry*> by_dialog;
    /// (bare JID of C, resource) -> the latest presence received, shared by the watchers.
    std::map<std::pair<std::string, std::string>, std::weak_ptr<const Cached>> latest;
    std::set<std::shared_ptr<DialogCtl>> closing;
    std::map<std::string, Poll> polls; ///< by probe id
    /// Storm control: NOTIFYs awaiting their final response, and the dialogs waiting for a slot.
    std::size_t notifies_in_flight = 0;
    std::deque<std::weak_ptr<DialogCtl>> waiting;
    bool draining = false;
    TokenBucket global;
    std::unordered_map<std::string, TokenBucket> per_watcher;
    TokenBucket probe_pace;
    std::deque<std::weak_ptr<DialogCtl>> probe_queue; ///< restored dialogs to probe for
    sdk::TimerHandle probe_timer;
    std::shared_ptr<bool> alive;
    bool stopped = false;
    /// Per XMPP contact (bounded: cleared when it reaches kMaxContactShared).
    std::unordered_map<std::string, ContactShared> contact_shared;
    // Counters of the NOTIFY path, looked up once (their references live as long as the core).
    sdk::Counter& notify_sent;
    sdk::Counter& notify_queued;

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
    /// C's shared NOTIFY data, its addresses mapped on first use (they depend on C only).
    ContactShared& shared_of(const std::string& contact) {
        auto it = contact_shared.find(contact);
        if (it == contact_shared.end()) {
            if (contact_shared.size() >= kMaxContactShared) contact_shared.clear();
            it = contact_shared.try_emplace(contact).first;
        }
        ContactShared& cs = it->second;
        if (!cs.mapped) {
            if (auto e = ctx().addresses().to_uri(contact, sdk::UriScheme::Pres)) cs.entity = *e;
            if (auto c = ctx().addresses().to_uri(contact, sdk::UriScheme::Sip))
                cs.contact_base = *c;
            if (auto uri = sh.contact_uri(localpart_of(contact)); !uri.empty())
                cs.contact_header = format_name_addr(uri);
            cs.mapped = true;
        }
        return cs;
    }
    /// Our Contact header for dialogs of `key` ("" when the core offers none).
    const std::string& contact_header_for(const store::NotifierKey& key) {
        return shared_of(key.xmpp_contact).contact_header;
    }

    // --- dialog index --------------------------------------------------------------------

    static std::uint64_t dialog_hash(std::string_view call_id, std::string_view tag) {
        const std::uint64_t h1 = std::hash<std::string_view>{}(call_id);
        const std::uint64_t h2 = std::hash<std::string_view>{}(tag);
        return h1 ^ (h2 + 0x9e3779b97f4a7c15ULL + (h1 << 6) + (h1 >> 2));
    }
    void index_dialog(Entry& e) {
        by_dialog.emplace(dialog_hash(e.dialog->call_id, e.dialog->local_tag), &e);
    }
    void unindex_dialog(Entry& e) {
        if (!e.dialog) return;
        auto [b, end] = by_dialog.equal_range(dialog_hash(e.dialog->call_id, e.dialog->local_tag));
        for (auto i = b; i != end; ++i)
            if (i->second == &e) {
                by_dialog.erase(i);
                return;
            }
    }
    Entry* find_dialog(const std::string& call_id, const std::string& tag) {
        auto [b, end] = by_dialog.equal_range(dialog_hash(call_id, tag));
        for (auto i = b; i != end; ++i) {
            const auto& d = i->second->dialog;
            if (d && d->call_id == call_id && d->local_tag == tag) return i->second;
        }
        return nullptr;
    }

    // --- presence cache ------------------------------------------------------------------

    /// The shared copy of `st` (C's presence to one watcher): the latest one of C's resource
    /// when it is the same stanza, a new latest otherwise.
    std::shared_ptr<const Cached> intern(const store::NotifierKey& key, const std::string& res,
                                         const Stanza& st) {
        auto& slot = latest[{key.xmpp_contact, res}];
        // The broadcast to every watcher is the same stanza: compared in place, not copied.
        if (auto c = slot.lock(); c && same_but_to_id(st, c->presence)) return c;
        Stanza norm = st;
        norm.remove_attr("to");
        norm.remove_attr("id");
        auto c = std::make_shared<const Cached>(Cached{std::move(norm), res});
        slot = c;
        return c;
    }
    /// `st` equals `norm` once its first `to` and `id` attributes are removed (as intern()
    /// normalizes), without copying `st`.
    static bool same_but_to_id(const Stanza& st, const Stanza& norm) {
        if (st.is_text() != norm.is_text() || st.name() != norm.name() || st.ns() != norm.ns() ||
            st.text() != norm.text() || st.children() != norm.children())
            return false;
        const auto& a = st.attributes();
        const auto& b = norm.attributes();
        bool to_skipped = false;
        bool id_skipped = false;
        std::size_t j = 0;
        for (const auto& kv : a) {
            if (!to_skipped && kv.first == "to") {
                to_skipped = true;
                continue;
            }
            if (!id_skipped && kv.first == "id") {
                id_skipped = true;
                continue;
            }
            if (j >= b.size() || kv != b[j]) return false;
            ++j;
        }
        return j == b.size();
    }

    /// Forgets C's latest presence of `res` once no watcher holds it any more.
    void release(const std::string& contact, const std::string& res) {
        auto it = latest.find({contact, res});
        if (it != latest.end() && it->second.expired()) latest.erase(it);
    }
    void clear_resources(Entry& e) {
        std::vector<Seen> old;
        old.swap(e.resources);
        for (auto& s : old) {
            const std::string res = s.c->resource;
            s.c.reset();
            release(e.key().xmpp_contact, res);
        }
    }
    void set_resource(Entry& e, const std::string& res, const Stanza& st) {
        Seen seen{intern(e.key(), res, st), sh.now()};
        auto it =
            std::lower_bound(e.resources.begin(), e.resources.end(), res,
                             [](const Seen& s, const std::string& r) { return s.c->resource < r; });
        if (it != e.resources.end() && it->c->resource == res)
            *it = std::move(seen);
        else
            e.resources.insert(it, std::move(seen));
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
    void queue_probe(const std::shared_ptr<DialogCtl>& ctl) {
        probe_queue.push_back(ctl);
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
            auto ctl = probe_queue.front().lock();
            probe_queue.pop_front();
            // Only for a dialog still live (a replaced one probes by itself when it starts).
            if (ctl && ctl->entry != nullptr) send_presence(ctl->entry->key(), "probe");
        }
    }

    // --- PIDF ----------------------------------------------------------------------------

    XmppToPidfParams pidf_params(const store::NotifierKey& key) {
        const ContactShared& cs = shared_of(key.xmpp_contact);
        XmppToPidfParams p;
        p.entity = cs.entity;
        p.contact_base = cs.contact_base;
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
        const Seen* newest = nullptr;
        for (const auto& s : e.resources)
            if (newest == nullptr || s.at >= newest->at) newest = &s;
        return newest ? newest->c->presence.attr("xml:lang") : std::string();
    }

    static std::vector<Stanza> presences_of(const Entry& e) {
        std::vector<Stanza> list;
        list.reserve(e.resources.size());
        for (const auto& s : e.resources) list.push_back(s.c->presence);
        return list;
    }

    /// True when `from` names exactly the stanzas of `resources`, in order (shared copies
    /// are compared by identity: interned stanzas are the same object for every watcher).
    static bool same_stanzas(const std::vector<std::weak_ptr<const Cached>>& from,
                             const std::vector<Seen>& resources) {
        if (from.size() != resources.size()) return false;
        for (std::size_t i = 0; i < from.size(); ++i)
            if (from[i].owner_before(resources[i].c) || resources[i].c.owner_before(from[i]))
                return false;
        return true;
    }

    /// Table P1 body of the entry's current presence; built once per contact state and second
    /// and shared by C's watchers (their NOTIFYs differ only in headers).
    std::optional<std::string> current_pidf(const Entry& e) {
        if (e.resources.empty()) return std::nullopt; // PRES-WS-7: nothing known, empty NOTIFY
        const std::int64_t second = sh.unix_now();
        {
            const ContactShared& cs = shared_of(e.key().xmpp_contact);
            if (cs.body && cs.second == second && same_stanzas(cs.from, e.resources))
                return cs.body;
        }
        auto body = pidf_of(e.key(), presences_of(e));
        if (body) {
            // Looked up again: pidf_of() may have reset the table (bounded size).
            ContactShared& cs = shared_of(e.key().xmpp_contact);
            cs.from.assign(e.resources.size(), {});
            for (std::size_t i = 0; i < e.resources.size(); ++i) cs.from[i] = e.resources[i].c;
            cs.second = second;
            cs.body = body;
        }
        return body;
    }

    /// PRES-WS-8 / TV-PRES-23: every resource reported so far, closed; the bare JID when none.
    std::optional<std::string> closed_pidf(const Entry& e) {
        std::vector<Stanza> list;
        for (const auto& s : e.resources) {
            Stanza st = sdk::make_stanza("presence");
            st.set_attr("from", s.c->presence.attr("from"));
            st.set_attr("type", "unavailable");
            list.push_back(std::move(st));
        }
        if (list.empty()) {
            Stanza st = sdk::make_stanza("presence");
            st.set_attr("from", e.key().xmpp_contact);
            st.set_attr("type", "unavailable");
            list.push_back(std::move(st));
        }
        return pidf_of(e.key(), list);
    }

    // --- NOTIFY pipeline -----------------------------------------------------------------

    std::uint32_t remaining(const store::DialogRecord& d) {
        return static_cast<std::uint32_t>(std::max<std::int64_t>(0, d.expires_at - sh.unix_now()));
    }
    [[nodiscard]] std::size_t window() const {
        return std::max<std::size_t>(1, sh.cfg.max_notifies_in_flight);
    }

    void request_notify(DialogCtl& ctl) {
        ctl.want = true;
        pump(ctl);
    }

    void pump(DialogCtl& ctl) {
        if (stopped || ctl.gone() || !ctl.want || ctl.in_flight || ctl.queued || ctl.pace.armed())
            return;
        const auto now = sh.now();
        const auto due = ctl.last_sent + sh.cfg.coalesce_window;
        if (ctl.sent_any && now < due) {
            // Storm control: one NOTIFY per window; what is sent then is the latest state.
            pace_q.schedule(ctl, ctl.pace, std::chrono::ceil<std::chrono::milliseconds>(due - now));
            return;
        }
        if (notifies_in_flight >= window() || !waiting.empty()) {
            // Storm control: a fan-out of thousands of NOTIFYs at once overflows the watchers'
            // UDP buffers and the stack's retransmission lists (docs/performance.md); the
            // dialog waits its turn, once, and its NOTIFY then carries the state of that time.
            ctl.queued = true;
            waiting.push_back(ctl.weak_from_this());
            notify_queued.add();
            return;
        }
        send_notify(ctl);
    }

    /// Starts waiting dialogs while the window has room. Not re-entrant: a response reported
    /// synchronously by send_request only frees its slot, the loop here takes it.
    void drain_window() {
        if (draining || stopped) return;
        draining = true;
        while (!waiting.empty() && notifies_in_flight < window()) {
            auto c = waiting.front().lock();
            waiting.pop_front();
            if (!c) continue; // the dialog went away meanwhile
            c->queued = false;
            if (c->gone() || !c->want || c->in_flight) continue;
            send_notify(*c);
        }
        draining = false;
    }

    void send_notify(DialogCtl& ctl) {
        SubscriptionState ss;
        std::optional<std::string> body;
        std::string lang;
        store::DialogRecord& d = ctl.d();
        const bool terminal = d.state == store::SubState::terminated;
        Entry* entry = nullptr;
        if (terminal) {
            if (!ctl.fin) return;
            ss.value = SubscriptionState::Value::terminated;
            ss.reason = ctl.fin->reason;
            ss.retry_after = ctl.fin->retry_after;
            body = ctl.fin->body;
            lang = ctl.fin->lang;
        } else {
            entry = ctl.entry;
            if (entry == nullptr) return; // a poll not answered yet: nothing to send
            ss.expires = remaining(d);
            if (d.state == store::SubState::active) {
                ss.value = SubscriptionState::Value::active;
                body = current_pidf(*entry);
                lang = lang_of(*entry);
            } else {
                ss.value = SubscriptionState::Value::pending; // no body while pending
            }
        }
        const store::NotifierKey& key = ctl.key();
        // in_dialog_request() sets none of the headers added here: appended, not searched.
        sdk::SipRequest rq = in_dialog_request(d, "NOTIFY");
        rq.add_header("Event", "presence");
        rq.add_header("Subscription-State", format_subscription_state(ss));
        if (const std::string& contact = contact_header_for(key); !contact.empty())
            rq.add_header("Contact", contact);
        if (body) {
            rq.add_header("Content-Type", "application/pidf+xml");
            if (!lang.empty()) rq.add_header("Content-Language", lang);
            rq.body = std::move(*body);
        }
        ctl.want = false;
        ctl.in_flight = true;
        ctl.sent_any = true;
        ctl.last_sent = sh.now();
        ++notifies_in_flight;
        notify_sent.add();
        // The CSeq must survive a restart (RFC 3261 §12.2.1.1: it only grows). A live entry is
        // never forgotten by persist(), so it is written directly.
        if (entry != nullptr)
            sh.store.put_notifier(store::NotifierRecord{key, entry->approval, entry->dialog});
        ctx().sip().send_request(std::move(rq),
                                 [this, a = alive, w = ctl.weak_from_this()](const SipResponse& r) {
                                     if (!*a) return;
                                     // Every final response (or Timer F's 408) frees its slot,
                                     // whatever became of the dialog; dialogs waiting longer go
                                     // first, this one queues behind them if needed.
                                     --notifies_in_flight;
                                     drain_window();
                                     if (auto c = w.lock(); c && !c->gone())
                                         on_notify_response(c, r);
                                 });
    }

    void on_notify_response(const std::shared_ptr<DialogCtl>& ctl, const SipResponse& r) {
        ctl->in_flight = false;
        const bool terminal = ctl->d().state == store::SubState::terminated;
        if (r.status >= 300) {
            count("presence.ws.notify_failed");
            STOX_LOG_DEBUG(ctx().log(), "NOTIFY to {} answered {}", ctl->key().sip_watcher,
                           r.status);
        }
        if (terminal) {
            // Terminated while this NOTIFY was in flight: the final one still has to go
            // (RFC 6665 §4.2.2); once it is answered the dialog is gone.
            if (ctl->want) return pump(*ctl);
            pace_q.cancel(ctl->pace);
            closing.erase(ctl);
            return;
        }
        if (r.status >= 300 && notify_failure_removes(r.status)) {
            // RFC 6665 §4.2.2: the subscription is gone; no further NOTIFY on this dialog.
            if (Entry* e = ctl->entry; e != nullptr) {
                const store::NotifierKey key = e->key();
                STOX_LOG_INFO(ctx().log(), "W-S dialog {} -> {} removed after NOTIFY {}",
                              key.sip_watcher, key.xmpp_contact, r.status);
                drop_live(*e);
                persist(key);
            }
            return;
        }
        pump(*ctl);
    }

    // --- dialogs -------------------------------------------------------------------------

    /// A new live dialog for `e` (its DialogRecord already in e.dialog).
    std::shared_ptr<DialogCtl> attach_live(Entry& e) {
        auto ctl = std::make_shared<DialogCtl>();
        ctl->entry = &e;
        e.live = ctl;
        index_dialog(e);
        return ctl;
    }

    /// Takes the live dialog out of the entry (timers cancelled, index updated); the returned
    /// control block no longer refers to the entry.
    std::shared_ptr<DialogCtl> detach_live(Entry& e) {
        auto ctl = std::move(e.live);
        e.live.reset();
        expiry_q.cancel(e.expiry);
        if (!ctl) return ctl;
        unindex_dialog(e);
        pace_q.cancel(ctl->pace);
        ctl->entry = nullptr;
        return ctl;
    }

    /// Forgets the live dialog without a NOTIFY (replaced, or removed by a NOTIFY failure).
    void drop_live(Entry& e) {
        detach_live(e);
        e.dialog.reset();
    }

    void arm_expiry(Entry& e) {
        const std::int64_t left = e.dialog->expires_at - sh.unix_now();
        expiry_q.schedule(e, e.expiry,
                          std::chrono::milliseconds(std::max<std::int64_t>(0, left) * 1000));
    }

    void on_expired(Entry& e) {
        if (!e.live) return;
        // A-23 / RFC 6665 §4.2.1.4: expired without a refresh.
        count("presence.ws.expired");
        const store::NotifierKey key = e.key();
        terminate(e, "timeout", std::nullopt, true, true);
        persist(key);
    }

    /// Ends the live dialog with a final NOTIFY (queued behind one in flight).
    void terminate(Entry& e, std::string reason, std::optional<std::uint32_t> retry_after,
                   bool closed_body, bool send_unavailable) {
        if (!e.live) return;
        auto fin = std::make_unique<Final>();
        fin->key = e.key();
        fin->reason = std::move(reason);
        fin->retry_after = retry_after;
        if (closed_body) fin->body = closed_pidf(e);
        auto ctl = detach_live(e);
        fin->d = std::move(*e.dialog);
        fin->d.state = store::SubState::terminated;
        e.dialog.reset();
        ctl->fin = std::move(fin);
        closing.insert(ctl);
        request_notify(*ctl);
        // PRES-WS-8 (2) / A-23: tell C that W no longer watches; never `unsubscribe`
        // (PRES-WS-9: SIP cannot cancel the authorization).
        if (send_unavailable) send_presence(e.key(), "unavailable");
    }

    /// Writes the record after a change; forgets authorizations that hold nothing worth
    /// keeping (no dialog and nothing approved or asked). `key`'s entry may be gone after.
    void persist(const store::NotifierKey& key) {
        auto it = entries.find(key);
        if (it == entries.end()) return;
        Entry& e = it->second;
        if (!e.live &&
            (e.approval == store::Approval::unknown || e.approval == store::Approval::rejected)) {
            clear_resources(e);
            sh.store.erase_notifier(key);
            entries.erase(it);
            return;
        }
        sh.store.put_notifier(store::NotifierRecord{e.key(), e.approval, e.dialog});
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
    SipResponse ok_response(const sdk::SipRequest& rq, const store::NotifierKey& key,
                            const store::DialogRecord& d, std::uint32_t e) {
        SipResponse r = plain(200, "OK");
        r.set_header("To", format_name_addr(d.local_uri, d.local_tag));
        r.set_header("Expires", std::to_string(e));
        if (const std::string& contact = contact_header_for(key); !contact.empty())
            r.set_header("Contact", contact);
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
        Entry* found = find_dialog(call_id, to.tag);
        if (found == nullptr || !found->live || found->dialog->remote_tag != from.tag)
            return reject(tx, plain(481, "Subscription Does Not Exist"), "unknown dialog");
        Entry& entry = *found;
        store::DialogRecord& d = *entry.dialog;
        // RFC 3261 §12.2.2: an out-of-order request is refused with 500.
        if (cseq <= d.remote_cseq)
            return reject(tx, plain(500, "CSeq Out Of Order"), "CSeq not increasing");
        d.remote_cseq = cseq;
        // SUBSCRIBE is a target refresh request (RFC 6665 §4.1.2.1, RFC 3261 §12.2.2).
        if (auto c = parse_name_addr(rq.header("Contact"))) d.remote_target = c->uri;
        const auto key = entry.key();
        if (e == 0) {
            // TV-PRES-23 / PRES-WS-8: unsubscribe.
            tx->respond(ok_response(rq, key, d, 0));
            terminate(entry, "timeout", std::nullopt, true, true);
            persist(key);
            return;
        }
        // TV-PRES-22 / PRES-WS-5: refresh.
        d.expires_at = sh.unix_now() + e;
        arm_expiry(entry);
        tx->respond(ok_response(rq, key, d, e));
        if (entry.approval == store::Approval::approved && entry.resources.empty())
            send_presence(key, "probe"); // [CHOICE] TV-PRES-22(b)
        request_notify(*entry.live);
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

        store::DialogRecord d;
        d.call_id = call_id;
        d.local_uri = to.uri;
        d.local_tag = random_token(10);
        d.remote_uri = from.uri;
        d.remote_tag = from.tag;
        d.remote_target = contact->uri;
        d.route_set = route_set_of(rq, false);
        d.remote_cseq = cseq;
        d.accept = rq.header("Accept");

        if (e == 0) return poll(tx, key, std::move(d)); // PRES-POLL-2, A-17

        auto it = entries.find(key);
        if (it == entries.end()) {
            if (entries.size() >= sh.cfg.max_notifiers)
                return overloaded(tx, "presence.ws.max_notifiers", key.sip_watcher);
            it = entries.try_emplace(key).first;
            it->second.keyp = &it->first;
        }
        Entry& entry = it->second;
        if (entry.live) {
            // A new dialog from the same watcher replaces the old one (the record holds one).
            STOX_LOG_DEBUG(ctx().log(), "W-S dialog of {} -> {} replaced", key.sip_watcher,
                           key.xmpp_contact);
            drop_live(entry);
        }
        const bool approved = entry.approval == store::Approval::approved;
        d.expires_at = sh.unix_now() + e;
        d.state = approved ? store::SubState::active : store::SubState::pending;
        entry.dialog = std::move(d);
        auto ctl = attach_live(entry);
        arm_expiry(entry);
        tx->respond(ok_response(rq, key, *entry.dialog, e)); // PRES-WS-1: 200 at once
        request_notify(*ctl); // pending (or active) NOTIFY right away
        if (!approved) {
            entry.approval = store::Approval::requested;
            send_presence(key, "subscribe", "ws-" + random_token(12)); // PRES-WS-1
        } else if (entry.resources.empty()) {
            send_presence(key, "probe"); // so that a following NOTIFY carries C's state
        }
        count("presence.ws.subscriptions");
        persist(key);
    }

    void poll(const std::shared_ptr<sdk::SipServerTransaction>& tx, const store::NotifierKey& key,
              store::DialogRecord d) {
        auto ctl = std::make_shared<DialogCtl>();
        ctl->fin = std::make_unique<Final>();
        ctl->fin->key = key;
        ctl->fin->d = std::move(d);
        ctl->fin->d.expires_at = sh.unix_now();
        count("presence.ws.polls");
        auto it = entries.find(key);
        if (it != entries.end() && it->second.approval == store::Approval::approved &&
            !it->second.resources.empty()) {
            Clock::time_point newest{};
            for (const auto& s : it->second.resources) newest = std::max(newest, s.at);
            if (sh.now() - newest < kPollCacheFresh) {
                return finish_poll(tx, ctl, "timeout", std::nullopt,
                                   pidf_of(key, presences_of(it->second)), lang_of(it->second));
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
        Final& fin = *ctl->fin;
        tx->respond(ok_response(tx->request(), fin.key, fin.d, 0));
        fin.d.state = store::SubState::terminated;
        fin.reason = std::move(reason);
        fin.retry_after = retry_after;
        fin.body = std::move(body);
        fin.lang = std::move(lang);
        closing.insert(ctl);
        request_notify(*ctl);
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
            e.approval = store::Approval::approved;
            if (e.live && e.dialog->state == store::SubState::pending) {
                e.dialog->state = store::SubState::active; // PRES-WS-3, TV-PRES-20
                request_notify(*e.live);
            }
            return persist(key);
        }
        if (type == "unsubscribed") {
            if (it == entries.end()) return drop(st, "no authorization");
            Entry& e = it->second;
            terminate(e, "rejected", std::nullopt, false, false); // PRES-WS-4, TV-PRES-21
            e.approval = store::Approval::rejected;
            clear_resources(e);
            return persist(key);
        }
        if (type == "error") {
            if (it == entries.end() || !it->second.live ||
                it->second.dialog->state != store::SubState::pending)
                return drop(st, "error outside a pending subscription");
            auto [reason, retry] = reason_for_error(st); // A-36, TV-PRES-29
            terminate(it->second, reason, retry, false, false);
            it->second.approval = store::Approval::unknown;
            return persist(key);
        }
        if (!type.empty() && type != "unavailable") {
            STOX_LOG_DEBUG(ctx().log(), "presence of type {} from {} ignored by W-S", type, from);
            return;
        }
        if (it == entries.end() || !it->second.live) return drop(st, "no dialog"); // TV-PRES-18
        Entry& e = it->second;
        if (e.dialog->state != store::SubState::active) {
            // A-37 / TV-PRES-30: the RFC 6121 §3.1.3 acknowledgement carries nothing authorized.
            return drop(st, "subscription not active");
        }
        set_resource(e, resource_of(from), st);
        trim_cache(e);
        request_notify(*e.live); // PRES-NOT-1, Table P1
    }

    void trim_cache(Entry& e) {
        while (e.resources.size() > kMaxResources) {
            auto victim = e.resources.begin();
            for (auto i = e.resources.begin(); i != e.resources.end(); ++i) {
                const bool closed_i = i->c->presence.attr("type") == "unavailable";
                const bool closed_v = victim->c->presence.attr("type") == "unavailable";
                if ((closed_i && !closed_v) || (closed_i == closed_v && i->at < victim->at))
                    victim = i;
            }
            const std::string res = victim->c->resource;
            e.resources.erase(victim);
            release(e.key().xmpp_contact, res);
        }
    }

    // --- restart -------------------------------------------------------------------------

    void restore(store::NotifierRecord record) {
        const auto key = record.key;
        if (key.sip_watcher.empty() || key.xmpp_contact.empty()) return;
        auto [it, fresh] = entries.try_emplace(key);
        Entry& e = it->second;
        e.keyp = &it->first;
        if (!fresh) {
            // The same key twice: the later record wins; nothing of the earlier one stays.
            drop_live(e);
            clear_resources(e);
        }
        e.approval = record.approval;
        e.dialog = std::move(record.dialog);
        if (e.dialog && e.dialog->state != store::SubState::terminated) {
            store::DialogRecord& d = *e.dialog;
            // The remote target is a bare URI (the Request-URI of our NOTIFYs).
            if (d.remote_target.find('<') != std::string::npos)
                if (auto na = parse_name_addr(d.remote_target)) d.remote_target = na->uri;
            attach_live(e);
            if (d.expires_at <= sh.unix_now()) {
                // Expired while we were down: the final NOTIFY is the only SIP traffic.
                terminate(e, "timeout", std::nullopt, true, true);
                return persist(key);
            }
            arm_expiry(e);
            if (e.approval == store::Approval::approved && d.state == store::SubState::active)
                queue_probe(e.live);
        } else if (e.dialog) {
            e.dialog.reset();
            persist(key);
        }
    }

    void stop() {
        stopped = true;
        expiry_q.clear();
        pace_q.clear();
        for (auto& w : waiting)
            if (auto c = w.lock()) c->queued = false;
        waiting.clear();
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
