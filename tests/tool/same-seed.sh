#!/usr/bin/env bash
# same-seed.sh SYNACK [SIM ARGS...]: two runs with the same arguments (seed
# included) print identical output; a third with another seed differs.
set -u
synack=$1
shift
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$synack" sim "$@" --seed 11 >"$dir/1" 2>&1 </dev/null
r1=$?
"$synack" sim "$@" --seed 11 >"$dir/2" 2>&1 </dev/null
r2=$?
"$synack" sim "$@" --seed 12 >"$dir/3" 2>&1 </dev/null
if [ $r1 -ne 0 ] || [ $r2 -ne 0 ]; then
    echo "FAIL: exit status $r1 and $r2"
    head -100 "$dir/1"
    exit 1
fi
if ! cmp -s "$dir/1" "$dir/2"; then
    echo "FAIL: same seed, different output:"
    diff "$dir/1" "$dir/2" | head -40
    exit 1
fi
if cmp -s "$dir/1" "$dir/3"; then
    echo "FAIL: seeds 11 and 12 gave identical output (is --seed used?)"
    exit 1
fi
echo "ok: same seed, same $(wc -l <"$dir/1") lines; another seed differs"
