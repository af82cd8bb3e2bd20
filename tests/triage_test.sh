#!/bin/bash
# tests/triage_test.sh MUTANT_REPLAY CORRECT_REPLAY SCRATCH - ci/triage.sh,
# the nightly campaign's findings pipeline, on fixed inputs:
#  - signatures of each kind of report (tests/testdata/triage/*.log: a
#    VM_BUG_ON in a fuzz_sched run, a stress worker's BUG, a reference-model
#    divergence, ASan on a slab object freed and reused (tests/asan_slab_uaf),
#    and TSan on the mapcount_plain
#    bug as the stress engine printed it) are the expected names;
#  - a finding (fuzz/testdata/mutant.txt on folio-replay-mutant, the model
#    with one rule broken) is NEW and reproducible 5/5, written with its
#    reproducer, text form, replay log and info.json;
#  - the same finding again is KNOWN: counted, no second directory;
#  - the same input on the correct build is UNREPRODUCED and kept;
#  - bad arguments exit 2.
set -u
src=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
mutant=${1:?usage} correct=${2:?usage} scratch=${3:?usage}
T=$src/ci/triage.sh
td=$src/tests/testdata/triage
rm -rf "$scratch"
mkdir -p "$scratch"
fail() { echo "triage_test: FAIL: $*"; exit 1; }

while read -r log want; do
	got=$("$T" --signature fuzz_ops "$td/$log") || fail "--signature $log exited $?"
	[ "$got" = "$want" ] || fail "$log: signature '$got', want '$want'"
	echo "triage_test: $log -> $got"
done <<'LIST'
vm_bug_sched.log VM_BUG_ON_folio_mapcount_f_ne_N__unpin__folio_put
stress_worker_bug.log worker_lookup_returned_a_folio_that_is_not_at_the_index__lookup__-
model_finding.log model-refcount__gup__-
asan_slab_uaf.log asan_use-after-poison__-__folio_ref_count
tsan_race.log tsan_data_race__-__folio_remove_rmap_ptes
LIST

in=$src/fuzz/testdata/mutant.txt
sig=model-refcount__gup__-
out=$("$T" --out "$scratch" --no-minimize --engine test --replay "$mutant" fuzz_ops_text "$in" 2>&1)
[ "$(echo "$out" | tail -n 1)" = "triage: NEW reproducible 5/5 $sig" ] || fail "first sighting: $out"
d=$scratch/findings/$sig
for f in input.txt repro.txt replay.log info.json seen; do
	[ -s "$d/$f" ] || fail "$d/$f missing"
done
jq -e '.class == "reproducible" and .reproduced == 5 and .rule == "model-refcount" and .op == "gup"
       and .target == "fuzz_ops_text" and .engine == "test" and .count == 1' "$d/info.json" >/dev/null ||
	fail "info.json: $(cat "$d/info.json")"
grep -q "FINDING after op 1: model-refcount" "$d/replay.log" || fail "replay.log has no finding"

out=$("$T" --out "$scratch" --no-minimize --replay "$mutant" fuzz_ops_text "$in" 2>&1)
[ "$(echo "$out" | tail -n 1)" = "triage: KNOWN $sig (seen 2 times)" ] || fail "second sighting: $out"
[ "$(find "$scratch/findings" -mindepth 1 -maxdepth 1 | wc -l)" -eq 1 ] || fail "a second finding directory"
jq -e '.count == 2' "$d/info.json" >/dev/null || fail "count not 2: $(cat "$d/info.json")"

out=$("$T" --out "$scratch" --replay "$correct" fuzz_ops_text "$in" 2>&1)
echo "$out" | tail -n 1 | grep -q "^triage: UNREPRODUCED 0/5 $in" || fail "on the correct build: $out"
ls "$scratch"/unreproduced/fuzz_ops_text-*/input.txt >/dev/null 2>&1 || fail "the unreproduced input was not kept"

"$T" --out "$scratch" nosuch "$in" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "unknown target: exit $rc, want 2"
"$T" --out "$scratch" --replay "$correct" fuzz_ops "$scratch/no-such-file" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "missing input: exit $rc, want 2"
echo "triage_test: PASS"
