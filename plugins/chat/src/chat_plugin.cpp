// SPDX-License-Identifier: Apache-2.0
#include "chat_plugin.hpp"

#include <algorithm>
#include <random>
#include <utility>

#include <stox/msrp/ids.hpp>
#include <stox/msrp/uri.hpp>

#include "content.hpp"
#include "stox/sdk/unstable/asio.hpp"

namespace stox::plugins::chat {

namespace {

using sdk::ErrorCode;
using sdk::SipRequest;
using sdk::SipResponse;
using sdk::SipServerTransaction;
using sdk::Stanza;
using sdk::Status;
using sdk::XmppError;

constexpr std::size_t kMaxIssued = 256; // XMPP ids remembered per session for <received/>
constexpr std::size_t kMaxUsedCallIds = 10000;
constexpr std::chrono::seconds kPeerComposingDefault{120}; // RFC 3994 §3.3 without <refresh>

std::string bare_jid(const std::string& jid) {
    return jid.substr(0, jid.find('/'));
}

/// Index keys. XML 1.0 §2.2 allows no NUL in a JID or a <thread/>, so it separates the parts.
std::string pair_key(const std::string& local_bare, const std::string& peer_bare) {
    std::string k;
    k.reserve(local_bare.size() + peer_bare.size() + 1);
    k.append(local_bare).push_back('\0');
    k.append(peer_bare);
    return k;
}

std::string thread_key(const std::string& local_bare, const std::string& peer_bare,
                       const std::string& thread) {
    std::string k = pair_key(local_bare, peer_bare);
    k.push_back('\0');
    k.append(thread);
    return k;
}

bool has_resource(const std::string& jid) {
    return jid.find('/') != std::string::npos;
}

/// Child of a stanza in the stanza's own namespace (body, thread, subject).
const sdk::XmlElement* content_child(const Stanza& s, std::string_view name) {
    for (const auto& c : s.children())
        if (!c.is_text() && c.name() == name && is_stanza_content_ns(c.ns())) return &c;
    return nullptr;
}

/// The XEP-0085 chat state of a message, "" when none.
std::string chat_state_of(const Stanza& s) {
    for (const auto& c : s.children())
        if (!c.is_text() && c.ns() == kChatStatesNs) return c.name();
    return {};
}

/// "sip:alice@xmpp.example" -> "alice" (still escaped, for contact_uri()).
std::string user_part(std::string_view uri) {
    auto colon = uri.find(':');
    auto at = uri.find('@');
    if (colon == std::string_view::npos || at == std::string_view::npos || at < colon) return {};
    return std::string(uri.substr(colon + 1, at - colon - 1));
}

SipResponse response(int status, std::string reason) {
    SipResponse r;
    r.status = status;
    r.reason = std::move(reason);
    return r;
}

/// MSRP code -> XMPP error (spec §5.4; the codes share SIP's meaning, RFC 7247 Table 3).
XmppError msrp_error(const sdk::ErrorMapper& errors, const msrp::SendResult& r) {
    if (r.code != 0) return errors.sip_to_xmpp(r.code, r.reason);
    XmppError e;
    e.condition = "recipient-unavailable"; // the session went away before the message did
    e.type = "wait";
    e.text = r.reason;
    return e;
}

} // namespace

ChatPlugin::ChatPlugin(std::string version, TransportFactory factory)
    : version_(std::move(version)), factory_(std::move(factory)) {}

ChatPlugin::~ChatPlugin() = default;

std::function<bool()> ChatPlugin::alive_check() const {
    return [weak = std::weak_ptr<bool>(alive_)] { return !weak.expired(); };
}

Status ChatPlugin::start(sdk::PluginContext& ctx) noexcept {
    try {
        auto cfg = load_config(ctx.config());
        if (!cfg) return cfg.status();
        cfg_ = *cfg;
        ctx_ = &ctx;
        if (sdk::sip_dialog_support(ctx) == nullptr)
            return Status(ErrorCode::Declined,
                          "the gateway offers no SIP dialog support (ABI 1.1)");
        if (factory_) {
            auto t = factory_(ctx, cfg_);
            if (!t) return t.status();
            transport_ = std::move(t).value();
        } else {
            auto* asio = sdk::unstable::native_asio(ctx);
            if (asio == nullptr)
                return Status(ErrorCode::Declined, "the gateway offers no Asio access for MSRP");
            msrp::EndpointOptions eo;
            eo.listen_address = cfg_.msrp_listen_address;
            eo.listen_port = cfg_.msrp_listen_port;
            eo.advertised_host = cfg_.msrp_advertised_host;
            eo.log = [&ctx](sdk::LogLevel level, const std::string& text) {
                ctx.log().write(level, text);
            };
            transport_ = make_msrp_transport(asio->strand(), std::move(eo));
        }
        if (auto st = transport_->start(); !st)
            return Status(st.code(), "MSRP listener: " + st.message());
        alive_ = std::make_shared<bool>(true);
        auto alive = alive_check();
        if (auto st = ctx.on_sip_request([this, alive](std::shared_ptr<SipServerTransaction> tx) {
                if (alive()) on_sip_request(tx);
            });
            !st)
            return st;
        if (auto st = ctx.on_stanza([this, alive](const Stanza& s) {
                if (alive()) on_stanza(s);
            });
            !st)
            return st;
        STOX_LOG_INFO(ctx.log(), "chat plugin {} started: MSRP on {}:{}, max {} sessions", version_,
                      transport_->host(), transport_->port(), cfg_.max_sessions);
        return {};
    } catch (const std::exception& e) {
        return Status(ErrorCode::Internal, std::string("chat plugin start failed: ") + e.what());
    } catch (...) {
        return Status(ErrorCode::Internal, "chat plugin start failed");
    }
}

void ChatPlugin::stop() noexcept {
    try {
        // Established dialogs are ended politely (best effort: the core may drop the BYEs).
        std::vector<std::uint64_t> ids;
        for (const auto& [id, c] : convs_) ids.push_back(id);
        XmppError e;
        e.condition = "recipient-unavailable";
        e.type = "wait";
        e.text = "gateway shutting down";
        for (auto id : ids)
            if (auto* c = get(id)) end_conversation(*c, c->state != State::Inviting, false, e);
        alive_.reset();
        if (transport_) transport_->shutdown();
    } catch (...) {
    }
}

// ============================================================================================
// Helpers
// ============================================================================================

ChatPlugin::Conversation* ChatPlugin::get(std::uint64_t id) {
    auto it = convs_.find(id);
    return it == convs_.end() ? nullptr : it->second.get();
}

std::string ChatPlugin::new_stanza_id() {
    return "chat-" + random_token(16);
}

std::string ChatPlugin::new_call_id(const std::string& thread) {
    // AMB-5: the thread is the Call-ID when it is a valid callid never used before; otherwise a
    // fresh one (TV-25), also when a thread outlives its dialog (TV-20).
    std::string id;
    if (is_valid_call_id(thread) && used_call_ids_.count(thread) == 0 &&
        by_call_id_.count(thread) == 0)
        id = thread;
    else
        id = "x2s-" + random_token(20) + "@" + ctx_->xmpp().component_domain();
    used_call_ids_.insert(id);
    used_order_.push_back(id);
    while (used_order_.size() > kMaxUsedCallIds) {
        used_call_ids_.erase(used_order_.front());
        used_order_.pop_front();
    }
    return id;
}

std::string ChatPlugin::xmpp_target(const Conversation& c) const {
    return c.local_full.empty() ? c.local_bare : c.local_full; // AMB-2
}

void ChatPlugin::touch(Conversation& c) {
    // Called for every message: only the time is stamped; the timer checks it when it fires.
    c.last_activity = ctx_->executor().now();
    if (!c.idle_timer.armed()) arm_idle_timer(c, cfg_.idle_timeout);
}

void ChatPlugin::arm_idle_timer(Conversation& c, std::chrono::steady_clock::duration delay) {
    auto alive = alive_check();
    const auto id = c.id;
    c.idle_timer = ctx_->executor().after(std::chrono::ceil<std::chrono::milliseconds>(delay),
                                          [this, alive, id] {
                                              if (alive()) on_idle_timer(id);
                                          });
}

void ChatPlugin::on_idle_timer(std::uint64_t id) {
    auto* conv = get(id);
    if (conv == nullptr || conv->state == State::Ended) return;
    const auto deadline = conv->last_activity + cfg_.idle_timeout;
    const auto now = ctx_->executor().now();
    if (now < deadline) { // activity since the timer was set: wait for the rest
        arm_idle_timer(*conv, deadline - now);
        return;
    }
    STOX_LOG_INFO(ctx_->log(), "chat session {} idle: BYE (RFC 7573 section 6.1)",
                  conv->dialog.call_id);
    XmppError e;
    e.condition = "recipient-unavailable";
    e.type = "wait";
    end_conversation(*conv, conv->state != State::Inviting, false, e);
}

void ChatPlugin::index_conversation(const Conversation& c) {
    by_pair_[pair_key(c.local_bare, c.peer_bare)].insert(c.id);
    by_thread_[thread_key(c.local_bare, c.peer_bare, c.thread)].insert(c.id);
}

void ChatPlugin::unindex_conversation(const Conversation& c) {
    const auto drop = [id = c.id](auto& index, const std::string& key) {
        auto it = index.find(key);
        if (it == index.end()) return;
        it->second.erase(id);
        if (it->second.empty()) index.erase(it);
    };
    drop(by_pair_, pair_key(c.local_bare, c.peer_bare));
    drop(by_thread_, thread_key(c.local_bare, c.peer_bare, c.thread));
}

void ChatPlugin::refuse(const Stanza& origin, const XmppError& error) {
    if (origin.attr("type") == "error") return; // never answer an error with an error
    ctx_->xmpp().send(make_error_reply(origin, error), {});
}

void ChatPlugin::refuse(const Stanza& origin, std::string condition, std::string type,
                        std::string text) {
    XmppError e;
    e.condition = std::move(condition);
    e.type = std::move(type);
    e.text = std::move(text);
    refuse(origin, e);
}

std::optional<ChatPlugin::SessionView>
ChatPlugin::session_by_call_id(const std::string& call_id) const {
    for (const auto& v : sessions())
        if (v.call_id == call_id) return v;
    return std::nullopt;
}

std::vector<ChatPlugin::SessionView> ChatPlugin::sessions() const {
    std::vector<SessionView> out;
    for (const auto& [id, c] : convs_) {
        SessionView v;
        v.state = c->state;
        v.offerer = c->offerer;
        v.call_id = c->dialog.call_id;
        v.thread = c->thread;
        v.local_jid = xmpp_target(*c);
        v.peer_jid = c->peer_full;
        v.queued = c->queue.size();
        v.iscomposing_allowed =
            accepts(c->peer_types, kIsComposingType) || accepts(c->peer_wrapped, kIsComposingType);
        v.local_uri = c->local_uri;
        out.push_back(std::move(v));
    }
    return out;
}

// ============================================================================================
// XMPP -> SIP
// ============================================================================================

ChatPlugin::Conversation* ChatPlugin::find_conversation(const std::string& local_bare,
                                                        const std::string& peer_bare,
                                                        const std::string& thread) {
    if (thread.empty()) {
        // AMB-5: no thread joins the newest session of the pair.
        auto it = by_pair_.find(pair_key(local_bare, peer_bare));
        if (it == by_pair_.end()) return nullptr;
        for (auto id = it->second.rbegin(); id != it->second.rend(); ++id)
            if (auto* c = get(*id); c != nullptr && c->state != State::Ended) return c;
        return nullptr;
    }
    auto it = by_thread_.find(thread_key(local_bare, peer_bare, thread));
    if (it == by_thread_.end()) return nullptr;
    for (auto id : it->second) // the oldest session with that thread, as before
        if (auto* c = get(id); c != nullptr && c->state != State::Ended) return c;
    return nullptr;
}

void ChatPlugin::on_stanza(const Stanza& stanza) {
    if (stanza.name() != "message") return;
    const std::string type = stanza.attr("type");
    if (type == "error") return; // replies never reach claims (CORE-ERR-14)
    const std::string from = stanza.attr("from");
    const std::string to = stanza.attr("to");
    if (from.empty() || to.empty() || bare_jid(to).find('@') == std::string::npos) {
        refuse(stanza, "jid-malformed", "modify", "a chat message needs from and a user to");
        return;
    }
    const std::string local_bare = bare_jid(from);
    const std::string peer_bare = bare_jid(to);
    const auto* thread_el = content_child(stanza, "thread");
    const std::string thread = thread_el ? thread_el->text() : std::string();
    const std::string state = chat_state_of(stanza);
    const auto* body = content_child(stanza, "body");

    // XEP-0184 <received/> (CHAT-15): a receipt for a message that came from MSRP. Receipts
    // also come typeless (XEP-0184 §5 examples, TV-22): the manifest claims normal messages whose
    // first element is in the receipts namespace.
    if (const auto* rec = stanza.child("received", kReceiptsNs);
        rec != nullptr && body == nullptr) {
        handle_receipt(stanza, local_bare, peer_bare, rec->attr("id"));
        return;
    }
    if (type != "chat") {
        // A normal message that starts with a receipt element but is not a receipt (say a
        // <request/> before the <body/>): pager-mode traffic this plugin cannot carry.
        refuse(stanza, "feature-not-implemented", "cancel",
               "only receipts are handled here; send chat messages with type='chat'");
        return;
    }

    Conversation* c = find_conversation(local_bare, peer_bare, thread);
    if (body == nullptr) {
        // A chat state alone never opens a session (AMB-7); <gone/> ends one (CHAT-10/13).
        if (c == nullptr) {
            STOX_LOG_DEBUG(ctx_->log(), "chat state '{}' from {} without a session: nothing to do",
                           state, from);
            return;
        }
        if (has_resource(from)) c->local_full = from; // AMB-2: lock the resource
        if (state == "gone") {
            XmppError e;
            e.condition = "recipient-unavailable";
            e.type = "wait";
            e.text = "the chat session was ended";
            end_conversation(*c, c->state != State::Inviting, false, e);
            return;
        }
        touch(*c);
        if (c->state == State::Active && !state.empty()) send_chat_state(*c, state == "composing");
        return;
    }

    if (body->text().size() > cfg_.max_message_bytes) {
        // CHAT-18 / AMB-33: larger than we accept (or advertise) in either direction.
        refuse(stanza, "policy-violation", "modify",
               "message larger than " + std::to_string(cfg_.max_message_bytes) + " bytes");
        return;
    }
    if (c == nullptr) {
        c = open_conversation(stanza, local_bare, peer_bare, thread);
        if (c == nullptr) return;
    }
    if (has_resource(from)) c->local_full = from;
    handle_body(*c, stanza);
    if (state == "gone" && get(c->id) != nullptr && c->state == State::Active) {
        XmppError e;
        e.condition = "recipient-unavailable";
        e.type = "wait";
        end_conversation(*c, true, false, e);
    }
}

ChatPlugin::Conversation* ChatPlugin::open_conversation(const Stanza& stanza,
                                                        const std::string& local_bare,
                                                        const std::string& peer_bare,
                                                        const std::string& thread) {
    if (convs_.size() >= cfg_.max_sessions) {
        refuse(stanza, "resource-constraint", "wait", "too many chat sessions");
        return nullptr;
    }
    const std::string from = stanza.attr("from");
    auto local_uri = ctx_->addresses().to_uri(local_bare);
    auto full_uri = ctx_->addresses().to_uri(from);
    auto peer_uri = ctx_->addresses().to_uri(stanza.attr("to"));
    auto peer_aor = ctx_->addresses().to_uri(peer_bare);
    if (!local_uri || !full_uri || !peer_uri || !peer_aor) {
        const Status bad = !local_uri  ? local_uri.status()
                           : !full_uri ? full_uri.status()
                           : !peer_uri ? peer_uri.status()
                                       : peer_aor.status();
        refuse(stanza, ctx_->errors().xmpp_for(bad));
        return nullptr;
    }
    auto conv = std::make_unique<Conversation>();
    Conversation& c = *conv;
    c.id = next_id_++;
    c.offerer = true;
    c.local_bare = local_bare;
    if (has_resource(from)) c.local_full = from; // AMB-2: locked from the first message
    c.peer_bare = peer_bare;
    c.peer_full = peer_bare;
    c.peer_uri = *peer_uri;
    c.thread = thread.empty() ? "thr-" + random_token(16) : thread; // AMB-5: mint a thread
    c.dialog.call_id = new_call_id(c.thread);
    c.dialog.local_uri = *local_uri;
    c.dialog.local_tag = random_token(12);
    c.dialog.remote_uri = *peer_aor;
    c.dialog.remote_target = *peer_uri;
    c.dialog.local_cseq = 0;
    c.sdp_session = static_cast<std::uint64_t>(std::random_device{}()) + 1;
    convs_.emplace(c.id, std::move(conv));
    by_call_id_[c.dialog.call_id] = c.id;
    index_conversation(c);
    send_invite(c, false);
    touch(c);
    return &c;
}

void ChatPlugin::handle_body(Conversation& c, const Stanza& stanza) {
    touch(c);
    Queued q{stanza, {}, next_seq_++};
    if (c.state == State::Active && c.msrp != nullptr) {
        send_body(c, std::move(q));
        return;
    }
    if (c.queue.size() >= cfg_.max_queued_messages) {
        refuse(stanza, "resource-constraint", "wait",
               "too many messages waiting for the chat session to be set up");
        return;
    }
    c.queue.push_back(std::move(q)); // CHAT-6: sent once the MSRP session is up
}

void ChatPlugin::send_body(Conversation& c, Queued item) {
    const Stanza& s = item.origin;
    const auto* body = content_child(s, "body");
    std::string text = body ? body->text() : std::string();
    if (c.peer_max_size && text.size() > *c.peer_max_size) {
        refuse(s, "policy-violation", "modify", "larger than the peer's a=max-size"); // AMB-33
        return;
    }
    std::string type = "text/plain";
    // MSRP-27: never send a type the peer did not accept; wrap in CPIM when only that works.
    if (!accepts(c.peer_types, "text/plain")) {
        if (accepts(c.peer_types, "message/cpim") && accepts(c.peer_wrapped, "text/plain")) {
            text = make_cpim(c.dialog.local_uri, c.dialog.remote_uri, "text/plain", text);
            type = "message/cpim";
        } else {
            refuse(s, "not-acceptable", "cancel", "the SIP peer accepts no text/plain");
            return;
        }
    }
    msrp::SendOptions o;
    o.failure_report = cfg_.failure_report_partial ? msrp::FailureReport::Partial
                                                   : msrp::FailureReport::No; // CHAT-16, AMB-3
    const bool receipt = s.child("request", kReceiptsNs) != nullptr;
    o.success_report = receipt; // CHAT-15
    const std::string lang = s.attr("xml:lang");
    if (!lang.empty()) o.mime_headers.push_back({"Content-Language", lang}); // TV-26
    o.message_id = item.message_id;
    auto mid = c.msrp->send_message(std::move(text), type, std::move(o));
    if (!mid) {
        refuse(s, ctx_->errors().xmpp_for(mid.status()));
        return;
    }
    c.sent[*mid] = Outstanding{s, receipt, item.seq, false};
}

void ChatPlugin::send_chat_state(Conversation& c, bool composing) {
    // CHAT-11, RFC 7573 Table 4; only to peers that accept isComposing (MSRP-27, TV-16).
    if (!cfg_.chat_states || !c.msrp) return;
    const bool direct = accepts(c.peer_types, kIsComposingType);
    const bool wrapped = !direct && accepts(c.peer_types, "message/cpim") &&
                         accepts(c.peer_wrapped, kIsComposingType);
    if (!direct && !wrapped) return;
    if (composing == c.composing_sent) return; // TV-18: de-duplicated
    c.composing_sent = composing;
    std::string doc = make_iscomposing(composing);
    std::string type(kIsComposingType);
    if (wrapped) {
        doc = make_cpim(c.dialog.local_uri, c.dialog.remote_uri, type, doc);
        type = "message/cpim";
    }
    msrp::SendOptions o;
    o.failure_report = msrp::FailureReport::No;
    auto mid = c.msrp->send_message(std::move(doc), type, std::move(o));
    if (mid) c.sent[*mid] = Outstanding{Stanza(), false, next_seq_++, true};
}

void ChatPlugin::handle_receipt(const Stanza& stanza, const std::string& local_bare,
                                const std::string& peer_bare, const std::string& id) {
    // Only the sessions of this pair can have issued `id` (usually one).
    const auto pair = by_pair_.find(pair_key(local_bare, peer_bare));
    const std::set<std::uint64_t> none;
    for (auto cid : pair == by_pair_.end() ? none : pair->second) {
        auto* c = get(cid);
        if (c == nullptr) continue;
        auto it = c->issued.find(id);
        if (it == c->issued.end()) continue;
        if (c->msrp && !cfg_.success_report_on_accept) {
            // CHAT-15 / TV-22: <received/> -> success REPORT for the SEND that produced `id`.
            auto st = c->msrp->report(it->second, 200);
            if (!st) STOX_LOG_DEBUG(ctx_->log(), "no REPORT for receipt {}: {}", id, st.message());
        }
        c->issued.erase(it);
        return;
    }
    STOX_LOG_DEBUG(ctx_->log(), "receipt {} from {} matches no chat session", id,
                   stanza.attr("from"));
}

// ============================================================================================
// SIP
// ============================================================================================

std::string ChatPlugin::local_sdp(Conversation& c, Setup setup) {
    SdpOffer o;
    o.host = transport_->host();
    o.port = transport_->port();
    o.path = msrp::to_string(c.local_uri);
    o.accept_types = {"text/plain", "message/cpim", std::string(kIsComposingType)};
    o.accept_wrapped_types = {"text/plain", std::string(kIsComposingType)};
    o.max_size = cfg_.max_message_bytes; // CHAT-18
    o.setup = setup;
    o.session_id = c.sdp_session;
    o.version = ++c.sdp_version;
    return build_sdp(o);
}

void ChatPlugin::send_invite(Conversation& c, bool reinvite) {
    c.local_uri = transport_->make_local_uri();
    SipRequest r;
    if (reinvite) {
        r = in_dialog_request(c.dialog, "INVITE");
    } else {
        r.method = "INVITE";
        r.request_uri = c.peer_uri;
        r.set_header("From", format_name_addr(c.dialog.local_uri, c.dialog.local_tag));
        r.set_header("To", format_name_addr(c.dialog.remote_uri));
        r.set_header("Call-ID", c.dialog.call_id);
        r.set_header("CSeq", std::to_string(++c.dialog.local_cseq) + " INVITE");
        r.set_header("Max-Forwards", "70");
    }
    c.invite_cseq = c.dialog.local_cseq;
    // COMMON-1: the resource goes into the Contact's gr parameter (inside the URI, §2.7 item 4).
    std::string contact =
        sdk::sip_dialog_support(*ctx_)->contact_uri(user_part(c.dialog.local_uri));
    if (!c.local_full.empty())
        if (auto full = ctx_->addresses().to_uri(c.local_full)) {
            const std::string gr = uri_param(*full, "gr");
            if (!gr.empty()) contact += ";gr=" + gr;
        }
    r.set_header("Contact", "<" + contact + ">");
    if (!reinvite && !c.queue.empty())
        if (const auto* subj = content_child(c.queue.front().origin, "subject"))
            r.set_header("Subject", subj->text()); // COMMON-5
    r.set_header("Content-Type", "application/sdp");
    r.body = local_sdp(c, Setup::ActPass); // MSRP-31/32: offer actpass
    auto alive = alive_check();
    const auto id = c.id;
    c.invite_timer = ctx_->executor().after(
        std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.invite_timeout),
        [this, alive, id] {
            if (alive()) on_invite_timeout(id);
        });
    ctx_->sip().send_request(r, [this, alive, id, reinvite, r](const SipResponse& resp) {
        if (alive()) on_invite_final(id, reinvite, r, resp);
    });
}

void ChatPlugin::send_ack(Dialog& d, std::uint32_t cseq) {
    // RFC 3261 §13.2.2.4: the ACK of a 2xx carries the INVITE's CSeq number (§2.7 item 2).
    SipRequest ack = in_dialog_request(d, "ACK", cseq);
    ctx_->sip().send_request(std::move(ack), {});
}

void ChatPlugin::ack_and_bye(const SipRequest& invite, const SipResponse& resp) {
    Dialog d;
    d.call_id = invite.header("Call-ID");
    if (auto f = parse_name_addr(invite.header("From"))) {
        d.local_uri = f->uri;
        d.local_tag = f->tag;
    }
    if (auto t = parse_name_addr(resp.header("To"))) {
        d.remote_uri = t->uri;
        d.remote_tag = t->tag;
    }
    if (auto ct = parse_name_addr(resp.header("Contact"))) d.remote_target = ct->uri;
    d.route_set = route_set_of(resp, true);
    d.local_cseq = cseq_number(invite.header("CSeq")).value_or(1);
    send_ack(d, d.local_cseq);
    ctx_->sip().send_request(in_dialog_request(d, "BYE"), {});
}

void ChatPlugin::send_bye(Conversation& c) {
    auto bye = in_dialog_request(c.dialog, "BYE"); // TV-19: CSeq n+1, both tags
    const std::string call_id = c.dialog.call_id;
    auto alive = alive_check();
    ctx_->sip().send_request(std::move(bye), [this, alive, call_id](const SipResponse& r) {
        if (alive() && r.status >= 300)
            STOX_LOG_DEBUG(ctx_->log(), "BYE of chat session {} answered {}", call_id, r.status);
    });
}

Status ChatPlugin::bind_msrp(Conversation& c, const MsrpMedia& media, msrp::SetupRole role) {
    if (sdk::ascii_iequals(media.protocol, "TCP/TLS/MSRP"))
        return Status(ErrorCode::Unsupported, "msrps (TLS) is not supported");
    auto path = msrp::parse_path(media.path);
    if (!path) return Status(ErrorCode::BadRequest, "bad a=path: " + path.status().message());
    if (!accepts(media.accept_types, "text/plain") && !accepts(media.accept_types, "message/cpim"))
        return Status(ErrorCode::Unsupported, "no common MSRP type"); // TV-14
    msrp::SessionOptions so;
    so.local_uri = c.local_uri;
    so.peer_path = *path;
    so.role = role;
    so.max_message_bytes = cfg_.max_message_bytes; // CHAT-19: 413 above it
    so.accept_types = {"text/plain", "message/cpim", std::string(kIsComposingType)};
    so.receive_allowed = media.direction != "sendonly" && media.direction != "inactive";
    so.auto_success_report = false; // REPORTs follow XMPP (CHAT-15, AMB-8)
    msrp::SessionHandlers h;
    auto alive = alive_check();
    const auto id = c.id;
    h.on_message = [this, alive, id](msrp::IncomingMessage&& m) {
        if (alive()) on_msrp_message(id, std::move(m));
    };
    h.on_send_result = [this, alive, id](const msrp::SendResult& r) {
        if (alive()) on_send_result(id, r);
    };
    h.on_closed = [this, alive, id](const Status& why) {
        if (alive()) on_msrp_closed(id, why);
    };
    h.on_report = [](const msrp::ReportEvent&) {}; // outcomes arrive through on_send_result
    if (c.msrp) {
        auto old = std::move(c.msrp);
        old->close();
    }
    auto s = transport_->create_session(std::move(so), std::move(h));
    if (!s) return s.status();
    c.msrp = *s;
    c.role = role;
    c.peer_path = media.path;
    c.peer_types = media.accept_types;
    c.peer_wrapped = media.accept_wrapped_types;
    c.peer_max_size = media.max_size;
    c.composing_sent = false;
    return {};
}

void ChatPlugin::on_invite_timeout(std::uint64_t id) {
    auto* c = get(id);
    if (c == nullptr || (c->state != State::Inviting && c->state != State::Recovering)) return;
    STOX_LOG_INFO(ctx_->log(), "INVITE for chat session {} unanswered after {} s",
                  c->dialog.call_id, cfg_.invite_timeout.count());
    XmppError e;
    e.condition = "remote-server-timeout";
    e.type = "wait";
    end_conversation(*c, c->state == State::Recovering, c->state == State::Recovering, e);
}

void ChatPlugin::on_invite_final(std::uint64_t id, bool reinvite, const SipRequest& invite,
                                 const SipResponse& resp) {
    auto* c = get(id);
    const bool expected = c != nullptr && c->state != State::Ended &&
                          (reinvite ? c->state == State::Recovering : c->state == State::Inviting);
    if (!expected) {
        if (resp.status >= 200 && resp.status < 300) ack_and_bye(invite, resp); // too late
        return;
    }
    c->invite_timer.cancel();
    if (resp.status >= 300 || resp.status < 200) {
        // §2.3.5: every queued message bounces with the mapped error (TV-28).
        XmppError e = ctx_->errors().sip_to_xmpp(resp.status, resp.reason, resp.header("Contact"));
        STOX_LOG_INFO(ctx_->log(), "INVITE for chat session {} refused: {} {}", c->dialog.call_id,
                      resp.status, resp.reason);
        end_conversation(*c, reinvite, reinvite && cfg_.chat_states, e);
        return;
    }
    // 2xx: complete the dialog (RFC 3261 §12.1.2), ACK (CHAT-6), bind MSRP.
    if (auto t = parse_name_addr(resp.header("To"))) c->dialog.remote_tag = t->tag;
    if (auto ct = parse_name_addr(resp.header("Contact"))) c->dialog.remote_target = ct->uri;
    if (!reinvite) c->dialog.route_set = route_set_of(resp, true);
    send_ack(c->dialog, c->invite_cseq);
    c->state = State::Active; // the dialog is confirmed: from here on it ends with BYE
    auto media = parse_msrp_sdp(resp.body);
    Status bound;
    if (!media) {
        bound = media.status();
    } else {
        // RFC 6135: answer active -> the peer connects, we wait; passive (or none) -> we connect.
        const auto role =
            media->setup == Setup::Active ? msrp::SetupRole::Passive : msrp::SetupRole::Active;
        bound = bind_msrp(*c, *media, role);
    }
    if (!bound) {
        STOX_LOG_INFO(ctx_->log(), "chat session {}: unusable SDP answer: {}", c->dialog.call_id,
                      bound.message());
        XmppError e;
        e.condition = "not-acceptable";
        e.type = "cancel";
        e.text = bound.message();
        end_conversation(*c, true, reinvite && cfg_.chat_states, e);
        return;
    }
    flush(*c);
}

void ChatPlugin::flush(Conversation& c) {
    // Messages failed by a lost connection go first, in their original order (MSRP-22).
    std::sort(c.resend.begin(), c.resend.end(),
              [](const Queued& a, const Queued& b) { return a.seq < b.seq; });
    std::deque<Queued> items(c.resend.begin(), c.resend.end());
    c.resend.clear();
    for (auto& q : c.queue) items.push_back(std::move(q));
    c.queue.clear();
    const auto id = c.id;
    for (auto& q : items) {
        if (get(id) == nullptr || c.state != State::Active || c.msrp == nullptr) {
            c.queue.push_back(std::move(q));
            continue;
        }
        send_body(c, std::move(q));
    }
}

void ChatPlugin::on_sip_request(const std::shared_ptr<SipServerTransaction>& tx) {
    const auto& req = tx->request();
    if (req.method == "INVITE") {
        handle_invite(tx);
    } else if (req.method == "BYE") {
        handle_bye(tx);
    } else {
        tx->respond(response(405, "Method Not Allowed"));
    }
}

void ChatPlugin::handle_bye(const std::shared_ptr<SipServerTransaction>& tx) {
    const auto& req = tx->request();
    auto it = by_call_id_.find(req.header("Call-ID"));
    Conversation* c = it == by_call_id_.end() ? nullptr : get(it->second);
    auto from = parse_name_addr(req.header("From"));
    auto to = parse_name_addr(req.header("To"));
    if (c == nullptr || c->state == State::Ended || !from || !to ||
        from->tag != c->dialog.remote_tag || to->tag != c->dialog.local_tag) {
        tx->respond(response(481, "Call/Transaction Does Not Exist"));
        return;
    }
    tx->respond(response(200, "OK"));
    // CHAT-9/13, TV-20: 200, close MSRP, <gone/> to XMPP.
    XmppError e;
    e.condition = "recipient-unavailable";
    e.type = "wait";
    e.text = "the SIP user ended the chat session";
    end_conversation(*c, false, cfg_.chat_states, e);
}

void ChatPlugin::handle_invite(const std::shared_ptr<SipServerTransaction>& tx) {
    const auto& req = tx->request();
    auto to = parse_name_addr(req.header("To"));
    auto from = parse_name_addr(req.header("From"));
    const std::string call_id = req.header("Call-ID");
    if (!to || !from || call_id.empty() || from->tag.empty()) {
        tx->respond(response(400, "Bad Request"));
        return;
    }
    if (!to->tag.empty()) { // re-INVITE (RFC 3261 §14.2)
        auto it = by_call_id_.find(call_id);
        Conversation* c = it == by_call_id_.end() ? nullptr : get(it->second);
        if (c == nullptr || c->state == State::Ended || to->tag != c->dialog.local_tag ||
            from->tag != c->dialog.remote_tag) {
            tx->respond(response(481, "Call/Transaction Does Not Exist"));
            return;
        }
        handle_reinvite(*c, tx);
        return;
    }
    if (by_call_id_.count(call_id) != 0) {
        tx->respond(response(482, "Loop Detected")); // a second INVITE with a live Call-ID
        return;
    }
    if (convs_.size() >= cfg_.max_sessions) {
        auto r = response(503, "Service Unavailable");
        r.set_header("Retry-After", "30");
        tx->respond(std::move(r));
        return;
    }
    auto media = parse_msrp_sdp(req.body);
    auto refuse488 = [&](const std::string& why) {
        auto r = response(488, "Not Acceptable Here");
        r.set_header("Warning", "304 " + transport_->host() + " \"" + why + "\"");
        tx->respond(std::move(r));
    };
    if (!media) {
        refuse488(media.status().message());
        return;
    }
    if (!accepts(media->accept_types, "text/plain") &&
        !accepts(media->accept_types, "message/cpim")) {
        refuse488("no common MSRP type"); // TV-14
        return;
    }
    // Addresses (CHAT-1, COMMON-2/6): the XMPP user from the Request-URI, the SIP user from
    // From, its resource from the GRUU of the Contact when there is one.
    auto local = ctx_->addresses().to_jid(req.request_uri, sdk::UriRole::RequestUri);
    auto peer = ctx_->addresses().to_jid(from->uri, sdk::UriRole::From);
    if (!local || !peer) {
        const auto err = ctx_->errors().sip_for(!local ? local.status() : peer.status());
        tx->respond(response(err.status, err.reason));
        return;
    }
    auto conv = std::make_unique<Conversation>();
    Conversation& c = *conv;
    c.id = next_id_++;
    c.offerer = false;
    c.local_bare = bare_jid(*local);
    if (has_resource(*local)) c.local_full = *local;
    c.peer_bare = bare_jid(*peer);
    c.peer_full = c.peer_bare;
    auto contact = parse_name_addr(req.header("Contact"));
    if (contact) {
        const std::string gr = uri_param(contact->uri, "gr");
        const std::string aor = aor_of(from->uri);
        if (!gr.empty() && !aor.empty())
            if (auto full = ctx_->addresses().to_jid(aor + ";gr=" + gr, sdk::UriRole::From);
                full && has_resource(*full))
                c.peer_full = *full;
    }
    c.thread = call_id; // CHAT-7
    c.dialog.call_id = call_id;
    c.dialog.local_uri = to->uri;
    c.dialog.local_tag = random_token(12);
    c.dialog.remote_uri = from->uri;
    c.dialog.remote_tag = from->tag;
    c.dialog.remote_target = contact ? contact->uri : from->uri;
    c.dialog.route_set = route_set_of(req, false);
    c.dialog.remote_cseq = cseq_number(req.header("CSeq"));
    c.sdp_session = static_cast<std::uint64_t>(std::random_device{}()) + 1;
    c.local_uri = transport_->make_local_uri();
    // RFC 6135 §4.2.2 (MSRP-32): actpass -> configured role; active -> passive; passive ->
    // active; no a=setup -> the offerer is active (RFC 4975 §5.4).
    msrp::SetupRole role = msrp::SetupRole::Passive;
    if (media->setup == Setup::Passive || (media->setup == Setup::ActPass && !cfg_.answer_passive))
        role = msrp::SetupRole::Active;
    if (auto st = bind_msrp(c, *media, role); !st) {
        refuse488(st.message());
        return;
    }
    auto answer = response(200, "OK");
    answer.set_header("To", format_name_addr(to->uri, c.dialog.local_tag));
    answer.set_header("Contact",
                      "<" + sdk::sip_dialog_support(*ctx_)->contact_uri(user_part(to->uri)) + ">");
    answer.set_header("Content-Type", "application/sdp");
    answer.body = local_sdp(c, role == msrp::SetupRole::Passive ? Setup::Passive : Setup::Active);
    c.last_answer = answer.body;
    c.state = State::Active;
    convs_.emplace(c.id, std::move(conv));
    by_call_id_[call_id] = c.id;
    index_conversation(c);
    used_call_ids_.insert(call_id);
    used_order_.push_back(call_id);
    touch(c);
    STOX_LOG_INFO(ctx_->log(), "chat session {} accepted for {} ({} side of MSRP)", call_id,
                  c.local_bare, role == msrp::SetupRole::Passive ? "passive" : "active");
    tx->respond(std::move(answer)); // CHAT-8, MSRP-28: auto-answer
}

void ChatPlugin::handle_reinvite(Conversation& c, const std::shared_ptr<SipServerTransaction>& tx) {
    const auto& req = tx->request();
    if (c.state == State::Recovering || c.state == State::Inviting) {
        tx->respond(response(491, "Request Pending")); // RFC 3261 §14.2 glare
        return;
    }
    auto cseq = cseq_number(req.header("CSeq"));
    if (!cseq || (c.dialog.remote_cseq && *cseq <= *c.dialog.remote_cseq)) {
        tx->respond(response(500, "Server Internal Error")); // RFC 3261 §12.2.2 out of order
        return;
    }
    c.dialog.remote_cseq = cseq;
    if (auto ct = parse_name_addr(req.header("Contact"))) c.dialog.remote_target = ct->uri;
    auto media = parse_msrp_sdp(req.body);
    if (!media) {
        auto r = response(488, "Not Acceptable Here");
        tx->respond(std::move(r));
        return;
    }
    touch(c);
    auto answer = response(200, "OK");
    answer.set_header("To", format_name_addr(c.dialog.local_uri, c.dialog.local_tag));
    answer.set_header(
        "Contact",
        "<" + sdk::sip_dialog_support(*ctx_)->contact_uri(user_part(c.dialog.local_uri)) + ">");
    answer.set_header("Content-Type", "application/sdp");
    if (c.msrp && media->path == c.peer_path) {
        // Nothing changed (e.g. a session refresh): same SDP, same o= version (MSRP-26).
        answer.body = c.last_answer;
        tx->respond(std::move(answer));
        return;
    }
    // A new path: a new MSRP session (RFC 4975 §5.4 recovery driven by the peer).
    msrp::SetupRole role = msrp::SetupRole::Passive;
    if (media->setup == Setup::Passive || (media->setup == Setup::ActPass && !cfg_.answer_passive))
        role = msrp::SetupRole::Active;
    c.local_uri = transport_->make_local_uri();
    if (auto st = bind_msrp(c, *media, role); !st) {
        tx->respond(response(488, "Not Acceptable Here"));
        return;
    }
    answer.body = local_sdp(c, role == msrp::SetupRole::Passive ? Setup::Passive : Setup::Active);
    c.last_answer = answer.body;
    tx->respond(std::move(answer));
    flush(c);
}

// ============================================================================================
// MSRP -> XMPP
// ============================================================================================

void ChatPlugin::on_msrp_message(std::uint64_t id, msrp::IncomingMessage&& m) {
    auto* c = get(id);
    if (c == nullptr || c->state == State::Ended) return;
    touch(*c);
    std::string type = bare_type(m.content_type);
    std::string body = std::move(m.body);
    std::string lang;
    for (const auto& h : m.mime_headers)
        if (sdk::ascii_iequals(h.name, "Content-Language")) lang = h.value; // TV-26
    if (type == "message/cpim") { // TV-15: identity from the dialog, not from CPIM From
        auto cpim = parse_cpim(body);
        if (!cpim) {
            (void)c->msrp->report(m.message_id, 400);
            return;
        }
        type = cpim->content_type;
        body = std::move(cpim->body);
        if (!cpim->content_language.empty()) lang = cpim->content_language;
    }
    Stanza s = sdk::make_stanza("message");
    s.set_attr("type", "chat");
    s.set_attr("from", c->peer_full);
    s.set_attr("to", xmpp_target(*c));
    if (type == kIsComposingType) {
        // CHAT-11, RFC 7573 Table 3: active -> <composing/>, idle -> <active/>.
        if (m.success_report) (void)c->msrp->report(m.message_id, 200);
        auto ic = parse_iscomposing(body);
        if (!ic || !cfg_.chat_states) return;
        s.set_attr("id", new_stanza_id());
        s.add_child("thread", std::string(sdk::kComponentNs)).add_text(c->thread);
        s.add_child(ic->active ? "composing" : "active", std::string(kChatStatesNs));
        c->peer_composing_timer.cancel();
        if (ic->active) {
            // TV-17 timer case: no refresh within <refresh> (120 s without) -> <active/>.
            const auto wait =
                ic->refresh ? std::chrono::seconds(*ic->refresh) : kPeerComposingDefault;
            auto alive = alive_check();
            c->peer_composing_timer = ctx_->executor().after(
                std::chrono::duration_cast<std::chrono::milliseconds>(wait), [this, alive, id] {
                    if (!alive()) return;
                    auto* conv = get(id);
                    if (conv == nullptr || conv->state == State::Ended) return;
                    Stanza a = sdk::make_stanza("message");
                    a.set_attr("type", "chat");
                    a.set_attr("from", conv->peer_full);
                    a.set_attr("to", xmpp_target(*conv));
                    a.set_attr("id", new_stanza_id());
                    a.add_child("thread", std::string(sdk::kComponentNs)).add_text(conv->thread);
                    a.add_child("active", std::string(kChatStatesNs));
                    ctx_->xmpp().send(std::move(a), {});
                });
        }
        ctx_->xmpp().send(std::move(s), {});
        return;
    }
    if (type != "text/plain") {
        // MSRP-20: accepted on the wire (multipart) but nothing we can render: failure REPORT.
        STOX_LOG_INFO(ctx_->log(), "chat session {}: {} content not delivered to XMPP",
                      c->dialog.call_id, type);
        (void)c->msrp->report(m.message_id, 415);
        return;
    }
    if (body.empty()) return; // MSRP-21: nothing to show
    // CHAT-7 / TV-05: the stanza id is the MSRP transaction id (a fresh one if that id is
    // already in use in this session, so that receipts stay unambiguous).
    const std::string xid = m.transaction_id.empty() || c->issued.count(m.transaction_id) != 0
                                ? new_stanza_id()
                                : m.transaction_id;
    s.set_attr("id", xid);
    if (!lang.empty()) s.set_attr("xml:lang", lang);
    s.add_child("thread", std::string(sdk::kComponentNs)).add_text(c->thread);
    s.add_child("body", std::string(sdk::kComponentNs)).add_text(body);
    if (m.success_report) s.add_child("request", std::string(kReceiptsNs)); // CHAT-15
    c->issued[xid] = m.message_id;
    c->issued_order.push_back(xid);
    while (c->issued_order.size() > kMaxIssued) {
        c->issued.erase(c->issued_order.front());
        c->issued_order.pop_front();
    }
    auto alive = alive_check();
    const std::string mid = m.message_id;
    const bool wants_success = m.success_report;
    // Honest delivery: the XMPP side's refusal becomes a failure REPORT (RFC 4975 §7.1.4, §2.3.5).
    ctx_->xmpp().send_tracked(
        std::move(s),
        [this, alive, id, mid](const Status& st) {
            if (!alive() || st) return;
            if (auto* conv = get(id); conv && conv->msrp)
                (void)conv->msrp->report(
                    mid, static_cast<std::uint16_t>(ctx_->errors().sip_for(st).status));
        },
        cfg_.xmpp_reply_window,
        [this, alive, id, mid, wants_success, xid](const Stanza* reply) {
            if (!alive()) return;
            auto* conv = get(id);
            if (conv == nullptr || !conv->msrp) return;
            if (reply == nullptr) {
                if (wants_success && cfg_.success_report_on_accept)
                    (void)conv->msrp->report(mid, 200); // AMB-8 "delivered to domain"
                return;
            }
            const XmppError e = parse_stanza_error(*reply);
            sdk::XmppToSipContext xc;
            xc.target =
                has_resource(reply->attr("from")) ? sdk::TargetKind::Full : sdk::TargetKind::Bare;
            const auto sip = ctx_->errors().xmpp_to_sip(e, xc);
            auto st = conv->msrp->report(mid, static_cast<std::uint16_t>(sip.status));
            conv->issued.erase(xid);
            STOX_LOG_INFO(ctx_->log(), "chat session {}: XMPP refused a message ({}): REPORT {} {}",
                          conv->dialog.call_id, e.condition, sip.status,
                          st ? "sent" : st.message());
        });
}

void ChatPlugin::on_send_result(std::uint64_t id, const msrp::SendResult& r) {
    auto* c = get(id);
    if (c == nullptr) return;
    auto it = c->sent.find(r.message_id);
    if (it == c->sent.end()) return;
    Outstanding o = std::move(it->second);
    c->sent.erase(it);
    if (o.chat_state) return;
    if (r.outcome == msrp::SendOutcome::Delivered) {
        if (o.receipt) {
            // CHAT-15 / TV-21: success REPORTs covering the message -> <received/>.
            Stanza rec = sdk::make_stanza("message");
            rec.set_attr("from", c->peer_full);
            rec.set_attr("to", o.origin.attr("from"));
            rec.set_attr("id", new_stanza_id());
            rec.add_child("received", std::string(kReceiptsNs)).set_attr("id", o.origin.attr("id"));
            ctx_->xmpp().send(std::move(rec), {});
        }
        return;
    }
    if (r.outcome == msrp::SendOutcome::Sent) return;
    // Failed. A lost connection with recovery ahead: keep it for the new session (MSRP-22).
    if (r.code == 0 && c->state == State::Active && cfg_.reinvite_on_connection_loss &&
        !c->recovery_tried) {
        c->resend.push_back(Queued{std::move(o.origin), r.message_id, o.seq});
        return;
    }
    refuse(o.origin, msrp_error(ctx_->errors(), r)); // TV-27
    if (r.code == 481) { // §2.3.5: the peer lost the session: tear it down
        XmppError e;
        e.condition = "item-not-found";
        e.type = "cancel";
        end_conversation(*c, true, cfg_.chat_states, e);
    }
}

void ChatPlugin::on_msrp_closed(std::uint64_t id, const Status& why) {
    auto* c = get(id);
    if (c == nullptr || c->state == State::Ended) return;
    STOX_LOG_INFO(ctx_->log(), "chat session {}: MSRP session failed: {}", c->dialog.call_id,
                  why.message());
    c->msrp.reset();
    if (cfg_.reinvite_on_connection_loss && !c->recovery_tried && c->state == State::Active) {
        // §2.3.5 / MSRP-22: one re-INVITE with a new path; messages wait meanwhile.
        c->recovery_tried = true;
        c->state = State::Recovering;
        send_invite(*c, true);
        return;
    }
    XmppError e;
    e.condition = "recipient-unavailable";
    e.type = "wait";
    e.text = "the MSRP connection failed";
    end_conversation(*c, true, cfg_.chat_states, e);
}

// ============================================================================================
// Teardown
// ============================================================================================

void ChatPlugin::send_gone(Conversation& c) {
    Stanza g = sdk::make_stanza("message");
    g.set_attr("type", "chat");
    g.set_attr("from", c.peer_full);
    g.set_attr("to", xmpp_target(c));
    g.set_attr("id", new_stanza_id());
    g.add_child("thread", std::string(sdk::kComponentNs)).add_text(c.thread);
    g.add_child("gone", std::string(kChatStatesNs));
    ctx_->xmpp().send(std::move(g), {});
}

void ChatPlugin::end_conversation(Conversation& c, bool bye, bool gone,
                                  const XmppError& queued_error) {
    if (c.state == State::Ended) return;
    const bool established = c.state != State::Inviting;
    c.state = State::Ended;
    c.idle_timer.cancel();
    c.invite_timer.cancel();
    c.peer_composing_timer.cancel();
    if (c.msrp) {
        auto s = std::move(c.msrp);
        s->close(); // pending sends fail now, while the conversation still exists
    }
    // Nothing silent: every message still waiting gets the error.
    for (auto& q : c.resend) refuse(q.origin, queued_error);
    for (auto& q : c.queue) refuse(q.origin, queued_error);
    for (auto& [mid, o] : c.sent)
        if (!o.chat_state) refuse(o.origin, queued_error);
    c.resend.clear();
    c.queue.clear();
    c.sent.clear();
    if (bye && established) send_bye(c);
    if (gone) send_gone(c);
    const auto id = c.id;
    by_call_id_.erase(c.dialog.call_id);
    unindex_conversation(c);
    convs_.erase(id); // `c` is gone from here on
}

} // namespace stox::plugins::chat
