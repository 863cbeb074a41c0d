// SPDX-License-Identifier: Apache-2.0
#include "plugin/version_range.hpp"

#include <algorithm>
#include <charconv>

namespace stox::core {
namespace {

bool is_numeric(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_ident_char(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

// semver §2: a numeric part has no leading zero and fits 64 bits.
bool parse_number(std::string_view s, std::uint64_t& out) {
    if (!is_numeric(s) || (s.size() > 1 && s[0] == '0')) return false;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && ptr == s.data() + s.size();
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (;;) {
        auto pos = s.find(sep, start);
        parts.push_back(s.substr(start, pos == std::string_view::npos ? pos : pos - start));
        if (pos == std::string_view::npos) break;
        start = pos + 1;
    }
    return parts;
}

// semver §11.4: numeric identifiers compare numerically and rank below alphanumeric ones.
std::strong_ordering compare_identifier(const std::string& a, const std::string& b) {
    const bool an = is_numeric(a);
    const bool bn = is_numeric(b);
    if (an && bn) {
        if (a.size() != b.size()) return a.size() <=> b.size(); // no leading zeros
        return a.compare(b) <=> 0;
    }
    if (an != bn) return an ? std::strong_ordering::less : std::strong_ordering::greater;
    return a.compare(b) <=> 0;
}

} // namespace

sdk::Result<SemVer> SemVer::parse(std::string_view text) {
    const auto bad = [&](std::string_view why) {
        return sdk::Result<SemVer>(sdk::ErrorCode::BadRequest, "'" + std::string(text) +
                                                                   "' is not a semantic version (" +
                                                                   std::string(why) + ")");
    };
    SemVer v;
    std::string_view core = text;
    if (auto plus = core.find('+'); plus != std::string_view::npos) {
        v.build = std::string(core.substr(plus + 1));
        core = core.substr(0, plus);
        if (v.build.empty()) return bad("empty build metadata");
        for (auto id : split(v.build, '.'))
            if (id.empty() || !std::all_of(id.begin(), id.end(), is_ident_char))
                return bad("invalid build metadata");
    }
    if (auto dash = core.find('-'); dash != std::string_view::npos) {
        auto pre = core.substr(dash + 1);
        core = core.substr(0, dash);
        for (auto id : split(pre, '.')) {
            if (id.empty() || !std::all_of(id.begin(), id.end(), is_ident_char))
                return bad("invalid pre-release identifier");
            if (is_numeric(id) && id.size() > 1 && id[0] == '0')
                return bad("leading zero in pre-release identifier");
            v.prerelease.emplace_back(id);
        }
    }
    auto nums = split(core, '.');
    if (nums.size() != 3) return bad("expected MAJOR.MINOR.PATCH");
    if (!parse_number(nums[0], v.major) || !parse_number(nums[1], v.minor) ||
        !parse_number(nums[2], v.patch))
        return bad("MAJOR, MINOR and PATCH must be numbers without leading zeros");
    return v;
}

std::string SemVer::to_string() const {
    std::string s =
        std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
    for (std::size_t i = 0; i < prerelease.size(); ++i) s += (i == 0 ? "-" : ".") + prerelease[i];
    if (!build.empty()) s += "+" + build;
    return s;
}

std::strong_ordering operator<=>(const SemVer& a, const SemVer& b) {
    if (auto c = a.major <=> b.major; c != 0) return c;
    if (auto c = a.minor <=> b.minor; c != 0) return c;
    if (auto c = a.patch <=> b.patch; c != 0) return c;
    // semver §11.3: a pre-release ranks below the release it precedes.
    if (a.prerelease.empty() != b.prerelease.empty())
        return a.prerelease.empty() ? std::strong_ordering::greater : std::strong_ordering::less;
    const std::size_t n = std::min(a.prerelease.size(), b.prerelease.size());
    for (std::size_t i = 0; i < n; ++i)
        if (auto c = compare_identifier(a.prerelease[i], b.prerelease[i]); c != 0) return c;
    return a.prerelease.size() <=> b.prerelease.size();
}

sdk::Result<VersionRange> VersionRange::parse(std::string_view text) {
    VersionRange range;
    range.text_ = std::string(text);
    for (auto token : split(text, ' ')) {
        if (token.empty()) continue; // several blanks, or leading/trailing ones
        Op op = Op::Eq;
        for (auto [prefix, o] : {std::pair{">=", Op::Ge},
                                 {"<=", Op::Le},
                                 {">", Op::Gt},
                                 {"<", Op::Lt},
                                 {"=", Op::Eq}}) {
            if (token.starts_with(prefix)) {
                op = o;
                token.remove_prefix(std::string_view(prefix).size());
                break;
            }
        }
        auto version = SemVer::parse(token);
        if (!version)
            return sdk::Result<VersionRange>(sdk::ErrorCode::BadRequest,
                                             "invalid version range '" + std::string(text) +
                                                 "': " + version.status().message());
        range.comparators_.push_back({op, *version});
    }
    return range;
}

bool VersionRange::matches(const SemVer& v) const {
    return std::all_of(comparators_.begin(), comparators_.end(), [&](const Comparator& c) {
        switch (c.op) {
        case Op::Eq: return v == c.version;
        case Op::Lt: return v < c.version;
        case Op::Le: return v <= c.version;
        case Op::Gt: return v > c.version;
        case Op::Ge: return v >= c.version;
        }
        return false;
    });
}

} // namespace stox::core
