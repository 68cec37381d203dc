#!/usr/bin/env python3
"""diagram_synth.py SYNACK: `synack diagram` on hand-made captures whose
every segment's mark and both ends' states are known.

  marks:  zero window, zero-window probe (Linux style: one byte below
          snd.nxt, no data), window update, dup ACK #1/#2, retransmission,
          previous segment not captured, retransmission filling that hole,
          challenge ACKs answering an in-window SYN and an in-window RST
          (RFC 5961: the RST does not close A), keepalive, ACK of data not
          in the capture, reset;
  states: the RST with the exact sequence number closes A; B closed when it
          sent it;
  mid:    a capture starting mid-connection: ESTABLISHED assumed for both,
          uncertain, said so; then a normal close;
  nosyn:  a SYN never answered: A SYN-SENT, B unknown, retransmissions.
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pcapgen  # noqa: E402

A, B = ("10.0.0.1", 40000), ("10.0.0.2", 80)
bad = 0


def seg(t, frm, seq, ack, flags, wnd, n=0, **kw):
    s, d = (A, B) if frm == "A" else (B, A)
    return (t, pcapgen.eth(pcapgen.tcp_ip(s[0], d[0], s[1], d[1], seq, ack,
                                          flags, wnd, b"x" * n, **kw)))


def diagram(synack, frames, extra=()):
    with tempfile.TemporaryDirectory() as d:
        f = os.path.join(d, "s.pcap")
        pcapgen.write_pcap(f, frames)
        p = subprocess.run([synack, "diagram", f, "--json"] + list(extra),
                           capture_output=True, text=True)
        t = subprocess.run([synack, "diagram", f, "--full"],
                           capture_output=True, text=True)
    if p.returncode != 0:
        print("FAIL: synack diagram exited %d: %s" % (p.returncode, p.stderr))
        sys.exit(1)
    print(t.stdout)
    c = json.loads(p.stdout)["connections"][0]
    c["_text"] = t.stdout
    return c


def expect(what, got, want):
    global bad
    ok = got == want
    print("  %-52s %-34s %s" % (what, got, "ok" if ok else "WANTED %s" % (want,)))
    if not ok:
        bad += 1


def marks_case(synack):
    fr = [
        seg(0.000, "A", 1000, 0, "S", 65535, mss=1460),
        seg(0.010, "B", 5000, 1001, "SA", 65535, mss=1460),
        seg(0.020, "A", 1001, 5001, "A", 1000),
        seg(0.030, "A", 1001, 5001, "PA", 1000, 100),
        seg(0.040, "B", 5001, 1101, "A", 0),             # 5 zero window
        seg(0.300, "A", 1100, 5001, "A", 1000),          # 6 probe
        seg(0.310, "B", 5001, 1101, "A", 0),             # 7 zero window
        seg(0.500, "B", 5001, 1101, "A", 8192),          # 8 window update
        seg(0.510, "A", 1101, 5001, "PA", 1000, 100),    # 9
        seg(0.520, "A", 1201, 5001, "PA", 1000, 100),    # 10
        seg(0.530, "B", 5001, 1101, "A", 8192),          # 11 dup #1
        seg(0.540, "B", 5001, 1101, "A", 8192),          # 12 dup #2
        seg(0.550, "A", 1101, 5001, "PA", 1000, 100),    # 13 retrans
        seg(0.560, "B", 5001, 1301, "A", 8192),          # 14
        seg(0.600, "B", 5001, 1301, "PA", 8192, 50),     # 15
        seg(0.610, "B", 5101, 1301, "PA", 8192, 50),     # 16 not captured
        seg(0.620, "A", 1301, 5051, "A", 1000),          # 17
        seg(0.700, "B", 5051, 1301, "PA", 8192, 50),     # 18 retrans
        seg(0.710, "A", 1301, 5151, "A", 1000),          # 19
        seg(0.800, "B", 9999, 0, "S", 8192),             # 20 SYN in window
        seg(0.810, "A", 1301, 5151, "A", 1000),          # 21 challenge
        seg(0.900, "B", 5200, 0, "R", 0),                # 22 RST not exact
        seg(0.910, "A", 1301, 5151, "A", 1000),          # 23 challenge
        seg(1.000, "A", 1300, 5151, "A", 1000),          # 24 keepalive
        seg(1.010, "B", 5151, 1301, "A", 8192),          # 25
        seg(1.100, "A", 1301, 6000, "A", 1000),          # 26 ACK unseen
        seg(1.200, "B", 5151, 0, "R", 0),                # 27 RST exact
    ]
    c = diagram(synack, fr)
    m = {r["segment"]: r["marks"] for r in c["rows"]}
    dup = {r["segment"]: r["dup_ack"] for r in c["rows"]}
    print("marks:")
    expect("seg 5 (B ACK, WND=0)", m[5], ["zero-window"])
    expect("seg 6 (A SEQ=snd.nxt-1, no data)", m[6], ["zero-window-probe"])
    expect("seg 7 (B ACK, WND=0 again)", m[7], ["zero-window"])
    expect("seg 8 (B same ACK, WND=8192)", m[8], ["window-update"])
    expect("seg 11 (B same ACK, data outstanding)", (m[11], dup[11]),
           (["dup-ack"], 1))
    expect("seg 12", (m[12], dup[12]), (["dup-ack"], 2))
    expect("seg 13 (A resends 1101)", m[13], ["retransmission"])
    expect("seg 16 (B skips 50 bytes)", m[16],
           ["previous-segment-not-captured"])
    expect("seg 18 (B fills the hole 90 ms later)", m[18], ["retransmission"])
    expect("seg 21 (A ACK after B's in-window SYN)", m[21], ["challenge-ack"])
    expect("seg 22 (B RST, SEQ not the next byte)", m[22], ["reset"])
    expect("seg 23 (A ACK after that RST)", m[23], ["challenge-ack"])
    expect("seg 24 (A SEQ=snd.nxt-1, window open)", m[24], ["keepalive"])
    expect("seg 26 (A ACKs beyond what B sent)", m[26], ["ack-of-unseen-data"])
    expect("seg 27 (B RST, exact)", m[27], ["reset"])
    expect("seg 9 (new data)", m[9], [])
    st = lambda side, t: state_at(c, side, t)
    print("states:")
    expect("A after the in-window RST (t=0.95)", st("A", 0.95), "ESTABLISHED")
    expect("A at the end", c["final"]["A"]["state"], "CLOSED")
    expect("B at the end", c["final"]["B"]["state"], "CLOSED")
    expect("A's retransmissions", c["final"]["A"]["retransmissions"], 1)
    expect("B's dup ACKs", c["final"]["B"]["dup_acks"], 2)
    expect("B's zero windows", c["final"]["B"]["zero_windows"], 2)


def state_at(c, side, t):
    s = c["final"][side]["initial"]
    for ch in c["changes"]:
        if ch["side"] == side and float(ch["t"]) <= t:
            s = ch["to"]
    return s


def mid_case(synack):
    fr = [
        seg(10.000, "A", 7000, 3000, "PA", 500, 200),
        seg(10.010, "B", 3000, 7200, "A", 500),
        seg(10.100, "A", 7200, 3000, "FA", 500),
        seg(10.110, "B", 3000, 7201, "A", 500),
        seg(10.120, "B", 3000, 7201, "FA", 500),
        seg(10.130, "A", 7201, 3001, "A", 500),
    ]
    c = diagram(synack, fr)
    print("mid-connection:")
    f = c["final"]
    expect("A initial", (f["A"]["initial"], f["A"]["initial_certain"]),
           ("ESTABLISHED", False))
    expect("B initial", (f["B"]["initial"], f["B"]["initial_certain"]),
           ("ESTABLISHED", False))
    expect("why", f["A"]["initial_why"],
           "capture starts mid-connection: ESTABLISHED assumed")
    expect("A final", f["A"]["state"], "TIME-WAIT")
    expect("B final", f["B"]["state"], "CLOSED")
    expect("mid_connection", c["mid_connection"], True)
    # relative numbers without the SYNs: each side's first byte seen is 1,
    # in the text and in the JSON
    rows = c["rows"]
    expect("first row relative SEQ/ACK", (rows[0]["rseq"], rows[0]["rack"]),
           (1, 1))
    expect("B's ACK of A's 200 bytes", rows[1]["rack"], 201)
    expect("text row of A's first segment",
           "--> <SEQ=1><ACK=1><CTL=PSH,ACK><LEN=200>" in c["_text"], True)
    expect("text row of B's ACK",
           "<-- <SEQ=1><ACK=201><CTL=ACK>" in c["_text"], True)


def lost_acks_case(synack):
    # the handshake's ACK is lost again and again (B resends its SYN,ACK
    # after each): the last copy, which nothing after it confirms, makes B
    # ESTABLISHED only in doubt (the sim's half-open scenario)
    fr = [
        seg(0.000, "A", 100, 0, "S", 65535, mss=1460),
        seg(0.010, "B", 500, 101, "SA", 65535, mss=1460),
        seg(0.010, "A", 101, 501, "A", 65535),
        seg(1.010, "B", 500, 101, "SA", 65535, mss=1460),
        seg(1.010, "A", 101, 501, "A", 65535),
        seg(3.010, "B", 500, 101, "SA", 65535, mss=1460),
        seg(3.010, "A", 101, 501, "A", 65535),
    ]
    c = diagram(synack, fr)
    print("lost ACKs of the SYN,ACK:")
    f = c["final"]
    expect("A final", (f["A"]["state"], f["A"]["certain"]),
           ("ESTABLISHED", True))
    expect("B final", (f["B"]["state"], f["B"]["certain"]),
           ("ESTABLISHED", False))
    expect("B's retransmissions", f["B"]["retransmissions"], 2)
    # one more segment from B (data) confirms it
    fr.append(seg(3.020, "B", 501, 101, "PA", 65535, 10))
    c = diagram(synack, fr)
    f = c["final"]
    expect("B final once it sends data", (f["B"]["state"], f["B"]["certain"]),
           ("ESTABLISHED", True))


def nosyn_case(synack):
    fr = [
        seg(0.0, "A", 1, 0, "S", 65535, mss=1460),
        seg(1.0, "A", 1, 0, "S", 65535, mss=1460),
        seg(3.0, "A", 1, 0, "S", 65535, mss=1460),
    ]
    c = diagram(synack, fr)
    print("unanswered SYN:")
    f = c["final"]
    expect("A final", f["A"]["state"], "SYN-SENT")
    expect("B final (unknown)", (f["B"]["state"], f["B"]["certain"]),
           (None, False))
    expect("A's retransmissions", f["A"]["retransmissions"], 2)


def main():
    synack = sys.argv[1]
    marks_case(synack)
    mid_case(synack)
    lost_acks_case(synack)
    nosyn_case(synack)
    if bad:
        print("FAIL: %d check(s) failed" % bad)
        sys.exit(1)
    print("ok: every mark and state as expected")


main()
