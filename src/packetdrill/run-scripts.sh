#!/bin/sh
# Run packetdrill scripts against libsynack_packetdrill.so and print one
# line per script (PASS/FAIL and packetdrill's first error line).
#
#   PACKETDRILL=/path/to/packetdrill src/packetdrill/run-scripts.sh \
#       [-l build-so/src/libsynack_packetdrill.so] script.pkt...
#
# packetdrill is not part of this project: build it yourself (see
# docs/packetdrill-adapter.md). Exit status: the number of failures (max 125).
set -u
so=build-so/src/libsynack_packetdrill.so
if [ "${1:-}" = "-l" ]; then so=$2; shift 2; fi
: "${PACKETDRILL:?set PACKETDRILL to the packetdrill binary}"
case $so in /*) ;; *) so=$(pwd)/$so ;; esac
[ -f "$so" ] || { echo "no adapter at $so (build the synack_packetdrill target)" >&2; exit 126; }
fails=0
for f in "$@"; do
    out=$(timeout 120 "$PACKETDRILL" --so_filename="$so" \
        --so_flags=local=192.168.0.1 --local_ip=192.168.0.1 \
        --remote_ip=192.0.2.1 --ip_version=ipv4 "$f" 2>&1)
    rc=$?
    if [ $rc -eq 0 ]; then
        echo "PASS $f"
    else
        fails=$((fails + 1))
        echo "FAIL $f (exit $rc): $(printf '%s\n' "$out" | head -n 1)"
    fi
done
[ $fails -gt 125 ] && fails=125
exit $fails
