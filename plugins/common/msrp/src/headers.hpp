// SPDX-License-Identifier: Apache-2.0
/// \file headers.hpp
/// Header-line decoding shared by the parser (internal).
#pragma once

#include <string_view>

#include <stox/msrp/message.hpp>

namespace stox::msrp::detail {

/// Applies one received header to a request: typed headers are validated (BadRequest with a
/// reason on a malformed or repeated one), the others are kept verbatim.
sdk::Status apply_header(Request& request, std::string_view name, std::string_view value);
sdk::Status apply_header(Response& response, std::string_view name, std::string_view value);

/// True for a MIME header (Content-*) other than Content-Type (RFC 4975 §9 Other-Mime-header).
bool is_mime_header(std::string_view name) noexcept;

} // namespace stox::msrp::detail
