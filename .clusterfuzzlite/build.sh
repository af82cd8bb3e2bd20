#!/bin/bash -eu
# ClusterFuzzLite's build step: the same contract and the same script as
# the OSS-Fuzz build (CC, CFLAGS, LIB_FUZZING_ENGINE, OUT, SRC, WORK).
exec "$SRC/foliotorture/oss-fuzz/build.sh"
