// SPDX-License-Identifier: Apache-2.0
#include "stanza_errors.hpp"

#include <array>
#include <string>
#include <utility>

namespace stox::plugins::im {

namespace {

using stox::sdk::kStanzaErrorNs;

// XEP-0086 §3: legacy error code -> defined condition.
std::string_view legacy_condition(std::string_view code) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 17> kTable = {{
        {"302", "redirect"},
        {"400", "bad-request"},
        {"401", "not-authorized"},
        {"402", "payment-required"},
        {"403", "forbidden"},
        {"404", "item-not-found"},
        {"405", "not-allowed"},
        {"406", "not-acceptable"},
        {"407", "registration-required"},
        {"408", "remote-server-timeout"},
        {"409", "conflict"},
        {"500", "internal-server-error"},
        {"501", "feature-not-implemented"},
        {"502", "service-unavailable"},
        {"503", "service-unavailable"},
        {"504", "remote-server-timeout"},
        {"510", "service-unavailable"},
    }};
    for (const auto& [c, cond] : kTable)
        if (c == code) return cond;
    return "undefined-condition";
}

} // namespace

bool is_stanza_content_ns(std::string_view ns) noexcept {
    return ns.empty() || ns == stox::sdk::kComponentNs || ns == "jabber:client" ||
           ns == "jabber:server";
}

stox::sdk::XmppError parse_stanza_error(const stox::sdk::Stanza& stanza) {
    stox::sdk::XmppError e;
    const stox::sdk::XmlElement* err = nullptr;
    for (const auto& c : stanza.children())
        if (!c.is_text() && c.name() == "error" && is_stanza_content_ns(c.ns())) {
            err = &c;
            break;
        }
    if (err == nullptr) {
        e.condition = "undefined-condition";
        e.type = "cancel";
        return e;
    }
    e.type = err->attr("type");
    for (const auto& c : err->children()) {
        if (c.is_text() || c.ns() != kStanzaErrorNs) continue;
        if (c.name() == "text") {
            if (e.text.empty()) e.text = c.text();
        } else if (e.condition.empty()) {
            e.condition = c.name();
            e.address = c.text();
        }
    }
    if (e.condition.empty()) e.condition = std::string(legacy_condition(err->attr("code")));
    return e;
}

stox::sdk::Stanza make_error_reply(const stox::sdk::Stanza& original,
                                   const stox::sdk::XmppError& error) {
    stox::sdk::Stanza reply = stox::sdk::make_stanza(original.name());
    if (original.has_attr("to")) reply.set_attr("from", original.attr("to"));
    if (original.has_attr("from")) reply.set_attr("to", original.attr("from"));
    if (original.has_attr("id")) reply.set_attr("id", original.attr("id"));
    reply.set_attr("type", "error");
    auto& err = reply.add_child("error");
    err.set_attr("type", error.type.empty() ? std::string("cancel") : error.type);
    auto& cond = err.add_child(error.condition.empty() ? std::string("undefined-condition")
                                                       : error.condition,
                               std::string(kStanzaErrorNs));
    if (!error.address.empty()) cond.add_text(error.address);
    if (!error.text.empty())
        err.add_child("text", std::string(kStanzaErrorNs)).add_text(error.text);
    return reply;
}

} // namespace stox::plugins::im
