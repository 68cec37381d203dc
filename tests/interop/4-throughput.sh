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

grep -q " $size bytes" "$TMP/discard.err" ||
    fail "synack discard did not report $size bytes: $(cat "$TMP/discard.err")"
say "synack discard: $(grep " $size bytes" "$TMP/discard.err" | head -n 1)"
stop_server "synack discard"
pass
