// SPDX-License-Identifier: Apache-2.0
#include "plugin/dependency_graph.hpp"

#include <algorithm>
#include <deque>
#include <functional>
#include <queue>

namespace stox::core {

std::size_t DependencyGraph::index_of(const std::string& id) {
    auto it = index_.find(id);
    if (it != index_.end()) return it->second;
    const std::size_t i = ids_.size();
    ids_.push_back(id);
    index_.emplace(id, i);
    deps_.emplace_back();
    return i;
}

void DependencyGraph::add_node(const std::string& id) {
    (void)index_of(id);
}

void DependencyGraph::add_edge(const std::string& dependant, const std::string& dependency) {
    const std::size_t from = index_of(dependant);
    const std::size_t to = index_of(dependency);
    auto& d = deps_[from];
    if (std::find(d.begin(), d.end(), to) == d.end()) d.push_back(to);
}

std::string DependencyGraph::describe_cycle(const std::vector<std::string>& cycle) {
    std::string s;
    for (const auto& id : cycle) s += id + " -> ";
    return cycle.empty() ? s : s + cycle.front();
}

DependencyGraph::Sorted DependencyGraph::sort() const {
    const std::size_t n = ids_.size();
    Sorted out;

    // Tarjan's strongly connected components (iterative, so a deep chain cannot overflow the
    // stack). A component with more than one node, or a node requiring itself, is a cycle.
    constexpr std::size_t kUnvisited = static_cast<std::size_t>(-1);
    std::vector<std::size_t> index(n, kUnvisited), low(n, 0), comp(n, kUnvisited);
    std::vector<bool> on_stack(n, false);
    std::vector<std::size_t> stack;
    std::vector<std::vector<std::size_t>> components;
    std::size_t counter = 0;
    for (std::size_t root = 0; root < n; ++root) {
        if (index[root] != kUnvisited) continue;
        std::vector<std::pair<std::size_t, std::size_t>> frames{{root, 0}}; // node, next edge
        index[root] = low[root] = counter++;
        stack.push_back(root);
        on_stack[root] = true;
        while (!frames.empty()) {
            auto& [v, edge] = frames.back();
            if (edge < deps_[v].size()) {
                const std::size_t w = deps_[v][edge++];
                if (index[w] == kUnvisited) {
                    index[w] = low[w] = counter++;
                    stack.push_back(w);
                    on_stack[w] = true;
                    frames.emplace_back(w, 0);
                } else if (on_stack[w]) {
                    low[v] = std::min(low[v], index[w]);
                }
                continue;
            }
            if (low[v] == index[v]) {
                std::vector<std::size_t> members;
                std::size_t w = 0;
                do {
                    w = stack.back();
                    stack.pop_back();
                    on_stack[w] = false;
                    comp[w] = components.size();
                    members.push_back(w);
                } while (w != v);
                components.push_back(std::move(members));
            }
            const std::size_t done = v;
            frames.pop_back();
            if (!frames.empty()) {
                auto& parent = frames.back().first;
                low[parent] = std::min(low[parent], low[done]);
            }
        }
    }

    std::vector<bool> cyclic(n, false);
    for (const auto& members : components) {
        const std::size_t v = members.front();
        const bool self_loop = std::find(deps_[v].begin(), deps_[v].end(), v) != deps_[v].end();
        if (members.size() < 2 && !self_loop) continue;
        for (auto m : members) cyclic[m] = true;
        // One concrete path for the message: BFS inside the component from its earliest node
        // back to itself.
        const std::size_t start = *std::min_element(members.begin(), members.end());
        std::vector<std::size_t> parent(n, kUnvisited);
        std::deque<std::size_t> queue{start};
        std::size_t last = kUnvisited;
        while (!queue.empty() && last == kUnvisited) {
            const std::size_t u = queue.front();
            queue.pop_front();
            for (auto w : deps_[u]) {
                if (comp[w] != comp[start]) continue;
                if (w == start) {
                    last = u;
                    break;
                }
                if (parent[w] == kUnvisited) {
                    parent[w] = u;
                    queue.push_back(w);
                }
            }
        }
        std::vector<std::string> path;
        for (std::size_t u = last; u != start && u != kUnvisited; u = parent[u])
            path.push_back(ids_[u]);
        path.push_back(ids_[start]);
        std::reverse(path.begin(), path.end());
        out.cycles.push_back(std::move(path));
    }
    std::sort(out.cycles.begin(), out.cycles.end(), [&](const auto& a, const auto& b) {
        return index_.at(a.front()) < index_.at(b.front());
    });

    // Kahn's algorithm over the acyclic rest; the ready node discovered first goes first.
    std::vector<std::vector<std::size_t>> dependants(n);
    std::vector<std::size_t> missing(n, 0);
    for (std::size_t v = 0; v < n; ++v) {
        for (auto d : deps_[v]) {
            dependants[d].push_back(v);
            ++missing[v];
        }
    }
    std::priority_queue<std::size_t, std::vector<std::size_t>, std::greater<>> ready;
    for (std::size_t v = 0; v < n; ++v)
        if (!cyclic[v] && missing[v] == 0) ready.push(v);
    std::vector<bool> placed(n, false);
    while (!ready.empty()) {
        const std::size_t v = ready.top();
        ready.pop();
        placed[v] = true;
        out.order.push_back(ids_[v]);
        for (auto w : dependants[v])
            if (--missing[w] == 0 && !cyclic[w]) ready.push(w);
    }
    for (std::size_t v = 0; v < n; ++v)
        if (!placed[v] && !cyclic[v]) out.blocked.push_back(ids_[v]);
    return out;
}

} // namespace stox::core
