// SPDX-License-Identifier: Apache-2.0
// RFC 3428 §8 (IM-REF-2, TV-IM-20): at most one out-of-dialog MESSAGE pending per destination
// URI. Later ones wait in a bounded FIFO per destination; the number of destinations and the
// number of waiting items over all destinations are bounded too, so memory stays bounded
// whatever the peers do. Single-threaded (the plugin's strand).
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace stox::plugins::im {

template <class Item> class DestinationQueues {
public:
    enum class Admit {
        SendNow,            ///< the destination was idle: send `item` now (it was not taken)
        Queued,             ///< `item` was moved into the destination's FIFO
        QueueFull,          ///< the destination's FIFO (or all FIFOs together) is full: not taken
        TooManyDestinations ///< a new destination, but the table is full: `item` not taken
    };

    DestinationQueues(std::size_t max_destinations, std::size_t max_queue, std::size_t max_total)
        : max_destinations_(max_destinations), max_queue_(max_queue), max_total_(max_total) {}

    /// New limits apply to later offers; nothing already queued is dropped.
    void set_limits(std::size_t max_destinations, std::size_t max_queue, std::size_t max_total) {
        max_destinations_ = max_destinations;
        max_queue_ = max_queue;
        max_total_ = max_total;
    }

    /// Offers an item for `destination`. On SendNow the destination is marked busy until
    /// finish(destination).
    Admit offer(const std::string& destination, Item& item) {
        auto it = busy_.find(destination);
        if (it == busy_.end()) {
            if (busy_.size() >= max_destinations_) return Admit::TooManyDestinations;
            busy_.emplace(destination, std::deque<Item>{});
            return Admit::SendNow;
        }
        if (it->second.size() >= max_queue_ || queued_ >= max_total_) return Admit::QueueFull;
        it->second.push_back(std::move(item));
        ++queued_;
        return Admit::Queued;
    }

    /// The pending request to `destination` is over. Returns the next item to send (the
    /// destination stays busy), or nullopt (the destination is released).
    std::optional<Item> finish(const std::string& destination) {
        auto it = busy_.find(destination);
        if (it == busy_.end()) return std::nullopt;
        if (it->second.empty()) {
            busy_.erase(it);
            return std::nullopt;
        }
        std::optional<Item> next(std::move(it->second.front()));
        it->second.pop_front();
        --queued_;
        return next;
    }

    /// Everything still waiting (not the pending ones), destinations released.
    std::vector<Item> drain() {
        std::vector<Item> out;
        for (auto& [dest, q] : busy_)
            for (auto& item : q) out.push_back(std::move(item));
        busy_.clear();
        queued_ = 0;
        return out;
    }

    [[nodiscard]] bool busy(const std::string& destination) const {
        return busy_.count(destination) != 0;
    }
    [[nodiscard]] std::size_t destinations() const { return busy_.size(); }
    [[nodiscard]] std::size_t queued() const { return queued_; }

private:
    std::size_t max_destinations_;
    std::size_t max_queue_;
    std::size_t max_total_;
    std::size_t queued_ = 0;
    std::unordered_map<std::string, std::deque<Item>> busy_;
};

} // namespace stox::plugins::im
