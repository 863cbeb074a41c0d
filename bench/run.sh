#!/usr/bin/env bash
# One command for the benchmarks: installs dependencies, builds the release preset (stoxgw, the
# IM plugin and the bench tools) and runs bench/run.py. Extra arguments go to run.py, e.g.
#   ./bench/run.sh --rates 1000,5000 --seconds 3 --markdown /tmp/bench.md
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
exec /usr/bin/python3 bench/run.py build/release "$@"
