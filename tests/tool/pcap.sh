#!/usr/bin/env bash
# pcap.sh SYNACK [SIM ARGS...]
#
# Runs `SYNACK sim SIM ARGS --pcap FILE` and checks the capture with tshark:
# no malformed packets and no IP or TCP checksum errors (or any other
# expert-info error), and as many frames as the summary says were recorded,
# all of them TCP. tshark missing is a failure, not a skip: scripts/deps
# installs it.
set -u
synack=$1
shift
tshark=${TSHARK:-$(command -v tshark || true)}
if [ -z "$tshark" ] || [ ! -x "$tshark" ]; then
    echo "FAIL: tshark not found; install it (scripts/deps, or apt-get install tshark)"
    exit 1
fi

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
f=$dir/a.pcap
fail() {
    echo "FAIL: $*"
    echo "---- synack sim $* output:"
    cat "$dir/out"
    exit 1
}

"$synack" sim "$@" --pcap "$f" >"$dir/out" 2>&1 </dev/null
rc=$?
[ $rc -eq 0 ] || fail "synack sim exited with $rc"
[ -s "$f" ] || fail "no capture written to $f"
want=$(sed -n 's/^  pcap .*: \([0-9][0-9]*\) frames .*/\1/p' "$dir/out")
[ -n "$want" ] || fail "the summary has no pcap line"

# tshark prints a warning on stderr when run as root; keep stderr apart.
bad=$("$tshark" -r "$f" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE \
    -Y "_ws.malformed || _ws.expert.severity >= error" 2>"$dir/err")
rc=$?
[ $rc -eq 0 ] || fail "tshark failed ($rc): $(cat "$dir/err")"
if [ -n "$bad" ]; then
    echo "$bad" | head -20
    fail "tshark reports malformed packets or errors"
fi
all=$("$tshark" -r "$f" 2>/dev/null | wc -l)
tcp=$("$tshark" -r "$f" -Y tcp 2>/dev/null | wc -l)
[ "$tcp" -gt 0 ] || fail "no TCP frames in the capture"
[ "$all" -eq "$want" ] || fail "capture has $all frames, the summary says $want"
[ "$tcp" -eq "$all" ] || fail "$tcp TCP frames out of $all"
echo "ok: $all frames, all TCP, no malformed packets or checksum errors"
