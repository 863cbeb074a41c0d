// SPDX-License-Identifier: Apache-2.0
// sofia sip_t <-> sdk value types. Runs on the sofia thread.
#pragma once

#include <string>

#include "stox/sdk/sip.hpp"

struct sip_s;

namespace stox::core::sip {

/// Copies the request line, every header (in wire order, long names, unknown headers too) and
/// the body. Fragments sofia marked as erroneous are skipped.
sdk::SipRequest to_sdk_request(const sip_s* sip);
sdk::SipResponse to_sdk_response(const sip_s* sip);

/// "Name: value\r\n..." for every header except those listed (case-insensitive), for
/// SIPTAG_HEADER_STR.
std::string headers_to_string(const sdk::SipMessage& message,
                              std::initializer_list<std::string_view> except = {});

} // namespace stox::core::sip
