# Tests of `synack explain`'s rules on the simulator (acceptance 2 of issue
# 7): each stuck state is produced by a `synack sim` scenario and explained
# at a chosen virtual time with the same engine `synack explain` uses
# (tools/explain_rules.c); the checks require the right cause, the
# tunable or call that governs it, and the figures computed from the
# timers. The live side (control socket, Linux over TAP) is tested in
# tests/tool/ctl_test.sh (explain*) and tests/interop/12-explain-linux.sh.
if(NOT TARGET synack)
  return()
endif()

function(synack_explain_test name)
  add_test(NAME tool_explain_${name}
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/expect.sh 0 $<TARGET_FILE:synack>
            ${ARGN})
  set_tests_properties(tool_explain_${name} PROPERTIES LABELS tool
                       TIMEOUT 120)
endfunction()

# CLOSE-WAIT: B's application never closes; A, orphaned, in FIN-WAIT-2
# with tcp_fin_timeout running (60 s, 30 s left at 30 s).
synack_explain_test(close_wait sim app-never-closes -q --
  "^stack B \\(10\\.0\\.0\\.2, server\\)$"
  "^  CLOSE-WAIT 10\\.0\\.0\\.2:80 -> 10\\.0\\.0\\.1:[0-9]+, for 30 s \\[stuck: close-wait\\]$"
  "this application has not called close\\(\\)"
  "governed by: close\\(\\)"
  "^  FIN-WAIT-2 10\\.0\\.0\\.1:[0-9]+ -> 10\\.0\\.0\\.2:80, for 30 s \\[stuck: fin-wait-2-orphan\\]$"
  "governed by: tcp_fin_timeout=60 s \\(this socket is orphaned"
  "ends by itself in: 30 s$"
  "!nothing stuck")
# FIN-WAIT-2 of an application that only shut down writing: no timer.
synack_explain_test(fin_wait_2 sim peer-never-closes -q --
  "^  FIN-WAIT-2 10\\.0\\.0\\.1:[0-9]+ -> 10\\.0\\.0\\.2:80, for 30 s \\[stuck: fin-wait-2-half-closed\\]$"
  "^    governed by: close\\(\\) in the peer's application; tcp_fin_timeout \\(60 s\\)$"
  "ends by itself: never"
  "\\[stuck: close-wait\\]$")
# a shorter tcp_fin_timeout is what the explanation quotes, and its end
synack_explain_test(fin_timeout_tunable sim app-never-closes -q
  -o tcp_fin_timeout=45 --explain-at 5s --
  "for 5 s \\[stuck: fin-wait-2-orphan\\]$"
  "governed by: tcp_fin_timeout=45 s"
  "ends by itself in: 40 s$")
# TIME-WAIT: normal, 2MSL, what SO_REUSEADDR and reuse change, time left.
synack_explain_test(time_wait sim handshake --explain-at 10s -q --
  "^  TIME-WAIT 10\\.0\\.0\\.1:[0-9]+ -> 10\\.0\\.0\\.2:80, for 10 s \\[normal: time-wait\\]$"
  "waits 2MSL, 50 s left"
  "governed by: tcp_timewait_len=60 s \\(2MSL\\); SO_REUSEADDR and TIME-WAIT"
  "ends by itself in: 50 s$"
  "SO_REUSEADDR")
# SYN-SENT: the SYN retries and their times from tcp_syn_retries.
synack_explain_test(syn_sent sim silent-host -q --
  "^  SYN-SENT 10\\.0\\.0\\.1:[0-9]+ -> 10\\.0\\.0\\.2:81, for 10 s \\[stuck: syn-sent-no-answer\\]$"
  "3 retransmissions so far, connect\\(\\) fails after"
  "tcp_syn_retries=6$|tcp_syn_retries=6[^0-9]"
  "governed by: tcp_syn_retries=6, tcp_rto_initial_ms=1000"
  "ends by itself in: 117 s$"
  "resent 1, 3, 7,")
synack_explain_test(syn_sent_json sim silent-host --explain-json --
  "\"cause\":\"syn-sent-no-answer\""
  "\"ends_in_ms\":117000,"
  "resent 1, 3, 7, 15, 31, 63 s after the first one"
  "the RTO now in force is 8 s; it gives up in 117 s")
synack_explain_test(syn_retries_tunable sim silent-host -q
  -o tcp_syn_retries=3 --explain-at 2s --
  "\\[stuck: syn-sent-no-answer\\]$"
  "governed by: tcp_syn_retries=3"
  "ends by itself in: 13 s$")
# SYN-RECEIVED: the final ACK does not come; tcp_synack_retries, cookies.
synack_explain_test(syn_received sim half-open -q --
  "^  SYN-RECEIVED 10\\.0\\.0\\.2:80 -> 10\\.0\\.0\\.1:[0-9]+, for 10 s \\[stuck: syn-received-no-ack\\]$"
  "governed by: tcp_synack_retries=5; tcp_syncookies=1 and"
  "ends by itself in: 53 s$"
  "SYN flood")
# LAST-ACK: our FIN is not acknowledged; retransmitting; tcp_retries2.
synack_explain_test(last_ack sim fin-unacked -q --
  "^  LAST-ACK 10\\.0\\.0\\.2:80 -> 10\\.0\\.0\\.1:[0-9]+, for 19 s \\[stuck: last-ack-fin-unacked\\]$"
  "our FIN is not acknowledged: retransmitted [0-9]+ times"
  "governed by: tcp_retries2=15"
  "ends by itself in: [0-9]+ min"
  "\\[stuck: fin-wait-2-orphan\\]$")
# ESTABLISHED, zero window: the peer application is not reading.
synack_explain_test(zero_window sim receiver-stalls -q --
  "^  ESTABLISHED 10\\.0\\.0\\.1:[0-9]+ -> 10\\.0\\.0\\.2:80, for 30 s \\[stuck: zero-window\\]$"
  "the peer's window is zero: its application is not reading"
  "governed by: recv\\(\\) in the peer's application; zero-window probes"
  "^  ESTABLISHED 10\\.0\\.0\\.2:80 -> 10\\.0\\.0\\.1:[0-9]+, for 30 s \\[stuck: local-app-not-reading\\]$")
# Repeated retransmissions: loss, the RTO in force, tcp_retries2.
synack_explain_test(retransmissions sim link-down -q --
  "^  ESTABLISHED 10\\.0\\.0\\.1:[0-9]+ -> 10\\.0\\.0\\.2:80, for 30 s \\[stuck: retransmissions\\]$"
  "retransmitted 7 times without"
  "an ACK; RTO now 25\\.6 s$"
  "governed by: tcp_retries2=15 \\(then ETIMEDOUT\\)"
  "ends by itself in: 14 min 55 s$")
# JSON: one document, the cause as a field.
synack_explain_test(sim_json sim app-never-closes --explain-json --
  "^.\"processes\":.$"
  "\"state\":\"CLOSE-WAIT\".*\"verdict\":\"stuck\",\"cause\":\"close-wait\""
  "\"cause\":\"fin-wait-2-orphan\".*\"ends_in_ms\":300[0-9][0-9],"
  "!Explained at")
# healthy connections are not reported, unless --explain-all
synack_explain_test(healthy sim transfer --explain-at 0.02 -q --
  "nothing stuck"
  "!\\[stuck")
synack_explain_test(all sim transfer --explain-at 0.02 -q --explain-all --
  "\\[ok: ok\\]$")
# the ladder still prints, then the explanation
synack_explain_test(ladder sim app-never-closes --
  "\\(rcv FIN,ACK\\) CLOSE-WAIT$"
  "^Explained at 30 s of virtual time"
  "\\[stuck: close-wait\\]$")

# usage
add_test(NAME tool_explain_sim_usage
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/expect.sh 2 $<TARGET_FILE:synack>
          sim --explain-json -- "go with --explain-at")
add_test(NAME tool_explain_sim_bad_time
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/expect.sh 2 $<TARGET_FILE:synack>
          sim --explain-at soon -- "--explain-at")
add_test(NAME tool_explain_help
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/expect.sh 0 $<TARGET_FILE:synack>
          explain --help -- "^usage: synack explain" "--min-age SEC" "--json"
          "--all")
add_test(NAME tool_explain_bad_option
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/expect.sh 2 $<TARGET_FILE:synack>
          explain --frob -- "unknown option '--frob'")
set_tests_properties(tool_explain_sim_usage tool_explain_sim_bad_time
  tool_explain_help tool_explain_bad_option PROPERTIES LABELS tool TIMEOUT 60)

# `synack explain FILE`: the same rules on captures of these scenarios
# (made by synack sim --pcap), both ends inferred by tools/capinfer.
add_test(NAME tool_explain_capture
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/explain-capture.sh $<TARGET_FILE:synack>)
set_tests_properties(tool_explain_capture PROPERTIES LABELS tool TIMEOUT 120)
