#!/usr/bin/env bash
# Case 2: curl -> `synack http --root DIR`: a 10 MiB file fetched and
# compared byte for byte; 100 keep-alive requests in one curl invocation
# (one connection: curl's %{num_connects} adds up to 1), every body
# compared; a missing file is a 404. The capture is left for case 8.
set -euo pipefail
INTEROP_CASE=http
. "$(dirname "$0")/lib.sh"
interop_init "$@"
need curl

root=$TMP/root
mkdir "$root"
randfile "$root/big.bin" 10485760
for i in $(seq 1 100); do
    printf 'page %d of the keep-alive test\n' "$i" >"$root/p$i.txt"
    head -c $((i * 37)) /dev/urandom >>"$root/p$i.txt"
done
echo '<html><body>synack</body></html>' >"$root/index.html"

pcap=$TMP/http.pcap
synack_server http http --root "$root" --pcap "$pcap"
base=http://$SYNACK_IP:80

section "10 MiB file"
code=$(nsx curl -sS --max-time 120 -o "$TMP/big.got" -w '%{http_code} %{size_download}' \
    "$base/big.bin" 2>"$TMP/curl-big.err") ||
    fail "curl big.bin: $(cat "$TMP/curl-big.err")"
same "status and size of big.bin" "$code" "200 10485760"
same "sha256 of big.bin" "$(sha "$TMP/big.got")" "$(sha "$root/big.bin")"

section "100 keep-alive requests on one connection"
urls=()
args=()
for i in $(seq 1 100); do
    urls+=("$base/p$i.txt")
    args+=(-o "$TMP/got-p$i.txt")
done
# one line per transfer: status and connections opened for it
nsx curl -sS --max-time 120 -w '%{http_code} %{num_connects}\n' "${args[@]}" \
    "${urls[@]}" >"$TMP/keepalive.txt" 2>"$TMP/curl-ka.err" ||
    fail "curl (100 URLs): $(cat "$TMP/curl-ka.err")"
same "transfers" "$(wc -l <"$TMP/keepalive.txt")" 100
same "status of all 100" "$(cut -d' ' -f1 "$TMP/keepalive.txt" | sort -u)" 200
same "connections opened for 100 requests" \
    "$(awk '{ n += $2 } END { print n }' "$TMP/keepalive.txt")" 1
for i in $(seq 1 100); do
    cmp -s "$TMP/got-p$i.txt" "$root/p$i.txt" || fail "p$i.txt differs"
done
say "ok: 100 bodies identical"

section "index and 404"
same "GET /" "$(nsx curl -sS --max-time 20 "$base/" 2>&1)" "$(cat "$root/index.html")"
code=$(nsx curl -sS --max-time 20 -o /dev/null -w '%{http_code}' "$base/nosuch.txt" 2>&1) || true
same "status of a missing file" "$code" 404

stop_server "synack http"
keep_pcap "$pcap"
pass
