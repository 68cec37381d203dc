#!/usr/bin/env bash
# diagram_files.sh SYNACK: `synack diagram` on the files a user may give it.
#  - captures of `synack sim` runs (Ethernet pcap), the same converted to
#    pcapng (editcap), Linux cooked v1 and v2, raw IP and BSD loopback: the
#    same connection, the same final states;
#  - the ladder text: both state columns, the causes, a retransmission mark;
#    --list, --conn, --filter/--port, -S;
#  - bad input: no such file, an empty file, not a capture, an unsupported
#    link type, no TCP in it, a damaged (truncated) file (what was read is
#    shown, the error says where it broke), --conn out of range, a bad
#    filter, --svg with several connections: each with its message and exit
#    status (1 for a bad file, 2 for bad usage).
set -u
synack=$1
here=$(cd "$(dirname "$0")" && pwd)
gen=("${PYTHON3:-python3}" "$here/pcapgen.py")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fails=0
fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}
# run NAME STATUS REGEX ARGS...: synack diagram ARGS exits STATUS and its
# output (stdout and stderr) matches REGEX
run() {
    local name=$1 want=$2 re=$3
    shift 3
    "$synack" diagram "$@" >"$dir/$name.out" 2>&1 </dev/null
    local got=$?
    if [ "$got" != "$want" ]; then
        fail "$name: exit status $got, expected $want"
        sed 's/^/    /' "$dir/$name.out" | head -20
    elif ! grep -Eq -- "$re" "$dir/$name.out"; then
        fail "$name: no line matches /$re/"
        sed 's/^/    /' "$dir/$name.out" | head -20
    else
        echo "ok: $name: exit $got, $(grep -E -m1 -- "$re" "$dir/$name.out" | cut -c1-110)"
    fi
}

"$synack" sim lost-fin --pcap "$dir/lf.pcap" -q >/dev/null || fail "sim lost-fin"
"$synack" sim handshake --pcap "$dir/hs.pcap" -q >/dev/null || fail "sim handshake"

# the ladder
run ladder 0 '^ +[0-9]+\. +0\.210000  FIN-WAIT-1 +--> <SEQ=1><ACK=1><CTL=FIN,ACK><WND=[0-9]+> +--> ESTABLISHED +retransmission$' "$dir/lf.pcap"
run ladder_b_change 0 '\(rcv FIN,ACK\) .*CLOSE-WAIT$' "$dir/lf.pcap"
run ladder_listen 0 '^ +1\. +0\.000000  SYN-SENT +\(snd SYN\) +LISTEN$' "$dir/lf.pcap"
run ladder_final 0 '^  final state   A TIME-WAIT since 0\.220000, B CLOSED since 0\.220000$' "$dir/lf.pcap"
run ladder_timewait 0 'TIME-WAIT to the end of the capture \(2MSL: 60 s on Linux\)' "$dir/lf.pcap"
run absolute 0 '<SEQ=[0-9]{6,}><CTL=SYN>' -S "$dir/lf.pcap"
run list 0 '^   1  10\.0\.0\.1:[0-9]+ +10\.0\.0\.2:80 +8 +0\.220000  TIME-WAIT +CLOSED$' --list "$dir/lf.pcap"
run port 0 '^   1  10\.0\.0\.1' --list --port 80 "$dir/lf.pcap"
run filter_none 1 'no TCP connection matches the filter' --filter 'tcp port 81' "$dir/lf.pcap"
run filter_bad 1 "filter 'tcp prt': " --filter 'tcp prt' "$dir/lf.pcap"
run json 0 '"to":"TIME-WAIT"' --json "$dir/lf.pcap"
run help 0 '^usage: synack diagram FILE \[OPTIONS\]' --help

# link types and formats: the same connection, the same final states
for f in sll sll2 raw null; do
    "${gen[@]}" convert "$dir/lf.pcap" "$dir/lf-$f.pcap" "$f" || fail "convert to $f"
done
if command -v editcap >/dev/null 2>&1; then
    editcap -F pcapng "$dir/lf.pcap" "$dir/lf.pcapng" || fail "editcap -F pcapng"
else
    fail "editcap is missing (scripts/deps installs tshark)"
fi
for f in lf.pcapng lf-sll.pcap lf-sll2.pcap lf-raw.pcap lf-null.pcap; do
    run "link_$f" 0 '^   1  10\.0\.0\.1:[0-9]+ +10\.0\.0\.2:80 +8 +0\.220000  TIME-WAIT +CLOSED$' --list "$dir/$f"
done
run link_sll2_name 0 'link type LINUX_SLL2' --list "$dir/lf-sll2.pcap"

# bad input
: >"$dir/empty.pcap"
printf 'hello, world\n' >"$dir/text.pcap"
"${gen[@]}" truncate "$dir/lf.pcap" "$dir/trunc.pcap"
"${gen[@]}" udp "$dir/udp.pcap"
"${gen[@]}" wifi "$dir/wifi.pcap"
run missing 1 'nosuch\.pcap: No such file or directory' "$dir/nosuch.pcap"
run empty 1 'empty file, not a capture' "$dir/empty.pcap"
run text 1 'not a pcap or pcapng file' "$dir/text.pcap"
run wifi 1 'link type IEEE802_11 \(105\) is not supported' "$dir/wifi.pcap"
run udp 1 'no TCP connection in it \(1 packet read' "$dir/udp.pcap"
run damaged 1 'damaged capture after packet 7: .*what was read before it is shown above' "$dir/trunc.pcap"
run damaged_shown 1 '^ +[0-9]+\. .*<SEQ=1><ACK=2><CTL=FIN,ACK>' "$dir/trunc.pcap"
run conn_range 2 '--conn 2: .* has 1 connection' --conn 2 "$dir/lf.pcap"
run conn_bad 2 "--conn 'x': expected connection numbers" --conn x "$dir/lf.pcap"
run no_file 2 'no capture file given'
run two_files 2 'one capture file at a time' "$dir/lf.pcap" "$dir/hs.pcap"
run unknown 2 "unknown option '--frob'" --frob "$dir/lf.pcap"
run port_bad 2 "--port '0': expected 1 to 65535" --port 0 "$dir/lf.pcap"
run list_json 2 'do not go together' --list --json "$dir/lf.pcap"

# two connections in one file: --conn picks, --svg wants one
mergecap=$(command -v mergecap || true)
if [ -n "$mergecap" ]; then
    "$synack" sim refused --pcap "$dir/rf.pcap" -q >/dev/null
    "$mergecap" -F pcap -w "$dir/two.pcap" "$dir/lf.pcap" "$dir/rf.pcap" 2>/dev/null ||
        fail "mergecap"
    run two_list 0 '^   2  ' --list "$dir/two.pcap"
    run two_conn 0 'Connection 2: ' --conn 2 "$dir/two.pcap"
    run svg_several 2 '--svg draws one connection and .* has 2: pick one with --conn N' --svg "$dir/x.svg" "$dir/two.pcap"
fi

if [ $fails -ne 0 ]; then
    echo "FAIL: $fails check(s)"
    exit 1
fi
echo "ok: every check"
