// SPDX-License-Identifier: Apache-2.0
#include "s2x.hpp"

#include <algorithm>
#include <optional>
#include <utility>

#include "date_time.hpp"
#include "html.hpp"
#include "mime.hpp"
#include "sip_syntax.hpp"
#include "stanza_errors.hpp"
#include "stox/sdk/format.hpp"
#include "text.hpp"
#include "thread_codec.hpp"

namespace stox::plugins::im {

namespace {

using stox::sdk::ErrorCode;
using stox::sdk::SipResponse;
using stox::sdk::Status;
using stox::sdk::UriRole;

S2xReject reject(SipResponse r, std::string why) {
    return S2xReject{std::move(r), std::move(why)};
}

SipResponse plain_response(int status, std::string reason) {
    SipResponse r;
    r.status = status;
    r.reason = std::move(reason);
    return r;
}

/// 415 with the Accept header RFC 3428 Table 1 makes mandatory.
SipResponse unsupported_media() {
    SipResponse r = plain_response(415, "Unsupported Media Type");
    r.set_header("Accept", std::string(kAcceptedTypes));
    return r;
}

/// What the body yielded.
struct Content {
    std::string body;
    std::optional<stox::sdk::XmlElement> xhtml;
    std::optional<ComposingState> chat_state;
    std::string subject;
    std::optional<SysSeconds> sent_at; // CPIM DateTime
    std::string lang;                  // Content-Language of the part carrying the text
    std::size_t stripped = 0;
    std::size_t html_removed = 0;
};

using Decoded = std::variant<Content, S2xReject>;

/// Charset -> UTF-8 with only XML characters (IM-REF-8: text/* defaults to UTF-8).
std::variant<std::string, S2xReject> decode_text(const MediaType& mt, std::string_view raw,
                                                 const ImConfig& cfg, std::size_t& stripped) {
    const std::string charset = ascii_lower(mt.param("charset").value_or("utf-8"));
    std::string text;
    if (charset == "utf-8" || charset == "utf8" || charset == "us-ascii" || charset == "ascii") {
        if (!is_valid_utf8(raw))
            return reject(plain_response(400, "Body Is Not Valid UTF-8"),
                          "body is not valid UTF-8 (charset " + charset + ")");
        text = std::string(raw);
    } else if (charset == "iso-8859-1" || charset == "latin1" || charset == "iso_8859-1" ||
               charset == "l1") {
        text = latin1_to_utf8(raw);
    } else {
        return reject(unsupported_media(), "unsupported charset " + charset);
    }
    const std::size_t bad = count_non_xml_chars(text);
    if (bad > 0) {
        if (cfg.non_xml_chars == NonXmlChars::Reject)
            return reject(plain_response(400, "Body Contains Characters Not Allowed In XML"),
                          stox::sdk::format("{} characters not allowed in XML 1.0", bad));
        stripped += strip_non_xml_chars(text);
    }
    return text;
}

bool transfer_encoding_ok(const MimeEntity& part) {
    const std::string cte = ascii_lower(trim(part.header("Content-Transfer-Encoding")));
    return cte.empty() || cte == "7bit" || cte == "8bit" || cte == "binary";
}

Decoded decode_body(const MediaType& mt, std::string_view raw, const S2xContext& ctx, int depth);

Decoded decode_html(const MediaType& mt, std::string_view raw, const S2xContext& ctx) {
    Content c;
    auto text = decode_text(mt, raw, ctx.config, c.stripped);
    if (auto* r = std::get_if<S2xReject>(&text)) return std::move(*r);
    HtmlRendition h = render_html(std::get<std::string>(text), ctx.config.xhtml_im);
    c.body = std::move(h.plain);
    c.xhtml = std::move(h.xhtml);
    c.html_removed = h.removed_elements + h.removed_attributes;
    c.stripped += h.removed_chars;
    return c;
}

Decoded decode_multipart(const MediaType& mt, std::string_view raw, const S2xContext& ctx,
                         int depth) {
    auto boundary = mt.param("boundary");
    if (!boundary)
        return reject(plain_response(400, "Missing Boundary"), "multipart without boundary");
    auto parts = parse_multipart(raw, *boundary);
    if (!parts)
        return reject(plain_response(400, "Malformed Multipart Body"), "malformed multipart");
    std::optional<Content> plain, html;
    for (const MimeEntity& part : *parts) {
        if (!transfer_encoding_ok(part)) continue;
        const std::string ct = part.header("Content-Type");
        // RFC 2046 §5.1: a part without Content-Type is text/plain; charset=us-ascii.
        auto pmt = parse_media_type(ct.empty() ? "text/plain" : ct);
        if (!pmt || pmt->type != "text") continue;
        if (pmt->subtype != "plain" && pmt->subtype != "html") continue;
        auto& slot = pmt->subtype == "plain" ? plain : html;
        if (slot) continue; // first of each kind
        Decoded d = decode_body(*pmt, part.body, ctx, depth + 1);
        if (auto* r = std::get_if<S2xReject>(&d)) return std::move(*r);
        slot = std::move(std::get<Content>(d));
        slot->lang = first_language_tag(part.header("Content-Language"));
    }
    if (!plain && !html) return reject(unsupported_media(), "no text/plain or text/html part");
    Content c = plain ? std::move(*plain) : Content{};
    if (html) {
        if (!plain) {
            c.body = std::move(html->body);
            c.lang = html->lang;
        }
        c.xhtml = std::move(html->xhtml);
        c.stripped += html->stripped;
        c.html_removed += html->html_removed;
    }
    return c;
}

Decoded decode_cpim(std::string_view raw, const S2xContext& ctx, int depth) {
    auto cpim = parse_cpim(raw);
    if (!cpim)
        return reject(plain_response(400, "Malformed CPIM Message"), "malformed message/cpim");
    const std::string ct = cpim->content.header("Content-Type");
    auto inner = parse_media_type(ct.empty() ? "text/plain" : ct);
    if (!inner)
        return reject(plain_response(400, "Malformed CPIM Content-Type"), "bad CPIM Content-Type");
    if (inner->essence() == "message/cpim")
        return reject(unsupported_media(), "nested message/cpim");
    Decoded d = decode_body(*inner, cpim->content.body, ctx, depth + 1);
    if (std::holds_alternative<S2xReject>(d)) return d;
    Content c = std::move(std::get<Content>(d));
    if (c.lang.empty()) c.lang = first_language_tag(cpim->content.header("Content-Language"));
    // RFC 3862 §3.3.4: several Subjects differ by lang; take the one without, else the first.
    std::optional<CpimSubject> subject;
    for (const auto& h : cpim->headers) {
        if (!iequals(h.name, "Subject")) continue;
        CpimSubject s = parse_cpim_subject(h.value);
        if (!subject || (!subject->lang.empty() && s.lang.empty())) subject = std::move(s);
    }
    if (subject) c.subject = std::move(subject->text);
    if (auto when = parse_xep0082(cpim->header("DateTime"))) c.sent_at = when;
    return c;
}

Decoded decode_body(const MediaType& mt, std::string_view raw, const S2xContext& ctx, int depth) {
    const std::string essence = mt.essence();
    if (essence == "text/plain") {
        Content c;
        auto text = decode_text(mt, raw, ctx.config, c.stripped);
        if (auto* r = std::get_if<S2xReject>(&text)) return std::move(*r);
        c.body = std::move(std::get<std::string>(text));
        return c;
    }
    if (essence == "text/html") return decode_html(mt, raw, ctx); // IM-17
    if (essence == "multipart/alternative" && depth < 2)
        return decode_multipart(mt, raw, ctx, depth);
    if (essence == "message/cpim" && depth == 0) return decode_cpim(raw, ctx, depth); // IM-18
    if (essence == "application/im-iscomposing+xml") {
        auto state = parse_iscomposing(raw);
        if (!state)
            return reject(plain_response(400, "Malformed isComposing Document"), "bad isComposing");
        Content c;
        c.chat_state = state;
        return c;
    }
    return reject(unsupported_media(), "unsupported content type " + essence); // TV-IM-12
}

/// Domain of a JID (between '@' and '/').
std::string_view jid_domain(std::string_view jid) {
    const std::size_t slash = jid.find('/');
    std::string_view bare = jid.substr(0, slash);
    const std::size_t at = bare.find('@');
    return at == std::string_view::npos ? bare : bare.substr(at + 1);
}

/// Validated and cleaned header text (Subject) under the body's rules.
std::variant<std::string, S2xReject> clean_header_text(std::string_view value, const ImConfig& cfg,
                                                       std::size_t& stripped) {
    if (!is_valid_utf8(value))
        return reject(plain_response(400, "Header Is Not Valid UTF-8"), "Subject is not UTF-8");
    std::string s(value);
    const std::size_t bad = count_non_xml_chars(s);
    if (bad > 0) {
        if (cfg.non_xml_chars == NonXmlChars::Reject)
            return reject(plain_response(400, "Subject Contains Characters Not Allowed In XML"),
                          "Subject has characters not allowed in XML");
        stripped += strip_non_xml_chars(s);
    }
    return s;
}

} // namespace

SipResponse make_sip_response(const stox::sdk::SipError& error) {
    SipResponse r = plain_response(error.status, error.reason);
    if (!error.contact.empty()) r.set_header("Contact", error.contact);
    if (!error.allow.empty()) r.set_header("Allow", error.allow);
    return r;
}

SipResponse response_for(const stox::sdk::ErrorMapper& errors, const Status& status,
                         std::string_view warn_agent) {
    SipResponse r = make_sip_response(errors.sip_for(status));
    if (status.code() == ErrorCode::SecureOnly) // TV-IM-13, CORE-SEC-2
        r.set_header("Warning", stox::sdk::format("380 {} \"SIPS Not Allowed\"",
                                                  warn_agent.empty() ? "-" : warn_agent));
    if (r.status == 503) r.set_header("Retry-After", std::to_string(kRetryAfterSeconds));
    return r;
}

S2xResult translate_s2x(const stox::sdk::SipRequest& request, const S2xContext& ctx) {
    auto fail = [&](const Status& s, std::string why) {
        return reject(response_for(ctx.errors, s, ctx.warn_agent), std::move(why));
    };

    // RFC 7247 §8 / RFC 5393, TV-IM-21.
    if (request.has_header("Max-Forwards")) {
        auto mf = parse_max_forwards(request.header("Max-Forwards"));
        if (!mf) return reject(plain_response(400, "Invalid Max-Forwards"), "bad Max-Forwards");
        if (*mf == 0) return reject(plain_response(483, "Too Many Hops"), "Max-Forwards is 0");
    }

    // Target: Request-URI (Table M2), never a sips: Request-URI or To (CORE-SEC-2, TV-IM-13).
    auto to = ctx.addresses.to_jid(request.request_uri, UriRole::RequestUri);
    if (!to) return fail(to.status(), "Request-URI: " + to.status().message());
    const std::string to_header = request.header("To"); // owns what the views below see
    const std::string_view to_header_uri = name_addr_uri(to_header);
    if (!to_header_uri.empty()) {
        auto t = ctx.addresses.to_jid(to_header_uri, UriRole::To);
        if (!t && t.status().code() == ErrorCode::SecureOnly)
            return fail(t.status(), "To: " + t.status().message());
    }

    // Sender: From (GRUU -> resource, IM-11, TV-IM-16; im: accepted, TV-IM-24).
    const std::string from_header = request.header("From");
    const std::string_view from_uri = name_addr_uri(from_header);
    if (from_uri.empty()) return fail(Status(ErrorCode::BadRequest, "no From URI"), "no From URI");
    auto from = ctx.addresses.to_jid(from_uri, UriRole::From);
    if (!from) {
        // A From we cannot express as a JID is an identity we cannot emit: 400 if it is
        // malformed, 403 otherwise (tel:, user=phone).
        const Status s = from.status().code() == ErrorCode::BadRequest
                             ? from.status()
                             : Status(ErrorCode::Forbidden, from.status().message());
        return fail(s, "From: " + from.status().message());
    }
    // A-34, TV-IM-22: only domains the gateway may assert on s2s.
    if (ctx.config.restrict_from_domains) {
        const std::string domain = ascii_lower(jid_domain(*from));
        if (std::find(ctx.from_domains.begin(), ctx.from_domains.end(), domain) ==
            ctx.from_domains.end())
            return fail(Status(ErrorCode::Forbidden, "From domain is not served by the gateway"),
                        "From domain " + domain + " is not one of the gateway's domains");
    }

    // Body.
    const std::string encoding = ascii_lower(trim(request.header("Content-Encoding")));
    if (!encoding.empty() && encoding != "identity") {
        SipResponse r = unsupported_media();
        r.set_header("Accept-Encoding", "identity");
        return reject(std::move(r), "Content-Encoding " + encoding);
    }
    if (request.body.empty())
        return reject(plain_response(400, "Empty Message Body"), "MESSAGE without a body");
    const std::string content_type = request.header("Content-Type");
    if (content_type.empty())
        return reject(plain_response(400, "Missing Content-Type"), "body without Content-Type");
    auto mt = parse_media_type(content_type);
    if (!mt) return reject(plain_response(400, "Invalid Content-Type"), "bad Content-Type");
    Decoded decoded = decode_body(*mt, request.body, ctx, 0);
    if (auto* r = std::get_if<S2xReject>(&decoded)) return std::move(*r);
    Content content = std::move(std::get<Content>(decoded));
    if (!content.chat_state && content.body.empty() && !content.xhtml)
        return reject(plain_response(400, "Empty Message Body"), "no text left in the body");

    S2xMessage out;
    out.stripped_chars = content.stripped;
    out.html_removed = content.html_removed;
    out.chat_state_only = content.chat_state.has_value();
    out.target = to->find('/') != std::string::npos ? stox::sdk::TargetKind::Full
                                                    : stox::sdk::TargetKind::Bare;

    std::string subject = request.header("Subject");
    if (subject.empty()) subject = content.subject;
    if (!subject.empty()) {
        auto cleaned = clean_header_text(subject, ctx.config, out.stripped_chars);
        if (auto* r = std::get_if<S2xReject>(&cleaned)) return std::move(*r);
        subject = std::string(trim(std::get<std::string>(cleaned)));
    }

    // Table M2: Content-Language -> xml:lang (IM-19, first tag).
    std::string lang = first_language_tag(request.header("Content-Language"));
    if (lang.empty()) lang = content.lang;

    stox::sdk::Stanza& m = out.stanza = stox::sdk::make_stanza("message");
    m.set_attr("from", *from);
    m.set_attr("to", *to);
    m.set_attr("id", ctx.stanza_id);
    if (ctx.config.message_type == "chat") m.set_attr("type", "chat"); // documented deviation
    if (!lang.empty()) m.set_attr("xml:lang", lang);

    // Table M2: Call-ID -> <thread/> (MUST), reversing our thr-<hex> (TV-IM-04).
    std::string thread = call_id_to_thread(request.header("Call-ID"));
    if (is_valid_utf8(thread))
        strip_non_xml_chars(thread);
    else
        thread.clear();
    if (!thread.empty()) m.add_child("thread").add_text(std::move(thread));
    if (!subject.empty()) m.add_child("subject").add_text(std::move(subject));
    if (!content.body.empty()) m.add_child("body").add_text(std::move(content.body));
    if (content.xhtml) m.add_child(std::move(*content.xhtml));
    if (content.chat_state) {
        // RFC 3994 active -> XEP-0085 composing; idle -> active (stox-core.md Table M2).
        m.add_child(*content.chat_state == ComposingState::Active ? "composing" : "active",
                    std::string(kChatStatesNs));
    }

    // A-33, TV-IM-19: a stale Date (or CPIM DateTime) becomes <delay/>.
    std::optional<SysSeconds> sent_at = parse_rfc1123(request.header("Date"));
    if (!sent_at) sent_at = content.sent_at;
    if (sent_at) {
        const auto now = std::chrono::floor<std::chrono::seconds>(ctx.now);
        if (now - *sent_at > kStaleAfter) {
            auto& delay = m.add_child("delay", std::string(kDelayNs));
            if (!ctx.delay_from.empty()) delay.set_attr("from", ctx.delay_from);
            delay.set_attr("stamp", format_xep0082(*sent_at));
        }
    }

    // the XMPP server's stanza limit -> 513.
    const std::size_t size = m.to_string(stox::sdk::kComponentNs).size();
    if (size > ctx.config.max_stanza_bytes)
        return reject(plain_response(513, "Message Too Large"),
                      stox::sdk::format("stanza would be {} bytes, limit {}", size,
                                        ctx.config.max_stanza_bytes));
    return out;
}

} // namespace stox::plugins::im
