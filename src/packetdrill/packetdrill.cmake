# libsynack_packetdrill.so: the adapter that lets google/packetdrill drive a
# synack stack (packetdrill --so_filename=...). See docs/packetdrill-adapter.md.
# Built with everything else so that CI compiles it; only its unit test
# (tests/unit/pd_adapter.cmake) runs there, since packetdrill is not packaged.
find_package(Threads REQUIRED)
add_library(synack_packetdrill SHARED ${PROJECT_SOURCE_DIR}/src/packetdrill/adapter.c)
set_target_properties(synack_packetdrill PROPERTIES
  OUTPUT_NAME synack_packetdrill
  LIBRARY_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/src
  C_VISIBILITY_PRESET hidden)
target_compile_options(synack_packetdrill PRIVATE ${SYNACK_WARNINGS})
target_link_libraries(synack_packetdrill PRIVATE synack_static Threads::Threads)
# Export packetdrill_interface_init only: the stack's own symbols stay inside.
target_link_options(synack_packetdrill PRIVATE -Wl,--exclude-libs,ALL)
