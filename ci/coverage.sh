#!/usr/bin/env bash
# ci/coverage.sh - line, function and region coverage of core/src from the
# fuzz corpora (clang source-based coverage, the coverage preset).
#
#   ci/coverage.sh [--out DIR] [--corpus TARGET=DIR]... [--no-build]
#                  [--no-html] [--no-tests] [--stress SECONDS]
#
# Replays, on the coverage build, every input of the committed corpora
# (corpora/fuzz_ops, fuzz_ops_text, fuzz_sched with the standalone targets;
# corpora/regressions/* and fuzz_sched_text with folio-replay) and of each
# --corpus TARGET=DIR (TARGET one of fuzz_ops, fuzz_ops_text, fuzz_sched:
# a campaign's corpus, ci/nightly.sh passes its own); runs the ctest suite
# of that build (every label but mutant and nightly; --no-tests skips it)
# and a foliotorture run of --stress SECONDS (default 20, 0 skips it) of
# scenario all; then writes to DIR (default build/coverage/report):
#   summary.txt    llvm-cov report, one line per file of core/src
#   summary.json   the totals (lines, functions, regions, branches per
#                  build of a function, branches_by_place)
#   branches.txt   per file: branch sides taken by any build, of all
#   unreached-branches.txt  FILE:LINE:COL and the side no build took
#   unreached-lines.txt     FILE:LINE: the source of each line no build ran
#   html/index.html  the annotated sources
#   merged.profdata  the profile, for llvm-cov show -show-branches=count
# The last line: "coverage: core/src lines L% (a/b), branches B% (c/d),
# functions F%, regions R%" (branches by place: a side is covered if any
# build took it).
# Exit: 0 done, 1 a replay found something (the corpus has a finding: its
# coverage would be lost with the aborted process), 2 usage or build error.
set -uo pipefail

root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cd "$root" || exit 2

# shellcheck source=ci/lib.sh
. "$root/ci/lib.sh"
usage() { usage_from_header "$0"; }
die() { echo "coverage: $*" >&2; exit 2; }

out=build/coverage/report
build=1
html=1
tests=1
stress=20
extra=()
while [ $# -gt 0 ]; do
	case $1 in
	--out) [ $# -ge 2 ] && [ -n "$2" ] || die "--out wants a directory"; out=$2; shift 2 ;;
	--corpus)
		[ $# -ge 2 ] || die "--corpus wants TARGET=DIR"
		case ${2%%=*} in fuzz_ops|fuzz_ops_text|fuzz_sched) ;;
		*) die "--corpus: unknown target '${2%%=*}' (fuzz_ops, fuzz_ops_text, fuzz_sched)" ;; esac
		[ -d "${2#*=}" ] || die "--corpus: ${2#*=} is not a directory"
		extra+=("$2"); shift 2 ;;
	--no-build) build=0; shift ;;
	--no-html) html=0; shift ;;
	--no-tests) tests=0; shift ;;
	--stress)
		[ $# -ge 2 ] && [[ $2 =~ ^[0-9]+$ ]] || die "--stress wants a whole number of seconds"
		stress=$2; shift 2 ;;
	-h|--help) usage ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done

pick() { for t in "$@"; do command -v "$t" >/dev/null && { echo "$t"; return; }; done; }
profdata=$(pick llvm-profdata-14 llvm-profdata)
llvmcov=$(pick llvm-cov-14 llvm-cov)
[ -n "$profdata" ] && [ -n "$llvmcov" ] || die "llvm-profdata / llvm-cov not found (package llvm-14)"

B=build/coverage
mkdir -p "$out" || die "cannot create $out"
if [ "$build" -eq 1 ]; then
	if ! { cmake --preset coverage && cmake --build --preset coverage; } >"$out/build.log" 2>&1; then
		tail -n 30 "$out/build.log"
		die "the coverage build failed (log: $out/build.log)"
	fi
fi
for b in fuzz/fuzz_ops fuzz/fuzz_ops_text fuzz/fuzz_sched fuzz/folio-replay stress/foliotorture; do
	[ -x "$B/$b" ] || die "$B/$b is missing (cmake --preset coverage && cmake --build --preset coverage)"
done

prof=$(mktemp -d "${TMPDIR:-/tmp}/foliotorture-cov.XXXXXX") || die "no temporary directory"
trap 'rm -rf "$prof"' EXIT
export LLVM_PROFILE_FILE="$prof/%p-%m.profraw"
found=0
replay() {	# LABEL PROGRAM ARGS...: run, note a finding
	local label=$1
	shift
	if ! "$@" >"$prof/$label.log" 2>&1; then
		echo "coverage: $label: a finding or an error (last lines below); its coverage is partial" >&2
		tail -n 5 "$prof/$label.log" >&2
		found=1
	fi
}
replay fuzz_ops "$B/fuzz/fuzz_ops" corpora/fuzz_ops
replay fuzz_ops_text "$B/fuzz/fuzz_ops_text" corpora/fuzz_ops_text
replay fuzz_sched "$B/fuzz/fuzz_sched" corpora/fuzz_sched
replay sched_text "$B/fuzz/folio-replay" --quiet --sched corpora/fuzz_sched_text
for d in corpora/regressions/*/; do
	case $d in *sched*) k=--sched ;; *text*) k=--text ;; *) k=--binary ;; esac
	[ -n "$(ls -A "$d")" ] && replay "regress-$(basename "$d")" "$B/fuzz/folio-replay" --quiet $k "$d"
done
n=0
for e in "${extra[@]}"; do
	n=$((n + 1))
	replay "extra$n-${e%%=*}" "$B/fuzz/${e%%=*}" "${e#*=}"
done
if [ "$tests" -eq 1 ]; then
	# the unit, conformance, stress and fuzz tests: the paths only a
	# hand-written test reaches (allocation failures, refusals, checkers
	# firing on broken states)
	replay ctest ctest --test-dir "$B" -j "$(nproc)" -LE 'mutant|nightly' --timeout 600
fi
if [ "$stress" -gt 0 ]; then
	replay stress "$B/stress/foliotorture" -S all -d "$stress" -s 1
fi

"$profdata" merge -sparse "$prof"/*.profraw -o "$prof/merged.profdata" ||
	die "llvm-profdata merge failed"
cp "$prof/merged.profdata" "$out/merged.profdata" || die "cannot write $out/merged.profdata"
objs=()
for b in "$B"/fuzz/fuzz_ops "$B"/fuzz/fuzz_ops_text "$B"/fuzz/fuzz_sched \
	"$B"/fuzz/folio-replay "$B"/stress/foliotorture "$B"/tests/test_*; do
	[ -x "$b" ] && [ -f "$b" ] && objs+=(-object "$b")
done
# core/src only: the model under test, not the harness that drives it
"$llvmcov" report -instr-profile="$prof/merged.profdata" "${objs[@]:1}" \
	"$root/core/src" >"$out/summary.txt" 2>"$prof/cov.err" || {
	cat "$prof/cov.err" >&2
	die "llvm-cov report failed"
}
# Branches, once per place in the source: llvm-cov counts a branch once per
# build of its function (fuzz_sched and folio-replay link the scheduled
# core, folio_hooked, the rest the plain one), so its own figure says a
# branch the unit tests took is missed because fuzz_sched's copy never took
# it.  A side of a branch is covered here if any build took it.
"$llvmcov" export -instr-profile="$prof/merged.profdata" "${objs[@]:1}" \
	"$root/core/src" 2>/dev/null >"$prof/export.json" || die "llvm-cov export failed"
jq '[.data[0].files[] | {file: (.filename | split("/") | last),
	br: ([.branches[] | {k: "\(.[0]):\(.[1]):\(.[2]):\(.[3])", t: (.[4] > 0), f: (.[5] > 0)}]
	     | group_by(.k) | map({k: .[0].k, t: any(.[]; .t), f: any(.[]; .f)}))}]
    | map({file, count: (.br | length * 2),
	   covered: ([.br[] | (if .t then 1 else 0 end) + (if .f then 1 else 0 end)] | add // 0),
	   missed: [.br[] | select((.t and .f) | not)
		    | "\(.k | split(":")[0:2] | join(":")) \(if .t or .f then (if .t then "false" else "true" end) + " side never taken" else "never reached" end)"]})' \
	"$prof/export.json" >"$prof/branches.json" ||
	die "jq failed on the coverage export"
jq -r '.[] | select(.count > 0) | "\(.file)\t\(.covered)/\(.count)\t\(.covered * 1000 / .count | round / 10)%"' \
	"$prof/branches.json" >"$out/branches.txt"
jq -r '.[] | .file as $f | .missed[] | "\($f):\(.)"' "$prof/branches.json" >"$out/unreached-branches.txt"
# the lines no build ran: FILE:LINE: the source line
"$llvmcov" show -show-instantiations=false -instr-profile="$prof/merged.profdata" "${objs[@]:1}" \
	"$root/core/src" 2>/dev/null |
	awk -v root="$root/core/src/" '
		/^\/.*:$/ { f = substr($0, 1, length($0) - 1); sub(root, "", f); next }
		/^ *[0-9]+\| *0\|/ { split($0, a, "|"); l = a[1]; gsub(/ /, "", l)
				     c = substr($0, index($0, a[3])); gsub(/^[ \t]+/, "", c)
				     print f ":" l ": " c }' >"$out/unreached-lines.txt"
jq --slurpfile b "$prof/branches.json" \
	'($b[0] | map(.count) | add) as $n | ($b[0] | map(.covered) | add) as $c
	 | .data[0].totals + {branches_by_place: {count: $n, covered: $c, percent: ($c * 100 / $n)}}' \
	"$prof/export.json" >"$out/summary.json" || die "llvm-cov export failed"
if [ "$html" -eq 1 ]; then
	rm -rf "$out/html"
	"$llvmcov" show -format=html -output-dir="$out/html" -instr-profile="$prof/merged.profdata" \
		"${objs[@]:1}" "$root/core/src" >/dev/null 2>&1 || echo "coverage: llvm-cov show failed; no HTML" >&2
fi
jq -r '"coverage: core/src lines \(.lines.percent * 10 | round / 10)% (\(.lines.covered)/\(.lines.count)), branches \(.branches_by_place.percent * 10 | round / 10)% (\(.branches_by_place.covered)/\(.branches_by_place.count)), functions \(.functions.percent * 10 | round / 10)%, regions \(.regions.percent * 10 | round / 10)%"' \
	"$out/summary.json"
exit "$found"
