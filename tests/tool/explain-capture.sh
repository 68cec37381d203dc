#!/usr/bin/env bash
# `synack explain FILE`: the rules of `synack explain` on captures, both
# ends' states inferred from the segments (tools/capinfer). Each capture is
# made by `synack sim SCENARIO --pcap` (deterministic, at A's side), so the
# truth is known: the explanation must name the cause the scenario
# produces, for the end that has it.
set -euo pipefail
SYNACK=${1:?usage: $0 SYNACK}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/synack-explain-cap.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

fail() { echo "FAIL: $*"; exit 1; }

# cap SCENARIO [SIM-OPTIONS...]: the scenario's capture in $TMP/SCENARIO.pcap
cap() {
    local s=$1
    shift
    "$SYNACK" sim "$s" -q --pcap "$TMP/$s.pcap" "$@" >/dev/null ||
        fail "synack sim $s failed"
}

# expect FILE LOCAL CAUSE VERDICT [EXPLAIN-OPTIONS...]: the JSON explanation
# of FILE has the end LOCAL (ip:port, or ip:* for an ephemeral port) with
# CAUSE and VERDICT
expect() {
    local f=$1 local=$2 cause=$3 verdict=$4
    shift 4
    "$SYNACK" explain "$@" --json --all "$TMP/$f.pcap" >"$TMP/out.json" ||
        fail "synack explain $f exited $?"
    python3 - "$TMP/out.json" "$local" "$cause" "$verdict" "$f" <<'PY' || fail "$f: $local is not $cause/$verdict"
import json, sys, fnmatch
doc = json.load(open(sys.argv[1]))
want_local, cause, verdict = sys.argv[2:5]
seen = []
for p in doc["processes"]:
    for c in p["connections"]:
        seen.append((c["local"], c.get("state"), c["cause"], c["verdict"]))
        if fnmatch.fnmatch(c["local"], want_local) and c["cause"] == cause \
                and c["verdict"] == verdict:
            print("ok: %s.pcap %s %s [%s: %s]" % (sys.argv[5],
                  c["local"], c.get("state"), verdict, cause))
            sys.exit(0)
print("expected %s [%s: %s]; the explanation has:" % (want_local, verdict, cause))
for s in seen:
    print("   ", s)
sys.exit(1)
PY
}

cap app-never-closes
# the capture ends with the FINs: the CLOSE-WAIT is as old as the last
# packet, so ask without the minimum age
expect app-never-closes 10.0.0.2:80 close-wait stuck --min-age 0
expect app-never-closes '10.0.0.1:*' fin-wait-2 normal --min-age 0
# with the default minimum age (1 s) a fresh CLOSE-WAIT is not stuck
expect app-never-closes 10.0.0.2:80 close-wait ok

cap silent-host
expect silent-host '10.0.0.1:*' syn-sent-no-answer stuck
cap receiver-stalls
expect receiver-stalls '10.0.0.1:*' zero-window stuck
expect receiver-stalls 10.0.0.2:80 local-app-not-reading stuck
cap link-down
expect link-down '10.0.0.1:*' retransmissions stuck
cap handshake
expect handshake '10.0.0.1:*' time-wait normal

# the text form names the capture and the connection
"$SYNACK" explain --min-age 0 "$TMP/app-never-closes.pcap" >"$TMP/out.txt"
grep -q "app-never-closes.pcap, connection 1: A 10.0.0.1:[0-9]* (client), B 10.0.0.2:80 (server)" "$TMP/out.txt" ||
    fail "no connection header: $(head -3 "$TMP/out.txt")"
grep -q "CLOSE-WAIT 10.0.0.2:80 -> 10.0.0.1:[0-9]*, .*\[stuck: close-wait\]" "$TMP/out.txt" ||
    fail "no CLOSE-WAIT line: $(cat "$TMP/out.txt")"
echo "ok: text form"

# errors: exit 1 with a message for a bad file, 2 for bad usage
set +e
"$SYNACK" explain "$TMP/none.pcap" 2>"$TMP/err"; rc=$?
set -e
[ $rc -eq 1 ] && grep -q "No such file" "$TMP/err" || fail "missing file: rc $rc, $(cat "$TMP/err")"
: >"$TMP/empty.pcap"
set +e
"$SYNACK" explain "$TMP/empty.pcap" 2>"$TMP/err"; rc=$?
set -e
[ $rc -eq 1 ] && grep -q "not a pcap or pcapng file" "$TMP/err" || fail "empty file: rc $rc, $(cat "$TMP/err")"
set +e
"$SYNACK" explain --filter 'port 80' 2>"$TMP/err"; rc=$?
set -e
[ $rc -eq 2 ] || fail "--filter without a file: rc $rc"
set +e
"$SYNACK" explain --if tap0 "$TMP/silent-host.pcap" 2>"$TMP/err"; rc=$?
set -e
[ $rc -eq 2 ] || fail "--if with a file: rc $rc"
# a filter that leaves nothing
set +e
"$SYNACK" explain --filter 'port 9' "$TMP/silent-host.pcap" 2>"$TMP/err"; rc=$?
set -e
[ $rc -eq 1 ] && grep -q "no IPv4 TCP segment" "$TMP/err" || fail "empty filter result: rc $rc, $(cat "$TMP/err")"
echo "ok: errors"
echo "PASS"
