#!/usr/bin/env bash
# The stoxgw command line as an operator or a script uses it: results alone on stdout, one-line
# reasons on stderr, exit 0 / 1 (invalid input) / 2 (usage). Vectors cite stox-core.md §4.
# usage: cli_test.sh STOXGW SOURCE_DIR TEST_PLUGIN_DIR
set -uo pipefail
gw=$1 src=$2 plugins=$3
fails=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

expect() { # expect NAME WANT_EXIT WANT_STDOUT -- ARGS...
  local name=$1 want_rc=$2 want_out=$3; shift 4
  local out rc
  out=$("$gw" "$@" 2>"$work/err"); rc=$?
  if [ "$rc" != "$want_rc" ] || { [ "$want_out" != "*" ] && [ "$out" != "$want_out" ]; }; then
    echo "FAIL $name: stoxgw $*: exit $rc (want $want_rc), stdout '$out' (want '$want_out'), stderr: $(cat "$work/err")"
    fails=$((fails + 1))
  elif [ "$want_rc" != 0 ] && [ "$(wc -l < "$work/err")" -lt 1 ]; then
    echo "FAIL $name: no reason on stderr"; fails=$((fails + 1))
  else
    echo "ok   $name"
  fi
}

expect version 0 "*" -- --version
expect help 0 "*" -- --help
# map-address (TV-ADDR-01, 03, 04, 05, 06, 09, 18, 21, 23; CORE-SEC-2)
expect TV-ADDR-01 0 "fü@sip.example" -- map-address 'sip:f%C3%BC@sip.example'
expect TV-ADDR-03 0 "foo@sip.example/bar" -- map-address 'sip:foo@sip.example;gr=bar'
expect TV-ADDR-04 0 "sip:m&m@xmpp.example" -- map-address 'm\26m@xmpp.example'
expect TV-ADDR-05 0 "sip:tsch%C3%BCss@xmpp.example" -- map-address 'tschüss@xmpp.example'
expect TV-ADDR-06 0 "sip:baz@xmpp.example;gr=qux" -- map-address baz@xmpp.example/qux
expect TV-ADDR-09 0 "user\\40host@example.net" -- map-address 'sip:user%40host@example.net'
expect TV-ADDR-18 0 "o\\27malley@example.net" -- map-address 'pres:o%27malley@example.net'
expect TV-ADDR-21 0 "im:a%28b%29@example.com" -- map-address 'a(b)@example.com' --scheme im
expect TV-ADDR-23 1 "" -- map-address 'tel:+15551234567'
expect CORE-SEC-2 1 "" -- map-address 'sips:juliet@example.com'
expect sips-as-from 0 "juliet@example.com" -- map-address 'sips:juliet@example.com' --role from
expect TV-ADDR-13 1 "" -- map-address 'sip:cr%zy@example.net'
expect bad-scheme-option 2 "" -- map-address juliet@example.com --scheme xmpp
expect no-address 2 "" -- map-address
# map-error (TV-ERR-S01, S03, X05, X08, X13)
expect TV-ERR-S01 0 "recipient-unavailable wait" -- map-error 486
expect TV-ERR-S03 0 "internal-server-error cancel" -- map-error 503
expect TV-ERR-X08-bare 0 "604" -- map-error item-not-found
expect TV-ERR-X08-full 0 "404" -- map-error item-not-found --full
expect TV-ERR-X05-bare 0 "603" -- map-error forbidden --bare
expect TV-ERR-X13 0 "403" -- map-error service-unavailable
expect 2xx-is-no-error 1 "" -- map-error 200
expect unknown-condition 1 "" -- map-error no-such-condition
expect code-out-of-range 1 "" -- map-error 999
expect bare-and-full 2 "" -- map-error forbidden --bare --full
expect unknown-command 2 "" -- frobnicate
# check-config: valid, and every error listed with file and pointer
expect shipped-config 0 "*" -- check-config --config "$src/packaging/etc/stoxgw.json" --plugin-path "$work/none"
cat > "$work/bad.json" <<'JSON'
{ "config_version": 1, "sip": { "listen": ["udp:127.0.0.1:5060"], "domains": ["example.net"],
  "colour": "blue" }, "xmpp": { "component": { "port": 70000, "secret": "x" } } }
JSON
"$gw" check-config --config "$work/bad.json" --plugin-path "$work/none" >"$work/out" 2>"$work/err"
rc=$?
if [ $rc = 1 ] && grep -q "bad.json: /sip/colour" "$work/err" && grep -q "bad.json: /xmpp/component/port" "$work/err"; then
  echo "ok   check-config lists every error"
else
  echo "FAIL check-config: exit $rc: $(cat "$work/err")"; fails=$((fails + 1))
fi
# list-plugins: refused ones with their reason (LOAD-*: the loader tests cover every reason)
"$gw" list-plugins --plugin-path "$plugins/wrong_fingerprint" --plugin-path "$plugins/good_minimal" --json >"$work/list.json" 2>"$work/err"
if /usr/bin/python3 - "$work/list.json" <<'PY'
import json, sys
r = {p["id"]: p for p in json.load(open(sys.argv[1]))}
assert any(p["state"] == "refused" and "fingerprint" in p["reason"] for p in r.values()), r
assert any(p["state"] == "loaded" for p in r.values()), r
PY
then echo "ok   list-plugins --json"; else echo "FAIL list-plugins: $(cat "$work/err")"; fails=$((fails + 1)); fi
"$gw" list-plugins --plugin-path "$plugins/wrong_fingerprint" --plugin-path "$plugins/good_minimal" >"$work/list.txt" 2>&1
grep -q "^ID " "$work/list.txt" && grep -q "refused" "$work/list.txt" && echo "ok   list-plugins table" \
  || { echo "FAIL list-plugins table"; fails=$((fails + 1)); }

[ $fails = 0 ] && echo "all CLI checks passed" || echo "$fails CLI check(s) failed"
exit $((fails > 0))
