# Congestion-control modules (CUBIC, NewReno, BBR) and PRR, driven directly.
synack_test(test_cubic LIB SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_cubic.c)
# BBR's state machine (tests/pkt/test_bbr.c: its rate sampler on the wire)
synack_test(test_bbr_model LIB SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_bbr_model.c)
