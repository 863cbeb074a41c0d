// SPDX-License-Identifier: Apache-2.0
// SDP (RFC 4975 §8, RFC 6135), isComposing (RFC 3994), CPIM (RFC 3862, AMB-27) and SIP helpers.
#include <gtest/gtest.h>

#include "content.hpp"
#include "sdp.hpp"
#include "sip_util.hpp"

namespace stox::plugins::chat {
namespace {

TEST(Sdp, MSRP_24_ParsesFirstMessageLine) {
    auto m = parse_msrp_sdp("v=0\r\no=- 1 1 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\n"
                            "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP4 10.0.0.1\r\n"
                            "m=message 40010 TCP/MSRP *\r\n"
                            "a=accept-types:Text/Plain message/cpim\r\n"
                            "a=accept-wrapped-types:*\r\na=max-size:4096\r\n"
                            "a=path:msrp://192.0.2.20:40010/b1Qz;tcp\r\na=setup:holdconn\r\n"
                            "a=sendonly\r\nm=message 1 TCP/MSRP *\r\n");
    ASSERT_TRUE(m) << m.status().message();
    EXPECT_EQ(m->port, 40010);
    EXPECT_EQ(m->path, "msrp://192.0.2.20:40010/b1Qz;tcp");
    EXPECT_EQ(m->accept_types, (std::vector<std::string>{"text/plain", "message/cpim"}));
    EXPECT_TRUE(accepts(m->accept_wrapped_types, "application/im-iscomposing+xml"));
    EXPECT_EQ(*m->max_size, 4096u);
    EXPECT_EQ(m->setup, Setup::None); // MSRP-31: holdconn ignored
    EXPECT_EQ(m->direction, "sendonly");
    EXPECT_EQ(m->connection_host, "192.0.2.20"); // session level c= (the audio c= is not ours)
}

TEST(Sdp, RefusesWhatIsNotUsable) {
    EXPECT_FALSE(parse_msrp_sdp("hello"));
    EXPECT_FALSE(parse_msrp_sdp("v=0\r\nm=message 0 TCP/MSRP *\r\na=accept-types:*\r\n"
                                "a=path:msrp://a:1/x;tcp\r\n")); // rejected stream
    EXPECT_FALSE(parse_msrp_sdp("v=0\r\nm=message 1 TCP/MSRP *\r\na=accept-types:*\r\n"));
    EXPECT_FALSE(parse_msrp_sdp("v=0\r\nm=message 1 TCP/MSRP *\r\na=path:msrp://a:1/x;tcp\r\n"));
    EXPECT_FALSE(parse_msrp_sdp("v=0\r\nm=message 1 UDP/MSRP *\r\na=accept-types:*\r\n"
                                "a=path:msrp://a:1/x;tcp\r\n"));
    EXPECT_FALSE(parse_msrp_sdp("v=0\r\nm=message 99999 TCP/MSRP *\r\n"));
}

TEST(Sdp, BuildRoundTrips) {
    SdpOffer o;
    o.host = "gw.xmpp.example";
    o.port = 2855;
    o.path = "msrp://gw.xmpp.example:2855/s1xA9;tcp";
    o.accept_types = {"text/plain", "message/cpim"};
    o.accept_wrapped_types = {"text/plain"};
    o.max_size = 8192;
    o.setup = Setup::ActPass;
    const std::string s = build_sdp(o);
    EXPECT_NE(s.find("c=IN IP4 gw.xmpp.example\r\n"), std::string::npos);
    EXPECT_NE(s.find("m=message 2855 TCP/MSRP *\r\n"), std::string::npos);
    auto m = parse_msrp_sdp(s);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->setup, Setup::ActPass);
    EXPECT_EQ(m->path, o.path);
    EXPECT_EQ(*m->max_size, 8192u);
    EXPECT_EQ(m->connection_host, "gw.xmpp.example");
}

TEST(IsComposing, RFC_3994_ParseAndUnknownStateIsIdle) {
    auto a = parse_iscomposing(make_iscomposing(true, 90));
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->active);
    EXPECT_EQ(*a->refresh, 90u);
    auto i = parse_iscomposing(make_iscomposing(false));
    ASSERT_TRUE(i);
    EXPECT_FALSE(i->active);
    auto u = parse_iscomposing("<isComposing xmlns='urn:ietf:params:xml:ns:im-iscomposing'>"
                               "<state>thinking</state></isComposing>");
    ASSERT_TRUE(u);
    EXPECT_FALSE(u->active);
    EXPECT_FALSE(parse_iscomposing("<foo/>"));
}

TEST(Cpim, TV_15_AndLenientLayout_AMB_27) {
    auto c = parse_cpim("From: <sip:bob@sip.example>\r\nTo: <sip:alice@xmpp.example>\r\n"
                        "DateTime: 2024-05-01T09:30:00Z\r\n\r\nContent-Type: text/plain; "
                        "charset=utf-8\r\nContent-Language: cs\r\n\r\nSee you soon");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->content_type, "text/plain");
    EXPECT_EQ(c->body, "See you soon");
    EXPECT_EQ(c->date_time, "2024-05-01T09:30:00Z");
    EXPECT_EQ(c->content_language, "cs");
    auto l = parse_cpim("From: <sip:a@b>\r\nContent-Type: text/plain\r\n\r\nhi");
    ASSERT_TRUE(l);
    EXPECT_EQ(l->body, "hi");
    EXPECT_FALSE(parse_cpim("just text"));
    auto w = parse_cpim(make_cpim("sip:a@b", "sip:c@d", "text/plain", "x"));
    ASSERT_TRUE(w);
    EXPECT_EQ(w->body, "x");
}

TEST(SipUtil, CallIdGrammar_TV_25) {
    EXPECT_TRUE(is_valid_call_id("th-5f2c1"));
    EXPECT_TRUE(is_valid_call_id("c2-77a1@sip.example"));
    EXPECT_FALSE(is_valid_call_id("project plan / Q3"));
    EXPECT_FALSE(is_valid_call_id(""));
    EXPECT_FALSE(is_valid_call_id("a@b@c"));
    EXPECT_FALSE(is_valid_call_id(std::string(129, 'a')));
}

TEST(SipUtil, NameAddrAndParams) {
    auto n = parse_name_addr("\"Bob\" <sip:bob@sip.example;gr=dev1>;tag=bt1");
    ASSERT_TRUE(n);
    EXPECT_EQ(n->uri, "sip:bob@sip.example;gr=dev1");
    EXPECT_EQ(n->tag, "bt1");
    EXPECT_EQ(uri_param(n->uri, "gr"), "dev1");
    EXPECT_EQ(aor_of("sip:bob@Sip.Example:5060;gr=x"), "sip:bob@sip.example");
    EXPECT_FALSE(parse_name_addr("<sip:x"));
    EXPECT_EQ(*cseq_number("12 INVITE"), 12u);
    EXPECT_FALSE(cseq_number("x INVITE"));
    Dialog d;
    d.call_id = "c";
    d.local_uri = "sip:a@x";
    d.local_tag = "lt";
    d.remote_uri = "sip:b@y";
    d.remote_tag = "rt";
    d.remote_target = "sip:b@10.0.0.1";
    d.route_set = {"<sip:p1;lr>", "<sip:p2;lr>"};
    d.local_cseq = 4;
    auto r = in_dialog_request(d, "BYE");
    EXPECT_EQ(r.request_uri, "sip:b@10.0.0.1");
    EXPECT_EQ(r.header("CSeq"), "5 BYE");
    EXPECT_EQ(r.header_values("Route").size(), 2u);
    EXPECT_EQ(in_dialog_request(d, "ACK", 1).header("CSeq"), "1 ACK");
}

} // namespace
} // namespace stox::plugins::chat
