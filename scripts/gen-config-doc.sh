#!/bin/sh
# Regenerates docs/config.md from core/src/config/schemas/stoxgw-1.schema.json.
# The renderer is the one the test suite checks the committed file against
# (core/test/config/config_docs_test.cpp), so this runs that test in update mode.
#
# Usage: scripts/gen-config-doc.sh [BUILD_DIR]   (default: build)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$root/build"}
if [ ! -f "$build/build.ninja" ] && [ ! -f "$build/Makefile" ]; then
    echo "gen-config-doc: $build is not a configured build directory" >&2
    echo "  configure first: cmake -S $root -B $build -G Ninja" >&2
    exit 1
fi
cmake --build "$build" --target stox_config_tests --parallel "${JOBS:-2}"
STOX_UPDATE_DOCS=1 "$build/core/stox_config_tests" --gtest_filter='ConfigDocs.ReferenceIsCurrent' \
    --gtest_brief=1
echo "gen-config-doc: wrote $root/docs/config.md"
