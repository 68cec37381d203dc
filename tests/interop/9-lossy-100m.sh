#!/usr/bin/env bash
# Case 9 (issue 5, acceptance 5): under heavy impairment on synack's side
# (`--loss 5% --reorder 2% --dup 1% --corrupt 0.1%`, applied by synack's
# in-memory link to every frame it sends to and receives from the TAP),
# SIZE bytes byte-exact each way against Linux, one direction after the
# other so each has its own time and throughput:
#
#   A. synack connect (stdin: the file) -> Linux server (peer.py), which
#      hashes what it receives;
#   B. Linux server (peer.py --send) -> synack connect (stdout: a file),
#      with synack's stdin held open until the Linux side has sent all and
#      closed, so the data flows in ESTABLISHED, not into a half-closed
#      connection.
#
# Asserted per direction: byte counts and sha256 at both ends, exit status
# 0 of both ends, nothing sent the other way. Printed per direction: time,
# throughput, Linux's counters from nstat inside the namespace (TCP
# retransmissions, checksum errors caught, ...) and synack's retransmission
# count (`synack ss -i`, sampled while the connection lives).
#
# Environment:
#   SYNACK_INTEROP_LOSSY_BYTES  SIZE (default 104857600 = 100 MiB)
#   SYNACK_INTEROP_SEED         seed of the link and stack (default 9)
#   SYNACK_INTEROP_LOSSY_TIMEOUT  seconds per direction (default 840)
#   SYNACK_INTEROP_LOSSY_PCAP   a directory: keep synack's captures there
#                               (A.pcap, B.pcap; --pcap records the stack's
#                               side of the impaired link: frames as synack
#                               sent them, and as it received them, after
#                               loss, corruption, ...)
set -euo pipefail
INTEROP_CASE=lossy
. "$(dirname "$0")/lib.sh"
interop_init "$@"
need nstat sha256sum

size=${SYNACK_INTEROP_LOSSY_BYTES:-104857600}
seed=${SYNACK_INTEROP_SEED:-9}
limit=${SYNACK_INTEROP_LOSSY_TIMEOUT:-840}
imp=(--loss 5% --reorder 2% --dup 1% --corrupt 0.1% --seed "$seed")
pcapA=() pcapB=()
if [ -n "${SYNACK_INTEROP_LOSSY_PCAP:-}" ]; then
    mkdir -p "$SYNACK_INTEROP_LOSSY_PCAP"
    pcapA=(--pcap "$SYNACK_INTEROP_LOSSY_PCAP/A.pcap")
    pcapB=(--pcap "$SYNACK_INTEROP_LOSSY_PCAP/B.pcap")
fi
[[ $size =~ ^[0-9]+$ ]] && [ "$size" -gt 0 ] ||
    fail "SYNACK_INTEROP_LOSSY_BYTES must be a positive byte count: '$size'"
say "size $size bytes, impairment ${imp[*]}"
randfile "$TMP/up.bin" "$size"
randfile "$TMP/down.bin" "$size"

# Linux's SNMP counters in the namespace (absolute; the namespace is ours,
# so they count only this test). nstat's history goes to our directory.
export NSTAT_HISTORY=$TMP/nstat.hist
snap() { nsx nstat -asz >"$1" 2>/dev/null || fail "nstat failed"; }
NSTAT_KEYS=(TcpOutSegs TcpInSegs TcpRetransSegs TcpInCsumErrors TcpInErrs
    IpInHdrErrors IpExtInCsumErrors IpInAddrErrors IpInDiscards
    TcpExtTCPTimeouts TcpExtTCPLossProbes TcpExtTCPFastRetrans
    TcpExtTCPSACKReorder TcpExtTCPDSACKRecv TcpExtTCPDSACKOldSent
    TcpExtTCPOFOQueue TcpExtTCPSpuriousRTOs TcpExtTCPSackRecovery
    TcpExtTCPRenoRecovery TcpExtPAWSEstabRejected TcpExtTCPACKSkippedPAWS
    TcpExtTCPRcvQDrop TcpExtTCPOFODrop TcpExtPruneCalled TcpExtRcvPruned
    TcpExtOfoPruned TcpExtTCPZeroWindowDrop TcpExtTCPBacklogDrop)
# linux_counters BEFORE AFTER: the differences of NSTAT_KEYS, one line
linux_counters() {
    awk -v keys="${NSTAT_KEYS[*]}" '
        NR == FNR { a[$1] = $2; next }
        { b[$1] = $2 }
        END {
            n = split(keys, k, " ")
            for (i = 1; i <= n; i++)
                printf "%s%s=%d", (i > 1 ? " " : ""), k[i], b[k[i]] - a[k[i]]
            print ""
        }' "$1" "$2"
}
# counter NAME BEFORE AFTER
counter() {
    awk -v k="$1" 'NR == FNR { if ($1 == k) a = $2; next }
        $1 == k { b = $2 } END { print b - a }' "$2" "$3"
}

# sample_ss FILE PID: while PID runs, keep the latest `synack ss -i` line
# of the connection in FILE (its retrans:BACKOFF/TOTAL field).
sample_ss() {
    local file=$1 pid=$2 line
    while kill -0 "$pid" 2>/dev/null; do
        line=$("$SYNACK" ss -i 2>/dev/null | grep -E 'retrans:|bytes_' |
            tr -s ' \n' ' ') || true
        [ -n "$line" ] && printf '%s\n' "$line" >"$file.new" &&
            mv "$file.new" "$file"
        sleep 0.5
    done
}
synack_retrans() {
    local v
    v=$(sed -n 's/.*retrans:[0-9]*\/\([0-9]*\).*/\1/p' "$1" 2>/dev/null |
        tail -n 1)
    echo "${v:-0}"
}

# caught_check DIR BEFORE AFTER: frames synack corrupted on their way to
# Linux were dropped by Linux's checksums (IP header or TCP). From 16 MiB on,
# at 0.1% of the frames, some must have been (expected: dozens), else the
# corruption is not happening and the test proves nothing about it.
caught_check() {
    local n
    # (IpExtInCsumErrors is counted in IpInHdrErrors too)
    n=$(($(counter TcpInCsumErrors "$2" "$3") + $(counter IpInHdrErrors "$2" "$3")))
    if [ "$size" -ge 16777216 ]; then
        [ "$n" -gt 0 ] || fail "$1: Linux caught no corrupted frame (checksum or header errors)"
    fi
    say "ok: $1: Linux dropped $n corrupted frames (TCP/IP checksum or header errors)"
}

fsize() { stat -c %s "$1" 2>/dev/null || echo 0; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

report() { # DIRECTION SECONDS BEFORE AFTER SSFILE
    say "$1: $size bytes in $2 s, $(mbps "$size" "$2") MB/s"
    say "  Linux (nstat): $(linux_counters "$3" "$4")"
    say "  synack: retransmitted segments (ss, last sample) $(synack_retrans "$5")"
}

# ---- A: synack -> Linux ----------------------------------------------------
section "A: synack connect -> Linux server, $size bytes, ${imp[*]}"
peer_server serverA server 5001
snap "$TMP/nstat.a0"
t0=$(now)
START_STDIN=$TMP/up.bin start connectA "$SYNACK" connect "${TAPOPTS[@]}" \
    "${imp[@]}" ${pcapA[@]+"${pcapA[@]}"} "$HOST_IP" 5001
cpid=$LAST_PID
sample_ss "$TMP/ssA" "$cpid" &
PIDS+=("$!")
wait_exit "$cpid" "$limit"
t1=$(now)
[ "$WAIT_RC" -ne 124 ] ||
    fail "A: synack connect did not finish within ${limit}s ($(wc -c <"$TMP/connectA.out") bytes out; last ss: $(cat "$TMP/ssA" 2>/dev/null))"
[ "$WAIT_RC" -eq 0 ] ||
    fail "A: synack connect exited with $WAIT_RC: $(tail -n 5 "$TMP/connectA.err")"
wait_exit "$PEER_PID" 60
[ "$WAIT_RC" -eq 0 ] || fail "A: the Linux server exited with $WAIT_RC"
snap "$TMP/nstat.a1"
r=$TMP/serverA.out
same "A: bytes Linux received" "$(field received "$r")" "$size"
same "A: sha256 of what Linux received" "$(field received_sha256 "$r")" \
    "$(sha "$TMP/up.bin")"
same "A: bytes synack received (none sent)" "$(stat -c %s "$TMP/connectA.out")" 0
tA=$(elapsed "$t0" "$t1")
report A "$tA" "$TMP/nstat.a0" "$TMP/nstat.a1" "$TMP/ssA"
caught_check A "$TMP/nstat.a0" "$TMP/nstat.a1"

# ---- B: Linux -> synack ----------------------------------------------------
section "B: Linux server -> synack connect, $size bytes, ${imp[*]}"
peer_server serverB server 5002 --send "$TMP/down.bin"
mkfifo "$TMP/stdinB"
exec 3<>"$TMP/stdinB" # synack's stdin: open, silent, until we close it
snap "$TMP/nstat.b0"
t0=$(now)
# synack's stdout to a file not named *.out, which the logs of a failure
# would print; fd 3 (the fifo's other end) closed in everything but us
START_STDIN=$TMP/stdinB start connectB bash -c 'exec 3>&- "$@" >"$0"' \
    "$TMP/down.recv" "$SYNACK" connect "${TAPOPTS[@]}" "${imp[@]}" \
    ${pcapB[@]+"${pcapB[@]}"} "$HOST_IP" 5002
cpid=$LAST_PID
sample_ss "$TMP/ssB" "$cpid" 3>&- &
PIDS+=("$!")
# synack's stdout reaching SIZE bytes is the end of the transfer
end=$((SECONDS + limit))
while [ "$(fsize "$TMP/down.recv")" -lt "$size" ]; do
    kill -0 "$cpid" 2>/dev/null ||
        fail "B: synack connect exited after $(fsize "$TMP/down.recv") bytes: $(tail -n 5 "$TMP/connectB.err")"
    [ $SECONDS -lt $end ] ||
        fail "B: synack received only $(fsize "$TMP/down.recv") of $size bytes in ${limit}s (last ss: $(cat "$TMP/ssB" 2>/dev/null))"
    sleep 0.05
done
t1=$(now)
exec 3>&- # EOF on synack's stdin: it closes its side and exits
wait_exit "$PEER_PID" 120
[ "$WAIT_RC" -eq 0 ] || fail "B: the Linux server exited with $WAIT_RC"
wait_exit "$cpid" 120
[ "$WAIT_RC" -eq 0 ] ||
    fail "B: synack connect exited with $WAIT_RC: $(tail -n 5 "$TMP/connectB.err")"
snap "$TMP/nstat.b1"
r=$TMP/serverB.out
same "B: bytes Linux sent" "$(field sent "$r")" "$size"
same "B: bytes synack wrote to stdout" "$(fsize "$TMP/down.recv")" "$size"
same "B: sha256 of synack's stdout" "$(sha "$TMP/down.recv")" \
    "$(sha "$TMP/down.bin")"
same "B: bytes Linux received (none sent)" "$(field received "$r")" 0
tB=$(elapsed "$t0" "$t1")
report B "$tB" "$TMP/nstat.b0" "$TMP/nstat.b1" "$TMP/ssB"
caught_check B "$TMP/nstat.b0" "$TMP/nstat.b1"

section "summary (seed $seed)"
say "A synack->Linux: ${tA} s, $(mbps "$size" "$tA") MB/s; B Linux->synack: ${tB} s, $(mbps "$size" "$tB") MB/s"
pass
