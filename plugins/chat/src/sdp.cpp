// SPDX-License-Identifier: Apache-2.0
#include "sdp.hpp"

#include <cctype>
#include <charconv>

#include "stox/sdk/text.hpp"

namespace stox::plugins::chat {

namespace {

using sdk::ErrorCode;
using sdk::Status;

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

std::vector<std::string> words(std::string_view s) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
        std::size_t j = i;
        while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
        if (j > i) out.emplace_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

/// "c=IN IP4 host" -> host
std::string connection_host(std::string_view value) {
    auto w = words(value);
    return w.size() >= 3 ? w[2] : std::string();
}

} // namespace

std::string_view setup_name(Setup s) {
    switch (s) {
    case Setup::Active: return "active";
    case Setup::Passive: return "passive";
    case Setup::ActPass: return "actpass";
    case Setup::None: break;
    }
    return "";
}

sdk::Result<MsrpMedia> parse_msrp_sdp(std::string_view sdp) {
    if (sdp.find("v=") == std::string_view::npos && sdp.find("m=") == std::string_view::npos)
        return Status(ErrorCode::BadRequest, "the body is not SDP");
    MsrpMedia m;
    std::string session_c;
    bool in_media = false, found = false, done = false, any_media = false;
    bool has_path = false, has_accept = false;
    std::size_t pos = 0;
    while (pos <= sdp.size() && !done) {
        std::size_t nl = sdp.find('\n', pos);
        if (nl == std::string_view::npos) nl = sdp.size();
        std::string_view line = trim(sdp.substr(pos, nl - pos));
        pos = nl + 1;
        if (line.size() < 2 || line[1] != '=') continue;
        const char kind = line[0];
        std::string_view value = line.substr(2);
        if (kind == 'm') {
            if (found) {
                done = true; // only the first m=message line is ours
                break;
            }
            auto w = words(value);
            any_media = true;
            in_media = !w.empty() && w[0] == "message";
            if (!in_media) continue;
            found = true;
            if (w.size() < 3) return Status(ErrorCode::Unsupported, "malformed m=message line");
            unsigned port = 0;
            auto [p, ec] = std::from_chars(w[1].data(), w[1].data() + w[1].size(), port);
            if (ec != std::errc() || p != w[1].data() + w[1].size() || port > 65535)
                return Status(ErrorCode::Unsupported, "malformed m=message port");
            m.port = static_cast<std::uint16_t>(port);
            m.protocol = w[2];
            continue;
        }
        if (kind == 'c') {
            if (in_media)
                m.connection_host = connection_host(value);
            else if (!any_media)
                session_c = connection_host(value);
            continue;
        }
        if (kind != 'a' || !in_media) continue;
        const auto colon = value.find(':');
        const std::string name = lower(value.substr(0, colon));
        const std::string_view arg =
            colon == std::string_view::npos ? std::string_view() : trim(value.substr(colon + 1));
        if (name == "path") {
            m.path = std::string(arg);
            has_path = !m.path.empty();
        } else if (name == "accept-types") {
            for (auto& t : words(arg)) m.accept_types.push_back(lower(t));
            has_accept = true;
        } else if (name == "accept-wrapped-types") {
            for (auto& t : words(arg)) m.accept_wrapped_types.push_back(lower(t));
        } else if (name == "max-size") {
            std::uint64_t v = 0;
            auto [p, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), v);
            if (ec == std::errc() && p == arg.data() + arg.size()) m.max_size = v;
        } else if (name == "setup") {
            const std::string v = lower(arg);
            m.setup = v == "active"    ? Setup::Active
                      : v == "passive" ? Setup::Passive
                      : v == "actpass" ? Setup::ActPass
                                       : Setup::None; // holdconn is ignored (MSRP-31)
        } else if (name == "sendrecv" || name == "sendonly" || name == "recvonly" ||
                   name == "inactive") {
            m.direction = name;
        }
    }
    if (!found) return Status(ErrorCode::Unsupported, "no m=message line");
    if (m.port == 0) return Status(ErrorCode::Unsupported, "the m=message line is rejected");
    if (!sdk::ascii_iequals(m.protocol, "TCP/MSRP") &&
        !sdk::ascii_iequals(m.protocol, "TCP/TLS/MSRP"))
        return Status(ErrorCode::Unsupported, "unsupported transport " + m.protocol);
    if (!has_path) return Status(ErrorCode::Unsupported, "no a=path (RFC 4975 section 8.2)");
    if (!has_accept)
        return Status(ErrorCode::Unsupported, "no a=accept-types (RFC 4975 section 8.6)");
    if (m.connection_host.empty()) m.connection_host = session_c;
    return m;
}

std::string build_sdp(const SdpOffer& o) {
    const bool v6 = o.host.find(':') != std::string::npos;
    const std::string addr = std::string(v6 ? "IN IP6 " : "IN IP4 ") + o.host;
    std::string s;
    s += "v=0\r\n";
    s += "o=- " + std::to_string(o.session_id) + " " + std::to_string(o.version) + " " + addr +
         "\r\n";
    s += "s=-\r\n";
    s += "c=" + addr + "\r\n";
    s += "t=0 0\r\n";
    s += "m=message " + std::to_string(o.port) + " TCP/MSRP *\r\n";
    auto list = [](const std::vector<std::string>& v) {
        std::string out;
        for (const auto& t : v) out += (out.empty() ? "" : " ") + t;
        return out;
    };
    s += "a=accept-types:" + list(o.accept_types) + "\r\n";
    if (!o.accept_wrapped_types.empty())
        s += "a=accept-wrapped-types:" + list(o.accept_wrapped_types) + "\r\n";
    s += "a=path:" + o.path + "\r\n";
    if (o.max_size != 0) s += "a=max-size:" + std::to_string(o.max_size) + "\r\n";
    if (o.setup != Setup::None) s += "a=setup:" + std::string(setup_name(o.setup)) + "\r\n";
    s += "a=sendrecv\r\n";
    return s;
}

bool accepts(const std::vector<std::string>& list, std::string_view type) {
    const std::string t = lower(type);
    const std::string major = t.substr(0, t.find('/'));
    for (const auto& a : list)
        if (a == "*" || a == t || a == major + "/*") return true;
    return false;
}

} // namespace stox::plugins::chat
