/*
 * synack echo | discard | http | listen | connect: one synack stack on a
 * Linux TAP device, driven by the real-time loop.
 *
 * Wiring:   stack -> [pcap] -> TAP                        (no impairment)
 *           stack -> [pcap] -> link port A ~ port B <-> TAP (impairments)
 * With an impairment option the stack sits on port A of an in-memory link
 * whose port B is bridged to the TAP, so the impairments apply to frames in
 * both directions; --pcap records at the device the stack is attached to,
 * i.e. what synack itself sent and received.
 *
 * The applications are small non-blocking state machines (struct
 * live_app) run after every turn of the loop. Every connection is looked
 * at on every turn (readiness is level-triggered that way; the event
 * callback only tells the loop to run the applications once more). The
 * control socket (tools/ctl.h) is served from the same loop, so `synack ss`
 * and `synack sysctl` see this process.
 *
 * SIGINT/SIGTERM: every connection is closed gracefully (FIN), the loop
 * keeps running until only TIME-WAIT connections are left or 2 s pass,
 * then the control socket is removed and the process exits 0. A second
 * signal exits at once.
 */
#define _GNU_SOURCE /* F_SETPIPE_SZ */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <synack/dev.h>
#include <synack/synack.h>

#include "ctl.h"
#include "http.h"
#include "live.h"
#include "live_trace.h"
#include "opts.h"
#include "tool.h"

#define CHUNK 65536
/* stdin read per wake-up: from a file, a bulk sender then queues 1 MiB at
 * a time (16 full GSO packets with --offload) instead of one 64 KiB packet
 * and its odd tail per wake-up */
#define STDIN_CHUNK (1024 * 1024)
#define STOP_GRACE (2 * SYNACK_SEC)  /* after SIGINT/SIGTERM */
#define DONE_GRACE (10 * SYNACK_SEC) /* listen/connect: FIN handshake */
#define WAIT_IDLE (100 * SYNACK_MSEC)
#define WAIT_SOON (5 * SYNACK_MSEC)

enum cmd { CMD_ECHO, CMD_DISCARD, CMD_HTTP, CMD_LISTEN, CMD_CONNECT };

static volatile sig_atomic_t live_signals;
static unsigned long live_events; /* event callbacks seen */

static void on_signal(int sig)
{
    (void)sig;
    if (live_signals < 100)
        live_signals++;
}

static void on_event(void *ctx, int s, unsigned events)
{
    (void)ctx;
    (void)s;
    (void)events;
    live_events++;
}

static int fail_err(const char *prog, const char *what, int rc)
{
    fprintf(stderr, "%s: %s: %s (%s)\n", prog, what, synack_strerror(rc),
            synack_errname(rc));
    return -1;
}

const char *live_fmt_rate(uint64_t bytes, synack_time_t ns, char *buf,
                          size_t len)
{
    if (ns == 0)
        ns = 1;
    double mbit = (double)bytes * 8.0 * 1e3 / (double)ns; /* bits/ns*1e3 */
    snprintf(buf, len, "%.1f Mbit/s", mbit);
    return buf;
}

int live_accept(struct live *lv, synack_addr *peer, synack_time_t now)
{
    (void)now;
    if (lv->listener < 0)
        return -1;
    int h = synack_accept(lv->st, lv->listener, peer);
    if (h >= 0)
        return h;
    if (h != -SYNACK_EAGAIN) {
        static int reported;
        if (!reported++)
            fprintf(stderr, "%s: accept: %s\n", lv->prog,
                    synack_strerror(h));
    }
    return -1;
}

/* Only TIME-WAIT connections (or none) left: nothing of ours in flight. */
static int live_quiet(synack_stack *st)
{
    size_t n = synack_stack_conn_count(st);
    if (n == 0)
        return 1;
    synack_conn_info *ci = calloc(n, sizeof *ci);
    if (!ci)
        return 0;
    size_t total = synack_conn_list(st, ci, n);
    int quiet = total <= n;
    for (size_t i = 0; quiet && i < total; i++)
        if (ci[i].state != SYNACK_TIME_WAIT && ci[i].state != SYNACK_CLOSED)
            quiet = 0;
    free(ci);
    return quiet;
}

/* No frame still on its way through the impaired link (NULL ports: no
 * link): exiting earlier would lose, say, the last ACK of a close. */
static int link_idle(const synack_dev *pa, const synack_dev *pb)
{
    return (!pa || synack_dev_next_deadline(pa) == SYNACK_TIME_NEVER) &&
           (!pb || synack_dev_next_deadline(pb) == SYNACK_TIME_NEVER);
}

/* ==== echo and discard ===================================================== */

struct sconn {
    int h;
    synack_addr peer;
    uint8_t *pend; /* echo: bytes received but not yet sent back */
    size_t pend_off, pend_len;
    int eof;
    uint64_t bytes;
    synack_time_t start;
};

struct server {
    int discard;
    struct sconn *c;
    size_t n, cap;
    uint8_t buf[CHUNK];
};

static void sconn_drop(struct server *sv, size_t i)
{
    free(sv->c[i].pend);
    sv->c[i] = sv->c[--sv->n];
}

/* Step one echo connection; 1 when it is finished (handle closed). */
static int echo_conn(struct server *sv, struct live *lv, struct sconn *c,
                     synack_time_t now)
{
    char pa[32];
    ssize_t n;
    for (int budget = 64; budget > 0; budget--) {
        if (c->pend_len) {
            n = synack_send(lv->st, c->h, c->pend + c->pend_off,
                                    c->pend_len, now);
            if (n == -SYNACK_EAGAIN)
                return 0; /* backpressure: wait for room */
            if (n < 0)
                goto err_send;
            c->pend_off += (size_t)n;
            c->pend_len -= (size_t)n;
            if (c->pend_len)
                return 0;
            c->pend_off = 0;
        }
        if (c->eof) {
            synack_close(lv->st, c->h, now);
            return 1;
        }
        n = synack_recv(lv->st, c->h, sv->buf, sizeof sv->buf, now);
        if (n == -SYNACK_EAGAIN)
            return 0;
        if (n < 0) {
            fprintf(stderr, "%s: %s: %s (%s)\n", lv->prog,
                    synack_addr_str(&c->peer, pa, sizeof pa),
                    synack_strerror((int)n), synack_errname((int)n));
            synack_close(lv->st, c->h, now);
            return 1;
        }
        if (n == 0) {
            c->eof = 1;
            continue;
        }
        c->bytes += (uint64_t)n;
        ssize_t s = synack_send(lv->st, c->h, sv->buf, (size_t)n, now);
        if (s == -SYNACK_EAGAIN)
            s = 0;
        if (s < 0) {
            n = s;
            goto err_send;
        }
        if (s < n) { /* keep the rest; read no more until it is sent */
            if (!c->pend) {
                c->pend = malloc(CHUNK);
                if (!c->pend) {
                    fprintf(stderr, "%s: out of memory\n", lv->prog);
                    synack_abort(lv->st, c->h, now);
                    return 1;
                }
            }
            memcpy(c->pend, sv->buf + s, (size_t)(n - s));
            c->pend_off = 0;
            c->pend_len = (size_t)(n - s);
        }
        continue;
    err_send:
        fprintf(stderr, "%s: %s: send: %s (%s)\n", lv->prog,
                synack_addr_str(&c->peer, pa, sizeof pa),
                synack_strerror((int)n), synack_errname((int)n));
        synack_close(lv->st, c->h, now);
        return 1;
    }
    return 0;
}

static int discard_conn(struct server *sv, struct live *lv, struct sconn *c,
                        synack_time_t now)
{
    char pa[32], rate[32], sz[32];
    for (int budget = 256; budget > 0; budget--) {
        ssize_t n = synack_recv(lv->st, c->h, sv->buf, sizeof sv->buf, now);
        if (n == -SYNACK_EAGAIN)
            return 0;
        if (n > 0) {
            c->bytes += (uint64_t)n;
            continue;
        }
        synack_time_t dt = now - c->start;
        if (n == 0)
            fprintf(stderr, "%s: %s: %llu bytes (%s) in %.3f s, %s\n",
                    lv->prog, synack_addr_str(&c->peer, pa, sizeof pa),
                    (unsigned long long)c->bytes,
                    opts_fmt_size(c->bytes, sz, sizeof sz), (double)dt / 1e9,
                    live_fmt_rate(c->bytes, dt, rate, sizeof rate));
        else
            fprintf(stderr, "%s: %s: %s (%s) after %llu bytes\n", lv->prog,
                    synack_addr_str(&c->peer, pa, sizeof pa),
                    synack_strerror((int)n), synack_errname((int)n),
                    (unsigned long long)c->bytes);
        synack_close(lv->st, c->h, now);
        return 1;
    }
    return 0;
}

static void server_step(void *ctx, struct live *lv, synack_time_t now)
{
    struct server *sv = ctx;
    synack_addr peer;
    int h;
    while ((h = live_accept(lv, &peer, now)) >= 0) {
        if (sv->n == sv->cap) {
            size_t cap = sv->cap ? 2 * sv->cap : 16;
            struct sconn *c = realloc(sv->c, cap * sizeof *c);
            if (!c) {
                fprintf(stderr, "%s: out of memory\n", lv->prog);
                synack_abort(lv->st, h, now);
                continue;
            }
            sv->c = c;
            sv->cap = cap;
        }
        sv->c[sv->n++] = (struct sconn){.h = h, .peer = peer, .start = now};
    }
    for (size_t i = 0; i < sv->n;) {
        struct sconn *c = &sv->c[i];
        int gone = sv->discard ? discard_conn(sv, lv, c, now)
                               : echo_conn(sv, lv, c, now);
        if (gone)
            sconn_drop(sv, i);
        else
            i++;
    }
}

static void server_close_all(void *ctx, struct live *lv, synack_time_t now)
{
    struct server *sv = ctx;
    while (sv->n) {
        struct sconn *c = &sv->c[sv->n - 1];
        if (sv->discard) {
            char pa[32], rate[32], sz[32];
            fprintf(stderr,
                    "%s: %s: %llu bytes (%s) in %.3f s, %s (interrupted)\n",
                    lv->prog, synack_addr_str(&c->peer, pa, sizeof pa),
                    (unsigned long long)c->bytes,
                    opts_fmt_size(c->bytes, sz, sizeof sz),
                    (double)(now - c->start) / 1e9,
                    live_fmt_rate(c->bytes, now - c->start, rate,
                                  sizeof rate));
        }
        synack_close(lv->st, c->h, now);
        sconn_drop(sv, sv->n - 1);
    }
}

static void server_destroy(void *ctx)
{
    struct server *sv = ctx;
    for (size_t i = 0; i < sv->n; i++)
        free(sv->c[i].pend);
    free(sv->c);
    free(sv);
}

/* ==== listen and connect: stdin to the peer, the peer to stdout ============ */

struct term {
    int active;  /* connect: 1 once connect() was called */
    int h;       /* the connection, -1 before accept */
    int connected, failed, closed;
    synack_addr peer;
    /* stdin: polled through poll_fd, a dup of 0 or of idle[0] (a pipe
     * nobody writes) while we do not want to read */
    int poll_fd, idle[2], reading, in_eof, shut;
    uint8_t in[STDIN_CHUNK];
    size_t in_off, in_len;
    /* stdout */
    int out_nonblock, out_chunked, out_eof, peer_eof;
    uint8_t out[4 * CHUNK];
    size_t out_off, out_len;
    const char *prog;
};

static void term_reading(struct term *t, int on)
{
    if (t->poll_fd < 0 || t->reading == on)
        return;
    if (dup2(on ? 0 : t->idle[0], t->poll_fd) < 0) {
        fprintf(stderr, "%s: dup2: %s\n", t->prog, strerror(errno));
        return;
    }
    t->reading = on;
}

static void on_stdin(void *ctx, int fd, synack_time_t now)
{
    (void)fd;
    (void)now;
    struct term *t = ctx;
    if (!t->reading || t->in_eof)
        return;
    if (t->in_off && t->in_len == 0)
        t->in_off = 0;
    size_t room = sizeof t->in - t->in_off - t->in_len;
    if (room == 0) {
        term_reading(t, 0);
        return;
    }
    ssize_t n = read(0, t->in + t->in_off + t->in_len, room);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return;
        fprintf(stderr, "%s: stdin: %s\n", t->prog, strerror(errno));
        n = 0;
    }
    if (n == 0) {
        t->in_eof = 1;
        term_reading(t, 0);
        return;
    }
    t->in_len += (size_t)n;
    if (t->in_off + t->in_len == sizeof t->in)
        term_reading(t, 0);
}

/* Write what we can to stdout without blocking. 0 (maybe some left), -1 on
 * an error (message printed). */
static int term_flush(struct term *t)
{
    while (t->out_len) {
        if (!t->out_nonblock) {
            struct pollfd p = {.fd = 1, .events = POLLOUT};
            int r = poll(&p, 1, 0);
            if (r < 0 && errno != EINTR)
                return -1;
            if (r <= 0)
                return 0;
            if ((p.revents & POLLOUT) == 0 && !(p.revents & POLLERR))
                return 0;
        }
        size_t len = t->out_len;
        /* a blocking pipe or socket with room takes PIPE_BUF at once */
        if (!t->out_nonblock && t->out_chunked && len > PIPE_BUF)
            len = PIPE_BUF;
        ssize_t n = write(1, t->out + t->out_off, len);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return 0;
            fprintf(stderr, "%s: stdout: %s\n", t->prog, strerror(errno));
            return -1;
        }
        t->out_off += (size_t)n;
        t->out_len -= (size_t)n;
    }
    t->out_off = 0;
    return 0;
}

static void term_fail(struct term *t, struct live *lv, int err,
                      synack_time_t now)
{
    char pa[32];
    fprintf(stderr, "%s: %s: %s (%s)\n", lv->prog,
            synack_addr_str(&t->peer, pa, sizeof pa), synack_strerror(err),
            synack_errname(err));
    if (t->h >= 0)
        synack_close(lv->st, t->h, now);
    t->h = -1;
    t->failed = 1;
    term_reading(t, 0);
    lv->done = 1;
    lv->rc = TOOL_FAIL;
}

static void term_step(void *ctx, struct live *lv, synack_time_t now)
{
    struct term *t = ctx;
    char pa[32], la[32];
    if (t->failed || t->closed)
        return;
    if (!t->connected) {
        if (lv->listener >= 0) {
            t->h = live_accept(lv, &t->peer, now);
            if (t->h < 0)
                return;
            synack_close(lv->st, lv->listener, now); /* exactly one */
            lv->listener = -1;
        } else {
            unsigned ev = synack_poll(lv->st, t->h);
            if (ev & SYNACK_POLLERR) {
                int err = 0;
                size_t len = sizeof err;
                synack_getsockopt(lv->st, t->h, SYNACK_SO_ERROR, &err, &len);
                term_fail(t, lv, err ? err : SYNACK_ECONNREFUSED, now);
                return;
            }
            if (!(ev & SYNACK_POLLOUT))
                return;
        }
        t->connected = 1;
        synack_addr local = {0, 0};
        synack_getsockname(lv->st, t->h, &local);
        fprintf(stderr, "%s: connected: %s <-> %s (%s)\n", lv->prog,
                synack_addr_str(&local, la, sizeof la),
                synack_addr_str(&t->peer, pa, sizeof pa), lv->ifname);
        if (!t->in_eof)
            term_reading(t, 1);
    }

    /* stdin -> peer */
    while (t->in_len) {
        ssize_t n = synack_send(lv->st, t->h, t->in + t->in_off, t->in_len,
                                now);
        if (n == -SYNACK_EAGAIN)
            break;
        if (n < 0) {
            term_fail(t, lv, (int)n, now);
            return;
        }
        t->in_off += (size_t)n;
        t->in_len -= (size_t)n;
    }
    if (t->in_len == 0)
        t->in_off = 0;
    if (!t->in_eof && t->in_off + t->in_len < sizeof t->in)
        term_reading(t, 1);
    if (t->in_eof && t->in_len == 0 && !t->shut) {
        int rc = synack_shutdown(lv->st, t->h, SYNACK_SHUT_WR, now);
        if (rc < 0 && rc != -SYNACK_ENOTCONN) {
            term_fail(t, lv, rc, now);
            return;
        }
        t->shut = 1;
    }

    /* peer -> stdout */
    for (int budget = 64; budget > 0; budget--) {
        if (term_flush(t) < 0) {
            synack_abort(lv->st, t->h, now);
            t->h = -1;
            t->failed = 1;
            term_reading(t, 0);
            lv->done = 1;
            lv->rc = TOOL_FAIL;
            return;
        }
        if (t->out_len) {
            lv->poll_soon = 1; /* stdout is full: try again soon */
            break;
        }
        if (t->peer_eof)
            break;
        ssize_t n = synack_recv(lv->st, t->h, t->out, sizeof t->out, now);
        if (n == -SYNACK_EAGAIN)
            break;
        if (n < 0) {
            term_fail(t, lv, (int)n, now);
            return;
        }
        if (n == 0)
            t->peer_eof = 1;
        t->out_off = 0;
        t->out_len = (size_t)n;
    }

    if (t->peer_eof && t->out_len == 0 && t->shut) {
        synack_close(lv->st, t->h, now);
        t->h = -1;
        t->closed = 1;
        lv->done = 1;
        lv->rc = TOOL_OK;
    }
}

static void term_close_all(void *ctx, struct live *lv, synack_time_t now)
{
    struct term *t = ctx;
    if (t->h >= 0)
        synack_close(lv->st, t->h, now);
    t->h = -1;
    term_reading(t, 0);
}

static void term_destroy(void *ctx)
{
    struct term *t = ctx;
    if (t->poll_fd >= 0)
        close(t->poll_fd);
    if (t->idle[0] >= 0) {
        close(t->idle[0]);
        close(t->idle[1]);
    }
    free(t);
}

static struct term *term_new(const char *prog)
{
    struct term *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->prog = prog;
    t->h = -1;
    t->poll_fd = -1;
    t->idle[0] = t->idle[1] = -1;
    int fl = fcntl(1, F_GETFL);
    t->out_nonblock = fl >= 0 && (fl & O_NONBLOCK);
    struct stat sb;
    t->out_chunked =
        fstat(1, &sb) == 0 && (S_ISFIFO(sb.st_mode) || S_ISSOCK(sb.st_mode));
    if (fcntl(0, F_GETFD) < 0) { /* stdin closed: nothing to send */
        t->in_eof = 1;
        return t;
    }
#ifdef F_SETPIPE_SZ
    /* a pipe on stdin: let it hold a whole read (best effort) */
    if (fstat(0, &sb) == 0 && S_ISFIFO(sb.st_mode))
        (void)fcntl(0, F_SETPIPE_SZ, STDIN_CHUNK);
#endif
    if (pipe(t->idle) < 0) {
        t->idle[0] = t->idle[1] = -1;
        free(t);
        return NULL;
    }
    t->poll_fd = dup(t->idle[0]);
    if (t->poll_fd < 0) {
        term_destroy(t);
        return NULL;
    }
    return t;
}

/* ==== command line ========================================================= */

struct args {
    enum cmd cmd;
    const char *tap;
    uint32_t ip, host_ip, gateway;
    uint8_t prefix, host_prefix;
    uint8_t mac[6];
    int have_ip, have_host_ip, have_mac, have_seed;
    uint16_t port;
    int have_port;
    int wait_closed; /* listen/connect: stay until TIME-WAIT is over */
    int ladder;      /* --ladder: the ladder diagram of the connections */
    const char *ladder_file; /* --ladder-file F: to F (else stderr) */
    int stats;       /* --stats: counters on stderr at exit */
    int offload;     /* --offload: IFF_VNET_HDR, checksum/TSO offloads */
    const char *root;
    uint32_t peer_ip;
    struct tool_opts o;
};

static const struct {
    const char *name;
    int port;
    const char *summary;
} cmds[] = {
    [CMD_ECHO] = {"echo", 7,
                  "Echo server: sends back everything each connection "
                  "sends; closes a\nconnection when its peer has "
                  "half-closed and the echo is sent."},
    [CMD_DISCARD] = {"discard", 9,
                     "Discard server (a bulk sink): reads and drops; prints "
                     "each connection's\nbyte count and rate on stderr when "
                     "it ends."},
    [CMD_HTTP] = {"http", 80,
                  "HTTP/1.1 file server: GET and HEAD of the files under "
                  "--root, keep-alive\nand pipelining; one log line per "
                  "request on stderr."},
    [CMD_LISTEN] = {"listen", 0,
                    "Like nc -l: accepts one connection on PORT, copies "
                    "stdin to the peer and\nthe peer to stdout; EOF on "
                    "stdin half-closes. Status lines go to stderr."},
    [CMD_CONNECT] = {"connect", 0,
                     "Like nc: connects to HOST:PORT (an IPv4 address), "
                     "copies stdin to the peer\nand the peer to stdout; EOF "
                     "on stdin half-closes (shutdown SHUT_WR)."},
};

static void usage(FILE *out, enum cmd c)
{
    const char *n = cmds[c].name;
    const char *common = "--tap IF --ip A.B.C.D/N [OPTIONS]";
    switch (c) {
    case CMD_LISTEN:
        fprintf(out, "usage: synack listen %s PORT\n", common);
        break;
    case CMD_CONNECT:
        fprintf(out, "usage: synack connect %s HOST PORT\n", common);
        break;
    case CMD_HTTP:
        fprintf(out, "usage: synack http %s [--port N] [--root DIR]\n",
                common);
        break;
    default:
        fprintf(out, "usage: synack %s %s [--port N]\n", n, common);
        break;
    }
    fprintf(out, "\n%s\n", cmds[c].summary);
    fprintf(out,
            "\nsynack runs its own TCP/IPv4 stack on the TAP interface IF "
            "(created if\nneeded; needs root or CAP_NET_ADMIN). The kernel "
            "reaches it at --ip through\nthe TAP. "
            "%s"
            "SIGINT/SIGTERM close the connections cleanly.\n"
            "Exit status: 0 done, 1 failure, 2 bad usage.\n"
            "\nOptions:\n"
            "  --tap IF          the TAP interface (required)\n"
            "  --ip A.B.C.D/N    synack's own address and prefix length "
            "(required)\n"
            "  --host-ip A.B.C.D/N\n"
            "                    assign this address to the kernel's side of "
            "the TAP\n"
            "                    (the link is brought up in any case)\n"
            "  --mac XX:XX:XX:XX:XX:XX\n"
            "                    synack's MAC (default: random, locally "
            "administered)\n"
            "  --gateway A.B.C.D router for destinations outside the "
            "subnet\n"
            "  --offload         TAP offloads (IFF_VNET_HDR, TUNSETOFFLOAD "
            "checksum, TSO4,\n"
            "                    TSO6): TCP segments of up to 64 KiB both "
            "ways, cut at the\n"
            "                    MTU by the kernel\n",
            c <= CMD_HTTP ? "It prints one line on stdout when it is ready "
                            "to accept connections.\n"
                          : "");
    if (c <= CMD_HTTP)
        fprintf(out, "  --port N          TCP port to listen on (default %d)\n",
                cmds[c].port);
    if (c == CMD_HTTP)
        fprintf(out, "  --root DIR        directory served (default .)\n");
    if (c >= CMD_LISTEN)
        fprintf(out,
                "  --wait-closed     after the transfer, keep running until "
                "the connection\n"
                "                    is gone, TIME-WAIT included (default: "
                "exit once only\n"
                "                    TIME-WAIT is left); see -o "
                "tcp_timewait_len\n");
    fprintf(out,
            "  --ladder          draw the connections as the RFC ladder "
            "diagram on stderr,\n"
            "                    as `synack sim` does (synack's column, "
            "the segments both\n"
            "                    ways, state changes with their causes)\n"
            "  --ladder-file F   the same, written to F\n"
            "  --stats           at exit, print the stack's counters (and "
            "the impaired\n"
            "                    link's, with an impairment) on stderr; "
            "implied by any\n"
            "                    impairment option\n"
            "  --list-tunables   list the tunables (-o) and exit\n"
            "  -h, --help        this text\n"
            "\nImpairments (applied to frames in both directions between "
            "synack and the TAP),\ntunables and capture:\n");
    opts_print_help(out);
    fprintf(out, "\nExample:\n");
    switch (c) {
    case CMD_LISTEN:
        fprintf(out, "  synack listen --tap tap0 --ip 10.9.0.2/24 --host-ip "
                     "10.9.0.1/24 5000 > received\n");
        break;
    case CMD_CONNECT:
        fprintf(out, "  synack connect --tap tap0 --ip 10.9.0.2/24 --host-ip "
                     "10.9.0.1/24 10.9.0.1 5000 < file\n");
        break;
    case CMD_HTTP:
        fprintf(out, "  synack http --tap tap0 --ip 10.9.0.2/24 --host-ip "
                     "10.9.0.1/24 --root /srv/www &\n"
                     "  curl http://10.9.0.2/\n");
        break;
    default:
        fprintf(out, "  synack %s --tap tap0 --ip 10.9.0.2/24 --host-ip "
                     "10.9.0.1/24\n", n);
        break;
    }
}

/* "A.B.C.D/N" (with_prefix) or "A.B.C.D". 0 or -1 (message printed). */
static int parse_ip(const char *prog, const char *opt, const char *s,
                    int with_prefix, uint32_t *ip, uint8_t *prefix)
{
    char buf[32];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    int ok = n < sizeof buf;
    if (ok) {
        memcpy(buf, s, n);
        buf[n] = '\0';
        ok = synack_ip_parse(buf, ip) == 0;
    }
    if (ok && with_prefix) {
        const char *p = slash ? slash + 1 : "";
        char *end;
        long v = -1;
        if (*p >= '0' && *p <= '9' && strlen(p) <= 2)
            v = strtol(p, &end, 10);
        else
            end = (char *)p;
        ok = *p && *end == '\0' && v >= 1 && v <= 32;
        if (ok)
            *prefix = (uint8_t)v;
    } else if (ok && slash) {
        ok = 0;
    }
    if (ok && (*ip == 0 || *ip == 0xffffffffu || (*ip >> 28) == 0xe ||
               (*ip >> 24) == 127))
        ok = 0;
    if (!ok) {
        if (with_prefix)
            fprintf(stderr,
                    "%s: %s: '%s' is not an IPv4 address with a prefix "
                    "length (e.g. 10.9.0.2/24)\n",
                    prog, opt, s);
        else
            fprintf(stderr,
                    "%s: %s: '%s' is not a unicast IPv4 address (e.g. "
                    "10.9.0.1)\n",
                    prog, opt, s);
        return -1;
    }
    return 0;
}

static int parse_mac(const char *prog, const char *s, uint8_t mac[6])
{
    unsigned v[6];
    char sep[5], tail;
    int ok = sscanf(s, "%2x%c%2x%c%2x%c%2x%c%2x%c%2x%c", &v[0], &sep[0],
                    &v[1], &sep[1], &v[2], &sep[2], &v[3], &sep[3], &v[4],
                    &sep[4], &v[5], &tail) == 11 &&
             strlen(s) == 17;
    for (int i = 0; ok && i < 5; i++)
        ok = sep[i] == ':' || sep[i] == '-';
    if (ok) {
        for (int i = 0; i < 6; i++)
            mac[i] = (uint8_t)v[i];
        if (mac[0] & 1) {
            fprintf(stderr,
                    "%s: --mac: '%s' is a multicast address (the low bit of "
                    "the first byte is set)\n",
                    prog, s);
            return -1;
        }
        int zero = 1;
        for (int i = 0; i < 6; i++)
            zero &= mac[i] == 0;
        if (!zero)
            return 0;
    }
    fprintf(stderr,
            "%s: --mac: '%s' is not a unicast MAC address (e.g. "
            "02:00:00:00:00:01)\n",
            prog, s);
    return -1;
}

static int parse_port(const char *prog, const char *opt, const char *s,
                      uint16_t *port)
{
    uint64_t v = 0;
    const char *p = s;
    while (*p >= '0' && *p <= '9' && v <= 65535)
        v = v * 10 + (uint64_t)(*p++ - '0');
    if (p == s || *p || v == 0 || v > 65535) {
        fprintf(stderr, "%s: %s: '%s' is not a port number from 1 to 65535\n",
                prog, opt, s);
        return -1;
    }
    *port = (uint16_t)v;
    return 0;
}

/* 0 ok, 1 exit 0 (--help), -1 exit 2 */
static int parse_args(const char *prog, int argc, char **argv,
                      struct args *a)
{
    const char *pos[3];
    int npos = 0, dashdash = 0;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        const char *v;
        int m;
        if (!dashdash && s[0] == '-' && s[1]) {
            if (strcmp(s, "--") == 0) {
                dashdash = 1;
                continue;
            }
            if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
                usage(stdout, a->cmd);
                return 1;
            }
            if (strcmp(s, "--list-tunables") == 0) {
                opts_list_tunables(stdout);
                return 1;
            }
            int rc = opts_parse_common(prog, argc, argv, &i, &a->o);
            if (rc < 0)
                return -1;
            if (rc > 0) {
                if (strncmp(s, "--seed", 6) == 0)
                    a->have_seed = 1;
                continue;
            }
            if ((v = opts_value(prog, argc, argv, &i, "--tap", &m)) || m) {
                if (!v)
                    return -1;
                if (!*v || strlen(v) > 15 || strchr(v, '/') ||
                    strchr(v, ' ')) {
                    fprintf(stderr,
                            "%s: --tap: '%s' is not an interface name (1 "
                            "to 15 characters, no '/' or spaces)\n",
                            prog, v);
                    return -1;
                }
                a->tap = v;
                continue;
            }
            if ((v = opts_value(prog, argc, argv, &i, "--ip", &m)) || m) {
                if (!v || parse_ip(prog, "--ip", v, 1, &a->ip, &a->prefix))
                    return -1;
                a->have_ip = 1;
                continue;
            }
            if ((v = opts_value(prog, argc, argv, &i, "--host-ip", &m)) || m) {
                if (!v || parse_ip(prog, "--host-ip", v, 1, &a->host_ip,
                                   &a->host_prefix))
                    return -1;
                a->have_host_ip = 1;
                continue;
            }
            if ((v = opts_value(prog, argc, argv, &i, "--gateway", &m)) || m) {
                if (!v || parse_ip(prog, "--gateway", v, 0, &a->gateway, NULL))
                    return -1;
                continue;
            }
            if ((v = opts_value(prog, argc, argv, &i, "--mac", &m)) || m) {
                if (!v || parse_mac(prog, v, a->mac))
                    return -1;
                a->have_mac = 1;
                continue;
            }
            if (a->cmd <= CMD_HTTP &&
                ((v = opts_value(prog, argc, argv, &i, "--port", &m)) || m)) {
                if (!v || parse_port(prog, "--port", v, &a->port))
                    return -1;
                continue;
            }
            if (strcmp(s, "--stats") == 0) {
                a->stats = 1;
                continue;
            }
            if (strcmp(s, "--offload") == 0) {
                a->offload = 1;
                continue;
            }
            if (strcmp(s, "--ladder") == 0) {
                a->ladder = 1;
                continue;
            }
            if ((v = opts_value(prog, argc, argv, &i, "--ladder-file", &m)) ||
                m) {
                if (!v)
                    return -1;
                if (!*v) {
                    fprintf(stderr, "%s: --ladder-file: empty file name\n",
                            prog);
                    return -1;
                }
                a->ladder = 1;
                a->ladder_file = v;
                continue;
            }
            if (a->cmd >= CMD_LISTEN && strcmp(s, "--wait-closed") == 0) {
                a->wait_closed = 1;
                continue;
            }
            if (a->cmd == CMD_HTTP &&
                ((v = opts_value(prog, argc, argv, &i, "--root", &m)) || m)) {
                if (!v)
                    return -1;
                if (!*v) {
                    fprintf(stderr, "%s: --root: empty directory name\n",
                            prog);
                    return -1;
                }
                a->root = v;
                continue;
            }
            fprintf(stderr, "%s: unknown option '%s' (see %s --help)\n", prog,
                    s, prog);
            return -1;
        }
        if (npos == 3) {
            fprintf(stderr, "%s: unexpected argument '%s' (see %s --help)\n",
                    prog, s, prog);
            return -1;
        }
        pos[npos++] = s;
    }

    int want = a->cmd == CMD_LISTEN ? 1 : a->cmd == CMD_CONNECT ? 2 : 0;
    if (npos > want) {
        fprintf(stderr, "%s: unexpected argument '%s' (see %s --help)\n",
                prog, pos[want], prog);
        return -1;
    }
    if (!a->tap) {
        fprintf(stderr, "%s: --tap IF is required (see %s --help)\n", prog,
                prog);
        return -1;
    }
    if (!a->have_ip) {
        fprintf(stderr,
                "%s: --ip A.B.C.D/N is required: synack's own address (see "
                "%s --help)\n",
                prog, prog);
        return -1;
    }
    if (npos < want) {
        fprintf(stderr, "%s: missing %s (see %s --help)\n", prog,
                a->cmd == CMD_LISTEN ? "PORT"
                : npos == 0          ? "HOST and PORT"
                                     : "PORT",
                prog);
        return -1;
    }
    if (a->cmd == CMD_LISTEN && parse_port(prog, "PORT", pos[0], &a->port))
        return -1;
    if (a->cmd == CMD_CONNECT) {
        if (parse_ip(prog, "HOST", pos[0], 0, &a->peer_ip, NULL))
            return -1;
        if (parse_port(prog, "PORT", pos[1], &a->port))
            return -1;
    }
    if (a->have_host_ip && a->host_ip == a->ip) {
        fprintf(stderr,
                "%s: --host-ip must differ from --ip: the kernel and synack "
                "are two hosts on the link\n",
                prog);
        return -1;
    }
    uint32_t mask = a->prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> a->prefix);
    if (a->gateway &&
        ((a->gateway & mask) != (a->ip & mask) || a->gateway == a->ip)) {
        fprintf(stderr,
                "%s: --gateway must be another address inside synack's "
                "subnet (--ip)\n",
                prog);
        return -1;
    }
    if (a->have_host_ip && (a->host_ip & mask) != (a->ip & mask) &&
        !a->gateway)
        fprintf(stderr,
                "%s: warning: --host-ip is outside synack's subnet and there "
                "is no --gateway; synack cannot reach it\n",
                prog);
    return 0;
}

/* --stats: one line for the link (both directions together), one for the
 * stack with every drop counter that moved. */
static void print_stats(const char *prog, synack_stack *st,
                        const synack_link *link, const synack_dev *otap)
{
    if (otap) { /* --offload: what the offloads did */
        synack_tap_stats t;
        synack_tap_get_stats(otap, &t);
        fprintf(stderr,
                "%s: tap: rx_frames %llu rx_gso %llu rx_csum_done %llu "
                "rx_bad %llu tx_frames %llu tx_gso %llu tx_errors %llu\n",
                prog, (unsigned long long)t.rx_frames,
                (unsigned long long)t.rx_gso,
                (unsigned long long)t.rx_csum_done,
                (unsigned long long)t.rx_bad,
                (unsigned long long)t.tx_frames,
                (unsigned long long)t.tx_gso,
                (unsigned long long)t.tx_errors);
    }
    if (link)
        tool_print_link_stats(stderr, prog, link);
    synack_stack_stats s;
    synack_stack_get_stats(st, &s);
    fprintf(stderr,
            "%s: stack: frames_in %llu frames_out %llu tcp_in %llu tcp_out "
            "%llu tcp_retrans %llu tcp_rst_out %llu challenge_acks %llu "
            "syncookies_sent %llu mem_peak %llu drops:",
            prog, (unsigned long long)s.frames_in,
            (unsigned long long)s.frames_out, (unsigned long long)s.tcp_in,
            (unsigned long long)s.tcp_out, (unsigned long long)s.tcp_retrans,
            (unsigned long long)s.tcp_rst_out,
            (unsigned long long)s.tcp_challenge_acks,
            (unsigned long long)s.syncookies_sent,
            (unsigned long long)s.mem_peak);
    int any = 0;
    for (int r = 1; r < SYNACK__DROP_COUNT; r++) {
        if (!s.drops[r])
            continue;
        fprintf(stderr, " %s=%llu", synack_drop_name(r),
                (unsigned long long)s.drops[r]);
        any = 1;
    }
    fprintf(stderr, "%s\n", any ? "" : " none");
    fprintf(stderr, "%s: recovery:", prog);
    tool_print_recovery(stderr, &s);
    fputc('\n', stderr);
}

static int impaired(const struct tool_opts *o)
{
    return o->loss > 0 || o->reorder > 0 || o->dup > 0 || o->corrupt > 0 ||
           o->delay > 0 || o->jitter > 0 || o->rate_bps > 0;
}

int live_main(int argc, char **argv)
{
    struct args a;
    memset(&a, 0, sizeof a);
    a.cmd = CMD_ECHO;
    for (size_t k = 0; k < sizeof cmds / sizeof cmds[0]; k++)
        if (strcmp(argv[0], cmds[k].name) == 0)
            a.cmd = (enum cmd)k;
    char prog[32];
    snprintf(prog, sizeof prog, "synack %s", cmds[a.cmd].name);
    a.port = (uint16_t)cmds[a.cmd].port;
    a.root = ".";
    opts_init(&a.o, 0);

    int code = TOOL_USAGE;
    synack_stack *st = NULL;
    synack_rtloop *loop = NULL;
    synack_link *link = NULL;
    synack_dev *tap = NULL, *pa = NULL, *pb = NULL;
    const synack_dev *rawtap = NULL; /* the TAP itself, under any wrapper */
    ctl_server *ctl = NULL;
    struct live_trace *ltrace = NULL;
    FILE *ladder_out = NULL;
    struct live_app app = {0};
    struct live lv = {.prog = prog, .listener = -1};
    char err[256];

    int pr = parse_args(prog, argc, argv, &a);
    if (pr != 0) {
        code = pr > 0 ? TOOL_OK : TOOL_USAGE;
        goto out;
    }

    /* ---- the stack ---- */
    synack_stack_config cfg;
    synack_stack_config_init(&cfg);
    if (getrandom(cfg.isn_secret, sizeof cfg.isn_secret, 0) !=
        (ssize_t)sizeof cfg.isn_secret) {
        fprintf(stderr, "%s: getrandom: %s\n", prog, strerror(errno));
        code = TOOL_FAIL;
        goto out;
    }
    if (a.have_mac) {
        memcpy(cfg.mac, a.mac, 6);
    } else {
        if (getrandom(cfg.mac, 6, 0) != 6) {
            fprintf(stderr, "%s: getrandom: %s\n", prog, strerror(errno));
            code = TOOL_FAIL;
            goto out;
        }
        cfg.mac[0] = (uint8_t)((cfg.mac[0] & 0xfc) | 0x02);
    }
    if (!a.have_seed) {
        uint64_t s;
        if (getrandom(&s, sizeof s, 0) == (ssize_t)sizeof s)
            a.o.seed = s;
    }
    cfg.ip = a.ip;
    cfg.prefix_len = a.prefix;
    cfg.gateway = a.gateway;
    cfg.seed = a.o.seed;
    if (a.offload)
        cfg.gso_max = 65535; /* the kernel cuts at the TAP's MTU (1500) */
    int rc = synack_stack_new(&cfg, &st);
    if (rc < 0) {
        if (rc == -SYNACK_EINVAL)
            fprintf(stderr,
                    "%s: the stack refused the configuration (is --gateway "
                    "inside the --ip subnet?)\n",
                    prog);
        else
            fail_err(prog, "cannot create the stack", rc);
        code = rc == -SYNACK_EINVAL ? TOOL_USAGE : TOOL_FAIL;
        goto out;
    }
    if (opts_apply_tunables(prog, st, &a.o) < 0)
        goto out; /* exit 2 */
    lv.st = st;
    synack_set_event_cb(st, on_event, NULL);

    if (a.cmd == CMD_HTTP) {
        if (http_app_new(prog, a.root, &app) < 0)
            goto out; /* exit 2 */
    } else if (a.cmd == CMD_ECHO || a.cmd == CMD_DISCARD) {
        struct server *sv = calloc(1, sizeof *sv);
        if (!sv)
            goto oom;
        sv->discard = a.cmd == CMD_DISCARD;
        app = (struct live_app){sv, server_step, server_close_all,
                                server_destroy};
    } else {
        struct term *t = term_new(prog);
        if (!t)
            goto oom;
        app = (struct live_app){t, term_step, term_close_all, term_destroy};
    }

    /* ---- devices ---- */
    code = TOOL_FAIL;
    synack_tap_config tc = {.ifname = a.tap,
                            .host_ip = a.have_host_ip ? a.host_ip : 0,
                            .host_prefix = a.host_prefix,
                            .bring_up = 1,
                            .offload = a.offload};
    err[0] = '\0';
    rc = synack_tap_open(&tc, &tap, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "%s: %s\n", prog,
                err[0] ? err : synack_strerror(rc));
        goto out;
    }
    rawtap = tap;
    lv.ifname = synack_tap_name(tap);
    if (!lv.ifname)
        lv.ifname = a.tap;
    synack_dev *stackdev = tap;
    if (impaired(&a.o)) {
        synack_link_config lc;
        synack_link_config_init(&lc);
        lc.loss = a.o.loss;
        lc.reorder = a.o.reorder;
        lc.dup = a.o.dup;
        lc.corrupt = a.o.corrupt;
        lc.delay = a.o.delay;
        lc.jitter = a.o.jitter;
        lc.rate_bps = a.o.rate_bps;
        lc.seed = a.o.seed;
        if ((rc = synack_link_new(&lc, &link)) < 0 ||
            (rc = synack_link_port(link, &pa)) < 0 ||
            (rc = synack_link_port(link, &pb)) < 0) {
            fail_err(prog, "cannot create the impaired link", rc);
            goto out;
        }
        synack_bridge(pb, tap);
        stackdev = pa;
    }
    if (a.o.pcap) {
        synack_dev *w;
        rc = synack_pcap_wrap(stackdev, a.o.pcap, &w);
        if (rc < 0) {
            fprintf(stderr, "%s: --pcap %s: cannot open for writing: %s\n",
                    prog, a.o.pcap, synack_strerror(rc));
            code = TOOL_USAGE;
            goto out;
        }
        if (stackdev == tap)
            tap = w;
        else
            pa = w;
        stackdev = w;
    }
    synack_attach(st, stackdev);

    if ((rc = synack_rtloop_new(&loop)) < 0 ||
        (rc = synack_rtloop_add_stack(loop, st)) < 0 ||
        (rc = synack_rtloop_add_dev(loop, tap)) < 0 ||
        (pa && (rc = synack_rtloop_add_dev(loop, pa)) < 0) ||
        (pb && (rc = synack_rtloop_add_dev(loop, pb)) < 0)) {
        fail_err(prog, "cannot set up the loop", rc);
        goto out;
    }
    lv.loop = loop;

    err[0] = '\0';
    if (ctl_server_open(&ctl, lv.ifname, cmds[a.cmd].name, st, loop, err,
                        sizeof err) < 0) {
        fprintf(stderr, "%s: control socket: %s\n", prog,
                err[0] ? err : "cannot open");
        ctl = NULL;
        goto out;
    }
    if (a.ladder_file) {
        ladder_out = fopen(a.ladder_file, "w");
        if (!ladder_out) {
            fprintf(stderr, "%s: --ladder-file %s: %s\n", prog, a.ladder_file,
                    strerror(errno));
            code = TOOL_USAGE;
            goto out;
        }
    }
    {
        char name_a[48], ip[32];
        synack_addr me = {a.ip, 0};
        synack_addr_str(&me, ip, sizeof ip);
        ip[strcspn(ip, ":")] = '\0';
        snprintf(name_a, sizeof name_a, "synack %s", ip);
        ltrace = live_trace_new(ctl,
                                a.ladder ? (ladder_out ? ladder_out : stderr)
                                         : NULL,
                                name_a, synack_rtloop_clock());
        if (!ltrace)
            goto oom;
        /* the hook only while needed: the ladder, or trace subscribers */
        ctl_server_set_trace_hook(ctl, live_trace_hook, ltrace, a.ladder);
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: poll returns */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    /* ---- the application's socket ---- */
    synack_time_t now = synack_rtloop_clock();
    char addr[32];
    if (a.cmd != CMD_CONNECT) {
        synack_addr me = {a.ip, a.port};
        int s = synack_socket(st);
        int one = 1;
        if (s < 0) {
            fail_err(prog, "socket", s);
            goto out;
        }
        synack_setsockopt(st, s, SYNACK_SO_REUSEADDR, &one, sizeof one);
        if ((rc = synack_bind(st, s, &me)) < 0 ||
            (rc = synack_listen(st, s, a.cmd == CMD_LISTEN ? 1 : 128)) < 0) {
            synack_close(st, s, now);
            snprintf(err, sizeof err, "listen on %s",
                     synack_addr_str(&me, addr, sizeof addr));
            fail_err(prog, err, rc);
            goto out;
        }
        lv.listener = s;
        if (a.cmd == CMD_LISTEN) {
            fprintf(stderr, "%s: listening on %s (%s)\n", prog,
                    synack_addr_str(&me, addr, sizeof addr), lv.ifname);
        } else {
            if (a.cmd == CMD_HTTP)
                fprintf(stderr, "%s: serving %s\n", prog, a.root);
            printf("%s: listening on %s (%s)\n", prog,
                   synack_addr_str(&me, addr, sizeof addr), lv.ifname);
            fflush(stdout);
        }
    } else {
        struct term *t = app.ctx;
        t->peer = (synack_addr){a.peer_ip, a.port};
        int s = synack_socket(st);
        if (s < 0) {
            fail_err(prog, "socket", s);
            goto out;
        }
        t->h = s;
        rc = synack_connect(st, s, &t->peer, now);
        if (rc < 0 && rc != -SYNACK_EINPROGRESS) {
            snprintf(err, sizeof err, "connect to %s",
                     synack_addr_str(&t->peer, addr, sizeof addr));
            fail_err(prog, err, rc);
            goto out;
        }
        fprintf(stderr, "%s: connecting to %s (%s)\n", prog,
                synack_addr_str(&t->peer, addr, sizeof addr), lv.ifname);
    }
    if (a.cmd == CMD_LISTEN || a.cmd == CMD_CONNECT) {
        struct term *t = app.ctx;
        if (t->poll_fd >= 0 &&
            (rc = synack_rtloop_add_fd(loop, t->poll_fd, on_stdin, t)) < 0) {
            fail_err(prog, "cannot watch stdin", rc);
            goto out;
        }
    }

    /* ---- run ---- */
    int stopping = 0, finishing = 0;
    synack_time_t deadline = 0;
    code = TOOL_OK;
    for (;;) {
        synack_time_t wait = lv.poll_soon ? WAIT_SOON : WAIT_IDLE;
        lv.poll_soon = 0;
        rc = synack_rtloop_once(loop, wait);
        if (rc < 0) {
            fail_err(prog, "loop", rc);
            code = TOOL_FAIL;
            break;
        }
        now = synack_rtloop_clock();
        ctl_server_poll(ctl);
        if (!stopping && !lv.done) {
            for (int k = 0; k < 8; k++) {
                unsigned long before = live_events;
                app.step(app.ctx, &lv, now);
                if (live_events == before || lv.done)
                    break;
            }
        }
        if (live_signals && !stopping) {
            stopping = 1;
            fprintf(stderr, "%s: %s, closing the connections\n", prog,
                    "signal received");
            app.close_all(app.ctx, &lv, now);
            if (lv.listener >= 0)
                synack_close(st, lv.listener, now);
            lv.listener = -1;
            deadline = now + STOP_GRACE;
            code = lv.done ? lv.rc : TOOL_OK;
        }
        if (lv.done && !finishing && !stopping) {
            finishing = 1;
            code = lv.rc;
            if (lv.listener >= 0)
                synack_close(st, lv.listener, now);
            lv.listener = -1;
            deadline = a.wait_closed ? SYNACK_TIME_NEVER : now + DONE_GRACE;
        }
        if (live_signals >= 2)
            break;
        if ((stopping || finishing) && now >= deadline)
            break;
        if (stopping || (finishing && !a.wait_closed)) {
            if (live_quiet(st) && link_idle(pa, pb))
                break;
        } else if (finishing && synack_stack_conn_count(st) == 0 &&
                   link_idle(pa, pb)) {
            break;
        }
    }
    goto out;

oom:
    fprintf(stderr, "%s: out of memory\n", prog);
    code = TOOL_FAIL;
out:
    if (st && loop && (a.stats || impaired(&a.o)))
        print_stats(prog, st, link, a.offload ? rawtap : NULL);
    ctl_server_close(ctl); /* removes the trace hook */
    live_trace_free(ltrace);
    if (ladder_out)
        fclose(ladder_out);
    synack_rtloop_del(loop);
    if (app.destroy)
        app.destroy(app.ctx);
    synack_stack_del(st);
    synack_dev_destroy(pa);
    synack_dev_destroy(pb);
    synack_dev_destroy(tap);
    synack_link_del(link);
    opts_free(&a.o);
    return code;
}
