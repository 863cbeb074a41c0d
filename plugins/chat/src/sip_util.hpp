// SPDX-License-Identifier: Apache-2.0
// SIP header syntax and dialog helpers of the chat plugin (RFC 3261 §12, §19.3, §20). The core runs
// the transactions; the plugin owns its INVITE dialogs as plain values (SDK ABI 1.1).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stox/sdk/sip.hpp"
#include "stox/sip/syntax.hpp"

namespace stox::plugins::chat {

// Shared SIP syntax (plugins/common/sip).
using sip::aor_of;
using sip::cseq_number;
using sip::format_name_addr;
using sip::NameAddr;
using sip::parse_name_addr;
using sip::random_token;
using sip::route_set_of;
using sip::uri_param;

/// RFC 3261 §25.1 callid = word ["@" word], at most 128 characters here (AMB-5).
[[nodiscard]] bool is_valid_call_id(std::string_view s);

/// The SIP dialog of one chat session (RFC 3261 §12), owned by the plugin.
struct Dialog {
    std::string call_id;
    std::string local_uri; ///< our From (UAC) / To (UAS) URI
    std::string local_tag;
    std::string remote_uri; ///< the peer's URI (To for UAC, From for UAS)
    std::string remote_tag;
    std::string remote_target; ///< Contact of the peer
    std::vector<std::string> route_set;
    std::uint32_t local_cseq = 0;
    std::optional<std::uint32_t> remote_cseq;
};

/// A request inside `dialog` (RFC 3261 §12.2.1.1): Request-URI = remote target, From/To with
/// the dialog's URIs and tags, Call-ID, Route = route set, CSeq = `cseq` (0: ++local_cseq).
[[nodiscard]] sdk::SipRequest in_dialog_request(Dialog& dialog, std::string method,
                                                std::uint32_t cseq = 0);

} // namespace stox::plugins::chat
