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
etcd_pid=""
cleanup() {
  [[ -n "$etcd_pid" ]] && kill "$etcd_pid" 2>/dev/null && wait "$etcd_pid" 2>/dev/null || true
  ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$ns"
ip -n "$ns" link set lo up
ip netns exec "$ns" etcd --name bench --data-dir "$work/etcd" \
  --listen-client-urls http://127.0.0.1:23830 --advertise-client-urls http://127.0.0.1:23830 \
  --listen-peer-urls http://127.0.0.1:23831 --initial-advertise-peer-urls http://127.0.0.1:23831 \
  --initial-cluster bench=http://127.0.0.1:23831 >"$work/etcd.log" 2>&1 &
etcd_pid=$!
for _ in $(seq 50); do
  ip netns exec "$ns" etcdctl --endpoints=http://127.0.0.1:23830 endpoint health >/dev/null 2>&1 && break
  sleep 0.2
done
echo "etcd $(etcd --version | head -1 | awk '{print $3}') in namespace $ns; $(nproc) cores"
timeout 600 ip netns exec "$ns" dotnet "$here/bin/out/LeasesBench.dll" http://127.0.0.1:23830
