// SPDX-License-Identifier: Apache-2.0
// Xerces-C must be initialised once per process (peers.md §3c); the codec assumes the host did
// it (the core's XercesGuard). In the test binary a global environment plays the host.
#include <gtest/gtest.h>
#include <xercesc/util/PlatformUtils.hpp>

namespace {

class XercesEnvironment final : public ::testing::Environment {
public:
    void SetUp() override { xercesc::XMLPlatformUtils::Initialize(); }
    void TearDown() override { xercesc::XMLPlatformUtils::Terminate(); }
};

// gtest owns the environment once registered.
[[maybe_unused]] ::testing::Environment* const kXercesEnvironment =
    ::testing::AddGlobalTestEnvironment(new XercesEnvironment);

} // namespace
