// SPDX-License-Identifier: Apache-2.0
// XMPP <thread/> <-> SIP Call-ID (RFC 7572 Tables 1 and 2, stox-core.md §3.2/§3.3, A-29).
#pragma once

#include <string>
#include <string_view>

namespace stox::plugins::im {

/// Prefix of a Call-ID that carries a thread which is not itself a valid Call-ID.
inline constexpr std::string_view kThreadCallIdPrefix = "thr-";

/// A thread that fits RFC 3261 `word ["@" word]` is copied; any other (non-empty) thread
/// becomes "thr-" + lower-case hex of its UTF-8 (TV-IM-03, TV-IM-04).
std::string thread_to_call_id(std::string_view thread);

/// Reverses thread_to_call_id: a Call-ID "thr-<hex>" whose hex decodes to non-empty UTF-8
/// made of XML characters, and which is not itself a valid Call-ID (so that thread_to_call_id
/// would really have encoded it), gives the decoded thread. Any other Call-ID is the thread.
std::string call_id_to_thread(std::string_view call_id);

} // namespace stox::plugins::im
