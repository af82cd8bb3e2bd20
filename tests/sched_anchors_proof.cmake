# Anchored schedules survive an edit that moves raw ones: EXTRA is
# folio-replay on a core with one more step at the top of every function
# (core/src/extra_steps.c).  Every anchored seed-r<N>-* must still run
# inside race window RN there; the raw form of the same seed (its run on
# the unmodified core, frozen into schedule bytes by REPLAY --to-binary)
# must hit RN on the unmodified core, and is counted when it misses on
# EXTRA.  If no raw form misses, the extra steps moved nothing and the
# test proves nothing: that fails too.
#   cmake -DREPLAY=.. -DEXTRA=.. -DDIR=corpora/fuzz_sched_text -DWORK=dir
#         -P sched_anchors_proof.cmake
file(GLOB seeds ${DIR}/seed-r*)
file(MAKE_DIRECTORY ${WORK})
set(n 0)
set(miss 0)
set(missed "")

function(window_hits replay input w out_var)
  execute_process(COMMAND ${replay} --quiet --windows ${ARGN} ${input}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${replay} ${input}: exit ${rc}\n${o}${e}")
  endif()
  if(NOT o MATCHES " ${w}=([0-9]+)")
    message(FATAL_ERROR "${input}: no ${w} in:\n${o}")
  endif()
  set(${out_var} ${CMAKE_MATCH_1} PARENT_SCOPE)
endfunction()

foreach(s ${seeds})
  get_filename_component(name ${s} NAME)
  if(NOT name MATCHES "^seed-r([0-9]+)-")
    continue()
  endif()
  set(w "R${CMAKE_MATCH_1}")
  window_hits(${EXTRA} ${s} ${w} hits)
  if(hits EQUAL 0)
    message(FATAL_ERROR "${name}: the anchored seed misses ${w} on the "
            "core with extra steps: its anchors moved")
  endif()
  set(raw ${WORK}/${name}.raw)
  execute_process(COMMAND ${REPLAY} --quiet --to-binary ${raw} ${s}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${name}: --to-binary: exit ${rc}\n${o}${e}")
  endif()
  window_hits(${REPLAY} ${raw} ${w} raw_hits --sched)
  if(raw_hits EQUAL 0)
    message(FATAL_ERROR "${name}: its raw form misses ${w} on the core "
            "it was frozen on")
  endif()
  window_hits(${EXTRA} ${raw} ${w} extra_hits --sched)
  if(extra_hits EQUAL 0)
    math(EXPR miss "${miss} + 1")
    string(APPEND missed " ${name}")
    message("${name}: anchored ${w}=${hits}; raw form ${w}=0 (missed)")
  else()
    message("${name}: anchored ${w}=${hits}; raw form ${w}=${extra_hits}")
  endif()
  math(EXPR n "${n} + 1")
endforeach()
if(n EQUAL 0)
  message(FATAL_ERROR "no seed-r<N>-* programs in ${DIR}")
endif()
if(miss EQUAL 0)
  message(FATAL_ERROR "every raw form still hits its window on the core "
          "with extra steps: the proof build perturbs nothing")
endif()
message("sched_anchors_proof: with a step added to every core function, "
        "${n} of ${n} anchored seeds hit their windows; the raw forms of "
        "${miss} of ${n} miss (${missed} )")
