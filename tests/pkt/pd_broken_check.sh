#!/bin/sh
# pd_broken_diff: a script with a deliberately wrong expectation must fail
# (exit 1) with a readable diff: FILE:LINE, the expected and the actual
# segment. Usage: pd_broken_check.sh SYNACK SCRIPT LINE EXPECTED ACTUAL
synack=$1 script=$2 line=$3 want=$4 got=$5
out=$("$synack" packetdrill "$script" 2>&1)
rc=$?
printf '%s\n' "$out"
[ "$rc" -eq 1 ] || { echo "pd_broken_check: exit $rc, expected 1"; exit 1; }
for s in "$script:$line:" "expected: $want" "actual:   $got"; do
    case $out in
    *"$s"*) ;;
    *) echo "pd_broken_check: output lacks '$s'"; exit 1 ;;
    esac
done
echo "pd_broken_check: failed as it should"
