// SPDX-License-Identifier: Apache-2.0
/// \file abi.hpp
/// The plugin binary contract: ABI version numbers, the build fingerprint and the exported
/// C-layout descriptor. See sdk/docs/abi-policy.md.
///
/// ABI rules (GStreamer's): a plugin loads when its ABI major equals the core's and its ABI
/// minor is not newer than the core's. Bump the major for any incompatible change to an SDK
/// interface, event layout or the descriptor; bump the minor for additions only.
#pragma once

#include <boost/version.hpp>
#include <cstdint>

#include "stox/sdk/export.hpp"

#define STOX_SDK_ABI_MAJOR 1
#define STOX_SDK_ABI_MINOR 1
/// SDK release (semver); also the version of the CMake package StoxSdk.
#define STOX_SDK_VERSION "1.1.0"

#define STOX_SDK_STR2(x) #x
#define STOX_SDK_STR(x) STOX_SDK_STR2(x)

#if defined(__clang__)
#define STOX_SDK_COMPILER "clang-" STOX_SDK_STR(__clang_major__)
#elif defined(__GNUC__)
#define STOX_SDK_COMPILER "gcc-" STOX_SDK_STR(__GNUC__)
#else
#define STOX_SDK_COMPILER "unknown"
#endif

#if defined(__GLIBCXX__)
#define STOX_SDK_STDLIB                                                                            \
    "libstdc++-" STOX_SDK_STR(__GLIBCXX__) "-abi" STOX_SDK_STR(_GLIBCXX_USE_CXX11_ABI)
#elif defined(_LIBCPP_VERSION)
#define STOX_SDK_STDLIB "libc++-" STOX_SDK_STR(_LIBCPP_VERSION)
#else
#define STOX_SDK_STDLIB "unknown"
#endif

#if defined(__SANITIZE_ADDRESS__)
#define STOX_SDK_SAN_ASAN "asan"
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STOX_SDK_SAN_ASAN "asan"
#endif
#endif
#ifndef STOX_SDK_SAN_ASAN
#define STOX_SDK_SAN_ASAN "noasan"
#endif
#if defined(__SANITIZE_THREAD__)
#define STOX_SDK_SAN_TSAN "tsan"
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define STOX_SDK_SAN_TSAN "tsan"
#endif
#endif
#ifndef STOX_SDK_SAN_TSAN
#define STOX_SDK_SAN_TSAN "notsan"
#endif

/// Everything that must agree between the core and a plugin for C++ types to cross the
/// boundary safely: compiler family and major, standard library and its string ABI, language
/// level, Boost version and sanitizer mode. Computed identically on both sides from this header.
#define STOX_BUILD_FINGERPRINT                                                                     \
    STOX_SDK_COMPILER ";" STOX_SDK_STDLIB ";cxx" STOX_SDK_STR(__cplusplus) ";boost" STOX_SDK_STR(  \
        BOOST_VERSION) ";" STOX_SDK_SAN_ASAN ";" STOX_SDK_SAN_TSAN

namespace stox::sdk {
class Plugin;
}

extern "C" {
/// Exported as data under the fixed name `stox_plugin_descriptor`. Reading it runs no plugin
/// code. Later layouts are recognised by struct_size / abi_major, never by renaming the symbol.
struct stox_plugin_descriptor_v1 {
    std::uint32_t struct_size;      ///< sizeof(stox_plugin_descriptor_v1)
    std::uint32_t abi_major;        ///< must equal the core's
    std::uint32_t abi_minor;        ///< must be <= the core's
    const char* build_fingerprint;  ///< must equal the core's STOX_BUILD_FINGERPRINT
    const char* id;                 ///< must equal the manifest's id
    const char* version;            ///< must equal the manifest's version
    stox::sdk::Plugin* (*create)(); ///< never throws; nullptr on failure
    void (*destroy)(stox::sdk::Plugin*);
    const void* reserved[4];
};
}

/// Declares the plugin's descriptor. Use once, at namespace scope, in one .cpp of the plugin.
/// stox_add_plugin() generates STOX_PLUGIN_ID / STOX_PLUGIN_VERSION from plugin.json, so
/// `STOX_DECLARE_PLUGIN(MyPlugin, STOX_PLUGIN_ID, STOX_PLUGIN_VERSION)` cannot drift.
#define STOX_DECLARE_PLUGIN(CLASS, ID, VERSION)                                                    \
    extern "C" STOX_PLUGIN_EXPORT const stox_plugin_descriptor_v1 stox_plugin_descriptor = {       \
        sizeof(stox_plugin_descriptor_v1),                                                         \
        STOX_SDK_ABI_MAJOR,                                                                        \
        STOX_SDK_ABI_MINOR,                                                                        \
        STOX_BUILD_FINGERPRINT,                                                                    \
        ID,                                                                                        \
        VERSION,                                                                                   \
        []() noexcept -> ::stox::sdk::Plugin* {                                                    \
            try {                                                                                  \
                return new CLASS();                                                                \
            } catch (...) {                                                                        \
                return nullptr;                                                                    \
            }                                                                                      \
        },                                                                                         \
        [](::stox::sdk::Plugin* p) noexcept { delete p; },                                         \
        {nullptr, nullptr, nullptr, nullptr}}
