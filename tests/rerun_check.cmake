# The report reproduces the run: run foliotorture with ARGS and --json,
# check the JSON parses and has every field the issue names, then run the
# JSON's "command" and require the same configuration line (the header
# that names seed, scenario, threads, duration, chaos and every size).
#   cmake -DBIN=foliotorture -DDIR=scratch -DARGS="a b" -P rerun_check.cmake
separate_arguments(ARGS UNIX_COMMAND "${ARGS}")
file(REMOVE_RECURSE ${DIR})
file(MAKE_DIRECTORY ${DIR})
if(DEFINED SCENARIO_SRC)
  # a scenario file whose name JSON and a shell must quote
  set(_scn "${DIR}/we\"ird\\ na'me.scn")
  file(COPY_FILE ${SCENARIO_SRC} ${_scn})
  list(APPEND ARGS --scenario ${_scn})
endif()
execute_process(COMMAND ${BIN} ${ARGS} --json ${DIR}/first.json
                RESULT_VARIABLE rc OUTPUT_VARIABLE out1 ERROR_VARIABLE err1)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "first run: exit ${rc}\n${out1}${err1}")
endif()
file(READ ${DIR}/first.json _json)
foreach(_key result version git_commit host_cores command seed scenario
        scenario_arg chaos threads duration_requested_s duration_s sizes ops)
  string(JSON _v ERROR_VARIABLE _e GET "${_json}" ${_key})
  if(_e)
    message(FATAL_ERROR "JSON: ${_e}\n${_json}")
  endif()
  set(_j_${_key} "${_v}")
endforeach()
if(NOT _j_result STREQUAL "pass")
  message(FATAL_ERROR "JSON result is '${_j_result}', not pass")
endif()
# as a user would: pasted into a POSIX shell
execute_process(COMMAND sh -c "${_j_command}" RESULT_VARIABLE rc OUTPUT_VARIABLE out2
                ERROR_VARIABLE err2)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "rerun (${_j_command}): exit ${rc}\n${out2}${err2}")
endif()
foreach(_n 1 2)
  string(REGEX MATCH "foliotorture [^\n]*: seed=[^\n]*" _h${_n} "${out${_n}}")
endforeach()
if(NOT _h1 OR NOT _h1 STREQUAL _h2)
  message(FATAL_ERROR "the rerun's configuration differs:\n  ${_h1}\n  ${_h2}")
endif()
message("rerun_check: same configuration: ${_h1}")
