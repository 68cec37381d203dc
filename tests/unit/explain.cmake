# The rules of `synack explain` (tools/explain_rules.c), a pure function:
# every cause and its figures from hand-made inputs.
synack_test(test_explain_rules LIB SOURCES
  ${PROJECT_SOURCE_DIR}/tests/unit/test_explain_rules.c
  ${PROJECT_SOURCE_DIR}/tools/explain_rules.c)
