# Packet-level tests: one stack, a scripted peer, virtual time.
# synack_pkt_test(NAME) builds tests/pkt/NAME.c with the harness.
# Each one records its state changes for the edge-coverage check
# (tests/pkt/fsm.cmake): SYNACK_EDGE_LOG names its file.
function(synack_pkt_test name)
  synack_test(${name} LIB SOURCES ${PROJECT_SOURCE_DIR}/tests/pkt/${name}.c
              ${PROJECT_SOURCE_DIR}/tests/pkt/pkt.c)
  set_property(TEST ${name} APPEND PROPERTY ENVIRONMENT
    "SYNACK_EDGE_LOG=${PROJECT_BINARY_DIR}/tests/fsm-edges/${name}.edges")
  set_property(TEST ${name} APPEND PROPERTY FIXTURES_REQUIRED fsm_edges_clean)
  set_property(TEST ${name} APPEND PROPERTY FIXTURES_SETUP fsm_edges)
endfunction()

file(GLOB PKT_TESTS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/pkt/test_*.c)
foreach(f ${PKT_TESTS})
  get_filename_component(n ${f} NAME_WE)
  synack_pkt_test(${n})
endforeach()
