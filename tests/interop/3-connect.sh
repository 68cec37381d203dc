#!/usr/bin/env bash
# Case 3: `synack connect` -> a Linux server (peer.py server): 100 MiB each
# way at once, byte-exact (synack's stdin from a file, its stdout to a
# file). Half-close: EOF on synack's stdin sends our FIN; the server sends
# 4 MiB more only after it has read that FIN (EOF), and all of it must
# arrive while synack is in FIN-WAIT-2. Then a small exchange where the
# server answers only after our FIN. The capture is left for case 8.
set -euo pipefail
INTEROP_CASE=connect
. "$(dirname "$0")/lib.sh"
interop_init "$@"

size=104857600
after=4194304
randfile "$TMP/up.bin" $size
randfile "$TMP/down.bin" $size
pcap=$TMP/connect.pcap

section "100 MiB each way, then 4 MiB after our FIN"
peer_server server server 5001 --send "$TMP/down.bin" --after-eof $after \
    --out "$TMP/server-got.bin"
t0=$(now)
START_STDIN=$TMP/up.bin start connect "$SYNACK" connect "${TAPOPTS[@]}" \
    --pcap "$pcap" "$HOST_IP" 5001
cpid=$LAST_PID
wait_exit "$cpid" 600
t1=$(now)
[ "$WAIT_RC" -eq 0 ] || fail "synack connect exited with $WAIT_RC: $(tail -n 5 "$TMP/connect.err")"
wait_exit "$PEER_PID" 30
[ "$WAIT_RC" -eq 0 ] || fail "the Linux server exited with $WAIT_RC"
r=$TMP/server.out
same "bytes the server received" "$(field received "$r")" $size
same "sha256 of what the server received" "$(field received_sha256 "$r")" "$(sha "$TMP/up.bin")"
same "bytes the server sent" "$(field sent "$r")" $((size + after))
same "bytes the server sent after our FIN" "$(field after_eof "$r")" $after
same "bytes synack wrote to stdout" "$(stat -c %s "$TMP/connect.out")" $((size + after))
same "sha256 of synack's stdout" "$(sha "$TMP/connect.out")" "$(field sent_sha256 "$r")"
cmp -s -n $size "$TMP/connect.out" "$TMP/down.bin" || fail "the first 100 MiB of stdout differ from the file sent"
say "200 MiB (+4 MiB) in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s"

section "half-close: the server answers only after our FIN"
peer_server server2 server 5002 --after-eof 1048576
printf 'request\n' >"$TMP/req.txt"
START_STDIN=$TMP/req.txt start connect2 "$SYNACK" connect "${TAPOPTS[@]}" \
    "$HOST_IP" 5002
wait_exit "$LAST_PID" 120
[ "$WAIT_RC" -eq 0 ] || fail "synack connect exited with $WAIT_RC: $(tail -n 5 "$TMP/connect2.err")"
wait_exit "$PEER_PID" 30
r=$TMP/server2.out
same "bytes the server received" "$(field received "$r")" 8
same "bytes sent after our FIN" "$(field after_eof "$r")" 1048576
same "bytes synack wrote to stdout" "$(stat -c %s "$TMP/connect2.out")" 1048576
same "sha256 of synack's stdout" "$(sha "$TMP/connect2.out")" "$(field sent_sha256 "$r")"

keep_pcap "$pcap"
pass
