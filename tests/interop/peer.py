#!/usr/bin/env python3
"""The Linux side of the interop tests: TCP clients and servers on the
kernel's own stack, run inside the test's network namespace.

Every mode prints one result line on stdout, `key=value` pairs separated by
spaces (sent=N sent_sha256=H received=N received_sha256=H seconds=S ...), so
the shell can compare hashes and byte counts. Errors go to stderr with exit
status 1 (3 for an unexpected connection error, so a test can tell a refused
or reset connection from a bug here).

Modes:
  client HOST PORT [--send FILE | --send-bytes N] [--out FILE]
      connect; a writer thread sends the data and then shuts down the write
      side; the main thread reads to EOF (received data hashed and, with
      --out, written to FILE).
  server PORT [--send FILE | --send-bytes N] [--out FILE] [--after-eof N]
      accept one connection on 0.0.0.0:PORT; send and receive at once like
      the client; with --after-eof N, send N more bytes only after the
      peer's FIN (EOF) was read, then close.
  sink PORT               accept one connection, read to EOF (counted, not
                          hashed), close; prints received, seconds (accept
                          to EOF) and MB/s.
  source HOST PORT N      connect, send N bytes (one random block over and
                          over), shut down, wait for the peer's EOF; prints
                          seconds (connect to EOF) and MB/s.
  refused HOST PORT       connect must fail with ECONNREFUSED: exit 0 then.
  rst-server PORT N       accept; read N bytes (or to EOF), then close with
                          SO_LINGER {1, 0}: an RST, not a FIN.
  hold (--listen PORT | --connect HOST PORT) FIFO
                          one connection, accepted or made; then obey the
                          commands read line by line from FIFO (opened
                          read-write before anything else, so writers never
                          block and it never sees EOF): `close`, `shutdown`,
                          `send N`, `write TEXT` (\r\n escapes), `read` (to
                          EOF), `exit`. Reports each
                          command done on stderr (`peer: done CMD`).
A ready line `listening PORT` goes to stderr once a server listens.
"""
import argparse
import errno
import hashlib
import os
import socket
import struct
import sys
import threading
import time

CHUNK = 256 * 1024


def log(msg):
    print("peer: " + msg, file=sys.stderr, flush=True)


class Source:
    """The bytes to send: a file, or N pseudo-random bytes. Hashed as sent."""

    def __init__(self, path=None, nbytes=0):
        self.path = path
        self.nbytes = nbytes
        self.sha = hashlib.sha256()
        self.sent = 0

    def chunks(self):
        if self.path:
            with open(self.path, "rb") as f:
                while True:
                    b = f.read(CHUNK)
                    if not b:
                        return
                    yield b
        else:
            left = self.nbytes
            while left > 0:
                b = os.urandom(min(left, CHUNK))
                left -= len(b)
                yield b

    def send_all(self, sock, shutdown=True):
        for b in self.chunks():
            sock.sendall(b)
            self.sha.update(b)
            self.sent += len(b)
        if shutdown:
            sock.shutdown(socket.SHUT_WR)


def read_to_eof(sock, out=None):
    sha = hashlib.sha256()
    n = 0
    f = open(out, "wb") if out else None
    try:
        while True:
            b = sock.recv(CHUNK)
            if not b:
                break
            sha.update(b)
            n += len(b)
            if f:
                f.write(b)
    finally:
        if f:
            f.close()
    return n, sha.hexdigest()


def count_to_eof(sock):
    buf = bytearray(CHUNK)
    n = 0
    while True:
        k = sock.recv_into(buf)
        if not k:
            return n
        n += k


def listen(port):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(8)
    log("listening %d" % port)
    return ls


def connect(host, port, timeout=30.0):
    s = socket.create_connection((host, port), timeout=timeout)
    s.settimeout(None)
    return s


def source_from(args):
    if getattr(args, "send", None):
        return Source(path=args.send)
    return Source(nbytes=getattr(args, "send_bytes", 0) or 0)


def exchange(sock, src, out, after_eof=0, shutdown=True):
    """Send src from a thread while reading to EOF; returns result fields."""
    err = []

    def writer():
        try:
            src.send_all(sock, shutdown=shutdown and not after_eof)
        except OSError as e:
            err.append(e)

    t = threading.Thread(target=writer)
    t0 = time.monotonic()
    t.start()
    n, h = read_to_eof(sock, out)
    t.join()
    if err:
        raise err[0]
    extra = 0
    if after_eof:
        # The peer has half-closed: everything we send now travels while
        # the peer is in FIN-WAIT-2.
        more = Source(nbytes=after_eof)
        more.sha = src.sha  # one running hash over everything sent
        more.send_all(sock, shutdown=True)
        extra = more.sent
    secs = time.monotonic() - t0
    return {
        "sent": src.sent + extra,
        "sent_sha256": src.sha.hexdigest(),
        "received": n,
        "received_sha256": h,
        "after_eof": extra,
        "seconds": "%.3f" % secs,
    }


def result(fields):
    print(" ".join("%s=%s" % kv for kv in fields.items()), flush=True)


def mbs(n, secs):
    return "%.1f" % (n / 1e6 / secs) if secs > 0 else "inf"


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("client")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--send")
    p.add_argument("--send-bytes", type=int, default=0)
    p.add_argument("--out")
    p = sub.add_parser("server")
    p.add_argument("port", type=int)
    p.add_argument("--send")
    p.add_argument("--send-bytes", type=int, default=0)
    p.add_argument("--out")
    p.add_argument("--after-eof", type=int, default=0)
    p = sub.add_parser("sink")
    p.add_argument("port", type=int)
    p = sub.add_parser("source")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("nbytes", type=int)
    p = sub.add_parser("refused")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p = sub.add_parser("rst-server")
    p.add_argument("port", type=int)
    p.add_argument("nbytes", type=int)
    p = sub.add_parser("hold")
    p.add_argument("--listen", type=int)
    p.add_argument("--connect", nargs=2)
    p.add_argument("fifo")
    a = ap.parse_args()

    try:
        if a.mode == "client":
            s = connect(a.host, a.port)
            result(exchange(s, source_from(a), a.out))
            s.close()
        elif a.mode == "server":
            ls = listen(a.port)
            s, peer = ls.accept()
            ls.close()
            result(exchange(s, source_from(a), a.out, after_eof=a.after_eof))
            s.close()
        elif a.mode == "sink":
            ls = listen(a.port)
            s, peer = ls.accept()
            ls.close()
            t0 = time.monotonic()
            n = count_to_eof(s)
            secs = time.monotonic() - t0
            s.close()
            result({"received": n, "seconds": "%.3f" % secs,
                    "MBps": mbs(n, secs)})
        elif a.mode == "source":
            block = memoryview(os.urandom(CHUNK))
            t0 = time.monotonic()
            s = connect(a.host, a.port)
            left = a.nbytes
            while left > 0:
                k = min(left, CHUNK)
                s.sendall(block[:k])
                left -= k
            s.shutdown(socket.SHUT_WR)
            count_to_eof(s)
            secs = time.monotonic() - t0
            s.close()
            result({"sent": a.nbytes, "seconds": "%.3f" % secs,
                    "MBps": mbs(a.nbytes, secs)})
        elif a.mode == "refused":
            try:
                s = connect(a.host, a.port, timeout=20.0)
            except ConnectionRefusedError as e:
                result({"error": "ECONNREFUSED", "message": repr(str(e))})
                return 0
            log("connected to %s:%d, expected ECONNREFUSED" % (a.host, a.port))
            s.close()
            return 1
        elif a.mode == "rst-server":
            ls = listen(a.port)
            s, peer = ls.accept()
            ls.close()
            got = 0
            while got < a.nbytes:
                b = s.recv(min(CHUNK, a.nbytes - got))
                if not b:
                    break
                got += len(b)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
            s.close()
            result({"received": got, "closed": "rst"})
        elif a.mode == "hold":
            cmds = os.fdopen(os.open(a.fifo, os.O_RDWR), "r")
            if a.listen:
                ls = listen(a.listen)
                s, peer = ls.accept()
                ls.close()
                log("accepted %s:%d" % peer)
            else:
                s = connect(a.connect[0], int(a.connect[1]))
                log("connected from %s:%d" % s.getsockname())
            for line in cmds:
                w = line.split()
                if not w:
                    continue
                if w[0] == "close":
                    s.close()
                elif w[0] == "shutdown":
                    s.shutdown(socket.SHUT_WR)
                elif w[0] == "write":
                    # the rest of the line, with \r, \n escapes
                    text = line.rstrip("\n").split(" ", 1)[1]
                    s.sendall(text.encode().decode("unicode_escape").encode())
                elif w[0] == "send":
                    s.sendall(b"x" * int(w[1]))
                elif w[0] == "read":
                    n, h = read_to_eof(s)
                    log("read %d bytes to EOF" % n)
                elif w[0] == "exit":
                    log("done exit")
                    break
                log("done " + line.strip())
            result({"done": 1})
    except (ConnectionRefusedError, ConnectionResetError, BrokenPipeError,
            socket.timeout, OSError) as e:
        log("%s: %s" % (type(e).__name__, e))
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
