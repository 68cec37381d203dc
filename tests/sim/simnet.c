/* simnet: two stacks over the in-memory link in virtual time (simnet.h). */
#include "sim/simnet.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define A_IP 0x0a000001u /* 10.0.0.1 */
#define B_IP 0x0a000002u /* 10.0.0.2 */
#define B_PORT 5001
#define SEND_CHUNK (256u * 1024u)
#define RECV_CHUNK (64u * 1024u)
#define MAX_CONNS 16    /* connection records per stack */
#define HIST_LEN 160    /* state history kept per connection (text) */
#define LIVELOCK_STEPS 1000 /* steps in a row without time advancing */
#define READ_TICK (10 * SYNACK_MSEC) /* a rate-limited reader's period */

/* ---- pattern ------------------------------------------------------------ */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void simnet_pattern(uint64_t seed, uint64_t off, uint8_t *buf, size_t len)
{
    uint64_t key = mix64(seed + 0x243f6a8885a308d3ULL);
    size_t i = 0;
    while (i < len) {
        uint64_t word = mix64(key ^ ((off + i) >> 3) * 0x9e3779b97f4a7c15ULL);
        for (unsigned b = (unsigned)((off + i) & 7); b < 8 && i < len; b++)
            buf[i++] = (uint8_t)(word >> (b * 8));
    }
}

unsigned simnet_seed_count(unsigned dflt)
{
    const char *e = getenv("SYNACK_SIM_SEEDS");
    if (e && *e) {
        char *end;
        unsigned long v = strtoul(e, &end, 10);
        if (*end == '\0' && v > 0 && v < 1000000)
            return (unsigned)v;
    }
    return dflt;
}

/* ---- counting allocator (simnet.h) --------------------------------------- */

#define ALLOC_HDR 16 /* keeps the user pointer 16-byte aligned */

void *simnet_mem_alloc(void *ctx, size_t size)
{
    simnet_alloc *a = ctx;
    uint8_t *p = malloc(size + ALLOC_HDR);
    if (!p)
        return NULL;
    memcpy(p, &size, sizeof size);
    a->bytes += (int64_t)size;
    a->blocks++;
    return p + ALLOC_HDR;
}

void simnet_mem_release(void *ctx, void *ptr, size_t size)
{
    simnet_alloc *a = ctx;
    if (!ptr)
        return;
    uint8_t *p = (uint8_t *)ptr - ALLOC_HDR;
    size_t had;
    memcpy(&had, p, sizeof had);
    if (had != size)
        a->bad_release++;
    a->bytes -= (int64_t)had;
    a->blocks--;
    free(p);
}

/* ---- per-stack trace record ---------------------------------------------- */

typedef struct conn_rec {
    uint32_t id;
    int last;      /* last new_state seen */
    int nevents;
    int bad_edges; /* transitions failing synack_state_edge_legal */
    int bad_chain; /* old_state differing from the last state seen */
    char hist[HIST_LEN];
    int rcvbuf, sndbuf; /* learned while the connection had a handle */
} conn_rec;

typedef struct side {
    const char *name;
    synack_stack *st;
    simnet_alloc alloc;
    uint64_t mem_base;
    conn_rec conns[MAX_CONNS];
    int nconns;
    int overflow; /* more connections than MAX_CONNS */
    int verbose;  /* print every trace event to stderr */
    uint32_t edges[SYNACK__STATE_COUNT]; /* edges seen: bit `to` of [from] */
    unsigned peer_mtu;  /* the other stack's IP MTU */
    unsigned rx_mtu;    /* gso_max: our own MTU, checked on arrival */
    uint64_t oversize;  /* segments sent that exceed peer_mtu */
    unsigned oversize_len;
    char first_bad[256];
} side;

static conn_rec *rec_find(side *s, uint32_t id, int create)
{
    for (int i = 0; i < s->nconns; i++)
        if (s->conns[i].id == id)
            return &s->conns[i];
    if (!create)
        return NULL;
    if (s->nconns == MAX_CONNS) {
        s->overflow++;
        return NULL;
    }
    conn_rec *c = &s->conns[s->nconns++];
    memset(c, 0, sizeof *c);
    c->id = id;
    c->last = -1;
    return c;
}

static void hist_add(conn_rec *c, const char *text)
{
    size_t n = strlen(c->hist);
    if (n + 1 >= sizeof c->hist)
        return;
    snprintf(c->hist + n, sizeof c->hist - n, "%s", text);
}

static void print_event(const side *s, const synack_trace_event *ev)
{
    char fl[32];
    const synack_seg *g = ev->seg;
    switch (ev->kind) {
    case SYNACK_TRACE_STATE:
        fprintf(stderr, "%12.6f %s #%u %s -> %s (%s)\n", (double)ev->now / 1e9,
                s->name, ev->conn_id, synack_state_name(ev->old_state),
                synack_state_name(ev->new_state), ev->cause ? ev->cause : "");
        break;
    case SYNACK_TRACE_SEG_IN:
    case SYNACK_TRACE_SEG_OUT:
        if (!g)
            break;
        fprintf(stderr,
                "%12.6f %s #%u %s seq=%u ack=%u %s len=%u wnd=%u",
                (double)ev->now / 1e9, s->name, ev->conn_id,
                ev->kind == SYNACK_TRACE_SEG_IN ? "in " : "out", g->seq, g->ack,
                synack_flags_str(g->flags, fl, sizeof fl), g->len, g->wnd);
        if (g->has_ts)
            fprintf(stderr, " ts=%u ecr=%u", g->tsval, g->tsecr);
        fprintf(stderr, "%s\n", ev->retransmit ? " RETRANSMIT" : "");
        break;
    case SYNACK_TRACE_DROP:
        fprintf(stderr, "%12.6f %s #%u DROP %s%s\n", (double)ev->now / 1e9,
                s->name, ev->conn_id, synack_drop_name(ev->drop_reason),
                g ? "" : " (frame)");
        if (g)
            fprintf(stderr, "%12s   seq=%u ack=%u %s len=%u\n", "", g->seq,
                    g->ack, synack_flags_str(g->flags, fl, sizeof fl), g->len);
        break;
    default:
        break;
    }
}

static void on_trace(void *ctx, const synack_trace_event *ev)
{
    side *s = ctx;
    if (s->verbose)
        print_event(s, ev);
    /* With segmentation offload the link cuts what is sent: the segments
     * are checked as they arrive instead. */
    int check_out = ev->kind == SYNACK_TRACE_SEG_OUT && !s->rx_mtu;
    int check_in = ev->kind == SYNACK_TRACE_SEG_IN && s->rx_mtu;
    if ((check_out || check_in) && ev->seg && ev->seg->len) {
        /* IP + TCP headers, timestamps the only option on data segments */
        unsigned ip_len = 40 + (ev->seg->has_ts ? 12u : 0u) + ev->seg->len;
        if (ip_len > (check_out ? s->peer_mtu : s->rx_mtu)) {
            if (!s->oversize)
                s->oversize_len = ip_len;
            s->oversize++;
        }
    }
    if (ev->kind != SYNACK_TRACE_STATE)
        return;
    conn_rec *c = rec_find(s, ev->conn_id, 1);
    if (!c)
        return;
    if (c->nevents == 0)
        hist_add(c, synack_state_name(ev->old_state));
    char step[48];
    snprintf(step, sizeof step, ">%s", synack_state_name(ev->new_state));
    hist_add(c, step);
    int legal = synack_state_edge_legal(ev->old_state, ev->new_state);
    if (ev->old_state >= 0 && ev->old_state < SYNACK__STATE_COUNT &&
        ev->new_state >= 0 && ev->new_state < SYNACK__STATE_COUNT)
        s->edges[ev->old_state] |= 1u << ev->new_state;
    int chained = c->nevents == 0 || c->last == ev->old_state;
    if (!legal)
        c->bad_edges++;
    if (!chained)
        c->bad_chain++;
    if ((!legal || !chained) && !s->first_bad[0])
        snprintf(s->first_bad, sizeof s->first_bad,
                 "conn #%u %s -> %s (%s) at t=%.6fs: %s", ev->conn_id,
                 synack_state_name(ev->old_state),
                 synack_state_name(ev->new_state),
                 ev->cause ? ev->cause : "?", (double)ev->now / 1e9,
                 !legal ? "not an RFC 9293 edge"
                        : "does not continue from the last state seen");
    c->last = ev->new_state;
    c->nevents++;
}

/* ---- the run ---------------------------------------------------------------- */

/* One direction of the byte stream. */
typedef struct stream {
    uint64_t key;   /* pattern seed */
    uint64_t total; /* bytes to carry */
    uint64_t sent, rcvd;
    uint64_t sbuf_off; /* stream offset of sbuf[0] */
    uint8_t *sbuf;     /* SEND_CHUNK bytes of pattern */
    int eof, mismatch;
    synack_time_t t_eof;
} stream;

/* The application on one end. */
typedef struct endpt {
    const char *name;
    side *sd;
    int h; /* connected socket, -1 until connect/accept */
    stream *out, *in;
    int connected, shut, closed, failed;
    synack_time_t t_connected;
} endpt;

typedef struct sim {
    const simnet_params *p;
    simnet_result *r;
    char cfgstr[200];
    side a, b;
    synack_vloop *loop;
    stream ab, ba; /* A->B and B->A */
    endpt ea, eb;
    int lb;        /* B's listener */
    int lb_closed;
    uint8_t *rbuf, *ebuf;
    synack_time_t app_deadline; /* the application wants to run then */
    unsigned inv_seen; /* invariants already reported (bits) */
} sim;

static void fail(sim *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void fail(sim *s, const char *fmt, ...)
{
    simnet_result *r = s->r;
    r->ok = 0;
    r->nfail++;
    size_t n = strlen(r->msg);
    if (n + 64 >= sizeof r->msg)
        return;
    int k = snprintf(r->msg + n, sizeof r->msg - n, "[%s seed=%" PRIu64
                     " %s t=%.6fs] ",
                     s->p->label ? s->p->label : "sim", s->p->seed, s->cfgstr,
                     s->loop ? (double)synack_vloop_now(s->loop) / 1e9 : 0.0);
    if (k < 0 || (size_t)k >= sizeof r->msg - n)
        return;
    n += (size_t)k;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg + n, sizeof r->msg - n, fmt, ap);
    va_end(ap);
    n = strlen(r->msg);
    if (n + 1 < sizeof r->msg) {
        r->msg[n] = '\n';
        r->msg[n + 1] = '\0';
    }
}

char *simnet_link_str(const synack_link_config *c, char *buf, size_t len)
{
    int n = snprintf(buf, len, "loss=%g%% reorder=%g%% dup=%g%% corrupt=%g%% "
                               "delay=%.3gms jitter=%.3gms",
                     c->loss * 100, c->reorder * 100, c->dup * 100,
                     c->corrupt * 100, (double)c->delay / 1e6,
                     (double)c->jitter / 1e6);
    if (n > 0 && (size_t)n < len && c->rate_bps)
        snprintf(buf + n, len - (size_t)n, " rate=%gMbit/s queue=%u",
                 (double)c->rate_bps / 1e6, c->queue_limit);
    return buf;
}

void simnet_params_init(simnet_params *p)
{
    memset(p, 0, sizeof *p);
    synack_link_config_init(&p->link);
    p->nbytes = 1u << 20;
    p->seed = 1;
    p->vlimit = 24 * 3600 * SYNACK_SEC;
    p->check_invariants = 1;
}

static void conn_dump(sim *s, side *d, char *buf, size_t len)
{
    synack_conn_info ci[8];
    size_t n = synack_conn_list(d->st, ci, 8);
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && i < 8 && off + 1 < len; i++) {
        int k = snprintf(buf + off, len - off,
                         "%s#%u %s rq=%u sq=%u timer=%s backoff=%u", i ? "; " : "",
                         ci[i].id, synack_state_name(ci[i].state), ci[i].recv_q,
                         ci[i].send_q, synack_timer_name(ci[i].timer),
                         ci[i].backoff);
        if (k < 0)
            break;
        off += (size_t)k;
    }
    (void)s;
}

static int new_stack(sim *s, side *d, const char *name, uint32_t ip,
                     uint8_t mac_last, uint64_t seed_off)
{
    synack_stack_config c;
    synack_stack_config_init(&c);
    const uint8_t mac[6] = {0x02, 0x00, 0x5e, 0x00, 0x00, mac_last};
    memcpy(c.mac, mac, 6);
    c.ip = ip;
    c.prefix_len = 24;
    uint16_t mtu = d == &s->a ? s->p->mtu_a : s->p->mtu_b;
    if (mtu)
        c.mtu = mtu;
    if (d == &s->a || !s->p->gso_a_only)
        c.gso_max = s->p->gso_max;
    c.seed = mix64(s->p->seed * 2 + seed_off);
    for (int i = 0; i < 16; i += 8) {
        uint64_t k = mix64(s->p->seed ^ (0x5ec7e7ULL << 8) ^ (seed_off << 40) ^
                           (uint64_t)i);
        memcpy(c.isn_secret + i, &k, 8);
    }
    c.mem_alloc = simnet_mem_alloc;
    c.mem_release = simnet_mem_release;
    c.mem_ctx = &d->alloc;
    d->name = name;
    d->verbose = s->p->verbose;
    int rc = synack_stack_new(&c, &d->st);
    if (rc < 0) {
        fail(s, "synack_stack_new(%s) = %s", name, synack_errname(rc));
        return rc;
    }
    synack_stack_stats st;
    synack_stack_get_stats(d->st, &st);
    d->mem_base = st.mem_used;
    synack_set_trace(d->st, on_trace, d);
    for (const char *const *o = s->p->sysctls; o && *o; o++) {
        char nm[96];
        const char *eq = strchr(*o, '=');
        if (!eq || (size_t)(eq - *o) >= sizeof nm) {
            fail(s, "bad sysctl spec \"%s\"", *o);
            return -SYNACK_EINVAL;
        }
        memcpy(nm, *o, (size_t)(eq - *o));
        nm[eq - *o] = '\0';
        rc = synack_sysctl_set(d->st, nm, eq + 1);
        if (rc < 0) {
            fail(s, "sysctl %s on %s: %s", *o, name, synack_errname(rc));
            return rc;
        }
    }
    return 0;
}

static void set_bufs(sim *s, synack_stack *st, int h)
{
    if (s->p->rcvbuf)
        synack_setsockopt(st, h, SYNACK_SO_RCVBUF, &s->p->rcvbuf,
                          sizeof s->p->rcvbuf);
    if (s->p->sndbuf)
        synack_setsockopt(st, h, SYNACK_SO_SNDBUF, &s->p->sndbuf,
                          sizeof s->p->sndbuf);
}

static void ep_fail_close(endpt *e, synack_time_t now)
{
    e->failed = 1;
    if (!e->closed && e->h >= 0) {
        synack_close(e->sd->st, e->h, now);
        e->closed = 1;
    }
}

/* Queue as much of e's outgoing stream as the socket takes. */
static void pump_send(sim *s, endpt *e, synack_time_t now)
{
    stream *o = e->out;
    while (o->sent < o->total) {
        if (o->sent == o->sbuf_off + SEND_CHUNK) {
            o->sbuf_off = o->sent;
            simnet_pattern(o->key, o->sbuf_off, o->sbuf, SEND_CHUNK);
        }
        uint64_t want = o->sbuf_off + SEND_CHUNK - o->sent;
        if (want > o->total - o->sent)
            want = o->total - o->sent;
        ssize_t n = synack_send(e->sd->st, e->h, o->sbuf + (o->sent - o->sbuf_off),
                                (size_t)want, now);
        if (n > 0) {
            if ((uint64_t)n > want)
                fail(s, "%s send returned %zd for %" PRIu64 " bytes", e->name, n,
                     want);
            o->sent += (uint64_t)n;
            continue;
        }
        if (n == -SYNACK_EAGAIN)
            return;
        fail(s, "%s send at offset %" PRIu64 " = %s", e->name, o->sent,
             n == 0 ? "0" : synack_errname((int)n));
        ep_fail_close(e, now);
        return;
    }
}

/* Read (at most budget bytes) and verify e's incoming stream. */
static void pump_recv(sim *s, endpt *e, uint64_t budget, synack_time_t now)
{
    stream *in = e->in;
    while (!in->eof && !e->failed && budget > 0) {
        size_t want = budget < RECV_CHUNK ? (size_t)budget : RECV_CHUNK;
        ssize_t n = synack_recv(e->sd->st, e->h, s->rbuf, want, now);
        if (n > 0) {
            if ((size_t)n > want)
                fail(s, "%s recv returned %zd for %zu bytes", e->name, n, want);
            if (in->rcvd + (uint64_t)n > in->total) {
                if (!in->mismatch)
                    fail(s, "%s received %" PRIu64 " bytes, more than the %" PRIu64
                            " sent",
                         e->name, in->rcvd + (uint64_t)n, in->total);
                in->mismatch = 1;
            } else if (!in->mismatch) {
                simnet_pattern(in->key, in->rcvd, s->ebuf, (size_t)n);
                if (memcmp(s->rbuf, s->ebuf, (size_t)n) != 0) {
                    size_t i = 0;
                    while (s->rbuf[i] == s->ebuf[i])
                        i++;
                    fail(s, "%s: data differs at stream offset %" PRIu64
                            ": got 0x%02x, expected 0x%02x",
                         e->name, in->rcvd + i, s->rbuf[i], s->ebuf[i]);
                    in->mismatch = 1;
                }
            }
            in->rcvd += (uint64_t)n;
            budget -= (uint64_t)n;
            continue;
        }
        if (n == 0) {
            in->eof = 1;
            in->t_eof = now;
        } else if (n != -SYNACK_EAGAIN) {
            fail(s, "%s recv at offset %" PRIu64 " = %s", e->name, in->rcvd,
                 synack_errname((int)n));
            ep_fail_close(e, now);
        }
        return;
    }
}

/* Sending done: close (one-way transfer) or shut down for writing. Done
 * reading too (or not reading): close. */
static void ep_progress(sim *s, endpt *e, int reads, synack_time_t now)
{
    if (e->closed || !e->connected)
        return;
    int out_done = e->out->sent == e->out->total;
    if (s->p->bidir && out_done && !e->shut) {
        int rc = synack_shutdown(e->sd->st, e->h, SYNACK_SHUT_WR, now);
        if (rc < 0) {
            fail(s, "%s shutdown(SHUT_WR) = %s", e->name, synack_errname(rc));
            ep_fail_close(e, now);
            return;
        }
        e->shut = 1;
    }
    int in_done = !reads || e->in->eof;
    if (out_done && in_done) {
        int rc = synack_close(e->sd->st, e->h, now);
        if (rc < 0)
            fail(s, "%s close = %s", e->name, synack_errname(rc));
        e->closed = 1;
    }
}

/* The application on both ends, run after every loop step. */
static void app(sim *s)
{
    synack_time_t now = synack_vloop_now(s->loop);
    endpt *A = &s->ea, *B = &s->eb;
    s->app_deadline = SYNACK_TIME_NEVER;

    /* B: accept once, then close the listener. */
    if (B->h < 0 && !s->lb_closed) {
        synack_addr peer;
        int h = synack_accept(B->sd->st, s->lb, &peer);
        if (h >= 0) {
            B->h = h;
            B->connected = 1;
            B->t_connected = now;
            if (peer.ip != A_IP)
                fail(s, "accepted peer ip %08x, expected %08x", peer.ip, A_IP);
            int rc = synack_close(B->sd->st, s->lb, now);
            if (rc < 0)
                fail(s, "close(listener) = %s", synack_errname(rc));
            s->lb_closed = 1;
        } else if (h != -SYNACK_EAGAIN) {
            fail(s, "accept = %s", synack_errname(h));
            synack_close(B->sd->st, s->lb, now);
            s->lb_closed = 1;
        }
    }

    /* A: wait for the connection. */
    if (!A->closed && !A->connected) {
        unsigned ev = synack_poll(A->sd->st, A->h);
        if (ev & SYNACK_POLLOUT) {
            A->connected = 1;
            A->t_connected = now;
            s->r->t_established = now;
        } else if (ev & (SYNACK_POLLERR | SYNACK_POLLHUP)) {
            int err = 0;
            size_t len = sizeof err;
            synack_getsockopt(A->sd->st, A->h, SYNACK_SO_ERROR, &err, &len);
            fail(s, "A connect failed: %s (poll 0x%x)",
                 err ? synack_errname(err) : "no SO_ERROR", ev);
            ep_fail_close(A, now);
        }
    }

    /* A gave up before B saw a connection. */
    if (A->failed && B->h < 0 && !s->lb_closed) {
        synack_close(B->sd->st, s->lb, now);
        s->lb_closed = 1;
        B->closed = 1;
    }

    /* A: send; in a two-way transfer also read. */
    if (A->connected && !A->closed) {
        pump_send(s, A, now);
        if (s->p->bidir && !A->closed)
            pump_recv(s, A, UINT64_MAX, now);
        ep_progress(s, A, s->p->bidir, now);
    }

    /* B: read (at the configured rate); in a two-way transfer also send. */
    if (B->connected && !B->closed) {
        uint64_t budget = UINT64_MAX;
        if (s->p->read_rate_bps) {
            double allowed = (double)(now - B->t_connected) / 1e9 *
                             (double)s->p->read_rate_bps / 8.0;
            budget = allowed > (double)B->in->rcvd
                         ? (uint64_t)(allowed - (double)B->in->rcvd)
                         : 0;
        }
        pump_recv(s, B, budget, now);
        if (s->p->bidir && !B->closed)
            pump_send(s, B, now);
        ep_progress(s, B, 1, now);
        if (s->p->read_rate_bps && !B->closed && !B->in->eof)
            s->app_deadline = now + READ_TICK;
    }
}

static int all_done(const sim *s)
{
    return s->ea.closed && s->eb.closed && s->lb_closed &&
           synack_stack_conn_count(s->a.st) == 0 &&
           synack_stack_conn_count(s->b.st) == 0;
}

/* Each invariant is reported once per run (the first time it breaks), and
 * the others are still checked. */
enum {
    INV_COUNT,
    INV_STATE,
    INV_TRACE,
    INV_BACKLOG,
    INV_RCVBUF,
    INV_SNDBUF,
    INV_ACKED,
    INV_RECEIVED,
    INV_UNREAD,
    INV_MEM,
    INV_CORE,
};
#define INV_FAIL(bit, ...)                                                     \
    do {                                                                       \
        if (!(s->inv_seen & (1u << (bit)))) {                                  \
            s->inv_seen |= 1u << (bit);                                        \
            fail(s, __VA_ARGS__);                                              \
        }                                                                      \
    } while (0)

static void invariants(sim *s, side *d)
{
    synack_conn_info ci[MAX_CONNS];
    size_t n = synack_conn_list(d->st, ci, MAX_CONNS);
    if (n > MAX_CONNS) {
        INV_FAIL(INV_COUNT, "%s has %zu connections, expected at most 2",
                 d->name, n);
        n = MAX_CONNS;
    }
    for (size_t i = 0; i < n; i++) {
        const synack_conn_info *c = &ci[i];
        conn_rec *rec = rec_find(d, c->id, 1);
        if (c->state < SYNACK_CLOSED || c->state >= SYNACK__STATE_COUNT) {
            INV_FAIL(INV_STATE, "%s conn #%u listed in state %d", d->name,
                     c->id, c->state);
            continue;
        }
        if (rec && rec->nevents && rec->last != c->state)
            INV_FAIL(INV_TRACE, "%s conn #%u is in %s but the trace last "
                                "reported %s",
                     d->name, c->id, synack_state_name(c->state),
                     synack_state_name(rec->last));
        if (c->state == SYNACK_LISTEN) {
            if (c->recv_q > c->send_q)
                INV_FAIL(INV_BACKLOG, "%s listener #%u: accept queue %u > "
                                      "backlog %u",
                         d->name, c->id, c->recv_q, c->send_q);
            continue;
        }
        if (rec && c->handle >= 0) {
            int v;
            size_t len = sizeof v;
            if (synack_getsockopt(d->st, c->handle, SYNACK_SO_RCVBUF, &v,
                                  &len) == 0)
                rec->rcvbuf = v;
            len = sizeof v;
            if (synack_getsockopt(d->st, c->handle, SYNACK_SO_SNDBUF, &v,
                                  &len) == 0)
                rec->sndbuf = v;
        }
        if (rec && rec->rcvbuf > 0 &&
            (uint64_t)c->recv_q + c->rcv_wnd > (uint64_t)rec->rcvbuf)
            INV_FAIL(INV_RCVBUF, "%s conn #%u (%s): Recv-Q %u + rcv_wnd %u > "
                                 "receive buffer %d",
                     d->name, c->id, synack_state_name(c->state), c->recv_q,
                     c->rcv_wnd, rec->rcvbuf);
        /* the send buffer may grow (tcp_sndbuf_auto): against its size
         * now, and never below what the application saw */
        if (rec && rec->sndbuf > 0 && c->snd_buf < (uint32_t)rec->sndbuf)
            INV_FAIL(INV_SNDBUF, "%s conn #%u (%s): send buffer %u shrank "
                                 "below %d",
                     d->name, c->id, synack_state_name(c->state), c->snd_buf,
                     rec->sndbuf);
        if (c->snd_buf > 0 && c->send_q > c->snd_buf)
            INV_FAIL(INV_SNDBUF, "%s conn #%u (%s): Send-Q %u > send buffer %u",
                     d->name, c->id, synack_state_name(c->state), c->send_q,
                     c->snd_buf);
        if (c->bytes_acked > c->bytes_sent)
            INV_FAIL(INV_ACKED, "%s conn #%u: bytes_acked %" PRIu64
                                " > bytes_sent %" PRIu64,
                     d->name, c->id, c->bytes_acked, c->bytes_sent);
        const endpt *e = d == &s->a ? &s->ea : &s->eb;
        if (c->bytes_received > e->in->total)
            INV_FAIL(INV_RECEIVED, "%s conn #%u: bytes_received %" PRIu64
                                   " > %" PRIu64 " sent",
                     d->name, c->id, c->bytes_received, e->in->total);
        if (c->handle >= 0 && c->handle == e->h &&
            e->in->rcvd + c->recv_q > e->in->total)
            INV_FAIL(INV_UNREAD, "%s holds %u unread bytes after %" PRIu64
                                 " read: more than the %" PRIu64 " sent",
                     d->name, c->recv_q, e->in->rcvd, e->in->total);
    }
    char msg[256];
    size_t nbad = synack_stack_check(d->st, msg, sizeof msg);
    if (nbad)
        INV_FAIL(INV_CORE, "%s synack_stack_check: %zu violations, the "
                           "first: %s",
                 d->name, nbad, msg);
    synack_stack_stats st;
    synack_stack_get_stats(d->st, &st);
    if (st.mem_used > st.mem_peak)
        INV_FAIL(INV_MEM, "%s mem_used %" PRIu64 " > mem_peak %" PRIu64,
                 d->name, st.mem_used, st.mem_peak);
}

static void final_checks(sim *s, side *d)
{
    synack_stack_stats st;
    synack_stack_get_stats(d->st, &st);
    if (st.illegal_transitions)
        fail(s, "%s stats.illegal_transitions = %" PRIu64, d->name,
             st.illegal_transitions);
    if (st.timer_misfires)
        fail(s, "%s stats.timer_misfires = %" PRIu64
                " (a timer fired in a state where it has no meaning)",
             d->name, st.timer_misfires);
    if (d->first_bad[0])
        fail(s, "%s state trace: %s", d->name, d->first_bad);
    if (d->overflow)
        fail(s, "%s had more than %d connections", d->name, MAX_CONNS);
    if (d->oversize)
        fail(s, "%s sent %" PRIu64 " segments larger than the peer's MTU %u "
                "(first: IP length %u)",
             d->name, d->oversize, d->peer_mtu, d->oversize_len);
    for (int i = 0; i < d->nconns; i++) {
        conn_rec *c = &d->conns[i];
        if (c->nevents && c->last != SYNACK_CLOSED)
            fail(s, "%s conn #%u ended in %s, not CLOSED: %s", d->name, c->id,
                 synack_state_name(c->last), c->hist);
    }
    if (st.mem_used != d->mem_base)
        fail(s, "%s holds %" PRIu64 " bytes after the run, %" PRIu64
                " right after synack_stack_new (%+" PRId64 ")",
             d->name, st.mem_used, d->mem_base,
             (int64_t)(st.mem_used - d->mem_base));
}

static int stream_init(stream *st, uint64_t key, uint64_t total)
{
    memset(st, 0, sizeof *st);
    st->key = key;
    st->total = total;
    st->sbuf = malloc(SEND_CHUNK);
    if (!st->sbuf)
        return -1;
    simnet_pattern(key, 0, st->sbuf, SEND_CHUNK);
    return 0;
}

static void stream_check(sim *s, const char *name, const stream *st)
{
    if (st->sent != st->total)
        fail(s, "%s: %" PRIu64 " of %" PRIu64 " bytes sent", name, st->sent,
             st->total);
    if (st->rcvd != st->total)
        fail(s, "%s: %" PRIu64 " of %" PRIu64 " bytes received", name,
             st->rcvd, st->total);
    if (!st->eof)
        fail(s, "%s: end of stream never read", name);
}

int simnet_run(const simnet_params *p, simnet_result *r)
{
    memset(r, 0, sizeof *r);
    r->ok = 1;
    sim S;
    sim *s = &S;
    memset(s, 0, sizeof *s);
    s->p = p;
    s->r = r;
    s->lb = -1;
    s->ea = (endpt){.name = "A", .sd = &s->a, .h = -1, .out = &s->ab,
                    .in = &s->ba};
    s->eb = (endpt){.name = "B", .sd = &s->b, .h = -1, .out = &s->ba,
                    .in = &s->ab};
    s->app_deadline = SYNACK_TIME_NEVER;
    simnet_link_str(&p->link, s->cfgstr, sizeof s->cfgstr);
    if (p->mtu_a || p->mtu_b) {
        size_t n = strlen(s->cfgstr);
        snprintf(s->cfgstr + n, sizeof s->cfgstr - n, " mtu=%u/%u",
                 p->mtu_a ? p->mtu_a : 1500, p->mtu_b ? p->mtu_b : 1500);
    }
    if (p->bidir || p->read_rate_bps) {
        size_t n = strlen(s->cfgstr);
        if (p->bidir)
            snprintf(s->cfgstr + n, sizeof s->cfgstr - n,
                     " two-way back=%" PRIu64, p->nbytes_back);
        n = strlen(s->cfgstr);
        if (p->read_rate_bps)
            snprintf(s->cfgstr + n, sizeof s->cfgstr - n,
                     " read=%gMbit/s", (double)p->read_rate_bps / 1e6);
    }

    synack_link *link = NULL;
    synack_dev *pa = NULL, *pb = NULL;
    s->rbuf = malloc(RECV_CHUNK);
    s->ebuf = malloc(RECV_CHUNK);
    if (!s->rbuf || !s->ebuf ||
        stream_init(&s->ab, p->seed, p->nbytes) < 0 ||
        stream_init(&s->ba, p->seed ^ 0xb0a0b0a0b0a0b0a0ULL,
                    p->bidir ? p->nbytes_back : 0) < 0) {
        fail(s, "out of memory");
        goto out;
    }

    synack_link_config lc = p->link;
    lc.seed = mix64(p->seed ^ 0x11e4c0de);
    int rc = synack_link_new(&lc, &link);
    if (rc < 0) {
        fail(s, "synack_link_new = %s", synack_errname(rc));
        goto out;
    }
    s->a.peer_mtu = p->mtu_b ? p->mtu_b : 1500;
    s->b.peer_mtu = p->mtu_a ? p->mtu_a : 1500;
    if (p->gso_max) { /* A's segments are checked at B, and so on */
        s->b.rx_mtu = s->a.peer_mtu;
        if (!p->gso_a_only)
            s->a.rx_mtu = s->b.peer_mtu;
    }
    if (new_stack(s, &s->a, "A", A_IP, 1, 1) < 0 ||
        new_stack(s, &s->b, "B", B_IP, 2, 2) < 0)
        goto out;
    if (synack_link_port(link, &pa) < 0 || synack_link_port(link, &pb) < 0) {
        fail(s, "synack_link_port failed");
        goto out;
    }
    if (p->pcap_path) {
        synack_dev *w;
        rc = synack_pcap_wrap(pa, p->pcap_path, &w);
        if (rc < 0) {
            fail(s, "pcap %s: %s", p->pcap_path, synack_errname(rc));
            goto out;
        }
        pa = w;
    }
    synack_attach(s->a.st, pa);
    synack_attach(s->b.st, pb);
    if (synack_vloop_new(0, &s->loop) < 0) {
        fail(s, "synack_vloop_new failed");
        goto out;
    }
    synack_vloop_add_stack(s->loop, s->a.st);
    synack_vloop_add_stack(s->loop, s->b.st);
    synack_vloop_add_dev(s->loop, pa);
    synack_vloop_add_dev(s->loop, pb);

    /* B listens, A connects. */
    synack_addr baddr = {B_IP, B_PORT};
    s->lb = synack_socket(s->b.st);
    if (s->lb < 0 || synack_bind(s->b.st, s->lb, &baddr) < 0 ||
        synack_listen(s->b.st, s->lb, 8) < 0) {
        fail(s, "B socket/bind/listen failed (%d)", s->lb);
        goto out;
    }
    set_bufs(s, s->b.st, s->lb);
    s->ea.h = synack_socket(s->a.st);
    if (s->ea.h < 0) {
        fail(s, "A socket = %s", synack_errname(s->ea.h));
        goto out;
    }
    set_bufs(s, s->a.st, s->ea.h);
    rc = synack_connect(s->a.st, s->ea.h, &baddr, 0);
    if (rc != -SYNACK_EINPROGRESS) {
        fail(s, "A connect = %s, expected EINPROGRESS", synack_errname(rc));
        goto out;
    }

    /* Run. */
    app(s);
    synack_time_t last_t = 0;
    int same = 0;
    while (!all_done(s)) {
        synack_time_t lim =
            s->app_deadline < p->vlimit ? s->app_deadline : p->vlimit;
        if (!synack_vloop_step(s->loop, lim)) {
            synack_time_t now = synack_vloop_now(s->loop);
            if (now < p->vlimit && s->app_deadline != SYNACK_TIME_NEVER &&
                now >= s->app_deadline) {
                app(s); /* the application's own timer */
                continue;
            }
            char da[400], db[400];
            conn_dump(s, &s->a, da, sizeof da);
            conn_dump(s, &s->b, db, sizeof db);
            fail(s, "%s: A->B sent %" PRIu64 " rcvd %" PRIu64
                    " of %" PRIu64 ", B->A sent %" PRIu64 " rcvd %" PRIu64
                    " of %" PRIu64 "; A: [%s] B: [%s]",
                 now >= p->vlimit ? "virtual-time limit reached"
                                  : "stalled: nothing scheduled",
                 s->ab.sent, s->ab.rcvd, s->ab.total, s->ba.sent, s->ba.rcvd,
                 s->ba.total, da, db);
            break;
        }
        r->steps++;
        synack_time_t t = synack_vloop_now(s->loop);
        if (t == last_t) {
            if (++same >= LIVELOCK_STEPS) {
                fail(s, "livelock: %d steps without time advancing", same);
                break;
            }
        } else {
            same = 0;
            last_t = t;
        }
        if (p->check_invariants) {
            invariants(s, &s->a);
            invariants(s, &s->b);
        }
        app(s);
    }
    r->t_end = synack_vloop_now(s->loop);

    /* Checks. */
    stream_check(s, "A->B", &s->ab);
    if (p->bidir)
        stream_check(s, "B->A", &s->ba);
    final_checks(s, &s->a);
    final_checks(s, &s->b);

out:
    r->sent = s->ab.sent;
    r->rcvd = s->ab.rcvd;
    r->t_eof = s->ab.t_eof;
    r->sent_back = s->ba.sent;
    r->rcvd_back = s->ba.rcvd;
    r->t_eof_back = s->ba.t_eof;
    for (int i = 0; i < SYNACK__STATE_COUNT; i++)
        r->edges[i] = s->a.edges[i] | s->b.edges[i];
    if (s->a.st)
        synack_stack_get_stats(s->a.st, &r->sa);
    if (s->b.st)
        synack_stack_get_stats(s->b.st, &r->sb);
    if (link)
        synack_link_get_stats(link, &r->ls);
    synack_vloop_del(s->loop);
    s->loop = NULL;
    synack_stack_del(s->a.st);
    synack_stack_del(s->b.st);
    synack_dev_destroy(pa);
    synack_dev_destroy(pb);
    synack_link_del(link);
    side *sides[2] = {&s->a, &s->b};
    for (int i = 0; i < 2; i++) {
        side *d = sides[i];
        if (!d->st)
            continue;
        if (d->alloc.bytes != 0 || d->alloc.blocks != 0)
            fail(s, "%s after synack_stack_del: %" PRId64 " bytes in %" PRId64
                    " blocks not released",
                 d->name, d->alloc.bytes, d->alloc.blocks);
        if (d->alloc.bad_release)
            fail(s, "%s: %" PRIu64 " mem_release calls with a size different "
                    "from the allocation",
                 d->name, d->alloc.bad_release);
    }
    free(s->ab.sbuf);
    free(s->ba.sbuf);
    free(s->rbuf);
    free(s->ebuf);
    return r->ok;
}
