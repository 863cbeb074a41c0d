// SPDX-License-Identifier: Apache-2.0
#include "store/list_codec.hpp"

#include <cstddef>

namespace stox::presence::store {

std::string encode_list(const std::vector<std::string>& items) {
    std::string out;
    std::size_t total = 0;
    for (const auto& s : items) total += s.size() + 12;
    out.reserve(total);
    for (const auto& s : items) {
        out += std::to_string(s.size());
        out += ':';
        out += s;
        out += ',';
    }
    return out;
}

bool decode_list(std::string_view in, std::vector<std::string>& out) {
    out.clear();
    std::size_t pos = 0;
    while (pos < in.size()) {
        // Length: 1..9 decimal digits, no leading zero except "0" itself (netstring rule).
        std::size_t len = 0;
        std::size_t digits = 0;
        while (pos < in.size() && in[pos] >= '0' && in[pos] <= '9') {
            if (digits == 9 || (digits == 1 && len == 0)) return false;
            len = len * 10 + static_cast<std::size_t>(in[pos] - '0');
            ++digits;
            ++pos;
        }
        if (digits == 0 || pos >= in.size() || in[pos] != ':') return false;
        ++pos;
        if (in.size() - pos < len + 1 || in[pos + len] != ',') return false;
        out.emplace_back(in.substr(pos, len));
        pos += len + 1;
    }
    return true;
}

} // namespace stox::presence::store
