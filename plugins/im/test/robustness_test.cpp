// SPDX-License-Identifier: Apache-2.0
// Hostile input never crashes the translators, and what they emit is always safe to put on the
// wire: a stanza is valid UTF-8 made of XML characters (anything else would make the XMPP
// server close the component stream), and a SIP request has no line break in any header value
// (header injection). Deterministic pseudo-random inputs; a fuzzer would go further.
#include <gtest/gtest.h>

#include <random>

#include "html.hpp"
#include "mime.hpp"
#include "s2x.hpp"
#include "test_support.hpp"
#include "text.hpp"
#include "x2s.hpp"

namespace stox::plugins::im {
namespace {

std::string random_bytes(std::mt19937& rng, std::size_t max_len, std::string_view alphabet = {}) {
    std::uniform_int_distribution<std::size_t> len(0, max_len);
    std::string s(len(rng), '\0');
    for (char& c : s) {
        if (alphabet.empty())
            c = static_cast<char>(rng() & 0xFF);
        else
            c = alphabet[rng() % alphabet.size()];
    }
    return s;
}

void expect_wire_safe(const stox::sdk::XmlElement& e) {
    const std::string out = e.to_string();
    EXPECT_TRUE(is_valid_utf8(out)) << out;
    EXPECT_EQ(count_non_xml_chars(out), 0u) << out;
    EXPECT_NO_THROW(test::parse_xml(out)) << out;
}

constexpr std::string_view kHtmlAlphabet = "<>/=\"' &#;abpiscrtonlkhfx:.-\n\t\x01\xC3\xA9";

TEST(Robustness, HtmlRendererSurvivesNoise) {
    std::mt19937 rng(7);
    for (int i = 0; i < 3000; ++i) {
        std::string html = random_bytes(rng, 200, kHtmlAlphabet);
        if (!is_valid_utf8(html)) continue;
        strip_non_xml_chars(html); // the renderer's precondition (decode_text ensures it)
        HtmlRendition r = render_html(html, true, "en");
        EXPECT_TRUE(is_valid_utf8(r.plain));
        EXPECT_EQ(count_non_xml_chars(r.plain), 0u) << html;
        if (r.xhtml) expect_wire_safe(*r.xhtml);
    }
}

TEST(Robustness, MimeParsersSurviveNoise) {
    std::mt19937 rng(11);
    for (int i = 0; i < 3000; ++i) {
        const std::string body = random_bytes(rng, 200, "-ab:\r\n Content-Type: text/plain;x=");
        (void)parse_multipart(body, "ab");
        (void)parse_cpim(body);
        (void)parse_iscomposing(random_bytes(rng, 100, "<>/isComposingtae :"));
    }
}

TEST(Robustness, S2xStanzasAreAlwaysWireSafe) {
    std::mt19937 rng(13);
    ImConfig config;
    config.xhtml_im = true;
    const std::vector<std::string> domains{"example.net"};
    const char* types[] = {"text/plain",
                           "text/plain;charset=iso-8859-1",
                           "text/html",
                           "message/cpim",
                           "multipart/alternative;boundary=ab",
                           "application/im-iscomposing+xml",
                           "text/plain;charset=utf-8"};
    std::size_t translated = 0;
    for (int i = 0; i < 3000; ++i) {
        stox::sdk::SipRequest r;
        r.method = "MESSAGE";
        r.request_uri = "sip:juliet@example.com";
        r.add_header("From", "<sip:romeo@example.net>;tag=1");
        r.add_header("To", "<sip:juliet@example.com>");
        r.add_header("Call-ID",
                     rng() % 2 ? random_bytes(rng, 20) : "thr-" + hex_lower(random_bytes(rng, 8)));
        r.add_header("Content-Type", types[rng() % std::size(types)]);
        if (rng() % 2) r.add_header("Subject", random_bytes(rng, 30));
        if (rng() % 2) r.add_header("Content-Language", random_bytes(rng, 8, "en-cs, "));
        r.body = rng() % 2 ? random_bytes(rng, 300) : random_bytes(rng, 300, kHtmlAlphabet);
        S2xContext ctx{test::address_mapper(),
                       test::error_mapper(),
                       config,
                       domains,
                       "gw",
                       "example.net",
                       std::chrono::system_clock::now(),
                       "id"};
        S2xResult out = translate_s2x(r, ctx);
        if (auto* m = std::get_if<S2xMessage>(&out)) {
            ++translated;
            expect_wire_safe(m->stanza);
        } else {
            const auto& resp = std::get<S2xReject>(out).response;
            EXPECT_GE(resp.status, 300);
            EXPECT_LE(resp.status, 699);
        }
    }
    EXPECT_GT(translated, 100u); // the test exercises the success path too
}

TEST(Robustness, X2sHeadersNeverCarryLineBreaks) {
    std::mt19937 rng(17);
    ImConfig config;
    std::size_t translated = 0;
    for (int i = 0; i < 2000; ++i) {
        auto m = stox::sdk::make_stanza("message");
        m.set_attr("from", "juliet@example.com/" + random_bytes(rng, 10, "abc \t;=?@%\xC3\xA9"));
        m.set_attr("to", "romeo@example.net");
        if (rng() % 2) m.set_attr("xml:lang", random_bytes(rng, 6, "en-\r\n"));
        m.add_child("thread").add_text(random_bytes(rng, 20, "ab@ \r\n<>\"\xC3\xA9"));
        m.add_child("subject").add_text(random_bytes(rng, 20, "ab \r\n\t\x01"));
        m.add_child("body").add_text(random_bytes(rng, 50, "ab \r\n"));
        if (rng() % 2) {
            auto& d = m.add_child("delay", "urn:xmpp:delay");
            d.set_attr("stamp", random_bytes(rng, 20, "0123456789-T:Z\r\n"));
        }
        X2sContext ctx{test::address_mapper(), config, "callid", "tag"};
        X2sResult out = translate_x2s(m, ctx);
        if (auto* r = std::get_if<X2sRequest>(&out)) {
            ++translated;
            EXPECT_EQ(r->request.request_uri.find_first_of("\r\n "), std::string::npos);
            for (const auto& h : r->request.headers) {
                EXPECT_EQ(h.value.find_first_of("\r\n"), std::string::npos) << h.name;
                EXPECT_TRUE(is_valid_utf8(h.value)) << h.name;
            }
        }
    }
    EXPECT_GT(translated, 100u);
}

} // namespace
} // namespace stox::plugins::im
