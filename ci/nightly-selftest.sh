#!/usr/bin/env bash
# ci/nightly-selftest.sh - the nightly campaign tested end to end (.ci/run's
# nightly stage; the build trees must exist: release, debug, asan, tsan,
# libfuzzer, afl, coverage, or let the first case build them).
#
#   ci/nightly-selftest.sh [SECONDS]      (the short campaign; default 100)
#
# 1. A short campaign over every engine on the correct core: exit 0, a
#    report (md, json with every task, plots), coverage of core/src.
# 2. A planted bug (--self-test: every foliotorture run leaks a reference):
#    exit 1, one reproducible finding I-ref with its reproducer; the next
#    round finds it again and counts it as known: exit 0.
# 3. SIGTERM in the middle: the engines stop, the report is written, exit
#    143, the round is not complete; the resume runs only what was left
#    and completes it.
# 4. An input a killed engine saved and nobody triaged (a crash file left
#    in artifacts/): the next run triages it (here it does not reproduce on
#    the correct core, so it is kept in unreproduced/, not dropped).
# Each case says PASS or FAIL; exit 1 at the first FAIL.
set -uo pipefail

root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cd "$root" || exit 2
# shellcheck source=ci/lib.sh
. ci/lib.sh
case ${1:-} in -h|--help) usage_from_header "$0" ;; esac
[ $# -le 1 ] || { echo "usage: ci/nightly-selftest.sh [SECONDS]" >&2; exit 2; }
secs=${1:-100}
case $secs in ''|*[!0-9]*|0) echo "usage: ci/nightly-selftest.sh [SECONDS]" >&2; exit 2 ;; esac
work=$(mktemp -d "${TMPDIR:-/tmp}/nightly-selftest.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT

fail() { echo "nightly-selftest: FAIL: $*"; echo "---- last output"; tail -n 30 "$log"; exit 1; }
ok() { echo "nightly-selftest: PASS: $*"; }
log=$work/run.log

# 1. the real thing, short
echo "== 1. a ${secs}s campaign over every engine"
ci/nightly.sh --quick-coverage --seconds "$secs" --out "$work/c1" --status 30 >"$log" 2>&1
rc=$?
grep -E '^(nightly: ==|\[nightly|nightly: (PASS|FAIL|INTERRUPTED)|  coverage:)' "$log"
[ $rc -eq 0 ] || fail "the campaign exited $rc on the correct core"
jq -e '.tasks | length == 10 and all(.done_s > 0)' "$work/c1/report.json" >/dev/null ||
	fail "report.json does not show all 10 tasks run"
jq -e '.coverage_core_src.lines.percent > 50' "$work/c1/report.json" >/dev/null ||
	fail "report.json has no coverage of core/src"
for p in coverage execs findings; do
	[ -s "$work/c1/plots/$p.png" ] || fail "no plots/$p.png"
done
grep -q '^| lf-fuzz_sched | libfuzzer |' "$work/c1/report.md" || fail "report.md has no engine table"
ok "campaign: exit 0, report with 10 tasks, coverage and 3 plots"

# 2. a planted bug, found, then known
echo "== 2. a planted leak (--self-test)"
ci/nightly.sh --quick-coverage --seconds 6 --engines stress-release --self-test --out "$work/c2" \
	--replays 3 --no-build >"$log" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "a planted bug: exit $rc, want 1"
f=$(ls -d "$work/c2/findings"/I-ref* 2>/dev/null | head -n 1)
[ -n "$f" ] || fail "no findings/I-ref* directory"
jq -e '.class == "reproducible" and .reproduced == 3 and .target == "stress"' "$f/info.json" >/dev/null ||
	fail "$f/info.json: $(cat "$f/info.json")"
grep -q 'NEW reproducible' "$log" || fail "the run did not say NEW reproducible"
ci/nightly.sh --quick-coverage --seconds 6 --engines stress-release --self-test --out "$work/c2" \
	--replays 3 --no-build >"$log" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "the same bug in round 2: exit $rc, want 0 (known, not new)"
grep -q 'triage: KNOWN I-ref' "$log" || fail "round 2 did not count the finding as known"
[ "$(ls -d "$work/c2/findings"/* | wc -l)" -eq 1 ] || fail "round 2 made a second finding directory"
jq -e '.count >= 2' "$f/info.json" >/dev/null || fail "the known finding's count did not grow"
ok "planted bug: NEW reproducible 3/3 and exit 1, then KNOWN and exit 0"

# 3. SIGTERM and resume
echo "== 3. SIGTERM in the middle, then resume"
ci/nightly.sh --quick-coverage --seconds 30 --engines lf-fuzz_ops,stress-release --out "$work/c3" \
	--no-build --status 5 >"$log" 2>&1 &
pid=$!
sleep 10
kill -TERM $pid
wait $pid
rc=$?
[ $rc -eq 143 ] || fail "SIGTERM: exit $rc, want 143"
[ -f "$work/c3/report.md" ] || fail "no report after SIGTERM"
[ ! -f "$work/c3/state/complete" ] || fail "an interrupted round is marked complete"
left=$(( $(awk '{ s += $2 } END { print s }' "$work/c3/state/plan") - $(cat "$work/c3/state"/done.* | awk '{ s += $1 } END { print s }') ))
[ "$left" -gt 5 ] || fail "after SIGTERM at 10 s of 30 only $left s are left"
ci/nightly.sh --quick-coverage --out "$work/c3" --no-build >"$log" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "the resume exited $rc"
grep -q "resuming round 1 in $work/c3: $left s of" "$log" || fail "the resume did not continue round 1 with $left s left"
[ -f "$work/c3/state/complete" ] || fail "the resumed round is not complete"
ok "SIGTERM: exit 143 with a report; the resume ran the $left s left and completed the round"

# 4. an untriaged artifact of a killed engine
echo "== 4. a crash file left behind by a killed engine"
mkdir -p "$work/c3/artifacts/lf-fuzz_ops"
cp corpora/fuzz_ops/seed-lazyfree "$work/c3/artifacts/lf-fuzz_ops/crash-left-behind"
ci/nightly.sh --quick-coverage --seconds 5 --engines stress-release --out "$work/c3" --no-build >"$log" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "exit $rc"
grep -q 'triage: UNREPRODUCED 0/5 .*crash-left-behind' "$log" || fail "the left-behind crash file was not triaged"
ls "$work/c3/unreproduced"/fuzz_ops-*/input.bin >/dev/null 2>&1 || fail "not kept in unreproduced/"
jq -e '.unreproduced == 1' "$work/c3/report.json" >/dev/null || fail "the report does not count it"
ok "a left-behind crash file is triaged on the next run and kept"
echo "nightly-selftest: PASS"
