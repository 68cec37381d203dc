#!/usr/bin/env python3
"""Checks of the SVG ladder and plots of synack (tests/tool/svg.cmake).

  svgcheck.py ladder TEXT SVG [strict]
                                the SVG ladder against the text ladder of
                                the same run: well-formed, one arrow per
                                segment row with the same row numbers, the
                                states of each side in the same order, the
                                arrows ending on a row of their arrival's
                                time (strict: every arrow not lost has one)
  svgcheck.py png SVG PNG       a headless-Chromium screenshot of SVG: the
                                size asked for, not blank, ink on both
                                lifelines, along the first arrow and in the
                                row-number and time columns of every row
  svgcheck.py plot TSEQ CC TEXT  `synack sim --plot` of a run whose text
                                ladder is TEXT: well-formed; retransmissions
                                plotted exactly when the ladder shows A's;
                                after the first one cwnd falls below its
                                earlier peak; the time axis covers A's
                                segments
  svgcheck.py same X Y          two time-sequence plots draw the same data
                                (everything but the title)
  svgcheck.py ink SVG PNG       a screenshot of a plot: the SVG's size, not
                                blank

Prints what it expected and what it got, exits 1 on the first failure.
"""
import re
import struct
import sys
import xml.etree.ElementTree as ET
import zlib

NS = "{http://www.w3.org/2000/svg}"


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def load_svg(path):
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as e:
        fail("%s is not well-formed XML: %s" % (path, e))
    if root.tag != NS + "svg":
        fail("%s: root element is %s, not an SVG <svg> in the SVG namespace"
             % (path, root.tag))
    return root


def text_rows(path):
    """The text ladder's rows: (number, state A, kind, state B), the states
    read at the columns of the header's "TCP A" and "TCP B"."""
    rows, col_a, col_b = [], None, None
    row_re = re.compile(r"^ +(\d+)\. +\d+\.\d{6}  ")
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if col_a is None and re.match(r"^ +TIME  TCP A +TCP B$", line):
            col_a, col_b = line.index("TCP A"), line.index("TCP B")
            continue
        m = row_re.match(line)
        if not m or col_a is None:
            continue
        sa = line[col_a:col_a + 12].strip()
        sb = line[col_b:col_b + 12].strip()
        mid = line[col_a + 12:col_b]
        kind = "seg" if re.search(r"(-->|<--|--X|X--) <SEQ|drops it: ",
                                  line) else "other"
        rows.append((int(m.group(1)), sa, kind, sb))
    return rows


def collapse(seq):
    out = []
    for s in seq:
        if s and (not out or out[-1] != s):
            out.append(s)
    return out


def check_ladder(text, svg, strict):
    root = load_svg(svg)
    rows = text_rows(text)
    if not rows:
        fail("no ladder rows in " + text)
    want = [n for n, _, k, _ in rows if k == "seg"]
    got = [int(g.get("data-row")) for g in root.iter(NS + "g")
           if "segrow" in (g.get("class") or "").split()]
    if got != want:
        fail("segment rows (arrows) in the SVG: expected %s, got %s"
             % (want, got))
    for g in root.iter(NS + "g"):
        if "segrow" in (g.get("class") or "").split():
            if g.find(NS + "line") is None or g.find(NS + "text") is None:
                fail("row %s: an arrow needs a line and a label"
                     % g.get("data-row"))
    # arrows end where the segment arrived: on a row of the arrival's time
    row_t = {round(float(t.get("y")) - 4, 1): float(t.text)
             for t in root.iter(NS + "text") if t.get("class") == "time"}
    arrived = 0
    for g in root.iter(NS + "g"):
        if "segrow" not in (g.get("class") or "").split():
            continue
        title = g.find(NS + "title").text or ""
        m = re.search(r"sent ([\d.]+) s, arrived ([\d.]+) s", title)
        lost = "lost" in (g.get("class") or "").split()
        if not m:
            if not lost and strict:
                fail("row %s: no arrival known for a segment that was not "
                     "lost: %s" % (g.get("data-row"), title))
            continue
        line = g.find(NS + "line")
        y1, y2 = float(line.get("y1")), float(line.get("y2"))
        arr = float(m.group(2))
        above = [(y, tm) for y, tm in row_t.items() if y <= y2 + 0.05]
        below = [(y, tm) for y, tm in row_t.items() if y > y2 + 0.05]
        if not above or y2 < y1:
            fail("row %s: the arrow goes up (y %.1f to %.1f)"
                 % (g.get("data-row"), y1, y2))
        ya, ta = max(above)
        if abs(ya - y2) < 0.06:  # on a row: of the arrival's time
            ok = abs(ta - arr) < 1e-6
        else:  # between rows: the one above earlier, the one below later
            ok = ta < arr and (not below or min(below)[1] > arr)
        if not ok:
            if not strict and min(abs(y - y2) for y in row_t) > 1:
                continue  # at a "rows left out" line
            fail("row %s: the arrow ends at y %.1f (from %.1f), near the row "
                 "of time %.6f; the segment arrived at %.6f"
                 % (g.get("data-row"), y2, y1, ta, arr))
        arrived += 1
    if strict and not arrived:
        fail("no arrow ends at its arrival")
    nums = [t.text for t in root.iter(NS + "text") if t.get("class") == "num"]
    if nums != ["%d." % n for n, _, _, _ in rows]:
        fail("row numbers: expected %s, got %s"
             % (["%d." % n for n, _, _, _ in rows], nums))
    for side, idx in (("A", 1), ("B", 3)):
        want_st = collapse(r[idx] for r in rows)
        got_st = collapse(r.get("data-state") for r in root.iter(NS + "rect")
                          if r.get("class") == "band"
                          and r.get("data-side") == side)
        if want_st != got_st:
            fail("states of %s: expected %s, got %s" % (side, want_st, got_st))
    print("ok: %d rows, %d arrows (%d end at their arrival), states A %s, "
          "B %s" % (len(rows), len(got), arrived, " ".join(collapse(r[1] for r in rows)),
             " ".join(collapse(r[3] for r in rows))))


def read_png(path):
    try:
        d = open(path, "rb").read()
    except OSError as e:
        fail("no screenshot: %s" % e)
    if d[:8] != b"\x89PNG\r\n\x1a\n":
        fail(path + " is not a PNG")
    i, idat, hdr = 8, b"", None
    while i + 8 <= len(d):
        n, = struct.unpack(">I", d[i:i + 4])
        typ, body = d[i + 4:i + 8], d[i + 8:i + 8 + n]
        i += 12 + n
        if typ == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif typ == b"IDAT":
            idat += body
    if not hdr:
        fail(path + ": no IHDR")
    w, h, depth, ctype, _, _, interlace = hdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        fail("%s: unexpected PNG format (depth %d, colour type %d)"
             % (path, depth, ctype))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    pix, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pr) & 255
        pix.append(bytes(line))
        prev = line
    return w, h, bpp, pix


def check_png(svg, png, wexp, hexp):
    root = load_svg(svg)
    w, h, bpp, pix = read_png(png)
    if (w, h) != (wexp, hexp):
        fail("screenshot size: expected %dx%d, got %dx%d" % (wexp, hexp, w, h))

    def lum(x, y):
        p = pix[y][x * bpp:x * bpp + 3]
        return (p[0] * 30 + p[1] * 59 + p[2] * 11) // 100

    def dark_near(x, y, r=2, lim=140):
        return any(lum(xx, yy) < lim
                   for xx in range(max(0, x - r), min(w, x + r + 1))
                   for yy in range(max(0, y - r), min(h, y + r + 1)))

    dark = sum(1 for y in range(0, h, 2) for x in range(0, w, 2)
               if lum(x, y) < 128)
    if dark < 500:
        fail("the screenshot is (nearly) blank: %d dark pixels sampled" % dark)
    lifelines = [l for l in root.iter(NS + "line")
                 if l.get("class") == "lifeline"]
    if len(lifelines) != 2:
        fail("expected 2 lifelines in the SVG, got %d" % len(lifelines))
    for l in lifelines:
        x = int(float(l.get("x1")))
        y0, y1 = int(float(l.get("y1"))), min(h - 1, int(float(l.get("y2"))))
        for y in range(y0 + 4, y1 - 4, 16):
            if not dark_near(x, y, r=7):
                fail("no lifeline ink at (%d,%d) of %s" % (x, y, png))
    arrow = next((g.find(NS + "line") for g in root.iter(NS + "g")
                  if "segrow" in (g.get("class") or "").split()), None)
    if arrow is None:
        fail("no arrow in the SVG")
    x1, y1, x2, y2 = (float(arrow.get(k)) for k in ("x1", "y1", "x2", "y2"))
    for k in range(2, 9):
        x = int(x1 + (x2 - x1) * k / 10)
        y = int(y1 + (y2 - y1) * k / 10)
        if y < h and not dark_near(x, y, lim=170):
            fail("no ink along the first arrow at (%d,%d)" % (x, y))
    # text-like ink: every visible row's number and time have dark pixels,
    # in more than one column each (glyphs, not a line)
    rows = [t for t in root.iter(NS + "text") if t.get("class") == "num"]
    if not rows:
        fail("no row numbers in the SVG")
    checked = 0
    for t in rows:
        y = int(float(t.get("y")))
        if y >= h:
            break
        for x0, x1c in ((0, int(float(t.get("x"))) + 1), (50, 128)):
            cols = {x for x in range(x0, x1c) for yy in range(y - 9, y + 2)
                    if lum(x, yy) < 150}
            if len(cols) < 4:
                fail("no text in row '%s' (x %d..%d, y %d)"
                     % (t.text, x0, x1c, y))
        checked += 1
    print("ok: %dx%d screenshot, %d dark pixels sampled, lifelines, first "
          "arrow and %d rows of text inked" % (w, h, dark, checked))


def series(root, ident):
    for el in root.iter():
        if el.get("id") == ident:
            return el
    fail("no series '%s' in the plot" % ident)


def check_plot(tseq, cc, text):
    t = load_svg(tseq)
    c = load_svg(cc)
    rows = []
    row_re = re.compile(r"^ +(\d+)\. +(\d+\.\d{6})  (.*)$")
    for line in open(text, encoding="utf-8"):
        m = row_re.match(line)
        if m:
            rows.append((float(m.group(2)), m.group(3)))
    a_segs = [tm for tm, rest in rows if re.search(r"--[>X] <SEQ", rest)]
    a_rexmit = [tm for tm, rest in rows
                if "--> <SEQ" in rest and "<LEN=" in rest and "retransmission" in rest]
    data = [float(l.get("data-t")) for l in series(t, "data").iter(NS + "line")]
    rex = [float(l.get("data-t"))
           for l in series(t, "retransmissions").iter(NS + "line")]
    if not data:
        fail("no data segments plotted")
    if bool(rex) != bool(a_rexmit):
        fail("retransmissions: the ladder shows %d of A's data, the plot %d"
             % (len(a_rexmit), len(rex)))
    if sorted(rex) != sorted(a_rexmit):
        fail("retransmission times: ladder %s, plot %s" % (a_rexmit, rex))
    plot = next(g for g in t.iter(NS + "g") if g.get("class") == "plot")
    tmax = float(plot.get("data-tmax"))
    if not a_segs or tmax + 1e-6 < max(a_segs) or tmax > rows[-1][0] + 1e-6:
        fail("time axis: ends at %.6f s, A's last segment at %s, last row at %s"
             % (tmax, max(a_segs) if a_segs else None, rows[-1][0]))
    ticks = [float(x.text) for x in t.iter(NS + "text")
             if x.get("class") == "tick" and x.get("text-anchor") == "middle"]
    if not ticks or min(ticks) > 0 or max(ticks) < tmax:
        fail("time ticks %s do not cover 0..%.6f s" % (ticks, tmax))
    cw = [tuple(map(float, p.split(",")))
          for p in series(c, "cwnd").get("data-v").split()]
    if not cw:
        fail("no cwnd samples")
    if rex:
        t_loss = min(rex)
        before = max((v for tm, v in cw if tm <= t_loss), default=0)
        after = [v for tm, v in cw if tm > t_loss]
        if not after or min(after) >= before:
            fail("cwnd does not fall after the first retransmission at %.6f s "
                 "(peak before %d, lowest after %s)"
                 % (t_loss, before, min(after) if after else None))
        print("ok: %d data segments, %d retransmissions (as the ladder), "
              "cwnd %d before %.3f s, %d after; time axis to %.3f s"
              % (len(data), len(rex), before, t_loss, min(after), tmax))
    else:
        print("ok: %d data segments, no retransmission (as the ladder); "
              "time axis to %.3f s" % (len(data), tmax))


def check_same(x, y):
    def body(p):
        s = open(p, encoding="utf-8").read()
        load_svg(p)
        s = re.sub(r"<title>.*?</title>", "", s)
        return re.sub(r'<text x="\d+" y="26" class="title">.*?</text>', "", s)
    bx, by = body(x), body(y)
    if bx != by:
        lx, ly = bx.splitlines(), by.splitlines()
        i = next((i for i in range(min(len(lx), len(ly))) if lx[i] != ly[i]),
                 min(len(lx), len(ly)))
        fail("%s and %s differ at line %d: '%s' vs '%s'"
             % (x, y, i + 1, lx[i] if i < len(lx) else "<end>",
                ly[i] if i < len(ly) else "<end>"))
    print("ok: the same plot (%d lines)" % len(bx.splitlines()))


def check_ink(svg, png):
    root = load_svg(svg)
    w, h, bpp, pix = read_png(png)
    we, he = int(float(root.get("width"))), int(float(root.get("height")))
    if (w, h) != (we, he):
        fail("screenshot size: expected %dx%d, got %dx%d" % (we, he, w, h))
    dark = sum(1 for y in range(0, h, 2) for x in range(0, w, 2)
               if sum(pix[y][x * bpp:x * bpp + 3]) < 3 * 128)
    if dark < 500:
        fail("the plot's screenshot is (nearly) blank: %d dark pixels" % dark)
    print("ok: %dx%d screenshot of the plot, %d dark pixels sampled"
          % (w, h, dark))


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "ladder":
        check_ladder(sys.argv[2], sys.argv[3], len(sys.argv) > 4)
    elif len(sys.argv) == 5 and sys.argv[1] == "plot":
        check_plot(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) == 4 and sys.argv[1] == "same":
        check_same(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "ink":
        check_ink(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 6 and sys.argv[1] == "png":
        check_png(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
