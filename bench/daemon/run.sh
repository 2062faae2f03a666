#!/usr/bin/env bash
# Daemon benchmark: FlannelPS's compiled flanneld (out/FlannelPS/bin/flanneld) against real
# flanneld v0.20.2, both measured in this one run (absolute times drift on shared VMs), each inside
# the test namespaces of a testbed with its own etcd (tests/testbed/testbed.sh):
#   --version time (median of 10 runs, from exec to exit);
#   exec -> complete subnet.env, alloc and udp backends (median of 5 fresh leases each), and once
#     for udp with 100 peer leases in etcd (FlannelPS routes the known peers before subnet.env);
#   RSS (VmRSS) of a ready udp node one second after subnet.env, with no peers and with 100 peer
#     leases pre-seeded in etcd;
#   udp restart gap: host 1 pings host 2's flannel0 address every 50 ms while host 2's node gets
#     SIGTERM and is started again at once (same subnet.env, so the same subnet); lost pings x 50 ms;
#   idle CPU of a ready udp node with no traffic over 10 s (its own and its children's, e.g.
#     iptables resync), as % of one core.
# Each figure is printed beside flanneld's with the goal and PASS/FAIL.
#
# Usage (root): bench/daemon/run.sh
# Env: FLANNELD_BINARY            real flanneld (default ../shared/anchors/flanneld-v0.20.2)
#      FLANNELPS_BENCH_NO_BUILD   1 = do not run ./build.sh when out/FlannelPS/bin/flanneld is missing
#      FLANNELPS_BENCH_PREFIX     namespace name prefix (default fpdm; the PID is appended)
#      FLANNELPS_BENCH_IDLE_SECONDS  idle CPU window (default 10)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo" || exit 1

[[ $(id -u) -eq 0 ]] || { echo "bench/daemon: must run as root (network namespaces, TUN)" >&2; exit 1; }
real=${FLANNELD_BINARY:-$repo/../shared/anchors/flanneld-v0.20.2}
[[ -x "$real" ]] || { echo "bench/daemon: real flanneld not found at $real (set FLANNELD_BINARY); nothing to compare against" >&2; exit 1; }
ours=$repo/out/FlannelPS/bin/flanneld
# An older build has a shell script there: only an ELF executable is the compiled daemon.
if [[ "$(head -c 4 "$ours" 2>/dev/null | tail -c 3)" != ELF && "${FLANNELPS_BENCH_NO_BUILD:-}" != 1 ]]; then
  ./build.sh Release >/dev/null || { echo "bench/daemon: build failed" >&2; exit 1; }
fi
[[ -x "$ours" ]] || { echo "bench/daemon: $ours is not built" >&2; exit 1; }
idle_secs=${FLANNELPS_BENCH_IDLE_SECONDS:-10}

# shellcheck source=../../tests/testbed/testbed.sh
source "$repo/tests/testbed/testbed.sh"
work=$(mktemp -d /tmp/fpdm-bench.XXXXXX)
cleanup() { tb_destroy_all; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
tools/install-deps.sh || exit 1
tb_init || exit 1
tb="${FLANNELPS_BENCH_PREFIX:-fpdm}-$$"
tb_new "$tb" 2 etcd || exit 1
etcd=$(tb_etcd_endpoint)
declare -A bin=([flanneld]=$real [ours]=$ours)
declare -A res
run_id=0

now_ns() { date +%s%N; }
median() { sort -n | awk '{v[NR] = $1} END { if (NR) print v[int((NR + 1) / 2)] }'; }
secs() { awk -v n="$1" 'BEGIN { printf "%.3f", n / 1e9 }'; }

# start IMPL HOST SUBNETFILE PREFIX LOG: the node in host namespace HOST; sets NODE_PID.
start() {
  tb_bg "$tb" "$(tb_ns_host "$tb" "$2")" "$5" "${bin[$1]}" -etcd-endpoints="$etcd" -etcd-prefix="$4" \
    -iface=eth0 -subnet-file="$3" || return 1
  NODE_PID=$TB_PID
}
# stop PID: SIGTERM and wait for the exit (the node is this shell's child), bounded at 10 s.
stop() {
  local pid=$1 n
  kill -TERM "$pid" 2>/dev/null
  for ((n = 0; n < 1000; n++)); do
    [[ -d /proc/$pid ]] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null || break
    sleep 0.01
  done
  kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  return 0
}
# wait_env FILE PID: until FILE has its last line (FLANNEL_MTU), polled every 2 ms, at most 30 s.
wait_env() {
  local n
  for ((n = 0; n < 15000; n++)); do
    grep -q '^FLANNEL_MTU=' "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.002
  done
  return 1
}
# new_network BACKEND: a fresh prefix with a config for BACKEND; prints the prefix.
new_network() {
  run_id=$((run_id + 1))
  local p="/bench/$$/n$run_id"
  tb_etcdctl "$tb" put "$p/config" "{\"Network\":\"10.0.0.0/16\",\"Backend\":{\"Type\":\"$1\"}}" >/dev/null || return 1
  echo "$p"
}
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# cpu_ticks PID: utime + stime + cutime + cstime (clock ticks).
cpu_ticks() { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$1/stat"; }

echo "bench/daemon: ours $ours ($(stat -c %s "$ours") bytes), flanneld $("$real" --version 2>&1)"

# --version
for impl in flanneld ours; do
  for _ in $(seq 10); do
    t0=$(now_ns); "${bin[$impl]}" --version >/dev/null 2>&1; t1=$(now_ns); echo $((t1 - t0))
  done | median >"$work/v"
  res[version_$impl]=$(secs "$(cat "$work/v")")
done

# exec -> subnet.env (fresh lease each time), alloc and udp
for backend in alloc udp; do
  for impl in flanneld ours; do
    : >"$work/t"
    for n in 1 2 3 4 5; do
      prefix=$(new_network "$backend") || exit 1
      env="$work/$impl-$backend-$n.env"; log="$work/$impl-$backend-$n.log"
      t0=$(now_ns)
      start "$impl" 1 "$env" "$prefix" "$log" || exit 1
      if ! wait_env "$env" "$NODE_PID"; then echo "bench/daemon: $impl ($backend) wrote no subnet.env:" >&2; tail -5 "$log" >&2; exit 1; fi
      t1=$(now_ns)
      echo $((t1 - t0)) >>"$work/t"
      stop "$NODE_PID"
    done
    res[start_${backend}_$impl]=$(secs "$(median <"$work/t")")
  done
done

# RSS when ready (udp), without and with 100 peer leases; idle CPU on the no-peer node.
for impl in flanneld ours; do
  for peers in 0 100; do
    prefix=$(new_network udp) || exit 1
    if ((peers)); then
      lease=$(tb_etcdctl "$tb" lease grant 3600 | awk '{ print $2 }')
      for ((p = 1; p <= peers; p++)); do
        tb_etcdctl "$tb" put --lease="$lease" "$prefix/subnets/10.0.$((100 + p)).0-24" \
          "{\"PublicIP\":\"198.51.100.$p\",\"PublicIPv6\":null,\"BackendType\":\"udp\"}" >/dev/null || exit 1
      done
    fi
    env="$work/$impl-rss$peers.env"; log="$work/$impl-rss$peers.log"
    t0=$(now_ns)
    start "$impl" 1 "$env" "$prefix" "$log" || exit 1
    wait_env "$env" "$NODE_PID" || { tail -5 "$log" >&2; exit 1; }
    t1=$(now_ns)
    ((peers)) && res[start_peers_$impl]=$(secs $((t1 - t0)))
    sleep 1
    res[rss${peers}_$impl]=$(awk -v k="$(rss_kib "$NODE_PID")" 'BEGIN { printf "%.1f", k / 1024 }')
    if ((peers == 0)); then
      sleep 2
      c0=$(cpu_ticks "$NODE_PID"); sleep "$idle_secs"; c1=$(cpu_ticks "$NODE_PID")
      res[idle_$impl]=$(awk -v d=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v s="$idle_secs" 'BEGIN { printf "%.2f", 100 * d / hz / s }')
    fi
    stop "$NODE_PID"
  done
done

# udp restart gap: pings from host 1 to host 2's flannel0 address, 50 ms apart, bounded (10 s).
for impl in flanneld ours; do
  prefix=$(new_network udp) || exit 1
  # Host 1, then host 2, then host 1 once more: real flanneld v0.20.2 against this etcd 3.4 learns
  # only the leases present when it starts (a lease added later never reaches its udp routes), so
  # each node must start after the other's lease exists. Both implementations get the same sequence.
  for i in 1 2 1; do
    [[ -n "${pid[$i]:-}" ]] && stop "${pid[$i]}"
    start "$impl" "$i" "$work/$impl-gap-h$i.env" "$prefix" "$work/$impl-gap-h$i.log" || exit 1
    pid[$i]=$NODE_PID
    wait_env "$work/$impl-gap-h$i.env" "${pid[$i]}" || { tail -5 "$work/$impl-gap-h$i.log" >&2; exit 1; }
  done
  dst=$(sed -n 's|^FLANNEL_SUBNET=\(.*\)\.1/.*|\1.0|p' "$work/$impl-gap-h2.env")
  h1=$(tb_ns_host "$tb" 1)
  tb_wait 15 "$impl overlay path to $dst" ip netns exec "$h1" ping -c 1 -W 1 "$dst" || exit 1
  ip netns exec "$h1" ping -n -i 0.05 -c 200 -W 1 "$dst" >"$work/$impl-ping.txt" 2>&1 &
  ping_pid=$!
  sleep 2
  stop "${pid[2]}"
  start "$impl" 2 "$work/$impl-gap-h2.env" "$prefix" "$work/$impl-gap-h2b.log" || exit 1
  pid[2]=$NODE_PID
  wait "$ping_pid"
  read -r sent got < <(awk '/packets transmitted/ { print $1, $4 }' "$work/$impl-ping.txt")
  res[gap_$impl]=$(awk -v s="${sent:-0}" -v g="${got:-0}" 'BEGIN { printf "%.2f", (s - g) * 0.05 }')
  res[gaplost_$impl]=$(( ${sent:-0} - ${got:-0} ))
  for i in 1 2; do stop "${pid[$i]}"; done
done

# Report: ours beside flanneld's, the goal, PASS/FAIL.
fails=0
row() { # name ours flanneld goal-text verdict(0/1)
  local v=PASS; (($5)) || { v=FAIL; fails=$((fails + 1)); }
  printf '%-34s %10s %10s   %-30s %s\n' "$1" "$2" "$3" "$4" "$v"
}
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }' && echo 1 || echo 0; }
sum() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a + b }'; }
mul() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a * b }'; }
echo
printf '%-34s %10s %10s   %-30s %s\n' "measure" "FlannelPS" "flanneld" "goal (FlannelPS)" "result"
row "--version (s)" "${res[version_ours]}" "${res[version_flanneld]}" "< 0.1" "$(le "${res[version_ours]}" 0.0999)"
for b in alloc udp; do
  g=$(sum "${res[start_${b}_flanneld]}" 0.25)
  row "exec -> subnet.env, $b (s)" "${res[start_${b}_ours]}" "${res[start_${b}_flanneld]}" "<= flanneld + 0.25 = $g" "$(le "${res[start_${b}_ours]}" "$g")"
done
g=$(sum "${res[start_peers_flanneld]}" 0.25)
row "exec -> subnet.env, udp, 100 peers" "${res[start_peers_ours]}" "${res[start_peers_flanneld]}" "<= flanneld + 0.25 = $g" "$(le "${res[start_peers_ours]}" "$g")"
for p in 0 100; do
  g=$(mul "${res[rss${p}_flanneld]}" 2)
  row "RSS ready, udp, $p peers (MiB)" "${res[rss${p}_ours]}" "${res[rss${p}_flanneld]}" "<= 2x flanneld = $g" "$(le "${res[rss${p}_ours]}" "$g")"
done
g=$(sum "${res[gap_flanneld]}" 0.5)
row "udp restart gap (s of 50ms pings)" "${res[gap_ours]}" "${res[gap_flanneld]}" "<= flanneld + 0.5 = $g" "$(le "${res[gap_ours]}" "$g")"
row "idle CPU, ${idle_secs} s (% of a core)" "${res[idle_ours]}" "${res[idle_flanneld]}" "< 0.5" "$(le "${res[idle_ours]}" 0.499)"
echo "(restart gap: ${res[gaplost_ours]} pings lost for FlannelPS, ${res[gaplost_flanneld]} for flanneld)"
((fails == 0)) || echo "bench/daemon: $fails goal(s) missed"
exit 0
