// SPDX-License-Identifier: Apache-2.0
#include "mapping/error_mapper.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

#include <unistr.h>

#include "mapping/address_codec.hpp"
#include "mapping/address_mapper.hpp"

#include "stox/sdk/text.hpp"

namespace stox::core {
namespace {

using sdk::ErrorCode;
using sdk::SipError;
using sdk::Status;
using sdk::TargetKind;
using sdk::UriRole;
using sdk::UriScheme;
using sdk::XmppError;

std::string_view trim(std::string_view s) noexcept {
    constexpr std::string_view kWs = " \t\r\n";
    const std::size_t b = s.find_first_not_of(kWs);
    if (b == std::string_view::npos) return {};
    const std::size_t e = s.find_last_not_of(kWs);
    return s.substr(b, e - b + 1);
}

struct ConditionInfo {
    std::string_view name;
    std::string_view type; // RFC 6120 §8.3.3 "associated error type SHOULD be"
};

// The 22 RFC 6120 §8.3.3 conditions and legacy payment-required (RFC 3920 §9.3.3).
constexpr std::array<ConditionInfo, 23> kConditions{{
    {"bad-request", "modify"},
    {"conflict", "cancel"},
    {"feature-not-implemented", "cancel"},
    {"forbidden", "auth"},
    {"gone", "cancel"},
    {"internal-server-error", "cancel"},
    {"item-not-found", "cancel"},
    {"jid-malformed", "modify"},
    {"not-acceptable", "modify"},
    {"not-allowed", "cancel"},
    {"not-authorized", "auth"},
    {"policy-violation", "modify"},
    {"recipient-unavailable", "wait"},
    {"redirect", "modify"},
    {"registration-required", "auth"},
    {"remote-server-not-found", "cancel"},
    {"remote-server-timeout", "wait"},
    {"resource-constraint", "wait"},
    {"service-unavailable", "cancel"},
    {"subscription-required", "auth"},
    {"undefined-condition", "cancel"}, // any type allowed; cancel is our choice
    {"unexpected-request", "wait"},    // "wait" or "modify"; wait matches E2's 491
    {"payment-required", "auth"},      // RFC 3920 legacy
}};

const AddressMapperImpl& address_mapper() noexcept {
    static const AddressMapperImpl mapper;
    return mapper;
}

bool starts_with_scheme(std::string_view s, std::string_view& scheme) noexcept {
    const std::size_t colon = s.find(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    for (std::size_t i = 0; i < colon; ++i) {
        const char ch = s[i];
        const bool alpha = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
        const bool other = (ch >= '0' && ch <= '9') || ch == '+' || ch == '-' || ch == '.';
        if (!(alpha || (i > 0 && other))) return false;
    }
    scheme = s.substr(0, colon);
    return true;
}

// <gone/>/<redirect/> character data (RFC 6120 §8.3.3.5/14: a URI or IRI) -> "<sip:...>".
// xmpp: IRIs and bare JIDs go through RFC 7247 §6.5; sip/sips/im/pres URIs are checked with
// §6.4 and copied as they are (stox-core.md Table E1, gone row).
sdk::Result<std::string> address_to_contact(std::string_view chardata) {
    const std::string_view addr = trim(chardata);
    if (addr.empty()) return Status{ErrorCode::BadRequest, "no address"};
    std::string_view scheme;
    if (!starts_with_scheme(addr, scheme)) {
        auto uri = address_mapper().to_uri(addr, UriScheme::Sip); // a plain JID
        if (!uri) return uri.status();
        return "<" + *uri + ">";
    }
    if (sdk::ascii_iequals(scheme, "xmpp")) {
        auto jid = codec::xmpp_iri_to_jid(addr);
        if (!jid) return jid.status();
        auto uri = address_mapper().to_uri(*jid, UriScheme::Sip);
        if (!uri) return uri.status();
        return "<" + *uri + ">";
    }
    UriScheme parsed{};
    if (!parse_uri_scheme(scheme, parsed))
        return Status{ErrorCode::UnsupportedScheme, "address scheme cannot be used"};
    auto check = address_mapper().to_jid(addr, UriRole::Contact);
    if (!check) return check.status();
    if (addr.find_first_of("<>\"") != std::string_view::npos)
        return Status{ErrorCode::BadRequest, "address cannot be placed in a Contact header"};
    return "<" + std::string(addr) + ">";
}

// The URI of the first Contact header value: name-addr ("Romeo" <sip:...>;q=1) or addr-spec
// (whose ';' ',' '?' would be enclosed in <> per RFC 3261 §20, so they end the URI here).
std::string_view contact_uri(std::string_view contact) noexcept {
    contact = trim(contact);
    if (const std::size_t lt = contact.find('<'); lt != std::string_view::npos) {
        const std::size_t gt = contact.find('>', lt + 1);
        if (gt == std::string_view::npos) return {};
        return trim(contact.substr(lt + 1, gt - lt - 1));
    }
    return trim(contact.substr(0, contact.find_first_of(";,?")));
}

// 3xx Contact -> "xmpp:" IRI of the JID it maps to (RFC 7247 §6.4, RFC 5122).
sdk::Result<std::string> contact_to_iri(std::string_view contact) {
    const std::string_view uri = contact_uri(contact);
    if (uri.empty()) return Status{ErrorCode::BadRequest, "no Contact URI"};
    auto jid = address_mapper().to_jid(uri, UriRole::Contact);
    if (!jid) return jid.status();
    auto parts = codec::split_jid(*jid);
    if (!parts) return parts.status();
    return codec::jid_to_xmpp_iri(parts->local, parts->domain, parts->resource,
                                  parts->has_resource);
}

// Table E2 rows (RFC 7247 §7.2); codes not listed fall back by class.
std::string_view e2_condition(int status) noexcept {
    switch (status) {
    case 300: return "redirect";
    case 301: return "gone";
    case 302: return "redirect";
    case 305: return "redirect";
    case 380: return "not-acceptable";
    case 400: return "bad-request";
    case 401: return "not-authorized";
    case 402: return "bad-request";
    case 403: return "forbidden";
    case 404: return "item-not-found";
    case 405: return "feature-not-implemented";
    case 406: return "not-acceptable";
    case 407: return "registration-required";
    case 408: return "remote-server-timeout";
    case 410: return "gone";
    case 413: return "policy-violation";
    case 414: return "policy-violation";
    case 415: return "not-acceptable";
    case 416: return "not-acceptable";
    case 420: return "feature-not-implemented";
    case 421: return "not-acceptable";
    case 423: return "resource-constraint";
    case 430: return "recipient-unavailable";
    case 439: return "feature-not-implemented";
    case 440: return "policy-violation";
    case 480: return "recipient-unavailable";
    case 481: return "item-not-found";
    case 482: return "not-acceptable";
    case 483: return "not-acceptable";
    case 484: return "item-not-found";
    case 485: return "item-not-found";
    case 486: return "recipient-unavailable";
    case 487: return "recipient-unavailable";
    case 488: return "not-acceptable";
    case 489: return "policy-violation";
    case 491: return "unexpected-request";
    case 493: return "bad-request";
    case 500: return "internal-server-error";
    case 501: return "feature-not-implemented";
    case 502: return "remote-server-not-found";
    case 503: return "internal-server-error"; // deliberately not service-unavailable (n9)
    case 504: return "remote-server-timeout";
    case 505: return "not-acceptable";
    case 513: return "policy-violation";
    case 600: return "recipient-unavailable";
    case 603: return "recipient-unavailable";
    case 604: return "item-not-found";
    case 606: return "not-acceptable";
    default: break;
    }
    // CORE-ERR-8 class defaults; A-14: outside 300..699 -> internal-server-error.
    if (status >= 300 && status <= 399) return "redirect";
    if (status >= 400 && status <= 499) return "bad-request";
    if (status >= 600 && status <= 699) return "recipient-unavailable";
    return "internal-server-error";
}

XmppError make_xmpp_error(std::string_view condition, std::string_view text) {
    XmppError e;
    e.condition = std::string(condition);
    e.type = std::string(default_error_type(condition));
    e.text = sanitize_text(text, kMaxErrorText);
    return e;
}

SipError make_sip_error(int status, std::string_view reason) {
    SipError s;
    s.status = status;
    s.reason = reason.empty() ? std::string(sip_reason_phrase(status)) : std::string(reason);
    return s;
}

// Appends the UTF-8 encoding of a code point (valid by construction).
void append_utf8(std::string& out, ucs4_t cp) {
    std::array<std::uint8_t, 6> buf{};
    const int n = u8_uctomb(buf.data(), cp, buf.size());
    if (n > 0) out.append(reinterpret_cast<const char*>(buf.data()), static_cast<std::size_t>(n));
}

} // namespace

bool is_known_condition(std::string_view condition) noexcept {
    for (const ConditionInfo& c : kConditions) {
        if (c.name == condition) return true;
    }
    return false;
}

std::string_view default_error_type(std::string_view condition) noexcept {
    for (const ConditionInfo& c : kConditions) {
        if (c.name == condition) return c.type;
    }
    return "cancel";
}

std::string_view sip_reason_phrase(int code) noexcept {
    switch (code) {
    case 100: return "Trying";
    case 180: return "Ringing";
    case 181: return "Call Is Being Forwarded";
    case 182: return "Queued";
    case 183: return "Session Progress";
    case 199: return "Early Dialog Terminated";
    case 200: return "OK";
    case 202: return "Accepted";
    case 204: return "No Notification";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Moved Temporarily";
    case 305: return "Use Proxy";
    case 380: return "Alternative Service";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 410: return "Gone";
    case 412: return "Conditional Request Failed";
    case 413: return "Request Entity Too Large";
    case 414: return "Request-URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Unsupported URI Scheme";
    case 417: return "Unknown Resource-Priority";
    case 420: return "Bad Extension";
    case 421: return "Extension Required";
    case 422: return "Session Interval Too Small";
    case 423: return "Interval Too Brief";
    case 424: return "Bad Location Information";
    case 425: return "Bad Alert Message";
    case 428: return "Use Identity Header";
    case 429: return "Provide Referrer Identity";
    case 430: return "Flow Failed";
    case 433: return "Anonymity Disallowed";
    case 436: return "Bad Identity Info";
    case 437: return "Unsupported Credential";
    case 438: return "Invalid Identity Header";
    case 439: return "First Hop Lacks Outbound Support";
    case 440: return "Max-Breadth Exceeded";
    case 469: return "Bad Info Package";
    case 470: return "Consent Needed";
    case 480: return "Temporarily Unavailable";
    case 481: return "Call/Transaction Does Not Exist";
    case 482: return "Loop Detected";
    case 483: return "Too Many Hops";
    case 484: return "Address Incomplete";
    case 485: return "Ambiguous";
    case 486: return "Busy Here";
    case 487: return "Request Terminated";
    case 488: return "Not Acceptable Here";
    case 489: return "Bad Event";
    case 491: return "Request Pending";
    case 493: return "Undecipherable";
    case 494: return "Security Agreement Required";
    case 500: return "Server Internal Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Server Time-out";
    case 505: return "Version Not Supported";
    case 513: return "Message Too Large";
    case 555: return "Push Notification Service Not Supported";
    case 580: return "Precondition Failure";
    case 600: return "Busy Everywhere";
    case 603: return "Decline";
    case 604: return "Does Not Exist Anywhere";
    case 606: return "Not Acceptable";
    case 607: return "Unwanted";
    case 608: return "Rejected";
    default: break;
    }
    if (code >= 100 && code <= 199) return "Provisional";
    if (code >= 200 && code <= 299) return "Success";
    if (code >= 300 && code <= 399) return "Redirection";
    if (code >= 400 && code <= 499) return "Request Failure";
    if (code >= 500 && code <= 599) return "Server Failure";
    if (code >= 600 && code <= 699) return "Global Failure";
    return "";
}

std::string sanitize_text(std::string_view text, std::size_t max_octets) {
    std::string out;
    out.reserve(std::min(text.size(), max_octets));
    const auto* p = reinterpret_cast<const std::uint8_t*>(text.data());
    std::size_t left = text.size();
    bool pending_space = false;
    while (left > 0) {
        ucs4_t cp = 0;
        const int n = u8_mbtoucr(&cp, p, left);
        if (n <= 0) { // invalid or truncated sequence: drop one octet
            ++p;
            --left;
            continue;
        }
        p += n;
        left -= static_cast<std::size_t>(n);
        if (cp == ' ' || cp == '\t' || cp == '\r' || cp == '\n') {
            pending_space = !out.empty();
            continue;
        }
        if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0xFFFE || cp == 0xFFFF)
            continue;
        const std::size_t need = static_cast<std::size_t>(n) + (pending_space ? 1 : 0);
        if (out.size() + need > max_octets) break; // cap without cutting a UTF-8 sequence
        if (pending_space) out.push_back(' ');
        pending_space = false;
        append_utf8(out, cp);
    }
    return out;
}

std::string_view normalize_condition(std::string_view s) noexcept {
    s = trim(s);
    if (!s.empty() && s.front() == '<') s.remove_prefix(1);
    const std::size_t end = s.find_first_of(" \t\r\n/>");
    return s.substr(0, end);
}

bool parse_target_kind(std::string_view s, sdk::TargetKind& out) noexcept {
    if (sdk::ascii_iequals(s, "bare")) {
        out = TargetKind::Bare;
    } else if (sdk::ascii_iequals(s, "full")) {
        out = TargetKind::Full;
    } else {
        return false;
    }
    return true;
}

sdk::TargetKind target_kind_of(std::string_view jid) noexcept {
    return jid.find('/') != std::string_view::npos ? TargetKind::Full : TargetKind::Bare;
}

XmppError ErrorMapperImpl::sip_to_xmpp(int status, std::string_view reason,
                                       std::string_view contact) const {
    // CORE-ERR-10: 1xx and 2xx are not errors.
    if (status >= 100 && status <= 299) return XmppError{};
    const std::string_view condition = e2_condition(status);
    XmppError e = make_xmpp_error(condition, reason); // CORE-ERR-11: Reason-Phrase -> <text/>
    const bool redirection = status >= 300 && status <= 399;
    if (status == 301) {
        // CORE-ERR-9: <gone/> MUST carry the new address; without a usable Contact there is
        // none, so the response is a plain redirect (stox-core.md Table E2, 301 row).
        auto iri = contact_to_iri(contact);
        if (iri) {
            e.address = std::move(iri).value();
        } else {
            e.condition = "redirect";
            e.type = std::string(default_error_type("redirect"));
        }
    } else if (redirection && condition == "redirect") {
        // [CHOICE] 302 and other redirects carry the Contact as the alternate address.
        if (auto iri = contact_to_iri(contact)) e.address = std::move(iri).value();
    }
    // 410 -> <gone/> and every non-3xx code carry no address (CORE-ERR-9).
    return e;
}

SipError ErrorMapperImpl::xmpp_to_sip(const sdk::XmppError& error,
                                      const sdk::XmppToSipContext& context) const {
    const std::string_view cond = normalize_condition(error.condition);
    const bool full = context.target == TargetKind::Full;
    // CORE-ERR-11: <text/> -> Reason-Phrase, made safe for a status line.
    const std::string text = sanitize_text(error.text, kMaxReasonPhrase);
    auto make = [&](int code, std::string_view fixed_reason = {}) {
        return make_sip_error(code, !text.empty() ? std::string_view(text) : fixed_reason);
    };

    if (cond == "feature-not-implemented") { // CORE-ERR-2
        if (!full) return make(501);
        SipError s = make(405);
        s.allow = std::string(kGatewayAllow); // RFC 3261 §21.4.6: a 405 MUST carry Allow
        return s;
    }
    if (cond == "forbidden") return make(full ? 403 : 603);             // CORE-ERR-3
    if (cond == "item-not-found") return make(full ? 404 : 604);        // CORE-ERR-3
    if (cond == "not-acceptable") return make(full ? 406 : 606);        // CORE-ERR-3
    if (cond == "recipient-unavailable") return make(full ? 480 : 600); // CORE-ERR-3
    if (cond == "gone") {
        // CORE-ERR-4: 301 with the new address in Contact; no (usable) address -> 410.
        if (auto c = address_to_contact(error.address)) {
            SipError s = make(301);
            s.contact = std::move(c).value();
            return s;
        }
        return make(410);
    }
    if (cond == "redirect") {
        SipError s = make(302);
        if (auto c = address_to_contact(error.address)) s.contact = std::move(c).value();
        return s;
    }
    if (cond == "remote-server-not-found") // CORE-ERR-5, A-11
        return make(context.remote_server_exists ? 408 : 404);
    if (cond == "remote-server-timeout") return make(408);
    if (cond == "internal-server-error" || cond == "resource-constraint") return make(500);
    if (cond == "not-allowed" || cond == "policy-violation") return make(403);
    // CORE-ERR-6, A-10: never 503, which would block the whole gateway for every user.
    if (cond == "service-unavailable") return make(403);
    // 401/407 require a challenge the gateway cannot give.
    if (cond == "not-authorized") return make(403, "Not Authorized");
    if (cond == "registration-required") return make(403, "Registration Required");
    if (cond == "unexpected-request") {
        const bool overlap = context.method == "SUBSCRIBE" || context.method == "INVITE" ||
                             context.method == "UPDATE";
        return make(overlap ? 491 : 400);
    }
    // bad-request, conflict, jid-malformed, subscription-required, undefined-condition,
    // legacy payment-required and every unknown condition: 400.
    return make(400);
}

XmppError ErrorMapperImpl::xmpp_for(const sdk::Status& status) const {
    std::string_view condition;
    switch (status.code()) {
    case ErrorCode::Ok: return XmppError{};
    case ErrorCode::BadRequest: condition = "bad-request"; break;
    case ErrorCode::UnsupportedScheme: condition = "jid-malformed"; break;
    case ErrorCode::SecureOnly: condition = "not-acceptable"; break;
    case ErrorCode::ItemNotFound: condition = "item-not-found"; break;
    case ErrorCode::Forbidden: condition = "forbidden"; break;
    case ErrorCode::NotAuthorized: condition = "not-authorized"; break;
    case ErrorCode::ServiceUnavailable: condition = "service-unavailable"; break;
    case ErrorCode::Timeout: condition = "remote-server-timeout"; break;
    case ErrorCode::Unsupported: condition = "feature-not-implemented"; break;
    case ErrorCode::Internal: condition = "internal-server-error"; break;
    case ErrorCode::Overloaded: condition = "resource-constraint"; break;
    case ErrorCode::TooLarge: condition = "policy-violation"; break;
    case ErrorCode::InvalidConfig: condition = "internal-server-error"; break;
    case ErrorCode::Declined: condition = "service-unavailable"; break;
    case ErrorCode::Unreachable: condition = "remote-server-not-found"; break;
    case ErrorCode::Cancelled: condition = "recipient-unavailable"; break;
    }
    if (condition.empty()) condition = "undefined-condition"; // a value outside the enum
    return make_xmpp_error(condition, status.message());
}

SipError ErrorMapperImpl::sip_for(const sdk::Status& status) const {
    // The Reason-Phrase is always a fixed phrase: Status messages are for logs and <text/>, and
    // may name internal hosts (docs/decisions/mapping.md).
    switch (status.code()) {
    case ErrorCode::Ok: return make_sip_error(200, {});
    case ErrorCode::BadRequest: return make_sip_error(400, {});
    case ErrorCode::UnsupportedScheme: return make_sip_error(416, {});
    // RFC 5630: 480 plus "Warning: 380 SIPS Not Allowed", added by the SIP endpoint.
    case ErrorCode::SecureOnly: return make_sip_error(480, "SIPS Not Allowed");
    case ErrorCode::ItemNotFound: return make_sip_error(404, {});
    case ErrorCode::Forbidden: return make_sip_error(403, {});
    case ErrorCode::NotAuthorized: return make_sip_error(403, "Not Authorized");
    case ErrorCode::ServiceUnavailable: return make_sip_error(403, {});
    case ErrorCode::Timeout: return make_sip_error(408, {});
    case ErrorCode::Unsupported: return make_sip_error(501, {});
    case ErrorCode::Internal: return make_sip_error(500, {});
    // The gateway itself is overloaded: here 503 is the right signal (RFC 3261 §21.5.4).
    case ErrorCode::Overloaded: return make_sip_error(503, {});
    case ErrorCode::TooLarge: return make_sip_error(413, {});
    case ErrorCode::InvalidConfig: return make_sip_error(500, {});
    case ErrorCode::Declined: return make_sip_error(501, {});
    case ErrorCode::Unreachable: return make_sip_error(408, {}); // could not reach
    case ErrorCode::Cancelled: return make_sip_error(487, {});
    }
    return make_sip_error(500, {});
}

} // namespace stox::core
