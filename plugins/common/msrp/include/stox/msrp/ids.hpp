// SPDX-License-Identifier: Apache-2.0
/// \file ids.hpp
/// Random identifiers for MSRP: transaction ids, Message-IDs (RFC 4975 §7.1, §7.1.1) and the
/// session-id part of our msrp: URIs (§6, §8.2). Drawn from std::random_device (the kernel's
/// CSPRNG on Linux), because session-ids must be hard to guess (MSRP-25).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <stox/msrp/uri.hpp>

namespace stox::msrp {

/// `length` characters of [A-Za-z0-9] (5.95 random bits each). Lengths outside 1..64 clamp.
std::string random_base62(std::size_t length);

/// A transaction id: 16 base62 characters (~95 bits, MSRP-2: >= 64 bits; §9 ident 4..32).
std::string make_transaction_id();

/// A Message-ID: 20 base62 characters (~119 bits, MSRP-8: globally unlikely to repeat).
std::string make_message_id();

/// A URI session-id: 20 base62 characters (~119 bits; TV-01 asks for >= 80).
std::string make_session_id();

/// `msrp://HOST:PORT/SESSIONID;tcp` (MSRP-1: explicit port, `;tcp`); msrps:// when secure.
/// An IPv6 literal is given without brackets.
Uri make_uri(std::string host, std::uint16_t port, std::string session_id, bool secure = false);

} // namespace stox::msrp
