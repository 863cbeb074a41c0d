// SPDX-License-Identifier: Apache-2.0
#include "x2s.hpp"

#include <utility>

#include "date_time.hpp"
#include "s2x.hpp"
#include "sip_syntax.hpp"
#include "stanza_errors.hpp"
#include "stox/sdk/format.hpp"
#include "text.hpp"
#include "thread_codec.hpp"

namespace stox::plugins::im {

namespace {

using stox::sdk::ErrorCode;
using stox::sdk::Status;
using stox::sdk::XmlElement;

/// "CSeq: 2147483647 MESSAGE": the widest a CSeq gets (RFC 3261 §8.1.1.5: < 2**31).
constexpr std::size_t kWidestCSeqNumber = 10;

} // namespace

const XmlElement* choose_by_language(const stox::sdk::Stanza& message, std::string_view name,
                                     std::string& lang) {
    const std::string stanza_lang = message.attr("xml:lang");
    const XmlElement* first = nullptr;
    const XmlElement* first_unlabelled = nullptr;
    for (const auto& c : message.children()) {
        if (c.is_text() || c.name() != name || !is_stanza_content_ns(c.ns())) continue;
        const bool labelled = c.has_attr("xml:lang");
        const std::string effective = labelled ? c.attr("xml:lang") : stanza_lang;
        if (effective == stanza_lang) {
            lang = effective;
            return &c;
        }
        if (first == nullptr) first = &c;
        if (!labelled && first_unlabelled == nullptr) first_unlabelled = &c;
    }
    const XmlElement* chosen = first_unlabelled != nullptr ? first_unlabelled : first;
    if (chosen != nullptr)
        lang = chosen->has_attr("xml:lang") ? chosen->attr("xml:lang") : stanza_lang;
    return chosen;
}

std::size_t estimate_wire_size(const stox::sdk::SipRequest& request) {
    // "MESSAGE <uri> SIP/2.0\r\n"
    std::size_t n = request.method.size() + 1 + request.request_uri.size() + 10;
    for (const auto& h : request.headers) {
        if (stox::sdk::SipMessage::iequals(h.name, "Content-Length") ||
            stox::sdk::SipMessage::iequals(h.name, "Via"))
            continue; // counted below
        std::size_t value = h.value.size();
        if (stox::sdk::SipMessage::iequals(h.name, "CSeq")) {
            const std::size_t sp = h.value.find(' ');
            if (sp < kWidestCSeqNumber) value += kWidestCSeqNumber - sp; // npos never is
        }
        n += h.name.size() + 2 + value + 2; // "Name: value\r\n"
    }
    n += std::string_view("Content-Length: ").size() + std::to_string(request.body.size()).size() +
         2;
    n += 2; // empty line
    n += request.body.size();
    return n + kStackHeaderAllowance;
}

X2sResult translate_x2s(const stox::sdk::Stanza& message, const X2sContext& ctx) {
    // Table M1 <body/>: A-31 language choice; no body -> no MESSAGE (TV-IM-23).
    std::string lang;
    const XmlElement* body = choose_by_language(message, "body", lang);
    if (body == nullptr || body->text().empty()) return X2sNoBody{};

    // Table M1 to -> Request-URI and To (full JID -> ;gr=, TV-IM-25).
    auto to = ctx.addresses.to_uri(message.attr("to"), stox::sdk::UriScheme::Sip);
    if (!to) return X2sReject{Status(to.status().code(), "to: " + to.status().message())};
    // IM-6: bare JID in From, resource as gr.
    auto from = ctx.addresses.to_uri(message.attr("from"), stox::sdk::UriScheme::Sip);
    if (!from) return X2sReject{Status(from.status().code(), "from: " + from.status().message())};

    stox::sdk::SipRequest r;
    r.method = "MESSAGE";
    r.request_uri = *to;
    r.add_header("Max-Forwards", "70");
    r.add_header("To", "<" + *to + ">"); // no tag: outside a dialog
    r.add_header("From", "<" + *from + ">;tag=" + ctx.from_tag);
    // <thread/> -> Call-ID (TV-IM-03/04); no thread -> a fresh Call-ID.
    const std::string thread = message.child_text("thread");
    r.add_header("Call-ID", thread.empty() ? ctx.fresh_call_id : thread_to_call_id(thread));
    r.add_header("CSeq", "1 MESSAGE");
    std::string subject_lang;
    if (const XmlElement* subject = choose_by_language(message, "subject", subject_lang)) {
        std::string s = fold_to_header_text(subject->text());
        if (!s.empty()) r.add_header("Subject", std::move(s));
    }
    // XEP-0203 <delay/> -> Date; only when present, never from the local clock.
    for (const auto& c : message.children()) {
        if (c.is_text() || c.name() != "delay" || c.ns() != kDelayNs) continue;
        if (auto stamp = parse_xep0082(c.attr("stamp")))
            r.add_header("Date", format_rfc1123(*stamp));
        break;
    }
    r.add_header("Content-Type", "text/plain;charset=UTF-8");
    if (!lang.empty() && is_language_tag(lang)) r.add_header("Content-Language", lang); // IM-19
    r.body = body->text();

    X2sRequest out;
    out.estimated_size = estimate_wire_size(r);
    if (out.estimated_size > ctx.config.max_sip_message_bytes) // IM-14, TV-IM-10
        return X2sReject{
            Status(ErrorCode::TooLarge,
                   stox::sdk::format("the SIP MESSAGE would be about {} bytes; the "
                                     "limit is {} (RFC 3428 section 8)",
                                     out.estimated_size, ctx.config.max_sip_message_bytes))};
    out.request = std::move(r);
    return out;
}

} // namespace stox::plugins::im
