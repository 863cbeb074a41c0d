// SPDX-License-Identifier: Apache-2.0
#include "sip_util.hpp"

#include <cctype>

namespace stox::plugins::chat {

bool is_valid_call_id(std::string_view s) {
    if (s.empty() || s.size() > 128) return false;
    // word = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" / "(" /
    //        ")" / "<" / ">" / ":" / "\" / DQUOTE / "/" / "[" / "]" / "?" / "{" / "}")
    static constexpr std::string_view kExtra = "-.!%*_+`'~()<>:\\\"/[]?{}";
    std::size_t ats = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '@') {
            if (++ats > 1 || i == 0 || i + 1 == s.size()) return false;
            continue;
        }
        if (std::isalnum(static_cast<unsigned char>(c)) == 0 &&
            kExtra.find(c) == std::string_view::npos)
            return false;
    }
    return true;
}

sdk::SipRequest in_dialog_request(Dialog& dialog, std::string method, std::uint32_t cseq) {
    sdk::SipRequest r;
    r.method = std::move(method);
    r.request_uri = dialog.remote_target.empty() ? dialog.remote_uri : dialog.remote_target;
    if (r.request_uri.find('<') != std::string::npos)
        if (auto na = parse_name_addr(r.request_uri)) r.request_uri = na->uri;
    r.set_header("From", format_name_addr(dialog.local_uri, dialog.local_tag));
    r.set_header("To", format_name_addr(dialog.remote_uri, dialog.remote_tag));
    r.set_header("Call-ID", dialog.call_id);
    const std::uint32_t n = cseq != 0 ? cseq : ++dialog.local_cseq;
    r.set_header("CSeq", std::to_string(n) + " " + r.method);
    for (const auto& route : dialog.route_set) r.add_header("Route", route);
    r.set_header("Max-Forwards", "70");
    return r;
}

} // namespace stox::plugins::chat
