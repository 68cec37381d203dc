# Interop tests (tests/interop/): synack on a TAP device against the Linux
# kernel's TCP, each case in a network namespace of its own (lib.sh). They
# need root (CAP_NET_ADMIN, CAP_SYS_ADMIN) and /dev/net/tun; without them
# each prints "SKIP: <reason>" and exits 77, which ctest reports as skipped.
#
# Cases 1-3 leave their captures in ${PROJECT_BINARY_DIR}/interop-pcaps for
# case 8 (a ctest fixture: `ctest -R interop_8` runs 1-3 first). The cases
# hold one resource lock, so two of them never compete for the CPU (they
# still run next to the other tests); case 4 prints a throughput figure.
if(NOT TARGET synack)
  return()
endif()

set(SYNACK_INTEROP_DIR ${CMAKE_CURRENT_LIST_DIR})
set(SYNACK_INTEROP_PCAPS ${PROJECT_BINARY_DIR}/interop-pcaps)

function(synack_interop script timeout)
  string(REGEX REPLACE "-" "_" name "${script}")
  add_test(NAME interop_${name}
    COMMAND ${SYNACK_INTEROP_DIR}/${script}.sh $<TARGET_FILE:synack>)
  set_tests_properties(interop_${name} PROPERTIES
    LABELS interop
    SKIP_RETURN_CODE 77
    TIMEOUT ${timeout}
    RESOURCE_LOCK synack_interop
    ENVIRONMENT "INTEROP_PCAP_DIR=${SYNACK_INTEROP_PCAPS}"
    ${ARGN})
endfunction()

synack_interop(1-echo 900 FIXTURES_SETUP synack_interop_pcaps)
synack_interop(2-http 600 FIXTURES_SETUP synack_interop_pcaps)
synack_interop(3-connect 900 FIXTURES_SETUP synack_interop_pcaps)
synack_interop(4-throughput 900)
synack_interop(5-states 600)
synack_interop(6-refused-reset 600)
synack_interop(7-impaired 1200)
synack_interop(8-pcap 900 FIXTURES_REQUIRED synack_interop_pcaps)
