# fuzz_sched replays step for step: the same input gives the same trace
# (folio-replay prints its hash) 20 times in one process, in two separate
# processes, with the other context switch (OTHER, e.g. the setjmp
# fallback) and in the release preset's build when there is one (CI builds
# it first) -- release and sanitizer builds use different compilers.
#   cmake -DREPLAY=folio-replay -DINPUTS=dir [-DOTHER=bin] [-DRELEASE=bin]
#         -P sched_determinism.cmake
function(hashes bin out)
  execute_process(COMMAND ${bin} --quiet --sched --repeat 20 ${INPUTS}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${bin}: exit ${rc}\n${o}${e}")
  endif()
  string(REGEX MATCHALL "trace [0-9a-f]+ \\(the same in every run\\)" h "${o}")
  list(LENGTH h n)
  if(n EQUAL 0)
    message(FATAL_ERROR "${bin}: no trace hashes in:\n${o}")
  endif()
  set(${out} "${h}" PARENT_SCOPE)
endfunction()
hashes(${REPLAY} first)
hashes(${REPLAY} second)
if(NOT first STREQUAL second)
  message(FATAL_ERROR "two processes, two traces:\n${first}\n${second}")
endif()
list(LENGTH first n)
message("sched_determinism: ${n} inputs, each 20 times in a process, twice: the same traces")
foreach(v OTHER RELEASE)
  if(DEFINED ${v} AND EXISTS "${${v}}" AND NOT "${${v}}" STREQUAL "${REPLAY}")
    hashes(${${v}} other)
    if(NOT first STREQUAL other)
      message(FATAL_ERROR "${${v}} took other steps:\n${first}\n${other}")
    endif()
    message("sched_determinism: the same traces with ${${v}}")
  endif()
endforeach()
