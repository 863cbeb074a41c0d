// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: random bytes into the MSRP parser (split in two at a data-chosen point);
// every parsed frame must serialize and parse back to an equal frame.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <stox/msrp/parser.hpp>

using namespace stox::msrp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
    const std::size_t cut = in.empty() ? 0 : data[0] % (in.size() + 1);
    Parser p(ParserLimits{4096, 65536});
    auto events = p.feed(in.substr(0, cut));
    auto more = p.feed(in.substr(cut));
    events.insert(events.end(), more.begin(), more.end());
    for (const auto& ev : events) {
        Frame frame;
        if (const auto* r = std::get_if<Request>(&ev))
            frame = *r;
        else if (const auto* s = std::get_if<Response>(&ev))
            frame = *s;
        else
            continue;
        const auto wire = serialize(frame);
        if (!wire.ok()) std::abort(); // a parsed frame must always be serializable
        Parser again;
        const auto back = again.feed(wire.value());
        if (back.size() != 1) std::abort();
        const bool same = std::visit(
            [&](const auto& f) {
                using F = std::decay_t<decltype(f)>;
                if constexpr (std::is_same_v<F, ParseError>)
                    return false;
                else
                    return std::holds_alternative<F>(frame) && std::get<F>(frame) == f;
            },
            back[0]);
        if (!same) std::abort();
    }
    return 0;
}
