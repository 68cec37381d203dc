# Bad input (issue 2, acceptance 4): malformed frames against a stack with an
# established connection to a scripted peer.
synack_test(test_badinput SOURCES
  ${PROJECT_SOURCE_DIR}/tests/unit/test_badinput.c
  LIB)
