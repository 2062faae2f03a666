#!/usr/bin/env bash
# Where the FlannelPS udp datapath's CPU goes: brings up the flannelps testbed of run.sh (held),
# runs iperf3 container A -> container B and records the whole machine with perf meanwhile, then
# prints each thread's share of all samples, split by the syscall at the bottom of the kernel
# stack (TUN read = ksys_read, TUN write = do_writev, UDP = sendmmsg/recvmmsg/sendto) and marked
# +softirq where the sample was softirq work run on that thread (a TUN write runs the receiving
# stack, a UDP send the peer namespace's receive). Then the kernel's copy routines and the nodes'
# own hottest JIT-compiled methods. A diagnosis aid, not a benchmark: perf itself costs speed.
#
# Usage (root): bench/datapath/profile.sh
# Env: FLANNELPS_PROFILE_STREAMS  iperf3 parallel streams (default 4)
#      FLANNELPS_PROFILE_SECONDS  seconds recorded (default 5), inside an iperf3 run 6 s longer
#      FLANNELPS_BENCH_NO_BUILD   1 = use the module already built (as run.sh)
#      FLANNELPS_PROFILE_MIN      hide rows below this percentage (default 0.4)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
streams=${FLANNELPS_PROFILE_STREAMS:-4}
secs=${FLANNELPS_PROFILE_SECONDS:-5}
min=${FLANNELPS_PROFILE_MIN:-0.4}
command -v perf >/dev/null || { echo "profile: perf is not installed (apt-get install linux-perf)" >&2; exit 1; }
[[ $EUID -eq 0 ]] || { echo "profile: run as root" >&2; exit 1; }
work=$(mktemp -d /tmp/flannelps-profile.XXXXXX)
bench_pid=""
cleanup() {
  # The held bench tears its testbeds down on TERM (its own EXIT trap); wait for that, bounded.
  if [[ -n "$bench_pid" ]] && kill -0 "$bench_pid" 2>/dev/null; then
    kill -TERM "$bench_pid" 2>/dev/null
    for _ in $(seq 60); do kill -0 "$bench_pid" 2>/dev/null || break; sleep 1; done
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# JIT-compiled code shows by name only with perf maps and without the W^X double mapping.
DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 FLANNELPS_BENCH_LEGS=flannelps FLANNELPS_BENCH_RTT_ROUNDS=0 \
  FLANNELPS_BENCH_PINGS=20 FLANNELPS_BENCH_SECONDS=2 FLANNELPS_BENCH_HOLD_SECONDS=$((secs + 300)) \
  bash "$here/run.sh" >"$work/bench.log" 2>&1 &
bench_pid=$!
hold=""
for _ in $(seq 300); do
  hold=$(sed -n 's/^bench: holding; flannelps: ip netns exec \([^ ]*\) ping \([0-9.]*\)$/\1 \2/p' "$work/bench.log")
  [[ -n "$hold" ]] && break
  kill -0 "$bench_pid" 2>/dev/null || break
  sleep 1
done
[[ -n "$hold" ]] || { echo "profile: the flannelps testbed did not come up:" >&2; tail -20 "$work/bench.log" >&2; exit 1; }
read -r src ip <<<"$hold"
dst=${src/-h1-c1/-h2-c1}
echo "profile: $streams stream(s) $src -> $ip ($dst), perf for ${secs}s"

timeout $((secs + 30)) ip netns exec "$dst" iperf3 -s -1 -p 5299 >"$work/server.log" 2>&1 &
server=$!
sleep 1
timeout $((secs + 30)) ip netns exec "$src" iperf3 -c "$ip" -p 5299 -t $((secs + 6)) -P "$streams" -f m >"$work/client.log" 2>&1 &
client=$!
sleep 3
perf record -a -g -F 999 -o "$work/perf.data" -- sleep "$secs" >/dev/null 2>&1
wait "$client"; wait "$server" 2>/dev/null
grep -E 'receiver$' "$work/client.log" | tail -1 | sed 's/^/iperf3 (under perf): /'

perf script -i "$work/perf.data" -F comm,tid,ip,sym 2>/dev/null >"$work/samples.txt"
echo
echo "share of all samples, by thread and the syscall each sample ran under:"
awk -v min="$min" '
  function flush(  cls) {
    if (key == "") return
    cls = sys != "" ? sys : (user ? "user code" : "kernel, other")
    if (soft && sys != "") cls = cls " +softirq"
    n[key "\t" cls]++; all++
  }
  /^[^ \t]/ { flush(); key = $1 " " $2; sys = ""; soft = 0; user = 0; top = 1; next }
  /^\t/ {
    s = $2
    if (top) { user = ($1 !~ /^ffffffff/); top = 0 }
    if (s ~ /^(handle_softirqs|__do_softirq|net_rx_action)$/) soft = 1
    if (sys == "" && s ~ /^(ksys_read|ksys_write|do_writev|__sys_sendmmsg|__sys_recvmmsg|__x64_sys_recvmmsg|__x64_sys_sendto|__sys_recvmsg|__sys_recvfrom|do_epoll_wait|__x64_sys_pselect6)$/) sys = s
    if (sys == "" && s ~ /^(__irq_exit_rcu|irq_exit_rcu)$/) sys = "interrupt exit"
    next
  }
  END { flush(); for (k in n) if (100 * n[k] / all >= min) { split(k, a, "\t"); printf "  %6.2f%%  %-28s %s\n", 100 * n[k] / all, a[1], a[2] } }
' "$work/samples.txt" | sort -k2,3 -k1,1nr

echo
echo "the kernel's copies, by thread:"
perf report -i "$work/perf.data" --no-children --sort pid,sym --stdio -g none 2>/dev/null \
  | awk -v min="$min" '$1 ~ /%$/ && $NF ~ /^_copy_(from|to)_iter$/ && $1 + 0 >= min { print "  " $0 }'
echo
echo "the nodes' hottest JIT-compiled methods:"
perf report -i "$work/perf.data" --no-children --comm flannel0-main --sort pid,sym --stdio -g none 2>/dev/null \
  | awk -v min="$min" '$1 ~ /%$/ && /\[\.\]/ && $1 + 0 >= min / 2 { line = $0; sub(/\(.*/, "", line); print "  " line }' | head -12
