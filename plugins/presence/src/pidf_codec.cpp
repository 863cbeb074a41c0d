// SPDX-License-Identifier: Apache-2.0
#include "pidf_codec.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <system_error>
#include <utility>

#include <xercesc/framework/MemBufInputSource.hpp>
#include <xercesc/sax/SAXException.hpp>
#include <xercesc/sax/SAXParseException.hpp>
#include <xercesc/sax2/Attributes.hpp>
#include <xercesc/sax2/DefaultHandler.hpp>
#include <xercesc/sax2/SAX2XMLReader.hpp>
#include <xercesc/sax2/XMLReaderFactory.hpp>
#include <xercesc/util/OutOfMemoryException.hpp>
#include <xercesc/util/PlatformUtils.hpp>
#include <xercesc/util/SecurityManager.hpp>
#include <xercesc/util/XMLException.hpp>
#include <xercesc/util/XMLString.hpp>
#include <xercesc/util/XMLUni.hpp>

#include "stox/sdk/text.hpp"
#include "stox/sdk/xmpp.hpp"

namespace stox::plugins::presence {
namespace {

namespace xc = xercesc;
using sdk::ErrorCode;
using sdk::XmlElement;

constexpr std::string_view kXmlNs = "http://www.w3.org/XML/1998/namespace";
// Entities can only be declared in a DTD, which is refused; this bounds expansion anyway
// (peers.md G13, billion laughs).
constexpr XMLSize_t kEntityExpansionLimit = 100;

// ------------------------------------------------------------------------------------------
// Small text helpers

bool is_xml_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string trim(std::string_view s) {
    std::size_t b = 0;
    std::size_t e = s.size();
    while (b < e && is_xml_space(s[b])) ++b;
    while (e > b && is_xml_space(s[e - 1])) --e;
    return std::string(s.substr(b, e - b));
}

bool is_alnum(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

constexpr std::array<char, 16> kHex = {'0', '1', '2', '3', '4', '5', '6', '7',
                                       '8', '9', 'A', 'B', 'C', 'D', 'E', 'F'};

void append_hex(std::string& out, unsigned char c) {
    out += kHex[c >> 4];
    out += kHex[c & 0x0F];
}

// Strict UTF-8 check (no overlongs, no surrogates, <= U+10FFFF).
bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t len = 0;
        std::uint32_t cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1Fu;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0Fu;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07u;
        } else {
            return false;
        }
        if (i + len > s.size()) return false;
        for (std::size_t k = 1; k < len; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3Fu);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

// A usable XMPP resourcepart (RFC 7622 §3.4: 1..1023 octets, OpaqueString: no controls).
bool plausible_resource(std::string_view r) {
    if (r.empty() || r.size() > 1023 || !valid_utf8(r)) return false;
    return std::none_of(r.begin(), r.end(), [](char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return c < 0x20 || c == 0x7F;
    });
}

// ------------------------------------------------------------------------------------------
// SAX2 -> a minimal namespace-aware tree

struct Attr {
    std::string ns;
    std::string local;
    std::string value;
};

struct Node {
    std::string ns;
    std::string name;
    std::string lang; // effective xml:lang (inherited, XML 1.0 §2.12)
    std::string text; // concatenated direct character data
    std::vector<Attr> attrs;
    std::vector<Node> children;

    [[nodiscard]] const Node* child(std::string_view n, std::string_view s) const {
        for (const auto& c : children)
            if (c.name == n && c.ns == s) return &c;
        return nullptr;
    }
    [[nodiscard]] std::string attr(std::string_view local, std::string_view s = {}) const {
        for (const auto& a : attrs)
            if (a.local == local && a.ns == s) return a.value;
        return {};
    }
    [[nodiscard]] bool has_attr(std::string_view local, std::string_view s = {}) const {
        return std::any_of(attrs.begin(), attrs.end(),
                           [&](const Attr& a) { return a.local == local && a.ns == s; });
    }
};

// UTF-16 from Xerces to UTF-8, without the locale-dependent XMLString::transcode.
void append_utf8(std::string& out, const XMLCh* s, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        std::uint32_t cp = static_cast<std::uint16_t>(s[i]);
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < n) {
            const auto lo = static_cast<std::uint32_t>(static_cast<std::uint16_t>(s[i + 1]));
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                ++i;
            }
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD; // lone surrogate
        sdk::append_utf8(out, cp);
    }
}

std::string to_utf8(const XMLCh* s) {
    std::string out;
    if (s != nullptr) append_utf8(out, s, xc::XMLString::stringLen(s));
    return out;
}

// Builds the tree and refuses DTDs and entities from the callbacks: Xerces 3.2 SAX2 has no
// disallow-doctype switch (peers.md §3c, G13). A refusal throws SAXException, which ends the
// parse; the reason is kept here.
class TreeBuilder final : public xc::DefaultHandler {
public:
    std::optional<Node>& root() { return root_; }
    [[nodiscard]] const std::string& reason() const { return reason_; }

    void startElement(const XMLCh* const uri, const XMLCh* const localname, const XMLCh* const,
                      const xc::Attributes& attrs) override {
        if (stack_.size() >= static_cast<std::size_t>(kMaxPidfDepth))
            refuse("elements nested deeper than " + std::to_string(kMaxPidfDepth));
        if (++elements_ > kMaxPidfElements)
            refuse("more than " + std::to_string(kMaxPidfElements) + " elements");
        Node n;
        n.ns = to_utf8(uri);
        n.name = to_utf8(localname);
        n.lang = stack_.empty() ? std::string{} : stack_.back().lang;
        for (XMLSize_t i = 0, count = attrs.getLength(); i < count; ++i) {
            Attr a{to_utf8(attrs.getURI(i)), to_utf8(attrs.getLocalName(i)),
                   to_utf8(attrs.getValue(i))};
            if (a.ns == kXmlNs && a.local == "lang") n.lang = a.value;
            n.attrs.push_back(std::move(a));
        }
        stack_.push_back(std::move(n));
    }

    void endElement(const XMLCh* const, const XMLCh* const, const XMLCh* const) override {
        Node n = std::move(stack_.back());
        stack_.pop_back();
        if (stack_.empty())
            root_ = std::move(n);
        else
            stack_.back().children.push_back(std::move(n));
    }

    void characters(const XMLCh* const chars, const XMLSize_t length) override {
        // Outside the root only whitespace is well-formed, and Xerces reports none of it.
        if (!stack_.empty()) append_utf8(stack_.back().text, chars, length);
    }

    // A DOCTYPE of any form is refused, before its internal subset is read: this is what
    // stops billion laughs and external-entity (XXE) bodies.
    void startDTD(const XMLCh* const, const XMLCh* const, const XMLCh* const) override {
        refuse("DTD (<!DOCTYPE>) is not allowed in PIDF");
    }
    void startEntity(const XMLCh* const name) override {
        refuse("entity reference &" + to_utf8(name) + "; is not allowed in PIDF");
    }
    xc::InputSource* resolveEntity(const XMLCh* const, const XMLCh* const) override {
        refuse("external entity is not allowed in PIDF");
    }
    void fatalError(const xc::SAXParseException& e) override { parse_error(e); }
    // Namespace errors (an unbound prefix) come as errors, not fatal ones.
    void error(const xc::SAXParseException& e) override { parse_error(e); }
    void warning(const xc::SAXParseException&) override {}

private:
    [[noreturn]] void refuse(std::string reason) {
        if (reason_.empty()) reason_ = std::move(reason);
        throw xc::SAXException("refused");
    }
    [[noreturn]] void parse_error(const xc::SAXParseException& e) {
        refuse("not well-formed XML: " + to_utf8(e.getMessage()) + " (line " +
               std::to_string(e.getLineNumber()) + ", column " +
               std::to_string(e.getColumnNumber()) + ")");
    }

    std::vector<Node> stack_;
    std::optional<Node> root_;
    std::size_t elements_ = 0;
    std::string reason_;
};

// Xerces reports a DOCTYPE to startDTD() only when it has an internal or external subset; a
// bare "<!DOCTYPE presence>" goes unreported. It is harmless, but PIDF has no DTD and every DTD
// is refused alike, so the prolog is also checked here. Zero bytes are dropped first so that
// UTF-16 and UCS-4 prologs read as ASCII; only markup characters matter in a prolog.
bool prolog_has_doctype(std::string_view xml) {
    std::string narrow;
    const std::string_view head = xml.substr(0, 4);
    if (head.find('\0') != std::string_view::npos) {
        for (char c : xml.substr(0, 64 * 1024))
            if (c != '\0') narrow += c;
        xml = narrow;
    }
    std::size_t i = 0;
    while (i < xml.size() && static_cast<unsigned char>(xml[i]) >= 0x80) ++i; // byte order mark
    while (i < xml.size()) {
        const std::string_view rest = xml.substr(i);
        if (is_xml_space(rest[0])) {
            ++i;
        } else if (rest.substr(0, 2) == "<?") {
            const auto end = rest.find("?>");
            if (end == std::string_view::npos) return false;
            i += end + 2;
        } else if (rest.substr(0, 4) == "<!--") {
            const auto end = rest.find("-->");
            if (end == std::string_view::npos) return false;
            i += end + 3;
        } else {
            return rest.substr(0, 9) == "<!DOCTYPE";
        }
    }
    return false;
}

sdk::Result<Node> parse_tree(std::string_view xml) {
    if (prolog_has_doctype(xml))
        return {ErrorCode::BadRequest, "DTD (<!DOCTYPE>) is not allowed in PIDF"};
    TreeBuilder builder;
    xc::SecurityManager security;
    security.setEntityExpansionLimit(kEntityExpansionLimit);
    std::unique_ptr<xc::SAX2XMLReader> reader(xc::XMLReaderFactory::createXMLReader());
    reader->setFeature(xc::XMLUni::fgSAX2CoreNameSpaces, true);
    reader->setFeature(xc::XMLUni::fgSAX2CoreNameSpacePrefixes, false);
    reader->setFeature(xc::XMLUni::fgSAX2CoreValidation, false);
    reader->setFeature(xc::XMLUni::fgXercesSchema, false);
    reader->setFeature(xc::XMLUni::fgXercesLoadExternalDTD, false);
    reader->setFeature(xc::XMLUni::fgXercesDisableDefaultEntityResolution, true);
    reader->setProperty(xc::XMLUni::fgXercesSecurityManager, &security);
    reader->setContentHandler(&builder);
    reader->setLexicalHandler(&builder);
    reader->setErrorHandler(&builder);
    reader->setEntityResolver(&builder);
    xc::MemBufInputSource input(reinterpret_cast<const XMLByte*>(xml.data()), xml.size(), "pidf",
                                false);
    try {
        reader->parse(input);
    } catch (const xc::SAXException&) {
        // The reason was recorded by the handler.
    } catch (const xc::XMLException& e) {
        if (builder.reason().empty())
            return {ErrorCode::BadRequest, "not well-formed XML: " + to_utf8(e.getMessage())};
    }
    if (!builder.reason().empty()) return {ErrorCode::BadRequest, builder.reason()};
    if (!builder.root()) return {ErrorCode::BadRequest, "no root element"};
    return std::move(*builder.root());
}

// ------------------------------------------------------------------------------------------
// PIDF tree -> model

bool valid_show(std::string_view v) {
    return v == "away" || v == "chat" || v == "dnd" || v == "xa";
}

// <show xmlns='jabber:client'> is accepted anywhere below `n`.
const Node* find_show(const Node& n) {
    for (const auto& c : n.children) {
        if (c.ns == kJabberClientNs && c.name == "show") return &c;
        if (const Node* s = find_show(c)) return s;
    }
    return nullptr;
}

std::vector<std::string> rpid_activities(const Node& activities) {
    std::vector<std::string> out;
    for (const auto& c : activities.children)
        if (c.ns == kRpidNs && c.name != "note") out.push_back(c.name);
    return out;
}

void add_note(std::vector<Note>& notes, const Node& n) {
    std::string text = trim(n.text);
    if (!text.empty()) notes.push_back(Note{std::move(text), n.lang});
}

std::optional<double> parse_q(std::string_view raw) {
    const std::string s = trim(raw);
    if (s.empty() || std::count(s.begin(), s.end(), '.') > 1 ||
        !std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; }))
        return std::nullopt;
    double q = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), q);
    if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
    // RFC 3863 §4.1.5: qvalue is 0..1; anything else is ignored (Table P2).
    if (!(q >= 0.0 && q <= 1.0)) return std::nullopt;
    return q;
}

sdk::Result<PresenceTuple> read_tuple(const Node& t) {
    PresenceTuple tuple;
    tuple.id = t.attr("id");
    if (trim(tuple.id).empty()) return {ErrorCode::BadRequest, "PIDF <tuple> without id"};
    if (const Node* status = t.child("status", kPidfNs)) {
        if (const Node* basic = status->child("basic", kPidfNs)) {
            const std::string v = trim(basic->text);
            if (v != "open" && v != "closed")
                return {ErrorCode::BadRequest,
                        "PIDF <basic> must be open or closed, got '" + v.substr(0, 32) + "'"};
            tuple.has_basic = true;
            tuple.open = v == "open";
        }
        // Old RPID drafts and some phones put activities inside <status>.
        if (const Node* a = status->child("activities", kRpidNs))
            tuple.activities = rpid_activities(*a);
        if (const Node* ui = status->child("user-input", kRpidNs))
            tuple.user_input = trim(ui->text);
    }
    if (const Node* a = t.child("activities", kRpidNs)) tuple.activities = rpid_activities(*a);
    if (const Node* ui = t.child("user-input", kRpidNs)) tuple.user_input = trim(ui->text);
    if (const Node* show = find_show(t)) {
        std::string v = trim(show->text);
        if (valid_show(v)) tuple.show = std::move(v);
    }
    if (const Node* contact = t.child("contact", kPidfNs)) {
        tuple.contact = trim(contact->text);
        if (contact->has_attr("priority")) tuple.priority = parse_q(contact->attr("priority"));
    }
    for (const auto& c : t.children)
        if (c.ns == kPidfNs && c.name == "note") add_note(tuple.notes, c);
    if (const Node* ts = t.child("timestamp", kPidfNs)) tuple.timestamp = trim(ts->text);
    return tuple;
}

sdk::Result<PresenceDoc> read_doc(const Node& root) {
    if (root.ns != kPidfNs || root.name != "presence")
        return {ErrorCode::BadRequest, "root element is {" + root.ns.substr(0, 64) + "}" +
                                           root.name.substr(0, 64) +
                                           ", not a PIDF <presence> (RFC 3863 §4.1)"};
    PresenceDoc doc;
    doc.entity = trim(root.attr("entity"));
    if (doc.entity.empty())
        return {ErrorCode::BadRequest, "PIDF <presence> without entity (RFC 3863 §4.1.1)"};
    for (const auto& c : root.children) {
        if (c.ns == kPidfNs && c.name == "tuple") {
            auto tuple = read_tuple(c);
            if (!tuple) return tuple.status();
            doc.tuples.push_back(std::move(tuple).value());
        } else if (c.ns == kPidfNs && c.name == "note") {
            add_note(doc.notes, c);
        } else if (c.ns == kJabberClientNs && c.name == "show") {
            std::string v = trim(c.text);
            if (valid_show(v)) doc.show = std::move(v);
        } else if (c.ns == kDataModelNs && c.name == "person") {
            // RFC 4479 §3.2 / RFC 4480: activities and user-input describe the person.
            if (const Node* a = c.child("activities", kRpidNs))
                doc.person_activities = rpid_activities(*a);
            if (const Node* ui = c.child("user-input", kRpidNs))
                doc.person_user_input = trim(ui->text);
            for (const auto& n : c.children)
                if (n.ns == kDataModelNs && n.name == "note") add_note(doc.person_notes, n);
        } else if (c.ns == kDataModelNs && c.name == "device") {
            // RFC 4480 §3.7: an idle device is a fallback hint when the person says nothing.
            if (const Node* ui = c.child("user-input", kRpidNs);
                ui != nullptr && doc.person_user_input.empty())
                doc.person_user_input = trim(ui->text);
        }
        // Anything else is an extension this gateway does not map (RFC 3863 §4.2.3).
    }
    return doc;
}

// ------------------------------------------------------------------------------------------
// XMPP helpers

bool is_stanza_ns(std::string_view ns) {
    return ns.empty() || ns == sdk::kComponentNs || ns == kJabberClientNs || ns == "jabber:server";
}

const XmlElement* stanza_child(const XmlElement& st, std::string_view name) {
    for (const auto& c : st.children())
        if (!c.is_text() && c.name() == name && is_stanza_ns(c.ns())) return &c;
    return nullptr;
}

std::optional<int> parse_xmpp_priority(std::string_view raw) {
    const std::string s = trim(raw);
    int v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || v < -128 || v > 127)
        return std::nullopt; // RFC 6121 §4.7.2.3: -128..127; anything else is not mapped
    return v;
}

std::string format_q_milli(long milli) {
    if (milli <= 0) return "0";
    if (milli >= 1000) return "1";
    std::string digits = std::to_string(milli);
    digits.insert(0, 3 - digits.size(), '0');
    while (!digits.empty() && digits.back() == '0') digits.pop_back();
    return "0." + digits;
}

// GRUU values go into a URI parameter: keep RFC 3261 paramchar, escape the rest.
std::string escape_uri_param(std::string_view v) {
    std::string out;
    for (char ch : v) {
        const auto c = static_cast<unsigned char>(ch);
        if (is_alnum(c) ||
            std::string_view("-_.!~*'()[]/:&+$").find(ch) != std::string_view::npos) {
            out += ch;
        } else {
            out += '%';
            append_hex(out, c);
        }
    }
    return out;
}

// XML 1.0 §2.2: C0 controls other than TAB, LF and CR cannot appear at all, not even as
// character references; drop them rather than emit a body the peer must refuse.
std::string xml_chars_only(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c >= 0x20 || ch == '\t' || ch == '\n' || ch == '\r') out += ch;
    }
    return out;
}

void append_escaped(std::string& out, std::string_view s, bool attribute) {
    XmlElement::escape_into(out, xml_chars_only(s), attribute);
}

/// `<indent><note xml:lang='..'>text</note>` (RFC 3863 §4.1.7), for tuples and the document.
void append_note(std::string& out, const Note& n, std::string_view indent) {
    out += indent;
    out += "<note";
    if (!n.lang.empty()) {
        out += " xml:lang='";
        append_escaped(out, n.lang, true);
        out += '\'';
    }
    out += '>';
    append_escaped(out, n.text, false);
    out += "</note>\n";
}

// Table P2 resource, in order: gr of the tuple contact; gr of the NOTIFY Contact when there
// is a single tuple; the decoded "ID-" tuple id; the raw tuple id.
std::string resource_for(const PresenceTuple& t, bool single_tuple, const PidfToXmppParams& p) {
    if (std::string gr = gruu_of(t.contact); plausible_resource(gr)) return gr;
    if (single_tuple)
        if (std::string gr = gruu_of(p.notify_contact); plausible_resource(gr)) return gr;
    if (auto decoded = resource_from_tuple_id(t.id); decoded && plausible_resource(*decoded))
        return *decoded;
    if (std::string raw = trim(t.id); plausible_resource(raw)) return raw;
    return {};
}

} // namespace

// ------------------------------------------------------------------------------------------
// Public API

sdk::Result<PresenceDoc> parse_pidf(std::string_view xml) noexcept {
    try {
        if (xml.size() > kMaxPidfBytes)
            return {ErrorCode::TooLarge, "PIDF body of " + std::to_string(xml.size()) +
                                             " bytes exceeds " + std::to_string(kMaxPidfBytes)};
        if (std::all_of(xml.begin(), xml.end(), is_xml_space))
            return {ErrorCode::BadRequest, "empty PIDF body"};
        // The host initialises Xerces (core XercesGuard); without it every call would crash.
        if (xc::XMLPlatformUtils::fgMemoryManager == nullptr)
            return {ErrorCode::Internal, "Xerces-C is not initialised"};
        auto tree = parse_tree(xml);
        if (!tree) return tree.status();
        return read_doc(tree.value());
    } catch (const xc::OutOfMemoryException&) {
        return {ErrorCode::Internal, "out of memory while parsing PIDF"};
    } catch (const xc::XMLException& e) {
        return {ErrorCode::Internal, "Xerces-C error: " + to_utf8(e.getMessage())};
    } catch (const std::bad_alloc&) {
        return {ErrorCode::Internal, "out of memory while parsing PIDF"};
    } catch (const std::exception& e) {
        return {ErrorCode::Internal, std::string("PIDF parser failure: ") + e.what()};
    } catch (...) {
        return {ErrorCode::Internal, "PIDF parser failure"};
    }
}

std::string show_from_rpid(const std::vector<std::string>& activities,
                           std::string_view user_input) {
    // A-26 (Table P2): the busier reading wins when activities disagree.
    static constexpr std::array<std::string_view, 5> kDnd = {"busy", "meeting", "on-the-phone",
                                                             "performance", "presentation"};
    static constexpr std::array<std::string_view, 7> kAway = {
        "away", "lunch", "meal", "steering", "travel", "sleeping", "vacation"};
    const auto any_of = [&](const auto& set) {
        return std::any_of(activities.begin(), activities.end(), [&](const std::string& a) {
            return std::find(set.begin(), set.end(), a) != set.end();
        });
    };
    if (any_of(kDnd)) return "dnd";
    if (any_of(kAway)) return "away";
    if (trim(user_input) == "idle") return "away";
    return {};
}

std::vector<XmlElement> pidf_to_xmpp(const PresenceDoc& doc, const PidfToXmppParams& params) {
    // Pick one tuple per resource: the first open one, else the first (several tuples of one
    // device must not turn into contradicting stanzas).
    std::vector<std::pair<std::string, const PresenceTuple*>> chosen;
    std::size_t with_basic = 0;
    for (const auto& t : doc.tuples) with_basic += t.has_basic ? 1 : 0;
    for (const auto& t : doc.tuples) {
        if (!t.has_basic) continue; // Table P2: a tuple without <basic> is skipped
        std::string resource = resource_for(t, with_basic == 1, params);
        auto it = std::find_if(chosen.begin(), chosen.end(),
                               [&](const auto& c) { return c.first == resource; });
        if (it == chosen.end())
            chosen.emplace_back(std::move(resource), &t);
        else if (!it->second->open && t.open)
            it->second = &t;
    }

    std::vector<XmlElement> out;
    for (const auto& [resource, tp] : chosen) {
        const PresenceTuple& t = *tp;
        XmlElement st = sdk::make_stanza("presence");
        st.set_attr("from",
                    resource.empty() ? params.from_bare : params.from_bare + '/' + resource);
        if (!params.to.empty()) st.set_attr("to", params.to);
        if (!params.id.empty()) st.set_attr("id", params.id);
        if (!t.open) st.set_attr("type", "unavailable"); // PRES-NOT-13
        if (!params.content_language.empty()) st.set_attr("xml:lang", params.content_language);
        if (t.open) {
            // PRES-NOT-14 first, then the RPID choice, tuple data before person data.
            std::string show = !t.show.empty() ? t.show : doc.show;
            if (show.empty())
                show = show_from_rpid(t.activities.empty() ? doc.person_activities : t.activities,
                                      t.user_input.empty() ? doc.person_user_input : t.user_input);
            if (!show.empty()) st.add_child("show").add_text(show);
        }
        const std::vector<Note>& notes = !t.notes.empty()     ? t.notes
                                         : !doc.notes.empty() ? doc.notes
                                                              : doc.person_notes;
        for (const auto& n : notes) {
            XmlElement& status = st.add_child("status");
            if (!n.lang.empty() && n.lang != params.content_language)
                status.set_attr("xml:lang", n.lang);
            status.add_text(n.text);
        }
        if (t.open && t.priority)
            if (auto p = q_to_xmpp_priority(*t.priority))
                st.add_child("priority").add_text(std::to_string(*p));
        out.push_back(std::move(st));
    }
    return out;
}

sdk::Result<PresenceDoc> presence_doc_from_xmpp(const std::vector<XmlElement>& presences,
                                                const XmppToPidfParams& params) {
    if (trim(params.entity).empty())
        return {ErrorCode::BadRequest, "no PIDF entity for the presentity"};
    PresenceDoc doc;
    doc.entity = params.entity;
    for (const auto& st : presences) {
        if (st.is_text() || st.name() != "presence")
            return {ErrorCode::BadRequest, "not a <presence/> stanza: <" + st.name() + ">"};
        const std::string type = st.attr("type");
        if (!type.empty() && type != "unavailable")
            return {ErrorCode::BadRequest,
                    "presence of type '" + type + "' is not a notification (PRES-NOT-2)"};
        const std::string from = st.attr("from");
        const auto slash = from.find('/');
        const std::string resource = slash == std::string::npos ? "" : from.substr(slash + 1);

        PresenceTuple t;
        t.id = tuple_id_for_resource(resource); // PRES-NOT-3, A-27
        t.has_basic = true;
        t.open = type.empty(); // PRES-NOT-5
        if (const XmlElement* show = stanza_child(st, "show")) {
            std::string v = trim(show->text());
            if (valid_show(v)) t.show = std::move(v); // PRES-NOT-9
        }
        const std::string stanza_lang =
            st.has_attr("xml:lang") ? st.attr("xml:lang") : params.default_lang;
        for (const auto& c : st.children()) {
            if (c.is_text() || c.name() != "status" || !is_stanza_ns(c.ns())) continue;
            std::string text = c.text();
            if (text.empty()) continue;
            t.notes.push_back(
                Note{std::move(text), c.has_attr("xml:lang") ? c.attr("xml:lang") : stanza_lang});
        }
        if (!params.contact_base.empty() && !resource.empty())
            t.contact = params.contact_base + ";gr=" + escape_uri_param(resource);
        if (const XmlElement* prio = stanza_child(st, "priority"))
            if (auto p = parse_xmpp_priority(prio->text()); p && *p >= 0) // PRES-NOT-7
                t.priority = static_cast<double>(*p * 1000 / 127) / 1000.0;
        const XmlElement* delay = nullptr;
        for (const auto& c : st.children())
            if (!c.is_text() && c.name() == "delay" && c.ns() == kDelayNs) delay = &c;
        t.timestamp =
            delay != nullptr && !delay->attr("stamp").empty() ? delay->attr("stamp") : params.now;

        // A newer stanza for the same resource replaces the older one.
        auto it = std::find_if(doc.tuples.begin(), doc.tuples.end(),
                               [&](const PresenceTuple& x) { return x.id == t.id; });
        if (it != doc.tuples.end())
            *it = std::move(t);
        else
            doc.tuples.push_back(std::move(t));
    }
    return doc;
}

std::string serialize_pidf(const PresenceDoc& doc) {
    std::string out = "<?xml version='1.0' encoding='UTF-8'?>\n<presence xmlns='";
    out += kPidfNs;
    out += "' entity='";
    append_escaped(out, doc.entity, true);
    out += "'>\n";
    for (const auto& t : doc.tuples) {
        out += "  <tuple id='";
        append_escaped(out, t.id, true);
        out += "'>\n    <status>";
        if (t.has_basic) out += t.open ? "<basic>open</basic>" : "<basic>closed</basic>";
        if (!t.show.empty()) {
            // PRES-NOT-9 / A-25: inside <status>, as the RFC examples do.
            out += "<show xmlns='";
            out += kJabberClientNs;
            out += "'>";
            append_escaped(out, t.show, false);
            out += "</show>";
        }
        out += "</status>\n";
        if (!t.contact.empty()) {
            out += "    <contact";
            if (t.priority && *t.priority >= 0.0 && *t.priority <= 1.0) {
                out += " priority='";
                out += format_q_milli(std::lround(*t.priority * 1000.0));
                out += '\'';
            }
            out += '>';
            append_escaped(out, t.contact, false);
            out += "</contact>\n";
        }
        for (const auto& n : t.notes) append_note(out, n, "    ");
        if (!t.timestamp.empty()) {
            out += "    <timestamp>";
            append_escaped(out, t.timestamp, false);
            out += "</timestamp>\n";
        }
        out += "  </tuple>\n";
    }
    for (const auto& n : doc.notes) append_note(out, n, "  ");
    out += "</presence>\n";
    return out;
}

sdk::Result<std::string> xmpp_to_pidf(const std::vector<XmlElement>& presences,
                                      const XmppToPidfParams& params) {
    auto doc = presence_doc_from_xmpp(presences, params);
    if (!doc) return doc.status();
    return serialize_pidf(doc.value());
}

std::optional<std::string> xmpp_priority_to_q(int priority) {
    if (priority < 0 || priority > 127) return std::nullopt; // PRES-NOT-7
    return format_q_milli(static_cast<long>(priority) * 1000 / 127);
}

std::optional<int> q_to_xmpp_priority(double q) {
    if (!(q >= 0.0 && q <= 1.0)) return std::nullopt;
    // round half up; the epsilon absorbs binary representation error of 3-decimal qvalues
    const auto p = static_cast<int>(std::floor(q * 127.0 + 0.5 + 1e-9));
    return std::clamp(p, 0, 127);
}

std::string tuple_id_for_resource(std::string_view resource) {
    std::string id = "ID-";
    for (char ch : resource) {
        const auto c = static_cast<unsigned char>(ch);
        if (is_alnum(c) || ch == '.' || ch == '-') {
            id += ch;
        } else {
            id += '_';
            append_hex(id, c);
        }
    }
    return id;
}

std::optional<std::string> resource_from_tuple_id(std::string_view id) {
    if (id.size() <= 3 || id.substr(0, 3) != "ID-") return std::nullopt;
    std::string out;
    for (std::size_t i = 3; i < id.size(); ++i) {
        const char ch = id[i];
        if (ch == '_') {
            // Only the uppercase form tuple_id_for_resource() writes decodes: reversible.
            if (i + 2 >= id.size()) return std::nullopt;
            const char h = id[i + 1];
            const char l = id[i + 2];
            const auto upper_hex = [](char c) {
                return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
            };
            if (!upper_hex(h) || !upper_hex(l)) return std::nullopt;
            out += static_cast<char>(hex_value(h) * 16 + hex_value(l));
            i += 2;
        } else if (is_alnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-') {
            out += ch;
        } else {
            return std::nullopt;
        }
    }
    return out;
}

std::string gruu_of(std::string_view uri) {
    std::string_view u = uri;
    if (const auto lt = u.find('<'); lt != std::string_view::npos) {
        const auto gt = u.find('>', lt);
        if (gt == std::string_view::npos) return {};
        u = u.substr(lt + 1, gt - lt - 1);
    }
    u = u.substr(0, u.find('?')); // headers are not parameters
    // The user part may contain ';' (RFC 3261 user-unreserved): parameters follow the host.
    const auto at = u.find('@');
    std::size_t pos = u.find(';', at == std::string_view::npos ? 0 : at);
    while (pos != std::string_view::npos) {
        const std::size_t next = u.find(';', pos + 1);
        const std::string_view param = u.substr(
            pos + 1, next == std::string_view::npos ? std::string_view::npos : next - pos - 1);
        const auto eq = param.find('=');
        const std::string_view name = param.substr(0, eq);
        if (name.size() == 2 && (name[0] == 'g' || name[0] == 'G') &&
            (name[1] == 'r' || name[1] == 'R')) {
            if (eq == std::string_view::npos) return {};
            const std::string_view raw = param.substr(eq + 1);
            std::string value;
            for (std::size_t i = 0; i < raw.size(); ++i) {
                if (raw[i] == '%') {
                    if (i + 2 >= raw.size()) return {};
                    const int h = hex_value(raw[i + 1]);
                    const int l = hex_value(raw[i + 2]);
                    if (h < 0 || l < 0) return {};
                    value += static_cast<char>(h * 16 + l);
                    i += 2;
                } else {
                    value += raw[i];
                }
            }
            return value;
        }
        pos = next;
    }
    return {};
}

} // namespace stox::plugins::presence
