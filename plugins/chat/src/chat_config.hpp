// SPDX-License-Identifier: Apache-2.0
// The chat plugin's configuration: every key of plugin.json's config_schema with its default and
// bounds. The core validates the section against the schema before start(); load_config() checks
// again so that a harness or a future core cannot hand the plugin an out-of-range value.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "stox/sdk/config.hpp"
#include "stox/sdk/status.hpp"

namespace stox::plugins::chat {

struct ChatConfig {
    std::string msrp_listen_address = "127.0.0.1";
    std::uint16_t msrp_listen_port = 0;
    std::string msrp_advertised_host; ///< "" -> msrp_listen_address
    /// RFC 6135 §4.2.2: our answer to an actpass offer.
    bool answer_passive = true;
    /// AMB-3: false -> Failure-Report: no (strict), true -> partial (robust).
    bool failure_report_partial = false;
    /// AMB-8: false -> REPORT on XMPP <received/>, true -> when the stanza was accepted.
    bool success_report_on_accept = false;
    std::chrono::seconds idle_timeout{600};
    std::size_t max_sessions = 1000;
    std::size_t max_queued_messages = 32;
    std::size_t max_message_bytes = 8192;
    std::chrono::milliseconds xmpp_reply_window{3000};
    std::chrono::seconds invite_timeout{60};
    bool chat_states = true;
    bool reinvite_on_connection_loss = true;

    [[nodiscard]] const std::string& advertised_host() const {
        return msrp_advertised_host.empty() ? msrp_listen_address : msrp_advertised_host;
    }
};

/// Reads the section; InvalidConfig names the offending key.
sdk::Result<ChatConfig> load_config(const sdk::ConfigView& view);

} // namespace stox::plugins::chat
