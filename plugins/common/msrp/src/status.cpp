// SPDX-License-Identifier: Apache-2.0
#include <stox/msrp/status.hpp>

namespace stox::msrp {

bool is_known_status(std::uint16_t code) noexcept {
    switch (code) {
    case 200:
    case 400:
    case 403:
    case 408:
    case 413:
    case 415:
    case 423:
    case 481:
    case 501:
    case 506: return true;
    default: return false;
    }
}

std::string_view reason_phrase(std::uint16_t code) noexcept {
    // Phrases follow the RFC 4975 §10 descriptions and the spec's vectors (TV-12, TV-13, TV-23).
    switch (code) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 408: return "Request Timeout";
    case 413: return "Message too large";
    case 415: return "Unsupported media type";
    case 423: return "Interval out of bounds";
    case 481: return "Session does not exist";
    case 501: return "Unknown method";
    case 506: return "Session already bound";
    default: break;
    }
    if (code >= 200 && code < 300) return "Success";
    if (code >= 400 && code < 500) return "Client error";
    if (code >= 500 && code < 600) return "Server error";
    return "Unknown status";
}

sdk::ErrorCode to_error_code(std::uint16_t code) noexcept {
    using sdk::ErrorCode;
    switch (code) {
    case 400: return ErrorCode::BadRequest;
    case 403: return ErrorCode::Forbidden;
    case 408: return ErrorCode::Timeout; // §10: "treat like a local timeout" (MSRP-30)
    case 413: return ErrorCode::TooLarge;
    case 415: return ErrorCode::Unsupported;
    case 423: return ErrorCode::BadRequest;
    case 481: return ErrorCode::ItemNotFound;
    case 501: return ErrorCode::Unsupported;
    case 506: return ErrorCode::ServiceUnavailable;
    default: break;
    }
    if (code >= 200 && code < 300) return ErrorCode::Ok;
    if (code >= 400 && code < 500) return ErrorCode::BadRequest;
    if (code >= 500 && code < 600) return ErrorCode::ServiceUnavailable;
    return ErrorCode::Internal;
}

std::uint16_t to_status_code(sdk::ErrorCode code) noexcept {
    using sdk::ErrorCode;
    switch (code) {
    case ErrorCode::Ok: return 200;
    case ErrorCode::Forbidden:
    case ErrorCode::NotAuthorized:
    case ErrorCode::SecureOnly:
    case ErrorCode::Declined: return 403;
    case ErrorCode::Timeout: return 408;
    case ErrorCode::TooLarge:
    case ErrorCode::Overloaded: return 413;
    case ErrorCode::Unsupported: return 415;
    case ErrorCode::ItemNotFound: return 481;
    case ErrorCode::BadRequest:
    case ErrorCode::UnsupportedScheme:
    case ErrorCode::ServiceUnavailable:
    case ErrorCode::Internal:
    case ErrorCode::InvalidConfig:
    case ErrorCode::Unreachable:
    case ErrorCode::Cancelled: return 400;
    }
    return 400;
}

} // namespace stox::msrp
