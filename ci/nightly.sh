#!/usr/bin/env bash
# ci/nightly.sh - the nightly campaign: every fuzz target under libFuzzer
# and AFL++, foliotorture on four builds, every finding replayed,
# classified, minimised and deduplicated, the corpora merged, coverage
# measured, and a report with plots.
#
#   ci/nightly.sh [--hours H | --minutes M | --seconds S] [--out DIR]
#                 [--jobs N] [--engines LIST] [--replays N] [--no-build]
#                 [--status S]
#
#   --hours H      fuzzing time budget (default 1; decimals allowed); the
#                  builds, the triage, the merge and the report come on top
#   --out DIR      the campaign directory (default
#                  $FOLIOTORTURE_WORK/nightly, ~/.cache/foliotorture/nightly)
#   --jobs N       processes per engine (default: online CPUs): libFuzzer
#                  -fork=N, AFL++ one main and N-1 secondaries,
#                  foliotorture 4 x N threads
#   --engines L    a comma list of tasks or groups (libfuzzer, afl, stress,
#                  or a task name below); default all
#   --replays N    replays per finding to tell reproducible from flaky
#                  (default 5)
#   --no-build     use the build trees as they are
#   --status S     seconds between status lines (default 60)
#   --quick-coverage  coverage of core/src from the corpora alone, without
#                  ci/coverage.sh's ctest suite and stress run (the
#                  pipeline's own tests, which need the report, not the
#                  figure)
#   --self-test    every foliotorture run plants a leaked reference (its
#                  --self-test=leak): the run must end with a new
#                  reproducible I-ref finding and exit 1 (the pipeline's
#                  own test, ci/nightly-selftest.sh)
#
# Tasks and their share of the budget, the engine mix the bug zoo's score
# says kills most (README, "The bug zoo"): fuzz_sched first (it kills the
# race bugs in about a second), the debug build's stress (its assertions
# kill what release misses), TSan for the data races only it sees:
#   lf-fuzz_sched 22  lf-fuzz_ops 14  lf-fuzz_ops_text 6     (libFuzzer+ASan)
#   afl-fuzz_sched 10 afl-fuzz_ops 8  afl-fuzz_ops_text 4    (AFL++)
#   stress-debug 16 (scenarios in turn, --chaos 0/1), stress-tsan 8,
#   stress-asan 6, stress-release 6                     (foliotorture)
#
# DIR holds: corpus/<target>/ (the campaign corpus, merged at the end),
# findings/<signature>/ (ci/triage.sh: reproducer, text form, replay log,
# info.json), unreproduced/, report.md, report.json, plots/*.png,
# coverage/, timeline.tsv, logs/, state/.  A second run with the same DIR
# resumes an interrupted campaign where it stopped; after a finished one it
# starts the next round on the same corpus, and a finding seen before is
# counted, not reported again.
#
# SIGINT/SIGTERM stop the engines; the findings are still triaged, the
# corpora merged and the report written (a second signal stops at once).
# Exit: 0 no new reproducible finding, 1 a new reproducible finding, 2
# usage or build error, 130/143 interrupted with nothing new found.
set -uo pipefail

root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cd "$root" || exit 2

# shellcheck source=ci/lib.sh
. "$root/ci/lib.sh"
usage() { usage_from_header "$0"; }
die() { echo "nightly: $*" >&2; exit 2; }
say() { echo "nightly: $*"; }

# ---- arguments ----
budget=""
out=${FOLIOTORTURE_WORK:-${XDG_CACHE_HOME:-$HOME/.cache}/foliotorture}/nightly
jobs=$(nproc)
engines=all
replays=5
build=1
status_s=60
self_test=()
cov_quick=()
to_seconds() {	# NUMBER UNIT-SECONDS -> whole seconds, or fail
	awk -v n="$1" -v u="$2" 'BEGIN { if (n !~ /^[0-9]+(\.[0-9]+)?$/) exit 1;
		s = int(n * u + 0.5); if (s < 1) exit 1; print s }'
}
while [ $# -gt 0 ]; do
	case $1 in
	--hours|--minutes|--seconds)
		[ $# -ge 2 ] || die "$1 wants a number"
		case $1 in --hours) u=3600 ;; --minutes) u=60 ;; *) u=1 ;; esac
		budget=$(to_seconds "$2" "$u") || die "$1: '$2' is not a positive number"
		shift 2 ;;
	--out) [ $# -ge 2 ] && [ -n "$2" ] || die "--out wants a directory"; out=$2; shift 2 ;;
	--jobs) [ $# -ge 2 ] || die "--jobs wants a number"; jobs=$2; shift 2
		case $jobs in ''|*[!0-9]*|0) die "--jobs: want a whole number > 0" ;; esac ;;
	--engines) [ $# -ge 2 ] || die "--engines wants a list"; engines=$2; shift 2 ;;
	--replays) [ $# -ge 2 ] || die "--replays wants a number"; replays=$2; shift 2
		case $replays in ''|*[!0-9]*|0) die "--replays: want a whole number > 0" ;; esac ;;
	--no-build) build=0; shift ;;
	--self-test) self_test=(--self-test=leak); shift ;;
	--quick-coverage) cov_quick=(--no-tests --stress 0); shift ;;
	--status) [ $# -ge 2 ] || die "--status wants seconds"; status_s=$2; shift 2
		case $status_s in ''|*[!0-9]*|0) die "--status: want whole seconds > 0" ;; esac ;;
	-h|--help) usage ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done
for tool in jq awk setsid timeout; do
	command -v $tool >/dev/null || die "$tool is missing (ci/install-deps.sh installs it)"
done

# ---- the tasks ----
# name engine target preset share
all_tasks="lf-fuzz_sched:libfuzzer:fuzz_sched:libfuzzer:22
lf-fuzz_ops:libfuzzer:fuzz_ops:libfuzzer:14
lf-fuzz_ops_text:libfuzzer:fuzz_ops_text:libfuzzer:6
afl-fuzz_sched:afl:fuzz_sched:afl:10
afl-fuzz_ops:afl:fuzz_ops:afl:8
afl-fuzz_ops_text:afl:fuzz_ops_text:afl:4
stress-debug:stress:stress:debug:16
stress-tsan:stress:stress:tsan:8
stress-asan:stress:stress:asan:6
stress-release:stress:stress:release:6"
tasks=""
for t in $all_tasks; do
	IFS=: read -r name eng _ _ _ <<<"$t"
	if [ "$engines" = all ]; then tasks="$tasks $t"; continue; fi
	for want in ${engines//,/ }; do
		if [ "$want" = "$name" ] || [ "$want" = "$eng" ]; then tasks="$tasks $t"; break; fi
	done
done
for want in ${engines//,/ }; do
	[ "$want" = all ] && continue
	echo "$all_tasks" | grep -q -E "^$want:|^[^:]*:$want:" ||
		die "--engines: no task or group '$want' (groups: libfuzzer afl stress; tasks: $(echo "$all_tasks" | cut -d: -f1 | paste -sd' '))"
done
[ -n "$tasks" ] || die "--engines selects no task"
field() { IFS=: read -r _n _e _t _p _s <<<"$1"; case $2 in name) echo "$_n" ;; engine) echo "$_e" ;; target) echo "$_t" ;; preset) echo "$_p" ;; share) echo "$_s" ;; esac; }

# ---- the campaign directory and its state ----
st=$out/state
mkdir -p "$st" "$out/logs" "$out/corpus" "$out/findings" "$out/artifacts" "$out/stress" ||
	die "cannot create $out (use --out)"
# fd 9 holds the lock; every engine is started with 9>&- so that none
# (a libFuzzer -fork child dying a moment after its parent, say) keeps it
# past this run's exit. A few seconds' grace covers any other straggler.
exec 9>"$st/lock"
flock -w 5 9 || die "another nightly run is using $out"

round=$(cat "$st/round" 2>/dev/null || echo 0)
if [ -f "$st/plan" ] && [ ! -f "$st/complete" ]; then
	resumed=1
	[ -n "$budget" ] && say "note: resuming round $round with its own plan; --hours/--minutes/--seconds ignored"
else
	resumed=0
	round=$((round + 1))
	[ -n "$budget" ] || budget=3600
	total_share=0
	for t in $tasks; do total_share=$((total_share + $(field "$t" share))); done
	: >"$st/plan.tmp"
	for t in $tasks; do
		s=$((budget * $(field "$t" share) / total_share))
		[ "$s" -lt 5 ] && s=5
		echo "$t $s" >>"$st/plan.tmp"
	done
	rm -f "$st"/done.* "$st/complete" "$st/run.new"
	mv "$st/plan.tmp" "$st/plan"
	echo "$round" >"$st/round"
	date +%s >"$st/started"
fi
[ -f "$out/timeline.tsv" ] ||
	printf 'time\telapsed\tround\ttask\texecs_per_s\tcorpus\tcoverage\tfindings\n' >"$out/timeline.tsv"
plan_total=$(awk '{ s += $2 } END { print s + 0 }' "$st/plan")
done_of() { cat "$st/done.$1" 2>/dev/null || echo 0; }
done_total() { local s=0 n; for f in "$st"/done.*; do [ -f "$f" ] && { n=$(cat "$f"); s=$((s + n)); }; done; echo $s; }

# ---- signals ----
stop=0
pgid=()
on_signal() {
	if [ "$stop" -ne 0 ]; then
		echo "nightly: second signal: stopping now (the state is saved; run again to resume)" >&2
		for g in "${pgid[@]}"; do kill -KILL -- "-$g" 2>/dev/null; done
		exit "$1"
	fi
	stop=$1
	echo "nightly: signal: stopping the engines, then triage, merge and report (again to stop at once)" >&2
	for g in "${pgid[@]}"; do kill -"$2" -- "-$g" 2>/dev/null; done
}
trap 'on_signal 130 INT' INT
trap 'on_signal 143 TERM' TERM

# ---- builds ----
presets=""
while read -r t _; do
	p=$(field "$t" preset)
	case " $presets " in *" $p "*) ;; *) presets="$presets $p" ;; esac
done <"$st/plan"
# libfuzzer: triage's folio-replay (ASan/UBSan) and the corpus merge;
# coverage: the report's coverage of core/src
case " $presets " in *" libfuzzer "*) ;; *) presets="$presets libfuzzer" ;; esac
presets="$presets coverage"
if [ "$build" -eq 1 ]; then
	for p in $presets; do
		[ "$stop" -ne 0 ] && break
		build_preset nightly "$p" "$out/logs/build-$p.log" ||
			die "the $p build failed (log: $out/logs/build-$p.log)"
	done
fi

# ---- status ----
findings_count() { find "$out/findings" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l; }
new_count() { [ -f "$st/run.new" ] && wc -l <"$st/run.new" || echo 0; }
hms() { printf '%02d:%02d:%02d' $(($1 / 3600)) $(($1 % 3600 / 60)) $(($1 % 60)); }
cur_rate=0 cur_corpus=0 cur_cov=0 last_execs=0 last_t=0

# task_stats TASK: cur_rate (exec/s, or ops/s for stress), cur_corpus, cur_cov
task_stats() {
	local eng tgt line execs now
	eng=$(field "$1" engine)
	tgt=$(field "$1" target)
	now=$(date +%s)
	case $eng in
	libfuzzer)
		line=$(grep -a -E '^#[0-9]+' "$cur_log" 2>/dev/null | tail -n 1)
		execs=$(echo "$line" | sed -n -E 's/^#([0-9]+).*/\1/p')
		cur_cov=$(echo "$line" | sed -n -E 's/.*cov: ([0-9]+).*/\1/p')
		cur_corpus=$(find "$out/corpus/$tgt" -maxdepth 1 -type f | wc -l)
		if [ -n "$execs" ] && [ "$now" -gt "$last_t" ] && [ "$execs" -ge "$last_execs" ]; then
			cur_rate=$(( (execs - last_execs) / (now - last_t) ))
			last_execs=$execs last_t=$now
		fi ;;
	afl)
		# the sum over instances of their last plot_data line
		read -r cur_rate cur_corpus cur_cov < <(
			for f in "$out/afl/$tgt"/*/plot_data; do
				[ -f "$f" ] && tail -n 1 "$f"
			done | awk -F', *' '$1 ~ /^[0-9]/ { r += $11; if ($4 > c) c = $4; if ($13 > e) e = $13 }
				END { printf "%d %d %d\n", r, c, e }')
		;;
	stress)
		line=$(grep -a -E '^\[ *[0-9.]+s/' "$cur_log" 2>/dev/null | tail -n 1)
		cur_rate=$(echo "$line" | sed -n -E 's/.*\(([0-9]+)\/s\).*/\1/p')
		# a run shorter than --stat-interval prints no status line:
		# its summary's ops/s (it said "0 ops/s" before)
		[ -n "$cur_rate" ] || cur_rate=$(grep -a -E '^foliotorture: (PASS|FAIL|INTERRUPTED) ' \
			"$cur_log" 2>/dev/null | tail -n 1 | sed -n -E 's/.* ops\/s=([0-9]+).*/\1/p')
		cur_corpus=0 cur_cov=0 ;;
	esac
	cur_rate=${cur_rate:-0} cur_corpus=${cur_corpus:-0} cur_cov=${cur_cov:-0}
}

status_line() {	# TASK-LINE
	local name el
	name=$(field "$1" name)
	task_stats "$1"
	el=$(( $(done_total) ))
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date +%s)" "$el" "$round" "$name" \
		"$cur_rate" "$cur_corpus" "$cur_cov" "$(findings_count)" >>"$out/timeline.tsv"
	if [ "$(field "$1" engine)" = stress ]; then
		printf '[nightly %s/%s] %s: %s ops/s | findings %s (%s new)\n' "$(hms "$el")" \
			"$(hms "$plan_total")" "$name" "$cur_rate" "$(findings_count)" "$(new_count)"
	else
		printf '[nightly %s/%s] %s: %s exec/s, corpus %s, coverage %s | findings %s (%s new)\n' \
			"$(hms "$el")" "$(hms "$plan_total")" "$name" "$cur_rate" "$cur_corpus" "$cur_cov" \
			"$(findings_count)" "$(new_count)"
	fi
}

# ---- the engines ----
seed_corpus() {	# TARGET: the campaign corpus starts as the committed one
	local c=$out/corpus/$1
	if [ ! -d "$c" ]; then
		mkdir -p "$c.tmp"
		find "corpora/$1" -maxdepth 1 -type f ! -name 'README*' -exec cp {} "$c.tmp/" \;
		mv "$c.tmp" "$c"
	fi
}

# start_engine TASK SECONDS: starts it in its own process group; sets
# cur_log and pgid.  Stress runs go through stress_loop (several runs).
start_engine() {
	local t=$1 secs=$2 tgt eng
	tgt=$(field "$t" target)
	eng=$(field "$t" engine)
	case $eng in
	libfuzzer)
		seed_corpus "$tgt"
		mkdir -p "$out/artifacts/lf-$tgt"
		cur_log=$out/logs/lf-$tgt.log
		echo "==== round $round $(date -u +%FT%TZ) ${secs}s" >>"$cur_log"
		setsid build/libfuzzer/fuzz/"$tgt" -fork="$jobs" -ignore_crashes=1 \
			-ignore_timeouts=1 -ignore_ooms=1 -max_total_time="$secs" \
			-timeout=25 -rss_limit_mb=4096 -max_len="$(fuzz_max_len "$tgt")" \
			-dict=fuzz/"$tgt".dict -artifact_prefix="$out/artifacts/lf-$tgt/" \
			"$out/corpus/$tgt" "corpora/$tgt" >>"$cur_log" 2>&1 </dev/null 9>&- &
		pgid=($!) ;;
	afl)
		seed_corpus "$tgt"
		local o=$out/afl/$tgt i
		mkdir -p "$o"
		cur_log=$out/logs/afl-$tgt.log
		echo "==== round $round $(date -u +%FT%TZ) ${secs}s" >>"$cur_log"
		pgid=()
		for i in $(seq 0 $((jobs - 1))); do
			local role=(-M main)
			[ "$i" -gt 0 ] && role=(-S "s$i")
			AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 \
			AFL_AUTORESUME=1 AFL_SKIP_CRASHES=1 AFL_NO_AFFINITY=1 \
			setsid afl-fuzz "${role[@]}" -i "$out/corpus/$tgt" -o "$o" \
				-x fuzz/"$tgt".dict -t 25000+ -V "$secs" -G "$(fuzz_max_len "$tgt")" \
				-- build/afl/fuzz/"$tgt" >>"$cur_log.$i" 2>&1 </dev/null 9>&- &
			pgid+=($!)
		done ;;
	esac
}

# wait_engines TASK SECONDS: until they exit, the time is up or a signal;
# status lines on the way; the task's done seconds saved every 10 s.
wait_engines() {
	local t=$1 secs=$2 name t0 el base next alive g last=0
	name=$(field "$t" name)
	base=$(done_of "$name")
	t0=$SECONDS
	next=$status_s
	while :; do
		alive=0
		for g in "${pgid[@]}"; do kill -0 "$g" 2>/dev/null && alive=1; done
		[ "$alive" -eq 1 ] || break
		sleep 1
		el=$((SECONDS - t0))
		[ $((el % 10)) -eq 0 ] && echo $((base + el)) >"$st/done.$name"
		if [ "$el" -ge "$next" ]; then status_line "$t"; next=$((next + status_s)); last=$el; fi
		if [ "$el" -ge $((secs + 30)) ]; then	# an engine that overstays
			for g in "${pgid[@]}"; do kill -INT -- "-$g" 2>/dev/null; done
		fi
		if [ "$el" -ge $((secs + 60)) ]; then
			for g in "${pgid[@]}"; do kill -KILL -- "-$g" 2>/dev/null; done
		fi
	done
	for g in "${pgid[@]}"; do wait "$g" 2>/dev/null; done
	pgid=()
	el=$((SECONDS - t0))
	[ "$el" -gt "$secs" ] && el=$secs
	echo $((base + el)) >"$st/done.$name"
	# the task's last numbers, unless a status line just gave them
	[ $((el - last)) -ge 5 ] && status_line "$t"
}

stress_n=0
rand64() { od -An -N8 -tu8 /dev/urandom | tr -d ' '; }
# stress_loop TASK SECONDS: foliotorture runs of at most a minute (five
# when the budget is hours), each on the next scenario, a fresh seed and,
# on debug and tsan, --chaos 0 and 1 in turn.
stress_loop() {
	local t=$1 secs=$2 name p left d scen chaos seed base rc json scens
	name=$(field "$t" name)
	p=$(field "$t" preset)
	scens=$(build/"$p"/stress/foliotorture -L 2>/dev/null | awk '/^  [a-z]/ { print $1 }' | grep -v '^private$')
	[ -n "$scens" ] || { say "$name: build/$p/stress/foliotorture lists no scenario; skipped"; return; }
	local nscen
	nscen=$(echo "$scens" | wc -l)
	left=$secs
	while [ "$left" -gt 0 ] && [ "$stop" -eq 0 ]; do
		d=60
		[ "$plan_total" -ge 7200 ] && d=300
		[ "$d" -gt "$left" ] && d=$left
		stress_n=$(( $(cat "$st/stress_n" 2>/dev/null || echo 0) + 1 ))
		echo "$stress_n" >"$st/stress_n"
		scen=$(echo "$scens" | sed -n "$(( (stress_n - 1) % nscen + 1 ))p")
		# the planted leak is in the page-cache lookup, which "all" runs
		[ ${#self_test[@]} -gt 0 ] && scen=all
		chaos=0
		case $p in debug|tsan) chaos=$((stress_n % 2)) ;; esac
		seed=$(rand64)
		json=$out/stress/$name-$stress_n.json
		cur_log=${json%.json}.log
		setsid build/"$p"/stress/foliotorture --scenario "$scen" --seed "$seed" \
			--duration "$d" --chaos "$chaos" --threads $((4 * jobs)) \
			--stat-interval 10 --json "$json" "${self_test[@]}" >"$cur_log" 2>&1 </dev/null 9>&- &
		pgid=($!)
		wait_engines "$t" "$d"
		rc=0
		[ -f "$json" ] && jq -e '.result == "pass"' "$json" >/dev/null 2>&1 || rc=1
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date +%s)" "$name" "$scen" "$seed" "$chaos" "$d" \
			"$(jq -r '"\(.result) \(.ops | add) \(.duration_s)"' "$json" 2>/dev/null || echo 'none 0 0')" \
			>>"$out/stress/runs.tsv"
		if [ "$rc" -eq 0 ] || { [ "$stop" -ne 0 ] && jq -e '.result == "interrupted"' "$json" >/dev/null 2>&1; }; then
			rm -f "$json" "$cur_log"
		elif [ ! -f "$json" ]; then
			say "$name: foliotorture left no report (log: $cur_log)"
		else
			say "$name: FINDING: $(tail -n 1 "$cur_log")"
		fi
		left=$((secs - ($(done_of "$name") - ${base_done:-0})))
	done
}

# ---- findings ----
triage_all() {
	local f tgt task key res
	while IFS=$'\t' read -r task tgt f; do
		[ -f "$f" ] || continue
		key="$tgt $(sha1sum "$f" | cut -c1-40)"
		grep -qxF "$key" "$st/processed" 2>/dev/null && continue
		res=$(ci/triage.sh --out "$out" --replays "$replays" --engine "$task" "$tgt" "$f" 2>&1 | tail -n 1)
		echo "$(date -u +%FT%TZ) $task $f $res" >>"$st/triage.log"
		say "$res ($task)"
		case $res in "triage: NEW reproducible"*) echo "$res" >>"$st/run.new" ;; esac
		case $res in "triage: "*) echo "$key" >>"$st/processed" ;; esac
	done < <(
		for t in $all_tasks; do
			tgt=$(field "$t" target)
			case $(field "$t" engine) in
			libfuzzer) find "$out/artifacts/lf-$tgt" -maxdepth 1 -type f \
				\( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) \
				-printf "lf-$tgt\t$tgt\t%p\n" 2>/dev/null ;;
			afl) find "$out/afl/$tgt" -path '*/crashes/id:*' -o -path '*/hangs/id:*' 2>/dev/null |
				sed "s|^|afl-$tgt\t$tgt\t|" ;;
			esac
		done
		find "$out/stress" -maxdepth 1 -name '*.json' -printf '%f\tstress\t%p\n' 2>/dev/null |
			sed -E 's/^(stress-[a-z]+)-[0-9]+\.json/\1/'
	)
}

# ---- the run ----
if [ "$resumed" -eq 1 ]; then
	say "resuming round $round in $out: $(( plan_total - $(done_total) )) s of $plan_total s left"
else
	say "round $round in $out: $(hms "$plan_total") of fuzzing:$(awk '{ split($1, a, ":"); printf " %s %ss", a[1], $2 }' "$st/plan")"
fi
say "findings triaged before this run: $(findings_count) (new ones in this run are listed as they come)"
triage_all	# anything a killed run left untriaged

while read -r t secs; do
	[ "$stop" -ne 0 ] && break
	name=$(field "$t" name)
	left=$((secs - $(done_of "$name")))
	[ "$left" -gt 0 ] || continue
	say "== $name for ${left}s ($(field "$t" engine), $(field "$t" preset) build)"
	last_execs=0 last_t=$(date +%s)
	if [ "$(field "$t" engine)" = stress ]; then
		base_done=$(done_of "$name")
		stress_loop "$t" "$left"
	else
		start_engine "$t" "$left"
		wait_engines "$t" "$left"
	fi
	triage_all
done <"$st/plan"

# ---- the end: triage, merge, coverage, report ----
triage_all
say "merging the corpora (libFuzzer -merge=1: every input that adds coverage)"
for tgt in fuzz_sched fuzz_ops fuzz_ops_text; do
	[ -d "$out/corpus/$tgt" ] || continue
	extra=()
	for q in "$out/afl/$tgt"/*/queue; do [ -d "$q" ] && extra+=("$q"); done
	before=$(find "$out/corpus/$tgt" -maxdepth 1 -type f | wc -l)
	rm -rf "$out/corpus/$tgt.merged"
	mkdir -p "$out/corpus/$tgt.merged"
	if build/libfuzzer/fuzz/"$tgt" -merge=1 -timeout=25 -rss_limit_mb=4096 \
		-max_len="$(fuzz_max_len "$tgt")" \
		-merge_control_file="$st/merge-$tgt.ctl" "$out/corpus/$tgt.merged" \
		"$out/corpus/$tgt" "${extra[@]}" >"$out/logs/merge-$tgt.log" 2>&1; then
		rm -rf "$out/corpus/$tgt.old"
		mv "$out/corpus/$tgt" "$out/corpus/$tgt.old" &&
			mv "$out/corpus/$tgt.merged" "$out/corpus/$tgt" &&
			rm -rf "$out/corpus/$tgt.old"
		after=$(find "$out/corpus/$tgt" -maxdepth 1 -type f | wc -l)
		say "  $tgt: $before inputs + ${#extra[@]} AFL++ queues -> $after"
	else
		say "  $tgt: merge failed (log: $out/logs/merge-$tgt.log); the corpus is unchanged"
		rm -rf "$out/corpus/$tgt.merged"
	fi
	rm -f "$st/merge-$tgt.ctl"
done
cov_args=()
for tgt in fuzz_sched fuzz_ops fuzz_ops_text; do
	[ -d "$out/corpus/$tgt" ] && cov_args+=(--corpus "$tgt=$out/corpus/$tgt")
done
say "coverage of core/src over the campaign corpora (ci/coverage.sh)"
ci/coverage.sh --no-build --stress 10 "${cov_quick[@]}" --out "$out/coverage" "${cov_args[@]}" 2>&1 | tail -n 1 | sed 's/^/  /'
if [ "$stop" -eq 0 ] && [ "$(done_total)" -ge "$plan_total" ]; then
	date +%s >"$st/complete"
fi
ci/report.sh "$out" | sed 's/^/  /'

say "to add this campaign's coverage to the committed corpora:"
for tgt in fuzz_sched fuzz_ops fuzz_ops_text; do
	[ -d "$out/corpus/$tgt" ] &&
		echo "    build/libfuzzer/fuzz/$tgt -merge=1 corpora/$tgt $out/corpus/$tgt"
done
echo "  and once a finding is fixed, its text reproducer joins the regression"
echo "  corpus (ctest -L regress replays it):"
echo "    cp $out/findings/<signature>/repro.txt corpora/regressions/fuzz_{ops,sched}_text/<signature>"

n=$(new_count)
if [ "$n" -gt 0 ]; then
	say "FAIL: $n new reproducible finding(s) in round $round: $out/report.md"
	exit 1
fi
if [ "$stop" -ne 0 ]; then
	say "INTERRUPTED: nothing new found; run again with --out $out to resume"
	exit "$stop"
fi
say "PASS: no new reproducible finding in round $round ($(findings_count) known); report $out/report.md"
exit 0
