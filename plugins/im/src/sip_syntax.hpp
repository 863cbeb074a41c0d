// SPDX-License-Identifier: Apache-2.0
// The few pieces of RFC 3261 header syntax the IM plugin reads itself: name-addr, media types,
// Max-Forwards, Content-Language and the Call-ID grammar. URIs themselves are mapped by the
// core (ctx.addresses()); this only finds them inside header values.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stox::plugins::im {

/// RFC 3261 §25.1 token character.
bool is_token_char(char c) noexcept;
/// RFC 3261 §25.1 `word` character (Call-ID).
bool is_word_char(char c) noexcept;
/// RFC 3261 §25.1 `callid = word [ "@" word ]`.
bool is_call_id(std::string_view s) noexcept;

/// The URI of a From/To/Contact value: `"Name" <uri>;params`, `<uri>` or `uri;params` (in the
/// addr-spec form the parameters belong to the header, RFC 3261 §20). "" when malformed.
std::string_view name_addr_uri(std::string_view value) noexcept;
/// The first element of a comma-separated header value (commas inside quotes or <...> do not
/// count), trimmed.
std::string_view first_list_element(std::string_view value) noexcept;

/// A parsed Content-Type (RFC 3261 §20.15 / RFC 2045): type and subtype lower-cased,
/// parameter names lower-cased, values unquoted.
struct MediaType {
    std::string type;
    std::string subtype;
    std::vector<std::pair<std::string, std::string>> params;

    [[nodiscard]] std::string essence() const { return type + "/" + subtype; }
    /// Value of a parameter (name compared case-insensitively), or nullopt.
    [[nodiscard]] std::optional<std::string> param(std::string_view name) const;
};
std::optional<MediaType> parse_media_type(std::string_view value);

/// Max-Forwards (1*DIGIT, RFC 3261 §20.22); nullopt when malformed. Values above 255 are
/// clamped to 255 (only zero matters here).
std::optional<int> parse_max_forwards(std::string_view value) noexcept;

/// A language tag as SIP (RFC 3261 §20.13) and xml:lang (BCP 47) both accept it: 1-8 letters,
/// then subtags of 1-8 letters or digits separated by '-'.
bool is_language_tag(std::string_view tag) noexcept;
/// The first tag of a Content-Language list ("cs, en" -> "cs"); "" when absent or invalid.
std::string first_language_tag(std::string_view content_language);

} // namespace stox::plugins::im
