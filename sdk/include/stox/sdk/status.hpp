// SPDX-License-Identifier: Apache-2.0
/// \file status.hpp
/// Semantic error codes, Status and Result<T>: the only error currency that crosses the
/// plugin boundary. Protocol rendering (SIP code, XMPP condition) happens once, in the core's
/// ErrorMapper (RFC 7247 §7), never in plugins.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace stox::sdk {

/// Stable numeric values: they are part of the ABI. Append only.
enum class ErrorCode : std::uint32_t {
    Ok = 0,
    BadRequest = 1,        ///< malformed input (SIP 400 / <bad-request/>)
    UnsupportedScheme = 2, ///< URI scheme out of scope (SIP 416)
    SecureOnly = 3,   ///< sips: target, RFC 7247 §8 forbids translation (SIP 480 + Warning 380)
    ItemNotFound = 4, ///< no such user/resource
    Forbidden = 5,
    NotAuthorized = 6,
    ServiceUnavailable = 7, ///< the peer service refused (never SIP 503, RFC 7247 §7.1 n5)
    Timeout = 8,
    Unsupported = 9, ///< feature not implemented / not supported by this plugin
    Internal = 10,
    Overloaded = 11, ///< a bounded queue or rate limit of the gateway itself
    TooLarge = 12,
    InvalidConfig = 13,
    Declined = 14,    ///< a plugin chose not to start (soft failure)
    Unreachable = 15, ///< next hop could not be reached
    Cancelled = 16,
};

/// Name of an ErrorCode, for logs ("item-not-found" style is for XMPP, this is for humans).
constexpr std::string_view to_string(ErrorCode c) noexcept {
    switch (c) {
    case ErrorCode::Ok: return "ok";
    case ErrorCode::BadRequest: return "bad request";
    case ErrorCode::UnsupportedScheme: return "unsupported URI scheme";
    case ErrorCode::SecureOnly: return "secure (sips) target cannot be translated";
    case ErrorCode::ItemNotFound: return "item not found";
    case ErrorCode::Forbidden: return "forbidden";
    case ErrorCode::NotAuthorized: return "not authorized";
    case ErrorCode::ServiceUnavailable: return "service unavailable";
    case ErrorCode::Timeout: return "timeout";
    case ErrorCode::Unsupported: return "unsupported";
    case ErrorCode::Internal: return "internal error";
    case ErrorCode::Overloaded: return "overloaded";
    case ErrorCode::TooLarge: return "too large";
    case ErrorCode::InvalidConfig: return "invalid configuration";
    case ErrorCode::Declined: return "declined";
    case ErrorCode::Unreachable: return "unreachable";
    case ErrorCode::Cancelled: return "cancelled";
    }
    return "unknown";
}

/// An outcome: a code and a human-readable reason. Default-constructed Status is Ok.
class Status {
public:
    Status() = default;
    explicit Status(ErrorCode code, std::string message = {})
        : code_(code), message_(std::move(message)) {}

    [[nodiscard]] bool ok() const noexcept { return code_ == ErrorCode::Ok; }
    explicit operator bool() const noexcept { return ok(); }
    [[nodiscard]] ErrorCode code() const noexcept { return code_; }
    [[nodiscard]] const std::string& message() const noexcept { return message_; }

private:
    ErrorCode code_ = ErrorCode::Ok;
    std::string message_;
};

/// std::expected-like holder of either a value or a non-Ok Status.
template <class T> class Result {
public:
    Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
    Result(Status error) : v_(std::move(error)) {} // NOLINT(google-explicit-constructor)
    Result(ErrorCode code, std::string message) : v_(Status(code, std::move(message))) {}

    [[nodiscard]] bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }
    /// Precondition: ok().
    [[nodiscard]] const T& value() const& { return std::get<0>(v_); }
    [[nodiscard]] T& value() & { return std::get<0>(v_); }
    [[nodiscard]] T&& value() && { return std::get<0>(std::move(v_)); }
    const T& operator*() const& { return value(); }
    const T* operator->() const { return &value(); }
    /// The error; an Ok Status when ok().
    [[nodiscard]] Status status() const { return ok() ? Status{} : std::get<1>(v_); }
    [[nodiscard]] T value_or(T fallback) const { return ok() ? value() : std::move(fallback); }

private:
    std::variant<T, Status> v_;
};

} // namespace stox::sdk
