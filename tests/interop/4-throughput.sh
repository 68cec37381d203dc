#!/usr/bin/env bash
# Case 4: throughput of a Linux bulk sender (peer.py source: connect, send,
# shut down, wait for synack's FIN) -> `synack discard`. The figure is
# printed, not asserted (bench/tap-throughput compares it with Linux to
# Linux over veth). Only that all bytes were taken and the connection
# closed cleanly decides the result. SYNACK_INTEROP_BULK sets the size
# (bytes, default 256 MiB).
set -euo pipefail
INTEROP_CASE=throughput
. "$(dirname "$0")/lib.sh"
interop_init "$@"

size=${SYNACK_INTEROP_BULK:-268435456}
synack_server discard discard

section "Linux -> synack discard, $size bytes"
nsx timeout 600 "${PEER[@]}" source "$SYNACK_IP" 9 "$size" \
    >"$TMP/source.out" 2>"$TMP/source.err" ||
    fail "the sender exited with $?: $(cat "$TMP/source.err")"
r=$TMP/source.out
same "bytes sent" "$(field sent "$r")" "$size"
say "throughput: $(field MBps "$r") MB/s ($size bytes in $(field seconds "$r") s, connect to synack's FIN)"

kill -TERM "$SERVER_PID"
wait_exit "$SERVER_PID" 20
[ "$WAIT_RC" -ne 124 ] || fail "synack discard did not exit within 20 s of SIGTERM"
say "PASS"
