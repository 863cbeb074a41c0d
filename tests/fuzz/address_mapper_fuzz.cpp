// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the RFC 7247 §6 address mapper (core/src/mapping). The input is tried
// as a URI with every role and as a JID with every scheme. Besides "no crash, no exception",
// it checks that the mapping is stable: once a URI maps to a JID J, J maps to a URI U of every
// scheme, U maps back to J (to the bare JID for im:/pres:, which carry no resource), and U is
// reproduced exactly from there. Seeds: tests/fuzz/corpus/address/.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mapping/address_mapper.hpp"

namespace {

using stox::core::AddressMapperImpl;
using stox::sdk::UriRole;
using stox::sdk::UriScheme;

constexpr UriRole kRoles[] = {UriRole::RequestUri, UriRole::To, UriRole::From, UriRole::Contact,
                              UriRole::Entity};
constexpr UriScheme kSchemes[] = {UriScheme::Sip, UriScheme::Sips, UriScheme::Im, UriScheme::Pres};

[[noreturn]] void fail(const char* what, std::string_view a, std::string_view b) {
    std::fprintf(stderr, "address_mapper_fuzz: %s\n  [%.*s]\n  [%.*s]\n", what,
                 static_cast<int>(a.size()), a.data(), static_cast<int>(b.size()), b.data());
    std::abort();
}

std::string_view bare(std::string_view jid) {
    return jid.substr(0, jid.find('/'));
}

bool keeps_resource(UriScheme s) {
    return s == UriScheme::Sip || s == UriScheme::Sips;
}

// J is a JID produced by the mapper: every scheme must map it, and the result must be stable.
void check_stable_from_jid(const AddressMapperImpl& m, const std::string& jid) {
    for (UriScheme scheme : kSchemes) {
        auto uri = m.to_uri(jid, scheme);
        if (!uri.ok()) fail("to_uri failed on a JID to_jid produced", jid, uri.status().message());
        auto back = m.to_jid(*uri, UriRole::From);
        if (!back.ok())
            fail("to_jid failed on a URI to_uri produced", *uri, back.status().message());
        const std::string_view expected =
            keeps_resource(scheme) ? std::string_view(jid) : bare(jid);
        if (*back != expected) fail("URI -> JID -> URI -> JID is not stable", jid, *back);
        auto again = m.to_uri(*back, scheme);
        if (!again.ok() || *again != *uri)
            fail("JID -> URI is not stable", *uri, again.ok() ? *again : "");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const AddressMapperImpl mapper;
    const std::string input(reinterpret_cast<const char*>(data), size);

    // As a URI, in every role.
    for (UriRole role : kRoles) {
        auto jid = mapper.to_jid(input, role);
        if (!jid.ok()) {
            if (jid.status().message().empty()) fail("error without a message", input, "");
            continue;
        }
        check_stable_from_jid(mapper, *jid);
    }

    // As a JID, with every scheme: to_uri(x) must be rejected or lead to a stable pair.
    for (UriScheme scheme : kSchemes) {
        auto uri = mapper.to_uri(input, scheme);
        if (!uri.ok()) {
            if (uri.status().message().empty()) fail("error without a message", input, "");
            continue;
        }
        auto jid = mapper.to_jid(*uri, UriRole::From);
        if (!jid.ok()) fail("to_jid failed on a URI to_uri produced", *uri, jid.status().message());
        auto again = mapper.to_uri(*jid, scheme);
        if (!again.ok() || *again != *uri)
            fail("JID -> URI is not stable", *uri, again.ok() ? *again : "");
    }
    return 0;
}
