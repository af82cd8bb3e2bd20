#!/usr/bin/env bash
# ci/mutant-kills.sh - each known bug's kill test: the smallest reproducer
# found for it (tests/mutants/<mutant>.<kind>), run on that mutant's build,
# must report a finding; the same reproducer passes on the correct build
# (ctest label "mutant", run by every preset's ctest).
#
#   ci/mutant-kills.sh [--mutants a,b,...]    build each mutant once (a
#        debug tree in build/mutants/<name>-debug, reused and rebuilt
#        incrementally) and run its kill tests; exit 0 if every mutant is
#        killed by every one of its reproducers, 1 if one survives, 2 on a
#        usage or build error.
#   ci/mutant-kills.sh --correct BUILD_DIR    run every reproducer on BUILD_DIR
#        (the unmutated build): each must pass (what ctest runs).
#
# Reproducer kinds, by file extension:
#   .sched  a fuzz_sched input (text or binary): folio-replay --sched FILE
#   .ops    a fuzz_ops input: folio-replay --binary FILE
#   .text   a fuzz_ops_text program: folio-replay --text FILE
#   .explore  a fuzz_sched program whose schedules folio-replay --explore
#           searches (its memory model; K preemptions from a line
#           "# explore: --preemptions K", else 1): the mutant must give a
#           finding, the correct build "no finding within K"
#   .unit   a unit test that kills it: the file's first line that is not a
#           comment names the test program (tests/test_<name>.c), which
#           must fail on the mutant (on the correct build ctest runs it)
# A .sched reproducer whose mode line names a weak memory model (mm=tso,
# pso, arm) must also pass under --mm sc on the mutant: the model is what
# finds the bug.
# <mutant>.tsan.<kind>: replayed on the mutant's tsan build (a data race
# ThreadSanitizer sees); <mutant>.asan.<kind>: on its asan build (clang: the
# scheduler's plain-access steps and data-race detector); otherwise on its
# debug build.
# The first comment lines of a text reproducer say what it is, how it was
# found and which rule it breaks.  A reproducer is deterministic: it replays
# the same steps on every run and every machine.
set -uo pipefail

cd "$(dirname "$(readlink -f "$0")")/.."
dir=tests/mutants
mutants=""
correct=""

# shellcheck source=ci/lib.sh
. ci/lib.sh
usage() { usage_from_header "$0" "${1:-0}"; }
while [ $# -gt 0 ]; do
	case $1 in
	--mutants|--correct)
		# a value missing: "shift 2" would fail and loop forever
		[ $# -ge 2 ] || { echo "mutant-kills: $1 wants a value (see --help)" >&2; exit 2; } ;;
	esac
	case $1 in
	--mutants) mutants=$(echo "$2" | tr ',' ' '); shift 2 ;;
	--correct) correct=$2; shift 2 ;;
	-h|--help) usage ;;
	*) echo "mutant-kills: unknown argument '$1'" >&2; usage 2 ;;
	esac
done

replay() {	# REPLAY_BIN FILE -> folio-replay's exit status
	local bin=$1 f=$2 kind=${2##*.}

	case $kind in
	unit) "$(dirname "$(dirname "$bin")")/tests/$(unit_name "$f")" ;;
	sched) "$bin" --quiet --sched "$f" ;;
	ops) "$bin" --quiet --binary "$f" ;;
	text) "$bin" --quiet --text "$f" ;;
	explore) "$bin" --explore --preemptions "$(explore_k "$f")" \
			--out "${TMPDIR:-/tmp}/mutant-kills-explore.$$.txt" "$f" ;;
	*) echo "mutant-kills: $f: unknown kind .$kind (sched, ops, text, explore or unit)" >&2; return 2 ;;
	esac
}

explore_k() {	# FILE.explore -> its "# explore: --preemptions K" (default 1)
	sed -n 's/^# explore: --preemptions \([0-9]*\).*/\1/p' "$1" | head -1 | grep . || echo 1
}

unit_name() {	# FILE.unit -> the test program's name
	grep -v '^#' "$1" | grep -m1 -o '[a-z_0-9]*'
}

files=$(ls "$dir"/*.* 2>/dev/null | grep -v '/README' || true)
[ -n "$files" ] || { echo "mutant-kills: no reproducers in $dir" >&2; exit 2; }

if [ -n "$correct" ]; then
	bin=$correct/fuzz/folio-replay
	[ -x "$bin" ] || { echo "mutant-kills: no $bin (build it first)" >&2; exit 2; }
	bad=0
	for f in $files; do
		case $f in *.unit) continue ;; esac	# ctest runs the unit tests
		replay "$bin" "$f" >/tmp/mutant-kills.$$ 2>&1
		rc=$?
		if [ $rc -eq 0 ]; then
			echo "pass on the correct build: $f"
		elif [ $rc -eq 77 ]; then
			echo "skipped (weak memory needs a clang build): $f"
		else
			echo "FAIL: $f reports a finding on the correct build:" >&2
			tail -5 /tmp/mutant-kills.$$ >&2
			bad=1
		fi
	done
	rm -f /tmp/mutant-kills.$$
	exit $bad
fi

known=" $(sed -n 's/^[[:space:]]*X(\([a-z_0-9]*\)).*/\1/p' core/include/folio/mutant.h | tr '\n' ' ') "
[ -n "$mutants" ] || mutants=$(for f in $files; do basename "$f" | sed 's/[.-].*//'; done | sort -u)
survived=0 n=0
for m in $mutants; do
	case $known in *" $m "*) ;; *) echo "mutant-kills: no mutant '$m'" >&2; exit 2 ;; esac
	for f in $(ls "$dir/$m".* "$dir/$m"-*.* 2>/dev/null); do
		preset=debug
		case $f in *.tsan.*) preset=tsan ;; *.asan.*) preset=asan ;; esac
		b=build/mutants/$m-$preset
		log=build/mutants/build-$m-$preset.log
		mkdir -p build/mutants
		t0=$SECONDS
		if { [ -f "$b/build.ninja" ] || cmake --preset $preset -B "$b" -DFOLIO_MUTANT="$m" >"$log" 2>&1; } &&
		   cmake --build "$b" -j"$(nproc)" --target \
			 $(case $f in *.unit) unit_name "$f" ;; *) echo folio-replay ;; esac) >>"$log" 2>&1; then
			:
		else
			echo "mutant-kills: building $m ($preset) failed: $log" >&2
			tail -20 "$log" >&2
			exit 2
		fi
		n=$((n + 1))
		out=$(replay "$b/fuzz/folio-replay" "$f" 2>&1)
		rc=$?
		first=$(echo "$out" | grep -m1 -E 'FINDING|VM_BUG_ON|BUG|Sanitizer|CHECK.*failed' | cut -c1-140)
		# a finding: exit 1 (a unit test: any failure, an assertion's abort too)
		if [ $rc -eq 1 ] || { [ "${f##*.}" = unit ] && [ $rc -ne 0 ] && [ -n "$first" ]; }; then
			echo "killed: $m by $(basename "$f") ($((SECONDS - t0)) s with the build): $first"
			# a weak-memory reproducer: the model is what finds it,
			# so the same schedule passes under sc
			if grep -q -E '^mode .*mm=(tso|pso|arm)' "$f" &&
			   ! "$b/fuzz/folio-replay" --quiet --mm sc "$f" >/dev/null 2>&1; then
				echo "FAIL: $m: $(basename "$f") reports a finding under sc too" >&2
				survived=1
			fi
		else
			echo "SURVIVED: $m: $(basename "$f") exit $rc (want 1, a finding)" >&2
			echo "$out" | tail -5 >&2
			survived=1
		fi
	done
done
[ $n -gt 0 ] || { echo "mutant-kills: no reproducer for: $mutants" >&2; exit 2; }
[ $survived -eq 0 ] && echo "mutant-kills: PASS: $n kill test(s)" || echo "mutant-kills: FAIL: a mutant survived its kill test"
exit $survived
