#!/usr/bin/env bash
# Case 1: a Linux client -> `synack echo`: 1 byte, 1 MiB and 100 MiB of
# random data, each echoed byte-exact (sha256 of what the client sent and of
# what it received). The client (peer.py client) sends from a writer thread,
# shuts down its write side and reads to EOF; synack echo closes once the
# client has half-closed and everything is echoed. The capture (--pcap) is
# left for case 8.
set -euo pipefail
INTEROP_CASE=echo
. "$(dirname "$0")/lib.sh"
interop_init "$@"

pcap=$TMP/echo.pcap
synack_server echo echo --pcap "$pcap"

for size in 1 1048576 104857600; do
    section "echo $size bytes"
    t0=$(now)
    nsx timeout 300 "${PEER[@]}" client "$SYNACK_IP" 7 --send-bytes "$size" \
        >"$TMP/client-$size.out" 2>"$TMP/client-$size.err" ||
        fail "client ($size bytes) exited with $?: $(cat "$TMP/client-$size.err")"
    t1=$(now)
    r=$TMP/client-$size.out
    same "bytes sent" "$(field sent "$r")" "$size"
    same "bytes echoed" "$(field received "$r")" "$size"
    same "sha256 of the echo" "$(field received_sha256 "$r")" "$(field sent_sha256 "$r")"
    say "$size bytes echoed in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}') s"
done

stop_server "synack echo"
keep_pcap "$pcap"
pass
