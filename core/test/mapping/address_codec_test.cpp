// SPDX-License-Identifier: Apache-2.0
// Building blocks of the address mapper (internal headers): XEP-0106 escaping, percent-coding,
// JID splitting, IDNA domains, XMPP IRIs and the PRECIS profiles, tested on their own so that
// a defence made redundant by the mapper's ordering (e.g. case-insensitive pre-escaping, A-3)
// is still checked.
#include <string>

#include <gtest/gtest.h>

#include "mapping/address_codec.hpp"
#include "mapping/precis.hpp"

namespace stox::core {
namespace {

using sdk::ErrorCode;

TEST(Xep0106, EscapesAllTenCharacters) { // XEP-0106 §4
    EXPECT_EQ(codec::xep0106_escape(" \"&'/:<>@"), "\\20\\22\\26\\27\\2f\\3a\\3c\\3e\\40");
    EXPECT_EQ(codec::xep0106_escape("d'artagnan"), "d\\27artagnan");
    EXPECT_EQ(codec::xep0106_escape("plain.name_1"), "plain.name_1");
}

TEST(Xep0106, PreEscapesBackslashCaseInsensitively) { // XEP-0106 §5 step 3, A-3
    EXPECT_EQ(codec::xep0106_escape("c\\27x"), "c\\5c27x");
    EXPECT_EQ(codec::xep0106_escape("c\\2Fx"), "c\\5c2Fx");
    EXPECT_EQ(codec::xep0106_escape("c\\5Cx"), "c\\5c5Cx");
    EXPECT_EQ(codec::xep0106_escape("\\3A\\3a"), "\\5c3A\\5c3a");
    // Not an escape sequence: the backslash stays literal (XEP-0106 examples 9-11).
    EXPECT_EQ(codec::xep0106_escape("c:\\net"), "c\\3a\\net");
    EXPECT_EQ(codec::xep0106_escape("c:\\\\net"), "c\\3a\\\\net");
    EXPECT_EQ(codec::xep0106_escape("c:\\cool stuff"), "c\\3a\\cool\\20stuff");
    EXPECT_EQ(codec::xep0106_escape("a\\"), "a\\");
    EXPECT_EQ(codec::xep0106_escape("a\\2"), "a\\2");
}

TEST(Xep0106, UnescapesExactLowercaseInOnePass) { // XEP-0106 §5, stox-core.md §1.4.2 step 3
    EXPECT_EQ(codec::xep0106_unescape("\\20\\22\\26\\27\\2f\\3a\\3c\\3e\\40\\5c"), " \"&'/:<>@\\");
    EXPECT_EQ(codec::xep0106_unescape("c\\5c27x"), "c\\27x");
    EXPECT_EQ(codec::xep0106_unescape("c\\5c5c27"), "c\\5c27");
    EXPECT_EQ(codec::xep0106_unescape("a\\2Fb\\3Ac"), "a\\2Fb\\3Ac");
    EXPECT_EQ(codec::xep0106_unescape("\\2plus\\2is\\4"), "\\2plus\\2is\\4");
    EXPECT_EQ(codec::xep0106_unescape("foob\\41r"), "foob\\41r");
    EXPECT_EQ(codec::xep0106_unescape("end\\"), "end\\");
    EXPECT_EQ(codec::xep0106_unescape("end\\2"), "end\\2");
}

TEST(Xep0106, EscapeThenUnescapeIsIdentity) {
    for (const char* s : {"c:\\5commas", "\\5c\\5c", "a\\20b", "x'y&z/w", "\\\\\\27", "\\"}) {
        EXPECT_EQ(codec::xep0106_unescape(codec::xep0106_escape(s)), s) << s;
    }
}

TEST(PercentCoding, DecodeStrictly) { // RFC 3986 §2.1
    EXPECT_EQ(*codec::percent_decode("f%C3%bc"), "f\xC3\xBC");
    EXPECT_EQ(*codec::percent_decode(""), "");
    EXPECT_EQ(*codec::percent_decode("%00"), std::string(1, '\0'));
    for (const char* bad : {"%", "%4", "a%", "%zz", "%4g", "%%41", "%G0"}) {
        auto r = codec::percent_decode(bad);
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_EQ(r.status().code(), ErrorCode::BadRequest);
    }
}

TEST(PercentCoding, EncodeUppercaseHex) {
    auto keep_alpha = [](unsigned char c) { return c >= 'a' && c <= 'z'; };
    EXPECT_EQ(codec::percent_encode("a b\xC3\xBC", keep_alpha), "a%20b%C3%BC");
    EXPECT_EQ(codec::percent_encode(std::string(1, '\0'), keep_alpha), "%00");
}

TEST(SplitJid, Rfc7622Parts) { // RFC 7622 §3.1
    auto p = codec::split_jid("juliet@example.com/balcony/with@at");
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->local, "juliet");
    EXPECT_EQ(p->domain, "example.com");
    EXPECT_EQ(p->resource, "balcony/with@at");
    EXPECT_TRUE(p->has_local);
    EXPECT_TRUE(p->has_resource);
    p = codec::split_jid("example.com");
    ASSERT_TRUE(p.ok());
    EXPECT_FALSE(p->has_local);
    EXPECT_FALSE(p->has_resource);
    p = codec::split_jid("example.com/r@x");
    ASSERT_TRUE(p.ok());
    EXPECT_FALSE(p->has_local);
    EXPECT_EQ(p->resource, "r@x");
    for (const char* bad : {"", "@example.com", "a@", "a@b/", "/r", "a@/r", "\xFF@x"}) {
        EXPECT_FALSE(codec::split_jid(bad).ok()) << bad;
    }
    EXPECT_FALSE(codec::split_jid(std::string(1024, 'a') + "@x").ok());
    EXPECT_TRUE(codec::split_jid(std::string(1023, 'a') + "@x").ok());
}

TEST(Domains, CanonicalForms) { // A-8, RFC 7622 §3.2
    auto d = codec::canonical_domain("Example.COM.");
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->unicode, "example.com");
    EXPECT_EQ(d->ascii, "example.com");
    d = codec::canonical_domain("caf\xC3\xA9.example");
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->ascii, "xn--caf-dma.example");
    EXPECT_EQ(d->unicode, "caf\xC3\xA9.example");
    d = codec::canonical_domain("xn--caf-dma.example");
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->unicode, "caf\xC3\xA9.example");
    d = codec::canonical_domain("[2001:DB8::1]");
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->ascii, "[2001:db8::1]");
    for (const char* bad : {"", ".", "a..b", ".a", "-a.example", "a-.example", "a_b.example", "a b",
                            "xn--zz.example", "xn--.example", "\xE2\x82\xAC.example",
                            "caf\xC3.example", "[::1", "[]", "[g::1]", "a%41.example"}) {
        EXPECT_FALSE(codec::canonical_domain(bad).ok()) << bad;
    }
    EXPECT_TRUE(codec::canonical_domain(std::string(63, 'a') + ".example").ok());
    EXPECT_FALSE(codec::canonical_domain(std::string(64, 'a') + ".example").ok());
}

TEST(XmppIri, Rfc5122Encoding) {
    EXPECT_EQ(codec::jid_to_xmpp_iri("romeo", "example.org", "", false), "xmpp:romeo@example.org");
    EXPECT_EQ(codec::jid_to_xmpp_iri("", "example.org", "a b/c", true),
              "xmpp:example.org/a%20b%2Fc");
    // RFC 5122 §2.7.1 example localpart.
    EXPECT_EQ(
        codec::jid_to_xmpp_iri("nasty!#$%()*+,-.;=?[\\]^_`{|}~node", "example.com", "", false),
        "xmpp:nasty!%23$%25()*+,-.;=%3F%5B%5C%5D%5E_%60%7B%7C%7D~node@example.com");
    EXPECT_EQ(codec::jid_to_xmpp_iri("t\xC3\xBC", "caf\xC3\xA9.example", "\xC3\xA9", true),
              "xmpp:t\xC3\xBC@caf\xC3\xA9.example/\xC3\xA9");
}

TEST(XmppIri, ParseToJid) {
    EXPECT_EQ(*codec::xmpp_iri_to_jid("xmpp:romeo@example.org"), "romeo@example.org");
    EXPECT_EQ(*codec::xmpp_iri_to_jid("XMPP:romeo@example.org/a%20b?message;body=hi#x"),
              "romeo@example.org/a b");
    EXPECT_EQ(*codec::xmpp_iri_to_jid("xmpp://guest@example.com/support@example.org?message"),
              "support@example.org");
    EXPECT_EQ(*codec::xmpp_iri_to_jid("xmpp:o%5C27malley@example.org"), "o\\27malley@example.org");
    EXPECT_EQ(*codec::xmpp_iri_to_jid("xmpp:example.org/r%2Fs"), "example.org/r/s");
    for (const char* bad : {"xmpp", "sip:a@b", "xmpp://guest@example.com", "xmpp:a%zz@b",
                            "xmpp:a%40b@c", "xmpp:a%2Fb@c", "xmpp:a@b%2Fc", "xmpp:%FF@b"}) {
        EXPECT_FALSE(codec::xmpp_iri_to_jid(bad).ok()) << bad;
    }
}

TEST(Precis, UsernameCaseMappedMapping) { // RFC 8265 §3.3.2 rules 1-4
    EXPECT_EQ(*precis::map_username("Juliet"), "juliet");
    EXPECT_EQ(*precis::map_username("\xEF\xBC\xAA\xEF\xBD\x95"), "ju"); // fullwidth J, u
    EXPECT_EQ(*precis::map_username("\xCE\xA3\xCE\x91\xCE\xA3"), "\xCF\x83\xCE\xB1\xCF\x82");
    EXPECT_EQ(*precis::map_username("e\xCC\x81"), "\xC3\xA9"); // NFC
    EXPECT_EQ(*precis::map_username(""), "");
    EXPECT_FALSE(precis::map_username("\xC3").ok());
}

TEST(Precis, IdentifierClassChecks) { // RFC 8264 §9, RFC 5892 Appendix A, RFC 5893
    EXPECT_TRUE(precis::check_username("juliet").ok());
    EXPECT_TRUE(precis::check_username("\\27!#$%").ok());
    EXPECT_TRUE(precis::check_username("stra\xC3\x9F"
                                       "e")
                    .ok());                               // ß exception PVALID
    EXPECT_TRUE(precis::check_username("\xCF\x82").ok()); // final sigma exception
    EXPECT_FALSE(precis::check_username("").ok());
    EXPECT_TRUE(precis::check_username("Juliet").ok());     // case mapping is map_username's job
    EXPECT_FALSE(precis::check_username("a b").ok());       // space
    EXPECT_FALSE(precis::check_username("e\xCC\x81").ok()); // not NFC
    EXPECT_FALSE(precis::check_username("\xD9\x80").ok());  // U+0640 exception
    EXPECT_FALSE(precis::check_username("\xC2\xB7").ok());  // lone middle dot
    EXPECT_FALSE(precis::check_username("\xCD\xB5").ok());  // keraia, no Greek
    EXPECT_TRUE(precis::check_username("\xCD\xB5\xCE\xB1").ok());         // keraia + alpha
    EXPECT_FALSE(precis::check_username("a\xD7\xB3").ok());               // geresh after a
    EXPECT_TRUE(precis::check_username("\xD7\x90\xD7\xB3").ok());         // geresh after alef
    EXPECT_FALSE(precis::check_username("a\xE3\x83\xBB").ok());           // katakana dot
    EXPECT_TRUE(precis::check_username("\xE3\x82\xA2\xE3\x83\xBB").ok()); // ア・
    EXPECT_FALSE(precis::check_username("\xE2\x80\x8C").ok());            // lone ZWNJ
    EXPECT_FALSE(precis::check_username("\xF0\x9F\x98\x80").ok());        // emoji (So)
    EXPECT_FALSE(precis::check_username("\xE2\x93\x90").ok());            // ⓐ (compat)
    EXPECT_FALSE(precis::check_username("\xF1\x80\x80\x80").ok());        // U+40000 unassigned
}

TEST(Precis, OpaqueString) { // RFC 8265 §4.2
    EXPECT_EQ(*precis::enforce_opaque("Balcony Phone"), "Balcony Phone");
    EXPECT_EQ(*precis::enforce_opaque("a\xE3\x80\x80z"), "a z"); // U+3000 -> U+0020
    EXPECT_EQ(*precis::enforce_opaque("e\xCC\x81"), "\xC3\xA9"); // NFC
    EXPECT_EQ(*precis::enforce_opaque("\xF0\x9F\x98\x80\xE2\x93\x90"),
              "\xF0\x9F\x98\x80\xE2\x93\x90"); // symbols and compat allowed (FreeformClass)
    EXPECT_EQ(*precis::enforce_opaque(" "), " ");
    EXPECT_FALSE(precis::enforce_opaque("").ok());
    EXPECT_FALSE(precis::enforce_opaque("a\tb").ok());
    EXPECT_FALSE(precis::enforce_opaque("a\xC2\xAD"
                                        "b")
                     .ok());                                   // default ignorable
    EXPECT_FALSE(precis::enforce_opaque("\xEF\xBF\xBF").ok()); // noncharacter
    EXPECT_FALSE(precis::enforce_opaque("\xFF").ok());
}

} // namespace
} // namespace stox::core
