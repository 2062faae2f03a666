#!/usr/bin/env bash
# Installs the Debian packages FlannelPS's build, demo and tests use, only those missing, so a
# fresh machine works and a prepared one pays nothing. Usage: tools/install-deps.sh [--docker]
set -euo pipefail
pkgs=(etcd-server etcd-client iproute2 iptables iputils-ping iperf3 tcpdump busybox-static procps gcc libc6-dev zlib1g-dev systemd-container)
[[ "${1:-}" == "--docker" ]] && pkgs+=(docker.io)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
