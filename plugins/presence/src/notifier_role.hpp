// SPDX-License-Identifier: Apache-2.0
// W-S role (stox-core §2.3.2, RFC 8048 §5.3): a SIP user W watches an XMPP contact C; the
// gateway is the SIP notifier (RFC 6665 §4.2). It answers SUBSCRIBEs, asks the XMPP side for the
// authorization, and turns C's presence into NOTIFYs (Table P1), only ever to a watcher with an
// active dialog (PRES-SEC-5).
#pragma once

#include <cstddef>
#include <memory>

#include "presence_shared.hpp"
#include "stox/sdk/sip.hpp"
#include "stox/sdk/xmpp.hpp"

namespace stox::plugins::presence {

class NotifierRole {
public:
    explicit NotifierRole(Shared& shared);
    ~NotifierRole();
    NotifierRole(const NotifierRole&) = delete;
    NotifierRole& operator=(const NotifierRole&) = delete;

    /// Startup: one stored record. Re-arms the dialog's expiry timer from expires_at without
    /// sending anything on the SIP side; a dialog already expired is terminated
    /// (NOTIFY terminated;reason=timeout, A-23). Cached presence is not stored: after a restore
    /// the role asks for it again with a probe (from bare W to bare C), paced by the configured
    /// rates, so that the next NOTIFY carries the current state.
    void restore(store::NotifierRecord record);

    /// A SUBSCRIBE routed to the plugin (initial or in-dialog; Event already checked to be
    /// presence by the plugin). Answers it (200/202, 423, 406, 403, 481, 503 + Retry-After).
    void on_subscribe(const std::shared_ptr<sdk::SipServerTransaction>& tx);

    /// A <presence/> from an XMPP contact to a SIP watcher, with type none, unavailable,
    /// subscribed, unsubscribed or error. Presence for a watcher without an active dialog is
    /// dropped (PRES-SEC-5 MUST NOT, TV-PRES-18), counted and logged at debug.
    void on_stanza(const sdk::Stanza& presence);

    /// Plugin stop: cancels timers; state stays in the store (flushed by the plugin).
    void stop();

    /// Authorizations known (for limits and metrics).
    [[nodiscard]] std::size_t size() const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

} // namespace stox::plugins::presence
