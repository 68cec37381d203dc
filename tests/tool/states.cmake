# `synack states` (tools/states.c): the table, the DOT, usage errors.
# (--coverage: tests/pkt/fsm.cmake.)
if(NOT TARGET synack)
  return()
endif()
function(synack_states_test name status)
  add_test(NAME tool_states_${name}
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/expect.sh ${status} $<TARGET_FILE:synack> ${ARGN})
  set_tests_properties(tool_states_${name} PROPERTIES LABELS tool TIMEOUT 60)
endfunction()
synack_states_test(help 0 states --help --
  "usage: synack states \\[-o FILE\\] \\[--table \\| --tsv \\| --dot\\]"
  "--coverage PATH" "-o, --output FILE")
synack_states_test(in_command_list 0 --help -- "^  states ")
# the table: RFC names, events as the trace hook names them, seed-style sends
synack_states_test(table 0 states --
  "^0 +CLOSED +LISTEN +call listen +- +\\[RFC 9293 fig. 5\\] passive open$"
  "^[0-9]+ +LISTEN +SYN-RECEIVED +rcv SYN +SYN, ACK +\\[RFC 9293 fig. 5\\]"
  "^[0-9]+ +FIN-WAIT-1 +TIME-WAIT +rcv FIN,ACK +ACK +the FIN,ACK acks our FIN"
  "^[0-9]+ +TIME-WAIT +CLOSED +timeout 2MSL +- +\\[RFC 9293 fig. 5\\]"
  "^[0-9]+ +FIN-WAIT-2 +CLOSED +timeout tcp_fin_timeout "
  "^81 edges;")
synack_states_test(tsv 0 states --tsv --
  "^from\tto\tcause\tsend\tfigure5\tnote$"
  "^SYN-SENT\tSYN-RECEIVED\trcv SYN\tSYN, ACK\t1\tsimultaneous open$"
  "81*\t")
# the DOT: every state a node, both CLOSED, labels in the seed's style
synack_states_test(dot 0 states --dot --
  "^digraph tcp_states \\{$" "^\\}$"
  "^  \"SYN-RECEIVED\";$" "^  \"CLOSED_end\" \\[label=\"CLOSED\"\\];$"
  "\"LISTEN\" -> \"SYN-RECEIVED\" .penwidth=1.6, label=\"recv: SYN. send: SYN, ACK"
  "\"CLOSED\" -> \"SYN-SENT\" .penwidth=1.6, label=\"appl: connect. send: SYN"
  "\"TIME-WAIT\" -> \"CLOSED_end\" .penwidth=1.6, label=\"timeout: 2MSL"
  "\"ESTABLISHED\" -> \"CLOSED_end\" .style=dashed.*recv: RST.*appl: abort. send: RST, ACK")
synack_states_test(unknown_option 2 states --frob --
  "unknown option '--frob'" "usage: synack states")
synack_states_test(extra_argument 2 states --dot extra --
  "unexpected argument 'extra'")
synack_states_test(output_missing 2 states -o --
  "-o needs a file name")
synack_states_test(output_unwritable 1 states -o /nonexistent/dir/x.dot --dot --
  "/nonexistent/dir/x.dot: No such file or directory")
synack_states_test(coverage_missing 2 states --coverage --
  "--coverage needs a file or directory")
