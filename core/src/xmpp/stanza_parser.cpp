// SPDX-License-Identifier: Apache-2.0
#include "xmpp/stanza_parser.hpp"

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <new>
#include <optional>
#include <stdexcept>

#include <xercesc/framework/MemBufInputSource.hpp>
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

#include "stox/sdk/xmpp.hpp"
#include "xmpp/stream_framer.hpp"
#include "xmpp/stream_header.hpp"

namespace stox::core::xmpp {
namespace {

namespace xc = xercesc;

constexpr std::string_view kInternal = "internal-server-error";
// Entity expansions allowed per parse, at least this many. Entities can only be declared in a
// DTD, which is refused, so this is defence in depth (peers.md G13).
constexpr XMLSize_t kMinEntityExpansionLimit = 100;
constexpr std::string_view kWrapperName = "stox-wrap";

std::mutex& xerces_mutex() {
    static std::mutex mu;
    return mu;
}
std::size_t xerces_refs = 0; // guarded by xerces_mutex()

// Xerces hands out UTF-16; convert to UTF-8 without the (locale-dependent) XMLString::transcode.
// Writes through a pointer into space sized for the worst case (3 bytes per UTF-16 unit).
void append_utf8(std::string& out, const XMLCh* s, std::size_t n) {
    const std::size_t old = out.size();
    out.resize(old + 3 * n);
    char* p = out.data() + old;
    for (std::size_t i = 0; i < n; ++i) {
        std::uint32_t cp = static_cast<std::uint16_t>(s[i]);
        if (cp < 0x80) {
            *p++ = static_cast<char>(cp);
            continue;
        }
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < n) {
            auto lo = static_cast<std::uint32_t>(static_cast<std::uint16_t>(s[i + 1]));
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                ++i; // two units in, four bytes out: within the 3-per-unit budget
            }
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD; // lone surrogate (Xerces never emits one)
        if (cp < 0x800) {
            *p++ = static_cast<char>(0xC0 | (cp >> 6));
            *p++ = static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            *p++ = static_cast<char>(0xE0 | (cp >> 12));
            *p++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            *p++ = static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            *p++ = static_cast<char>(0xF0 | (cp >> 18));
            *p++ = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            *p++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            *p++ = static_cast<char>(0x80 | (cp & 0x3F));
        }
    }
    out.resize(static_cast<std::size_t>(p - out.data()));
}

std::string to_utf8(const XMLCh* s) {
    std::string out;
    if (s != nullptr) append_utf8(out, s, xc::XMLString::stringLen(s));
    return out;
}

bool is_xml_space(XMLCh c) {
    return c == u' ' || c == u'\t' || c == u'\r' || c == u'\n';
}

// Builds the XmlElement tree from SAX2 events and refuses what RFC 6120 §11.1 forbids by
// throwing from the callbacks (Xerces 3.2 SAX2 has no disallow-doctype feature, peers.md G13).
class TreeBuilder final : public xc::DefaultHandler {
public:
    void reset() {
        stack_.clear();
        text_.clear();
        result_.reset();
        depth_ = 0;
        condition_ = {};
        detail_.clear();
    }
    std::optional<sdk::XmlElement>& result() { return result_; }
    [[nodiscard]] std::string_view condition() const { return condition_; }
    [[nodiscard]] const std::string& detail() const { return detail_; }

    void startElement(const XMLCh* const uri, const XMLCh* const localname,
                      const XMLCh* const /*qname*/, const xc::Attributes& attrs) override {
        if (++depth_ == 1) return; // the synthetic wrapper
        if (depth_ == 2 && result_) refuse(kNotWellFormed, "more than one top-level element");
        flush_text();
        sdk::XmlElement el(to_utf8(localname), to_utf8(uri));
        for (XMLSize_t i = 0, n = attrs.getLength(); i < n; ++i) {
            std::string name = to_utf8(attrs.getQName(i));
            // The default namespace is carried by ns(); prefix declarations stay attributes so
            // that prefixed attributes (xmlns:foo + foo:bar) survive a round trip.
            if (name == "xmlns") continue;
            el.set_attr(std::move(name), to_utf8(attrs.getValue(i)));
        }
        stack_.push_back(std::move(el));
    }

    void endElement(const XMLCh* const, const XMLCh* const, const XMLCh* const) override {
        if (depth_-- == 1) return;
        flush_text();
        sdk::XmlElement el = std::move(stack_.back());
        stack_.pop_back();
        // children().push_back, not add_child(): an element in no namespace (xmlns='') must not
        // inherit its parent's.
        if (stack_.empty())
            result_ = std::move(el);
        else
            stack_.back().children().push_back(std::move(el));
    }

    void characters(const XMLCh* const chars, const XMLSize_t length) override {
        if (depth_ <= 1) {
            for (XMLSize_t i = 0; i < length; ++i)
                if (!is_xml_space(chars[i])) refuse(kNotWellFormed, "text outside the stanza");
            return;
        }
        append_utf8(text_, chars, length); // may arrive in pieces: accumulate
    }
    void ignorableWhitespace(const XMLCh* const chars, const XMLSize_t length) override {
        characters(chars, length);
    }

    // RFC 6120 §11.1: no processing instructions, comments or DTDs.
    void processingInstruction(const XMLCh* const, const XMLCh* const) override {
        refuse(kRestrictedXml, "processing instruction");
    }
    void comment(const XMLCh* const, const XMLSize_t) override {
        refuse(kRestrictedXml, "comment");
    }
    void startDTD(const XMLCh* const, const XMLCh* const, const XMLCh* const) override {
        refuse(kRestrictedXml, "DTD");
    }
    void startEntity(const XMLCh* const name) override {
        refuse(kRestrictedXml, "entity reference &" + to_utf8(name) + ";");
    }
    xc::InputSource* resolveEntity(const XMLCh* const, const XMLCh* const) override {
        refuse(kRestrictedXml, "external entity");
    }

    void fatalError(const xc::SAXParseException& e) override { parse_error(e); }
    // Namespace errors (e.g. an unbound prefix) are reported as errors, not fatal ones.
    void error(const xc::SAXParseException& e) override { parse_error(e); }
    void warning(const xc::SAXParseException&) override {}

private:
    [[noreturn]] void refuse(std::string_view condition, std::string detail) {
        if (condition_.empty()) {
            condition_ = condition;
            detail_ = std::move(detail);
        }
        throw xc::SAXException("refused");
    }
    [[noreturn]] void parse_error(const xc::SAXParseException& e) {
        refuse(kNotWellFormed, to_utf8(e.getMessage()));
    }
    void flush_text() {
        if (text_.empty()) return;
        stack_.back().children().push_back(sdk::XmlElement::text_node(std::move(text_)));
        text_.clear();
    }

    std::vector<sdk::XmlElement> stack_;
    std::string text_;
    std::optional<sdk::XmlElement> result_;
    int depth_ = 0;
    std::string_view condition_;
    std::string detail_;
};

} // namespace

XercesGuard::XercesGuard() {
    std::lock_guard lock(xerces_mutex());
    if (xerces_refs == 0) {
        try {
            xc::XMLPlatformUtils::Initialize();
        } catch (const xc::XMLException& e) {
            throw std::runtime_error("Xerces-C initialization failed: " + to_utf8(e.getMessage()));
        }
    }
    ++xerces_refs;
}

XercesGuard::~XercesGuard() {
    std::lock_guard lock(xerces_mutex());
    if (--xerces_refs == 0) xc::XMLPlatformUtils::Terminate();
}

struct StanzaParser::Impl {
    explicit Impl(std::size_t max_stanza_bytes) : input(nullptr, 0, "stanza", false) {
        reader.reset(xc::XMLReaderFactory::createXMLReader());
        reader->setFeature(xc::XMLUni::fgSAX2CoreNameSpaces, true);
        reader->setFeature(xc::XMLUni::fgSAX2CoreNameSpacePrefixes, true);
        reader->setFeature(xc::XMLUni::fgSAX2CoreValidation, false);
        reader->setFeature(xc::XMLUni::fgXercesSchema, false);
        reader->setFeature(xc::XMLUni::fgXercesLoadExternalDTD, false);
        reader->setFeature(xc::XMLUni::fgXercesDisableDefaultEntityResolution, true);
        security.setEntityExpansionLimit(
            std::max<XMLSize_t>(kMinEntityExpansionLimit, max_stanza_bytes / 4));
        reader->setProperty(xc::XMLUni::fgXercesSecurityManager, &security);
        // The well-formedness-only scanner: no validation machinery on the hot path.
        reader->setProperty(xc::XMLUni::fgXercesScannerName,
                            const_cast<XMLCh*>(xc::XMLUni::fgWFXMLScanner));
        reader->setContentHandler(&builder);
        reader->setLexicalHandler(&builder);
        reader->setErrorHandler(&builder);
        reader->setEntityResolver(&builder);
        input.setEncoding(xc::XMLUni::fgUTF8EncodingString); // RFC 6120 §11.6
    }

    std::unique_ptr<xc::SAX2XMLReader> reader;
    xc::SecurityManager security;
    TreeBuilder builder;
    xc::MemBufInputSource input;
    std::string prefix; // "<stox-wrap xmlns='...' xmlns:stream='...'>"
    std::string doc;    // prefix + stanza + "</stox-wrap>", reused
};

StanzaParser::StanzaParser(std::size_t max_stanza_bytes)
    : impl_(std::make_unique<Impl>(max_stanza_bytes)) {
    set_stream_namespaces(
        {{"", std::string(sdk::kComponentNs)}, {"stream", std::string(kStreamsNs)}});
}

StanzaParser::~StanzaParser() = default;

void StanzaParser::set_stream_namespaces(
    const std::vector<std::pair<std::string, std::string>>& decls) {
    std::string& p = impl_->prefix;
    p = "<";
    p += kWrapperName;
    for (const auto& [prefix, uri] : decls) {
        if (prefix == "xml" || prefix == "xmlns") continue; // reserved, cannot be redeclared
        p += prefix.empty() ? " xmlns='" : " xmlns:";
        if (!prefix.empty()) {
            p += prefix;
            p += "='";
        }
        sdk::XmlElement::escape_into(p, uri, true);
        p += '\'';
    }
    p += '>';
}

ParseResult StanzaParser::parse(std::string_view stanza) noexcept {
    ParseResult r;
    Impl& im = *impl_;
    try {
        im.doc.assign(im.prefix);
        im.doc.append(stanza);
        im.doc.append("</").append(kWrapperName).append(">");
        im.input.resetMemBufInputSource(reinterpret_cast<const XMLByte*>(im.doc.data()),
                                        im.doc.size());
        im.builder.reset();
        try {
            im.reader->parse(im.input);
        } catch (const xc::SAXException& e) {
            r.condition = im.builder.condition().empty() ? kNotWellFormed : im.builder.condition();
            r.detail = im.builder.detail().empty() ? to_utf8(e.getMessage()) : im.builder.detail();
            return r;
        } catch (const xc::OutOfMemoryException&) {
            r.condition = kInternal;
            r.detail = "Xerces out of memory";
            return r;
        } catch (const xc::XMLException& e) {
            r.condition = kNotWellFormed;
            r.detail = to_utf8(e.getMessage());
            return r;
        }
        if (!im.builder.result()) {
            r.condition = kNotWellFormed;
            r.detail = "no element";
            return r;
        }
        r.stanza = std::move(*im.builder.result());
    } catch (const std::bad_alloc&) {
        r.condition = kInternal;
        r.detail = "out of memory";
    } catch (...) {
        r.condition = kInternal;
        r.detail = "unexpected exception from the XML parser";
    }
    return r;
}

} // namespace stox::core::xmpp
