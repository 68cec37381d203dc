# Deterministic simulation (tests/sim): two stacks over the in-memory link.
# test_sim.c is built once per group so that ctest -j runs the groups in
# parallel; SYNACK_SIM_SEEDS (default 50) sets the seeds per configuration.
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
