# Link devices (src/dev) and the drivers that run them (src/api loops).
synack_test(test_memlink SOURCES
  ${PROJECT_SOURCE_DIR}/tests/unit/test_memlink.c
  ${PROJECT_SOURCE_DIR}/src/dev/memlink.c ${PROJECT_SOURCE_DIR}/src/core/wire.c
  ${PROJECT_SOURCE_DIR}/src/dev/dev.c)
target_link_libraries(test_memlink PRIVATE m)

synack_test(test_pcap SOURCES
  ${PROJECT_SOURCE_DIR}/tests/unit/test_pcap.c
  ${PROJECT_SOURCE_DIR}/src/dev/pcap.c
  ${PROJECT_SOURCE_DIR}/src/dev/memlink.c ${PROJECT_SOURCE_DIR}/src/core/wire.c
  ${PROJECT_SOURCE_DIR}/src/dev/dev.c)
target_link_libraries(test_pcap PRIVATE PkgConfig::PCAP)

# attach, vloop and rtloop against a fake stack defined in the test.
synack_test(test_loops SOURCES
  ${PROJECT_SOURCE_DIR}/tests/unit/test_loops.c
  ${PROJECT_SOURCE_DIR}/src/api/attach.c
  ${PROJECT_SOURCE_DIR}/src/api/vloop.c ${PROJECT_SOURCE_DIR}/src/api/drivers.c
  ${PROJECT_SOURCE_DIR}/src/api/rtloop.c
  ${PROJECT_SOURCE_DIR}/src/dev/memlink.c ${PROJECT_SOURCE_DIR}/src/core/wire.c
  ${PROJECT_SOURCE_DIR}/src/dev/dev.c)

# The in-memory link's MTU and TCP segmentation offload.
synack_test(test_memlink_tso SOURCES
  ${PROJECT_SOURCE_DIR}/tests/unit/test_memlink_tso.c
  ${PROJECT_SOURCE_DIR}/src/dev/memlink.c ${PROJECT_SOURCE_DIR}/src/core/wire.c
  ${PROJECT_SOURCE_DIR}/src/dev/dev.c)

# Input batches (one ACK per batch) and in-place transmit (tx_buffer).
synack_test(test_batch LIB SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_batch.c)
