#!/usr/bin/env bash
# Installs every build and test dependency of stoxgw from Debian 12 packages.
# Idempotent: when every package is already present it only runs dpkg-query (well under a second).
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build ccache pkg-config make
  # libraries (see docs/decisions.md for why each one is here)
  libboost-dev libboost-program-options-dev libboost-filesystem-dev
  libxerces-c-dev libsofia-sip-ua-dev sofia-sip-bin nlohmann-json3-dev libsqlite3-dev
  libunistring-dev libidn2-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # quality gates
  clang-format clang-tidy clang libclang-rt-14-dev
  # real peers for integration tests
  prosody lua-unbound python3-slixmpp sip-tester kamailio kamailio-presence-modules
  # misc tools used by tests and scripts
  procps iproute2 netcat-openbsd python3
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=900 update -qq
$SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}"
# The Debian prosody package starts a system instance on install; tests run their own.
if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl stop prosody kamailio 2>/dev/null || true; fi
# The packaged service runs as 'lua5.4 /usr/bin/prosody'; it would hold 5222 for run-local.sh.
$SUDO pkill -f '^lua[0-9.]* /usr/bin/prosody' 2>/dev/null || true
$SUDO pkill -x kamailio 2>/dev/null || true
echo "install-deps: done"
