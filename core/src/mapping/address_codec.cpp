// SPDX-License-Identifier: Apache-2.0
#include "mapping/address_codec.hpp"

#include <array>
#include <cstdlib>
#include <memory>

#include <idn2.h>

#include "mapping/precis.hpp"

namespace stox::core::codec {
namespace {

using sdk::ErrorCode;
using sdk::Result;
using sdk::Status;

int hex_value(char ch) noexcept {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

char ascii_lower(char ch) noexcept {
    return (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch - 'A' + 'a') : ch;
}

// The ten XEP-0106 escape sequences (lowercase hex) and the characters they stand for.
struct Escape {
    char plain;
    std::string_view hex;
};
constexpr std::array<Escape, 10> kEscapes{{{' ', "20"},
                                           {'"', "22"},
                                           {'&', "26"},
                                           {'\'', "27"},
                                           {'/', "2f"},
                                           {':', "3a"},
                                           {'<', "3c"},
                                           {'>', "3e"},
                                           {'@', "40"},
                                           {'\\', "5c"}}};

// Does s[pos..pos+2) spell one of the ten escape hex pairs?
const Escape* match_escape(std::string_view s, std::size_t pos, bool case_insensitive) noexcept {
    if (pos + 2 > s.size()) return nullptr;
    char a = s[pos];
    char b = s[pos + 1];
    if (case_insensitive) {
        a = ascii_lower(a);
        b = ascii_lower(b);
    }
    for (const Escape& e : kEscapes) {
        if (e.hex[0] == a && e.hex[1] == b) return &e;
    }
    return nullptr;
}

struct FreeDeleter {
    void operator()(void* p) const noexcept { std::free(p); }
};

// libidn2 wrappers; the inputs are NUL-free (checked by the callers).
Result<std::string> idn_to_ascii(const std::string& in) {
    char* out = nullptr;
    const int rc = idn2_to_ascii_8z(in.c_str(), &out, IDN2_NONTRANSITIONAL);
    std::unique_ptr<char, FreeDeleter> guard(out);
    if (rc != IDN2_OK || out == nullptr)
        return Status{ErrorCode::BadRequest,
                      std::string("domain is not a valid IDN: ") + idn2_strerror(rc)};
    return std::string(out);
}

Result<std::string> idn_to_unicode(const std::string& in) {
    char* out = nullptr;
    const int rc = idn2_to_unicode_8z8z(in.c_str(), &out, 0);
    std::unique_ptr<char, FreeDeleter> guard(out);
    if (rc != IDN2_OK || out == nullptr)
        return Status{ErrorCode::BadRequest,
                      std::string("domain has an invalid A-label: ") + idn2_strerror(rc)};
    return std::string(out);
}

// RFC 1123 LDH syntax of every label; also the RFC 3261 hostname rule except that a top
// label may start with a digit (covers IPv4 addresses).
Status check_ldh(std::string_view ascii, bool& has_a_label) {
    has_a_label = false;
    if (ascii.empty()) return Status{ErrorCode::BadRequest, "domain is empty"};
    if (ascii.size() > 253) return Status{ErrorCode::BadRequest, "domain longer than 253 octets"};
    std::size_t start = 0;
    while (start <= ascii.size()) {
        std::size_t dot = ascii.find('.', start);
        if (dot == std::string_view::npos) dot = ascii.size();
        const std::string_view label = ascii.substr(start, dot - start);
        if (label.empty()) return Status{ErrorCode::BadRequest, "domain has an empty label"};
        if (label.size() > 63)
            return Status{ErrorCode::BadRequest, "domain label longer than 63 octets"};
        if (label.front() == '-' || label.back() == '-')
            return Status{ErrorCode::BadRequest, "domain label starts or ends with '-'"};
        for (char ch : label) {
            const auto c = static_cast<unsigned char>(ch);
            if (!(is_alnum(c) || ch == '-'))
                return Status{ErrorCode::BadRequest, "domain has a character outside [a-z0-9-.]"};
        }
        if (label.size() >= 4 && label.substr(0, 4) == "xn--") has_a_label = true;
        start = dot + 1;
    }
    return Status{};
}

Status check_ip_literal(std::string_view lit) {
    // RFC 3986 IP-literal, restricted to IPv6address (hex digits, ':' and a dotted IPv4 tail).
    const std::string_view inner = lit.substr(1, lit.size() - 2);
    if (inner.size() < 2 || inner.size() > 45 || inner.find(':') == std::string_view::npos)
        return Status{ErrorCode::BadRequest, "malformed IPv6 literal"};
    for (char ch : inner) {
        if (!(hex_value(ch) >= 0 || ch == ':' || ch == '.'))
            return Status{ErrorCode::BadRequest, "malformed IPv6 literal"};
    }
    return Status{};
}

} // namespace

bool is_alnum(unsigned char c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_jid_excluded(unsigned char c) noexcept {
    switch (c) {
    case ' ':
    case '"':
    case '&':
    case '\'':
    case '/':
    case ':':
    case '<':
    case '>':
    case '@': return true;
    default: return false;
    }
}

Result<std::string> percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out.push_back(s[i]);
            continue;
        }
        // RFC 3986 §2.1: "%" HEXDIG HEXDIG; anything else is malformed (TV-ADDR-13).
        const int hi = i + 1 < s.size() ? hex_value(s[i + 1]) : -1;
        const int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
        if (hi < 0 || lo < 0) return Status{ErrorCode::BadRequest, "malformed percent-encoding"};
        out.push_back(static_cast<char>((hi << 4) | lo));
        i += 2;
    }
    return out;
}

std::string xep0106_escape(std::string_view decoded) {
    std::string out;
    out.reserve(decoded.size() + 8);
    for (std::size_t i = 0; i < decoded.size(); ++i) {
        const char ch = decoded[i];
        if (ch == '\\') {
            // XEP-0106 §5 step 3: pre-escape a backslash that starts an escape sequence.
            out += match_escape(decoded, i + 1, true) != nullptr ? "\\5c" : "\\";
            continue;
        }
        bool escaped = false;
        for (const Escape& e : kEscapes) {
            if (e.plain == ch && ch != '\\') {
                out.push_back('\\');
                out.append(e.hex);
                escaped = true;
                break;
            }
        }
        if (!escaped) out.push_back(ch);
    }
    return out;
}

std::string xep0106_unescape(std::string_view escaped) {
    std::string out;
    out.reserve(escaped.size());
    for (std::size_t i = 0; i < escaped.size(); ++i) {
        if (escaped[i] == '\\') {
            if (const Escape* e = match_escape(escaped, i + 1, false)) {
                out.push_back(e->plain);
                i += 2;
                continue;
            }
        }
        out.push_back(escaped[i]);
    }
    return out;
}

Result<JidParts> split_jid(std::string_view jid) {
    if (jid.empty()) return Status{ErrorCode::BadRequest, "empty JID"};
    if (jid.size() > 3 * kMaxJidPart + 2) return Status{ErrorCode::BadRequest, "JID too long"};
    if (!precis::is_valid_utf8(jid)) return Status{ErrorCode::BadRequest, "JID is not valid UTF-8"};
    JidParts parts;
    std::string_view head = jid;
    if (const std::size_t slash = jid.find('/'); slash != std::string_view::npos) {
        parts.has_resource = true;
        parts.resource = jid.substr(slash + 1);
        head = jid.substr(0, slash);
        if (parts.resource.empty()) return Status{ErrorCode::BadRequest, "empty resourcepart"};
    }
    if (const std::size_t at = head.find('@'); at != std::string_view::npos) {
        parts.has_local = true;
        parts.local = head.substr(0, at);
        parts.domain = head.substr(at + 1);
        if (parts.local.empty()) return Status{ErrorCode::BadRequest, "empty localpart"};
    } else {
        parts.domain = head;
    }
    if (parts.domain.empty()) return Status{ErrorCode::BadRequest, "empty domainpart"};
    if (parts.local.size() > kMaxJidPart || parts.domain.size() > kMaxJidPart ||
        parts.resource.size() > kMaxJidPart)
        return Status{ErrorCode::BadRequest, "JID part longer than 1023 octets"};
    return parts;
}

Result<Domain> canonical_domain(std::string_view domain) {
    if (domain.empty()) return Status{ErrorCode::BadRequest, "empty domain"};
    if (domain.size() > kMaxJidPart)
        return Status{ErrorCode::BadRequest, "domain longer than 1023 octets"};
    if (domain.find('\0') != std::string_view::npos)
        return Status{ErrorCode::BadRequest, "domain contains NUL"};
    if (domain.front() == '[') {
        if (domain.back() != ']') return Status{ErrorCode::BadRequest, "malformed IP literal"};
        if (Status st = check_ip_literal(domain); !st) return st;
        std::string lit;
        for (char ch : domain) lit.push_back(ascii_lower(ch));
        return Domain{lit, lit};
    }
    // RFC 7622 §3.2: a trailing dot is not part of the domainpart.
    if (domain.back() == '.') domain.remove_suffix(1);
    bool non_ascii = false;
    for (char ch : domain) non_ascii = non_ascii || static_cast<unsigned char>(ch) >= 0x80;
    std::string ascii;
    if (non_ascii) {
        if (!precis::is_valid_utf8(domain))
            return Status{ErrorCode::BadRequest, "domain is not valid UTF-8"};
        auto a = idn_to_ascii(std::string(domain));
        if (!a) return a.status();
        ascii = std::move(a).value();
    } else {
        for (char ch : domain) ascii.push_back(ascii_lower(ch));
    }
    bool has_a_label = false;
    if (Status st = check_ldh(ascii, has_a_label); !st) return st;
    if (!has_a_label) return Domain{ascii, ascii};
    // An A-label must decode and re-encode to itself (rejects fake or non-canonical xn--).
    auto unicode = idn_to_unicode(ascii);
    if (!unicode) return unicode.status();
    auto again = idn_to_ascii(*unicode);
    if (!again || *again != ascii)
        return Status{ErrorCode::BadRequest, "domain has a non-canonical A-label"};
    if (unicode->size() > kMaxJidPart)
        return Status{ErrorCode::BadRequest, "domain longer than 1023 octets"};
    return Domain{std::move(unicode).value(), std::move(ascii)};
}

std::string jid_to_xmpp_iri(std::string_view local, std::string_view domain,
                            std::string_view resource, bool has_resource) {
    // RFC 5122 §2.2: iunreserved (non-ASCII stays literal in an IRI) plus nodeallow / resallow.
    auto iunreserved = [](unsigned char c) {
        return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c >= 0x80;
    };
    auto node_keep = [&](unsigned char c) {
        return iunreserved(c) ||
               std::string_view("!$()*+,;=").find(static_cast<char>(c)) != std::string_view::npos;
    };
    auto res_keep = [&](unsigned char c) {
        return iunreserved(c) || std::string_view("!$&'()*+,:;=").find(static_cast<char>(c)) !=
                                     std::string_view::npos;
    };
    std::string out = "xmpp:";
    if (!local.empty()) {
        out += percent_encode(local, node_keep);
        out.push_back('@');
    }
    out.append(domain);
    if (has_resource) {
        out.push_back('/');
        out += percent_encode(resource, res_keep);
    }
    return out;
}

Result<std::string> xmpp_iri_to_jid(std::string_view iri) {
    constexpr std::string_view kScheme = "xmpp:";
    if (iri.size() < kScheme.size()) return Status{ErrorCode::BadRequest, "not an xmpp: IRI"};
    for (std::size_t i = 0; i < kScheme.size(); ++i) {
        if (ascii_lower(iri[i]) != kScheme[i])
            return Status{ErrorCode::BadRequest, "not an xmpp: IRI"};
    }
    std::string_view rest = iri.substr(kScheme.size());
    if (rest.substr(0, 2) == "//") { // RFC 5122 iauthpath: skip the authority
        const std::size_t slash = rest.find('/', 2);
        if (slash == std::string_view::npos)
            return Status{ErrorCode::BadRequest, "xmpp: IRI without a path"};
        rest = rest.substr(slash + 1);
    }
    rest = rest.substr(0, rest.find_first_of("?#"));
    // Split before decoding so that %2F / %40 cannot move the part boundaries.
    std::string_view head = rest;
    std::string_view res;
    bool has_res = false;
    if (const std::size_t slash = rest.find('/'); slash != std::string_view::npos) {
        head = rest.substr(0, slash);
        res = rest.substr(slash + 1);
        has_res = true;
    }
    std::string_view node;
    std::string_view host = head;
    bool has_node = false;
    if (const std::size_t at = head.find('@'); at != std::string_view::npos) {
        node = head.substr(0, at);
        host = head.substr(at + 1);
        has_node = true;
    }
    auto n = percent_decode(node);
    auto h = percent_decode(host);
    auto r = percent_decode(res);
    if (!n || !h || !r) return Status{ErrorCode::BadRequest, "malformed percent-encoding in IRI"};
    if (n->find_first_of("@/") != std::string::npos || h->find_first_of("@/") != std::string::npos)
        return Status{ErrorCode::BadRequest, "xmpp: IRI with '@' or '/' in node or host"};
    std::string jid;
    if (has_node) jid += *n + "@";
    jid += *h;
    if (has_res) jid += "/" + *r;
    if (!precis::is_valid_utf8(jid)) return Status{ErrorCode::BadRequest, "IRI is not UTF-8"};
    return jid;
}

} // namespace stox::core::codec
