# Tests of the control socket (tools/ctl.c) and its clients `synack ss` and
# `synack sysctl`, without a TAP device: ctl_testsrv runs a stack with a
# control socket in a temporary XDG_RUNTIME_DIR (never /run/synack), and
# ctl_test.sh CASE drives the clients against it.
if(NOT TARGET synack)
  return()
endif()

add_executable(ctl_testsrv ${CMAKE_CURRENT_LIST_DIR}/ctl_testsrv.c
                           ${PROJECT_SOURCE_DIR}/tools/ctl.c)
target_include_directories(ctl_testsrv PRIVATE ${PROJECT_SOURCE_DIR}/tools)
target_compile_options(ctl_testsrv PRIVATE ${SYNACK_WARNINGS})
target_link_libraries(ctl_testsrv PRIVATE synack_static)

foreach(case ss ss_all ss_listening ss_timers ss_info ss_json ss_none
             ss_help sysctl_list sysctl_get_set sysctl_errors sysctl_target
             sysctl_usage stale duplicate garbage close stopped permission
             explain explain_none trace)
  add_test(NAME tool_ctl_${case}
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/ctl_test.sh ${case}
            $<TARGET_FILE:synack> $<TARGET_FILE:ctl_testsrv>)
  set_tests_properties(tool_ctl_${case} PROPERTIES LABELS tool TIMEOUT 60
                       SKIP_RETURN_CODE 77)
endforeach()
