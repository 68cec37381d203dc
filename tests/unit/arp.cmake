# ARP resolution, queueing, retries and expiry (whole library).
synack_test(test_arp LIB SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_arp.c)
