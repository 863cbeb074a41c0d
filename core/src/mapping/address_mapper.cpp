// SPDX-License-Identifier: Apache-2.0
#include "mapping/address_mapper.hpp"

#include <new>

#include "mapping/address_codec.hpp"
#include "mapping/precis.hpp"

#include "stox/sdk/text.hpp"

namespace stox::core {
namespace {

using sdk::ErrorCode;
using sdk::Result;
using sdk::Status;
using sdk::UriRole;
using sdk::UriScheme;

bool contains(std::string_view set, unsigned char c) noexcept {
    return set.find(static_cast<char>(c)) != std::string_view::npos;
}

// RFC 3261 §25.1 user = 1*( unreserved / escaped / user-unreserved ): what stays literal in a
// sip/sips user part. RFC 7247 §6.5 step 5 encodes # % [ \ ] ^ ` { | } and non-ASCII; every
// other octet outside this set (space " < > @ :) is encoded too (stox-core.md §1.4.2).
bool sip_user_keep(unsigned char c) noexcept {
    return codec::is_alnum(c) || contains("-_.!~*'()&=+$,;?/", c);
}

// RFC 3261 §25.1 paramchar = param-unreserved / unreserved / escaped: everything else
// in a resource is encoded, so "a;b" cannot inject a URI parameter (TV-ADDR-20).
bool paramchar_keep(unsigned char c) noexcept {
    return codec::is_alnum(c) || contains("-_.!~*'()[]/:&+$", c);
}

// im/pres local part: RFC 5322 atext that is also legal unencoded in an RFC 3986 URI; '.' is
// decided by position. See docs/decisions/mapping.md.
std::string encode_im_local(std::string_view plain) {
    std::string out;
    for (std::size_t i = 0; i < plain.size(); ++i) {
        const auto c = static_cast<unsigned char>(plain[i]);
        if (c == '.') {
            // dot-atom-text: a '.' is literal only between two atext runs.
            const bool between =
                i > 0 && i + 1 < plain.size() && plain[i - 1] != '.' && plain[i + 1] != '.';
            out += between ? "." : "%2E";
            continue;
        }
        out += codec::percent_encode(plain.substr(i, 1), [](unsigned char x) {
            return codec::is_alnum(x) || contains("!$&'*+-/=_~", x);
        });
    }
    return out;
}

bool is_scheme_char(char ch, bool first) noexcept {
    const auto c = static_cast<unsigned char>(ch);
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (first) return alpha;
    return alpha || (c >= '0' && c <= '9') || ch == '+' || ch == '-' || ch == '.';
}

// Localpart of a decoded URI user part -> escaped, PRECIS-enforced JID localpart.
Result<std::string> user_to_localpart(std::string_view decoded) {
    if (!precis::is_valid_utf8(decoded))
        return Status{ErrorCode::BadRequest, "user part is not valid UTF-8"};
    // PRECIS mapping first, XEP-0106 escaping second, PRECIS validation last: no mapping step
    // (width mapping of U+FF07, case mapping of "\2F") can then create an unescaped excluded
    // character or a live escape sequence (A-3, docs/decisions/mapping.md).
    auto mapped = precis::map_username(decoded);
    if (!mapped) return mapped.status();
    std::string local = codec::xep0106_escape(*mapped);
    if (local.empty()) return Status{ErrorCode::BadRequest, "empty user part"};
    // XEP-0106 §4: \20 must not be the first or last sequence of a localpart.
    if (local.starts_with("\\20") || local.ends_with("\\20"))
        return Status{ErrorCode::BadRequest, "localpart starts or ends with a space"};
    if (Status st = precis::check_username(local); !st) return st;
    if (local.size() > codec::kMaxJidPart)
        return Status{ErrorCode::BadRequest, "localpart longer than 1023 octets"};
    return local;
}

struct ParsedUri {
    UriScheme scheme = UriScheme::Sip;
    bool has_user = false;
    std::string_view user;
    std::string_view host;
    bool has_gr_value = false;
    std::string_view gr;
};

Result<ParsedUri> parse_uri(std::string_view uri, UriRole role) {
    if (uri.empty()) return Status{ErrorCode::BadRequest, "empty URI"};
    if (uri.size() > AddressMapperImpl::kMaxUriLength)
        return Status{ErrorCode::BadRequest, "URI too long"};
    for (char ch : uri) {
        const auto c = static_cast<unsigned char>(ch);
        if (c <= 0x20 || c == 0x7F)
            return Status{ErrorCode::BadRequest, "URI contains whitespace or a control character"};
    }
    const std::size_t colon = uri.find(':');
    if (colon == std::string_view::npos || colon == 0)
        return Status{ErrorCode::BadRequest, "URI has no scheme"};
    const std::string_view scheme_name = uri.substr(0, colon);
    for (std::size_t i = 0; i < scheme_name.size(); ++i) {
        if (!is_scheme_char(scheme_name[i], i == 0))
            return Status{ErrorCode::BadRequest, "malformed URI scheme"};
    }
    ParsedUri p;
    if (!parse_uri_scheme(scheme_name, p.scheme)) {
        // CORE-ADDR-2: tel: and every other scheme are out of scope (416 as Request-URI).
        return Status{ErrorCode::UnsupportedScheme,
                      "URI scheme '" + std::string(scheme_name) + "' cannot be mapped to XMPP"};
    }
    // CORE-SEC-2 (RFC 7247 §8): a sips: Request-URI or To must not be translated.
    if (p.scheme == UriScheme::Sips && (role == UriRole::RequestUri || role == UriRole::To))
        return Status{ErrorCode::SecureOnly, "sips: target cannot be translated to XMPP"};
    const bool sip_like = p.scheme == UriScheme::Sip || p.scheme == UriScheme::Sips;

    std::string_view rest = uri.substr(colon + 1);
    // userinfo ends at the first '@' (an '@' cannot appear unescaped in user, params or
    // headers, RFC 3261 §25.1).
    if (const std::size_t at = rest.find('@'); at != std::string_view::npos) {
        std::string_view userinfo = rest.substr(0, at);
        rest = rest.substr(at + 1);
        // [CHOICE] drop ":password" (RFC 3261 §19.1.1 deprecates it).
        if (sip_like) userinfo = userinfo.substr(0, userinfo.find(':'));
        if (userinfo.empty()) return Status{ErrorCode::BadRequest, "empty user part"};
        p.has_user = true;
        p.user = userinfo;
    }
    rest = rest.substr(0, rest.find('?')); // drop ?headers
    std::string_view params;
    bool has_params = false;
    if (sip_like) {
        if (const std::size_t semi = rest.find(';'); semi != std::string_view::npos) {
            params = rest.substr(semi + 1);
            rest = rest.substr(0, semi);
            has_params = true;
        }
    }
    // hostport = host [ ":" port ]
    std::string_view host = rest;
    std::string_view port;
    bool has_port = false;
    if (!rest.empty() && rest.front() == '[') {
        const std::size_t close = rest.find(']');
        if (close == std::string_view::npos)
            return Status{ErrorCode::BadRequest, "unterminated IPv6 reference"};
        host = rest.substr(0, close + 1);
        const std::string_view after = rest.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return Status{ErrorCode::BadRequest, "malformed host"};
            port = after.substr(1);
            has_port = true;
        }
    } else if (const std::size_t c = rest.find(':'); c != std::string_view::npos) {
        host = rest.substr(0, c);
        port = rest.substr(c + 1);
        has_port = true;
    }
    if (has_port) {
        if (port.empty() || port.size() > 5) return Status{ErrorCode::BadRequest, "malformed port"};
        for (char ch : port) {
            if (ch < '0' || ch > '9') return Status{ErrorCode::BadRequest, "malformed port"};
        }
    }
    if (host.empty()) return Status{ErrorCode::BadRequest, "URI has no host"};
    p.host = host;

    // uri-parameters: keep gr, refuse user=phone, drop the rest.
    bool seen_gr_value = false;
    while (has_params) {
        const std::size_t semi = params.find(';');
        const std::string_view param = params.substr(0, semi);
        has_params = semi != std::string_view::npos;
        params = has_params ? params.substr(semi + 1) : std::string_view{};
        if (param.empty()) return Status{ErrorCode::BadRequest, "empty URI parameter"};
        const std::size_t eq = param.find('=');
        const std::string_view name = param.substr(0, eq);
        if (name.empty()) return Status{ErrorCode::BadRequest, "URI parameter without a name"};
        const bool has_value = eq != std::string_view::npos;
        const std::string_view value = has_value ? param.substr(eq + 1) : std::string_view{};
        if (sdk::ascii_iequals(name, "user") && sdk::ascii_iequals(value, "phone")) {
            // CORE-ADDR-2: telephone numbers are out of scope; [CHOICE] 404.
            return Status{ErrorCode::ItemNotFound,
                          "user=phone URIs (telephone numbers) cannot be mapped to XMPP"};
        }
        if (sdk::ascii_iequals(name, "gr") && has_value) {
            if (value.empty()) return Status{ErrorCode::BadRequest, "empty gr parameter value"};
            if (seen_gr_value) return Status{ErrorCode::BadRequest, "duplicate gr parameter"};
            seen_gr_value = true;
            p.has_gr_value = true;
            p.gr = value;
        }
        // A gr without a value marks a temporary GRUU: not a resource (CORE-ADDR-8).
    }
    return p;
}

Result<std::string> to_jid_impl(std::string_view uri, UriRole role) {
    auto parsed = parse_uri(uri, role);
    if (!parsed) return parsed.status();
    const ParsedUri& p = *parsed;

    std::string jid;
    if (p.has_user) {
        auto decoded = codec::percent_decode(p.user);
        if (!decoded) return decoded.status();
        auto local = user_to_localpart(*decoded);
        if (!local) return local.status();
        jid = std::move(local).value();
        jid.push_back('@');
    }
    auto domain = codec::canonical_domain(p.host);
    if (!domain) return domain.status();
    jid += domain->unicode;

    if (p.has_gr_value) {
        // RFC 7247 §6.4 step 8, CORE-ADDR-9: the gr value is the percent-encoded resource.
        auto decoded = codec::percent_decode(p.gr);
        if (!decoded) return decoded.status();
        auto resource = precis::enforce_opaque(*decoded);
        if (!resource) return resource.status();
        if (resource->size() > codec::kMaxJidPart)
            return Status{ErrorCode::BadRequest, "resource longer than 1023 octets"};
        jid.push_back('/');
        jid += *resource;
    }
    return jid;
}

Result<std::string> to_uri_impl(std::string_view jid, UriScheme scheme) {
    auto parts = codec::split_jid(jid);
    if (!parts) return parts.status();
    auto domain = codec::canonical_domain(parts->domain);
    if (!domain) return domain.status();

    std::string uri(to_string(scheme));
    uri.push_back(':');
    if (parts->has_local) {
        // RFC 7247 §6.5 step 2 (OPTIONAL, on): canonicalise before unescaping (XEP-0106 §5).
        auto mapped = precis::map_username(parts->local);
        if (!mapped) return mapped.status();
        if (Status st = precis::check_username(*mapped); !st) return st;
        for (char ch : *mapped) {
            if (codec::is_jid_excluded(static_cast<unsigned char>(ch)))
                return Status{ErrorCode::BadRequest,
                              "localpart contains a character RFC 7622 §3.3.1 excludes"};
        }
        if (mapped->size() > codec::kMaxJidPart)
            return Status{ErrorCode::BadRequest, "localpart longer than 1023 octets"};
        if (mapped->starts_with("\\20") || mapped->ends_with("\\20"))
            return Status{ErrorCode::BadRequest, "localpart starts or ends with \\20"};
        const std::string plain = codec::xep0106_unescape(*mapped);
        if (scheme == UriScheme::Sip || scheme == UriScheme::Sips) {
            uri += codec::percent_encode(plain, sip_user_keep);
        } else {
            uri += encode_im_local(plain);
        }
        uri.push_back('@');
    }
    uri += domain->ascii;

    if (parts->has_resource) {
        auto resource = precis::enforce_opaque(parts->resource);
        if (!resource) return resource.status();
        if (resource->size() > codec::kMaxJidPart)
            return Status{ErrorCode::BadRequest, "resource longer than 1023 octets"};
        // RFC 7247 §6.5 step 8 / A-2: ";gr=" for sip/sips only; im:/pres: have no place for
        // a resource, so it is dropped (docs/decisions/mapping.md).
        if (scheme == UriScheme::Sip || scheme == UriScheme::Sips) {
            uri += ";gr=";
            uri += codec::percent_encode(*resource, paramchar_keep);
        }
    }
    return uri;
}

} // namespace

bool parse_uri_scheme(std::string_view s, sdk::UriScheme& out) noexcept {
    if (sdk::ascii_iequals(s, "sip")) {
        out = UriScheme::Sip;
    } else if (sdk::ascii_iequals(s, "sips")) {
        out = UriScheme::Sips;
    } else if (sdk::ascii_iequals(s, "im")) {
        out = UriScheme::Im;
    } else if (sdk::ascii_iequals(s, "pres")) {
        out = UriScheme::Pres;
    } else {
        return false;
    }
    return true;
}

std::string_view to_string(sdk::UriScheme scheme) noexcept {
    switch (scheme) {
    case UriScheme::Sip: return "sip";
    case UriScheme::Sips: return "sips";
    case UriScheme::Im: return "im";
    case UriScheme::Pres: return "pres";
    }
    return "sip";
}

bool parse_uri_role(std::string_view s, sdk::UriRole& out) noexcept {
    if (sdk::ascii_iequals(s, "request-uri") || sdk::ascii_iequals(s, "ruri")) {
        out = UriRole::RequestUri;
    } else if (sdk::ascii_iequals(s, "to")) {
        out = UriRole::To;
    } else if (sdk::ascii_iequals(s, "from")) {
        out = UriRole::From;
    } else if (sdk::ascii_iequals(s, "contact")) {
        out = UriRole::Contact;
    } else if (sdk::ascii_iequals(s, "entity")) {
        out = UriRole::Entity;
    } else {
        return false;
    }
    return true;
}

Result<std::string> AddressMapperImpl::to_jid(std::string_view uri, sdk::UriRole role) const {
    try {
        return to_jid_impl(uri, role);
    } catch (const std::bad_alloc&) {
        return Status{ErrorCode::Internal, "out of memory while mapping a URI"};
    } catch (...) {
        return Status{ErrorCode::Internal, "unexpected failure while mapping a URI"};
    }
}

Result<std::string> AddressMapperImpl::to_uri(std::string_view jid, sdk::UriScheme scheme) const {
    try {
        return to_uri_impl(jid, scheme);
    } catch (const std::bad_alloc&) {
        return Status{ErrorCode::Internal, "out of memory while mapping a JID"};
    } catch (...) {
        return Status{ErrorCode::Internal, "unexpected failure while mapping a JID"};
    }
}

} // namespace stox::core
