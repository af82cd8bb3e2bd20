#!/usr/bin/env bash
# ci/main-job.sh - the README's main job: build, then a short stress run and
# a short fuzz run, each ending in one summary line.
#
#   ci/main-job.sh [STRESS_SECONDS [FUZZ_SECONDS]]     (defaults 10 and 30)
#
# Stress: build/release/stress/foliotorture, the "all" scenario.  Fuzz:
# build/libfuzzer/fuzz/fuzz_ops (libFuzzer + ASan/UBSan) from
# corpora/fuzz_ops; new inputs are kept in build/libfuzzer/main-job-corpus,
# a finding is written to build/libfuzzer/main-job-artifacts/ and replays
# with build/release/fuzz/folio-replay FILE.  Exit 0 if both pass, 1 if
# either found something, 2 on usage errors.
set -uo pipefail

cd "$(dirname "$(readlink -f "$0")")/.."
stress_s=${1:-10}
fuzz_s=${2:-30}
case "$stress_s$fuzz_s" in
*[!0-9]*|"")
	echo "usage: ci/main-job.sh [STRESS_SECONDS [FUZZ_SECONDS]]" >&2
	exit 2 ;;
esac

set -e
cmake --preset release >/dev/null
cmake --build --preset release
cmake --preset libfuzzer >/dev/null
cmake --build --preset libfuzzer
set +e

echo "== stress: foliotorture --duration $stress_s"
build/release/stress/foliotorture --duration "$stress_s"
stress_rc=$?

corpus=build/libfuzzer/main-job-corpus
artifacts=build/libfuzzer/main-job-artifacts
mkdir -p "$corpus" "$artifacts"
echo "== fuzz: fuzz_ops for ${fuzz_s}s (libFuzzer + ASan/UBSan)"
log=build/libfuzzer/main-job-fuzz.log
build/libfuzzer/fuzz/fuzz_ops -max_total_time="$fuzz_s" -max_len=1539 \
	-dict=fuzz/fuzz_ops.dict -print_final_stats=1 \
	-artifact_prefix="$artifacts/" "$corpus" corpora/fuzz_ops >"$log" 2>&1
fuzz_rc=$?
grep -E '^#[0-9]+.*(pulse|DONE)' "$log" | tail -n 3
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
newu=$(sed -n 's/^stat::new_units_added: *//p' "$log")
if [ "$fuzz_rc" -eq 0 ]; then
	echo "fuzz_ops: PASS ${execs:-?} programs in ${fuzz_s}s (${rate:-?}/s)," \
	     "${newu:-?} new corpus inputs in $corpus"
else
	grep -E 'FINDING|finding at op|ERROR: |Test unit written' "$log" | head -n 8
	echo "fuzz_ops: FAIL (exit $fuzz_rc); full log $log;" \
	     "replay: build/release/fuzz/folio-replay $artifacts/crash-*"
fi
[ "$stress_rc" -eq 0 ] && [ "$fuzz_rc" -eq 0 ] && exit 0
[ "$stress_rc" -eq 2 ] && exit 2
exit 1
