#!/usr/bin/env bash
# Case 12 (issue 7, acceptance 2): `synack explain`, run against the
# control socket of a live synack process, names the cause of a connection
# stuck with Linux at the other end, over TAP, in a namespace of its own.
#
#  a. CLOSE-WAIT: Linux (peer.py hold) connects to `synack listen` and
#     closes; synack's application (stdin still open) has not closed. The
#     explanation must be "close-wait", governed by close(); Linux is in
#     FIN-WAIT-2 meanwhile (checked with ss). Then synack closes and the
#     connection is no longer reported.
#  b. FIN-WAIT-2: `synack connect` to Linux; synack's stdin ends, so it
#     shuts down its sending side (not an orphan); Linux's application does
#     not close. The explanation must be "fin-wait-2-half-closed": no
#     timer, tcp_fin_timeout does not apply; Linux is in CLOSE-WAIT.
#     With -o tcp_fin_timeout=45 the explanation quotes 45 s.
set -euo pipefail
INTEROP_CASE=explain
. "$(dirname "$0")/lib.sh"
interop_init "$@"
need ss

# linux_state SPORT: Linux's state of its connection with synack's SPORT
linux_state() {
    nsx ss -H -t -a -n 2>/dev/null |
        awk -v peer="$SYNACK_IP:$1" '$5 == peer { print $1; exit }'
}
# synack_state SPORT: synack's state of its connection on SPORT
synack_state() {
    nsx "$SYNACK" ss -a -n 2>/dev/null |
        awk -v me="$SYNACK_IP" -v sp="$1" '$4 == me":"sp { print $1; exit }'
}
# wait_states SPORT SYNACK-RE LINUX-RE: until both match (15 s at most)
wait_states() {
    local end=$((SECONDS + 15)) s l
    while :; do
        s=$(synack_state "$1"); s=${s:--}
        l=$(linux_state "$1"); l=${l:--}
        if [[ $s =~ ^($2)$ ]] && [[ $l =~ ^($3)$ ]]; then
            say "ok: synack $s, Linux $l"
            return 0
        fi
        [ $SECONDS -lt $end ] || fail "wanted synack '$2' / Linux '$3', have '$s' / '$l'"
        sleep 0.05
    done
}
# explain OUTFILE ARGS...: run synack explain in the namespace
explain() {
    local out=$1
    shift
    nsx "$SYNACK" explain "$@" >"$TMP/$out" 2>&1 || fail "synack explain $* failed: $(cat "$TMP/$out")"
    sed 's/^/  | /' "$TMP/$out"
}
# has FILE REGEX WHAT
has() {
    grep -Eq -- "$2" "$TMP/$1" || fail "synack explain: $3: no line /$2/"
    say "ok: $3"
}

section "a. CLOSE-WAIT: Linux closed, synack's application has not"
mkfifo "$TMP/a.in"
hold_stdin "$TMP/a.in"
START_STDIN=$TMP/a.in synack_server a listen 6000
apid=$SERVER_PID
linux_peer la --connect "$SYNACK_IP" 6000
wait_line "$TMP/la.err" '^peer: connected' 20 "$LINUX_PID"
wait_states 6000 ESTAB ESTAB
linux close
wait_states 6000 CLOSE-WAIT FIN-WAIT-2
sleep 1.5 # past explain's --min-age (1 s)
explain a1.txt
has a1.txt "^synack:listen\\(pid=$apid,if=$TAP\\)\$" "the process is named"
has a1.txt "^  CLOSE-WAIT $SYNACK_IP:6000 -> $HOST_IP:[0-9]+, for [0-9.]+ s \\[stuck: close-wait\\]\$" "CLOSE-WAIT reported as stuck, cause close-wait"
has a1.txt "the peer closed its side; this application has not called close\\(\\)" "the cause in words"
has a1.txt "^    governed by: close\\(\\)" "governed by close()"
has a1.txt "ends by itself: never" "no timer ends it"
explain a2.json --json
has a2.json "\"state\":\"CLOSE-WAIT\",\"in_state_ms\":[0-9]+,\"orphan\":false,\"verdict\":\"stuck\",\"cause\":\"close-wait\"" "JSON: cause close-wait"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$TMP/a2.json" || fail "explain --json is not JSON"
say "ok: explain --json parses"
eof_stdin # synack's application closes: LAST-ACK, then gone
wait_states 6000 '-' 'TIME-WAIT'
wait_exit "$apid" 20
same "exit status of synack listen" "$WAIT_RC" 0

section "b. FIN-WAIT-2: synack shut down its side, Linux's application does not close"
linux_peer lb --listen 5005
wait_line "$TMP/lb.err" '^peer: listening' 20 "$LINUX_PID"
mkfifo "$TMP/b.in"
START_STDIN=$TMP/b.in start b "$SYNACK" connect "${TAPOPTS[@]}" -o tcp_fin_timeout=45 "$HOST_IP" 5005
bpid=$LAST_PID
hold_stdin "$TMP/b.in"
wait_line "$TMP/lb.err" '^peer: accepted' 20 "$LINUX_PID"
sport=$(nsx ss -H -t -n state established 2>/dev/null | awk -v p="$SYNACK_IP" '{ split($4, a, ":"); if (a[1] == p) { print a[2]; exit } }')
[ -n "$sport" ] || fail "no established connection from synack seen by Linux"
wait_states "$sport" ESTAB ESTAB
eof_stdin # synack connect: EOF on stdin is shutdown(SHUT_WR)
wait_states "$sport" FIN-WAIT-2 CLOSE-WAIT
sleep 1.5
explain b1.txt
has b1.txt "^synack:connect\\(pid=$bpid,if=$TAP\\)\$" "the process is named"
has b1.txt "^  FIN-WAIT-2 $SYNACK_IP:$sport -> $HOST_IP:5005, for [0-9.]+ s \\[stuck: fin-wait-2-half-closed\\]\$" "FIN-WAIT-2 reported, cause fin-wait-2-half-closed"
has b1.txt "^    governed by: close\\(\\) in the peer's application; tcp_fin_timeout \\(45 s\\)\$" "governed by the peer's close(); tcp_fin_timeout quoted from the process"
has b1.txt "ends by itself: never" "no timer ends it"
explain b2.json --json
has b2.json "\"state\":\"FIN-WAIT-2\",\"in_state_ms\":[0-9]+,\"orphan\":false,\"verdict\":\"stuck\",\"cause\":\"fin-wait-2-half-closed\"" "JSON: cause fin-wait-2-half-closed"
linux close
wait_exit "$bpid" 20
same "exit status of synack connect" "$WAIT_RC" 0
explain c.txt
has c.txt "^no running synack process\$" "nothing left to explain"
pass
