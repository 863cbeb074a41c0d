// SPDX-License-Identifier: Apache-2.0
// Semantic versions (semver.org 2.0.0) and the version ranges of manifest `requires` entries
// ("version": ">=1.0.0 <2.0.0"). See sdk/docs/manifest.md for the grammar.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "stox/sdk/status.hpp"

namespace stox::core {

struct SemVer {
    std::uint64_t major = 0;
    std::uint64_t minor = 0;
    std::uint64_t patch = 0;
    std::vector<std::string> prerelease; ///< dot-separated identifiers after '-'
    std::string build;                   ///< after '+'; ignored by comparisons (semver §10)

    /// Strict semver 2.0.0: no leading zeros, no 'v' prefix, non-empty identifiers.
    static sdk::Result<SemVer> parse(std::string_view text);
    [[nodiscard]] std::string to_string() const;

    /// Precedence per semver §11 (build metadata ignored).
    friend std::strong_ordering operator<=>(const SemVer& a, const SemVer& b);
    friend bool operator==(const SemVer& a, const SemVer& b) { return (a <=> b) == 0; }
};

/// The `version` of a manifest `requires` entry: comparators separated by blanks, all of which
/// must hold. A comparator is an operator (>=, >, <=, <, =; none means =) followed by
/// MAJOR.MINOR.PATCH: `>=1.0.0 <2.0.0`. An empty range accepts every version. This is exactly the
/// grammar plugin-manifest-1.schema.json admits.
class VersionRange {
public:
    static sdk::Result<VersionRange> parse(std::string_view text);
    [[nodiscard]] bool matches(const SemVer& version) const;
    [[nodiscard]] const std::string& text() const noexcept { return text_; }

private:
    enum class Op { Eq, Lt, Le, Gt, Ge };
    struct Comparator {
        Op op;
        SemVer version;
    };

    std::string text_;
    std::vector<Comparator> comparators_; ///< empty = any version
};

} // namespace stox::core
