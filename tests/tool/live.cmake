# Argument handling of the live subcommands (echo, discard, http, listen,
# connect): --help, and bad usage exits 2 with a message naming the option,
# all before any TAP device is touched (no privileges needed). Transfers
# against Linux over a real TAP are in tests/interop/.
#
# tool_live_<name>: expect.sh STATUS synack ARGS -- CHECKS (see expect.sh).
if(NOT TARGET synack)
  return()
endif()

# synack_expect_test(GROUP NAME STATUS ARGS... -- CHECKS...): the test
# tool_GROUP_NAME; also used by svg.cmake (included after this file).
function(synack_expect_test group name status)
  add_test(NAME tool_${group}_${name}
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/expect.sh ${status}
            $<TARGET_FILE:synack> ${ARGN})
  set_tests_properties(tool_${group}_${name} PROPERTIES LABELS tool TIMEOUT 60)
endfunction()
function(synack_live_test name status)
  synack_expect_test(live ${name} ${status} ${ARGN})
endfunction()

set(LIVE_OK --tap synt0 --ip 10.9.0.2/24)

# ---- --help ------------------------------------------------------------------
synack_live_test(echo_help 0 echo --help --
  "^usage: synack echo --tap IF --ip A.B.C.D/N \\[OPTIONS\\] \\[--port N\\]"
  "--host-ip" "--mac" "--gateway" "default 7\\)" "--loss P" "--pcap FILE"
  "-o NAME=VALUE" "!--root")
synack_live_test(discard_help 0 discard -h -- "^usage: synack discard " "default 9\\)")
synack_live_test(http_help 0 http --help --
  "^usage: synack http .*\\[--root DIR\\]" "default 80\\)" "--root DIR")
synack_live_test(listen_help 0 listen --help --
  "^usage: synack listen --tap IF --ip A.B.C.D/N \\[OPTIONS\\] PORT" "!--port N")
synack_live_test(connect_help 0 connect --help --
  "^usage: synack connect --tap IF --ip A.B.C.D/N \\[OPTIONS\\] HOST PORT")
synack_live_test(list_tunables 0 echo --list-tunables -- "^tcp_syn_retries +6 ")

# ---- required options ----------------------------------------------------------
synack_live_test(no_tap 2 echo --ip 10.9.0.2/24 --
  "synack echo: --tap IF is required")
synack_live_test(no_ip 2 discard --tap synt0 --
  "synack discard: --ip A.B.C.D/N is required")
synack_live_test(no_args 2 http -- "synack http: --tap IF is required")
synack_live_test(listen_no_port 2 listen ${LIVE_OK} --
  "synack listen: missing PORT")
synack_live_test(connect_no_host 2 connect ${LIVE_OK} --
  "synack connect: missing HOST and PORT")
synack_live_test(connect_no_port 2 connect ${LIVE_OK} 10.9.0.1 --
  "synack connect: missing PORT")

# ---- bad values ------------------------------------------------------------------
synack_live_test(ip_no_prefix 2 echo --tap synt0 --ip 10.9.0.2 --
  "synack echo: --ip: '10.9.0.2' is not an IPv4 address with a prefix length")
synack_live_test(ip_bad 2 echo --tap synt0 --ip 10.9.0.300/24 --
  "synack echo: --ip: '10.9.0.300/24' is not an IPv4 address")
synack_live_test(ip_bad_prefix 2 echo --tap synt0 --ip 10.9.0.2/33 --
  "synack echo: --ip: '10.9.0.2/33' is not")
synack_live_test(ip_missing_value 2 echo --tap synt0 --ip --
  "synack echo: --ip needs a value")
synack_live_test(host_ip_bad 2 echo ${LIVE_OK} --host-ip 10.9.0.1 --
  "synack echo: --host-ip: '10.9.0.1' is not an IPv4 address with a prefix")
synack_live_test(host_ip_same 2 echo ${LIVE_OK} --host-ip 10.9.0.2/24 --
  "synack echo: --host-ip must differ from --ip")
synack_live_test(gateway_bad 2 echo ${LIVE_OK} --gateway 10.9.0.1/24 --
  "synack echo: --gateway: '10.9.0.1/24' is not a unicast IPv4 address")
synack_live_test(mac_bad 2 echo ${LIVE_OK} --mac 02:00:00:00:00 --
  "synack echo: --mac: '02:00:00:00:00' is not a unicast MAC address")
synack_live_test(mac_multicast 2 echo ${LIVE_OK} --mac 01:00:5e:00:00:01 --
  "synack echo: --mac: '01:00:5e:00:00:01' is a multicast address")
synack_live_test(tap_too_long 2 echo --tap abcdefghijklmnop --ip 10.9.0.2/24 --
  "synack echo: --tap: 'abcdefghijklmnop' is not an interface name")
synack_live_test(port_bad 2 echo ${LIVE_OK} --port 70000 --
  "synack echo: --port: '70000' is not a port number from 1 to 65535")
synack_live_test(port_zero 2 discard ${LIVE_OK} --port=0 --
  "synack discard: --port: '0' is not a port number")
synack_live_test(listen_bad_port 2 listen ${LIVE_OK} http --
  "synack listen: PORT: 'http' is not a port number")
synack_live_test(connect_bad_host 2 connect ${LIVE_OK} example.org 80 --
  "synack connect: HOST: 'example.org' is not a unicast IPv4 address")
synack_live_test(unknown_option 2 echo ${LIVE_OK} --frob --
  "synack echo: unknown option '--frob' \\(see synack echo --help\\)")
synack_live_test(root_not_for_echo 2 echo ${LIVE_OK} --root /tmp --
  "synack echo: unknown option '--root'")
synack_live_test(port_not_for_listen 2 listen ${LIVE_OK} --port 5 5 --
  "synack listen: unknown option '--port'")
synack_live_test(extra_argument 2 echo ${LIVE_OK} extra --
  "synack echo: unexpected argument 'extra'")
synack_live_test(connect_extra_argument 2 connect ${LIVE_OK} 10.9.0.1 80 x --
  "synack connect: unexpected argument 'x'")
synack_live_test(bad_loss 2 echo ${LIVE_OK} --loss 101 --
  "synack echo: --loss: '101' is not a percentage from 0 to 100")
synack_live_test(bad_seed 2 discard ${LIVE_OK} --seed x --
  "synack discard: --seed: 'x' is not a non-negative integer")
synack_live_test(bad_tunable 2 echo ${LIVE_OK} -o tcp_nope=1 --
  "synack echo: -o tcp_nope=1: unknown tunable tcp_nope")
synack_live_test(bad_tunable_range 2 listen ${LIVE_OK} -o tcp_syn_retries=0 1 --
  "synack listen: -o tcp_syn_retries=0: value out of range")
synack_live_test(http_bad_root 2 http ${LIVE_OK} --root /nonexistent-synack-dir --
  "synack http: --root /nonexistent-synack-dir: No such file or directory")
synack_live_test(http_root_file 2 http ${LIVE_OK} --root ${CMAKE_CURRENT_LIST_FILE} --
  "synack http: --root .*live.cmake: not a directory")
synack_live_test(gateway_off_link 2 echo ${LIVE_OK} --gateway 192.168.1.1 --
  "synack echo: --gateway must be another address inside synack's subnet")
synack_live_test(wait_closed_not_for_echo 2 echo ${LIVE_OK} --wait-closed --
  "synack echo: unknown option '--wait-closed'")
synack_live_test(listen_help_wait_closed 0 listen --help -- "--wait-closed")
