# packetdrill scripts run by `synack packetdrill` (tools/pd_*.c), one ctest
# test per script: tests/pkt/<group>/<name>.pkt -> pd_<group>_<name>.
# tests/pkt/pending/ holds scripts waiting on a core fix (not registered);
# tests/pkt/broken/ holds deliberately wrong scripts checked by a wrapper.
if(TARGET synack)
  file(GLOB PD_SCRIPTS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/pkt/*/*.pkt)
  foreach(f ${PD_SCRIPTS})
    get_filename_component(dir ${f} DIRECTORY)
    get_filename_component(group ${dir} NAME)
    if(group STREQUAL "pending" OR group STREQUAL "broken")
      continue()
    endif()
    get_filename_component(n ${f} NAME_WE)
    string(REPLACE "-" "_" group_ ${group})
    string(REPLACE "-" "_" n_ ${n})
    add_test(NAME pd_${group_}_${n_} COMMAND $<TARGET_FILE:synack> packetdrill ${f})
    # state changes recorded for the edge-coverage check (fsm.cmake)
    set_tests_properties(pd_${group_}_${n_} PROPERTIES
      ENVIRONMENT "SYNACK_EDGE_LOG=${PROJECT_BINARY_DIR}/tests/fsm-edges/pd_${group_}_${n_}.edges"
      FIXTURES_REQUIRED fsm_edges_clean
      FIXTURES_SETUP fsm_edges)
  endforeach()
  add_test(NAME pd_broken_diff
    COMMAND ${PROJECT_SOURCE_DIR}/tests/pkt/pd_broken_check.sh
            $<TARGET_FILE:synack>
            ${PROJECT_SOURCE_DIR}/tests/pkt/broken/wrong-ack.pkt 12
            "+.04 > . 1:1(0) ack 999"
            "> . 1:1(0) ack 1001 win")
endif()

# docs/packetdrill.md's table of scripts per state matches the files.
add_test(NAME pd_doc_counts
  COMMAND ${PROJECT_SOURCE_DIR}/tests/pkt/pd_doc_counts.sh ${PROJECT_SOURCE_DIR})

# Shell lines are refused: exit 2 and the line named.
add_test(NAME pd_refuses_shell
  COMMAND sh -c "out=$(\"$0\" packetdrill \"$1\" 2>&1); rc=$?; echo \"$out\"; [ $rc -eq 2 ] && case $out in *shell-line.pkt:5:*shell*) exit 0;; esac; exit 1"
          $<TARGET_FILE:synack> ${PROJECT_SOURCE_DIR}/tests/pkt/broken/shell-line.pkt)
