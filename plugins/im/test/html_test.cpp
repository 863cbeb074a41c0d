// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "html.hpp"
#include "test_support.hpp"

namespace stox::plugins::im {
namespace {

std::string xhtml_of(std::string_view html) {
    HtmlRendition r = render_html(html, true);
    return r.xhtml ? r.xhtml->to_string(stox::sdk::kComponentNs) : std::string("(none)");
}

TEST(Html, TV_IM_11_PlainRenditionAndXhtmlIm) {
    HtmlRendition r = render_html("<p>Hi <b>there</b></p>", true);
    EXPECT_EQ(r.plain, "Hi there");
    ASSERT_TRUE(r.xhtml);
    EXPECT_EQ(
        test::canonical_xml(*r.xhtml),
        test::canon("<html xmlns='http://jabber.org/protocol/xhtml-im'>"
                    "<body xmlns='http://www.w3.org/1999/xhtml'><p>Hi <strong>there</strong></p>"
                    "</body></html>"));
}

TEST(Html, TV_IM_11_ScriptAndEventHandlersAreRemoved) {
    HtmlRendition r = render_html("<p onclick='x()'>Hi<script>alert(1)</script></p>", true);
    EXPECT_EQ(r.plain, "Hi");
    ASSERT_TRUE(r.xhtml);
    const std::string out = r.xhtml->to_string();
    EXPECT_EQ(out.find("onclick"), std::string::npos);
    EXPECT_EQ(out.find("script"), std::string::npos);
    EXPECT_EQ(out.find("alert"), std::string::npos);
    EXPECT_NE(out.find("<p>Hi</p>"), std::string::npos);
    EXPECT_GE(r.removed_attributes, 1u);
    EXPECT_GE(r.removed_elements, 1u);
}

TEST(Html, NoXhtmlUnlessAsked) {
    HtmlRendition r = render_html("<p>Hi</p>", false);
    EXPECT_EQ(r.plain, "Hi");
    EXPECT_FALSE(r.xhtml);
}

TEST(Html, AllowListMapsAndUnwraps) {
    EXPECT_EQ(xhtml_of("<i>a</i><u>b</u><div><font color=red>c</font></div>"),
              "<html xmlns='http://jabber.org/protocol/xhtml-im'><body "
              "xmlns='http://www.w3.org/1999/xhtml'><em>a</em><span "
              "style='text-decoration: underline'>b</span><span>c</span></body></html>");
    // Unknown and dangerous containers: the text stays, the element goes.
    EXPECT_EQ(render_html("<table><tr><td>a</td><td>b</td></tr></table>", false).plain, "a b");
    EXPECT_EQ(render_html("<iframe src='http://evil'>x</iframe>ok", true).plain, "ok");
    EXPECT_EQ(render_html("<style>p{}</style><head><title>t</title></head>ok", false).plain, "ok");
}

TEST(Html, UrlsAreFiltered) {
    EXPECT_EQ(sanitize_url(" https://example.org/a?b=c ", false), "https://example.org/a?b=c");
    EXPECT_EQ(sanitize_url("xmpp:romeo@example.net", false), "xmpp:romeo@example.net");
    EXPECT_FALSE(sanitize_url("javascript:alert(1)", false));
    EXPECT_FALSE(sanitize_url("JaVaScRiPt:alert(1)", false));
    EXPECT_FALSE(sanitize_url("java\tscript:alert(1)", false));
    EXPECT_FALSE(sanitize_url("data:text/html,x", false));
    EXPECT_FALSE(sanitize_url("/relative", false));
    EXPECT_FALSE(sanitize_url("mailto:a@b", true)); // images: http(s) only
    EXPECT_FALSE(sanitize_url("http://a b", false));

    // Entity-encoded schemes are decoded before the check.
    const std::string out = xhtml_of("<a href='&#106;avascript:alert(1)'>x</a>"
                                     "<a href='https://ok.example/'>y</a>");
    EXPECT_EQ(out.find("javascript"), std::string::npos);
    EXPECT_NE(out.find("<a href='https://ok.example/'>y</a>"), std::string::npos);
}

TEST(Html, CssIsRestrictedToXep0071Subset) {
    EXPECT_EQ(sanitize_css("color: red; position: absolute; font-weight:bold"),
              "color: red; font-weight: bold");
    EXPECT_EQ(sanitize_css("background-color: url(http://x)"), "");
    EXPECT_EQ(sanitize_css("color: expression(alert(1))"), "");
    EXPECT_EQ(sanitize_css("color: red !important"), "");
    EXPECT_EQ(sanitize_css("font-family: 'Times New Roman', serif"),
              "font-family: 'Times New Roman', serif");
    EXPECT_EQ(
        xhtml_of("<span style='color:blue;behavior:url(x.htc)'>z</span>"),
        "<html xmlns='http://jabber.org/protocol/xhtml-im'><body "
        "xmlns='http://www.w3.org/1999/xhtml'><span style='color: blue'>z</span></body></html>");
}

TEST(Html, ImagesAndLinksKeepTheirMeaningInPlainText) {
    // XEP-0071: the plain <body/> keeps the meaning.
    HtmlRendition r = render_html(
        "<p>See <a href='https://example.org/'>this</a> <img src='https://x/y.png' alt='a cat' "
        "width='10' height='5%' onerror='x'/></p>",
        true);
    EXPECT_EQ(r.plain, "See this (https://example.org/) a cat");
    ASSERT_TRUE(r.xhtml);
    EXPECT_NE(r.xhtml->to_string().find(
                  "<img src='https://x/y.png' alt='a cat' width='10' height='5%'/>"),
              std::string::npos);
    EXPECT_EQ(render_html("<a href='https://a.example/'>https://a.example/</a>", false).plain,
              "https://a.example/");
    EXPECT_EQ(render_html("<a href='mailto:x@y'>x@y</a>", false).plain, "x@y");
    // An image without a safe source disappears from the XHTML.
    EXPECT_EQ(xhtml_of("<img src='javascript:x' alt='a'/>"), "(none)");
}

TEST(Html, WhitespaceAndBlocks) {
    EXPECT_EQ(render_html("<p>one\n   two</p><p>three</p>", false).plain, "one two\n\nthree");
    EXPECT_EQ(render_html("a<br>b<br/>c", false).plain, "a\nb\nc");
    EXPECT_EQ(render_html("<ul><li>x</li><li>y</ul>", false).plain, "x\ny");
    EXPECT_EQ(render_html("<pre>a\n  b</pre>", false).plain, "a\n  b");
}

TEST(Html, EntitiesAndNonXmlCharacters) {
    std::size_t removed = 0;
    EXPECT_EQ(decode_html_entities("1 &lt; 2 &amp;&amp; &eacute;&#233;&#xE9; &bogus; &", removed),
              "1 < 2 && \xC3\xA9\xC3\xA9\xC3\xA9 &bogus; &");
    EXPECT_EQ(removed, 0u);
    EXPECT_EQ(decode_html_entities("a&#0;b&#xFFFE;c&#xD800;d", removed), "abcd");
    EXPECT_EQ(removed, 3u);
    HtmlRendition r = render_html("x&#1;y", true);
    EXPECT_EQ(r.plain, "xy");
    EXPECT_EQ(r.removed_chars, 1u);
}

TEST(Html, MalformedInputNeverBreaks) {
    for (const char* bad : {"<", "<p", "<p class='x", "</", "<!--", "<a href=", "<<<>>>",
                            "</p></p>", "<script>", "<p><b>unclosed", "&#99999999;"}) {
        HtmlRendition r = render_html(bad, true);
        if (r.xhtml) {
            const std::string out = r.xhtml->to_string();
            EXPECT_NO_THROW(test::parse_xml(out)) << bad << " -> " << out;
        }
    }
    EXPECT_EQ(render_html("a < b", false).plain, "a < b");
}

TEST(Html, DepthIsBounded) {
    std::string deep;
    for (int i = 0; i < 500; ++i) deep += "<span>";
    deep += "x";
    HtmlRendition r = render_html(deep, true);
    EXPECT_EQ(r.plain, "x");
    ASSERT_TRUE(r.xhtml);
    int depth = 0;
    const stox::sdk::XmlElement* e = &*r.xhtml;
    while (e != nullptr) {
        const stox::sdk::XmlElement* next = nullptr;
        for (const auto& c : e->children())
            if (!c.is_text()) next = &c;
        e = next;
        ++depth;
    }
    EXPECT_LE(depth, static_cast<int>(kMaxHtmlDepth) + 3);
}

} // namespace
} // namespace stox::plugins::im
