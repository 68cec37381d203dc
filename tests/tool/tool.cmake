# Tests of the synack command (tools/): every `synack sim` scenario shows
# the states and segments it is about and exits 0; lossy transfers are
# byte-exact; bad usage exits 2 with a message; the same seed gives the
# same output; --pcap writes a capture tshark reads cleanly.
#
# tool_<name>: expect.sh STATUS synack ARGS -- CHECKS (see expect.sh).
# Regexes: "A is in X" is `  X +(...)` right after the time column; a state
# change of B ends its row: `(cause) X$`.
if(NOT TARGET synack)
  return()
endif()

set(SYNACK_TOOL_DIR ${CMAKE_CURRENT_LIST_DIR})

function(synack_tool_test name status)
  add_test(NAME tool_${name}
    COMMAND ${SYNACK_TOOL_DIR}/expect.sh ${status} $<TARGET_FILE:synack> ${ARGN})
  set_tests_properties(tool_${name} PROPERTIES LABELS tool TIMEOUT 120)
endfunction()

# ---- the command itself -----------------------------------------------------
synack_tool_test(help 0 --help -- "usage: synack COMMAND" "  sim ")
synack_tool_test(version 0 --version -- "^synack [0-9]+\\.[0-9]+\\.[0-9]+$")
synack_tool_test(no_command 2 -- "usage: synack COMMAND")
synack_tool_test(unknown_command 2 frob --
  "unknown command 'frob'" "usage: synack COMMAND")
synack_tool_test(sim_help 0 sim --help --
  "usage: synack sim \\[SCENARIO\\] \\[OPTIONS\\]"
  "^  transfer " "^  handshake " "^  half-close " "^  simultaneous-open "
  "^  simultaneous-close " "^  rst " "^  lost-fin " "^  time-wait "
  "^  keepalive " "^  refused " "--loss P" "--pcap FILE" "-o NAME=VALUE"
  "--ladder MODE" "--absolute" "--quiet")
synack_tool_test(sim_list_tunables 0 sim --list-tunables --
  "^tcp_syn_retries +6 " "^tcp_keepalive_time +7200 " "^tcp_timewait_len +60 "
  "^tcp_rmem +4096 131072 6291456 ")

# ---- scenarios ----------------------------------------------------------------
# handshake: the classic ladder, every state of both ends with its cause.
synack_tool_test(sim_handshake 0 sim handshake --
  "^ +TIME  TCP A +TCP B$"
  "^ +1\\. +0\\.000000  CLOSED +CLOSED$"
  "\\(call listen\\) LISTEN$"
  "  SYN-SENT +\\(call connect\\)"
  "  SYN-SENT +--> <SEQ=0><CTL=SYN><WND=[0-9]+><MSS=1460>"
  "\\(rcv SYN\\) SYN-RECEIVED$"
  "  SYN-SENT +<-- <SEQ=0><ACK=1><CTL=SYN,ACK>.* <-- SYN-RECEIVED$"
  "  ESTABLISHED +\\(rcv SYN,ACK\\)"
  "\\(rcv ACK\\) ESTABLISHED$"
  "  FIN-WAIT-1 +\\(call close\\)"
  "  FIN-WAIT-1 +--> <SEQ=1><ACK=1><CTL=FIN,ACK>"
  "\\(rcv FIN,ACK\\) CLOSE-WAIT$"
  "\\(call close\\) LAST-ACK$"
  "  FIN-WAIT-2 +\\(rcv ACK\\)"
  "  TIME-WAIT +\\(rcv FIN,ACK\\)"
  "  TIME-WAIT +--> <SEQ=2><ACK=2><CTL=ACK>"
  "\\(rcv ACK\\) CLOSED$"
  "^ +[0-9]+\\. +60\\.[0-9]+  CLOSED +\\(timeout 2MSL\\) +CLOSED$"
  "final state   A CLOSED, B CLOSED"
  "result +OK$")
# the default scenario is transfer: 100 KiB, ladder shortened
synack_tool_test(sim_transfer_default 0 sim --
  "^synack sim transfer: " "100 KiB"
  "102400 bytes sent, 102400 received .*byte-exact: yes"
  "rows left out \\(--ladder full shows every row\\)"
  "  FIN-WAIT-1 +\\(call close\\)" "\\(rcv FIN,PSH,ACK\\) CLOSE-WAIT$"
  "\\(timeout 2MSL\\)" "goodput A->B" "result +OK$")
synack_tool_test(sim_transfer_full 0 sim transfer --bytes 20K --ladder full --
  "20480 bytes sent, 20480 received .*byte-exact: yes"
  "!left out" "15*<LEN=[0-9]+>" "result +OK$")
# half-close: data from B reaches A while A is in FIN-WAIT-2
synack_tool_test(sim_half_close 0 sim half-close --
  "  FIN-WAIT-1 +\\(call shutdown\\)"
  "  FIN-WAIT-2 +\\(rcv ACK\\) +CLOSE-WAIT$"
  "  FIN-WAIT-2 +<-- <SEQ=[0-9]+><ACK=[0-9]+><CTL=[A-Z,]+><LEN=[0-9]+>.* <-- CLOSE-WAIT$"
  "\\(call close\\) LAST-ACK$"
  "  TIME-WAIT +\\(rcv FIN"
  "A received data in FIN-WAIT-2 \\([1-9][0-9]* bytes\\): yes"
  "2*byte-exact: yes" "result +OK$")
# simultaneous open: both SYN-SENT -> SYN-RECEIVED, no listener anywhere
synack_tool_test(sim_simultaneous_open 0 sim simultaneous-open --
  "  SYN-SENT +\\(call connect\\) +CLOSED$"
  "\\(call connect\\) SYN-SENT$"
  "  SYN-RECEIVED +\\(rcv SYN\\) +SYN-SENT$"
  "  SYN-RECEIVED +\\(rcv SYN\\) SYN-RECEIVED$"
  "  SYN-RECEIVED +--> <SEQ=0><ACK=1><CTL=SYN,ACK>"
  "  ESTABLISHED +\\(rcv SYN,ACK\\)"
  "\\(rcv SYN,ACK\\) ESTABLISHED$"
  "A: SYN-SENT -> SYN-RECEIVED -> ESTABLISHED \\(simultaneous open\\): yes"
  "B: SYN-SENT -> SYN-RECEIVED -> ESTABLISHED \\(simultaneous open\\): yes"
  "!LISTEN" "result +OK$")
# simultaneous close: FIN-WAIT-1 -> CLOSING -> TIME-WAIT on both ends
synack_tool_test(sim_simultaneous_close 0 sim simultaneous-close --
  "  FIN-WAIT-1 +\\(call close\\)"
  "\\(call close\\) FIN-WAIT-1$"
  "  CLOSING +\\(rcv FIN,ACK\\)"
  "\\(rcv FIN,ACK\\) CLOSING$"
  "  TIME-WAIT +\\(rcv ACK\\)"
  "\\(rcv ACK\\) TIME-WAIT$"
  "2*\\(timeout 2MSL\\)"
  "!CLOSE-WAIT" "!LAST-ACK"
  "A: FIN-WAIT-1 -> CLOSING -> TIME-WAIT -> CLOSED \\(simultaneous close\\): yes"
  "B: FIN-WAIT-1 -> CLOSING -> TIME-WAIT -> CLOSED \\(simultaneous close\\): yes"
  "result +OK$")
synack_tool_test(sim_simultaneous_close_data 0 sim simultaneous-close --bytes 30K --
  "\\(rcv FIN,ACK\\) CLOSING$" "  CLOSING +\\(rcv FIN" "byte-exact: yes"
  "result +OK$")
# rst: A aborts mid-transfer, B's recv fails with ECONNRESET
synack_tool_test(sim_rst 0 sim rst --ladder full --
  "--> <SEQ=[0-9]+><ACK=[0-9]+><CTL=RST,ACK>"
  "  CLOSED +\\(call abort\\)"
  "\\(rcv RST,ACK\\) CLOSED$"
  "B: connection reset by the RST .*ECONNRESET: yes"
  "byte-exact: yes" "result +OK$")
# lost-fin: the link drops A's first FIN, A retransmits it
synack_tool_test(sim_lost_fin 0 sim lost-fin --
  "drops frame #[0-9]+ \\(A's first FIN\\)"
  "  FIN-WAIT-1 +--> <SEQ=1><ACK=1><CTL=FIN,ACK>.* --X .*  lost$"
  "  FIN-WAIT-1 +--> <SEQ=1><ACK=1><CTL=FIN,ACK>.* --> .*  retransmission$"
  "\\(rcv FIN,ACK\\) CLOSE-WAIT$"
  "A retransmitted its FIN \\([1-9]"
  "1 lost" "result +OK$")
synack_tool_test(sim_lost_fin_data 0 sim lost-fin --bytes 3000 --
  "CTL=FIN,PSH,ACK><LEN=[0-9]+>.* --X .*lost"
  "CTL=FIN,PSH,ACK><LEN=[0-9]+>.* --> .*retransmission"
  "byte-exact: yes" "result +OK$")
# time-wait: A's last ACK is lost, B retransmits its FIN, A re-ACKs it in
# TIME-WAIT and waits 2MSL from then
synack_tool_test(sim_time_wait 0 sim time-wait --
  "  TIME-WAIT +--> <SEQ=2><ACK=2><CTL=ACK>.* --X .*lost$"
  "  TIME-WAIT +<-- <SEQ=1><ACK=2><CTL=FIN,ACK>.* <-- LAST-ACK +retransmission$"
  "  TIME-WAIT +--> <SEQ=2><ACK=2><CTL=ACK>.* --> LAST-ACK$"
  "\\(rcv ACK\\) CLOSED$"
  "^ +[0-9]+\\. +60\\.2[0-9]+  CLOSED +\\(timeout 2MSL\\)"
  "A re-ACKed the retransmitted FIN in TIME-WAIT: yes"
  "A stayed in TIME-WAIT 2MSL \\(60s\\) after the last FIN: 60\\.0+ s: yes"
  "result +OK$")
# keepalive: probes answered, link down, unanswered probes, reset
synack_tool_test(sim_keepalive 0 sim keepalive --
  "tcp_keepalive_time=10"
  "^ +[0-9]+\\. +10\\.[0-9]+  ESTABLISHED +--> <SEQ=0><ACK=1><CTL=ACK>.* --> ESTABLISHED +keepalive probe$"
  "link down" "3*--X ESTABLISHED +lost \\(link down\\), keepalive probe$"
  "  CLOSED +\\(timeout keepalive\\)"
  "link up again" "\\(rcv RST\\) CLOSED$"
  "A reset the connection after the last probe .*ETIMEDOUT: yes"
  "B's late write was answered with RST: error ECONNRESET: yes"
  "result +OK$")
# refused: RST from a closed port, ECONNREFUSED
synack_tool_test(sim_refused 0 sim refused --
  "B drops it: no connection or listener for segment"
  "  SYN-SENT +<-- <SEQ=0><ACK=1><CTL=RST,ACK>"
  "  CLOSED +\\(rcv RST,ACK\\)"
  "A's connect failed: ECONNREFUSED: yes" "result +OK$")

# ---- impairments ------------------------------------------------------------
synack_tool_test(sim_10M_loss5 0 sim --bytes 10M --loss 5 --seed 3 --
  "10485760 bytes sent, 10485760 received .*byte-exact: yes"
  "A sent [0-9]+ \\([1-9][0-9]* retransmitted\\)"
  "final state   A CLOSED, B CLOSED" "result +OK$")
synack_tool_test(sim_all_impairments 0 sim --bytes 2M --loss 2 --reorder 2
  --dup 2% --corrupt 1 --jitter 1 --seed 9 --
  "2097152 bytes sent, 2097152 received .*byte-exact: yes"
  "reordered" "duplicated" "corrupted" "B drops it: TCP checksum wrong"
  "result +OK$")
synack_tool_test(sim_rate 0 sim --bytes 1M --rate 10 --quiet --
  "goodput A->B  [0-9]\\.[0-9]+ Mbit/s" "byte-exact: yes" "result +OK$")
synack_tool_test(sim_half_close_lossy 0 sim half-close --bytes 300K --loss 3
  --seed 5 -- "2*byte-exact: yes" "result +OK$")

# ---- options ----------------------------------------------------------------
synack_tool_test(sim_quiet 0 sim handshake --quiet --
  "!-->" "!<--" "!synack sim handshake:" "^Summary" "result +OK$")
synack_tool_test(sim_ladder_none 0 sim handshake --ladder none --
  "!-->" "^synack sim handshake:" "^Summary")
synack_tool_test(sim_absolute 0 sim handshake --absolute --
  "Sequence numbers are absolute" "--> <SEQ=[0-9]{5,}><CTL=SYN>"
  "!<SEQ=1><ACK=1>")
# -o reaches both stacks: TIME-WAIT of 5 s on both ends
synack_tool_test(sim_tunable 0 sim simultaneous-close -o tcp_timewait_len=5 --
  "Tunables \\(-o\\): tcp_timewait_len=5"
  "2*^ +[0-9]+\\. +5\\.0[0-9]+  CLOSED .*timeout 2MSL" "result +OK$")
synack_tool_test(sim_percent_forms 0 sim --bytes 50K --loss 2% --dup 0.5
  --quiet -- "byte-exact: yes" "result +OK$")

# ---- failures are reported: exit 1 with the reason --------------------------
synack_tool_test(sim_detects_bad_byte 1 sim --bytes 300K --test-flip-rx 200000
  --quiet -- "byte-exact: NO" "data differs at byte 200000"
  "synack sim: FAILED: A -> B: data differs at byte 200000" "result +FAILED")
synack_tool_test(sim_time_limit 1 sim handshake --time-limit 10 --quiet --
  "synack sim: FAILED: time limit reached at 10\\.000000 s.*A TIME-WAIT"
  "result +FAILED")

# the link eats everything: 1 + 2 SYNs (-o tcp_syn_retries=2), ETIMEDOUT
synack_tool_test(sim_connect_timeout 1 sim handshake --loss 100
  -o tcp_syn_retries=2 --
  "  SYN-SENT +--> <SEQ=0><CTL=SYN>.* --X LISTEN +lost$"
  "2*  SYN-SENT +--> <SEQ=0><CTL=SYN>.* --X LISTEN +lost, retransmission$"
  "A sent 3 \\(2 retransmitted\\)" "  CLOSED +\\(timeout retransmission\\)"
  "synack sim: FAILED: A: the application got ETIMEDOUT"
  "stalled at .*B LISTEN 10\\.0\\.0\\.2:80-\\*")

# ---- bad usage: exit 2 with a message naming the problem ----------------------
synack_tool_test(sim_bad_scenario 2 sim nosuch --
  "synack sim: unknown scenario 'nosuch'; the scenarios are: transfer handshake")
synack_tool_test(sim_bad_percent 2 sim --loss 150 --
  "synack sim: --loss: '150' is not a percentage from 0 to 100")
synack_tool_test(sim_bad_percent_text 2 sim --reorder abc --
  "synack sim: --reorder: 'abc' is not a percentage")
synack_tool_test(sim_bad_percent_negative 2 sim --dup=-1 --
  "synack sim: --dup: '-1' is not a percentage")
synack_tool_test(sim_missing_value 2 sim --corrupt --
  "synack sim: --corrupt needs a value")
synack_tool_test(sim_bad_tunable 2 sim -o tcp_nope=1 --
  "synack sim: -o tcp_nope=1: unknown tunable tcp_nope \\(see synack sim --list-tunables\\)")
synack_tool_test(sim_bad_tunable_value 2 sim -o tcp_syn_retries=abc --
  "synack sim: -o tcp_syn_retries=abc: invalid value 'abc' \\(tcp_syn_retries: ")
synack_tool_test(sim_bad_tunable_range 2 sim -o tcp_syn_retries=0 --
  "synack sim: -o tcp_syn_retries=0: value out of range \\(tcp_syn_retries: .*accepted: 1 to 127\\)")
synack_tool_test(sim_bad_tunable_vector 2 sim "-o" "tcp_rmem=1 2 3" --
  "synack sim: -o tcp_rmem=1 2 3: value out of range \\(tcp_rmem: " "!accepted")
synack_tool_test(sim_tunable_vector 0 sim handshake -q "-otcp_rmem=4096 65536 65536"
  -- "result +OK$")
synack_tool_test(sim_bad_tunable_form 2 sim -o tcp_syn_retries --
  "synack sim: -o: 'tcp_syn_retries' is not NAME=VALUE")
synack_tool_test(sim_bad_bytes 2 sim --bytes 10X --
  "synack sim: --bytes: '10X' is not a size")
synack_tool_test(sim_bad_ladder 2 sim --ladder bogus --
  "synack sim: --ladder: 'bogus' is not full, auto or none")
synack_tool_test(sim_bad_option 2 sim --frob --
  "synack sim: unknown option '--frob'")
synack_tool_test(sim_bad_delay 2 sim --delay fast --
  "synack sim: --delay: 'fast' is not a time in ms")
synack_tool_test(sim_bad_seed 2 sim --seed -3 --
  "synack sim: --seed: '-3' is not a non-negative integer")
synack_tool_test(sim_two_scenarios 2 sim rst refused --
  "synack sim: one scenario at a time")
synack_tool_test(sim_bad_pcap 2 sim handshake --pcap /nonexistent-dir/x.pcap --
  "synack sim: --pcap /nonexistent-dir/x.pcap: cannot open for writing")

# ---- reproducibility and captures ---------------------------------------------
add_test(NAME tool_sim_same_seed
  COMMAND ${SYNACK_TOOL_DIR}/same-seed.sh $<TARGET_FILE:synack>
          --bytes 1M --loss 3 --reorder 2 --dup 1 --corrupt 1 --jitter 2
          --ladder full)
add_test(NAME tool_sim_pcap_transfer
  COMMAND ${SYNACK_TOOL_DIR}/pcap.sh $<TARGET_FILE:synack>
          --bytes 200K --loss 2 --reorder 1 --dup 1 --seed 4 --quiet)
add_test(NAME tool_sim_pcap_scenarios
  COMMAND sh -c "for s in handshake half-close simultaneous-open simultaneous-close rst lost-fin time-wait keepalive refused; do \"$0\" \"$1\" $s --quiet || exit 1; done"
          ${SYNACK_TOOL_DIR}/pcap.sh $<TARGET_FILE:synack>)
set_tests_properties(tool_sim_same_seed tool_sim_pcap_transfer
  tool_sim_pcap_scenarios PROPERTIES LABELS tool TIMEOUT 120)

# Header prediction changes nothing on the wire (issue 6: no fast path
# bypasses the rules): the same impaired transfer with tcp_fast_path on
# and off gives byte-identical pcaps.
add_test(NAME tool_sim_fast_path_same
  COMMAND ${SYNACK_TOOL_DIR}/fast-path-same.sh $<TARGET_FILE:synack>
          --bytes 4M --loss 2 --reorder 2 --dup 1 --seed 7)
add_test(NAME tool_sim_fast_path_same_clean
  COMMAND ${SYNACK_TOOL_DIR}/fast-path-same.sh $<TARGET_FILE:synack>
          --bytes 4M --seed 8)
set_tests_properties(tool_sim_fast_path_same tool_sim_fast_path_same_clean
  PROPERTIES LABELS tool TIMEOUT 120)

# SACK blocks are drawn on the rows that carry them, relative like the ACK
# (RFC 2018: the receiver reports what it holds above the hole): the first
# frame of this seed is lost (bytes 4345-5792), the next ACKs SACK above it.
synack_tool_test(sim_sack_blocks 0 sim transfer --bytes 50K --loss 3 --seed 4
  --ladder full --
  "<-- <SEQ=1><ACK=4345><CTL=ACK><WND=[0-9]+><SACK=5793-7241> +<--"
  "<-- <SEQ=1><ACK=4345><CTL=ACK><WND=[0-9]+><SACK=5793-8689> +<--")
