# Packet-level tests: one stack, a scripted peer, virtual time.
# synack_pkt_test(NAME) builds tests/pkt/NAME.c with the harness.
function(synack_pkt_test name)
  synack_test(${name} LIB SOURCES ${PROJECT_SOURCE_DIR}/tests/pkt/${name}.c
              ${PROJECT_SOURCE_DIR}/tests/pkt/pkt.c)
endfunction()

file(GLOB PKT_TESTS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/pkt/test_*.c)
foreach(f ${PKT_TESTS})
  get_filename_component(n ${f} NAME_WE)
  synack_pkt_test(${n})
endforeach()
