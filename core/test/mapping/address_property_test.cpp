// SPDX-License-Identifier: Apache-2.0
// TV-ADDR-24 (stox-core.md §4.1): round-trip properties of the address mapper, checked on
// thousands of generated JIDs and URIs (fixed-seed RNG, so failures reproduce). The expected
// encodings come from small reference implementations written here, independently of the
// production code.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mapping/address_mapper.hpp"

namespace stox::core {
namespace {

using sdk::UriRole;
using sdk::UriScheme;

constexpr int kIterations = 3000;

struct Domain {
    std::string unicode;
    std::string ascii;
};

const std::vector<Domain>& domains() {
    static const std::vector<Domain> d{
        {"example.com", "example.com"},
        {"xmpp.example", "xmpp.example"},
        {"sub.domain.example", "sub.domain.example"},
        {"192.0.2.1", "192.0.2.1"},
        {"[2001:db8::1]", "[2001:db8::1]"},
        {"caf\xC3\xA9.example", "xn--caf-dma.example"},
        {"m\xC3\xBCnchen.example", "xn--mnchen-3ya.example"},
        {"\xE6\xBC\xA2\xE5\xAD\x97.example", "xn--p8s937b.example"},
    };
    return d;
}

// Localpart characters: printable ASCII without uppercase (canonical under PRECIS case
// mapping), space, and some non-ASCII letters. Each entry is one character in UTF-8.
std::vector<std::string> local_alphabet() {
    std::vector<std::string> a;
    for (char c = 0x21; c <= 0x7E; ++c) {
        if (c >= 'A' && c <= 'Z') continue;
        a.emplace_back(1, c);
    }
    // Weight the characters that need escaping or encoding.
    for (const char* s : {" ", "\\", "'", "&", "/", "@", ":", "\"", "<", ">", "%", "#", ";"})
        a.emplace_back(s);
    for (const char* s : {"\xC3\xA9", "\xC3\xBC", "\xE6\xBC\xA2", "\xC3\x9F", "\xC3\xB8"})
        a.emplace_back(s);
    return a;
}

std::vector<std::string> resource_alphabet() {
    std::vector<std::string> a;
    for (char c = 0x20; c <= 0x7E; ++c) a.emplace_back(1, c);
    for (const char* s : {" ", ";", "=", "/", "@", "?", "%"}) a.emplace_back(s);
    for (const char* s : {"\xC3\xA9", "\xE6\xBC\xA2", "\xC3\x9C", "\xF0\x9F\x98\x80"})
        a.emplace_back(s);
    return a;
}

class Gen {
public:
    explicit Gen(std::uint32_t seed) : rng_(seed) {}
    std::size_t below(std::size_t n) {
        return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
    }
    bool coin() { return below(2) == 0; }
    std::string pick(const std::vector<std::string>& alphabet, std::size_t min, std::size_t max) {
        const std::size_t n = min + below(max - min + 1);
        std::string s;
        for (std::size_t i = 0; i < n; ++i) s += alphabet[below(alphabet.size())];
        return s;
    }

private:
    std::mt19937 rng_;
};

// ---- Reference encoders (independent of the production code) ----

// XEP-0106 §4-5 escaping of a lowercase human-form localpart.
std::string ref_escape(const std::string& human) {
    static const std::string kPairs[] = {"20", "22", "26", "27", "2f",
                                         "3a", "3c", "3e", "40", "5c"};
    std::string out;
    for (std::size_t i = 0; i < human.size(); ++i) {
        const char c = human[i];
        switch (c) {
        case ' ': out += "\\20"; break;
        case '"': out += "\\22"; break;
        case '&': out += "\\26"; break;
        case '\'': out += "\\27"; break;
        case '/': out += "\\2f"; break;
        case ':': out += "\\3a"; break;
        case '<': out += "\\3c"; break;
        case '>': out += "\\3e"; break;
        case '@': out += "\\40"; break;
        case '\\': {
            bool starts_escape = false;
            for (const std::string& p : kPairs) starts_escape |= human.compare(i + 1, 2, p) == 0;
            out += starts_escape ? "\\5c" : "\\";
            break;
        }
        default: out.push_back(c);
        }
    }
    return out;
}

bool alnum(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool in(const char* set, unsigned char c) {
    return c != 0 && std::string(set).find(static_cast<char>(c)) != std::string::npos;
}
// RFC 3261 §25.1: unreserved, user-unreserved, param-unreserved.
bool unreserved(unsigned char c) {
    return alnum(c) || in("-_.!~*'()", c);
}
bool user_unreserved(unsigned char c) {
    return in("&=+$,;?/", c);
}
bool param_unreserved(unsigned char c) {
    return in("[]/:&+$", c);
}

std::string pct(unsigned char c, bool lower_hex = false) {
    const char* hex = lower_hex ? "0123456789abcdef" : "0123456789ABCDEF";
    return std::string{'%', hex[c >> 4U], hex[c & 15U]};
}

// Canonical (RFC 7247 §6.5 + profile) encoding: literal iff allowed by the RFC 3261 rule.
std::string ref_encode(const std::string& s, bool (*keep)(unsigned char)) {
    std::string out;
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        out += keep(c) ? std::string(1, ch) : pct(c);
    }
    return out;
}
bool sip_user_keep(unsigned char c) {
    return unreserved(c) || user_unreserved(c);
}
bool paramchar_keep(unsigned char c) {
    return unreserved(c) || param_unreserved(c);
}

// A valid but non-canonical encoding: optional characters randomly encoded, hex case random.
std::string random_encode(Gen& g, const std::string& s, bool (*optional)(unsigned char),
                          bool (*always_literal)(unsigned char)) {
    std::string out;
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (always_literal(c)) {
            out.push_back(ch);
        } else if (optional(c) && g.coin()) {
            out.push_back(ch);
        } else {
            out += pct(c, g.coin());
        }
    }
    return out;
}

bool printable_ascii_uri(const std::string& u) {
    for (char ch : u) {
        const auto c = static_cast<unsigned char>(ch);
        if (c <= 0x20 || c >= 0x7F) return false;
    }
    return true;
}

std::string human_localpart(Gen& g, const std::vector<std::string>& alphabet) {
    for (;;) {
        std::string s = g.pick(alphabet, 1, 14);
        if (s.front() != ' ' && s.back() != ' ') return s; // XEP-0106: no leading/trailing \20
    }
}

TEST(AddressProperty, TvAddr24_JidToUriToJidIsIdentity) { // TV-ADDR-24, JID direction
    const AddressMapperImpl m;
    Gen g(0x7247'0024U);
    const auto la = local_alphabet();
    const auto ra = resource_alphabet();
    for (int i = 0; i < kIterations; ++i) {
        const Domain& d = domains()[g.below(domains().size())];
        const bool has_local = g.below(8) != 0;
        const bool has_res = g.coin();
        const std::string human = has_local ? human_localpart(g, la) : std::string{};
        const std::string res = has_res ? g.pick(ra, 1, 16) : std::string{};
        const std::string bare = (has_local ? ref_escape(human) + "@" : "") + d.unicode;
        const std::string jid = bare + (has_res ? "/" + res : "");
        SCOPED_TRACE("JID " + jid);

        for (UriScheme scheme : {UriScheme::Sip, UriScheme::Sips}) {
            auto u = m.to_uri(jid, scheme);
            ASSERT_TRUE(u.ok()) << u.status().message();
            const std::string expected = std::string(to_string(scheme)) + ":" +
                                         (has_local ? ref_encode(human, sip_user_keep) + "@" : "") +
                                         d.ascii +
                                         (has_res ? ";gr=" + ref_encode(res, paramchar_keep) : "");
            EXPECT_EQ(*u, expected);
            EXPECT_TRUE(printable_ascii_uri(*u)) << *u;
            auto back = m.to_jid(*u, UriRole::From);
            ASSERT_TRUE(back.ok()) << *u << ": " << back.status().message();
            EXPECT_EQ(*back, jid) << "via " << *u;
        }
        for (UriScheme scheme : {UriScheme::Im, UriScheme::Pres}) {
            auto u = m.to_uri(jid, scheme);
            ASSERT_TRUE(u.ok()) << u.status().message();
            EXPECT_TRUE(printable_ascii_uri(*u)) << *u;
            auto back = m.to_jid(*u, UriRole::Entity);
            ASSERT_TRUE(back.ok()) << *u << ": " << back.status().message();
            EXPECT_EQ(*back, bare) << "via " << *u; // im:/pres: carry no resource
        }
    }
}

TEST(AddressProperty, TvAddr24_UriToJidToUriNormalisesEncoding) { // TV-ADDR-24, URI direction
    const AddressMapperImpl m;
    Gen g(0x7247'0124U);
    const auto la = local_alphabet();
    const auto ra = resource_alphabet();
    const std::vector<std::string> dropped = {"", ";transport=tcp", ";lr", "?subject=hi",
                                              ";maddr=192.0.2.9?x=y"};
    for (int i = 0; i < kIterations; ++i) {
        const Domain& d = domains()[g.below(domains().size())];
        const bool has_res = g.coin();
        const std::string user = human_localpart(g, la);
        const std::string res = has_res ? g.pick(ra, 1, 16) : std::string{};
        const std::string extra = dropped[g.below(dropped.size())];
        const std::string gr =
            has_res ? ";gr=" + random_encode(g, res, param_unreserved, unreserved) : "";
        // Parameters go before or after gr; headers always last.
        const std::string u =
            "sip:" + random_encode(g, user, user_unreserved, unreserved) + "@" + d.ascii +
            (extra.starts_with(";") && extra.find('?') == std::string::npos && g.coin()
                 ? extra + gr
                 : gr + extra);
        SCOPED_TRACE("URI " + u);
        auto j = m.to_jid(u, UriRole::RequestUri);
        ASSERT_TRUE(j.ok()) << j.status().message();
        auto back = m.to_uri(*j, UriScheme::Sip);
        ASSERT_TRUE(back.ok()) << *j << ": " << back.status().message();
        const std::string expected = "sip:" + ref_encode(user, sip_user_keep) + "@" + d.ascii +
                                     (has_res ? ";gr=" + ref_encode(res, paramchar_keep) : "");
        EXPECT_EQ(*back, expected) << "via " << *j;
    }
}

// Arbitrary URI-ish strings: whenever to_jid succeeds, the mapping is stable from there on
// (the same property the libFuzzer target checks, here deterministic and in every CI run).
TEST(AddressProperty, RandomInputsAreStableOrRejected) {
    const AddressMapperImpl m;
    Gen g(0x7247'0224U);
    std::vector<std::string> alphabet;
    for (char c = 0x20; c <= 0x7E; ++c) alphabet.emplace_back(1, c);
    for (const char* s :
         {"%",    "%2",   "%5C",      "%5c",          "%20",          "%C3%A9",      "%FF",  "\\",
          "\\2f", "\\5C", "@",        ";gr=",         ";gr",          ";user=phone", "?",    ":",
          "[",    "]",    "\xC3\xA9", "\xEF\xBC\x87", "\xE2\x80\x8D", "\xD7\xA9",    "xn--", "."})
        alphabet.emplace_back(s);
    const std::vector<std::string> prefixes = {"sip:", "sips:", "im:", "pres:", "SIP:", "tel:", ""};
    int mapped = 0;
    for (int i = 0; i < 20000; ++i) {
        const std::string in = prefixes[g.below(prefixes.size())] + g.pick(alphabet, 0, 12) +
                               (g.coin() ? "@example.net" : "") + g.pick(alphabet, 0, 4);
        SCOPED_TRACE("input " + in);
        for (UriRole role : {UriRole::RequestUri, UriRole::From}) {
            auto j = m.to_jid(in, role);
            if (!j.ok()) {
                EXPECT_FALSE(j.status().message().empty());
                continue;
            }
            ++mapped;
            for (UriScheme scheme :
                 {UriScheme::Sip, UriScheme::Sips, UriScheme::Im, UriScheme::Pres}) {
                auto u = m.to_uri(*j, scheme);
                ASSERT_TRUE(u.ok()) << *j << ": " << u.status().message();
                auto j2 = m.to_jid(*u, UriRole::From);
                ASSERT_TRUE(j2.ok()) << *u << ": " << j2.status().message();
                const bool keeps_resource = scheme == UriScheme::Sip || scheme == UriScheme::Sips;
                EXPECT_EQ(*j2, keeps_resource ? *j : j->substr(0, j->find('/')));
                auto u2 = m.to_uri(*j2, scheme);
                ASSERT_TRUE(u2.ok());
                EXPECT_EQ(*u2, *u);
            }
        }
        // The JID direction on the same garbage: rejected, or stable.
        auto u = m.to_uri(in, UriScheme::Sip);
        if (u.ok()) {
            auto j = m.to_jid(*u, UriRole::From);
            ASSERT_TRUE(j.ok()) << *u << ": " << j.status().message();
            auto u2 = m.to_uri(*j, UriScheme::Sip);
            ASSERT_TRUE(u2.ok());
            EXPECT_EQ(*u2, *u);
        }
    }
    EXPECT_GT(mapped, 1000); // the generator must exercise the success path too
}

} // namespace
} // namespace stox::core
