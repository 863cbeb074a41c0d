// SPDX-License-Identifier: Apache-2.0
#include <stox/msrp/ids.hpp>

#include <algorithm>
#include <random>

namespace stox::msrp {

namespace {
constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
}

std::string random_base62(std::size_t length) {
    length = std::clamp<std::size_t>(length, 1, 64);
    // random_device is the kernel CSPRNG with libstdc++ on Linux; thread_local avoids reopening.
    thread_local std::random_device rd;
    std::string out;
    out.reserve(length);
    while (out.size() < length) {
        std::uint32_t word = rd();
        for (int i = 0; i < 4 && out.size() < length; ++i, word >>= 8) {
            const auto byte = static_cast<unsigned>(word & 0xFFu);
            // Rejection sampling keeps the characters uniform: 248 = 4 * 62.
            if (byte < 248) out.push_back(kAlphabet[byte % 62]);
        }
    }
    return out;
}

std::string make_transaction_id() {
    return random_base62(16);
}

std::string make_message_id() {
    return random_base62(20);
}

std::string make_session_id() {
    return random_base62(20);
}

Uri make_uri(std::string host, std::uint16_t port, std::string session_id, bool secure) {
    // Go through the parser so that host_kind is classified exactly as for received URIs.
    const bool v6 = host.find(':') != std::string::npos;
    std::string text = secure ? "msrps://" : "msrp://";
    text += v6 ? "[" + host + "]" : host;
    text += ":" + std::to_string(port) + "/" + session_id + ";tcp";
    if (auto parsed = parse_uri(text)) return std::move(parsed).value();
    Uri uri; // not a valid authority: keep the fields so that the caller sees what it gave
    uri.secure = secure;
    uri.host_kind = v6 ? HostKind::IPv6 : HostKind::Name;
    uri.host = std::move(host);
    uri.port = port;
    uri.session_id = std::move(session_id);
    return uri;
}

} // namespace stox::msrp
