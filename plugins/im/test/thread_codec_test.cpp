// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "thread_codec.hpp"

namespace stox::plugins::im {
namespace {

TEST(ThreadCodec, ValidCallIdIsCopied_TV_IM_03) {
    EXPECT_EQ(thread_to_call_id("e0ffe42b28561960c6b12b944a092794b9683a38"),
              "e0ffe42b28561960c6b12b944a092794b9683a38");
    EXPECT_EQ(call_id_to_thread("e0ffe42b28561960c6b12b944a092794b9683a38"),
              "e0ffe42b28561960c6b12b944a092794b9683a38");
}

TEST(ThreadCodec, InvalidCallIdIsHexEncodedAndReversed_TV_IM_04) {
    EXPECT_EQ(thread_to_call_id("chat 42#\xC3\xA9"), "thr-6368617420343223c3a9");
    EXPECT_EQ(call_id_to_thread("thr-6368617420343223c3a9"), "chat 42#\xC3\xA9");
}

TEST(ThreadCodec, OnlyTheCanonicalEncodingIsReversed) {
    // A SIP UA's own Call-ID that merely looks like ours stays as it is.
    EXPECT_EQ(call_id_to_thread("thr-6869"), "thr-6869"); // "hi" is a valid Call-ID: never encoded
    EXPECT_EQ(call_id_to_thread("thr-ZZ"), "thr-ZZ");
    EXPECT_EQ(call_id_to_thread("thr-6"), "thr-6");
    EXPECT_EQ(call_id_to_thread("thr-"), "thr-");
    EXPECT_EQ(call_id_to_thread("thr-00"), "thr-00");     // U+0000 is not an XML character
    EXPECT_EQ(call_id_to_thread("thr-c328"), "thr-c328"); // invalid UTF-8
    EXPECT_EQ(call_id_to_thread("thr-6120"), "a ");       // "a " is not a Call-ID: ours
    EXPECT_EQ(call_id_to_thread("9E97FB43-85F4"), "9E97FB43-85F4");
}

TEST(ThreadCodec, RoundTripsEveryThread) {
    for (const char* t : {"x", "a b", "tab\there", "<&>", "\xE2\x82\xAC uro", "id@host", "a@b@c"})
        EXPECT_EQ(call_id_to_thread(thread_to_call_id(t)), t) << t;
}

} // namespace
} // namespace stox::plugins::im
