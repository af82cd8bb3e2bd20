# ci/lib.sh - what the ci/ scripts share; sourced, not run.

# usage_from_header SCRIPT [STATUS]: print the script's header comment
# (from its second line to its "set -uo" line) and exit STATUS.  STATUS 0
# (the default) is --help: asked for, so stdout and success, as for every
# program of the project; any other is a usage error, on stderr.
usage_from_header() {
	local rc=${2:-0}

	[ "$rc" -eq 0 ] || exec >&2
	sed -n '2,/^set -uo/p' "$1" | sed -e '$d' -e 's/^# \{0,1\}//'
	exit "$rc"
}

# build_preset WHO PRESET LOG: configure and build one preset quietly,
# saying "WHO: building PRESET ... ok (N s)"; on failure the log's tail,
# and return 1 (the caller says what it means for it).
build_preset() {
	local who=$1 p=$2 log=$3 t0=$SECONDS
	printf '%s: building %s ... ' "$who" "$p"
	if cmake --preset "$p" >"$log" 2>&1 && cmake --build --preset "$p" >>"$log" 2>&1; then
		echo "ok ($((SECONDS - t0)) s)"
		return 0
	fi
	echo "FAILED"
	tail -n 40 "$log"
	return 1
}

# fuzz_max_len TARGET: the longest input TARGET takes, from its libFuzzer
# options file (fuzz/TARGET.options, the one OSS-Fuzz reads too).
fuzz_max_len() {
	sed -n 's/^max_len *= *\([0-9][0-9]*\)$/\1/p' "fuzz/$1.options"
}
