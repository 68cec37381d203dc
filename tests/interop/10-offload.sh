#!/usr/bin/env bash
# Case 10: the TAP device with offloads (--offload: IFF_VNET_HDR,
# TUNSETOFFLOAD checksum + TSO4 + TSO6) against Linux, data both ways,
# byte-exact by sha256:
#  - `synack connect --offload` <-> a Linux server (peer.py server): 64 MiB
#    each way at once; synack hands the kernel GSO frames of up to 64 KiB
#    with the checksum partial, the kernel hands synack GRO/TSO super-frames
#    whose checksum synack completes;
#  - a Linux client -> `synack echo --offload`: 32 MiB echoed back.
# The TAP's counters (--stats) must show both kinds of large frames, and
# no frame the device had to drop; the kernel must report TSO on for the
# interface (ethtool -k, when ethtool is installed).
set -euo pipefail
INTEROP_CASE=offload
. "$(dirname "$0")/lib.sh"
interop_init "$@"

size=67108864
esize=33554432
randfile "$TMP/up.bin" $size
randfile "$TMP/down.bin" $size
wmem=(-o "tcp_wmem=4096 4194304 4194304" -o "tcp_rmem=4096 4194304 6291456")

# tapstat NAME FILE: a counter from synack's "tap:" --stats line
tapstat() { sed -n "s/.* tap: .*\\b$1 \\([0-9]*\\).*/\\1/p" "$2" | tail -n 1; }
# positive WHAT N: fail unless N > 0
positive() {
    [ -n "$2" ] && [ "$2" -gt 0 ] || fail "$1: '$2', expected more than 0"
    say "ok: $1 ($2)"
}

section "synack connect --offload <-> Linux server, $size bytes each way"
peer_server server server 5001 --send "$TMP/down.bin" --out "$TMP/server-got.bin"
t0=$(now)
START_STDIN=$TMP/up.bin start connect "$SYNACK" connect "${TAPOPTS[@]}" \
    --offload --stats "${wmem[@]}" "$HOST_IP" 5001
cpid=$LAST_PID
if command -v ethtool >/dev/null 2>&1; then
    wait_line "$TMP/connect.err" 'connected' 20 "$cpid"
    tso=$(nsx ethtool -k "$TAP" | sed -n 's/^tcp-segmentation-offload: \([a-z]*\).*/\1/p')
    same "kernel: TSO on $TAP" "$tso" on
fi
wait_exit "$cpid" 300
t1=$(now)
[ "$WAIT_RC" -eq 0 ] || fail "synack connect exited with $WAIT_RC: $(tail -n 5 "$TMP/connect.err")"
wait_exit "$PEER_PID" 30
[ "$WAIT_RC" -eq 0 ] || fail "the Linux server exited with $WAIT_RC"
r=$TMP/server.out
same "bytes the server received" "$(field received "$r")" $size
same "sha256 of what the server received" "$(field received_sha256 "$r")" "$(sha "$TMP/up.bin")"
same "bytes synack wrote to stdout" "$(stat -c %s "$TMP/connect.out")" $size
same "sha256 of synack's stdout" "$(sha "$TMP/connect.out")" "$(sha "$TMP/down.bin")"
e=$TMP/connect.err
positive "GSO frames synack sent" "$(tapstat tx_gso "$e")"
positive "GRO/TSO frames synack received" "$(tapstat rx_gso "$e")"
positive "checksums synack completed" "$(tapstat rx_csum_done "$e")"
same "frames with a bad virtio header" "$(tapstat rx_bad "$e")" 0
say "$((2 * size)) bytes in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s"

section "Linux client -> synack echo --offload, $esize bytes"
synack_server echo echo --offload --stats "${wmem[@]}"
nsx timeout 300 "${PEER[@]}" client "$SYNACK_IP" 7 --send-bytes "$esize" \
    >"$TMP/client.out" 2>"$TMP/client.err" ||
    fail "client exited with $?: $(cat "$TMP/client.err")"
r=$TMP/client.out
same "bytes echoed" "$(field received "$r")" $esize
same "sha256 echoed" "$(field received_sha256 "$r")" "$(field sent_sha256 "$r")"
stop_server "synack echo"
e=$TMP/echo.err
positive "GRO/TSO frames synack echo received" "$(tapstat rx_gso "$e")"
positive "GSO frames synack echo sent" "$(tapstat tx_gso "$e")"
same "frames with a bad virtio header" "$(tapstat rx_bad "$e")" 0
pass
