#!/usr/bin/env python3
"""Small pcap tools for the `synack diagram` tests (no dependencies).

  pcapgen.py convert IN OUT LINK   rewrite an Ethernet pcap as LINK: sll
                                   (Linux cooked v1), sll2 (v2), raw (raw
                                   IPv4) or null (BSD loopback)
  pcapgen.py truncate IN OUT       cut IN in the middle of its last packet
  pcapgen.py udp OUT               a valid pcap with one UDP packet only
  pcapgen.py wifi OUT              a pcap of link type 802.11 (unsupported)

As a module: Conv builds TCP conversations frame by frame (see
diagram_synth.py).
"""
import struct
import sys

LINK = {"en10mb": 1, "null": 0, "raw": 101, "sll": 113, "sll2": 276,
        "wifi": 105}


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def tcp_ip(src, dst, sport, dport, seq, ack, flags, wnd, payload=b"",
           mss=None, ws=None):
    opts = b""
    if mss is not None:
        opts += struct.pack("!BBH", 2, 4, mss)
    if ws is not None:
        opts += struct.pack("!BBBB", 1, 3, 3, ws)
    while len(opts) % 4:
        opts += b"\1"
    off = (20 + len(opts)) // 4
    fl = 0
    for ch, bit in (("F", 1), ("S", 2), ("R", 4), ("P", 8), ("A", 16)):
        if ch in flags:
            fl |= bit
    th = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xffffffff,
                     ack & 0xffffffff, off << 4, fl, wnd, 0, 0) + opts
    pseudo = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, 6,
                                               len(th) + len(payload))
    c = csum(pseudo + th + payload)
    th = th[:16] + struct.pack("!H", c) + th[18:]
    tot = 20 + len(th) + len(payload)
    ih = struct.pack("!BBHHHBBH4s4s", 0x45, 0, tot, 1, 0x4000, 64, 6, 0,
                     ip4(src), ip4(dst))
    ih = ih[:10] + struct.pack("!H", csum(ih)) + ih[12:]
    return ih + th + payload


def eth(ip):
    return b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00" + ip


def write_pcap(path, frames, link=1):
    """frames: list of (t_seconds_float, bytes)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, link))
        for t, b in frames:
            sec = int(t)
            usec = int(round((t - sec) * 1e6))
            f.write(struct.pack("<IIII", sec, usec, len(b), len(b)) + b)


def read_pcap(path):
    data = open(path, "rb").read()
    magic, = struct.unpack("<I", data[:4])
    if magic not in (0xa1b2c3d4, 0xa1b23c4d):
        raise SystemExit("%s: only little-endian pcap is handled" % path)
    link, = struct.unpack("<I", data[20:24])
    off, out = 24, []
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack("<IIII", data[off:off + 16])
        out.append((sec, frac, data[off + 16:off + 16 + incl]))
        off += 16 + incl
    return data[:24], link, out


def convert(src, dst, link):
    hdr, lt, pkts = read_pcap(src)
    if lt != 1:
        raise SystemExit("%s: not Ethernet" % src)
    hdr = hdr[:20] + struct.pack("<I", LINK[link])
    with open(dst, "wb") as f:
        f.write(hdr)
        for sec, frac, b in pkts:
            ip = b[14:]
            if link == "raw":
                nb = ip
            elif link == "null":
                nb = struct.pack("<I", 2) + ip
            elif link == "sll":
                nb = struct.pack("!HHH8sH", 0, 1, 6, b[6:12] + b"\0\0",
                                 0x0800) + ip
            elif link == "sll2":
                nb = struct.pack("!HHIHBB8s", 0x0800, 0, 2, 1, 0, 6,
                                 b[6:12] + b"\0\0") + ip
            f.write(struct.pack("<IIII", sec, frac, len(nb), len(nb)) + nb)


def main():
    cmd = sys.argv[1]
    if cmd == "convert":
        convert(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == "truncate":
        data = open(sys.argv[2], "rb").read()
        _, _, pkts = read_pcap(sys.argv[2])
        cut = len(data) - len(pkts[-1][2]) // 2
        open(sys.argv[3], "wb").write(data[:cut])
    elif cmd == "udp":
        ip = bytearray(tcp_ip("10.0.0.1", "10.0.0.2", 1, 2, 0, 0, "A", 0))
        ip[9] = 17
        write_pcap(sys.argv[2], [(1.0, eth(bytes(ip)))])
    elif cmd == "wifi":
        write_pcap(sys.argv[2], [(1.0, b"\0" * 40)], link=LINK["wifi"])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
