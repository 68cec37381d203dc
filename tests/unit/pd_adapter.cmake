# The packetdrill adapter (libsynack_packetdrill.so) driven through its
# callback table by a test program that stands in for packetdrill.
find_package(Threads REQUIRED)
synack_test(test_pd_adapter SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_pd_adapter.c)
target_compile_definitions(test_pd_adapter PRIVATE
  PD_ADAPTER_SO="$<TARGET_FILE:synack_packetdrill>")
target_link_libraries(test_pd_adapter PRIVATE ${CMAKE_DL_LIBS} Threads::Threads)
add_dependencies(test_pd_adapter synack_packetdrill)
