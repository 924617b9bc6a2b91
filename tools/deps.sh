#!/usr/bin/env bash
# Installs the Debian 12 packages mgw needs to build, run and test. Idempotent, quiet when
# everything is present.
set -euo pipefail
pkgs=(build-essential cmake pkg-config clang libclang-rt-14-dev
      libdpdk-dev dpdk dpdk-dev liburcu-dev libosip2-dev libconfig-dev libcmocka-dev libjansson-dev libjemalloc-dev libhiredis-dev libmicrohttpd-dev libsndfile1-dev libspandsp-dev libbcg729-dev libopus-dev
      sip-tester tshark iproute2 iputils-ping util-linux python3 baresip-core sysstat redis-server sox)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
# the tests start their own redis-server in their network namespace: no system-wide one
if [[ " ${missing[*]} " == *" redis-server "* ]] && command -v systemctl >/dev/null; then
  $SUDO systemctl disable --now redis-server >/dev/null 2>&1 || true
fi
