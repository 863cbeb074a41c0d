// SPDX-License-Identifier: Apache-2.0
#include "app/cli.hpp"

#include <cstdio>

namespace stox::core {

int run_cli(int, char**) {
    std::fputs("stoxgw " STOX_VERSION "\n", stdout);
    return 0;
}

} // namespace stox::core
