// SPDX-License-Identifier: Apache-2.0
// Start order (LOAD-18): dependencies first, discovery order as tie-break, cycles reported with
// a concrete path and left out together with what depends on them.
#include <gtest/gtest.h>

#include <algorithm>

#include "plugin/dependency_graph.hpp"

namespace stox::core {
namespace {

std::size_t pos(const std::vector<std::string>& order, const std::string& id) {
    return static_cast<std::size_t>(std::find(order.begin(), order.end(), id) - order.begin());
}

TEST(DependencyGraphTest, LOAD18_DependenciesComeFirst) {
    DependencyGraph g;
    for (const char* id : {"im", "presence", "core", "media"}) g.add_node(id);
    g.add_edge("presence", "im");
    g.add_edge("im", "core");
    g.add_edge("media", "presence");
    g.add_edge("media", "core");
    auto s = g.sort();
    EXPECT_TRUE(s.cycles.empty());
    EXPECT_TRUE(s.blocked.empty());
    ASSERT_EQ(s.order.size(), 4u);
    EXPECT_LT(pos(s.order, "core"), pos(s.order, "im"));
    EXPECT_LT(pos(s.order, "im"), pos(s.order, "presence"));
    EXPECT_LT(pos(s.order, "presence"), pos(s.order, "media"));
}

TEST(DependencyGraphTest, LOAD18_IndependentNodesKeepDiscoveryOrder) {
    DependencyGraph g;
    for (const char* id : {"c", "a", "b"}) g.add_node(id);
    g.add_edge("c", "b"); // c must wait for b; a is free
    auto s = g.sort();
    EXPECT_EQ(s.order, (std::vector<std::string>{"a", "b", "c"}));
    DependencyGraph free;
    for (const char* id : {"z", "y", "x"}) free.add_node(id);
    EXPECT_EQ(free.sort().order, (std::vector<std::string>{"z", "y", "x"}));
}

TEST(DependencyGraphTest, LOAD18_CycleIsReportedWithAPathAndBlocksDependants) {
    DependencyGraph g;
    for (const char* id : {"a", "b", "c", "user", "free"}) g.add_node(id);
    g.add_edge("a", "b");
    g.add_edge("b", "c");
    g.add_edge("c", "a");
    g.add_edge("user", "b");
    auto s = g.sort();
    ASSERT_EQ(s.cycles.size(), 1u);
    EXPECT_EQ(s.cycles[0], (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(DependencyGraph::describe_cycle(s.cycles[0]), "a -> b -> c -> a");
    EXPECT_EQ(s.blocked, (std::vector<std::string>{"user"}));
    EXPECT_EQ(s.order, (std::vector<std::string>{"free"}));
}

TEST(DependencyGraphTest, LOAD18_SelfLoopAndTwoSeparateCycles) {
    DependencyGraph g;
    g.add_edge("self", "self");
    g.add_edge("x", "y");
    g.add_edge("y", "x");
    g.add_node("ok");
    auto s = g.sort();
    ASSERT_EQ(s.cycles.size(), 2u);
    EXPECT_EQ(DependencyGraph::describe_cycle(s.cycles[0]), "self -> self");
    EXPECT_EQ(DependencyGraph::describe_cycle(s.cycles[1]), "x -> y -> x");
    EXPECT_EQ(s.order, (std::vector<std::string>{"ok"}));
}

TEST(DependencyGraphTest, DuplicateEdgesAndNodesAreHarmless) {
    DependencyGraph g;
    g.add_node("a");
    g.add_node("a");
    g.add_edge("b", "a");
    g.add_edge("b", "a");
    EXPECT_EQ(g.size(), 2u);
    EXPECT_EQ(g.sort().order, (std::vector<std::string>{"a", "b"}));
}

TEST(DependencyGraphTest, LongChainDoesNotOverflowTheStack) {
    DependencyGraph g;
    constexpr int kN = 20'000;
    for (int i = kN - 1; i > 0; --i) g.add_edge(std::to_string(i), std::to_string(i - 1));
    auto s = g.sort();
    ASSERT_EQ(s.order.size(), static_cast<std::size_t>(kN));
    EXPECT_EQ(s.order.front(), "0");
    EXPECT_EQ(s.order.back(), std::to_string(kN - 1));
}

} // namespace
} // namespace stox::core
