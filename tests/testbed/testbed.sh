# shellcheck shell=bash
# The FlannelPS test topology for bash callers (bench, demo); FlannelTestbed.psm1 builds the same
# topology for Pester. Source it, call tb_init once, tb_new per testbed, tb_destroy_all in a trap.
#
#   NAME-ul      underlay: bridge br0 192.0.2.1/24, one veth port per host/etcd namespace
#   NAME-etcd    eth0 192.0.2.2/24, etcd on :2379 (only when asked for)
#   NAME-hI      eth0 192.0.2.(10+I)/24 MTU 1500, default via 192.0.2.1
#   NAME-hI-cJ   "container": eth0 on host I's docker0 bridge, FLANNEL_SUBNET + J, default via bridge
#
# Interfaces are created directly inside their namespaces, so their names only need to be unique
# per namespace (no interface ever appears in the root namespace, even for a moment).
# Everything a testbed creates is recorded in files under $TB_ROOT/NAME as it is made, so
# tb_destroy works after a partial failure, from subshells, and when called twice.

TB_ROOT="${TB_ROOT:-}"
TB_WAIT_STEP=0.1
TB_PID=""

tb_log() { [[ -n "${TB_VERBOSE:-}" ]] && echo "testbed: $*" >&2; return 0; }
tb_die() { echo "testbed: $*" >&2; return 1; }

# tb_init: creates the state directory (once per shell).
tb_init() {
  [[ $(id -u) -eq 0 ]] || { tb_die "must run as root (network namespaces)"; return 1; }
  if [[ -z "$TB_ROOT" || ! -d "$TB_ROOT" ]]; then
    TB_ROOT=$(mktemp -d /tmp/fptb.XXXXXX) || return 1
  fi
  export TB_ROOT
}

tb_dir() { echo "$TB_ROOT/$1"; }
tb_host_ip() { echo "192.0.2.$((10 + $1))"; }
tb_ns_host() { echo "$1-h$2"; }
tb_ns_container() { echo "$1-h$2-c$3"; }
tb_ns_etcd() { echo "$1-etcd"; }
tb_etcd_endpoint() { echo "http://192.0.2.2:2379"; }

# tb_wait SECONDS DESCRIPTION CMD...: polls CMD until it succeeds; fails after SECONDS.
tb_wait() {
  local secs=$1 desc=$2; shift 2
  local deadline=$((SECONDS + secs))
  while ! "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then tb_die "timed out after ${secs}s waiting for $desc"; return 1; fi
    sleep "$TB_WAIT_STEP"
  done
}

tb_record_ns() { echo "$2" >>"$(tb_dir "$1")/namespaces"; }
tb_record_pid() { echo "$2" >>"$(tb_dir "$1")/pids"; }

# tb_add_ns TESTBED NSNAME: creates a namespace, lo up, IPv6 off (no RS/DAD noise).
tb_add_ns() {
  local tb=$1 ns=$2
  # Recorded only once it exists: a name clash must never make us delete someone else's namespace.
  ip netns add "$ns" || return 1
  tb_record_ns "$tb" "$ns"
  ip -n "$ns" link set lo up || return 1
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 >/dev/null
}

# tb_plug TESTBED NS ADDR/LEN PORTNAME: veth eth0 in NS, its peer PORTNAME on the underlay bridge.
tb_plug() {
  local tb=$1 ns=$2 addr=$3 port=$4 ul="$1-ul"
  ip -n "$ns" link add eth0 mtu 1500 type veth peer name "$port" netns "$ul" || return 1
  ip -n "$ul" link set "$port" mtu 1500 master br0 up || return 1
  ip -n "$ns" addr add "$addr" dev eth0 || return 1
  ip -n "$ns" link set eth0 up || return 1
}

# tb_new NAME HOSTCOUNT [etcd]: builds underlay + hosts (+ etcd namespace running etcd).
# TB_ETCD_ARGS: extra etcd flags, word-split (e.g. "--max-txn-ops=1024").
tb_new() {
  local tb=$1 count=$2 with_etcd=${3:-}
  tb_init || return 1
  ((count >= 1 && count <= 32)) || { tb_die "host count must be 1..32, got $count"; return 1; }
  [[ -e "$(tb_dir "$tb")" ]] && { tb_die "testbed $tb already exists"; return 1; }
  mkdir -p "$(tb_dir "$tb")" || return 1
  : >"$(tb_dir "$tb")/namespaces"; : >"$(tb_dir "$tb")/pids"
  tb_log "building $tb with $count hosts"

  tb_add_ns "$tb" "$tb-ul" || return 1
  ip -n "$tb-ul" link add br0 mtu 1500 type bridge || return 1
  ip -n "$tb-ul" addr add 192.0.2.1/24 dev br0 || return 1
  ip -n "$tb-ul" link set br0 up || return 1

  local i ns
  for ((i = 1; i <= count; i++)); do
    ns=$(tb_ns_host "$tb" "$i")
    tb_add_ns "$tb" "$ns" || return 1
    tb_plug "$tb" "$ns" "$(tb_host_ip "$i")/24" "h$i" || return 1
    ip -n "$ns" route add default via 192.0.2.1 dev eth0 || return 1
    mkdir -p "$(tb_dir "$tb")/h$i"
  done
  echo "$count" >"$(tb_dir "$tb")/hostcount"

  if [[ "$with_etcd" == etcd ]]; then
    ns=$(tb_ns_etcd "$tb")
    tb_add_ns "$tb" "$ns" || return 1
    tb_plug "$tb" "$ns" 192.0.2.2/24 etcd || return 1
    local -a extra=()
    read -r -a extra <<<"${TB_ETCD_ARGS:-}"
    tb_bg "$tb" "$ns" "$(tb_dir "$tb")/etcd.log" etcd --name tb --data-dir "$(tb_dir "$tb")/etcd-data" \
      --listen-client-urls http://192.0.2.2:2379,http://127.0.0.1:2379 \
      --advertise-client-urls http://192.0.2.2:2379 \
      --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
      --initial-cluster tb=http://127.0.0.1:2380 "${extra[@]}" || return 1
    tb_wait 20 "etcd health in $ns" ip netns exec "$ns" etcdctl --endpoints=http://127.0.0.1:2379 \
      --dial-timeout=1s --command-timeout=2s endpoint health || { tail -5 "$(tb_dir "$tb")/etcd.log" >&2; return 1; }
  fi
}

# tb_etcdctl TESTBED ARGS...: etcdctl (v3) against the testbed's etcd, from the etcd namespace.
tb_etcdctl() {
  local tb=$1; shift
  timeout 20 ip netns exec "$(tb_ns_etcd "$tb")" etcdctl --endpoints=http://127.0.0.1:2379 \
    --dial-timeout=2s --command-timeout=5s "$@"
}

# tb_bg TESTBED NS LOGFILE CMD...: starts CMD in NS in the background, output to LOGFILE.
# Sets TB_PID (no command substitution needed, so the caller's shell keeps the child).
tb_bg() {
  local tb=$1 ns=$2 log=$3; shift 3
  ip netns exec "$ns" "$@" >"$log" 2>&1 </dev/null &
  TB_PID=$!
  tb_record_pid "$tb" "$TB_PID"
  tb_log "started pid $TB_PID in $ns: $*"
}

# tb_wait_subnet_env FILE PID SECONDS: waits until a node has written a complete subnet.env (the
# MTU line is the last one flannel writes); fails at once when the node process PID has exited.
tb_wait_subnet_env() {
  local file=$1 pid=$2 deadline=$((SECONDS + $3))
  until grep -q '^FLANNEL_MTU=' "$file" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { tb_die "the node (pid $pid) exited before writing $file"; return 1; }
    ((SECONDS < deadline)) || { tb_die "timed out after ${3}s waiting for $file"; return 1; }
    sleep 0.2
  done
}

# tb_flanneld_binary: prints the real flanneld to test against: $FLANNELD_BINARY when set, else
# ../shared/anchors/flanneld-v0.20.2 beside the repository root. Fails (with the reason on stderr)
# when that is not an executable file.
tb_flanneld_binary() {
  local repo bin
  repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  bin=${FLANNELD_BINARY:-$repo/../shared/anchors/flanneld-v0.20.2}
  [[ -f "$bin" && -x "$bin" ]] || { echo "testbed: real flanneld not found at '$bin' (set FLANNELD_BINARY to a flanneld v0.20.2 binary)" >&2; return 1; }
  echo "$bin"
}

# tb_flanneld TESTBED HOSTINDEX LOGFILE [FLANNELD ARGS...]: starts real flanneld in host I against
# the testbed's etcd, with that host's own subnet file ($(tb_dir TESTBED)/hI/subnet.env; /run is
# shared by all namespaces), -iface=eth0 -ip-masq=false, healthz off. Sets TB_PID.
tb_flanneld() {
  local tb=$1 i=$2 log=$3 bin; shift 3
  bin=$(tb_flanneld_binary) || return 1
  tb_bg "$tb" "$(tb_ns_host "$tb" "$i")" "$log" "$bin" -etcd-endpoints="$(tb_etcd_endpoint)" -iface=eth0 \
    -subnet-file="$(tb_dir "$tb")/h$i/subnet.env" -ip-masq=false -healthz-port=0 "$@"
}

# tb_stop_pid PID: TERM, up to 3 s grace, then KILL. Only ever used on PIDs this library started.
tb_stop_pid() {
  local pid=$1 n
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null
  for ((n = 0; n < 30; n++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}

# tb_add_containers TESTBED HOSTINDEX FLANNEL_SUBNET MTU [COUNT]: docker0-like bridge in the host
# addressed FLANNEL_SUBNET (e.g. 10.0.5.1/24) and COUNT container namespaces on it; container J
# gets FLANNEL_SUBNET's address + J. Prints the container addresses, one per line.
tb_add_containers() {
  local tb=$1 h=$2 subnet=$3 mtu=$4 count=${5:-1}
  local hns; hns=$(tb_ns_host "$tb" "$h")
  local gw=${subnet%/*} len=${subnet#*/}
  [[ "$subnet" =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)\.([0-9]+)/([0-9]+)$ ]] || { tb_die "bad subnet '$subnet'"; return 1; }
  local base=$(( (BASH_REMATCH[1] << 24) | (BASH_REMATCH[2] << 16) | (BASH_REMATCH[3] << 8) | BASH_REMATCH[4] ))
  if ! ip -n "$hns" link show docker0 >/dev/null 2>&1; then
    ip -n "$hns" link add docker0 mtu "$mtu" type bridge || return 1
    ip -n "$hns" addr add "$subnet" dev docker0 || return 1
    ip -n "$hns" link set docker0 up || return 1
  fi
  ip netns exec "$hns" sysctl -qw net.ipv4.ip_forward=1 >/dev/null || return 1
  local j first=1 cns a
  while ip netns list 2>/dev/null | grep -qx -- "$(tb_ns_container "$tb" "$h" "$first")\( .*\)\?"; do first=$((first + 1)); done
  for ((j = first; j < first + count; j++)); do
    cns=$(tb_ns_container "$tb" "$h" "$j")
    a=$(( base + j ))
    a="$(( (a >> 24) & 255 )).$(( (a >> 16) & 255 )).$(( (a >> 8) & 255 )).$(( a & 255 ))"
    tb_add_ns "$tb" "$cns" || return 1
    ip -n "$cns" link add eth0 mtu "$mtu" type veth peer name "vc$j" netns "$hns" || return 1
    ip -n "$hns" link set "vc$j" mtu "$mtu" master docker0 up || return 1
    ip -n "$cns" addr add "$a/$len" dev eth0 || return 1
    ip -n "$cns" link set eth0 up || return 1
    ip -n "$cns" route add default via "$gw" dev eth0 || return 1
    echo "$a"
  done
}

# tb_destroy TESTBED: stops its processes, deletes its namespaces (newest first) and state.
# Safe to call twice and after a partial tb_new.
tb_destroy() {
  local tb=$1 d pid ns p
  [[ -n "$TB_ROOT" ]] || return 0
  d=$(tb_dir "$tb")
  [[ -d "$d" ]] || return 0
  if [[ -f "$d/pids" ]]; then
    while read -r pid; do [[ -n "$pid" ]] && tb_stop_pid "$pid"; done < <(tac "$d/pids")
  fi
  if [[ -f "$d/namespaces" ]]; then
    while read -r ns; do
      [[ -n "$ns" ]] || continue
      # Anything else still running inside one of our namespaces was started by our commands.
      for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
      ip netns del "$ns" 2>/dev/null
    done < <(tac "$d/namespaces")
  fi
  rm -rf "$d"
  tb_log "destroyed $tb"
}

# tb_destroy_all: every testbed this shell created, then the state directory. For traps.
tb_destroy_all() {
  [[ -n "$TB_ROOT" && -d "$TB_ROOT" ]] || return 0
  local d
  for d in "$TB_ROOT"/*/; do [[ -d "$d" ]] && tb_destroy "$(basename "$d")"; done
  rm -rf "$TB_ROOT"
}
