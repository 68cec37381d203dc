#!/usr/bin/env python3
"""Linux-to-Linux connections for interop case 11 (synack diagram), and the
check of synack diagram's inferred states against `ss -tan`.

  diagram_peers.py run NS_A NS_B SAMPLES.json CASE:IP_A:IP_B:PORT...
      One process drives both ends: it enters each namespace (setns) to
      make that end's sockets, so every step happens in a known order. At
      chosen points both ends pause (nothing in flight after SETTLE
      seconds), the time is taken (CLOCK_REALTIME, as tcpdump's) and
      `ss -tan` runs in both namespaces; the connection's socket by its
      4-tuple gives each end's state (no socket: CLOSED).
      Cases: close-client, close-server, half-close, rst-abort, refused,
      lossy (a transfer and a normal close, meant for a path through
      `synack bridge --loss`).

  diagram_peers.py check SYNACK SAMPLES.json CAPTURE...
      For each capture, `SYNACK diagram CAPTURE --json`; for every sample
      and each end, the inferred state at the sample's time must be the
      state ss showed. Prints the table of every comparison; exit 1 if any
      differs.
"""
import ctypes
import json
import os
import socket
import struct
import subprocess
import sys
import time

CLONE_NEWNET = 0x40000000
SS_NAMES = {
    "ESTAB": "ESTABLISHED", "SYN-SENT": "SYN-SENT", "SYN-RECV": "SYN-RECEIVED",
    "FIN-WAIT-1": "FIN-WAIT-1", "FIN-WAIT-2": "FIN-WAIT-2",
    "CLOSE-WAIT": "CLOSE-WAIT", "LAST-ACK": "LAST-ACK", "CLOSING": "CLOSING",
    "TIME-WAIT": "TIME-WAIT", "LISTEN": "LISTEN", "CLOSED": "CLOSED",
}

libc = ctypes.CDLL(None, use_errno=True)
ORIG_NS = os.open("/proc/self/ns/net", os.O_RDONLY)


def setns(fd):
    if libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "setns: " + os.strerror(e))


class Netns:
    def __init__(self, name):
        self.name = name
        self.fd = os.open("/run/netns/" + name, os.O_RDONLY)

    def socket(self):
        setns(self.fd)
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        finally:
            setns(ORIG_NS)
        s.settimeout(60)
        return s

    def ss(self):
        out = subprocess.run(["ip", "netns", "exec", self.name, "ss", "-tan"],
                             capture_output=True, text=True, check=True).stdout
        return out


def ss_state(text, local, peer):
    for line in text.splitlines()[1:]:
        f = line.split()
        if len(f) >= 5 and f[3] == local and f[4] == peer:
            return f[0]
    return "CLOSED"


class Runner:
    def __init__(self, nsa, nsb, settle):
        self.a, self.b = Netns(nsa), Netns(nsb)
        self.samples = []
        self.settle = settle

    def sample(self, case, point, cli, srv, settled=None):
        time.sleep(self.settle)
        c = "%s:%d" % cli
        s = "%s:%d" % srv
        if settled:
            # through loss: wait until the ends are where this point is
            # meant to be (a lost FIN is retransmitted after an RTO)
            end = time.time() + 30
            while time.time() < end:
                got = (ss_state(self.a.ss(), c, s), ss_state(self.b.ss(), s, c))
                if got == settled:
                    break
                time.sleep(0.2)
            time.sleep(self.settle)
        t = time.time_ns()
        sa, sb = self.a.ss(), self.b.ss()
        t_end = time.time_ns()
        rec = {"case": case, "point": point, "t": t, "t_end": t_end,
               "client": c, "server": s,
               "ss_client": ss_state(sa, c, s), "ss_server": ss_state(sb, s, c)}
        self.samples.append(rec)
        print("sample %-13s %-26s client %-11s server %s" %
              (case, point, rec["ss_client"], rec["ss_server"]), flush=True)

    def pair(self, ipa, ipb, port):
        ls = self.b.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((ipb, port))
        ls.listen(4)
        c = self.a.socket()
        c.bind((ipa, 0))
        c.connect((ipb, port))
        s, _ = ls.accept()
        s.settimeout(60)
        return ls, c, s, c.getsockname(), (ipb, port)


def recv_exact(s, n):
    got = 0
    while got < n:
        d = s.recv(min(65536, n - got))
        if not d:
            raise RuntimeError("EOF after %d of %d bytes" % (got, n))
        got += len(d)


def recv_eof(s):
    n = 0
    while True:
        d = s.recv(65536)
        if not d:
            return n
        n += len(d)


def case_close_client(r, ipa, ipb, port):
    ls, c, s, cli, srv = r.pair(ipa, ipb, port)
    c.sendall(b"x" * 1000)
    recv_exact(s, 1000)
    r.sample("close-client", "established", cli, srv)
    c.close()
    r.sample("close-client", "client closed", cli, srv)
    s.close()
    r.sample("close-client", "server closed", cli, srv)
    ls.close()


def case_close_server(r, ipa, ipb, port):
    ls, c, s, cli, srv = r.pair(ipa, ipb, port)
    s.sendall(b"y" * 3000)
    recv_exact(c, 3000)
    r.sample("close-server", "established", cli, srv)
    s.close()
    r.sample("close-server", "server closed", cli, srv)
    if recv_eof(c) != 0:
        raise RuntimeError("data after the server's FIN")
    c.close()
    r.sample("close-server", "client closed", cli, srv)
    ls.close()


def case_half_close(r, ipa, ipb, port):
    ls, c, s, cli, srv = r.pair(ipa, ipb, port)
    c.sendall(b"q" * 2000)
    c.shutdown(socket.SHUT_WR)
    if recv_eof(s) != 2000:
        raise RuntimeError("the server did not read 2000 bytes to EOF")
    r.sample("half-close", "client shut down", cli, srv)
    s.sendall(b"r" * 20000)  # data after the client's FIN
    recv_exact(c, 20000)
    r.sample("half-close", "data after the FIN", cli, srv)
    s.close()
    if recv_eof(c) != 0:
        raise RuntimeError("more data than sent")
    r.sample("half-close", "server closed", cli, srv)
    c.close()
    ls.close()


def case_rst_abort(r, ipa, ipb, port):
    ls, c, s, cli, srv = r.pair(ipa, ipb, port)
    c.sendall(b"z" * 5000)
    recv_exact(s, 5000)
    r.sample("rst-abort", "established", cli, srv)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()  # RST, not FIN
    r.sample("rst-abort", "server aborted", cli, srv)
    try:
        c.recv(10)
    except ConnectionResetError:
        pass
    c.close()
    ls.close()


def case_refused(r, ipa, ipb, port):
    c = r.a.socket()
    c.bind((ipa, 0))
    cli = c.getsockname()
    try:
        c.connect((ipb, port))
        raise RuntimeError("connect to a closed port succeeded")
    except ConnectionRefusedError:
        pass
    r.sample("refused", "connect refused", cli, (ipb, port))
    c.close()


def case_lossy(r, ipa, ipb, port):
    ls, c, s, cli, srv = r.pair(ipa, ipb, port)
    n = 300000
    c.sendall(b"L" * n)
    recv_exact(s, n)
    r.sample("lossy", "transfer done", cli, srv, ("ESTAB", "ESTAB"))
    c.close()
    r.sample("lossy", "client closed", cli, srv, ("FIN-WAIT-2", "CLOSE-WAIT"))
    if recv_eof(s) != 0:
        raise RuntimeError("data after the client's FIN")
    s.close()
    r.sample("lossy", "server closed", cli, srv, ("TIME-WAIT", "CLOSED"))
    ls.close()


CASES = {"close-client": case_close_client, "close-server": case_close_server,
         "half-close": case_half_close, "rst-abort": case_rst_abort,
         "refused": case_refused, "lossy": case_lossy}


def run(argv):
    nsa, nsb, out = argv[0], argv[1], argv[2]
    settle = float(os.environ.get("DIAGRAM_SETTLE", "0.3"))
    r = Runner(nsa, nsb, settle)
    for spec in argv[3:]:
        name, ipa, ipb, port = spec.split(":")
        if name == "lossy":
            r.settle = float(os.environ.get("DIAGRAM_SETTLE_LOSSY", "0.5"))
        CASES[name](r, ipa, ipb, int(port))
        r.settle = settle
    with open(out, "w") as f:
        json.dump(r.samples, f)


def state_at(conn, side, t):
    st = conn["final"][side]["initial"]
    for ch in conn["changes"]:
        if ch["side"] == side and float(ch["t"]) <= t:
            st = ch["to"]
    return st


def check(argv):
    synack, samples_file, caps = argv[0], argv[1], argv[2:]
    samples = json.load(open(samples_file))
    rows = []
    bad = 0
    for cap in caps:
        p = subprocess.run([synack, "diagram", cap, "--json"],
                           capture_output=True, text=True)
        if p.returncode != 0:
            print("FAIL: synack diagram %s exited %d: %s" %
                  (cap, p.returncode, p.stderr))
            return 1
        js = json.loads(p.stdout)
        conns = js["connections"]
        for smp in samples:
            match = [c for c in conns if
                     {c["a"], c["b"]} == {smp["client"], smp["server"]}]
            t = smp["t"] / 1e9
            for end in ("client", "server"):
                want = SS_NAMES.get(smp["ss_" + end], "?" + smp["ss_" + end])
                if not match:
                    got = "(no connection)"
                else:
                    # the newest connection of the 4-tuple that had begun
                    cs = [c for c in match if float(c["first"]) <= t] or match
                    c = cs[-1]
                    side = "A" if c["a"] == smp[end] else "B"
                    got = state_at(c, side, t) or "?"
                ok = got == want
                bad += 0 if ok else 1
                rows.append((smp["case"], smp["point"], os.path.basename(cap),
                             end, smp["ss_" + end], got, "ok" if ok else "DIFFERS"))
        print("%s: %s, %d packets, %d connections" %
              (os.path.basename(cap), js["linktype"], js["packets"], len(conns)))
    print()
    hdr = ("CASE", "POINT", "CAPTURE", "END", "ss -tan", "synack diagram", "")
    w = [max(len(str(x[i])) for x in rows + [hdr]) for i in range(6)]
    fmt = "  ".join("%%-%ds" % n for n in w) + "  %s"
    print(fmt % hdr)
    for row in rows:
        print(fmt % row)
    print()
    print("%d comparisons, %d differ" % (len(rows), bad))
    return 1 if bad or not rows else 0


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in ("run", "check"):
        print(__doc__)
        sys.exit(2)
    if sys.argv[1] == "run":
        run(sys.argv[2:])
    else:
        sys.exit(check(sys.argv[2:]))
