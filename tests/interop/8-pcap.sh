#!/usr/bin/env bash
# Case 8: every frame synack sent in cases 1-3 (the --pcap captures they
# leave in INTEROP_PCAP_DIR) decodes in tshark without a malformed packet or
# an expert error of severity error, IP and TCP checksums checked. Frames
# the kernel sent may carry checksums left for offload, so only frames
# from synack's address are judged. Runs after cases 1-3 (ctest fixture);
# skipped when none of them could run, failed when only some left a
# capture. The captures are deleted afterwards.
set -euo pipefail
INTEROP_CASE=pcap
. "$(dirname "$0")/lib.sh"
d=${INTEROP_PCAP_DIR:-}
[ -n "$d" ] || fail "INTEROP_PCAP_DIR is not set"
need tshark
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

found=()
missing=()
for c in 1-echo 2-http 3-connect; do
    if [ -s "$d/$c.pcap" ]; then found+=("$c"); else missing+=("$c"); fi
done
if [ ${#found[@]} -eq 0 ]; then
    # cases 1-3 skipped (their reason is in their own output) or failed
    skip "no capture from cases 1-3 in $d (they did not run to the end)"
fi
[ ${#missing[@]} -eq 0 ] || fail "no capture from ${missing[*]} in $d"

# the payloads of cases 1 and 3 are random bytes: plain data to tshark
declare -A decode=([1-echo]=7 [3-connect]=5001)
for c in "${found[@]}"; do
    f=$d/$c.pcap
    opts=()
    [ -z "${decode[$c]:-}" ] || opts=(-d "tcp.port==${decode[$c]},data")
    tshark_clean "$f" "${opts[@]}"
    all=$(capinfos -c -M "$f" 2>/dev/null | sed -n 's/.*Number of packets: *//p')
    say "ok: $c: $TSHARK_FRAMES frames sent by synack (of $all) decode cleanly"
    rm -f "$f"
done
say "PASS"
