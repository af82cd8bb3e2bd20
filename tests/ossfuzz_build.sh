#!/bin/bash
# tests/ossfuzz_build.sh SCRATCH - oss-fuzz/build.sh as OSS-Fuzz runs it
# (libFuzzer + ASan: the environment its base-builder image sets), into
# SCRATCH/out, then what the service does with the result: every target
# with its dict, options and seed corpus, each target running one seed.
# No Docker here: the script runs directly on this machine's clang.
set -u
src=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
scratch=${1:?usage: tests/ossfuzz_build.sh SCRATCH}
rm -rf "$scratch"
mkdir -p "$scratch/out" "$scratch/work" "$scratch/seeds"
fail() { echo "ossfuzz_build: FAIL: $*"; exit 1; }

env -u CI CC=clang \
    CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -fsanitize=address -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link" \
    LIB_FUZZING_ENGINE=-fsanitize=fuzzer SANITIZER=address FUZZING_ENGINE=libfuzzer \
    OUT="$scratch/out" WORK="$scratch/work" SRC="$scratch/no-src" \
    "$src/oss-fuzz/build.sh" >"$scratch/build.log" 2>&1 ||
	{ tail -n 30 "$scratch/build.log"; fail "build.sh exited $?"; }
for t in fuzz_ops fuzz_ops_text fuzz_sched; do
	for f in "$t" "$t.dict" "$t.options" "${t}_seed_corpus.zip"; do
		[ -s "$scratch/out/$f" ] || fail "\$OUT/$f is missing or empty"
	done
	[ -x "$scratch/out/$t" ] || fail "\$OUT/$t is not executable"
	grep -q "^dict = $t.dict$" "$scratch/out/$t.options" || fail "$t.options names no dict"
	ldd "$scratch/out/$t" | grep -q urcu && fail "$t links liburcu dynamically (the runner image has none)"
	n=$(unzip -Z1 "$scratch/out/${t}_seed_corpus.zip" | wc -l)
	want=$(find "$src/corpora/$t" -maxdepth 1 -type f ! -name 'README*' | wc -l)
	[ "$n" -eq "$want" ] || fail "${t}_seed_corpus.zip has $n inputs, corpora/$t $want"
	mkdir -p "$scratch/seeds/$t"
	unzip -q -o "$scratch/out/${t}_seed_corpus.zip" -d "$scratch/seeds/$t"
	one=$(find "$scratch/seeds/$t" -type f | sort | head -n 1)
	(cd "$scratch/out" && ./"$t" -dict="$t.dict" "$one") >"$scratch/$t.run.log" 2>&1 ||
		{ tail -n 20 "$scratch/$t.run.log"; fail "$t on $one exited $?"; }
	grep -q "Executed $one" "$scratch/$t.run.log" || fail "$t did not say it executed $one"
	echo "ossfuzz_build: $t: built, $n seeds zipped, ran $(basename "$one")"
done
echo "ossfuzz_build: PASS"
