# Wire codec and name/format helpers: compiled from their own sources only.
synack_test(test_wire SOURCES
  ${PROJECT_SOURCE_DIR}/tests/unit/test_wire.c
  ${PROJECT_SOURCE_DIR}/src/core/wire.c
  ${PROJECT_SOURCE_DIR}/src/core/names.c)
synack_test(test_names SOURCES
  ${PROJECT_SOURCE_DIR}/tests/unit/test_names.c
  ${PROJECT_SOURCE_DIR}/src/core/names.c)
