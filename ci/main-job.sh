#!/usr/bin/env bash
# ci/main-job.sh - the README's main job: build, then a short stress run and
# a short fuzz run, each ending in one summary line, then one line for both.
#
#   ci/main-job.sh [STRESS_SECONDS [FUZZ_SECONDS]]     (defaults 10 and 30;
#                                                       0 skips that half)
#
# The engines the bug zoo's score says kill most (README, "The bug zoo"):
# Stress: build/debug/stress/foliotorture, the "all" scenario: the debug
# build's assertions killed in seconds bugs the release build missed for
# 30 s.  Fuzz: half the time fuzz_sched (the interleaving fuzzer, from
# corpora/fuzz_sched: it killed the race bugs in about a second), half
# fuzz_ops (from corpora/fuzz_ops: the reference model's rules), both
# libFuzzer + ASan/UBSan, with a status line every 5 s.  The corpora they
# grow and the findings live in $FOLIOTORTURE_WORK (default
# ~/.cache/foliotorture), outside build/, so a rebuild keeps them; a
# finding replays with build/debug/fuzz/folio-replay FILE.
#
# Exit: 0 PASS, 1 FAIL (either half found something), 2 usage or build
# error, 130/143 INTERRUPTED (Ctrl-C stops the running half, which still
# reports).  The last line says which.
set -uo pipefail

cd "$(dirname "$(readlink -f "$0")")/.."
# shellcheck source=ci/lib.sh
. ci/lib.sh

usage() {
	echo "usage: ci/main-job.sh [STRESS_SECONDS [FUZZ_SECONDS]]" \
	     "(whole seconds; 0 skips that half)" >&2
	exit 2
}
# --help before anything else: it builds and runs nothing
case ${1:-} in -h|--help) usage_from_header "$0" ;; esac
[ $# -le 2 ] || usage
stress_s=${1:-10}
fuzz_s=${2:-30}
case "$stress_s" in ''|*[!0-9]*) usage ;; esac
case "$fuzz_s" in ''|*[!0-9]*) usage ;; esac
stress_s=$((10#$stress_s))	# "010" is ten, as everywhere in the project
fuzz_s=$((10#$fuzz_s))

work=${FOLIOTORTURE_WORK:-${XDG_CACHE_HOME:-$HOME/.cache}/foliotorture}
logs=$work/main-job/logs
mkdir -p "$work/main-job/corpus" "$work/main-job/findings" "$logs" || {
	echo "main-job: cannot create $work (set FOLIOTORTURE_WORK)" >&2
	exit 2
}

interrupted=0
child=0
on_signal() {
	interrupted=$1
	# the running half stops, checks and reports; the job then ends
	[ "$child" -ne 0 ] && kill -"$2" "$child" 2>/dev/null
}
trap 'on_signal 130 INT' INT
trap 'on_signal 143 TERM' TERM

# Build quietly: the log is printed only if the build fails.
build() {
	build_preset main-job "$1" "$logs/build-$1.log" && return 0
	echo "main-job: FAIL: the $1 build failed (full log: $logs/build-$1.log)"
	exit 2
}

# Run "$@" in the background so a signal reaches it through on_signal.
run_child() {
	"$@" &
	child=$!
	wait "$child"
	local rc=$?
	# wait returns early when a trapped signal arrives: wait again
	while kill -0 "$child" 2>/dev/null; do
		wait "$child"
		rc=$?
	done
	child=0
	return "$rc"
}

stress_rc=0
fuzz_rc=0
[ "$stress_s" -gt 0 ] && build debug
[ "$fuzz_s" -gt 0 ] && build libfuzzer

if [ "$stress_s" -gt 0 ] && [ "$interrupted" -eq 0 ]; then
	echo "== stress: foliotorture --duration $stress_s, debug build (status every 5 s)"
	run_child build/debug/stress/foliotorture --duration "$stress_s" \
		--json "$logs/stress.json"
	stress_rc=$?
else
	echo "== stress: skipped"
fi

fuzz_status() {	# LOG ELAPSED SECS: the last libFuzzer status line, readably
	local line
	line=$(grep -E '^#[0-9]+' "$1" | tail -n 1)
	[ -n "$line" ] || return 0
	echo "$line" | sed -E 's/^#([0-9]+).*cov: ([0-9]+).*corp: ([0-9]+).*exec\/s: ([0-9]+).*/\1 \2 \3 \4/' |
	{ read -r execs cov corp rate
	  printf '[fuzz %4ss/%ss] %s programs (%s/s), corpus %s, coverage %s\n' \
		"$2" "$3" "$execs" "$rate" "$corp" "$cov"; }
}

# fuzz_one TARGET SECONDS: one libFuzzer run from the target's
# committed corpus into its work corpus; one summary line.  Sets one_rc:
# 0 PASS or interrupted with nothing found, 1 a finding.
fuzz_one() {
	local t=$1 secs=$2 corpus artifacts log before after execs rate found t0 el rc

	corpus=$work/main-job/corpus/$t
	artifacts=$work/main-job/findings/$t
	log=$logs/$t.log
	mkdir -p "$corpus" "$artifacts"
	echo "== fuzz: $t for ${secs}s (libFuzzer + ASan/UBSan), corpus $corpus"
	before=$(find "$corpus" -maxdepth 1 -type f | wc -l)
	touch "$log.start"	# findings of this run are newer than it
	build/libfuzzer/fuzz/"$t" -max_total_time="$secs" -max_len="$(fuzz_max_len "$t")" \
		-dict=fuzz/"$t".dict -print_final_stats=1 \
		-artifact_prefix="$artifacts/" "$corpus" corpora/"$t" \
		>"$log" 2>&1 &
	child=$!
	t0=$SECONDS
	while kill -0 "$child" 2>/dev/null; do
		sleep 1
		el=$((SECONDS - t0))
		if [ $((el % 5)) -eq 0 ] && [ "$el" -gt 0 ]; then
			fuzz_status "$log" "$el" "$secs"
		fi
	done
	wait "$child"
	rc=$?
	child=0
	after=$(find "$corpus" -maxdepth 1 -type f | wc -l)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	found=$(find "$artifacts" -maxdepth 1 -type f \( -name 'crash-*' -o \
		-name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) -newer "$log.start" 2>/dev/null | wc -l)
	one_rc=0
	if [ "$rc" -eq 0 ]; then
		echo "$t: PASS ${execs:-?} programs in ${secs}s (${rate:-?}/s)," \
		     "$((after - before)) new corpus inputs in $corpus"
	elif [ "$interrupted" -ne 0 ] && [ "$found" -eq 0 ]; then
		echo "$t: INTERRUPTED after ${execs:-?} programs," \
		     "$((after - before)) new corpus inputs in $corpus"
	else
		grep -E 'FINDING|finding at op|ERROR: |Test unit written' "$log" | head -n 8
		echo "$t: FAIL (libFuzzer exit $rc); log $log; replay:" \
		     "build/debug/fuzz/folio-replay $artifacts/crash-*"
		one_rc=1
	fi
}

if [ "$fuzz_s" -gt 0 ] && [ "$interrupted" -eq 0 ]; then
	# half each; fuzz_sched first, the odd second to fuzz_ops
	sched_s=$((fuzz_s / 2))
	ops_s=$((fuzz_s - sched_s))
	if [ "$sched_s" -gt 0 ]; then
		fuzz_one fuzz_sched "$sched_s"
		fuzz_rc=$one_rc
	fi
	if [ "$interrupted" -eq 0 ]; then
		fuzz_one fuzz_ops "$ops_s"
		[ "$one_rc" -ne 0 ] && fuzz_rc=1
	fi
else
	echo "== fuzz: skipped"
fi

if [ "$stress_rc" -eq 1 ] || [ "$fuzz_rc" -ne 0 ]; then
	echo "main-job: FAIL (stress exit $stress_rc, fuzz $([ "$fuzz_rc" -eq 0 ] && echo PASS || echo FAIL))"
	exit 1
fi
if [ "$stress_rc" -eq 2 ]; then
	echo "main-job: FAIL: foliotorture rejected its arguments (exit 2)"
	exit 2
fi
if [ "$interrupted" -ne 0 ] || [ "$stress_rc" -ge 128 ]; then
	echo "main-job: INTERRUPTED (nothing found before the signal)"
	exit $((interrupted ? interrupted : stress_rc))
fi
echo "main-job: PASS (stress ${stress_s}s, fuzz ${fuzz_s}s)"
exit 0
