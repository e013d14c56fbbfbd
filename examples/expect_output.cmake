# Runs an example and checks what it printed:
#   cmake "-DRUN=PROGRAM;ARG;..." -DEXPECT=REGEX [-DCLEAN=DIR] -P expect_output.cmake
# (the command is a CMake list: CMake would take arguments like -i for its own). Removes DIR
# first (a fresh collection), then passes when PROGRAM exits 0 (so a sanitizer's report fails
# it) and its standard output matches REGEX.
if(NOT RUN OR NOT DEFINED EXPECT)
  message(FATAL_ERROR "usage: cmake \"-DRUN=PROGRAM;ARGS...\" -DEXPECT=REGEX -P expect_output.cmake")
endif()
if(CLEAN)
  file(REMOVE_RECURSE "${CLEAN}")
  get_filename_component(_parent "${CLEAN}" DIRECTORY)
  file(MAKE_DIRECTORY "${_parent}")
endif()
execute_process(COMMAND ${RUN} RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
message("${_out}${_err}")
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "the example exited with ${_rc}")
endif()
if(NOT _out MATCHES "${EXPECT}")
  message(FATAL_ERROR "the output does not match:\n${EXPECT}")
endif()
