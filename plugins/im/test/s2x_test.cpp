// SPDX-License-Identifier: Apache-2.0
// S2X translation (SIP MESSAGE -> <message/>): RFC 7572 Table 2 / stox-core.md Table M2 and
// §3.4, with the TV-IM vectors.
#include <gtest/gtest.h>

#include "s2x.hpp"
#include "test_support.hpp"

namespace stox::plugins::im {
namespace {

using namespace std::chrono;
using stox::sdk::SipResponse;
using stox::sdk::Stanza;

constexpr std::string_view kTvIm02 = "MESSAGE sip:juliet@example.com SIP/2.0\n"
                                     "Via: SIP/2.0/TCP s2x.example.net;branch=z9hG4bKeskdgs677\n"
                                     "Max-Forwards: 70\n"
                                     "To: sip:juliet@example.com\n"
                                     "From: sip:romeo@example.net;tag=vwxyz\n"
                                     "Call-ID: 9E97FB43-85F4-4A00-8751-1124FD4C7B2E\n"
                                     "CSeq: 1 MESSAGE\n"
                                     "Content-Type: text/plain\n"
                                     "Content-Length: 44\n"
                                     "\n"
                                     "Neither, fair saint, if either thee dislike.";

/// A MESSAGE like TV-IM-02 with some headers replaced/added and another body.
std::string message(std::string_view extra_headers, std::string_view content_type,
                    std::string_view body, std::string_view ruri = "sip:juliet@example.com",
                    std::string_view from = "sip:romeo@example.net;tag=vwxyz") {
    std::string m = "MESSAGE " + std::string(ruri) + " SIP/2.0\n";
    m += "Max-Forwards: 70\nTo: sip:juliet@example.com\n";
    m += "From: " + std::string(from) + "\n";
    m += "Call-ID: 9E97FB43\nCSeq: 1 MESSAGE\n";
    m += extra_headers;
    if (!content_type.empty()) m += "Content-Type: " + std::string(content_type) + "\n";
    m += "\n";
    m += body;
    return m;
}

class S2x : public ::testing::Test {
protected:
    S2xResult run(std::string_view raw) {
        S2xContext ctx{test::address_mapper(), test::error_mapper(), config_, domains_,
                       "s2x.example.net",      "example.net",        now_,    "id1"};
        return translate_s2x(parse_sip_request(raw), ctx);
    }
    /// The stanza, or a failure naming the rejection.
    Stanza stanza(std::string_view raw) {
        S2xResult r = run(raw);
        if (auto* rej = std::get_if<S2xReject>(&r)) {
            ADD_FAILURE() << "rejected: " << rej->response.status << " " << rej->why;
            return {};
        }
        return std::get<S2xMessage>(r).stanza;
    }
    SipResponse rejection(std::string_view raw) {
        S2xResult r = run(raw);
        if (auto* m = std::get_if<S2xMessage>(&r)) {
            ADD_FAILURE() << "translated: " << m->stanza.to_string();
            return {};
        }
        return std::get<S2xReject>(r).response;
    }
    static std::string canon(std::string_view xml) { return test::canon(xml); }
    static std::string canonical_xml(const Stanza& s) { return test::canonical_xml(s); }
    static stox::sdk::SipRequest parse_sip_request(std::string_view raw) {
        return test::parse_sip_request(raw);
    }

    ImConfig config_;
    std::vector<std::string> domains_{"example.net"};
    system_clock::time_point now_ = sys_days{year{2024} / 5 / 1} + hours{12};
};

TEST_F(S2x, TV_IM_02_BasicMessage) {
    // IM-10, IM-12, IM-16: Table M2 mapping; no type attribute.
    EXPECT_EQ(canonical_xml(stanza(kTvIm02)),
              canon("<message from='romeo@example.net' to='juliet@example.com' id='id1'>"
                    "<thread>9E97FB43-85F4-4A00-8751-1124FD4C7B2E</thread>"
                    "<body>Neither, fair saint, if either thee dislike.</body></message>"));
    S2xResult r = run(kTvIm02);
    EXPECT_EQ(std::get<S2xMessage>(r).target, stox::sdk::TargetKind::Bare);
}

TEST_F(S2x, IM_12_ChatTypeOnlyAsConfiguredDeviation) {
    EXPECT_FALSE(stanza(kTvIm02).has_attr("type"));
    config_.message_type = "chat";
    EXPECT_EQ(stanza(kTvIm02).attr("type"), "chat");
}

TEST_F(S2x, TV_IM_04_ThreadIsDecodedFromOurCallId) {
    std::string raw(kTvIm02);
    raw.replace(raw.find("9E97FB43-85F4-4A00-8751-1124FD4C7B2E"), 36, "thr-6368617420343223c3a9");
    EXPECT_EQ(stanza(raw).child_text("thread"), "chat 42#\xC3\xA9");
}

TEST_F(S2x, TV_IM_06_XmlEscaping) {
    const Stanza s = stanza(message("", "text/plain", "1 < 2 & 3 > 2"));
    EXPECT_EQ(s.child_text("body"), "1 < 2 & 3 > 2");
    EXPECT_NE(s.to_string().find("<body>1 &lt; 2 &amp; 3 &gt; 2</body>"), std::string::npos);
}

TEST_F(S2x, TV_IM_07_ContentLanguageToXmlLang) {
    // IM-19; Table M2: the first tag of several.
    EXPECT_EQ(
        stanza(message("Content-Language: cs\n", "text/plain", "Ahoj Julie")).attr("xml:lang"),
        "cs");
    EXPECT_EQ(stanza(message("Content-Language: cs, en\n", "text/plain", "x")).attr("xml:lang"),
              "cs");
    EXPECT_FALSE(
        stanza(message("Content-Language: ???\n", "text/plain", "x")).has_attr("xml:lang"));
}

TEST_F(S2x, TV_IM_09_Subject) {
    const Stanza s = stanza(message("Subject: Lunch?\n", "text/plain", "x"));
    EXPECT_EQ(s.child_text("subject"), "Lunch?");
    EXPECT_EQ(s.child_text("body"), "x");
}

TEST_F(S2x, TV_IM_11_TextHtml) {
    // IM-17, A-35: plain body always; XHTML-IM only when configured (default off).
    const std::string raw = message("", "text/html", "<p>Hi <b>there</b></p>");
    Stanza plain_only = stanza(raw);
    EXPECT_EQ(plain_only.child_text("body"), "Hi there");
    EXPECT_EQ(plain_only.child("html"), nullptr);
    config_.xhtml_im = true;
    EXPECT_EQ(canonical_xml(stanza(raw)),
              canon("<message from='romeo@example.net' to='juliet@example.com' id='id1'>"
                    "<thread>9E97FB43</thread><body>Hi there</body>"
                    "<html xmlns='http://jabber.org/protocol/xhtml-im'>"
                    "<body xmlns='http://www.w3.org/1999/xhtml'><p>Hi <strong>there</strong></p>"
                    "</body></html></message>"));
    const std::string hostile =
        stanza(message("", "text/html", "<p onclick='x()'>Hi<script>evil()</script></p>"))
            .to_string();
    EXPECT_EQ(hostile.find("onclick"), std::string::npos);
    EXPECT_EQ(hostile.find("evil"), std::string::npos);
}

TEST_F(S2x, TV_IM_12_UnsupportedMediaType) {
    const SipResponse r = rejection(message("", "image/png", "\x89PNG"));
    EXPECT_EQ(r.status, 415);
    const std::string accept = r.header("Accept"); // mandatory in a 415 (RFC 3428 Table 1)
    EXPECT_NE(accept.find("text/plain"), std::string::npos);
    EXPECT_NE(accept.find("text/html"), std::string::npos);
    EXPECT_EQ(rejection(message("", "application/pkcs7-mime", "x")).status, 415);
    EXPECT_EQ(rejection(message("", "multipart/mixed;boundary=a", "--a--")).status, 415);
}

TEST_F(S2x, TV_IM_13_SipsRequestUriOrTo) {
    // CORE-SEC-2, IM-20 (SIP's security is not downgraded): 480 with Warning 380, no stanza.
    SipResponse r = rejection(message("", "text/plain", "x", "sips:juliet@example.com"));
    EXPECT_EQ(r.status, 480);
    EXPECT_EQ(r.header("Warning"), "380 s2x.example.net \"SIPS Not Allowed\"");
    std::string raw = message("", "text/plain", "x");
    raw.replace(raw.find("To: sip:"), 8, "To: <sips:");
    raw.insert(raw.find('\n', raw.find("To: <sips:")), ">");
    r = rejection(raw);
    EXPECT_EQ(r.status, 480);
    EXPECT_EQ(r.header("Warning"), "380 s2x.example.net \"SIPS Not Allowed\"");
    // sips: in From is an identity and is accepted.
    EXPECT_EQ(stanza(message("", "text/plain", "x", "sip:juliet@example.com",
                             "<sips:romeo@example.net>;tag=1"))
                  .attr("from"),
              "romeo@example.net");
}

TEST_F(S2x, TV_IM_16_GruuInFromBecomesResource) {
    // IM-11.
    EXPECT_EQ(stanza(message("", "text/plain", "x", "sip:juliet@example.com",
                             "<sip:romeo@example.net;gr=dr4hcr0st3lup4c>;tag=x"))
                  .attr("from"),
              "romeo@example.net/dr4hcr0st3lup4c");
    // A temporary GRUU (gr without value) is never a resource (CORE-ADDR-8).
    EXPECT_EQ(stanza(message("", "text/plain", "x", "sip:juliet@example.com",
                             "<sip:romeo@example.net;gr>;tag=x"))
                  .attr("from"),
              "romeo@example.net");
}

TEST_F(S2x, FullJidTargetFromRequestUriGruu) {
    S2xResult r = run(message("", "text/plain", "x", "sip:juliet@example.com;gr=balcony"));
    ASSERT_TRUE(std::holds_alternative<S2xMessage>(r));
    EXPECT_EQ(std::get<S2xMessage>(r).stanza.attr("to"), "juliet@example.com/balcony");
    EXPECT_EQ(std::get<S2xMessage>(r).target, stox::sdk::TargetKind::Full);
}

TEST_F(S2x, TV_IM_19_StaleDateBecomesDelay) {
    // only when older than 60 s.
    const Stanza s = stanza(message("Date: Sat, 13 Nov 2010 23:29:00 GMT\n", "text/plain", "x"));
    const auto* delay = s.child("delay", "urn:xmpp:delay");
    ASSERT_NE(delay, nullptr);
    EXPECT_EQ(delay->attr("from"), "example.net");
    EXPECT_EQ(delay->attr("stamp"), "2010-11-13T23:29:00Z");

    now_ = sys_days{year{2010} / 11 / 13} + hours{23} + minutes{30};
    EXPECT_EQ(stanza(message("Date: Sat, 13 Nov 2010 23:29:00 GMT\n", "text/plain", "x"))
                  .child("delay", "urn:xmpp:delay"),
              nullptr); // exactly 60 s: fresh
    now_ += seconds{1};
    EXPECT_NE(stanza(message("Date: Sat, 13 Nov 2010 23:29:00 GMT\n", "text/plain", "x"))
                  .child("delay", "urn:xmpp:delay"),
              nullptr);
    EXPECT_EQ(
        stanza(message("Date: garbage\n", "text/plain", "x")).child("delay", "urn:xmpp:delay"),
        nullptr);
}

TEST_F(S2x, TV_IM_21_MaxForwardsZero) {
    std::string raw(kTvIm02);
    raw.replace(raw.find("Max-Forwards: 70"), 16, "Max-Forwards: 0");
    EXPECT_EQ(rejection(raw).status, 483);
    raw.replace(raw.find("Max-Forwards: 0"), 15, "Max-Forwards: x");
    EXPECT_EQ(rejection(raw).status, 400);
}

TEST_F(S2x, TV_IM_22_ForeignFromDomain) {
    //
    const std::string raw =
        message("", "text/plain", "x", "sip:juliet@example.com", "<sip:mallory@evil.example>");
    EXPECT_EQ(rejection(raw).status, 403);
    config_.restrict_from_domains = false;
    EXPECT_EQ(stanza(raw).attr("from"), "mallory@evil.example");
}

TEST_F(S2x, FromDomainComparisonIsCaseInsensitive) {
    EXPECT_EQ(
        stanza(message("", "text/plain", "x", "sip:juliet@example.com", "<sip:romeo@EXAMPLE.NET>"))
            .attr("from"),
        "romeo@example.net");
}

TEST_F(S2x, TV_IM_24_ImFromAndNoType) {
    const Stanza s =
        stanza(message("", "text/plain", "x", "sip:juliet@example.com", "<im:romeo@example.net>"));
    EXPECT_EQ(s.attr("from"), "romeo@example.net");
    EXPECT_FALSE(s.has_attr("type"));
}

TEST_F(S2x, TV_ADDR_23_TelRequestUri) {
    // IM-8: S2X expects a sip/sips Request-URI (im: was resolved by the SIP side).
    EXPECT_EQ(rejection(message("", "text/plain", "x", "tel:+15551234567")).status, 416);
}

TEST_F(S2x, UnmappableAddressesAre400Or403) {
    // §3.4: unmappable localpart -> 400.
    EXPECT_EQ(rejection(message("", "text/plain", "x", "sip:%ZZjuliet@example.com")).status, 400);
    EXPECT_EQ(rejection(message("", "text/plain", "x", "sip:juliet@example.com",
                                "<sip:%ZZromeo@example.net>"))
                  .status,
              400);
    // A From that is no identity we can express (tel:) is refused.
    EXPECT_EQ(
        rejection(message("", "text/plain", "x", "sip:juliet@example.com", "<tel:+1555>")).status,
        403);
    EXPECT_EQ(
        rejection(message("", "text/plain", "x", "sip:juliet@example.com", "garbage<")).status,
        400);
}

TEST_F(S2x, Charsets) {
    // IM-REF-8: no charset means UTF-8.
    EXPECT_EQ(stanza(message("", "text/plain", "caf\xC3\xA9")).child_text("body"), "caf\xC3\xA9");
    EXPECT_EQ(stanza(message("", "text/plain; charset=ISO-8859-1", "caf\xE9")).child_text("body"),
              "caf\xC3\xA9");
    EXPECT_EQ(stanza(message("", "text/plain;charset=us-ascii", "plain")).child_text("body"),
              "plain");
    EXPECT_EQ(rejection(message("", "text/plain", "caf\xE9")).status, 400); // not UTF-8
    const SipResponse r = rejection(message("", "text/plain;charset=koi8-r", "x"));
    EXPECT_EQ(r.status, 415);
    EXPECT_FALSE(r.header("Accept").empty());
}

TEST_F(S2x, NonXmlCharactersStrippedOrRejected) {
    S2xResult r = run(message("Subject: a\x01"
                              "b\n",
                              "text/plain", std::string("x\x02y\x1b", 4)));
    ASSERT_TRUE(std::holds_alternative<S2xMessage>(r));
    const auto& m = std::get<S2xMessage>(r);
    EXPECT_EQ(m.stanza.child_text("body"), "xy");
    EXPECT_EQ(m.stanza.child_text("subject"), "ab");
    EXPECT_EQ(m.stripped_chars, 3u);
    config_.non_xml_chars = NonXmlChars::Reject;
    EXPECT_EQ(rejection(message("", "text/plain", std::string("x\x02y", 3))).status, 400);
    EXPECT_EQ(rejection(message("Subject: a\x01"
                                "b\n",
                                "text/plain", "x"))
                  .status,
              400);
}

TEST_F(S2x, BodyRequirements) {
    EXPECT_EQ(rejection(message("", "text/plain", "")).status, 400);
    EXPECT_EQ(rejection(message("", "", "text without type")).status, 400);
    EXPECT_EQ(rejection(message("", "text", "x")).status, 400);
    const SipResponse gz = rejection(message("Content-Encoding: gzip\n", "text/plain", "x"));
    EXPECT_EQ(gz.status, 415);
    EXPECT_EQ(gz.header("Accept-Encoding"), "identity");
    EXPECT_EQ(stanza(message("Content-Encoding: identity\n", "text/plain", "x")).child_text("body"),
              "x");
    EXPECT_EQ(rejection(message("", "text/html", "<script>x</script>")).status, 400);
}

TEST_F(S2x, MessageCpimIsUnwrapped) {
    // IM-18, Table M2: CPIM Subject -> <subject/>, DateTime -> <delay/>, inner text -> <body/>.
    const std::string cpim = "From: MR SANDERS <im:piglet@100akerwood.com>\r\n"
                             "To: <im:eeyore@100akerwood.com>\r\n"
                             "DateTime: 2000-12-13T13:40:00-08:00\r\n"
                             "Subject:;lang=fr beau temps\r\n"
                             "Subject: the weather will be fine today\r\n"
                             "\r\n"
                             "Content-Type: text/plain\r\n"
                             "Content-Language: en\r\n"
                             "\r\n"
                             "Here is the text of my message.";
    const Stanza s = stanza(message("", "message/cpim", cpim));
    EXPECT_EQ(s.child_text("body"), "Here is the text of my message.");
    EXPECT_EQ(s.child_text("subject"), "the weather will be fine today");
    EXPECT_EQ(s.attr("xml:lang"), "en");
    // The CPIM From is not authenticated: the stanza's from is the SIP From.
    EXPECT_EQ(s.attr("from"), "romeo@example.net");
    ASSERT_NE(s.child("delay", "urn:xmpp:delay"), nullptr);
    EXPECT_EQ(s.child("delay", "urn:xmpp:delay")->attr("stamp"), "2000-12-13T21:40:00Z");

    EXPECT_EQ(rejection(message("", "message/cpim", "garbage without structure")).status, 400);
    EXPECT_EQ(
        rejection(message("", "message/cpim", "From: x\r\n\r\nContent-Type: image/png\r\n\r\nPNG"))
            .status,
        415);
    EXPECT_EQ(
        rejection(message("", "message/cpim",
                          "From: x\r\n\r\nContent-Type: message/cpim\r\n\r\nFrom: y\r\n\r\n\r\nz"))
            .status,
        415);
}

TEST_F(S2x, MultipartAlternative) {
    const std::string body = "--b1\r\nContent-Type: text/plain\r\n\r\nHi there\r\n"
                             "--b1\r\nContent-Type: text/html\r\n\r\n<p>Hi <i>there</i></p>\r\n"
                             "--b1--\r\n";
    config_.xhtml_im = true;
    const Stanza s = stanza(message("", "multipart/alternative; boundary=b1", body));
    EXPECT_EQ(s.child_text("body"), "Hi there");
    ASSERT_NE(s.child("html", "http://jabber.org/protocol/xhtml-im"), nullptr);
    EXPECT_NE(s.to_string().find("<em>there</em>"), std::string::npos);
    // Only HTML: the plain rendition is the body.
    const Stanza h =
        stanza(message("", "multipart/alternative; boundary=b1",
                       "--b1\r\nContent-Type: text/html\r\n\r\n<b>bold</b>\r\n--b1--"));
    EXPECT_EQ(h.child_text("body"), "bold");
    EXPECT_EQ(rejection(message("", "multipart/alternative", body)).status, 400); // no boundary
    EXPECT_EQ(rejection(message("", "multipart/alternative;boundary=zz", body)).status, 400);
    EXPECT_EQ(rejection(message("", "multipart/alternative;boundary=b1",
                                "--b1\r\nContent-Type: image/png\r\n\r\nx\r\n--b1--"))
                  .status,
              415);
}

TEST_F(S2x, IsComposingBecomesChatState) {
    const std::string doc = "<?xml version='1.0'?><isComposing "
                            "xmlns='urn:ietf:params:xml:ns:im-iscomposing'><state>active</state>"
                            "</isComposing>";
    S2xResult r = run(message("", "application/im-iscomposing+xml", doc));
    ASSERT_TRUE(std::holds_alternative<S2xMessage>(r));
    const auto& m = std::get<S2xMessage>(r);
    EXPECT_TRUE(m.chat_state_only);
    EXPECT_NE(m.stanza.child("composing", "http://jabber.org/protocol/chatstates"), nullptr);
    EXPECT_EQ(m.stanza.child("body"), nullptr);
    std::string idle = doc;
    idle.replace(idle.find("active"), 6, "idle");
    EXPECT_NE(stanza(message("", "application/im-iscomposing+xml", idle))
                  .child("active", "http://jabber.org/protocol/chatstates"),
              nullptr);
    EXPECT_EQ(rejection(message("", "application/im-iscomposing+xml", "<x/>")).status, 400);
}

TEST_F(S2x, StanzaLimitGives513) {
    //
    config_.max_stanza_bytes = 1024;
    EXPECT_EQ(rejection(message("", "text/plain", std::string(1100, 'A'))).status, 513);
    EXPECT_EQ(stanza(message("", "text/plain", std::string(500, 'A'))).child_text("body").size(),
              500u);
}

TEST_F(S2x, ResponseForAddsRetryAfterOnOverload) {
    const SipResponse r = response_for(test::error_mapper(),
                                       stox::sdk::Status(stox::sdk::ErrorCode::Overloaded), "gw");
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.header("Retry-After"), "5");
    const SipResponse t =
        response_for(test::error_mapper(), stox::sdk::Status(stox::sdk::ErrorCode::Timeout), "gw");
    EXPECT_EQ(t.status, 408);
    EXPECT_FALSE(t.has_header("Retry-After"));
}

} // namespace
} // namespace stox::plugins::im
