#!/usr/bin/env bash
# What flannel's FORWARD rules cost on the routed path (issue 11's host-gw target).
#
# host-gw programs exactly the routes of a plain routed underlay and, with
# -iptables-forward-rules (flannel's default, and FlannelPS's), two ACCEPT rules for the cluster
# network in a FLANNEL-FWD chain that FORWARD jumps to; Docker sets FORWARD's policy to DROP, so
# without them no container traffic is forwarded. Both daemons were measured equal to each other
# and a few per cent below routed at 4 streams; this bench isolates the rules: on ONE routed
# testbed (client ns -> host ns -> host ns -> server ns, veths, static routes, nothing else) it
# adds and removes the rules in place and measures iperf3 with and without them in pairs seconds
# apart, the order alternating, and reports the median of the per-pair ratios. With perf on the
# PATH it also records a profile of a run with the rules and prints the share of the CPU spent in
# netfilter (the hook, nf_tables' chain walk, the xt compat match iptables-nft uses for
# `-m comment`, the rule counters).
#
# Usage (root): bench/forward-rules/run.sh      (also run by bench/run.sh)
# Env: FLANNELPS_BENCH_PAIRS    pairs of runs per stream count (default 15)
#      FLANNELPS_BENCH_SECONDS  iperf3 duration per run (default 3)
#      FLANNELPS_BENCH_PREFIX   namespace name prefix (default fpfr; the PID is appended)
set -uo pipefail
export NO_COLOR=1
pairs=${FLANNELPS_BENCH_PAIRS:-15}
secs=${FLANNELPS_BENCH_SECONDS:-3}
p="${FLANNELPS_BENCH_PREFIX:-fpfr}$$"
[[ $(id -u) -eq 0 ]] || { echo "bench/forward-rules: must run as root (network namespaces)" >&2; exit 1; }
((pairs >= 1 && pairs <= 200)) || { echo "bench/forward-rules: FLANNELPS_BENCH_PAIRS must be 1..200, got $pairs" >&2; exit 1; }
((secs >= 1 && secs <= 60)) || { echo "bench/forward-rules: FLANNELPS_BENCH_SECONDS must be 1..60, got $secs" >&2; exit 1; }
for t in ip iptables iperf3 python3; do
  command -v "$t" >/dev/null || { echo "bench/forward-rules: needs $t (apt-get install iproute2 iptables iperf3 python3)" >&2; exit 1; }
done

c1=$p-c1 h1=$p-h1 h2=$p-h2 c2=$p-c2
work=$(mktemp -d)
server=""
cleanup() {
  [[ -n "$server" ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  local n; for n in "$c1" "$h1" "$h2" "$c2"; do ip netns del "$n" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# c1 (10.0.1.2) - h1 (10.0.1.1 | 192.0.2.11) = eth0 = (192.0.2.12 | 10.0.2.1) h2 - c2 (10.0.2.2):
# each host routes the other's /24 via the other's underlay address, as host-gw does.
testbed() {
  local n
  for n in "$c1" "$h1" "$h2" "$c2"; do ip netns add "$n" && ip -n "$n" link set lo up || return 1; done
  ip link add ve0 netns "$c1" type veth peer name ve1 netns "$h1" &&
  ip link add eth0 netns "$h1" type veth peer name eth0 netns "$h2" &&
  ip link add ve1 netns "$c2" type veth peer name ve0 netns "$h2" &&
  ip -n "$c1" addr add 10.0.1.2/24 dev ve0 && ip -n "$c1" link set ve0 up && ip -n "$c1" route add default via 10.0.1.1 &&
  ip -n "$h1" addr add 10.0.1.1/24 dev ve1 && ip -n "$h1" link set ve1 up &&
  ip -n "$h1" addr add 192.0.2.11/24 dev eth0 && ip -n "$h1" link set eth0 up &&
  ip -n "$h2" addr add 192.0.2.12/24 dev eth0 && ip -n "$h2" link set eth0 up &&
  ip -n "$h2" addr add 10.0.2.1/24 dev ve0 && ip -n "$h2" link set ve0 up &&
  ip -n "$c2" addr add 10.0.2.2/24 dev ve1 && ip -n "$c2" link set ve1 up && ip -n "$c2" route add default via 10.0.2.1 &&
  ip -n "$h1" route add 10.0.2.0/24 via 192.0.2.12 dev eth0 &&
  ip -n "$h2" route add 10.0.1.0/24 via 192.0.2.11 dev eth0 || return 1
  for n in "$h1" "$h2"; do ip netns exec "$n" sysctl -qw net.ipv4.ip_forward=1 || return 1; done
  ip netns exec "$c1" ping -c 1 -W 2 10.0.2.2 >/dev/null || { echo "bench/forward-rules: no path c1 -> c2" >&2; return 1; }
}

# The rules flanneld v0.20.2 installs for Network 10.0.0.0/16, in its order.
rules() {
  local op=$1 n
  for n in "$h1" "$h2"; do
    if [[ $op == on ]]; then
      ip netns exec "$n" sh -c 'iptables -N FLANNEL-FWD &&
        iptables -A FLANNEL-FWD -s 10.0.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT &&
        iptables -A FLANNEL-FWD -d 10.0.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT &&
        iptables -A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD' || return 1
    else
      ip netns exec "$n" sh -c 'iptables -D FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD &&
        iptables -F FLANNEL-FWD && iptables -X FLANNEL-FWD' || return 1
    fi
  done
}

# rate P: one iperf3 -P P run c1 -> c2, Mbit/s received.
rate() {
  ip netns exec "$c1" timeout $((secs + 15)) iperf3 -c 10.0.2.2 -p 5201 -P "$1" -t "$secs" -J 2>/dev/null |
    python3 -c 'import json,sys; print(int(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e6))'
}

# median [FORMAT]: the median of the numbers on stdin, one a line (printf FORMAT, default %.3f).
median() { sort -g | awk -v f="${1:-%.3f}" '{ v[NR] = $1 } END { if (NR) printf f, (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

testbed || exit 1
ip netns exec "$c2" iperf3 -s -p 5201 >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 50); do ip netns exec "$c2" ss -ltnH 'sport = :5201' | grep -q . && break; sleep 0.1; done
# Once on and off first, so that both states below have iptables-nft's filter table and its
# FORWARD hook: what differs between them is the rules alone.
rules on && rules off || exit 1

echo "bench/forward-rules: $pairs pairs of ${secs}s iperf3 runs per stream count, rules added/removed in place"
declare -A med_off med_on med_ratio
for P in 1 4; do
  offs="" ons="" ratios=""
  for ((i = 0; i < pairs; i++)); do
    if ((i % 2)); then rules on || exit 1; on=$(rate "$P"); rules off || exit 1; off=$(rate "$P")
    else off=$(rate "$P"); rules on || exit 1; on=$(rate "$P"); rules off || exit 1; fi
    [[ -n "$on" && -n "$off" && "$off" -gt 0 ]] || { echo "bench/forward-rules: iperf3 failed (pair $i, -P $P)" >&2; exit 1; }
    offs+="$off"$'\n'; ons+="$on"$'\n'; ratios+=$(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.3f", a / b }')$'\n'
  done
  med_off[$P]=$(median %.0f <<<"${offs%$'\n'}"); med_on[$P]=$(median %.0f <<<"${ons%$'\n'}"); med_ratio[$P]=$(median <<<"${ratios%$'\n'}")
  echo "  TCP$P rules/no-rules, pair by pair: $(tr '\n' ' ' <<<"${ratios%$'\n'}")"
done

profile="-"
if command -v perf >/dev/null; then
  rules on || exit 1
  ip netns exec "$c1" timeout $((secs + 20)) iperf3 -c 10.0.2.2 -p 5201 -P 4 -t $((secs + 3)) >/dev/null 2>&1 &
  client=$!
  sleep 1.5
  perf record -a -o "$work/perf.data" -- sleep "$secs" >/dev/null 2>&1
  wait "$client"
  rules off || exit 1
  # Share of all samples (idle included) per symbol; the netfilter ones summed.
  profile=$(perf report -i "$work/perf.data" --no-children --sort symbol --stdio 2>/dev/null |
    awk '$1 ~ /%$/ && $3 ~ /^(nf_|nft_|ipt_|xt_)/ { s += $1; d = d sprintf(" %s %s", $3, $1) } END { printf "%.2f%% of all CPU samples:%s", s, d }')
fi

printf '\n%-10s %14s %14s %22s\n' "streams" "no rules Mbit/s" "rules Mbit/s" "median pair ratio"
for P in 1 4; do printf '%-10s %14s %14s %22s\n' "TCP$P" "${med_off[$P]}" "${med_on[$P]}" "${med_ratio[$P]}"; done
echo "netfilter in a TCP4 profile with the rules: $profile"
