// SPDX-License-Identifier: Apache-2.0
// stox_presence_store_bench [path] [count]: writes `count` (default 100000) subscription
// records (80 % W-X watchers, 20 % W-S notifiers, most with a dialog) into a fresh SQLite
// store, reopens it and times load_all(). Prints figures; asserts nothing.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include "store/sqlite_store.hpp"

namespace st = stox::presence::store;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

st::DialogRecord dialog(int i) {
    st::DialogRecord d;
    d.call_id = "c" + std::to_string(i) + "-5b1f0e7a9c@gw.example.com";
    d.local_uri = "sip:user" + std::to_string(i) + "@example.com";
    d.local_tag = "a8f3" + std::to_string(i);
    d.remote_uri = "sip:contact" + std::to_string(i) + "@example.net";
    d.remote_tag = "77c1" + std::to_string(i);
    d.remote_target = "<sip:contact" + std::to_string(i) + "@192.0.2.7:5061;transport=tls>";
    d.route_set = {"<sip:edge1.example.net;lr>", "<sip:core.example.net;lr>"};
    d.local_cseq = 4;
    d.remote_cseq = 17;
    d.expires_at = 1700003600 + i;
    d.state = st::SubState::active;
    d.accept = "application/pidf+xml";
    return d;
}

} // namespace

int main(int argc, char** argv) {
    const std::string path = argc > 1 ? argv[1]
                                      : (std::filesystem::temp_directory_path() /
                                         ("stox-store-bench-" + std::to_string(::getpid()) + ".db"))
                                            .string();
    const int count = argc > 2 ? std::atoi(argv[2]) : 100000;
    if (count <= 0) {
        std::fprintf(stderr, "usage: %s [path] [count>0]\n", argv[0]);
        return 2;
    }
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    st::StoreOptions o;
    o.path = path;

    const int watchers = count * 8 / 10;
    double put_ms = 0;
    double flush_ms = 0;
    double close_ms = 0;
    {
        auto r = st::SqliteStore::open(o);
        if (!r.ok()) {
            std::fprintf(stderr, "%s\n", r.status().message().c_str());
            return 1;
        }
        auto& s = *r.value();
        // Build the records first: only the put_* calls are timed (the plugin's cost).
        std::vector<st::WatcherRecord> ws;
        std::vector<st::NotifierRecord> ns;
        for (int i = 0; i < count; ++i) {
            if (i < watchers) {
                st::WatcherRecord w;
                w.key = {"user" + std::to_string(i) + "@example.com",
                         "sip:contact" + std::to_string(i) + "@example.net"};
                w.authorized = w.subscribed_sent = true;
                if (i % 10 != 0) w.dialog = dialog(i);
                w.announced_resources = {"laptop", "phone"};
                ws.push_back(std::move(w));
            } else {
                st::NotifierRecord n;
                n.key = {"sip:watcher" + std::to_string(i) + "@example.net",
                         "contact" + std::to_string(i) + "@example.com"};
                n.approval = st::Approval::approved;
                n.dialog = dialog(i);
                ns.push_back(std::move(n));
            }
        }
        auto t0 = Clock::now();
        for (auto& w : ws) s.put_watcher(std::move(w));
        for (auto& n : ns) s.put_notifier(std::move(n));
        put_ms = ms_since(t0);
        t0 = Clock::now();
        if (auto st2 = s.flush(); !st2) {
            std::fprintf(stderr, "%s\n", st2.message().c_str());
            return 1;
        }
        flush_ms = ms_since(t0);
        const auto c = s.counters();
        std::printf("write: %d records, put_* total %.1f ms (%.2f us/call), background+final "
                    "commits %llu, final flush %.1f ms\n",
                    count, put_ms, put_ms * 1000.0 / count,
                    static_cast<unsigned long long>(c.commits), flush_ms);
        t0 = Clock::now();
        (void)s.close();
        close_ms = ms_since(t0);
    }
    std::printf("close (checkpoint): %.1f ms, file %.1f MiB\n", close_ms,
                static_cast<double>(std::filesystem::file_size(path)) / (1024.0 * 1024.0));

    auto t0 = Clock::now();
    auto r = st::SqliteStore::open(o);
    if (!r.ok()) {
        std::fprintf(stderr, "%s\n", r.status().message().c_str());
        return 1;
    }
    const double open_ms = ms_since(t0);
    std::size_t bytes = 0;
    t0 = Clock::now();
    auto l =
        r.value()->load_all({[&](st::WatcherRecord&& w) { bytes += w.key.xmpp_user.size(); },
                             [&](st::NotifierRecord&& n) { bytes += n.key.sip_watcher.size(); }});
    const double load_ms = ms_since(t0);
    if (!l.ok()) {
        std::fprintf(stderr, "%s\n", l.status().message().c_str());
        return 1;
    }
    std::printf("reopen %.1f ms, load_all %.1f ms: %zu watchers + %zu notifiers (%zu skipped)\n",
                open_ms, load_ms, l->watchers, l->notifiers, l->skipped);
    r.value().reset();
    if (argc <= 1)
        for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    return bytes > 0 ? 0 : 1;
}
