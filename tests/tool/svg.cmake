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

# --help of the options and the command (synack_expect_test: live.cmake)
synack_expect_test(svg sim_help 0 sim --help --
  "^  --svg FILE +also draw the ladder as an SVG" "^  --plot PREFIX +write PREFIX-tseq.svg")
synack_expect_test(svg plot_help 0 plot --help --
  "^usage: synack plot FILE \\[--conn N\\] \\[--dir A\\|B\\] \\[-o OUT.svg\\]"
  "--conn N" "--dir A\\|B" "-o OUT.svg" "^Exit status")
synack_expect_test(svg command_list 0 --help -- "^  plot +time-sequence plot")
synack_expect_test(svg plot_no_file 2 plot -- "no capture file given" "^usage: synack plot")
synack_expect_test(svg sim_plot_empty 2 sim --plot= -- "--plot: empty prefix")
