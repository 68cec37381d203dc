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

/* ---- counting allocator ------------------------------------------------- */

typedef struct alloc_ctx {
    int64_t bytes, blocks;
    uint64_t bad_release; /* release with a size that differs */
} alloc_ctx;

#define ALLOC_HDR 16 /* keeps the user pointer 16-byte aligned */

static void *cnt_alloc(void *ctx, size_t size)
{
    alloc_ctx *a = ctx;
    uint8_t *p = malloc(size + ALLOC_HDR);
    if (!p)
        return NULL;
    memcpy(p, &size, sizeof size);
    a->bytes += (int64_t)size;
    a->blocks++;
    return p + ALLOC_HDR;
}

static void cnt_release(void *ctx, void *ptr, size_t size)
{
    alloc_ctx *a = ctx;
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
    alloc_ctx alloc;
    uint64_t mem_base;
    conn_rec conns[MAX_CONNS];
    int nconns;
    int overflow; /* more connections than MAX_CONNS */
    int verbose;  /* print every trace event to stderr */
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
                "%12.6f %s #%u %s seq=%u ack=%u %s len=%u wnd=%u%s%s\n",
                (double)ev->now / 1e9, s->name, ev->conn_id,
                ev->kind == SYNACK_TRACE_SEG_IN ? "in " : "out", g->seq, g->ack,
                synack_flags_str(g->flags, fl, sizeof fl), g->len, g->wnd,
                g->has_ts ? "" : " (no TS)",
                ev->retransmit ? " RETRANSMIT" : "");
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

typedef struct sim {
    const simnet_params *p;
    simnet_result *r;
    char cfgstr[200];
    side a, b;
    synack_vloop *loop;
    int ca;           /* A's socket */
    int lb, sb;       /* B's listener and accepted socket */
    int a_closed, b_closed, lb_closed;
    int a_failed, b_failed; /* a socket call returned an error */
    int mismatch_reported;
    int established, got_eof;
    uint64_t sent, rcvd;
    uint64_t sbuf_off; /* stream offset of sbuf[0] */
    uint8_t *sbuf;     /* SEND_CHUNK bytes of pattern */
    uint8_t *rbuf, *ebuf;
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
    c.seed = mix64(s->p->seed * 2 + seed_off);
    for (int i = 0; i < 16; i += 8) {
        uint64_t k = mix64(s->p->seed ^ (0x5ec7e7ULL << 8) ^ (seed_off << 40) ^
                           (uint64_t)i);
        memcpy(c.isn_secret + i, &k, 8);
    }
    c.mem_alloc = cnt_alloc;
    c.mem_release = cnt_release;
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

/* The application on both ends, run after every loop step. */
static void app(sim *s)
{
    synack_time_t now = synack_vloop_now(s->loop);
    synack_stack *A = s->a.st, *B = s->b.st;

    /* B: accept once, then close the listener. */
    if (s->sb < 0 && !s->lb_closed) {
        synack_addr peer;
        int h = synack_accept(B, s->lb, &peer);
        if (h >= 0) {
            s->sb = h;
            if (peer.ip != A_IP)
                fail(s, "accepted peer ip %08x, expected %08x", peer.ip, A_IP);
            int rc = synack_close(B, s->lb, now);
            if (rc < 0)
                fail(s, "close(listener) = %s", synack_errname(rc));
            s->lb_closed = 1;
        } else if (h != -SYNACK_EAGAIN) {
            fail(s, "accept = %s", synack_errname(h));
            synack_close(B, s->lb, now);
            s->lb_closed = 1;
        }
    }

    /* A: once connected, send the pattern, then close. */
    if (!s->a_closed && !s->established) {
        unsigned ev = synack_poll(A, s->ca);
        if (ev & SYNACK_POLLOUT) {
            s->established = 1;
            s->r->t_established = now;
        } else if (ev & (SYNACK_POLLERR | SYNACK_POLLHUP)) {
            int err = 0;
            size_t len = sizeof err;
            synack_getsockopt(A, s->ca, SYNACK_SO_ERROR, &err, &len);
            fail(s, "A connect failed: %s (poll 0x%x)",
                 err ? synack_errname(err) : "no SO_ERROR", ev);
            s->a_failed = 1;
            synack_close(A, s->ca, now);
            s->a_closed = 1;
        }
    }
    if (!s->a_closed && s->established) {
        while (s->sent < s->p->nbytes) {
            if (s->sent == s->sbuf_off + SEND_CHUNK) {
                s->sbuf_off = s->sent;
                simnet_pattern(s->p->seed, s->sbuf_off, s->sbuf, SEND_CHUNK);
            }
            uint64_t want = s->sbuf_off + SEND_CHUNK - s->sent;
            if (want > s->p->nbytes - s->sent)
                want = s->p->nbytes - s->sent;
            ssize_t n = synack_send(A, s->ca, s->sbuf + (s->sent - s->sbuf_off),
                                    (size_t)want, now);
            if (n > 0) {
                if ((uint64_t)n > want)
                    fail(s, "send returned %zd for %" PRIu64 " bytes", n, want);
                s->sent += (uint64_t)n;
                continue;
            }
            if (n == -SYNACK_EAGAIN)
                break;
            fail(s, "A send at offset %" PRIu64 " = %s", s->sent,
                 n == 0 ? "0" : synack_errname((int)n));
            s->a_failed = 1;
            break;
        }
        if (s->sent == s->p->nbytes || s->a_failed) {
            int rc = synack_close(A, s->ca, now);
            if (rc < 0)
                fail(s, "A close = %s", synack_errname(rc));
            s->a_closed = 1;
        }
    }

    /* A gave up: B will not see a connection. */
    if (s->a_failed && s->sb < 0 && !s->lb_closed) {
        synack_close(B, s->lb, now);
        s->lb_closed = 1;
        s->b_closed = 1;
    }

    /* B: read and verify, close at end of stream. */
    if (s->sb >= 0 && !s->b_closed) {
        for (;;) {
            ssize_t n = synack_recv(B, s->sb, s->rbuf, RECV_CHUNK, now);
            if (n > 0) {
                if (s->rcvd + (uint64_t)n > s->p->nbytes) {
                    fail(s, "B received %" PRIu64 " bytes, more than the %" PRIu64
                            " sent",
                         s->rcvd + (uint64_t)n, s->p->nbytes);
                    s->mismatch_reported = 1;
                } else if (!s->mismatch_reported) {
                    simnet_pattern(s->p->seed, s->rcvd, s->ebuf, (size_t)n);
                    if (memcmp(s->rbuf, s->ebuf, (size_t)n) != 0) {
                        size_t i = 0;
                        while (s->rbuf[i] == s->ebuf[i])
                            i++;
                        fail(s, "data differs at stream offset %" PRIu64
                                ": got 0x%02x, expected 0x%02x",
                             s->rcvd + i, s->rbuf[i], s->ebuf[i]);
                        s->mismatch_reported = 1;
                    }
                }
                s->rcvd += (uint64_t)n;
                continue;
            }
            if (n == 0) {
                s->r->t_eof = now;
                s->got_eof = 1;
            } else if (n == -SYNACK_EAGAIN) {
                break;
            } else {
                fail(s, "B recv at offset %" PRIu64 " = %s", s->rcvd,
                     synack_errname((int)n));
                s->b_failed = 1;
            }
            int rc = synack_close(B, s->sb, now);
            if (rc < 0)
                fail(s, "B close = %s", synack_errname(rc));
            s->b_closed = 1;
            break;
        }
    }
}

static int all_done(const sim *s)
{
    return s->a_closed && s->b_closed && s->lb_closed &&
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
        if (rec && rec->sndbuf > 0 && c->send_q > (uint32_t)rec->sndbuf)
            INV_FAIL(INV_SNDBUF, "%s conn #%u (%s): Send-Q %u > send buffer %d",
                     d->name, c->id, synack_state_name(c->state), c->send_q,
                     rec->sndbuf);
        if (c->bytes_acked > c->bytes_sent)
            INV_FAIL(INV_ACKED, "%s conn #%u: bytes_acked %" PRIu64
                                " > bytes_sent %" PRIu64,
                     d->name, c->id, c->bytes_acked, c->bytes_sent);
        if (c->bytes_received > s->p->nbytes)
            INV_FAIL(INV_RECEIVED, "%s conn #%u: bytes_received %" PRIu64
                                   " > %" PRIu64 " sent",
                     d->name, c->id, c->bytes_received, s->p->nbytes);
        if (d == &s->b && c->handle >= 0 && c->handle == s->sb &&
            s->rcvd + c->recv_q > s->p->nbytes)
            INV_FAIL(INV_UNREAD, "B holds %u unread bytes after %" PRIu64
                                 " read: more than the %" PRIu64 " sent",
                     c->recv_q, s->rcvd, s->p->nbytes);
    }
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
    if (d->first_bad[0])
        fail(s, "%s state trace: %s", d->name, d->first_bad);
    if (d->overflow)
        fail(s, "%s had more than %d connections", d->name, MAX_CONNS);
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

int simnet_run(const simnet_params *p, simnet_result *r)
{
    memset(r, 0, sizeof *r);
    r->ok = 1;
    sim S;
    sim *s = &S;
    memset(s, 0, sizeof *s);
    s->p = p;
    s->r = r;
    s->ca = s->lb = s->sb = -1;
    simnet_link_str(&p->link, s->cfgstr, sizeof s->cfgstr);

    synack_link *link = NULL;
    synack_dev *pa = NULL, *pb = NULL;
    s->sbuf = malloc(SEND_CHUNK);
    s->rbuf = malloc(RECV_CHUNK);
    s->ebuf = malloc(RECV_CHUNK);
    if (!s->sbuf || !s->rbuf || !s->ebuf) {
        fail(s, "out of memory");
        goto out;
    }
    simnet_pattern(p->seed, 0, s->sbuf, SEND_CHUNK);

    synack_link_config lc = p->link;
    lc.seed = mix64(p->seed ^ 0x11e4c0de);
    int rc = synack_link_new(&lc, &link);
    if (rc < 0) {
        fail(s, "synack_link_new = %s", synack_errname(rc));
        goto out;
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
    s->ca = synack_socket(s->a.st);
    if (s->ca < 0) {
        fail(s, "A socket = %s", synack_errname(s->ca));
        goto out;
    }
    set_bufs(s, s->a.st, s->ca);
    rc = synack_connect(s->a.st, s->ca, &baddr, 0);
    if (rc != -SYNACK_EINPROGRESS) {
        fail(s, "A connect = %s, expected EINPROGRESS", synack_errname(rc));
        goto out;
    }

    /* Run. */
    app(s);
    synack_time_t last_t = 0;
    int same = 0;
    while (!all_done(s)) {
        if (!synack_vloop_step(s->loop, p->vlimit)) {
            char da[400], db[400];
            conn_dump(s, &s->a, da, sizeof da);
            conn_dump(s, &s->b, db, sizeof db);
            if (synack_vloop_now(s->loop) >= p->vlimit)
                fail(s, "virtual-time limit %.0fs reached: sent %" PRIu64
                        " rcvd %" PRIu64 " of %" PRIu64 "; A: [%s] B: [%s]",
                     (double)p->vlimit / 1e9, s->sent, s->rcvd, p->nbytes, da,
                     db);
            else
                fail(s, "stalled: nothing scheduled, sent %" PRIu64
                        " rcvd %" PRIu64 " of %" PRIu64 "; A: [%s] B: [%s]",
                     s->sent, s->rcvd, p->nbytes, da, db);
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
    if (s->sent != p->nbytes)
        fail(s, "A sent %" PRIu64 " of %" PRIu64 " bytes", s->sent, p->nbytes);
    if (s->rcvd != p->nbytes)
        fail(s, "B received %" PRIu64 " of %" PRIu64 " bytes", s->rcvd,
             p->nbytes);
    if (!s->got_eof)
        fail(s, "B never read end of stream");
    final_checks(s, &s->a);
    final_checks(s, &s->b);

out:
    r->sent = s->sent;
    r->rcvd = s->rcvd;
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
    free(s->sbuf);
    free(s->rbuf);
    free(s->ebuf);
    return r->ok;
}
