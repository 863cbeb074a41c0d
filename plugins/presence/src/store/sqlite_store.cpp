// SPDX-License-Identifier: Apache-2.0
#include "store/sqlite_store.hpp"

#include <sqlite3.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <string_view>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/list_codec.hpp"

namespace stox::presence::store {

using sdk::ErrorCode;
using sdk::Result;
using sdk::Status;

namespace {

// The dialog columns, shared by both tables. A NULL d_call_id means "no dialog".
#define STOX_DIALOG_COLUMNS                                                                        \
    "d_call_id TEXT, d_local_uri TEXT, d_local_tag TEXT, d_remote_uri TEXT, d_remote_tag TEXT, "   \
    "d_remote_target TEXT, d_route_set BLOB, d_local_cseq INTEGER, d_remote_cseq INTEGER, "        \
    "d_expires_at INTEGER, d_state INTEGER, d_accept TEXT"
#define STOX_DIALOG_NAMES                                                                          \
    "d_call_id, d_local_uri, d_local_tag, d_remote_uri, d_remote_tag, d_remote_target, "           \
    "d_route_set, d_local_cseq, d_remote_cseq, d_expires_at, d_state, d_accept"
#define STOX_DIALOG_PARAMS "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
constexpr int kDialogColumns = 12;

#define STOX_WATCHER_NAMES                                                                         \
    "xmpp_user, sip_contact, authorized, subscribed_sent, pending_out, backoff_until, "            \
    "backoff_seconds, resources, " STOX_DIALOG_NAMES
#define STOX_NOTIFIER_NAMES "sip_watcher, xmpp_contact, approval, " STOX_DIALOG_NAMES

// Schema version 1. Plain rowid tables: rows are a few hundred bytes, too wide for WITHOUT ROWID
// to pay off; the primary key gives the unique index the upserts need.
constexpr const char* kSchemaV1 =
    "CREATE TABLE stox_schema_version(id INTEGER PRIMARY KEY CHECK (id = 1),"
    " version INTEGER NOT NULL);"
    "CREATE TABLE watcher(xmpp_user TEXT NOT NULL, sip_contact TEXT NOT NULL,"
    " authorized INTEGER NOT NULL, subscribed_sent INTEGER NOT NULL, pending_out INTEGER NOT NULL,"
    " backoff_until INTEGER NOT NULL, backoff_seconds INTEGER NOT NULL, resources BLOB NOT "
    "NULL, " STOX_DIALOG_COLUMNS ", PRIMARY KEY (xmpp_user, sip_contact));"
    "CREATE TABLE notifier(sip_watcher TEXT NOT NULL, xmpp_contact TEXT NOT NULL,"
    " approval INTEGER NOT NULL, " STOX_DIALOG_COLUMNS
    ", PRIMARY KEY (sip_watcher, xmpp_contact));";

// Migration hook: kMigrations[v] turns schema v into v+1 inside the transaction that also
// records the new version. A future v2 appends a function here (ALTER TABLE, data rewrite...)
// and bumps kSchemaVersion; files of any older version are then upgraded on open.
using Migration = int (*)(sqlite3* db, char** errmsg);
int migrate_0_to_1(sqlite3* db, char** errmsg) {
    return sqlite3_exec(db, kSchemaV1, nullptr, nullptr, errmsg);
}
constexpr Migration kMigrations[] = {migrate_0_to_1};
static_assert(std::size(kMigrations) == SqliteStore::kSchemaVersion);

constexpr const char* kSql[] = {
    "INSERT OR REPLACE INTO watcher(" STOX_WATCHER_NAMES
    ") VALUES(?, ?, ?, ?, ?, ?, ?, ?, " STOX_DIALOG_PARAMS ")",
    "DELETE FROM watcher WHERE xmpp_user = ? AND sip_contact = ?",
    "INSERT OR REPLACE INTO notifier(" STOX_NOTIFIER_NAMES ") VALUES(?, ?, ?, " STOX_DIALOG_PARAMS
    ")",
    "DELETE FROM notifier WHERE sip_watcher = ? AND xmpp_contact = ?",
    "SELECT " STOX_WATCHER_NAMES " FROM watcher",
    "SELECT " STOX_NOTIFIER_NAMES " FROM notifier",
    "BEGIN IMMEDIATE", // take the write lock up front: no deadlock-prone lock upgrade
    "COMMIT",
    "ROLLBACK",
};

// --- binding ---------------------------------------------------------------------------------
// Strings are bound SQLITE_STATIC: the batch they point into outlives the sqlite3_step().

// Lengths above SQLite's default SQLITE_MAX_LENGTH would also overflow the int length.
constexpr std::size_t kMaxValueBytes = 1000000000;

int bind_text(sqlite3_stmt* s, int i, const std::string& v) {
    if (v.size() > kMaxValueBytes) return SQLITE_TOOBIG;
    return sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}
int bind_blob(sqlite3_stmt* s, int i, const std::string& v) {
    if (v.size() > kMaxValueBytes) return SQLITE_TOOBIG;
    return sqlite3_bind_blob(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}

/// Binds the 12 dialog columns starting at parameter `i`; `routes` keeps the encoded route set
/// alive until the step.
int bind_dialog(sqlite3_stmt* s, int i, const std::optional<DialogRecord>& d, std::string& routes) {
    int rc = SQLITE_OK;
    if (!d) {
        for (int k = 0; k < kDialogColumns && rc == SQLITE_OK; ++k)
            rc = sqlite3_bind_null(s, i + k);
        return rc;
    }
    routes = encode_list(d->route_set);
    if (rc == SQLITE_OK) rc = bind_text(s, i++, d->call_id);
    if (rc == SQLITE_OK) rc = bind_text(s, i++, d->local_uri);
    if (rc == SQLITE_OK) rc = bind_text(s, i++, d->local_tag);
    if (rc == SQLITE_OK) rc = bind_text(s, i++, d->remote_uri);
    if (rc == SQLITE_OK) rc = bind_text(s, i++, d->remote_tag);
    if (rc == SQLITE_OK) rc = bind_text(s, i++, d->remote_target);
    if (rc == SQLITE_OK) rc = bind_blob(s, i++, routes);
    if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, i++, d->local_cseq);
    if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, i++, d->remote_cseq);
    if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, i++, d->expires_at);
    if (rc == SQLITE_OK) rc = sqlite3_bind_int(s, i++, static_cast<int>(d->state));
    if (rc == SQLITE_OK) rc = bind_text(s, i++, d->accept);
    return rc;
}

// --- reading ---------------------------------------------------------------------------------
// A row that does not decode is reported through `why` and skipped by load_all().

std::string col_text(sqlite3_stmt* s, int i) {
    const void* p = sqlite3_column_blob(s, i); // raw bytes, no UTF conversion
    const int n = sqlite3_column_bytes(s, i);
    return p != nullptr ? std::string(static_cast<const char*>(p), static_cast<std::size_t>(n))
                        : std::string();
}

bool col_int(sqlite3_stmt* s, int i, std::int64_t lo, std::int64_t hi, std::int64_t& out) {
    if (sqlite3_column_type(s, i) != SQLITE_INTEGER) return false;
    out = sqlite3_column_int64(s, i);
    return out >= lo && out <= hi;
}

bool col_bool(sqlite3_stmt* s, int i, bool& out) {
    std::int64_t v = 0;
    if (!col_int(s, i, 0, 1, v)) return false;
    out = v != 0;
    return true;
}

bool col_u32(sqlite3_stmt* s, int i, std::uint32_t& out) {
    std::int64_t v = 0;
    if (!col_int(s, i, 0, std::numeric_limits<std::uint32_t>::max(), v)) return false;
    out = static_cast<std::uint32_t>(v);
    return true;
}

bool col_i64(sqlite3_stmt* s, int i, std::int64_t& out) {
    return col_int(s, i, std::numeric_limits<std::int64_t>::min(),
                   std::numeric_limits<std::int64_t>::max(), out);
}

bool read_dialog(sqlite3_stmt* s, int i, std::optional<DialogRecord>& out, const char*& why) {
    if (sqlite3_column_type(s, i) == SQLITE_NULL) {
        out.reset();
        return true;
    }
    DialogRecord d;
    d.call_id = col_text(s, i++);
    d.local_uri = col_text(s, i++);
    d.local_tag = col_text(s, i++);
    d.remote_uri = col_text(s, i++);
    d.remote_tag = col_text(s, i++);
    d.remote_target = col_text(s, i++);
    if (!decode_list(col_text(s, i++), d.route_set)) return why = "bad dialog route set", false;
    if (!col_u32(s, i++, d.local_cseq)) return why = "bad dialog local CSeq", false;
    if (!col_u32(s, i++, d.remote_cseq)) return why = "bad dialog remote CSeq", false;
    if (!col_i64(s, i++, d.expires_at)) return why = "bad dialog expiry", false;
    std::int64_t state = 0;
    if (!col_int(s, i++, 0, static_cast<int>(SubState::terminated), state))
        return why = "bad dialog state", false;
    d.state = static_cast<SubState>(state);
    d.accept = col_text(s, i++);
    out = std::move(d);
    return true;
}

bool read_watcher(sqlite3_stmt* s, WatcherRecord& w, const char*& why) {
    w.key.xmpp_user = col_text(s, 0);
    w.key.sip_contact = col_text(s, 1);
    if (!col_bool(s, 2, w.authorized) || !col_bool(s, 3, w.subscribed_sent) ||
        !col_bool(s, 4, w.pending_out))
        return why = "bad watcher flag", false;
    if (!col_i64(s, 5, w.backoff_until) || !col_u32(s, 6, w.backoff_seconds))
        return why = "bad watcher backoff", false;
    if (!decode_list(col_text(s, 7), w.announced_resources))
        return why = "bad watcher resource list", false;
    return read_dialog(s, 8, w.dialog, why);
}

bool read_notifier(sqlite3_stmt* s, NotifierRecord& n, const char*& why) {
    n.key.sip_watcher = col_text(s, 0);
    n.key.xmpp_contact = col_text(s, 1);
    std::int64_t approval = 0;
    if (!col_int(s, 2, 0, static_cast<int>(Approval::rejected), approval))
        return why = "bad notifier approval", false;
    n.approval = static_cast<Approval>(approval);
    return read_dialog(s, 3, n.dialog, why);
}

/// Runs a one-value query (PRAGMA or SELECT). nullopt if it returned no row.
int query_int(sqlite3* db, const char* sql, std::optional<std::int64_t>& out) {
    sqlite3_stmt* s = nullptr;
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, nullptr);
    if (rc != SQLITE_OK) return rc;
    rc = sqlite3_step(s);
    out.reset();
    if (rc == SQLITE_ROW) {
        out = sqlite3_column_int64(s, 0);
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
    }
    sqlite3_finalize(s);
    return rc;
}

} // namespace

// --- lifecycle -------------------------------------------------------------------------------

SqliteStore::SqliteStore(StoreOptions options) : options_(std::move(options)) {}

SqliteStore::~SqliteStore() {
    (void)close();
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const StoreOptions& options) {
    if (options.path.empty())
        return Status(ErrorCode::InvalidConfig, "presence store: no file path configured");
    if (options.batch_interval.count() <= 0 || options.batch_max_records == 0)
        return Status(ErrorCode::InvalidConfig,
                      "presence store " + options.path +
                          ": batch_interval and batch_max_records must be positive");
    std::unique_ptr<SqliteStore> store(new SqliteStore(options));
    if (Status st = store->init(); !st) return st;
    store->writer_ = std::thread([s = store.get()] { s->writer_loop(); });
    return store;
}

Status SqliteStore::error(const char* what, int rc) const {
    std::string msg = "presence store " + options_.path + ": " + what + ": ";
    msg += db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    msg += " (sqlite code " + std::to_string(rc) + ")";
    return Status(ErrorCode::Internal, std::move(msg));
}

Status SqliteStore::init() {
    const std::string& path = options_.path;
    // Create the file ourselves so that it is 0600 from the first byte (the WAL and shm files
    // inherit the database file's mode). SQLite accepts an empty file as a new database.
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno != ENOENT)
            return Status(ErrorCode::Internal,
                          "presence store " + path + ": " +
                              std::error_code(errno, std::generic_category()).message());
        const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST)
            return Status(ErrorCode::InvalidConfig,
                          "presence store " + path + ": cannot create: " +
                              std::error_code(errno, std::generic_category()).message());
        if (fd >= 0) ::close(fd);
    } else if (!S_ISREG(st.st_mode)) {
        return Status(ErrorCode::InvalidConfig, "presence store " + path + ": not a regular file");
    }

    // NOMUTEX: db_mu_ already serialises all use of the connection.
    int rc =
        sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) return error("cannot open", rc);
    sqlite3_extended_result_codes(db_, 1);
    if (sqlite3_db_readonly(db_, "main") == 1)
        return Status(ErrorCode::Internal, "presence store " + path + ": file is read-only");
    sqlite3_busy_timeout(db_, static_cast<int>(options_.busy_timeout.count()));

    // The first statement reading the header: a non-database file fails here (SQLITE_NOTADB).
    sqlite3_stmt* s = nullptr;
    rc = sqlite3_prepare_v2(db_, "PRAGMA journal_mode=WAL", -1, &s, nullptr);
    if (rc == SQLITE_OK) rc = sqlite3_step(s);
    std::string mode;
    if (rc == SQLITE_ROW) {
        mode = col_text(s, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_OK) return error("cannot read the file", rc);
    if (mode != "wal")
        return Status(ErrorCode::Internal, "presence store " + path +
                                               ": WAL journal mode unavailable (got '" + mode +
                                               "')");
    // NORMAL: in WAL mode a commit is durable against a process crash without an fsync per
    // transaction; see the header for what a power loss may cost.
    rc = sqlite3_exec(db_, "PRAGMA synchronous=NORMAL", nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return error("cannot set synchronous", rc);

    if (Status st2 = migrate(); !st2) return st2;
    return prepare_statements();
}

Status SqliteStore::migrate() {
    std::optional<std::int64_t> app_id;
    std::optional<std::int64_t> tables;
    int rc = query_int(db_, "PRAGMA application_id", app_id);
    if (rc == SQLITE_OK) rc = query_int(db_, "SELECT count(*) FROM sqlite_master", tables);
    if (rc != SQLITE_OK) return error("cannot read the schema", rc);

    std::int64_t version = 0;
    if (app_id.value_or(0) == kApplicationId) {
        std::optional<std::int64_t> v;
        rc = query_int(db_, "SELECT version FROM stox_schema_version WHERE id = 1", v);
        if (rc != SQLITE_OK) return error("cannot read the schema version", rc);
        if (!v || *v < 1)
            return Status(ErrorCode::Internal,
                          "presence store " + options_.path + ": schema version missing");
        version = *v;
    } else if (app_id.value_or(0) != 0 || tables.value_or(0) != 0) {
        return Status(ErrorCode::InvalidConfig,
                      "presence store " + options_.path +
                          ": the file is an SQLite database of another application");
    }
    if (version > kSchemaVersion)
        return Status(ErrorCode::InvalidConfig, "presence store " + options_.path +
                                                    ": schema version " + std::to_string(version) +
                                                    " is newer than this gateway's (" +
                                                    std::to_string(kSchemaVersion) + ")");

    for (; version < kSchemaVersion; ++version) {
        rc = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
        if (rc != SQLITE_OK) return error("cannot start the migration", rc);
        char* errmsg = nullptr;
        rc = kMigrations[version](db_, &errmsg);
        sqlite3_free(errmsg); // sqlite3_errmsg() still holds the message for error()
        const std::string set =
            "INSERT OR REPLACE INTO stox_schema_version(id, version) VALUES(1, " +
            std::to_string(version + 1) +
            "); PRAGMA application_id = " + std::to_string(kApplicationId) + ";";
        if (rc == SQLITE_OK) rc = sqlite3_exec(db_, set.c_str(), nullptr, nullptr, nullptr);
        if (rc == SQLITE_OK) rc = sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
        if (rc != SQLITE_OK) {
            Status st = error("schema migration failed", rc);
            sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
            return st;
        }
    }
    return {};
}

Status SqliteStore::prepare_statements() {
    for (std::size_t i = 0; i < kStmtCount; ++i) {
        const int rc =
            sqlite3_prepare_v3(db_, kSql[i], -1, SQLITE_PREPARE_PERSISTENT, &stmts_[i], nullptr);
        if (rc != SQLITE_OK) return error("cannot prepare statements", rc);
    }
    return {};
}

Status SqliteStore::close() {
    {
        std::lock_guard lk(mu_);
        if (closed_) return last_error_;
        stopping_ = true;
    }
    cv_.notify_all();
    if (writer_.joinable()) writer_.join();

    std::lock_guard db(db_mu_);
    Batch last;
    {
        // Swap and close in one step: no put_* can slip in between and be lost silently.
        std::lock_guard lk(mu_);
        std::swap(last, pending_);
        closed_ = true;
    }
    Status st = last.empty() || db_ == nullptr ? Status{} : write_batch(last);
    for (auto*& s : stmts_) {
        sqlite3_finalize(s);
        s = nullptr;
    }
    if (db_ != nullptr) sqlite3_close(db_); // every statement is finalized: cannot be BUSY
    db_ = nullptr;
    std::lock_guard lk(mu_);
    if (!st) last_error_ = st;
    return st;
}

// --- writes ----------------------------------------------------------------------------------

void SqliteStore::note_pending_locked() {
    // Wake the writer when its window starts (first key) or the batch is full.
    const std::size_t n = pending_.size();
    if (n == 1 || n >= options_.batch_max_records) cv_.notify_one();
}

void SqliteStore::put_watcher(WatcherRecord record) {
    std::lock_guard lk(mu_);
    if (closed_) return;
    auto key = record.key;
    pending_.watchers.insert_or_assign(std::move(key), std::move(record));
    note_pending_locked();
}

void SqliteStore::erase_watcher(const WatcherKey& key) {
    std::lock_guard lk(mu_);
    if (closed_) return;
    pending_.watchers.insert_or_assign(key, std::nullopt);
    note_pending_locked();
}

void SqliteStore::put_notifier(NotifierRecord record) {
    std::lock_guard lk(mu_);
    if (closed_) return;
    auto key = record.key;
    pending_.notifiers.insert_or_assign(std::move(key), std::move(record));
    note_pending_locked();
}

void SqliteStore::erase_notifier(const NotifierKey& key) {
    std::lock_guard lk(mu_);
    if (closed_) return;
    pending_.notifiers.insert_or_assign(key, std::nullopt);
    note_pending_locked();
}

void SqliteStore::writer_loop() {
    std::unique_lock lk(mu_);
    for (;;) {
        cv_.wait(lk, [&] { return stopping_ || !pending_.empty(); });
        if (stopping_) return; // close() commits the rest
        // The batch window opens with the first pending key.
        const auto deadline = std::chrono::steady_clock::now() + options_.batch_interval;
        cv_.wait_until(lk, deadline,
                       [&] { return stopping_ || pending_.size() >= options_.batch_max_records; });
        if (stopping_) return;
        lk.unlock();
        (void)commit_pending(); // a failure is kept in last_error_ and retried next window
        lk.lock();
    }
}

Status SqliteStore::flush() {
    {
        std::lock_guard lk(mu_);
        if (closed_)
            return Status(ErrorCode::Internal, "presence store " + options_.path + ": closed");
    }
    return commit_pending();
}

Status SqliteStore::commit_pending() {
    std::lock_guard db(db_mu_);
    Batch batch;
    {
        std::lock_guard lk(mu_);
        if (closed_ || db_ == nullptr) return last_error_;
        std::swap(batch, pending_);
    }
    if (batch.empty()) return {};
    Status st = write_batch(batch);
    std::lock_guard lk(mu_);
    if (st) {
        last_error_ = {};
        ++counters_.commits;
        counters_.rows_written += batch.size();
        return st;
    }
    // Put the failed batch back, unless a newer value for the same key arrived meanwhile.
    for (auto& [k, v] : batch.watchers) pending_.watchers.try_emplace(k, std::move(v));
    for (auto& [k, v] : batch.notifiers) pending_.notifiers.try_emplace(k, std::move(v));
    last_error_ = st;
    return st;
}

Status SqliteStore::exec(sqlite3_stmt* stmt, const char* what) {
    const int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return rc == SQLITE_DONE ? Status{} : error(what, rc);
}

Status SqliteStore::write_batch(const Batch& batch) {
    if (Status st = exec(stmts_[kBegin], "cannot begin a transaction"); !st) return st;
    Status st;
    std::string list1;
    std::string list2;
    for (const auto& [key, rec] : batch.watchers) {
        if (!st) break;
        if (!rec) {
            sqlite3_stmt* s = stmts_[kDelWatcher];
            int rc = bind_text(s, 1, key.xmpp_user);
            if (rc == SQLITE_OK) rc = bind_text(s, 2, key.sip_contact);
            st = rc == SQLITE_OK ? exec(s, "cannot delete a watcher") : error("bind", rc);
            continue;
        }
        sqlite3_stmt* s = stmts_[kPutWatcher];
        list1 = encode_list(rec->announced_resources);
        int rc = bind_text(s, 1, key.xmpp_user);
        if (rc == SQLITE_OK) rc = bind_text(s, 2, key.sip_contact);
        if (rc == SQLITE_OK) rc = sqlite3_bind_int(s, 3, rec->authorized ? 1 : 0);
        if (rc == SQLITE_OK) rc = sqlite3_bind_int(s, 4, rec->subscribed_sent ? 1 : 0);
        if (rc == SQLITE_OK) rc = sqlite3_bind_int(s, 5, rec->pending_out ? 1 : 0);
        if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, 6, rec->backoff_until);
        if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, 7, rec->backoff_seconds);
        if (rc == SQLITE_OK) rc = bind_blob(s, 8, list1);
        if (rc == SQLITE_OK) rc = bind_dialog(s, 9, rec->dialog, list2);
        st = rc == SQLITE_OK ? exec(s, "cannot write a watcher") : error("bind", rc);
    }
    for (const auto& [key, rec] : batch.notifiers) {
        if (!st) break;
        if (!rec) {
            sqlite3_stmt* s = stmts_[kDelNotifier];
            int rc = bind_text(s, 1, key.sip_watcher);
            if (rc == SQLITE_OK) rc = bind_text(s, 2, key.xmpp_contact);
            st = rc == SQLITE_OK ? exec(s, "cannot delete a notifier") : error("bind", rc);
            continue;
        }
        sqlite3_stmt* s = stmts_[kPutNotifier];
        int rc = bind_text(s, 1, key.sip_watcher);
        if (rc == SQLITE_OK) rc = bind_text(s, 2, key.xmpp_contact);
        if (rc == SQLITE_OK) rc = sqlite3_bind_int(s, 3, static_cast<int>(rec->approval));
        if (rc == SQLITE_OK) rc = bind_dialog(s, 4, rec->dialog, list2);
        st = rc == SQLITE_OK ? exec(s, "cannot write a notifier") : error("bind", rc);
    }
    if (st) st = exec(stmts_[kCommit], "cannot commit");
    if (!st) {
        // Unbind whatever the failed statement held, and end the transaction if still open.
        for (auto* s : stmts_) {
            sqlite3_reset(s);
            sqlite3_clear_bindings(s);
        }
        if (sqlite3_get_autocommit(db_) == 0) (void)exec(stmts_[kRollback], "rollback");
    }
    return st;
}

// --- reads -----------------------------------------------------------------------------------

Result<LoadStats> SqliteStore::load_all(const LoadVisitor& visitor) {
    // Commit what is buffered first, so that the load sees every put_* made before it.
    if (Status st = flush(); !st) return st;
    std::lock_guard db(db_mu_);
    if (db_ == nullptr)
        return Status(ErrorCode::Internal, "presence store " + options_.path + ": closed");
    LoadStats stats;
    auto skip = [&](const char* why) {
        if (stats.skipped++ == 0) stats.first_skip_reason = why;
    };
    // The visitor runs under db_mu_: it may call put_* / erase_* (they only take mu_) but not
    // flush() or load_all().
    sqlite3_stmt* s = stmts_[kLoadWatchers];
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        WatcherRecord w;
        const char* why = nullptr;
        if (!read_watcher(s, w, why)) {
            skip(why);
            continue;
        }
        ++stats.watchers;
        if (visitor.on_watcher) visitor.on_watcher(std::move(w));
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) return error("cannot read watchers", rc);

    s = stmts_[kLoadNotifiers];
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        NotifierRecord n;
        const char* why = nullptr;
        if (!read_notifier(s, n, why)) {
            skip(why);
            continue;
        }
        ++stats.notifiers;
        if (visitor.on_notifier) visitor.on_notifier(std::move(n));
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) return error("cannot read notifiers", rc);
    return stats;
}

Status SqliteStore::health() const {
    std::lock_guard lk(mu_);
    return last_error_;
}

SqliteStore::Counters SqliteStore::counters() const {
    std::lock_guard lk(mu_);
    return counters_;
}

} // namespace stox::presence::store
