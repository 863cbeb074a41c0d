// SPDX-License-Identifier: Apache-2.0
#include "xmpp/stream_framer.hpp"

#include <algorithm>
#include <cstring>

namespace stox::core::xmpp {
namespace {

// XML S production (XML 1.0 §2.3).
constexpr bool is_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

constexpr std::string_view kCdataOpen = "[CDATA[";
constexpr std::size_t kMinCapacity = 4096;
constexpr std::size_t kMaxNameInDetail = 64;

std::string_view clip(std::string_view s) noexcept {
    return s.substr(0, kMaxNameInDetail);
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
        char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
        if (x != y) return false;
    }
    return true;
}

// The value of pseudo-attribute `name` in an XML declaration, or "" when absent.
std::string_view decl_value(std::string_view decl, std::string_view name) noexcept {
    std::size_t at = decl.find(name);
    if (at == std::string_view::npos) return {};
    std::size_t i = at + name.size();
    while (i < decl.size() && is_space(decl[i])) ++i;
    if (i >= decl.size() || decl[i] != '=') return {};
    ++i;
    while (i < decl.size() && is_space(decl[i])) ++i;
    if (i >= decl.size() || (decl[i] != '\'' && decl[i] != '"')) return {};
    char q = decl[i++];
    std::size_t end = decl.find(q, i);
    if (end == std::string_view::npos) return {};
    return decl.substr(i, end - i);
}

} // namespace

StreamFramer::StreamFramer(std::size_t max_stanza_bytes)
    : max_(std::max<std::size_t>(max_stanza_bytes, 1)) {}

std::span<char> StreamFramer::prepare(std::size_t n) {
    if (consumed_ > 0) {
        // Only the unfinished tail moves, which the stanza limit bounds.
        std::size_t keep = len_ - consumed_;
        if (keep > 0) std::memmove(buf_.get(), buf_.get() + consumed_, keep);
        auto shift = [this](std::size_t& off) { off = off >= consumed_ ? off - consumed_ : 0; };
        shift(pos_);
        shift(tag_start_);
        shift(stanza_start_);
        len_ = keep;
        consumed_ = 0;
    }
    if (cap_ - len_ < n) {
        std::size_t cap = std::max({cap_ * 2, len_ + n, kMinCapacity});
        auto grown = std::make_unique_for_overwrite<char[]>(cap);
        if (len_ > 0) std::memcpy(grown.get(), buf_.get(), len_);
        buf_ = std::move(grown);
        cap_ = cap;
    }
    return {buf_.get() + len_, n};
}

void StreamFramer::commit(std::size_t n) noexcept {
    len_ = std::min(len_ + n, cap_);
}

void StreamFramer::feed(std::string_view bytes) {
    if (bytes.empty()) return;
    std::span<char> dst = prepare(bytes.size());
    std::memcpy(dst.data(), bytes.data(), bytes.size());
    commit(bytes.size());
}

void StreamFramer::reset() noexcept {
    len_ = consumed_ = pos_ = tag_start_ = stanza_start_ = depth_ = 0;
    state_ = State::Prolog;
    quote_ = 0;
    slash_ = seen_bytes_ = pending_end_ = false;
    match_ = 0;
    header_qname_.clear();
    error_condition_ = {};
    error_detail_.clear();
}

Frame StreamFramer::fail(std::string_view condition, std::string detail) {
    state_ = State::Failed;
    error_condition_ = condition;
    error_detail_ = std::move(detail);
    return {FrameKind::Error, {}};
}

Frame StreamFramer::emit_stanza(std::size_t end) {
    std::size_t size = end - stanza_start_;
    if (size > max_)
        return fail(kPolicyViolation, "stanza of " + std::to_string(size) + " bytes exceeds the " +
                                          std::to_string(max_) + "-byte limit");
    consumed_ = end;
    state_ = State::TopLevel;
    return {FrameKind::Stanza, std::string_view(buf_.get() + stanza_start_, size)};
}

Frame StreamFramer::finish_start_tag(std::size_t gt) {
    pos_ = gt + 1;
    if (!header_done()) {
        const char* b = buf_.get();
        std::size_t name_end = tag_start_ + 1;
        while (name_end < gt && !is_space(b[name_end]) && b[name_end] != '/') ++name_end;
        if (pos_ - tag_start_ > max_) return fail(kPolicyViolation, "stream header too large");
        header_qname_.assign(b + tag_start_ + 1, name_end - tag_start_ - 1);
        if (header_qname_.empty()) return fail(kNotWellFormed, "stream header without a name");
        consumed_ = pos_;
        state_ = State::TopLevel;
        depth_ = 0;
        pending_end_ = slash_;
        return {FrameKind::StreamHeader, std::string_view(b + tag_start_, pos_ - tag_start_)};
    }
    if (slash_) {
        if (depth_ == 0) return emit_stanza(pos_);
        state_ = State::Content;
        return {};
    }
    ++depth_;
    state_ = State::Content;
    return {};
}

Frame StreamFramer::finish_end_tag(std::size_t gt) {
    pos_ = gt + 1;
    if (depth_ == 0) {
        // RFC 6120 §4.4: the only end tag at stream level closes the stream.
        std::string_view name(buf_.get() + tag_start_ + 2, gt - tag_start_ - 2);
        while (!name.empty() && is_space(name.back())) name.remove_suffix(1);
        if (name != header_qname_)
            return fail(kNotWellFormed,
                        "unexpected end tag </" + std::string(clip(name)) + "> at stream level");
        consumed_ = pos_;
        state_ = State::Closed;
        return {FrameKind::StreamEnd, {}};
    }
    if (--depth_ == 0) return emit_stanza(pos_);
    state_ = State::Content;
    return {};
}

Frame StreamFramer::next() {
    if (state_ == State::Failed) return {FrameKind::Error, {}};
    if (pending_end_) {
        pending_end_ = false;
        state_ = State::Closed;
        return {FrameKind::StreamEnd, {}};
    }
    const char* b = buf_.get();
    while (pos_ < len_) {
        switch (state_) {
        case State::Prolog: {
            char c = b[pos_];
            if (is_space(c)) {
                seen_bytes_ = true;
                consumed_ = ++pos_;
            } else if (c == '<') {
                tag_start_ = pos_++;
                state_ = State::LtSeen;
            } else {
                // Includes U+FEFF: RFC 6120 §11.6 says it is a character, not a BOM.
                return fail(kNotWellFormed, "character data before the stream header");
            }
            break;
        }
        case State::XmlDecl: {
            const void* p = std::memchr(b + pos_, '>', len_ - pos_);
            if (p == nullptr) {
                pos_ = len_;
                break;
            }
            std::size_t gt = static_cast<std::size_t>(static_cast<const char*>(p) - b);
            pos_ = gt + 1;
            if (gt < tag_start_ + 3 || b[gt - 1] != '?') break; // a '>' inside the declaration
            std::string_view decl(b + tag_start_, pos_ - tag_start_);
            if (decl.size() < 7 || decl.substr(2, 3) != "xml" || !is_space(decl[5]))
                return fail(kRestrictedXml, "processing instruction before the stream header");
            std::string_view enc = decl_value(decl, "encoding");
            if (!enc.empty() && !iequals(enc, "UTF-8")) // RFC 6120 §11.6
                return fail(kUnsupportedEncoding, "encoding '" + std::string(clip(enc)) + "'");
            seen_bytes_ = true;
            consumed_ = pos_;
            state_ = State::Prolog;
            break;
        }
        case State::TopLevel: {
            char c = b[pos_];
            if (is_space(c)) {
                consumed_ = ++pos_; // whitespace keepalives are dropped here
            } else if (c == '<') {
                tag_start_ = stanza_start_ = pos_++;
                state_ = State::LtSeen;
            } else {
                return fail(kBadFormat, "character data between stanzas");
            }
            break;
        }
        case State::Content: {
            const void* p = std::memchr(b + pos_, '<', len_ - pos_);
            if (p == nullptr) {
                pos_ = len_;
                break;
            }
            tag_start_ = static_cast<std::size_t>(static_cast<const char*>(p) - b);
            pos_ = tag_start_ + 1;
            state_ = State::LtSeen;
            break;
        }
        case State::LtSeen: {
            char c = b[pos_];
            if (c == '?') {
                // RFC 6120 §11.1: no processing instructions; only the XML declaration, first.
                if (header_done() || seen_bytes_)
                    return fail(kRestrictedXml, "processing instruction");
                ++pos_;
                state_ = State::XmlDecl;
            } else if (c == '!') {
                ++pos_;
                state_ = State::Bang;
            } else if (c == '/') {
                if (!header_done()) return fail(kNotWellFormed, "end tag before the stream header");
                ++pos_;
                state_ = State::EndTag;
            } else if (is_space(c) || c == '>' || c == '<' || c == '=' || c == '\'' || c == '"') {
                return fail(kNotWellFormed, "'<' not followed by a name");
            } else {
                ++pos_;
                slash_ = false;
                state_ = State::StartTag;
            }
            break;
        }
        case State::Bang: {
            char c = b[pos_];
            if (c == '-') return fail(kRestrictedXml, "comment");
            if (c == '[') {
                if (!header_done() || depth_ == 0)
                    return fail(kBadFormat, "CDATA section outside a stanza");
                ++pos_;
                match_ = 1;
                state_ = State::CdataOpen;
                break;
            }
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))
                return fail(kRestrictedXml, "DTD markup declaration");
            return fail(kNotWellFormed, "invalid markup after '<!'");
        }
        case State::CdataOpen: {
            if (b[pos_] != kCdataOpen[match_]) return fail(kNotWellFormed, "invalid CDATA opener");
            ++pos_;
            if (++match_ == kCdataOpen.size()) {
                match_ = 0;
                state_ = State::Cdata;
            }
            break;
        }
        case State::Cdata: {
            if (match_ == 0) {
                const void* p = std::memchr(b + pos_, ']', len_ - pos_);
                if (p == nullptr) {
                    pos_ = len_;
                    break;
                }
                pos_ = static_cast<std::size_t>(static_cast<const char*>(p) - b) + 1;
                match_ = 1;
                break;
            }
            char c = b[pos_++];
            if (c == ']') {
                match_ = 2; // "]]]>" still ends the section
            } else if (c == '>' && match_ == 2) {
                match_ = 0;
                state_ = State::Content;
            } else {
                match_ = 0;
            }
            break;
        }
        case State::StartTag: {
            while (pos_ < len_) {
                char c = b[pos_];
                if (c == '>') {
                    Frame f = finish_start_tag(pos_);
                    if (f.kind != FrameKind::NeedMore) return f;
                    break;
                }
                ++pos_;
                if (c == '\'' || c == '"') {
                    quote_ = c;
                    slash_ = false;
                    state_ = State::Quoted;
                    break;
                }
                if (c == '<') return fail(kNotWellFormed, "'<' inside a tag");
                slash_ = c == '/';
            }
            break;
        }
        case State::Quoted: {
            // '>' and '/' inside quotes are data; '<' is left for the parser to refuse.
            const void* p = std::memchr(b + pos_, quote_, len_ - pos_);
            if (p == nullptr) {
                pos_ = len_;
                break;
            }
            pos_ = static_cast<std::size_t>(static_cast<const char*>(p) - b) + 1;
            state_ = State::StartTag;
            break;
        }
        case State::EndTag: {
            const void* p = std::memchr(b + pos_, '>', len_ - pos_);
            if (p == nullptr) {
                pos_ = len_;
                break;
            }
            Frame f = finish_end_tag(static_cast<std::size_t>(static_cast<const char*>(p) - b));
            if (f.kind != FrameKind::NeedMore) return f;
            break;
        }
        case State::Closed:
            consumed_ = pos_ = len_; // bytes after the stream end are ignored
            break;
        case State::Failed: return {FrameKind::Error, {}};
        }
    }
    if (len_ - consumed_ > max_)
        return fail(kPolicyViolation,
                    "more than " + std::to_string(max_) + " bytes buffered for one stanza");
    return {};
}

} // namespace stox::core::xmpp
