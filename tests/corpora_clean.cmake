# Corpus directories hold inputs only: engines read every file in them as
# an input (a README there was fuzzed as a program).  Fails on a README*,
# a dotfile or a subdirectory in any corpora/<target>/ or
# corpora/regressions/<target>/.  corpora/compat/ is no corpus (inputs with
# their expected decodings, checked by ctest fuzz.compat): not walked.
#   cmake -DROOT=corpora -P corpora_clean.cmake
file(GLOB _dirs LIST_DIRECTORIES true ${ROOT}/* ${ROOT}/regressions/*)
set(_bad "")
set(_n 0)
foreach(_d ${_dirs})
  if(NOT IS_DIRECTORY ${_d} OR _d STREQUAL "${ROOT}/regressions" OR
     _d STREQUAL "${ROOT}/compat")
    continue()
  endif()
  file(GLOB _entries LIST_DIRECTORIES true ${_d}/* ${_d}/.*)
  foreach(_e ${_entries})
    get_filename_component(_name ${_e} NAME)
    if(_name MATCHES "^(\\.|README)" OR IS_DIRECTORY ${_e})
      list(APPEND _bad ${_e})
    else()
      math(EXPR _n "${_n} + 1")
    endif()
  endforeach()
endforeach()
if(_bad)
  message(FATAL_ERROR "not an input, in a corpus directory: ${_bad}")
endif()
message("corpora_clean: ${_n} inputs, nothing else")
