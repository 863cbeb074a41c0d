// SPDX-License-Identifier: Apache-2.0
// stoxgw entry point: parse argv, run the command. Everything else lives in stox_core.
#include "app/cli.hpp"

int main(int argc, char** argv) {
    return stox::core::run_cli(argc, argv);
}
