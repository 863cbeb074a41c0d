// SPDX-License-Identifier: Apache-2.0
/// \file sqlite_store.hpp
/// SubscriptionStore on one SQLite file, with write-behind batching.
///
/// Writes: put_* / erase_* only record the latest value per key in memory (coalescing repeated
/// changes of one subscription) and return; a background thread commits the buffered keys in
/// one transaction every `batch_interval`, or sooner when `batch_max_records` keys are pending.
/// So the plugin's strand never waits for an fsync.
///
/// What a crash loses: the changes of at most the last batch window (default 200 ms) that were
/// not yet committed. With WAL and synchronous=NORMAL a committed transaction survives a process
/// crash; an OS crash or power loss may also roll back the last few commits, never corrupting
/// the file. That is acceptable because the state is soft by design: every subscription is
/// refreshed within its expiry (RFC 6665 §4.1.2.2); a request in a dialog the gateway forgot is
/// answered 481 (§4.1.3) and a refresh failing that way makes the subscriber start a new
/// subscription (§4.1.2.2); a lost authorization change is re-learned from the XMPP roster on
/// the next probe (RFC 6121 §4.3).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "store/subscription_store.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace stox::presence::store {

class SqliteStore final : public SubscriptionStore {
public:
    /// Newest schema this code writes. Older files are migrated on open; newer ones refused.
    static constexpr int kSchemaVersion = 1;
    /// PRAGMA application_id of our files ("STXP"), so that a path pointing at some other
    /// application's SQLite file is refused instead of being written to.
    static constexpr std::int32_t kApplicationId = 0x53545850;

    /// Opens (creating with mode 0600 if missing) and migrates the file, then starts the writer
    /// thread. Every error names the path.
    static sdk::Result<std::unique_ptr<SqliteStore>> open(const StoreOptions& options);

    ~SqliteStore() override;

    void put_watcher(WatcherRecord record) override;
    void erase_watcher(const WatcherKey& key) override;
    void put_notifier(NotifierRecord record) override;
    void erase_notifier(const NotifierKey& key) override;
    sdk::Result<LoadStats> load_all(const LoadVisitor& visitor) override;
    sdk::Status flush() override;
    [[nodiscard]] sdk::Status health() const override;

    /// Stops the writer thread, commits what is buffered and closes the file. Idempotent; the
    /// destructor calls it. After close() put_* calls are dropped and flush() fails.
    sdk::Status close();

    struct Counters {
        std::uint64_t commits = 0;      ///< transactions committed
        std::uint64_t rows_written = 0; ///< upserts + deletes in them
    };
    [[nodiscard]] Counters counters() const;

private:
    struct Batch {
        std::map<WatcherKey, std::optional<WatcherRecord>> watchers;    // nullopt = erase
        std::map<NotifierKey, std::optional<NotifierRecord>> notifiers; // nullopt = erase
        [[nodiscard]] std::size_t size() const { return watchers.size() + notifiers.size(); }
        [[nodiscard]] bool empty() const { return watchers.empty() && notifiers.empty(); }
    };
    enum Stmt : std::size_t {
        kPutWatcher,
        kDelWatcher,
        kPutNotifier,
        kDelNotifier,
        kLoadWatchers,
        kLoadNotifiers,
        kBegin,
        kCommit,
        kRollback,
        kStmtCount
    };

    explicit SqliteStore(StoreOptions options);
    sdk::Status init();
    sdk::Status migrate();
    sdk::Status prepare_statements();
    sdk::Status error(const char* what, int rc) const;
    void note_pending_locked();
    void writer_loop();
    sdk::Status commit_pending();
    sdk::Status write_batch(const Batch& batch);
    sdk::Status exec(sqlite3_stmt* stmt, const char* what);

    const StoreOptions options_;

    // db_mu_ serialises every use of the connection and makes "swap the pending batch, then
    // commit it" atomic, so two batches never commit out of order. Lock order: db_mu_, mu_.
    std::mutex db_mu_;
    sqlite3* db_ = nullptr;
    sqlite3_stmt* stmts_[kStmtCount] = {};

    mutable std::mutex mu_; // guards everything below
    std::condition_variable cv_;
    Batch pending_;
    bool stopping_ = false;
    bool closed_ = false;
    sdk::Status last_error_;
    Counters counters_;
    std::thread writer_;
};

} // namespace stox::presence::store
