// SPDX-License-Identifier: Apache-2.0
// RFC 7247 §7 error mapping: test vectors TV-ERR-X01..X20 and TV-ERR-S01..S22 of
// ../shared/spec/stox-core.md §4.2, and every row of Tables E1 and E2 (§1.5), table-driven.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mapping/error_mapper.hpp"

namespace stox::core {
namespace {

using sdk::ErrorCode;
using sdk::SipError;
using sdk::Status;
using sdk::TargetKind;
using sdk::XmppError;
using sdk::XmppToSipContext;

XmppError cond(std::string condition, std::string text = {}, std::string address = {}) {
    XmppError e;
    e.condition = std::move(condition);
    e.type = "cancel";
    e.text = std::move(text);
    e.address = std::move(address);
    return e;
}

constexpr XmppToSipContext kBare{TargetKind::Bare, "MESSAGE", true};
constexpr XmppToSipContext kFull{TargetKind::Full, "MESSAGE", true};

class ErrorMapperTest : public ::testing::Test {
protected:
    ErrorMapperImpl m_;
};

// ---- TV-ERR-X01..X20: XMPP condition -> SIP (stox-core.md §4.2.1) ----

TEST_F(ErrorMapperTest, TvErrX01_BadRequest) { // TV-ERR-X01
    EXPECT_EQ(m_.xmpp_to_sip(cond("bad-request"), kBare).status, 400);
    EXPECT_EQ(m_.xmpp_to_sip(cond("bad-request"), kFull).status, 400);
    EXPECT_EQ(m_.xmpp_to_sip(cond("bad-request"), kFull).reason, "Bad Request");
}

TEST_F(ErrorMapperTest, TvErrX02_Conflict) { // TV-ERR-X02
    EXPECT_EQ(m_.xmpp_to_sip(cond("conflict"), kBare).status, 400);
    EXPECT_EQ(m_.xmpp_to_sip(cond("conflict"), kFull).status, 400);
}

TEST_F(ErrorMapperTest, TvErrX03_FeatureNotImplementedFullJid405WithAllow) { // TV-ERR-X03
    const SipError s = m_.xmpp_to_sip(cond("feature-not-implemented"), kFull);
    EXPECT_EQ(s.status, 405);
    EXPECT_EQ(s.reason, "Method Not Allowed");
    EXPECT_EQ(s.allow, "MESSAGE, SUBSCRIBE, NOTIFY, OPTIONS");
}

TEST_F(ErrorMapperTest, TvErrX04_FeatureNotImplementedBareJid501) { // TV-ERR-X04
    const SipError s = m_.xmpp_to_sip(cond("feature-not-implemented"), kBare);
    EXPECT_EQ(s.status, 501);
    EXPECT_EQ(s.allow, "");
}

TEST_F(ErrorMapperTest, TvErrX05_Forbidden403Or603) { // TV-ERR-X05
    EXPECT_EQ(m_.xmpp_to_sip(cond("forbidden"), kFull).status, 403);
    EXPECT_EQ(m_.xmpp_to_sip(cond("forbidden"), kBare).status, 603);
}

TEST_F(ErrorMapperTest, TvErrX06_GoneWithAddress301Contact) { // TV-ERR-X06
    const SipError s = m_.xmpp_to_sip(cond("gone", "", "xmpp:romeo@example.org"), kBare);
    EXPECT_EQ(s.status, 301);
    EXPECT_EQ(s.reason, "Moved Permanently");
    EXPECT_EQ(s.contact, "<sip:romeo@example.org>");
}

TEST_F(ErrorMapperTest, TvErrX07_GoneEmpty410) { // TV-ERR-X07
    const SipError s = m_.xmpp_to_sip(cond("gone"), kBare);
    EXPECT_EQ(s.status, 410);
    EXPECT_EQ(s.contact, "");
}

TEST_F(ErrorMapperTest, TvErrX08_ItemNotFound404Or604) { // TV-ERR-X08
    EXPECT_EQ(m_.xmpp_to_sip(cond("item-not-found"), kFull).status, 404);
    EXPECT_EQ(m_.xmpp_to_sip(cond("item-not-found"), kBare).status, 604);
}

TEST_F(ErrorMapperTest, TvErrX09_NotAcceptable406Or606) { // TV-ERR-X09
    EXPECT_EQ(m_.xmpp_to_sip(cond("not-acceptable"), kFull).status, 406);
    EXPECT_EQ(m_.xmpp_to_sip(cond("not-acceptable"), kBare).status, 606);
}

TEST_F(ErrorMapperTest, TvErrX10_RecipientUnavailable480Or600) { // TV-ERR-X10
    EXPECT_EQ(m_.xmpp_to_sip(cond("recipient-unavailable"), kFull).status, 480);
    EXPECT_EQ(m_.xmpp_to_sip(cond("recipient-unavailable"), kBare).status, 600);
}

TEST_F(ErrorMapperTest, TvErrX11_RemoteServerNotFoundFromContext) { // TV-ERR-X11, A-11
    XmppToSipContext nxdomain{TargetKind::Bare, "MESSAGE", false};
    XmppToSipContext timeout{TargetKind::Bare, "MESSAGE", true};
    EXPECT_EQ(m_.xmpp_to_sip(cond("remote-server-not-found"), nxdomain).status, 404);
    EXPECT_EQ(m_.xmpp_to_sip(cond("remote-server-not-found"), timeout).status, 408);
}

TEST_F(ErrorMapperTest, TvErrX12_RemoteServerTimeout408) { // TV-ERR-X12
    EXPECT_EQ(m_.xmpp_to_sip(cond("remote-server-timeout"), kBare).status, 408);
}

TEST_F(ErrorMapperTest, TvErrX13_ServiceUnavailableNever503) { // TV-ERR-X13, CORE-ERR-6
    EXPECT_EQ(m_.xmpp_to_sip(cond("service-unavailable"), kBare).status, 403);
    EXPECT_EQ(m_.xmpp_to_sip(cond("service-unavailable"), kFull).status, 403);
}

TEST_F(ErrorMapperTest, TvErrX14_Redirect302Contact) { // TV-ERR-X14
    const SipError s = m_.xmpp_to_sip(cond("redirect", "", "xmpp:juliet@im.example.com"), kFull);
    EXPECT_EQ(s.status, 302);
    EXPECT_EQ(s.contact, "<sip:juliet@im.example.com>");
}

TEST_F(ErrorMapperTest, TvErrX15_TextBecomesReasonPhrase) { // TV-ERR-X15
    const SipError s = m_.xmpp_to_sip(cond("resource-constraint", "Mailbox full"), kBare);
    EXPECT_EQ(s.status, 500);
    EXPECT_EQ(s.reason, "Mailbox full");
}

TEST_F(ErrorMapperTest, TvErrX16_JidMalformedSubscriptionRequiredUndefined400) { // TV-ERR-X16
    EXPECT_EQ(m_.xmpp_to_sip(cond("jid-malformed"), kBare).status, 400);
    EXPECT_EQ(m_.xmpp_to_sip(cond("subscription-required"), kBare).status, 400);
    EXPECT_EQ(m_.xmpp_to_sip(cond("undefined-condition"), kBare).status, 400);
}

TEST_F(ErrorMapperTest, TvErrX17_UnexpectedRequestByMethod) { // TV-ERR-X17, A-12
    EXPECT_EQ(m_.xmpp_to_sip(cond("unexpected-request"), kBare).status, 400);
    XmppToSipContext subscribe{TargetKind::Bare, "SUBSCRIBE", true};
    EXPECT_EQ(m_.xmpp_to_sip(cond("unexpected-request"), subscribe).status, 491);
    EXPECT_EQ(m_.xmpp_to_sip(cond("unexpected-request"), subscribe).reason, "Request Pending");
}

TEST_F(ErrorMapperTest, TvErrX18_InternalNotAllowedPolicy) { // TV-ERR-X18
    EXPECT_EQ(m_.xmpp_to_sip(cond("internal-server-error"), kBare).status, 500);
    EXPECT_EQ(m_.xmpp_to_sip(cond("not-allowed"), kBare).status, 403);
    EXPECT_EQ(m_.xmpp_to_sip(cond("policy-violation"), kBare).status, 403);
}

TEST_F(ErrorMapperTest, TvErrX19_AuthConditions403WithoutChallenge) { // TV-ERR-X19, A-38
    const SipError na = m_.xmpp_to_sip(cond("not-authorized"), kBare);
    EXPECT_EQ(na.status, 403);
    EXPECT_EQ(na.reason, "Not Authorized");
    const SipError rr = m_.xmpp_to_sip(cond("registration-required"), kFull);
    EXPECT_EQ(rr.status, 403);
    EXPECT_EQ(rr.reason, "Registration Required");
}

TEST_F(ErrorMapperTest, TvErrX20_UnknownConditionIs400) { // TV-ERR-X20, A-14
    EXPECT_EQ(m_.xmpp_to_sip(cond("<foo xmlns='urn:example'/>"), kBare).status, 400);
    EXPECT_EQ(m_.xmpp_to_sip(cond("foo"), kFull).status, 400);
    EXPECT_EQ(m_.xmpp_to_sip(cond(""), kFull).status, 400);
    EXPECT_EQ(m_.xmpp_to_sip(cond("payment-required"), kFull).status, 400);
}

// ---- TV-ERR-S01..S22: SIP -> XMPP (stox-core.md §4.2.2) ----

void expect_xmpp(const XmppError& e, std::string_view condition, std::string_view type) {
    EXPECT_EQ(e.condition, condition);
    EXPECT_EQ(e.type, type);
}

TEST_F(ErrorMapperTest, TvErrS01_BusyHereWithText) { // TV-ERR-S01
    const XmppError e = m_.sip_to_xmpp(486, "Busy Here");
    expect_xmpp(e, "recipient-unavailable", "wait");
    EXPECT_EQ(e.text, "Busy Here");
    EXPECT_EQ(e.address, "");
}

TEST_F(ErrorMapperTest, TvErrS02_UnsupportedMediaType) { // TV-ERR-S02
    expect_xmpp(m_.sip_to_xmpp(415, "Unsupported Media Type"), "not-acceptable", "modify");
}

TEST_F(ErrorMapperTest, TvErrS03_ServiceUnavailableIsInternalServerError) { // TV-ERR-S03
    expect_xmpp(m_.sip_to_xmpp(503, "Service Unavailable"), "internal-server-error", "cancel");
}

TEST_F(ErrorMapperTest, TvErrS04_MovedPermanentlyGoneWithAddress) { // TV-ERR-S04
    const XmppError e = m_.sip_to_xmpp(301, "Moved Permanently", "<sip:romeo@example.org>");
    expect_xmpp(e, "gone", "cancel");
    EXPECT_EQ(e.address, "xmpp:romeo@example.org");
}

TEST_F(ErrorMapperTest, TvErrS05_GoneWithoutAddress) { // TV-ERR-S05, CORE-ERR-9
    const XmppError e = m_.sip_to_xmpp(410, "Gone", "<sip:romeo@example.org>");
    expect_xmpp(e, "gone", "cancel");
    EXPECT_EQ(e.address, "");
}

TEST_F(ErrorMapperTest, TvErrS06_Unlisted4xxIsBadRequest) { // TV-ERR-S06
    expect_xmpp(m_.sip_to_xmpp(429, "Provide Referrer Identity"), "bad-request", "modify");
}

TEST_F(ErrorMapperTest, TvErrS07_Unlisted5xxIsInternalServerError) { // TV-ERR-S07
    expect_xmpp(m_.sip_to_xmpp(580, "Precondition Failure"), "internal-server-error", "cancel");
}

TEST_F(ErrorMapperTest, TvErrS08_Unlisted6xxIsRecipientUnavailable) { // TV-ERR-S08
    expect_xmpp(m_.sip_to_xmpp(607, "Unwanted"), "recipient-unavailable", "wait");
}

TEST_F(ErrorMapperTest, TvErrS09_Unlisted3xxRedirectWithAddress) { // TV-ERR-S09
    const XmppError e = m_.sip_to_xmpp(399, "Whatever", "<sip:x@example.net>");
    expect_xmpp(e, "redirect", "modify");
    EXPECT_EQ(e.address, "xmpp:x@example.net");
}

TEST_F(ErrorMapperTest, TvErrS10_PaymentRequiredIsBadRequest) { // TV-ERR-S10
    expect_xmpp(m_.sip_to_xmpp(402, "Payment Required"), "bad-request", "modify");
}

TEST_F(ErrorMapperTest, TvErrS11_RequestTimeout) { // TV-ERR-S11
    expect_xmpp(m_.sip_to_xmpp(408, "Request Timeout"), "remote-server-timeout", "wait");
}

TEST_F(ErrorMapperTest, TvErrS12_NotFoundAndDoesNotExistAnywhere) { // TV-ERR-S12
    expect_xmpp(m_.sip_to_xmpp(404, "Not Found"), "item-not-found", "cancel");
    expect_xmpp(m_.sip_to_xmpp(604, "Does Not Exist Anywhere"), "item-not-found", "cancel");
}

TEST_F(ErrorMapperTest, TvErrS13_DeclineAndBusyEverywhere) { // TV-ERR-S13
    expect_xmpp(m_.sip_to_xmpp(603, "Decline"), "recipient-unavailable", "wait");
    expect_xmpp(m_.sip_to_xmpp(600, "Busy Everywhere"), "recipient-unavailable", "wait");
}

TEST_F(ErrorMapperTest, TvErrS14_AuthChallenges) { // TV-ERR-S14
    expect_xmpp(m_.sip_to_xmpp(401, "Unauthorized"), "not-authorized", "auth");
    expect_xmpp(m_.sip_to_xmpp(407, "Proxy Authentication Required"), "registration-required",
                "auth");
}

TEST_F(ErrorMapperTest, TvErrS15_TooLargeIsPolicyViolation) { // TV-ERR-S15
    expect_xmpp(m_.sip_to_xmpp(413, "Request Entity Too Large"), "policy-violation", "modify");
    expect_xmpp(m_.sip_to_xmpp(414, "Request-URI Too Long"), "policy-violation", "modify");
    expect_xmpp(m_.sip_to_xmpp(513, "Message Too Large"), "policy-violation", "modify");
}

TEST_F(ErrorMapperTest, TvErrS16_DialogAndAddressErrorsAreItemNotFound) { // TV-ERR-S16
    expect_xmpp(m_.sip_to_xmpp(481, "Call/Transaction Does Not Exist"), "item-not-found", "cancel");
    expect_xmpp(m_.sip_to_xmpp(484, "Address Incomplete"), "item-not-found", "cancel");
    expect_xmpp(m_.sip_to_xmpp(485, "Ambiguous"), "item-not-found", "cancel");
}

TEST_F(ErrorMapperTest, TvErrS17_RequestPending) { // TV-ERR-S17
    expect_xmpp(m_.sip_to_xmpp(491, "Request Pending"), "unexpected-request", "wait");
}

TEST_F(ErrorMapperTest, TvErrS18_BadGatewayAndServerTimeout) { // TV-ERR-S18
    expect_xmpp(m_.sip_to_xmpp(502, "Bad Gateway"), "remote-server-not-found", "cancel");
    expect_xmpp(m_.sip_to_xmpp(504, "Server Time-out"), "remote-server-timeout", "wait");
}

TEST_F(ErrorMapperTest, TvErrS19_FeatureNotImplemented) { // TV-ERR-S19
    for (int code : {420, 405, 501, 439})
        expect_xmpp(m_.sip_to_xmpp(code, ""), "feature-not-implemented", "cancel");
}

TEST_F(ErrorMapperTest, TvErrS20_IntervalTooBrief) { // TV-ERR-S20
    expect_xmpp(m_.sip_to_xmpp(423, "Interval Too Brief"), "resource-constraint", "wait");
}

TEST_F(ErrorMapperTest, TvErrS21_ProvisionalAndSuccessAreNotErrors) { // TV-ERR-S21
    for (int code : {180, 200, 202}) {
        const XmppError e = m_.sip_to_xmpp(code, "Ringing", "<sip:x@example.net>");
        EXPECT_TRUE(e.condition.empty()) << code;
        EXPECT_TRUE(e.type.empty()) << code;
        EXPECT_TRUE(e.text.empty()) << code;
        EXPECT_TRUE(e.address.empty()) << code;
    }
}

TEST_F(ErrorMapperTest, TvErrS22_OutOfRangeIsInternalServerError) { // TV-ERR-S22, A-14
    const XmppError e = m_.sip_to_xmpp(750, "Odd");
    expect_xmpp(e, "internal-server-error", "cancel");
    EXPECT_EQ(e.text, "Odd");
}

// ---- Table E1, every row (stox-core.md §1.5.1) ----

struct E1Row {
    const char* condition;
    int bare;
    int full;
    const char* reason_bare; // nullptr: the standard phrase of the code
};

const std::vector<E1Row>& e1_rows() {
    static const std::vector<E1Row> rows = {
        {"bad-request", 400, 400, nullptr},
        {"conflict", 400, 400, nullptr},
        {"feature-not-implemented", 501, 405, nullptr},
        {"forbidden", 603, 403, nullptr},
        {"gone", 410, 410, nullptr}, // no character data
        {"internal-server-error", 500, 500, nullptr},
        {"item-not-found", 604, 404, nullptr},
        {"jid-malformed", 400, 400, nullptr},
        {"not-acceptable", 606, 406, nullptr},
        {"not-allowed", 403, 403, nullptr},
        {"not-authorized", 403, 403, "Not Authorized"}, // A-38 (RFC: 401)
        {"policy-violation", 403, 403, nullptr},
        {"recipient-unavailable", 600, 480, nullptr},
        {"redirect", 302, 302, nullptr},
        {"registration-required", 403, 403, "Registration Required"}, // A-38 (RFC: 407)
        {"remote-server-not-found", 408, 408, nullptr}, // server exists but unreachable
        {"remote-server-timeout", 408, 408, nullptr},
        {"resource-constraint", 500, 500, nullptr},
        {"service-unavailable", 403, 403, nullptr}, // A-10, never 503
        {"subscription-required", 400, 400, nullptr},
        {"undefined-condition", 400, 400, nullptr},
        {"unexpected-request", 400, 400, nullptr}, // MESSAGE context
        {"payment-required", 400, 400, nullptr},   // legacy: as undefined-condition
        {"urn:example:foo", 400, 400, nullptr},    // unknown
    };
    return rows;
}

TEST_F(ErrorMapperTest, TableE1EveryRow) { // CORE-ERR-1..6, A-9..A-12, A-38
    for (const E1Row& row : e1_rows()) {
        SCOPED_TRACE(row.condition);
        const SipError bare = m_.xmpp_to_sip(cond(row.condition), kBare);
        const SipError full = m_.xmpp_to_sip(cond(row.condition), kFull);
        EXPECT_EQ(bare.status, row.bare);
        EXPECT_EQ(full.status, row.full);
        EXPECT_EQ(bare.reason, row.reason_bare ? std::string(row.reason_bare)
                                               : std::string(sip_reason_phrase(row.bare)));
        EXPECT_NE(bare.status, 503);
        EXPECT_NE(full.status, 503);
        EXPECT_NE(full.status, 401); // never a 401/407 without a challenge
        EXPECT_NE(full.status, 407);
        EXPECT_EQ(full.allow.empty(), full.status != 405);
        EXPECT_TRUE(bare.allow.empty());
        EXPECT_TRUE(bare.contact.empty());
    }
}

TEST_F(ErrorMapperTest, TableE1TextAlwaysWinsAsReasonPhrase) { // CORE-ERR-11
    for (const E1Row& row : e1_rows()) {
        EXPECT_EQ(m_.xmpp_to_sip(cond(row.condition, "  Custom\r\ntext "), kBare).reason,
                  "Custom text")
            << row.condition;
    }
}

TEST_F(ErrorMapperTest, ConditionSpellingsAccepted) {
    EXPECT_EQ(m_.xmpp_to_sip(cond("<item-not-found/>"), kFull).status, 404);
    EXPECT_EQ(m_.xmpp_to_sip(
                    cond(" <item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/> "), kFull)
                  .status,
              404);
}

// ---- Table E2, every row (stox-core.md §1.5.2) ----

struct E2Row {
    int code;
    const char* condition;
    const char* type;
};

TEST_F(ErrorMapperTest, TableE2EveryListedCode) { // CORE-ERR-7, A-13
    const std::vector<E2Row> rows = {
        {300, "redirect", "modify"},
        {301, "redirect", "modify"}, // no Contact given: see the 301 tests below
        {302, "redirect", "modify"},
        {305, "redirect", "modify"},
        {380, "not-acceptable", "modify"},
        {400, "bad-request", "modify"},
        {401, "not-authorized", "auth"},
        {402, "bad-request", "modify"},
        {403, "forbidden", "auth"},
        {404, "item-not-found", "cancel"},
        {405, "feature-not-implemented", "cancel"},
        {406, "not-acceptable", "modify"},
        {407, "registration-required", "auth"},
        {408, "remote-server-timeout", "wait"},
        {410, "gone", "cancel"},
        {413, "policy-violation", "modify"},
        {414, "policy-violation", "modify"},
        {415, "not-acceptable", "modify"},
        {416, "not-acceptable", "modify"},
        {420, "feature-not-implemented", "cancel"},
        {421, "not-acceptable", "modify"},
        {423, "resource-constraint", "wait"},
        {430, "recipient-unavailable", "wait"},
        {439, "feature-not-implemented", "cancel"},
        {440, "policy-violation", "modify"},
        {480, "recipient-unavailable", "wait"},
        {481, "item-not-found", "cancel"},
        {482, "not-acceptable", "modify"},
        {483, "not-acceptable", "modify"},
        {484, "item-not-found", "cancel"},
        {485, "item-not-found", "cancel"},
        {486, "recipient-unavailable", "wait"},
        {487, "recipient-unavailable", "wait"},
        {488, "not-acceptable", "modify"},
        {489, "policy-violation", "modify"},
        {491, "unexpected-request", "wait"},
        {493, "bad-request", "modify"},
        {500, "internal-server-error", "cancel"},
        {501, "feature-not-implemented", "cancel"},
        {502, "remote-server-not-found", "cancel"},
        {503, "internal-server-error", "cancel"},
        {504, "remote-server-timeout", "wait"},
        {505, "not-acceptable", "modify"},
        {513, "policy-violation", "modify"},
        {600, "recipient-unavailable", "wait"},
        {603, "recipient-unavailable", "wait"},
        {604, "item-not-found", "cancel"},
        {606, "not-acceptable", "modify"},
    };
    for (const E2Row& row : rows) {
        SCOPED_TRACE(row.code);
        const XmppError e = m_.sip_to_xmpp(row.code, sip_reason_phrase(row.code));
        expect_xmpp(e, row.condition, row.type);
        EXPECT_EQ(e.text, sip_reason_phrase(row.code));
        EXPECT_EQ(e.type, default_error_type(e.condition));
        EXPECT_NE(e.condition, "service-unavailable");
    }
}

TEST_F(ErrorMapperTest, TableE2ClassDefaults) { // CORE-ERR-8, A-14
    const std::vector<E2Row> rows = {
        {303, "redirect", "modify"},
        {350, "redirect", "modify"},
        {399, "redirect", "modify"},
        {412, "bad-request", "modify"},
        {417, "bad-request", "modify"},
        {422, "bad-request", "modify"},
        {428, "bad-request", "modify"},
        {429, "bad-request", "modify"},
        {433, "bad-request", "modify"},
        {436, "bad-request", "modify"},
        {437, "bad-request", "modify"},
        {438, "bad-request", "modify"},
        {469, "bad-request", "modify"},
        {470, "bad-request", "modify"},
        {494, "bad-request", "modify"},
        {499, "bad-request", "modify"},
        {555, "internal-server-error", "cancel"},
        {580, "internal-server-error", "cancel"},
        {599, "internal-server-error", "cancel"},
        {607, "recipient-unavailable", "wait"},
        {608, "recipient-unavailable", "wait"},
        {699, "recipient-unavailable", "wait"},
        // Outside 100..699 there is no class.
        {-1, "internal-server-error", "cancel"},
        {0, "internal-server-error", "cancel"},
        {99, "internal-server-error", "cancel"},
        {700, "internal-server-error", "cancel"},
        {750, "internal-server-error", "cancel"},
        {1000, "internal-server-error", "cancel"},
    };
    for (const E2Row& row : rows) {
        SCOPED_TRACE(row.code);
        expect_xmpp(m_.sip_to_xmpp(row.code, ""), row.condition, row.type);
    }
}

TEST_F(ErrorMapperTest, TableE2NoErrorFor1xx2xx) { // CORE-ERR-10
    for (int code : {100, 180, 181, 182, 183, 199, 200, 202, 204, 299}) {
        const XmppError e = m_.sip_to_xmpp(code, "x");
        EXPECT_TRUE(e.condition.empty()) << code;
        EXPECT_TRUE(e.text.empty()) << code;
    }
}

// ---- 3xx addresses (CORE-ERR-4, CORE-ERR-9, stox-core.md Table E2 301/302 rows) ----

TEST_F(ErrorMapperTest, MovedPermanentlyWithoutUsableContactIsRedirect) {
    XmppError e = m_.sip_to_xmpp(301, "Moved Permanently");
    expect_xmpp(e, "redirect", "modify");
    EXPECT_EQ(e.address, "");
    e = m_.sip_to_xmpp(301, "Moved Permanently", "<tel:+15551234567>");
    expect_xmpp(e, "redirect", "modify");
    EXPECT_EQ(e.address, "");
    e = m_.sip_to_xmpp(301, "Moved Permanently", "*");
    expect_xmpp(e, "redirect", "modify");
}

TEST_F(ErrorMapperTest, ContactForms) {
    // name-addr with display name, gr and header parameters.
    XmppError e = m_.sip_to_xmpp(302, "Moved Temporarily",
                                 "\"Romeo\" <sip:Romeo@Example.org;gr=abc>;q=0.7;expires=60");
    expect_xmpp(e, "redirect", "modify");
    EXPECT_EQ(e.address, "xmpp:romeo@example.org/abc");
    // addr-spec: ';' starts header parameters.
    e = m_.sip_to_xmpp(302, "", "sip:romeo@example.org;q=0.5");
    EXPECT_EQ(e.address, "xmpp:romeo@example.org");
    // First of several contacts.
    e = m_.sip_to_xmpp(300, "", "<sip:a@example.org>, <sip:b@example.org>");
    EXPECT_EQ(e.address, "xmpp:a@example.org");
    // XEP-0106 escapes are percent-encoded in the IRI (RFC 5122 nodeid has no '\').
    e = m_.sip_to_xmpp(301, "", "<sip:o'malley@example.org>");
    expect_xmpp(e, "gone", "cancel");
    EXPECT_EQ(e.address, "xmpp:o%5C27malley@example.org");
    // IDN domain stays a U-label in the IRI; resource characters outside resid are encoded.
    e = m_.sip_to_xmpp(302, "", "<sip:j@xn--caf-dma.example;gr=a%20b%2Fc>");
    EXPECT_EQ(e.address, "xmpp:j@caf\xC3\xA9.example/a%20b%2Fc");
    // 380 is not a redirect: no address.
    e = m_.sip_to_xmpp(380, "Alternative Service", "<sip:x@example.org>");
    expect_xmpp(e, "not-acceptable", "modify");
    EXPECT_EQ(e.address, "");
    // Error responses other than 3xx never carry an address.
    e = m_.sip_to_xmpp(404, "Not Found", "<sip:x@example.org>");
    EXPECT_EQ(e.address, "");
    // Unterminated name-addr: unusable.
    e = m_.sip_to_xmpp(302, "", "<sip:x@example.org");
    EXPECT_EQ(e.address, "");
    // sips: Contact is an identity, accepted.
    e = m_.sip_to_xmpp(302, "", "<sips:x@example.org>");
    EXPECT_EQ(e.address, "xmpp:x@example.org");
}

TEST_F(ErrorMapperTest, GoneAndRedirectAddressForms) { // Table E1 gone/redirect [CHOICE]
    auto contact_of = [&](std::string_view c, std::string address) {
        return m_.xmpp_to_sip(cond(std::string(c), "", std::move(address)), kBare);
    };
    // sip: URI copied as is.
    SipError s = contact_of("gone", "sip:romeo@example.org;transport=tcp");
    EXPECT_EQ(s.status, 301);
    EXPECT_EQ(s.contact, "<sip:romeo@example.org;transport=tcp>");
    // A plain JID, with resource -> gr.
    s = contact_of("redirect", "juliet@example.com/balcony");
    EXPECT_EQ(s.contact, "<sip:juliet@example.com;gr=balcony>");
    // xmpp: IRI with an authority, a query and percent-encoding.
    s = contact_of("gone", "  xmpp://guest@example.com/o%5C27malley@example.org?message  ");
    EXPECT_EQ(s.status, 301);
    EXPECT_EQ(s.contact, "<sip:o'malley@example.org>");
    s = contact_of("redirect", "xmpp:j@caf\xC3\xA9.example/a%20b");
    EXPECT_EQ(s.contact, "<sip:j@xn--caf-dma.example;gr=a%20b>");
    // Unusable addresses: gone -> 410 (it specifies no new address), redirect keeps 302.
    for (const char* bad :
         {"tel:+15551234567", "xmpp:", "xmpp:a%zz@example.org", "   ", "mailto:a@example.org",
          "xmpp:a%2Fb@example.org", "sip:a\"b@example.org", "not a jid"}) {
        SCOPED_TRACE(bad);
        EXPECT_EQ(contact_of("gone", bad).status, 410);
        EXPECT_EQ(contact_of("gone", bad).contact, "");
        EXPECT_EQ(contact_of("redirect", bad).status, 302);
        EXPECT_EQ(contact_of("redirect", bad).contact, "");
    }
}

TEST_F(ErrorMapperTest, AddressesRoundTripThroughBothTables) {
    for (const char* contact :
         {"<sip:romeo@example.org>", "<sip:o'malley@example.org>",
          "<sip:m&m@example.org;gr=dev%201>", "<sip:j@xn--caf-dma.example>"}) {
        SCOPED_TRACE(contact);
        const XmppError gone = m_.sip_to_xmpp(301, "Moved Permanently", contact);
        ASSERT_EQ(gone.condition, "gone");
        const SipError back = m_.xmpp_to_sip(gone, kBare);
        EXPECT_EQ(back.status, 301);
        EXPECT_EQ(back.contact, contact);
    }
}

// ---- Reason-Phrase / <text/> sanitising (Table E1 text row) ----

TEST(SanitizeText, StripsControlsAndCollapsesWhitespace) {
    EXPECT_EQ(sanitize_text("Mailbox\r\nfull", 128), "Mailbox full");
    EXPECT_EQ(sanitize_text("  a \t\t b  ", 128), "a b");
    EXPECT_EQ(sanitize_text(std::string("a\0b\x01\x7F"
                                        "c",
                                        6),
                            128),
              "abc");
    EXPECT_EQ(sanitize_text("a\xC2\x85z", 128), "az");     // C1 NEL
    EXPECT_EQ(sanitize_text("a\xEF\xBF\xBEz", 128), "az"); // U+FFFE
    EXPECT_EQ(sanitize_text("a\xFF\xC3z", 128), "az");     // invalid UTF-8 dropped
    EXPECT_EQ(sanitize_text("\r\n", 128), "");
    EXPECT_EQ(sanitize_text("caf\xC3\xA9", 128), "caf\xC3\xA9");
}

TEST(SanitizeText, CapsWithoutCuttingUtf8) {
    std::string han;
    for (int i = 0; i < 50; ++i) han += "\xE6\xBC\xA2";
    const std::string out = sanitize_text("a" + han, 128);
    EXPECT_EQ(out.size(), 127U); // 1 + 42 * 3: a 43rd character would need 130 octets
    EXPECT_EQ(out, "a" + han.substr(0, 126));
    EXPECT_EQ(sanitize_text(std::string(300, 'x'), 128), std::string(128, 'x'));
    EXPECT_EQ(sanitize_text(std::string(127, 'x') + " yz", 128), std::string(127, 'x'));
}

TEST_F(ErrorMapperTest, ReasonPhraseFromHostileText) {
    std::string long_text(500, 'e');
    const SipError s = m_.xmpp_to_sip(cond("forbidden", long_text), kFull);
    EXPECT_EQ(s.reason.size(), kMaxReasonPhrase);
    const SipError inj = m_.xmpp_to_sip(cond("forbidden", "x\r\nVia: evil"), kFull);
    EXPECT_EQ(inj.reason, "x Via: evil");
    EXPECT_EQ(inj.reason.find_first_of("\r\n"), std::string::npos);
    // Text that sanitises to nothing falls back to the standard phrase.
    EXPECT_EQ(m_.xmpp_to_sip(cond("forbidden", "\x01\r\n"), kFull).reason, "Forbidden");
}

TEST_F(ErrorMapperTest, SipReasonBecomesSanitisedText) { // CORE-ERR-11
    EXPECT_EQ(m_.sip_to_xmpp(486, " Busy\tHere ").text, "Busy Here");
    EXPECT_EQ(m_.sip_to_xmpp(486, "").text, "");
    EXPECT_EQ(m_.sip_to_xmpp(486, std::string(5000, 'b')).text.size(), kMaxErrorText);
    EXPECT_EQ(m_.sip_to_xmpp(486, "a\x01\xFF"
                                  "b")
                  .text,
              "ab");
}

// ---- Semantic Status -> protocol ----

struct StatusRow {
    ErrorCode code;
    const char* condition;
    const char* type;
    int sip;
    const char* reason;
};

TEST_F(ErrorMapperTest, EveryErrorCodeHasAMapping) {
    const std::vector<StatusRow> rows = {
        {ErrorCode::BadRequest, "bad-request", "modify", 400, "Bad Request"},
        {ErrorCode::UnsupportedScheme, "jid-malformed", "modify", 416, "Unsupported URI Scheme"},
        {ErrorCode::SecureOnly, "not-acceptable", "modify", 480, "SIPS Not Allowed"},
        {ErrorCode::ItemNotFound, "item-not-found", "cancel", 404, "Not Found"},
        {ErrorCode::Forbidden, "forbidden", "auth", 403, "Forbidden"},
        {ErrorCode::NotAuthorized, "not-authorized", "auth", 403, "Not Authorized"},
        {ErrorCode::ServiceUnavailable, "service-unavailable", "cancel", 403, "Forbidden"},
        {ErrorCode::Timeout, "remote-server-timeout", "wait", 408, "Request Timeout"},
        {ErrorCode::Unsupported, "feature-not-implemented", "cancel", 501, "Not Implemented"},
        {ErrorCode::Internal, "internal-server-error", "cancel", 500, "Server Internal Error"},
        {ErrorCode::Overloaded, "resource-constraint", "wait", 503, "Service Unavailable"},
        {ErrorCode::TooLarge, "policy-violation", "modify", 413, "Request Entity Too Large"},
        {ErrorCode::InvalidConfig, "internal-server-error", "cancel", 500, "Server Internal Error"},
        {ErrorCode::Declined, "service-unavailable", "cancel", 501, "Not Implemented"},
        {ErrorCode::Unreachable, "remote-server-not-found", "cancel", 408, "Request Timeout"},
        {ErrorCode::Cancelled, "recipient-unavailable", "wait", 487, "Request Terminated"},
    };
    for (const StatusRow& row : rows) {
        SCOPED_TRACE(std::string(sdk::to_string(row.code)));
        const Status st(row.code, "detail for logs\r\n");
        const XmppError x = m_.xmpp_for(st);
        EXPECT_EQ(x.condition, row.condition);
        EXPECT_EQ(x.type, row.type);
        EXPECT_EQ(x.text, "detail for logs");
        EXPECT_TRUE(is_known_condition(x.condition));
        const SipError s = m_.sip_for(st);
        EXPECT_EQ(s.status, row.sip);
        EXPECT_EQ(s.reason, row.reason);
    }
    EXPECT_TRUE(m_.xmpp_for(Status{}).condition.empty());
    EXPECT_EQ(m_.sip_for(Status{}).status, 200);
}

TEST_F(ErrorMapperTest, UnknownErrorCodeValueStillMapped) {
    const Status odd(static_cast<ErrorCode>(999), "future code");
    EXPECT_EQ(m_.xmpp_for(odd).condition, "undefined-condition");
    EXPECT_EQ(m_.sip_for(odd).status, 500);
}

// ---- Helpers ----

TEST(ErrorHelpers, KnownConditionsAndDefaultTypes) { // RFC 6120 §8.3.3
    const std::vector<std::pair<const char*, const char*>> defaults = {
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
        {"undefined-condition", "cancel"},
        {"unexpected-request", "wait"},
    };
    EXPECT_EQ(defaults.size(), 22U);
    for (const auto& [c, t] : defaults) {
        EXPECT_TRUE(is_known_condition(c)) << c;
        EXPECT_EQ(default_error_type(c), t) << c;
    }
    EXPECT_TRUE(is_known_condition("payment-required"));
    EXPECT_FALSE(is_known_condition("foo"));
    EXPECT_FALSE(is_known_condition(""));
    EXPECT_FALSE(is_known_condition("Item-Not-Found"));
    EXPECT_EQ(default_error_type("foo"), "cancel");
}

TEST(ErrorHelpers, NormalizeCondition) {
    EXPECT_EQ(normalize_condition("item-not-found"), "item-not-found");
    EXPECT_EQ(normalize_condition("<item-not-found/>"), "item-not-found");
    EXPECT_EQ(normalize_condition(" <gone xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>"), "gone");
    EXPECT_EQ(normalize_condition("<foo xmlns='urn:example'/>"), "foo");
    EXPECT_EQ(normalize_condition(""), "");
    EXPECT_EQ(normalize_condition("<"), "");
}

TEST(ErrorHelpers, TargetKind) {
    sdk::TargetKind k{};
    EXPECT_TRUE(parse_target_kind("bare", k));
    EXPECT_EQ(k, TargetKind::Bare);
    EXPECT_TRUE(parse_target_kind("FULL", k));
    EXPECT_EQ(k, TargetKind::Full);
    EXPECT_FALSE(parse_target_kind("half", k));
    EXPECT_EQ(target_kind_of("juliet@example.com"), TargetKind::Bare);
    EXPECT_EQ(target_kind_of("juliet@example.com/balcony"), TargetKind::Full);
    EXPECT_EQ(target_kind_of("example.com"), TargetKind::Bare);
}

TEST(ErrorHelpers, SipReasonPhrases) { // RFC 3261 §21
    EXPECT_EQ(sip_reason_phrase(200), "OK");
    EXPECT_EQ(sip_reason_phrase(404), "Not Found");
    EXPECT_EQ(sip_reason_phrase(416), "Unsupported URI Scheme");
    EXPECT_EQ(sip_reason_phrase(491), "Request Pending");
    EXPECT_EQ(sip_reason_phrase(604), "Does Not Exist Anywhere");
    EXPECT_EQ(sip_reason_phrase(199), "Early Dialog Terminated");
    EXPECT_EQ(sip_reason_phrase(150), "Provisional");
    EXPECT_EQ(sip_reason_phrase(399), "Redirection");
    EXPECT_EQ(sip_reason_phrase(499), "Request Failure");
    EXPECT_EQ(sip_reason_phrase(599), "Server Failure");
    EXPECT_EQ(sip_reason_phrase(699), "Global Failure");
    EXPECT_EQ(sip_reason_phrase(750), "");
    EXPECT_EQ(sip_reason_phrase(-5), "");
    // Every code Table E2 lists has a registered phrase.
    for (int code :
         {300, 301, 302, 305, 380, 400, 401, 402, 403, 404, 405, 406, 407, 408, 410, 413,
          414, 415, 416, 420, 421, 423, 430, 439, 440, 480, 481, 482, 483, 484, 485, 486,
          487, 488, 489, 491, 493, 500, 501, 502, 503, 504, 505, 513, 600, 603, 604, 606}) {
        const std::string_view p = sip_reason_phrase(code);
        EXPECT_NE(p, "Redirection");
        EXPECT_NE(p, "Request Failure");
        EXPECT_NE(p, "Server Failure");
        EXPECT_NE(p, "Global Failure");
    }
}

TEST(ErrorMapperInterface, UsableThroughTheSdkInterface) {
    const ErrorMapperImpl impl;
    const sdk::ErrorMapper& m = impl;
    EXPECT_EQ(m.sip_to_xmpp(404, "Not Found").condition, "item-not-found");
    XmppError e;
    e.condition = "item-not-found";
    EXPECT_EQ(m.xmpp_to_sip(e).status, 604); // default context: bare JID
}

} // namespace
} // namespace stox::core
