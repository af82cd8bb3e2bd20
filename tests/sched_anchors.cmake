# Anchored schedules (fuzz/sched_anchor.h):
#   1. every seed-r<N>-* of DIR is anchored: "run" lines, no "schedule";
#   2. folio-replay --anchor rewrites RAW (a raw count schedule) into
#      anchors that take the same steps, and the result replays;
#   3. malformed "run" lines are usage errors of the input: exit 2, with
#      the line and the reason.
#   cmake -DREPLAY=.. -DDIR=.. -DRAW=.. -DWORK=dir -P sched_anchors.cmake
file(GLOB seeds ${DIR}/seed-r*)
file(MAKE_DIRECTORY ${WORK})
foreach(s ${seeds})
  file(STRINGS ${s} sched REGEX "^schedule")
  file(STRINGS ${s} runs REGEX "^run ")
  if(sched OR NOT runs)
    get_filename_component(name ${s} NAME)
    message(FATAL_ERROR "${name}: a race seed's schedule must be anchored "
            "(run lines; folio-replay --anchor writes them)")
  endif()
endforeach()

execute_process(COMMAND ${REPLAY} --anchor ${WORK}/anchored.txt ${RAW}
                RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
if(NOT rc EQUAL 0 OR NOT o MATCHES "takes the same [0-9]+ steps")
  message(FATAL_ERROR "--anchor ${RAW}: exit ${rc}\n${o}${e}")
endif()
file(STRINGS ${WORK}/anchored.txt runs REGEX "^run ")
list(LENGTH runs nruns)
if(nruns EQUAL 0)
  message(FATAL_ERROR "--anchor wrote no run lines:\n${o}")
endif()
execute_process(COMMAND ${REPLAY} --quiet --windows ${WORK}/anchored.txt
                RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
if(NOT rc EQUAL 0 OR NOT o MATCHES " R4=[1-9]")
  message(FATAL_ERROR "the anchored R4 seed: exit ${rc}, not in R4:\n${o}${e}")
endif()

# bad run lines: what, and the message's key words
set(head "world files=1 mms=1 pmd_order=2 pages=96 file_pmds=2 anon_pmds=2\nmode bytes\nthread 0:\nput h=0\nthread 1:\nput h=0\n")
set(bad_1 "run 5 until done" "expected a thread 0..1")
set(bad_2 "run 0 while done" "expected 'until'")
set(bad_3 "run 0 until RP_NO_SUCH" "no race point")
set(bad_4 "run 0 until before 2nd load" "expected 'in FUNCTION'")
set(bad_5 "run 0 until before 0th load in f" "a step kind")
set(bad_6 "run 0 until done\nschedule 0 1" "do not mix")
set(bad_7 "run 0 until after load in 9f" "not a C identifier")
set(bad_8 "run 0 until done extra" "unexpected 'extra'")
foreach(i 1 2 3 4 5 6 7 8)
  list(GET bad_${i} 0 line)
  list(GET bad_${i} 1 want)
  file(WRITE ${WORK}/bad_${i}.txt "${head}${line}\n")
  execute_process(COMMAND ${REPLAY} --quiet ${WORK}/bad_${i}.txt
                  RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
  if(NOT rc EQUAL 2 OR NOT "${o}${e}" MATCHES "${want}")
    message(FATAL_ERROR "'${line}': want exit 2 and '${want}', got exit "
            "${rc}:\n${o}${e}")
  endif()
endforeach()
message("sched_anchors: race seeds anchored; --anchor rewrote ${RAW} into "
        "${nruns} directives with the same steps; 8 malformed run lines "
        "refused")
