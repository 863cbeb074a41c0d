// SPDX-License-Identifier: Apache-2.0
#include "date_time.hpp"

#include <array>
#include <cstdio>

#include "text.hpp"

namespace stox::plugins::im {

namespace {

using namespace std::chrono;

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> kWeekdays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};

/// Reads exactly `n` digits at s[i].
bool digits(std::string_view s, std::size_t& i, std::size_t n, int& out) {
    if (i > s.size() || s.size() - i < n) return false;
    int v = 0;
    for (std::size_t k = 0; k < n; ++k) {
        const char c = s[i + k];
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    i += n;
    out = v;
    return true;
}

bool expect(std::string_view s, std::size_t& i, char c) {
    if (i >= s.size() || s[i] != c) return false;
    ++i;
    return true;
}

void skip_spaces(std::string_view s, std::size_t& i) {
    while (i < s.size() && s[i] == ' ') ++i;
}

std::optional<SysSeconds> make_time(int y, int mo, int d, int h, int mi, int sec) {
    if (mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
    const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                             day{static_cast<unsigned>(d)}};
    if (!ymd.ok()) return std::nullopt;
    if (sec == 60) sec = 59; // leap second
    return sys_days{ymd} + hours{h} + minutes{mi} + seconds{sec};
}

} // namespace

std::optional<SysSeconds> parse_rfc1123(std::string_view text) {
    const std::string_view s = trim(text);
    std::size_t i = 0;
    const std::size_t comma = s.find(',');
    if (comma != std::string_view::npos) {
        bool known = false;
        for (auto w : kWeekdays) known = known || iequals(trim(s.substr(0, comma)), w);
        if (!known) return std::nullopt;
        i = comma + 1;
    }
    skip_spaces(s, i);
    int d = 0;
    if (!digits(s, i, 2, d)) {
        if (!digits(s, i, 1, d)) return std::nullopt;
    }
    skip_spaces(s, i);
    if (s.size() - i < 3) return std::nullopt;
    int mo = 0;
    for (std::size_t k = 0; k < kMonths.size(); ++k)
        if (iequals(s.substr(i, 3), kMonths[k])) mo = static_cast<int>(k) + 1;
    if (mo == 0) return std::nullopt;
    i += 3;
    skip_spaces(s, i);
    int y = 0, h = 0, mi = 0, sec = 0;
    if (!digits(s, i, 4, y)) return std::nullopt;
    skip_spaces(s, i);
    if (!digits(s, i, 2, h) || !expect(s, i, ':') || !digits(s, i, 2, mi) || !expect(s, i, ':') ||
        !digits(s, i, 2, sec))
        return std::nullopt;
    skip_spaces(s, i);
    if (!iequals(s.substr(i), "GMT")) return std::nullopt;
    return make_time(y, mo, d, h, mi, sec);
}

std::string format_rfc1123(SysSeconds t) {
    const sys_days day_point = floor<days>(t);
    const year_month_day ymd{day_point};
    const hh_mm_ss hms{t - day_point};
    const weekday wd{day_point};
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s, %02u %s %04d %02d:%02d:%02d GMT",
                  std::string(kWeekdays[wd.c_encoding()]).c_str(), static_cast<unsigned>(ymd.day()),
                  std::string(kMonths[static_cast<unsigned>(ymd.month()) - 1]).c_str(),
                  static_cast<int>(ymd.year()), static_cast<int>(hms.hours().count()),
                  static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
    return buf;
}

std::optional<SysSeconds> parse_xep0082(std::string_view text) {
    const std::string_view s = trim(text);
    std::size_t i = 0;
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    if (!digits(s, i, 4, y) || !expect(s, i, '-') || !digits(s, i, 2, mo) || !expect(s, i, '-') ||
        !digits(s, i, 2, d) || !expect(s, i, 'T') || !digits(s, i, 2, h) || !expect(s, i, ':') ||
        !digits(s, i, 2, mi) || !expect(s, i, ':') || !digits(s, i, 2, sec))
        return std::nullopt;
    if (i < s.size() && s[i] == '.') {
        ++i;
        const std::size_t start = i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
        if (i == start) return std::nullopt;
    }
    auto t = make_time(y, mo, d, h, mi, sec);
    if (!t || i >= s.size()) return std::nullopt;
    if (s[i] == 'Z') {
        ++i;
    } else if (s[i] == '+' || s[i] == '-') {
        const bool plus = s[i] == '+';
        ++i;
        int oh = 0, om = 0;
        if (!digits(s, i, 2, oh) || !expect(s, i, ':') || !digits(s, i, 2, om) || oh > 23 ||
            om > 59)
            return std::nullopt;
        const auto offset = hours{oh} + minutes{om};
        *t = plus ? *t - offset : *t + offset; // local = UTC + offset
    } else {
        return std::nullopt;
    }
    if (i != s.size()) return std::nullopt;
    return t;
}

std::string format_xep0082(SysSeconds t) {
    const sys_days day_point = floor<days>(t);
    const year_month_day ymd{day_point};
    const hh_mm_ss hms{t - day_point};
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()));
    return buf;
}

} // namespace stox::plugins::im
