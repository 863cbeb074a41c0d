// SPDX-License-Identifier: Apache-2.0
#include "xmpp/stream_header.hpp"

#include <gtest/gtest.h>

namespace stox::core::xmpp {
namespace {

// XEP-0114 §3 example: the server's reply header.
TEST(StreamHeader, Xep0114ServerReply) {
    auto h =
        parse_stream_header("<stream:stream\n    xmlns:stream='http://etherx.jabber.org/streams'"
                            "\n    xmlns='jabber:component:accept'\n    "
                            "from='plays.shakespeare.lit'\n    id='3BF96D32'>");
    ASSERT_TRUE(h.ok()) << h.status().message();
    EXPECT_EQ(h->qname, "stream:stream");
    EXPECT_EQ(h->prefix(), "stream");
    EXPECT_EQ(h->local_name(), "stream");
    EXPECT_EQ(h->namespace_uri("stream"), kStreamsNs);
    EXPECT_EQ(h->namespace_uri(""), "jabber:component:accept");
    EXPECT_EQ(h->attr("id"), "3BF96D32");
    EXPECT_EQ(h->attr("from"), "plays.shakespeare.lit");
    auto ns = h->namespaces();
    ASSERT_EQ(ns.size(), 2U);
    EXPECT_EQ(ns[0], (std::pair<std::string, std::string>{"stream", std::string(kStreamsNs)}));
    EXPECT_EQ(ns[1], (std::pair<std::string, std::string>{"", "jabber:component:accept"}));
}

TEST(StreamHeader, ValuesAreDecodedAndNormalized) {
    auto h = parse_stream_header("<s:stream id=\"a&amp;b&#x263A;&#65;'\" x='tab\there' />");
    ASSERT_TRUE(h.ok()) << h.status().message();
    EXPECT_EQ(h->attr("id"), "a&b\xE2\x98\xBA"
                             "A'");
    EXPECT_EQ(h->attr("x"), "tab here"); // XML 1.0 §3.3.3
    EXPECT_EQ(h->local_name(), "stream");
    EXPECT_FALSE(h->has_attr("missing"));
}

TEST(StreamHeader, MalformedTagsAreRefused) {
    const std::vector<std::string> bad = {
        "",
        "<>",
        "stream:stream>",
        "<stream:stream id>",
        "<stream:stream id=x>",
        "<stream:stream id='x>",
        "<stream:stream id='x'from='y'>",
        "<stream:stream id='x' id='y'>",
        "<stream:stream id='a<b'>",
        "<stream:stream id='&lol;'>",
        "<stream:stream id='&#0;'>",
        "<stream:stream id='&#xD800;'>",
        "<stream:stream id='&#x;'>",
        "<stream:stream id='&amp'>",
    };
    for (const auto& b : bad) EXPECT_FALSE(parse_stream_header(b).ok()) << b;
}

} // namespace
} // namespace stox::core::xmpp
