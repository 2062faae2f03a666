#!/usr/bin/env bash
# FlannelPS udp against kernel VXLAN, the figure the udp datapath is judged by, measured as several
# back-to-back runs of only those two legs of run.sh: outside load on a shared VM moves one run's
# ratio by ±15%, so this prints every run's ratios and then the medians (of the per-run ratios, and
# of the throughputs). Each run sets up and tears down both testbeds, as run.sh always does.
#
# Usage (root): bench/datapath/vs-vxlan.sh [RUNS]     (default 3)
# Env: FLANNELPS_BENCH_NO_BUILD  1 = use out/FlannelPS as built (otherwise ./build.sh Release first)
#      FLANNELPS_BENCH_SECONDS   iperf3 seconds per test (run.sh's default otherwise)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=stats.sh
source "$here/stats.sh"
runs=${1:-3}
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "vs-vxlan: RUNS must be a positive number, not '$runs'" >&2; exit 2; }
[[ $EUID -eq 0 ]] || { echo "vs-vxlan: run as root" >&2; exit 1; }
work=$(mktemp -d /tmp/flannelps-vsvx.XXXXXX)
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

build_release_unless_told "$repo" "$work/build.log" || exit 1

printf '%4s %12s %12s %12s %12s %8s %8s %9s %9s\n' run "VXLAN TCP1" "VXLAN TCP4" "FPS TCP1" "FPS TCP4" "TCP1/vx" "TCP4/vx" "CPUs/GB1" "CPUs/GB4"
: >"$work/results"
for ((r = 1; r <= runs; r++)); do
  quick_run vxlan,flannelps "$work/run-$r.log"
  vx=$(leg_row "$work/run-$r.log" vxlan)
  fp=$(leg_row "$work/run-$r.log" flannelps)
  [[ -n "$vx" && -n "$fp" ]] || { echo "vs-vxlan: run $r gave no figures:" >&2; tail -15 "$work/run-$r.log" >&2; exit 1; }
  read -r v1 v4 vc1 vc4 _ _ <<<"$vx"
  read -r f1 f4 fc1 fc4 _ _ <<<"$fp"
  q1=$(ratio "$f1" "$v1"); q4=$(ratio "$f4" "$v4")
  printf '%4d %12s %12s %12s %12s %8s %8s %9s %9s\n' "$r" "$v1" "$v4" "$f1" "$f4" "$q1" "$q4" "$vc1/$fc1" "$vc4/$fc4"
  echo "run $v1 $v4 $f1 $f4 $q1 $q4 $vc1 $vc4 $fc1 $fc4" >>"$work/results"
done

m() { median "$work/results" "$1" run; }
echo
printf 'median of %d runs: VXLAN %s / %s Mbit/s, FlannelPS %s / %s Mbit/s (TCP1 / TCP4)\n' "$runs" "$(m 2)" "$(m 3)" "$(m 4)" "$(m 5)"
printf '  FlannelPS / VXLAN, median of the runs'"'"' ratios: TCP1 %s, TCP4 %s; ratio of the medians: TCP1 %s, TCP4 %s\n' \
  "$(m 6)" "$(m 7)" "$(ratio "$(m 4)" "$(m 2)")" "$(ratio "$(m 5)" "$(m 3)")"
printf '  whole-machine CPU s/GB (TCP1 / TCP4): VXLAN %s / %s, FlannelPS %s / %s\n' "$(m 8)" "$(m 9)" "$(m 10)" "$(m 11)"
for s in 1 4; do
  q=$(m $((s == 1 ? 6 : 7)))
  awk -v q="$q" -v s="$s" 'BEGIN { printf "goal: FlannelPS TCP%s >= 1.0x kernel VXLAN (median ratio): %s -> %s\n", s, q, (q != "-" && q + 0 >= 1.0) ? "met" : "NOT met" }'
done
