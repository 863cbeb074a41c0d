#!/usr/bin/env bash
# Sets everything up and runs stoxgw on loopback between a local Prosody and a local Kamailio:
#   - installs the Debian packages, builds the release preset,
#   - starts a private Prosody for example.com (users juliet/juliet and alice/alice) whose
#     component example.net is stoxgw (XEP-0114, the secret is read from the config),
#   - starts a private Kamailio on 127.0.0.1:5070 (UDP+TCP) as registrar, proxy and presence
#     server (PUBLISH/SUBSCRIBE, RFC 3856) of the SIP domain example.net: any user may register
#     without a password (a local trial, never a deployment); requests for example.com users go
#     on to stoxgw,
#   - runs stoxgw with packaging/etc/stoxgw.json, every built plugin and a conf.d fragment that
#     makes Kamailio its outbound proxy (so it reaches registered phones).
# Ports 5222, 5347, 5060 and 5070 must be free. Ctrl-C stops all three. State lives in ./run/local
# (wiped at each start).
# shellcheck disable=SC2317  # cleanup and its helpers run from traps
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
config=${STOXGW_CONFIG:-$top/packaging/etc/stoxgw.json}

die() {
  echo "run-local: $*" >&2
  exit 1
}

./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"

# Component settings, and where stoxgw's SIP side listens: the first sip.listen entry is where
# Kamailio forwards requests for XMPP users; every entry's port must be free.
read -r sip_domain comp_port secret gw_hostport sip_ports < <(/usr/bin/python3 - "$config" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
x = c["xmpp"]["component"]
listen = c.get("sip", {}).get("listen") or ["udp:127.0.0.1:5060"]
ports = []
for entry in listen:
    transport, hostport = entry.split(":", 1)
    host, port = hostport.rsplit(":", 1)
    ports.append(("udp" if transport == "udp" else "tcp") + "/" + port)
transport, hostport = listen[0].split(":", 1)
host, port = hostport.rsplit(":", 1)
if host in ("0.0.0.0", "[::]", "::"):
    host = "127.0.0.1"
print(x.get("domain", "example.net"), x.get("port", 5347),
      x.get("secret", "changeme-component-secret"), host + ":" + port, ",".join(ports))
PY
)
xmpp_domain=example.com
c2s_port=${STOXGW_C2S_PORT:-5222}
proxy_host=127.0.0.1
proxy_port=5070
run=$top/run/local

# Fail before starting anything when a fixed port is taken (a stale run, or a system service).
port_busy() { # $1 = udp|tcp, $2 = port
  local flags=-Hltn
  [ "$1" = udp ] && flags=-Hlun
  [ -n "$(ss "$flags" "sport = :$2")" ]
}
checks=("tcp $c2s_port Prosody (XMPP clients)" "tcp $comp_port Prosody (XEP-0114 component)")
for p in ${sip_ports//,/ }; do checks+=("${p%/*} ${p#*/} stoxgw (SIP)"); done
checks+=("udp $proxy_port Kamailio (SIP phones)" "tcp $proxy_port Kamailio (SIP phones)")
for c in "${checks[@]}"; do
  read -r proto port what <<<"$c"
  if port_busy "$proto" "$port"; then
    die "port $port/$proto, needed by $what, is already in use; see 'ss -lp${proto:0:1}n sport = :$port' and stop that process first"
  fi
done

rm -rf "$run"
mkdir -p "$run"/{data,certs,kamailio,kamailio-db,conf.d}
# Kamailio's presence server keeps publications in db_text tables (empty ones from the package).
for t in version presentity active_watchers watchers xcap pua; do
  cp "/usr/share/kamailio/dbtext/kamailio/$t" "$run/kamailio-db/"
done
# Kamailio's config is generated and checked first, so a bad one fails before anything runs.
sed -e "s#@SIP_DOMAIN@#$sip_domain#g" -e "s#@XMPP_DOMAIN@#$xmpp_domain#g" \
    -e "s#@PROXY_HOST@#$proxy_host#g" -e "s#@PROXY_PORT@#$proxy_port#g" \
    -e "s#@GATEWAY@#$gw_hostport#g" -e "s#@DB_DIR@#$run/kamailio-db#g" \
    scripts/local/kamailio.cfg.in > "$run/kamailio.cfg"
kamailio -c -f "$run/kamailio.cfg" >"$run/kamailio.check.log" 2>&1 ||
  { cat "$run/kamailio.check.log" >&2; die "Kamailio rejected $run/kamailio.cfg (log above)"; }

# Processes are stopped by PID, newest first: stoxgw, then Kamailio, then Prosody.
pids=()
alive() { # a reaped or zombie child counts as gone
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $state != Z* ]]
}
stop_pid() {
  local pid=$1 children
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    alive "$pid" || break
    sleep 0.1
  done
  if alive "$pid"; then
    echo "run-local: process $pid ignored SIGTERM for 5 s, killing it" >&2
    # Kamailio's workers are its children: take them along rather than orphan them.
    read -r -a children <<<"$(ps -o pid= --ppid "$pid" 2>/dev/null | tr '\n' ' ')"
    kill -KILL "$pid" "${children[@]}" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  trap - EXIT INT TERM
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop_pid "${pids[i]}"; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_tcp() { # $1 = port, $2 = pid, $3 = name, $4 = log
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    alive "$2" || { cat "$4" >&2; die "$3 failed to start (log above, in $4)"; }
    sleep 0.1
  done
  die "$3 did not listen on port $1 within 10 s (see $4)"
}

# --- Prosody: XMPP service for example.com, stoxgw is its component for the SIP domain.
sed -e "s#@RUN@#$run#g" -e "s#@C2S_PORT@#$c2s_port#" -e "s#@COMPONENT_PORT@#$comp_port#" \
    -e "s#@XMPP_DOMAIN@#$xmpp_domain#" -e "s#@SIP_DOMAIN@#$sip_domain#" -e "s#@SECRET@#$secret#" \
    scripts/local/prosody.cfg.lua.in > "$run/prosody.cfg.lua"
P=(--config "$run/prosody.cfg.lua")
for u in juliet alice; do prosodyctl "${P[@]}" register "$u" "$xmpp_domain" "$u" >/dev/null 2>&1; done
prosody -F "${P[@]}" >"$run/prosody.console.log" 2>&1 &
pids+=($!)
wait_tcp "$c2s_port" "${pids[-1]}" Prosody "$run/prosody.console.log"

# --- Kamailio: registrar and proxy of the SIP domain.
# -DD: foreground with its workers; -E: log to stderr; -Y: runtime dir (default /run/kamailio).
kamailio -f "$run/kamailio.cfg" -DD -E -Y "$run/kamailio" -P "$run/kamailio/kamailio.pid" \
    >"$run/kamailio.log" 2>&1 &
pids+=($!)
wait_tcp "$proxy_port" "${pids[-1]}" Kamailio "$run/kamailio.log"

# --- stoxgw: the operator config untouched, plus a fragment (merged in name order) that sends
# every outgoing SIP request through Kamailio. Fragments next to the config still apply.
for f in "$(dirname "$config")"/conf.d/*.json; do
  if [ -e "$f" ]; then cp "$f" "$run/conf.d/"; fi
done
cat >"$run/conf.d/10-local-proxy.json" <<JSON
{ "sip": { "outbound_proxy": "sip:$proxy_host:$proxy_port" } }
JSON
# Presence subscriptions survive a restart of stoxgw in this file (not of run-local.sh, which
# wipes $run).
cat >"$run/conf.d/20-local-presence.json" <<JSON
{ "plugins": { "org.stoxgw.presence": { "config": { "store": { "path": "$run/presence.sqlite" } } } } }
JSON

cat <<MSG

stoxgw is starting on loopback (a local trial: no TLS, no SIP authentication).
  XMPP client : server 127.0.0.1 port $c2s_port, account juliet@$xmpp_domain password juliet
                (or alice@$xmpp_domain / alice); plain authentication without TLS.
                Write to <phoneuser>@$sip_domain to reach a SIP phone registered as below.
  SIP phone   : register as any user@$sip_domain (e.g. romeo@$sip_domain, any password: none
                is checked) at $proxy_host:$proxy_port (UDP or TCP), outbound proxy
                $proxy_host:$proxy_port; then send a message to sip:juliet@$xmpp_domain.
  Presence    : the phone PUBLISHes to Kamailio (its presence server) and juliet adds
                romeo@$sip_domain to her roster; the phone subscribes to
                sip:juliet@$xmpp_domain and juliet accepts (stoxgw keeps both subscriptions
                in $run/presence.sqlite).
  Logs        : $run/prosody.log (Prosody),
                $run/kamailio.log (Kamailio), stoxgw's below.
  Ctrl-C stops stoxgw, Kamailio and Prosody.

MSG
build/release/core/stoxgw --config "$config" --config-dir "$run/conf.d" \
    --plugin-path build/release/plugins &
pids+=($!)
# A trapped signal interrupts this wait at once; the EXIT trap then stops everything.
status=0
wait "${pids[-1]}" || status=$?
exit "$status"
