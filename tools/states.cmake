# The state diagram drawn from the code (docs/state-transitions.md): the
# build runs `synack states --dot` and renders the DOT to SVG and PNG with
# Graphviz into <build>/docs/. `cmake --build <dir> --target
# state_diagram_update` copies the three files over docs/state-diagram.*
# (the committed copies, checked by the state_diagram_* tests).
if(TARGET synack)
  find_program(SYNACK_DOT_EXE dot)
  set(_sd ${PROJECT_BINARY_DIR}/docs)
  if(SYNACK_DOT_EXE)
    message(STATUS "State diagram: rendered at build time with ${SYNACK_DOT_EXE} into ${_sd}/state-diagram.{dot,svg,png}")
    add_custom_command(
      OUTPUT ${_sd}/state-diagram.dot ${_sd}/state-diagram.svg ${_sd}/state-diagram.png
      COMMAND ${CMAKE_COMMAND} -E make_directory ${_sd}
      COMMAND $<TARGET_FILE:synack> states -o ${_sd}/state-diagram.dot --dot
      COMMAND ${SYNACK_DOT_EXE} -Tsvg -o ${_sd}/state-diagram.svg ${_sd}/state-diagram.dot
      COMMAND ${SYNACK_DOT_EXE} -Tpng -Gdpi=96 -o ${_sd}/state-diagram.png ${_sd}/state-diagram.dot
      DEPENDS synack
      COMMENT "State diagram from the core's transition table: docs/state-diagram.{dot,svg,png}"
      VERBATIM)
    add_custom_target(state_diagram ALL
      DEPENDS ${_sd}/state-diagram.dot ${_sd}/state-diagram.svg ${_sd}/state-diagram.png)
    add_custom_target(state_diagram_update
      COMMAND ${CMAKE_COMMAND} -E copy ${_sd}/state-diagram.dot ${_sd}/state-diagram.svg
              ${_sd}/state-diagram.png ${PROJECT_SOURCE_DIR}/docs/
      DEPENDS state_diagram
      COMMENT "Copying the state diagram over docs/state-diagram.{dot,svg,png}"
      VERBATIM)
  else()
    message(STATUS "State diagram: Graphviz 'dot' not found, docs/state-diagram.svg and .png are NOT rendered at build time (install graphviz: scripts/deps does); the DOT is still checked by the tests")
  endif()
endif()
