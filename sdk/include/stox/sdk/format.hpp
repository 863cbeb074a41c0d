// SPDX-License-Identifier: Apache-2.0
/// \file format.hpp
/// A tiny "{}" formatter (g++ 12 has no std::format). Each "{}" takes the next argument,
/// written with operator<<; "{{" and "}}" are literal braces. Surplus arguments are ignored,
/// missing ones leave "{}" in place, so a wrong log line never throws.
#pragma once

#include <sstream>
#include <string>
#include <string_view>

namespace stox::sdk {
namespace detail {
inline void format_rest(std::ostringstream& out, std::string_view fmt) {
    for (std::size_t i = 0; i < fmt.size(); ++i) {
        if ((fmt[i] == '{' || fmt[i] == '}') && i + 1 < fmt.size() && fmt[i + 1] == fmt[i]) ++i;
        out << fmt[i];
    }
}
template <class A, class... Rest>
void format_rest(std::ostringstream& out, std::string_view fmt, const A& a, const Rest&... rest) {
    for (std::size_t i = 0; i < fmt.size(); ++i) {
        if (fmt[i] == '{' && i + 1 < fmt.size() && fmt[i + 1] == '{') {
            out << '{';
            ++i;
        } else if (fmt[i] == '}' && i + 1 < fmt.size() && fmt[i + 1] == '}') {
            out << '}';
            ++i;
        } else if (fmt[i] == '{' && i + 1 < fmt.size() && fmt[i + 1] == '}') {
            out << a;
            format_rest(out, fmt.substr(i + 2), rest...);
            return;
        } else {
            out << fmt[i];
        }
    }
}
} // namespace detail

template <class... A> std::string format(std::string_view fmt, const A&... args) {
    std::ostringstream out;
    detail::format_rest(out, fmt, args...);
    return out.str();
}

} // namespace stox::sdk
