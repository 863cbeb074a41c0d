// SPDX-License-Identifier: Apache-2.0
#include "sip/sip_endpoint.hpp"

#include <sofia-sip/msg_header.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/tport.h>
#include <sofia-sip/url.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdarg>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <unordered_map>

#include "runtime/metrics_registry.hpp"
#include "sip/sip_convert.hpp"
#include "sip/sofia_loop.hpp"

namespace stox::core::sip {

sdk::Result<SipListen> parse_listen(std::string_view text) {
    auto bad = [&](const char* why) {
        return sdk::Result<SipListen>(sdk::ErrorCode::InvalidConfig,
                                      "listen address '" + std::string(text) + "': " + why);
    };
    auto colon = text.find(':');
    if (colon == std::string_view::npos) return bad("expected TRANSPORT:HOST:PORT");
    SipListen l;
    l.transport = std::string(text.substr(0, colon));
    if (l.transport != "udp" && l.transport != "tcp") return bad("transport must be udp or tcp");
    std::string_view rest = text.substr(colon + 1);
    auto pc = rest.rfind(':');
    if (pc == std::string_view::npos || pc == 0) return bad("expected TRANSPORT:HOST:PORT");
    std::string_view host = rest.substr(0, pc);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    if (host.empty()) return bad("empty host");
    l.host = std::string(host);
    std::string_view port = rest.substr(pc + 1);
    unsigned value = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || p != port.data() + port.size() || value > 65535)
        return bad("bad port");
    l.port = static_cast<std::uint16_t>(value);
    return l;
}

extern "C" {
// Exported by libsofia-sip-ua; not all are declared in its public headers.
extern su_log_t nta_log[];
extern su_log_t tport_log[];
extern su_log_t sresolv_log[];
extern su_log_t stun_log[];
}

namespace {

// sofia-sip writes diagnostics ("received garbage from tcp/...", ICMP errors) straight to
// stderr. Route them into our log sink (tag "sip", level info) so they carry a timestamp and
// survive log.format=json. Process-global, like sofia's own log objects.
std::atomic<sdk::Logger*> g_sofia_logger{nullptr};

void sofia_logger(void*, const char* fmt, va_list ap) {
    sdk::Logger* log = g_sofia_logger.load();
    if (!log || !log->enabled(sdk::LogLevel::Info)) return;
    char buf[1024];
    int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
    if (n <= 0) return;
    std::string_view line(buf, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buf - 1));
    while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.remove_suffix(1);
    while (!line.empty() && (line.front() == '\t' || line.front() == ' ')) line.remove_prefix(1);
    if (!line.empty()) log->write(sdk::LogLevel::Info, std::string("sofia: ") + std::string(line));
}

void redirect_sofia_logs(sdk::Logger* log) {
    g_sofia_logger.store(log);
    for (su_log_t* l : {su_log_default, su_log_global, nta_log, tport_log, sresolv_log, stun_log})
        su_log_redirect(l, log ? sofia_logger : nullptr, nullptr);
}

// sofia's URL_STRING_MAKE is a C-style cast that clang flags (-Wcast-align); url_string_t is a
// union that sofia reads as a string when it starts with a scheme, so the cast is safe.
const url_string_t* as_url(const char* s) {
    return reinterpret_cast<const url_string_t*>(s);
}

std::string host_for_url(const std::string& host) {
    return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

/// The tag parameter of a From/To header value ("<sip:a@b>;tag=x;y=z" -> "x"), or "".
std::string to_tag_of(std::string_view value) {
    auto gt = value.rfind('>');
    std::string_view params = gt == std::string_view::npos ? value : value.substr(gt + 1);
    for (std::size_t pos = 0; (pos = params.find(';', pos)) != std::string_view::npos;) {
        ++pos;
        while (pos < params.size() && params[pos] == ' ') ++pos;
        if (params.size() - pos > 4 && sdk::ascii_iequals(params.substr(pos, 4), "tag=")) {
            auto end = params.find_first_of("; \t", pos + 4);
            return std::string(params.substr(
                pos + 4, end == std::string_view::npos ? std::string_view::npos : end - pos - 4));
        }
    }
    return {};
}

std::string new_call_id() {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    static const char* hex = "0123456789abcdef";
    std::string id;
    for (int i = 0; i < 24; ++i) id += hex[rng() & 15];
    return id + "@stoxgw";
}

} // namespace

// ---------------------------------------------------------------------------------------------
struct SipEndpoint::Impl : std::enable_shared_from_this<SipEndpoint::Impl> {
    Impl(SipEndpointConfig c, MetricsRegistry& m, sdk::Logger& l)
        : cfg(std::move(c)), metrics(m), log(l) {}

    SipEndpointConfig cfg;
    MetricsRegistry& metrics;
    sdk::Logger& log;
    std::unique_ptr<SofiaLoop> loop;
    RequestHandler handler;

    // --- sofia thread only ---
    nta_agent_t* agent = nullptr;
    nta_leg_t* leg = nullptr;
    std::uint64_t next_ticket = 1;
    std::unordered_map<std::uint64_t, nta_incoming_t*> incoming; // live server transactions
    struct Outgoing {
        nta_outgoing_t* orq = nullptr;
        std::function<void(sdk::SipResponse)> on_final;
    };
    std::map<std::uint64_t, Outgoing> outgoing; // live client transactions
    std::atomic<bool> running{false};

    void reply(std::uint64_t ticket, const sdk::SipResponse& r);
    void on_request(nta_incoming_t* irq, const sip_t* sip);
    void send(sdk::SipRequest req, std::function<void(sdk::SipResponse)> on_final);
    void finish_outgoing(std::uint64_t ticket, sdk::SipResponse r);
};

namespace {

/// A server transaction handed to plugins. respond() may be called from any thread; the reply
/// itself is sent on the sofia thread. First final response wins.
class ServerTransaction final : public sdk::SipServerTransaction {
public:
    ServerTransaction(std::weak_ptr<SipEndpoint::Impl> ep, std::uint64_t ticket,
                      sdk::SipRequest req)
        : ep_(std::move(ep)), ticket_(ticket), request_(std::move(req)) {}

    ~ServerTransaction() override {
        if (answered_.load()) return;
        if (auto ep = ep_.lock()) {
            ep->metrics.counter("sip.unanswered").add();
            STOX_LOG_ERROR(
                ep->log, "{} request (Call-ID {}) dropped unanswered by its handler; answering 500",
                request_.method, request_.header("Call-ID"));
            sdk::SipResponse r;
            r.status = 500;
            r.reason = "Request Not Handled";
            post_reply(std::move(r));
        }
    }

    [[nodiscard]] const sdk::SipRequest& request() const noexcept override { return request_; }
    [[nodiscard]] bool answered() const noexcept override { return answered_.load(); }

    void respond(sdk::SipResponse response) noexcept override {
        try {
            if (response.status < 100 || response.status > 699) {
                if (auto ep = ep_.lock())
                    STOX_LOG_ERROR(ep->log, "invalid SIP status {} from handler; answering 500",
                                   response.status);
                response.status = 500;
                response.reason = "Internal Server Error";
            }
            if (response.status >= 200 && answered_.exchange(true)) {
                if (auto ep = ep_.lock())
                    STOX_LOG_WARN(ep->log, "second final response {} to {} ignored",
                                  response.status, request_.method);
                return;
            }
            if (answered_.load() && response.status < 200) return; // provisional after final
            post_reply(std::move(response));
        } catch (...) {
        }
    }

private:
    void post_reply(sdk::SipResponse r) {
        auto ep = ep_.lock();
        if (!ep || !ep->loop) return;
        std::weak_ptr<SipEndpoint::Impl> weak = ep;
        ep->loop->post([weak, ticket = ticket_, r = std::move(r)] {
            if (auto e = weak.lock()) e->reply(ticket, r);
        });
    }

    std::weak_ptr<SipEndpoint::Impl> ep_;
    std::uint64_t ticket_;
    sdk::SipRequest request_;
    std::atomic<bool> answered_{false};
};

int leg_callback(nta_leg_magic_t* magic, nta_leg_t*, nta_incoming_t* irq, const sip_t* sip) {
    auto* impl = reinterpret_cast<SipEndpoint::Impl*>(magic);
    impl->on_request(irq, sip);
    return 0; // 0: the application answers (later) and destroys irq
}

struct OutgoingMagic {
    std::weak_ptr<SipEndpoint::Impl> ep;
    std::uint64_t ticket;
};

int response_callback(nta_outgoing_magic_t* magic, nta_outgoing_t* orq, const sip_t* sip) {
    auto* m = reinterpret_cast<OutgoingMagic*>(magic);
    int status = sip && sip->sip_status ? sip->sip_status->st_status : nta_outgoing_status(orq);
    if (status < 200) return 0;
    if (auto ep = m->ep.lock()) {
        sdk::SipResponse r;
        if (sip) {
            r = to_sdk_response(sip);
        } else {
            // nta synthesized the final response (timeout, transport error): RFC 3261 §8.1.3.1.
            r.status = status;
            r.reason = sip_status_phrase(status) ? sip_status_phrase(status) : "";
        }
        ep->finish_outgoing(m->ticket, std::move(r));
    }
    delete m;
    return 0;
}

} // namespace

void SipEndpoint::Impl::on_request(nta_incoming_t* irq, const sip_t* sip) {
    metrics.counter("sip.requests_in").add();
    if (sip->sip_request && sip->sip_request->rq_method == sip_method_ack) {
        nta_incoming_destroy(irq); // ACK has no response; dialogs are handled by their owners
        return;
    }
    std::uint64_t ticket = next_ticket++;
    incoming.emplace(ticket, irq);
    auto tx = std::make_shared<ServerTransaction>(weak_from_this(), ticket, to_sdk_request(sip));
    if (!handler || !running.load()) {
        sdk::SipResponse r;
        r.status = 503;
        r.reason = "Service Unavailable";
        r.set_header("Retry-After", "5");
        tx->respond(std::move(r));
        return;
    }
    try {
        handler(std::move(tx));
    } catch (const std::exception& e) {
        STOX_LOG_ERROR(log, "request handler threw: {}", e.what());
    }
}

void SipEndpoint::Impl::reply(std::uint64_t ticket, const sdk::SipResponse& r) {
    auto it = incoming.find(ticket);
    if (it == incoming.end()) return; // already answered at shutdown
    nta_incoming_t* irq = it->second;
    // A dialog-creating response carries the plugin's To tag (RFC 3261 §12.1.1); nta puts it
    // into this and every later response of the transaction.
    if (std::string tag = to_tag_of(r.header("To")); !tag.empty() && r.status > 100)
        nta_incoming_tag(irq, tag.c_str());
    std::string headers = headers_to_string(
        r, {"Content-Type", "Content-Length", "Via", "From", "To", "Call-ID", "CSeq"});
    std::string content_type = r.header("Content-Type");
    su_home_t home[1] = {SU_HOME_INIT(home)};
    sip_payload_t* pl = r.body.empty() ? nullptr
                                       : sip_payload_create(home, r.body.data(),
                                                            static_cast<isize_t>(r.body.size()));
    nta_incoming_treply(
        irq, r.status, r.reason.empty() ? sip_status_phrase(r.status) : r.reason.c_str(),
        TAG_IF(!headers.empty(), SIPTAG_HEADER_STR(headers.c_str())),
        TAG_IF(!content_type.empty(), SIPTAG_CONTENT_TYPE_STR(content_type.c_str())),
        TAG_IF(pl != nullptr, SIPTAG_PAYLOAD(pl)), SIPTAG_SERVER_STR(cfg.user_agent.c_str()),
        TAG_END());
    su_home_deinit(home);
    metrics.counter("sip.responses_out").add();
    if (r.status >= 200) {
        nta_incoming_destroy(irq);
        incoming.erase(it);
    }
}

void SipEndpoint::Impl::send(sdk::SipRequest req, std::function<void(sdk::SipResponse)> on_final) {
    auto fail = [&](int status, const char* reason) {
        sdk::SipResponse r;
        r.status = status;
        r.reason = reason;
        metrics.counter("sip.send_failed").add();
        on_final(std::move(r));
    };
    if (!agent || !running.load()) return fail(503, "SIP Endpoint Not Running");
    if (req.method.empty() || req.request_uri.empty())
        return fail(400, "Bad Request (no method or Request-URI)");
    if (!req.has_header("Call-ID")) req.set_header("Call-ID", new_call_id());
    if (!req.has_header("CSeq")) req.set_header("CSeq", "1 " + req.method);
    if (!req.has_header("Max-Forwards")) req.set_header("Max-Forwards", "70");
    if (!req.has_header("User-Agent")) req.set_header("User-Agent", cfg.user_agent);
    std::string headers = headers_to_string(req, {"Content-Type", "Content-Length", "Via"});
    std::string content_type = req.header("Content-Type");

    std::uint64_t ticket = next_ticket++;
    auto* magic = new OutgoingMagic{weak_from_this(), ticket};
    su_home_t home[1] = {SU_HOME_INIT(home)};
    sip_payload_t* pl =
        req.body.empty()
            ? nullptr
            : sip_payload_create(home, req.body.data(), static_cast<isize_t>(req.body.size()));
    url_string_t const* ruri = as_url(req.request_uri.c_str());
    if (req.method == "ACK") {
        // ACK for a 2xx is its own transaction without a response (RFC 3261 §13.2.2.4, §17.1.1.3).
        nta_outgoing_t* ack = nta_outgoing_tcreate(
            leg, nullptr, nullptr, nullptr, sip_method_ack, "ACK", ruri,
            SIPTAG_HEADER_STR(headers.c_str()),
            TAG_IF(!content_type.empty(), SIPTAG_CONTENT_TYPE_STR(content_type.c_str())),
            TAG_IF(pl != nullptr, SIPTAG_PAYLOAD(pl)), TAG_END());
        su_home_deinit(home);
        delete magic;
        if (!ack) return fail(400, "Bad Request (ACK could not be built)");
        nta_outgoing_destroy(ack);
        metrics.counter("sip.requests_out").add();
        sdk::SipResponse sent;
        sent.status = 200;
        sent.reason = "ACK Sent";
        try {
            on_final(std::move(sent));
        } catch (...) {
        }
        return;
    }
    nta_outgoing_t* orq = nta_outgoing_tcreate(
        leg, response_callback, reinterpret_cast<nta_outgoing_magic_t*>(magic), nullptr,
        sip_method_code(req.method.c_str()), req.method.c_str(), ruri,
        SIPTAG_HEADER_STR(headers.c_str()),
        TAG_IF(!content_type.empty(), SIPTAG_CONTENT_TYPE_STR(content_type.c_str())),
        TAG_IF(pl != nullptr, SIPTAG_PAYLOAD(pl)), TAG_END());
    su_home_deinit(home);
    if (!orq) {
        delete magic;
        STOX_LOG_WARN(log, "could not create {} to {} (bad headers or Request-URI)", req.method,
                      req.request_uri);
        return fail(400, "Bad Request (request could not be built)");
    }
    metrics.counter("sip.requests_out").add();
    outgoing.emplace(ticket, Outgoing{orq, std::move(on_final)});
}

void SipEndpoint::Impl::finish_outgoing(std::uint64_t ticket, sdk::SipResponse r) {
    auto it = outgoing.find(ticket);
    if (it == outgoing.end()) return;
    auto cb = std::move(it->second.on_final);
    nta_outgoing_destroy(it->second.orq);
    outgoing.erase(it);
    metrics.counter("sip.finals_in").add();
    try {
        cb(std::move(r));
    } catch (...) {
    }
}

// ---------------------------------------------------------------------------------------------
SipEndpoint::SipEndpoint(SipEndpointConfig config, MetricsRegistry& metrics, sdk::Logger& log)
    : config_(std::move(config)), impl_(std::make_shared<Impl>(config_, metrics, log)) {}

SipEndpoint::~SipEndpoint() {
    stop();
}

void SipEndpoint::set_request_handler(RequestHandler handler) {
    impl_->handler = std::move(handler);
}

sdk::Status SipEndpoint::start() {
    if (impl_->loop) return sdk::Status(sdk::ErrorCode::Internal, "SIP endpoint already started");
    if (config_.listen.empty())
        return sdk::Status(sdk::ErrorCode::InvalidConfig, "sip.listen is empty");
    // Group listen entries by host:port: one sofia URL per group ("sip:h:p" binds udp and tcp).
    std::vector<std::pair<std::string, std::string>> urls; // url, description
    std::map<std::pair<std::string, std::uint16_t>, std::vector<std::string>> groups;
    for (const auto& l : config_.listen) groups[{l.host, l.port}].push_back(l.transport);
    for (const auto& [hp, transports] : groups) {
        std::string url = "sip:" + host_for_url(hp.first) + ":" + std::to_string(hp.second);
        bool udp = false, tcp = false;
        for (const auto& t : transports) (t == "udp" ? udp : tcp) = true;
        if (!(udp && tcp)) url += udp ? ";transport=udp" : ";transport=tcp";
        urls.emplace_back(url, hp.first + ":" + std::to_string(hp.second));
    }
    redirect_sofia_logs(&impl_->log);
    try {
        impl_->loop = std::make_unique<SofiaLoop>();
    } catch (const std::exception& e) {
        return sdk::Status(sdk::ErrorCode::Internal, e.what());
    }
    auto impl = impl_;
    sdk::Status st = impl_->loop->call([impl, urls]() -> sdk::Status {
        const SipEndpointConfig& c = impl->cfg;
        std::string proxy = c.outbound_proxy;
        impl->agent = nta_agent_create(
            impl->loop->root(), as_url(urls[0].first.c_str()), nullptr, nullptr,
            NTATAG_UDP_MTU(c.udp_mtu), NTATAG_SIP_T1X64(c.t1x64_ms),
            NTATAG_MAXSIZE(c.max_message_bytes), NTATAG_UA(1), NTATAG_SERVER_RPORT(1),
            NTATAG_CLIENT_RPORT(1),
            TAG_IF(!proxy.empty(), NTATAG_DEFAULT_PROXY(as_url(proxy.c_str()))), TAG_END());
        if (!impl->agent)
            return sdk::Status(sdk::ErrorCode::Unreachable, "cannot listen on " + urls[0].second +
                                                                " (address in use or not local?)");
        for (std::size_t i = 1; i < urls.size(); ++i)
            if (nta_agent_add_tport(impl->agent, as_url(urls[i].first.c_str()), TAG_END()) < 0)
                return sdk::Status(sdk::ErrorCode::Unreachable,
                                   "cannot listen on " + urls[i].second +
                                       " (address in use or not local?)");
        impl->leg = nta_leg_tcreate(impl->agent, leg_callback,
                                    reinterpret_cast<nta_leg_magic_t*>(impl.get()),
                                    NTATAG_NO_DIALOG(1), TAG_END());
        if (!impl->leg) return sdk::Status(sdk::ErrorCode::Internal, "nta_leg_tcreate failed");
        impl->running = true;
        return {};
    });
    if (!st) {
        stop();
        return st;
    }
    auto addresses = bound();
    for (const auto& b : addresses)
        STOX_LOG_INFO(impl_->log, "SIP listening on {}:{}:{}", b.transport, b.host, b.port);
    {
        std::lock_guard lock(contact_mu_);
        contact_tcp_only_ =
            std::none_of(addresses.begin(), addresses.end(),
                         [](const BoundAddress& b) { return b.transport == "udp"; });
        if (!config_.contact_host.empty()) {
            contact_hostport_ = config_.contact_host;
        } else if (!addresses.empty()) {
            contact_hostport_ =
                host_for_url(addresses[0].host) + ":" + std::to_string(addresses[0].port);
            if (addresses[0].host == "0.0.0.0" || addresses[0].host == "::")
                STOX_LOG_WARN(impl_->log,
                              "SIP listens on a wildcard address; set sip.contact_host so that "
                              "Contact URIs of dialogs route back to the gateway");
        }
    }
    return {};
}

std::string SipEndpoint::contact_uri(std::string_view user) const {
    // RFC 3261 §25.1: user = 1*( unreserved / escaped / user-unreserved ).
    static const std::string_view allowed = "-_.!~*'()&=+$,;?/";
    std::string out = "sip:";
    for (unsigned char c : user) {
        if (std::isalnum(c) || allowed.find(static_cast<char>(c)) != std::string_view::npos) {
            out += static_cast<char>(c);
        } else {
            static const char* hex = "0123456789ABCDEF";
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    if (!user.empty()) out += '@';
    std::lock_guard lock(contact_mu_);
    out += contact_hostport_;
    if (contact_tcp_only_) out += ";transport=tcp";
    return out;
}

void SipEndpoint::stop() {
    if (!impl_->loop) return;
    auto impl = impl_;
    impl_->loop->call([impl] {
        impl->running = false;
        // Nothing owed may vanish: pending server transactions get 503, pending client
        // transactions complete with a synthesized 503 so their senders learn the truth.
        for (auto& [ticket, irq] : impl->incoming) {
            nta_incoming_treply(irq, 503, "Gateway Shutting Down", SIPTAG_RETRY_AFTER_STR("5"),
                                TAG_END());
            nta_incoming_destroy(irq);
        }
        impl->incoming.clear();
        auto pending = std::move(impl->outgoing);
        impl->outgoing.clear();
        for (auto& [ticket, o] : pending) {
            nta_outgoing_destroy(o.orq);
            sdk::SipResponse r;
            r.status = 503;
            r.reason = "Gateway Shutting Down";
            try {
                o.on_final(std::move(r));
            } catch (...) {
            }
        }
        if (impl->leg) nta_leg_destroy(impl->leg);
        impl->leg = nullptr;
        if (impl->agent) nta_agent_destroy(impl->agent);
        impl->agent = nullptr;
    });
    impl_->loop.reset();
    if (g_sofia_logger.load() == &impl_->log) redirect_sofia_logs(nullptr);
}

void SipEndpoint::send_request(sdk::SipRequest request,
                               std::function<void(sdk::SipResponse)> on_final) {
    auto impl = impl_;
    if (!impl->loop || !impl->running.load()) {
        sdk::SipResponse r;
        r.status = 503;
        r.reason = "SIP Endpoint Not Running";
        on_final(std::move(r));
        return;
    }
    bool posted = impl->loop->post([impl, req = std::move(request), cb = on_final]() mutable {
        impl->send(std::move(req), std::move(cb));
    });
    if (!posted) {
        sdk::SipResponse r;
        r.status = 503;
        r.reason = "SIP Endpoint Not Running";
        on_final(std::move(r));
    }
}

std::vector<BoundAddress> SipEndpoint::bound() const {
    if (!impl_->loop) return {};
    auto impl = impl_;
    return impl_->loop->call([impl] {
        std::vector<BoundAddress> out;
        if (!impl->agent) return out;
        for (tport_t* tp = tport_primaries(nta_agent_tports(impl->agent)); tp;
             tp = tport_next(tp)) {
            const tp_name_t* n = tport_name(tp);
            if (!n) continue;
            BoundAddress b;
            b.transport = n->tpn_proto ? n->tpn_proto : "";
            b.host = n->tpn_host ? n->tpn_host : "";
            b.port = static_cast<std::uint16_t>(n->tpn_port ? std::atoi(n->tpn_port) : 0);
            out.push_back(b);
        }
        return out;
    });
}

} // namespace stox::core::sip
