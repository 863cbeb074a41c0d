// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <stox/msrp/status.hpp>

using namespace stox::msrp;
using stox::sdk::ErrorCode;

// MSRP-30: the RFC 4975 §10 codes, phrases as in TV-12, TV-13, TV-23, TV-24.
TEST(MsrpStatus, KnownCodesAndPhrases_MSRP30) {
    for (std::uint16_t c : {200, 400, 403, 408, 413, 415, 423, 481, 501, 506}) {
        EXPECT_TRUE(is_known_status(c)) << c;
    }
    EXPECT_FALSE(is_known_status(425));
    EXPECT_EQ(reason_phrase(413), "Message too large");
    EXPECT_EQ(reason_phrase(415), "Unsupported media type");
    EXPECT_EQ(reason_phrase(481), "Session does not exist");
    EXPECT_EQ(reason_phrase(506), "Session already bound");
    EXPECT_EQ(reason_phrase(299), "Success");
}

TEST(MsrpStatus, ErrorCodeMapping_MSRP30) {
    EXPECT_EQ(to_error_code(200), ErrorCode::Ok);
    EXPECT_EQ(to_error_code(408), ErrorCode::Timeout);
    EXPECT_EQ(to_error_code(413), ErrorCode::TooLarge);
    EXPECT_EQ(to_error_code(481), ErrorCode::ItemNotFound);
    EXPECT_EQ(to_status_code(ErrorCode::TooLarge), 413);
    EXPECT_EQ(to_status_code(ErrorCode::Unsupported), 415);
    EXPECT_EQ(to_status_code(ErrorCode::ItemNotFound), 481);
    EXPECT_EQ(to_status_code(ErrorCode::Ok), 200);
}
