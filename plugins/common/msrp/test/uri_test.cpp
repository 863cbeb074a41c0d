// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <stox/msrp/uri.hpp>

using namespace stox::msrp;

namespace {
Uri P(std::string_view s) {
    auto r = parse_uri(s);
    EXPECT_TRUE(r.ok()) << s << ": " << r.status().message();
    return r.ok() ? r.value() : Uri{};
}
} // namespace

// MSRP-1, TV-01 fixture path.
TEST(MsrpUri, ParsesNameHost_MSRP1) {
    const auto u = P("msrp://gw.xmpp.example:2855/s1xA9;tcp");
    EXPECT_FALSE(u.secure);
    EXPECT_EQ(u.host, "gw.xmpp.example");
    EXPECT_EQ(u.host_kind, HostKind::Name);
    EXPECT_EQ(u.port, 2855);
    EXPECT_EQ(u.session_id, "s1xA9");
    EXPECT_EQ(u.transport, "tcp");
    EXPECT_EQ(to_string(u), "msrp://gw.xmpp.example:2855/s1xA9;tcp");
}

TEST(MsrpUri, ParsesIpv4Ipv6UserinfoParams_MSRP1) {
    const auto a = P("msrps://bob@192.0.2.20:40010/b1Qz;tcp;foo=bar;baz");
    EXPECT_TRUE(a.secure);
    EXPECT_EQ(a.userinfo, "bob");
    EXPECT_EQ(a.host_kind, HostKind::IPv4);
    ASSERT_EQ(a.params.size(), 2U);
    EXPECT_EQ(a.params[0].value, "bar");
    EXPECT_FALSE(a.params[1].value);
    EXPECT_EQ(to_string(a), "msrps://bob@192.0.2.20:40010/b1Qz;tcp;foo=bar;baz");
    const auto b = P("msrp://[2001:db8::1]:2855/x/y+=;tcp");
    EXPECT_EQ(b.host_kind, HostKind::IPv6);
    EXPECT_EQ(b.host, "2001:db8::1");
    EXPECT_EQ(b.session_id, "x/y+=");
    EXPECT_EQ(to_string(b), "msrp://[2001:db8::1]:2855/x/y+=;tcp");
    const auto relay = P("msrps://relay.example;tcp"); // no port, no session-id (relay)
    EXPECT_FALSE(relay.port);
    EXPECT_FALSE(relay.session_id);
}

TEST(MsrpUri, RejectsBadSyntax_MSRP1) {
    for (const char* bad :
         {"msrp://h:1/s", "msrp//h:1/s;tcp", "msrp://192.0.2.1/s;tcp", "msrp://[::1/s;tcp",
          "msrp://h:99999/s;tcp", "msrp://h:/s;tcp", "msrp://h:1/;tcp", "msrp://h:1/s;",
          "msrp://u:pw@h:1/s;tcp", "msrp://h h:1/s;tcp", "msrp://h:1/s;tcp;=x",
          "msrp://300.1.1.1:1/s;tcp", "msrp://[zz::1]:1/s;tcp", ""}) {
        EXPECT_FALSE(parse_uri(bad).ok()) << bad;
    }
    EXPECT_EQ(parse_uri("sip://h:1/s;tcp").status().code(),
              stox::sdk::ErrorCode::UnsupportedScheme);
}

// RFC 4975 §6.1 comparison rules (MSRP-1).
TEST(MsrpUri, ComparisonRules_MSRP1) {
    const auto base = P("msrp://GW.Example:2855/AbC;tcp");
    EXPECT_TRUE(equivalent(base, P("MSRP://gw.example:2855/AbC;TCP")));
    EXPECT_TRUE(equivalent(base, P("msrp://user@gw.%65xample:2855/AbC;tcp;x=y")));
    EXPECT_FALSE(equivalent(base, P("msrp://gw.example:2855/abc;tcp")));  // session-id case
    EXPECT_FALSE(equivalent(base, P("msrps://gw.example:2855/AbC;tcp"))); // scheme
    EXPECT_FALSE(equivalent(base, P("msrp://gw.example:2856/AbC;tcp")));  // port
    EXPECT_FALSE(equivalent(base, P("msrp://gw.example/AbC;tcp")));       // explicit vs none
    EXPECT_FALSE(equivalent(base, P("msrp://gw.example:2855;tcp")));      // no session-id
    EXPECT_FALSE(equivalent(base, P("msrp://gw.example:2855/AbC;sctp"))); // transport
    EXPECT_TRUE(equivalent(P("msrp://[2001:db8::1]:1/s;tcp"), P("msrp://[2001:DB8:0::1]:1/s;tcp")));
}

TEST(MsrpUri, PathParseAndSerialize_MSRP25) {
    auto p = parse_path("msrp://relay.example:2855/r1;tcp msrp://192.0.2.20:40010/b1Qz;tcp");
    ASSERT_TRUE(p.ok());
    ASSERT_EQ(p->size(), 2U);
    EXPECT_EQ(to_string(*p), "msrp://relay.example:2855/r1;tcp msrp://192.0.2.20:40010/b1Qz;tcp");
    EXPECT_FALSE(parse_path("").ok());
    EXPECT_FALSE(parse_path("msrp://a:1/s;tcp ").ok());
}
