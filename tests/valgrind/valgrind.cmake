# valgrind memcheck on a subset of the tests (issue 5, part 4): the packet
# tests that create and tear down the most state (SYN cookies, TIME-WAIT
# reuse, windows), the bad-input test and the library example. Only in the
# build without sanitizers (ASan and valgrind do not mix). Any error,
# invalid access or leak fails the test. valgrind comes from scripts/deps.
if(NOT SYNACK_SANITIZE)
  find_program(VALGRIND valgrind)
  foreach(t test_security test_window test_state_timewait test_badinput
            example_hello)
    if(VALGRIND)
      add_test(NAME valgrind_${t}
        COMMAND ${VALGRIND} --tool=memcheck --error-exitcode=99
                --leak-check=full --errors-for-leak-kinds=definite,indirect
                --track-origins=yes -q $<TARGET_FILE:${t}>)
    else()
      add_test(NAME valgrind_${t} COMMAND sh -c
        "echo 'valgrind not found: run scripts/deps as root' >&2; exit 1")
    endif()
    set_tests_properties(valgrind_${t} PROPERTIES LABELS valgrind)
  endforeach()
endif()
