// SPDX-License-Identifier: Apache-2.0
/// \file status.hpp
/// MSRP response codes (RFC 4975 §10) and their mapping to the SDK's semantic error codes.
#pragma once

#include <cstdint>
#include <string_view>

#include <stox/sdk/status.hpp>

namespace stox::msrp {

/// The codes RFC 4975 §10 defines. Other 3-digit codes are legal on the wire (extensions, e.g.
/// RFC 7701's 424/425), so APIs carry plain std::uint16_t and this enum only names the known ones.
enum class StatusCode : std::uint16_t {
    Ok = 200,
    BadRequest = 400,
    Forbidden = 403,
    RequestTimeout = 408, ///< only ever in a REPORT (§10)
    MessageTooLarge = 413,
    UnsupportedMediaType = 415,
    IntervalOutOfBounds = 423,
    SessionDoesNotExist = 481,
    UnknownMethod = 501,
    SessionAlreadyBound = 506,
};

constexpr std::uint16_t to_int(StatusCode c) noexcept {
    return static_cast<std::uint16_t>(c);
}

/// True for the codes listed in RFC 4975 §10.
bool is_known_status(std::uint16_t code) noexcept;

/// Reason phrase for the comment of a response ("Message too large"); a generic phrase by class
/// for unknown codes ("Success", "Client error", ...), never empty.
std::string_view reason_phrase(std::uint16_t code) noexcept;

/// Semantic error for a received MSRP status code (Ok for 2xx, Internal for unknown classes).
sdk::ErrorCode to_error_code(std::uint16_t code) noexcept;

/// The MSRP response code to send for a local failure (RFC 4975 §10; 400 when nothing fits).
std::uint16_t to_status_code(sdk::ErrorCode code) noexcept;

} // namespace stox::msrp
