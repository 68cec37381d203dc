# The README's library example must build and run.
add_executable(example_hello ${PROJECT_SOURCE_DIR}/examples/hello.c)
target_compile_options(example_hello PRIVATE ${SYNACK_WARNINGS})
target_link_libraries(example_hello PRIVATE synack_static)
add_test(NAME example_hello COMMAND example_hello)
set_tests_properties(example_hello PROPERTIES PASS_REGULAR_EXPRESSION "echoed \"hello\"")
