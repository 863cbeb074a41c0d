// SPDX-License-Identifier: Apache-2.0
// bench_sip_responder: a minimal sofia-sip (nta) UAS that answers every MESSAGE 200 at once.
// Two uses in bench/run.sh:
//   * the ceiling of the box: sipp -> this responder, the same load as through the gateway;
//   * the SIP receiver of the XMPP -> SIP direction: with --measure it reads the send stamp of
//     each body (timestamp.hpp) and records the end-to-end latency against CLOCK_REALTIME.
// On SIGTERM/SIGINT it prints one JSON line: {"received":N,"p50_us":..,"p99_us":..}.
#include <sofia-sip/nta.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su.h>
#include <sofia-sip/su_wait.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "timestamp.hpp"

namespace {

su_root_t* g_root = nullptr;
bool g_measure = false;
std::uint64_t g_received = 0;
std::vector<double> g_latency_us;
double g_first_us = 0, g_last_us = 0;

double now_us() {
    auto t = std::chrono::system_clock::now().time_since_epoch();
    return static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(t).count());
}

int on_request(nta_leg_magic_t*, nta_leg_t*, nta_incoming_t* irq, const sip_t* sip) {
    if (sip->sip_request->rq_method == sip_method_ack) {
        nta_incoming_destroy(irq);
        return 0;
    }
    ++g_received;
    g_last_us = bench::now_us();
    if (g_received == 1) g_first_us = g_last_us;
    if (g_measure && sip->sip_payload) {
        double sent = bench::parse_stamp_us(
            std::string_view(sip->sip_payload->pl_data, sip->sip_payload->pl_len));
        if (sent > 0) g_latency_us.push_back(bench::now_us() - sent);
    }
    nta_incoming_treply(irq, SIP_200_OK, TAG_END());
    nta_incoming_destroy(irq);
    return 0;
}

void on_signal(int) {
    if (g_root) su_root_break(g_root);
}

double percentile(std::vector<double>& v, double p) {
    if (v.empty()) return 0;
    std::size_t i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<long>(i), v.end());
    return v[i];
}

} // namespace

int main(int argc, char** argv) {
    std::string url = "sip:127.0.0.1:5099";
    unsigned t1x64 = 2000;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--listen") && i + 1 < argc)
            url = argv[++i];
        else if (!std::strcmp(argv[i], "--measure"))
            g_measure = true;
        else if (!std::strcmp(argv[i], "--t1x64") && i + 1 < argc)
            t1x64 = static_cast<unsigned>(std::atoi(argv[++i]));
        else {
            std::fprintf(stderr, "usage: %s [--listen sip:HOST:PORT] [--measure] [--t1x64 MS]\n",
                         argv[0]);
            return 2;
        }
    }
    su_init();
    g_root = su_root_create(nullptr);
    nta_agent_t* agent = nta_agent_create(g_root, URL_STRING_MAKE(url.c_str()), nullptr, nullptr,
                                          NTATAG_SIP_T1X64(t1x64), NTATAG_UA(1), TAG_END());
    if (!agent) {
        std::fprintf(stderr, "cannot listen on %s\n", url.c_str());
        return 1;
    }
    nta_leg_t* leg = nta_leg_tcreate(agent, on_request, nullptr, NTATAG_NO_DIALOG(1), TAG_END());
    std::signal(SIGTERM, on_signal);
    std::signal(SIGINT, on_signal);
    std::fprintf(stderr, "bench_sip_responder listening on %s\n", url.c_str());
    su_root_run(g_root);
    std::printf("{\"received\":%llu,\"p50_us\":%.0f,\"p99_us\":%.0f,\"span_s\":%.3f}\n",
                static_cast<unsigned long long>(g_received), percentile(g_latency_us, 0.50),
                percentile(g_latency_us, 0.99), (g_last_us - g_first_us) / 1e6);
    std::fflush(stdout);
    nta_leg_destroy(leg);
    nta_agent_destroy(agent);
    su_root_destroy(g_root);
    su_deinit();
    return 0;
}
