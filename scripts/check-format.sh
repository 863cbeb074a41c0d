#!/usr/bin/env bash
# Fails (and lists the files) when a tracked C++ file is not clang-formatted.
# Fix with: ./scripts/check-format.sh --fix
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.h' '*.cc' 2>/dev/null || true)
if [ ${#files[@]} -eq 0 ]; then
  mapfile -t files < <(find core sdk plugins tests bench -name '*.cpp' -o -name '*.hpp' 2>/dev/null)
fi
if [ "${1:-}" = "--fix" ]; then clang-format -i "${files[@]}"; exit 0; fi
bad=()
for f in "${files[@]}"; do
  [ -f "$f" ] || continue
  clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
  echo "not clang-formatted (run ./scripts/check-format.sh --fix):"; printf '  %s\n' "${bad[@]}"; exit 1
fi
echo "clang-format: ${#files[@]} files clean"
