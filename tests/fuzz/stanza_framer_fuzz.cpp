// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: arbitrary bytes from an XMPP server through StreamFramer, the stream header
// parser and StanzaParser, as ComponentLink runs them. The first input byte picks the read size,
// the rest is the stream. Beyond "no crash, no leak, no UB", it checks:
//   1. framing does not depend on read boundaries (one read == reads of N bytes);
//   2. every stanza frame is '<'...'>' and within the size limit;
//   3. an accepted stanza serializes to XML that parses again, and after one round trip the
//      tree is a fixed point: parse(to_string(y)) == y.
// Build: clang++ -fsanitize=fuzzer,address,undefined with core/src/xmpp/{stream_framer,
// stream_header,stanza_parser}.cpp, -lxerces-c. Seeds: tests/fuzz/corpus/framer/.
// core/test/xmpp/fuzz_corpus_test.cpp replays the corpus in the unit tier.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stox/sdk/xmpp.hpp"
#include "xmpp/stanza_parser.hpp"
#include "xmpp/stream_framer.hpp"
#include "xmpp/stream_header.hpp"

namespace {

using stox::core::xmpp::Frame;
using stox::core::xmpp::FrameKind;
using stox::core::xmpp::StanzaParser;
using stox::core::xmpp::StreamFramer;

constexpr std::size_t kMaxStanza = 4096;

void check(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "stanza_framer_fuzz: invariant violated: %s\n", what);
    std::abort();
}

struct Framed {
    std::vector<std::pair<FrameKind, std::string>> frames;
    std::string error;
    bool operator==(const Framed&) const = default;
};

Framed frame(std::string_view in, std::size_t chunk) {
    StreamFramer f(kMaxStanza);
    Framed out;
    for (std::size_t at = 0; at <= in.size(); at += chunk) {
        std::string_view piece = in.substr(std::min(at, in.size()), chunk);
        std::span<char> dst = f.prepare(piece.size());
        std::copy(piece.begin(), piece.end(), dst.begin());
        f.commit(piece.size());
        for (Frame fr = f.next(); fr.kind != FrameKind::NeedMore; fr = f.next()) {
            if (fr.kind == FrameKind::Error) {
                out.error = std::string(f.error_condition());
                return out;
            }
            out.frames.emplace_back(fr.kind, std::string(fr.text));
        }
        if (piece.empty()) break;
    }
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const stox::core::xmpp::XercesGuard xerces;
    if (size == 0) return 0;
    const std::size_t chunk = 1 + data[0] % 64;
    const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);

    const Framed whole = frame(in, in.size() + 1);
    const Framed chunked = frame(in, chunk);
    // An input that is both malformed and over the size limit may be refused for either reason
    // first, depending on where reads end; both close the stream, with the same frames before.
    const bool refused_either_way =
        chunked.frames == whole.frames && !chunked.error.empty() && !whole.error.empty() &&
        (chunked.error == "policy-violation" || whole.error == "policy-violation");
    check(chunked == whole || refused_either_way, "frames depend on read boundaries");

    StanzaParser parser(kMaxStanza); // one per connection, as in ComponentLink
    for (const auto& [kind, text] : whole.frames) {
        if (kind == FrameKind::StreamHeader) {
            auto header = stox::core::xmpp::parse_stream_header(text);
            if (header) parser.set_stream_namespaces(header->namespaces());
            continue;
        }
        if (kind != FrameKind::Stanza) continue;
        check(text.size() >= 3 && text.front() == '<' && text.back() == '>', "stanza shape");
        check(text.size() <= kMaxStanza, "stanza over the limit");
        auto first = parser.parse(text);
        if (!first.ok()) continue;
        auto second = parser.parse(first.stanza.to_string(stox::sdk::kComponentNs));
        check(second.ok(), "serialized stanza does not parse");
        auto third = parser.parse(second.stanza.to_string(stox::sdk::kComponentNs));
        check(third.ok() && third.stanza == second.stanza, "round trip is not a fixed point");
    }
    return 0;
}
