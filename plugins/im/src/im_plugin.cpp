// SPDX-License-Identifier: Apache-2.0
#include "im_plugin.hpp"

#include <algorithm>
#include <exception>
#include <utility>

#include "s2x.hpp"
#include "sip_syntax.hpp"
#include "stanza_errors.hpp"
#include "stox/sdk/format.hpp"
#include "stox/sdk/logger.hpp"
#include "text.hpp"
#include "x2s.hpp"

namespace stox::plugins::im {

using stox::sdk::ErrorCode;
using stox::sdk::SipResponse;
using stox::sdk::Stanza;
using stox::sdk::Status;

/// Every counter the plugin keeps (docs/delivery.md lists them).
struct ImPlugin::Counters {
    explicit Counters(stox::sdk::Metrics& m)
        : s2x_received(m.counter("im.s2x.received")), s2x_rejected(m.counter("im.s2x.rejected")),
          s2x_delivered(m.counter("im.s2x.delivered")), s2x_refused(m.counter("im.s2x.refused")),
          s2x_failed(m.counter("im.s2x.failed")),
          s2x_deadline(m.counter("im.s2x.deadline_expired")),
          s2x_overloaded(m.counter("im.s2x.overloaded")),
          s2x_late_refusal(m.counter("im.s2x.late_refusal")),
          s2x_chat_state(m.counter("im.s2x.chat_state")),
          s2x_stripped(m.counter("im.s2x.stripped_chars")),
          s2x_html_sanitized(m.counter("im.s2x.html_sanitized")),
          x2s_received(m.counter("im.x2s.received")), x2s_sent(m.counter("im.x2s.sent")),
          x2s_delivered(m.counter("im.x2s.delivered")), x2s_failed(m.counter("im.x2s.failed")),
          x2s_rejected(m.counter("im.x2s.rejected")), x2s_no_body(m.counter("im.x2s.no_body")),
          x2s_queued(m.counter("im.x2s.queued")), x2s_queue_full(m.counter("im.x2s.queue_full")),
          x2s_error_ignored(m.counter("im.x2s.error_ignored")),
          x2s_headline_dropped(m.counter("im.x2s.headline_error_dropped")),
          x2s_guard(m.counter("im.x2s.guard_expired")),
          x2s_late_response(m.counter("im.x2s.late_response")),
          x2s_invalid(m.counter("im.x2s.invalid")),
          x2s_error_send_failed(m.counter("im.x2s.error_send_failed")),
          internal_errors(m.counter("im.internal_errors")) {}

    stox::sdk::Counter& s2x_received;
    stox::sdk::Counter& s2x_rejected;  // answered locally, no stanza
    stox::sdk::Counter& s2x_delivered; // written, no error in the window
    stox::sdk::Counter& s2x_refused;   // the XMPP side answered with an error
    stox::sdk::Counter& s2x_failed;    // could not be written
    stox::sdk::Counter& s2x_deadline;
    stox::sdk::Counter& s2x_overloaded;
    stox::sdk::Counter& s2x_late_refusal; // error after SIP was answered: logged only
    stox::sdk::Counter& s2x_chat_state;
    stox::sdk::Counter& s2x_stripped;
    stox::sdk::Counter& s2x_html_sanitized;
    stox::sdk::Counter& x2s_received;
    stox::sdk::Counter& x2s_sent;
    stox::sdk::Counter& x2s_delivered;
    stox::sdk::Counter& x2s_failed;
    stox::sdk::Counter& x2s_rejected;
    stox::sdk::Counter& x2s_no_body;
    stox::sdk::Counter& x2s_queued;
    stox::sdk::Counter& x2s_queue_full;
    stox::sdk::Counter& x2s_error_ignored;
    stox::sdk::Counter& x2s_headline_dropped;
    stox::sdk::Counter& x2s_guard;
    stox::sdk::Counter& x2s_late_response;
    stox::sdk::Counter& x2s_invalid;
    stox::sdk::Counter& x2s_error_send_failed;
    stox::sdk::Counter& internal_errors;
};

namespace {

std::uint64_t seed_or_random(std::uint64_t seed) {
    if (seed != 0) return seed;
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

/// What an error reply needs of the original stanza: its kind and addressing.
Stanza origin_of(const Stanza& s) {
    Stanza o(s.name(), s.ns());
    for (const char* a : {"from", "to", "id"})
        if (s.has_attr(a)) o.set_attr(a, s.attr(a));
    return o;
}

} // namespace

ImPlugin::ImPlugin(std::string version, WallClock wall_clock, std::uint64_t seed)
    : version_(std::move(version)), wall_clock_(std::move(wall_clock)), rng_(seed_or_random(seed)),
      queues_(cfg_.max_destinations, cfg_.max_queue_per_destination, cfg_.max_queued_messages),
      cseq_(cfg_.max_tracked_threads) {
    if (!wall_clock_) wall_clock_ = [] { return std::chrono::system_clock::now(); };
}

ImPlugin::~ImPlugin() = default;

std::string ImPlugin::random_hex(std::size_t octets) {
    std::string raw;
    while (raw.size() < octets) {
        const std::uint64_t v = rng_();
        for (int k = 0; k < 8 && raw.size() < octets; ++k)
            raw += static_cast<char>((v >> (8 * k)) & 0xFF);
    }
    return hex_lower(raw);
}

std::function<bool()> ImPlugin::alive_check() const {
    return [weak = std::weak_ptr<bool>(alive_)] { return !weak.expired(); };
}

Status ImPlugin::start(stox::sdk::PluginContext& ctx) noexcept {
    try {
        auto cfg = load_config(ctx.config());
        if (!cfg) return cfg.status();
        ctx_ = &ctx;
        cfg_ = std::move(cfg).value();
        queues_.set_limits(cfg_.max_destinations, cfg_.max_queue_per_destination,
                           cfg_.max_queued_messages);
        cseq_.set_capacity(cfg_.max_tracked_threads);
        counters_ = std::make_unique<Counters>(ctx.metrics());
        alive_ = std::make_shared<bool>(true);
        id_prefix_ = "im-" + random_hex(6);

        // the domains a `from` may carry: the SIP domains and the component's own (the
        // XMPP server accepts nothing else from the component), in JID (U-label) form.
        std::vector<std::string> domains = ctx.sip().domains();
        const std::string component = ctx.xmpp().component_domain();
        if (!component.empty()) domains.push_back(component);
        from_domains_.clear();
        for (const auto& d : domains) {
            auto jid = ctx.addresses().to_jid("sip:" + d, stox::sdk::UriRole::Entity);
            std::string form = jid ? ascii_lower(*jid) : ascii_lower(d);
            if (std::find(from_domains_.begin(), from_domains_.end(), form) == from_domains_.end())
                from_domains_.push_back(std::move(form));
        }
        warn_agent_ = !ctx.sip().domains().empty() ? ctx.sip().domains().front() : component;

        if (Status s =
                ctx.on_sip_request([this](std::shared_ptr<stox::sdk::SipServerTransaction> tx) {
                    on_sip_request(tx);
                });
            !s)
            return s;
        if (Status s = ctx.on_stanza([this](const Stanza& st) { on_stanza(st); }); !s) return s;

        if (cfg_.restrict_from_domains && from_domains_.empty())
            ctx.set_status(stox::sdk::HealthLevel::Degraded,
                           "no SIP or component domain configured: every SIP MESSAGE is refused");
        else
            ctx.set_status(stox::sdk::HealthLevel::Ok, {});
        STOX_LOG_INFO(ctx.log(),
                      "IM plugin {} started: success {}, await window {} ms, xhtml-im {}, "
                      "MESSAGE limit {} bytes, stanza limit {} bytes",
                      version_.empty() ? "(unversioned)" : version_, cfg_.success_status,
                      cfg_.await_window.count(), cfg_.xhtml_im ? "on" : "off",
                      cfg_.max_sip_message_bytes, cfg_.max_stanza_bytes);
        return {};
    } catch (const std::exception& e) {
        return Status(ErrorCode::Internal, std::string("IM plugin start failed: ") + e.what());
    } catch (...) {
        return Status(ErrorCode::Internal, "IM plugin start failed");
    }
}

Status ImPlugin::reconfigure(const stox::sdk::ConfigView& config) noexcept {
    try {
        auto cfg = load_config(config);
        if (!cfg) return cfg.status();
        cfg_ = std::move(cfg).value();
        // Applies to traffic from now on; what is pending keeps its window and deadline.
        queues_.set_limits(cfg_.max_destinations, cfg_.max_queue_per_destination,
                           cfg_.max_queued_messages);
        cseq_.set_capacity(cfg_.max_tracked_threads);
        if (ctx_ != nullptr) STOX_LOG_INFO(ctx_->log(), "IM plugin configuration applied");
        return {};
    } catch (const std::exception& e) {
        return Status(ErrorCode::Internal, e.what());
    } catch (...) {
        return Status(ErrorCode::Internal, "IM plugin reconfigure failed");
    }
}

void ImPlugin::stop() noexcept {
    if (ctx_ == nullptr) return;
    alive_.reset(); // completions that still arrive find nothing to do
    try {
        // S2X: every SIP transaction gets its answer. Written ones succeeded as far as we know
        // (no error came back); the others were not delivered and may be retried.
        std::size_t answered = 0;
        for (auto& [seq, d] : deliveries_) {
            d.tx->respond(d.written
                              ? success_response()
                              : response_for(ctx_->errors(),
                                             Status(ErrorCode::Overloaded, "gateway stopping"),
                                             warn_agent_));
            ++answered;
        }
        deliveries_.clear();
        // X2S: queued stanzas were never sent; tell their senders. In-flight ones have an
        // unknown outcome and are only counted.
        std::vector<Outgoing> queued = queues_.drain();
        for (const Outgoing& o : queued)
            refuse(o.origin, o.headline,
                   ctx_->errors().xmpp_for(Status(ErrorCode::Overloaded, "gateway stopping")));
        STOX_LOG_INFO(ctx_->log(),
                      "IM plugin stopped: {} SIP MESSAGEs answered, {} queued stanzas refused, "
                      "{} MESSAGEs in flight abandoned",
                      answered, queued.size(), in_flight_.size());
        in_flight_.clear();
    } catch (...) {
        // Nothing may escape stop(); the core answers any transaction we could not.
    }
}

// ---------------------------------------------------------------------------------------------
// S2X

SipResponse ImPlugin::success_response() const {
    // A-28; IM-REF-4: no body and no Contact.
    SipResponse r;
    r.status = cfg_.success_status;
    r.reason = cfg_.success_status == 202 ? "Accepted" : "OK";
    return r;
}

void ImPlugin::on_sip_request(const std::shared_ptr<stox::sdk::SipServerTransaction>& tx) {
    counters_->s2x_received.add();
    try {
        const stox::sdk::SipRequest& req = tx->request();
        if (deliveries_.size() >= cfg_.max_pending_deliveries) {
            counters_->s2x_overloaded.add();
            STOX_LOG_DEBUG(ctx_->log(), "S2X Call-ID {}: {} deliveries pending, refused",
                           req.header("Call-ID"), deliveries_.size());
            tx->respond(response_for(ctx_->errors(),
                                     Status(ErrorCode::Overloaded, "too many pending deliveries"),
                                     warn_agent_));
            return;
        }
        const std::uint64_t seq = ++seq_;
        S2xContext sctx{ctx_->addresses(),
                        ctx_->errors(),
                        cfg_,
                        from_domains_,
                        warn_agent_,
                        warn_agent_,
                        wall_clock_(),
                        id_prefix_ + "-" + std::to_string(seq)};
        S2xResult result = translate_s2x(req, sctx);
        if (auto* rej = std::get_if<S2xReject>(&result)) {
            counters_->s2x_rejected.add();
            STOX_LOG_DEBUG(ctx_->log(), "S2X Call-ID {}: {} {} ({})", req.header("Call-ID"),
                           rej->response.status, rej->response.reason, rej->why);
            tx->respond(std::move(rej->response));
            return;
        }
        S2xMessage& msg = std::get<S2xMessage>(result);
        if (msg.stripped_chars > 0) counters_->s2x_stripped.add(msg.stripped_chars);
        if (msg.html_removed > 0) counters_->s2x_html_sanitized.add();
        if (msg.chat_state_only) counters_->s2x_chat_state.add();
        STOX_LOG_DEBUG(ctx_->log(), "S2X Call-ID {} -> <message id='{}' from='{}' to='{}'>",
                       req.header("Call-ID"), msg.stanza.attr("id"), msg.stanza.attr("from"),
                       msg.stanza.attr("to"));
        STOX_LOG_TRACE(ctx_->log(), "S2X stanza {}", msg.stanza.to_string());

        Delivery d;
        d.tx = tx;
        d.target = msg.target;
        d.call_id = req.header("Call-ID");
        auto alive = alive_check();
        d.deadline = ctx_->executor().after(cfg_.answer_deadline, [this, alive, seq] {
            if (alive()) on_deadline(seq);
        });
        deliveries_.emplace(seq, std::move(d));
        ctx_->xmpp().send_tracked(
            std::move(msg.stanza),
            [this, alive, seq](const Status& s) {
                if (alive()) on_written(seq, s);
            },
            cfg_.await_window,
            [this, alive, seq](const Stanza* reply) {
                if (alive()) on_reply(seq, reply);
            });
    } catch (const std::exception& e) {
        counters_->internal_errors.add();
        STOX_LOG_ERROR(ctx_->log(), "S2X failed: {}", e.what());
        if (!tx->answered())
            tx->respond(
                response_for(ctx_->errors(), Status(ErrorCode::Internal, e.what()), warn_agent_));
    }
}

void ImPlugin::answer(std::uint64_t seq, SipResponse response) {
    auto it = deliveries_.find(seq);
    if (it == deliveries_.end()) return;
    std::shared_ptr<stox::sdk::SipServerTransaction> tx = std::move(it->second.tx);
    deliveries_.erase(it); // cancels the deadline
    tx->respond(std::move(response));
}

void ImPlugin::on_written(std::uint64_t seq, const Status& status) {
    auto it = deliveries_.find(seq);
    if (it == deliveries_.end()) return; // the deadline answered already
    if (!status) {
        // Not written (link down past the core's queue deadline, queue full, too large).
        counters_->s2x_failed.add();
        STOX_LOG_DEBUG(ctx_->log(), "S2X Call-ID {}: stanza not written: {}", it->second.call_id,
                       status.message());
        answer(seq, response_for(ctx_->errors(), status, warn_agent_));
        return;
    }
    it->second.written = true;
    if (cfg_.await_window.count() == 0) {
        counters_->s2x_delivered.add();
        answer(seq, success_response());
    }
}

void ImPlugin::on_reply(std::uint64_t seq, const Stanza* reply) {
    auto it = deliveries_.find(seq);
    const bool refusal = reply != nullptr && reply->attr("type") == "error";
    if (it == deliveries_.end()) {
        if (refusal) {
            // TV-ERR-E3 without await: the SIP side already has its answer; log and count.
            counters_->s2x_late_refusal.add();
            STOX_LOG_DEBUG(ctx_->log(), "S2X stanza {} refused after the SIP answer: {}",
                           reply->attr("id"), parse_stanza_error(*reply).condition);
        }
        return;
    }
    if (!refusal) {
        counters_->s2x_delivered.add();
        answer(seq, success_response());
        return;
    }
    // Honest delivery: the XMPP refusal becomes the SIP answer (Table E1; e.g. unknown user ->
    // <service-unavailable/> -> 403, never 503: TV-ERR-E3).
    const stox::sdk::XmppError error = parse_stanza_error(*reply);
    stox::sdk::XmppToSipContext mctx;
    mctx.target = it->second.target;
    mctx.method = "MESSAGE";
    const stox::sdk::SipError mapped = ctx_->errors().xmpp_to_sip(error, mctx);
    counters_->s2x_refused.add();
    STOX_LOG_DEBUG(ctx_->log(), "S2X Call-ID {}: XMPP refused with <{}/> -> {}", it->second.call_id,
                   error.condition, mapped.status);
    answer(seq, make_sip_response(mapped));
}

void ImPlugin::on_deadline(std::uint64_t seq) {
    auto it = deliveries_.find(seq);
    if (it == deliveries_.end()) return;
    counters_->s2x_deadline.add();
    STOX_LOG_DEBUG(ctx_->log(), "S2X Call-ID {}: no outcome after {} ms, answering 408",
                   it->second.call_id, cfg_.answer_deadline.count());
    answer(seq, response_for(ctx_->errors(),
                             Status(ErrorCode::Timeout, "XMPP delivery did not complete in time"),
                             warn_agent_));
}

// ---------------------------------------------------------------------------------------------
// X2S

void ImPlugin::refuse(const Stanza& origin, bool headline, const stox::sdk::XmppError& error) {
    if (headline) {
        // TV-IM-15, RFC 6121 §8.5.2.2.1: an undeliverable headline is dropped silently.
        counters_->x2s_headline_dropped.add();
        STOX_LOG_DEBUG(ctx_->log(), "X2S headline {} not delivered (<{}/>), no error sent",
                       origin.attr("id"), error.condition);
        return;
    }
    auto alive = alive_check();
    ctx_->xmpp().send(
        make_error_reply(origin, error), [this, alive, id = origin.attr("id")](const Status& s) {
            if (!alive() || s) return;
            counters_->x2s_error_send_failed.add();
            STOX_LOG_DEBUG(ctx_->log(), "X2S error reply to {} not written: {}", id, s.message());
        });
}

void ImPlugin::on_stanza(const Stanza& stanza) {
    counters_->x2s_received.add();
    try {
        const std::string type = stanza.has_attr("type") ? stanza.attr("type") : "normal";
        // CORE-ERR-14, TV-ERR-E5: an error never becomes a request, nor gets an error back.
        if (type == "error") {
            counters_->x2s_error_ignored.add();
            STOX_LOG_DEBUG(ctx_->log(), "X2S error stanza {} from {} ignored", stanza.attr("id"),
                           stanza.attr("from"));
            return;
        }
        if (!stanza.has_attr("from") || stanza.attr("from").empty()) {
            // Nobody to answer: the server always stamps `from`, so this is a broken peer.
            counters_->x2s_invalid.add();
            STOX_LOG_WARN(ctx_->log(), "X2S <{}> {} without from dropped", stanza.name(),
                          stanza.attr("id"));
            return;
        }
        if (stanza.name() != "message") { // outside our claims: answer, never drop silently
            counters_->x2s_rejected.add();
            refuse(origin_of(stanza), false,
                   ctx_->errors().xmpp_for(Status(ErrorCode::Unsupported, "not a message")));
            return;
        }
        const bool headline = type == "headline";
        if (type == "groupchat") { // TV-IM-14: only RFC 7702 gateways take groupchat
            counters_->x2s_rejected.add();
            refuse(origin_of(stanza), false,
                   ctx_->errors().xmpp_for(Status(ErrorCode::ServiceUnavailable,
                                                  "groupchat messages are not translated")));
            return;
        }
        X2sContext xctx{ctx_->addresses(), cfg_, random_hex(16), random_hex(8)};
        X2sResult result = translate_x2s(stanza, xctx);
        if (std::holds_alternative<X2sNoBody>(result)) { // TV-IM-23
            counters_->x2s_no_body.add();
            STOX_LOG_DEBUG(ctx_->log(), "X2S message {} from {} has no body: nothing sent",
                           stanza.attr("id"), stanza.attr("from"));
            return;
        }
        if (auto* rej = std::get_if<X2sReject>(&result)) {
            counters_->x2s_rejected.add();
            STOX_LOG_DEBUG(ctx_->log(), "X2S message {} from {} refused: {}", stanza.attr("id"),
                           stanza.attr("from"), rej->status.message());
            refuse(origin_of(stanza), headline, ctx_->errors().xmpp_for(rej->status));
            return;
        }
        Outgoing item{origin_of(stanza), headline, std::move(std::get<X2sRequest>(result).request)};
        const std::string destination = item.request.request_uri;
        switch (queues_.offer(destination, item)) {
        case DestinationQueues<Outgoing>::Admit::SendNow:
            send_x2s(destination, std::move(item));
            break;
        case DestinationQueues<Outgoing>::Admit::Queued: // TV-IM-20
            counters_->x2s_queued.add();
            STOX_LOG_DEBUG(ctx_->log(), "X2S message {} waits for the MESSAGE pending to {}",
                           stanza.attr("id"), destination);
            break;
        case DestinationQueues<Outgoing>::Admit::QueueFull:
        case DestinationQueues<Outgoing>::Admit::TooManyDestinations:
            counters_->x2s_queue_full.add();
            STOX_LOG_DEBUG(ctx_->log(), "X2S message {} to {}: queue limit reached",
                           stanza.attr("id"), destination);
            refuse(item.origin, headline,
                   ctx_->errors().xmpp_for(Status(ErrorCode::Overloaded,
                                                  "too many messages waiting for this recipient")));
            break;
        }
    } catch (const std::exception& e) {
        counters_->internal_errors.add();
        STOX_LOG_ERROR(ctx_->log(), "X2S failed: {}", e.what());
        if (stanza.attr("type") != "error" && stanza.has_attr("from"))
            refuse(origin_of(stanza), stanza.attr("type") == "headline",
                   ctx_->errors().xmpp_for(Status(ErrorCode::Internal, "internal error")));
    }
}

void ImPlugin::send_x2s(const std::string& destination, Outgoing item) {
    const std::uint32_t cseq = cseq_.next(item.request.header("Call-ID"));
    item.request.set_header("CSeq", std::to_string(cseq) + " MESSAGE");
    const std::uint64_t token = ++x2s_token_;
    auto alive = alive_check();
    InFlight f;
    f.origin = std::move(item.origin);
    f.headline = item.headline;
    f.token = token;
    f.guard = ctx_->executor().after(cfg_.sip_response_guard, [this, alive, destination, token] {
        if (alive()) on_guard(destination, token);
    });
    STOX_LOG_DEBUG(ctx_->log(), "X2S message {} -> MESSAGE {} Call-ID {} CSeq {}",
                   f.origin.attr("id"), destination, item.request.header("Call-ID"), cseq);
    STOX_LOG_TRACE(ctx_->log(), "X2S body: {}", item.request.body);
    in_flight_[destination] = std::move(f);
    counters_->x2s_sent.add();
    ctx_->sip().send_request(std::move(item.request),
                             [this, alive, destination, token](const SipResponse& r) {
                                 if (alive()) on_sip_final(destination, token, r);
                             });
}

void ImPlugin::on_sip_final(const std::string& destination, std::uint64_t token,
                            const SipResponse& response) {
    auto it = in_flight_.find(destination);
    if (it == in_flight_.end() || it->second.token != token) {
        counters_->x2s_late_response.add(); // after the guard gave up on it
        STOX_LOG_DEBUG(ctx_->log(), "X2S late {} from {} ignored", response.status, destination);
        return;
    }
    InFlight f = std::move(it->second);
    in_flight_.erase(it);
    f.guard.cancel();
    try {
        if (response.status >= 200 && response.status <= 299) {
            counters_->x2s_delivered.add(); // IM-4: nothing goes back on success (TV-IM-01)
            STOX_LOG_DEBUG(ctx_->log(), "X2S message {} accepted: {}", f.origin.attr("id"),
                           response.status);
        } else {
            // TV-IM-17/18, TV-ERR-E1: Table E2, with the first Contact for 3xx.
            counters_->x2s_failed.add();
            const std::string contact_header = response.header("Contact");
            const std::string_view contact = name_addr_uri(first_list_element(contact_header));
            stox::sdk::XmppError error =
                ctx_->errors().sip_to_xmpp(response.status, response.reason, contact);
            if (error.condition.empty()) // not a final failure (a broken stack): still report it
                error = ctx_->errors().xmpp_for(
                    Status(ErrorCode::Internal,
                           stox::sdk::format("unexpected final response {}", response.status)));
            STOX_LOG_DEBUG(ctx_->log(), "X2S message {} failed: {} {} -> <{}/>",
                           f.origin.attr("id"), response.status, response.reason, error.condition);
            refuse(f.origin, f.headline, error);
        }
    } catch (const std::exception& e) {
        counters_->internal_errors.add();
        STOX_LOG_ERROR(ctx_->log(), "X2S response handling failed: {}", e.what());
    }
    next_for(destination);
}

void ImPlugin::on_guard(const std::string& destination, std::uint64_t token) {
    auto it = in_flight_.find(destination);
    if (it == in_flight_.end() || it->second.token != token) return;
    InFlight f = std::move(it->second);
    in_flight_.erase(it);
    counters_->x2s_guard.add();
    STOX_LOG_WARN(ctx_->log(), "X2S MESSAGE to {} got no final response in {} ms", destination,
                  cfg_.sip_response_guard.count());
    refuse(
        f.origin, f.headline,
        ctx_->errors().xmpp_for(Status(ErrorCode::Timeout, "no final response from the SIP side")));
    next_for(destination);
}

void ImPlugin::next_for(const std::string& destination) {
    if (auto next = queues_.finish(destination)) send_x2s(destination, std::move(*next));
}

} // namespace stox::plugins::im
