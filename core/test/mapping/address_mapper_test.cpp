// SPDX-License-Identifier: Apache-2.0
// RFC 7247 §6 address mapping: test vectors TV-ADDR-01..23 of ../shared/spec/stox-core.md §4.1,
// the hardening choices of §1.4 and malformed input. TV-ADDR-24 is in address_property_test.cpp.
#include <string>

#include <gtest/gtest.h>

#include "mapping/address_mapper.hpp"
#include "mapping/error_mapper.hpp"

namespace stox::core {
namespace {

using sdk::ErrorCode;
using sdk::UriRole;
using sdk::UriScheme;

class AddressMapperTest : public ::testing::Test {
protected:
    // Expects success and returns the JID.
    std::string jid(std::string_view uri, UriRole role = UriRole::From) {
        auto r = mapper_.to_jid(uri, role);
        EXPECT_TRUE(r.ok()) << uri << " -> " << r.status().message();
        return r.ok() ? *r : std::string("<error>");
    }
    std::string uri(std::string_view jid, UriScheme scheme = UriScheme::Sip) {
        auto r = mapper_.to_uri(jid, scheme);
        EXPECT_TRUE(r.ok()) << jid << " -> " << r.status().message();
        return r.ok() ? *r : std::string("<error>");
    }
    ErrorCode jid_error(std::string_view uri, UriRole role = UriRole::From) {
        auto r = mapper_.to_jid(uri, role);
        EXPECT_FALSE(r.ok()) << uri << " unexpectedly mapped to " << (r.ok() ? *r : "");
        return r.status().code();
    }
    ErrorCode uri_error(std::string_view jid, UriScheme scheme = UriScheme::Sip) {
        auto r = mapper_.to_uri(jid, scheme);
        EXPECT_FALSE(r.ok()) << jid << " unexpectedly mapped to " << (r.ok() ? *r : "");
        return r.status().code();
    }

    AddressMapperImpl mapper_;
};

// ---- Test vectors (stox-core.md §4.1) ----

TEST_F(AddressMapperTest, TvAddr01_PercentEncodedUtf8BecomesRawUtf8) { // TV-ADDR-01
    const std::string j = jid("sip:f%C3%BC@sip.example");
    EXPECT_EQ(j, "f\xC3\xBC@sip.example");
    EXPECT_EQ(j.substr(0, 3), std::string("\x66\xC3\xBC"));
}

TEST_F(AddressMapperTest, TvAddr02_ApostropheEscaped) { // TV-ADDR-02
    EXPECT_EQ(jid("sip:o'malley@sip.example"), "o\\27malley@sip.example");
}

TEST_F(AddressMapperTest, TvAddr03_GrBecomesResource) { // TV-ADDR-03
    EXPECT_EQ(jid("sip:foo@sip.example;gr=bar"), "foo@sip.example/bar");
}

TEST_F(AddressMapperTest, TvAddr04_AmpersandUnescapedLiteral) { // TV-ADDR-04
    EXPECT_EQ(uri("m\\26m@xmpp.example"), "sip:m&m@xmpp.example");
}

TEST_F(AddressMapperTest, TvAddr05_NonAsciiPercentEncodedUppercase) { // TV-ADDR-05
    EXPECT_EQ(uri("tsch\xC3\xBCss@xmpp.example"), "sip:tsch%C3%BCss@xmpp.example");
}

TEST_F(AddressMapperTest, TvAddr06_ResourceBecomesGrNotSlash) { // TV-ADDR-06, A-2
    const std::string u = uri("baz@xmpp.example/qux");
    EXPECT_EQ(u, "sip:baz@xmpp.example;gr=qux");
    EXPECT_EQ(u.find('/'), std::string::npos);
}

TEST_F(AddressMapperTest, TvAddr07_SlashLiteralOrEncoded) { // TV-ADDR-07
    EXPECT_EQ(jid("sip:a%2Fb@example.net"), "a\\2fb@example.net");
    EXPECT_EQ(jid("sip:a/b@example.net"), "a\\2fb@example.net");
    EXPECT_EQ(uri("a\\2fb@example.net"), "sip:a/b@example.net");
}

TEST_F(AddressMapperTest, TvAddr08_FullXep0106Set) { // TV-ADDR-08
    EXPECT_EQ(jid("sip:at%26t%20guy@example.net"), "at\\26t\\20guy@example.net");
}

TEST_F(AddressMapperTest, TvAddr09_AtSignEscapedBothWays) { // TV-ADDR-09
    EXPECT_EQ(jid("sip:user%40host@example.net"), "user\\40host@example.net");
    EXPECT_EQ(uri("user\\40host@example.net"), "sip:user%40host@example.net");
}

TEST_F(AddressMapperTest, TvAddr10_BackslashPreEscaped) { // TV-ADDR-10
    EXPECT_EQ(jid("sip:c%5C27x@example.net"), "c\\5c27x@example.net");
    EXPECT_EQ(uri("c\\5c27x@example.net"), "sip:c%5C27x@example.net");
}

TEST_F(AddressMapperTest, TvAddr11_PreEscapeIsCaseInsensitive) { // TV-ADDR-11, A-3
    EXPECT_EQ(jid("sip:C%5C2Fx@example.net"), "c\\5c2fx@example.net");
}

TEST_F(AddressMapperTest, TvAddr12_LeadingSpaceRejected) { // TV-ADDR-12
    EXPECT_EQ(jid_error("sip:%20lead@example.net", UriRole::RequestUri), ErrorCode::BadRequest);
    EXPECT_EQ(jid_error("sip:trail%20@example.net", UriRole::RequestUri), ErrorCode::BadRequest);
    // The 400 the SIP side sends for it (TV-ADDR-12 expects "400 Bad Request").
    ErrorMapperImpl errors;
    auto st = mapper_.to_jid("sip:%20lead@example.net", UriRole::RequestUri).status();
    EXPECT_EQ(errors.sip_for(st).status, 400);
    EXPECT_EQ(errors.sip_for(st).reason, "Bad Request");
}

TEST_F(AddressMapperTest, TvAddr13_InvalidPercentSequenceRejected) { // TV-ADDR-13
    EXPECT_EQ(jid_error("sip:cr%zy@example.net", UriRole::RequestUri), ErrorCode::BadRequest);
}

TEST_F(AddressMapperTest, TvAddr14_PercentInJidEncoded) { // TV-ADDR-14
    EXPECT_EQ(uri("cr%zy@example.com"), "sip:cr%25zy@example.com");
}

TEST_F(AddressMapperTest, TvAddr15_Rfc7247EncodeSet) { // TV-ADDR-15
    EXPECT_EQ(uri("hash#tag@example.com"), "sip:hash%23tag@example.com");
    EXPECT_EQ(uri("pipe|x{y}@example.com"), "sip:pipe%7Cx%7By%7D@example.com");
}

TEST_F(AddressMapperTest, TvAddr16_TemporaryGruuIgnored) { // TV-ADDR-16, CORE-ADDR-8
    EXPECT_EQ(jid("sip:alice@example.net;gr"), "alice@example.net");
}

TEST_F(AddressMapperTest, TvAddr17_CaseMappedAndHostLowercased) { // TV-ADDR-17
    EXPECT_EQ(jid("sip:Alice@Example.NET"), "alice@example.net");
}

TEST_F(AddressMapperTest, TvAddr18_ImAndPresSchemes) { // TV-ADDR-18
    EXPECT_EQ(jid("im:o%27malley@example.net"), "o\\27malley@example.net");
    EXPECT_EQ(jid("pres:o%27malley@example.net"), "o\\27malley@example.net");
}

TEST_F(AddressMapperTest, TvAddr19_ResourceSpacesAndNonAscii) { // TV-ADDR-19
    EXPECT_EQ(uri("juliet@example.com/Balcony Phone \xC3\xA9"),
              "sip:juliet@example.com;gr=Balcony%20Phone%20%C3%A9");
}

TEST_F(AddressMapperTest, TvAddr20_ResourceCannotInjectParameters) { // TV-ADDR-20, A-7
    EXPECT_EQ(uri("juliet@example.com/a;b=c"), "sip:juliet@example.com;gr=a%3Bb%3Dc");
}

TEST_F(AddressMapperTest, TvAddr21_ImEncodesParentheses) { // TV-ADDR-21
    EXPECT_EQ(uri("a(b)@example.com", UriScheme::Im), "im:a%28b%29@example.com");
    EXPECT_EQ(uri("a(b)@example.com", UriScheme::Sip), "sip:a(b)@example.com");
}

TEST_F(AddressMapperTest, TvAddr22_IdnDomainALabelAndBack) { // TV-ADDR-22, A-8
    EXPECT_EQ(uri("juliet@caf\xC3\xA9.example"), "sip:juliet@xn--caf-dma.example");
    EXPECT_EQ(jid("sip:juliet@xn--caf-dma.example"), "juliet@caf\xC3\xA9.example");
}

TEST_F(AddressMapperTest, TvAddr23_TelUriUnsupportedScheme) { // TV-ADDR-23
    auto r = mapper_.to_jid("tel:+15551234567", UriRole::RequestUri);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), ErrorCode::UnsupportedScheme);
    ErrorMapperImpl errors;
    EXPECT_EQ(errors.sip_for(r.status()).status, 416);
    EXPECT_EQ(errors.sip_for(r.status()).reason, "Unsupported URI Scheme");
}

// ---- Scheme and role handling (§1.4.1 step 0, CORE-SEC-2) ----

TEST_F(AddressMapperTest, SipsRefusedAsRequestUriAndTo) { // CORE-SEC-2
    EXPECT_EQ(jid_error("sips:alice@example.net", UriRole::RequestUri), ErrorCode::SecureOnly);
    EXPECT_EQ(jid_error("sips:alice@example.net", UriRole::To), ErrorCode::SecureOnly);
    EXPECT_EQ(jid_error("SIPS:alice@example.net", UriRole::To), ErrorCode::SecureOnly);
}

TEST_F(AddressMapperTest, SipsAcceptedAsIdentity) { // §1.4.1 step 0
    EXPECT_EQ(jid("sips:alice@example.net", UriRole::From), "alice@example.net");
    EXPECT_EQ(jid("sips:alice@example.net", UriRole::Contact), "alice@example.net");
    EXPECT_EQ(jid("sips:alice@example.net", UriRole::Entity), "alice@example.net");
}

TEST_F(AddressMapperTest, SchemeIsCaseInsensitive) {
    EXPECT_EQ(jid("SIP:bob@example.net"), "bob@example.net");
    EXPECT_EQ(jid("Pres:bob@example.net"), "bob@example.net");
}

TEST_F(AddressMapperTest, OtherSchemesUnsupported) { // CORE-ADDR-2
    EXPECT_EQ(jid_error("tel:+15551234567"), ErrorCode::UnsupportedScheme);
    EXPECT_EQ(jid_error("mailto:alice@example.net"), ErrorCode::UnsupportedScheme);
    EXPECT_EQ(jid_error("xmpp:alice@example.net"), ErrorCode::UnsupportedScheme);
    EXPECT_EQ(jid_error("http://example.net/"), ErrorCode::UnsupportedScheme);
}

TEST_F(AddressMapperTest, UserPhoneRejectedAsNotFound) { // §1.4.1 step 2 [CHOICE] 404
    EXPECT_EQ(jid_error("sip:+15551234567@example.net;user=phone"), ErrorCode::ItemNotFound);
    EXPECT_EQ(jid_error("sip:+15551234567@example.net;USER=Phone"), ErrorCode::ItemNotFound);
    ErrorMapperImpl errors;
    auto st = mapper_.to_jid("sip:+1555@example.net;user=phone").status();
    EXPECT_EQ(errors.sip_for(st).status, 404);
    // user=ip is not a telephone number.
    EXPECT_EQ(jid("sip:alice@example.net;user=ip"), "alice@example.net");
}

TEST_F(AddressMapperTest, PasswordParamsHeadersAndPortDropped) { // §1.4.1 step 2
    EXPECT_EQ(jid("sip:alice:secret@example.net"), "alice@example.net");
    EXPECT_EQ(jid("sip:alice@example.net:5061;transport=tls;lr?subject=hi&priority=urgent"),
              "alice@example.net");
    EXPECT_EQ(jid("sip:alice@example.net;transport=tcp;gr=dev1;maddr=192.0.2.1"),
              "alice@example.net/dev1");
    EXPECT_EQ(jid("sip:alice@example.net;GR=dev1"), "alice@example.net/dev1");
}

TEST_F(AddressMapperTest, GrValuePercentDecodedAndPrecisOpaque) { // §1.4.1 step 8, CORE-ADDR-9
    EXPECT_EQ(jid("sip:alice@example.net;gr=Balcony%20Phone%20%C3%A9"),
              "alice@example.net/Balcony Phone \xC3\xA9");
    EXPECT_EQ(jid("sip:alice@example.net;gr=urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"),
              "alice@example.net/urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6");
    // OpaqueString maps a non-ASCII space (U+00A0) to U+0020 and keeps case.
    EXPECT_EQ(jid("sip:alice@example.net;gr=Big%C2%A0Box"), "alice@example.net/Big Box");
    EXPECT_EQ(jid_error("sip:alice@example.net;gr=a%00b"), ErrorCode::BadRequest);
    EXPECT_EQ(jid_error("sip:alice@example.net;gr=%FF"), ErrorCode::BadRequest);
    EXPECT_EQ(jid_error("sip:alice@example.net;gr="), ErrorCode::BadRequest);
    EXPECT_EQ(jid_error("sip:alice@example.net;gr=a;gr=b"), ErrorCode::BadRequest);
    EXPECT_EQ(jid_error("sip:alice@example.net;gr=%zz"), ErrorCode::BadRequest);
}

TEST_F(AddressMapperTest, DomainOnlyUris) { // §1.4.1 step 2, §1.4.2 step 6
    EXPECT_EQ(jid("sip:example.net"), "example.net");
    EXPECT_EQ(jid("sip:Example.NET:5060;transport=udp"), "example.net");
    EXPECT_EQ(jid("sip:example.net;gr=x"), "example.net/x");
    EXPECT_EQ(uri("example.com"), "sip:example.com");
    EXPECT_EQ(uri("example.com/res"), "sip:example.com;gr=res");
    EXPECT_EQ(uri("example.com", UriScheme::Pres), "pres:example.com");
}

TEST_F(AddressMapperTest, IpHosts) {
    EXPECT_EQ(jid("sip:alice@192.0.2.1:5060"), "alice@192.0.2.1");
    EXPECT_EQ(jid("sip:alice@[2001:DB8::1]:5060;transport=tcp"), "alice@[2001:db8::1]");
    EXPECT_EQ(uri("alice@[2001:db8::1]"), "sip:alice@[2001:db8::1]");
    EXPECT_EQ(jid_error("sip:alice@[2001:db8::1"), ErrorCode::BadRequest);
    EXPECT_EQ(jid_error("sip:alice@[nothex]"), ErrorCode::BadRequest);
}

TEST_F(AddressMapperTest, TrailingDotOfDomainRemoved) { // RFC 7622 §3.2
    EXPECT_EQ(jid("sip:alice@example.net."), "alice@example.net");
    EXPECT_EQ(uri("alice@example.net."), "sip:alice@example.net");
}

TEST_F(AddressMapperTest, IdnHostsValidated) { // A-8
    // Raw UTF-8 host (IRI-style input) is converted and validated.
    EXPECT_EQ(jid("sip:juliet@CAF\xC3\x89.example"), "juliet@caf\xC3\xA9.example");
    EXPECT_EQ(jid("sip:juliet@XN--CAF-DMA.EXAMPLE"), "juliet@caf\xC3\xA9.example");
    EXPECT_EQ(jid_error("sip:juliet@xn--zz.example"), ErrorCode::BadRequest);
    EXPECT_EQ(jid_error("sip:juliet@\xE2\x82\xAC.example"), ErrorCode::BadRequest); // €
    EXPECT_EQ(uri_error("juliet@\xE2\x82\xAC.example"), ErrorCode::BadRequest);
    EXPECT_EQ(uri_error("juliet@foo_bar.example"), ErrorCode::BadRequest);
    EXPECT_EQ(uri("juliet@\xE6\xBC\xA2\xE5\xAD\x97.example"), "sip:juliet@xn--p8s937b.example");
}

TEST_F(AddressMapperTest, RawNonAsciiUserAcceptedAndValidated) {
    EXPECT_EQ(jid("sip:f\xC3\xBC@sip.example"), "f\xC3\xBC@sip.example");
    EXPECT_EQ(jid_error("sip:f\xC3@sip.example"), ErrorCode::BadRequest);
}

TEST_F(AddressMapperTest, UserUnreservedCharactersKeptInSipUser) { // RFC 3261 user rule
    EXPECT_EQ(jid("sip:a;b?c=d+e$f,g&h@example.net"), "a;b?c=d+e$f,g\\26h@example.net");
    EXPECT_EQ(uri("a;b?c=d+e$f,g\\26h@example.net"), "sip:a;b?c=d+e$f,g&h@example.net");
    EXPECT_EQ(uri("x!~*()-_.y@example.net"), "sip:x!~*()-_.y@example.net");
    EXPECT_EQ(uri_error("x'y@example.net"), ErrorCode::BadRequest); // ' must be \27 in a JID
}

// ---- XEP-0106 details ----

TEST_F(AddressMapperTest, Xep0106AllTenEscapes) { // A-3
    EXPECT_EQ(jid_error("sip:%20a%22%26%27%2F%3A%3C%3E%40%5C20z@example.net"),
              ErrorCode::BadRequest); // leading \20
    EXPECT_EQ(jid("sip:a%20%22%26%27%2F%3A%3C%3E%40%5C20z@example.net"),
              "a\\20\\22\\26\\27\\2f\\3a\\3c\\3e\\40\\5c20z@example.net");
    EXPECT_EQ(uri("a\\20\\22\\26\\27\\2f\\3a\\3c\\3e\\40\\5c20z@example.net"),
              "sip:a%20%22&'/%3A%3C%3E%40%5C20z@example.net");
}

TEST_F(AddressMapperTest, Xep0106PartialSequencesUntouched) { // XEP-0106 §6
    EXPECT_EQ(jid("sip:%5C2plus%5C2is%5C4@example.net"), "\\2plus\\2is\\4@example.net");
    EXPECT_EQ(jid("sip:foob%5C41r@example.net"), "foob\\41r@example.net");
    EXPECT_EQ(uri("foob\\41r@example.net"), "sip:foob%5C41r@example.net");
    // XEP-0106 example 12: c:\5commas -> c\3a\5c5commas and back.
    EXPECT_EQ(jid("sip:c%3A%5C5commas@example.com"), "c\\3a\\5c5commas@example.com");
    EXPECT_EQ(uri("c\\3a\\5c5commas@example.com"), "sip:c%3A%5C5commas@example.com");
}

TEST_F(AddressMapperTest, Xep0106UnescapeIsOnePassAndLowercaseOnly) { // §1.4.2 step 3
    // "\5c27" unescapes to "\27", never to "'".
    EXPECT_EQ(uri("a\\5c27b@example.net"), "sip:a%5C27b@example.net");
    // Uppercase sequences are not escapes (after PRECIS they cannot occur in a canonical JID;
    // case mapping turns \2F into the live \2f, exactly why A-3 pre-escapes case-insensitively).
    EXPECT_EQ(uri("a\\2Fb@example.net"), "sip:a/b@example.net");
}

TEST_F(AddressMapperTest, WidthMappingCannotSmuggleExcludedCharacters) { // PRECIS + A-3
    // U+FF07 FULLWIDTH APOSTROPHE maps to ' and is then escaped.
    EXPECT_EQ(jid("sip:o%EF%BC%87malley@example.net"), "o\\27malley@example.net");
    // U+FF3C FULLWIDTH REVERSE SOLIDUS + "27" becomes a pre-escaped backslash.
    EXPECT_EQ(jid("sip:c%EF%BC%BC27x@example.net"), "c\\5c27x@example.net");
    // U+3000 IDEOGRAPHIC SPACE maps to U+0020 -> \20 inside, rejected at the edges.
    EXPECT_EQ(jid("sip:a%E3%80%80b@example.net"), "a\\20b@example.net");
    EXPECT_EQ(jid_error("sip:%E3%80%80b@example.net"), ErrorCode::BadRequest);
}

// ---- PRECIS UsernameCaseMapped (docs/decisions/mapping.md) ----

TEST_F(AddressMapperTest, PrecisCaseMappingIsFullUnicode) {
    EXPECT_EQ(jid("sip:%C3%89MILE@example.net"), "\xC3\xA9mile@example.net"); // ÉMILE
    // NFC: e + U+0301 composes to é.
    EXPECT_EQ(jid("sip:e%CC%81@example.net"), "\xC3\xA9@example.net");
    // ß is a PVALID exception and is not case folded to "ss".
    EXPECT_EQ(jid("sip:stra%C3%9Fe@example.net"), "stra\xC3\x9F"
                                                  "e@example.net");
    // Fullwidth letters are width-mapped then lowercased: ＡＢ -> ab.
    EXPECT_EQ(jid("sip:%EF%BC%A1%EF%BC%A2@example.net"), "ab@example.net");
}

TEST_F(AddressMapperTest, PrecisDisallowedCodePointsRejected) {
    EXPECT_EQ(jid_error("sip:a%00b@example.net"), ErrorCode::BadRequest);        // control
    EXPECT_EQ(jid_error("sip:a%7Fb@example.net"), ErrorCode::BadRequest);        // DEL
    EXPECT_EQ(jid_error("sip:a%09b@example.net"), ErrorCode::BadRequest);        // TAB
    EXPECT_EQ(jid_error("sip:a%C2%A0b@example.net"), ErrorCode::BadRequest);     // NBSP
    EXPECT_EQ(jid_error("sip:%E2%82%AC@example.net"), ErrorCode::BadRequest);    // € symbol
    EXPECT_EQ(jid_error("sip:a%C2%ADb@example.net"), ErrorCode::BadRequest);     // soft hyphen
    EXPECT_EQ(jid_error("sip:a%E2%80%8Bb@example.net"), ErrorCode::BadRequest);  // ZWSP
    EXPECT_EQ(jid_error("sip:a%E2%80%8Db@example.net"), ErrorCode::BadRequest);  // ZWJ, no virama
    EXPECT_EQ(jid_error("sip:%EF%B7%90@example.net"), ErrorCode::BadRequest);    // noncharacter
    EXPECT_EQ(jid_error("sip:%EE%80%80@example.net"), ErrorCode::BadRequest);    // private use
    EXPECT_EQ(jid_error("sip:%E2%85%A0@example.net"), ErrorCode::BadRequest);    // Ⅰ (compat)
    EXPECT_EQ(jid_error("sip:%E1%84%80@example.net"), ErrorCode::BadRequest);    // old jamo
    EXPECT_EQ(jid_error("sip:%F3%A0%80%81@example.net"), ErrorCode::BadRequest); // tag char
}

TEST_F(AddressMapperTest, PrecisContextRules) { // RFC 5892 Appendix A
    // U+00B7 MIDDLE DOT only between two 'l' (Catalan).
    EXPECT_EQ(jid("sip:l%C2%B7l@example.net"), "l\xC2\xB7l@example.net");
    EXPECT_EQ(jid_error("sip:a%C2%B7b@example.net"), ErrorCode::BadRequest);
    // ZWNJ after a virama (Devanagari KA + VIRAMA + ZWNJ + SSA).
    EXPECT_EQ(jid("sip:%E0%A4%95%E0%A5%8D%E2%80%8C%E0%A4%B7@example.net"),
              "\xE0\xA4\x95\xE0\xA5\x8D\xE2\x80\x8C\xE0\xA4\xB7@example.net");
    // Arabic-Indic and extended Arabic-Indic digits must not be mixed.
    EXPECT_EQ(jid_error("sip:%D8%A7%D9%A1%DB%B1@example.net"), ErrorCode::BadRequest);
}

TEST_F(AddressMapperTest, PrecisBidiRule) { // RFC 5893 via RFC 8265 §3.3.2 rule 5
    // Hebrew "shalom" is RTL throughout: accepted.
    EXPECT_EQ(jid("sip:%D7%A9%D7%9C%D7%95%D7%9D@example.net"),
              "\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D@example.net");
    // LTR letter first, then Hebrew: rejected.
    EXPECT_EQ(jid_error("sip:a%D7%A9@example.net"), ErrorCode::BadRequest);
    // RTL label ending in an LTR letter: rejected.
    EXPECT_EQ(jid_error("sip:%D7%A9a@example.net"), ErrorCode::BadRequest);
}

TEST_F(AddressMapperTest, LengthLimits) { // RFC 7622 §3.3: 1023 octets after escaping
    const std::string ok(1023, 'a');
    EXPECT_EQ(jid("sip:" + ok + "@example.net"), ok + "@example.net");
    EXPECT_EQ(jid_error("sip:" + std::string(1024, 'a') + "@example.net"), ErrorCode::BadRequest);
    // 400 apostrophes become 1200 octets of \27: too long although the URI user is short.
    EXPECT_EQ(jid_error("sip:" + std::string(400, '\'') + "@example.net"), ErrorCode::BadRequest);
    EXPECT_EQ(jid("sip:a@example.net;gr=" + std::string(1023, 'r')),
              "a@example.net/" + std::string(1023, 'r'));
    EXPECT_EQ(jid_error("sip:a@example.net;gr=" + std::string(1024, 'r')), ErrorCode::BadRequest);
    EXPECT_EQ(uri_error(std::string(1024, 'a') + "@example.net"), ErrorCode::BadRequest);
    EXPECT_EQ(uri_error("a@example.net/" + std::string(1024, 'r')), ErrorCode::BadRequest);
    EXPECT_EQ(uri_error("a@" + std::string(64, 'd') + ".example"), ErrorCode::BadRequest);
}

// ---- JID -> URI details (§1.4.2) ----

TEST_F(AddressMapperTest, JidLocalpartCanonicalisedBeforeUnescape) { // §1.4.2 step 2
    EXPECT_EQ(uri("Juliet@Example.COM"), "sip:juliet@example.com");
    EXPECT_EQ(uri("juliet@example.com/Balcony"), "sip:juliet@example.com;gr=Balcony");
}

TEST_F(AddressMapperTest, SipsAndImPresSchemes) { // §1.4.2 steps 4-8
    EXPECT_EQ(uri("juliet@example.com/balcony", UriScheme::Sips),
              "sips:juliet@example.com;gr=balcony");
    // im:/pres: have no gr: the resource is dropped.
    EXPECT_EQ(uri("juliet@example.com/balcony", UriScheme::Im), "im:juliet@example.com");
    EXPECT_EQ(uri("juliet@example.com/balcony", UriScheme::Pres), "pres:juliet@example.com");
    EXPECT_EQ(uri("m\\26m@example.com", UriScheme::Im), "im:m&m@example.com");
    EXPECT_EQ(uri("a,b;c[d]e\\5cf@example.com", UriScheme::Pres),
              "pres:a%2Cb%3Bc%5Bd%5De%5Cf@example.com");
    EXPECT_EQ(uri("t\xC3\xBC@example.com", UriScheme::Im), "im:t%C3%BC@example.com");
}

TEST_F(AddressMapperTest, ImPresDotOnlyEncodedWhereDotAtomForbidsIt) { // A-5
    EXPECT_EQ(uri("juliet.capulet@example.com", UriScheme::Pres),
              "pres:juliet.capulet@example.com");
    EXPECT_EQ(uri(".juliet.@example.com", UriScheme::Pres), "pres:%2Ejuliet%2E@example.com");
    EXPECT_EQ(uri("a..b@example.com", UriScheme::Im), "im:a%2E%2Eb@example.com");
    EXPECT_EQ(jid("pres:%2Ejuliet%2E@example.com"), ".juliet.@example.com");
    // Characters that are atext but not legal unencoded in a URI are encoded.
    EXPECT_EQ(uri("a#b%c?d^e`f{g|h}i@example.com", UriScheme::Im),
              "im:a%23b%25c%3Fd%5Ee%60f%7Bg%7Ch%7Di@example.com");
}

TEST_F(AddressMapperTest, GrEncodesEverythingOutsideParamchar) { // A-7
    EXPECT_EQ(uri("a@example.com/x?y@z,%w"), "sip:a@example.com;gr=x%3Fy%40z%2C%25w");
    EXPECT_EQ(uri("a@example.com/[x]/:&+$"), "sip:a@example.com;gr=[x]/:&+$");
    EXPECT_EQ(uri("a@example.com/\xE6\xBC\xA2"), "sip:a@example.com;gr=%E6%BC%A2");
}

TEST_F(AddressMapperTest, MalformedJidsRejected) {
    EXPECT_EQ(uri_error(""), ErrorCode::BadRequest);
    EXPECT_EQ(uri_error("@example.com"), ErrorCode::BadRequest);
    EXPECT_EQ(uri_error("juliet@"), ErrorCode::BadRequest);
    EXPECT_EQ(uri_error("juliet@example.com/"), ErrorCode::BadRequest);
    EXPECT_EQ(uri_error("/res"), ErrorCode::BadRequest);
    EXPECT_EQ(uri_error("a@b@example.com"), ErrorCode::BadRequest);
    EXPECT_EQ(uri_error("ju\xFFliet@example.com"), ErrorCode::BadRequest);
    EXPECT_EQ(uri_error("o'malley@example.com"), ErrorCode::BadRequest);  // must be \27
    EXPECT_EQ(uri_error("a b@example.com"), ErrorCode::BadRequest);       // must be \20
    EXPECT_EQ(uri_error("\\20lead@example.com"), ErrorCode::BadRequest);  // XEP-0106
    EXPECT_EQ(uri_error("trail\\20@example.com"), ErrorCode::BadRequest); // XEP-0106
    EXPECT_EQ(uri_error("a\xE2\x82\xAC@example.com"), ErrorCode::BadRequest);
    EXPECT_EQ(uri_error("a@example.com/x\x01y"), ErrorCode::BadRequest);
    EXPECT_EQ(uri_error("a@exa mple.com"), ErrorCode::BadRequest);
    EXPECT_EQ(uri_error("a@-example.com"), ErrorCode::BadRequest);
    EXPECT_EQ(uri_error("a@example..com"), ErrorCode::BadRequest);
    EXPECT_EQ(uri_error(std::string("a@exa\0mple.com", 15)), ErrorCode::BadRequest);
}

// ---- Malformed URIs never crash and always report an error ----

TEST_F(AddressMapperTest, MalformedUrisRejected) {
    EXPECT_EQ(jid_error(""), ErrorCode::BadRequest);
    EXPECT_EQ(jid_error("alice@example.net"), ErrorCode::BadRequest); // no scheme
    EXPECT_EQ(jid_error(":alice@example.net"), ErrorCode::BadRequest);
    EXPECT_EQ(jid_error("s p:alice@example.net"), ErrorCode::BadRequest);
    EXPECT_EQ(jid_error("1sip:alice@example.net"), ErrorCode::BadRequest);
    EXPECT_EQ(jid_error("sip:"), ErrorCode::BadRequest);
    EXPECT_EQ(jid_error("sip:@example.net"), ErrorCode::BadRequest);
    EXPECT_EQ(jid_error("sip::pw@example.net"), ErrorCode::BadRequest);
    EXPECT_EQ(jid_error("sip:alice@"), ErrorCode::BadRequest);
    EXPECT_EQ(jid_error("sip:alice@;gr=x"), ErrorCode::BadRequest);
    EXPECT_EQ(jid_error("sip:alice@example.net:"), ErrorCode::BadRequest);
    EXPECT_EQ(jid_error("sip:alice@example.net:50x"), ErrorCode::BadRequest);
    EXPECT_EQ(jid_error("sip:alice@example.net:123456"), ErrorCode::BadRequest);
    EXPECT_EQ(jid_error("sip:alice@example.net;"), ErrorCode::BadRequest);
    EXPECT_EQ(jid_error("sip:alice@example.net;=x"), ErrorCode::BadRequest);
    EXPECT_EQ(jid_error("sip:alice@exa%6Dple.net"), ErrorCode::BadRequest);
    EXPECT_EQ(jid_error("sip:alice smith@example.net"), ErrorCode::BadRequest);
    EXPECT_EQ(jid_error("sip:alice@example.net\r\nX: y"), ErrorCode::BadRequest);
    EXPECT_EQ(jid_error("sip:al%ice@example.net"), ErrorCode::BadRequest);
    EXPECT_EQ(jid_error("sip:alice%@example.net"), ErrorCode::BadRequest);
    EXPECT_EQ(jid_error("sip:alice%4@example.net"), ErrorCode::BadRequest);
    EXPECT_EQ(jid_error("sip:%FF%FE@example.net"), ErrorCode::BadRequest);    // not UTF-8
    EXPECT_EQ(jid_error("sip:%C0%AF@example.net"), ErrorCode::BadRequest);    // overlong
    EXPECT_EQ(jid_error("sip:%ED%A0%80@example.net"), ErrorCode::BadRequest); // surrogate
    EXPECT_EQ(jid_error("sip:alice@ex\xC3"), ErrorCode::BadRequest);          // truncated
    EXPECT_EQ(jid_error("tel:+1555", UriRole::RequestUri), ErrorCode::UnsupportedScheme);
    EXPECT_EQ(jid_error("sips:a@example.net", UriRole::RequestUri), ErrorCode::SecureOnly);
}

TEST_F(AddressMapperTest, HugeInputsRejectedQuickly) {
    const std::string huge_user = "sip:" + std::string(100 * 1024, 'a') + "@example.net";
    EXPECT_EQ(jid_error(huge_user), ErrorCode::BadRequest);
    const std::string huge_params = "sip:a@example.net;" + std::string(100 * 1024, ';');
    EXPECT_EQ(jid_error(huge_params), ErrorCode::BadRequest);
    const std::string huge_pct = "sip:" + [] {
        std::string s;
        for (int i = 0; i < 34 * 1024; ++i) s += "%41";
        return s;
    }() + "@example.net";
    EXPECT_EQ(jid_error(huge_pct), ErrorCode::BadRequest);
    EXPECT_EQ(uri_error(std::string(100 * 1024, 'a') + "@example.com"), ErrorCode::BadRequest);
    EXPECT_EQ(uri_error("a@example.com/" + std::string(100 * 1024, 'r')), ErrorCode::BadRequest);
}

TEST(ParseHelpers, UriSchemeAndRole) {
    sdk::UriScheme s{};
    EXPECT_TRUE(parse_uri_scheme("sip", s));
    EXPECT_EQ(s, UriScheme::Sip);
    EXPECT_TRUE(parse_uri_scheme("SIPS", s));
    EXPECT_EQ(s, UriScheme::Sips);
    EXPECT_TRUE(parse_uri_scheme("im", s));
    EXPECT_EQ(s, UriScheme::Im);
    EXPECT_TRUE(parse_uri_scheme("pres", s));
    EXPECT_EQ(s, UriScheme::Pres);
    EXPECT_FALSE(parse_uri_scheme("tel", s));
    EXPECT_FALSE(parse_uri_scheme("", s));
    EXPECT_FALSE(parse_uri_scheme("sip:", s));
    for (auto sc : {UriScheme::Sip, UriScheme::Sips, UriScheme::Im, UriScheme::Pres}) {
        sdk::UriScheme back{};
        EXPECT_TRUE(parse_uri_scheme(to_string(sc), back));
        EXPECT_EQ(back, sc);
    }
    sdk::UriRole r{};
    EXPECT_TRUE(parse_uri_role("request-uri", r));
    EXPECT_EQ(r, UriRole::RequestUri);
    EXPECT_TRUE(parse_uri_role("RURI", r));
    EXPECT_EQ(r, UriRole::RequestUri);
    EXPECT_TRUE(parse_uri_role("to", r));
    EXPECT_EQ(r, UriRole::To);
    EXPECT_TRUE(parse_uri_role("from", r));
    EXPECT_EQ(r, UriRole::From);
    EXPECT_TRUE(parse_uri_role("contact", r));
    EXPECT_EQ(r, UriRole::Contact);
    EXPECT_TRUE(parse_uri_role("entity", r));
    EXPECT_EQ(r, UriRole::Entity);
    EXPECT_FALSE(parse_uri_role("via", r));
}

TEST(AddressMapperInterface, UsableThroughTheSdkInterface) {
    const AddressMapperImpl impl;
    const sdk::AddressMapper& m = impl;
    EXPECT_EQ(*m.to_jid("sip:romeo@example.net"), "romeo@example.net");
    EXPECT_EQ(*m.to_uri("juliet@example.com"), "sip:juliet@example.com");
}

} // namespace
} // namespace stox::core
