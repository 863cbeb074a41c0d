// SPDX-License-Identifier: Apache-2.0
#include "thread_codec.hpp"

#include "sip_syntax.hpp"
#include "text.hpp"

namespace stox::plugins::im {

std::string thread_to_call_id(std::string_view thread) {
    if (is_call_id(thread)) return std::string(thread);
    return std::string(kThreadCallIdPrefix) + hex_lower(thread);
}

std::string call_id_to_thread(std::string_view call_id) {
    if (call_id.size() > kThreadCallIdPrefix.size() &&
        call_id.substr(0, kThreadCallIdPrefix.size()) == kThreadCallIdPrefix) {
        auto decoded = unhex_lower(call_id.substr(kThreadCallIdPrefix.size()));
        // Only the canonical encoding is reversed, so the mapping stays a bijection and a peer
        // cannot smuggle non-XML characters into a stanza through its Call-ID.
        if (decoded && !decoded->empty() && is_valid_utf8(*decoded) &&
            count_non_xml_chars(*decoded) == 0 && !is_call_id(*decoded))
            return std::move(*decoded);
    }
    return std::string(call_id);
}

} // namespace stox::plugins::im
