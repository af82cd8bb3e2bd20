# The command-line contract of every program and script a user runs:
#   -h, --help        the usage on stdout (not empty), nothing on stderr,
#                     exit 0: asked for, so not an error
#   --no-such-flag    a message on stderr, nothing on stdout, exit 2
#                     (usage error), before any work
#   cmake -P cli_help.cmake -- PROGRAM...
# Empty arguments are skipped (a program a build does not have, from a
# generator expression).  Each run has a timeout: a --help that starts
# building or fuzzing fails here instead of hanging the suite.
set(_progs "")
set(_seen FALSE)
math(EXPR _last "${CMAKE_ARGC} - 1")
foreach(i RANGE 1 ${_last})
  if(_seen)
    if(NOT "${CMAKE_ARGV${i}}" STREQUAL "")
      list(APPEND _progs "${CMAKE_ARGV${i}}")
    endif()
  elseif("${CMAKE_ARGV${i}}" STREQUAL "--")
    set(_seen TRUE)
  endif()
endforeach()
if(NOT _progs)
  message(FATAL_ERROR "cli_help.cmake: no program after --")
endif()

# a string, not a list: the outputs may hold semicolons
set(_bad "")
set(_nbad 0)
foreach(_p IN LISTS _progs)
  foreach(_flag -h --help)
    execute_process(COMMAND ${_p} ${_flag} RESULT_VARIABLE rc
                    OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 30)
    if(NOT rc STREQUAL "0" OR out STREQUAL "" OR NOT err STREQUAL "")
      string(APPEND _bad "--- ${_p} ${_flag}: exit ${rc} (want 0, usage on stdout only)\nstdout: ${out}\nstderr: ${err}\n")
      math(EXPR _nbad "${_nbad} + 1")
    endif()
  endforeach()
  execute_process(COMMAND ${_p} --no-such-flag RESULT_VARIABLE rc
                  OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 30)
  if(NOT rc STREQUAL "2" OR NOT out STREQUAL "" OR err STREQUAL "")
    string(APPEND _bad "--- ${_p} --no-such-flag: exit ${rc} (want 2, a message on stderr only)\nstdout: ${out}\nstderr: ${err}\n")
    math(EXPR _nbad "${_nbad} + 1")
  endif()
  message("cli_help: ${_p}")
endforeach()
if(_nbad GREATER 0)
  message(FATAL_ERROR "${_bad}cli_help: ${_nbad} runs broke the contract")
endif()
list(LENGTH _progs _n)
message("cli_help: ${_n} programs keep the contract")
