// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the presence plugin's PIDF codec (plugins/presence/src/pidf_codec.cpp):
// arbitrary NOTIFY bodies through parse_pidf() and the RFC 8048 Table P2 mapping. Beyond "no
// crash, no leak, no UB, no exception", it checks that the mapping is stable: the stanzas of
// an accepted body map back to a PIDF body (Table P1) that parses again and maps to the same
// stanzas. Xerces is initialised once, as the gateway's XercesGuard does; never terminated.
// Not wired into tests/fuzz/CMakeLists.txt yet (it would be:
//   stox_add_fuzzer(pidf_codec_fuzz pidf_codec_fuzz.cpp stox_presence_codec)).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <xercesc/util/PlatformUtils.hpp>

#include "pidf_codec.hpp"
#include "stox/sdk/xml.hpp"

namespace {

namespace presence = stox::plugins::presence;

[[noreturn]] void fail(const char* what, std::string_view a, std::string_view b = {}) {
    std::fprintf(stderr, "pidf_codec_fuzz: %s\n  [%.*s]\n  [%.*s]\n", what,
                 static_cast<int>(a.size()), a.data(), static_cast<int>(b.size()), b.data());
    std::abort();
}

std::string dump(const std::vector<stox::sdk::XmlElement>& stanzas) {
    std::string out;
    for (const auto& s : stanzas) out += s.to_string() + "\n";
    return out;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    xercesc::XMLPlatformUtils::Initialize();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    const auto doc = presence::parse_pidf(body);
    if (!doc.ok()) {
        if (doc.status().message().empty()) fail("refusal without a reason", body);
        return 0;
    }

    presence::PidfToXmppParams s2x;
    s2x.from_bare = "romeo@example.net";
    s2x.to = "juliet@example.com";
    const auto stanzas = presence::pidf_to_xmpp(doc.value(), s2x);

    presence::XmppToPidfParams x2s;
    x2s.entity = "pres:romeo@example.net";
    x2s.contact_base = "sip:romeo@example.net";
    const auto pidf = presence::xmpp_to_pidf(stanzas, x2s);
    if (!pidf.ok())
        fail("mapped stanzas refused by Table P1", dump(stanzas), pidf.status().message());
    const auto again = presence::parse_pidf(pidf.value());
    if (!again.ok()) fail("serialized PIDF does not parse", pidf.value(), again.status().message());

    // Stanzas without a resource (no usable tuple id) cannot name their tuple on the way back.
    for (const auto& s : stanzas)
        if (s.attr("from").find('/') == std::string::npos) return 0;
    const auto stanzas2 = presence::pidf_to_xmpp(again.value(), s2x);
    if (dump(stanzas) != dump(stanzas2))
        fail("Table P2 -> P1 -> P2 is not stable", dump(stanzas), dump(stanzas2));
    return 0;
}
