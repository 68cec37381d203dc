#!/usr/bin/env bash
# Case 14 (issue 7, "what to build" 5 and 1): `synack trace` follows a live
# synack process through its control socket and shows each state change
# of a connection with its cause, in order; `--json` gives one JSON object
# per line; `--ladder-file` on a live subcommand draws the same ladder
# diagram as `synack sim --ladder`. Linux connects to `synack listen`,
# sends a line and closes; then synack's application closes.
set -euo pipefail
INTEROP_CASE=trace
. "$(dirname "$0")/lib.sh"
interop_init "$@"

section "synack listen --ladder-file, followed by synack trace (text and --json)"
mkfifo "$TMP/l.in"
hold_stdin "$TMP/l.in"
START_STDIN=$TMP/l.in synack_server l listen --ladder-file "$TMP/ladder.txt" 6000
lpid=$SERVER_PID
start t "$SYNACK" trace
tpid=$LAST_PID
start j "$SYNACK" trace --json --count 5
jpid=$LAST_PID
wait_line "$TMP/t.err" "^synack trace: following synack:listen\\(pid=$lpid,if=$TAP\\)\$" 20 "$tpid"
wait_line "$TMP/j.err" "^synack trace: following synack:listen" 20 "$jpid"
# a client that subscribes and goes away must not disturb the server
# (--foreground: timeout otherwise signals its whole process group and
# sends SIGCONT after SIGTERM, which can wedge LeakSanitizer's exit-time
# ptrace of the process under ASan; -k: KILL if it still hangs)
timeout --foreground -k 10 1 "$SYNACK" trace >/dev/null 2>&1 || true

start c "${PEER[@]}" client "$SYNACK_IP" 6000 --send-bytes 6
wait_line "$TMP/t.out" 'ESTABLISHED -> CLOSE-WAIT' 20 "$tpid"
eof_stdin
wait_exit "$lpid" 20
same "exit status of synack listen" "$WAIT_RC" 0
wait_exit "$tpid" 10
same "synack trace ends with the process (exit status)" "$WAIT_RC" 0
wait_exit "$jpid" 10
same "synack trace --json --count 5 (exit status)" "$WAIT_RC" 0
sed 's/^/  | /' "$TMP/t.out"

# the transitions with their causes, in this order
want=(
    "LISTEN -> SYN-RECEIVED \\(rcv SYN\\)"
    "SYN-RECEIVED -> ESTABLISHED \\(rcv ACK\\)"
    "ESTABLISHED -> CLOSE-WAIT \\(rcv FIN,ACK\\)"
    "CLOSE-WAIT -> LAST-ACK \\(call shutdown\\)"
    "LAST-ACK -> CLOSED \\(rcv ACK\\)"
)
prev=0
for w in "${want[@]}"; do
    re="^[0-9]+\\.[0-9]{6} synack:listen\\(pid=$lpid,if=$TAP\\) $SYNACK_IP:6000 $HOST_IP:[0-9]+ $w\$"
    n=$(grep -En -- "$re" "$TMP/t.out" | head -n 1 | cut -d: -f1)
    [ -n "$n" ] || fail "synack trace: no line /$re/"
    [ "$n" -gt "$prev" ] || fail "synack trace: /$w/ (line $n) comes before the one expected earlier (line $prev)"
    say "ok: line $n: ${w//\\/}"
    prev=$n
done
grep -Eq "$SYNACK_IP:6000 0\\.0\\.0\\.0:0 LISTEN -> CLOSED \\(call close\\)\$" "$TMP/t.out" ||
    fail "synack trace: the listener's close is missing"
say "ok: the listener's close (synack listen takes one connection)"

python3 - "$TMP/j.out" <<'PY' || fail "synack trace --json: not one JSON object per line with the fields"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 5, lines
objs = [json.loads(l) for l in lines]
for o in objs:
    for k in ("time", "pid", "command", "ifname", "id", "local", "remote", "from", "to", "cause"):
        assert k in o, (k, o)
seq = [(o["from"], o["to"], o["cause"]) for o in objs if o["remote"] != "0.0.0.0:0"]
assert seq[:3] == [("LISTEN", "SYN-RECEIVED", "rcv SYN"), ("SYN-RECEIVED", "ESTABLISHED", "rcv ACK"), ("ESTABLISHED", "CLOSE-WAIT", "rcv FIN,ACK")], seq
print("json ok:", len(objs), "objects")
PY
say "ok: --json, 5 objects, the first transitions in order"

section "the ladder of the live connection"
sed 's/^/  | /' "$TMP/ladder.txt"
l=$TMP/ladder.txt
grep -Eq "^ +TIME  synack $SYNACK_IP +peer\$" "$l" || fail "ladder: no header with synack's column"
grep -Eq "  LISTEN +<-- <SEQ=0><CTL=SYN>" "$l" || fail "ladder: no SYN arriving in LISTEN"
grep -Eq "\\(rcv SYN\\) +$SYNACK_IP:6000 <-> $HOST_IP:[0-9]+" "$l" || fail "ladder: no state row for rcv SYN with the connection"
grep -Eq "  SYN-RECEIVED +--> <SEQ=0><ACK=1><CTL=SYN,ACK>" "$l" || fail "ladder: no SYN,ACK sent"
grep -Eq "  ESTABLISHED +<-- <SEQ=1><ACK=1><CTL=PSH,ACK><LEN=6>" "$l" || fail "ladder: no data segment in"
grep -Eq "  CLOSE-WAIT +\\(rcv FIN,ACK\\)" "$l" || fail "ladder: no CLOSE-WAIT row"
grep -Eq "  LAST-ACK +--> <SEQ=1><ACK=8><CTL=FIN,ACK>" "$l" || fail "ladder: no FIN sent in LAST-ACK"
grep -Eq "  CLOSED +\\(rcv ACK\\)" "$l" || fail "ladder: no CLOSED row"
say "ok: the ladder shows the handshake, the data, both FINs and the states"

section "a subscriber that does not read: the server drops and counts, never blocks"
synack_server e echo
epid=$SERVER_PID
# subscribe, then read nothing until the connections are done
python3 - "$XDG_RUNTIME_DIR/synack/$TAP.sock" "$TMP/slow.go" >"$TMP/slow.out" 2>"$TMP/slow.err" <<'PY' &
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b"trace\n")
print("subscribed", flush=True)
while not os.path.exists(sys.argv[2]):
    time.sleep(0.05)
data = b""
s.settimeout(2.0)
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
except socket.timeout:
    pass
lines = data.decode().splitlines()
states = sum(1 for l in lines if l.startswith("state\t"))
lost = sum(int(l.split("\t")[1]) for l in lines if l.startswith("lost\t"))
print("states=%d lost=%d" % (states, lost), flush=True)
PY
slowpid=$!
PIDS+=("$slowpid")
wait_line "$TMP/slow.out" '^subscribed' 20 "$slowpid"
sleep 0.3
n=1500
nsx python3 - "$SYNACK_IP" "$n" <<'PY' || fail "the Linux client could not make its connections"
import socket, sys
for i in range(int(sys.argv[2])):
    c = socket.create_connection((sys.argv[1], 7), timeout=10)
    c.sendall(b"x")
    c.recv(1)
    c.close()
PY
say "ok: $n connections echoed while the subscriber did not read"
# the server kept serving: a control request is answered at once
nsx "$SYNACK" ss -a >/dev/null || fail "synack ss got no answer while a trace subscriber was stuck"
say "ok: the control socket still answers"
touch "$TMP/slow.go"
wait_line "$TMP/slow.out" '^states=' 30 "$slowpid"
res=$(grep '^states=' "$TMP/slow.out")
say "the slow subscriber got: $res"
states=${res#states=}; states=${states%% *}
lost=${res##*lost=}
[ "$lost" -gt 0 ] || fail "no 'lost' line: the queue never overflowed ($res)"
total=$((states + lost))
# each connection: LISTEN->SYN-RECEIVED->ESTABLISHED->CLOSE-WAIT->LAST-ACK->CLOSED
[ "$total" -ge $((n * 5)) ] || fail "state changes received + lost = $total, expected at least $((n * 5))"
say "ok: $states state changes delivered, $lost counted as lost, $total in all"
stop_server "synack echo"
pass
