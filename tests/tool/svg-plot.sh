#!/usr/bin/env bash
# svg-plot.sh SYNACK
#
# Time-sequence plots (issue 7, "what to build" 4): `synack sim --plot` on a
# deterministic lossy run and on a lossless one: valid SVG, retransmissions
# plotted exactly when the ladder shows them, cwnd falls after the loss, the
# time axis covers the run; `synack plot` on the run's --pcap capture draws
# the same plot; `synack plot` errors. With chromium, one plot is rendered
# and its screenshot checked (not blank).
set -u
. "$(dirname "$0")/svg-lib.sh" # synack=$1, here, check, dir, fail, need_chromium, shot

run() { # NAME ARGS...
    local name=$1
    shift
    "$synack" sim "$@" --ladder full --plot "$dir/$name" --pcap "$dir/$name.pcap" \
        >"$dir/$name.txt" 2>&1 </dev/null ||
        fail "synack sim $* --plot exited with $?: $(tail -3 "$dir/$name.txt")"
    for k in tseq cc; do
        [ -s "$dir/$name-$k.svg" ] || fail "synack sim $*: no $name-$k.svg"
    done
}
run lossy --bytes 300K --loss 3 --seed 4
grep -q "retransmission" "$dir/lossy.txt" || fail "the lossy run retransmitted nothing: pick another seed"
$check plot "$dir/lossy-tseq.svg" "$dir/lossy-cc.svg" "$dir/lossy.txt" || exit 1
run clean --bytes 300K
! grep -q "retransmission" "$dir/clean.txt" || fail "the lossless run retransmitted"
$check plot "$dir/clean-tseq.svg" "$dir/clean-cc.svg" "$dir/clean.txt" || exit 1

# the capture of the same run: the same plot
for name in lossy clean; do
    "$synack" plot "$dir/$name.pcap" -o "$dir/$name-cap.svg" 2>"$dir/err" ||
        fail "synack plot $name.pcap: $(cat "$dir/err")"
    $check same "$dir/$name-tseq.svg" "$dir/$name-cap.svg" || exit 1
done
# default output name, --dir, --conn, stdout
cp "$dir/lossy.pcap" "$dir/cap.pcap"
(cd "$dir" && "$synack" plot cap.pcap 2>/dev/null) || fail "synack plot with the default -o"
[ -s "$dir/cap-tseq.svg" ] || fail "no cap-tseq.svg from the default -o"
"$synack" plot "$dir/lossy.pcap" --dir B --conn 1 -o - >"$dir/b.svg" 2>/dev/null ||
    fail "synack plot --dir B --conn 1 -o -"
grep -q 'data-dir="B"' "$dir/b.svg" || fail "--dir B did not plot B's data"

# errors: usage 2, unreadable input 1, never a crash
expect() { # STATUS TEXT ARGS...
    local st=$1 txt=$2 out rc
    shift 2
    out=$("$synack" plot "$@" 2>&1 >/dev/null); rc=$?
    [ $rc -eq "$st" ] && [[ $out == *"$txt"* ]] ||
        fail "synack plot $*: expected exit $st and '$txt', got $rc: $out"
}
expect 2 "no capture file" 
expect 2 "--conn" "$dir/lossy.pcap" --conn x
expect 2 "is not A or B" "$dir/lossy.pcap" --dir C
expect 2 "unknown option" "$dir/lossy.pcap" --frob
expect 1 "no --conn 5" "$dir/lossy.pcap" --conn 5 -o "$dir/x.svg"
expect 1 "nonexistent.pcap" "$dir/nonexistent.pcap"
: >"$dir/empty.pcap"
expect 1 "" "$dir/empty.pcap"
head -c 3000 "$dir/lossy.pcap" >"$dir/cut.pcap"
out=$("$synack" plot "$dir/cut.pcap" -o "$dir/cut.svg" 2>&1); rc=$?
[ $rc -le 1 ] || fail "synack plot on a truncated capture: exit $rc: $out"
out=$("$synack" sim handshake --quiet --plot /nonexistent/dir/p 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] && [[ $out == *"--plot: cannot open /nonexistent/dir/p-tseq.svg"* ]] ||
    fail "sim --plot into a missing directory: exit $rc: $out"
"$synack" plot --help | grep -q "^usage: synack plot FILE" || fail "synack plot --help"

need_chromium "; the plot checks above passed"
for k in tseq cc; do
    shot "$dir/lossy-$k.svg" "$dir/$k.png"
    $check ink "$dir/lossy-$k.svg" "$dir/$k.png" || exit 1
done
[ -z "${SVG_KEEP:-}" ] || cp "$dir"/lossy-*.svg "$dir"/*.png "$SVG_KEEP"/
echo "ok"
