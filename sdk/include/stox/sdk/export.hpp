// SPDX-License-Identifier: Apache-2.0
/// \file export.hpp
/// Symbol visibility for the single symbol a plugin exports. Plugins are built with
/// -fvisibility=hidden (stox_add_plugin() sets it), so nothing else leaks.
#pragma once

#if defined(__GNUC__) || defined(__clang__)
#define STOX_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define STOX_PLUGIN_EXPORT
#endif
