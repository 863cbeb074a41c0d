#!/usr/bin/env bash
# One command for the benchmarks: installs dependencies, builds the release preset (stoxgw, the
# IM plugin and the bench tools) and runs bench/run.py. Extra arguments go to run.py, e.g.
#   ./bench/run.sh --rates 1000,5000 --seconds 3 --markdown /tmp/bench.md
# `./bench/run.sh presence [ARGS]` runs the presence benchmark instead (bench/presence.py).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
if [ "${1:-}" = presence ]; then
  shift
  exec /usr/bin/python3 bench/presence.py build/release "$@"
fi
exec /usr/bin/python3 bench/run.py build/release "$@"
