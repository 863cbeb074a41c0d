// SPDX-License-Identifier: Apache-2.0
// SIP Date (RFC 3261 §20.17: RFC 1123 date, always GMT) <-> XEP-0082 DateTime, as used by
// XEP-0203 <delay/> (A-33).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace stox::plugins::im {

using SysSeconds = std::chrono::sys_seconds;

/// "Sat, 13 Nov 2010 23:29:00 GMT" (the weekday is optional and not cross-checked).
std::optional<SysSeconds> parse_rfc1123(std::string_view text);
std::string format_rfc1123(SysSeconds t);

/// XEP-0082 DateTime "2010-11-13T23:29:00Z", with optional fraction and numeric offset.
/// A leap second (:60) is read as :59.
std::optional<SysSeconds> parse_xep0082(std::string_view text);
/// Always UTC with "Z" and no fraction.
std::string format_xep0082(SysSeconds t);

} // namespace stox::plugins::im
