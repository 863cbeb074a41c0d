// SPDX-License-Identifier: Apache-2.0
#include <stox/msrp/chunking.hpp>

#include <algorithm>
#include <limits>

namespace stox::msrp {

namespace {
bool is_continuation(char c) noexcept {
    return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}
constexpr std::size_t kMaxClosed = 4096; // remembered finished Message-IDs
} // namespace

std::size_t utf8_safe_split(std::string_view data, std::size_t max_bytes) noexcept {
    if (max_bytes >= data.size()) return data.size();
    // A UTF-8 sequence is at most 4 octets: look back at most 3 continuation bytes.
    std::size_t n = max_bytes;
    for (std::size_t back = 0; back < 4 && n > 0; ++back, --n) {
        if (!is_continuation(data[n])) return n;
    }
    return max_bytes;
}

std::vector<Chunk> split_body(std::string_view body, std::size_t max_chunk, bool text_safe) {
    max_chunk = std::max<std::size_t>(max_chunk, 1);
    std::vector<Chunk> chunks;
    const auto total = static_cast<std::uint64_t>(body.size());
    if (body.empty()) {
        chunks.push_back({ByteRange{1, 0, 0}, {}, EndFlag::Complete}); // MSRP-11: 1-0/0
        return chunks;
    }
    std::size_t off = 0;
    while (off < body.size()) {
        const auto rest = body.substr(off);
        auto len = text_safe ? utf8_safe_split(rest, max_chunk) : std::min(max_chunk, rest.size());
        if (len == 0) len = std::min(max_chunk, rest.size());
        Chunk c;
        c.range = ByteRange{off + 1, off + len, total};
        c.body = std::string(rest.substr(0, len));
        off += len;
        c.flag = off == body.size() ? EndFlag::Complete : EndFlag::Continues;
        chunks.push_back(std::move(c));
    }
    return chunks;
}

ReassemblyResult Reassembler::close(const std::string& id, ChunkOutcome outcome,
                                    std::uint16_t status) {
    messages_.erase(id);
    // Forget the oldest closed message at the cap (not the smallest id: it may be the newest).
    if (closed_.size() >= kMaxClosed && !closed_order_.empty()) {
        closed_.erase(closed_order_.front());
        closed_order_.pop_front();
    }
    const std::uint16_t code = outcome == ChunkOutcome::TooLarge ? 413 : 200; // TV-12: 413 again
    if (closed_.insert_or_assign(id, code).second) closed_order_.push_back(id);
    return {outcome, status, {}};
}

ReassemblyResult Reassembler::add(std::string_view message_id,
                                  const std::optional<ByteRange>& range, std::string_view body,
                                  EndFlag flag) {
    const std::string id(message_id);
    if (const auto c = closed_.find(id); c != closed_.end())
        return {ChunkOutcome::Discarded, c->second, {}};

    // MSRP-19: no Byte-Range, or 1-based start with `$`, is a complete message on its own.
    const bool whole =
        flag == EndFlag::Complete && (!range || range->start == 1) && messages_.count(id) == 0;
    if (whole && (!range || !range->total || *range->total == body.size())) {
        if (body.size() > limits_.max_message_bytes) return close(id, ChunkOutcome::TooLarge, 413);
        if (range && range->end && *range->end != body.size()) {
            return close(id, ChunkOutcome::Malformed, 400);
        }
        close(id, ChunkOutcome::Complete, 200);
        return {ChunkOutcome::Complete, 200, std::string(body)};
    }
    if (flag == EndFlag::Aborted) return close(id, ChunkOutcome::Aborted, 200);
    if (!range) return close(id, ChunkOutcome::Malformed, 400); // chunks need Byte-Range

    const std::uint64_t start = range->start - 1; // 0-based
    const std::uint64_t end = start + body.size();
    if (range->end && *range->end != end) return close(id, ChunkOutcome::Malformed, 400);
    if (range->total && *range->total > limits_.max_message_bytes) {
        return close(id, ChunkOutcome::TooLarge, 413);
    }
    if (end > limits_.max_message_bytes || end < start)
        return close(id, ChunkOutcome::TooLarge, 413);

    auto it = messages_.find(id);
    if (it == messages_.end()) {
        if (messages_.size() >= limits_.max_messages) return {ChunkOutcome::TooLarge, 413, {}};
        it = messages_.emplace(id, Entry{}).first;
    }
    Entry& e = it->second;
    std::optional<std::uint64_t> total = range->total;
    if (flag == EndFlag::Complete) {
        if (total && *total != end) return close(id, ChunkOutcome::Malformed, 400);
        total = end; // the `$` chunk defines the total (MSRP-19)
    }
    if (total) {
        if (e.total && *e.total != *total) return close(id, ChunkOutcome::Malformed, 400);
        e.total = total;
    }
    if (e.total && end > *e.total) return close(id, ChunkOutcome::Malformed, 400);

    if (e.buffer.size() < end) e.buffer.resize(static_cast<std::size_t>(end));
    std::copy(body.begin(), body.end(), e.buffer.begin() + static_cast<std::ptrdiff_t>(start));
    if (end > start) {
        // Merge [start, end) into the interval set.
        std::uint64_t s = start;
        std::uint64_t t = end;
        auto jt = e.have.upper_bound(s);
        if (jt != e.have.begin()) {
            auto prev = std::prev(jt);
            if (prev->second >= s) {
                s = prev->first;
                t = std::max(t, prev->second);
                jt = e.have.erase(prev);
            }
        }
        while (jt != e.have.end() && jt->first <= t) {
            t = std::max(t, jt->second);
            jt = e.have.erase(jt);
        }
        e.have.emplace(s, t);
    }
    const bool complete =
        e.total && (*e.total == 0 || (e.have.size() == 1 && e.have.begin()->first == 0 &&
                                      e.have.begin()->second == *e.total));
    if (!complete) return {ChunkOutcome::Incomplete, 200, {}};
    std::string out = std::move(e.buffer);
    out.resize(static_cast<std::size_t>(*e.total));
    close(id, ChunkOutcome::Complete, 200);
    return {ChunkOutcome::Complete, 200, std::move(out)};
}

ReassemblyResult Reassembler::add(const Request& request) {
    if (!request.message_id) return {ChunkOutcome::Malformed, 400, {}};
    return add(*request.message_id, request.byte_range, request.body, request.end_flag);
}

std::vector<std::pair<std::uint64_t, std::uint64_t>>
Reassembler::gaps(std::string_view message_id) const {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
    const auto it = messages_.find(message_id);
    if (it == messages_.end()) return out;
    const Entry& e = it->second;
    std::uint64_t cursor = 0;
    for (const auto& [s, t] : e.have) {
        if (s > cursor) out.emplace_back(cursor, s);
        cursor = t;
    }
    const auto limit = e.total.value_or(std::numeric_limits<std::uint64_t>::max());
    if (cursor < limit) out.emplace_back(cursor, limit);
    return out;
}

void Reassembler::drop(std::string_view message_id) {
    if (const auto it = messages_.find(message_id); it != messages_.end()) messages_.erase(it);
}

} // namespace stox::msrp
