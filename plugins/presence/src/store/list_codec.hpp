// SPDX-License-Identifier: Apache-2.0
/// \file list_codec.hpp
/// Encoding of the vector<string> fields (route set, announced resources) in one column, as a
/// concatenation of netstrings ("<len>:<bytes>,", D. J. Bernstein's format): compact,
/// binary-safe (no UTF-8 or escaping assumptions, unlike JSON whose serializer rejects invalid
/// UTF-8), and decoded in one linear pass with every length checked.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace stox::presence::store {

std::string encode_list(const std::vector<std::string>& items);

/// False (and `out` unspecified) if `encoded` is not a well-formed netstring sequence.
bool decode_list(std::string_view encoded, std::vector<std::string>& out);

} // namespace stox::presence::store
