// SPDX-License-Identifier: Apache-2.0
// Last CSeq used per Call-ID, so that a Call-ID reused for an XMPP thread gets an increasing
// CSeq (Table M1, A-29; RFC 3261 §8.1.1.5). Bounded: the least recently used Call-ID is
// forgotten first (its next MESSAGE starts again at 1, which a UAS outside a dialog accepts).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>
#include <utility>

namespace stox::plugins::im {

class CSeqCache {
public:
    /// RFC 3261 §8.1.1.5: CSeq numbers stay below 2**31.
    static constexpr std::uint32_t kMaxCSeq = 0x7FFFFFFF;

    explicit CSeqCache(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

    void set_capacity(std::size_t capacity) {
        capacity_ = capacity == 0 ? 1 : capacity;
        evict();
    }

    /// The CSeq for the next request with this Call-ID: 1 the first time, then one more.
    std::uint32_t next(const std::string& call_id) {
        auto it = index_.find(call_id);
        if (it != index_.end()) {
            order_.splice(order_.begin(), order_, it->second);
            auto& value = it->second->second;
            value = value >= kMaxCSeq ? 1 : value + 1;
            return value;
        }
        order_.emplace_front(call_id, 1);
        index_.emplace(call_id, order_.begin());
        evict();
        return 1;
    }

    [[nodiscard]] std::size_t size() const { return index_.size(); }

private:
    void evict() {
        while (index_.size() > capacity_) {
            index_.erase(order_.back().first);
            order_.pop_back();
        }
    }

    using Entry = std::pair<std::string, std::uint32_t>;
    std::size_t capacity_;
    std::list<Entry> order_; // most recently used first
    std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

} // namespace stox::plugins::im
