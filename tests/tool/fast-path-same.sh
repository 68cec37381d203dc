#!/usr/bin/env bash
# fast-path-same.sh SYNACK [SIM ARGS...]: header prediction (tcp_fast_path)
# is a shortcut, not a different behaviour: the same simulated transfer,
# with the same seed and impairments, run with the fast path on and off
# (on both stacks), must put exactly the same frames on the link at the
# same times -- compared as pcap files byte for byte -- and the run with
# it on must have taken it (the sim summary's fast_path counter, stack A:
# the sender of the pure ACKs' data, and B: the receiver of in-order
# data).
set -u
synack=$1
shift
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$synack" sim "$@" --quiet -o tcp_fast_path=1 --pcap "$dir/on.pcap" \
    >"$dir/on.out" 2>&1 </dev/null || { echo "FAIL: run with the fast path"; cat "$dir/on.out"; exit 1; }
"$synack" sim "$@" --quiet -o tcp_fast_path=0 --pcap "$dir/off.pcap" \
    >"$dir/off.out" 2>&1 </dev/null || { echo "FAIL: run without the fast path"; cat "$dir/off.out"; exit 1; }
n=$(stat -c %s "$dir/on.pcap")
[ "$n" -gt 100000 ] || { echo "FAIL: pcap only $n bytes"; exit 1; }
if ! cmp -s "$dir/on.pcap" "$dir/off.pcap"; then
    echo "FAIL: the frames differ with and without the fast path:"
    cmp "$dir/on.pcap" "$dir/off.pcap"
    exit 1
fi
fp=$(sed -n 's/.* B fast_path \([0-9][0-9]*\).*/\1/p' "$dir/on.out" | head -n 1)
fp0=$(sed -n 's/.* B fast_path \([0-9][0-9]*\).*/\1/p' "$dir/off.out" | head -n 1)
[ -n "$fp" ] && [ "$fp" -gt 100 ] || { echo "FAIL: fast path taken ${fp:-?} times"; cat "$dir/on.out"; exit 1; }
[ "${fp0:-0}" -eq 0 ] || { echo "FAIL: fast path taken $fp0 times while off"; exit 1; }
echo "ok: identical pcaps ($n bytes) with and without the fast path; taken $fp times"
