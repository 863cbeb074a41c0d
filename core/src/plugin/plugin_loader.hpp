// SPDX-License-Identifier: Apache-2.0
// Finding plugins on disk and opening them (house style §4.3, negotiation steps 1-3):
//   1. discovery finds `plugin.json` files (the manifest is validated by manifest.hpp);
//   2. the library is opened with Boost.DLL, rtld_now | rtld_local, from the loader thread only
//      (Boost.DLL is not safe to use concurrently);
//   3. the exported C descriptor `stox_plugin_descriptor` is read as data and checked against
//      the core's ABI and build fingerprint and against the manifest, before any plugin code
//      other than static initialisers (which plugins must not have) has run.
// Opened libraries are never closed (see LibraryRegistry in plugin_loader.cpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "plugin/manifest.hpp"
#include "stox/sdk/abi.hpp"
#include "stox/sdk/status.hpp"

namespace stox::core {

/// What this core was built with; plugins must agree (sdk/docs/abi-policy.md).
struct CoreAbi {
    std::uint32_t major = STOX_SDK_ABI_MAJOR;
    std::uint32_t minor = STOX_SDK_ABI_MINOR;
    std::string_view fingerprint = STOX_BUILD_FINGERPRINT;
};

/// The exported symbol every plugin defines. Fixed forever; later descriptor layouts are told
/// apart by struct_size / abi_major.
inline constexpr const char* kDescriptorSymbol = "stox_plugin_descriptor";

/// Finds manifests on the plugin path, in order: for each entry, `<entry>/plugin.json` if it
/// exists, else every `<entry>/<subdir>/plugin.json` with sub-directories in name order. The
/// same file reached twice (a directory listed twice) is returned once. Entries that do not
/// exist or cannot be read are reported in `problems` (one line each) and skipped.
std::vector<std::filesystem::path> find_manifests(const std::vector<std::filesystem::path>& paths,
                                                  std::vector<std::string>& problems);

/// Step 1, ABI part: the ABI the manifest declares is loadable by this core.
sdk::Status check_manifest_abi(const Manifest& manifest, const CoreAbi& core = {});

/// Step 3: the descriptor is usable (size, ABI major equal, minor not newer, fingerprint equal,
/// non-null pointers) and agrees with the manifest (id, version). The manifest's ABI is only a
/// pre-dlopen screen: the descriptor's, compiled into the binary, is the one that counts.
sdk::Status check_descriptor(const stox_plugin_descriptor_v1& descriptor, const Manifest& manifest,
                             const CoreAbi& core = {});

/// Steps 2 and 3: opens `library` and returns its checked descriptor. The library stays loaded
/// until the process exits, whatever the outcome. Never throws.
sdk::Result<const stox_plugin_descriptor_v1*> open_plugin(const Manifest& manifest,
                                                          const std::filesystem::path& library,
                                                          const CoreAbi& core = {}) noexcept;

/// Number of libraries opened so far by this process (they are never closed).
std::size_t opened_library_count() noexcept;

} // namespace stox::core
