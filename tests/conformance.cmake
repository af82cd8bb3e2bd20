# Conformance programs (tests/conformance/*.ops): op programs translated
# from cases of the kernel's mm selftests, each op line carrying the
# result the kernel's behaviour implies ("# => VALUE").  Each must name
# its selftest case ("# selftest: ...") and carry at least one expected
# result; folio-replay runs it on the core and the reference model in
# lockstep and checks every annotation.
#   cmake -DREPLAY=folio-replay -DDIR=tests/conformance -P conformance.cmake
file(GLOB progs ${DIR}/*.ops)
list(LENGTH progs n)
if(n EQUAL 0)
  message(FATAL_ERROR "no conformance programs (*.ops) in ${DIR}")
endif()
foreach(p ${progs})
  get_filename_component(name ${p} NAME)
  file(READ ${p} text)
  if(NOT text MATCHES "# selftest: ")
    message(FATAL_ERROR "${name}: no '# selftest: ' line naming its case")
  endif()
  if(NOT text MATCHES "# => ")
    message(FATAL_ERROR "${name}: no expected result ('# => VALUE')")
  endif()
  execute_process(COMMAND ${REPLAY} --quiet --text ${p}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${name}: exit ${rc}\n${o}${e}")
  endif()
  message("${name}: passed")
endforeach()
message("conformance: ${n} programs, every expected result met")
