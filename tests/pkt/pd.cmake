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
  endforeach()
  add_test(NAME pd_broken_diff
    COMMAND ${PROJECT_SOURCE_DIR}/tests/pkt/pd_broken_check.sh
            $<TARGET_FILE:synack>
            ${PROJECT_SOURCE_DIR}/tests/pkt/broken/wrong-ack.pkt 12
            "+.04 > . 1:1(0) ack 999"
            "> . 1:1(0) ack 1001 win")
endif()
