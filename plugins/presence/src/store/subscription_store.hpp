// SPDX-License-Identifier: Apache-2.0
/// \file subscription_store.hpp
/// Durable subscription state of the presence plugin (stox-core §2.6): plain value records and
/// the SubscriptionStore interface. Nothing here knows sofia-sip or Xerces, so that another
/// backend (a store shared by several gateway instances) can implement the same interface.
///
/// What is persisted, and what deliberately is not:
///  * persisted: authorizations of both roles (they outlive any dialog: RFC 8048 §5.2.2/§5.3.1)
///    and the SIP dialog that currently carries each of them (RFC 6665 §4.1.2, §4.2.1);
///  * not persisted: Timer N, refresh timers, poll (Expires: 0) dialogs, pending probe ids,
///    the XMPP user's session-active flag and the cached presence of contacts. They are either
///    re-derived from the persisted expiry times or relearned within one refresh interval
///    (probes at startup, NOTIFYs, RFC 6121 presence broadcasts).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <stox/sdk/status.hpp>

namespace stox::presence::store {

/// Subscription-State of a dialog (RFC 6665 §4.1.3 / §8.2.3). Stored as its numeric value.
enum class SubState : std::uint8_t { pending = 0, active = 1, terminated = 2 };

/// One SIP subscription dialog (RFC 3261 §12, RFC 6665 §4.1.2/§4.2.1), either role. The role is
/// implied by the record that owns it: subscriber in a WatcherRecord, notifier in a
/// NotifierRecord. Event is always "presence", so it is not stored.
struct DialogRecord {
    std::string call_id;
    std::string local_uri;
    std::string local_tag;
    std::string remote_uri;
    std::string remote_tag;
    std::string remote_target;          ///< the peer's Contact
    std::vector<std::string> route_set; ///< in the order used for sending
    std::uint32_t local_cseq = 0;       ///< notifier: CSeq of the last NOTIFY sent
    std::uint32_t remote_cseq = 0;      ///< last in-dialog CSeq received
    std::int64_t expires_at = 0;        ///< subscription expiry, unix seconds
    SubState state = SubState::pending;
    std::string accept; ///< negotiated Accept types, as received/sent

    bool operator==(const DialogRecord&) const = default;
};

/// W-X role (stox-core §2.3.1): XMPP user U watches SIP contact C; the gateway subscribes.
struct WatcherKey {
    std::string xmpp_user;   ///< bare JID of U
    std::string sip_contact; ///< AOR of C

    auto operator<=>(const WatcherKey&) const = default;
};

struct WatcherRecord {
    WatcherKey key;
    bool authorized = false;
    bool subscribed_sent = false; ///< `subscribed` already sent in this authorization's lifetime
    bool pending_out = false;     ///< SUBSCRIBE sent, no active NOTIFY yet
    std::optional<DialogRecord> dialog;
    std::int64_t backoff_until = 0;    ///< unix seconds; 0 = no backoff running (A-22)
    std::uint32_t backoff_seconds = 0; ///< current step of the 60 s doubling backoff, 0 = none
    std::vector<std::string> announced_resources; ///< resources of C announced to U

    bool operator==(const WatcherRecord&) const = default;
};

/// W-S role (stox-core §2.3.2): SIP watcher W watches XMPP contact C; the gateway notifies.
struct NotifierKey {
    std::string sip_watcher;  ///< AOR of W
    std::string xmpp_contact; ///< bare JID of C

    auto operator<=>(const NotifierKey&) const = default;
};

/// What the XMPP side said about W's request (RFC 8048 §5.3.1). Stored as its numeric value.
enum class Approval : std::uint8_t {
    unknown = 0,   ///< nothing asked yet
    requested = 1, ///< `subscribe` sent to C, no answer yet
    approved = 2,  ///< `subscribed` received
    rejected = 3,  ///< `unsubscribed` received
};

struct NotifierRecord {
    NotifierKey key;
    Approval approval = Approval::unknown;
    std::optional<DialogRecord> dialog; ///< the current notifier dialog, if any

    bool operator==(const NotifierRecord&) const = default;
};

/// Callbacks for load_all(). Either may be empty (records of that kind are then skipped).
struct LoadVisitor {
    std::function<void(WatcherRecord&&)> on_watcher;
    std::function<void(NotifierRecord&&)> on_notifier;
};

struct LoadStats {
    std::size_t watchers = 0;
    std::size_t notifiers = 0;
    /// Rows that could not be decoded (out-of-range enum, bad list encoding...). They are
    /// skipped, not fatal: one bad row must not keep the gateway from starting.
    std::size_t skipped = 0;
    std::string first_skip_reason;
};

/// The durable store. put_* and erase_* are called on the plugin's strand on every state
/// change and must be cheap: implementations may buffer them (write-behind) but must apply them
/// in call order per key, and flush() must make everything called before it durable.
/// All methods are safe to call from any thread.
class SubscriptionStore {
public:
    virtual ~SubscriptionStore() = default;
    SubscriptionStore() = default;
    SubscriptionStore(const SubscriptionStore&) = delete;
    SubscriptionStore& operator=(const SubscriptionStore&) = delete;

    virtual void put_watcher(WatcherRecord record) = 0;
    virtual void erase_watcher(const WatcherKey& key) = 0;
    virtual void put_notifier(NotifierRecord record) = 0;
    virtual void erase_notifier(const NotifierKey& key) = 0;

    /// Streams every stored record (pending writes included) to the visitor: startup only.
    /// The visitor may call put_* / erase_*, but not flush() or load_all().
    virtual sdk::Result<LoadStats> load_all(const LoadVisitor& visitor) = 0;

    /// Writes everything buffered so far; returns the first error if the write failed.
    virtual sdk::Status flush() = 0;

    /// The last background write error, Ok when the last commit succeeded. Lets the plugin
    /// report a failing disk without put_* ever blocking or failing.
    [[nodiscard]] virtual sdk::Status health() const = 0;
};

/// Configuration, from the plugin's `store` config object.
struct StoreOptions {
    enum class Kind : std::uint8_t { sqlite, memory };
    Kind kind = Kind::sqlite;
    std::string path; ///< SQLite file; created 0600 if missing
    /// Write-behind window: buffered changes are committed in one transaction at least this
    /// often, and earlier once `batch_max_records` distinct keys are pending.
    std::chrono::milliseconds batch_interval{200};
    std::size_t batch_max_records = 1000;
    std::chrono::milliseconds busy_timeout{5000}; ///< SQLite lock wait (e.g. a backup running)
};

/// Opens the configured backend. Errors: InvalidConfig (bad options), Internal/Unreachable
/// (file cannot be opened, is not a store, is corrupt, or has a newer schema), each naming the
/// path.
sdk::Result<std::unique_ptr<SubscriptionStore>> open_store(const StoreOptions& options);

} // namespace stox::presence::store
