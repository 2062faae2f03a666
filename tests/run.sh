#!/usr/bin/env bash
# Runs every FlannelPS test: xunit (Core logic, real etcd, real TUN/namespaces) and Pester (the
# built module as users import it). Installs what it needs, starts its own etcd inside a
# test-only network namespace, and removes everything it made, even on failure.
# Ends with one line "N passed, N failed"; exits non-zero on any failure or when no test ran.
# Usage (as root): tests/run.sh [--fast]   (--fast: skip the Docker end-to-end tests)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export NO_COLOR=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 POWERSHELL_TELEMETRY_OPTOUT=1

if [[ $(id -u) -ne 0 ]]; then echo "tests/run.sh must run as root (namespaces, TUN, iptables)" >&2; exit 1; fi
with_docker=1
[[ "${1:-}" == "--fast" ]] && with_docker=0
if ((with_docker)); then tools/install-deps.sh --docker || exit 1; else tools/install-deps.sh || exit 1; fi
./build.sh Release || { echo "0 passed, 1 failed"; exit 1; }

ns="fpst-$$"
work=$(mktemp -d /tmp/flannelps-test.XXXXXX)
source tools/netns-etcd.sh
cleanup() {
  netns_etcd_stop "$ns"
  # Namespaces a crashed test left behind carry this run's id; remove them too.
  for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -- "-$$-" ); do
    ip netns pids "$n" 2>/dev/null | xargs -r kill -9 2>/dev/null; ip netns del "$n" 2>/dev/null
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

netns_etcd_start "$ns" 23790 "$work" || { echo "0 passed, 1 failed"; exit 1; }
export FLANNELPS_TEST_ETCD=http://127.0.0.1:23790
export FLANNELPS_TEST_RUNID=$$
# The root mount namespace: ip netns exec hides /sys/fs/cgroup, which systemd-nspawn needs (Start-TestSystemd).
export FLANNELPS_TEST_HOST_MOUNT_NS=/proc/$$/ns/mnt
export FLANNELPS_TEST_DOCKER=$with_docker
export FLANNELPS_MODULE="$root/out/FlannelPS/FlannelPS.psd1"

passed=0; failed=0
# xunit: the Core ring. Counts come from the TRX file, failures are shown from the console log.
ip netns exec "$ns" dotnet test tests/FlannelPS.Core.Tests -c Release --no-build \
  --logger "trx;LogFileName=xunit.trx" --results-directory "$work" >"$work/xunit.log" 2>&1
xrc=$?
grep -E '^\s+Failed ' -A 15 "$work/xunit.log" | head -300
counters=$(grep -o '<Counters [^>]*>' "$work/xunit.trx" 2>/dev/null)
xp=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); xf=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
if [[ -z "$counters" ]]; then tail -40 "$work/xunit.log"; xp=0; xf=1; fi
echo "xunit: ${xp:-0} passed, ${xf:-0} failed"
passed=$((passed + ${xp:-0})); failed=$((failed + ${xf:-0}))
((xrc != 0 && ${xf:-0} == 0)) && failed=$((failed + 1))

# Pester: the module as users see it.
ip netns exec "$ns" dotnet pwsh -NoProfile -NonInteractive -File tests/pester/Invoke-PesterSuite.ps1 -ResultFile "$work/pester.txt"
prc=$?
if [[ -f "$work/pester.txt" ]]; then
  read -r pp pf < "$work/pester.txt"
else
  pp=0; pf=1
fi
passed=$((passed + pp)); failed=$((failed + pf))
((prc != 0 && pf == 0)) && failed=$((failed + 1))

echo "$passed passed, $failed failed"
((failed == 0 && passed > 0))
