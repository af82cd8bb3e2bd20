#!/usr/bin/env bash
# ci/triage.sh - one finding in, one deduplicated report out (the nightly
# campaign's findings pipeline; usable on its own for any crash file).
#
#   ci/triage.sh [--out DIR] [--replays N] [--replay BIN] [--engine NAME]
#                [--no-minimize] TARGET FILE
#   ci/triage.sh --signature TARGET LOG   (print the signature of the
#                finding a replay's or an engine's output LOG reports)
#
# TARGET is fuzz_ops, fuzz_ops_text or fuzz_sched (FILE is the input a fuzzer
# saved: a libFuzzer crash-*/timeout-* file or an AFL++ crashes/id:* file) or
# stress (FILE is a failed foliotorture run's --json report, its output in
# FILE with .json replaced by .log).
#
# 1. Replays FILE N times (default 5; at most two minutes of replays, so a
#    hang does not replay for five timeouts): folio-replay for a fuzz input (the
#    libfuzzer preset's, with ASan/UBSan and the FOLIO_DEBUG assertions;
#    --replay BIN for another), the rerun command for a stress run (its
#    seed, scenario and sizes, for as long as the run took to fail).
# 2. Names it by its signature: the broken rule (checker or model rule,
#    VM_BUG_ON condition, sanitizer report kind), the op it broke in and
#    the function (the first core frame of a sanitizer stack, the function
#    of a VM_BUG_ON) -- not by a stack hash, so the same bug found through
#    two different inputs is one finding, and line numbers do not matter.
# 3. Classifies it: reproducible (every replay gave that signature), flaky
#    (some did), unreproduced (none did: kept under unreproduced/ with its
#    input and the engine's log, never dropped).
# 4. A new signature is minimised (fuzz_sched: folio-replay --minimize, the
#    fewest preemptions then ops; fuzz_ops: libFuzzer -minimize_crash) and
#    written atomically as DIR/findings/<signature>/: input.*, repro.* (the
#    smallest input that still gives the signature), repro.txt (its text
#    form), repro.anchored.txt (fuzz_sched: the same with its schedule
#    anchored to the code, folio-replay --anchor), replay.log, info.json,
#    seen.  A known signature is counted in
#    its seen and info.json, not reported again (a failed stress run whose
#    own log names a known signature is counted without replays).
#
# The last line says what happened, for the nightly campaign to read:
#   triage: NEW reproducible 5/5 <signature>
#   triage: NEW flaky 2/5 <signature>
#   triage: KNOWN <signature> (seen 3 times)
#   triage: UNREPRODUCED 0/5 <input>
# Exit: 0 processed (whatever the class), 2 usage error or unreadable input.
set -uo pipefail

root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)

# shellcheck source=ci/lib.sh
. "$root/ci/lib.sh"
usage() { usage_from_header "$0"; }
die() { echo "triage: $*" >&2; exit 2; }

out=${FOLIOTORTURE_WORK:-${XDG_CACHE_HOME:-$HOME/.cache}/foliotorture}/nightly
replays=5
replay_bin=""
engine=""
minimize=1
sig_only=0
while [ $# -gt 0 ]; do
	case $1 in
	--out) [ $# -ge 2 ] || die "--out wants a directory"; out=$2; shift 2 ;;
	--replays) [ $# -ge 2 ] || die "--replays wants a number"; replays=$2; shift 2 ;;
	--replay) [ $# -ge 2 ] || die "--replay wants a program"; replay_bin=$2; shift 2 ;;
	--engine) [ $# -ge 2 ] || die "--engine wants a name"; engine=$2; shift 2 ;;
	--no-minimize) minimize=0; shift ;;
	--signature) sig_only=1; shift ;;
	-h|--help) usage ;;
	--) shift; break ;;
	-*) die "unknown option '$1' (see --help)" ;;
	*) break ;;
	esac
done
[ $# -eq 2 ] || die "want TARGET FILE (see --help)"
target=$1
file=$2
case $replays in ''|*[!0-9]*|0) die "--replays wants a whole number > 0" ;; esac
[ -r "$file" ] && [ -f "$file" ] || die "cannot read $file"
case $target in
fuzz_ops) kind=--binary ext=bin ;;
fuzz_ops_text) kind=--text ext=txt ;;
fuzz_sched) kind=--sched ext=bin ;;
stress) kind="" ext=json ;;
*) die "unknown target '$target' (fuzz_ops, fuzz_ops_text, fuzz_sched, stress)" ;;
esac
if [ "$target" != stress ] && [ -z "$replay_bin" ] && [ "$sig_only" -eq 0 ]; then
	for b in "$root/build/libfuzzer/fuzz/folio-replay" "$root/build/debug/fuzz/folio-replay"; do
		[ -x "$b" ] && { replay_bin=$b; break; }
	done
	[ -n "$replay_bin" ] || die "no folio-replay built (cmake --preset libfuzzer && cmake --build --preset libfuzzer)"
fi
[ "$target" = stress ] || [ "$sig_only" -eq 1 ] || [ -x "$replay_bin" ] || die "--replay: $replay_bin is not a program"
if [ "$sig_only" -eq 0 ]; then
	command -v jq >/dev/null || die "jq is missing (ci/install-deps.sh installs it)"
	if [ "$target" = stress ]; then
		jq -e .command "$file" >/dev/null 2>&1 || die "$file is not a foliotorture --json report"
	fi
	mkdir -p "$out/findings" "$out/unreproduced" || die "cannot create $out"
fi

# signature LOG: "rule<TAB>op<TAB>function" of the first finding in LOG,
# or nothing.  The rule comes from the report that stopped the run, in
# this order: a sanitizer report, a VM_BUG_ON, a named finding (checker,
# model or worker rule), a foliotorture FAIL line's rule=.
signature() {
	awk '
	function slug(s) { gsub(/0x[0-9a-fA-F]+|[0-9]+/, "N", s); gsub(/!=/, "_ne_", s); gsub(/==/, "_eq_", s);
	                   gsub(/<=/, "_le_", s); gsub(/>=/, "_ge_", s); gsub(/</, "_lt_", s); gsub(/>/, "_gt_", s);
	                   gsub(/!/, "_not_", s); gsub(/[^A-Za-z0-9_.+-]+/, "_", s); gsub(/__+/, "_", s);
	                   gsub(/^_+|_+$/, "", s); return s }
	# "RULE: detail"; a VM_BUG_ON the harness caught: "VM_BUG_ON: FILE:LINE (in FUNC): COND"
	function named(s,   d) {
		d = s; sub(/^[^:]*: /, "", d); sub(/: .*/, "", s); rule = s
		if (rule != "VM_BUG_ON") return
		if (match(d, /\(in [A-Za-z0-9_]+\): /)) {
			where = substr(d, RSTART + 4, RLENGTH - 7); rule = "VM_BUG_ON(" substr(d, RSTART + RLENGTH) ")"
		} else if (match(d, /:[0-9]+: /)) {	# no function named: the file
			where = substr(d, 1, RSTART - 1); sub(/.*\//, "", where)
			rule = "VM_BUG_ON(" substr(d, RSTART + RLENGTH) ")"
		}
	}
	function frame(fn, path) {
		if (where != "" || fn ~ /^(folio_bug|abort|raise|__|ft_sanitizer|fuzz_run_or_abort|report|on_)/) return
		if (path ~ /(^|\/)core\//) { where = fn; return }
		if (path ~ /(^|\/)(fuzz|stress)\// && pwhere == "") pwhere = fn
	}
	rule == "" && /ERROR: AddressSanitizer: / { sub(/.*ERROR: AddressSanitizer: /, ""); rule = "asan:" $1; instack = 1; next }
	rule == "" && /ERROR: LeakSanitizer: / { rule = "lsan:leak"; instack = 1; next }
	rule == "" && /WARNING: ThreadSanitizer: / { sub(/.*WARNING: ThreadSanitizer: /, ""); sub(/ *\(pid=.*/, ""); rule = "tsan:" $0; instack = 1; next }
	rule == "" && /runtime error: / { sub(/.*runtime error: /, ""); rule = "ubsan:" $1 "_" $2 "_" $3; instack = 1; next }
	rule == "" && /kernel BUG at / {
		s = $0; sub(/.*VM_BUG_ON_FOLIO\(/, "", s); sub(/\)$/, "", s); rule = "VM_BUG_ON(" s ")"
		if (match($0, /\(in [A-Za-z0-9_]+\)/)) where = substr($0, RSTART + 4, RLENGTH - 5)
		else { f = $0; sub(/.*kernel BUG at /, "", f); sub(/:[0-9].*/, "", f); sub(/.*\//, "", f); where = f }
		next
	}
	rule == "" && /FINDING (after|at) op [0-9]+: / { s = $0; sub(/.*FINDING (after|at) op [0-9]+: /, "", s); named(s); next }
	rule == "" && /(^|: )FINDING: / && !/FINDING: a [A-Za-z]+ report/ { s = $0; sub(/.*FINDING: /, "", s); named(s); next }
	rule == "" && /FAIL: timeout after [0-9]+ s/ { rule = "timeout"; next }
	rule == "" && /^BUG: worker [0-9]+: / { s = $0; sub(/^BUG: worker [0-9]+: /, "", s); sub(/ \(.*/, "", s); rule = "worker:" s; op = $4; next }
	rule == "" && / FAIL .*rule=/ { s = $0; sub(/.*rule=/, "", s); sub(/ .*/, "", s); rule = s; next }
	op == "" && /^  op [0-9]+: / { op = $3; next }
	/^thread [0-9]+: .* done, in / { s = $0; sub(/.* done, in /, "", s); split(s, w, " "); ops[w[1]] = 1; next }
	instack && /^ *#[0-9]+ 0x[0-9a-f]+ in / { frame($4, $5); next }
	instack && /^ *#[0-9]+ [A-Za-z_]/ { frame($2, $3); next }
	instack && /^ *$/ { if (where != "" || pwhere != "") instack = 0 }
	END {
		if (rule == "") exit
		if (op == "") { n = 0; for (o in ops) l[++n] = o; for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (l[j] < l[i]) { t = l[i]; l[i] = l[j]; l[j] = t }
		                for (i = 1; i <= n; i++) op = op (i > 1 ? "+" : "") l[i] }
		if (where == "") where = pwhere
		printf "%s\t%s\t%s\n", slug(rule), op == "" ? "-" : slug(op), where == "" ? "-" : slug(where)
	}' "$1"
}

# sig_dir "rule<TAB>op<TAB>where": the directory name (at most 120 bytes,
# a checksum of the whole signature appended when it is cut).
sig_dir() {
	local s name
	s=$(printf '%s' "$1" | tr '\t' '\n' | paste -sd'~' | sed 's/~/__/g')
	if [ ${#s} -gt 120 ]; then
		name="${s:0:110}-$(printf '%s' "$1" | cksum | cut -d' ' -f1)"
	else
		name=$s
	fi
	printf '%s' "$name"
}

if [ "$sig_only" -eq 1 ]; then	# --signature TARGET LOG: the name only
	s=$(signature "$file")
	[ -n "$s" ] || { echo "triage: no finding in $file" >&2; exit 1; }
	sig_dir "$s"
	echo
	exit 0
fi

# replay_once INPUT LOG [SECONDS]: run the finding once, output to LOG.
replay_once() {
	local in=$1 log=$2 secs=${3:-}
	if [ "$target" = stress ]; then
		local cmd
		cmd=$(jq -r .command "$in")
		# the rerun, but only as long as the run took to fail (plus slack)
		# shellcheck disable=SC2086 # the command is a word list
		set -- $cmd
		local bin=$1
		shift
		local args=() skip=0
		for a in "$@"; do
			if [ $skip -eq 1 ]; then skip=0; continue; fi
			case $a in --duration|--json|--stat-interval) skip=1; continue ;; esac
			args+=("$a")
		done
		timeout -s INT $((secs + 60)) "$bin" "${args[@]}" --duration "$secs" \
			--stat-interval 0 >"$log" 2>&1
	else
		"$replay_bin" --quiet $kind --timeout 25 "$in" >"$log" 2>&1
	fi
}

now() { date -u +%Y-%m-%dT%H:%M:%SZ; }
work=$(mktemp -d "$out/.triage.XXXXXX") || die "cannot write in $out"
trap 'rm -rf "$work"' EXIT

secs=""
if [ "$target" = stress ]; then
	d=$(jq -r '.duration_s // 0' "$file")
	secs=$(awk -v d="$d" 'BEGIN { s = int(d + 0.999) + 5; print s }')
	req=$(jq -r '.duration_requested_s // 0' "$file" | cut -d. -f1)
	[ "$req" -gt 0 ] && [ "$secs" -gt "$req" ] && secs=$req
	[ "$secs" -lt 1 ] && secs=1
fi

# known NAME NOTE: one more sighting of findings/NAME (its seen and its
# info.json's count), said, and the end.
known() {
	local d=$out/findings/$1 n
	echo "$(now) $file ${engine:--} $2" >>"$d/seen"
	n=$(wc -l <"$d/seen")
	jq --arg t "$(now)" --argjson n "$n" '.count = $n | .last_seen = $t' \
		"$d/info.json" >"$work/info.json" && mv "$work/info.json" "$d/info.json"
	echo "triage: KNOWN $1 (seen $n times)"
	exit 0
}

# A failed stress run whose own log already names a known finding is
# counted without its replays: a bug the campaign keeps hitting costs one
# run each time, not five reruns more.
if [ "$target" = stress ] && [ -f "${file%.json}.log" ]; then
	s=$(signature "${file%.json}.log")
	if [ -n "$s" ] && [ -d "$out/findings/$(sig_dir "$s")" ]; then
		known "$(sig_dir "$s")" "(its log)"
	fi
fi

# Replays: the most frequent signature, and how many replays gave it.  At
# most two minutes of them (a hang replays for its whole timeout): the
# class is then of the replays that ran.
declare -A count=()
best="" k=0 ran=0
t_end=$((SECONDS + 120))
for i in $(seq 1 "$replays"); do
	[ "$i" -gt 1 ] && [ "$SECONDS" -ge "$t_end" ] && break
	ran=$i
	replay_once "$file" "$work/replay-$i.log" "$secs"
	s=$(signature "$work/replay-$i.log")
	[ -n "$s" ] || continue
	count[$s]=$(( ${count[$s]:-0} + 1 ))
	if [ "${count[$s]}" -gt "$k" ]; then
		k=${count[$s]}
		best=$s
		cp "$work/replay-$i.log" "$work/best.log"
	fi
done

if [ "$k" -eq 0 ]; then
	# Never lost: the input and what the engine said are kept.
	id=$(sha1sum "$file" | cut -c1-16)
	u=$out/unreproduced/$target-$id
	mkdir -p "$u"
	cp "$file" "$u/input.$ext"
	[ "$target" = stress ] && [ -f "${file%.json}.log" ] && cp "${file%.json}.log" "$u/run.log"
	cp "$work/replay-1.log" "$u/replay.log"
	echo "$(now) $file ${engine:--}" >>"$u/seen"
	echo "triage: UNREPRODUCED 0/$ran $file (kept in $u)"
	exit 0
fi
if [ "$k" -eq "$ran" ]; then class=reproducible; else class=flaky; fi
replays=$ran
name=$(sig_dir "$best")
dir=$out/findings/$name
IFS=$'\t' read -r rule op where <<<"$best"

[ -d "$dir" ] && known "$name" "$k/$replays"

# A new signature: build it in a scratch directory, then one rename.
new=$work/finding
mkdir -p "$new"
cp "$file" "$new/input.$ext"
cp "$work/best.log" "$new/replay.log"
[ "$target" = stress ] && [ -f "${file%.json}.log" ] && cp "${file%.json}.log" "$new/run.log"
repro=input.$ext
min_note="not minimised"
if [ "$minimize" -eq 1 ] && [ "$class" = reproducible ]; then
	case $target in
	fuzz_sched)
		if "$replay_bin" --sched --minimize "$work/min.txt" "$file" >"$work/minimize.log" 2>&1 &&
		   [ -s "$work/min.txt" ]; then
			cand=$work/min.txt cext=txt
		fi ;;
	fuzz_ops|fuzz_ops_text)
		fz=$root/build/libfuzzer/fuzz/$target
		if [ -x "$fz" ]; then
			(cd "$work" && "$fz" -minimize_crash=1 -max_total_time=60 -runs=100000 \
				-exact_artifact_path="$work/min.$ext" "$file") >"$work/minimize.log" 2>&1
			[ -s "$work/min.$ext" ] && cand=$work/min.$ext cext=$ext
		fi ;;
	esac
	if [ -n "${cand:-}" ]; then
		# kept only if it still gives the same signature
		replay_once "$cand" "$work/min-check.log"
		if [ "$(signature "$work/min-check.log")" = "$best" ]; then
			cp "$cand" "$new/repro.$cext"
			repro=repro.$cext
			min_note="minimised ($(wc -c <"$file") -> $(wc -c <"$cand") bytes)"
			# fuzz_sched: its anchored form too, which survives
			# edits of the core elsewhere on the path (kept if it
			# gives the same signature)
			if [ -s "$cand.anchored" ]; then
				replay_once "$cand.anchored" "$work/anchored-check.log"
				[ "$(signature "$work/anchored-check.log")" = "$best" ] &&
					cp "$cand.anchored" "$new/repro.anchored.txt"
			fi
		else
			min_note="the minimised input lost the signature: kept the original"
		fi
	fi
fi
if [ "$target" != stress ]; then
	case $repro in
	*.txt) cp "$new/$repro" "$new/repro.txt" 2>/dev/null || true ;;
	*) "$replay_bin" $kind --to-text "$new/repro.txt" "$new/$repro" >/dev/null 2>&1 || rm -f "$new/repro.txt" ;;
	esac
	replay_cmd="$replay_bin $kind $dir/$repro"
else
	replay_cmd=$(jq -r .command "$file")
fi
t=$(now)
echo "$t $file ${engine:--} $k/$replays" >"$new/seen"
jq -n --arg sig "$name" --arg rule "$rule" --arg op "$op" --arg where "$where" \
	--arg target "$target" --arg engine "${engine:--}" --arg class "$class" \
	--argjson k "$k" --argjson n "$replays" --arg t "$t" --arg repro "$repro" \
	--arg cmd "$replay_cmd" --arg min "$min_note" \
	--arg first "$(grep -m1 -E 'FINDING|kernel BUG at|ERROR: [A-Za-z]+Sanitizer|WARNING: ThreadSanitizer|runtime error:|^BUG:|rule=' "$work/best.log" | cut -c1-300)" \
	'{signature: $sig, rule: $rule, op: $op, function: $where, target: $target,
	  engine: $engine, class: $class, reproduced: $k, replays: $n,
	  first_seen: $t, last_seen: $t, count: 1, reproducer: $repro,
	  minimisation: $min, replay: $cmd, first_line: $first}' >"$new/info.json"
if ! mv -T "$new" "$dir" 2>/dev/null; then
	known "$name" "$k/$replays"	# another triage wrote it since our check
fi
echo "triage: NEW $class $k/$replays $name"
exit 0
