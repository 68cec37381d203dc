# Scale (issue 6, part 3): per-connection memory of an idle connection,
# buffers allocated with the data and released when idle, and the timer
# heap's exactness across deadlines from 1 ms to 2 h and clock jumps.
synack_test(test_scale SOURCES
  ${PROJECT_SOURCE_DIR}/tests/unit/test_scale.c
  LIB)
