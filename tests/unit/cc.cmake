# Congestion-control modules (CUBIC, NewReno) and PRR, driven directly.
synack_test(test_cubic LIB SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_cubic.c)
