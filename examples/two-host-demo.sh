#!/usr/bin/env bash
# FlannelPS in five minutes: two simulated hosts (network namespaces) on one machine, etcd, a
# FlannelPS node per host, a "container" per host, and a ping from one container to the other
# across the overlay. Run as root on a fresh Debian machine: examples/two-host-demo.sh
# With a backend named (udp, the default, vxlan or host-gw) the config selects it:
#   examples/two-host-demo.sh vxlan
# Nothing is left behind: every namespace, process and temp file goes away on exit, even on failure.
# It never touches the root network namespace.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo" || exit 1
export NO_COLOR=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 POWERSHELL_TELEMETRY_OPTOUT=1
module="${FLANNELPS_MODULE:-$repo/out/FlannelPS/FlannelPS.psd1}"

step() { printf '\n==> %s\n' "$*"; }
fail() { printf '\ndemo: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || fail "run me as root (I create network namespaces and TUN devices)"
backend=${1:-udp}
case "$backend" in
  udp) config='{"NetWork":"10.0.0.0/16"}' ;;
  vxlan | host-gw) config="{\"Network\":\"10.0.0.0/16\",\"Backend\":{\"Type\":\"$backend\"}}" ;;
  *) fail "unknown backend '$backend': use udp, vxlan or host-gw" ;;
esac
# shellcheck source=../tests/testbed/testbed.sh
source "$repo/tests/testbed/testbed.sh"
work=$(mktemp -d /tmp/fptb-demo.XXXXXX)
cleanup() {
  step "Cleaning up: stopping the nodes and etcd, deleting the namespaces"
  tb_destroy_all
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
tb="fptb-demo-$$"
declare -A node_pid

pwsh_in() { # pwsh_in NAMESPACE SCRIPT: one PowerShell command inside a host (bounded).
  timeout 120 ip netns exec "$1" dotnet pwsh -NoProfile -NonInteractive -c "$2"
}


# start_node HOSTINDEX: a FlannelPS node inside host HOSTINDEX's namespace, in the background,
# writing that host's own subnet.env (/run is shared by all namespaces).
start_node() {
  local i=$1 ns env log
  ns=$(tb_ns_host "$tb" "$i"); env="$(tb_dir "$tb")/h$i/subnet.env"; log="$work/node-h$i.log"
  tb_bg "$tb" "$ns" "$log" dotnet pwsh -NoProfile -NonInteractive -c \
    "Import-Module '$module'; Start-FlannelNode -EtcdEndpoint $(tb_etcd_endpoint) -SubnetFile '$env' -Wait | ForEach-Object Message"
  node_pid[$i]=$TB_PID
  echo "    h$i: node pid $TB_PID, log $log"
}

step "Installing what the demo needs (etcd, iproute2, iperf3, ...): tools/install-deps.sh"
tools/install-deps.sh || fail "installing dependencies failed"

step "Building FlannelPS: ./build.sh"
./build.sh Release || fail "the build failed"

step "Building two hosts: namespaces $tb-h1 (192.0.2.11) and $tb-h2 (192.0.2.12) on an underlay bridge, etcd at 192.0.2.2"
tb_new "$tb" 2 etcd || fail "building the testbed failed"

step "Writing the network config: etcdctl put /coreos.com/network/config '$config'"
tb_etcdctl "$tb" put /coreos.com/network/config "$config" || fail "could not write the config to etcd"

step "Starting a FlannelPS node in each host: Start-FlannelNode -EtcdEndpoint $(tb_etcd_endpoint) -SubnetFile <per host> -Wait"
start_node 1 || fail "starting the node on h1 failed"
start_node 2 || fail "starting the node on h2 failed"

step "Waiting for each node to lease a subnet and write its subnet.env (up to 90 s)"
for i in 1 2; do
  env="$(tb_dir "$tb")/h$i/subnet.env"
  if ! tb_wait_subnet_env "$env" "${node_pid[$i]}" 90; then
    tail -20 "$work/node-h$i.log" >&2
    fail "h$i's node did not write $env"
  fi
  echo "    h$i: $env is there"
done

step "The leases in etcd: etcdctl get --prefix /coreos.com/network/subnets"
tb_etcdctl "$tb" get --prefix /coreos.com/network/subnets

step "The same through FlannelPS: Get-FlannelSubnetLease (from inside h1)"
pwsh_in "$(tb_ns_host "$tb" 1)" "Import-Module '$module'
  if (Get-Command Get-FlannelSubnetLease -ErrorAction SilentlyContinue) {
    Get-FlannelSubnetLease -EtcdEndpoint $(tb_etcd_endpoint) | Format-Table -AutoSize | Out-String -Width 200
  } else { '    Get-FlannelSubnetLease: not in this build yet' }" || echo "    (Get-FlannelSubnetLease failed)"

declare -A subnet mtu addr
for i in 1 2; do
  env="$(tb_dir "$tb")/h$i/subnet.env"
  step "h$i's subnet.env ($env)"
  cat "$env"
  subnet[$i]=$(sed -n 's/^FLANNEL_SUBNET=//p' "$env"); mtu[$i]=$(sed -n 's/^FLANNEL_MTU=//p' "$env")
  [[ -n "${subnet[$i]}" && -n "${mtu[$i]}" ]] || fail "h$i's subnet.env lacks FLANNEL_SUBNET or FLANNEL_MTU"
done

for i in 1 2; do
  step "A container on h$i: bridge docker0 = ${subnet[$i]}, container eth0 MTU ${mtu[$i]} (what docker --bip/--mtu would do)"
  addr[$i]=$(tb_add_containers "$tb" "$i" "${subnet[$i]}" "${mtu[$i]}") || fail "building the container on h$i failed"
  echo "    $(tb_ns_container "$tb" "$i" 1): ${addr[$i]}"
done

a=$(tb_ns_container "$tb" 1 1)
step "Ping from the container on h1 (${addr[1]}) to the container on h2 (${addr[2]}) across the overlay"
# The nodes learn each other's lease through etcd: allow them a few seconds for that.
tb_wait 30 "the overlay path" ip netns exec "$a" ping -c 1 -W 1 "${addr[2]}" || echo "    (no answer yet; pinging anyway)"
if timeout 30 ip netns exec "$a" ping -c 5 -i 0.5 -W 2 "${addr[2]}"; then
  step "It works: h1's container reached h2's container through FlannelPS ($backend backend)"
else
  fail "the ping across the overlay failed; node logs are in $work (kept until exit)"
fi
