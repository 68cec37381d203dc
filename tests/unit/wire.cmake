# Wire codec and name/format helpers: compiled from their own sources only.
synack_test(test_wire SOURCES
  ${PROJECT_SOURCE_DIR}/tests/unit/test_wire.c
  ${PROJECT_SOURCE_DIR}/src/core/wire.c
  ${PROJECT_SOURCE_DIR}/src/core/names.c)
synack_test(test_names SOURCES
  ${PROJECT_SOURCE_DIR}/tests/unit/test_names.c
  ${PROJECT_SOURCE_DIR}/src/core/names.c)
# The word-at-a-time checksum against a byte-at-a-time reference (AVX2
# when the CPU has it).
synack_test(test_csum SOURCES
  ${PROJECT_SOURCE_DIR}/tests/unit/test_csum.c
  ${PROJECT_SOURCE_DIR}/src/core/wire.c)
# The same checks on the SSE2 loop (AVX2 left out) and on the portable loop
# (no SSE2).
synack_test(test_csum_sse2 SOURCES
  ${PROJECT_SOURCE_DIR}/tests/unit/test_csum.c
  ${PROJECT_SOURCE_DIR}/src/core/wire.c)
target_compile_definitions(test_csum_sse2 PRIVATE SYNACK_CSUM_NO_AVX2)
synack_test(test_csum_portable SOURCES
  ${PROJECT_SOURCE_DIR}/tests/unit/test_csum.c
  ${PROJECT_SOURCE_DIR}/src/core/wire.c)
target_compile_definitions(test_csum_portable PRIVATE SYNACK_CSUM_PORTABLE)
