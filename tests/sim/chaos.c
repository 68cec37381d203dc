/* chaos: many stacks and connections under every fault at once (chaos.h). */
#include "sim/chaos.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <synack/dev.h>

#include "sim/simnet.h"
#include "ladder.h"

#define MAX_STACKS 5
#define MAX_CONNS 16
#define MAX_ANON 64        /* accepted, not yet identified */
#define MAX_HANDLES 256    /* max_sockets of every stack */
#define HIST_LEN 200
#define HDR_LEN 8          /* the client stream's header */
#define IO_CHUNK 16384u
#define READ_TICK (20 * SYNACK_MSEC)
#define SAME_TIME_ROUNDS 100000
#define LIVELOCK_STEPS 2000
#define VLIMIT (2 * 3600 * SYNACK_SEC)
#define BASE_IP 0x0a000001u /* 10.0.0.1, .2, ... */
#define PORT_LISTEN 80
#define PORT_CLOSED 81
#define MAX_FLAPS 3
#define MAX_JUMPS 4

/* ---- small helpers ----------------------------------------------------- */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rnd(rng *g)
{
    g->s += 0x9e3779b97f4a7c15ULL;
    return mix64(g->s);
}

static uint64_t rnd_below(rng *g, uint64_t n)
{
    return n ? rnd(g) % n : 0;
}

static uint64_t rnd_range(rng *g, uint64_t lo, uint64_t hi) /* [lo, hi] */
{
    return lo + rnd_below(g, hi - lo + 1);
}

static double rnd_unit(rng *g)
{
    return (double)(rnd(g) >> 11) * 0x1.0p-53;
}

static int rnd_chance(rng *g, double p)
{
    return rnd_unit(g) < p;
}

/* ---- the world ------------------------------------------------------------ */

typedef struct crec { /* a connection seen by a stack's trace hook */
    uint32_t id;
    int last, nevents, bad;
    char hist[HIST_LEN];
    /* the peer's window: the right edge it offered (the largest ever, so
     * that an old window update arriving late, which shrinks SND.WND, does
     * not count) */
    int scale; /* the peer's window scale (conn_info), -1 until known */
    int edge_known;
    uint32_t edge;
} crec;

struct chaos;
struct end;

typedef struct node {
    struct chaos *ch;
    int idx;
    char name[16];
    uint32_t ip;
    uint16_t mtu;
    synack_stack *st;
    synack_dev *port;
    simnet_alloc alloc; /* simnet.h */
    uint64_t mem_base, mem_limit;
    int lst; /* listener handle, -1 once closed */
    int backlog, rcvbuf, sndbuf;
    crec *recs;
    size_t nrecs, caprecs;
    char first_bad[300];
    uint64_t oversize;
    unsigned oversize_len;
    struct end *byh[MAX_HANDLES]; /* open handle -> application end */
    uint32_t draw_id; /* conn id drawn in the ladder, 0: none yet */
    uint32_t lst_id;  /* the listener's conn id */
    int cookies;      /* tiny SYN queue with SYN cookies */
} node;

enum { R_FAST, R_SLOW, R_STALL };

typedef struct end {
    struct conn *k;
    int server;
    int si;   /* stack */
    int h;    /* -1 until connect/accept, and after close */
    int connected, shut, eof, closed, aborted, err;
    uint64_t out_total, out_sent, in_total, in_rcvd;
    int rmode;
    uint64_t rate_bps;
    synack_time_t stall_after, stall_len;
    synack_time_t t_conn;
} end;

typedef struct conn {
    int idx;
    int cli, srv;
    uint16_t sport;
    uint16_t cport; /* client's port, once connect assigned it */
    int refused;    /* to a port with no listener */
    uint64_t up, down; /* payload bytes client->server, server->client */
    uint64_t key_up, key_down;
    uint8_t hdr[HDR_LEN];
    synack_time_t t_start, t_abort;
    int abort_who; /* 0 none, 1 client, 2 server */
    int abort_how; /* 0 SO_LINGER 0 + close, 1 synack_abort */
    int quick_close;
    int rcvbuf, sndbuf; /* client socket's */
    int started, bound, fault_done;
    end c, s;
} conn;

typedef struct anon {
    int si, h;
    uint8_t hdr[HDR_LEN];
    unsigned got;
    synack_addr peer;
} anon;

typedef struct chaos {
    const chaos_params *p;
    chaos_result *r;
    rng g;
    int n;
    node nd[MAX_STACKS];
    int nconns;
    conn k[MAX_CONNS];
    anon an[MAX_ANON];
    int nanon;
    synack_link *link;
    synack_link_config lc;
    int nflaps, flap_i, down;
    synack_time_t flap_at[MAX_FLAPS], flap_len[MAX_FLAPS];
    int njumps, jump_i;
    synack_time_t jump_at[MAX_JUMPS], jump_len[MAX_JUMPS];
    synack_time_t now, app_next;
    uint8_t *buf, *exp;
    unsigned inv_seen;
    /* ladder of one connection */
    ladder *lad;
    char lad_a[32], lad_b[32]; /* column titles (the ladder keeps them) */
    int draw;            /* conn index drawn, -1 */
    int draw_pending_h;  /* client handle whose first events we match */
} chaos;

/* ---- failures -------------------------------------------------------------- */

static void vfail(chaos *c, int kidx, const char *fmt, va_list ap)
{
    chaos_result *r = c->r;
    r->ok = 0;
    r->nfail++;
    if (r->bad_conn < 0 && kidx >= 0)
        r->bad_conn = kidx;
    size_t n = strlen(r->msg);
    if (n + 80 >= sizeof r->msg)
        return;
    int w = snprintf(r->msg + n, sizeof r->msg - n, "[chaos seed=%" PRIu64
                     " t=%.6fs] ", c->p->seed, (double)c->now / 1e9);
    if (w < 0 || (size_t)w >= sizeof r->msg - n)
        return;
    n += (size_t)w;
    if (kidx >= 0) {
        const conn *k = &c->k[kidx];
        w = snprintf(r->msg + n, sizeof r->msg - n, "conn %d (%s:%u -> %s:%u): ",
                     kidx, c->nd[k->cli].name, k->cport, c->nd[k->srv].name,
                     k->sport);
        if (w < 0 || (size_t)w >= sizeof r->msg - n)
            return;
        n += (size_t)w;
    }
    vsnprintf(r->msg + n, sizeof r->msg - n, fmt, ap);
    n = strlen(r->msg);
    if (n + 1 < sizeof r->msg) {
        r->msg[n] = '\n';
        r->msg[n + 1] = '\0';
    }
}

static void fail(chaos *c, int kidx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(chaos *c, int kidx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(c, kidx, fmt, ap);
    va_end(ap);
}

/* ---- streams ----------------------------------------------------------------- */

/* Bytes [off, off+len) of a connection's stream (up: client -> server,
 * header first). */
static void stream_fill(const conn *k, int up, uint64_t off, uint8_t *buf,
                        size_t len)
{
    if (up) {
        while (len && off < HDR_LEN) {
            *buf++ = k->hdr[off++];
            len--;
        }
        if (len)
            simnet_pattern(k->key_up, off - HDR_LEN, buf, len);
    } else {
        simnet_pattern(k->key_down, off, buf, len);
    }
}

static int node_of_ip(const chaos *c, uint32_t ip)
{
    uint32_t i = ip - BASE_IP;
    return i < (uint32_t)c->n ? (int)i : -1;
}

/* The planned connection a stack's connection belongs to, by addresses. */
static int conn_of(const chaos *c, int si, const synack_addr *local,
                   const synack_addr *remote)
{
    int ri = node_of_ip(c, remote->ip);
    for (int i = c->nconns - 1; i >= 0; i--) {
        const conn *k = &c->k[i];
        if (!k->started)
            continue;
        if (k->cli == si && k->srv == ri && local->port == k->cport &&
            remote->port == k->sport)
            return i;
        if (k->srv == si && k->cli == ri && local->port == k->sport &&
            remote->port == k->cport)
            return i;
    }
    return -1;
}

/* ---- trace hook ---------------------------------------------------------------- */

static crec *rec_find(node *d, uint32_t id)
{
    for (size_t i = d->nrecs; i-- > 0;)
        if (d->recs[i].id == id)
            return &d->recs[i];
    if (d->nrecs == d->caprecs) {
        size_t nc = d->caprecs ? d->caprecs * 2 : 32;
        crec *n = realloc(d->recs, nc * sizeof *n);
        if (!n)
            return NULL;
        d->recs = n;
        d->caprecs = nc;
    }
    crec *r = &d->recs[d->nrecs++];
    memset(r, 0, sizeof *r);
    r->id = id;
    r->last = -1;
    r->scale = -1;
    return r;
}

static void hist_add(crec *r, const char *a, const char *b)
{
    size_t n = strlen(r->hist);
    if (n + 1 < sizeof r->hist)
        snprintf(r->hist + n, sizeof r->hist - n, "%s%s", a, b);
}

static void print_event(const node *d, const synack_trace_event *ev)
{
    char fl[32];
    const synack_seg *g = ev->seg;
    double t = (double)ev->now / 1e9;
    if (ev->kind == SYNACK_TRACE_STATE) {
        fprintf(stderr, "%12.6f %s #%u %s -> %s (%s)\n", t, d->name,
                ev->conn_id, synack_state_name(ev->old_state),
                synack_state_name(ev->new_state), ev->cause ? ev->cause : "");
    } else if ((ev->kind == SYNACK_TRACE_SEG_IN ||
                ev->kind == SYNACK_TRACE_SEG_OUT) && g) {
        fprintf(stderr, "%12.6f %s #%u %s %u->%u seq=%u ack=%u %s len=%u "
                        "wnd=%u%s\n",
                t, d->name, ev->conn_id,
                ev->kind == SYNACK_TRACE_SEG_IN ? "in " : "out", g->src.port,
                g->dst.port, g->seq, g->ack,
                synack_flags_str(g->flags, fl, sizeof fl), g->len, g->wnd,
                ev->retransmit ? " RETRANSMIT" : "");
    } else if (ev->kind == SYNACK_TRACE_DROP) {
        fprintf(stderr, "%12.6f %s #%u DROP %s\n", t, d->name, ev->conn_id,
                synack_drop_name(ev->drop_reason));
    }
}

/* Feed the ladder: side A is the client's stack, B the server's. */
static void draw_event(node *d, const synack_trace_event *ev)
{
    chaos *c = d->ch;
    const conn *k = &c->k[c->draw];
    int side = d->idx == k->cli ? LADDER_A : LADDER_B;
    if (d->idx != k->cli && d->idx != k->srv)
        return;
    if (!d->draw_id) {
        int match = 0;
        if (side == LADDER_A)
            match = c->draw_pending_h >= 0 && ev->handle == c->draw_pending_h;
        else
            match = ev->conn_id && ev->conn_id != d->lst_id &&
                    ev->local.port == k->sport &&
                    ev->remote.ip == c->nd[k->cli].ip &&
                    ev->remote.port == k->cport && k->cport;
        if (!match || !ev->conn_id)
            return;
        d->draw_id = ev->conn_id;
    }
    if (ev->conn_id != d->draw_id)
        return;
    switch (ev->kind) {
    case SYNACK_TRACE_STATE:
        ladder_state(c->lad, ev->now, side, ev->new_state, ev->cause, NULL);
        break;
    case SYNACK_TRACE_SEG_OUT:
        if (ev->seg)
            ladder_segment(c->lad, ev->now, side, ev->seg,
                           ev->retransmit ? LADDER_RETRANS : 0);
        break;
    case SYNACK_TRACE_DROP:
        ladder_drop(c->lad, ev->now, side, ev->seg,
                    synack_drop_text(ev->drop_reason));
        break;
    default:
        break;
    }
}

#define SEQ_GT(a, b) ((int32_t)((a) - (b)) > 0)

/* SND.NXT <= SND.UNA + SND.WND, robust to a shrinking window: no new data
 * beyond the right edge the peer has offered. */
static void window_check(node *d, const synack_trace_event *ev)
{
    chaos *c = d->ch;
    const synack_seg *g = ev->seg;
    crec *r = rec_find(d, ev->conn_id);
    if (!r || (g->flags & SYNACK_TH_RST))
        return;
    if (ev->kind == SYNACK_TRACE_SEG_OUT) {
        if ((g->flags & SYNACK_TH_SYN) || !g->len || !r->edge_known ||
            ev->retransmit)
            return;
        uint32_t last = g->seq + g->len;
        if (SEQ_GT(last, r->edge) && !d->first_bad[0]) {
            int ki = conn_of(c, d->idx, &ev->local, &ev->remote);
            if (c->r->bad_conn < 0)
                c->r->bad_conn = ki;
            snprintf(d->first_bad, sizeof d->first_bad,
                     "conn #%u (chaos conn %d) sent seq %u..%u at t=%.6fs, "
                     "beyond the right edge %u the peer offered (SND.NXT > "
                     "SND.UNA + SND.WND)",
                     ev->conn_id, ki, g->seq, last, (double)ev->now / 1e9,
                     r->edge);
        }
        return;
    }
    if (!(g->flags & SYNACK_TH_ACK))
        return;
    unsigned scale = 0; /* never scaled in a SYN */
    if (!(g->flags & SYNACK_TH_SYN)) {
        if (r->scale < 0) {
            /* negotiated by now; asked once per connection */
            synack_conn_info ci[64];
            size_t n = synack_conn_list(d->st, ci, 64);
            for (size_t i = 0; i < n && i < 64; i++)
                if (ci[i].id == ev->conn_id)
                    r->scale = ci[i].snd_wscale;
            if (r->scale < 0)
                return;
        }
        scale = (unsigned)r->scale;
    }
    uint32_t edge = g->ack + ((uint32_t)g->wnd << scale);
    if (!r->edge_known || SEQ_GT(edge, r->edge)) {
        r->edge = edge;
        r->edge_known = 1;
    }
}

static void on_trace(void *ctx, const synack_trace_event *ev)
{
    node *d = ctx;
    chaos *c = d->ch;
    if (c->p->verbose)
        print_event(d, ev);
    if (c->lad)
        draw_event(d, ev);
    if (ev->kind == SYNACK_TRACE_SEG_OUT && ev->seg && ev->seg->len) {
        int pi = node_of_ip(c, ev->seg->dst.ip);
        unsigned mtu = pi >= 0 ? c->nd[pi].mtu : 1500;
        unsigned ip_len = 40 + (ev->seg->has_ts ? 12u : 0u) + ev->seg->len;
        if (ip_len > mtu) {
            if (!d->oversize)
                d->oversize_len = ip_len;
            d->oversize++;
        }
    }
    if (ev->kind == SYNACK_TRACE_SEG_IN || ev->kind == SYNACK_TRACE_SEG_OUT) {
        if (ev->conn_id && ev->seg)
            window_check(d, ev);
        return;
    }
    if (ev->kind != SYNACK_TRACE_STATE)
        return;
    crec *r = rec_find(d, ev->conn_id);
    if (!r)
        return;
    if (r->nevents == 0)
        hist_add(r, synack_state_name(ev->old_state), "");
    hist_add(r, ">", synack_state_name(ev->new_state));
    int legal = synack_state_edge_legal(ev->old_state, ev->new_state);
    int chained = r->nevents == 0 || r->last == ev->old_state;
    if (ev->old_state >= 0 && ev->old_state < SYNACK__STATE_COUNT &&
        ev->new_state >= 0 && ev->new_state < SYNACK__STATE_COUNT)
        c->r->edges[ev->old_state] |= 1u << ev->new_state;
    if ((!legal || !chained) && !d->first_bad[0]) {
        r->bad = 1;
        int ki = conn_of(c, d->idx, &ev->local, &ev->remote);
        if (c->r->bad_conn < 0)
            c->r->bad_conn = ki;
        snprintf(d->first_bad, sizeof d->first_bad,
                 "conn #%u (chaos conn %d) %s -> %s (%s) at t=%.6fs: %s",
                 ev->conn_id, ki, synack_state_name(ev->old_state),
                 synack_state_name(ev->new_state), ev->cause ? ev->cause : "?",
                 (double)ev->now / 1e9,
                 !legal ? "not an RFC 9293 edge"
                        : "does not continue from the last state seen");
    }
    r->last = ev->new_state;
    r->nevents++;
}

/* ---- setting up ---------------------------------------------------------------- */

static const int BUF_SIZES[] = {0, 1024, 2048, 4096, 8192, 16384, 65536,
                                262144, 1 << 20, 4 << 20};
#define NBUF_SIZES (sizeof BUF_SIZES / sizeof BUF_SIZES[0])
static const uint16_t MTUS[] = {576, 1000, 1280, 1500, 1500, 4000, 9000};

static int pick_buf(rng *g)
{
    return BUF_SIZES[rnd_below(g, NBUF_SIZES)];
}

static size_t mix_add(char *buf, size_t n, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static size_t mix_add(char *buf, size_t n, size_t len, const char *fmt, ...)
{
    if (n >= len)
        return n;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf + n, len - n, fmt, ap);
    va_end(ap);
    return w < 0 ? n : n + (size_t)w;
}

static void plan(chaos *c)
{
    rng *g = &c->g;
    chaos_result *r = c->r;
    char *mix = r->mix;
    size_t mn = 0, ml = sizeof r->mix;

    c->n = (int)rnd_range(g, 3, MAX_STACKS);
    for (int i = 0; i < c->n; i++) {
        node *d = &c->nd[i];
        d->ch = c;
        d->idx = i;
        snprintf(d->name, sizeof d->name, "S%d", i + 1);
        d->ip = BASE_IP + (uint32_t)i;
        d->mtu = MTUS[rnd_below(g, sizeof MTUS / sizeof MTUS[0])];
        d->backlog = (int)rnd_range(g, 1, 8);
        d->rcvbuf = pick_buf(g);
        d->sndbuf = pick_buf(g);
        d->lst = -1;
    }

    synack_link_config *lc = &c->lc;
    synack_link_config_init(lc);
    lc->delay = rnd_range(g, 50, 20000) * SYNACK_USEC;
    if (rnd_chance(g, 0.5))
        lc->jitter = rnd_range(g, 0, 2000) * SYNACK_USEC;
    if (rnd_chance(g, 0.6))
        lc->loss = rnd_unit(g) * 0.03;
    if (rnd_chance(g, 0.4))
        lc->reorder = rnd_unit(g) * 0.03;
    if (rnd_chance(g, 0.3))
        lc->dup = rnd_unit(g) * 0.02;
    if (rnd_chance(g, 0.3))
        lc->corrupt = rnd_unit(g) * 0.005;
    if (rnd_chance(g, 0.5)) {
        lc->rate_bps = rnd_range(g, 1, 100) * 1000000;
        if (rnd_chance(g, 0.5))
            lc->queue_limit = (uint32_t)rnd_range(g, 2, 8); /* tiny */
        else if (rnd_chance(g, 0.5))
            lc->queue_limit = (uint32_t)rnd_range(g, 16, 200);
    }
    if (rnd_chance(g, 0.3)) {
        lc->burst_prob = 0.001 + rnd_unit(g) * 0.01;
        lc->burst_len = (uint32_t)rnd_range(g, 2, 5);
        lc->burst_len_max = lc->burst_len + (uint32_t)rnd_range(g, 0, 7);
    }
    lc->seed = mix64(c->p->seed ^ 0x11e4c0deULL);

    if (rnd_chance(g, 0.3)) {
        c->nflaps = (int)rnd_range(g, 1, MAX_FLAPS);
        synack_time_t t = 0;
        for (int i = 0; i < c->nflaps; i++) {
            t += rnd_range(g, 100, 3000) * SYNACK_MSEC;
            c->flap_at[i] = t;
            c->flap_len[i] = rnd_range(g, 200, 5000) * SYNACK_MSEC;
            t += c->flap_len[i];
        }
    }
    if (rnd_chance(g, 0.4)) {
        c->njumps = (int)rnd_range(g, 1, MAX_JUMPS);
        synack_time_t t = 0;
        for (int i = 0; i < c->njumps; i++) {
            t += rnd_range(g, 10, 3000) * SYNACK_MSEC;
            c->jump_at[i] = t;
            c->jump_len[i] = rnd_range(g, 500, 8000) * SYNACK_MSEC;
            t += c->jump_len[i];
        }
    }

    c->nconns = (int)rnd_range(g, 3, MAX_CONNS);
    synack_time_t spread = rnd_range(g, 0, 4000) * SYNACK_MSEC;
    for (int i = 0; i < c->nconns; i++) {
        conn *k = &c->k[i];
        k->idx = i;
        k->cli = (int)rnd_below(g, (uint64_t)c->n);
        k->srv = (int)rnd_below(g, (uint64_t)c->n - 1);
        if (k->srv >= k->cli)
            k->srv++;
        k->refused = rnd_chance(g, 0.05);
        k->sport = k->refused ? PORT_CLOSED : PORT_LISTEN;
        for (int dir = 0; dir < 2; dir++) {
            uint64_t x = rnd_below(g, 10), n;
            if (x < 4)
                n = rnd_range(g, 0, 2000);
            else if (x < 8)
                n = rnd_range(g, 2000, 65536);
            else
                n = rnd_range(g, 65536, 512 * 1024);
            if (dir == 0)
                k->up = n;
            else
                k->down = n;
        }
        k->key_up = mix64(c->p->seed * 131 + (uint64_t)i * 2 + 1);
        k->key_down = mix64(c->p->seed * 131 + (uint64_t)i * 2 + 2);
        uint32_t tag = (uint32_t)mix64(c->p->seed ^ (uint64_t)i);
        k->hdr[0] = 'c';
        k->hdr[1] = 'h';
        k->hdr[2] = (uint8_t)i;
        k->hdr[3] = (uint8_t)(i >> 8);
        memcpy(k->hdr + 4, &tag, 4);
        k->t_start = rnd_below(g, spread + 1);
        k->rcvbuf = pick_buf(g);
        k->sndbuf = pick_buf(g);
        k->quick_close = rnd_chance(g, 0.5);
        if (!k->refused && rnd_chance(g, 0.15)) {
            k->abort_who = rnd_chance(g, 0.5) ? 1 : 2;
            k->abort_how = (int)rnd_below(g, 2);
            k->t_abort = k->t_start + rnd_below(g, 2000) * SYNACK_MSEC;
        }
        end *ends[2] = {&k->c, &k->s};
        for (int j = 0; j < 2; j++) {
            end *e = ends[j];
            e->k = k;
            e->server = j;
            e->si = j ? k->srv : k->cli;
            e->h = -1;
            e->out_total = j ? k->down : HDR_LEN + k->up;
            e->in_total = j ? HDR_LEN + k->up : k->down;
            uint64_t x = rnd_below(g, 10);
            e->rmode = x < 6 ? R_FAST : x < 8 ? R_SLOW : R_STALL;
            e->rate_bps = rnd_range(g, 50, 5000) * 1000;
            e->stall_after = rnd_below(g, 1000) * SYNACK_MSEC;
            e->stall_len = rnd_range(g, 500, 10000) * SYNACK_MSEC;
        }
    }

    mn = mix_add(mix, mn, ml, "stacks=%d mtu=", c->n);
    for (int i = 0; i < c->n; i++)
        mn = mix_add(mix, mn, ml, "%s%u", i ? "/" : "", c->nd[i].mtu);
    mn = mix_add(mix, mn, ml, " conns=%d delay=%.2fms", c->nconns,
                 (double)lc->delay / 1e6);
    if (lc->loss > 0)
        mn = mix_add(mix, mn, ml, " loss=%.2f%%", lc->loss * 100);
    if (lc->reorder > 0)
        mn = mix_add(mix, mn, ml, " reorder=%.2f%%", lc->reorder * 100);
    if (lc->dup > 0)
        mn = mix_add(mix, mn, ml, " dup=%.2f%%", lc->dup * 100);
    if (lc->corrupt > 0)
        mn = mix_add(mix, mn, ml, " corrupt=%.3f%%", lc->corrupt * 100);
    if (lc->rate_bps)
        mn = mix_add(mix, mn, ml, " rate=%" PRIu64 "M queue=%u",
                     lc->rate_bps / 1000000, lc->queue_limit);
    if (lc->burst_prob > 0)
        mn = mix_add(mix, mn, ml, " bursts=%.2f%%x%u-%u", lc->burst_prob * 100,
                     lc->burst_len, lc->burst_len_max);
    if (c->nflaps)
        mn = mix_add(mix, mn, ml, " flaps=%d", c->nflaps);
    if (c->njumps)
        mn = mix_add(mix, mn, ml, " jumps=%d", c->njumps);
    int na = 0, nr = 0;
    for (int i = 0; i < c->nconns; i++) {
        na += c->k[i].abort_who != 0;
        nr += c->k[i].refused;
    }
    if (na)
        mn = mix_add(mix, mn, ml, " aborts=%d", na);
    if (nr)
        mn = mix_add(mix, mn, ml, " refused=%d", nr);
    (void)mn;
    r->nstacks = (unsigned)c->n;
    r->nconns = (unsigned)c->nconns;
}

static int sysctl(chaos *c, node *d, const char *name, const char *val)
{
    int rc = synack_sysctl_set(d->st, name, val);
    if (rc < 0)
        fail(c, -1, "sysctl %s=%s on %s: %s", name, val, d->name,
             synack_errname(rc));
    return rc;
}

static int node_up(chaos *c, node *d)
{
    rng *g = &c->g;
    synack_stack_config cfg;
    synack_stack_config_init(&cfg);
    const uint8_t mac[6] = {0x02, 0x00, 0x5e, 0x00, 0x01, (uint8_t)(d->idx + 1)};
    memcpy(cfg.mac, mac, 6);
    cfg.ip = d->ip;
    cfg.prefix_len = 24;
    cfg.mtu = d->mtu;
    cfg.max_sockets = MAX_HANDLES;
    cfg.mem_limit = 256ull << 20;
    cfg.seed = mix64(c->p->seed * 8 + (uint64_t)d->idx);
    for (int i = 0; i < 16; i += 8) {
        uint64_t k = mix64(c->p->seed ^ ((uint64_t)d->idx << 40) ^
                           (0x5ec7e7ULL << 8) ^ (uint64_t)i);
        memcpy(cfg.isn_secret + i, &k, 8);
    }
    cfg.mem_alloc = simnet_mem_alloc;
    cfg.mem_release = simnet_mem_release;
    cfg.mem_ctx = &d->alloc;
    d->mem_limit = cfg.mem_limit;
    int rc = synack_stack_new(&cfg, &d->st);
    if (rc < 0) {
        fail(c, -1, "synack_stack_new(%s) = %s", d->name, synack_errname(rc));
        return rc;
    }
    synack_stack_stats s;
    synack_stack_get_stats(d->st, &s);
    d->mem_base = s.mem_used;
    synack_set_trace(d->st, on_trace, d);
    /* Keepalive finds a peer whose reset was lost. A loss burst counts
     * frames, so on a quiet link it can swallow up to 12 probes or SYNs in
     * a row (seconds): more retries than that, so that only a real failure
     * times out. */
    if (sysctl(c, d, "tcp_keepalive_time", "10") < 0 ||
        sysctl(c, d, "tcp_keepalive_intvl", "3") < 0 ||
        sysctl(c, d, "tcp_keepalive_probes", "20") < 0 ||
        sysctl(c, d, "tcp_syn_retries", "15") < 0 ||
        sysctl(c, d, "tcp_synack_retries", "15") < 0)
        return -1;
    if (rnd_chance(g, 0.2) && sysctl(c, d, "tcp_window_scaling", "0") < 0)
        return -1;
    if (rnd_chance(g, 0.2) && sysctl(c, d, "tcp_timestamps", "0") < 0)
        return -1;
    /* With SYN cookies, a full SYN queue (the backlog is 1 to 8, or
     * tcp_max_syn_backlog 2) is answered with cookies; without, such SYNs
     * are dropped and retransmitted. */
    if (rnd_chance(g, 0.2) && sysctl(c, d, "tcp_max_syn_backlog", "2") < 0)
        return -1;
    d->cookies = rnd_chance(g, 0.3);
    if (sysctl(c, d, "tcp_syncookies", d->cookies ? "1" : "0") < 0)
        return -1;
    /* BBR (paced, no cut on loss) on some of the nodes */
    if (rnd_chance(g, 0.3) &&
        sysctl(c, d, "tcp_congestion_control", "bbr") < 0)
        return -1;
    if ((rc = synack_link_port(c->link, &d->port)) < 0) {
        fail(c, -1, "synack_link_port = %s", synack_errname(rc));
        return rc;
    }
    synack_attach(d->st, d->port);
    return 0;
}

static void set_opts(chaos *c, int kidx, node *d, int h, int rcvbuf,
                     int sndbuf)
{
    int one = 1;
    if (synack_setsockopt(d->st, h, SYNACK_SO_KEEPALIVE, &one, sizeof one) < 0)
        fail(c, kidx, "%s SO_KEEPALIVE failed", d->name);
    if (rcvbuf && synack_setsockopt(d->st, h, SYNACK_SO_RCVBUF, &rcvbuf,
                                    sizeof rcvbuf) < 0)
        fail(c, kidx, "%s SO_RCVBUF %d failed", d->name, rcvbuf);
    if (sndbuf && synack_setsockopt(d->st, h, SYNACK_SO_SNDBUF, &sndbuf,
                                    sizeof sndbuf) < 0)
        fail(c, kidx, "%s SO_SNDBUF %d failed", d->name, sndbuf);
}

static int listen_up(chaos *c, node *d)
{
    d->lst = synack_socket(d->st);
    synack_addr a = {d->ip, PORT_LISTEN};
    if (d->lst < 0 || synack_bind(d->st, d->lst, &a) < 0 ||
        synack_listen(d->st, d->lst, d->backlog) < 0) {
        fail(c, -1, "%s socket/bind/listen failed", d->name);
        return -1;
    }
    set_opts(c, -1, d, d->lst, d->rcvbuf, d->sndbuf);
    synack_conn_info x;
    if (synack_conn_get(d->st, d->lst, &x) == 0)
        d->lst_id = x.id;
    return 0;
}

/* ---- the applications -------------------------------------------------------- */

static void note(chaos *c, const conn *k, int server, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void note(chaos *c, const conn *k, int server, const char *fmt, ...)
{
    if (!c->lad || c->draw != k->idx)
        return;
    char text[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    ladder_note(c->lad, c->now, server ? LADDER_B : LADDER_A, text);
}

static void want_at(chaos *c, synack_time_t t)
{
    if (t < c->app_next)
        c->app_next = t;
}

static void end_close(chaos *c, end *e)
{
    node *d = &c->nd[e->si];
    if (e->h >= 0) {
        int rc = synack_close(d->st, e->h, c->now);
        if (rc < 0)
            fail(c, e->k->idx, "%s close = %s", d->name, synack_errname(rc));
        if (e->h < MAX_HANDLES)
            d->byh[e->h] = NULL;
        e->h = -1;
    }
    e->closed = 1;
}

/* A socket call failed: fine if the connection was aborted (or refused as
 * planned); the end records the error and closes. */
static void end_error(chaos *c, end *e, int err, const char *what)
{
    e->err = err;
    note(c, e->k, e->server, "app: %s: %s", what, synack_errname(err));
    end_close(c, e);
}

static void end_abort(chaos *c, end *e)
{
    node *d = &c->nd[e->si];
    conn *k = e->k;
    note(c, k, e->server, "app: abort (%s)",
         k->abort_how ? "synack_abort" : "SO_LINGER 0 + close");
    e->aborted = 1;
    if (e->h < 0) {
        e->closed = 1;
        return;
    }
    int rc;
    if (k->abort_how) {
        rc = synack_abort(d->st, e->h, c->now);
    } else {
        struct synack_linger lg = {1, 0};
        rc = synack_setsockopt(d->st, e->h, SYNACK_SO_LINGER, &lg, sizeof lg);
        if (rc == 0)
            rc = synack_close(d->st, e->h, c->now);
    }
    if (rc < 0)
        fail(c, k->idx, "%s abort = %s", d->name, synack_errname(rc));
    if (e->h < MAX_HANDLES)
        d->byh[e->h] = NULL;
    e->h = -1;
    e->closed = 1;
}

static void pump_send(chaos *c, end *e)
{
    node *d = &c->nd[e->si];
    while (e->out_sent < e->out_total && !e->closed) {
        if (!(synack_poll(d->st, e->h) & SYNACK_POLLOUT))
            return;
        uint64_t want = e->out_total - e->out_sent;
        if (want > IO_CHUNK)
            want = IO_CHUNK;
        stream_fill(e->k, !e->server, e->out_sent, c->buf, (size_t)want);
        ssize_t n = synack_send(d->st, e->h, c->buf, (size_t)want, c->now);
        if (n > 0) {
            if ((uint64_t)n > want)
                fail(c, e->k->idx, "%s send returned %zd for %" PRIu64,
                     d->name, n, want);
            e->out_sent += (uint64_t)n;
            continue;
        }
        if (n == -SYNACK_EAGAIN)
            return;
        end_error(c, e, n == 0 ? SYNACK_EINVAL : (int)-n, "send");
        return;
    }
}

static void pump_recv(chaos *c, end *e)
{
    node *d = &c->nd[e->si];
    conn *k = e->k;
    uint64_t budget = UINT64_MAX;
    synack_time_t since = c->now - e->t_conn;
    if (e->rmode == R_SLOW) {
        double allowed = (double)since / 1e9 * (double)e->rate_bps / 8.0;
        budget = allowed > (double)e->in_rcvd
                     ? (uint64_t)(allowed - (double)e->in_rcvd)
                     : 0;
        if (budget < 512 && !e->eof) {
            want_at(c, c->now + READ_TICK);
            return;
        }
    } else if (e->rmode == R_STALL && since >= e->stall_after &&
               since < e->stall_after + e->stall_len) {
        want_at(c, e->t_conn + e->stall_after + e->stall_len);
        return;
    }
    while (!e->eof && !e->closed && budget > 0) {
        size_t want = budget < IO_CHUNK ? (size_t)budget : IO_CHUNK;
        ssize_t n = synack_recv(d->st, e->h, c->buf, want, c->now);
        if (n > 0) {
            if ((size_t)n > want)
                fail(c, k->idx, "%s recv returned %zd for %zu", d->name, n,
                     want);
            if (e->in_rcvd + (uint64_t)n > e->in_total) {
                fail(c, k->idx, "%s received %" PRIu64 " bytes of a %" PRIu64
                                "-byte stream",
                     d->name, e->in_rcvd + (uint64_t)n, e->in_total);
                end_close(c, e);
                return;
            }
            stream_fill(k, e->server, e->in_rcvd, c->exp, (size_t)n);
            if (c->p->fault && k->idx == 0 && !k->fault_done) {
                c->exp[n / 2] ^= 0x01; /* the checker's injected fault */
                k->fault_done = 1;
            }
            if (memcmp(c->buf, c->exp, (size_t)n) != 0) {
                size_t i = 0;
                while (c->buf[i] == c->exp[i])
                    i++;
                fail(c, k->idx, "%s (%s): data differs at stream offset "
                                "%" PRIu64 ": got 0x%02x, expected 0x%02x",
                     d->name, e->server ? "server" : "client",
                     e->in_rcvd + i, c->buf[i], c->exp[i]);
                note(c, k, e->server, "app: data differs at offset %" PRIu64,
                     e->in_rcvd + i);
                end_close(c, e);
                return;
            }
            e->in_rcvd += (uint64_t)n;
            c->r->bytes += (uint64_t)n;
            budget -= (uint64_t)n;
            continue;
        }
        if (n == 0) {
            e->eof = 1;
            note(c, k, e->server, "app: end of stream after %" PRIu64,
                 e->in_rcvd);
            if (e->in_rcvd != e->in_total)
                fail(c, k->idx, "%s (%s) read end of stream after %" PRIu64
                                " of %" PRIu64 " bytes",
                     d->name, e->server ? "server" : "client", e->in_rcvd,
                     e->in_total);
        } else if (n != -SYNACK_EAGAIN) {
            end_error(c, e, (int)-n, "recv");
        }
        break;
    }
    if (e->rmode == R_SLOW && !e->eof && !e->closed)
        want_at(c, c->now + READ_TICK);
}

/* Sent everything: half-close (or close when the peer's stream is already
 * read); read everything too: close. */
static void progress(chaos *c, end *e)
{
    node *d = &c->nd[e->si];
    if (e->closed)
        return;
    if (e->out_sent == e->out_total && !e->shut) {
        if (e->k->quick_close && e->eof) {
            note(c, e->k, e->server, "app: close");
            end_close(c, e);
            return;
        }
        int rc = synack_shutdown(d->st, e->h, SYNACK_SHUT_WR, c->now);
        if (rc < 0) {
            end_error(c, e, -rc, "shutdown");
            return;
        }
        note(c, e->k, e->server, "app: shutdown(SHUT_WR)");
        e->shut = 1;
    }
    if (e->shut && e->eof) {
        note(c, e->k, e->server, "app: close");
        end_close(c, e);
    }
}

static void run_end(chaos *c, end *e)
{
    conn *k = e->k;
    if (e->closed || e->h < 0)
        return;
    if (k->abort_who == (e->server ? 2 : 1)) {
        if (c->now >= k->t_abort) {
            end_abort(c, e);
            return;
        }
        want_at(c, k->t_abort);
    }
    pump_send(c, e);
    if (!e->closed)
        pump_recv(c, e);
    progress(c, e);
}

static void client_start(chaos *c, conn *k)
{
    node *d = &c->nd[k->cli];
    end *e = &k->c;
    k->started = 1;
    int h = synack_socket(d->st);
    if (h < 0 || h >= MAX_HANDLES) {
        fail(c, k->idx, "%s socket = %d", d->name, h);
        e->closed = 1;
        return;
    }
    e->h = h;
    d->byh[h] = e;
    set_opts(c, k->idx, d, h, k->rcvbuf, k->sndbuf);
    synack_addr to = {c->nd[k->srv].ip, k->sport};
    if (c->lad && c->draw == k->idx)
        c->draw_pending_h = h;
    int rc = synack_connect(d->st, h, &to, c->now);
    c->draw_pending_h = -1;
    synack_addr me;
    if (synack_getsockname(d->st, h, &me) == 0)
        k->cport = me.port;
    if (rc != -SYNACK_EINPROGRESS) {
        fail(c, k->idx, "%s connect = %s, expected EINPROGRESS", d->name,
             synack_errname(rc));
        end_error(c, e, rc < 0 ? -rc : SYNACK_EINVAL, "connect");
        return;
    }
    note(c, k, 0, "app: connect from port %u", k->cport);
}

static void run_client(chaos *c, conn *k)
{
    end *e = &k->c;
    node *d = &c->nd[k->cli];
    if (!k->started) {
        if (c->now < k->t_start) {
            want_at(c, k->t_start);
            return;
        }
        client_start(c, k);
    }
    if (e->closed)
        return;
    if (!e->connected) {
        if (k->abort_who == 1) {
            if (c->now >= k->t_abort) {
                end_abort(c, e);
                return;
            }
            want_at(c, k->t_abort);
        }
        unsigned ev = synack_poll(d->st, e->h);
        if (ev & (SYNACK_POLLERR | SYNACK_POLLHUP)) {
            int err = 0;
            size_t len = sizeof err;
            synack_getsockopt(d->st, e->h, SYNACK_SO_ERROR, &err, &len);
            end_error(c, e, err ? err : SYNACK_EINVAL, "connect");
            return;
        }
        if (!(ev & SYNACK_POLLOUT))
            return;
        e->connected = 1;
        e->t_conn = c->now;
        if (k->refused)
            fail(c, k->idx, "connected to a port with no listener");
    }
    run_end(c, e);
}

/* An accepted connection whose header is complete: find its plan. */
static void bind_anon(chaos *c, anon *a)
{
    node *d = &c->nd[a->si];
    int idx = a->hdr[2] | a->hdr[3] << 8;
    conn *k = idx < c->nconns ? &c->k[idx] : NULL;
    if (k && k->bound && k->s.closed && d->cookies &&
        memcmp(k->hdr, a->hdr, HDR_LEN) == 0) {
        /* The server closed (aborted) this connection; the client's
         * retransmission of its first segment, which it sent before it got
         * the reset, is a valid SYN-cookie ACK again and so a new
         * connection (as on Linux). Close it: the client's checks cover
         * the connection. */
        c->r->cookie_resets++;
        synack_close(d->st, a->h, c->now);
        a->h = -1;
        return;
    }
    if (!k || memcmp(k->hdr, a->hdr, HDR_LEN) != 0 || k->srv != a->si ||
        k->bound || a->peer.ip != c->nd[k->cli].ip ||
        a->peer.port != k->cport) {
        fail(c, k ? idx : -1, "%s accepted a connection from %08x:%u whose "
                              "header names conn %d (%s)",
             d->name, a->peer.ip, a->peer.port, idx,
             !k ? "no such connection"
                : k->bound ? "already accepted"
                           : "header or addresses do not match");
        synack_close(d->st, a->h, c->now);
        a->h = -1;
        return;
    }
    end *e = &k->s;
    k->bound = 1;
    e->h = a->h;
    if (a->h < MAX_HANDLES)
        d->byh[a->h] = e;
    e->connected = 1;
    e->t_conn = c->now;
    e->in_rcvd = HDR_LEN;
    a->h = -1;
    note(c, k, 1, "app: accepted, header read");
}

static void run_anon(chaos *c, anon *a)
{
    node *d = &c->nd[a->si];
    while (a->got < HDR_LEN) {
        ssize_t n = synack_recv(d->st, a->h, a->hdr + a->got,
                                HDR_LEN - a->got, c->now);
        if (n > 0) {
            a->got += (unsigned)n;
            continue;
        }
        if (n == -SYNACK_EAGAIN)
            return;
        /* the client went away before its header arrived: it must have
         * aborted, which the client's own checks cover; EOF here would
         * mean a FIN before the header */
        if (n == 0)
            fail(c, -1, "%s: end of stream from %08x:%u before the 8-byte "
                        "header (%u bytes)",
                 d->name, a->peer.ip, a->peer.port, a->got);
        else
            c->r->peer_errors++;
        synack_close(d->st, a->h, c->now);
        if (a->h < MAX_HANDLES)
            d->byh[a->h] = NULL;
        a->h = -1;
        return;
    }
    bind_anon(c, a);
}

static void run_listener(chaos *c, node *d)
{
    if (d->lst < 0)
        return;
    for (;;) {
        synack_addr peer;
        int h = synack_accept(d->st, d->lst, &peer);
        if (h == -SYNACK_EAGAIN)
            break;
        if (h < 0) {
            fail(c, -1, "%s accept = %s", d->name, synack_errname(h));
            break;
        }
        int one = 1;
        synack_setsockopt(d->st, h, SYNACK_SO_KEEPALIVE, &one, sizeof one);
        int slot = -1;
        for (int i = 0; i < c->nanon; i++)
            if (c->an[i].h < 0) {
                slot = i;
                break;
            }
        if (slot < 0 && c->nanon < MAX_ANON)
            slot = c->nanon++;
        if (slot < 0) {
            fail(c, -1, "more than %d accepted connections at once", MAX_ANON);
            synack_close(d->st, h, c->now);
            continue;
        }
        anon *a = &c->an[slot];
        memset(a, 0, sizeof *a);
        a->si = d->idx;
        a->h = h;
        a->peer = peer;
    }
}

/* Close a listener once every client that may come to it is done. */
static void close_listener(chaos *c, node *d)
{
    if (d->lst < 0)
        return;
    for (int i = 0; i < c->nconns; i++) {
        const conn *k = &c->k[i];
        if (k->srv == d->idx && !k->refused && !k->c.closed)
            return;
    }
    synack_close(d->st, d->lst, c->now);
    d->lst = -1;
}

static void apps(chaos *c)
{
    c->app_next = SYNACK_TIME_NEVER;
    for (int i = 0; i < c->n; i++)
        run_listener(c, &c->nd[i]);
    for (int i = 0; i < c->nanon; i++)
        if (c->an[i].h >= 0)
            run_anon(c, &c->an[i]);
    for (int i = 0; i < c->nconns; i++) {
        conn *k = &c->k[i];
        run_client(c, k);
        if (k->bound)
            run_end(c, &k->s);
    }
    /* after the clients: one may just have finished */
    for (int i = 0; i < c->n; i++)
        close_listener(c, &c->nd[i]);
}

static int all_done(chaos *c)
{
    for (int i = 0; i < c->nconns; i++) {
        const conn *k = &c->k[i];
        if (!k->started || !k->c.closed || (k->bound && !k->s.closed))
            return 0;
    }
    for (int i = 0; i < c->nanon; i++)
        if (c->an[i].h >= 0)
            return 0;
    for (int i = 0; i < c->n; i++)
        if (c->nd[i].lst >= 0 || synack_stack_conn_count(c->nd[i].st))
            return 0;
    return 1;
}

/* ---- invariants ------------------------------------------------------------------ */

enum {
    INV_COUNT, INV_STATE, INV_TRACE, INV_BACKLOG, INV_RCVBUF, INV_SNDBUF,
    INV_ACKED, INV_SENDQ, INV_RECEIVED, INV_TIMER, INV_OVERDUE,
    INV_MEM, INV_CORE,
};

#define INV_FAIL(bit, kidx, ...)                                               \
    do {                                                                       \
        if (!(c->inv_seen & (1u << (bit)))) {                                  \
            c->inv_seen |= 1u << (bit);                                        \
            fail(c, kidx, __VA_ARGS__);                                        \
        }                                                                      \
    } while (0)

/* Is a running timer of this kind meaningful in this state? */
static int timer_meaningful(int kind, int state)
{
    switch (state) {
    case SYNACK_LISTEN:
    case SYNACK_CLOSED:
        return kind == SYNACK_TIMER_NONE;
    case SYNACK_TIME_WAIT:
        return kind == SYNACK_TIMER_NONE || kind == SYNACK_TIMER_TIMEWAIT;
    default:
        break;
    }
    switch (kind) {
    case SYNACK_TIMER_TIMEWAIT:
        return state == SYNACK_FIN_WAIT_2;
    case SYNACK_TIMER_PERSIST:
        return state != SYNACK_SYN_SENT && state != SYNACK_SYN_RECEIVED &&
               state != SYNACK_FIN_WAIT_2;
    case SYNACK_TIMER_ON:
        return state != SYNACK_FIN_WAIT_2; /* all we sent is acknowledged */
    default:
        return 1;
    }
}

static void invariants(chaos *c, node *d)
{
    synack_conn_info ci[64];
    size_t n = synack_conn_list(d->st, ci, 64);
    if (n > 64) {
        INV_FAIL(INV_COUNT, -1, "%s has %zu connections", d->name, n);
        n = 64;
    }
    for (size_t i = 0; i < n; i++) {
        const synack_conn_info *x = &ci[i];
        int ki = -1;
        const end *e = NULL;
        if (x->handle >= 0 && x->handle < MAX_HANDLES && d->byh[x->handle]) {
            e = d->byh[x->handle];
            ki = e->k->idx;
        }
        if (x->state < SYNACK_CLOSED || x->state >= SYNACK__STATE_COUNT) {
            INV_FAIL(INV_STATE, ki, "%s conn #%u listed in state %d", d->name,
                     x->id, x->state);
            continue;
        }
        const crec *r = NULL;
        for (size_t j = d->nrecs; j-- > 0;)
            if (d->recs[j].id == x->id) {
                r = &d->recs[j];
                break;
            }
        if (r && r->nevents && r->last != x->state)
            INV_FAIL(INV_TRACE, ki, "%s conn #%u is in %s, the trace last "
                                    "said %s",
                     d->name, x->id, synack_state_name(x->state),
                     synack_state_name(r->last));
        if (!timer_meaningful(x->timer, x->state))
            INV_FAIL(INV_TIMER, ki >= 0 ? ki : conn_of(c, d->idx, &x->local,
                                                      &x->remote),
                     "%s conn #%u in %s runs the %s timer", d->name, x->id,
                     synack_state_name(x->state),
                     synack_timer_name(x->timer));
        if (x->timer != SYNACK_TIMER_NONE && x->timer_expires <= c->now)
            INV_FAIL(INV_OVERDUE, ki, "%s conn #%u (%s): %s timer due at "
                                      "%.6fs did not run",
                     d->name, x->id, synack_state_name(x->state),
                     synack_timer_name(x->timer),
                     (double)x->timer_expires / 1e9);
        if (x->state == SYNACK_LISTEN) {
            if (x->recv_q > x->send_q)
                INV_FAIL(INV_BACKLOG, -1, "%s listener: accept queue %u > "
                                          "backlog %u",
                         d->name, x->recv_q, x->send_q);
            continue;
        }
        if (x->bytes_acked > x->bytes_sent)
            INV_FAIL(INV_ACKED, ki, "%s conn #%u: bytes_acked %" PRIu64
                                    " > bytes_sent %" PRIu64,
                     d->name, x->id, x->bytes_acked, x->bytes_sent);
        if (!e)
            continue;
        int v;
        size_t len = sizeof v;
        if (synack_getsockopt(d->st, x->handle, SYNACK_SO_RCVBUF, &v, &len) ==
                0 &&
            (uint64_t)x->recv_q + x->rcv_wnd > (uint64_t)v)
            INV_FAIL(INV_RCVBUF, ki, "%s conn #%u (%s): Recv-Q %u + rcv_wnd "
                                     "%u > SO_RCVBUF %d",
                     d->name, x->id, synack_state_name(x->state), x->recv_q,
                     x->rcv_wnd, v);
        len = sizeof v;
        if (synack_getsockopt(d->st, x->handle, SYNACK_SO_SNDBUF, &v, &len) ==
                0 &&
            x->send_q > (uint32_t)v)
            INV_FAIL(INV_SNDBUF, ki, "%s conn #%u (%s): Send-Q %u > SO_SNDBUF "
                                     "%d",
                     d->name, x->id, synack_state_name(x->state), x->send_q,
                     v);
        if (x->state >= SYNACK_ESTABLISHED &&
            e->out_sent != x->bytes_acked + x->send_q)
            INV_FAIL(INV_SENDQ, ki, "%s conn #%u (%s): the application wrote "
                                    "%" PRIu64 " bytes, acknowledged %" PRIu64
                                    " + Send-Q %u",
                     d->name, x->id, synack_state_name(x->state), e->out_sent,
                     x->bytes_acked, x->send_q);
        const end *peer = e->server ? &e->k->c : &e->k->s;
        uint64_t written = peer->out_sent;
        if (!e->server && !e->k->bound)
            written = 0;
        if (x->bytes_received > written || e->in_rcvd + x->recv_q > written)
            INV_FAIL(INV_RECEIVED, ki, "%s conn #%u: received %" PRIu64
                                       " (read %" PRIu64 " + Recv-Q %u), the "
                                       "peer application wrote %" PRIu64,
                     d->name, x->id, x->bytes_received, e->in_rcvd, x->recv_q,
                     written);
    }
    /* and the core's own view: sequence variables, rings, out-of-order
     * ranges, advertised window, timers per state, queues, memory */
    char msg[256];
    size_t nbad = synack_stack_check(d->st, msg, sizeof msg);
    if (nbad)
        INV_FAIL(INV_CORE, -1, "%s synack_stack_check: %zu violations, the "
                               "first: %s",
                 d->name, nbad, msg);
    synack_stack_stats s;
    synack_stack_get_stats(d->st, &s);
    if (s.mem_used > s.mem_peak || s.mem_used > d->mem_limit)
        INV_FAIL(INV_MEM, -1, "%s mem_used %" PRIu64 " > mem_peak %" PRIu64
                              " or limit %" PRIu64,
                 d->name, s.mem_used, s.mem_peak, d->mem_limit);
}

/* ---- end of run ------------------------------------------------------------------- */

static int peer_error_ok(int err)
{
    return err == SYNACK_ECONNRESET || err == SYNACK_EPIPE ||
           err == SYNACK_ETIMEDOUT;
}

static void check_conn(chaos *c, conn *k)
{
    chaos_result *r = c->r;
    const end *cl = &k->c, *sv = &k->s;
    if (k->refused) {
        if (cl->err != SYNACK_ECONNREFUSED && !cl->aborted)
            fail(c, k->idx, "to a closed port: client error %s, expected "
                            "ECONNREFUSED",
                 cl->err ? synack_errname(cl->err) : "none");
        else
            r->refused++;
        if (k->bound)
            fail(c, k->idx, "accepted on a port with no listener");
        return;
    }
    if (cl->aborted || sv->aborted) {
        r->aborted++;
        const end *victim = cl->aborted ? sv : cl;
        if (victim == sv && !k->bound)
            return; /* aborted before the server's application saw it */
        if (victim->err) {
            if (!peer_error_ok(victim->err))
                fail(c, k->idx, "%s of an aborted connection saw %s",
                     victim->server ? "server" : "client",
                     synack_errname(victim->err));
            r->peer_errors++;
        } else if (!(victim->eof && victim->in_rcvd == victim->in_total)) {
            fail(c, k->idx, "%s of an aborted connection saw neither an error "
                            "nor its whole stream (%" PRIu64 " of %" PRIu64
                            "%s)",
                 victim->server ? "server" : "client", victim->in_rcvd,
                 victim->in_total, victim->eof ? ", EOF" : "");
        }
        return;
    }
    /* A SYN cookie is checked against the first ACK's sequence number: if
     * the client's data overtakes its handshake ACK (or that ACK is lost,
     * or dropped because the accept queue is full), the listener answers
     * the data with a reset, as Linux does; the client's retransmission of
     * its first segment may still open the connection on the server (a
     * valid cookie again), which then runs to its end while the client is
     * gone (seed 71551). So on a cookie listener a client reset is
     * tolerated; the bytes either side read were still checked. */
    if (c->nd[k->srv].cookies && cl->err == SYNACK_ECONNRESET) {
        r->cookie_resets++;
        return;
    }
    if (!k->bound)
        fail(c, k->idx, "the server never accepted it (client: %s)",
             cl->err ? synack_errname(cl->err) : "no error");
    const end *ends[2] = {cl, sv};
    for (int j = 0; j < 2; j++) {
        const end *e = ends[j];
        const char *who = j ? "server" : "client";
        if (j && !k->bound)
            break;
        if (e->err)
            fail(c, k->idx, "%s saw %s (nobody aborted)", who,
                 synack_errname(e->err));
        else if (e->out_sent != e->out_total || e->in_rcvd != e->in_total ||
                 !e->eof)
            fail(c, k->idx, "%s sent %" PRIu64 " of %" PRIu64 ", read %" PRIu64
                            " of %" PRIu64 "%s",
                 who, e->out_sent, e->out_total, e->in_rcvd, e->in_total,
                 e->eof ? "" : ", no end of stream");
    }
}

static void final_checks(chaos *c, node *d)
{
    synack_stack_stats s;
    synack_stack_get_stats(d->st, &s);
    if (s.illegal_transitions)
        fail(c, -1, "%s stats.illegal_transitions = %" PRIu64, d->name,
             s.illegal_transitions);
    if (s.timer_misfires)
        fail(c, -1, "%s stats.timer_misfires = %" PRIu64
                    " (a timer fired in a state where it has no meaning)",
             d->name, s.timer_misfires);
    if (d->first_bad[0])
        fail(c, -1, "%s state trace: %s", d->name, d->first_bad);
    if (d->oversize)
        fail(c, -1, "%s sent %" PRIu64 " segments larger than the receiver's "
                    "MTU (first: IP length %u)",
             d->name, d->oversize, d->oversize_len);
    for (size_t i = 0; i < d->nrecs; i++) {
        const crec *r = &d->recs[i];
        if (r->nevents && r->last != SYNACK_CLOSED)
            fail(c, -1, "%s conn #%u ended in %s: %s", d->name, r->id,
                 synack_state_name(r->last), r->hist);
    }
    if (s.mem_used != d->mem_base)
        fail(c, -1, "%s holds %" PRIu64 " bytes after the run, %" PRIu64
                    " at the start",
             d->name, s.mem_used, d->mem_base);
}

/* ---- the loop ----------------------------------------------------------------------- */

static synack_time_t earliest(const chaos *c)
{
    synack_time_t t = c->app_next;
    for (int i = 0; i < c->n; i++) {
        synack_time_t x = synack_stack_next_deadline(c->nd[i].st);
        if (x < t)
            t = x;
        x = synack_dev_next_deadline(c->nd[i].port);
        if (x < t)
            t = x;
    }
    if (c->flap_i < 2 * c->nflaps) {
        int f = c->flap_i / 2;
        synack_time_t x = c->flap_at[f] + (c->flap_i & 1 ? c->flap_len[f] : 0);
        if (x < t)
            t = x;
    }
    return t;
}

static void dump_unfinished(chaos *c, const char *why)
{
    for (int i = 0; i < c->nconns; i++) {
        const conn *k = &c->k[i];
        if (k->started && k->c.closed && (!k->bound || k->s.closed))
            continue;
        fail(c, i, "%s: client %s sent %" PRIu64 "/%" PRIu64 " read %" PRIu64
                   "/%" PRIu64 "; server %s sent %" PRIu64 "/%" PRIu64
                   " read %" PRIu64 "/%" PRIu64,
             why, !k->started ? "not started" : k->c.closed ? "closed" : "open",
             k->c.out_sent, k->c.out_total, k->c.in_rcvd, k->c.in_total,
             !k->bound ? "not accepted" : k->s.closed ? "closed" : "open",
             k->s.out_sent, k->s.out_total, k->s.in_rcvd, k->s.in_total);
    }
    for (int i = 0; i < c->n; i++) {
        size_t n = synack_stack_conn_count(c->nd[i].st);
        if (n)
            fail(c, -1, "%s: %s still has %zu connections", why,
                 c->nd[i].name, n);
    }
}

static void run_loop(chaos *c)
{
    chaos_result *r = c->r;
    synack_time_t last = 0;
    int same = 0;
    apps(c);
    while (!all_done(c)) {
        synack_time_t t = earliest(c);
        if (c->jump_i < c->njumps && t != SYNACK_TIME_NEVER &&
            t >= c->jump_at[c->jump_i]) {
            /* the clock leaps: everything due meanwhile runs late */
            synack_time_t to = c->jump_at[c->jump_i] + c->jump_len[c->jump_i];
            to = to > c->now ? to : c->now;
            if (c->lad) {
                char text[64];
                snprintf(text, sizeof text, "clock jumps %.3fs -> %.3fs",
                         (double)c->now / 1e9, (double)to / 1e9);
                ladder_note(c->lad, to, -1, text);
            }
            c->now = to;
            c->jump_i++;
            r->jumps++;
        } else if (t == SYNACK_TIME_NEVER) {
            dump_unfinished(c, "stalled (nothing scheduled)");
            return;
        } else if (t > c->now) {
            c->now = t;
        }
        if (c->now > VLIMIT) {
            dump_unfinished(c, "virtual-time limit");
            return;
        }
        while (c->flap_i < 2 * c->nflaps) {
            int f = c->flap_i / 2;
            synack_time_t x =
                c->flap_at[f] + (c->flap_i & 1 ? c->flap_len[f] : 0);
            if (x > c->now)
                break;
            int down = !(c->flap_i & 1);
            synack_link_set_down(c->link, down);
            if (c->lad)
                ladder_note(c->lad, c->now, -1, down ? "link down" : "link up");
            c->flap_i++;
        }
        int round;
        for (round = 0; round < SAME_TIME_ROUNDS; round++) {
            for (int i = 0; i < c->n; i++)
                synack_dev_poll(c->nd[i].port, c->now);
            for (int i = 0; i < c->n; i++)
                synack_stack_advance(c->nd[i].st, c->now);
            synack_time_t x = SYNACK_TIME_NEVER;
            for (int i = 0; i < c->n && x > c->now; i++) {
                synack_time_t y = synack_stack_next_deadline(c->nd[i].st);
                synack_time_t z = synack_dev_next_deadline(c->nd[i].port);
                x = y < x ? y : x;
                x = z < x ? z : x;
            }
            if (x > c->now)
                break;
        }
        if (round == SAME_TIME_ROUNDS) {
            fail(c, -1, "livelock: %d rounds at one instant", round);
            return;
        }
        r->steps++;
        if (c->now == last) {
            if (++same >= LIVELOCK_STEPS) {
                fail(c, -1, "livelock: %d steps without time advancing", same);
                return;
            }
        } else {
            same = 0;
            last = c->now;
        }
        for (int i = 0; i < c->n; i++)
            invariants(c, &c->nd[i]);
        apps(c);
    }
}

void chaos_params_init(chaos_params *p)
{
    memset(p, 0, sizeof *p);
    p->seed = 1;
    p->draw_conn = -1;
}

int chaos_run(const chaos_params *p, chaos_result *r)
{
    memset(r, 0, sizeof *r);
    r->ok = 1;
    r->bad_conn = -1;
    chaos *c = calloc(1, sizeof *c);
    if (!c) {
        r->ok = 0;
        snprintf(r->msg, sizeof r->msg, "out of memory\n");
        return 0;
    }
    c->p = p;
    c->r = r;
    c->g.s = mix64(p->seed ^ 0xc4a05c4a05ULL);
    c->draw = -1;
    c->draw_pending_h = -1;
    plan(c);
    c->buf = malloc(IO_CHUNK);
    c->exp = malloc(IO_CHUNK);
    if (!c->buf || !c->exp) {
        fail(c, -1, "out of memory");
        goto out;
    }
    int rc = synack_link_new(&c->lc, &c->link);
    if (rc < 0) {
        fail(c, -1, "synack_link_new = %s", synack_errname(rc));
        goto out;
    }
    for (int i = 0; i < c->n; i++)
        if (node_up(c, &c->nd[i]) < 0)
            goto out;
    if (p->draw_conn >= 0 && p->draw_conn < c->nconns && p->draw_out) {
        const conn *k = &c->k[p->draw_conn];
        snprintf(c->lad_a, sizeof c->lad_a, "%s (client)", c->nd[k->cli].name);
        snprintf(c->lad_b, sizeof c->lad_b, "%s (server)", c->nd[k->srv].name);
        struct ladder_config lcfg = {p->draw_out, LADDER_AUTO, 0, 40, 40,
                                     c->lad_a, c->lad_b, NULL};
        c->lad = ladder_new(&lcfg);
        if (c->lad) {
            c->draw = p->draw_conn;
            ladder_set_state(c->lad, LADDER_A, SYNACK_CLOSED);
            ladder_set_state(c->lad, LADDER_B, SYNACK_CLOSED);
        }
    }
    for (int i = 0; i < c->n; i++)
        if (listen_up(c, &c->nd[i]) < 0)
            goto out;
    run_loop(c);
    r->t_end = c->now;
    for (int i = 0; i < c->nconns; i++)
        check_conn(c, &c->k[i]);
    for (int i = 0; i < c->n; i++)
        final_checks(c, &c->nd[i]);

out:
    if (c->lad) {
        ladder_finish(c->lad);
        ladder_free(c->lad);
    }
    if (c->link) {
        synack_link_stats ls;
        synack_link_get_stats(c->link, &ls);
        r->flaps = ls.flaps;
    }
    for (int i = 0; i < c->n; i++) {
        node *d = &c->nd[i];
        synack_stack_del(d->st);
        synack_dev_destroy(d->port);
        free(d->recs);
    }
    synack_link_del(c->link);
    for (int i = 0; i < c->n; i++) {
        node *d = &c->nd[i];
        if (!d->st)
            continue;
        if (d->alloc.bytes || d->alloc.blocks)
            fail(c, -1, "%s after synack_stack_del: %" PRId64 " bytes in %" PRId64
                        " blocks not released",
                 d->name, d->alloc.bytes, d->alloc.blocks);
        if (d->alloc.bad_release)
            fail(c, -1, "%s: %" PRIu64 " mem_release calls with a wrong size",
                 d->name, d->alloc.bad_release);
    }
    free(c->buf);
    free(c->exp);
    free(c);
    return r->ok;
}

void chaos_report(const chaos_params *p, const chaos_result *r,
                  const char *replay_cmd, FILE *out)
{
    fprintf(out, "chaos seed %" PRIu64 " FAILED (%d checks) [%s]\n%s", p->seed,
            r->nfail, r->mix, r->msg);
    fprintf(out, "replay: %s\n", replay_cmd);
    if (r->bad_conn < 0) {
        fprintf(out, "(no single connection to draw: the failure is "
                     "stack-wide; replay with SYNACK_SIM_TRACE=1 for every "
                     "event)\n");
        return;
    }
    fprintf(out, "ladder diagram of conn %d (seed %" PRIu64 " run again):\n",
            r->bad_conn, p->seed);
    chaos_params q = *p;
    q.verbose = 0;
    q.draw_conn = r->bad_conn;
    q.draw_out = out;
    chaos_result r2;
    chaos_run(&q, &r2);
    if (r2.ok || strcmp(r2.msg, r->msg) != 0)
        fprintf(out, "NOTE: the run drawn differs from the failing run (not "
                     "deterministic?)\n");
    fflush(out);
}
