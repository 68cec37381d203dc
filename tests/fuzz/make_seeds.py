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
for name, data in {"tcp_syn_opts": bytes([0x80]) + syn,
                   "ipv4": bytes([0x81]) + ip, "arp": bytes([2]) + arp,
                   "icmp": bytes([3]) + icmp}.items():
    with open(os.path.join(tp, name), "wb") as f:
        f.write(data)
