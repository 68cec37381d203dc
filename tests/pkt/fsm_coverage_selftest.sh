#!/bin/sh
# fsm_coverage_selftest.sh SYNACK: `synack states --coverage` fails when it
# should (exit 1, naming the problem) and passes a complete record.
set -u
synack=$1
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# A complete record: one line per edge of the table.
"$synack" states --tsv | awk -F '\t' 'NR > 1 { printf "%s\t%s\t%s\n", $1, $2, $3 }' \
    >"$tmp/all.edges"
[ -s "$tmp/all.edges" ] || fail "could not list the table"
out=$("$synack" states --coverage "$tmp/all.edges") ||
    fail "a record of every edge did not pass: $out"

# Drop one edge: exit 1 and the edge named.
mkdir "$tmp/d"
grep -v "^LISTEN	CLOSED	call abort\$" "$tmp/all.edges" >"$tmp/d/x.edges"
out=$("$synack" states --coverage "$tmp/d"); rc=$?
[ $rc -eq 1 ] || fail "a missing edge gave exit $rc"
echo "$out" | grep -q "^NOT EXERCISED: LISTEN -> CLOSED (call abort)\$" ||
    fail "the missing edge is not named: $out"

# A change no edge describes (ESTABLISHED -> LISTEN; TIME-WAIT -> CLOSED
# on a FIN): exit 1, each named with its test.
printf 'ESTABLISHED\tLISTEN\tcall listen\nTIME-WAIT\tCLOSED\trcv FIN,ACK\n' \
    >"$tmp/d/bogus_test.edges"
cat "$tmp/all.edges" >>"$tmp/d/x.edges"
out=$("$synack" states --coverage "$tmp/d"); rc=$?
[ $rc -eq 1 ] || fail "an unknown change gave exit $rc"
echo "$out" | grep -q "^NO EDGE: ESTABLISHED -> LISTEN (call listen) in bogus_test\$" ||
    fail "the unknown change is not named: $out"
echo "$out" | grep -q "^NO EDGE: TIME-WAIT -> CLOSED (rcv FIN,ACK) in bogus_test\$" ||
    fail "the unknown change is not named: $out"

# Causes match as documented: PSH ignored, ACK ignored unless named, a
# parenthesised detail accepted; a different flag set is not the edge.
printf 'ESTABLISHED\tCLOSE-WAIT\trcv FIN,PSH,ACK\nSYN-SENT\tCLOSED\trcv RST,ACK\nESTABLISHED\tCLOSED\trcv RST,ACK\nESTABLISHED\tCLOSED\tcall close (unread data: reset)\n' \
    >"$tmp/m.edges"
cat "$tmp/all.edges" >>"$tmp/m.edges"
"$synack" states --coverage "$tmp/m.edges" >/dev/null ||
    fail "flag-set matching refused a valid change"
printf 'SYN-SENT\tCLOSED\trcv RST\n' >"$tmp/n.edges"
cat "$tmp/all.edges" >>"$tmp/n.edges"
out=$("$synack" states --coverage "$tmp/n.edges"); rc=$?
[ $rc -eq 1 ] || fail "a RST without ACK matched SYN-SENT's 'rcv RST,ACK'"

# Damaged input, no input, an empty directory: exit 1; no argument: 2.
printf 'garbage\n' >"$tmp/bad.edges"
"$synack" states --coverage "$tmp/bad.edges" >/dev/null 2>&1; rc=$?
[ $rc -eq 1 ] || fail "a damaged file gave exit $rc"
"$synack" states --coverage "$tmp/nonexistent" >/dev/null 2>&1; rc=$?
[ $rc -eq 1 ] || fail "a missing path gave exit $rc"
mkdir "$tmp/empty"
"$synack" states --coverage "$tmp/empty" >/dev/null 2>&1; rc=$?
[ $rc -eq 1 ] || fail "an empty directory gave exit $rc"
"$synack" states --coverage >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "--coverage without a path gave exit $rc"
echo "synack states --coverage: fails on a missing edge, an unknown change," \
     "damaged or no input; $(wc -l <"$tmp/all.edges") edges in the table"
