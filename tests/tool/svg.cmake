# The SVG ladder and the time-sequence plots (issue 7, acceptance 4):
# `synack sim --svg` against the text ladder, rendered by headless Chromium
# and the screenshot checked (SKIP 77 without chromium); `synack sim
# --plot` and `synack plot` on the same lossy run.
if(NOT TARGET synack)
  return()
endif()
find_package(Python3 COMPONENTS Interpreter QUIET)
if(NOT Python3_Interpreter_FOUND)
  return()
endif()

add_test(NAME tool_svg_ladder
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/svg-ladder.sh $<TARGET_FILE:synack>)
set_tests_properties(tool_svg_ladder PROPERTIES LABELS tool TIMEOUT 180
  SKIP_RETURN_CODE 77)

add_test(NAME tool_svg_plot
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/svg-plot.sh $<TARGET_FILE:synack>)
set_tests_properties(tool_svg_plot PROPERTIES LABELS tool TIMEOUT 180
  SKIP_RETURN_CODE 77)
