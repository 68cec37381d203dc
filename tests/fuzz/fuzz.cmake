# libFuzzer targets (issue 5, part 2). Off by default; configure with
#   CC=clang cmake -S . -B build-fuzz -DSYNACK_FUZZ=ON
# The library sources are compiled into each fuzz executable with the same
# -fsanitize=fuzzer,address,undefined flags, so they get the instrumentation.
option(SYNACK_FUZZ "Build the libFuzzer targets (needs clang)" OFF)
if(SYNACK_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "SYNACK_FUZZ needs clang (CC=clang)")
  endif()
  set(SYNACK_FUZZ_FLAGS -fsanitize=fuzzer,address,undefined
      -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1)
  function(synack_fuzz name)
    add_executable(${name} ${ARGN})
    target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/include
                               ${PROJECT_SOURCE_DIR}/src)
    target_compile_options(${name} PRIVATE ${SYNACK_FUZZ_FLAGS})
    target_link_options(${name} PRIVATE ${SYNACK_FUZZ_FLAGS})
  endfunction()
  synack_fuzz(fuzz_tcp_parse
    ${CMAKE_CURRENT_LIST_DIR}/fuzz_tcp_parse.c
    ${PROJECT_SOURCE_DIR}/src/core/wire.c)
  synack_fuzz(fuzz_tcp_options
    ${CMAKE_CURRENT_LIST_DIR}/fuzz_tcp_options.c
    ${PROJECT_SOURCE_DIR}/src/core/wire.c)
  # The stack, compiled once with the fuzz flags for the two targets that
  # drive all of it.
  add_library(synack_fuzz_stack OBJECT
    ${SYNACK_CORE_SRC} ${SYNACK_API_SRC} ${SYNACK_DEV_SRC})
  target_include_directories(synack_fuzz_stack PRIVATE
    ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(synack_fuzz_stack PRIVATE ${SYNACK_FUZZ_FLAGS})
  target_link_libraries(synack_fuzz_stack PRIVATE PkgConfig::PCAP)
  foreach(t fuzz_frames fuzz_reass)
    synack_fuzz(${t} ${CMAKE_CURRENT_LIST_DIR}/${t}.c
      $<TARGET_OBJECTS:synack_fuzz_stack>)
    target_link_libraries(${t} PRIVATE PkgConfig::PCAP)
  endforeach()
endif()
