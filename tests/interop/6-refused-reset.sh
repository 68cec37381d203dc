#!/usr/bin/env bash
# Case 6: refused and reset.
#  a. `synack connect` to a port nobody listens on in Linux: the kernel
#     answers RST; synack exits 1 and says "refused".
#  b. A Linux client connects to a synack port nobody listens on (synack
#     echo runs, on port 7 only): ConnectionRefusedError.
#  c. A Linux server reads 1 MiB of what `synack connect` sends, then closes
#     with SO_LINGER {1, 0} (an RST, not a FIN) while synack still sends:
#     synack exits 1 and reports ECONNRESET ("reset").
set -euo pipefail
INTEROP_CASE=refused
. "$(dirname "$0")/lib.sh"
interop_init "$@"

section "synack connect -> closed Linux port"
start c1 "$SYNACK" connect "${TAPOPTS[@]}" "$HOST_IP" 5999
wait_exit "$LAST_PID" 60
same "exit status of synack connect" "$WAIT_RC" 1
grep -i 'refused' "$TMP/c1.err" >/dev/null ||
    fail "synack connect did not say 'refused': $(cat "$TMP/c1.err")"
say "synack said: $(grep -i refused "$TMP/c1.err" | head -n 1)"

section "Linux connect -> closed synack port"
synack_server echo echo
nsx timeout 60 "${PEER[@]}" refused "$SYNACK_IP" 5999 >"$TMP/refused.out" 2>"$TMP/refused.err" ||
    fail "the Linux client was not refused: $(cat "$TMP/refused.err")"
say "Linux said: $(cat "$TMP/refused.out")"
# the server is still fine afterwards
nsx timeout 60 "${PEER[@]}" client "$SYNACK_IP" 7 --send-bytes 1000 >"$TMP/after.out" 2>&1 ||
    fail "echo after the refused connection failed: $(cat "$TMP/after.out")"
same "echo after the refused connection" "$(field received_sha256 "$TMP/after.out")" \
    "$(field sent_sha256 "$TMP/after.out")"
stop_server "synack echo"

section "Linux peer aborts (SO_LINGER 0) mid-transfer"
randfile "$TMP/big.bin" 67108864
peer_server rst rst-server 5007 1048576
START_STDIN=$TMP/big.bin start c2 "$SYNACK" connect "${TAPOPTS[@]}" "$HOST_IP" 5007
cpid=$LAST_PID
wait_exit "$PEER_PID" 60
[ "$WAIT_RC" -eq 0 ] || fail "the Linux server exited with $WAIT_RC"
say "Linux server: $(cat "$TMP/rst.out")"
wait_exit "$cpid" 60
same "exit status of synack connect" "$WAIT_RC" 1
grep -iE 'reset|ECONNRESET' "$TMP/c2.err" >/dev/null ||
    fail "synack connect did not report a reset: $(cat "$TMP/c2.err")"
say "synack said: $(grep -iE 'reset' "$TMP/c2.err" | head -n 1)"
pass
