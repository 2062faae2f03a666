#!/usr/bin/env bash
# Runs every benchmark under bench/ (each bench/<name>/run.sh: datapath, kernel, leases), one
# after the other.
# Usage (root): bench/run.sh [name...]   e.g. bench/run.sh datapath
# Exits non-zero when any benchmark failed.
set -uo pipefail
cd "$(dirname "$0")" || exit 1
names=("$@")
if ((${#names[@]} == 0)); then
  for f in */run.sh; do [[ -x "$f" ]] && names+=("${f%/run.sh}"); done
fi
((${#names[@]})) || { echo "bench: no benchmarks found" >&2; exit 1; }
rc=0
for n in "${names[@]}"; do
  [[ -x "$n/run.sh" ]] || { echo "bench: no benchmark '$n'" >&2; rc=1; continue; }
  echo "=== bench/$n"
  "./$n/run.sh" || { echo "bench: $n failed" >&2; rc=1; }
done
exit "$rc"
