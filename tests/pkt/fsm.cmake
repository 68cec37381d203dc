# Acceptance 3 of issue 7: every edge of the core's transition table
# (src/core/tcp_fsm.c) is exercised by a packet-level test, and no test
# takes an edge the table lacks. The pkt tests (pkt.cmake) and the
# packetdrill scripts (pd.cmake) write their state changes to
# <build>/tests/fsm-edges/<test>.edges (FIXTURES_SETUP fsm_edges);
# fsm_edges_clean empties the directory first; fsm_edges_covered reads them
# all (`synack states --coverage`). See docs/state-transitions.md.
set(SYNACK_EDGE_DIR ${PROJECT_BINARY_DIR}/tests/fsm-edges)
add_test(NAME fsm_edges_clean
  COMMAND sh -c "rm -rf \"$0\" && mkdir -p \"$0\"" ${SYNACK_EDGE_DIR})
set_tests_properties(fsm_edges_clean PROPERTIES FIXTURES_SETUP fsm_edges_clean)
if(TARGET synack)
  add_test(NAME fsm_edges_covered
    COMMAND $<TARGET_FILE:synack> states --coverage ${SYNACK_EDGE_DIR})
  set_tests_properties(fsm_edges_covered PROPERTIES
    FIXTURES_REQUIRED fsm_edges)
  # The checker fails when it should: a missing edge, a change no edge
  # describes, a damaged file, no input.
  add_test(NAME fsm_coverage_selftest
    COMMAND ${PROJECT_SOURCE_DIR}/tests/pkt/fsm_coverage_selftest.sh
            $<TARGET_FILE:synack>)
  # The committed picture is the code's: docs/state-diagram.dot is what
  # `synack states --dot` prints, and docs/state-diagram.svg is what
  # Graphviz makes of it (skipped when dot is missing or another version).
  add_test(NAME state_diagram_dot_current
    COMMAND ${PROJECT_SOURCE_DIR}/tests/pkt/state_diagram_check.sh dot
            $<TARGET_FILE:synack> ${PROJECT_SOURCE_DIR})
  add_test(NAME state_diagram_svg_current
    COMMAND ${PROJECT_SOURCE_DIR}/tests/pkt/state_diagram_check.sh svg
            $<TARGET_FILE:synack> ${PROJECT_SOURCE_DIR})
  set_tests_properties(state_diagram_svg_current PROPERTIES SKIP_RETURN_CODE 77)
endif()
