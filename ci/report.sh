#!/usr/bin/env bash
# ci/report.sh - the nightly campaign's report, from its directory.
#
#   ci/report.sh DIR
#
# Reads what ci/nightly.sh left in DIR (state/plan and done.*, the
# timeline, stress/runs.tsv, the findings' info.json, coverage/summary.json)
# and writes DIR/report.md, DIR/report.json and, with gnuplot, the plots
# DIR/plots/{coverage,execs,findings}.png linked from the report.  Safe to
# run again at any time (also on a campaign still running).
# Exit: 0 written, 2 DIR is not a campaign directory.
set -uo pipefail

root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
# shellcheck source=ci/lib.sh
. "$root/ci/lib.sh"
case ${1:-} in
-h|--help) usage_from_header "$0" ;;
-*) echo "report: unknown option '$1' (see --help)" >&2; exit 2 ;;
esac
[ $# -eq 1 ] || usage_from_header "$0" 2
dir=$1
st=$dir/state
[ -f "$st/plan" ] && [ -f "$dir/timeline.tsv" ] || { echo "report: $dir is not a nightly campaign directory" >&2; exit 2; }
command -v jq >/dev/null || { echo "report: jq is missing" >&2; exit 2; }

round=$(cat "$st/round" 2>/dev/null || echo 1)
started=$(cat "$st/started" 2>/dev/null || date +%s)
commit=$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

# One row per task: name engine target preset planned done rate corpus cov runs
while read -r t planned; do
	IFS=: read -r name eng tgt preset _ <<<"$t"
	done_s=$(cat "$st/done.$name" 2>/dev/null || echo 0)
	# this round's status samples of the task: mean rate, last corpus, max coverage
	read -r rate corpus cov < <(awk -F'\t' -v r="$round" -v n="$name" \
		'NR > 1 && $3 == r && $4 == n && $5 > 0 { s += $5; k++ }
		 NR > 1 && $3 == r && $4 == n { if ($6 > 0) c = $6; if ($7 > m) m = $7 }
		 END { printf "%d %d %d\n", k ? s / k : 0, c, m }' "$dir/timeline.tsv")
	runs=0 fails=0
	if [ "$eng" = stress ] && [ -f "$dir/stress/runs.tsv" ]; then
		read -r runs fails ops secs < <(awk -F'\t' -v n="$name" -v t0="$started" \
			'$1 >= t0 && $2 == n { k++; split($7, a, " "); if (a[1] != "pass") f++; o += a[2]; s += a[3] }
			 END { printf "%d %d %d %.1f\n", k, f, o, s }' "$dir/stress/runs.tsv")
		rate=$(awk -v o="$ops" -v s="$secs" 'BEGIN { print (s > 0 ? int(o / s) : 0) }')
	fi
	[ "$eng" != stress ] && corpus=$(find "$dir/corpus/$tgt" -maxdepth 1 -type f 2>/dev/null | wc -l)
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$eng" "$tgt" "$preset" \
		"$planned" "$done_s" "$rate" "$corpus" "$cov" "$runs" "$fails"
done <"$st/plan" >"$tmp/tasks.tsv"

# ---- plots ----
plots=()
if command -v gnuplot >/dev/null && [ "$(wc -l <"$dir/timeline.tsv")" -gt 1 ]; then
	mkdir -p "$dir/plots"
	term="pngcairo size 900,420 font ',10'"
	gnuplot -e "set terminal $term" 2>/dev/null || term="png size 900,420"
	# one data block per fuzz task, this round only
	: >"$tmp/series.gp"
	tasks=$(awk -F'\t' -v r="$round" 'NR > 1 && $3 == r { print $4 }' "$dir/timeline.tsv" | awk '!s[$0]++')
	for col in 7 5; do
		plot="plot"
		sep=""
		for t in $tasks; do
			case $col:$t in 7:stress-*) continue ;; esac
			awk -F'\t' -v r="$round" -v n="$t" 'NR > 1 && $3 == r && $4 == n && $'"$col"' > 0 { print $2, $'"$col"' }' \
				"$dir/timeline.tsv" >"$tmp/$t.$col.dat"
			plot="$plot$sep '$tmp/$t.$col.dat' using 1:2 with linespoints title '$t'"
			sep=","
		done
		# no task for this plot (stress only has no coverage counter)
		[ "$plot" = plot ] && plot="set label 'no fuzzing task ran' at graph 0.5,0.5 center; plot [0:1] [0:1] NaN notitle"
		echo "$plot" >"$tmp/plot.$col"
	done
	awk -F'\t' -v r="$round" 'NR > 1 && $3 == r { print $2, $8 }' "$dir/timeline.tsv" >"$tmp/findings.dat"
	if gnuplot >"$tmp/gnuplot.log" 2>&1 <<-EOF
		set terminal $term
		set termoption noenhanced
		set grid
		set key outside right
		set xlabel 'campaign seconds (round $round)'
		set output '$dir/plots/coverage.png'
		set title "the fuzzers' own coverage counters (libFuzzer cov: edges, AFL++ edges_found)"
		set ylabel 'coverage'
		$(cat "$tmp/plot.7")
		unset label
		set output '$dir/plots/execs.png'
		set title 'executions per second (stress: foliotorture ops per second)'
		set ylabel 'per second'
		set logscale y
		$(cat "$tmp/plot.5")
		unset logscale y
		unset label
		set output '$dir/plots/findings.png'
		set title 'distinct findings (signatures) so far'
		set ylabel 'findings'
		plot '$tmp/findings.dat' using 1:2 with steps title 'findings'
	EOF
	then
		plots=(coverage.png execs.png findings.png)
	else
		echo "report: gnuplot failed; no plots ($(tail -n 1 "$tmp/gnuplot.log"))" >&2
	fi
fi

# ---- findings ----
for f in "$dir"/findings/*/info.json; do [ -f "$f" ] && cat "$f"; done | jq -s 'sort_by(.first_seen)' >"$tmp/findings.json"
jq -R -s 'split("\n") | map(select(length > 0))' "$st/run.new" >"$tmp/new.json" 2>/dev/null ||
	echo '[]' >"$tmp/new.json"
[ -s "$tmp/new.json" ] || echo '[]' >"$tmp/new.json"
unrepro=$(find "$dir/unreproduced" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l)
covjson=$dir/coverage/summary.json
[ -f "$covjson" ] || { echo 'null' >"$tmp/cov.json"; covjson=$tmp/cov.json; }

# ---- report.json ----
jq -R -s 'split("\n") | map(select(length > 0) | split("\t") |
	{task: .[0], engine: .[1], target: .[2], build: .[3], planned_s: (.[4] | tonumber),
	 done_s: (.[5] | tonumber), per_s: (.[6] | tonumber), corpus: (.[7] | tonumber),
	 coverage: (.[8] | tonumber), stress_runs: (.[9] | tonumber), stress_failed: (.[10] | tonumber)})' \
	"$tmp/tasks.tsv" >"$tmp/tasks.json"
jq -n --argjson round "$round" --arg commit "$commit" --argjson started "$started" \
	--arg written "$(date -u +%FT%TZ)" --argjson complete "$([ -f "$st/complete" ] && echo true || echo false)" \
	--slurpfile tasks "$tmp/tasks.json" --slurpfile findings "$tmp/findings.json" \
	--slurpfile new "$tmp/new.json" --slurpfile cov "$covjson" --argjson unrepro "$unrepro" \
	--arg plots "${plots[*]:-}" \
	'{round: $round, commit: $commit, started: ($started | todate), written: $written,
	  complete: $complete, tasks: $tasks[0], coverage_core_src: $cov[0],
	  findings: $findings[0], new_this_round: $new[0], unreproduced: $unrepro,
	  plots: ($plots | split(" ") | map(select(length > 0) | "plots/" + .))}' >"$dir/report.json.tmp" &&
	mv "$dir/report.json.tmp" "$dir/report.json"

# ---- report.md ----
{
	echo "# foliotorture nightly, round $round"
	echo
	echo "Commit \`$commit\`, started $(date -u -d "@$started" +%FT%TZ), report written $(date -u +%FT%TZ)$([ -f "$st/complete" ] || echo ' (round not finished: interrupted or still running)')."
	echo
	nnew=$(jq length "$tmp/new.json")
	nall=$(jq length "$tmp/findings.json")
	echo "**$nnew new reproducible finding(s) this round; $nall distinct finding(s) known; $unrepro input(s) that did not reproduce** (kept in \`unreproduced/\`)."
	echo
	echo "## Engines"
	echo
	echo "| task | build | time | per second | corpus | coverage (engine's counter) | stress runs (failed) |"
	echo "|---|---|---|---|---|---|---|"
	awk -F'\t' '{ printf "| %s | %s | %d / %d s | %s | %s | %s | %s |\n", $1, $4, $6, $5,
		$7 ($2 == "stress" ? " ops" : " execs"), $2 == "stress" ? "-" : $8,
		$2 == "stress" ? "-" : $9, $2 == "stress" ? $10 " (" $11 ")" : "-" }' "$tmp/tasks.tsv"
	echo
	echo "Per second: the mean of the status samples (libFuzzer: all -fork jobs; AFL++: the sum"
	echo "over instances; stress: foliotorture ops per second over its runs)."
	echo
	echo "## Coverage of core/src"
	echo
	if [ -f "$dir/coverage/summary.json" ]; then
		jq -r '. as $c | "| | covered | total | % |", "|---|---|---|---|",
			([ "lines", "functions", "regions", "branches" ][] as $k |
			 "| \($k) | \($c[$k].covered // "-") | \($c[$k].count // "-") | \((($c[$k].percent // 0) * 10 | round) / 10) |")' \
			"$dir/coverage/summary.json"
		echo
		echo "From the coverage build over the final corpora and the committed ones"
		echo "(\`ci/coverage.sh\`): per-file table \`coverage/summary.txt\`, annotated"
		echo "sources \`coverage/html/index.html\`."
	else
		echo "Not measured (no \`coverage/summary.json\`: run \`ci/coverage.sh\`)."
	fi
	echo
	echo "## Findings"
	echo
	if [ "$nall" -eq 0 ]; then
		echo "None."
	else
		echo "| signature | class | target (engine) | seen | first seen | reproducer |"
		echo "|---|---|---|---|---|---|"
		jq -r --slurpfile new "$tmp/new.json" '.[] | . as $f |
			"| `\(.signature)`\(if ($new[0] | map(contains($f.signature)) | any) then " **NEW**" else "" end) | \(.class) \(.reproduced)/\(.replays) | \(.target) (\(.engine)) | \(.count) | \(.first_seen) | [`\(.reproducer)`](findings/\(.signature)/\(.reproducer)) |"' \
			"$tmp/findings.json"
		echo
		echo "Each \`findings/<signature>/\` holds the first input, the smallest reproducer,"
		echo "its text form \`repro.txt\`, the replay's output and \`info.json\`.  Replay:"
		echo
		jq -r '.[] | "    \(.replay)"' "$tmp/findings.json"
	fi
	echo
	if [ ${#plots[@]} -gt 0 ]; then
		echo "## Over time"
		echo
		for p in "${plots[@]}"; do echo "![${p%.png}](plots/$p)"; echo; done
	fi
} >"$dir/report.md.tmp" && mv "$dir/report.md.tmp" "$dir/report.md"
echo "report: $dir/report.md, $dir/report.json${plots:+, plots in $dir/plots/}"
