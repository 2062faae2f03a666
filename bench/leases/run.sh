#!/usr/bin/env bash
# Lease control-plane benchmark: builds the bench, starts a private etcd inside its own network
# namespace (fpreg-bench-<pid>), runs the measurements there, and removes everything on exit.
# Usage (as root): bench/leases/run.sh
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
if [[ $(id -u) -ne 0 ]]; then echo "run.sh must run as root (network namespace)" >&2; exit 1; fi
command -v etcd >/dev/null || { echo "etcd not found: apt-get install -y etcd-server etcd-client" >&2; exit 1; }

dotnet build "$here/LeasesBench.csproj" -c Release -nologo -clp:ErrorsOnly -v:q -o "$here/bin/out" >/dev/null

ns="fpreg-bench-$$"
work=$(mktemp -d /tmp/fpreg-bench.XXXXXX)
source "$here/../../tools/netns-etcd.sh"
cleanup() {
  netns_etcd_stop "$ns"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

netns_etcd_start "$ns" 23830 "$work"
echo "etcd $(etcd --version | head -1 | awk '{print $3}') in namespace $ns; $(nproc) cores"
timeout 600 ip netns exec "$ns" dotnet "$here/bin/out/LeasesBench.dll" http://127.0.0.1:23830
