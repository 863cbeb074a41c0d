// SPDX-License-Identifier: Apache-2.0
// The IM plugin's configuration: every key of plugin.json's config_schema, its default and
// its bounds. The core validates the operator's section against the schema and applies the
// defaults before start(); load_config() still checks everything (the plugin may be run by a
// test harness or a future core), so a value out of bounds is InvalidConfig, never UB.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "stox/sdk/config.hpp"
#include "stox/sdk/status.hpp"

namespace stox::plugins::im {

/// What S2X does with characters that XML 1.0 forbids (C0 controls except TAB/LF/CR,
/// U+FFFE/U+FFFF): drop them and deliver, or refuse the MESSAGE with 400.
enum class NonXmlChars { Strip, Reject };

struct ImConfig {
    // --- S2X: SIP MESSAGE -> <message/> -----------------------------------------------------
    /// Final response once the stanza is written and no error came back in the window
    /// 202 (RFC 3428 §7, relay into a non-SIP domain) or 200 (RFC 7572 §5).
    int success_status = 202;
    /// How long to wait, after the stanza is written, for an XMPP error before answering
    /// success (0 = answer as soon as it is written).
    std::chrono::milliseconds await_window{300};
    /// Latest answer to a SIP MESSAGE, whatever the XMPP side does: 408 after this. Kept under
    /// Timer F (64*T1 = 32 s, RFC 3261 §17.1.2.2) so the sender hears from us, not its timer.
    std::chrono::milliseconds answer_deadline{30000};
    /// refuse (403) a MESSAGE whose From domain is not one of the gateway's SIP domains.
    bool restrict_from_domains = true;
    /// add XEP-0071 XHTML-IM for text/html (always with the plain <body/>).
    bool xhtml_im = false;
    /// IM-12: "normal" sends no type attribute; "chat" is a documented deviation.
    std::string message_type = "normal";
    /// Largest stanza written to the XMPP server (RFC 7572 §6: servers accept >= 10000); 513
    /// above it.
    std::size_t max_stanza_bytes = 10000;
    NonXmlChars non_xml_chars = NonXmlChars::Strip;
    /// SIP MESSAGEs translated but not yet answered (waiting for the write or the window).
    std::size_t max_pending_deliveries = 1000;

    // --- X2S: <message/> -> SIP MESSAGE -----------------------------------------------------
    /// IM-14 / RFC 3428 §8: largest serialized MESSAGE; <policy-violation/> above it.
    std::size_t max_sip_message_bytes = 1300;
    /// RFC 3428 §8: stanzas waiting behind the pending MESSAGE to the same URI.
    std::size_t max_queue_per_destination = 32;
    /// Destination URIs with a MESSAGE pending at the same time.
    std::size_t max_destinations = 10000;
    /// Stanzas waiting (behind a pending MESSAGE) over all destinations together.
    std::size_t max_queued_messages = 10000;
    /// Threads whose Call-ID (and last CSeq) are remembered so that CSeq increases.
    std::size_t max_tracked_threads = 10000;
    /// Latest final response to an X2S MESSAGE before it is given up as timed out (a guard
    /// against a lost completion; the SIP stack itself times out at 64*T1).
    std::chrono::milliseconds sip_response_guard{40000};
};

/// Reads the section. A missing key takes its default; a value of the wrong type or out of
/// bounds fails with InvalidConfig naming the key.
stox::sdk::Result<ImConfig> load_config(const stox::sdk::ConfigView& view);

} // namespace stox::plugins::im
