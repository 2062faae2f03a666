# Helpers the datapath bench scripts share (sourced, not run): figures from run.sh's summary table,
# their medians and ratios, and the short throughput-only run that ab.sh and vs-vxlan.sh repeat.

# median FILE COLUMN [KEY]: the median of COLUMN over FILE's rows (those whose first field is KEY,
# when given); "-" entries are skipped, and "-" is printed when nothing is left.
median() {
  awk -v c="$2" -v k="${3:-}" '(k == "" || $1 == k) && $c != "-" { print $c }' "$1" | sort -g \
    | awk '{ v[NR] = $1 } END { if (!NR) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ratio A B: A/B to two decimals, or "-" when either is missing or B is zero.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }

# leg_row LOG LEG: the leg's figures from a run.sh summary table: TCP1 TCP4 CPUs/GB1 CPUs/GB4 node/GB1 node/GB4.
leg_row() { awk -v leg="$2" '$1 == leg && $7 == "|" { print $2, $3, $(NF - 3), $(NF - 2), $(NF - 1), $NF; exit }' "$1"; }

# quick_run LEGS LOG: one run.sh of only LEGS (comma separated), throughput and CPU only (20 pings,
# no interleaved RTT), on the module as built; the caller's environment (FLANNELPS_MODULE, ...) applies.
quick_run() {
  FLANNELPS_BENCH_LEGS="$1" FLANNELPS_BENCH_RTT_ROUNDS=0 FLANNELPS_BENCH_PINGS=20 FLANNELPS_BENCH_NO_BUILD=1 \
    timeout 900 bash "$(dirname "${BASH_SOURCE[0]}")/run.sh" >"$2" 2>&1
}

# build_release_unless_told REPO LOG: ./build.sh Release in REPO unless FLANNELPS_BENCH_NO_BUILD=1;
# on failure prints the log's tail and returns non-zero.
build_release_unless_told() {
  [[ "${FLANNELPS_BENCH_NO_BUILD:-}" == 1 ]] && return 0
  (cd "$1" && ./build.sh Release) >"$2" 2>&1 || { tail -20 "$2" >&2; return 1; }
}
