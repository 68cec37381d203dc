#!/usr/bin/env bash
# Case 11: `synack diagram` against Linux's own view of its connections
# (issue 7, acceptance 1). Two namespaces of the test's own, client
# (10.78.0.1) and server (10.78.0.2) joined by a veth pair, and a second
# path between them through `synack bridge --loss` (10.79.0.1 and
# 10.79.0.2). tcpdump records at both ends (-i any: Linux cooked frames).
# Linux-to-Linux connections, driven step by step by one Python process
# that enters each namespace (diagram_peers.py): normal close from the
# client, normal close from the server, half-close with data after the FIN,
# RST on abort (SO_LINGER {1, 0}), connection refused, and a 300 kB
# transfer and close through 5% loss. At chosen points both ends pause and
# `ss -tan` is sampled in both namespaces, the time taken with the clock
# tcpdump uses (CLOCK_REALTIME).
#  - for each capture (the client's and the server's: two vantage points),
#    `synack diagram --json` infers both ends' states; at every sample the
#    inferred state of each end equals what ss showed (no socket: CLOSED);
#    the table of every comparison is printed;
#  - the lossy path really lost frames (the bridge's counters) and the
#    diagram marks retransmissions in it.
set -euo pipefail
INTEROP_CASE=diagram
. "$(dirname "$0")/lib.sh"
interop_init "$@"
need tcpdump ss

extra_ns NS_A cli
extra_ns NS_B srv
ip link add dga type veth peer name dgb
ip link set dga netns "$NS_A"
ip link set dgb netns "$NS_B"
ip -n "$NS_A" addr add 10.78.0.1/24 dev dga
ip -n "$NS_A" link set dga up
ip -n "$NS_B" addr add 10.78.0.2/24 dev dgb
ip -n "$NS_B" link set dgb up
# no offloads: tcpdump sees the segments as they are on the wire
for n in "$NS_A:dga" "$NS_B:dgb"; do
    ip netns exec "${n%%:*}" ethtool -K "${n#*:}" tso off gso off gro off >/dev/null 2>&1 || true
done
bridge_up "$NS_A" 10.79.0.1 "$NS_B" 10.79.0.2 --loss 5% --delay 2 --seed 11
say "$(head -n 1 "$TMP/bridge.out")"

section "captures at both ends"
for side in A B; do
    ns=NS_$side
    ip netns exec "${!ns}" tcpdump -i any -n -U -s 256 --time-stamp-precision nano \
        -w "$TMP/cap-$side.pcap" tcp >"$TMP/tcpdump-$side.out" 2>"$TMP/tcpdump-$side.err" &
    PIDS+=("$!")
    eval "TCPDUMP_$side=$!"
    wait_line "$TMP/tcpdump-$side.err" 'listening on' 20 "$!"
done

section "Linux-to-Linux connections, ss -tan sampled at chosen points"
"${PEER[0]}" "$HERE/diagram_peers.py" run "$NS_A" "$NS_B" "$TMP/samples.json" \
    close-client:10.78.0.1:10.78.0.2:5101 \
    close-server:10.78.0.1:10.78.0.2:5102 \
    half-close:10.78.0.1:10.78.0.2:5103 \
    rst-abort:10.78.0.1:10.78.0.2:5104 \
    refused:10.78.0.1:10.78.0.2:5105 \
    lossy:10.79.0.1:10.79.0.2:5106 ||
    fail "the Linux peers failed"

sleep 0.5
for side in A B; do
    pid=TCPDUMP_$side
    kill -INT "${!pid}"
    wait_exit "${!pid}" 20
done
kill -TERM "$BRIDGE_PID"
wait_exit "$BRIDGE_PID" 20
line=$(grep -E '^synack bridge: link:' "$TMP/bridge.err") ||
    fail "no counters on the bridge's stderr"
say "$line"
lost=$(sed -n 's/.* lost \([0-9]*\).*/\1/p' <<<"$line")
[ "${lost:-0}" -gt 0 ] || fail "the bridge lost no frame: the lossy case was not lossy"

section "synack diagram's inferred states against ss -tan"
"${PEER[0]}" "$HERE/diagram_peers.py" check "$SYNACK" "$TMP/samples.json" \
    "$TMP/cap-A.pcap" "$TMP/cap-B.pcap" ||
    fail "synack diagram's inferred states differ from what ss showed"

section "the lossy transfer as synack diagram draws it"
"$SYNACK" diagram "$TMP/cap-A.pcap" --port 5106 >"$TMP/lossy.txt" ||
    fail "synack diagram --port 5106 failed"
grep -E '^ +[0-9]+\. ' "$TMP/lossy.txt" | grep -E '\(|retransmission' | head -n 30 | cut -c1-160
re=$(grep -c 'retransmission' "$TMP/lossy.txt" || true)
[ "$re" -gt 0 ] || fail "no retransmission marked in the lossy transfer"
say "ok: $re rows of the lossy transfer are marked as retransmissions"
pass
