// SPDX-License-Identifier: Apache-2.0
// Replays tests/fuzz/corpus/framer/ through the libFuzzer target in the unit tier, so the target
// keeps compiling and every input a fuzzer ever found stays fixed.
#include <filesystem>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "../../../tests/fuzz/stanza_framer_fuzz.cpp"

namespace {

TEST(StanzaFramerFuzzCorpus, EverySeedRunsClean) {
    const std::filesystem::path dir =
        std::filesystem::path(STOX_SOURCE_DIR) / "tests" / "fuzz" / "corpus" / "framer";
    ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
    int files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        std::ifstream in(entry.path(), std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (bytes.empty()) continue;
        // Every read size, not only the one the seed's first byte picks.
        for (int chunk = 0; chunk < 64; ++chunk) {
            bytes[0] = static_cast<char>(chunk);
            EXPECT_EQ(LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                             bytes.size()),
                      0)
                << entry.path();
        }
        ++files;
    }
    EXPECT_GE(files, 8);
}

} // namespace
