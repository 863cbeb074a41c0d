// SPDX-License-Identifier: Apache-2.0
#include "mapping/precis.hpp"

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

namespace stox::core::precis {
namespace {

using sdk::ErrorCode;
using sdk::Result;
using sdk::Status;

struct FreeDeleter {
    void operator()(void* p) const noexcept { std::free(p); }
};
using Malloced = std::unique_ptr<std::uint8_t, FreeDeleter>;

const std::uint8_t* bytes(std::string_view s) noexcept {
    return reinterpret_cast<const std::uint8_t*>(s.data());
}

// Precondition: valid UTF-8 (checked by every caller first).
std::u32string decode(std::string_view s) {
    std::u32string out;
    out.reserve(s.size());
    const std::uint8_t* p = bytes(s);
    std::size_t left = s.size();
    while (left > 0) {
        ucs4_t uc = 0;
        const int n = u8_mbtouc(&uc, p, left);
        out.push_back(static_cast<char32_t>(uc));
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    return out;
}

std::string encode(const std::u32string& cps) {
    std::string out;
    out.reserve(cps.size());
    std::array<std::uint8_t, 6> buf{};
    for (char32_t cp : cps) {
        const int n = u8_uctomb(buf.data(), static_cast<ucs4_t>(cp), buf.size());
        if (n > 0)
            out.append(reinterpret_cast<const char*>(buf.data()), static_cast<std::size_t>(n));
    }
    return out;
}

std::string code_point_name(char32_t cp) {
    std::array<char, 16> buf{};
    std::snprintf(buf.data(), buf.size(), "U+%04X", static_cast<unsigned>(cp));
    return buf.data();
}

// NFC through libunistring; nullopt-like failure is reported as an Internal status.
Result<std::string> nfc(std::string_view s) {
    if (s.empty()) return std::string{};
    std::size_t len = 0;
    Malloced out(u8_normalize(UNINORM_NFC, bytes(s), s.size(), nullptr, &len));
    if (!out) return Status{ErrorCode::Internal, "Unicode normalization failed"};
    return std::string(reinterpret_cast<const char*>(out.get()), len);
}

bool in_category(char32_t cp, std::uint32_t mask) noexcept {
    return uc_is_general_category_withtable(static_cast<ucs4_t>(cp), mask);
}

// RFC 8264 §9.9 OldHangulJamo: Hangul_Syllable_Type L, V or T.
bool old_hangul_jamo(char32_t cp) noexcept {
    return (cp >= 0x1100 && cp <= 0x11FF) || (cp >= 0xA960 && cp <= 0xA97C) ||
           (cp >= 0xD7B0 && cp <= 0xD7C6) || (cp >= 0xD7CB && cp <= 0xD7FB);
}

// RFC 8264 §9.17 HasCompat: toNFKC(cp) != cp.
bool has_compat(char32_t cp) noexcept {
    std::array<std::uint32_t, 32> buf{};
    std::size_t len = buf.size();
    const std::uint32_t in = static_cast<std::uint32_t>(cp);
    std::uint32_t* out = u32_normalize(UNINORM_NFKC, &in, 1, buf.data(), &len);
    if (out == nullptr) return true; // be conservative: treat as not PVALID
    const bool same = len == 1 && out[0] == in;
    if (out != buf.data()) std::free(out);
    return !same;
}

// Derived property values of RFC 8264 §8, with ID_DIS and FREE_PVAL folded into one value
// (IdentifierClass disallows it, FreeformClass allows it).
enum class Prop { Pvalid, ContextJ, ContextO, IdDisFreePval, Disallowed, Unassigned };

Prop derive(char32_t cp) noexcept {
    // Exceptions (F), RFC 5892 §2.6.
    switch (cp) {
    case 0x00DF:
    case 0x03C2:
    case 0x06FD:
    case 0x06FE:
    case 0x0F0B:
    case 0x3007: return Prop::Pvalid;
    case 0x00B7:
    case 0x0375:
    case 0x05F3:
    case 0x05F4:
    case 0x30FB: return Prop::ContextO;
    case 0x0640:
    case 0x07FA:
    case 0x302E:
    case 0x302F:
    case 0x3031:
    case 0x3032:
    case 0x3033:
    case 0x3034:
    case 0x3035:
    case 0x303B: return Prop::Disallowed;
    default: break;
    }
    if ((cp >= 0x0660 && cp <= 0x0669) || (cp >= 0x06F0 && cp <= 0x06F9)) return Prop::ContextO;
    const auto uc = static_cast<ucs4_t>(cp);
    const bool nonchar = uc_is_property_not_a_character(uc);
    if (in_category(cp, UC_CATEGORY_MASK_Cn) && !nonchar) return Prop::Unassigned;
    if (cp >= 0x21 && cp <= 0x7E) return Prop::Pvalid; // ASCII7
    if (cp == 0x200C || cp == 0x200D) return Prop::ContextJ;
    if (old_hangul_jamo(cp)) return Prop::Disallowed;
    if (nonchar || uc_is_property_default_ignorable_code_point(uc)) return Prop::Disallowed;
    if (in_category(cp, UC_CATEGORY_MASK_Cc)) return Prop::Disallowed;
    if (has_compat(cp)) return Prop::IdDisFreePval;
    if (in_category(cp, UC_CATEGORY_MASK_Ll | UC_CATEGORY_MASK_Lu | UC_CATEGORY_MASK_Lo |
                            UC_CATEGORY_MASK_Nd | UC_CATEGORY_MASK_Lm | UC_CATEGORY_MASK_Mn |
                            UC_CATEGORY_MASK_Mc))
        return Prop::Pvalid;
    if (in_category(cp, UC_CATEGORY_MASK_Lt | UC_CATEGORY_MASK_Nl | UC_CATEGORY_MASK_No |
                            UC_CATEGORY_MASK_Me | UC_CATEGORY_MASK_Zs | UC_CATEGORY_MASK_S |
                            UC_CATEGORY_MASK_P))
        return Prop::IdDisFreePval;
    return Prop::Disallowed;
}

bool script_is(char32_t cp, std::string_view name) noexcept {
    const uc_script_t* s = uc_script(static_cast<ucs4_t>(cp));
    return s != nullptr && s->name != nullptr && name == s->name;
}

bool is_virama(char32_t cp) noexcept {
    return uc_combining_class(static_cast<ucs4_t>(cp)) == UC_CCC_VR;
}

int joining_type(char32_t cp) noexcept {
    return uc_joining_type(static_cast<ucs4_t>(cp));
}

// RFC 5892 Appendix A.1 / A.2.
bool context_j_ok(const std::u32string& s, std::size_t i) noexcept {
    if (i > 0 && is_virama(s[i - 1])) return true;
    if (s[i] != 0x200C) return false; // ZWJ: only the Virama rule
    // ZWNJ: (Joining_Type:{L,D})(Joining_Type:T)* ZWNJ (Joining_Type:T)*(Joining_Type:{R,D})
    std::size_t j = i;
    bool left = false;
    while (j > 0) {
        const int t = joining_type(s[--j]);
        if (t == UC_JOINING_TYPE_T) continue;
        left = t == UC_JOINING_TYPE_L || t == UC_JOINING_TYPE_D;
        break;
    }
    if (!left) return false;
    for (std::size_t k = i + 1; k < s.size(); ++k) {
        const int t = joining_type(s[k]);
        if (t == UC_JOINING_TYPE_T) continue;
        return t == UC_JOINING_TYPE_R || t == UC_JOINING_TYPE_D;
    }
    return false;
}

// RFC 5892 Appendix A.3-A.9.
bool context_o_ok(const std::u32string& s, std::size_t i) noexcept {
    const char32_t cp = s[i];
    if (cp == 0x00B7) return i > 0 && i + 1 < s.size() && s[i - 1] == 0x6C && s[i + 1] == 0x6C;
    if (cp == 0x0375) return i + 1 < s.size() && script_is(s[i + 1], "Greek");
    if (cp == 0x05F3 || cp == 0x05F4) return i > 0 && script_is(s[i - 1], "Hebrew");
    if (cp == 0x30FB) {
        for (char32_t c : s) {
            if (script_is(c, "Hiragana") || script_is(c, "Katakana") || script_is(c, "Han"))
                return true;
        }
        return false;
    }
    if (cp >= 0x0660 && cp <= 0x0669) {
        for (char32_t c : s) {
            if (c >= 0x06F0 && c <= 0x06F9) return false;
        }
        return true;
    }
    if (cp >= 0x06F0 && cp <= 0x06F9) {
        for (char32_t c : s) {
            if (c >= 0x0660 && c <= 0x0669) return false;
        }
        return true;
    }
    return false;
}

// RFC 5893 §2, applied (RFC 8265 §3.3.2 rule 5) only when the string has RTL characters.
bool bidi_rule_ok(const std::u32string& s) noexcept {
    bool rtl = false;
    for (char32_t c : s) {
        const int b = uc_bidi_category(static_cast<ucs4_t>(c));
        if (b == UC_BIDI_R || b == UC_BIDI_AL || b == UC_BIDI_AN) rtl = true;
    }
    if (!rtl || s.empty()) return true;
    const int first = uc_bidi_category(static_cast<ucs4_t>(s.front()));
    if (first == UC_BIDI_L) return false; // rule 5 forbids R/AL/AN in an LTR label
    if (first != UC_BIDI_R && first != UC_BIDI_AL) return false; // rule 1
    bool en = false;
    bool an = false;
    for (char32_t c : s) { // rule 2
        const int b = uc_bidi_category(static_cast<ucs4_t>(c));
        switch (b) {
        case UC_BIDI_EN: en = true; break;
        case UC_BIDI_AN: an = true; break;
        case UC_BIDI_R:
        case UC_BIDI_AL:
        case UC_BIDI_ES:
        case UC_BIDI_CS:
        case UC_BIDI_ET:
        case UC_BIDI_ON:
        case UC_BIDI_BN:
        case UC_BIDI_NSM: break;
        default: return false;
        }
    }
    if (en && an) return false;                  // rule 4
    for (std::size_t k = s.size(); k > 0; --k) { // rule 3
        const int b = uc_bidi_category(static_cast<ucs4_t>(s[k - 1]));
        if (b == UC_BIDI_NSM) continue;
        return b == UC_BIDI_R || b == UC_BIDI_AL || b == UC_BIDI_EN || b == UC_BIDI_AN;
    }
    return false;
}

enum class Klass { Identifier, Freeform };

Status check_code_points(const std::u32string& s, Klass klass, std::string_view what) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        bool ok = false;
        switch (derive(s[i])) {
        case Prop::Pvalid: ok = true; break;
        case Prop::IdDisFreePval: ok = klass == Klass::Freeform; break;
        case Prop::ContextJ: ok = context_j_ok(s, i); break;
        case Prop::ContextO: ok = context_o_ok(s, i); break;
        case Prop::Disallowed:
        case Prop::Unassigned: ok = false; break;
        }
        if (!ok) {
            return Status{ErrorCode::BadRequest,
                          std::string(what) + ": code point " + code_point_name(s[i]) +
                              " is not allowed (PRECIS " +
                              (klass == Klass::Identifier ? "IdentifierClass" : "FreeformClass") +
                              ")"};
        }
    }
    return Status{};
}

} // namespace

bool is_valid_utf8(std::string_view s) noexcept {
    return s.empty() || u8_check(bytes(s), s.size()) == nullptr;
}

Result<std::string> map_username(std::string_view utf8) {
    if (!is_valid_utf8(utf8)) return Status{ErrorCode::BadRequest, "localpart is not valid UTF-8"};
    if (utf8.empty()) return std::string{};
    // Width Mapping Rule (RFC 8265 §3.3.2 rule 1).
    std::u32string widened;
    for (char32_t cp : decode(utf8)) {
        int tag = 0;
        std::array<ucs4_t, UC_DECOMPOSITION_MAX_LENGTH> dec{};
        const int n = uc_decomposition(static_cast<ucs4_t>(cp), &tag, dec.data());
        if (n > 0 && (tag == UC_DECOMP_WIDE || tag == UC_DECOMP_NARROW)) {
            for (int k = 0; k < n; ++k) widened.push_back(static_cast<char32_t>(dec[k]));
        } else {
            widened.push_back(cp);
        }
    }
    const std::string w = encode(widened);
    // Case Mapping Rule (toLowerCase, locale independent) then NFC (rules 3 and 4).
    std::size_t len = 0;
    Malloced lowered(u8_tolower(bytes(w), w.size(), nullptr, UNINORM_NFC, nullptr, &len));
    if (!lowered) return Status{ErrorCode::Internal, "case mapping failed"};
    return std::string(reinterpret_cast<const char*>(lowered.get()), len);
}

Status check_username(std::string_view mapped) {
    if (mapped.empty()) return Status{ErrorCode::BadRequest, "localpart is empty"};
    if (!is_valid_utf8(mapped))
        return Status{ErrorCode::BadRequest, "localpart is not valid UTF-8"};
    auto normalized = nfc(mapped);
    if (!normalized) return normalized.status();
    if (*normalized != mapped)
        return Status{ErrorCode::BadRequest, "localpart is not in Unicode NFC"};
    const std::u32string cps = decode(mapped);
    if (Status st = check_code_points(cps, Klass::Identifier, "localpart"); !st) return st;
    if (!bidi_rule_ok(cps))
        return Status{ErrorCode::BadRequest, "localpart violates the Bidi Rule (RFC 5893)"};
    return Status{};
}

Result<std::string> enforce_opaque(std::string_view utf8) {
    if (!is_valid_utf8(utf8)) return Status{ErrorCode::BadRequest, "resource is not valid UTF-8"};
    std::u32string cps = decode(utf8);
    // Additional Mapping Rule: non-ASCII space characters -> U+0020 (RFC 8265 §4.2.1).
    for (char32_t& cp : cps) {
        if (cp != 0x20 && in_category(cp, UC_CATEGORY_MASK_Zs)) cp = 0x20;
    }
    auto normalized = nfc(encode(cps));
    if (!normalized) return normalized.status();
    if (normalized->empty()) return Status{ErrorCode::BadRequest, "resource is empty"};
    if (Status st = check_code_points(decode(*normalized), Klass::Freeform, "resource"); !st)
        return st;
    return std::move(normalized).value();
}

} // namespace stox::core::precis
