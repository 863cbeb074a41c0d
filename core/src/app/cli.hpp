// SPDX-License-Identifier: Apache-2.0
// The stoxgw command line (Boost.Program_options): run, check-config, list-plugins,
// map-address, map-error, --version, --help.
#pragma once

namespace stox::core {

/// Parses argv and runs the selected command; returns the process exit code.
int run_cli(int argc, char** argv);

} // namespace stox::core
