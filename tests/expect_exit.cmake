# Run a command and require an exact exit code and (optionally) a regex in
# its combined output.  ctest's WILL_FAIL accepts any failure, a crash
# included; this does not.
#   cmake -DEXPECT_RC=1 -DEXPECT_RE="invariant I-ref" -P expect_exit.cmake -- cmd args...
set(_cmd "")
set(_seen FALSE)
math(EXPR _last "${CMAKE_ARGC} - 1")
foreach(i RANGE 1 ${_last})
  if(_seen)
    list(APPEND _cmd "${CMAKE_ARGV${i}}")
  elseif("${CMAKE_ARGV${i}}" STREQUAL "--")
    set(_seen TRUE)
  endif()
endforeach()
if(NOT _cmd)
  message(FATAL_ERROR "expect_exit.cmake: no command after --")
endif()
execute_process(COMMAND ${_cmd} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
message("${out}${err}")
if(NOT "${rc}" STREQUAL "${EXPECT_RC}")
  message(FATAL_ERROR "expected exit code ${EXPECT_RC}, got ${rc}")
endif()
if(DEFINED EXPECT_RE AND NOT "${out}${err}" MATCHES "${EXPECT_RE}")
  message(FATAL_ERROR "output does not match '${EXPECT_RE}'")
endif()
message("expect_exit: exit code ${rc} as expected")
