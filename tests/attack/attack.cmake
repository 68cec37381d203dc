# Hostile peers in the simulator (issue 5): a 100,000-SYN flood against
# SYN cookies, and 60,000 blind RST/SYN/data segments against RFC 5961.
synack_test(test_attack LIB SOURCES ${PROJECT_SOURCE_DIR}/tests/attack/test_attack.c)
set_tests_properties(test_attack PROPERTIES LABELS sim)
