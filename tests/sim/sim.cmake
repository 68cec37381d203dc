# Deterministic simulation (tests/sim): two stacks over the in-memory link.
# test_sim.c is built once per group so that ctest -j runs the groups in
# parallel; SYNACK_SIM_SEEDS (default 300, fewer under ASan) sets the seeds
# per configuration.
set(SYNACK_SIM_GROUPS clean loss reorder dup misc twoway)
set(_sim_group 1)
foreach(g ${SYNACK_SIM_GROUPS})
  synack_test(test_sim_${g} SOURCES
    ${PROJECT_SOURCE_DIR}/tests/sim/test_sim.c
    ${PROJECT_SOURCE_DIR}/tests/sim/simnet.c
    LIB)
  target_compile_definitions(test_sim_${g} PRIVATE SIM_GROUP=${_sim_group})
  set_tests_properties(test_sim_${g} PROPERTIES LABELS sim)
  math(EXPR _sim_group "${_sim_group} + 1")
endforeach()

# The chaos scenario (tests/sim/chaos.h): many stacks and connections under
# every fault at once; the ladder renderer of tools/ draws a failing
# connection. test_sim_chaos is the whole thing (replay: --seed N; soak:
# --seeds FIRST COUNT, see scripts/sim-soak); the CI runs the seeds in two
# halves so that ctest -j2 balances.
foreach(part 0 1 2)
  if(part EQUAL 0)
    set(_n test_sim_chaos)
  elseif(part EQUAL 1)
    set(_n test_sim_chaos_odd)
  else()
    set(_n test_sim_chaos_even)
  endif()
  set(_src
    ${PROJECT_SOURCE_DIR}/tests/sim/test_sim_chaos.c
    ${PROJECT_SOURCE_DIR}/tests/sim/chaos.c
    ${PROJECT_SOURCE_DIR}/tests/sim/simnet.c
    ${PROJECT_SOURCE_DIR}/tools/ladder.c
    ${PROJECT_SOURCE_DIR}/tools/ladder_svg.c
    ${PROJECT_SOURCE_DIR}/tools/textesc.c
    ${PROJECT_SOURCE_DIR}/tools/capread.c)
  if(part EQUAL 0)
    # not a ctest test: the binary for replays and scripts/sim-soak
    add_executable(${_n} ${_src})
    target_include_directories(${_n} PRIVATE ${PROJECT_SOURCE_DIR}/include
      ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
    target_compile_options(${_n} PRIVATE ${SYNACK_WARNINGS}
      -Wno-missing-prototypes)
    target_link_libraries(${_n} PRIVATE PkgConfig::CMOCKA synack_static)
  else()
    synack_test(${_n} SOURCES ${_src} LIB)
    set_tests_properties(${_n} PROPERTIES LABELS sim)
  endif()
  target_include_directories(${_n} PRIVATE ${PROJECT_SOURCE_DIR}/tools)
  target_link_libraries(${_n} PRIVATE PkgConfig::PCAP) # capread.c (ladder.c)
  target_compile_definitions(${_n} PRIVATE CHAOS_PART=${part})
endforeach()

# Large frames (a 64 KiB-frame link) and segmentation offload (gso_max with
# a link that cuts at its MTU), end to end through simnet.
synack_test(test_gso SOURCES
  ${PROJECT_SOURCE_DIR}/tests/sim/test_gso.c
  ${PROJECT_SOURCE_DIR}/tests/sim/simnet.c
  LIB)
set_tests_properties(test_gso PROPERTIES LABELS sim)
