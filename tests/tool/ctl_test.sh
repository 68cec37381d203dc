#!/usr/bin/env bash
# ctl_test.sh CASE SYNACK CTL_TESTSRV
#
# Tests of the control socket and of `synack ss` / `synack sysctl` against
# ctl_testsrv (a stack with a LISTEN, an ESTAB and a SYN-SENT connection and
# a control socket, no TAP). Everything happens in a temporary
# XDG_RUNTIME_DIR: the real /run/synack is never touched.
set -u

case_name=$1
SYNACK=$2
SRV=$3

tmp=$(mktemp -d)
export XDG_RUNTIME_DIR=$tmp
DIR=$tmp/synack
pids=()
cleanup() {
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null
        kill -CONT "$p" 2>/dev/null # a stopped one must see the TERM
    done
    for p in "${pids[@]}"; do
        wait "$p" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT

fails=0
fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}

# start IFNAME [COMMAND]: run ctl_testsrv, wait for its ready line; sets PID
start() {
    local log=$tmp/srv-$1.log
    "$SRV" "$@" >"$log" 2>&1 &
    PID=$!
    pids+=("$PID")
    for _ in $(seq 100); do
        grep -q '^ready' "$log" && return 0
        if ! kill -0 "$PID" 2>/dev/null; then
            echo "ctl_testsrv $* exited:"
            cat "$log"
            exit 1
        fi
        sleep 0.1
    done
    echo "ctl_testsrv $* not ready after 10 s:"
    cat "$log"
    exit 1
}

# run STATUS CMD...: run, keep stdout+stderr in $OUT, check the status
run() {
    local want=$1
    shift
    OUT=$("$@" 2>&1 </dev/null)
    local got=$?
    if [ "$got" != "$want" ]; then
        fail "'$*' exited $got, expected $want"
        printf '%s\n' "$OUT"
    fi
}

# has REGEX / hasnt REGEX: about $OUT
has() {
    if ! printf '%s\n' "$OUT" | grep -Eq -- "$1"; then
        fail "no line matches '$1' in:"
        printf '%s\n' "$OUT"
    fi
}
hasnt() {
    if printf '%s\n' "$OUT" | grep -Eq -- "$1"; then
        fail "a line matches '$1' in:"
        printf '%s\n' "$OUT"
    fi
}

HEADER='^State +Recv-Q +Send-Q +Local Address:Port +Peer Address:Port +Process$'

case $case_name in
ss)
    start ctl0
    run 0 "$SYNACK" ss
    has "$HEADER"
    has "^SYN-SENT +0 +0 +10\.0\.0\.1:[0-9]+ +10\.0\.0\.9:80 +synack:testsrv\(pid=$PID,if=ctl0\)$"
    has "^ESTAB +500 +0 +10\.0\.0\.1:[0-9]+ +10\.0\.0\.2:80 +synack:testsrv\(pid=$PID,if=ctl0\)$"
    hasnt "^LISTEN"
    hasnt "timer:"
    # the file and directory modes
    [ "$(stat -c %a "$DIR")" = 700 ] || fail "$DIR mode $(stat -c %a "$DIR"), expected 700"
    [ "$(stat -c %a "$DIR/ctl0.sock")" = 600 ] || fail "socket mode $(stat -c %a "$DIR/ctl0.sock"), expected 600"
    [ -S "$DIR/ctl0.sock" ] || fail "$DIR/ctl0.sock is not a socket"
    ;;
ss_all)
    start ctl0
    for args in "-a" "-tan" "-t -a -n"; do
        # shellcheck disable=SC2086
        run 0 "$SYNACK" ss $args
        has "$HEADER"
        has "^LISTEN +0 +8 +0\.0\.0\.0:7 +0\.0\.0\.0:\* +synack:testsrv\(pid=$PID,if=ctl0\)$"
        has "^SYN-SENT +0 +0 +10\.0\.0\.1:[0-9]+ +10\.0\.0\.9:80 "
        has "^ESTAB +500 +0 "
    done
    ;;
ss_listening)
    start ctl0
    run 0 "$SYNACK" ss -l
    has "$HEADER"
    has "^LISTEN +0 +8 +0\.0\.0\.0:7 +0\.0\.0\.0:\* "
    hasnt "^SYN-SENT"
    hasnt "^ESTAB"
    ;;
ss_timers)
    start ctl0
    run 0 "$SYNACK" ss -tano
    has "^SYN-SENT .*synack:testsrv\(pid=$PID,if=ctl0\) timer:\(on,([0-9]+ms|[0-9]+\.[0-9]{3}sec|[0-9]+sec),[0-9]+\)$"
    has "^LISTEN .*\(pid=$PID,if=ctl0\)$"
    ;;
ss_info)
    start ctl0
    run 0 "$SYNACK" ss -ti
    has "^ESTAB +500 "
    has "^	 ts sack wscale:[0-9]+,[0-9]+ rto:[0-9.]+ rtt:[0-9.]+/[0-9.]+ mss:1448 rcvmss:[0-9]+ cwnd:[0-9]+ bytes_sent:3000 bytes_acked:3000 bytes_received:500 segs_out:[0-9]+ segs_in:[0-9]+ "
    # SYN-SENT: no RTT sample yet; backoff and retrans once the SYN was
    # sent again (after 1 s)
    has "^	 rto:[0-9]+ (backoff:[0-9]+ )?mss:536 rcvmss:[0-9]+ segs_out:[0-9]+ (retrans:[0-9]+/[0-9]+ )?rcv_wnd:[0-9]+$"
    ;;
ss_json)
    start ctl0
    for args in "--json" "-a --json"; do
        # shellcheck disable=SC2086
        "$SYNACK" ss $args >"$tmp/out.json" 2>"$tmp/err" || fail "ss $args failed: $(cat "$tmp/err")"
        python3 -m json.tool "$tmp/out.json" >/dev/null || fail "ss $args: not valid JSON: $(cat "$tmp/out.json")"
        python3 - "$tmp/out.json" "$PID" "$args" <<'EOF' || fail "ss $args: JSON content"
import json, sys
d = json.load(open(sys.argv[1]))
pid, args = int(sys.argv[2]), sys.argv[3]
ps = d["processes"]
assert len(ps) == 1, ps
p = ps[0]
assert p["pid"] == pid and p["command"] == "testsrv" and p["ifname"] == "ctl0", p
cs = {c["state"]: c for c in p["connections"]}
ss = cs["SYN-SENT"]
assert ss["ss_state"] == "SYN-SENT" and ss["timer"] == "on", ss
assert isinstance(ss["timer_expires_ms"], int) and ss["remote"] == "10.0.0.9:80", ss
assert ss["remote_addr"] == "10.0.0.9" and ss["remote_port"] == 80, ss
e = cs["ESTABLISHED"]
assert e["ss_state"] == "ESTAB" and e["recv_q"] == 500 and e["bytes_sent"] == 3000, e
assert e["bytes_received"] == 500 and e["bytes_acked"] == 3000 and e["snd_mss"] == 1448, e
for f in ("id", "handle", "local", "send_q", "backoff", "rtt_us", "rttvar_us",
          "rto_us", "rcv_mss", "cwnd", "ssthresh", "snd_wnd", "rcv_wnd",
          "snd_wscale", "rcv_wscale", "ts_ok", "sack_ok", "bytes_retrans",
          "segs_in", "segs_out", "total_retrans"):
    assert f in e, f
if "-a" in args:
    assert cs["LISTEN"]["local"] == "0.0.0.0:7", cs
else:
    assert "LISTEN" not in cs, cs
EOF
    done
    ;;
ss_none)
    # no directory at all, then an empty one
    run 0 "$SYNACK" ss
    [ "$OUT" = "$(printf '%s' "$OUT" | head -1)" ] || fail "more than the header: $OUT"
    has "$HEADER"
    mkdir -m 700 "$DIR"
    run 0 "$SYNACK" ss -a
    has "$HEADER"
    [ "$(printf '%s\n' "$OUT" | wc -l)" = 1 ] || fail "more than the header: $OUT"
    run 0 "$SYNACK" ss --json
    has '^\{"processes":\[\]\}$'
    printf '%s\n' "$OUT" | python3 -m json.tool >/dev/null || fail "not JSON: $OUT"
    ;;
ss_help)
    run 0 "$SYNACK" ss --help
    has "^usage: synack ss \[-t\] \[-a\] \[-l\] \[-n\] \[-o\] \[-i\] \[--json\]"
    has "ESTAB, SYN-SENT, SYN-RECV"
    run 2 "$SYNACK" ss -x
    has "synack ss: unknown option '-x'"
    run 2 "$SYNACK" ss --frob
    has "synack ss: unknown option '--frob'"
    run 2 "$SYNACK" ss state established
    has "synack ss: unexpected argument 'state'"
    ;;
sysctl_list)
    start ctl0
    for args in "" "-a"; do
        # shellcheck disable=SC2086
        run 0 "$SYNACK" sysctl $args
        has "^net\.ipv4\.tcp_syn_retries = 127$"
        has "^net\.ipv4\.tcp_keepalive_time = 7200$"
        has "^net\.ipv4\.tcp_rmem = 4096	131072	6291456$"
        has "^net\.ipv4\.tcp_delack_ms = 40$"
        [ "$(printf '%s\n' "$OUT" | grep -c '^net\.ipv4\.tcp_[a-z0-9_]* = ')" -ge 15 ] || fail "too few tunables: $OUT"
    done
    ;;
sysctl_get_set)
    start ctl0
    run 0 "$SYNACK" sysctl net.ipv4.tcp_keepalive_time
    has "^net\.ipv4\.tcp_keepalive_time = 7200$"
    run 0 "$SYNACK" sysctl tcp_keepalive_time=600
    has "^net\.ipv4\.tcp_keepalive_time = 600$"
    run 0 "$SYNACK" sysctl tcp_keepalive_time
    has "^net\.ipv4\.tcp_keepalive_time = 600$"
    run 0 "$SYNACK" sysctl -n tcp_keepalive_time
    has "^600$"
    # a vector, with spaces or with TABs as sysctl prints it
    run 0 "$SYNACK" sysctl "net.ipv4.tcp_rmem=4096 65536 65536"
    has "^net\.ipv4\.tcp_rmem = 4096	65536	65536$"
    run 0 "$SYNACK" sysctl "tcp_wmem=4096	32768	65536"
    has "^net\.ipv4\.tcp_wmem = 4096	32768	65536$"
    run 0 "$SYNACK" sysctl tcp_rmem tcp_wmem tcp_keepalive_time
    has "^net\.ipv4\.tcp_rmem = 4096	65536	65536$"
    has "^net\.ipv4\.tcp_wmem = 4096	32768	65536$"
    has "^net\.ipv4\.tcp_keepalive_time = 600$"
    # the whole list shows the new values too
    run 0 "$SYNACK" sysctl
    has "^net\.ipv4\.tcp_keepalive_time = 600$"
    ;;
sysctl_errors)
    start ctl0
    run 1 "$SYNACK" sysctl tcp_nope
    has "^synack sysctl: tcp_nope: unknown tunable tcp_nope$"
    run 1 "$SYNACK" sysctl net.ipv4.tcp_nope=1
    has "^synack sysctl: net\.ipv4\.tcp_nope=1: unknown tunable net\.ipv4\.tcp_nope$"
    run 1 "$SYNACK" sysctl tcp_syn_retries=abc
    has "^synack sysctl: tcp_syn_retries=abc: invalid value 'abc' \(tcp_syn_retries: .*accepted: 1 to 127\)$"
    run 1 "$SYNACK" sysctl tcp_syn_retries=0
    has "^synack sysctl: tcp_syn_retries=0: value out of range \(tcp_syn_retries: .*accepted: 1 to 127\)$"
    run 1 "$SYNACK" sysctl "tcp_rmem=4096 8192"
    has "^synack sysctl: tcp_rmem=4096 8192: invalid value '4096 8192' \(tcp_rmem: "
    run 1 "$SYNACK" sysctl "tcp_rmem=1 2 3"
    has "^synack sysctl: tcp_rmem=1 2 3: value out of range \(tcp_rmem: "
    run 1 "$SYNACK" sysctl tcp_syn_retries=
    has "^synack sysctl: tcp_syn_retries=: sysctl-set tcp_syn_retries: no value given"
    # nothing changed; the good names of a mixed list still answer
    run 1 "$SYNACK" sysctl tcp_syn_retries tcp_nope tcp_delack_ms
    has "^net\.ipv4\.tcp_syn_retries = 127$"
    has "unknown tunable tcp_nope"
    has "^net\.ipv4\.tcp_delack_ms = 40$"
    ;;
sysctl_target)
    run 1 "$SYNACK" sysctl
    has "^synack sysctl: no running synack process \(looked in $DIR\)$"
    run 1 "$SYNACK" sysctl tcp_syn_retries
    has "no running synack process"
    start ctl0
    P0=$PID
    start ctl1 other
    P1=$PID
    run 2 "$SYNACK" sysctl tcp_syn_retries
    has "^synack sysctl: 2 synack processes are running; choose one:$"
    has "^  --if ctl0 +\(synack testsrv, pid $P0\)$"
    has "^  --if ctl1 +\(synack other, pid $P1\)$"
    run 0 "$SYNACK" sysctl --if ctl1 tcp_syn_retries=9
    has "^net\.ipv4\.tcp_syn_retries = 9$"
    run 0 "$SYNACK" sysctl --if=ctl0 tcp_syn_retries
    has "^net\.ipv4\.tcp_syn_retries = 127$"
    run 0 "$SYNACK" sysctl --if ctl1 tcp_syn_retries
    has "^net\.ipv4\.tcp_syn_retries = 9$"
    run 1 "$SYNACK" sysctl --if nope tcp_syn_retries
    has "^synack sysctl: no running synack process serves nope \(looked for $DIR/nope\.sock\)$"
    # ss lists both
    run 0 "$SYNACK" ss -a
    has "\(pid=$P0,if=ctl0\)$"
    has "^LISTEN .*synack:other\(pid=$P1,if=ctl1\)$"
    ;;
sysctl_usage)
    run 0 "$SYNACK" sysctl --help
    has "^usage: synack sysctl \[--if IFNAME\]"
    run 2 "$SYNACK" sysctl --bogus
    has "^synack sysctl: unknown option '--bogus'$"
    run 2 "$SYNACK" sysctl --if
    has "^synack sysctl: --if needs an interface name$"
    run 2 "$SYNACK" sysctl =5
    has "is not NAME or NAME=VALUE"
    ;;
stale)
    start ctl0
    kill -9 "$PID"
    wait "$PID" 2>/dev/null
    [ -S "$DIR/ctl0.sock" ] || fail "the killed server's socket should be left behind"
    # clients skip it silently
    run 0 "$SYNACK" ss -a
    [ "$OUT" = "$(printf '%s' "$OUT" | head -1)" ] || fail "ss printed more than the header: $OUT"
    run 0 "$SYNACK" ss --json
    has '^\{"processes":\[\]\}$'
    run 1 "$SYNACK" sysctl
    has "no running synack process"
    # a new server takes the name over
    start ctl0
    run 0 "$SYNACK" ss -a
    has "^LISTEN .*\(pid=$PID,if=ctl0\)$"
    # a file that is not a socket is refused, not removed
    : >"$DIR/ctl2.sock"
    run 1 "$SRV" ctl2
    has "ctl2\.sock exists and is not a socket"
    [ -f "$DIR/ctl2.sock" ] || fail "the regular file was removed"
    # ... and ss skips it
    run 0 "$SYNACK" ss -a
    has "\(pid=$PID,if=ctl0\)$"
    ;;
duplicate)
    start ctl0
    P0=$PID
    run 1 "$SRV" ctl0 second
    has "^ctl_testsrv: ctl0 is already served by synack testsrv \(pid $P0\); its control socket is $DIR/ctl0\.sock$"
    kill -0 "$P0" || fail "the first server died"
    run 0 "$SYNACK" ss -a
    has "^LISTEN .*synack:testsrv\(pid=$P0,if=ctl0\)$"
    hasnt "second"
    ;;
garbage)
    start ctl0
    python3 - "$DIR/ctl0.sock" <<'EOF' || fail "garbage clients"
import os, socket, sys, time
path = sys.argv[1]

def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)  # blocking: waits while the backlog is full
    s.settimeout(5)
    return s

def ask(data, shut=True):
    s = conn()
    s.sendall(data)
    if shut:
        s.shutdown(socket.SHUT_WR)
    out = b""
    while True:
        try:
            x = s.recv(65536)
        except ConnectionResetError:
            break  # we left input unread: the answer came before
        if not x:
            break
        out += x
    s.close()
    return out

def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)

r = ask(os.urandom(300).replace(b"\n", b"x") + b"\n")
check(r.startswith(b"synack-ctl 1 error unknown request"), r[:200])
r = ask(b"\x00\x01\x02hello\n")
check(r.startswith(b"synack-ctl 1 error"), r[:200])
r = ask(b"A" * 100000)
check(r == b"synack-ctl 1 error request line too long (at most 1024 bytes)\n", r[:200])
r = ask(b"conns extra\n")
check(r == b"synack-ctl 1 error request 'conns' takes no argument\n", r[:200])
r = ask(b"sysctl-get\n")
check(r.startswith(b"synack-ctl 1 error usage: sysctl-get NAME"), r[:200])
r = ask(b"hello\r\n")
check(r.startswith(b"synack-ctl 1 ok\npid\t") and r.endswith(b"end\n"), r[:200])
r = ask(b"hello")  # no newline, then EOF
check(r.startswith(b"synack-ctl 1 ok\n"), r[:200])
# connect and leave at once; send and leave without reading
for _ in range(20):
    conn().close()
    s = conn(); s.sendall(b"conns\n"); s.close()
    s = conn(); s.sendall(b"sysctl-l"); s.close()
# a silent client is dropped after the read timeout, without an answer
s = conn()
t = time.time()
r = s.recv(100)
check(r == b"" and time.time() - t < 2, (r, time.time() - t))
s.close()
# a client that sends a request and never reads a big answer does not
# hold the server for long
held = [conn() for _ in range(5)]
for h in held:
    h.sendall(b"sysctl-list\n")
r = ask(b"hello\n")
check(r.startswith(b"synack-ctl 1 ok"), r[:100])
for h in held:
    h.close()
EOF
    kill -0 "$PID" || fail "the server died"
    run 0 "$SYNACK" ss -a
    has "^LISTEN .*\(pid=$PID,if=ctl0\)$"
    run 0 "$SYNACK" sysctl tcp_syn_retries
    has "= 127$"
    ;;
close)
    start ctl0
    [ -S "$DIR/ctl0.sock" ] || fail "no socket"
    kill -TERM "$PID"
    wait "$PID"
    st=$?
    [ "$st" = 0 ] || fail "ctl_testsrv exited $st after SIGTERM"
    grep -q '^closed$' "$tmp/srv-ctl0.log" || fail "no 'closed' line: $(cat "$tmp/srv-ctl0.log")"
    [ -e "$DIR/ctl0.sock" ] && fail "the socket file was left behind"
    run 0 "$SYNACK" ss -a
    [ "$(printf '%s\n' "$OUT" | wc -l)" = 1 ] || fail "more than the header: $OUT"
    ;;
stopped)
    # a stopped process: clients say so after their timeout instead of
    # hanging, and a new server does not take the name over
    start ctl0
    kill -STOP "$PID"
    t0=$(date +%s)
    run 1 "$SYNACK" ss -a
    has "^synack ss: $DIR/ctl0\.sock: no answer within 2000 ms \(is the process stopped\?\)$"
    has "$HEADER"
    [ $(($(date +%s) - t0)) -le 5 ] || fail "ss took more than 5 s"
    run 1 "$SYNACK" sysctl --if ctl0 tcp_syn_retries
    has "no answer within 2000 ms"
    run 1 "$SRV" ctl0 second
    has "ctl0\.sock is in use but its process does not answer"
    [ -S "$DIR/ctl0.sock" ] || fail "the socket of the stopped process was removed"
    kill -CONT "$PID"
    run 0 "$SYNACK" ss -a
    has "^LISTEN .*\(pid=$PID,if=ctl0\)$"
    ;;
permission)
    # as another user: the directory, then one socket, are not ours
    if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
        echo "skipped: needs root and setpriv to act as another user"
        exit 77
    fi
    start ctl0
    chmod 755 "$tmp"
    as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
    if ! as_nobody test -x "$SYNACK"; then
        echo "skipped: $SYNACK is not reachable for user 65534"
        exit 77
    fi
    run 1 as_nobody "$SYNACK" ss
    has "^synack ss: cannot read $DIR: permission denied \(its synack processes run as another user; run as that user or as root\)$"
    has "$HEADER"
    run 1 as_nobody "$SYNACK" sysctl
    has "^synack sysctl: cannot read $DIR: permission denied"
    chmod 755 "$DIR"
    run 1 as_nobody "$SYNACK" ss -a
    has "^synack ss: $DIR/ctl0\.sock: permission denied \(that process runs as another user; run as that user or as root\)$"
    run 1 as_nobody "$SYNACK" sysctl --if ctl0
    has "^synack sysctl: $DIR/ctl0\.sock: permission denied"
    run 1 as_nobody "$SYNACK" sysctl
    has "^synack sysctl: $DIR/ctl0\.sock: permission denied$"
    has "no running synack process .*some control sockets were not accessible"
    # the owner still gets through
    run 0 "$SYNACK" ss -a
    has "\(pid=$PID,if=ctl0\)$"
    ;;
explain)
    # the SYN-SENT connection to 10.0.0.9 (nobody answers; tcp_syn_retries
    # 127 in this process) once it is older than --min-age (1 s)
    start ctl0
    sleep 1.2
    run 0 "$SYNACK" explain
    has "^synack:testsrv\(pid=$PID,if=ctl0\)$"
    has "^  SYN-SENT 10\.0\.0\.1:[0-9]+ -> 10\.0\.0\.9:80, for [0-9.]+ s \[stuck: syn-sent-no-answer\]$"
    has "^    governed by: tcp_syn_retries=127, tcp_rto_initial_ms=1000"
    has "^    ends by itself in: "
    hasnt "ESTABLISHED"
    hasnt "LISTEN"
    run 0 "$SYNACK" explain --if nosuch
    has "^no running synack process$"
    run 0 "$SYNACK" explain --if ctl0 --all
    has "^  ESTABLISHED 10\.0\.0\.1:[0-9]+ -> 10\.0\.0\.2:80, for [0-9.]+ s \[ok: ok\]$"
    # listen() before the stack's first tick: the age is not known
    has "^  LISTEN 0\.0\.0\.0:7 -> 0\.0\.0\.0:0, for an unknown time \[ok: ok\]$"
    run 0 "$SYNACK" explain --json --interval 0
    printf '%s\n' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
p = d["processes"][0]
assert p["command"] == "testsrv", p
c = [c for c in p["connections"] if c["state"] == "SYN-SENT"]
assert c and c[0]["cause"] == "syn-sent-no-answer" and c[0]["verdict"] == "stuck", p
assert c[0]["orphan"] is False and c[0]["in_state_ms"] >= 1000, c
' || fail "explain --json: $OUT"
    ;;
explain_none)
    run 0 "$SYNACK" explain
    has "^no running synack process$"
    run 0 "$SYNACK" explain --json
    has '^\{"processes":\[\]\}$'
    run 2 "$SYNACK" explain --min-age
    has "--min-age"
    run 2 "$SYNACK" explain --interval 99999999
    has "at most 60000"
    # a word is a capture file to explain; a second one is too many
    run 1 "$SYNACK" explain extra
    has "extra: No such file or directory"
    run 2 "$SYNACK" explain one two
    has "unexpected argument 'two'"
    run 1 "$SYNACK" trace
    has "^synack trace: no running synack process$"
    run 0 "$SYNACK" trace --help
    has "^usage: synack trace"
    run 2 "$SYNACK" trace --count 0
    has "--count needs a number above 0"
    ;;
trace)
    # a subscriber sees the header; the server keeps answering others;
    # the stream ends with "end" when the process exits
    start ctl0
    "$SYNACK" trace --if ctl0 >"$tmp/trace.out" 2>"$tmp/trace.err" &
    tpid=$!
    for _ in $(seq 50); do
        grep -q "following" "$tmp/trace.err" && break
        sleep 0.1
    done
    grep -q "^synack trace: following synack:testsrv(pid=$PID,if=ctl0)$" "$tmp/trace.err" ||
        fail "trace did not follow the process: $(cat "$tmp/trace.err")"
    run 0 "$SYNACK" ss -a
    has "^LISTEN "
    # a connection refused: two state changes with their causes, in order
    kill -USR1 "$PID"
    for _ in $(seq 50); do
        [ "$(wc -l <"$tmp/trace.out")" -ge 2 ] && break
        sleep 0.1
    done
    OUT=$(cat "$tmp/trace.out")
    has "^[0-9]+\.[0-9]{6} synack:testsrv\(pid=$PID,if=ctl0\) 10\.0\.0\.1:[0-9]+ 10\.0\.0\.2:81 CLOSED -> SYN-SENT \(call connect\)$"
    [ "$(sed -n 2p "$tmp/trace.out" | sed 's/.* 10\.0\.0\.2:81 //')" = "SYN-SENT -> CLOSED (rcv RST,ACK)" ] ||
        fail "second line: $(sed -n 2p "$tmp/trace.out")"
    # eight subscribers at most; one that leaves frees its place
    subs=()
    for i in 1 2 3 4 5 6 7; do
        "$SYNACK" trace --json >"$tmp/sub$i.out" 2>"$tmp/sub$i.err" &
        subs+=($!)
    done
    for _ in $(seq 50); do
        [ "$(cat "$tmp"/sub*.err | grep -c following)" -ge 7 ] && break
        sleep 0.1
    done
    run 1 "$SYNACK" trace
    has "too many trace subscribers \(at most 8\)"
    kill "${subs[0]}"
    wait "${subs[0]}" 2>/dev/null
    ok=0
    for _ in $(seq 50); do
        # --foreground -k: see tests/interop/14-trace-ladder.sh
        timeout --foreground -k 10 1 "$SYNACK" trace >"$tmp/again.out" 2>&1
        grep -q following "$tmp/again.out" && { ok=1; break; }
        sleep 0.1
    done
    [ "$ok" = 1 ] || fail "a subscriber's place was not freed: $(cat "$tmp/again.out")"
    kill -USR1 "$PID"
    for _ in $(seq 50); do
        [ "$(wc -l <"$tmp/sub2.out")" -ge 2 ] && break
        sleep 0.1
    done
    python3 -c '
import json, sys
o = [json.loads(l) for l in open(sys.argv[1])]
assert [(x["from"], x["to"], x["cause"]) for x in o] == [("CLOSED", "SYN-SENT", "call connect"), ("SYN-SENT", "CLOSED", "rcv RST,ACK")], o
assert o[0]["command"] == "testsrv" and o[0]["remote"] == "10.0.0.2:81", o
' "$tmp/sub2.out" || fail "trace --json: $(cat "$tmp/sub2.out")"
    kill "$PID"
    for _ in $(seq 50); do
        kill -0 "$tpid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$tpid" 2>/dev/null; then
        fail "synack trace still runs after its process exited"
        kill "$tpid"
    fi
    wait "$tpid" || fail "synack trace exited $?"
    run 1 "$SYNACK" trace --if nosuch
    has "no running synack process serves that interface"
    ;;
*)
    echo "unknown case $case_name"
    exit 2
    ;;
esac

if [ "$fails" -gt 0 ]; then
    echo "$case_name: $fails check(s) failed"
    exit 1
fi
echo "$case_name: ok"
