#!/usr/bin/env bash
# Sets everything up and runs stoxgw against a local Prosody on loopback:
#   - installs the Debian packages, builds the release preset,
#   - starts a private Prosody for example.com (users juliet/juliet and alice/alice) whose
#     component example.net is stoxgw (XEP-0114, the secret is read from the config),
#   - runs stoxgw in the foreground with packaging/etc/stoxgw.json and every built plugin.
# Ctrl-C stops both. State lives in ./run/local (wiped at each start).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
config=${STOXGW_CONFIG:-$top/packaging/etc/stoxgw.json}

./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"

read -r sip_domain comp_host comp_port secret < <(/usr/bin/python3 - "$config" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
x = c["xmpp"]["component"]
print(x.get("domain", "example.net"), x.get("host", "127.0.0.1"), x.get("port", 5347),
      x.get("secret", "changeme-component-secret"))
PY
)
xmpp_domain=example.com
c2s_port=${STOXGW_C2S_PORT:-5222}
run=$top/run/local
rm -rf "$run"; mkdir -p "$run"/{data,certs}
sed -e "s#@RUN@#$run#g" -e "s#@C2S_PORT@#$c2s_port#" -e "s#@COMPONENT_PORT@#$comp_port#" \
    -e "s#@XMPP_DOMAIN@#$xmpp_domain#" -e "s#@SIP_DOMAIN@#$sip_domain#" -e "s#@SECRET@#$secret#" \
    scripts/local/prosody.cfg.lua.in > "$run/prosody.cfg.lua"
P=(--config "$run/prosody.cfg.lua")
for u in juliet alice; do prosodyctl "${P[@]}" register "$u" "$xmpp_domain" "$u" >/dev/null 2>&1; done

prosody -F "${P[@]}" >"$run/prosody.console.log" 2>&1 &
prosody_pid=$!
cleanup() { kill "$prosody_pid" 2>/dev/null || true; wait "$prosody_pid" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$c2s_port") 2>/dev/null && break
  kill -0 "$prosody_pid" 2>/dev/null || { cat "$run/prosody.console.log"; echo "prosody failed to start (port $c2s_port or $comp_port busy?)" >&2; exit 1; }
  sleep 0.1
done

cat <<MSG

stoxgw is starting on loopback.
  XMPP client : server 127.0.0.1 port $c2s_port, account juliet@$xmpp_domain password juliet
                (or alice@$xmpp_domain / alice); plain authentication without TLS.
                Write to someone@$sip_domain to reach a SIP user through stoxgw.
  SIP phone   : send to 127.0.0.1:5060 (UDP or TCP), e.g. MESSAGE sip:juliet@$xmpp_domain.
  Logs        : Prosody in $run/prosody.log; stoxgw below. Ctrl-C stops both.

MSG
build/release/core/stoxgw --config "$config" --plugin-path build/release/plugins
