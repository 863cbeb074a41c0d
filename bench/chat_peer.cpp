// SPDX-License-Identifier: Apache-2.0
// bench_chat_peer: SIP (sofia-sip nta) + MSRP (stox_msrp_net) load peer for the chat benchmark
// (bench/chat.py, RFC 7573 session mode). Two modes:
//   answer --listen sip:127.0.0.1:P [--endpoints K]
//       the SIP side of XMPP -> SIP: answers every INVITE with m=message (a=setup:passive, RFC
//       6135 §4.2.2: the offerer connects), receives SENDs, counts them and measures the latency
//       from the send stamp in each body (timestamp.hpp). Answers BYE 200. On SIGTERM/SIGINT it
//       prints {"received","p50_us","p99_us","span_s","sessions"}.
//   call --listen sip:127.0.0.1:P --target sip:127.0.0.1:G --to sip:juliet@example.com
//        --sessions N [--endpoints K] [--cps C] [--count M --rate R] [--hold]
//       the SIP side of SIP -> XMPP: opens N sessions (INVITE a=setup:actpass + ACK, then MSRP
//       as the active side, RFC 4975 §5.4), From romeo<i>@example.net; prints "established N"
//       on stderr, then sends M SENDs at R/s round-robin over the sessions, each body stamped;
//       prints {"established","setup_failed","setup_s","sent","delivered","send_failed",
//       "seconds"}. With --hold it then keeps the sessions until SIGTERM/SIGINT or stdin EOF.
// MSRP runs on one Asio io_context thread; sofia runs su_root in the main thread (peers.md G6).
// --endpoints K spreads sessions over K MSRP listeners (K TCP connections instead of one shared
// connection, RFC 4975 §8.1 reuse works per authority).
#include <sofia-sip/nta.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/url.h>

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <stox/msrp/ids.hpp>
#include <stox/msrp/session.hpp>
#include <stox/msrp/uri.hpp>

#include "timestamp.hpp"

namespace {

namespace asio = boost::asio;
namespace msrp = stox::msrp;
using Clock = std::chrono::steady_clock;

struct Args {
    std::string mode, listen = "sip:127.0.0.1:5099", target, to = "sip:juliet@example.com";
    std::string from_domain = "example.net";
    long sessions = 1, endpoints = 1, count = 0;
    double rate = 1000, cps = 500, drain_s = 10;
    bool hold = false;
};

Args g_args;
su_root_t* g_root = nullptr;
nta_agent_t* g_agent = nullptr;
nta_leg_t* g_leg = nullptr;
asio::io_context g_ioc;
std::vector<std::shared_ptr<msrp::MsrpEndpoint>> g_endpoints; // asio thread only
std::string g_sip_host = "127.0.0.1";
std::uint16_t g_sip_port = 0;

// --- answer-side counters (asio thread) -----------------------------------------------------
std::uint64_t g_received = 0;
std::vector<double> g_latency_us;
double g_first_us = 0, g_last_us = 0;
std::atomic<long> g_answered{0};
std::vector<std::shared_ptr<msrp::MsrpSession>> g_sessions; // asio thread only

// --- call-side state ------------------------------------------------------------------------
struct Call {
    long index = 0;
    std::string call_id, from, to, local_path;
    std::uint32_t cseq = 1;
    nta_outgoing_t* orq = nullptr;
};
std::vector<Call> g_calls; // sofia thread only
std::atomic<long> g_established{0}, g_setup_failed{0};
std::atomic<long> g_delivered{0}, g_send_failed{0}, g_sent{0};
std::string g_first_failure; // asio thread: code and reason of the first failed SEND

std::string line_value(std::string_view sdp, std::string_view prefix) {
    auto p = sdp.find(prefix);
    if (p == std::string_view::npos) return {};
    p += prefix.size();
    auto e = sdp.find_first_of("\r\n", p);
    return std::string(sdp.substr(p, e == std::string_view::npos ? e : e - p));
}

std::string make_sdp(const std::string& path, std::uint16_t port, const char* setup) {
    return "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
           "m=message " +
           std::to_string(port) + " TCP/MSRP *\r\na=accept-types:text/plain\r\na=path:" + path +
           "\r\na=setup:" + setup + "\r\n";
}

double percentile(std::vector<double>& v, double p) {
    if (v.empty()) return 0;
    std::size_t i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<long>(i), v.end());
    return v[i];
}

/// Runs `fn` on the asio thread and waits for its result (sofia thread -> MSRP).
template <class F> auto on_asio(F fn) -> decltype(fn()) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto fut = task.get_future();
    asio::post(g_ioc, [&task] { task(); });
    return fut.get();
}

void on_message(msrp::IncomingMessage&& m) {
    ++g_received;
    double now = bench::now_us();
    double sent = bench::parse_stamp_us(m.body);
    if (sent <= 0) return; // e.g. the warm-up messages: not part of the timed run
    if (g_latency_us.empty()) g_first_us = now;
    g_last_us = now;
    g_latency_us.push_back(now - sent);
}

// --- answer mode ----------------------------------------------------------------------------
int answer_invite(nta_incoming_t* irq, const sip_t* sip) {
    std::string_view sdp =
        sip->sip_payload ? std::string_view(sip->sip_payload->pl_data, sip->sip_payload->pl_len)
                         : std::string_view();
    auto peer = msrp::parse_path(line_value(sdp, "a=path:"));
    if (!peer) {
        nta_incoming_treply(irq, 488, "Not Acceptable Here", TAG_END());
        nta_incoming_destroy(irq);
        return 0;
    }
    // Passive: the session must be registered before our 200 lets the offerer connect.
    auto local = on_asio([peer = *peer]() -> std::string {
        auto& ep = g_endpoints[g_sessions.size() % g_endpoints.size()];
        msrp::SessionOptions so;
        so.local_uri = ep->make_local_uri();
        so.peer_path = peer;
        so.role = msrp::SetupRole::Passive;
        msrp::SessionHandlers h;
        h.on_message = on_message;
        auto s = ep->create_session(so, std::move(h));
        if (!s) return {};
        g_sessions.push_back(*s);
        return msrp::to_string(so.local_uri) + " " + std::to_string(ep->port());
    });
    if (local.empty()) {
        nta_incoming_treply(irq, 500, "MSRP session failed", TAG_END());
        nta_incoming_destroy(irq);
        return 0;
    }
    auto sp = local.rfind(' ');
    std::string body =
        make_sdp(local.substr(0, sp), static_cast<std::uint16_t>(std::atoi(local.c_str() + sp + 1)),
                 "passive");
    std::string tag = "cp" + msrp::random_base62(10);
    nta_incoming_tag(irq, tag.c_str());
    std::string contact = "<sip:peer@" + g_sip_host + ":" + std::to_string(g_sip_port) + ">";
    nta_incoming_treply(irq, SIP_200_OK, SIPTAG_CONTACT_STR(contact.c_str()),
                        SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                        SIPTAG_PAYLOAD_STR(body.c_str()), TAG_END());
    nta_incoming_destroy(irq);
    ++g_answered;
    return 0;
}

int on_request(nta_leg_magic_t*, nta_leg_t*, nta_incoming_t* irq, const sip_t* sip) {
    auto method = sip->sip_request->rq_method;
    if (method == sip_method_ack) {
        nta_incoming_destroy(irq);
        return 0;
    }
    if (method == sip_method_invite && g_args.mode == "answer" &&
        (sip->sip_to == nullptr || sip->sip_to->a_tag == nullptr))
        return answer_invite(irq, sip);
    // BYE, re-INVITE refreshes and anything else: 200 (the benchmark never tears down early).
    nta_incoming_treply(irq, SIP_200_OK, TAG_END());
    nta_incoming_destroy(irq);
    return 0;
}

// --- call mode ------------------------------------------------------------------------------
void start_msrp(long index, std::string local_path, std::string answer_sdp) {
    asio::post(g_ioc,
               [index, local_path = std::move(local_path), answer_sdp = std::move(answer_sdp)] {
                   auto peer = msrp::parse_path(line_value(answer_sdp, "a=path:"));
                   auto local = msrp::parse_uri(local_path);
                   std::string setup = line_value(answer_sdp, "a=setup:");
                   if (!peer || !local) {
                       ++g_setup_failed;
                       return;
                   }
                   msrp::SessionOptions so;
                   so.local_uri = *local;
                   so.peer_path = *peer;
                   // RFC 6135 §4.2.2: the answerer said passive (or nothing): we, the offerer,
                   // connect.
                   so.role = setup == "active" ? msrp::SetupRole::Passive : msrp::SetupRole::Active;
                   msrp::SessionHandlers h;
                   h.on_message = on_message;
                   h.on_send_result = [](const msrp::SendResult& r) {
                       if (r.outcome != msrp::SendOutcome::Failed) {
                           ++g_delivered;
                       } else if (g_send_failed++ == 0) {
                           g_first_failure = std::to_string(r.code) + " " + r.reason;
                       }
                   };
                   h.on_closed = [](const stox::sdk::Status& st) {
                       std::fprintf(stderr, "MSRP session closed: %s\n", st.message().c_str());
                   };
                   auto& ep = g_endpoints[static_cast<std::size_t>(index) % g_endpoints.size()];
                   auto s = ep->create_session(so, std::move(h));
                   if (!s) {
                       ++g_setup_failed;
                       return;
                   }
                   g_sessions.push_back(*s);
                   ++g_established;
               });
}

int on_invite_response(nta_outgoing_magic_t* magic, nta_outgoing_t* orq, const sip_t* sip) {
    auto& c = g_calls[static_cast<std::size_t>(reinterpret_cast<std::intptr_t>(magic))];
    int status = sip && sip->sip_status ? sip->sip_status->st_status : nta_outgoing_status(orq);
    if (status < 200) return 0;
    nta_outgoing_destroy(orq);
    c.orq = nullptr;
    if (status >= 300 || !sip || !sip->sip_to || !sip->sip_to->a_tag || !sip->sip_contact) {
        std::fprintf(stderr, "INVITE %ld: %d\n", c.index, status);
        ++g_setup_failed;
        return 0;
    }
    // RFC 3261 §13.2.2.4: ACK to the Contact, the INVITE's CSeq number, the To tag.
    su_home_t home[1] = {SU_HOME_INIT(home)};
    char* contact = url_as_string(home, sip->sip_contact->m_url);
    std::string headers = "From: " + c.from + "\r\nTo: " + c.to + ";tag=" + sip->sip_to->a_tag +
                          "\r\nCall-ID: " + c.call_id + "\r\nCSeq: " + std::to_string(c.cseq) +
                          " ACK\r\n";
    nta_outgoing_t* ack = nta_outgoing_tcreate(g_leg, nullptr, nullptr, nullptr, sip_method_ack,
                                               "ACK", URL_STRING_MAKE(contact),
                                               SIPTAG_HEADER_STR(headers.c_str()), TAG_END());
    if (ack) nta_outgoing_destroy(ack);
    std::string answer = sip->sip_payload
                             ? std::string(sip->sip_payload->pl_data, sip->sip_payload->pl_len)
                             : std::string();
    su_home_deinit(home);
    start_msrp(c.index, c.local_path, std::move(answer));
    return 0;
}

void send_invite(long i) {
    auto& c = g_calls[static_cast<std::size_t>(i)];
    c.index = i;
    c.call_id = "cb-" + msrp::random_base62(16) + "@bench";
    c.from =
        "<sip:romeo" + std::to_string(i) + "@" + g_args.from_domain + ">;tag=t" + std::to_string(i);
    c.to = "<" + g_args.to + ">";
    auto ep_port = on_asio([i] {
        auto& ep = g_endpoints[static_cast<std::size_t>(i) % g_endpoints.size()];
        return std::make_pair(msrp::to_string(ep->make_local_uri()), ep->port());
    });
    c.local_path = ep_port.first;
    std::string sdp = make_sdp(c.local_path, ep_port.second, "actpass");
    std::string headers = "From: " + c.from + "\r\nTo: " + c.to + "\r\nCall-ID: " + c.call_id +
                          "\r\nCSeq: 1 INVITE\r\nContact: <sip:romeo" + std::to_string(i) + "@" +
                          g_sip_host + ":" + std::to_string(g_sip_port) + ">\r\n";
    c.orq = nta_outgoing_tcreate(
        g_leg, on_invite_response,
        reinterpret_cast<nta_outgoing_magic_t*>(static_cast<std::intptr_t>(i)),
        URL_STRING_MAKE(g_args.target.c_str()), sip_method_invite, "INVITE",
        URL_STRING_MAKE(g_args.to.c_str()), SIPTAG_HEADER_STR(headers.c_str()),
        SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(sdp.c_str()), TAG_END());
    if (!c.orq) ++g_setup_failed;
}

/// Paces SENDs on the asio thread: every millisecond, the messages due by now, round-robin.
struct Sender {
    Clock::time_point start;
    long next = 0;
    asio::steady_timer timer{g_ioc};
    std::promise<double> done;
    void tick() {
        const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
        const long due = std::min(g_args.count, static_cast<long>(elapsed * g_args.rate) + 1);
        for (; next < due; ++next) {
            auto& s = g_sessions[static_cast<std::size_t>(next) % g_sessions.size()];
            msrp::SendOptions o; // Failure-Report: yes (the default): each SEND is answered
            auto r = s->send_message(bench::stamp() + " n=" + std::to_string(next), "text/plain",
                                     std::move(o));
            if (r) {
                ++g_sent;
            } else if (g_send_failed++ == 0) {
                g_first_failure = "send_message: " + r.status().message();
            }
        }
        if (next >= g_args.count) {
            done.set_value(std::chrono::duration<double>(Clock::now() - start).count());
            return;
        }
        timer.expires_after(std::chrono::milliseconds(1));
        timer.async_wait([this](const boost::system::error_code& ec) {
            if (!ec) tick();
        });
    }
};

/// Drives su_root for `ms` milliseconds (the sofia thread stays responsive while we wait).
void run_sofia_for(long ms) {
    su_root_sleep(g_root, static_cast<su_duration_t>(ms));
}

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) {
    g_stop = 1;
    if (g_root) su_root_break(g_root);
}

int call_mode() {
    g_calls.resize(static_cast<std::size_t>(g_args.sessions));
    auto t0 = Clock::now();
    const double gap_ms = 1000.0 / g_args.cps;
    for (long i = 0; i < g_args.sessions && !g_stop; ++i) {
        send_invite(i);
        auto due = t0 + std::chrono::microseconds(static_cast<long>((i + 1) * gap_ms * 1000));
        while (Clock::now() < due) su_root_step(g_root, 1);
    }
    // Wait until every session is up (bound on the MSRP side) or failed.
    auto deadline = Clock::now() + std::chrono::seconds(60);
    while (!g_stop && g_established + g_setup_failed < g_args.sessions && Clock::now() < deadline)
        run_sofia_for(20);
    // The active side binds with its first SEND (MSRP-32): give the bindings a moment.
    run_sofia_for(300);
    const double setup_s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::fprintf(stderr, "established %ld failed %ld in %.2f s\n", g_established.load(),
                 g_setup_failed.load(), setup_s);
    double seconds = 0;
    if (g_args.count > 0 && g_established > 0) {
        Sender sender;
        auto fut = sender.done.get_future();
        asio::post(g_ioc, [&sender] {
            sender.start = Clock::now();
            sender.tick();
        });
        while (fut.wait_for(std::chrono::milliseconds(0)) != std::future_status::ready)
            run_sofia_for(20);
        seconds = fut.get();
        auto end =
            Clock::now() + std::chrono::milliseconds(static_cast<long>(g_args.drain_s * 1000));
        while (!g_stop && g_delivered + g_send_failed < g_sent + 0 && Clock::now() < end)
            run_sofia_for(20);
        on_asio([&sender] {
            sender.timer.cancel();
            return 0;
        });
    }
    std::string failure = on_asio([] { return g_first_failure; });
    if (!failure.empty()) std::fprintf(stderr, "first failed SEND: %s\n", failure.c_str());
    std::printf("{\"established\":%ld,\"setup_failed\":%ld,\"setup_s\":%.3f,\"sent\":%ld,"
                "\"delivered\":%ld,\"send_failed\":%ld,\"seconds\":%.3f}\n",
                g_established.load(), g_setup_failed.load(), setup_s, g_sent.load(),
                g_delivered.load(), g_send_failed.load(), seconds);
    std::fflush(stdout);
    if (g_args.hold) {
        // Keep the sessions up until SIGTERM/SIGINT or stdin EOF (the driver measures memory).
        while (!g_stop) {
            pollfd p{0, POLLIN, 0};
            if (::poll(&p, 1, 0) > 0) {
                char buf[256];
                if (::read(0, buf, sizeof buf) <= 0) break;
            }
            run_sofia_for(50);
        }
    }
    return g_established == g_args.sessions ? 0 : 3;
}

int answer_mode() {
    su_root_run(g_root);
    auto out = on_asio([] {
        char buf[256];
        std::snprintf(buf, sizeof buf,
                      "{\"received\":%llu,\"p50_us\":%.0f,\"p99_us\":%.0f,\"span_s\":%.3f,"
                      "\"sessions\":%zu}\n",
                      static_cast<unsigned long long>(g_received), percentile(g_latency_us, 0.5),
                      percentile(g_latency_us, 0.99), (g_last_us - g_first_us) / 1e6,
                      g_sessions.size());
        return std::string(buf);
    });
    std::fputs(out.c_str(), stdout);
    std::fflush(stdout);
    return 0;
}

int usage(const char* argv0) {
    std::fprintf(stderr,
                 "usage: %s answer|call --listen sip:127.0.0.1:PORT [--endpoints K]\n"
                 "  call: --target sip:HOST:PORT [--to sip:juliet@example.com] [--sessions N]\n"
                 "        [--cps C] [--count M --rate R] [--drain-s S] [--hold]\n",
                 argv0);
    return 2;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) return usage(argv[0]);
    Args& a = g_args;
    a.mode = argv[1];
    for (int i = 2; i < argc; ++i) {
        std::string k = argv[i];
        if (k == "--hold") {
            a.hold = true;
            continue;
        }
        if (i + 1 >= argc) return usage(argv[0]);
        std::string v = argv[++i];
        if (k == "--listen")
            a.listen = v;
        else if (k == "--target")
            a.target = v;
        else if (k == "--to")
            a.to = v;
        else if (k == "--from-domain")
            a.from_domain = v;
        else if (k == "--sessions")
            a.sessions = std::atol(v.c_str());
        else if (k == "--endpoints")
            a.endpoints = std::max(1L, std::atol(v.c_str()));
        else if (k == "--count")
            a.count = std::atol(v.c_str());
        else if (k == "--rate")
            a.rate = std::atof(v.c_str());
        else if (k == "--cps")
            a.cps = std::atof(v.c_str());
        else if (k == "--drain-s")
            a.drain_s = std::atof(v.c_str());
        else
            return usage(argv[0]);
    }
    if ((a.mode != "answer" && a.mode != "call") || (a.mode == "call" && a.target.empty()) ||
        a.sessions < 1 || a.rate <= 0 || a.cps <= 0)
        return usage(argv[0]);
    // sip:HOST:PORT -> our Contact host/port.
    if (auto p = a.listen.rfind(':'); p != std::string::npos && p > 4) {
        g_sip_port = static_cast<std::uint16_t>(std::atoi(a.listen.c_str() + p + 1));
        g_sip_host = a.listen.substr(4, p - 4);
    }

    auto guard = asio::make_work_guard(g_ioc);
    std::thread io([] { g_ioc.run(); });
    const bool listening = on_asio([&a] {
        for (long i = 0; i < a.endpoints; ++i) {
            msrp::EndpointOptions eo;
            auto ep = msrp::MsrpEndpoint::create(g_ioc.get_executor(), eo);
            if (!ep->listen()) return false;
            g_endpoints.push_back(ep);
        }
        return true;
    });
    int rc = 1;
    if (!listening) {
        std::fprintf(stderr, "MSRP listen failed\n");
    } else {
        su_init();
        g_root = su_root_create(nullptr);
        g_agent = nta_agent_create(g_root, URL_STRING_MAKE(a.listen.c_str()), nullptr, nullptr,
                                   NTATAG_SIP_T1X64(4000), NTATAG_UA(1), TAG_END());
        if (!g_agent) {
            std::fprintf(stderr, "cannot listen on %s\n", a.listen.c_str());
        } else {
            g_leg = nta_leg_tcreate(g_agent, on_request, nullptr, NTATAG_NO_DIALOG(1), TAG_END());
            std::signal(SIGTERM, on_signal);
            std::signal(SIGINT, on_signal);
            std::fprintf(stderr, "bench_chat_peer %s on %s\n", a.mode.c_str(), a.listen.c_str());
            rc = a.mode == "answer" ? answer_mode() : call_mode();
            nta_leg_destroy(g_leg);
            nta_agent_destroy(g_agent);
        }
        su_root_destroy(g_root);
        su_deinit();
    }
    on_asio([] {
        g_sessions.clear();
        for (auto& ep : g_endpoints) ep->shutdown();
        g_endpoints.clear();
        return 0;
    });
    guard.reset();
    g_ioc.stop();
    io.join();
    return rc;
}
