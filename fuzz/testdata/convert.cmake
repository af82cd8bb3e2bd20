# fuzz.replay.convert: text -> binary -> text with folio-replay must give
# the program the text printer prints, and binary -> binary must be stable.
#   cmake -DREPLAY=folio-replay -DIN=convert.txt -DDIR=scratch -P convert.cmake
file(MAKE_DIRECTORY ${DIR})
foreach(step
    "--text;--to-text;${DIR}/printed.txt;${IN}"
    "--text;--to-binary;${DIR}/prog.bin;${IN}"
    "--binary;--to-text;${DIR}/back.txt;${DIR}/prog.bin"
    "--binary;--to-binary;${DIR}/again.bin;${DIR}/prog.bin")
  execute_process(COMMAND ${REPLAY} --quiet ${step} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "folio-replay ${step}: exit ${rc}")
  endif()
endforeach()
foreach(pair "printed.txt;back.txt" "prog.bin;again.bin")
  list(GET pair 0 a)
  list(GET pair 1 b)
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${DIR}/${a} ${DIR}/${b}
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${a} and ${b} differ (in ${DIR})")
  endif()
endforeach()
file(GLOB leftovers ${DIR}/*.tmp.*)
if(leftovers)
  message(FATAL_ERROR "temporary files left behind: ${leftovers}")
endif()
message("convert: round trip ok")
