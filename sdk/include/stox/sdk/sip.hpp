// SPDX-License-Identifier: Apache-2.0
/// \file sip.hpp
/// SIP side of the gateway as plugins see it, as SDK-owned value types (no sofia-sip types).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stox/sdk/status.hpp"
#include "stox/sdk/text.hpp"

namespace stox::sdk {

struct SipHeader {
    std::string name; ///< canonical long form ("Content-Type", not "c")
    std::string value;
};

/// Headers and body shared by requests and responses.
struct SipMessage {
    std::vector<SipHeader> headers;
    std::string body;

    /// First value of a header (case-insensitive name), or "".
    [[nodiscard]] std::string header(std::string_view name) const {
        for (const auto& h : headers)
            if (iequals(h.name, name)) return h.value;
        return {};
    }
    [[nodiscard]] bool has_header(std::string_view name) const {
        for (const auto& h : headers)
            if (iequals(h.name, name)) return true;
        return false;
    }
    /// All values of a header, in order.
    [[nodiscard]] std::vector<std::string> header_values(std::string_view name) const {
        std::vector<std::string> out;
        for (const auto& h : headers)
            if (iequals(h.name, name)) out.push_back(h.value);
        return out;
    }
    SipMessage& set_header(std::string name, std::string value) {
        for (auto& h : headers)
            if (iequals(h.name, name)) {
                h.value = std::move(value);
                return *this;
            }
        headers.push_back({std::move(name), std::move(value)});
        return *this;
    }
    SipMessage& add_header(std::string name, std::string value) {
        headers.push_back({std::move(name), std::move(value)});
        return *this;
    }

    static bool iequals(std::string_view a, std::string_view b) { return ascii_iequals(a, b); }
};

struct SipRequest : SipMessage {
    std::string method;      ///< "MESSAGE"
    std::string request_uri; ///< "sip:juliet@example.com"
};

/// A response. Via, From, Call-ID and CSeq are copied from the request by the stack. A `To`
/// header set by the plugin is not sent as written: only its `tag` parameter is used, as the
/// To tag of a response that creates a dialog (RFC 3261 §12.1.1, SDK ABI 1.1); without one the
/// stack adds a tag of its own to every final response (§8.2.6.2).
struct SipResponse : SipMessage {
    int status = 0;     ///< 100..699
    std::string reason; ///< Reason-Phrase
};

/// One incoming SIP request awaiting its answer. Exactly one final response is sent: the
/// first respond() with status >= 200 wins, later ones are ignored and logged. If the last
/// reference goes away unanswered, the core answers 500 and logs an error (never silence).
/// Thread context: respond() is safe from any thread; the request is immutable.
class SipServerTransaction {
public:
    virtual ~SipServerTransaction() = default;
    [[nodiscard]] virtual const SipRequest& request() const noexcept = 0;
    virtual void respond(SipResponse response) noexcept = 0;
    [[nodiscard]] virtual bool answered() const noexcept = 0;
};

/// Called on the plugin's strand with a request routed to this plugin by its claims.
using SipRequestHandler = std::function<void(std::shared_ptr<SipServerTransaction>)>;

/// Final response to a request the plugin sent. Transport failures and timeouts arrive as
/// responses synthesized by the stack (408, 503), as RFC 3261 §8.1.3.1 describes.
/// Runs on the sending plugin's strand.
using SipResponseHandler = std::function<void(const SipResponse&)>;

class SipService {
public:
    virtual ~SipService() = default;
    /// Sends a request statefully (one client transaction). The plugin writes the headers that
    /// make it belong to a dialog (From/To tags, Call-ID, CSeq, Route, the remote target as
    /// Request-URI, RFC 3261 §12.2.1.1); the stack adds Via and, when missing, Call-ID, CSeq,
    /// Max-Forwards and User-Agent. Provisional responses are not reported. An ACK for a 2xx
    /// (RFC 3261 §13.2.2.4) has no response: `on_final` runs with 200 once it is handed to the
    /// transport, or with the failure.
    virtual void send_request(SipRequest request, SipResponseHandler on_final) noexcept = 0;
    /// SIP domains the gateway represents ("example.net").
    [[nodiscard]] virtual std::vector<std::string> domains() const = 0;
};

/// SDK ABI 1.1: what a plugin needs, besides send_request(), to create or accept dialogs
/// (SUBSCRIBE/NOTIFY, INVITE). Reach it with sip_dialog_support(ctx) (stox/sdk/context.hpp);
/// nullptr on a gateway older than ABI 1.1. Thread context: any thread.
class SipDialogSupport {
public:
    virtual ~SipDialogSupport() = default;
    /// A Contact URI that routes back to the gateway (RFC 3261 §8.1.1.8, §12.1.1), with `user`
    /// (escaped by the core) as user part: "sip:juliet@192.0.2.7:5060". The host is
    /// `sip.contact_host` when configured, otherwise the first listen address.
    [[nodiscard]] virtual std::string contact_uri(std::string_view user) const = 0;
};

/// Name under which the core offers SipDialogSupport.
inline constexpr std::string_view kSipDialogSupportInterface = "sip.dialog-support/1";

} // namespace stox::sdk
