// SPDX-License-Identifier: Apache-2.0
// SqliteStore: the durable state of stox-core §2.6 (W-X and W-S authorizations with their
// RFC 6665 dialogs), write-behind batching, reopen, and refusal of bad files.
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <thread>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include "store/sqlite_store.hpp"

namespace st = stox::presence::store;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using stox::sdk::ErrorCode;

namespace {

class TempDir {
public:
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "stox-store-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    [[nodiscard]] std::string file(const char* name) const { return (path_ / name).string(); }

private:
    fs::path path_;
};

st::DialogRecord dialog(int i) {
    st::DialogRecord d;
    d.call_id = "call-" + std::to_string(i) + "@gw.example.com";
    d.local_uri = "sip:juliet@example.com";
    d.local_tag = "lt" + std::to_string(i);
    d.remote_uri = "sip:romeo@example.net";
    d.remote_tag = "rt" + std::to_string(i);
    d.remote_target = "<sip:romeo@192.0.2.7:5060;transport=tcp>";
    d.route_set = {"<sip:p1.example.net;lr>", "<sip:p2.example.net;lr>"};
    d.local_cseq = static_cast<std::uint32_t>(i) + 1;
    d.remote_cseq = static_cast<std::uint32_t>(i) * 7;
    d.expires_at = 1700000000 + i;
    d.state = static_cast<st::SubState>(i % 3);
    d.accept = "application/pidf+xml";
    return d;
}

st::WatcherRecord watcher(int i) {
    st::WatcherRecord w;
    w.key = {"user" + std::to_string(i) + "@example.com",
             "sip:contact" + std::to_string(i % 97) + "@example.net"};
    w.authorized = i % 2 == 0;
    w.subscribed_sent = i % 3 == 0;
    w.pending_out = i % 5 == 0;
    if (i % 4 != 0) w.dialog = dialog(i);
    w.backoff_until = i % 7 == 0 ? 1700000600 + i : 0;
    w.backoff_seconds = i % 7 == 0 ? 120 : 0;
    for (int k = 0; k < i % 3; ++k) w.announced_resources.push_back("res" + std::to_string(k));
    return w;
}

st::NotifierRecord notifier(int i) {
    st::NotifierRecord n;
    n.key = {"sip:watcher" + std::to_string(i) + "@example.net",
             "contact" + std::to_string(i % 13) + "@example.com"};
    n.approval = static_cast<st::Approval>(i % 4);
    if (i % 2 == 0) n.dialog = dialog(i);
    return n;
}

st::StoreOptions options(const std::string& path) {
    st::StoreOptions o;
    o.path = path;
    return o;
}

std::unique_ptr<st::SqliteStore> open_ok(const st::StoreOptions& o) {
    auto r = st::SqliteStore::open(o);
    if (!r.ok()) ADD_FAILURE() << r.status().message();
    return r.ok() ? std::move(r).value() : nullptr;
}

struct Loaded {
    std::map<st::WatcherKey, st::WatcherRecord> watchers;
    std::map<st::NotifierKey, st::NotifierRecord> notifiers;
    st::LoadStats stats;
};

Loaded load(st::SubscriptionStore& s) {
    Loaded l;
    auto r = s.load_all({[&](st::WatcherRecord&& w) {
                             auto k = w.key;
                             EXPECT_TRUE(l.watchers.emplace(k, std::move(w)).second);
                         },
                         [&](st::NotifierRecord&& n) {
                             auto k = n.key;
                             EXPECT_TRUE(l.notifiers.emplace(k, std::move(n)).second);
                         }});
    EXPECT_TRUE(r.ok()) << r.status().message();
    if (r.ok()) l.stats = r.value();
    return l;
}

/// Row count seen by an independent connection: what is really committed to the file.
long long committed_rows(const std::string& path, const char* table) {
    sqlite3* db = nullptr;
    long long n = -1;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
        sqlite3_stmt* s = nullptr;
        const std::string sql = std::string("SELECT count(*) FROM ") + table;
        if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK &&
            sqlite3_step(s) == SQLITE_ROW)
            n = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
    }
    sqlite3_close(db);
    return n;
}

void exec_raw(const std::string& path, const char* sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
}

template <class Pred> bool wait_for(Pred pred, std::chrono::milliseconds limit = 10s) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(2ms);
    }
    return true;
}

// --- round trip ------------------------------------------------------------------------------

TEST(StoreSqlite, RoundTripsEveryFieldAcrossReopen) {
    TempDir dir;
    const auto path = dir.file("presence.db");
    std::vector<st::WatcherRecord> ws;
    std::vector<st::NotifierRecord> ns;
    for (int i = 0; i < 24; ++i) ws.push_back(watcher(i)); // every flag/state/dialog mix
    for (int i = 0; i < 8; ++i) ns.push_back(notifier(i)); // every Approval, with/without dialog
    // Extremes of the integer fields, and bytes that are not UTF-8.
    ws[1].dialog->local_cseq = std::numeric_limits<std::uint32_t>::max();
    ws[1].dialog->remote_cseq = std::numeric_limits<std::uint32_t>::max();
    ws[1].dialog->expires_at = std::numeric_limits<std::int64_t>::max();
    ws[1].backoff_until = std::numeric_limits<std::int64_t>::min();
    ws[1].backoff_seconds = std::numeric_limits<std::uint32_t>::max();
    ws[2].announced_resources = {"", std::string("a\0b", 3), "\xc3\x28", "4:x,"};
    ws[2].dialog->route_set.clear();
    ws[3].dialog->call_id.clear(); // an empty Call-ID is still "a dialog", not "no dialog"
    {
        auto s = open_ok(options(path));
        ASSERT_TRUE(s);
        for (const auto& w : ws) s->put_watcher(w);
        for (const auto& n : ns) s->put_notifier(n);
        ASSERT_TRUE(s->close().ok());
    }
    auto s = open_ok(options(path));
    ASSERT_TRUE(s);
    const auto l = load(*s);
    EXPECT_EQ(l.stats.watchers, ws.size());
    EXPECT_EQ(l.stats.notifiers, ns.size());
    EXPECT_EQ(l.stats.skipped, 0U);
    for (const auto& w : ws) {
        ASSERT_TRUE(l.watchers.count(w.key)) << w.key.xmpp_user;
        EXPECT_EQ(l.watchers.at(w.key), w) << w.key.xmpp_user;
    }
    for (const auto& n : ns) {
        ASSERT_TRUE(l.notifiers.count(n.key)) << n.key.sip_watcher;
        EXPECT_EQ(l.notifiers.at(n.key), n) << n.key.sip_watcher;
    }
}

TEST(StoreSqlite, OverwriteAndEraseInAndAcrossBatches) {
    TempDir dir;
    const auto path = dir.file("presence.db");
    auto s = open_ok(options(path));
    ASSERT_TRUE(s);
    for (int i = 0; i < 6; ++i) s->put_watcher(watcher(i));
    for (int i = 0; i < 4; ++i) s->put_notifier(notifier(i));
    ASSERT_TRUE(s->flush().ok());

    auto w0 = watcher(0);
    w0.subscribed_sent = !w0.subscribed_sent;
    w0.dialog = dialog(42);
    s->put_watcher(w0);               // overwrite a committed row
    s->erase_watcher(watcher(1).key); // erase a committed row
    s->put_watcher(watcher(100));     // put then erase in the same batch
    s->erase_watcher(watcher(100).key);
    s->erase_watcher(watcher(2).key); // erase then put back in the same batch
    s->put_watcher(watcher(2));
    s->erase_watcher(watcher(999).key); // erase of an unknown key
    auto n1 = notifier(1);
    n1.approval = st::Approval::rejected;
    n1.dialog.reset(); // dialog destroyed (RFC 8048 §5.3.1 decline)
    s->put_notifier(n1);
    s->erase_notifier(notifier(3).key);
    ASSERT_TRUE(s->flush().ok());

    const auto l = load(*s);
    EXPECT_EQ(l.watchers.size(), 5U);
    EXPECT_EQ(l.watchers.at(w0.key), w0);
    EXPECT_FALSE(l.watchers.count(watcher(1).key));
    EXPECT_FALSE(l.watchers.count(watcher(100).key));
    EXPECT_EQ(l.watchers.at(watcher(2).key), watcher(2));
    EXPECT_EQ(l.notifiers.size(), 3U);
    EXPECT_EQ(l.notifiers.at(n1.key), n1);
    EXPECT_FALSE(l.notifiers.count(notifier(3).key));
}

TEST(StoreSqlite, HundredThousandRecordsPutReopenLoad) {
    TempDir dir;
    const auto path = dir.file("presence.db");
    constexpr int kWatchers = 80000;
    constexpr int kNotifiers = 20000;
    {
        auto s = open_ok(options(path));
        ASSERT_TRUE(s);
        for (int i = 0; i < kWatchers; ++i) s->put_watcher(watcher(i));
        for (int i = 0; i < kNotifiers; ++i) s->put_notifier(notifier(i));
        ASSERT_TRUE(s->close().ok());
    }
    EXPECT_EQ(committed_rows(path, "watcher"), kWatchers);
    auto s = open_ok(options(path));
    ASSERT_TRUE(s);
    const auto l = load(*s);
    ASSERT_EQ(l.watchers.size(), static_cast<std::size_t>(kWatchers));
    ASSERT_EQ(l.notifiers.size(), static_cast<std::size_t>(kNotifiers));
    for (int i = 0; i < kWatchers; ++i) {
        const auto w = watcher(i);
        auto it = l.watchers.find(w.key);
        ASSERT_NE(it, l.watchers.end()) << i;
        ASSERT_EQ(it->second, w) << i;
    }
    for (int i = 0; i < kNotifiers; ++i) {
        const auto n = notifier(i);
        auto it = l.notifiers.find(n.key);
        ASSERT_NE(it, l.notifiers.end()) << i;
        ASSERT_EQ(it->second, n) << i;
    }
}

// --- write-behind ----------------------------------------------------------------------------

TEST(StoreSqlite, WriteBehindCoalescesUntilFlush) {
    TempDir dir;
    const auto path = dir.file("presence.db");
    auto o = options(path);
    o.batch_interval = std::chrono::hours(1); // only flush() commits in this test
    o.batch_max_records = 1000000;
    auto s = open_ok(o);
    ASSERT_TRUE(s);
    for (int round = 0; round < 20; ++round)
        for (int i = 0; i < 100; ++i) {
            auto w = watcher(i);
            w.backoff_seconds = static_cast<std::uint32_t>(round);
            s->put_watcher(w); // 2000 calls, 100 distinct keys
        }
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(committed_rows(path, "watcher"), 0); // nothing reached the file yet
    EXPECT_EQ(s->counters().commits, 0U);

    ASSERT_TRUE(s->flush().ok());
    EXPECT_EQ(committed_rows(path, "watcher"), 100);
    EXPECT_EQ(s->counters().commits, 1U);        // one transaction ...
    EXPECT_EQ(s->counters().rows_written, 100U); // ... with one row per key: the last value
    EXPECT_EQ(load(*s).watchers.at(watcher(5).key).backoff_seconds, 19U);
    ASSERT_TRUE(s->flush().ok()); // nothing pending: no empty transaction
    EXPECT_EQ(s->counters().commits, 1U);
}

TEST(StoreSqlite, BatchSizeAndIntervalTriggerBackgroundCommit) {
    TempDir dir;
    {
        auto o = options(dir.file("size.db"));
        o.batch_interval = std::chrono::hours(1);
        o.batch_max_records = 10;
        auto s = open_ok(o);
        ASSERT_TRUE(s);
        for (int i = 0; i < 9; ++i) s->put_watcher(watcher(i));
        std::this_thread::sleep_for(50ms);
        EXPECT_EQ(s->counters().commits, 0U); // below the size limit, window of one hour
        s->put_watcher(watcher(9));
        EXPECT_TRUE(wait_for([&] { return s->counters().rows_written == 10; }));
        EXPECT_EQ(committed_rows(dir.file("size.db"), "watcher"), 10);
    }
    {
        auto o = options(dir.file("interval.db"));
        o.batch_interval = 20ms;
        auto s = open_ok(o);
        ASSERT_TRUE(s);
        s->put_notifier(notifier(1));
        EXPECT_TRUE(wait_for([&] { return s->counters().commits == 1; }));
        EXPECT_EQ(committed_rows(dir.file("interval.db"), "notifier"), 1);
    }
}

TEST(StoreSqlite, CloseCommitsPendingAndLaterCallsAreRefused) {
    TempDir dir;
    const auto path = dir.file("presence.db");
    auto o = options(path);
    o.batch_interval = std::chrono::hours(1);
    auto s = open_ok(o);
    ASSERT_TRUE(s);
    s->put_watcher(watcher(1));
    ASSERT_TRUE(s->close().ok());
    EXPECT_EQ(committed_rows(path, "watcher"), 1);
    s->put_watcher(watcher(2)); // dropped, no crash
    EXPECT_FALSE(s->flush().ok());
    EXPECT_FALSE(s->load_all({}).ok());
    EXPECT_TRUE(s->close().ok()); // idempotent
    s.reset();                    // destructor after close
    EXPECT_EQ(committed_rows(path, "watcher"), 1);
}

TEST(StoreSqlite, FailedCommitIsReportedAndRetried) {
    TempDir dir;
    const auto path = dir.file("presence.db");
    auto o = options(path);
    o.batch_interval = std::chrono::hours(1);
    o.busy_timeout = 10ms;
    auto s = open_ok(o);
    ASSERT_TRUE(s);

    // Another connection holds the write lock (e.g. an operator's sqlite3 shell).
    sqlite3* other = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
    s->put_watcher(watcher(1));
    const auto st = s->flush();
    EXPECT_FALSE(st.ok());
    EXPECT_NE(st.message().find(path), std::string::npos) << st.message();
    EXPECT_FALSE(s->health().ok());
    s->put_watcher(watcher(2)); // put_* keeps working while the disk is unavailable

    ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(other);
    ASSERT_TRUE(s->flush().ok()); // the failed batch was kept and is written now
    EXPECT_TRUE(s->health().ok());
    const auto l = load(*s);
    EXPECT_EQ(l.watchers.size(), 2U);
    EXPECT_EQ(l.watchers.at(watcher(1).key), watcher(1));
}

TEST(StoreSqlite, ConcurrentWritersFlushAndBackgroundThread) {
    TempDir dir;
    auto o = options(dir.file("presence.db"));
    o.batch_interval = 1ms;
    o.batch_max_records = 50;
    auto s = open_ok(o);
    ASSERT_TRUE(s);
    constexpr int kThreads = 4;
    constexpr int kPerThread = 2000;
    std::atomic<bool> done{false};
    std::thread flusher([&] {
        while (!done.load()) {
            EXPECT_TRUE(s->flush().ok());
            (void)s->health();
            (void)s->counters();
        }
    });
    std::vector<std::thread> writers;
    for (int t = 0; t < kThreads; ++t)
        writers.emplace_back([&, t] {
            for (int i = t * kPerThread; i < (t + 1) * kPerThread; ++i) {
                s->put_watcher(watcher(i));
                if (i % 3 == 0) s->put_notifier(notifier(i));
                if (i % 10 == 0) s->erase_watcher(watcher(i).key);
            }
        });
    for (auto& w : writers) w.join();
    done = true;
    flusher.join();
    const auto l = load(*s);
    EXPECT_EQ(l.watchers.size(), static_cast<std::size_t>(kThreads * kPerThread * 9 / 10));
    EXPECT_EQ(l.stats.notifiers, 2667U); // i % 3 == 0 for i in [0, 8000)
    EXPECT_EQ(l.watchers.at(watcher(7).key), watcher(7));
    EXPECT_FALSE(l.watchers.count(watcher(70).key));
}

// --- files -----------------------------------------------------------------------------------

TEST(StoreSqlite, CreatesFilesWithMode0600) {
    TempDir dir;
    const auto path = dir.file("presence.db");
    const mode_t old = ::umask(0);
    auto s = open_ok(options(path));
    ::umask(old);
    ASSERT_TRUE(s);
    s->put_watcher(watcher(1));
    ASSERT_TRUE(s->flush().ok());
    for (const auto& f : {path, path + "-wal"}) {
        struct stat sb {};
        ASSERT_EQ(::stat(f.c_str(), &sb), 0) << f;
        EXPECT_EQ(sb.st_mode & 0777, 0600U) << f;
    }
}

TEST(StoreSqlite, GarbageFileIsAnErrorNamingThePath) {
    TempDir dir;
    const auto path = dir.file("garbage.db");
    {
        std::ofstream f(path, std::ios::binary);
        for (int i = 0; i < 10000; ++i) f.put(static_cast<char>((i * 131) & 0xff));
    }
    auto r = st::SqliteStore::open(options(path));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find("not a database"), std::string::npos)
        << r.status().message();
}

TEST(StoreSqlite, DamagedPagesAreAnErrorNotACrash) {
    TempDir dir;
    const auto path = dir.file("damaged.db");
    {
        auto s = open_ok(options(path));
        ASSERT_TRUE(s);
        for (int i = 0; i < 3000; ++i) s->put_watcher(watcher(i));
        ASSERT_TRUE(s->close().ok()); // last connection: checkpoints the WAL into the file
    }
    ASSERT_GT(fs::file_size(path), 64U * 1024U);
    {
        // Overwrite pages 3..18 (page size 4096): b-tree pages of the watcher table.
        std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(2 * 4096);
        for (int i = 0; i < 16 * 4096; ++i) f.put('\xa5');
    }
    // Page 1 (schema) and page 2 (version) are intact, so open() succeeds; reading fails.
    auto r = st::SqliteStore::open(options(path));
    ASSERT_TRUE(r.ok()) << r.status().message();
    auto l = r.value()->load_all({[](st::WatcherRecord&&) {}, {}});
    ASSERT_FALSE(l.ok());
    EXPECT_NE(l.status().message().find(path), std::string::npos) << l.status().message();
    EXPECT_NE(l.status().message().find("malformed"), std::string::npos) << l.status().message();
}

TEST(StoreSqlite, RefusesAnotherApplicationsDatabase) {
    TempDir dir;
    const auto path = dir.file("other.db");
    exec_raw(path, "CREATE TABLE accounts(id INTEGER PRIMARY KEY, name TEXT)");
    auto r = st::SqliteStore::open(options(path));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), ErrorCode::InvalidConfig);
    EXPECT_NE(r.status().message().find(path), std::string::npos);
}

TEST(StoreSqlite, RefusesANewerSchemaAndRecordsItsOwn) {
    TempDir dir;
    const auto path = dir.file("presence.db");
    ASSERT_TRUE(open_ok(options(path)));
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* q = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT version FROM stox_schema_version", -1, &q, nullptr),
              SQLITE_OK);
    ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int(q, 0), st::SqliteStore::kSchemaVersion);
    sqlite3_finalize(q);
    sqlite3_close(db);

    exec_raw(path, "UPDATE stox_schema_version SET version = 99");
    auto r = st::SqliteStore::open(options(path));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), ErrorCode::InvalidConfig);
    EXPECT_NE(r.status().message().find("99"), std::string::npos) << r.status().message();
}

TEST(StoreSqlite, MissingDirectoryOrDirectoryPathIsAnError) {
    TempDir dir;
    const auto missing = dir.file("no-such-dir") + "/presence.db";
    auto r = st::SqliteStore::open(options(missing));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find(missing), std::string::npos) << r.status().message();

    const auto d = dir.file("adir");
    fs::create_directory(d);
    r = st::SqliteStore::open(options(d));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find(d), std::string::npos) << r.status().message();
}

TEST(StoreSqlite, UndecodableRowsAreSkippedAndCounted) {
    TempDir dir;
    const auto path = dir.file("presence.db");
    {
        auto s = open_ok(options(path));
        ASSERT_TRUE(s);
        for (int i = 1; i <= 5; ++i) s->put_watcher(watcher(i));
        s->put_notifier(notifier(2));
        ASSERT_TRUE(s->close().ok());
    }
    exec_raw(path, "UPDATE watcher SET d_state = 7 WHERE xmpp_user = 'user1@example.com';"
                   "UPDATE watcher SET resources = '5:ab,' WHERE xmpp_user = 'user2@example.com';"
                   "UPDATE watcher SET d_local_cseq = -1 WHERE xmpp_user = 'user3@example.com';"
                   "UPDATE notifier SET approval = 'x'");
    auto s = open_ok(options(path));
    ASSERT_TRUE(s);
    const auto l = load(*s);
    EXPECT_EQ(l.stats.watchers, 2U);
    EXPECT_EQ(l.stats.notifiers, 0U);
    EXPECT_EQ(l.stats.skipped, 4U);
    EXPECT_FALSE(l.stats.first_skip_reason.empty());
    EXPECT_EQ(l.watchers.at(watcher(4).key), watcher(4));
}

TEST(StoreSqlite, UnreadableFileIsAnError) {
    if (::geteuid() == 0) GTEST_SKIP() << "root ignores file modes";
    TempDir dir;
    const auto path = dir.file("presence.db");
    ASSERT_TRUE(open_ok(options(path)));
    ASSERT_EQ(::chmod(path.c_str(), 0), 0);
    auto r = st::SqliteStore::open(options(path));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();
}

TEST(StoreSqlite, FactoryOpensSqlite) {
    TempDir dir;
    auto r = st::open_store(options(dir.file("presence.db")));
    ASSERT_TRUE(r.ok()) << r.status().message();
    r.value()->put_notifier(notifier(1));
    ASSERT_TRUE(r.value()->flush().ok());
    EXPECT_EQ(committed_rows(dir.file("presence.db"), "notifier"), 1);
}

} // namespace
