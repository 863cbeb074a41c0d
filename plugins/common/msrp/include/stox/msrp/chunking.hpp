// SPDX-License-Identifier: Apache-2.0
/// \file chunking.hpp
/// Outgoing chunking and incoming reassembly of MSRP messages (RFC 4975 §7.1.1, §7.3.1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <stox/msrp/message.hpp>

namespace stox::msrp {

/// Largest prefix length <= max_bytes of `data` that does not end inside a UTF-8 sequence.
/// Falls back to max_bytes when no boundary exists in range (not UTF-8, or max_bytes < 4).
std::size_t utf8_safe_split(std::string_view data, std::size_t max_bytes) noexcept;

struct Chunk {
    ByteRange range;
    std::string body;
    EndFlag flag = EndFlag::Complete;
    bool operator==(const Chunk&) const = default;
};

/// Splits a body into chunks of at most max_chunk bytes (0 is treated as 1) with Byte-Range
/// start-end/total (MSRP-11); an empty body gives one chunk 1-0/0. With text_safe, boundaries
/// never split a UTF-8 sequence.
std::vector<Chunk> split_body(std::string_view body, std::size_t max_chunk, bool text_safe);

struct ReassemblyLimits {
    std::uint64_t max_message_bytes = 1024 * 1024; ///< larger messages get 413 (MSRP-30)
    std::size_t max_messages = 64;                 ///< concurrent incomplete messages
};

enum class ChunkOutcome : std::uint8_t {
    Incomplete, ///< stored, waiting for more chunks
    Complete,   ///< the whole message is in `body`
    Aborted,    ///< `#` received: the buffer is released (MSRP-5, TV-11)
    Discarded,  ///< a late chunk of an aborted, rejected or already delivered message
    TooLarge,   ///< 413: the message exceeds the limit; later chunks are Discarded too
    Malformed,  ///< 400: inconsistent ranges or totals
};

struct ReassemblyResult {
    ChunkOutcome outcome = ChunkOutcome::Incomplete;
    std::uint16_t status = 200; ///< response code to send for this chunk
    std::string body;           ///< the message when outcome == Complete
};

/// Reassembles chunks keyed by Message-ID (MSRP-19): any order, overlaps (the last received
/// wins), `*` range-end (the real payload length counts) and `*` total (the `$` chunk defines it).
class Reassembler {
public:
    explicit Reassembler(ReassemblyLimits limits = {}) : limits_(limits) {}

    ReassemblyResult add(std::string_view message_id, const std::optional<ByteRange>& range,
                         std::string_view body, EndFlag flag);
    /// Convenience for a parsed SEND (requests without Message-ID are Malformed).
    ReassemblyResult add(const Request& request);

    /// Missing 0-based half-open byte intervals of an incomplete message ([start, end)); for an
    /// unknown total the last gap ends at UINT64_MAX.
    [[nodiscard]] std::vector<std::pair<std::uint64_t, std::uint64_t>>
    gaps(std::string_view message_id) const;
    [[nodiscard]] std::size_t pending() const noexcept { return messages_.size(); }
    void drop(std::string_view message_id);

private:
    struct Entry {
        std::string buffer;
        std::map<std::uint64_t, std::uint64_t> have; ///< merged [start, end) intervals
        std::optional<std::uint64_t> total;
    };
    ReassemblyResult close(const std::string& id, ChunkOutcome outcome, std::uint16_t status);

    ReassemblyLimits limits_;
    std::map<std::string, Entry, std::less<>> messages_;
    std::map<std::string, std::uint16_t, std::less<>> closed_; ///< id -> code for late chunks
    std::list<std::string> closed_order_; ///< oldest first (a list: no allocation while empty)
};

} // namespace stox::msrp
