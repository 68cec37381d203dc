#!/usr/bin/env python3
"""diagram_sim.py SYNACK SCENARIO [SIM ARGS...]

Runs `SYNACK sim SCENARIO ARGS --ladder full --pcap F` (the capture is taken
at A), then `SYNACK diagram F --json`, and checks the inferred states and
marks against the sim's own ladder, which shows the true states:

  - per side, the sequence of states the diagram infers equals the one the
    sim went through up to the capture's last packet (B's "call listen"
    before the first segment is the diagram's initial LISTEN);
  - each inferred change is within one one-way delay (+0.5 ms) of the true
    one: the capture at A sees B's changes only through segments;
  - A's segments (all in the capture) are marked retransmission exactly
    when the sim says so; B's segments that reached A are marked
    retransmission when the sim says so and never otherwise; a B segment
    that arrives after one of B's segments was lost on the link is marked
    "previous segment not captured" when it starts beyond the lost one;
    keepalive probes are marked as such.

Prints every comparison; exits 1 on the first kind of mismatch found.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

STATES = ["CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED",
          "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING", "LAST-ACK",
          "TIME-WAIT"]
ROW = re.compile(r"^\s+(\d+)\.\s+(\d+\.\d+)  (.*)$")
SACKTXT = re.compile(r"<SACK=([0-9,\-]+)>")
SEGTXT = re.compile(r"<SEQ=(\d+)>(?:<ACK=(\d+)>)?<CTL=([A-Z,]+)>(?:<LEN=(\d+)>)?")


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def parse_sim(text):
    rows = []
    for line in text.splitlines():
        m = ROW.match(line)
        if not m:
            continue
        t = float(m.group(2))
        rest = m.group(3)
        toks = rest.split()
        a = toks[0] if toks and toks[0] in STATES else None
        b = None
        for tok in toks[1:]:
            if tok in STATES:
                b = tok
        seg = None
        if "-->" in rest or "--X" in rest or "<--" in rest or "X--" in rest:
            sm = SEGTXT.search(rest)
            if sm:
                frm = "A" if ("--> <SEQ" in rest) else "B"
                lost = ("--X" in rest) or ("X-- <SEQ" in rest)
                note = rest.split("-->")[-1] if frm == "A" else rest.split("<--")[-1]
                km = SACKTXT.search(rest)
                sack = ([[int(x) for x in b.split("-")]
                         for b in km.group(1).split(",")] if km else [])
                seg = {"from": frm, "seq": int(sm.group(1)),
                       "flags": sm.group(3), "len": int(sm.group(4) or 0),
                       "lost": lost, "note": note, "sack": sack}
        rows.append({"t": t, "a": a, "b": b, "seg": seg, "text": line})
    return rows


def truth_changes(rows, side, tmax):
    key = "a" if side == "A" else "b"
    seq = []
    for r in rows:
        s = r[key]
        if s is None or r["t"] > tmax + 1e-9:
            continue
        if not seq or seq[-1][1] != s:
            seq.append((r["t"], s))
    return seq


def main():
    synack, scen = sys.argv[1], sys.argv[2]
    args = sys.argv[3:]
    delay = 5.0
    if "--delay" in args:
        delay = float(args[args.index("--delay") + 1])
    tol = delay / 1000.0 + 0.0005
    with tempfile.TemporaryDirectory() as d:
        pcap = os.path.join(d, "a.pcap")
        sim = subprocess.run([synack, "sim", scen] + args +
                             ["--ladder", "full", "--pcap", pcap],
                             capture_output=True, text=True)
        if not os.path.exists(pcap):
            fail("sim wrote no capture: " + sim.stdout + sim.stderr)
        dg = subprocess.run([synack, "diagram", pcap, "--json"],
                            capture_output=True, text=True)
        if dg.returncode != 0:
            fail("synack diagram exited %d: %s" % (dg.returncode, dg.stderr))
        js = json.loads(dg.stdout)
    rows = parse_sim(sim.stdout)
    conns = js["connections"]
    if len(conns) != 1:
        fail("expected 1 connection in the capture, got %d" % len(conns))
    c = conns[0]
    tlast = float(c["last"])
    bad = 0
    print("scenario: %s %s (capture at A; tolerance %.1f ms)" %
          (scen, " ".join(args), tol * 1000))
    for side in ("A", "B"):
        truth = truth_changes(rows, side, tlast + tol)
        if side == "B" and len(truth) > 1 and truth[0][1] == "CLOSED" \
                and truth[1][1] == "LISTEN":
            truth = truth[1:]
        inf = [(float(c["first"]), c["final"][side]["initial"], "", 0.0)]
        for ch in c["changes"]:
            if ch["side"] == side and ch["to"] != inf[-1][1]:
                inf.append((float(ch["t"]), ch["to"], ch["cause"],
                            float(ch["t_first"])))
        ts = " -> ".join(s for _, s in truth)
        is_ = " -> ".join(str(x[1]) for x in inf)
        ok = [s for _, s in truth] == [x[1] for x in inf]
        print("  %s true:     %s" % (side, ts))
        print("  %s inferred: %s  %s" % (side, is_, "ok" if ok else "MISMATCH"))
        if not ok:
            bad += 1
            continue
        for (tt, s), (ti, _, cause, tf) in list(zip(truth, inf))[1:]:
            # a receipt of a segment sent more than once: between the
            # first copy and the one the receiver answered
            good = tf - tol <= tt <= ti + tol
            if cause.startswith("snd FIN") and tt <= ti + tol:
                # close() is called before the FIN can leave (data still
                # queued): the capture shows only the FIN
                good = True
            print("    %-12s true %.6f inferred %.6f  %s" %
                  (s, tt, ti, "ok" if good else "TOO FAR"))
            if not good:
                bad += 1
    # marks
    simsegs = [r["seg"] for r in rows if r["seg"]]
    dsegs = c["rows"]
    for side in ("A", "B"):
        ss = [s for s in simsegs if s["from"] == side and
              (side == "A" or not s["lost"])]
        ds = [r for r in dsegs if r["from"] == side]
        if len(ss) != len(ds):
            print("  %s: the sim shows %d segments, the diagram %d" %
                  (side, len(ss), len(ds)))
            bad += 1
            continue
        n_re = n_ka = 0
        bmax = 0  # highest sequence end of B's segments that reached A
        for s, r in zip(ss, ds):
            if s["sack"] != r.get("sack", []):
                print("  %s seg %d: SACK blocks: sim %s, diagram %s" %
                      (side, r["segment"], s["sack"], r.get("sack", [])))
                bad += 1
            sre = "retransmission" in s["note"]
            dre = "retransmission" in r["marks"]
            if sre:
                n_re += 1
            if "keepalive" in s["note"]:
                n_ka += 1
                if "keepalive" not in r["marks"]:
                    print("  %s seg %d: keepalive not marked" % (side, r["segment"]))
                    bad += 1
            if side == "A" and sre != dre:
                print("  A seg %d (SEQ %d): sim retransmission=%s, diagram %s" %
                      (r["segment"], s["seq"], sre, r["marks"]))
                bad += 1
            if side == "B" and not sre and ("retransmission" in r["marks"] or
                                             "out-of-order" in r["marks"]):
                print("  B seg %d: marked %s, the sim sent it first" %
                      (r["segment"], r["marks"]))
                bad += 1
            if side == "B" and sre and not dre and \
                    "out-of-order" not in r["marks"] and s["seq"] < bmax:
                print("  B seg %d: a retransmission not marked: %s" %
                      (r["segment"], r["marks"]))
                bad += 1
            # a B retransmission whose original never reached A looks new
            # in a capture at A unless later bytes had arrived before it
            bmax = max(bmax, s["seq"] + s["len"])
        print("  %s: %d segments, %d retransmissions, %d keepalives: marks "
              "compared" % (side, len(ss), n_re, n_ka))
    # B's segments lost on the link: the next B segment to arrive that
    # starts beyond everything of B's seen so far is "not captured"
    bsim = [s for s in simsegs if s["from"] == "B"]
    bd = [r for r in dsegs if r["from"] == "B"]
    seen_end = 0
    k = 0
    gap = False
    for s in bsim:
        end = s["seq"] + s["len"] + (1 if ("FIN" in s["flags"] or
                                           "SYN" in s["flags"]) else 0)
        if s["lost"]:
            if end > seen_end and end > s["seq"]:
                gap = True
            continue
        r = bd[k]
        k += 1
        if gap and s["seq"] > seen_end:
            have = "previous-segment-not-captured" in r["marks"]
            print("  B SEQ %d arrives after a lost one: marked not-captured: %s"
                  % (s["seq"], have))
            if not have:
                bad += 1
        if s["seq"] >= seen_end:
            gap = False
        seen_end = max(seen_end, end)
    if bad:
        fail("%d mismatch(es) between the sim's ladder and synack diagram" % bad)
    print("ok: inferred states and marks match the sim's ladder")


main()
