// SPDX-License-Identifier: Apache-2.0
/// \file unstable/asio_visibility.hpp
/// UNSTABLE, version-pinned. Force-included (-include) into every translation unit of a plugin
/// that runs Asio code on the core's io_context (stox_add_plugin(... ASIO)).
///
/// Why: Boost.Asio is header-only, so the core and each such plugin compile their own copy. Its
/// per-thread scheduler context (call_stack<thread_context>::top_), service ids and error
/// categories are template statics; compiled with -fvisibility=hidden, the plugin's copies stay
/// private, and plugin code running on a core thread sees "no scheduler on this thread" and
/// corrupts the reactor (a SIGSEGV in scheduler::compensating_work_started). Declared with
/// default visibility here, exported by the plugin's version script and by the core's dynamic
/// symbol list, they bind to the core's single copy at load time (one definition across modules).
/// Plugins are never unloaded, so GNU unique symbols cost nothing (peers.md G4).
#pragma once

#include <utility> // Boost 1.74 Asio under C++20 needs std::exchange declared first

#pragma GCC visibility push(default)
#include <boost/asio.hpp>
#include <boost/system/error_code.hpp>
#pragma GCC visibility pop
