#!/usr/bin/env bash
# The SDK is complete when a third party can build a plugin against the *installed* SDK alone and
# stoxgw loads and starts it (house style §4.9 habit 9). Steps:
#   1. cmake --install the build tree into a private prefix;
#   2. configure and build the installed template out of tree with find_package(StoxSdk);
#   3. `stoxgw list-plugins` reports it loadable (manifest, ABI, fingerprint, descriptor);
#   4. `stoxgw run` starts it (log line "plugin ... started"), then SIGTERM stops it cleanly.
# usage: template_test.sh BUILD_DIR CXX_COMPILER
set -euo pipefail
build=$1 cxx=$2
work=$(mktemp -d)
gw_pid=""
cleanup() { [ -n "$gw_pid" ] && kill "$gw_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null
template="$work/prefix/share/stoxgw/sdk/template"
test -f "$template/plugin.json"
test -f "$work/prefix/include/stox/sdk/sdk.hpp"
test -f "$work/prefix/lib/cmake/StoxSdk/StoxSdkConfig.cmake"

cp -r "$template" "$work/my-plugin"
cmake -S "$work/my-plugin" -B "$work/my-plugin/build" -DCMAKE_PREFIX_PATH="$work/prefix" \
      -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Debug >"$work/configure.log" 2>&1 \
  || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/my-plugin/build" >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
plugins="$work/my-plugin/build/plugins"
test -f "$plugins/org.example.stoxgw.template/stox_example.so"

gw="$work/prefix/bin/stoxgw"
"$gw" list-plugins --plugin-path "$plugins" --json > "$work/list.json"
/usr/bin/python3 - "$work/list.json" <<'PY'
import json, sys
records = json.load(open(sys.argv[1]))
mine = [r for r in records if r["id"] == "org.example.stoxgw.template"]
assert len(mine) == 1, records
assert mine[0]["state"] == "loaded", mine[0]
assert mine[0]["version"] == "1.0.0" and mine[0]["abi"]["major"] == 1, mine[0]
PY

# A config whose XMPP server is absent: the gateway still runs (the link keeps retrying).
cat > "$work/gw.json" <<'JSON'
{
  "config_version": 1,
  "sip": { "listen": ["udp:127.0.0.1:0"], "domains": ["example.net"] },
  "xmpp": { "component": { "host": "127.0.0.1", "port": 9, "domain": "example.net", "secret": "x" } },
  "plugins": { "org.example.stoxgw.template": { "config": { "greeting": "hi" } } }
}
JSON
"$gw" check-config --config "$work/gw.json" --plugin-path "$plugins"
"$gw" --config "$work/gw.json" --plugin-path "$plugins" > "$work/gw.log" 2>&1 &
gw_pid=$!
for _ in $(seq 100); do grep -q "ready:" "$work/gw.log" && break; sleep 0.1; done
grep -q "ready: 1 plugin(s) started" "$work/gw.log" || { cat "$work/gw.log"; exit 1; }
kill -TERM "$gw_pid"
wait "$gw_pid"; status=$?
gw_pid=""
[ "$status" -eq 0 ] || { cat "$work/gw.log"; echo "stoxgw exited $status"; exit 1; }
grep -q "stopped" "$work/gw.log" || { cat "$work/gw.log"; exit 1; }
echo "template plugin built against the installed SDK, listed, started and stopped"
