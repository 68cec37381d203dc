#!/usr/bin/env bash
# Case 7: under impairment (`--loss 2% --reorder 1% --dup 1%`, applied by
# synack to the frames it sends and receives on the TAP): 50 MiB byte-exact
# each way at once between `synack connect` and a Linux server, then 50 MiB
# echoed by `synack echo` to a Linux client (both directions again, synack
# as the server).
set -euo pipefail
INTEROP_CASE=impaired
. "$(dirname "$0")/lib.sh"
interop_init "$@"

size=52428800
imp=(--loss 2% --reorder 1% --dup 1% --seed "${SYNACK_INTEROP_SEED:-7}")
randfile "$TMP/up.bin" $size
randfile "$TMP/down.bin" $size

section "synack connect <-> Linux server, 50 MiB each way, ${imp[*]}"
peer_server server server 5001 --send "$TMP/down.bin"
t0=$(now)
START_STDIN=$TMP/up.bin start connect "$SYNACK" connect "${TAPOPTS[@]}" \
    "${imp[@]}" "$HOST_IP" 5001
cpid=$LAST_PID
wait_exit "$cpid" 900
t1=$(now)
[ "$WAIT_RC" -eq 0 ] || fail "synack connect exited with $WAIT_RC: $(tail -n 5 "$TMP/connect.err")"
wait_exit "$PEER_PID" 30
[ "$WAIT_RC" -eq 0 ] || fail "the Linux server exited with $WAIT_RC"
r=$TMP/server.out
same "bytes the server received" "$(field received "$r")" $size
same "sha256 of what the server received" "$(field received_sha256 "$r")" "$(sha "$TMP/up.bin")"
same "bytes synack wrote to stdout" "$(stat -c %s "$TMP/connect.out")" $size
same "sha256 of synack's stdout" "$(sha "$TMP/connect.out")" "$(sha "$TMP/down.bin")"
say "2 x 50 MiB in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s"

section "Linux client -> synack echo, 50 MiB, ${imp[*]}"
synack_server echo echo "${imp[@]}"
t0=$(now)
nsx timeout 900 "${PEER[@]}" client "$SYNACK_IP" 7 --send "$TMP/up.bin" \
    >"$TMP/client.out" 2>"$TMP/client.err" ||
    fail "client exited with $?: $(cat "$TMP/client.err")"
t1=$(now)
r=$TMP/client.out
same "bytes echoed" "$(field received "$r")" $size
same "sha256 of the echo" "$(field received_sha256 "$r")" "$(sha "$TMP/up.bin")"
say "50 MiB echoed in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s"
stop_server "synack echo"
pass
