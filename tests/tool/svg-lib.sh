# svg-lib.sh: sourced by svg-ladder.sh and svg-plot.sh, whose first
# argument is SYNACK. Sets synack, here, check (svgcheck.py) and dir (a
# temporary directory, removed on exit); defines fail, need_chromium and
# shot.
synack=$1
here=$(cd "$(dirname "$0")" && pwd)
check="python3 $here/svgcheck.py"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

need_chromium() { # WHY: sets chromium, or says SKIP: chromium not installedWHY and exits 77
    chromium=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
    if [ -z "$chromium" ]; then
        echo "SKIP: chromium not installed$1"
        exit 77
    fi
}
shot() { # SVG PNG: a screenshot of the whole diagram; sets W and H
    local w h
    read -r w h < <(python3 -c "import xml.etree.ElementTree as E,sys; r=E.parse(sys.argv[1]).getroot(); print(int(float(r.get('width'))), int(float(r.get('height'))))" "$1" 2>/dev/null || echo "800 600")
    W=$w H=$h
    rm -f "$2"
    timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars \
        --user-data-dir="$dir/profile" --screenshot="$2" --window-size="$w,$h" \
        "file://$1" >"$dir/chromium.log" 2>&1
    [ -s "$2" ] || fail "chromium wrote no screenshot: $(tail -5 "$dir/chromium.log")"
}
