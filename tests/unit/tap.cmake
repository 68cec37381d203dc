# The TAP device against the kernel, in a private network namespace
# (skipped, exit 77, without the privileges to create one).
synack_test(test_tap LIB SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_tap.c)
set_tests_properties(test_tap PROPERTIES SKIP_RETURN_CODE 77)
