#!/usr/bin/env bash
# Case 5: the states of one connection seen from both ends at the same
# moment: `synack ss -a -n` (synack's end, through its control socket in
# this test's XDG_RUNTIME_DIR) and Linux's `ss -tan` (the kernel's end, in
# the namespace), sampled back to back until both show what they must.
# Who closes when is decided by the test: synack's stdin is a fifo held
# open by a `sleep` (killing it is EOF, i.e. synack's FIN), the Linux peer
# (peer.py hold) obeys commands written to another fifo.
#
#  a. synack closes first (`synack connect`): synack FIN-WAIT-2 while Linux
#     is in CLOSE-WAIT; Linux closes: Linux's socket is gone (LAST-ACK,
#     then nothing) and synack, in TIME-WAIT, exits 0.
#  b. The same with `synack http` (a server, so the process stays and its
#     TIME-WAIT can be seen): a request with "Connection: close" makes it
#     half-close; FIN-WAIT-2 / CLOSE-WAIT, then TIME-WAIT / nothing.
#  c. Linux closes first (`synack listen`, its frames delayed 300 ms each
#     way so that the short states last long enough to be seen): Linux
#     FIN-WAIT-2 while synack is in CLOSE-WAIT; then synack closes: synack
#     LAST-ACK while Linux is in FIN-WAIT-2 or TIME-WAIT; then synack's
#     connection is gone and Linux stays in TIME-WAIT.
#  d. Simultaneous close (again with the 300 ms delay, so both FINs cross):
#     both ends go through CLOSING; Linux ends in TIME-WAIT, synack exits 0.
set -euo pipefail
INTEROP_CASE=states
. "$(dirname "$0")/lib.sh"
interop_init "$@"
need ss

# states SPORT LPORT: one sample of both ends of the connection between
# synack's port SPORT and Linux's port LPORT ('*' matches any port), as
# "SYNACK-STATE LINUX-STATE", "-" for no such connection.
states() {
    local s l
    s=$(nsx "$SYNACK" ss -a -n 2>/dev/null |
        awk -v me="$SYNACK_IP" -v sp="$1" -v peer="$HOST_IP" -v lp="$2" '
            function m(a, ip, port) { return a == ip ":" port || (port == "*" && index(a, ip ":") == 1) }
            m($4, me, sp) && m($5, peer, lp) { print $1; exit }') || true
    l=$(nsx ss -H -t -a -n 2>/dev/null |
        awk -v me="$HOST_IP" -v lp="$2" -v peer="$SYNACK_IP" -v sp="$1" '
            function m(a, ip, port) { return a == ip ":" port || (port == "*" && index(a, ip ":") == 1) }
            m($4, me, lp) && m($5, peer, sp) { print $1; exit }') || true
    echo "${s:--} ${l:--}"
}

# expect SPORT LPORT SYNACK-RE LINUX-RE [TIMEOUT]: sample until synack's
# state matches SYNACK-RE and Linux's LINUX-RE in the same sample (extended
# regexes, anchored; "-" is no connection). Prints the states seen on the
# way and the matching sample.
expect() {
    local sp=$1 lp=$2 want_s=$3 want_l=$4 timeout=${5:-15}
    local start=$SECONDS t0 cur prev= trail=()
    t0=$(now)
    while :; do
        cur=$(states "$sp" "$lp")
        if [ "$cur" != "$prev" ]; then
            trail+=("$cur")
            prev=$cur
        fi
        if [[ ${cur% *} =~ ^($want_s)$ ]] && [[ ${cur#* } =~ ^($want_l)$ ]]; then
            say "ok: synack ${cur% *}, Linux ${cur#* } (at +$(awk -v a="$t0" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}') s; seen: ${trail[*]/ //})"
            return 0
        fi
        if [ $((SECONDS - start)) -ge "$timeout" ]; then
            fail "wanted synack '$want_s' and Linux '$want_l' at the same moment; samples (synack/Linux): ${trail[*]/ //}"
        fi
        sleep 0.02
    done
}

section "a. synack closes first (synack connect)"
linux_peer la --listen 5005
wait_line "$TMP/la.err" '^peer: listening' 20 "$LINUX_PID"
mkfifo "$TMP/a.in"
START_STDIN=$TMP/a.in start a "$SYNACK" connect "${TAPOPTS[@]}" "$HOST_IP" 5005
apid=$LAST_PID
hold_stdin "$TMP/a.in"
expect '*' 5005 ESTAB ESTAB
eof_stdin
expect '*' 5005 FIN-WAIT-2 CLOSE-WAIT
linux close
expect '*' 5005 'TIME-WAIT|-' '-'
wait_exit "$apid" 20
same "exit status of synack connect" "$WAIT_RC" 0

section "b. synack closes first (synack http, Connection: close)"
mkdir "$TMP/www"
echo hello >"$TMP/www/index.html"
synack_server http http --root "$TMP/www"
linux_peer lb --connect "$SYNACK_IP" 80
wait_line "$TMP/lb.err" '^peer: connected' 20 "$LINUX_PID"
expect 80 '*' ESTAB ESTAB
linux 'write GET /index.html HTTP/1.1\r\nHost: synack\r\nConnection: close\r\n\r\n'
expect 80 '*' FIN-WAIT-2 CLOSE-WAIT
# read the answer to EOF first: Linux answers a close with unread data by
# an RST, not a FIN
linux read
linux close
expect 80 '*' TIME-WAIT -
stop_server "synack http"

section "c. Linux closes first (synack listen --delay 300)"
mkfifo "$TMP/c.in"
hold_stdin "$TMP/c.in" # before synack opens it: the open waits for a writer
START_STDIN=$TMP/c.in synack_server c listen --delay 300 6000
cpid=$SERVER_PID
linux_peer lc --connect "$SYNACK_IP" 6000
wait_line "$TMP/lc.err" '^peer: connected' 20 "$LINUX_PID"
expect 6000 '*' ESTAB ESTAB
linux close
expect 6000 '*' CLOSE-WAIT FIN-WAIT-2
eof_stdin
expect 6000 '*' LAST-ACK 'FIN-WAIT-2|TIME-WAIT'
expect 6000 '*' - TIME-WAIT
wait_exit "$cpid" 20
same "exit status of synack listen" "$WAIT_RC" 0

section "d. simultaneous close (synack listen --delay 300)"
mkfifo "$TMP/d.in"
hold_stdin "$TMP/d.in" # before synack opens it: the open waits for a writer
START_STDIN=$TMP/d.in synack_server d listen --delay 300 6001
dpid=$SERVER_PID
linux_peer ld --connect "$SYNACK_IP" 6001
wait_line "$TMP/ld.err" '^peer: connected' 20 "$LINUX_PID"
expect 6001 '*' ESTAB ESTAB
# both FINs leave before either arrives (300 ms on the way)
printf 'close\n' >"$TMP/ld.cmd"
eof_stdin
expect 6001 '*' 'FIN-WAIT-1|CLOSING' 'FIN-WAIT-1|CLOSING'
expect 6001 '*' 'CLOSING' 'CLOSING|TIME-WAIT'
expect 6001 '*' '-|TIME-WAIT' TIME-WAIT
wait_exit "$dpid" 20
same "exit status of synack listen" "$WAIT_RC" 0
pass
