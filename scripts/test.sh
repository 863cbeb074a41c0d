#!/usr/bin/env bash
# Sets everything up and runs the whole test suite (this is what CI runs):
#   1. installs the Debian packages (scripts/install-deps.sh, idempotent)
#   2. checks clang-format on every C++ file
#   3. builds the dev preset (-Werror) and runs every CTest test (labels unit, integration)
#   4. builds the asan-ubsan preset and runs the unit and loader tests under ASan+UBSan
#   5. builds the bus tests under ThreadSanitizer and runs them
#   6. runs clang-tidy (curated list in .clang-tidy) over the core and the plugins
# Options: --quick (steps 1-3 only), --no-deps (skip step 1), -j N (parallel jobs, default nproc).
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0 deps=1 jobs=$(nproc)
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --no-deps) deps=0 ;;
    -j) jobs="$2"; shift ;;
    *) echo "usage: $0 [--quick] [--no-deps] [-j N]" >&2; exit 2 ;;
  esac
  shift
done

step() { printf '\n==== %s (%s)\n' "$1" "$(date +%T)"; }
started=$(date +%s)

# Every test run goes through run_ctest, which refuses a selection that matches no test (a
# renamed test must not silently drop out of CI) and adds its count to the closing line.
passed_total=0
run_ctest() {
  local log
  log=$(mktemp)
  ctest "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  if [ "$rc" != 0 ]; then rm -f "$log"; exit "$rc"; fi
  local n
  n=$(sed -n 's/.*tests passed, 0 tests failed out of \([0-9]\+\).*/\1/p' "$log" | tail -1)
  rm -f "$log"
  if [ -z "$n" ] || [ "$n" = 0 ]; then echo "ctest $*: selected no test" >&2; exit 1; fi
  passed_total=$((passed_total + n))
}

if [ "$deps" = 1 ]; then step "dependencies"; ./scripts/install-deps.sh; fi

step "clang-format"
./scripts/check-format.sh

step "build: dev (-Werror)"
cmake --preset dev >/dev/null
cmake --build --preset dev -j "$jobs"

step "tests: dev (all labels)"
run_ctest --preset dev -j "$jobs" --timeout 600

if [ "$quick" = 0 ]; then
  step "build: asan-ubsan"
  cmake --preset asan-ubsan >/dev/null
  cmake --build --preset asan-ubsan -j "$jobs"
  step "tests: asan-ubsan (unit + loader)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_ctest --preset asan-ubsan -j "$jobs" --timeout 600 -L unit
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_ctest --preset asan-ubsan -j "$jobs" --timeout 600 -R '^Loader'

  step "build+tests: tsan (event bus)"
  cmake --preset tsan >/dev/null
  cmake --build --preset tsan -j "$jobs" --target stox_bus_tests
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" ./build/tsan/core/stox_bus_tests

  step "clang-tidy"
  ./scripts/run-clang-tidy.sh build/dev "$jobs"
fi

step "all green in $(( $(date +%s) - started )) s"
echo "ctest: ${passed_total} passed, 0 failed"
