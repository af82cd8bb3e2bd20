#!/bin/bash -eu
# oss-fuzz/build.sh - build the fuzz targets the way OSS-Fuzz and
# ClusterFuzzLite do (their build.sh contract), from the environment:
#
#   CC, CFLAGS            compiler and instrumentation (sanitizer, coverage,
#                         engine: -fsanitize=fuzzer-no-link for libFuzzer)
#   LIB_FUZZING_ENGINE    what a target links for its main (-fsanitize=fuzzer,
#                         or the AFL++/honggfuzz driver archive)
#   SRC                   where the checkout is ($SRC/foliotorture; default:
#                         this script's checkout)
#   OUT                   where the targets go
#   WORK                  scratch space for the build tree (default: a
#                         temporary directory)
#
# Puts in $OUT, for each of fuzz_ops, fuzz_ops_text and fuzz_sched: the
# target, <target>_seed_corpus.zip (corpora/<target>, without README),
# <target>.dict and <target>.options.  The core is built with FOLIO_DEBUG
# (its VM_BUG_ON assertions: the bug zoo's score shows they kill bugs the
# release build misses) and liburcu is linked statically (the runner image
# has no liburcu).  .clusterfuzzlite/build.sh runs this; tests/ossfuzz_build
# (ctest -L ossfuzz) runs it here with libFuzzer + ASan into a scratch $OUT
# and runs each target on one input.

here=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
if [ -n "${SRC:-}" ] && [ -f "$SRC/foliotorture/CMakeLists.txt" ]; then
	src=$SRC/foliotorture
else
	src=$here
fi
: "${CC:?CC is not set (the build.sh contract: CC, CFLAGS, LIB_FUZZING_ENGINE, OUT)}"
: "${OUT:?OUT is not set}"
: "${LIB_FUZZING_ENGINE:?LIB_FUZZING_ENGINE is not set}"
CFLAGS=${CFLAGS:-}
targets="fuzz_ops fuzz_ops_text fuzz_sched"

if [ -n "${WORK:-}" ]; then
	build=$WORK/foliotorture-build
else
	build=$(mktemp -d)
	trap 'rm -rf "$build"' EXIT
fi
mkdir -p "$OUT" "$build"

# CFLAGS carry the instrumentation; FOLIO_SANITIZE stays empty so CMake adds
# none of its own.  Warnings are not errors here: the service's clang is
# newer than the one the project's CI pins.
cmake -S "$src" -B "$build" -G Ninja \
	-DCMAKE_C_COMPILER="$CC" -DCMAKE_C_FLAGS="$CFLAGS" \
	-DCMAKE_BUILD_TYPE=None -DFOLIO_DEBUG=ON -DFOLIO_WERROR=OFF \
	-DFOLIO_SANITIZE= -DFOLIO_FUZZER_NO_LINK=OFF -DFOLIO_COVERAGE=OFF \
	-DFOLIO_URCU_STATIC=ON -DFOLIO_FUZZ_ENGINE_LIB="$LIB_FUZZING_ENGINE"
cmake --build "$build" --target $targets

for t in $targets; do
	cp "$build/fuzz/$t" "$OUT/$t"
	cp "$src/fuzz/$t.dict" "$OUT/$t.dict"
	cp "$src/fuzz/$t.options" "$OUT/$t.options"
	rm -f "$OUT/${t}_seed_corpus.zip"
	(cd "$src/corpora/$t" && find . -maxdepth 1 -type f ! -name 'README*' -print |
		sort | zip -q -j "$OUT/${t}_seed_corpus.zip" -@)
done
echo "oss-fuzz/build.sh: $targets in $OUT"
