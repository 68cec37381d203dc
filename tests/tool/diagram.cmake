# Tests of `synack diagram` (tools/diagram.c, tools/capinfer.c): no root
# needed. The captures are made by `synack sim --pcap` (deterministic, taken
# at A) or by hand (pcapgen.py), never stored.
#
# tool_diagram_sim_*: the states synack diagram infers from the capture
# alone equal, change by change, those the sim's own ladder shows for the
# same run (the sim knows the true states), within one one-way delay; the
# retransmission, not-captured and keepalive marks agree with the sim's.
if(NOT TARGET synack)
  return()
endif()
find_package(Python3 COMPONENTS Interpreter)
if(NOT Python3_Interpreter_FOUND)
  message(STATUS "python3 not found: the synack diagram tests are not registered")
  return()
endif()

set(SYNACK_DIAGRAM_DIR ${CMAKE_CURRENT_LIST_DIR})

function(synack_diagram_sim name)
  add_test(NAME tool_diagram_sim_${name}
    COMMAND ${Python3_EXECUTABLE} ${SYNACK_DIAGRAM_DIR}/diagram_sim.py
            $<TARGET_FILE:synack> ${ARGN})
  set_tests_properties(tool_diagram_sim_${name} PROPERTIES LABELS tool TIMEOUT 120)
endfunction()

foreach(s handshake half-close simultaneous-open simultaneous-close rst
          lost-fin time-wait keepalive refused)
  synack_diagram_sim(${s} ${s})
endforeach()
# lost segments both ways: retransmissions, holes, lost ACKs and FINs
synack_diagram_sim(transfer_loss3_s1 transfer --bytes 200K --loss 3 --seed 1)
synack_diagram_sim(transfer_loss3_s4 transfer --bytes 200K --loss 3 --seed 4)
synack_diagram_sim(transfer_loss12_s25 transfer --bytes 30K --loss 12 --seed 25)
synack_diagram_sim(half_close_loss15_s3 half-close --loss 15 --seed 3)
synack_diagram_sim(half_close_loss15_s4 half-close --loss 15 --seed 4)
synack_diagram_sim(half_close_loss12_s31 half-close --bytes 30K --loss 12 --seed 31)
synack_diagram_sim(time_wait_loss12_s25 time-wait --loss 12 --seed 25)

# every mark and state on hand-made captures
add_test(NAME tool_diagram_synth
  COMMAND ${Python3_EXECUTABLE} ${SYNACK_DIAGRAM_DIR}/diagram_synth.py $<TARGET_FILE:synack>)
set_tests_properties(tool_diagram_synth PROPERTIES LABELS tool TIMEOUT 120)

# formats, link types, options and bad input
add_test(NAME tool_diagram_files
  COMMAND ${SYNACK_DIAGRAM_DIR}/diagram_files.sh $<TARGET_FILE:synack>)
set_tests_properties(tool_diagram_files PROPERTIES LABELS tool TIMEOUT 120
  ENVIRONMENT "PYTHON3=${Python3_EXECUTABLE}")

# (expect.sh as in tool.cmake, which is included after this file)
add_test(NAME tool_diagram_help
  COMMAND ${SYNACK_DIAGRAM_DIR}/expect.sh 0 $<TARGET_FILE:synack> diagram --help --
  "^usage: synack diagram FILE \\[OPTIONS\\]" "--conn N" "--filter EXPR"
  "--list" "--absolute" "--full" "--svg FILE" "--json")
add_test(NAME tool_diagram_in_command_list
  COMMAND ${SYNACK_DIAGRAM_DIR}/expect.sh 0 $<TARGET_FILE:synack> --help --
  "^  diagram ")
set_tests_properties(tool_diagram_help tool_diagram_in_command_list
  PROPERTIES LABELS tool TIMEOUT 120)
