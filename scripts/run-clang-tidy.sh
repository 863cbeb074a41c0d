#!/usr/bin/env bash
# clang-tidy with the curated check list of .clang-tidy over the core and plugin sources.
# usage: run-clang-tidy.sh BUILD_DIR [JOBS]   (BUILD_DIR must hold compile_commands.json)
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/dev} jobs=${2:-$(nproc)}
[ -f "$build/compile_commands.json" ] || { echo "no $build/compile_commands.json" >&2; exit 2; }
mapfile -t files < <(git ls-files 'core/src/*.cpp' 'plugins/*.cpp' | grep -v '/test/')
out=$(mktemp)
printf '%s\n' "${files[@]}" | xargs -P "$jobs" -n 1 clang-tidy -p "$build" --quiet >"$out" 2>/dev/null
status=$?
if [ $status -ne 0 ] || grep -qE 'warning:|error:' "$out"; then
  cat "$out"; rm -f "$out"; echo "clang-tidy: findings above (exit $status)"; exit 1
fi
rm -f "$out"
echo "clang-tidy: ${#files[@]} files clean"
