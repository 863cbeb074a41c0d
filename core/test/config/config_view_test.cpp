// SPDX-License-Identifier: Apache-2.0
// JsonConfigView: the sdk::ConfigView plugins read their section through (sdk/config.hpp).
// Lookups use JSON Pointers (RFC 6901); wrong types are ErrorCode::InvalidConfig naming the
// pointer and the expected type; nothing throws.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "config/config_view.hpp"

namespace stox::core::config {
namespace {

using nlohmann::json;
using sdk::ErrorCode;

JsonConfigView make_view() {
    return JsonConfigView(json::parse(R"({
        "name": "gw", "count": 3, "big": 18446744073709551615, "neg": -5, "whole": 7.0,
        "ratio": 0.25, "on": true, "list": ["a", "b"], "mixed": ["a", 1],
        "nested": { "limits": { "rate": 10 }, "a/b": 1, "m~n": 2 },
        "empty": {}, "arr": [ { "x": "y" } ], "nothing": null
    })"));
}

TEST(JsonConfigView, HasFollowsJsonPointers) {
    auto v = make_view();
    EXPECT_TRUE(v.has(""));
    EXPECT_TRUE(v.has("/name"));
    EXPECT_TRUE(v.has("/nested/limits/rate"));
    EXPECT_TRUE(v.has("/nested/a~1b")); // RFC 6901 §3: "~1" is '/'
    EXPECT_TRUE(v.has("/nested/m~0n")); // "~0" is '~'
    EXPECT_TRUE(v.has("/arr/0/x"));
    EXPECT_TRUE(v.has("/nothing"));
    EXPECT_FALSE(v.has("/missing"));
    EXPECT_FALSE(v.has("/arr/1"));
    EXPECT_FALSE(v.has("/arr/00")); // RFC 6901 §4: no leading zeros
    EXPECT_FALSE(v.has("/arr/-"));
    EXPECT_FALSE(v.has("/name/x"));
    EXPECT_FALSE(v.has("name"));         // not a pointer
    EXPECT_FALSE(v.has("/nested/a~2b")); // bad escape
}

TEST(JsonConfigView, TypedGettersReturnValues) {
    auto v = make_view();
    EXPECT_EQ(v.get_string("/name").value(), "gw");
    EXPECT_EQ(v.get_int("/count").value(), 3);
    EXPECT_EQ(v.get_int("/neg").value(), -5);
    EXPECT_EQ(v.get_int("/whole").value(), 7); // JSON Schema's integer includes 7.0
    EXPECT_EQ(v.get_int("/nested/limits/rate").value(), 10);
    EXPECT_DOUBLE_EQ(v.get_double("/ratio").value(), 0.25);
    EXPECT_DOUBLE_EQ(v.get_double("/count").value(), 3.0);
    EXPECT_TRUE(v.get_bool("/on").value());
    EXPECT_EQ(v.get_string_list("/list").value(), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(v.keys("/nested").value(), (std::vector<std::string>{"a/b", "limits", "m~n"}));
    EXPECT_EQ(v.keys("/empty").value(), std::vector<std::string>{});
    EXPECT_EQ(v.size("/list").value(), 2U);
    EXPECT_EQ(v.size("/arr").value(), 1U);
    EXPECT_EQ(v.get_string("/arr/0/x").value(), "y");
}

TEST(JsonConfigView, TypeErrorsNameThePointerAndExpectedType) {
    auto v = make_view();
    auto s = v.get_int("/name");
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), ErrorCode::InvalidConfig);
    EXPECT_EQ(s.status().message(), "config key '/name' must be an integer, got string");

    EXPECT_EQ(v.get_string("/count").status().message(),
              "config key '/count' must be a string, got integer");
    EXPECT_EQ(v.get_int("/ratio").status().message(),
              "config key '/ratio' must be an integer, got number");
    EXPECT_EQ(v.get_double("/on").status().message(),
              "config key '/on' must be a number, got boolean");
    EXPECT_EQ(v.get_bool("/nothing").status().message(),
              "config key '/nothing' must be a boolean, got null");
    EXPECT_EQ(v.get_string_list("/name").status().message(),
              "config key '/name' must be an array of strings, got string");
    EXPECT_EQ(v.get_string_list("/mixed").status().message(),
              "config key '/mixed/1' must be a string, got integer");
    EXPECT_EQ(v.keys("/list").status().message(),
              "config key '/list' must be an object, got array");
    EXPECT_EQ(v.size("/nested").status().message(),
              "config key '/nested' must be an array, got object");
    for (const auto& st : {v.get_string("/count").status(), v.get_double("/on").status(),
                           v.get_bool("/nothing").status(), v.keys("/list").status(),
                           v.size("/nested").status(), v.get_string_list("/mixed").status()})
        EXPECT_EQ(st.code(), ErrorCode::InvalidConfig);
}

TEST(JsonConfigView, IntegerOutOfRangeIsAnError) {
    auto v = make_view();
    auto r = v.get_int("/big");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), ErrorCode::InvalidConfig);
    EXPECT_EQ(r.status().message(), "config key '/big' is too large for a 64-bit integer");
    JsonConfigView huge(json::parse(R"({"f": 1e300})"));
    EXPECT_EQ(huge.get_int("/f").status().code(), ErrorCode::InvalidConfig);
    JsonConfigView edge(json{{"max", std::numeric_limits<std::int64_t>::max()}});
    EXPECT_EQ(edge.get_int("/max").value(), std::numeric_limits<std::int64_t>::max());
}

TEST(JsonConfigView, MissingKeyIsItemNotFound) {
    auto v = make_view();
    auto r = v.get_string("/nope");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), ErrorCode::ItemNotFound);
    EXPECT_EQ(r.status().message(), "config key '/nope' is not set");
    EXPECT_EQ(v.size("/arr/5").status().code(), ErrorCode::ItemNotFound);
}

TEST(JsonConfigView, MalformedPointerIsInvalidConfig) {
    auto v = make_view();
    auto r = v.get_string("name");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), ErrorCode::InvalidConfig);
    EXPECT_EQ(r.status().message(),
              "invalid JSON pointer 'name' (it must be empty or start with '/')");
    EXPECT_EQ(v.get_int("/a~").status().code(), ErrorCode::InvalidConfig);
}

TEST(JsonConfigView, EmptyPointerIsTheWholeSection) {
    auto v = make_view();
    EXPECT_TRUE(v.keys("").ok());
    EXPECT_EQ(v.get_string("").status().message(),
              "config key (the whole section) must be a string, got object");
}

TEST(JsonConfigView, ToJsonRoundTrips) {
    auto v = make_view();
    EXPECT_EQ(json::parse(v.to_json()), v.json());
    JsonConfigView empty(json::object());
    EXPECT_EQ(empty.to_json(), "{}");
    EXPECT_FALSE(empty.has("/x"));
}

TEST(JsonConfigView, WorksThroughTheSdkInterface) {
    auto v = make_view();
    const sdk::ConfigView& view = v;
    EXPECT_EQ(view.get_string("/name").value_or("?"), "gw");
    EXPECT_EQ(view.get_int("/missing").value_or(42), 42);
}

} // namespace
} // namespace stox::core::config
