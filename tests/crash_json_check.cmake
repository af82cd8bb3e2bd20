# A crashed run leaves its --json report: run foliotorture with ARGS and
# --json JSON, require exit EXPECT_RC, then a complete JSON file (parsed
# here: CMake's JSON parser, no python needed) with the normal report's
# keys, result "fail", violation.rule EXPECT_RULE, the seed given and the
# rerun command, and no temporary file left beside it.
#   cmake -DBIN=foliotorture -DJSON=f.json -DEXPECT_RC=1 -DEXPECT_RULE=crash
#         [-DEXPECT_SIGNAL=11] -DARGS="--self-test=crash --seed 5" -P ...
separate_arguments(ARGS UNIX_COMMAND "${ARGS}")
file(REMOVE ${JSON} ${JSON}.tmp ${JSON}.crash.tmp)
execute_process(COMMAND ${BIN} ${ARGS} --json ${JSON}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT "${rc}" STREQUAL "${EXPECT_RC}")
  message(FATAL_ERROR "expected exit code ${EXPECT_RC}, got ${rc}")
endif()
if(NOT EXISTS ${JSON})
  message(FATAL_ERROR "no JSON report: ${JSON}")
endif()
foreach(_f ${JSON}.tmp ${JSON}.crash.tmp)
  if(EXISTS ${_f})
    message(FATAL_ERROR "a temporary file is left: ${_f}")
  endif()
endforeach()
file(READ ${JSON} _json)
message("${_json}")
foreach(_key result version git_commit sanitizers host_cores command seed
        scenario scenario_arg chaos threads check_interval_ms sizes
        duration_requested_s duration_s ops failures checks violations leaks
        violation)
  string(JSON _v ERROR_VARIABLE _e GET "${_json}" ${_key})
  if(_e)
    message(FATAL_ERROR "JSON: ${_e}")
  endif()
  set(_j_${_key} "${_v}")
endforeach()
string(JSON _rule ERROR_VARIABLE _e GET "${_json}" violation rule)
string(JSON _ops_type ERROR_VARIABLE _e2 TYPE "${_json}" ops)
if(_e OR _e2 OR NOT _ops_type STREQUAL "OBJECT")
  message(FATAL_ERROR "JSON: no violation.rule or no ops object: ${_e}${_e2}")
endif()
if(NOT _j_result STREQUAL "fail" OR NOT _rule STREQUAL EXPECT_RULE)
  message(FATAL_ERROR "JSON: result '${_j_result}' rule '${_rule}', want fail and ${EXPECT_RULE}")
endif()
if(NOT _j_command MATCHES "--self-test=crash" OR NOT ARGS MATCHES "--seed;${_j_seed}(;|$)")
  message(FATAL_ERROR "JSON: command '${_j_command}', seed ${_j_seed}: not the run's")
endif()
if(DEFINED EXPECT_SIGNAL)
  string(JSON _sig ERROR_VARIABLE _e GET "${_json}" signal)
  if(_e OR NOT _sig EQUAL EXPECT_SIGNAL)
    message(FATAL_ERROR "JSON: signal '${_sig}', want ${EXPECT_SIGNAL} ${_e}")
  endif()
endif()
message("crash_json_check: ${JSON}: fail, rule ${_rule}, exit ${rc}")
