#!/usr/bin/env bash
# svg-ladder.sh SYNACK
#
# The SVG ladder (acceptance 4 of issue 7): `synack sim --svg` against the
# text ladder of the same run (one arrow per segment row, same row numbers,
# same states in the same order, arrows ending where the segment arrived;
# full and abbreviated), then rendered by
# headless Chromium and the screenshot checked: the size asked for, not
# blank, ink on the lifelines, along the first arrow and in every row's
# number and time. A damaged SVG must fail the same checks. Chromium
# missing: SKIP (exit 77), after the SVG checks.
set -u
. "$(dirname "$0")/svg-lib.sh" # synack=$1, here, check, dir, fail, need_chromium, shot

sim() { # NAME ARGS...: the text into NAME.txt, the SVG into NAME.svg
    local name=$1
    shift
    "$synack" sim "$@" --svg "$dir/$name.svg" >"$dir/$name.txt" 2>&1 </dev/null ||
        fail "synack sim $* --svg exited with $?: $(tail -3 "$dir/$name.txt")"
    [ -s "$dir/$name.svg" ] || fail "synack sim $*: no SVG written"
}
sim lostfin lost-fin --ladder full
$check ladder "$dir/lostfin.txt" "$dir/lostfin.svg" strict || exit 1
grep -q 'class="cross lost"' "$dir/lostfin.svg" || fail "the lost FIN has no cross"
grep -q '>retransmission<' "$dir/lostfin.svg" || fail "no retransmission note"
# abbreviated like the text: 100 KiB, the first and last 30 segment rows
sim transfer transfer
grep -q 'rows left out' "$dir/transfer.txt" || fail "the text ladder was not abbreviated"
grep -q 'rows left out (--ladder full' "$dir/transfer.svg" || fail "no gap line in the SVG"
$check ladder "$dir/transfer.txt" "$dir/transfer.svg" || exit 1
# every scenario, full and abbreviated
for sc in handshake half-close simultaneous-open simultaneous-close rst time-wait keepalive refused; do
    sim "full-$sc" "$sc" --ladder full
    $check ladder "$dir/full-$sc.txt" "$dir/full-$sc.svg" strict >"$dir/chk" || { cat "$dir/chk"; fail "scenario $sc"; }
    sim "auto-$sc" "$sc"
    $check ladder "$dir/auto-$sc.txt" "$dir/auto-$sc.svg" >"$dir/chk" || { cat "$dir/chk"; fail "scenario $sc (auto)"; }
done
echo "ok: every scenario's SVG matches its text ladder"
# --quiet prints no ladder, the SVG has the auto rows
"$synack" sim lost-fin --quiet --svg "$dir/q.svg" >/dev/null 2>&1 || fail "--quiet --svg failed"
cmp -s "$dir/q.svg" "$dir/lostfin.svg" || fail "--quiet --svg differs from the full ladder's SVG (22 rows fit in auto)"
# errors
out=$("$synack" sim --svg 2>&1); rc=$?
[ $rc -eq 2 ] && [[ $out == *"--svg"* ]] || fail "--svg without a file: exit $rc, '$out'"
out=$("$synack" sim --svg /nonexistent/dir/x.svg 2>&1); rc=$?
[ $rc -eq 1 ] && [[ $out == *"cannot open"* ]] || fail "--svg into a missing dir: exit $rc, '$out'"

need_chromium " (apt-get install chromium fonts-dejavu-core); the SVG checks passed"
shot "$dir/lostfin.svg" "$dir/lostfin.png"
$check png "$dir/lostfin.svg" "$dir/lostfin.png" "$W" "$H" || exit 1
[ -z "${SVG_KEEP:-}" ] || cp "$dir/lostfin.png" "$dir/lostfin.svg" "$SVG_KEEP"/

# the checks must catch a diagram that draws nothing: text and arrows
# removed, and an SVG cut short
python3 - "$dir/lostfin.svg" "$dir/bare.svg" <<'PY'
import re, sys
s = open(sys.argv[1]).read()
s = re.sub(r'<g class="segrow.*?</g>\n', '', s, flags=re.S)
s = re.sub(r'<text .*?</text>\n', '', s)
open(sys.argv[2], 'w').write(s)
PY
shot "$dir/bare.svg" "$dir/bare.png"
if $check png "$dir/lostfin.svg" "$dir/bare.png" "$W" "$H" >"$dir/neg" 2>&1; then
    fail "the screenshot check passed an SVG without arrows and text"
fi
head -c 3000 "$dir/lostfin.svg" >"$dir/cut.svg"
if $check ladder "$dir/lostfin.txt" "$dir/cut.svg" >/dev/null 2>&1; then
    fail "the SVG check passed a truncated SVG"
fi
echo "ok: a damaged SVG fails ($(cat "$dir/neg"))"
