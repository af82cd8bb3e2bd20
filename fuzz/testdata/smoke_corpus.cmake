# Before the libFuzzer smoke runs: make DST a fresh copy of the corpus SRC,
# without dotfiles and README*.  libFuzzer fuzzes DST and writes its new
# inputs there, so the repository's corpus is only read.
#   cmake -DSRC=corpora/fuzz_ops -DDST=build/.../smoke-corpus/fuzz_ops -P smoke_corpus.cmake
file(REMOVE_RECURSE ${DST})
file(MAKE_DIRECTORY ${DST})
file(GLOB inputs LIST_DIRECTORIES false ${SRC}/*)
set(n 0)
foreach(f ${inputs})
  get_filename_component(name ${f} NAME)
  if(NOT name MATCHES "^(\\.|README)")
    file(COPY ${f} DESTINATION ${DST})
    math(EXPR n "${n} + 1")
  endif()
endforeach()
message("smoke_corpus: ${n} inputs from ${SRC}")
