// SPDX-License-Identifier: Apache-2.0
// The MSRP part of SDP (RFC 4975 §8, RFC 6135 §4): reading the peer's m=message line and writing
// ours (stox-sessions.md §2.3.2).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stox/sdk/status.hpp"

namespace stox::plugins::chat {

/// a=setup (RFC 6135 §4.2.1). Missing and holdconn (ignored, MSRP-31) are None.
enum class Setup : std::uint8_t { None, Active, Passive, ActPass };

/// The first m=message line of an SDP body with its attributes.
struct MsrpMedia {
    std::uint16_t port = 0;
    std::string protocol;                          ///< "TCP/MSRP" or "TCP/TLS/MSRP"
    std::string path;                              ///< a=path value (space-separated URIs)
    std::vector<std::string> accept_types;         ///< lower-cased
    std::vector<std::string> accept_wrapped_types; ///< lower-cased
    std::optional<std::uint64_t> max_size;
    Setup setup = Setup::None;
    std::string direction = "sendrecv";
    std::string connection_host; ///< c= of the media or session level
};

/// Unsupported when there is no m=message line, a rejected one (port 0), a protocol other
/// than TCP/MSRP or TCP/TLS/MSRP, or no a=path / a=accept-types (MSRP-24); BadRequest when the
/// body is not SDP.
sdk::Result<MsrpMedia> parse_msrp_sdp(std::string_view sdp);

struct SdpOffer {
    std::string host; ///< c= and o= address (IPv4 or name), equals the path host
    std::uint16_t port = 0;
    std::string path; ///< our msrp URI
    std::vector<std::string> accept_types;
    std::vector<std::string> accept_wrapped_types;
    std::uint64_t max_size = 0; ///< 0: no a=max-size
    Setup setup = Setup::ActPass;
    std::uint64_t session_id = 0;
    std::uint64_t version = 0;
};
std::string build_sdp(const SdpOffer& offer);

/// Whether a peer's accept list (accept-types plus accept-wrapped-types) allows `type`:
/// exact, "type/*" or "*" (RFC 4975 §8.6, MSRP-27).
bool accepts(const std::vector<std::string>& list, std::string_view type);

std::string_view setup_name(Setup s);

} // namespace stox::plugins::chat
