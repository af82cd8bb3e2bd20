#!/usr/bin/env bash
# bench/fuzz_rate.sh - a fuzz target's exec/s beside fuzz_empty's, same
# engine, same flags, same seed corpus, one after the other in one run:
#
#   bench/fuzz_rate.sh BUILD_DIR TARGET SECONDS CORPUS [DICT]
#
# e.g. bench/fuzz_rate.sh build/libfuzzer fuzz_sched 30 corpora/fuzz_sched
# Prints one BENCH line: both rates and the ratio (the issue's target for
# fuzz_sched is at least 2% of fuzz_empty under libFuzzer + ASan/UBSan).
set -euo pipefail
build=$1 target=$2 secs=$3 corpus=$4 dict=${5:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rate() {	# BIN -> average exec/s over SECONDS from a copy of CORPUS
	local bin=$1 dir=$work/$(basename "$1")
	mkdir -p "$dir"
	cp "$corpus"/* "$dir"/ 2>/dev/null || true
	"$build/fuzz/$bin" -max_total_time="$secs" -seed=1 -print_final_stats=1 \
		${dict:+-dict="$dict"} "$dir" 2>&1 |
		sed -n 's/^stat::average_exec_per_sec: *//p'
}
empty=$(rate fuzz_empty)
fs=$(rate "$target")
echo "BENCH fuzz_rate target=$target seconds=$secs empty_execs_per_s=$empty" \
     "target_execs_per_s=$fs ratio=$(awk -v a="$fs" -v b="$empty" \
     'BEGIN { printf "%.4f", a / b }')"
