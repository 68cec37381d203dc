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
# 0 of both ends, nothing sent the other way; the link's counters (synack
# --stats) match the impairment asked for; the checksum errors at both ends
# (synack's drop counters, Linux's nstat) are no more than the link's
# corruption explains; corrupted frames were caught at both ends. Printed
# per direction: time, throughput, Linux's counters from nstat inside the
# namespace (TCP retransmissions, RTOs, checksum errors caught, ...),
# synack's link and stack counters, and synack's retransmission count
# sampled with `synack ss -i` while the connection lives.
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

# Corrupted frames must have been caught at both ends, else the corruption
# is not happening and the test proves nothing about it. At 0.1% of the
# frames, expected: dozens per direction at 100 MiB, a few in the lighter
# direction at 16 MiB; so each direction is checked from 64 MiB on, and
# both directions together from 16 MiB on (the summary).
CAUGHT_LINUX=0 CAUGHT_SYNACK=0
# caught_check DIR BEFORE AFTER: frames synack's link corrupted on their
# way to Linux, dropped by Linux's checksums (IP header or TCP).
caught_check() {
    local n
    # (IpExtInCsumErrors is counted in IpInHdrErrors too)
    n=$(($(counter TcpInCsumErrors "$2" "$3") + $(counter IpInHdrErrors "$2" "$3")))
    if [ "$size" -ge 67108864 ]; then
        [ "$n" -gt 0 ] || fail "$1: Linux caught no corrupted frame (checksum or header errors)"
    fi
    CAUGHT_LINUX=$((CAUGHT_LINUX + n))
    say "ok: $1: Linux dropped $n corrupted frames (TCP/IP checksum or header errors)"
}

# The impaired link's and synack's own counters, which synack prints at
# exit (--stats, implied by the impairment options) on stderr:
#   synack connect: link: sent N delivered N lost N reordered N ...
#   synack connect: stack: frames_in N ... drops: TCP_BAD_CSUM=N ...
# link_stat NAME ERRFILE, drop_stat NAME ERRFILE: one value (0 if absent)
link_stat() {
    sed -n "s/.*: link: .*\b$1 \([0-9][0-9]*\).*/\1/p" "$2" | tail -n 1 |
        grep . || echo 0
}
drop_stat() {
    sed -n "s/.*: stack: .*drops:.* $1=\([0-9][0-9]*\).*/\1/p" "$2" |
        tail -n 1 | grep . || echo 0
}
# in_range WHAT N TOTAL LO HI: N/TOTAL (percent) within [LO, HI]
in_range() {
    awk -v n="$2" -v t="$3" -v lo="$4" -v hi="$5" \
        'BEGIN { p = 100 * n / t; exit !(p >= lo && p <= hi) }' ||
        fail "$1: $2 of $3 frames, outside [$4%, $5%]"
    say "ok: $1: $2 of $3 frames ($(awk -v n="$2" -v t="$3" 'BEGIN { printf "%.2f", 100 * n / t }')%, expected within [$4%, $5%])"
}
# synack_check DIR ERRFILE BEFORE AFTER: the link applied the impairment
# asked for (from 16 MiB on, where the counts are large enough for the
# bounds to hold with any seed), and both ends' checksum drops are
# accounted for by the frames the link corrupted (at most twice each: a
# corrupted frame can also be duplicated). More checksum errors than that
# would mean frames with wrong checksums: synack's own (counted by Linux)
# or good ones refused (counted by synack).
synack_check() {
    local d=$1 e=$2 sent lost reo dup cor mine theirs
    grep -q ': link: ' "$e" || fail "$d: synack printed no link counters (--stats)"
    grep -q ': stack: ' "$e" || fail "$d: synack printed no stack counters (--stats)"
    say "  synack $(grep -m 1 ': link: ' "$e" | sed 's/.*: link: /link: /')"
    say "  synack $(grep -m 1 ': stack: ' "$e" | sed 's/.*: stack: /stack: /')"
    sent=$(link_stat sent "$e")
    lost=$(link_stat lost "$e")
    reo=$(link_stat reordered "$e")
    dup=$(link_stat duplicated "$e")
    cor=$(link_stat corrupted "$e")
    [ "$sent" -gt 0 ] || fail "$d: the link counted no frame"
    if [ "$size" -ge 16777216 ]; then
        in_range "$d: link lost" "$lost" "$sent" 4 6
        in_range "$d: link reordered" "$reo" "$sent" 1 3
        in_range "$d: link duplicated" "$dup" "$sent" 0.5 1.5
        in_range "$d: link corrupted" "$cor" "$sent" 0.03 0.3
    fi
    mine=$(($(drop_stat TCP_BAD_CSUM "$e") + $(drop_stat IP_BAD_CSUM "$e")))
    theirs=$(($(counter TcpInCsumErrors "$3" "$4") + $(counter IpExtInCsumErrors "$3" "$4")))
    if [ "$size" -ge 67108864 ]; then
        [ "$mine" -gt 0 ] ||
            fail "$d: synack dropped no frame for a bad checksum, though the link corrupted $cor"
    fi
    CAUGHT_SYNACK=$((CAUGHT_SYNACK + mine))
    [ $((mine + theirs)) -le $((2 * cor)) ] ||
        fail "$d: checksum errors (synack $mine, Linux $theirs) exceed what the link corrupted ($cor, x2 for duplicates)"
    say "ok: $d: checksum drops, synack $mine + Linux $theirs <= 2 x $cor frames the link corrupted"
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
synack_check A "$TMP/connectA.err" "$TMP/nstat.a0" "$TMP/nstat.a1"
# issue 6: the two ends negotiated SACK and synack recovered from Linux's
# SACK blocks (RFC 2018/6675, RACK)
rec_stat() {
    sed -n "s/.*: recovery: .*\b$1 \([0-9][0-9]*\).*/\1/p" "$2" | tail -n 1 |
        grep . || echo 0
}
say "  synack $(grep -m 1 ': recovery: ' "$TMP/connectA.err" | sed 's/.*: recovery: /recovery: /')"
[ "$(rec_stat sack_blocks_in "$TMP/connectA.err")" -gt 0 ] ||
    fail "A: synack received no SACK block from Linux"
[ "$(rec_stat rack_lost "$TMP/connectA.err")" -gt 0 ] ||
    fail "A: RACK found no loss under 5% loss"
say "ok: A: Linux sent SACK blocks and synack's RACK marked losses from them"

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
synack_check B "$TMP/connectB.err" "$TMP/nstat.b0" "$TMP/nstat.b1"
say "  synack $(grep -m 1 ': recovery: ' "$TMP/connectB.err" | sed 's/.*: recovery: /recovery: /')"
[ "$(counter TcpExtTCPSackRecovery "$TMP/nstat.b0" "$TMP/nstat.b1")" -gt 0 ] ||
    fail "B: Linux made no SACK recovery: synack's SACK blocks were not used"
say "ok: B: Linux recovered with synack's SACK blocks ($(counter TcpExtTCPSackRecovery "$TMP/nstat.b0" "$TMP/nstat.b1") SACK recoveries)"

section "summary (seed $seed)"
if [ "$size" -ge 16777216 ]; then
    [ "$CAUGHT_LINUX" -gt 0 ] || fail "Linux caught no corrupted frame in either direction"
    [ "$CAUGHT_SYNACK" -gt 0 ] || fail "synack caught no corrupted frame in either direction"
fi
say "corrupted frames caught: by Linux $CAUGHT_LINUX, by synack's checksums $CAUGHT_SYNACK (both directions)"
say "A synack->Linux: ${tA} s, $(mbps "$size" "$tA") MB/s; B Linux->synack: ${tB} s, $(mbps "$size" "$tB") MB/s"
pass
