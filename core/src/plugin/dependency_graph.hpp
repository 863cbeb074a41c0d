// SPDX-License-Identifier: Apache-2.0
// Start order of plugins: a topological sort of the `requires` graph (dependencies first), with
// the discovery order as tie-break so the order is deterministic. Cycles cannot be ordered: their
// members are reported (with one concrete path for the log line) and left out of the order, and
// so is everything that depends on them.
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

namespace stox::core {

class DependencyGraph {
public:
    struct Sorted {
        std::vector<std::string> order;               ///< dependencies before dependants
        std::vector<std::vector<std::string>> cycles; ///< one path per cycle: a, b, ... (-> a)
        std::vector<std::string> blocked;             ///< not in a cycle but depends on one
    };

    /// Adds a node; adding an existing id is a no-op. Insertion order is the tie-break.
    void add_node(const std::string& id);
    /// `dependant` starts after `dependency` (unknown ids are added as nodes).
    void add_edge(const std::string& dependant, const std::string& dependency);
    [[nodiscard]] std::size_t size() const noexcept { return ids_.size(); }

    [[nodiscard]] Sorted sort() const;

    /// "a -> b -> a"
    static std::string describe_cycle(const std::vector<std::string>& cycle);

private:
    std::size_t index_of(const std::string& id);
    std::vector<std::string> ids_;
    std::unordered_map<std::string, std::size_t> index_;
    std::vector<std::vector<std::size_t>> deps_; ///< node -> its dependencies
};

} // namespace stox::core
