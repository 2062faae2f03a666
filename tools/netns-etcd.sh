# Sourced by tests/run.sh and the benchmarks: a private etcd on 127.0.0.1 inside a network
# namespace of its own, so nothing listens in (or is added to) the root namespace.
#   netns_etcd_start NAMESPACE CLIENT_PORT DATA_DIR   -> sets NETNS_ETCD_PID, waits until healthy
#   netns_etcd_stop NAMESPACE                         -> kills etcd and everything in the namespace, deletes it

netns_etcd_start() {
  local ns=$1 port=$2 dir=$3 peer=$(($2 + 10))
  ip netns add "$ns" && ip -n "$ns" link set lo up || return 1
  mkdir -p "$dir"
  ip netns exec "$ns" etcd --name "$ns" --data-dir "$dir/etcd" \
    --listen-client-urls "http://127.0.0.1:$port" --advertise-client-urls "http://127.0.0.1:$port" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "$ns=http://127.0.0.1:$peer" >"$dir/etcd.log" 2>&1 &
  NETNS_ETCD_PID=$!
  local _
  for _ in $(seq 50); do
    ip netns exec "$ns" etcdctl --endpoints="http://127.0.0.1:$port" endpoint health >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "etcd did not become healthy in namespace $ns (log: $dir/etcd.log)" >&2
  return 1
}

# Safe under `set -e` (callers' EXIT traps use it): no step's status may end the cleanup early.
netns_etcd_stop() {
  local ns=$1
  if [[ -n "${NETNS_ETCD_PID:-}" ]]; then
    kill "$NETNS_ETCD_PID" 2>/dev/null || true
    wait "$NETNS_ETCD_PID" 2>/dev/null || true
  fi
  ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
}
