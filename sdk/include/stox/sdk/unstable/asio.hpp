// SPDX-License-Identifier: Apache-2.0
/// \file unstable/asio.hpp
/// UNSTABLE, version-pinned: direct access to the core's Boost.Asio io_context and the plugin's
/// strand, for plugins that need sockets of their own (MSRP, media relays). The Boost version is
/// part of the build fingerprint, so a mismatch is refused at load time rather than crashing.
/// Handlers you run on the strand below are serialized with every other callback of the plugin.
#pragma once

#include <utility> // Boost 1.74 Asio under C++20 needs std::exchange declared first
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include "stox/sdk/abi.hpp"
#include "stox/sdk/context.hpp"

namespace stox::sdk::unstable {

using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;

/// Name under which the core offers AsioAccess; includes the Boost version it was built with.
inline constexpr std::string_view kAsioInterface = "asio/" STOX_SDK_STR(BOOST_VERSION);

/// Implemented by the core; reach it with native_asio(ctx).
class AsioAccess {
public:
    virtual ~AsioAccess() = default;
    virtual boost::asio::io_context& io_context() noexcept = 0;
    virtual Strand& strand() noexcept = 0;
};

/// Returns the Asio access of a context, or nullptr if the core offers none.
inline AsioAccess* native_asio(PluginContext& ctx) noexcept {
    // No dynamic_cast: RTTI is unreliable across hidden-visibility shared objects.
    return static_cast<AsioAccess*>(ctx.unstable_interface(kAsioInterface));
}

} // namespace stox::sdk::unstable
