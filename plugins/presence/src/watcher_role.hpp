// SPDX-License-Identifier: Apache-2.0
// W-X role (stox-core §2.3.1, RFC 8048 §5.2): an XMPP user U watches a SIP contact C; the
// gateway is the SIP subscriber (RFC 6665 §4.1). It sends and refreshes SUBSCRIBEs, answers
// NOTIFYs and turns PIDF into <presence/> (Table P2) for U only (PRES-SEC-5).
#pragma once

#include <cstddef>
#include <memory>

#include "presence_shared.hpp"
#include "stox/sdk/sip.hpp"
#include "stox/sdk/xmpp.hpp"

namespace stox::plugins::presence {

class WatcherRole {
public:
    explicit WatcherRole(Shared& shared);
    ~WatcherRole();
    WatcherRole(const WatcherRole&) = delete;
    WatcherRole& operator=(const WatcherRole&) = delete;

    /// Startup: one stored record. Re-arms the refresh timer from the dialog's expires_at with
    /// jitter (no SUBSCRIBE burst to the SIP side); an expired dialog is resubscribed paced by
    /// outgoing_subscribe_rate.
    void restore(store::WatcherRecord record);

    /// A NOTIFY (Event: presence) routed to the plugin.
    void on_notify(const std::shared_ptr<sdk::SipServerTransaction>& tx);

    /// A <presence/> from an XMPP user to a SIP contact: subscribe, unsubscribe, probe,
    /// available/unavailable (the user's session, PRES-WX-7), or an answer to one of our own
    /// probes (addressed to the component's domain). Returns true when it was consumed.
    bool on_stanza(const sdk::Stanza& presence);

    void stop();
    [[nodiscard]] std::size_t size() const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

} // namespace stox::plugins::presence
