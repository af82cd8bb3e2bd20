#!/usr/bin/env bash
# bench/stress_windows.sh - does each scenario race?  Runs every scenario
# of stress/scenarios for SECONDS and prints, per scenario, the race
# windows it aims at with their hits per second, every window it met, and
# each operation's work ratio (done and raced over attempts: a miss takes
# no lock and races with nothing):
#
#   bench/stress_windows.sh BUILD_DIR [SECONDS] [SEED] [SCENARIO...]
#
# e.g. bench/stress_windows.sh build/release 5 11
# Output: a markdown table on stdout, one row per scenario; the JSON
# reports stay in $OUT (default: a temporary directory, removed).
# FOLIOTORTURE=path overrides the binary; THREADS=N passes --threads N.
# Exit: 0 done, 1 a run failed (its last lines on stderr), 2 usage.
set -uo pipefail
usage() { sed -n '2,/^set /p' "$0" | sed -n 's/^# \{0,1\}//p'; }
case ${1:-} in
-h|--help) usage; exit 0 ;;
''|-*) usage >&2; exit 2 ;;
esac
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
build=$1 secs=${2:-5} seed=${3:-11}
shift $(($# < 3 ? $# : 3))
bin=${FOLIOTORTURE:-$build/stress/foliotorture}
[ -x "$bin" ] || { echo "stress_windows.sh: no $bin (build it first)" >&2; exit 2; }
[[ $secs =~ ^[0-9]+$ && $seed =~ ^[0-9]+$ ]] ||
	{ echo "stress_windows.sh: SECONDS and SEED are whole numbers" >&2; exit 2; }
if [ -n "${OUT:-}" ]; then
	work=$OUT; mkdir -p "$work" || exit 2
else
	work=$(mktemp -d) || exit 2
	trap 'rm -rf "$work"' EXIT
fi
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] ||
	mapfile -t scenarios < <(cd "$root/stress/scenarios" && ls -- *.scn | sed 's/\.scn$//')
threads=()
[ -n "${THREADS:-}" ] && threads=(--threads "$THREADS")

echo "| scenario | ops/s | aims (hits/s) | every window met (hits/s) | work% per operation |"
echo "|---|---|---|---|---|"
rc=0
for s in "${scenarios[@]}"; do
	aims=$(sed -n 's/^aims[[:space:]]*//p' "$root/stress/scenarios/$s.scn" 2>/dev/null | tr -d ' ')
	if ! "$bin" --scenario "$s" --duration "$secs" --seed "$seed" --stat-interval 0 \
		"${threads[@]}" --json "$work/$s.json" >"$work/$s.log" 2>&1; then
		echo "stress_windows.sh: $s failed:" >&2
		tail -n 3 "$work/$s.log" >&2
		rc=1
		continue
	fi
	jq -r --arg s "$s" --arg aims "$aims" '
		def r: . * 10 | round / 10;
		. as $j
		| [$aims | split(",")[] | select(. != "") | "\(.) \($j.windows_per_s[.] | r)"] as $a
		| [$j.windows_per_s | to_entries[] | select(.value > 0) | "\(.key) \(.value | r)"] as $m
		| [$j.ops | to_entries[] | select(.value > 0)
		   | "\(.key) \((.value - $j.failures[.key]) * 100 / .value | round)"] as $wk
		| "| \($s) | \($j.ops | add / $j.duration_s | round) | \(if $a == [] then "-" else $a | join(", ") end) | \($m | join(", ")) | \($wk | join(", ")) |"' \
		"$work/$s.json" || { echo "stress_windows.sh: $s: bad JSON" >&2; rc=1; }
done
exit $rc
