// SPDX-License-Identifier: Apache-2.0
#include "bus/ingress_router.hpp"

#include <exception>
#include <set>
#include <unordered_set>

#include "bus/noexcept_log.hpp"
#include "bus/plugin_strand.hpp"
#include "runtime/metrics_registry.hpp"

namespace stox::core {

using detail::log_noexcept;

namespace {

std::string join(const std::set<std::string>& items) {
    std::string out;
    for (const auto& i : items) {
        if (!out.empty()) out += ", ";
        out += i;
    }
    return out;
}

} // namespace

IngressRouter::IngressRouter(const ClaimTable& claims, const sdk::ErrorMapper& errors,
                             MetricsRegistry& metrics, sdk::Logger& log)
    : claims_(claims), errors_(errors), log_(log),
      sip_routed_(metrics.counter("ingress.sip.routed")),
      sip_unclaimed_(metrics.counter("ingress.sip.unclaimed")),
      sip_overload_(metrics.counter("ingress.sip.overload")),
      xmpp_routed_(metrics.counter("ingress.xmpp.routed")),
      xmpp_unclaimed_(metrics.counter("ingress.xmpp.unclaimed")),
      xmpp_overload_(metrics.counter("ingress.xmpp.overload")),
      xmpp_dropped_error_(metrics.counter("ingress.xmpp.dropped_error_stanza")) {}

void IngressRouter::set_route(const std::string& plugin_id, std::shared_ptr<PluginStrand> strand,
                              SipHandlerPtr* sip, StanzaHandlerPtr* stanza) {
    // Replaced handlers are swapped into the caller's variables and destroyed after the lock:
    // destroying a plugin lambda may run code that calls back into the router.
    std::lock_guard lock(mu_);
    auto it = routes_.find(plugin_id);
    if (!strand && (it == routes_.end() || !it->second.strand)) {
        log_noexcept(log_, sdk::LogLevel::Error,
                     "router: handler of {} ignored: no strand to run it on", plugin_id);
        return;
    }
    Route& r = routes_[plugin_id];
    if (strand) r.strand.swap(strand);
    if (sip) r.sip.swap(*sip);
    if (stanza) r.stanza.swap(*stanza);
}

void IngressRouter::set_sip_handler(const std::string& plugin_id,
                                    std::shared_ptr<PluginStrand> strand,
                                    sdk::SipRequestHandler handler) {
    SipHandlerPtr h;
    if (handler) h = std::make_shared<const sdk::SipRequestHandler>(std::move(handler));
    set_route(plugin_id, std::move(strand), &h, nullptr);
}

void IngressRouter::set_stanza_handler(const std::string& plugin_id,
                                       std::shared_ptr<PluginStrand> strand,
                                       sdk::StanzaHandler handler) {
    StanzaHandlerPtr h;
    if (handler) h = std::make_shared<const sdk::StanzaHandler>(std::move(handler));
    set_route(plugin_id, std::move(strand), nullptr, &h);
}

void IngressRouter::clear_handlers(const std::string& plugin_id) {
    Route gone; // destroyed after the lock (see set_route)
    std::lock_guard lock(mu_);
    if (auto it = routes_.find(plugin_id); it != routes_.end()) {
        gone = std::move(it->second);
        routes_.erase(it);
    }
}

IngressRouter::Route IngressRouter::find(const std::optional<std::string>& plugin) const {
    if (!plugin) return {};
    std::lock_guard lock(mu_);
    auto it = routes_.find(*plugin);
    if (it == routes_.end() || !it->second.strand || it->second.strand->closed()) return {};
    return it->second;
}

void IngressRouter::deliver_sip(std::shared_ptr<sdk::SipServerTransaction> tx) noexcept {
    if (!tx) {
        log_noexcept(log_, sdk::LogLevel::Error, "router: null SIP transaction ignored");
        return;
    }
    try {
        const sdk::SipRequest& req = tx->request();
        const std::optional<std::string> owner = claims_.route(req);
        const Route route = find(owner);
        if (!route.sip) {
            refuse_unrouted_sip(*tx, owner ? "plugin " + *owner + " has no SIP handler running"
                                           : std::string("no plugin claims it"));
            return;
        }
        SipHandlerPtr handler = route.sip;
        if (!route.strand->try_post([handler, tx] { (*handler)(tx); })) {
            sip_overload_.add(1);
            log_noexcept(log_, sdk::LogLevel::Warn,
                         "router: SIP {} refused with 503: plugin {} overloaded ({} callbacks "
                         "waiting)",
                         req.method, *owner, route.strand->pending());
            sdk::SipResponse r;
            r.status = 503;
            r.reason = "Service Unavailable";
            // RFC 3261 §21.5.4: the overload concerns the gateway itself, so a retry may work.
            r.set_header("Retry-After", std::to_string(kRetryAfterSeconds));
            tx->respond(std::move(r));
            return;
        }
        sip_routed_.add(1);
        log_noexcept(log_, sdk::LogLevel::Debug, "router: SIP {} routed to {}", req.method, *owner);
    } catch (const std::exception& e) {
        // Allocation failure; the transaction, if dropped unanswered, answers 500 itself.
        log_noexcept(log_, sdk::LogLevel::Error, "router: SIP request not routed: {}", e.what());
    }
}

void IngressRouter::refuse_unrouted_sip(sdk::SipServerTransaction& tx, const std::string& why) {
    const sdk::SipRequest& req = tx.request();
    if (req.method != "OPTIONS") sip_unclaimed_.add(1);
    const std::string call_id = req.header("Call-ID");
    if (req.method == "ACK") {
        // RFC 3261 §17.2.1: an ACK has no response; only the log and the counter remain.
        log_noexcept(log_, sdk::LogLevel::Warn, "router: SIP ACK not routed ({}), not answered",
                     why);
        return;
    }

    // What the gateway does handle right now: claims whose plugin has a running SIP handler.
    std::set<std::string> methods;
    std::set<std::string> packages;
    {
        const auto entries = claims_.sip_claims();
        std::unordered_set<std::string> active;
        {
            std::lock_guard lock(mu_);
            for (const auto& [id, r] : routes_)
                if (r.sip && r.strand && !r.strand->closed()) active.insert(id);
        }
        for (const auto& e : entries) {
            if (!active.contains(e.plugin)) continue;
            methods.insert(e.claim.method);
            if (e.claim.method == "SUBSCRIBE" && !e.claim.event.empty())
                packages.insert(e.claim.event);
        }
    }

    methods.insert("OPTIONS"); // the core answers OPTIONS itself (below)
    sdk::SipResponse r;
    if (req.method == "OPTIONS") {
        // RFC 3261 §11.2: the gateway answers capability queries itself when no plugin claims
        // OPTIONS; operators and proxies use it as a health probe. Not an unclaimed request.
        r.status = 200;
        r.reason = "OK";
        r.set_header("Allow", join(methods));
        r.set_header("Accept", "text/plain, text/html, message/cpim, application/sdp");
        log_noexcept(log_, sdk::LogLevel::Debug,
                     "router: OPTIONS answered by the core (Call-ID {})", call_id);
        tx.respond(std::move(r));
        return;
    }
    if (methods.contains(req.method) && ClaimTable::routes_by_event(req.method)) {
        r.status = 489;
        r.reason = "Bad Event";
        // RFC 6665 §4.4.4: the packages we can act as notifier for.
        if (!packages.empty()) r.set_header("Allow-Events", join(packages));
    } else if (methods.contains(req.method) && req.method == "INVITE") {
        r.status = 488;
        r.reason = "Not Acceptable Here";
    } else {
        // RFC 3261 §21.5.2; Allow lists what is implemented (as §21.4.6 asks of a 405).
        r.status = 501;
        r.reason = "Not Implemented";
        r.set_header("Allow", join(methods));
    }
    log_noexcept(log_, sdk::LogLevel::Warn, "router: SIP {} refused with {} {}: {} (Call-ID {})",
                 req.method, r.status, r.reason, why, call_id);
    tx.respond(std::move(r));
}

void IngressRouter::deliver_stanza(sdk::Stanza stanza, const StanzaSink& reply) noexcept {
    try {
        const std::string& name = stanza.name();
        if (stanza.is_text() || (name != "message" && name != "presence" && name != "iq")) {
            // Not a stanza (RFC 6120 §8): a stream-level matter for the endpoint, not answerable
            // with a stanza error.
            xmpp_unclaimed_.add(1);
            log_noexcept(log_, sdk::LogLevel::Warn, "router: <{}/> is not a stanza, not routed",
                         name);
            return;
        }
        const std::string type = stanza.attr("type");
        if (type == "error" || (name == "iq" && type == "result")) {
            // RFC 6120 §8.3.1 rule 8: never answer an error with an error; a result is a reply.
            xmpp_dropped_error_.add(1);
            log_noexcept(log_, sdk::LogLevel::Debug,
                         "router: <{} type='{}'> id '{}' is a reply, not routed", name, type,
                         stanza.attr("id"));
            return;
        }
        const std::optional<std::string> owner = claims_.route(stanza);
        const Route route = find(owner);
        if (!route.stanza) {
            refuse_stanza(stanza, reply, sdk::ErrorCode::Unsupported, xmpp_unclaimed_,
                          owner ? "plugin " + *owner + " has no stanza handler running"
                                : std::string("no plugin claims it"));
            return;
        }
        // Shared so that it is still ours to answer if the strand refuses it.
        auto shared = std::make_shared<const sdk::Stanza>(std::move(stanza));
        StanzaHandlerPtr handler = route.stanza;
        if (!route.strand->try_post([handler, shared] { (*handler)(*shared); })) {
            refuse_stanza(*shared, reply, sdk::ErrorCode::Overloaded, xmpp_overload_,
                          "plugin " + *owner + " overloaded (" +
                              std::to_string(route.strand->pending()) + " callbacks waiting)");
            return;
        }
        xmpp_routed_.add(1);
        log_noexcept(log_, sdk::LogLevel::Debug, "router: <{}/> routed to {}", shared->name(),
                     *owner);
    } catch (const std::exception& e) {
        log_noexcept(log_, sdk::LogLevel::Error, "router: stanza not routed: {}", e.what());
    }
}

void IngressRouter::refuse_stanza(const sdk::Stanza& stanza, const StanzaSink& reply,
                                  sdk::ErrorCode code, sdk::Counter& counter,
                                  const std::string& why) {
    counter.add(1);
    const sdk::XmppError error = errors_.xmpp_for(
        sdk::Status(code, code == sdk::ErrorCode::Overloaded ? "the gateway is busy, retry later"
                                                             : "not supported by this gateway"));
    log_noexcept(log_, sdk::LogLevel::Warn,
                 "router: <{} type='{}'> id '{}' from {} refused with {}: {}", stanza.name(),
                 stanza.attr("type"), stanza.attr("id"), stanza.attr("from"), error.condition, why);
    if (!reply) {
        log_noexcept(log_, sdk::LogLevel::Error,
                     "router: no reply path, error for <{}/> id '{}' not sent", stanza.name(),
                     stanza.attr("id"));
        return;
    }
    reply(make_error_reply(stanza, error));
}

sdk::Stanza IngressRouter::make_error_reply(const sdk::Stanza& original,
                                            const sdk::XmppError& error) {
    sdk::Stanza r(original.name(),
                  original.ns().empty() ? std::string(sdk::kComponentNs) : original.ns());
    // RFC 6120 §8.3.1 rules 2-3: swap the addresses, keep the id (mandatory for iq).
    if (original.has_attr("to")) r.set_attr("from", original.attr("to"));
    if (original.has_attr("from")) r.set_attr("to", original.attr("from"));
    if (original.has_attr("id") || original.name() == "iq") r.set_attr("id", original.attr("id"));
    r.set_attr("type", "error");
    // RFC 6120 §8.3.2. The mapper always names a condition; the fallbacks only guard against
    // an empty one, which would make the stanza invalid.
    sdk::XmlElement& e = r.add_child("error");
    e.set_attr("type", error.type.empty() ? std::string("cancel") : error.type);
    sdk::XmlElement& condition = e.add_child(sdk::XmlElement(
        error.condition.empty() ? std::string("undefined-condition") : error.condition,
        std::string(sdk::kStanzaErrorNs)));
    if (!error.address.empty()) condition.add_text(error.address); // <gone/>, <redirect/>
    if (!error.text.empty())
        e.add_child(sdk::XmlElement("text", std::string(sdk::kStanzaErrorNs))).add_text(error.text);
    return r;
}

} // namespace stox::core
