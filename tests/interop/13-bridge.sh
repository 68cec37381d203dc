#!/usr/bin/env bash
# Case 13: `synack bridge`, Linux to Linux through synack's impaired link.
# Two namespaces of the test's own, each with one end of the bridge (TAP
# sbra, sbrb), the bridge itself in a third. A Linux client sends 8 MiB to
# a Linux server through 2% loss, 1% reordering, 1% duplication and 5 ms
# each way; the server echoes the digest of what it read.
#  - the bytes arrive intact (sha256 of sent == received);
#  - the bridge really impaired the traffic: its counters show frames
#    lost, reordered and duplicated (the kernel's TCP repaired them);
#  - its --pcap recorded the frames, readable by tshark;
#  - it exits 0 on SIGTERM and prints the counters.
set -euo pipefail
INTEROP_CASE=bridge
. "$(dirname "$0")/lib.sh"
interop_init "$@"
need tshark

extra_ns NS_A a
extra_ns NS_B b
bridge_up "$NS_A" 10.78.0.1 "$NS_B" 10.78.0.2 \
    --loss 2% --reorder 1% --dup 1% --delay 5 --seed 7 --pcap "$TMP/bridge.pcap"
say "$(head -n 1 "$TMP/bridge.out")"

section "8 MiB Linux -> Linux through the impaired bridge"
randfile "$TMP/data.bin" 8388608
ip netns exec "$NS_B" "${PEER[@]}" server 5013 >"$TMP/server.out" 2>"$TMP/server.err" &
spid=$!
PIDS+=("$spid")
wait_line "$TMP/server.err" '^peer: listening ' 20 "$spid"
ip netns exec "$NS_A" timeout 120 "${PEER[@]}" client 10.78.0.2 5013 \
    --send "$TMP/data.bin" >"$TMP/client.out" 2>"$TMP/client.err" ||
    fail "the client failed: $(cat "$TMP/client.err")"
wait_exit "$spid" 60
same "server exit status" "$WAIT_RC" 0
same "bytes received" "$(field received "$TMP/server.out")" 8388608
same "sha256 received = sent" "$(field received_sha256 "$TMP/server.out")" \
    "$(sha256sum "$TMP/data.bin" | cut -d' ' -f1)"

section "the bridge's counters and capture"
kill -TERM "$BRIDGE_PID"
wait_exit "$BRIDGE_PID" 20
same "bridge exit status after SIGTERM" "$WAIT_RC" 0
line=$(grep -E '^synack bridge: link:' "$TMP/bridge.err") ||
    fail "no counters on the bridge's stderr: $(cat "$TMP/bridge.err")"
say "$line"
for k in lost reordered duplicated; do
    n=$(sed -n "s/.* $k \([0-9]*\).*/\1/p" <<<"$line")
    [ "${n:-0}" -gt 0 ] || fail "the bridge $k no frame ($k=$n): the impairment did not apply"
    say "ok: $k $n frames"
done
frames=$(tshark -r "$TMP/bridge.pcap" -Y 'tcp.port == 5013' 2>/dev/null | wc -l)
[ "$frames" -gt 5000 ] || fail "the bridge's capture holds $frames TCP frames of the transfer"
say "ok: the capture holds $frames frames of the transfer"
pass
