#!/usr/bin/env python3
"""Write the seed corpus of the fuzz targets into tests/fuzz/corpus/.

fuzz_frames records are [kind][len hi][len lo][bytes] (see fuzz_frames.c).
Kind 1 byte 0 = 2: sequence/ack numbers relative to the connection.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def rec(kind, body):
    return bytes([kind]) + struct.pack(">H", len(body)) + body


def tcp(flags, seq=0, ack=0, opts=b"", payload=b"", sel=2, wnd=65535):
    opts = opts + b"\0" * (-len(opts) % 4)
    hl = (20 + len(opts)) // 4
    h = struct.pack(">HHIIBBHHH", 0, 0, seq, ack, hl << 4, flags, wnd, 0, 0)
    return rec(1, bytes([sel]) + h + opts + payload)


def step(ms):
    return rec(2, bytes([0]) + b"\0" * (ms - 1))


def app(op, arg=b""):
    return rec(3, bytes([op]) + arg)


seeds = {
    "data": tcp(ACK | PSH, payload=b"hello") + app(2, b"\x10"),
    "fin": tcp(ACK | FIN) + app(2) + app(7) + step(200),
    "rst": tcp(RST | ACK),
    "rst_window": tcp(RST, seq=100),
    "syn_listener": tcp(SYN, opts=bytes([2, 4, 5, 0xb4, 1, 3, 3, 7, 4, 2,
                                          8, 10]) + b"\0" * 8, sel=1),
    "timestep": step(250) + step(1000),
    "send_then_ack": app(0, b"abcdef") + tcp(ACK, ack=6) + step(50),
    "close_then_fin": app(7) + step(10) + tcp(ACK | FIN, ack=1) + step(1000),
    "abort": app(8),
    "ooo": tcp(ACK, seq=10, payload=b"later") + tcp(ACK, payload=b"0123456789")
           + app(3),
    "zero_window_send": tcp(ACK, wnd=0) + app(1, b"\xff" * 8) + step(3000),
}

os.makedirs(os.path.join(HERE, "corpus", "fuzz_frames"), exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(HERE, "corpus", "fuzz_frames", name), "wb") as f:
        f.write(data)

tp = os.path.join(HERE, "corpus", "fuzz_tcp_parse")
os.makedirs(tp, exist_ok=True)
syn = struct.pack(">HHIIBBHHH", 40000, 80, 1000, 0, 8 << 4, SYN, 65535, 0, 0)
syn += bytes([2, 4, 5, 0xb4, 1, 3, 3, 7, 4, 2, 8, 10]) + b"\0" * 8
ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 40, 1, 0x4000, 64, 6, 0,
                 bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])) + b"\0" * 20
arp = struct.pack(">HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, b"\2\0\0\0\0\1",
                  bytes([10, 0, 0, 1]), b"\0" * 6, bytes([10, 0, 0, 2]))
icmp = struct.pack(">BBHHH", 8, 0, 0, 1, 1) + b"ping"
for name, data in {"tcp_syn_opts": bytes([0x82]) + syn,
                   "ipv4": bytes([0x83]) + ip, "arp": bytes([2]) + arp,
                   "icmp": bytes([3]) + icmp}.items():
    with open(os.path.join(tp, name), "wb") as f:
        f.write(data)

# fuzz_tcp_options: [ctl][options][payload]; ctl low nibble = option words.
to = os.path.join(HERE, "corpus", "fuzz_tcp_options")
os.makedirs(to, exist_ok=True)
linux_syn = bytes([2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0,
                   1, 3, 3, 7])
for name, data in {
        "linux_syn": bytes([5]) + linux_syn,
        "ts_nop": bytes([3]) + bytes([1, 1, 8, 10]) + b"\0\0\0\5\0\0\0\6",
        "sack": bytes([3]) + bytes([1, 1, 5, 10]) + b"\0\0\0\1\0\0\0\2",
        "unknown": bytes([2]) + bytes([30, 4, 0, 0, 0, 0, 0, 0]),
        "bad_len": bytes([1]) + bytes([2, 5, 0, 0]),
        "zero_len": bytes([1]) + bytes([3, 0, 0, 0]),
        "payload": bytes([1]) + bytes([2, 4, 2, 0]) + b"data",
        "bad_csum": bytes([0x11]) + bytes([2, 4, 2, 0]),
        "raw_off": bytes([0x41, 15]) + bytes([1, 1, 1, 1]),
        "emit": bytes([0x20]) + bytes(range(1, 24)),
}.items():
    with open(os.path.join(to, name), "wb") as f:
        f.write(data)

# fuzz_reass: header [isn 4][rcvbuf][syn opts], records [op][a][b][c][d][e].
tr = os.path.join(HERE, "corpus", "fuzz_reass")
os.makedirs(tr, exist_ok=True)


def rseg(off, n, rel=False):
    if rel:
        return bytes([1]) + struct.pack(">H", off + 2048) + b"\0" + \
            struct.pack(">H", n)
    return bytes([0]) + off.to_bytes(3, "big") + struct.pack(">H", n)


def rread(n):
    return bytes([2]) + struct.pack(">H", n - 1) + b"\0\0\0"


def rstep(ms):
    return bytes([3]) + struct.pack(">H", ms) + b"\0\0\0"


for name, data in {
        "in_order": b"\0\0\x10\0\x10\x01" + rseg(0, 1000) + rseg(1000, 1000)
        + rread(5000),
        "ooo_wrap": b"\xff\xff\xfc\x00\x08\x21" + rseg(1460, 1460)
        + rseg(4000, 500) + rseg(0, 1460) + rread(3000) + rstep(200),
        "overlap": b"\x80\0\0\0\0\x00" + rseg(500, 1000) + rseg(300, 400)
        + rseg(0, 600) + rseg(900, 50, True) + rread(100) + rread(65535),
        "beyond": b"\x12\x34\x56\x78\x00\x40" + rseg(90000, 1460)
        + rseg(4000, 1460) + rstep(40) + rread(10),
}.items():
    with open(os.path.join(tr, name), "wb") as f:
        f.write(data)
