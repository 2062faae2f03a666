#!/usr/bin/env bash
# A/B of the FlannelPS udp datapath against an earlier revision: single bench runs drift by ±10%
# on shared VMs, more than most datapath changes move, so this alternates the flannelps leg of
# run.sh between the two builds (base/new, then new/base, ...) and prints each run, the medians and
# new/base. Both builds run on the same testbed code (this tree's run.sh); only the module differs.
#
# Usage (root): bench/datapath/ab.sh BASE_REV [PAIRS]     e.g. bench/datapath/ab.sh HEAD~2 5
# Env: FLANNELPS_BENCH_NO_BUILD  1 = use this tree's out/FlannelPS as built (the base is always built)
#      FLANNELPS_BENCH_SECONDS   iperf3 seconds per test (run.sh's default otherwise)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=stats.sh
source "$here/stats.sh"
base_rev=${1:-}
pairs=${2:-4}
[[ -n "$base_rev" ]] || { echo "usage: bench/datapath/ab.sh BASE_REV [PAIRS]" >&2; exit 2; }
[[ "$pairs" =~ ^[1-9][0-9]*$ ]] || { echo "ab: PAIRS must be a positive number, not '$pairs'" >&2; exit 2; }
base_commit=$(git -C "$repo" rev-parse --verify --quiet "$base_rev^{commit}") || { echo "ab: '$base_rev' is not a revision of $repo" >&2; exit 2; }
[[ $EUID -eq 0 ]] || { echo "ab: run as root" >&2; exit 1; }
work=$(mktemp -d /tmp/flannelps-ab.XXXXXX)
cleanup() {
  git -C "$repo" worktree remove --force "$work/base" >/dev/null 2>&1
  git -C "$repo" worktree prune >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

build_release_unless_told "$repo" "$work/build-new.log" || exit 1
git -C "$repo" worktree add --detach "$work/base" "$base_commit" >/dev/null 2>&1 || { echo "ab: cannot check out $base_rev" >&2; exit 1; }
(cd "$work/base" && ./build.sh Release) >"$work/build-base.log" 2>&1 || { echo "ab: the base does not build:" >&2; tail -20 "$work/build-base.log" >&2; exit 1; }
declare -A module=([base]="$work/base/out/FlannelPS/FlannelPS.psd1" [new]="$repo/out/FlannelPS/FlannelPS.psd1")
[[ -f "${module[new]}" ]] || { echo "ab: no built module at ${module[new]} (run ./build.sh Release)" >&2; exit 1; }

echo "ab: base $(git -C "$repo" log -1 --format='%h %s' "$base_commit" | cut -c1-80)"
echo "ab: new  $(git -C "$repo" log -1 --format='%h %s' HEAD | cut -c1-80)$(git -C "$repo" diff --quiet HEAD || echo ' (+ uncommitted changes)')"
printf '%-5s %4s %12s %12s %10s %10s\n' build pair "TCP1 Mbit/s" "TCP4 Mbit/s" node/GB1 node/GB4
: >"$work/results"
for ((p = 1; p <= pairs; p++)); do
  order=(base new); ((p % 2 == 0)) && order=(new base)
  for v in "${order[@]}"; do
    FLANNELPS_MODULE="${module[$v]}" quick_run flannelps "$work/run-$v-$p.log"
    row=$(leg_row "$work/run-$v-$p.log" flannelps)
    [[ -n "$row" ]] || { echo "ab: the $v run of pair $p gave no figures:" >&2; tail -15 "$work/run-$v-$p.log" >&2; exit 1; }
    read -r t1 t4 _ _ n1 n4 <<<"$row"
    printf '%-5s %4d %12s %12s %10s %10s\n' "$v" "$p" "$t1" "$t4" "$n1" "$n4"
    echo "$v $t1 $t4 $n1 $n4" >>"$work/results"
  done
done

echo
printf '%-12s %12s %12s %10s %10s\n' median "TCP1 Mbit/s" "TCP4 Mbit/s" node/GB1 node/GB4
declare -A med
for v in base new; do
  for c in 2 3 4 5; do med[$v$c]=$(median "$work/results" "$c" "$v"); done
  printf '%-12s %12s %12s %10s %10s\n' "$v" "${med[${v}2]}" "${med[${v}3]}" "${med[${v}4]}" "${med[${v}5]}"
done
printf '%-12s %12s %12s %10s %10s\n' new/base "$(ratio "${med[new2]}" "${med[base2]}")" "$(ratio "${med[new3]}" "${med[base3]}")" \
  "$(ratio "${med[new4]}" "${med[base4]}")" "$(ratio "${med[new5]}" "${med[base5]}")"
echo "(throughput: higher is better; node/GB = the two FlannelPS nodes' CPU seconds per GB: lower is better)"
