# tests/interop/lib.sh: the shell library of the interop tests. Sourced by
# each case script (bash, set -euo pipefail) after it sets INTEROP_CASE:
#
#   . "$(dirname "$0")/lib.sh"
#   interop_init "$@"          # SYNACK binary as $1; skips (77) or sets up
#
# Everything a test does happens inside a network namespace it creates
# itself (synack-<case>-<pid>): synack creates its TAP device there and
# gives the kernel's side of it the address HOST_IP; the Linux peers run
# there too (`nsx CMD...`). Nothing leaves the namespace: the only other
# interface in it is its own loopback. The EXIT trap kills what the test
# started, deletes the namespace and the temporary directory, also on
# failure, and on failure prints the logs.
#
# Skips: without root, CAP_NET_ADMIN/CAP_SYS_ADMIN, /dev/net/tun or a
# namespace that can be created, the test prints "SKIP: <reason>" and exits
# 77, which ctest (SKIP_RETURN_CODE 77) reports as skipped, never as passed.
# SYNACK_INTEROP_REQUIRE=1 turns every skip into a failure.
#
# Addresses: synack is SYNACK_IP (10.77.0.2/24) on TAP device TAP (stap0),
# the kernel is HOST_IP (10.77.0.1) on the same device.

SYNACK_IP=10.77.0.2
HOST_IP=10.77.0.1
PREFIX=24
TAP=stap0
# the options every live synack command gets
TAPOPTS=(--tap "$TAP" --ip "$SYNACK_IP/$PREFIX" --host-ip "$HOST_IP/$PREFIX")

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PEER=("${PYTHON3:-python3}" "$HERE/peer.py")

NS=
EXTRA_NS=()
TMP=
PIDS=()
_failed=1

say() { printf '%s\n' "$*"; }
# section TITLE: a header line in the test's output
section() { printf '\n== %s\n' "$*"; }

skip() {
    if [ "${SYNACK_INTEROP_REQUIRE:-}" = 1 ]; then
        echo "FAIL: cannot run (SYNACK_INTEROP_REQUIRE=1): $*"
        exit 1
    fi
    echo "SKIP: $*"
    exit 77
}

fail() {
    echo "FAIL: $*"
    exit 1
}

# _cap N: is capability bit N in our effective set?
_cap() {
    local eff
    eff=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status 2>/dev/null)
    [ -n "$eff" ] || return 1
    (((0x$eff >> $1) & 1))
}

# need CMD...: skip when a program the test uses is missing (scripts/deps
# installs them all).
need() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 ||
            skip "$c is not installed (scripts/deps installs it)"
    done
}

_dump_logs() {
    local f
    [ -n "$TMP" ] && [ -d "$TMP" ] || return 0
    for f in "$TMP"/*.out "$TMP"/*.err; do
        [ -s "$f" ] || continue
        echo "---- $(basename "$f") (last 30 lines):"
        tail -n 30 "$f" | cut -c1-300
    done
}

_cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
        _dump_logs
    fi
    # what we started, then whatever is left inside our own namespace
    local p
    for p in "${PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null
    done
    local ns
    for ns in "${EXTRA_NS[@]}" $NS; do
        for p in $(ip netns pids "$ns" 2>/dev/null); do
            kill -TERM "$p" 2>/dev/null
        done
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break
            sleep 0.2
        done
        for p in $(ip netns pids "$ns" 2>/dev/null); do
            kill -KILL "$p" 2>/dev/null
        done
        ip netns del "$ns" 2>/dev/null
    done
    for p in "${PIDS[@]}"; do
        kill -KILL "$p" 2>/dev/null
    done
    if [ -n "$TMP" ] && [ -d "$TMP" ]; then
        if [ $rc -ne 0 ] && [ $rc -ne 77 ] && [ "${SYNACK_INTEROP_KEEP:-}" = 1 ]; then
            echo "kept $TMP"
        else
            rm -rf "$TMP"
        fi
    fi
    exit $rc
}

# interop_init SYNACK: check the privileges, make the namespace and the
# temporary directory, point XDG_RUNTIME_DIR there.
interop_init() {
    SYNACK=${1:-}
    [ -n "$SYNACK" ] || fail "usage: $0 SYNACK-BINARY"
    [ -x "$SYNACK" ] || fail "$SYNACK is not an executable"
    SYNACK=$(cd "$(dirname "$SYNACK")" && pwd)/$(basename "$SYNACK")
    local case=${INTEROP_CASE:-$(basename "$0" .sh)}
    # a capture left by an earlier run must not stand in for this one
    if [ -n "${INTEROP_PCAP_DIR:-}" ]; then
        rm -f "$INTEROP_PCAP_DIR/$(basename "$0" .sh).pcap"
    fi

    [ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces and a TAP device); running as uid $(id -u)"
    _cap 12 || skip "needs CAP_NET_ADMIN"
    _cap 21 || skip "needs CAP_SYS_ADMIN (ip netns add)"
    [ -c /dev/net/tun ] || skip "/dev/net/tun is missing (no TUN/TAP support)"
    need ip "${PEER[0]}"

    trap _cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/synack-interop-$case.XXXXXX")
    # control sockets: $XDG_RUNTIME_DIR/synack/<ifname>.sock, ours alone
    export XDG_RUNTIME_DIR=$TMP/run
    mkdir -m 700 "$XDG_RUNTIME_DIR"

    local name err
    name=synack-$case-$$
    name=${name:0:40}
    if ! err=$(ip netns add "$name" 2>&1); then
        skip "cannot create a network namespace: $err"
    fi
    NS=$name
    ip netns exec "$NS" ip link set lo up ||
        fail "cannot bring up lo in namespace $NS"
    say "namespace $NS, temporary directory $TMP"
}

# extra_ns VAR SUFFIX: create one more namespace, $NS-SUFFIX with its
# loopback up, deleted at exit like $NS, and put its name in VAR (not in a
# subshell: the cleanup must learn of it). For tests that need Linux on
# both ends, e.g. two namespaces joined by `synack bridge`.
extra_ns() {
    local name=${NS:0:36}-$2 err
    if ! err=$(ip netns add "$name" 2>&1); then
        fail "cannot create a network namespace $name: $err"
    fi
    EXTRA_NS+=("$name")
    ip netns exec "$name" ip link set lo up ||
        fail "cannot bring up lo in namespace $name"
    printf -v "$1" '%s' "$name"
}

# bridge_up NS_A IP_A NS_B IP_B [BRIDGE-OPTIONS...]: join two namespaces
# through `synack bridge` running in $NS: TAP sbra goes to NS_A with
# IP_A/24, TAP sbrb to NS_B with IP_B/24, both up. Sets BRIDGE_PID; the
# bridge's stdout and stderr are $TMP/bridge.out and .err.
bridge_up() {
    local nsa=$1 ipa=$2 nsb=$3 ipb=$4
    shift 4
    start bridge "$SYNACK" bridge --tap-a sbra --tap-b sbrb "$@"
    BRIDGE_PID=$LAST_PID
    wait_line "$TMP/bridge.out" '^bridge: ready' 20 "$BRIDGE_PID"
    nsx ip link set sbra netns "$nsa" || fail "cannot move sbra to $nsa"
    nsx ip link set sbrb netns "$nsb" || fail "cannot move sbrb to $nsb"
    ip -n "$nsa" addr add "$ipa/24" dev sbra
    ip -n "$nsa" link set sbra up
    ip -n "$nsb" addr add "$ipb/24" dev sbrb
    ip -n "$nsb" link set sbrb up
}

# nsx CMD...: run CMD inside the test's namespace.
nsx() { ip netns exec "$NS" "$@"; }

# start NAME CMD...: run CMD in the namespace in the background, stdout to
# $TMP/NAME.out, stderr to $TMP/NAME.err, stdin from /dev/null unless
# START_STDIN names a file (or fifo). Sets LAST_PID; the process is killed
# at exit if still running.
start() {
    local name=$1
    shift
    local in=${START_STDIN:-/dev/null}
    ip netns exec "$NS" "$@" <"$in" >"$TMP/$name.out" 2>"$TMP/$name.err" &
    LAST_PID=$!
    PIDS+=("$LAST_PID")
}

# wait_line FILE REGEX TIMEOUT PID: wait until a line of FILE matches the
# extended REGEX; fail if PID exits first or TIMEOUT seconds pass.
wait_line() {
    local file=$1 re=$2 timeout=$3 pid=$4
    local end=$((SECONDS + timeout))
    while :; do
        if [ -f "$file" ] && grep -Eq -- "$re" "$file"; then
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            # one last look: it may have printed the line and exited
            [ -f "$file" ] && grep -Eq -- "$re" "$file" && return 0
            fail "process $pid exited before printing /$re/ to $(basename "$file")"
        fi
        [ $SECONDS -lt $end ] ||
            fail "no line /$re/ in $(basename "$file") after ${timeout}s"
        sleep 0.05
    done
}

# synack_server NAME SUBCOMMAND ARGS...: start `synack SUBCOMMAND --tap ...
# ARGS` in the namespace and wait (20 s at most) for its ready line: the
# first line it prints on stdout; for `listen`, whose stdout is the data,
# its "listening on" line on stderr. Sets SERVER_PID.
synack_server() {
    local name=$1 sub=$2 file=out re=.
    shift 2
    if [ "$sub" = listen ]; then
        file=err
        re='listening on'
    fi
    start "$name" "$SYNACK" "$sub" "${TAPOPTS[@]}" "$@"
    SERVER_PID=$LAST_PID
    wait_line "$TMP/$name.$file" "$re" 20 "$SERVER_PID"
    say "synack $sub ready: $(grep -E -m 1 -- "$re" "$TMP/$name.$file")"
}

# peer_server NAME ARGS...: start peer.py's server mode ARGS in the
# namespace and wait for it to listen. Sets PEER_PID.
peer_server() {
    local name=$1
    shift
    start "$name" "${PEER[@]}" "$@"
    PEER_PID=$LAST_PID
    wait_line "$TMP/$name.err" '^peer: listening ' 20 "$PEER_PID"
}

# stop_server WHAT: SIGTERM to SERVER_PID; it must close its connections,
# remove its control socket and exit 0 within 20 s
stop_server() {
    kill -0 "$SERVER_PID" 2>/dev/null || fail "$1 exited during the test"
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID" 20
    [ "$WAIT_RC" -ne 124 ] || fail "$1 did not exit within 20 s of SIGTERM"
    same "exit status of $1 after SIGTERM" "$WAIT_RC" 0
    [ ! -e "$XDG_RUNTIME_DIR/synack/$TAP.sock" ] ||
        fail "$1 left its control socket $XDG_RUNTIME_DIR/synack/$TAP.sock"
}

# pass: the end of a case that went well, unless a synack process left a
# sanitizer report (ASan, UBSan, LeakSanitizer) in its stderr
pass() {
    local f
    for f in "$TMP"/*.err; do
        [ -f "$f" ] || continue
        if grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer' "$f"; then
            grep -E -A 12 'ERROR: |runtime error:' "$f" | head -n 40
            fail "sanitizer report in $(basename "$f")"
        fi
    done
    say "PASS"
}

# wait_exit PID TIMEOUT: wait for a background process; its exit status
# goes to WAIT_RC (124 after TIMEOUT seconds, the process then killed).
wait_exit() {
    local pid=$1 timeout=$2
    local end=$((SECONDS + timeout))
    while kill -0 "$pid" 2>/dev/null; do
        if [ $SECONDS -ge $end ]; then
            kill -TERM "$pid" 2>/dev/null
            sleep 0.5
            kill -KILL "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null || true
            WAIT_RC=124
            return 0
        fi
        sleep 0.05
    done
    WAIT_RC=0
    wait "$pid" || WAIT_RC=$?
}

# field NAME FILE: the value of NAME=VALUE in peer.py's result line
field() {
    sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" "$2" | tail -n 1
}

# sha FILE: its sha256
sha() { sha256sum "$1" | cut -d' ' -f1; }

# same WHAT A B: fail unless A and B are equal
same() {
    [ "$2" = "$3" ] || fail "$1: '$2' != '$3'"
    say "ok: $1 ($2)"
}

# randfile FILE BYTES: BYTES random bytes
randfile() {
    head -c "$2" /dev/urandom >"$1"
    [ "$(stat -c %s "$1")" -eq "$2" ] || fail "could not write $2 bytes to $1"
}

# mbps BYTES SECONDS: MB/s, one decimal
mbps() { awk -v b="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.1f", b / 1e6 / s; else print "inf" }'; }

# now: seconds since the epoch with nanoseconds
now() { date +%s.%N; }

# keep_pcap FILE: leave FILE for case 8 as INTEROP_PCAP_DIR/<script>.pcap
# (when INTEROP_PCAP_DIR is set, as ctest sets it)
keep_pcap() {
    local d=${INTEROP_PCAP_DIR:-}
    [ -n "$d" ] || return 0
    [ -s "$1" ] || fail "no capture in $1"
    mkdir -p "$d"
    mv "$1" "$d/$(basename "$0" .sh).pcap"
}

# tshark_clean FILE [TSHARK OPTIONS...]: every frame synack sent (source
# IP SYNACK_IP, or an ARP from it) decodes without a malformed packet or an
# expert error (checksum errors included). Sets TSHARK_FRAMES to the number
# of frames checked. For random payloads pass `-d tcp.port==N,data`: left
# to TCP's heuristic sub-dissectors, such payloads can pass for thrift and
# the like, which makes tshark take minutes instead of seconds.
tshark_clean() {
    local f=$1 sent bad
    shift
    local opts=(-n -r "$f" "$@")
    sent="(ip.src == $SYNACK_IP || arp.src.proto_ipv4 == $SYNACK_IP)"
    bad=$(tshark "${opts[@]}" -o tcp.check_checksum:TRUE \
        -o ip.check_checksum:TRUE \
        -Y "$sent && (_ws.malformed || _ws.expert.severity >= error)" \
        2>"$TMP/tshark.err") || fail "tshark -r $f failed: $(cat "$TMP/tshark.err")"
    if [ -n "$bad" ]; then
        printf '%s\n' "$bad" | head -n 20
        fail "tshark: malformed frames or errors among those synack sent in $(basename "$f")"
    fi
    TSHARK_FRAMES=$(tshark "${opts[@]}" -Y "$sent" -T fields -e frame.number \
        2>/dev/null | wc -l)
    [ "$TSHARK_FRAMES" -gt 0 ] || fail "no frame from $SYNACK_IP in $(basename "$f")"
}

# hold_stdin FIFO: keep FIFO open for writing (synack's stdin) until
# eof_stdin; sets HOLDER
hold_stdin() {
    sleep 3600 >"$1" &
    HOLDER=$!
    PIDS+=("$HOLDER")
}
eof_stdin() { kill "$HOLDER"; wait "$HOLDER" 2>/dev/null || true; }

# linux_peer NAME ARGS...: start peer.py hold ARGS with command fifo
# TMP/NAME.cmd; sets LINUX (NAME) and LINUX_PID
linux_peer() {
    LINUX=$1
    shift
    mkfifo "$TMP/$LINUX.cmd"
    start "$LINUX" "${PEER[@]}" hold "$@" "$TMP/$LINUX.cmd"
    LINUX_PID=$LAST_PID
}
# linux CMD...: a command for the Linux peer of linux_peer; waits until
# it is done
linux() {
    local n
    n=$(grep -c '^peer: done ' "$TMP/$LINUX.err" || true)
    printf '%s\n' "$*" >"$TMP/$LINUX.cmd"
    local end=$((SECONDS + 10))
    while [ "$(grep -c '^peer: done ' "$TMP/$LINUX.err" || true)" -le "$n" ]; do
        [ $SECONDS -lt $end ] || fail "the Linux peer did not do '$*'"
        sleep 0.02
    done
}
