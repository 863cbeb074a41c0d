// SPDX-License-Identifier: Apache-2.0
/// \file uri.hpp
/// msrp: / msrps: URIs (RFC 4975 §6, §9): parsing, serialization and §6.1 comparison.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <stox/sdk/status.hpp>

namespace stox::msrp {

enum class HostKind : std::uint8_t { Name, IPv4, IPv6 };

/// One URI parameter after the transport (`;name` or `;name=value`, RFC 4975 §9 URI-parameter).
struct UriParam {
    std::string name;
    std::optional<std::string> value;
    bool operator==(const UriParam&) const = default;
};

/// msrp[s]://[userinfo@]host[:port][/session-id];transport*(;param).
/// Fields hold the text as received (no case folding), so that to_string() round-trips;
/// equivalent() implements the §6.1 rules.
struct Uri {
    bool secure = false;  ///< msrps: TLS is mandatory (§6)
    std::string userinfo; ///< without '@'; ignored by comparison (§6.1 rule 2)
    std::string host;     ///< IPv6 without the brackets
    HostKind host_kind = HostKind::Name;
    std::optional<std::uint16_t> port; ///< §6: mandatory with a numeric IP address
    std::optional<std::string> session_id;
    std::string transport = "tcp"; ///< mandatory (§9); "tcp" for MSRP over TCP (§6)
    std::vector<UriParam> params;

    bool operator==(const Uri&) const = default; ///< structural (round-trip) equality
};

/// Parses one MSRP URI. BadRequest (with a reason) on any syntax error, UnsupportedScheme for a
/// scheme other than msrp/msrps. Never throws.
sdk::Result<Uri> parse_uri(std::string_view text) noexcept;

/// Serializes a URI (IPv6 hosts are bracketed again).
std::string to_string(const Uri& uri);

/// RFC 4975 §6.1 equivalence: scheme, host (case-insensitive, IP addresses by value, percent-
/// decoded), port (explicit on both sides or on neither), session-id (case-sensitive, present on
/// both sides or on neither) and transport (case-insensitive). Userinfo and other parameters are
/// not compared.
bool equivalent(const Uri& a, const Uri& b) noexcept;

/// A To-Path / From-Path value: one or more URIs separated by single spaces (§9).
using Path = std::vector<Uri>;

/// Parses a path header value; rejects an empty path.
sdk::Result<Path> parse_path(std::string_view text) noexcept;
std::string to_string(const Path& path);

/// Element-wise §6.1 equivalence of two paths of the same length.
bool equivalent(const Path& a, const Path& b) noexcept;

} // namespace stox::msrp
