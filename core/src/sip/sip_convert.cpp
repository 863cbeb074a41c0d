// SPDX-License-Identifier: Apache-2.0
#include "sip/sip_convert.hpp"

#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/url.h>

#include <vector>

namespace stox::core::sip {
namespace {

std::string encode_field(const msg_header_t* h) {
    // Most headers fit in 256 bytes; retry with the exact size otherwise.
    char small[256];
    issize_t n = msg_header_field_e(small, sizeof small, h, 0);
    if (n < 0) return {};
    if (static_cast<std::size_t>(n) < sizeof small)
        return std::string(small, static_cast<std::size_t>(n));
    std::vector<char> big(static_cast<std::size_t>(n) + 1);
    n = msg_header_field_e(big.data(), static_cast<isize_t>(big.size()), h, 0);
    return n < 0 ? std::string{} : std::string(big.data(), static_cast<std::size_t>(n));
}

std::string url_to_string(const url_t* url) {
    if (!url) return {};
    issize_t n = url_e(nullptr, 0, url);
    if (n <= 0) return {};
    std::string out(static_cast<std::size_t>(n) + 1, '\0');
    url_e(out.data(), static_cast<isize_t>(out.size()), url);
    out.resize(static_cast<std::size_t>(n));
    return out;
}

void copy_headers(const sip_t* sip, sdk::SipMessage& out) {
    const msg_header_t* first = sip->sip_request
                                    ? reinterpret_cast<const msg_header_t*>(sip->sip_request)
                                    : reinterpret_cast<const msg_header_t*>(sip->sip_status);
    for (const msg_header_t* h = first; h; h = h->sh_succ) {
        const msg_hclass_t* hc = h->sh_class;
        if (hc == sip_request_class || hc == sip_status_class || hc == sip_separator_class ||
            hc == sip_payload_class || hc == sip_error_class)
            continue;
        if (hc == sip_unknown_class) {
            const sip_unknown_t* u = reinterpret_cast<const sip_unknown_t*>(h);
            if (u->un_name) out.headers.push_back({u->un_name, u->un_value ? u->un_value : ""});
            continue;
        }
        if (!hc->hc_name) continue;
        out.headers.push_back({hc->hc_name, encode_field(h)});
    }
    if (sip->sip_payload && sip->sip_payload->pl_data)
        out.body.assign(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
}

} // namespace

sdk::SipRequest to_sdk_request(const sip_t* sip) {
    sdk::SipRequest r;
    if (sip->sip_request) {
        r.method = sip->sip_request->rq_method_name ? sip->sip_request->rq_method_name : "";
        r.request_uri = url_to_string(sip->sip_request->rq_url);
    }
    copy_headers(sip, r);
    return r;
}

sdk::SipResponse to_sdk_response(const sip_t* sip) {
    sdk::SipResponse r;
    if (sip->sip_status) {
        r.status = sip->sip_status->st_status;
        r.reason = sip->sip_status->st_phrase ? sip->sip_status->st_phrase : "";
    }
    copy_headers(sip, r);
    return r;
}

std::string headers_to_string(const sdk::SipMessage& message,
                              std::initializer_list<std::string_view> except) {
    std::string out;
    for (const auto& h : message.headers) {
        bool skip = false;
        for (auto e : except) skip = skip || sdk::SipMessage::iequals(h.name, e);
        if (skip) continue;
        // CR/LF inside a value would inject headers: refuse them by folding into spaces.
        out += h.name;
        out += ": ";
        for (char c : h.value) out += (c == '\r' || c == '\n') ? ' ' : c;
        out += "\r\n";
    }
    return out;
}

} // namespace stox::core::sip
