#!/usr/bin/env bash
# Kernel-backend benchmark (issue 11): FlannelPS's vxlan and host-gw backends against the same
# kernel paths set up by real flanneld v0.20.2 and by hand, on the bash testbed, in ONE run, so the
# ratios compare figures taken minutes apart on the same machine.
#
#   (a) TCP, iperf3 -P 1 and -P 4, container on h1 -> container on h2:
#       vxlan-flanneld   real flanneld, Backend vxlan, on both hosts (kernel VXLAN, flannel.1)
#       vxlan-flannelps  a FlannelPS node, Backend vxlan, on both hosts
#   (b) routed           no overlay daemon: docker0 subnets routed by static routes
#                        `<other subnet> via <other host IP> dev eth0`, what host-gw programs,
#                        and no iptables rules at all
#       routed-again     the same static routes as routed, measured as a leg of its own: a control
#                        whose ratio to routed is 1.0 but for the machine's noise (the bench's
#                        resolution; on shared 2-CPU VMs single runs differ by up to 20%)
#       hostgw-flanneld  real flanneld, Backend host-gw (a second reference for the same path)
#       hostgw-flannelps a FlannelPS node, Backend host-gw
#       Opt-in legs that split what a host-gw daemon adds to routed into its two parts:
#       routed-fwd       the static routes plus flannel's FORWARD rules (FLANNEL-FWD) added by
#                        hand, no daemon: the cost of the rules alone
#       hostgw-flanneld-norules, hostgw-flannelps-norules
#                        the daemon run with -iptables-forward-rules=false: the cost of the
#                        running daemon alone
#       fwd-rules        the rules alone, finer: on routed's static routes the rules are added
#                        and removed in place, iperf3 in pairs seconds apart (order alternating),
#                        the median of the per-pair ratios; with perf on the PATH also the share
#                        of the CPU spent in netfilter during a TCP4 run with the rules
#       Goal: FlannelPS >= 0.95x its baseline. Both use the kernel's own datapath, so less than
#       that means a setup difference (MTU, offloads, extra hops), not a slower implementation.
#       The three legs take turns on ONE testbed (same namespaces, veths, bridges, containers):
#       each round, in rotated order, a leg programs the routes (by hand, or by starting its two
#       daemons), is measured, and is torn down to no routes and no rules. Separate testbeds
#       built one after the other were seen to differ by up to 8% with identical kernel state
#       (the one built last was the fastest, whichever daemon it ran).
#   (c) N vxlan leases (default 500, fake PublicIPs 198.51.100.x, random VtepMACs) appear while
#       one node runs on h1: time until every route, neighbour and FDB entry for them is in h1's
#       kernel, and until all are gone after the keys are deleted; for real flanneld and for
#       FlannelPS, each written two ways: "txn" = one etcd transaction (one revision: all N events
#       in one watch response; the issue's "at once"), "each" = one put per lease, back to back
#       (N revisions). Goal for FlannelPS: < 1 s each way. flanneld v0.20.2 handles only the
#       first event of a watch response, so on "txn" it programs 1 of N: the bench reports that.
#
# The FlannelPS legs are skipped with a message while the built module refuses the backend
# ("backend type 'vxlan' is not supported"); the flanneld and routed legs run regardless.
#
# Usage (root): bench/kernel/run.sh      (also run by bench/run.sh)
# Env: FLANNELPS_BENCH_SECONDS  iperf3 duration per test (default 5)
#      FLANNELPS_BENCH_ROUNDS   alternating rounds per comparison; figures are medians (default 5)
#      FLANNELPS_BENCH_LEASES   leases for (c) (default 500)
#      FLANNELPS_BENCH_TIMEOUT  (c): seconds to wait for all entries to appear / go (default 20)
#      FLANNELPS_BENCH_LEGS     subset, comma separated: vxlan-flanneld,vxlan-flannelps,routed,routed-again,
#                               hostgw-flanneld,hostgw-flannelps,scale-txn-flanneld,
#                               scale-txn-flannelps,scale-each-flanneld,scale-each-flannelps
#                               (default: all of these); opt-in: routed-fwd,
#                               hostgw-flanneld-norules,hostgw-flannelps-norules,fwd-rules
#      FLANNELPS_BENCH_PAIRS    fwd-rules: pairs of runs per stream count (default 15)
#      FLANNELPS_BENCH_PREFIX   namespace name prefix (default fpkb; the PID is appended)
#      FLANNELPS_BENCH_NO_BUILD 1 = do not run ./build.sh when out/FlannelPS is missing
#      FLANNELPS_MODULE         module manifest (default out/FlannelPS/FlannelPS.psd1)
#      FLANNELD_BINARY          real flanneld (default ../shared/anchors/flanneld-v0.20.2)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo" || exit 1
export NO_COLOR=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 POWERSHELL_TELEMETRY_OPTOUT=1

secs=${FLANNELPS_BENCH_SECONDS:-5}
rounds=${FLANNELPS_BENCH_ROUNDS:-5}
pairs=${FLANNELPS_BENCH_PAIRS:-15}
nleases=${FLANNELPS_BENCH_LEASES:-500}
scale_timeout=${FLANNELPS_BENCH_TIMEOUT:-20}
legs=",${FLANNELPS_BENCH_LEGS:-vxlan-flanneld,vxlan-flannelps,routed,routed-again,hostgw-flanneld,hostgw-flannelps,scale-txn-flanneld,scale-txn-flannelps,scale-each-flanneld,scale-each-flannelps},"
module="${FLANNELPS_MODULE:-$repo/out/FlannelPS/FlannelPS.psd1}"
prefix=/coreos.com/network

[[ $(id -u) -eq 0 ]] || { echo "bench/kernel: must run as root (network namespaces)" >&2; exit 1; }
((pairs >= 1 && pairs <= 200)) || { echo "bench/kernel: FLANNELPS_BENCH_PAIRS must be 1..200, got $pairs" >&2; exit 1; }
((nleases >= 1 && nleases <= 4096)) || { echo "bench/kernel: FLANNELPS_BENCH_LEASES must be 1..4096, got $nleases" >&2; exit 1; }
# shellcheck source=../../tests/testbed/testbed.sh
source "$repo/tests/testbed/testbed.sh"

work=$(mktemp -d /tmp/fpkb-bench.XXXXXX)
cleanup() {
  tb_destroy_all
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
tb_init || exit 1
tb_prefix="${FLANNELPS_BENCH_PREFIX:-fpkb}-$$"

tools/install-deps.sh >/dev/null || exit 1
flanneld=$(tb_flanneld_binary 2>"$work/flanneld-missing") || flanneld=""
flanneld_skip=""
[[ -n "$flanneld" ]] || flanneld_skip=$(cat "$work/flanneld-missing")
if [[ ! -f "$module" && "${FLANNELPS_BENCH_NO_BUILD:-0}" != 1 ]]; then ./build.sh Release >"$work/build.log" 2>&1 || { tail -20 "$work/build.log"; exit 1; }; fi

declare -A tcp1 tcp4 note t_add t_del w_add w_del
leg_order=()
scale_order=()
failed=0

want() { [[ "$legs" == *",$1,"* ]]; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }

# Throughput legs of one comparison are up side by side and measured in alternating rounds
# (order rotated every round), and each figure is the median of its rounds: outside load on a
# shared machine comes and goes within seconds, and must fall on the baseline and the candidate
# alike. Per leg: its testbed, client namespace, server namespace (iperf3 -s running) and address.
declare -A leg_tb leg_src leg_dst leg_ip samples1 samples4

# leg_ready LEG TB SRC_NS DST_NS DST_IP: checks the path, starts the iperf3 server, registers LEG.
leg_ready() {
  local leg=$1 tb=$2 src=$3 dst=$4 ip=$5
  tb_wait 30 "$leg path to $ip" ip netns exec "$src" ping -c 1 -W 1 "$ip" || {
    note[$leg]="path never came up"
    for i in 1 2; do echo "  h$i routes:"; ip -n "$(tb_ns_host "$tb" "$i")" -4 route | sed 's/^/    /'; done
    return 1
  }
  tb_bg "$tb" "$dst" "$work/$leg-iperf3-server.log" iperf3 -s -p 5201 || return 1
  tb_wait 10 "iperf3 server in $dst" sh -c "ip netns exec '$dst' ss -ltnH 'sport = :5201' | grep -q ." ||
    { note[$leg]="iperf3 server did not start"; return 1; }
  leg_tb[$leg]=$tb; leg_src[$leg]=$src; leg_dst[$leg]=$dst; leg_ip[$leg]=$ip
  samples1[$leg]=""; samples4[$leg]=""
}

# iperf_once LEG P: one iperf3 -P P run; prints the receiver rate in Mbit/s (nothing on failure).
iperf_once() {
  local leg=$1 p=$2 out
  out=$(timeout $((secs + 20)) ip netns exec "${leg_src[$leg]}" iperf3 -c "${leg_ip[$leg]}" -p 5201 -t "$secs" -P "$p" -f m 2>&1)
  grep -E 'receiver$' <<<"$out" | tail -1 | sed -n 's/.* \([0-9.]*\) Mbits\/sec.*/\1/p'
  grep -qE 'receiver$' <<<"$out" || echo "$out" >>"$work/$leg-iperf3-P$p.log"
}

# median [FORMAT]: the median of the numbers on stdin, printed with FORMAT (default %.0f); "-" for none.
median() { tr ' ' '\n' | grep . | sort -g | awk -v f="${1:-%.0f}\n" '{v[NR] = $1} END { if (!NR) print "-"; else if (NR % 2) printf f, v[(NR + 1) / 2]; else printf f, (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# measure_rounds LEG...: $rounds rounds over the ready legs among LEG..., then medians. Each figure
# is also kept by round in round_rate[LEG.P.ROUND]. When leg_up/leg_down name functions, every leg
# is brought up before its turn and torn down after it (the host-gw legs share one testbed).
leg_up=""; leg_down=""
measure_rounds() {
  local -a ready=() order=()
  local leg r k n p rate
  for leg in "$@"; do [[ -n "${leg_tb[$leg]:-}" ]] && ready+=("$leg"); done
  n=${#ready[@]}
  ((n)) || return 0
  echo "  $rounds rounds of iperf3 -P 1 and -P 4, ${secs}s each, over: ${ready[*]}"
  for ((r = 0; r < rounds; r++)); do
    order=()
    for ((k = 0; k < n; k++)); do order+=("${ready[$(((k + r) % n))]}"); done
    for leg in "${order[@]}"; do
      if [[ -n "$leg_up" ]] && ! "$leg_up" "$leg"; then
        note[$leg]="${note[$leg]:-}round $r: the leg did not come up; "; "$leg_down" || return 1; continue
      fi
      for p in 1 4; do
        rate=$(iperf_once "$leg" "$p")
        [[ -n "$rate" ]] || note[$leg]="${note[$leg]:-}an iperf3 -P $p run failed; "
        if ((p == 1)); then samples1[$leg]+=" $rate"; else samples4[$leg]+=" $rate"; fi
        [[ -n "$rate" ]] && round_rate[$leg.$p.$r]=$rate
      done
      if [[ -n "$leg_down" ]]; then "$leg_down" || return 1; fi
    done
  done
  for leg in "${ready[@]}"; do
    tcp1[$leg]=$(median <<<"${samples1[$leg]}"); tcp4[$leg]=$(median <<<"${samples4[$leg]}")
    echo "  $leg: TCP1 ${samples1[$leg]# } -> ${tcp1[$leg]}; TCP4 ${samples4[$leg]# } -> ${tcp4[$leg]}"
  done
}

# node_start KIND TB I [FLAG...]: a flanneld or FlannelPS node on host I (the testbed's etcd,
# host's subnet file, then FLAG...). Both are daemons started with the same flags: real flanneld,
# or FlannelPS's compiled bin/flanneld (what a service runs), so the only difference is the
# implementation.
node_start() {
  local kind=$1 tb=$2 i=$3 log="$work/$2-h$3-$1.log"
  shift 3
  if [[ "$kind" == flanneld ]]; then
    tb_flanneld "$tb" "$i" "$log" "$@"
  else
    FLANNELD_BINARY="$(dirname "$module")/bin/flanneld" tb_flanneld "$tb" "$i" "$log" "$@"
  fi
}

# node_wait KIND TB I PID: until the node has written subnet.env; 1 (with the log's tail) on failure.
node_wait() {
  local kind=$1 tb=$2 i=$3 pid=$4 log="$work/$2-h$3-$1.log"
  tb_wait_subnet_env "$(tb_dir "$tb")/h$i/subnet.env" "$pid" 90 2>/dev/null && return 0
  echo "bench: the $kind node on h$i did not come up; log tail:" >&2; tail -15 "$log" >&2
  return 1
}

skip_leg() { echo "bench: leg $1 SKIPPED: $2"; note[$1]="skipped: $2"; }

# pair_up LEG KIND BACKEND: two hosts with a node each (one after the other: flanneld v0.20.2
# was seen to miss a lease created while it starts), a container each; the testbed stays up.
pair_up() {
  local leg=$1 kind=$2 backend=$3 tb="$tb_prefix-${1:0:1}${1#*-}" i rc subnet mtu
  tb=${tb:0:38}
  leg_order+=("$leg"); tcp1[$leg]="-"; tcp4[$leg]="-"
  if [[ "$kind" == flanneld && -n "$flanneld_skip" ]]; then skip_leg "$leg" "$flanneld_skip"; return 0; fi
  echo "bench: leg $leg ($kind nodes, Backend $backend, on both hosts)"
  tb_new "$tb" 2 etcd || return 1
  tb_etcdctl "$tb" put "$prefix/config" "{\"Network\":\"10.0.0.0/16\",\"Backend\":{\"Type\":\"$backend\"}}" >/dev/null || return 1
  local -a addr=()
  for i in 1 2; do
    node_start "$kind" "$tb" "$i" || return 1
    node_wait "$kind" "$tb" "$i" "$TB_PID"; rc=$?
    ((rc == 0)) || { note[$leg]="node on h$i did not start"; tb_destroy "$tb"; return 1; }
    subnet=$(sed -n 's/^FLANNEL_SUBNET=//p' "$(tb_dir "$tb")/h$i/subnet.env"); mtu=$(sed -n 's/^FLANNEL_MTU=//p' "$(tb_dir "$tb")/h$i/subnet.env")
    echo "  h$i: FLANNEL_SUBNET=$subnet FLANNEL_MTU=$mtu"
    addr[i]=$(tb_add_containers "$tb" "$i" "$subnet" "$mtu") || return 1
  done
  leg_ready "$leg" "$tb" "$(tb_ns_container "$tb" 1 1)" "$(tb_ns_container "$tb" 2 1)" "${addr[2]}"
}

# (b) on one testbed. hostgw_up: two hosts, a FlannelPS host-gw node on each to allocate their
# subnets (kept in etcd: each later daemon start finds its lease again by PublicIP), a container
# on each, the iperf3 server; then the nodes are stopped and everything they programmed removed.
hostgw_tb="$tb_prefix-hg"
hostgw_legs=(routed routed-again routed-fwd hostgw-flanneld hostgw-flannelps hostgw-flanneld-norules hostgw-flannelps-norules)
declare -a hostgw_net hostgw_pids
hostgw_src="" hostgw_dst="" hostgw_ip=""  # the one path every host-gw leg measures
# round_rate[LEG.P.ROUND]: one iperf3 -P P figure; paired[LEG.P]: median over rounds of LEG / routed
# in the same round (minutes apart at most, so slow drift of the machine cancels out).
declare -A round_rate paired
hostgw_up() {
  local tb=$hostgw_tb i leg
  echo "bench: the host-gw legs and their routed baseline on one testbed, taking turns"
  tb_new "$tb" 2 etcd || return 1
  tb_etcdctl "$tb" put "$prefix/config" '{"Network":"10.0.0.0/16","Backend":{"Type":"host-gw"}}' >/dev/null || return 1
  local -a addr=()
  for i in 1 2; do
    node_start flannelps "$tb" "$i" || return 1
    hostgw_pids[i]=$TB_PID
    node_wait flannelps "$tb" "$i" "$TB_PID" || return 1
    local subnet mtu
    subnet=$(sed -n 's/^FLANNEL_SUBNET=//p' "$(tb_dir "$tb")/h$i/subnet.env"); mtu=$(sed -n 's/^FLANNEL_MTU=//p' "$(tb_dir "$tb")/h$i/subnet.env")
    echo "  h$i: FLANNEL_SUBNET=$subnet FLANNEL_MTU=$mtu"
    hostgw_net[i]=$(awk -F'[./]' '{ printf "%s.%s.%s.0/%s", $1, $2, $3, $5 }' <<<"$subnet")
    addr[i]=$(tb_add_containers "$tb" "$i" "$subnet" "$mtu") || return 1
  done
  hostgw_leg_down hostgw-flannelps
  hostgw_src=$(tb_ns_container "$tb" 1 1) hostgw_dst=$(tb_ns_container "$tb" 2 1) hostgw_ip=${addr[2]}
  for leg in "${hostgw_legs[@]}" fwd-rules; do
    want "$leg" || continue
    [[ "$leg" == fwd-rules ]] || { leg_order+=("$leg"); tcp1[$leg]="-"; tcp4[$leg]="-"; }
    if [[ "$leg" == hostgw-flanneld* && -n "$flanneld_skip" ]]; then skip_leg "$leg" "$flanneld_skip"; continue; fi
    leg_tb[$leg]=$tb; leg_src[$leg]=$hostgw_src; leg_dst[$leg]=$hostgw_dst; leg_ip[$leg]=$hostgw_ip
    samples1[$leg]=""; samples4[$leg]=""
  done
  tb_bg "$tb" "$hostgw_dst" "$work/hostgw-iperf3-server.log" iperf3 -s -p 5201 || return 1
  tb_wait 10 "iperf3 server" sh -c "ip netns exec '$hostgw_dst' ss -ltnH 'sport = :5201' | grep -q ." || return 1
}

# fwd_rules on|off NS: the FORWARD rules flanneld v0.20.2 installs with -iptables-forward-rules (its
# default) for 10.0.0.0/16, in its order; off removes them (and is quiet when they are absent).
fwd_rules() {
  if [[ $1 == on ]]; then
    ip netns exec "$2" sh -c 'iptables -N FLANNEL-FWD &&
      iptables -A FLANNEL-FWD -s 10.0.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT &&
      iptables -A FLANNEL-FWD -d 10.0.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT &&
      iptables -A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD'
  else
    ip netns exec "$2" sh -c 'iptables -D FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD 2>/dev/null
      iptables -F FLANNEL-FWD 2>/dev/null; iptables -X FLANNEL-FWD 2>/dev/null; true'
  fi
}

# hostgw_leg_up LEG: routes for LEG on both hosts (static ones, or its two daemons), then the path.
hostgw_leg_up() {
  local leg=$1 tb=$hostgw_tb i j kind ns
  local -a flags=()
  case $leg in
    routed | routed-again | routed-fwd)
      for i in 1 2; do
        j=$((3 - i)); ns=$(tb_ns_host "$tb" "$i")
        ip -n "$ns" route replace "${hostgw_net[j]}" via "$(tb_host_ip "$j")" dev eth0 || return 1
        [[ "$leg" == routed-fwd ]] || continue
        fwd_rules on "$ns" || return 1
      done ;;
    *)
      kind=${leg#hostgw-}
      [[ "$kind" == *-norules ]] && { kind=${kind%-norules}; flags=(-iptables-forward-rules=false); }
      for i in 1 2; do
        rm -f "$(tb_dir "$tb")/h$i/subnet.env"
        node_start "$kind" "$tb" "$i" "${flags[@]}" || return 1
        hostgw_pids[i]=$TB_PID
        node_wait "$kind" "$tb" "$i" "$TB_PID" || return 1
      done ;;
  esac
  tb_wait 30 "$leg path" ip netns exec "$hostgw_src" ping -c 1 -W 1 "$hostgw_ip"
}

# hostgw_leg_down LEG: stops LEG's daemons, then removes every route and rule a leg makes, so the
# next leg starts from the same bare hosts.
hostgw_leg_down() {
  local tb=$hostgw_tb i j ns
  for i in 1 2; do [[ -n "${hostgw_pids[i]:-}" ]] && tb_stop_pid "${hostgw_pids[i]}"; hostgw_pids[i]=""; done
  for i in 1 2; do
    j=$((3 - i)); ns=$(tb_ns_host "$tb" "$i")
    ip -n "$ns" route del "${hostgw_net[j]}" 2>/dev/null
    fwd_rules off "$ns"
    [[ -z "$(ip netns exec "$ns" iptables -S FORWARD | grep -v '^-P')" ]] || { echo "bench: FORWARD rules left in $ns:" >&2; ip netns exec "$ns" iptables -S FORWARD >&2; return 1; }
  done
  return 0
}

# hostgw_rounds: the host-gw legs in rounds, each brought up, measured and torn down in its turn;
# then each leg's median of same-round ratios to routed.
hostgw_rounds() {
  local leg p r ratios
  leg_up=hostgw_leg_up; leg_down=hostgw_leg_down
  measure_rounds "${hostgw_legs[@]}" || return 1
  leg_up=""; leg_down=""
  for leg in "${hostgw_legs[@]:1}"; do
    [[ -n "${leg_tb[$leg]:-}" ]] || continue
    for p in 1 4; do
      ratios=""
      for ((r = 0; r < rounds; r++)); do
        [[ -n "${round_rate[$leg.$p.$r]:-}" && -n "${round_rate[routed.$p.$r]:-}" ]] &&
          ratios+=" $(awk -v a="${round_rate[$leg.$p.$r]}" -v b="${round_rate[routed.$p.$r]}" 'BEGIN { printf "%.3f", a / b }')"
      done
      paired[$leg.$p]=$(median %.2f <<<"$ratios")
      echo "  $leg TCP$p / routed, round by round:$ratios -> median ${paired[$leg.$p]}"
    done
  done
}

# fwd_rules_pairs: on routed's static routes, $pairs pairs of iperf3 runs per stream count with
# and without the FORWARD rules, added and removed in place between the two runs of a pair (which
# goes first alternates); fwd_ratio[P] is the median of rules / no rules. Then, with perf, a
# profile of a TCP4 run with the rules: fwd_profile is netfilter's share of all CPU samples.
declare -A fwd_ratio fwd_on fwd_off
fwd_profile="-"
fwd_rules_pairs() {
  local leg=fwd-rules p i on off ratios ons offs client ns
  [[ -n "${leg_tb[$leg]:-}" ]] || return 0
  local -a hosts=("$(tb_ns_host "$hostgw_tb" 1)" "$(tb_ns_host "$hostgw_tb" 2)")
  echo "  fwd-rules: $pairs pairs of ${secs}s iperf3 runs per stream count, the rules added and removed in place"
  hostgw_leg_up routed || { note[$leg]="the routes did not come up; "; return 1; }
  for p in 1 4; do
    ratios="" ons="" offs=""
    for ((i = 0; i < pairs; i++)); do
      if ((i % 2)); then
        for ns in "${hosts[@]}"; do fwd_rules on "$ns" || return 1; done; on=$(iperf_once "$leg" "$p")
        for ns in "${hosts[@]}"; do fwd_rules off "$ns"; done; off=$(iperf_once "$leg" "$p")
      else
        off=$(iperf_once "$leg" "$p")
        for ns in "${hosts[@]}"; do fwd_rules on "$ns" || return 1; done; on=$(iperf_once "$leg" "$p")
        for ns in "${hosts[@]}"; do fwd_rules off "$ns"; done
      fi
      [[ -n "$on" && -n "$off" ]] || { note[$leg]="${note[$leg]:-}an iperf3 -P $p pair failed; "; continue; }
      ons+=" $on"; offs+=" $off"; ratios+=" $(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.3f", a / b }')"
    done
    fwd_on[$p]=$(median <<<"$ons"); fwd_off[$p]=$(median <<<"$offs"); fwd_ratio[$p]=$(median %.3f <<<"$ratios")
    echo "  fwd-rules TCP$p rules / no rules, pair by pair:$ratios -> median ${fwd_ratio[$p]}"
  done
  if command -v perf >/dev/null; then
    for ns in "${hosts[@]}"; do fwd_rules on "$ns" || return 1; done
    ip netns exec "$hostgw_src" timeout $((secs + 20)) iperf3 -c "$hostgw_ip" -p 5201 -P 4 -t $((secs + 3)) >/dev/null 2>&1 &
    client=$!
    sleep 1.5
    perf record -a -o "$work/fwd-rules.perf" -- sleep "$secs" >/dev/null 2>&1
    wait "$client"
    # Each symbol's share of all samples (idle included); the netfilter ones summed.
    fwd_profile=$(perf report -i "$work/fwd-rules.perf" --no-children --sort symbol --stdio 2>/dev/null |
      awk '$1 ~ /%$/ && $3 ~ /^(nf_|nft_|ipt_|xt_)/ { s += $1; d = d sprintf(" %s %s", $3, $1) } END { printf "%.2f%% of all CPU samples:%s", s, d }')
  fi
  hostgw_leg_down routed
}

# legs_down LEG...: removes the testbeds of those legs.
legs_down() {
  local leg
  for leg in "$@"; do [[ -n "${leg_tb[$leg]:-}" ]] && tb_destroy "${leg_tb[$leg]}"; done
  return 0
}

# kernel_counts NS: "routes neighbours fdb" for the fake leases (10.200.0.0/15, 198.51.100.x) on flannel.1.
kernel_counts() {
  ip netns exec "$1" sh -c '
    r=$(ip -4 route show dev flannel.1 2>/dev/null | grep -c "^10\.20[01]\.[0-9]*\.0/24 via 10\.20[01]\.[0-9]*\.0 onlink")
    n=$(ip -4 neigh show dev flannel.1 nud permanent 2>/dev/null | grep -c "^10\.20[01]\.[0-9]*\.0 lladdr")
    f=$(bridge fdb show dev flannel.1 2>/dev/null | grep -c " dst 198\.51\.100\.[0-9]* self permanent")
    echo "$r $n $f"'
}

# wait_counts NS WANT T0: polls until routes, neighbours and FDB entries all equal WANT. Sets
# counts (the last poll), settled (seconds from T0, a wall-clock time, to the last poll that saw a
# change) and waited (= settled once all equal WANT; "-" after the timeout).
wait_counts() {
  local ns=$1 want=$2 t0=$3 deadline=$((SECONDS + scale_timeout)) prev=""
  waited="-"; settled="-"
  while ((SECONDS < deadline)); do
    counts=$(kernel_counts "$ns")
    if [[ "$counts" != "$prev" ]]; then
      settled=$(awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN { printf "%.3f", a - b }'); prev=$counts
    fi
    if [[ "$counts" == "$want $want $want" ]]; then waited=$settled; return 0; fi
    sleep 0.02
  done
  return 1
}

# scale_leg HOW KIND: one KIND node on h1 (Backend vxlan, network 10.0.0.0/8), then N leases
# written HOW (txn: one transaction; each: one put per lease), then deleted the same way.
scale_leg() {
  local how=$1 kind=$2 leg="scale-$1-$2" tb="$tb_prefix-s${1:0:1}${2:7:1}" ns pid rc t0 etcdns
  scale_order+=("$leg"); t_add[$leg]="-"; t_del[$leg]="-"; w_add[$leg]="-"; w_del[$leg]="-"
  if [[ "$kind" == flanneld && -n "$flanneld_skip" ]]; then skip_leg "$leg" "$flanneld_skip"; return 0; fi
  echo "bench: leg $leg ($nleases vxlan leases, $how, a $kind node on h1)"
  TB_ETCD_ARGS="--max-txn-ops=$((nleases + 16)) --max-request-bytes=$((nleases * 1024 + 65536))" tb_new "$tb" 1 etcd || return 1
  ns=$(tb_ns_host "$tb" 1); etcdns=$(tb_ns_etcd "$tb")
  tb_etcdctl "$tb" put "$prefix/config" '{"Network":"10.0.0.0/8","Backend":{"Type":"vxlan"}}' >/dev/null || return 1
  node_start "$kind" "$tb" 1 || return 1
  pid=$TB_PID
  node_wait "$kind" "$tb" 1 "$pid"; rc=$?
  ((rc == 0)) || { tb_destroy "$tb"; return 1; }
  tb_wait 10 "flannel.1 in $ns" ip -n "$ns" link show dev flannel.1 || { tb_destroy "$tb"; return 1; }
  # subnet.env is written before the lease watch starts: give the node a moment to be watching.
  sleep 2
  [[ "$(kernel_counts "$ns")" == "0 0 0" ]] || { echo "bench: $leg: entries before any lease was written" >&2; tb_destroy "$tb"; return 1; }
  read -r t0 t1 < <(timeout 120 ip netns exec "$etcdns" python3 "$here/leases.py" put "$how" http://127.0.0.1:2379 "$prefix" "$nleases") && [[ -n "${t1:-}" ]] ||
    { note[$leg]="writing the leases failed"; tb_destroy "$tb"; return 1; }
  w_add[$leg]=$(awk -v a="$t1" -v b="$t0" 'BEGIN { printf "%.3f", a - b }')
  wait_counts "$ns" "$nleases" "$t0" || note[$leg]="${note[$leg]:-}after ${scale_timeout}s only routes/neigh/fdb $counts of $nleases each were in the kernel (last change at $settled s); "
  t_add[$leg]=$waited
  [[ "$waited" == "-" ]] && t_add[$leg]="${counts%% *}/$nleases@${settled}"
  read -r t0 t1 < <(timeout 120 ip netns exec "$etcdns" python3 "$here/leases.py" del "$how" http://127.0.0.1:2379 "$prefix" "$nleases") && [[ -n "${t1:-}" ]] ||
    { note[$leg]="deleting the leases failed"; tb_destroy "$tb"; return 1; }
  w_del[$leg]=$(awk -v a="$t1" -v b="$t0" 'BEGIN { printf "%.3f", a - b }')
  wait_counts "$ns" 0 "$t0" || note[$leg]="${note[$leg]:-}after ${scale_timeout}s of deleting, routes/neigh/fdb $counts were still in the kernel (last change at $settled s); "
  t_del[$leg]=$waited
  [[ "$waited" == "-" ]] && t_del[$leg]="${counts%% *}left@${settled}"
  kill -0 "$pid" 2>/dev/null || note[$leg]="${note[$leg]:-}the node exited; "
  echo "  $leg: programmed ${t_add[$leg]} s, removed ${t_del[$leg]} s"
  tb_destroy "$tb"
  # Real flanneld not keeping up is a finding to report, not a failure of the bench.
  [[ "$kind" == flanneld || ( "${t_add[$leg]}" != "-" && "${t_del[$leg]}" != "-" ) ]]
}

want vxlan-flanneld && { pair_up vxlan-flanneld flanneld vxlan || failed=1; }
want vxlan-flannelps && { pair_up vxlan-flannelps flannelps vxlan || failed=1; }
measure_rounds vxlan-flanneld vxlan-flannelps
legs_down vxlan-flanneld vxlan-flannelps
if want routed || want routed-again || want routed-fwd || want hostgw-flanneld || want hostgw-flannelps || want hostgw-flanneld-norules || want hostgw-flannelps-norules || want fwd-rules; then
  if hostgw_up; then { hostgw_rounds && fwd_rules_pairs; } || failed=1; else failed=1; fi
  tb_destroy "$hostgw_tb"
fi
for how in txn each; do
  want "scale-$how-flanneld" && { scale_leg "$how" flanneld || failed=1; }
  want "scale-$how-flannelps" && { scale_leg "$how" flannelps || failed=1; }
done

echo
echo "kernel backend benchmark, one run: iperf3 ${secs}s per test, median of $rounds alternating rounds, container on h1 -> container on h2"
echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end (shared machines: trust the ratios, not the absolutes)"
if ((${#leg_order[@]})); then
  printf '%-17s %12s %12s | %-15s %8s %8s\n' leg "TCP1 Mbit/s" "TCP4 Mbit/s" baseline "TCP1/bl" "TCP4/bl"
  for leg in "${leg_order[@]}"; do
    case $leg in
      vxlan-flannelps) bl=vxlan-flanneld ;;
      hostgw-* | routed-?*) bl=routed ;;
      *) bl="" ;;
    esac
    r1="-"; r4="-"
    [[ -n "$bl" ]] && { r1=$(ratio "${tcp1[$leg]}" "${tcp1[$bl]:--}"); r4=$(ratio "${tcp4[$leg]}" "${tcp4[$bl]:--}"); }
    printf '%-17s %12s %12s | %-15s %8s %8s\n' "$leg" "${tcp1[$leg]}" "${tcp4[$leg]}" "${bl:--}" "$r1" "$r4"
  done
fi
if ((${#scale_order[@]})); then
  printf '%-21s %16s %16s | %12s %12s\n' leg "all added, s" "all gone, s" "writes, s" "deletes, s"
  for leg in "${scale_order[@]}"; do printf '%-21s %16s %16s | %12s %12s\n' "$leg" "${t_add[$leg]}" "${t_del[$leg]}" "${w_add[$leg]}" "${w_del[$leg]}"; done
  echo "($nleases leases; txn = one etcd transaction, each = one put per lease; time from the first request until every route, neighbour and FDB entry is in h1's kernel (or gone), polled every ~20 ms; K/N@T = only K of N ever appeared, the last at T s; Kleft@T = K never went, the last removal at T s; writes/deletes = from the first request until etcd answered the last: with one put each the node cannot finish before that)"
fi
if [[ -n "${fwd_ratio[1]:-}" ]]; then
  echo "fwd-rules: flannel's FORWARD rules alone on routed's path, median of $pairs pairs: TCP1 ${fwd_off[1]} -> ${fwd_on[1]} Mbit/s (rules / no rules ${fwd_ratio[1]}); TCP4 ${fwd_off[4]} -> ${fwd_on[4]} (${fwd_ratio[4]})"
  echo "fwd-rules: netfilter in a TCP4 profile with the rules: $fwd_profile"
fi
for leg in "${leg_order[@]}" "${scale_order[@]}" fwd-rules; do
  [[ -n "${note[$leg]:-}" ]] && echo "note $leg: ${note[$leg]}"
done
goal() { awk -v t="$1" -v g="$2" -v dir="$3" 'BEGIN { if (t == "-") print "not measured"; else if (t !~ /^[0-9.]+$/) print "NOT met"; else if ((dir == "ge" && t >= g) || (dir == "lt" && t < g)) print "met"; else print "NOT met" }'; }
for p in "vxlan-flannelps vxlan-flanneld" "hostgw-flannelps routed"; do
  read -r leg bl <<<"$p"
  [[ -n "${tcp1[$leg]:-}" ]] || continue
  t=$(ratio "${tcp1[$leg]}" "${tcp1[$bl]:--}"); t4=$(ratio "${tcp4[$leg]}" "${tcp4[$bl]:--}")
  echo "goal: $leg TCP1 >= 0.95x $bl: $t -> $(goal "$t" 0.95 ge); TCP4: $t4 -> $(goal "$t4" 0.95 ge)"
done
for leg in "${hostgw_legs[@]:1}"; do
  [[ -n "${paired[$leg.1]:-}" ]] || continue
  echo "paired: $leg / routed, median of same-round ratios: TCP1 ${paired[$leg.1]} -> $(goal "${paired[$leg.1]}" 0.95 ge); TCP4 ${paired[$leg.4]} -> $(goal "${paired[$leg.4]}" 0.95 ge)"
done
for how in txn each; do
  [[ -n "${t_add[scale-$how-flannelps]:-}" ]] || continue
  a=${t_add[scale-$how-flannelps]}; d=${t_del[scale-$how-flannelps]}
  echo "goal ($how): FlannelPS programs $nleases leases in < 1 s: $a -> $(goal "$a" 1 lt); removes them in < 1 s: $d -> $(goal "$d" 1 lt) (flanneld: ${t_add[scale-$how-flanneld]:--} / ${t_del[scale-$how-flanneld]:--})"
done
exit "$failed"
