#!/usr/bin/env bash
# Host seam benchmark: 500 vxlan peers programmed and removed through rtnetlink, next to iproute2
# in batch mode and one ip process per entry, in a namespace of its own (fphn-bench-<pid>) that is
# removed on exit. Usage (as root): bench/hostnet/run.sh
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
if [[ $(id -u) -ne 0 ]]; then echo "run.sh must run as root (network namespace)" >&2; exit 1; fi

dotnet build "$here/HostNetBench.csproj" -c Release -nologo -clp:ErrorsOnly -v:q -o "$here/bin/out" >/dev/null

ns="fphn-bench-$$"
cleanup() { ip netns del "$ns" 2>/dev/null || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add eth0 type veth peer name eth1
ip -n "$ns" addr add 192.0.2.10/24 dev eth0
ip -n "$ns" link set eth0 up
ip -n "$ns" link set eth1 up
timeout 600 ip netns exec "$ns" dotnet "$here/bin/out/HostNetBench.dll"
