#!/usr/bin/env python3
"""Turn pcap files of real traffic into seed inputs for the fuzz targets.

usage: pcap2corpus.py [--out DIR] [--synack-ip IP] FILE.pcap...

Reads classic pcap files (Ethernet link type, either byte order, micro- or
nanosecond timestamps; Python standard library only) and writes, under
DIR (default: tests/fuzz/corpus next to this script), one directory per
target:

  fuzz_frames/       per TCP connection: the frames synack received as
                     kind-1 records (sequence and acknowledgment numbers
                     relative to the connection), what synack sent as
                     application sends (kind 3, op 0), shutdown(WR) where
                     synack sent its FIN, a read after each data segment,
                     and the time between frames as time steps (kind 2);
                     the connection's first SYN goes to the listener
  fuzz_tcp_parse/    distinct TCP headers (by flags and option layout),
                     IPv4 packets, Ethernet frames and ARP messages
  fuzz_tcp_options/  the distinct option blocks, in that target's format
  fuzz_reass/        per connection and direction with data: the sender's
                     ISN and SYN options, then its data segments' offsets
                     and lengths in the order sent, a read every fourth
                     segment, and the time between segments

The input formats are described at the top of each fuzz_*.c. synack's
address (default 10.77.0.2, the interop suite's) tells the directions
apart. Output names are <pcap name>-<what>-<n>, so a rerun on the same
captures rewrites the same files.
"""
import argparse
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
REL_SPAN = 131072      # fuzz_frames: relative numbers are taken mod this
REASS_SPAN = 1 << 17   # fuzz_reass: absolute offsets are taken mod this
MAX_FRAMES_RECS = 64   # records per fuzz_frames input (harness: 256)
MAX_REASS_RECS = 200   # records per fuzz_reass input (harness: 512)


def read_pcap(path):
    """Yield (time in seconds, frame bytes)."""
    with open(path, "rb") as f:
        hdr = f.read(24)
        if len(hdr) < 24:
            raise ValueError(f"{path}: not a pcap file")
        magic = hdr[:4]
        if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
            end = "<"
        elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
            end = ">"
        else:
            raise ValueError(f"{path}: not a classic pcap file (pcapng?)")
        nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
        linktype = struct.unpack(end + "I", hdr[20:24])[0]
        if linktype != 1:
            raise ValueError(f"{path}: link type {linktype}, not Ethernet")
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            sec, frac, incl, _orig = struct.unpack(end + "IIII", rec)
            data = f.read(incl)
            if len(data) < incl:
                return
            yield sec + frac / (1e9 if nano else 1e6), data


def ip_str(b):
    return ".".join(str(x) for x in b)


class Pkt:
    """One IPv4/TCP frame."""

    def __init__(self, t, frame):
        self.t = t
        self.frame = frame
        ihl = (frame[14] & 0x0F) * 4
        tot = struct.unpack(">H", frame[16:18])[0]
        self.ip = frame[14:14 + tot]
        self.src = ip_str(frame[26:30])
        self.dst = ip_str(frame[30:34])
        seg = self.ip[ihl:]
        self.seg = seg
        self.sport, self.dport, self.seq, self.ack = struct.unpack(
            ">HHII", seg[:12])
        self.hlen = (seg[12] >> 4) * 4
        self.flags = seg[13]
        self.wnd = struct.unpack(">H", seg[14:16])[0]
        self.opts = seg[20:self.hlen]
        self.payload = seg[self.hlen:]


def parse_opts(opts):
    """{kind: value bytes} of well-formed options."""
    out = {}
    i = 0
    while i < len(opts):
        k = opts[i]
        if k == 0:
            break
        if k == 1:
            i += 1
            continue
        if i + 1 >= len(opts) or opts[i + 1] < 2:
            break
        out[k] = opts[i + 2:i + opts[i + 1]]
        i += opts[i + 1]
    return out


def opt_layout(opts):
    """The option kinds in order (NOP and EOL included), for dedup."""
    kinds = []
    i = 0
    while i < len(opts):
        k = opts[i]
        kinds.append(k)
        if k in (0, 1):
            i += 1
            continue
        if i + 1 >= len(opts) or opts[i + 1] < 2:
            break
        i += opts[i + 1]
    return tuple(kinds)


def frames_rec(kind, body):
    return bytes([kind]) + struct.pack(">H", len(body)) + body


def time_step(dt):
    """fuzz_frames kind 2: len * (1 + byte 0) ms; at most 200 ms here."""
    ms = min(int(dt * 1000), 200)
    if ms < 1:
        return b""
    return frames_rec(2, b"\0" * ms)


def conn_key(p):
    a, b = (p.src, p.sport), (p.dst, p.dport)
    return (a, b) if a < b else (b, a)


def frames_input(pkts, dut_ip):
    """One fuzz_frames input from a connection's packets (time order)."""
    peer_isn = dut_isn = None
    for p in pkts:
        if p.flags & SYN:
            if p.src == dut_ip:
                dut_isn = p.seq
            else:
                peer_isn = p.seq
    if peer_isn is None or dut_isn is None:
        return None
    out = bytearray()
    nrec = 0
    first_syn = True
    last_t = None
    for p in pkts:
        if nrec >= MAX_FRAMES_RECS:
            break
        if last_t is not None:
            step = time_step(p.t - last_t)
            if step:
                out += step
                nrec += 1
        last_t = p.t
        if p.flags & SYN:
            if p.src != dut_ip and first_syn:
                # the SYN (or SYN,ACK) itself, to the listener
                first_syn = False
                out += frames_rec(1, bytes([1]) + p.seg[:p.hlen])
                nrec += 1
            continue
        if p.src == dut_ip:
            if p.payload:
                out += frames_rec(3, bytes([0]) + p.payload)
                nrec += 1
            if p.flags & FIN:
                out += frames_rec(3, bytes([5]))
                nrec += 1
            continue
        seq = (p.seq - peer_isn - 1) & 0xFFFFFFFF
        ack = (p.ack - dut_isn - 1) & 0xFFFFFFFF
        if seq >= REL_SPAN or ack >= REL_SPAN:
            break  # the harness cannot express these numbers
        hdr = bytearray(p.seg[:p.hlen])
        struct.pack_into(">II", hdr, 4, seq, ack)
        out += frames_rec(1, bytes([2]) + bytes(hdr) + p.payload)
        nrec += 1
        if p.payload or p.flags & FIN:
            out += frames_rec(3, bytes([2]))  # read everything
            nrec += 1
    return bytes(out) if nrec else None


def reass_input(pkts, sender):
    """One fuzz_reass input: the data segments sender sent."""
    syn = next((p for p in pkts if p.flags & SYN and p.src == sender), None)
    if syn is None:
        return None
    o = parse_opts(syn.opts)
    optbits = 0
    if 3 in o and len(o[3]) == 1:
        optbits |= 1 | (min(o[3][0], 15) << 1)
    if 8 in o:
        optbits |= 0x20
    if 2 in o and len(o[2]) == 2 and struct.unpack(">H", o[2])[0] < 1000:
        optbits |= 0x40
    # receive buffer byte 0xf8: 2048 + 512 * 248 = 129024 bytes
    out = bytearray(struct.pack(">IBB", syn.seq, 0xF8, optbits))
    nrec = 0
    nseg = 0
    last_t = None
    for p in pkts:
        if nrec >= MAX_REASS_RECS:
            break
        if p.src != sender or not p.payload or p.flags & SYN:
            continue
        off = (p.seq - syn.seq - 1) & 0xFFFFFFFF
        if off + len(p.payload) > REASS_SPAN:
            break
        if last_t is not None and p.t - last_t >= 0.001:
            ms = min(int((p.t - last_t) * 1000), 65535)
            out += bytes([3]) + struct.pack(">H", ms) + b"\0\0\0"
            nrec += 1
        last_t = p.t
        flags = 4 if p.flags & PSH else 0
        out += bytes([0 | flags]) + off.to_bytes(3, "big") + \
            struct.pack(">H", len(p.payload))
        nrec += 1
        nseg += 1
        if nseg % 4 == 0:
            out += bytes([2]) + b"\xff\xff" + b"\0\0\0"
            nrec += 1
    return bytes(out) if nseg else None


def write(outdir, target, name, data, written):
    d = os.path.join(outdir, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
    written[target] = written.get(target, 0) + 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(HERE, "corpus"))
    ap.add_argument("--synack-ip", default="10.77.0.2")
    ap.add_argument("pcaps", nargs="+")
    a = ap.parse_args()
    written = {}
    for path in a.pcaps:
        base = os.path.splitext(os.path.basename(path))[0]
        conns = {}
        order = []
        seen_tcp = set()
        seen_opts = set()
        other = {"ipv4": 0, "eth": 0, "arp": 0}
        for t, fr in read_pcap(path):
            if len(fr) < 14:
                continue
            etype = struct.unpack(">H", fr[12:14])[0]
            if etype == 0x0806 and len(fr) >= 42 and other["arp"] < 2:
                op = struct.unpack(">H", fr[20:22])[0]
                if op == other["arp"] + 1:  # one request, one reply
                    write(a.out, "fuzz_tcp_parse", f"{base}-arp-{op}",
                          bytes([2]) + fr[14:42], written)
                    other["arp"] += 1
                continue
            if etype != 0x0800 or len(fr) < 34 or fr[14] >> 4 != 4 or \
                    fr[23] != 6:
                continue
            try:
                p = Pkt(t, fr)
            except (struct.error, IndexError):
                continue
            if p.hlen < 20 or len(p.seg) < p.hlen:
                continue
            k = conn_key(p)
            if k not in conns:
                conns[k] = []
                order.append(k)
            if len(conns[k]) < 4 * MAX_REASS_RECS:
                conns[k].append(p)
            layout = opt_layout(p.opts)
            tkey = (p.src == a.synack_ip, p.flags, layout)
            if tkey not in seen_tcp:
                seen_tcp.add(tkey)
                n = len(seen_tcp)
                # selector 0x82: wire_tcp_parse with the checksum fixed up
                write(a.out, "fuzz_tcp_parse", f"{base}-tcp-{n}",
                      bytes([0x82]) + p.seg[:p.hlen + 64], written)
                if n <= 2:
                    write(a.out, "fuzz_tcp_parse", f"{base}-ipv4-{n}",
                          bytes([0x83]) + p.ip[:(fr[14] & 15) * 4 + 40],
                          written)
                    write(a.out, "fuzz_tcp_parse", f"{base}-eth-{n}",
                          bytes([4]) + fr[:128], written)
            if p.opts and layout not in seen_opts:
                seen_opts.add(layout)
                words = len(p.opts) // 4
                write(a.out, "fuzz_tcp_options",
                      f"{base}-opts-{len(seen_opts)}",
                      bytes([words]) + p.opts + p.payload[:16], written)
        for i, k in enumerate(order, 1):
            pkts = conns[k]
            data = frames_input(pkts, a.synack_ip)
            if data:
                write(a.out, "fuzz_frames", f"{base}-conn{i}", data, written)
            for side in sorted({p.src for p in pkts}):
                data = reass_input(pkts, side)
                who = "synack" if side == a.synack_ip else "peer"
                if data:
                    write(a.out, "fuzz_reass", f"{base}-conn{i}-{who}", data,
                          written)
    for t in sorted(written):
        print(f"{t}: {written[t]} files", file=sys.stderr)


if __name__ == "__main__":
    main()
