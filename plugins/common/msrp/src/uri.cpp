// SPDX-License-Identifier: Apache-2.0
#include <stox/msrp/uri.hpp>

#include <arpa/inet.h>

#include <array>
#include <cstring>
#include <new>

#include "syntax.hpp"

namespace stox::msrp {

using sdk::ErrorCode;
using sdk::Result;
using sdk::Status;
using namespace detail;

namespace {

Status bad(std::string why) {
    return Status(ErrorCode::BadRequest, "MSRP URI: " + why);
}

bool valid_pct(std::string_view s, std::size_t i) noexcept {
    return i + 2 < s.size() + 0 && is_hex(s[i + 1]) && is_hex(s[i + 2]);
}

/// reg-name as used by MSRP devices: unreserved and pct-encoded octets (RFC 3986 §3.2.2).
bool valid_reg_name(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%') {
            if (!valid_pct(s, i)) return false;
            i += 2;
        } else if (!is_unreserved(s[i])) {
            return false;
        }
    }
    return true;
}

bool valid_userinfo(std::string_view s) noexcept {
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '%') {
            if (!valid_pct(s, i)) return false;
            i += 2;
        } else if (!is_unreserved(c) && std::strchr("!$&'()*+,=", c) == nullptr) {
            // ':' would introduce a password, which §6 forbids; ';' ends the authority here.
            return false;
        }
    }
    return true;
}

bool valid_session_id(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (char c : s) {
        if (!is_unreserved(c) && c != '+' && c != '=' && c != '/') return false;
    }
    return true;
}

int hex_value(char c) noexcept {
    if (is_digit(c)) return c - '0';
    return to_lower(c) - 'a' + 10;
}

/// Lower-cased host with percent-encoded unreserved octets decoded (§6.1 rule 2).
std::string normalized_name(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && valid_pct(s, i)) {
            const auto c = static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            if (is_unreserved(c)) {
                out.push_back(to_lower(c));
                i += 2;
                continue;
            }
            out.push_back('%');
            out.push_back(to_lower(s[i + 1]));
            out.push_back(to_lower(s[i + 2]));
            i += 2;
            continue;
        }
        out.push_back(to_lower(s[i]));
    }
    return out;
}

Result<Uri> parse_uri_impl(std::string_view text) {
    Uri uri;
    const auto sep = text.find("://");
    if (sep == std::string_view::npos) return bad("missing \"://\"");
    const auto scheme = text.substr(0, sep);
    if (iequals(scheme, "msrp")) {
        uri.secure = false;
    } else if (iequals(scheme, "msrps")) {
        uri.secure = true;
    } else {
        return Status(ErrorCode::UnsupportedScheme, "MSRP URI: scheme is not msrp or msrps");
    }
    std::string_view rest = text.substr(sep + 3);

    // authority = [userinfo "@"] host [":" port]; it ends at "/" (session-id) or ";" (transport).
    const auto auth_end = rest.find_first_of("/;");
    if (auth_end == std::string_view::npos) return bad("missing \";transport\"");
    std::string_view authority = rest.substr(0, auth_end);
    rest.remove_prefix(auth_end);
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
        uri.userinfo = std::string(authority.substr(0, at));
        if (!valid_userinfo(uri.userinfo)) return bad("invalid userinfo");
        authority.remove_prefix(at + 1);
    }
    std::string_view host;
    std::string_view port_text;
    bool has_port = false;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) return bad("unterminated IPv6 literal");
        host = authority.substr(1, close - 1);
        std::array<unsigned char, 16> buf{};
        if (std::string h(host); inet_pton(AF_INET6, h.c_str(), buf.data()) != 1) {
            return bad("invalid IPv6 address");
        }
        uri.host_kind = HostKind::IPv6;
        const auto after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return bad("garbage after IPv6 literal");
            has_port = true;
            port_text = after.substr(1);
        }
    } else {
        const auto colon = authority.find(':');
        host = authority.substr(0, colon);
        if (colon != std::string_view::npos) {
            has_port = true;
            port_text = authority.substr(colon + 1);
        }
        if (!valid_reg_name(host)) return bad("invalid host");
        std::array<unsigned char, 4> buf{};
        bool dotted = true;
        for (char c : host) dotted = dotted && (is_digit(c) || c == '.');
        if (dotted) {
            if (std::string h(host); inet_pton(AF_INET, h.c_str(), buf.data()) != 1) {
                return bad("invalid IPv4 address");
            }
            uri.host_kind = HostKind::IPv4;
        }
    }
    uri.host = std::string(host);
    if (has_port) {
        const auto port = parse_u64(port_text);
        if (!port || *port > 65535) return bad("invalid port");
        uri.port = static_cast<std::uint16_t>(*port);
    } else if (uri.host_kind != HostKind::Name) {
        return bad("a numeric IP address requires a port (RFC 4975 §6)");
    }

    if (rest.front() == '/') {
        const auto semi = rest.find(';');
        if (semi == std::string_view::npos) return bad("missing \";transport\"");
        const auto sid = rest.substr(1, semi - 1);
        if (!valid_session_id(sid)) return bad("invalid session-id");
        uri.session_id = std::string(sid);
        rest.remove_prefix(semi);
    }
    // rest starts with ';': transport *( ";" URI-parameter )
    rest.remove_prefix(1);
    bool first = true;
    while (true) {
        const auto semi = rest.find(';');
        const auto item = rest.substr(0, semi);
        if (first) {
            if (item.empty()) return bad("empty transport");
            for (char c : item) {
                if (!is_alnum(c)) return bad("invalid transport");
            }
            uri.transport = std::string(item);
            first = false;
        } else {
            const auto eq = item.find('=');
            UriParam p;
            p.name = std::string(item.substr(0, eq));
            if (!is_token(p.name)) return bad("invalid URI parameter");
            if (eq != std::string_view::npos) {
                p.value = std::string(item.substr(eq + 1));
                if (!is_token(*p.value)) return bad("invalid URI parameter value");
            }
            uri.params.push_back(std::move(p));
        }
        if (semi == std::string_view::npos) break;
        rest.remove_prefix(semi + 1);
    }
    return uri;
}

bool hosts_equivalent(const Uri& a, const Uri& b) {
    if (a.host_kind != b.host_kind) return false;
    if (a.host_kind == HostKind::Name) return normalized_name(a.host) == normalized_name(b.host);
    // Numeric addresses are compared by value ("::1" == "0:0::1").
    const int af = a.host_kind == HostKind::IPv4 ? AF_INET : AF_INET6;
    std::array<unsigned char, 16> x{};
    std::array<unsigned char, 16> y{};
    if (inet_pton(af, a.host.c_str(), x.data()) != 1) return false;
    if (inet_pton(af, b.host.c_str(), y.data()) != 1) return false;
    return x == y;
}

} // namespace

Result<Uri> parse_uri(std::string_view text) noexcept {
    try {
        return parse_uri_impl(text);
    } catch (const std::bad_alloc&) {
        return Status(ErrorCode::Internal, "MSRP URI: out of memory");
    }
}

std::string to_string(const Uri& uri) {
    std::string out = uri.secure ? "msrps://" : "msrp://";
    if (!uri.userinfo.empty()) out += uri.userinfo + "@";
    if (uri.host_kind == HostKind::IPv6) {
        out += "[" + uri.host + "]";
    } else {
        out += uri.host;
    }
    if (uri.port) out += ":" + std::to_string(*uri.port);
    if (uri.session_id) out += "/" + *uri.session_id;
    out += ";" + uri.transport;
    for (const auto& p : uri.params) {
        out += ";" + p.name;
        if (p.value) out += "=" + *p.value;
    }
    return out;
}

bool equivalent(const Uri& a, const Uri& b) noexcept {
    try {
        return a.secure == b.secure && a.port == b.port && a.session_id == b.session_id &&
               iequals(a.transport, b.transport) && hosts_equivalent(a, b);
    } catch (const std::bad_alloc&) {
        return false;
    }
}

Result<Path> parse_path(std::string_view text) noexcept {
    try {
        Path path;
        while (true) {
            const auto sp = text.find(' ');
            auto uri = parse_uri(text.substr(0, sp));
            if (!uri) return uri.status();
            path.push_back(std::move(uri).value());
            if (sp == std::string_view::npos) break;
            text.remove_prefix(sp + 1);
        }
        return path;
    } catch (const std::bad_alloc&) {
        return Status(ErrorCode::Internal, "MSRP path: out of memory");
    }
}

std::string to_string(const Path& path) {
    std::string out;
    for (const auto& uri : path) {
        if (!out.empty()) out += ' ';
        out += to_string(uri);
    }
    return out;
}

bool equivalent(const Path& a, const Path& b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (!equivalent(a[i], b[i])) return false;
    }
    return true;
}

} // namespace stox::msrp
