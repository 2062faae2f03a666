#!/usr/bin/env bash
# Datapath benchmark: container on host A -> container on host B, through the underlay itself,
# kernel VXLAN set up the way flannel sets it up, a minimal C forwarder with flannel's udp proxy
# design, and FlannelPS's UDP datapath. Everything runs in ONE invocation and is reported as
# ratios, because absolute numbers drift between runs on shared VMs.
#
# Throughput (iperf3) is measured leg by leg, one leg after the other. The RTT comparison of the C
# forwarder and FlannelPS is not: outside load on a shared machine comes and goes within seconds,
# so two legs pinged a minute apart were judged under different loads. The cfwd and flannelps
# testbeds therefore stay up after their legs, and once both are quiet, rounds of pings alternate
# between underlay, cfwd and flannelps (order rotated every round), so every burst of outside load
# falls on all three alike. The RTT target is judged on those interleaved figures.
# One process instance is not enough either: which vCPU the kernel wakes a forwarder on decides
# whether a hop costs ~20 or ~60 us, and that pattern sticks to a process for its life (measured:
# the same binaries differed by up to 0.1 ms between instances). So the rounds are spread over
# several instance pairs: before each one, both C forwarders and both FlannelPS nodes are restarted
# (the nodes without the periodic stats line the throughput legs use).
#
# Usage (root): bench/datapath/run.sh
# Env: FLANNELPS_BENCH_SECONDS  iperf3 duration per test (default 5)
#      FLANNELPS_BENCH_WARMUP   seconds of a discarded iperf3 -P 4 run before each leg's measured ones (default 3; 0 = none)
#      FLANNELPS_BENCH_PINGS    pings per leg, 0.02 s apart (default 200: 50 left the average at the mercy of one outlier)
#      FLANNELPS_BENCH_RTT_INSTANCES  interleaved RTT: forwarder/node instance pairs (default 3)
#      FLANNELPS_BENCH_RTT_ROUNDS  interleaved RTT: rounds per instance pair (default 4); 0 = none
#      FLANNELPS_BENCH_RTT_PINGS   interleaved RTT: pings per path per round, 0.02 s apart (default 20)
#      FLANNELPS_BENCH_PREFIX   namespace name prefix (default fptb; the PID is appended)
#      FLANNELPS_BENCH_LEGS     subset, comma separated: underlay,vxlan,cfwd,flannelps (default all)
#      FLANNELPS_BENCH_NODE     1 = run the FlannelPS leg (fail if it cannot), 0 = skip it,
#                               unset = run it when the built module has Start-FlannelNode
#      FLANNELPS_BENCH_NO_BUILD 1 = do not run ./build.sh before the FlannelPS leg
#      FLANNELPS_BENCH_HOLD_SECONDS  keep the cfwd and flannelps testbeds up this long after the
#                               interleaved RTT (diagnosis by hand; default 0)
#      FLANNELPS_BENCH_OFFLOADS 0 = run the FlannelPS nodes without TUN offloads and UDP GRO
#                               (FLANNELPS_DATAPATH_OFFLOADS=0: the packet-by-packet path), default on
#      FLANNELPS_MODULE         module manifest to use (default out/FlannelPS/FlannelPS.psd1)
# CPU cost: for every iperf3 run, the whole machine's busy CPU time (/proc/stat: user, system, irq,
# softirq; kernel VXLAN works in softirq, so no process's time would show it) divided by the bytes
# that arrived, as CPU seconds per GB; for FlannelPS also the two node processes' own share.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo" || exit 1
export NO_COLOR=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 POWERSHELL_TELEMETRY_OPTOUT=1

secs=${FLANNELPS_BENCH_SECONDS:-5}
warmup=${FLANNELPS_BENCH_WARMUP:-3}
pings=${FLANNELPS_BENCH_PINGS:-200}
iinstances=${FLANNELPS_BENCH_RTT_INSTANCES:-3}
irounds_per=${FLANNELPS_BENCH_RTT_ROUNDS:-4}
irounds=$((iinstances * irounds_per))
ipings=${FLANNELPS_BENCH_RTT_PINGS:-20}
legs=",${FLANNELPS_BENCH_LEGS:-underlay,vxlan,cfwd,flannelps},"
module="${FLANNELPS_MODULE:-$repo/out/FlannelPS/FlannelPS.psd1}"

[[ $(id -u) -eq 0 ]] || { echo "bench/datapath: must run as root (network namespaces, TUN)" >&2; exit 1; }
# shellcheck source=../../tests/testbed/testbed.sh
source "$repo/tests/testbed/testbed.sh"
# shellcheck source=stats.sh
source "$here/stats.sh"

work=$(mktemp -d /tmp/fptb-bench.XXXXXX)
cleanup() {
  tb_destroy_all
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
tb_init || exit 1
tb_prefix="${FLANNELPS_BENCH_PREFIX:-fptb}-$$"

tools/install-deps.sh || exit 1
gcc -O2 -Wall -Wextra -Werror -o "$work/udpfwd" "$here/udpfwd.c" || { echo "bench: udpfwd does not compile" >&2; exit 1; }

# Results, keyed by leg: throughput in Mbit/s, RTT in ms; "-" when not measured.
declare -A tcp1 tcp4 rtt_avg rtt_p50 rtt_p99 note cpugb1 cpugb4 nodegb1 nodegb4
# Interleaved RTT: per path (underlay, cfwd, flannelps) the ping source namespace and destination,
# set by the legs that keep their testbeds up; results as above.
declare -A ipath_src ipath_ip irtt_avg irtt_p50 irtt_p99 irtt_n
leg_order=()

# rtt_stats: sorted RTT samples (ms, one a line) on stdin -> "avg p50 p99"; pN is the value at
# rank ceil(N/100 n).
rtt_stats() {
  awk '{v[NR] = $1; s += $1}
    function pct(p,  r) { r = int(p * NR); if (r < p * NR) r++; return v[r] }
    END { if (NR) printf "%.3f %.3f %.3f\n", s / NR, pct(0.5), pct(0.99) }'
}

# minus A B: A-B with three decimals, "-" when either is missing.
minus() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-") print "-"; else printf "%.3f", a - b }'; }

# busy_ticks: the machine's busy CPU time so far, in clock ticks (all CPUs: user nice system irq softirq steal).
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
clk_tck=$(getconf CLK_TCK)
# per_gb TICKS RATE_MBIT SECONDS: CPU seconds per GB moved ("-" without a rate).
per_gb() { awk -v t="$1" -v r="$2" -v s="$3" -v hz="$clk_tck" 'BEGIN { if (r == "-" || r + 0 == 0) print "-"; else printf "%.2f", (t / hz) / (r * s / 8 / 1000) }'; }

# measure LEG TESTBED SRC_NS DST_NS DST_IP: ping first (idle path), then iperf3 -P 1 and -P 4.
measure() {
  local leg=$1 tb=$2 src=$3 dst=$4 ip=$5
  leg_order+=("$leg")
  tcp1[$leg]="-"; tcp4[$leg]="-"; rtt_avg[$leg]="-"; rtt_p50[$leg]="-"; rtt_p99[$leg]="-"
  # The path must work before it is timed (ARP, first-packet setup): bounded.
  if ! tb_wait 30 "$leg path to $ip" ip netns exec "$src" ping -c 1 -W 1 "$ip"; then
    note[$leg]="path never came up"; return 1
  fi
  ip netns exec "$src" ping -c 3 -i 0.1 -W 1 "$ip" >/dev/null 2>&1
  local times
  times=$(timeout $((pings / 10 + 20)) ip netns exec "$src" ping -n -c "$pings" -i 0.02 -W 1 "$ip" 2>/dev/null \
    | sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' | sort -g)
  if [[ -n "$times" ]]; then
    read -r "rtt_avg[$leg]" "rtt_p50[$leg]" "rtt_p99[$leg]" < <(rtt_stats <<<"$times")
    local got; got=$(wc -l <<<"$times")
    ((got < pings)) && note[$leg]="${note[$leg]:-}$((pings - got))/$pings pings lost; "
  fi

  tb_bg "$tb" "$dst" "$work/$leg-iperf3-server.log" iperf3 -s -p 5201 || return 1
  local server=$TB_PID
  if ! tb_wait 10 "iperf3 server in $dst" sh -c "ip netns exec '$dst' ss -ltnH 'sport = :5201' | grep -q ."; then
    note[$leg]="${note[$leg]:-}iperf3 server did not start; "; tb_stop_pid "$server"; return 1
  fi
  local p out
  [[ -n "${on_transfer_start:-}" ]] && "$on_transfer_start"
  # A discarded warm-up run first, for every leg alike: a node started seconds ago is still
  # compiling its hot loops (the JIT's second tier took ~4% of the machine during a first run),
  # and a daemon's speed is its steady state. It lies inside the GC window all the same.
  ((warmup > 0)) && timeout $((warmup + 20)) ip netns exec "$src" iperf3 -c "$ip" -p 5201 -t "$warmup" -P 4 >/dev/null 2>&1
  cpugb1[$leg]="-"; cpugb4[$leg]="-"; nodegb1[$leg]="-"; nodegb4[$leg]="-"
  for p in 1 4; do
    local t0 n0 t1 n1
    t0=$(busy_ticks); n0=$( [[ -n "${node_ticks_of:-}" ]] && "$node_ticks_of" || echo 0)
    out=$(timeout $((secs + 20)) ip netns exec "$src" iperf3 -c "$ip" -p 5201 -t "$secs" -P "$p" -f m 2>&1)
    t1=$(busy_ticks); n1=$( [[ -n "${node_ticks_of:-}" ]] && "$node_ticks_of" || echo 0)
    # The receiver line (SUM line for -P 4) is what arrived, which is what matters.
    local rate
    rate=$(grep -E 'receiver$' <<<"$out" | tail -1 | sed -n 's/.* \([0-9.]*\) Mbits\/sec.*/\1/p')
    if [[ -z "$rate" ]]; then
      note[$leg]="${note[$leg]:-}iperf3 -P $p failed; "
      echo "$out" >"$work/$leg-iperf3-P$p.log"
      rate="-"
    fi
    # iperf3's -t covers the data; its setup and teardown add a little CPU, counted against the same bytes.
    if ((p == 1)); then
      tcp1[$leg]=$rate; cpugb1[$leg]=$(per_gb $((t1 - t0)) "$rate" "$secs")
      [[ -n "${node_ticks_of:-}" ]] && nodegb1[$leg]=$(per_gb $((n1 - n0)) "$rate" "$secs")
    else
      tcp4[$leg]=$rate; cpugb4[$leg]=$(per_gb $((t1 - t0)) "$rate" "$secs")
      [[ -n "${node_ticks_of:-}" ]] && nodegb4[$leg]=$(per_gb $((n1 - n0)) "$rate" "$secs")
    fi
  done
  [[ -n "${on_transfer_end:-}" ]] && "$on_transfer_end"
  tb_stop_pid "$server"
}

# Leg a: host A to host B on the underlay addresses, nothing in between but the bridge.
leg_underlay() {
  local tb="$tb_prefix-u"
  echo "bench: leg underlay (host A -> host B, 192.0.2.0/24, no overlay)"
  tb_new "$tb" 2 || return 1
  measure underlay "$tb" "$(tb_ns_host "$tb" 1)" "$(tb_ns_host "$tb" 2)" "$(tb_host_ip 2)"
  tb_destroy "$tb"
}

# Subnets for the legs whose subnets we choose (flannel's would come from etcd).
subnet_of() { echo "10.0.$((1 + 4 * $1)).0"; }   # host 1 -> 10.0.5.0, host 2 -> 10.0.9.0
bridge_of() { echo "10.0.$((1 + 4 * $1)).1/24"; }  # what FLANNEL_SUBNET would say
mac_of() { printf '0a:58:0a:00:%02x:00' "$((1 + 4 * $1))"; }  # locally administered, unicast

# Leg b: flannel HEAD's vxlan setup: flannel.1 VNI 1 dstport 8472 nolearning, MTU 1450,
# /32 address, and per remote lease a permanent neighbour, an FDB entry, then an onlink route.
leg_vxlan() {
  local tb="$tb_prefix-v" i j ns
  echo "bench: leg vxlan (kernel VXLAN as flannel configures it, MTU 1450)"
  tb_new "$tb" 2 || return 1
  for i in 1 2; do
    ns=$(tb_ns_host "$tb" "$i")
    ip -n "$ns" link add flannel.1 type vxlan id 1 dstport 8472 nolearning local "$(tb_host_ip "$i")" dev eth0 || return 1
    ip -n "$ns" link set flannel.1 address "$(mac_of "$i")" mtu 1450 up || return 1
    ip -n "$ns" addr add "$(subnet_of "$i")/32" dev flannel.1 || return 1
  done
  for i in 1 2; do
    ns=$(tb_ns_host "$tb" "$i")
    for j in 1 2; do
      ((i == j)) && continue
      ip -n "$ns" neigh add "$(subnet_of "$j")" lladdr "$(mac_of "$j")" dev flannel.1 nud permanent || return 1
      bridge -n "$ns" fdb append "$(mac_of "$j")" dst "$(tb_host_ip "$j")" dev flannel.1 self permanent || return 1
      ip -n "$ns" route add "$(subnet_of "$j")/24" via "$(subnet_of "$j")" dev flannel.1 onlink || return 1
    done
  done
  local b
  tb_add_containers "$tb" 1 "$(bridge_of 1)" 1450 >/dev/null || return 1
  b=$(tb_add_containers "$tb" 2 "$(bridge_of 2)" 1450) || return 1
  measure vxlan "$tb" "$(tb_ns_container "$tb" 1 1)" "$(tb_ns_container "$tb" 2 1)" "$b"
  tb_destroy "$tb"
}

# Leg c: the C forwarder in each host; TUN flannel0 MTU 1472, HEAD-style /32 address plus a route
# for the whole flannel network, UDP port 8285 bound to the host's underlay address.
cfwd_tb="" cfwd_pids=()
# cfwd_start I LOG: the C forwarder of host I, and what flanneld would configure around it: the
# TUN's /32 address, MTU and the route for the whole flannel network (the TUN goes with the process).
cfwd_start() {
  local tb=$cfwd_tb i=$1 log=$2 j ns routes=()
  ns=$(tb_ns_host "$tb" "$i")
  for j in 1 2; do ((i == j)) || routes+=("$(subnet_of "$j")/24=$(tb_host_ip "$j")"); done
  tb_bg "$tb" "$ns" "$log" "$work/udpfwd" -i flannel0 -b "$(tb_host_ip "$i")" -p 8285 -m 1472 \
    -s "$(subnet_of "$i")" "${routes[@]}" || return 1
  cfwd_pids[$i]=$TB_PID
  tb_wait 10 "udpfwd ready in $ns" grep -q '^ready' "$log" || { cat "$log" >&2; return 1; }
  ip -n "$ns" addr add "$(subnet_of "$i")/32" dev flannel0 || return 1
  ip -n "$ns" link set flannel0 mtu 1472 up || return 1
  ip -n "$ns" route add 10.0.0.0/16 dev flannel0 || return 1
}
leg_cfwd() {
  local tb="$tb_prefix-c" i ns
  cfwd_tb=$tb cfwd_pids=()
  echo "bench: leg cfwd (single-threaded C forwarder, flannel udp proxy design, MTU 1472)"
  tb_new "$tb" 2 || return 1
  for i in 1 2; do
    ns=$(tb_ns_host "$tb" "$i")
    cfwd_start "$i" "$work/cfwd-h$i.log" || return 1
    # The forward rules every flannel node installs: same netfilter work per packet as
    # the FlannelPS hosts, so the comparison is of the forwarders, not of the rule sets.
    ip netns exec "$ns" iptables -N FLANNEL-FWD || return 1
    ip netns exec "$ns" iptables -A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD || return 1
    ip netns exec "$ns" iptables -A FLANNEL-FWD -s 10.0.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT || return 1
    ip netns exec "$ns" iptables -A FLANNEL-FWD -d 10.0.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT || return 1
  done
  local b
  tb_add_containers "$tb" 1 "$(bridge_of 1)" 1472 >/dev/null || return 1
  b=$(tb_add_containers "$tb" 2 "$(bridge_of 2)" 1472) || return 1
  measure cfwd "$tb" "$(tb_ns_container "$tb" 1 1)" "$(tb_ns_container "$tb" 2 1)" "$b"
  # Kept up (idle: the forwarder sleeps in poll) for the interleaved RTT rounds; cfwd_down after.
  ipath_src[cfwd]=$(tb_ns_container "$tb" 1 1) ipath_ip[cfwd]=$b
  ipath_src[underlay]=$(tb_ns_host "$tb" 1) ipath_ip[underlay]=$(tb_host_ip 2)
  keep_testbeds || cfwd_down
}

cfwd_down() {
  local tb=$cfwd_tb i
  [[ -n "$tb" ]] || return 0
  cfwd_tb=""
  for i in "${cfwd_pids[@]}"; do tb_stop_pid "$i"; done
  for i in 1 2; do sed -n 's/^udpfwd: /  cfwd h'"$i"': /p' "$work/cfwd-h$i.log"; done
  # Datagrams one forwarder sent that the other never read: its UDP receive buffer overflowed.
  local tx1 rx1 tx2 rx2
  tx1=$(sed -n 's/.* udp_tx=\([0-9]*\).*/\1/p' "$work/cfwd-h1.log"); rx1=$(sed -n 's/.* udp_rx=\([0-9]*\).*/\1/p' "$work/cfwd-h1.log")
  tx2=$(sed -n 's/.* udp_tx=\([0-9]*\).*/\1/p' "$work/cfwd-h2.log"); rx2=$(sed -n 's/.* udp_rx=\([0-9]*\).*/\1/p' "$work/cfwd-h2.log")
  if [[ -n "$tx1" && -n "$rx1" && -n "$tx2" && -n "$rx2" ]]; then
    note[cfwd]="${note[cfwd]:-}$((tx1 - rx2 + tx2 - rx1)) of $((tx1 + tx2)) datagrams lost between the forwarders; "
  fi
  tb_destroy "$tb"
}

# Does the built module have the node cmdlet? (The FlannelPS leg is skipped, loudly, when not.)
node_available() {
  case "${FLANNELPS_BENCH_NODE:-}" in
    0) return 1 ;;
  esac
  if [[ "${FLANNELPS_BENCH_NO_BUILD:-}" != 1 ]]; then
    ./build.sh Release >"$work/build.log" 2>&1 || { tail -20 "$work/build.log" >&2; [[ "${FLANNELPS_BENCH_NODE:-}" == 1 ]] && exit 1; return 1; }
  fi
  [[ "${FLANNELPS_BENCH_NODE:-}" == 1 ]] && return 0
  [[ -f "$module" ]] || return 1
  timeout 120 dotnet pwsh -NoProfile -NonInteractive -c \
    "Import-Module '$module'; if (Get-Command Start-FlannelNode -ErrorAction SilentlyContinue) { exit 0 } else { exit 1 }" >/dev/null 2>&1
}

# Sum of VmRSS (KiB) of every process in a namespace: the node and any child the tool host spawned.
ns_rss_kib() {
  local p total=0 kb
  for p in $(ip netns pids "$1" 2>/dev/null); do
    kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null)
    total=$((total + ${kb:-0}))
  done
  echo "$total"
}

declare -A fp_before fp_gc fp_rss
fp_gc_total=0 fp_transfer_secs=0 fp_tb=""

# Leg d: a FlannelPS node per host namespace, UDP backend, subnets from etcd.
leg_flannelps() {
  local tb="$tb_prefix-f" i ns env subnet mtu cfg='{"Network":"10.0.0.0/16","Backend":{"Type":"udp"}}'
  echo "bench: leg flannelps (FlannelPS UDP datapath, Start-FlannelNode in each host)"
  tb_new "$tb" 2 etcd || return 1
  tb_etcdctl "$tb" put /coreos.com/network/config "$cfg" >/dev/null || return 1
  fp_tb=$tb
  for i in 1 2; do fp_start "$i" "$work/flannelps-h$i.log" || return 1; done
  declare -A csub
  for i in 1 2; do
    env="$(tb_dir "$tb")/h$i/subnet.env"
    fp_wait_node "$i" "$work/flannelps-h$i.log" || return 1
    subnet=$(sed -n 's/^FLANNEL_SUBNET=//p' "$env"); mtu=$(sed -n 's/^FLANNEL_MTU=//p' "$env")
    echo "  h$i: FLANNEL_SUBNET=$subnet FLANNEL_MTU=$mtu"
    csub[$i]=$(tb_add_containers "$tb" "$i" "$subnet" "$mtu") || return 1
  done
  # Warm-up parity with the C forwarder, which has none to do: a node that has just started is still
  # JIT-compiling its startup code (measured: 100-250 ms of tiered-compilation CPU per node in the
  # first seconds), which competes with the datapath threads for the 2 CPUs. Wait, bounded, until
  # both nodes are quiet: under 2% of a CPU over one second.
  fp_wait_quiet 45 "$tb" || note[flannelps]="${note[flannelps]:-}nodes not quiet before the ping; "
  on_transfer_start=fp_transfer_start on_transfer_end=fp_transfer_end node_ticks_of=fp_leg_ticks \
    measure flannelps "$tb" "$(tb_ns_container "$tb" 1 1)" "$(tb_ns_container "$tb" 2 1)" "${csub[2]}"
  ipath_src[flannelps]=$(tb_ns_container "$tb" 1 1) ipath_ip[flannelps]=${csub[2]}
  keep_testbeds || fp_down
}

fp_leg_ticks() { fp_node_ticks "$fp_tb"; }

fp_node_pid=()
# fp_start I LOG [STATS_SECONDS]: the FlannelPS node of host I (a restart keeps its subnet: the
# lease is in etcd), logging a datapath stats line every STATS_SECONDS (0: none).
fp_start() {
  local i=$1 env stats=${3:-${FLANNELPS_BENCH_STATS_SECONDS:-1}}
  env="$(tb_dir "$fp_tb")/h$i/subnet.env"
  # -Verbose shows Info lines, among them the datapath's periodic stats line (counters, GC counts).
  tb_bg "$fp_tb" "$(tb_ns_host "$fp_tb" "$i")" "$2" env FLANNELPS_DATAPATH_STATS_SECONDS="$stats" \
    FLANNELPS_DATAPATH_OFFLOADS="${FLANNELPS_BENCH_OFFLOADS:-1}" dotnet pwsh -NoProfile -NonInteractive -c \
    "Import-Module '$module'; Start-FlannelNode -EtcdEndpoint $(tb_etcd_endpoint) -SubnetFile '$env' -Wait -Verbose" || return 1
  fp_node_pid[$i]=$TB_PID
}
# fp_wait_node I LOG: until node I has written its subnet.env (bounded).
fp_wait_node() {
  tb_wait_subnet_env "$(tb_dir "$fp_tb")/h$1/subnet.env" "${fp_node_pid[$1]}" 90 || { tail -20 "$2" >&2; return 1; }
}

fp_down() {
  local tb=$fp_tb i
  [[ -n "$tb" ]] || return 0
  fp_tb=""
  for i in 1 2; do
    sed -n 's/^VERBOSE: udp datapath stats: /  flannelps h'"$i"' at the end: /p' "$work/flannelps-h$i.log" | tail -1
  done
  tb_destroy "$tb"
}

# CPU time (clock ticks) of every process in the two host namespaces of each testbed TB...
fp_node_ticks() {
  local p t=0 v tb
  for tb in "$@"; do
    for p in $(ip netns pids "$(tb_ns_host "$tb" 1)" 2>/dev/null) $(ip netns pids "$(tb_ns_host "$tb" 2)" 2>/dev/null); do
      v=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null)
      t=$((t + ${v:-0}))
    done
  done
  echo "$t"
}
# fp_wait_quiet SECONDS TB...: waits until the forwarders/nodes of the testbeds together used
# < 2 ticks (2% of a CPU at 100 Hz) in a second.
fp_wait_quiet() {
  local secs=$1; shift
  local deadline=$((SECONDS + secs)) a b waited=$SECONDS
  while ((SECONDS < deadline)); do
    a=$(fp_node_ticks "$@"); sleep 1; b=$(fp_node_ticks "$@")
    if ((b - a < 2)); then echo "  nodes quiet after $((SECONDS - waited)) s"; return 0; fi
  done
  echo "  nodes still busy after $secs s (last second: $((b - a)) ticks); measuring anyway"
  return 1
}

# The latest datapath stats line of node I (see FLANNELPS_DATAPATH_STATS_SECONDS), after waiting
# for a fresh one so it is not older than the moment of the call.
fp_stats() {
  local log="$work/flannelps-h$1.log" n
  n=$(grep -c 'udp datapath stats:' "$log")
  tb_wait 5 "a fresh stats line from node $1" sh -c "[ \$(grep -c 'udp datapath stats:' '$log') -gt $n ]" || return 1
  grep 'udp datapath stats:' "$log" | tail -1
}
field() { sed -n 's/.* '"$1"'=\([0-9]*\).*/\1/p' <<<"$2"; }
fp_transfer_start() {
  local i
  for i in 1 2; do fp_before[$i]=$(fp_stats "$i"); done
  fp_t0=$SECONDS
}
# GC collections (gen0/1/2) in each node between the two snapshots, which enclose every iperf3 run;
# and each node process's RSS while it is still up.
fp_transfer_end() {
  local i after g k
  fp_transfer_secs=$((SECONDS - fp_t0))
  for i in 1 2; do
    after=$(fp_stats "$i")
    g=""
    for k in gc0 gc1 gc2; do
      local b a; b=$(field "$k" "${fp_before[$i]}"); a=$(field "$k" "$after")
      if [[ -n "$a" && -n "$b" ]]; then g+="$((a - b))/"; fp_gc_total=$((fp_gc_total + a - b)); else g+="?/"; fp_gc_total=unknown_; fi
    done
    fp_gc[$i]=${g%/}
    fp_rss[$i]=$(( $(ns_rss_kib "$(tb_ns_host "$fp_tb" "$i")") / 1024 ))
    note[flannelps]="${note[flannelps]:-}h$i: GC gen0/1/2 during transfer ${fp_gc[$i]}, node RSS ${fp_rss[$i]} MiB; "
  done
}

# Interleaved RTT needs both testbeds up at once: only when both legs are asked for.
interleave_wanted() { ((irounds > 0)) && [[ "$legs" == *",cfwd,"* && "$legs" == *",flannelps,"* ]]; }
# The cfwd and flannelps legs leave their testbeds up for the interleaved RTT or for a hold.
keep_testbeds() { interleave_wanted || [[ "${FLANNELPS_BENCH_HOLD_SECONDS:-0}" -gt 0 ]]; }

# interleaved_rtt: once the forwarders and nodes of both testbeds are quiet, IROUNDS rounds of
# IPINGS pings (same parameters as the sequential legs) over each path, paths rotated each round so
# no path always goes first or follows the same one. Samples pooled per path.
interleaved_rtt() {
  local paths=(underlay cfwd flannelps) p r k n quiet=1
  for p in "${paths[@]}"; do
    [[ -n "${ipath_src[$p]:-}" ]] || { echo "bench: interleaved RTT skipped: no $p path up"; return 1; }
  done
  echo "bench: interleaved RTT ($iinstances instance pairs x $irounds_per rounds x $ipings pings per path, cfwd and flannelps testbeds both up)"
  for p in "${paths[@]}"; do : >"$work/irtt-$p"; done
  for ((r = 0; r < irounds; r++)); do
    if ((r % irounds_per == 0)); then
      irtt_new_instances "$((r / irounds_per))" || return 1
      fp_wait_quiet 45 "$cfwd_tb" "$fp_tb" || quiet=0
      # Warm, bounded: ARP and first-packet setup are not what is compared.
      for p in "${paths[@]}"; do
        ip netns exec "${ipath_src[$p]}" ping -n -c 3 -i 0.1 -W 1 "${ipath_ip[$p]}" >/dev/null 2>&1
      done
    fi
    for ((k = 0; k < ${#paths[@]}; k++)); do
      p=${paths[$(( (r + k) % ${#paths[@]} ))]}
      timeout $((ipings / 10 + 10)) ip netns exec "${ipath_src[$p]}" ping -n -c "$ipings" -i 0.02 -W 1 "${ipath_ip[$p]}" 2>/dev/null \
        | sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' >"$work/irtt-$p-r$r"
      cat "$work/irtt-$p-r$r" >>"$work/irtt-$p"
    done
  done
  for p in "${paths[@]}"; do
    n=$(wc -l <"$work/irtt-$p")
    irtt_n[$p]=$n irtt_avg[$p]="-" irtt_p50[$p]="-" irtt_p99[$p]="-"
    ((n > 0)) && read -r "irtt_avg[$p]" "irtt_p50[$p]" "irtt_p99[$p]" < <(sort -g "$work/irtt-$p" | rtt_stats)
  done
  # Per instance pair: each forwarder's avg overhead over the underlay, to show the spread.
  local k f
  irtt_per_instance="" irtt_instance_diffs=""
  for ((k = 0; k < iinstances; k++)); do
    for p in "${paths[@]}"; do
      : >"$work/irtt-$p-i$k"
      for ((r = k * irounds_per; r < (k + 1) * irounds_per; r++)); do cat "$work/irtt-$p-r$r" >>"$work/irtt-$p-i$k"; done
    done
    local ul cf fp
    ul=$(sort -g "$work/irtt-underlay-i$k" | rtt_stats | cut -d' ' -f1)
    cf=$(sort -g "$work/irtt-cfwd-i$k" | rtt_stats | cut -d' ' -f1)
    fp=$(sort -g "$work/irtt-flannelps-i$k" | rtt_stats | cut -d' ' -f1)
    irtt_per_instance+="$(minus "${fp:--}" "${ul:--}")/$(minus "${cf:--}" "${ul:--}") "
    irtt_instance_diffs+="$(minus "${fp:--}" "${cf:--}") "
  done
  # Paired view: in how many rounds FlannelPS's median was at or below the C forwarder's.
  irtt_rounds_won=0
  for ((r = 0; r < irounds; r++)); do
    local mf mc
    mf=$(sort -g "$work/irtt-flannelps-r$r" | rtt_stats | cut -d' ' -f2)
    mc=$(sort -g "$work/irtt-cfwd-r$r" | rtt_stats | cut -d' ' -f2)
    [[ -n "$mf" && -n "$mc" ]] && awk -v a="$mf" -v b="$mc" 'BEGIN { exit !(a <= b) }' && irtt_rounds_won=$((irtt_rounds_won + 1))
  done
  # FlannelPS minus C per instance pair (the unit that varies: rounds of one pair are not
  # independent), its mean and standard error, to tell a difference from this machine's noise.
  irtt_diff=$(awk -v d="$irtt_instance_diffs" 'BEGIN { k = split(d, t, " "); n = 0
      for (i = 1; i <= k; i++) if (t[i] != "-") x[++n] = t[i]
      if (n < 2) { print "-"; exit }
      for (i = 1; i <= n; i++) s += x[i]; m = s / n
      for (i = 1; i <= n; i++) v += (x[i] - m) ^ 2; se = sqrt(v / (n - 1) / n)
      printf "%+.3f ms +/- %.3f (mean and standard error over %d instance pairs)%s", m, se, n,
        (m > -2 * se && m < 2 * se) ? ": within 2 standard errors of zero, level within noise" : "" }')
  ((quiet)) || irtt_note="nodes not quiet before the rounds; "
  return 0
}

# irtt_new_instances K: fresh processes for instance pair K, the same for both sides: both C
# forwarders and both FlannelPS nodes stopped and started again (the nodes keep their leases),
# paths checked. The nodes run without the stats line the transfer needed: the C forwarder has no
# periodic work either.
irtt_new_instances() {
  local k=$1 i p
  echo "  instance pair $((k + 1)): restarting both C forwarders and both FlannelPS nodes"
  for i in 1 2; do tb_stop_pid "${cfwd_pids[$i]}"; cfwd_start "$i" "$work/cfwd-h$i-i$k.log" || return 1; done
  for i in 1 2; do tb_stop_pid "${fp_node_pid[$i]}"; fp_start "$i" "$work/flannelps-h$i-i$k.log" 0 || return 1; done
  for i in 1 2; do fp_wait_node "$i" "$work/flannelps-h$i-i$k.log" || return 1; done
  for p in cfwd flannelps; do
    tb_wait 30 "$p path after the restart" ip netns exec "${ipath_src[$p]}" ping -c 1 -W 1 "${ipath_ip[$p]}" || return 1
  done
}

run_leg() {
  local leg=$1
  [[ "$legs" == *",$leg,"* ]] || return 0
  if ! "leg_$leg"; then
    echo "bench: leg $leg failed" >&2
    [[ -n "${rtt_avg[$leg]:-}" ]] || { leg_order+=("$leg"); tcp1[$leg]="-"; tcp4[$leg]="-"; rtt_avg[$leg]="-"; rtt_p50[$leg]="-"; rtt_p99[$leg]="-"; }
    note[$leg]="${note[$leg]:-}FAILED; "
    tb_destroy "$tb_prefix-${leg:0:1}"  # leg testbeds are named by the leg's first letter
    failed=1
  fi
}

failed=0
run_leg underlay
run_leg vxlan
run_leg cfwd
if [[ "$legs" == *",flannelps,"* ]]; then
  if node_available; then
    run_leg flannelps
  else
    echo "FlannelPS: not available (the built module has no Start-FlannelNode; FLANNELPS_BENCH_NODE=1 forces the leg)"
    legs=${legs//,flannelps,/,}
  fi
fi
irtt_done=0 irtt_note="" irtt_rounds_won=0 irtt_diff="-"
if interleave_wanted && [[ -n "$cfwd_tb" && -n "$fp_tb" ]]; then
  interleaved_rtt && irtt_done=1
fi
# A diagnosis aid: keep both testbeds up so the paths can be traced by hand (perf, ftrace, ping).
if [[ "${FLANNELPS_BENCH_HOLD_SECONDS:-0}" -gt 0 ]]; then
  for p in underlay cfwd flannelps; do
    [[ -n "${ipath_src[$p]:-}" ]] && echo "bench: holding; $p: ip netns exec ${ipath_src[$p]} ping ${ipath_ip[$p]}"
  done
  echo "bench: holding the testbeds for ${FLANNELPS_BENCH_HOLD_SECONDS}s (kill -TERM $$ to end early)"
  sleep "$FLANNELPS_BENCH_HOLD_SECONDS" & wait $! || true
fi
cfwd_down
fp_down


echo
echo "datapath benchmark, one run: iperf3 ${secs}s per test, $pings pings at 0.02 s; container A -> container B"
echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end (shared machines: trust the ratios, not the absolutes)"
printf '%-10s %12s %12s %10s %10s %10s | %8s %8s %8s %8s %8s %8s %12s | %9s %9s %9s %9s\n' leg "TCP1 Mbit/s" "TCP4 Mbit/s" "RTT avg" "RTT p50" "RTT p99" \
  "TCP1/cf" "TCP4/cf" "TCP1/vx" "TCP4/vx" "TCP1/ul" "TCP4/ul" "RTT+ over ul" "CPUs/GB1" "CPUs/GB4" "node/GB1" "node/GB4"
for leg in "${leg_order[@]}"; do
  printf '%-10s %12s %12s %10s %10s %10s | %8s %8s %8s %8s %8s %8s %12s | %9s %9s %9s %9s\n' "$leg" "${tcp1[$leg]}" "${tcp4[$leg]}" \
    "${rtt_avg[$leg]}" "${rtt_p50[$leg]}" "${rtt_p99[$leg]}" \
    "$(ratio "${tcp1[$leg]}" "${tcp1[cfwd]:--}")" "$(ratio "${tcp4[$leg]}" "${tcp4[cfwd]:--}")" \
    "$(ratio "${tcp1[$leg]}" "${tcp1[vxlan]:--}")" "$(ratio "${tcp4[$leg]}" "${tcp4[vxlan]:--}")" \
    "$(ratio "${tcp1[$leg]}" "${tcp1[underlay]:--}")" "$(ratio "${tcp4[$leg]}" "${tcp4[underlay]:--}")" \
    "$(minus "${rtt_avg[$leg]}" "${rtt_avg[underlay]:--}")" \
    "${cpugb1[$leg]:--}" "${cpugb4[$leg]:--}" "${nodegb1[$leg]:--}" "${nodegb4[$leg]:--}"
done
echo "(RTT in ms, each leg pinged in its own turn; /cf, /vx, /ul = ratio to the C forwarder, kernel VXLAN, underlay; RTT+ = avg RTT minus the underlay's)"
echo "(CPUs/GB = the whole machine's busy CPU seconds per GB that arrived, iperf3 included, 1 and 4 streams; node/GB = the FlannelPS node processes' own)"
if ((irtt_done)); then
  echo
  echo "interleaved RTT: cfwd and flannelps testbeds up side by side, both quiet; $iinstances instance pairs x $irounds_per rounds x $ipings pings at 0.02 s per path, path order rotated each round"
  printf '%-10s %8s %10s %10s %10s | %12s %12s %12s\n' path pings "RTT avg" "RTT p50" "RTT p99" "avg+ over ul" "p50+ over ul" "p99+ over ul"
  for p in underlay cfwd flannelps; do
    printf '%-10s %8s %10s %10s %10s | %12s %12s %12s\n' "$p" "${irtt_n[$p]}/$((irounds * ipings))" \
      "${irtt_avg[$p]}" "${irtt_p50[$p]}" "${irtt_p99[$p]}" \
      "$(minus "${irtt_avg[$p]}" "${irtt_avg[underlay]}")" "$(minus "${irtt_p50[$p]}" "${irtt_p50[underlay]}")" \
      "$(minus "${irtt_p99[$p]}" "${irtt_p99[underlay]}")"
  done
  echo "(underlay path: host A -> host B of the cfwd testbed; rounds in which FlannelPS's median <= C forwarder's: $irtt_rounds_won/$irounds)"
  echo "(FlannelPS minus C forwarder: $irtt_diff)"
  echo "(avg overhead over the underlay per instance pair, FlannelPS/C forwarder, ms: $irtt_per_instance)"
  [[ -n "$irtt_note" ]] && echo "note interleaved: $irtt_note"
fi
for leg in "${leg_order[@]}"; do
  [[ -n "${note[$leg]:-}" ]] && echo "note $leg: ${note[$leg]}"
done

# The issue's targets for the FlannelPS leg, judged against the C forwarder from this same run.
if [[ -n "${rtt_avg[flannelps]:-}" ]]; then
  met() { awk -v t="$1" -v g="${2:-3}" 'BEGIN { print (t != "-" && t >= g) ? "met" : "NOT met" }'; }
  t=$(ratio "${tcp1[flannelps]}" "${tcp1[cfwd]:--}"); t4=$(ratio "${tcp4[flannelps]}" "${tcp4[cfwd]:--}")
  # RTT target on the interleaved figures when there are any: the sequential legs were pinged at
  # different moments, under whatever the other tenants of the machine were doing then.
  if ((irtt_done)); then
    o_fp=$(minus "${irtt_avg[flannelps]}" "${irtt_avg[underlay]}"); o_cf=$(minus "${irtt_avg[cfwd]}" "${irtt_avg[underlay]}")
    o_how="interleaved, avg over $iinstances instance pairs x $irounds_per rounds x $ipings pings each"
  else
    o_fp=$(minus "${rtt_avg[flannelps]}" "${rtt_avg[underlay]:--}"); o_cf=$(minus "${rtt_avg[cfwd]:--}" "${rtt_avg[underlay]:--}")
    o_how="sequential legs, NOT interleaved"
  fi
  echo "FlannelPS vs C forwarder: TCP1 ${t}x, TCP4 ${t4}x; vs underlay: TCP1 $(ratio "${tcp1[flannelps]}" "${tcp1[underlay]:--}")x, TCP4 $(ratio "${tcp4[flannelps]}" "${tcp4[underlay]:--}")x"
  v=$(ratio "${tcp1[flannelps]}" "${tcp1[vxlan]:--}"); v4=$(ratio "${tcp4[flannelps]}" "${tcp4[vxlan]:--}")
  echo "offloads: FLANNELPS_DATAPATH_OFFLOADS=${FLANNELPS_BENCH_OFFLOADS:-1} ($(grep -ho 'offloads tun:[^;]*' "$work/flannelps-h1.log" | head -1 || true))"
  echo "goal: FlannelPS TCP1 >= 1.0x kernel VXLAN: $v -> $(met "$v" 1.0)"
  echo "goal: FlannelPS TCP4 >= 1.0x kernel VXLAN: $v4 -> $(met "$v4" 1.0)"
  echo "target: FlannelPS TCP1 >= 3x C forwarder: $t -> $(met "$t" 3)"
  echo "target: FlannelPS TCP4 >= 3x C forwarder: $t4 -> $(met "$t4" 3)"
  echo "CPU seconds per GB (whole machine, 1/4 streams): flannelps ${cpugb1[flannelps]}/${cpugb4[flannelps]}, vxlan ${cpugb1[vxlan]:--}/${cpugb4[vxlan]:--}, cfwd ${cpugb1[cfwd]:--}/${cpugb4[cfwd]:--}; FlannelPS nodes alone ${nodegb1[flannelps]}/${nodegb4[flannelps]}"
  echo "target: FlannelPS RTT overhead <= C forwarder's ($o_how): $o_fp vs $o_cf ms -> $(awk -v a="$o_fp" -v b="$o_cf" 'BEGIN { print (a != "-" && b != "-" && a <= b) ? "met" : "NOT met" }')"
  echo "target: no GC collection in either node during the ${fp_transfer_secs}s of transfer: gen0/1/2 h1 ${fp_gc[1]:-?}, h2 ${fp_gc[2]:-?} -> $([[ "$fp_gc_total" == 0 ]] && echo met || echo "NOT met")"
  echo "node RSS (whole process: pwsh + module + datapath): h1 ${fp_rss[1]:-?} MiB, h2 ${fp_rss[2]:-?} MiB"
fi
exit "$failed"
