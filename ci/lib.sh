# ci/lib.sh - what the ci/ scripts share; sourced, not run.

# usage_from_header SCRIPT: print the script's header comment (from its
# second line to its "set -uo" line) as its --help, and exit 2.
usage_from_header() {
	sed -n '2,/^set -uo/p' "$1" | sed -e '$d' -e 's/^# \{0,1\}//'
	exit 2
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
