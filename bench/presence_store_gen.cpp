// SPDX-License-Identifier: Apache-2.0
// bench_presence_store_gen: fills a presence-plugin SQLite store (stox-core §2.6) with realistic
// subscriptions for bench/presence.py, through the plugin's own SqliteStore (same schema, same
// encoding as a gateway that created them):
//   W-X (--watchers N): XMPP user uI@XMPP watches SIP contact sip:cJ@SIP; the gateway is the SIP
//     subscriber (RFC 6665 §4.1). Authorized, `subscribed` sent, active dialog.
//   W-S (--notifiers M): SIP watcher sip:wJ@SIP watches XMPP contact CONTACT; the gateway is the
//     SIP notifier (RFC 6665 §4.2). Approved (RFC 8048 §5.3.1), active dialog.
// Every dialog is active, expires an hour ahead (RFC 3856 §6.4 default) and has its remote target
// at the SIP responder the benchmark runs (--target HOST:PORT), so that any NOTIFY or refresh the
// gateway sends is answered.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "store/sqlite_store.hpp"

namespace st = stox::presence::store;

namespace {

struct Options {
    std::string path;
    long watchers = 0;
    long notifiers = 0;
    long users = 1000; ///< W-X: XMPP users the watchers are spread over
    std::string target = "127.0.0.1:5099";
    std::string contact = "juliet@example.com"; ///< W-S: the XMPP contact watched
    std::string xmpp_domain = "example.com";
    std::string sip_domain = "example.net";
    long expires_in = 3600;
};

int usage(const char* argv0) {
    std::fprintf(stderr,
                 "usage: %s --path FILE [--watchers N] [--notifiers M] [--target HOST:PORT]\n"
                 "          [--contact JID] [--users U] [--xmpp-domain D] [--sip-domain D]\n"
                 "          [--expires-in SECONDS]\n"
                 "  Writes N W-X and M W-S subscriptions (active dialogs) into a new store FILE.\n",
                 argv0);
    return 2;
}

bool parse_count(const char* s, long& out) {
    char* end = nullptr;
    const long v = std::strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < 0) return false;
    out = v;
    return true;
}

st::DialogRecord dialog(const Options& o, const std::string& local, const std::string& remote,
                        const std::string& user, long i, std::int64_t now) {
    st::DialogRecord d;
    const std::string n = std::to_string(i);
    d.call_id = "bench-" + n + "-7f3a91c2@gw." + o.sip_domain;
    d.local_uri = local;
    d.local_tag = "lt" + n;
    d.remote_uri = remote;
    d.remote_tag = "rt" + n;
    // The peer's Contact (a bare URI, as the roles keep it).
    d.remote_target = "sip:" + user + "@" + o.target;
    d.local_cseq = 1;
    d.remote_cseq = 1;
    d.expires_at = now + o.expires_in;
    d.state = st::SubState::active;
    d.accept = "application/pidf+xml";
    return d;
}

} // namespace

int main(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const char* a = argv[i];
        const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
        if (v == nullptr) return usage(argv[0]);
        ++i;
        if (!std::strcmp(a, "--path"))
            o.path = v;
        else if (!std::strcmp(a, "--watchers")) {
            if (!parse_count(v, o.watchers)) return usage(argv[0]);
        } else if (!std::strcmp(a, "--notifiers")) {
            if (!parse_count(v, o.notifiers)) return usage(argv[0]);
        } else if (!std::strcmp(a, "--users")) {
            if (!parse_count(v, o.users) || o.users == 0) return usage(argv[0]);
        } else if (!std::strcmp(a, "--expires-in")) {
            if (!parse_count(v, o.expires_in)) return usage(argv[0]);
        } else if (!std::strcmp(a, "--target"))
            o.target = v;
        else if (!std::strcmp(a, "--contact"))
            o.contact = v;
        else if (!std::strcmp(a, "--xmpp-domain"))
            o.xmpp_domain = v;
        else if (!std::strcmp(a, "--sip-domain"))
            o.sip_domain = v;
        else
            return usage(argv[0]);
    }
    if (o.path.empty()) return usage(argv[0]);
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(o.path + suffix);

    st::StoreOptions so;
    so.path = o.path;
    so.batch_max_records = 10000; // commit in large transactions: this is a bulk load
    auto opened = st::SqliteStore::open(so);
    if (!opened) {
        std::fprintf(stderr, "cannot open %s: %s\n", o.path.c_str(),
                     opened.status().message().c_str());
        return 1;
    }
    auto& store = *opened.value();
    const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();

    for (long i = 0; i < o.watchers; ++i) {
        st::WatcherRecord w;
        const std::string user = "u" + std::to_string(i % o.users) + "@" + o.xmpp_domain;
        const std::string contact_user = "c" + std::to_string(i);
        w.key = {user, "sip:" + contact_user + "@" + o.sip_domain};
        w.authorized = true;
        w.subscribed_sent = true;
        w.dialog = dialog(o, "sip:" + user, w.key.sip_contact, contact_user, i, now);
        w.announced_resources = {"phone"};
        store.put_watcher(std::move(w));
    }
    for (long i = 0; i < o.notifiers; ++i) {
        st::NotifierRecord n;
        const std::string watcher_user = "w" + std::to_string(i);
        n.key = {"sip:" + watcher_user + "@" + o.sip_domain, o.contact};
        n.approval = st::Approval::approved;
        n.dialog =
            dialog(o, "sip:" + o.contact, n.key.sip_watcher, watcher_user, o.watchers + i, now);
        store.put_notifier(std::move(n));
    }
    if (auto s = store.flush(); !s) {
        std::fprintf(stderr, "flush of %s failed: %s\n", o.path.c_str(), s.message().c_str());
        return 1;
    }
    std::printf("{\"path\":\"%s\",\"watchers\":%ld,\"notifiers\":%ld}\n", o.path.c_str(),
                o.watchers, o.notifiers);
    return 0;
}
