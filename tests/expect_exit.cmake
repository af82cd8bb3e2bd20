# Run a command and require an exact exit code and (optionally) regexes in
# its output (stdout, then stderr).  ctest's WILL_FAIL accepts any failure,
# a crash included; this does not.
#   cmake -DEXPECT_RC=1 -DEXPECT_RE="invariant I-ref" -P expect_exit.cmake -- cmd args...
# EXPECT_RE may hold several regexes separated by "&&": each must match
# (stdout and stderr are separate streams, so order them within one).
# EMPTY_ENV=1 runs the command with an empty environment (env -i; cmake
# itself would take an "-i" after -P for one of its own options).
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
if(EMPTY_ENV)
  list(PREPEND _cmd env -i)
endif()
execute_process(COMMAND ${_cmd} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
message("${out}${err}")
if(NOT "${rc}" STREQUAL "${EXPECT_RC}")
  message(FATAL_ERROR "expected exit code ${EXPECT_RC}, got ${rc}")
endif()
if(DEFINED EXPECT_RE)
  string(REPLACE "&&" ";" _res "${EXPECT_RE}")
  foreach(_re IN LISTS _res)
    if(NOT "${out}${err}" MATCHES "${_re}")
      message(FATAL_ERROR "output does not match '${_re}'")
    endif()
  endforeach()
endif()
message("expect_exit: exit code ${rc} as expected")
