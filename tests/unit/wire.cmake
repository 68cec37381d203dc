# Wire codec and name/format helpers: compiled from their own sources only.
synack_test(test_wire SOURCES
  ${PROJECT_SOURCE_DIR}/tests/unit/test_wire.c
  ${PROJECT_SOURCE_DIR}/src/core/wire.c
  ${PROJECT_SOURCE_DIR}/src/core/names.c)
synack_test(test_names SOURCES
  ${PROJECT_SOURCE_DIR}/tests/unit/test_names.c
  ${PROJECT_SOURCE_DIR}/src/core/names.c)
# The word-at-a-time checksum against a byte-at-a-time reference.
synack_test(test_csum SOURCES
  ${PROJECT_SOURCE_DIR}/tests/unit/test_csum.c
  ${PROJECT_SOURCE_DIR}/src/core/wire.c)
# The same checks on the portable loop (no SSE2).
synack_test(test_csum_portable SOURCES
  ${PROJECT_SOURCE_DIR}/tests/unit/test_csum.c
  ${PROJECT_SOURCE_DIR}/src/core/wire.c)
target_compile_definitions(test_csum_portable PRIVATE SYNACK_CSUM_PORTABLE)
