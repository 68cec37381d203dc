/*
 * synack sim: two stacks, A (10.0.0.1, the client) and B (10.0.0.2, the
 * server), on one in-memory link, run in virtual time by synack_vloop, and
 * drawn as the RFC 9293 ladder diagram.
 *
 * Wiring per side:  stack -> [pcap recorder, A only] -> probe -> link port
 * The probe is a device of our own between the stack and the link. For each
 * TCP frame a stack transmits it asks the link what it did with the frame
 * (the link decides loss, corruption, duplication and reordering when the
 * frame is handed to it, so the change in its counters across the call is
 * exactly this frame's fate), and draws the row. The trace hook supplies
 * state changes with their causes, retransmission marks and drops.
 *
 * The applications on A and B are small state machines per scenario, run
 * after every step of the loop. The data is a seeded pattern, generated
 * when sent and checked as it is read, so any size can be verified without
 * keeping it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <synack/dev.h>
#include <synack/synack.h>

#include "explain_out.h"
#include "explain_rules.h"
#include "capread.h"
#include "ladder.h"
#include "opts.h"
#include "tsplot.h"
#include "tool.h"

#define PROG "synack sim"
#define CHUNK 65536
#define SERVER_PORT 80
#define MAX_CHECKS 16
#define MAX_FAILS 8
#define OUTQ 32

struct sim;

/* ---- per-side state ------------------------------------------------------- */

struct conn_track {
    uint32_t id;
    int state;
    int listener;
    synack_addr local;
};

struct out_rec {
    uint32_t seq, ack, len;
    uint8_t flags, retrans;
};

struct side {
    struct sim *sim;
    int idx;   /* LADDER_A or LADDER_B */
    char name; /* 'A' or 'B' */
    uint32_t ip;
    uint8_t mac[6];
    synack_stack *st;
    synack_dev *dev; /* outermost device; owns the others */
    uint64_t mem_base;

    /* from the trace hook */
    struct conn_track *conns;
    size_t nconns, capconns;
    uint32_t focus; /* connection drawn in the column; 0: none yet */
    unsigned visited; /* bit per state, over all connections */
    uint8_t edge[SYNACK__STATE_COUNT][SYNACK__STATE_COUNT];
    char close_cause[64]; /* cause of the last connection's CLOSED */
    struct out_rec outq[OUTQ];
    size_t noutq;
    uint64_t bytes_in_fw2; /* payload received in FIN-WAIT-2 */
    uint64_t drops;

    /* from the probe */
    uint64_t segs, retrans, fin_retrans, fins, ka_probes, lost;
    int first_fin_lost;
    uint64_t tw_segs; /* segments sent while in TIME-WAIT */
    synack_time_t tw_last_seg, tw_enter, tw_leave, t_probe1;
    uint64_t frames_tx, frames_rx; /* every frame, TCP or not */

    /* the application */
    int lsock, sock;
    int connecting, connected, closed, shut;
    uint64_t tx_total, tx_done;
    uint64_t rx_expect, rx_done, rx_bad; /* rx_bad: offset+1 of a mismatch */
    int rx_eof;
    int err; /* first error the application saw (positive SYNACK_E*) */
    synack_time_t t_connected, t_eof, t_last_rx;
    synack_time_t t_tx_start; /* first byte the application wrote */
    struct pattern *tx_pat; /* what this side sends */
    uint8_t *gen;
    uint64_t gen_off;
    size_t gen_len;
    uint8_t *rbuf, *vbuf;
};

struct probe {
    synack_dev dev; /* first: a synack_dev * is a struct probe * */
    synack_dev *inner;
    struct side *side;
    char name[32];
};

/* ---- scenarios ------------------------------------------------------------- */

enum target { TGT_NONE, TGT_A_FIRST_FIN, TGT_A_FIRST_IN_TIME_WAIT };

struct scenario {
    const char *name;
    const char *help;
    const char *story; /* printed above the ladder */
    uint64_t bytes;    /* default --bytes */
    int target;        /* frame dropped through the link's loss pattern */
    const char *const *tunables; /* presets, "name=value" */
    void (*start)(struct sim *, synack_time_t now);
    void (*poll)(struct sim *, synack_time_t now);
    void (*check)(struct sim *);
};

struct check {
    int ok;
    char text[160];
};

struct sim {
    const struct scenario *sc;
    const struct tool_opts *o;
    uint64_t bytes;
    int ladder_mode, absolute, quiet;
    FILE *svg; /* --svg: the ladder as SVG, written by ladder_finish */
    struct tsrec *plot; /* --plot: segments and cwnd samples */
    synack_time_t time_limit;
    uint64_t flip_rx; /* testing aid: offset+1 of a byte B sees flipped */
    int dry;                 /* dry run: find the target frame, print nothing */
    uint64_t target_index;   /* found by the dry run */
    uint32_t loss_pattern[1];
    size_t loss_pattern_len;

    synack_link *link;
    synack_vloop *loop;
    ladder *lad;
    struct side s[2];
    int link_down;
    unsigned drop_from; /* explain scenarios: bit 1<<idx, that side's
                         * frames are lost (a one-way outage) */
    uint64_t linkdown_drops;
    uint64_t pcap_frames;

    /* scenario progress */
    int phase;
    synack_time_t t_action; /* next timed action; SYNACK_TIME_NEVER: none */

    /* explain (--explain-at): the run stops at explain_at, the stacks are
     * explained; a snapshot of Send-Q one second earlier shows growth */
    synack_time_t explain_at;
    int explain_json, explain_all;
    int snapped;
    synack_time_t snap_t;
    struct {
        uint32_t id, send_q;
    } snap[2][16];
    size_t nsnap[2];

    /* outcome */
    int stalled, timed_out, setup_failed, check_failed;
    synack_time_t t_end;
    struct check checks[MAX_CHECKS];
    int nchecks;
    char fails[MAX_FAILS][200];
    int nfails;
};

static void fail(struct sim *sim, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void fail(struct sim *sim, const char *fmt, ...)
{
    if (sim->nfails >= MAX_FAILS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sim->fails[sim->nfails++], sizeof sim->fails[0], fmt, ap);
    va_end(ap);
}

static void check(struct sim *sim, int ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void check(struct sim *sim, int ok, const char *fmt, ...)
{
    if (sim->nchecks >= MAX_CHECKS)
        return;
    struct check *c = &sim->checks[sim->nchecks++];
    c->ok = ok;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->text, sizeof c->text, fmt, ap);
    va_end(ap);
}

/* ---- data pattern ---------------------------------------------------------- */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* The data pattern: a random 64 KiB block per direction, XORed word by
 * word with a key drawn afresh for every 64 KiB of the stream. Any byte
 * out of place within a block, and any block out of place (2^-64 chance of
 * a key collision), shows; generating it is a copy and an XOR. */
#define PAT_BLOCK 65536u

struct pattern {
    uint64_t seed;
    uint8_t block[PAT_BLOCK];
};

static void pattern_init(struct pattern *p, uint64_t seed)
{
    p->seed = seed;
    for (size_t i = 0; i < PAT_BLOCK; i += 8) {
        uint64_t v = mix64(seed ^ (i * 0x9e3779b97f4a7c15ULL));
        memcpy(p->block + i, &v, 8);
    }
}

static void gen_pattern(const struct pattern *p, uint64_t off, uint8_t *buf,
                        size_t n)
{
    while (n) {
        uint64_t key = mix64(p->seed ^ ~(off / PAT_BLOCK));
        uint8_t kb[8];
        memcpy(kb, &key, 8);
        size_t pos = (size_t)(off % PAT_BLOCK);
        size_t k = PAT_BLOCK - pos < n ? PAT_BLOCK - pos : n;
        size_t i = 0;
        for (; i < k && ((pos + i) & 7); i++)
            buf[i] = p->block[pos + i] ^ kb[(pos + i) & 7];
        for (; i + 8 <= k; i += 8) {
            uint64_t w;
            memcpy(&w, p->block + pos + i, 8);
            w ^= key;
            memcpy(buf + i, &w, 8);
        }
        for (; i < k; i++)
            buf[i] = p->block[pos + i] ^ kb[(pos + i) & 7];
        buf += k;
        off += k;
        n -= k;
    }
}

/* ---- connection tracking (trace hook) ------------------------------------- */

static struct conn_track *conn_find(struct side *sd, uint32_t id, int add)
{
    for (size_t i = 0; i < sd->nconns; i++)
        if (sd->conns[i].id == id)
            return &sd->conns[i];
    if (!add)
        return NULL;
    if (sd->nconns == sd->capconns) {
        size_t ncap = sd->capconns ? sd->capconns * 2 : 8;
        struct conn_track *n = realloc(sd->conns, ncap * sizeof *n);
        if (!n)
            return NULL;
        sd->conns = n;
        sd->capconns = ncap;
    }
    struct conn_track *c = &sd->conns[sd->nconns++];
    memset(c, 0, sizeof *c);
    c->id = id;
    return c;
}

/* The state drawn in a side's column: its latest connection, else its
 * listener, else CLOSED. */
static int side_state(struct side *sd)
{
    if (sd->focus) {
        struct conn_track *c = conn_find(sd, sd->focus, 0);
        if (c)
            return c->state;
    }
    for (size_t i = 0; i < sd->nconns; i++)
        if (sd->conns[i].listener && sd->conns[i].state == SYNACK_LISTEN)
            return SYNACK_LISTEN;
    return SYNACK_CLOSED;
}

static void on_state(struct side *sd, const synack_trace_event *ev)
{
    struct sim *sim = sd->sim;
    struct conn_track *c = conn_find(sd, ev->conn_id, 1);
    if (!c)
        return;
    if (ev->old_state == SYNACK_CLOSED && ev->new_state == SYNACK_LISTEN)
        c->listener = 1;
    c->state = ev->new_state;
    c->local = ev->local;
    if (ev->old_state >= 0 && ev->old_state < SYNACK__STATE_COUNT &&
        ev->new_state >= 0 && ev->new_state < SYNACK__STATE_COUNT) {
        sd->visited |= 1u << ev->old_state | 1u << ev->new_state;
        sd->edge[ev->old_state][ev->new_state] = 1;
    }
    int drawn = 1;
    if (!c->listener)
        sd->focus = c->id;
    else if (sd->focus)
        drawn = 0; /* a listener beside the connection being drawn */
    if (!c->listener && ev->new_state == SYNACK_CLOSED)
        snprintf(sd->close_cause, sizeof sd->close_cause, "%s",
                 ev->cause ? ev->cause : "");
    if (ev->new_state == SYNACK_TIME_WAIT)
        sd->tw_enter = ev->now;
    if (ev->old_state == SYNACK_TIME_WAIT)
        sd->tw_leave = ev->now;
    if (!sim->lad)
        return;
    if (drawn) {
        ladder_state(sim->lad, ev->now, sd->idx, side_state(sd), ev->cause,
                     NULL);
    } else {
        char detail[128], a[32];
        snprintf(detail, sizeof detail, "listener %s: %s -> %s",
                 synack_addr_str(&ev->local, a, sizeof a),
                 synack_state_name(ev->old_state),
                 synack_state_name(ev->new_state));
        ladder_state(sim->lad, ev->now, sd->idx, side_state(sd), ev->cause,
                     detail);
    }
}

static void on_trace(void *ctx, const synack_trace_event *ev)
{
    struct side *sd = ctx;
    struct sim *sim = sd->sim;
    switch (ev->kind) {
    case SYNACK_TRACE_STATE:
        on_state(sd, ev);
        break;
    case SYNACK_TRACE_SEG_OUT:
        if (ev->seg) {
            if (sd->noutq == OUTQ) {
                memmove(sd->outq, sd->outq + 1, (OUTQ - 1) * sizeof *sd->outq);
                sd->noutq--;
            }
            sd->outq[sd->noutq++] =
                (struct out_rec){ev->seg->seq, ev->seg->ack, ev->seg->len,
                                 ev->seg->flags, ev->retransmit};
        }
        break;
    case SYNACK_TRACE_SEG_IN:
        if (ev->seg && ev->seg->len && ev->conn_id &&
            ev->old_state == SYNACK_FIN_WAIT_2)
            sd->bytes_in_fw2 += ev->seg->len;
        break;
    case SYNACK_TRACE_DROP:
        sd->drops++;
        if (sim->lad)
            ladder_drop(sim->lad, ev->now, sd->idx, ev->seg,
                        synack_drop_text(ev->drop_reason));
        break;
    }
}

/* The trace's retransmission mark of the segment now being transmitted.
 * With static ARP entries the frame follows its trace event at once, so
 * this is the front of the queue; a search keeps it right otherwise. */
static int take_retrans(struct side *sd, const synack_seg *s)
{
    for (size_t i = 0; i < sd->noutq; i++) {
        struct out_rec *r = &sd->outq[i];
        if (r->seq == s->seq && r->ack == s->ack && r->len == s->len &&
            r->flags == s->flags) {
            int rt = r->retrans;
            memmove(sd->outq, sd->outq + i + 1,
                    (sd->noutq - i - 1) * sizeof *sd->outq);
            sd->noutq -= i + 1;
            return rt;
        }
    }
    return 0;
}

/* ---- --plot: what each side sent and received, and its connection -------- */

static void plot_frame(struct side *sd, int tx, synack_time_t now,
                       const uint8_t *frame, size_t len, int retrans)
{
    struct sim *sim = sd->sim;
    if (!sim->plot)
        return;
    tsrec_frame(sim->plot, sd->idx, tx, now, frame, len, retrans);
    if (!sd->focus)
        return;
    synack_conn_info ci[8];
    size_t k = synack_conn_list(sd->st, ci, 8);
    for (size_t j = 0; j < k && j < 8; j++)
        if (ci[j].id == sd->focus && ci[j].state != SYNACK_LISTEN)
            tsrec_cc(sim->plot, sd->idx, now, &ci[j]);
}

/* ---- the probe device ------------------------------------------------------- */

static int is_target(struct sim *sim, struct side *sd, const synack_seg *s)
{
    if (sd->idx != LADDER_A)
        return 0;
    switch (sim->sc->target) {
    case TGT_A_FIRST_FIN:
        return (s->flags & SYNACK_TH_FIN) != 0;
    case TGT_A_FIRST_IN_TIME_WAIT:
        return side_state(sd) == SYNACK_TIME_WAIT;
    default:
        return 0;
    }
}

static int probe_transmit(synack_dev *d, const uint8_t *frame, size_t len,
                          synack_time_t now)
{
    struct probe *p = (struct probe *)(void *)d;
    struct side *sd = p->side;
    struct sim *sim = sd->sim;
    struct cap_pkt cp; /* with the SACK blocks, which the ladder draws */
    sd->frames_tx++;
    int down = sim->link_down || (sim->drop_from & (1u << sd->idx));
    if (len < 14 || frame[12] != 0x08 || frame[13] != 0x00 ||
        !capread_ipv4(frame + 14, len - 14, &cp) || cp.truncated) {
        if (down) {
            sim->linkdown_drops++;
            return 0;
        }
        return synack_dev_transmit(p->inner, frame, len, now);
    }
    synack_seg seg = cp.seg;
    unsigned fate = take_retrans(sd, &seg) ? LADDER_RETRANS : 0;
    int rc = 0;
    if (down) {
        fate |= LADDER_LOST | LADDER_LINKDOWN;
        sim->linkdown_drops++;
    } else {
        synack_link_stats a, b;
        synack_link_get_stats(sim->link, &a);
        rc = synack_dev_transmit(p->inner, frame, len, now);
        synack_link_get_stats(sim->link, &b);
        if (b.lost != a.lost)
            fate |= LADDER_LOST;
        if (b.queue_drops != a.queue_drops)
            fate |= LADDER_QDROP;
        if (b.corrupted != a.corrupted)
            fate |= LADDER_CORRUPT;
        if (b.duplicated != a.duplicated)
            fate |= LADDER_DUP;
        if (b.reordered != a.reordered)
            fate |= LADDER_REORDER;
        if (sim->dry && !sim->target_index && is_target(sim, sd, &seg))
            sim->target_index = b.sent;
    }
    sd->segs++;
    if (fate & (LADDER_LOST | LADDER_QDROP))
        sd->lost++;
    if (fate & LADDER_RETRANS) {
        sd->retrans++;
        if (seg.flags & SYNACK_TH_FIN)
            sd->fin_retrans++;
    }
    if ((seg.flags & SYNACK_TH_FIN) && sd->fins++ == 0)
        sd->first_fin_lost = (fate & (LADDER_LOST | LADDER_QDROP)) != 0;
    if (side_state(sd) == SYNACK_TIME_WAIT) {
        sd->tw_segs++;
        sd->tw_last_seg = now;
    }
    plot_frame(sd, 1, now, frame, len, (fate & LADDER_RETRANS) != 0);
    unsigned found = ladder_segment_sack(sim->lad, now, sd->idx, &seg, fate,
                                         cp.nsack,
                                         (const uint32_t(*)[2])cp.sack);
    if (found & LADDER_KEEPALIVE) {
        if (!sd->ka_probes)
            sd->t_probe1 = now;
        sd->ka_probes++;
    }
    return rc;
}

static void probe_rx(void *ctx, const uint8_t *frame, size_t len,
                     synack_time_t now)
{
    struct probe *p = ctx;
    p->side->frames_rx++;
    synack_seg seg;
    if (p->side->sim->lad && ladder_parse_frame(frame, len, &seg))
        ladder_arrival(p->side->sim->lad, now, p->side->idx, &seg);
    if (p->dev.rx)
        p->dev.rx(p->dev.rx_ctx, frame, len, now);
    plot_frame(p->side, 0, now, frame, len, 0);
}

static int probe_poll(synack_dev *d, synack_time_t now)
{
    return synack_dev_poll(((struct probe *)(void *)d)->inner, now);
}

static synack_time_t probe_next_deadline(const synack_dev *d)
{
    return synack_dev_next_deadline(
        ((const struct probe *)(const void *)d)->inner);
}

static int probe_fd(const synack_dev *d)
{
    const synack_dev *in = ((const struct probe *)(const void *)d)->inner;
    return in->ops->fd(in);
}

static void probe_destroy(synack_dev *d)
{
    struct probe *p = (struct probe *)(void *)d;
    synack_dev_destroy(p->inner);
    free(p);
}

static const struct synack_dev_ops probe_ops = {
    .transmit = probe_transmit,
    .poll = probe_poll,
    .next_deadline = probe_next_deadline,
    .fd = probe_fd,
    .destroy = probe_destroy,
};

static synack_dev *probe_wrap(synack_dev *inner, struct side *sd)
{
    struct probe *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->inner = inner;
    p->side = sd;
    p->dev.ops = &probe_ops;
    snprintf(p->name, sizeof p->name, "probe:%c", sd->name);
    p->dev.name = p->name;
    p->dev.rx = inner->rx;
    p->dev.rx_ctx = inner->rx_ctx;
    synack_dev_set_rx(inner, probe_rx, p);
    return &p->dev;
}

/* ---- application helpers ------------------------------------------------- */

static void app_error(struct side *sd, int err)
{
    if (err < 0)
        err = -err;
    if (!sd->err)
        sd->err = err;
}

/* Queue as much of the pattern as the stack takes. */
static void app_send(struct side *sd, synack_time_t now)
{
    while (sd->sock >= 0 && sd->tx_done < sd->tx_total) {
        if (sd->tx_done < sd->gen_off ||
            sd->tx_done >= sd->gen_off + sd->gen_len) {
            uint64_t left = sd->tx_total - sd->tx_done;
            sd->gen_off = sd->tx_done;
            sd->gen_len = left < CHUNK ? (size_t)left : CHUNK;
            gen_pattern(sd->tx_pat, sd->gen_off, sd->gen, sd->gen_len);
        }
        size_t at = (size_t)(sd->tx_done - sd->gen_off);
        ssize_t n = synack_send(sd->st, sd->sock, sd->gen + at,
                                sd->gen_len - at, now);
        if (n > 0) {
            if (!sd->tx_done)
                sd->t_tx_start = now;
            sd->tx_done += (uint64_t)n;
            continue;
        }
        if (n != -SYNACK_EAGAIN)
            app_error(sd, (int)n);
        break;
    }
}

/* Read and check everything available. */
static void app_recv(struct side *sd, const struct pattern *peer,
                     synack_time_t now)
{
    while (sd->sock >= 0 && !sd->rx_eof) {
        ssize_t n = synack_recv(sd->st, sd->sock, sd->rbuf, CHUNK, now);
        if (n > 0) {
            size_t k = (size_t)n;
            uint64_t flip = sd->sim->flip_rx;
            if (sd->idx == LADDER_B && flip > sd->rx_done &&
                flip <= sd->rx_done + k)
                sd->rbuf[flip - 1 - sd->rx_done] ^= 0x20;
            gen_pattern(peer, sd->rx_done, sd->vbuf, k);
            if (!sd->rx_bad && memcmp(sd->rbuf, sd->vbuf, k) != 0) {
                size_t i = 0;
                while (sd->rbuf[i] == sd->vbuf[i])
                    i++;
                sd->rx_bad = sd->rx_done + i + 1;
            }
            sd->rx_done += k;
            sd->t_last_rx = now;
            continue;
        }
        if (n == 0) {
            sd->rx_eof = 1;
            sd->t_eof = now;
        } else if (n != -SYNACK_EAGAIN) {
            app_error(sd, (int)n);
        }
        break;
    }
}

/* Note connection completion or failure of a connecting socket. */
static void app_connect_status(struct side *sd, synack_time_t now)
{
    if (sd->sock < 0 || !sd->connecting)
        return;
    unsigned ev = synack_poll(sd->st, sd->sock);
    if (ev & SYNACK_POLLERR) {
        int e = 0;
        size_t l = sizeof e;
        if (synack_getsockopt(sd->st, sd->sock, SYNACK_SO_ERROR, &e, &l) == 0 &&
            e)
            app_error(sd, e);
        sd->connecting = 0;
    } else if (ev & SYNACK_POLLOUT) {
        sd->connecting = 0;
        sd->connected = 1;
        sd->t_connected = now;
    }
}

static void app_close(struct side *sd, synack_time_t now)
{
    if (sd->sock >= 0) {
        int rc = synack_close(sd->st, sd->sock, now);
        if (rc < 0)
            fail(sd->sim, "%c: close: %s", sd->name, synack_strerror(rc));
        sd->sock = -1;
    }
    if (sd->lsock >= 0) {
        synack_close(sd->st, sd->lsock, now);
        sd->lsock = -1;
    }
    sd->closed = 1;
}

static int app_listen(struct side *sd, uint16_t port, synack_time_t now)
{
    (void)now;
    synack_addr a = {sd->ip, port};
    int s = synack_socket(sd->st);
    int rc = s < 0 ? s : synack_bind(sd->st, s, &a);
    if (rc >= 0)
        rc = synack_listen(sd->st, s, 8);
    if (rc < 0) {
        fail(sd->sim, "%c: listen on port %u: %s", sd->name, port,
             synack_strerror(rc));
        sd->sim->setup_failed = 1;
        return -1;
    }
    sd->lsock = s;
    return 0;
}

/* Accept the connection and close the listener (a one-shot server). */
static void app_accept(struct side *sd, synack_time_t now)
{
    if (sd->sock >= 0 || sd->lsock < 0)
        return;
    int s = synack_accept(sd->st, sd->lsock, NULL);
    if (s < 0)
        return;
    sd->sock = s;
    sd->connected = 1;
    sd->t_connected = now;
    synack_close(sd->st, sd->lsock, now);
    sd->lsock = -1;
}

static int app_connect(struct side *sd, uint16_t lport, const synack_addr *to,
                       int keepalive, synack_time_t now)
{
    int s = synack_socket(sd->st);
    int rc = s;
    if (s >= 0 && lport) {
        synack_addr a = {sd->ip, lport};
        rc = synack_bind(sd->st, s, &a);
    }
    if (rc >= 0 && keepalive) {
        int one = 1;
        rc = synack_setsockopt(sd->st, s, SYNACK_SO_KEEPALIVE, &one,
                               sizeof one);
    }
    if (rc >= 0)
        rc = synack_connect(sd->st, s, to, now);
    if (rc < 0 && rc != -SYNACK_EINPROGRESS) {
        char b[32];
        fail(sd->sim, "%c: connect to %s: %s", sd->name,
             synack_addr_str(to, b, sizeof b), synack_strerror(rc));
        sd->sim->setup_failed = 1;
        return -1;
    }
    sd->sock = s;
    sd->connecting = 1;
    return 0;
}

/* ---- the scenarios --------------------------------------------------------- */

#define A(sim) (&(sim)->s[LADDER_A])
#define B(sim) (&(sim)->s[LADDER_B])

static void link_set(struct sim *sim, int down, synack_time_t now)
{
    sim->link_down = down;
    if (sim->lad)
        ladder_note(sim->lad, now, -1,
                    down ? "~~ link down: nothing gets through ~~"
                         : "~~ link up again ~~");
}

static void start_client_server(struct sim *sim, synack_time_t now)
{
    synack_addr to = {B(sim)->ip, SERVER_PORT};
    if (app_listen(B(sim), SERVER_PORT, now) == 0)
        app_connect(A(sim), 0, &to, 0, now);
}

/* A sends its bytes and closes; B reads to EOF and closes. */
static void poll_transfer(struct sim *sim, synack_time_t now)
{
    struct side *a = A(sim), *b = B(sim);
    app_connect_status(a, now);
    if (a->connected && !a->closed) {
        app_send(a, now);
        if (a->tx_done == a->tx_total || a->err)
            app_close(a, now);
    } else if (!a->connected && !a->connecting && !a->closed) {
        app_close(a, now); /* connect failed */
    }
    app_accept(b, now);
    if (b->sock >= 0) {
        app_recv(b, a->tx_pat, now);
        if (b->rx_eof || b->err)
            app_close(b, now);
    }
}

/* A sends what it has, then shuts down its sending side (once). */
static void app_send_then_shut(struct sim *sim, struct side *a,
                               synack_time_t now)
{
    app_send(a, now);
    if (a->tx_done == a->tx_total && !a->shut) {
        int rc = synack_shutdown(a->st, a->sock, SYNACK_SHUT_WR, now);
        if (rc < 0)
            fail(sim, "A: shutdown: %s", synack_strerror(rc));
        a->shut = 1;
    }
}

/* A sends and shuts down its side; B reads to EOF, then (as if it took a
 * while to compute) replies with as many bytes and closes; A reads to
 * EOF and closes. */
#define HALF_CLOSE_THINK (100 * SYNACK_MSEC)
static void poll_half_close(struct sim *sim, synack_time_t now)
{
    struct side *a = A(sim), *b = B(sim);
    app_connect_status(a, now);
    if (a->connected && !a->closed) {
        app_send_then_shut(sim, a, now);
        app_recv(a, b->tx_pat, now);
        if (a->rx_eof || a->err)
            app_close(a, now);
    } else if (!a->connected && !a->connecting && !a->closed) {
        app_close(a, now);
    }
    app_accept(b, now);
    if (b->sock >= 0 && !b->closed) {
        app_recv(b, a->tx_pat, now);
        if (b->err) {
            app_close(b, now);
        } else if (b->rx_eof && sim->phase == 0) {
            sim->phase = 1;
            sim->t_action = now + HALF_CLOSE_THINK;
        } else if (sim->phase == 1 && now >= sim->t_action) {
            sim->phase = 2;
            sim->t_action = SYNACK_TIME_NEVER;
            b->tx_total = sim->bytes;
        }
        if (sim->phase == 2) {
            app_send(b, now);
            if (b->tx_done == b->tx_total)
                app_close(b, now);
        }
    }
}

/* Both connect to each other's fixed port at the same instant. */
#define SIMOPEN_PORT_A 5001
#define SIMOPEN_PORT_B 5002
static void start_simopen(struct sim *sim, synack_time_t now)
{
    synack_addr to_b = {B(sim)->ip, SIMOPEN_PORT_B};
    synack_addr to_a = {A(sim)->ip, SIMOPEN_PORT_A};
    if (app_connect(A(sim), SIMOPEN_PORT_A, &to_b, 0, now) == 0)
        app_connect(B(sim), SIMOPEN_PORT_B, &to_a, 0, now);
}

static void poll_simopen(struct sim *sim, synack_time_t now)
{
    struct side *a = A(sim), *b = B(sim);
    app_connect_status(a, now);
    app_connect_status(b, now);
    if (a->connected && !a->closed) {
        app_send(a, now);
        if (a->tx_done == a->tx_total || a->err)
            app_close(a, now);
    } else if (!a->connected && !a->connecting && !a->closed) {
        app_close(a, now);
    }
    if (b->connected && !b->closed) {
        app_recv(b, a->tx_pat, now);
        if (b->rx_eof || b->err)
            app_close(b, now);
    } else if (!b->connected && !b->connecting && !b->closed) {
        app_close(b, now);
    }
}

/* A sends its bytes; once B has them all, both close at the same instant. */
static void poll_simclose(struct sim *sim, synack_time_t now)
{
    struct side *a = A(sim), *b = B(sim);
    app_connect_status(a, now);
    if (a->connected && !a->closed)
        app_send(a, now);
    else if (!a->connected && !a->connecting && !a->closed)
        app_close(a, now);
    app_accept(b, now);
    if (b->sock >= 0 && !b->closed)
        app_recv(b, a->tx_pat, now);
    if (!a->closed && !b->closed && a->connected && b->sock >= 0 &&
        a->tx_done == a->tx_total && b->rx_done == a->tx_total) {
        app_close(a, now);
        app_close(b, now);
    }
    if ((a->err || b->err) && !(a->closed && b->closed)) {
        if (!a->closed)
            app_close(a, now);
        if (b->sock >= 0 && !b->closed)
            app_close(b, now);
    }
}

/* A aborts (RST) once half of its bytes are queued. */
#define RST_PROBE_AFTER (5 * SYNACK_SEC)
static void poll_rst(struct sim *sim, synack_time_t now)
{
    struct side *a = A(sim), *b = B(sim);
    app_connect_status(a, now);
    if (a->connected && !a->closed) {
        uint64_t half = a->tx_total / 2;
        if (a->tx_done < half) {
            uint64_t total = a->tx_total;
            a->tx_total = half; /* send no further than half now */
            app_send(a, now);
            a->tx_total = total;
        }
        if (a->tx_done >= half || a->err) {
            int rc = synack_abort(a->st, a->sock, now);
            if (rc < 0)
                fail(sim, "A: abort: %s", synack_strerror(rc));
            a->sock = -1;
            a->closed = 1;
            sim->t_action = now + RST_PROBE_AFTER;
        }
    } else if (!a->connected && !a->connecting && !a->closed) {
        app_close(a, now);
    }
    app_accept(b, now);
    if (b->sock >= 0) {
        app_recv(b, a->tx_pat, now);
        if (b->rx_eof || b->err)
            app_close(b, now);
    }
    /* The RST is never retransmitted: if the link lost it, B would wait
     * forever on a half-open connection. Its application then writes, and
     * A's stack answers the data with another RST (RFC 9293 3.5.2). */
    if (a->closed && now >= sim->t_action && sim->phase == 0) {
        sim->phase = 1;
        sim->t_action = SYNACK_TIME_NEVER;
        if (b->sock >= 0 && !b->closed) {
            ladder_note(sim->lad, now, LADDER_B,
                        "no RST seen: B's application writes");
            b->tx_total = 1;
            app_send(b, now);
        }
    }
}

/* Nobody listens on the port A connects to. */
static void start_refused(struct sim *sim, synack_time_t now)
{
    synack_addr to = {B(sim)->ip, SERVER_PORT + 1};
    app_connect(A(sim), 0, &to, 0, now);
    B(sim)->closed = 1; /* B runs no application */
}

static void poll_refused(struct sim *sim, synack_time_t now)
{
    struct side *a = A(sim);
    app_connect_status(a, now);
    if (!a->closed && (a->err || a->connected || !a->connecting))
        app_close(a, now);
}

/* Keepalive: an idle connection with SO_KEEPALIVE on A. After A's first
 * probe has been answered the link goes down; A probes in vain and resets
 * the connection. The link comes back, B (which never knew) writes, and
 * A's stack answers with RST. */
static const char *const keepalive_tunables[] = {
    "tcp_keepalive_time=10", "tcp_keepalive_intvl=5",
    "tcp_keepalive_probes=3", NULL};
#define KA_B_WRITES 100

static void start_keepalive(struct sim *sim, synack_time_t now)
{
    synack_addr to = {B(sim)->ip, SERVER_PORT};
    if (app_listen(B(sim), SERVER_PORT, now) == 0)
        app_connect(A(sim), 0, &to, 1, now);
}

static void poll_keepalive(struct sim *sim, synack_time_t now)
{
    struct side *a = A(sim), *b = B(sim);
    app_connect_status(a, now);
    if (a->connected && !a->closed) {
        app_send(a, now);
        app_recv(a, b->tx_pat, now);
        if (a->err || a->rx_eof || (synack_poll(a->st, a->sock) &
                                    SYNACK_POLLERR)) {
            int e = 0;
            size_t l = sizeof e;
            if (!a->err &&
                synack_getsockopt(a->st, a->sock, SYNACK_SO_ERROR, &e, &l) ==
                    0 &&
                e)
                app_error(a, e);
            app_close(a, now);
        }
    } else if (!a->connected && !a->connecting && !a->closed) {
        app_close(a, now);
    }
    app_accept(b, now);
    if (b->sock >= 0 && !b->closed) {
        app_recv(b, a->tx_pat, now);
        if (b->err || b->rx_eof)
            app_close(b, now);
    }
    switch (sim->phase) {
    case 0: /* wait for A's first probe, then let its answer come back */
        if (a->ka_probes >= 1) {
            sim->phase = 1;
            sim->t_action = a->t_probe1 + SYNACK_SEC;
        }
        break;
    case 1:
        if (now >= sim->t_action) {
            link_set(sim, 1, now);
            sim->phase = 2;
            sim->t_action = SYNACK_TIME_NEVER;
        }
        break;
    case 2: /* A gives up */
        if (a->closed) {
            sim->phase = 3;
            sim->t_action = now + SYNACK_SEC;
        }
        break;
    case 3:
        if (now < sim->t_action)
            break;
        link_set(sim, 0, now);
        b->tx_total = KA_B_WRITES;
        sim->phase = 4;
        sim->t_action = SYNACK_TIME_NEVER;
        /* fall through */
    case 4:
        if (b->sock >= 0 && !b->closed)
            app_send(b, now);
        break;
    }
}

/* ---- stuck-state scenarios (synack explain) --------------------------------- */
/* Each leaves a connection in a state a person would ask about and runs
 * until its explain time (--explain-at), when both stacks are explained. */

/* A sends and closes; B reads to EOF but never closes: B stays in
 * CLOSE-WAIT, A (orphaned) in FIN-WAIT-2 until tcp_fin_timeout. */
static void poll_app_never_closes(struct sim *sim, synack_time_t now)
{
    struct side *a = A(sim), *b = B(sim);
    app_connect_status(a, now);
    if (a->connected && !a->closed) {
        app_send(a, now);
        if (a->tx_done == a->tx_total || a->err)
            app_close(a, now);
    }
    app_accept(b, now);
    if (b->sock >= 0)
        app_recv(b, a->tx_pat, now); /* and never close */
}

/* A sends and shuts down its sending side, still reading; B reads to EOF
 * and never closes: A waits in FIN-WAIT-2 with no timer. */
static void poll_peer_never_closes(struct sim *sim, synack_time_t now)
{
    struct side *a = A(sim), *b = B(sim);
    app_connect_status(a, now);
    if (a->connected && !a->closed) {
        app_send_then_shut(sim, a, now);
        app_recv(a, b->tx_pat, now);
    }
    app_accept(b, now);
    if (b->sock >= 0)
        app_recv(b, a->tx_pat, now);
}

/* A connects to B, whose frames never arrive: SYN-SENT. */
static void start_silent_host(struct sim *sim, synack_time_t now)
{
    sim->drop_from = 1u << LADDER_A;
    ladder_note(sim->lad, now, -1, "~~ nothing from A reaches B ~~");
    start_refused(sim, now);
}

static void poll_silent_host(struct sim *sim, synack_time_t now)
{
    app_connect_status(A(sim), now); /* and wait */
}

/* A's SYN reaches B, then nothing more from A: B waits in SYN-RECEIVED
 * for the handshake's final ACK, A (connected) stays idle. */
static void start_half_open(struct sim *sim, synack_time_t now)
{
    start_client_server(sim, now);
    sim->drop_from = 1u << LADDER_A; /* after the SYN, sent just now */
    ladder_note(sim->lad, now, -1,
                "~~ from now on nothing from A reaches B ~~");
}

static void poll_half_open(struct sim *sim, synack_time_t now)
{
    app_connect_status(A(sim), now);
    app_accept(B(sim), now);
}

/* A sends and closes; B reads to EOF; the link goes down; B closes a
 * second later: its FIN is never acknowledged (LAST-ACK). */
static void poll_fin_unacked(struct sim *sim, synack_time_t now)
{
    struct side *a = A(sim), *b = B(sim);
    app_connect_status(a, now);
    if (a->connected && !a->closed) {
        app_send(a, now);
        if (a->tx_done == a->tx_total || a->err)
            app_close(a, now);
    }
    app_accept(b, now);
    if (b->sock >= 0 && !b->closed) {
        app_recv(b, a->tx_pat, now);
        if (b->rx_eof && sim->phase == 0) {
            link_set(sim, 1, now);
            sim->phase = 1;
            sim->t_action = now + SYNACK_SEC;
        } else if (sim->phase == 1 && now >= sim->t_action) {
            sim->phase = 2;
            sim->t_action = SYNACK_TIME_NEVER;
            app_close(b, now);
        }
    }
}

/* A sends --bytes; B accepts and never reads: B's window closes, A keeps
 * the rest in its Send-Q and probes the zero window. */
static void poll_receiver_stalls(struct sim *sim, synack_time_t now)
{
    struct side *a = A(sim), *b = B(sim);
    app_connect_status(a, now);
    if (a->connected && !a->closed)
        app_send(a, now);
    app_accept(b, now); /* and never read */
}

/* A connects; once connected the link goes down and A sends --bytes: its
 * retransmissions back off until tcp_retries2. */
static void poll_link_down(struct sim *sim, synack_time_t now)
{
    struct side *a = A(sim), *b = B(sim);
    app_connect_status(a, now);
    if (a->connected && !a->closed) {
        if (sim->phase == 0) {
            link_set(sim, 1, now);
            sim->phase = 1;
        }
        app_send(a, now);
    }
    app_accept(b, now);
    if (b->sock >= 0)
        app_recv(b, a->tx_pat, now);
}

static void check_nothing(struct sim *sim)
{
    (void)sim;
}

/* Send-Q of every connection, a second before the explanation. */
static void explain_snapshot(struct sim *sim)
{
    for (int i = 0; i < 2; i++) {
        synack_conn_info ci[16];
        size_t n = synack_conn_list(sim->s[i].st, ci, 16);
        if (n > 16)
            n = 16;
        for (size_t k = 0; k < n; k++) {
            sim->snap[i][k].id = ci[k].id;
            sim->snap[i][k].send_q = ci[k].send_q;
        }
        sim->nsnap[i] = n;
    }
    sim->snapped = 1;
    sim->snap_t = synack_vloop_now(sim->loop);
}

/* Explain both stacks at the current virtual time; the number of stuck
 * connections. */
static int explain_sides(struct sim *sim)
{
    synack_time_t now = synack_vloop_now(sim->loop);
    char t[32];
    if (!sim->explain_json)
        printf("%sExplained at %s of virtual time (synack explain's "
               "rules):\n\n",
               sim->quiet ? "" : "\n",
               explain_fmt_dur((int64_t)now, t, sizeof t));
    struct explain_out *out =
        explain_out_new(stdout, sim->explain_json, sim->explain_all);
    for (int i = 0; i < 2; i++) {
        struct side *sd = &sim->s[i];
        char label[64], ip[24];
        synack_addr a = {sd->ip, 0};
        synack_addr_str(&a, ip, sizeof ip);
        ip[strcspn(ip, ":")] = '\0';
        snprintf(label, sizeof label, "stack %c (%s, %s)", sd->name, ip,
                 i == LADDER_A ? "client" : "server");
        explain_out_process(out, label, 0, sim->sc->name,
                            i == LADDER_A ? "A" : "B");
        struct explain_tunables tun;
        explain_tunables_from_stack(&tun, sd->st);
        size_t cap = synack_conn_list(sd->st, NULL, 0) + 1;
        synack_conn_info *ci = calloc(cap, sizeof *ci);
        if (!ci)
            continue;
        size_t n = synack_conn_list(sd->st, ci, cap);
        for (size_t k = 0; k < n && k < cap; k++) {
            struct explain_conn c;
            explain_conn_from_info(&c, &ci[k], now);
            for (size_t j = 0; sim->snapped && j < sim->nsnap[i]; j++)
                if (sim->snap[i][j].id == ci[k].id && now > sim->snap_t) {
                    c.send_q_before = sim->snap[i][j].send_q;
                    c.sample_gap = (int64_t)(now - sim->snap_t);
                }
            for (size_t j = 0; j < n && j < cap; j++)
                c.similar += ci[j].state == ci[k].state &&
                             ci[j].local.ip == ci[k].local.ip &&
                             ci[j].local.port == ci[k].local.port;
            struct explain_result r;
            explain_conn(&c, &tun, EXPLAIN_MIN_AGE_DEFAULT, &r);
            char la[32], ra[32];
            synack_addr_str(&ci[k].local, la, sizeof la);
            if (ci[k].state == SYNACK_LISTEN)
                snprintf(ra, sizeof ra, "*");
            else
                synack_addr_str(&ci[k].remote, ra, sizeof ra);
            explain_out_conn(out, la, ra, &c, &r);
        }
        free(ci);
    }
    return explain_out_finish(out, 2);
}

/* ---- scenario checks -------------------------------------------------------- */

static int edge(const struct side *sd, int from, int to)
{
    return sd->edge[from][to];
}

static void check_close_sequence(struct sim *sim, const struct side *act,
                                 const struct side *pas)
{
    check(sim,
          edge(act, SYNACK_ESTABLISHED, SYNACK_FIN_WAIT_1) &&
              edge(act, SYNACK_FIN_WAIT_1, SYNACK_FIN_WAIT_2) &&
              edge(act, SYNACK_FIN_WAIT_2, SYNACK_TIME_WAIT) &&
              edge(act, SYNACK_TIME_WAIT, SYNACK_CLOSED),
          "%c: ESTABLISHED -> FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT -> "
          "CLOSED",
          act->name);
    check(sim,
          edge(pas, SYNACK_ESTABLISHED, SYNACK_CLOSE_WAIT) &&
              edge(pas, SYNACK_CLOSE_WAIT, SYNACK_LAST_ACK) &&
              edge(pas, SYNACK_LAST_ACK, SYNACK_CLOSED),
          "%c: ESTABLISHED -> CLOSE-WAIT -> LAST-ACK -> CLOSED", pas->name);
}

static void check_open(struct sim *sim)
{
    const struct side *a = A(sim), *b = B(sim);
    check(sim,
          edge(a, SYNACK_CLOSED, SYNACK_SYN_SENT) &&
              edge(a, SYNACK_SYN_SENT, SYNACK_ESTABLISHED),
          "A: CLOSED -> SYN-SENT -> ESTABLISHED (active open)");
    check(sim,
          edge(b, SYNACK_CLOSED, SYNACK_LISTEN) &&
              edge(b, SYNACK_LISTEN, SYNACK_SYN_RECEIVED) &&
              edge(b, SYNACK_SYN_RECEIVED, SYNACK_ESTABLISHED),
          "B: LISTEN -> SYN-RECEIVED -> ESTABLISHED (passive open)");
}

static void check_handshake(struct sim *sim)
{
    check_open(sim);
    check_close_sequence(sim, A(sim), B(sim));
}

static void check_half_close(struct sim *sim)
{
    const struct side *a = A(sim), *b = B(sim);
    check_open(sim);
    check_close_sequence(sim, a, b);
    check(sim, a->bytes_in_fw2 > 0,
          "A received data in FIN-WAIT-2 (%llu bytes)",
          (unsigned long long)a->bytes_in_fw2);
}

static void check_simopen(struct sim *sim)
{
    for (int i = 0; i < 2; i++) {
        const struct side *sd = &sim->s[i];
        check(sim,
              edge(sd, SYNACK_CLOSED, SYNACK_SYN_SENT) &&
                  edge(sd, SYNACK_SYN_SENT, SYNACK_SYN_RECEIVED) &&
                  edge(sd, SYNACK_SYN_RECEIVED, SYNACK_ESTABLISHED),
              "%c: SYN-SENT -> SYN-RECEIVED -> ESTABLISHED (simultaneous "
              "open)",
              sd->name);
    }
}

static void check_simclose(struct sim *sim)
{
    check_open(sim);
    for (int i = 0; i < 2; i++) {
        const struct side *sd = &sim->s[i];
        check(sim,
              edge(sd, SYNACK_ESTABLISHED, SYNACK_FIN_WAIT_1) &&
                  edge(sd, SYNACK_FIN_WAIT_1, SYNACK_CLOSING) &&
                  edge(sd, SYNACK_CLOSING, SYNACK_TIME_WAIT) &&
                  edge(sd, SYNACK_TIME_WAIT, SYNACK_CLOSED),
              "%c: FIN-WAIT-1 -> CLOSING -> TIME-WAIT -> CLOSED "
              "(simultaneous close)",
              sd->name);
    }
}

static void check_rst(struct sim *sim)
{
    const struct side *a = A(sim), *b = B(sim);
    check_open(sim);
    check(sim, edge(a, SYNACK_ESTABLISHED, SYNACK_CLOSED),
          "A: ESTABLISHED -> CLOSED (call abort)");
    check(sim, b->err == SYNACK_ECONNRESET && strstr(b->close_cause, "RST"),
          "B: connection reset by the RST (%s), recv() returned %s",
          b->close_cause[0] ? b->close_cause : "no cause",
          b->err ? synack_errname(b->err) : "no error");
}

static void check_lost_fin(struct sim *sim)
{
    const struct side *a = A(sim);
    check_handshake(sim);
    check(sim, a->first_fin_lost, "A's first FIN was lost on the link");
    check(sim, a->fin_retrans > 0, "A retransmitted its FIN (%llu times)",
          (unsigned long long)a->fin_retrans);
}

static void check_time_wait(struct sim *sim)
{
    const struct side *a = A(sim), *b = B(sim);
    check_handshake(sim);
    check(sim, b->fin_retrans > 0,
          "B retransmitted its FIN (A's ACK of it was lost)");
    check(sim, a->tw_segs >= 2, "A re-ACKed the retransmitted FIN in "
                                "TIME-WAIT");
    char buf[32];
    int64_t twl = 60;
    if (synack_sysctl_get(a->st, "tcp_timewait_len", buf, sizeof buf) > 0)
        twl = atoll(buf);
    synack_time_t want = (synack_time_t)twl * SYNACK_SEC;
    check(sim,
          a->tw_leave > a->tw_last_seg && a->tw_leave - a->tw_last_seg >= want,
          "A stayed in TIME-WAIT 2MSL (%llds) after the last FIN: %.6f s",
          (long long)twl,
          a->tw_leave > a->tw_last_seg
              ? (double)(a->tw_leave - a->tw_last_seg) / 1e9
              : 0.0);
}

static void check_keepalive(struct sim *sim)
{
    const struct side *a = A(sim), *b = B(sim);
    check_open(sim);
    char buf[32];
    long probes = 9;
    if (synack_sysctl_get(a->st, "tcp_keepalive_probes", buf, sizeof buf) > 0)
        probes = atol(buf);
    check(sim, a->ka_probes >= (uint64_t)probes + 1,
          "A sent keepalive probes: 1 answered + %ld unanswered (saw %llu)",
          probes, (unsigned long long)a->ka_probes);
    check(sim,
          a->err == SYNACK_ETIMEDOUT && strstr(a->close_cause, "keepalive"),
          "A reset the connection after the last probe (%s), error %s",
          a->close_cause[0] ? a->close_cause : "no cause",
          a->err ? synack_errname(a->err) : "none");
    check(sim, b->err == SYNACK_ECONNRESET,
          "B's late write was answered with RST: error %s",
          b->err ? synack_errname(b->err) : "none");
}

static void check_refused(struct sim *sim)
{
    const struct side *a = A(sim);
    check(sim,
          edge(a, SYNACK_CLOSED, SYNACK_SYN_SENT) &&
              edge(a, SYNACK_SYN_SENT, SYNACK_CLOSED),
          "A: CLOSED -> SYN-SENT -> CLOSED");
    check(sim, a->err == SYNACK_ECONNREFUSED, "A's connect failed: %s",
          a->err ? synack_errname(a->err) : "no error");
}

static const struct scenario scenarios[] = {
    {"transfer",
     "A connects, sends --bytes (default 100K) and closes; B reads to EOF, "
     "closes",
     "A connects to B:80, sends @ and closes; B reads to EOF and closes",
     100 * 1024, TGT_NONE, NULL, start_client_server, poll_transfer,
     check_handshake},
    {"handshake",
     "three-way handshake, then A closes at once and B closes at EOF",
     "A connects to B:80 and closes as soon as it is connected; B closes at "
     "EOF",
     0, TGT_NONE, NULL, start_client_server, poll_transfer, check_handshake},
    {"half-close",
     "A sends and shuts down writing; B replies while A is in FIN-WAIT-2",
     "A sends @ and calls shutdown(SHUT_WR); B reads to EOF, replies with "
     "as many bytes 100 ms later and closes",
     2000, TGT_NONE, NULL, start_client_server, poll_half_close,
     check_half_close},
    {"simultaneous-open",
     "A (port 5001) and B (port 5002) connect to each other at once",
     "A (port 5001) and B (port 5002) connect to each other at the same "
     "instant; A sends @ and closes",
     0, TGT_NONE, NULL, start_simopen, poll_simopen, check_simopen},
    {"simultaneous-close",
     "both ends close at the same instant: FIN-WAIT-1 -> CLOSING -> "
     "TIME-WAIT",
     "A connects to B:80 and sends @; once B has it all, both close at the "
     "same instant",
     0, TGT_NONE, NULL, start_client_server, poll_simclose, check_simclose},
    {"rst",
     "A aborts mid-transfer (RST); B's recv fails with ECONNRESET",
     "A connects to B:80 and sends; half-way through @ it aborts the "
     "connection",
     100 * 1024, TGT_NONE, NULL, start_client_server, poll_rst, check_rst},
    {"lost-fin",
     "the link drops A's first FIN; A retransmits it",
     "A connects to B:80, sends @ and closes; the link drops A's first FIN",
     0, TGT_A_FIRST_FIN, NULL, start_client_server, poll_transfer,
     check_lost_fin},
    {"time-wait",
     "A's last ACK is lost: B retransmits its FIN, A re-ACKs it in "
     "TIME-WAIT and waits 2MSL",
     "A connects to B:80, sends @ and closes; the link drops A's ACK of B's "
     "FIN",
     0, TGT_A_FIRST_IN_TIME_WAIT, NULL, start_client_server, poll_transfer,
     check_time_wait},
    {"keepalive",
     "idle connection with SO_KEEPALIVE; the link goes down, A probes and "
     "resets",
     "A connects with SO_KEEPALIVE (keepalive 10 s, interval 5 s, 3 probes) "
     "and sends @; after the first probe the link goes down",
     0, TGT_NONE, keepalive_tunables, start_keepalive, poll_keepalive,
     check_keepalive},
    {"refused",
     "A connects to a port nobody listens on: RST, ECONNREFUSED",
     "A connects to B:81 where nobody listens", 0, TGT_NONE, NULL,
     start_refused, poll_refused, check_refused},
    /* stuck states, for synack explain (run until their explain time) */
    {"app-never-closes",
     "A closes; B's application never does: B in CLOSE-WAIT, A in "
     "FIN-WAIT-2 (explained at 30 s)",
     "A connects to B:80, sends @ and closes; B reads to EOF and never "
     "closes",
     1000, TGT_NONE, NULL, start_client_server, poll_app_never_closes,
     check_nothing},
    {"peer-never-closes",
     "A shuts down writing; B never closes: A in FIN-WAIT-2 with no timer "
     "(30 s)",
     "A connects to B:80, sends @ and calls shutdown(SHUT_WR), still "
     "reading; B reads to EOF and never closes",
     1000, TGT_NONE, NULL, start_client_server, poll_peer_never_closes,
     check_nothing},
    {"silent-host",
     "A connects to a host that never answers: SYN-SENT, SYN retries (10 s)",
     "A connects to B:81; nothing A sends reaches B", 0, TGT_NONE, NULL,
     start_silent_host, poll_silent_host, check_nothing},
    {"half-open",
     "the handshake's last ACK never arrives: B in SYN-RECEIVED (10 s)",
     "A connects to B:80; after A's SYN nothing from A reaches B", 0,
     TGT_NONE, NULL, start_half_open, poll_half_open, check_nothing},
    {"fin-unacked",
     "B closes after the link went down: B in LAST-ACK retransmitting its "
     "FIN (20 s)",
     "A connects to B:80, sends @ and closes; B reads to EOF, the link goes "
     "down and B closes a second later",
     1000, TGT_NONE, NULL, start_client_server, poll_fin_unacked,
     check_nothing},
    {"receiver-stalls",
     "B's application never reads: zero window, A's Send-Q full, persist "
     "probes (30 s)",
     "A connects to B:80 and sends @; B accepts and never reads",
     1024 * 1024, TGT_NONE, NULL, start_client_server, poll_receiver_stalls,
     check_nothing},
    {"link-down",
     "the link goes down once A is connected; A's retransmissions back off "
     "(30 s)",
     "A connects to B:80; the link goes down and A sends @", 10000,
     TGT_NONE, NULL, start_client_server, poll_link_down, check_nothing},
};
#define NSCENARIOS (sizeof scenarios / sizeof scenarios[0])

/* The stuck-state scenarios never finish by design: they are explained
 * at this virtual time unless --explain-at says otherwise; 0 for the
 * others. */
static synack_time_t default_explain_at(const struct scenario *sc)
{
    static const struct {
        const char *name;
        unsigned secs;
    } t[] = {{"app-never-closes", 30}, {"peer-never-closes", 30},
             {"silent-host", 10},      {"half-open", 10},
             {"fin-unacked", 20},      {"receiver-stalls", 30},
             {"link-down", 30}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(t[i].name, sc->name) == 0)
            return (synack_time_t)t[i].secs * SYNACK_SEC;
    return 0;
}

static const struct scenario *find_scenario(const char *name)
{
    for (size_t i = 0; i < NSCENARIOS; i++)
        if (strcmp(scenarios[i].name, name) == 0)
            return &scenarios[i];
    return NULL;
}

/* ---- setting up and running ------------------------------------------------ */

static int setup_side(struct sim *sim, struct side *sd, int idx,
                      uint64_t seed)
{
    sd->sim = sim;
    sd->idx = idx;
    sd->name = idx == LADDER_A ? 'A' : 'B';
    sd->ip = 0x0a000001u + (uint32_t)idx;
    uint8_t mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, (uint8_t)(idx + 1)};
    memcpy(sd->mac, mac, 6);
    sd->lsock = sd->sock = -1;
    sd->tx_pat = malloc(sizeof *sd->tx_pat);
    if (!sd->tx_pat)
        return -SYNACK_ENOMEM;
    pattern_init(sd->tx_pat, mix64(seed ^ (0xda7a0000ULL + (uint64_t)idx)));
    sd->gen = malloc(CHUNK);
    sd->rbuf = malloc(CHUNK);
    sd->vbuf = malloc(CHUNK);
    if (!sd->gen || !sd->rbuf || !sd->vbuf)
        return -SYNACK_ENOMEM;

    synack_stack_config cfg;
    synack_stack_config_init(&cfg);
    memcpy(cfg.mac, sd->mac, 6);
    cfg.ip = sd->ip;
    cfg.prefix_len = 24;
    cfg.seed = mix64(seed ^ (0x57ac0000ULL + (uint64_t)idx));
    for (size_t i = 0; i < sizeof cfg.isn_secret; i++)
        cfg.isn_secret[i] =
            (uint8_t)(mix64(seed ^ (0x15e00000ULL + (uint64_t)idx * 64 + i)) >>
                      32);
    int rc = synack_stack_new(&cfg, &sd->st);
    if (rc < 0)
        return rc;
    synack_stack_stats stats;
    synack_stack_get_stats(sd->st, &stats);
    sd->mem_base = stats.mem_used;
    synack_set_trace(sd->st, on_trace, sd);
    return 0;
}

static void teardown(struct sim *sim)
{
    for (int i = 0; i < 2; i++) {
        struct side *sd = &sim->s[i];
        if (sd->st) /* the ladder is finished: no rows from freeing */
            synack_set_trace(sd->st, NULL, NULL);
        synack_dev_destroy(sd->dev);
        sd->dev = NULL;
    }
    synack_link_del(sim->link);
    sim->link = NULL;
    for (int i = 0; i < 2; i++) {
        struct side *sd = &sim->s[i];
        synack_stack_del(sd->st);
        free(sd->conns);
        free(sd->tx_pat);
        free(sd->gen);
        free(sd->rbuf);
        free(sd->vbuf);
        memset(sd, 0, sizeof *sd);
    }
    synack_vloop_del(sim->loop);
    sim->loop = NULL;
    ladder_free(sim->lad);
    sim->lad = NULL;
}

/* Build stacks, link and loop. Returns 0, or -1 after printing why (exit
 * code in *code). */
static int setup(struct sim *sim, int *code)
{
    const struct tool_opts *o = sim->o;
    *code = TOOL_FAIL;
    for (int i = 0; i < 2; i++) {
        int rc = setup_side(sim, &sim->s[i], i, o->seed);
        if (rc < 0) {
            fprintf(stderr, "%s: cannot create stack %c: %s\n", PROG,
                    'A' + i, synack_strerror(rc));
            return -1;
        }
        struct side *sd = &sim->s[i];
        if (sim->sc->tunables)
            for (const char *const *t = sim->sc->tunables; *t; t++) {
                char name[64];
                const char *eq = strchr(*t, '=');
                snprintf(name, sizeof name, "%.*s", (int)(eq - *t), *t);
                if (opts_set_tunable(PROG, sd->st, name, eq + 1) != 0)
                    return -1;
            }
        if (opts_apply_tunables(PROG, sd->st, o) != 0) {
            *code = TOOL_USAGE;
            return -1;
        }
    }
    /* Static ARP entries: the ladder is about TCP, and every frame then
     * leaves at the moment its segment is made. */
    synack_arp_add(A(sim)->st, B(sim)->ip, B(sim)->mac, 0);
    synack_arp_add(B(sim)->st, A(sim)->ip, A(sim)->mac, 0);

    synack_link_config lc;
    synack_link_config_init(&lc);
    lc.loss = o->loss;
    lc.reorder = o->reorder;
    lc.dup = o->dup;
    lc.corrupt = o->corrupt;
    lc.delay = o->delay;
    lc.jitter = o->jitter;
    lc.rate_bps = o->rate_bps;
    lc.seed = mix64(o->seed ^ 0x11f40000ULL);
    if (sim->loss_pattern_len) {
        lc.loss_pattern = sim->loss_pattern;
        lc.loss_pattern_len = sim->loss_pattern_len;
    }
    int rc = synack_link_new(&lc, &sim->link);
    if (rc == 0)
        rc = synack_vloop_new(0, &sim->loop);
    if (rc < 0) {
        fprintf(stderr, "%s: cannot create the link: %s\n", PROG,
                synack_strerror(rc));
        return -1;
    }
    for (int i = 0; i < 2; i++) {
        struct side *sd = &sim->s[i];
        synack_dev *port;
        rc = synack_link_port(sim->link, &port);
        if (rc < 0) {
            fprintf(stderr, "%s: cannot add a link port: %s\n", PROG,
                    synack_strerror(rc));
            return -1;
        }
        sd->dev = probe_wrap(port, sd);
        if (!sd->dev) {
            synack_dev_destroy(port);
            fprintf(stderr, "%s: out of memory\n", PROG);
            return -1;
        }
        if (i == LADDER_A && o->pcap && !sim->dry) {
            FILE *f = fopen(o->pcap, "wb");
            if (!f) {
                perror(PROG ": --pcap");
                fprintf(stderr, "%s: --pcap %s: cannot open for writing\n",
                        PROG, o->pcap);
                *code = TOOL_USAGE;
                return -1;
            }
            fclose(f);
            synack_dev *pd;
            rc = synack_pcap_wrap(sd->dev, o->pcap, &pd);
            if (rc < 0) {
                fprintf(stderr, "%s: --pcap %s: cannot open for writing: %s\n",
                        PROG, o->pcap, synack_strerror(rc));
                *code = TOOL_USAGE;
                return -1;
            }
            sd->dev = pd;
        }
        synack_attach(sd->st, sd->dev);
        synack_vloop_add_stack(sim->loop, sd->st);
        synack_vloop_add_dev(sim->loop, sd->dev);
    }
    {
        /* Always present: in LADDER_NONE it draws nothing but still
         * recognises keepalive probes. */
        struct ladder_config lcfg = {stdout,
                                     sim->dry ? LADDER_NONE : sim->ladder_mode,
                                     sim->absolute, 30, 30, "TCP A", "TCP B",
                                     sim->dry ? NULL : sim->svg};
        sim->lad = ladder_new(&lcfg);
        if (!sim->lad) {
            fprintf(stderr, "%s: out of memory\n", PROG);
            return -1;
        }
        ladder_set_state(sim->lad, LADDER_A, SYNACK_CLOSED);
        ladder_set_state(sim->lad, LADDER_B, SYNACK_CLOSED);
        ladder_note(sim->lad, 0, -1, ""); /* both start CLOSED */
    }
    A(sim)->tx_total = sim->bytes;
    B(sim)->rx_expect = sim->bytes;
    if (sim->sc->poll == poll_half_close) {
        A(sim)->rx_expect = sim->bytes;
    }
    if (sim->sc->poll == poll_keepalive)
        A(sim)->rx_expect = 0;
    if (sim->sc->poll == poll_refused) /* nothing is ever sent */
        A(sim)->tx_total = B(sim)->rx_expect = 0;
    return 0;
}

static int app_finished(struct sim *sim)
{
    return A(sim)->closed && B(sim)->closed;
}

static void describe_conns(struct sim *sim, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < 2; i++) {
        synack_conn_info ci[8];
        size_t k = synack_conn_list(sim->s[i].st, ci, 8);
        for (size_t j = 0; j < k && j < 8 && n < len; j++) {
            char l[32], r[32];
            if (ci[j].state == SYNACK_LISTEN)
                snprintf(r, sizeof r, "*");
            else
                synack_addr_str(&ci[j].remote, r, sizeof r);
            int w = snprintf(
                buf + n, len - n, "%s%c %s %s-%s (timer %s)", n ? "; " : "",
                sim->s[i].name, synack_state_name(ci[j].state),
                synack_addr_str(&ci[j].local, l, sizeof l), r,
                synack_timer_name(ci[j].timer));
            if (w > 0)
                n += (size_t)w;
        }
    }
}

/* Run until both applications are done and neither stack has a
 * connection left. */
static void run(struct sim *sim)
{
    synack_time_t last = 0;
    unsigned long same = 0;
    sim->t_action = SYNACK_TIME_NEVER;
    sim->sc->start(sim, 0);
    for (;;) {
        synack_time_t now = synack_vloop_now(sim->loop);
        if (sim->setup_failed)
            break;
        sim->sc->poll(sim, now);
        if (sim->dry && sim->target_index)
            break;
        synack_time_t next = synack_vloop_next(sim->loop);
        if (app_finished(sim) && synack_stack_conn_count(A(sim)->st) == 0 &&
            synack_stack_conn_count(B(sim)->st) == 0 &&
            synack_dev_next_deadline(A(sim)->dev) == SYNACK_TIME_NEVER &&
            synack_dev_next_deadline(B(sim)->dev) == SYNACK_TIME_NEVER)
            break; /* done, and nothing left on the wire */
        if (next == SYNACK_TIME_NEVER && sim->t_action == SYNACK_TIME_NEVER) {
            if (sim->explain_at) { /* explain: let the clock run to it */
                if (!sim->snapped && now + SYNACK_SEC < sim->explain_at)
                    synack_vloop_step(sim->loop, sim->explain_at - SYNACK_SEC);
                if (!sim->snapped)
                    explain_snapshot(sim);
                if (now < sim->explain_at)
                    synack_vloop_step(sim->loop, sim->explain_at);
                break;
            }
            sim->stalled = 1; /* nothing will ever happen again */
            break;
        }
        synack_time_t lim = sim->t_action;
        if (lim > sim->time_limit)
            lim = sim->time_limit;
        if (sim->explain_at && !sim->snapped &&
            sim->explain_at > SYNACK_SEC && lim > sim->explain_at - SYNACK_SEC)
            lim = sim->explain_at - SYNACK_SEC;
        if (lim < now)
            lim = now;
        int ran = synack_vloop_step(sim->loop, lim);
        synack_time_t t = synack_vloop_now(sim->loop);
        if (sim->explain_at && !sim->snapped &&
            t >= sim->explain_at - SYNACK_SEC) {
            explain_snapshot(sim);
            ran = 1; /* not the end: the explain time is later */
        }
        if (!sim->check_failed) {
            for (int i = 0; i < 2; i++) {
                char msg[256];
                if (synack_stack_check(sim->s[i].st, msg, sizeof msg)) {
                    fail(sim, "%c: internal invariant broken at %.6f s: %s",
                         sim->s[i].name, (double)t / 1e9, msg);
                    sim->check_failed = 1; /* report the first only */
                    break;
                }
            }
        }
        if (!ran) {
            if (t >= sim->time_limit) {
                sim->timed_out = 1;
                break;
            }
        }
        if (t == last) {
            if (++same > 1000000) {
                sim->stalled = 2; /* livelock at one instant */
                break;
            }
        } else {
            same = 0;
            last = t;
        }
    }
    sim->t_end = synack_vloop_now(sim->loop);
}

/* ---- output ----------------------------------------------------------------- */

static int impaired(const struct tool_opts *o)
{
    return o->loss > 0 || o->reorder > 0 || o->dup > 0 || o->corrupt > 0 ||
           o->jitter > 0;
}

/* "5", "0.25": milliseconds without trailing zeros */
static const char *ms(synack_time_t t, char *buf, size_t len)
{
    snprintf(buf, len, "%llu", (unsigned long long)(t / SYNACK_MSEC));
    uint64_t frac = t % SYNACK_MSEC; /* nanoseconds */
    if (frac) {
        char f[16];
        snprintf(f, sizeof f, "%06llu", (unsigned long long)frac);
        size_t n = strlen(f);
        while (n && f[n - 1] == '0')
            f[--n] = '\0';
        size_t k = strlen(buf);
        snprintf(buf + k, len - k, ".%s", f);
    }
    return buf;
}

static void print_banner(struct sim *sim)
{
    const struct tool_opts *o = sim->o;
    char sz[32], story[256], d[32];
    opts_fmt_size(sim->bytes, sz, sizeof sz);
    /* the story's "@" stands for the size */
    size_t n = 0;
    for (const char *p = sim->sc->story; *p && n + 1 < sizeof story; p++) {
        if (*p == '@') {
            size_t k = strlen(sz);
            if (n + k >= sizeof story)
                break;
            memcpy(story + n, sz, k);
            n += k;
        } else {
            story[n++] = *p;
        }
    }
    story[n] = '\0';
    printf("synack sim %s: %s.\n", sim->sc->name, story);
    printf("A is 10.0.0.1, B is 10.0.0.2. Link: one-way delay %s ms",
           ms(o->delay, d, sizeof d));
    if (o->jitter)
        printf(" + jitter up to %s ms",
               ms(o->jitter, d, sizeof d));
    if (o->rate_bps)
        printf(", %.3f Mbit/s", (double)o->rate_bps / 1e6);
    if (o->loss > 0)
        printf(", loss %g%%", o->loss * 100);
    if (o->reorder > 0)
        printf(", reorder %g%%", o->reorder * 100);
    if (o->dup > 0)
        printf(", dup %g%%", o->dup * 100);
    if (o->corrupt > 0)
        printf(", corrupt %g%%", o->corrupt * 100);
    if (sim->loss_pattern_len)
        printf(", drops frame #%lu (%s)", (unsigned long)sim->loss_pattern[0],
               sim->sc->target == TGT_A_FIRST_FIN ? "A's first FIN"
                                                  : "A's first segment in "
                                                    "TIME-WAIT");
    printf(". Seed %llu.\n", (unsigned long long)o->seed);
    if (sim->sc->tunables) {
        printf("Tunables set by the scenario:");
        for (const char *const *t = sim->sc->tunables; *t; t++)
            printf(" %s", *t);
        printf("\n");
    }
    if (o->ntunables) {
        printf("Tunables (-o):");
        for (size_t i = 0; i < o->ntunables; i++)
            printf(" %s=%s", o->tunables[i].name, o->tunables[i].value);
        printf("\n");
    }
    printf("Sequence numbers are %s.\n\n",
           sim->absolute ? "absolute" : "relative to each side's ISN");
}

static const char *secs(synack_time_t t, char *buf, size_t len)
{
    return ladder_fmt_time(t, buf, len);
}

/* Evaluate the outcome; returns the exit code. */
/* The error a scenario makes an application see on purpose (or 0). */
static int expected_err(const struct sim *sim, int idx)
{
    if (sim->sc->poll == poll_rst)
        return idx == LADDER_B ? SYNACK_ECONNRESET : 0;
    if (sim->sc->poll == poll_keepalive)
        return idx == LADDER_A ? SYNACK_ETIMEDOUT : SYNACK_ECONNRESET;
    if (sim->sc->poll == poll_refused)
        return idx == LADDER_A ? SYNACK_ECONNREFUSED : 0;
    return 0;
}

static int conclude(struct sim *sim)
{
    char buf[400], tb[32];
    const struct tool_opts *o = sim->o;

    /* the root cause first: an error the scenario did not ask for */
    for (int i = 0; i < 2; i++) {
        const struct side *sd = &sim->s[i];
        if (sd->err && sd->err != expected_err(sim, i))
            fail(sim, "%c: the application got %s (%s)", sd->name,
                 synack_errname(sd->err), synack_strerror(sd->err));
    }

    if (sim->stalled == 1) {
        describe_conns(sim, buf, sizeof buf);
        fail(sim, "stalled at %s s: nothing left to happen, but %s",
             secs(sim->t_end, tb, sizeof tb), buf[0] ? buf : "applications "
                                                             "not done");
    } else if (sim->stalled == 2) {
        fail(sim, "livelock: time stopped advancing at %s s",
             secs(sim->t_end, tb, sizeof tb));
    } else if (sim->timed_out) {
        describe_conns(sim, buf, sizeof buf);
        fail(sim, "time limit reached at %s s (virtual): %s",
             secs(sim->t_end, tb, sizeof tb), buf);
    }

    /* data */
    for (int i = 0; i < 2; i++) {
        struct side *rx = &sim->s[i], *tx = &sim->s[!i];
        int partial = sim->sc->poll == poll_rst;
        if (rx->rx_bad)
            fail(sim, "%c -> %c: data differs at byte %llu", tx->name,
                 rx->name, (unsigned long long)(rx->rx_bad - 1));
        else if (!partial && rx->rx_done != rx->rx_expect)
            fail(sim, "%c -> %c: %llu bytes received, %llu expected",
                 tx->name, rx->name, (unsigned long long)rx->rx_done,
                 (unsigned long long)rx->rx_expect);
        else if (partial && rx->rx_done > tx->tx_done)
            fail(sim, "%c -> %c: %llu bytes received, only %llu sent",
                 tx->name, rx->name, (unsigned long long)rx->rx_done,
                 (unsigned long long)tx->tx_done);
    }
    /* both ends closed, nothing held */
    for (int i = 0; i < 2; i++) {
        struct side *sd = &sim->s[i];
        synack_stack_stats st;
        synack_stack_get_stats(sd->st, &st);
        size_t nc = synack_stack_conn_count(sd->st);
        if (!sim->stalled && !sim->timed_out &&
            (nc || side_state(sd) != SYNACK_CLOSED))
            fail(sim, "%c did not reach CLOSED (%zu connections left, %s)",
                 sd->name, nc, synack_state_name(side_state(sd)));
        if (st.illegal_transitions)
            fail(sim, "%c made %llu state changes that are not in the RFC "
                      "9293 diagram",
                 sd->name, (unsigned long long)st.illegal_transitions);
        if (st.timer_misfires)
            fail(sim, "%c: %llu timer(s) fired in a state where they have "
                      "no meaning",
                 sd->name, (unsigned long long)st.timer_misfires);
        if (!nc && st.mem_used != sd->mem_base)
            fail(sim, "%c holds %lld bytes of connection memory with no "
                      "connection left",
                 sd->name, (long long)(st.mem_used - sd->mem_base));
    }
    sim->sc->check(sim);
    int strict = !impaired(o);
    for (int i = 0; i < sim->nchecks; i++)
        if (!sim->checks[i].ok && strict)
            fail(sim, "scenario: not seen: %s", sim->checks[i].text);
    return sim->nfails ? TOOL_FAIL : TOOL_OK;
}

static void print_summary(struct sim *sim, int code)
{
    struct side *a = A(sim), *b = B(sim);
    const struct tool_opts *o = sim->o;
    char t1[32], t2[32], s1[32];
    synack_link_stats ls;
    synack_link_get_stats(sim->link, &ls);

    printf("\nSummary (virtual time)\n");
    printf("  scenario      %s, seed %llu\n", sim->sc->name,
           (unsigned long long)o->seed);
    for (int i = 0; i < 2; i++) {
        struct side *tx = &sim->s[i], *rx = &sim->s[!i];
        if (!tx->tx_total && !rx->rx_expect && !rx->rx_done)
            continue;
        int exact = !rx->rx_bad && (rx->rx_done == rx->rx_expect ||
                                    (sim->sc->poll == poll_rst &&
                                     rx->rx_done <= tx->tx_done));
        if (!rx->rx_expect && !rx->rx_done) {
            printf("  %c -> %c        %llu bytes sent, not meant to arrive\n",
                   tx->name, rx->name, (unsigned long long)tx->tx_done);
            continue;
        }
        printf("  %c -> %c        %llu bytes sent, %llu received (%s), "
               "byte-exact: %s\n",
               tx->name, rx->name, (unsigned long long)tx->tx_done,
               (unsigned long long)rx->rx_done,
               opts_fmt_size(rx->rx_done, s1, sizeof s1),
               exact ? "yes" : "NO");
    }
    if (!a->tx_total && !b->tx_total)
        printf("  data          none\n");
    printf("  segments      A sent %llu (%llu retransmitted), B sent %llu "
           "(%llu retransmitted)\n",
           (unsigned long long)a->segs, (unsigned long long)a->retrans,
           (unsigned long long)b->segs, (unsigned long long)b->retrans);
    for (int i = 0; i < 2; i++) {
        synack_stack_stats st;
        synack_stack_get_stats(sim->s[i].st, &st);
        printf("  %-13s %c", i ? "" : "recovery", sim->s[i].name);
        tool_print_recovery(stdout, &st);
        putchar('\n');
    }
    for (int i = 0; i < 2; i++) {
        struct side *sd = &sim->s[i];
        synack_stack_stats st;
        synack_stack_get_stats(sd->st, &st);
        printf("  %-13s %c discarded %llu", i ? "" : "dropped", sd->name,
               (unsigned long long)sd->drops);
        const char *sep = ": ";
        for (int r = 1; r < SYNACK__DROP_COUNT; r++) {
            if (!st.drops[r])
                continue;
            printf("%s%llu %s", sep, (unsigned long long)st.drops[r],
                   synack_drop_text(r));
            sep = ", ";
        }
        printf("\n");
    }
    printf("  link          %llu frames: %llu lost, %llu duplicated, %llu "
           "reordered, %llu corrupted",
           (unsigned long long)ls.sent, (unsigned long long)ls.lost,
           (unsigned long long)ls.duplicated,
           (unsigned long long)ls.reordered,
           (unsigned long long)ls.corrupted);
    if (ls.queue_drops)
        printf(", %llu queue drops", (unsigned long long)ls.queue_drops);
    if (sim->linkdown_drops)
        printf("; %llu dropped while down",
               (unsigned long long)sim->linkdown_drops);
    printf("\n");
    if (a->connected)
        printf("  connected     A at %s s, B at %s s\n",
               secs(a->t_connected, t1, sizeof t1),
               b->connected ? secs(b->t_connected, t2, sizeof t2) : "-");
    for (int i = 1; i >= 0; i--) { /* A->B first */
        struct side *rx = &sim->s[i], *tx = &sim->s[!i];
        if (!rx->rx_done)
            continue;
        /* from the first byte written to the last byte read */
        synack_time_t dt = rx->t_last_rx - tx->t_tx_start;
        printf("  goodput %c->%c  %.3f Mbit/s (%s s from the first byte "
               "written to the last read)\n",
               tx->name, rx->name,
               dt ? (double)rx->rx_done * 8 / ((double)dt / 1e9) / 1e6 : 0.0,
               secs(dt, t1, sizeof t1));
    }
    printf("  duration      %s s until both stacks had no connection\n",
           secs(sim->t_end, t1, sizeof t1));
    printf("  final state   A %s, B %s\n", synack_state_name(side_state(a)),
           synack_state_name(side_state(b)));
    if (sim->lad && ladder_omitted(sim->lad))
        printf("  ladder        %lu rows, %lu left out (--ladder full)\n",
               ladder_rows(sim->lad), ladder_omitted(sim->lad));
    if (o->pcap)
        printf("  pcap          %s: %llu frames (A sent %llu, received %llu)\n",
               o->pcap, (unsigned long long)(a->frames_tx + a->frames_rx),
               (unsigned long long)a->frames_tx,
               (unsigned long long)a->frames_rx);
    for (int i = 0; i < sim->nchecks; i++)
        printf("  %-13s %s: %s\n", i ? "" : "checks", sim->checks[i].text,
               sim->checks[i].ok ? "yes" : "NO");
    if (code == TOOL_OK) {
        printf("  result        OK\n");
    } else {
        printf("  result        FAILED\n");
        for (int i = 0; i < sim->nfails; i++)
            printf("                - %s\n", sim->fails[i]);
    }
}

/* ---- command line -------------------------------------------------------------- */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: synack sim [SCENARIO] [OPTIONS]\n"
            "\n"
            "Two TCP stacks in one process, A (10.0.0.1, the client) and B "
            "(10.0.0.2,\n"
            "the server), on an in-memory link in virtual time. Prints every "
            "segment and\n"
            "state change as the RFC 9293 ladder diagram, then a summary. "
            "Exit status:\n"
            "0 if the data arrived byte-exact, both ends reached CLOSED and "
            "the scenario\n"
            "went as designed (the last is only enforced without random "
            "impairments),\n"
            "1 if not, 2 for bad usage. With --explain-at (and the "
            "stuck-state scenarios,\n"
            "which explain themselves) it stops there, explains both "
            "stacks and exits 0.\n"
            "\n"
            "Scenarios:\n");
    for (size_t i = 0; i < NSCENARIOS; i++)
        fprintf(out, "  %-19s %s%s\n", scenarios[i].name, scenarios[i].help,
                i == 0 ? " [default]" : "");
    fprintf(out,
            "\n"
            "Options:\n"
            "  --bytes SIZE      bytes A sends (e.g. 1000, 100K, 10M, 1G; K/M/G "
            "= KiB/MiB/GiB)\n"
            "  --ladder MODE     full, auto (default: every row if at most 60 "
            "segments,\n"
            "                    else the first and last 30; state changes "
            "always) or none\n"
            "  --absolute        absolute sequence numbers (default: relative "
            "to each ISN)\n"
            "  -q, --quiet       print only the summary\n"
            "  --plot PREFIX     write PREFIX-tseq.svg (sequence number "
            "against time of the\n"
            "                    direction with more data, at its sender) "
            "and PREFIX-cc.svg\n"
            "                    (its cwnd, bytes in flight and RTT)\n"
            "  --svg FILE        also draw the ladder as an SVG sequence "
            "diagram into FILE\n"
            "                    (the rows of --ladder; auto with none or "
            "--quiet)\n"
            "  --time-limit SEC  give up after SEC seconds of virtual time "
            "(default 100000)\n"
            "  --explain-at TIME stop at TIME (virtual, e.g. 30s) and explain "
            "every\n"
            "                    connection stuck on either stack, as "
            "`synack explain` does\n"
            "                    (the stuck-state scenarios do it by "
            "default)\n"
            "  --explain-json    with --explain-at: the explanation as JSON "
            "only\n"
            "  --explain-all     with --explain-at: explain healthy "
            "connections too\n"
            "  --list-tunables   list the tunables, their values and meaning; "
            "then exit\n"
            "  -h, --help        this text\n"
            "  --test-flip-rx N  testing aid: B's application sees byte N "
            "flipped, so the\n"
            "                    check must fail\n"
            "\n"
            "Link and stack options (default delay 5 ms, seed 1):\n");
    opts_print_help(out);
    fprintf(out, "\nExamples:\n"
                 "  synack sim handshake\n"
                 "  synack sim --bytes 10M --loss 5 --seed 3\n"
                 "  synack sim lost-fin --pcap lost-fin.pcap\n"
                 "  synack sim app-never-closes --ladder none\n"
                 "  synack sim handshake --explain-at 10s -q\n");
}

int sim_main(int argc, char **argv)
{
    struct tool_opts o;
    opts_init(&o, 5 * SYNACK_MSEC);
    const struct scenario *sc = NULL;
    uint64_t bytes = 0;
    int have_bytes = 0, mode = LADDER_AUTO, absolute = 0, quiet = 0;
    synack_time_t limit = 100000 * SYNACK_SEC;
    uint64_t flip = 0;
    const char *svg_path = NULL, *plot_prefix = NULL;
    FILE *svg = NULL;
    synack_time_t explain_at = 0;
    int have_explain = 0, explain_json = 0, explain_all = 0;
    int code = TOOL_USAGE;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v;
        int m;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            code = TOOL_OK;
            goto out;
        }
        if (strcmp(a, "--list-tunables") == 0) {
            code = opts_list_tunables(stdout) == 0 ? TOOL_OK : TOOL_FAIL;
            goto out;
        }
        if (strcmp(a, "--absolute") == 0) {
            absolute = 1;
            continue;
        }
        if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            quiet = 1;
            continue;
        }
        if ((v = opts_value(PROG, argc, argv, &i, "--bytes", &m)) || m) {
            if (!v || opts_parse_size(PROG, "--bytes", v, &bytes) != 0)
                goto out;
            have_bytes = 1;
            continue;
        }
        if ((v = opts_value(PROG, argc, argv, &i, "--test-flip-rx", &m)) ||
            m) {
            if (!v || opts_parse_u64(PROG, "--test-flip-rx", v, &flip) != 0)
                goto out;
            flip++;
            continue;
        }
        if ((v = opts_value(PROG, argc, argv, &i, "--explain-at", &m)) || m) {
            if (!v ||
                opts_parse_seconds(PROG, "--explain-at", v, &explain_at) != 0)
                goto out;
            if (explain_at == 0) {
                fprintf(stderr, "%s: --explain-at: give a time after the "
                                "start (e.g. 30s)\n",
                        PROG);
                goto out;
            }
            have_explain = 1;
            continue;
        }
        if (strcmp(a, "--explain-json") == 0) {
            explain_json = 1;
            continue;
        }
        if (strcmp(a, "--explain-all") == 0) {
            explain_all = 1;
            continue;
        }
        if ((v = opts_value(PROG, argc, argv, &i, "--time-limit", &m)) || m) {
            if (!v || opts_parse_seconds(PROG, "--time-limit", v, &limit) != 0)
                goto out;
            continue;
        }
        if ((v = opts_value(PROG, argc, argv, &i, "--plot", &m)) || m) {
            if (!v)
                goto out;
            if (!*v) {
                fprintf(stderr, "%s: --plot: empty prefix\n", PROG);
                goto out;
            }
            plot_prefix = v;
            continue;
        }
        if ((v = opts_value(PROG, argc, argv, &i, "--svg", &m)) || m) {
            if (!v)
                goto out;
            svg_path = v;
            continue;
        }
        if ((v = opts_value(PROG, argc, argv, &i, "--ladder", &m)) || m) {
            if (!v)
                goto out;
            if (strcmp(v, "full") == 0)
                mode = LADDER_FULL;
            else if (strcmp(v, "auto") == 0)
                mode = LADDER_AUTO;
            else if (strcmp(v, "none") == 0)
                mode = LADDER_NONE;
            else {
                fprintf(stderr,
                        "%s: --ladder: '%s' is not full, auto or none\n", PROG,
                        v);
                goto out;
            }
            continue;
        }
        int r = opts_parse_common(PROG, argc, argv, &i, &o);
        if (r < 0)
            goto out;
        if (r > 0)
            continue;
        if (a[0] == '-') {
            fprintf(stderr, "%s: unknown option '%s' (see %s --help)\n", PROG,
                    a, PROG);
            goto out;
        }
        if (sc) {
            fprintf(stderr, "%s: one scenario at a time ('%s' and '%s')\n",
                    PROG, sc->name, a);
            goto out;
        }
        sc = find_scenario(a);
        if (!sc) {
            fprintf(stderr, "%s: unknown scenario '%s'; the scenarios are:",
                    PROG, a);
            for (size_t k = 0; k < NSCENARIOS; k++)
                fprintf(stderr, " %s", scenarios[k].name);
            fprintf(stderr, "\n");
            goto out;
        }
    }
    if (!sc)
        sc = &scenarios[0];
    if (opts_check_tunables(PROG, &o) != 0)
        goto out;
    if (!have_explain)
        explain_at = default_explain_at(sc);
    if ((explain_json || explain_all) && !explain_at) {
        fprintf(stderr, "%s: --explain-json and --explain-all go with "
                        "--explain-at TIME\n",
                PROG);
        goto out;
    }
    if (explain_json)
        quiet = 1; /* the JSON document alone on stdout */

    if (svg_path) {
        svg = fopen(svg_path, "w");
        if (!svg) {
            fprintf(stderr, "%s: --svg %s: cannot open for writing: %s\n",
                    PROG, svg_path, strerror(errno));
            code = TOOL_FAIL;
            goto out;
        }
    }

    if (plot_prefix) { /* say now, not after the run, if we cannot */
        static const char *const sfx[] = {"-tseq.svg", "-cc.svg"};
        for (int k = 0; k < 2; k++) {
            char path[4096];
            snprintf(path, sizeof path, "%s%s", plot_prefix, sfx[k]);
            FILE *pf = fopen(path, "w");
            if (!pf) {
                fprintf(stderr, "%s: --plot: cannot open %s for writing: %s\n",
                        PROG, path, strerror(errno));
                code = TOOL_FAIL;
                goto out;
            }
            fclose(pf);
        }
    }

    static struct sim sim; /* large; one per process */
    memset(&sim, 0, sizeof sim);
    sim.sc = sc;
    sim.o = &o;
    sim.bytes = have_bytes ? bytes : sc->bytes;
    sim.ladder_mode = quiet ? LADDER_NONE : mode;
    sim.absolute = absolute;
    sim.quiet = quiet;
    sim.time_limit = limit;
    sim.flip_rx = flip;
    sim.svg = svg;
    if (explain_at) {
        sim.explain_at = explain_at;
        sim.explain_json = explain_json;
        sim.explain_all = explain_all;
        if (sim.time_limit > explain_at)
            sim.time_limit = explain_at;
    }

    if (sc->target != TGT_NONE) {
        /* A dry run finds the index of the frame to drop; the run is
         * deterministic, so the real one is identical up to that frame. */
        sim.dry = 1;
        if (setup(&sim, &code) != 0) {
            teardown(&sim);
            goto out;
        }
        run(&sim);
        uint64_t idx = sim.target_index;
        teardown(&sim);
        memset(&sim, 0, sizeof sim);
        sim.sc = sc;
        sim.o = &o;
        sim.bytes = have_bytes ? bytes : sc->bytes;
        sim.ladder_mode = quiet ? LADDER_NONE : mode;
        sim.absolute = absolute;
        sim.quiet = quiet;
        sim.time_limit = limit;
        sim.flip_rx = flip;
        sim.svg = svg;
        if (explain_at) {
            sim.explain_at = explain_at;
            sim.explain_json = explain_json;
            sim.explain_all = explain_all;
            if (sim.time_limit > explain_at)
                sim.time_limit = explain_at;
        }
        if (idx && idx <= UINT32_MAX) {
            sim.loss_pattern[0] = (uint32_t)idx;
            sim.loss_pattern_len = 1;
        } else {
            fail(&sim, "the frame this scenario drops was never sent");
        }
    }
    /* the banner first: setup() already draws the ladder's first rows */
    if (!quiet)
        print_banner(&sim);
    if (setup(&sim, &code) != 0) {
        teardown(&sim);
        goto out;
    }
    if (plot_prefix && !(sim.plot = tsrec_new())) {
        fprintf(stderr, "%s: out of memory\n", PROG);
        code = TOOL_FAIL;
        teardown(&sim);
        goto out;
    }
    run(&sim);
    if (sim.lad)
        ladder_finish(sim.lad);
    if (sim.explain_at) {
        /* the stacks as they are now, explained; the run's own verdict
         * does not apply (it was stopped on purpose) */
        fflush(stdout);
        explain_sides(&sim);
        code = sim.setup_failed || sim.check_failed ? TOOL_FAIL : TOOL_OK;
        if (sim.plot) { /* the run up to the explanation */
            char err[256], what[128], tb[32];
            snprintf(what, sizeof what, "synack sim %s (to %s s)", sc->name,
                     secs(synack_vloop_now(sim.loop), tb, sizeof tb));
            if (tsrec_write(sim.plot, plot_prefix, what, err, sizeof err) !=
                0) {
                fprintf(stderr, "%s: --plot: %s\n", PROG, err);
                code = TOOL_FAIL;
            }
            tsrec_free(sim.plot);
            sim.plot = NULL;
        }
        if (code != TOOL_OK && sim.nfails)
            fprintf(stderr, "%s: FAILED: %s\n", PROG, sim.fails[0]);
        teardown(&sim);
        goto out;
    }
    code = conclude(&sim);
    if (sim.plot) {
        char err[256];
        char what[128];
        snprintf(what, sizeof what, "synack sim %s", sc->name);
        if (tsrec_write(sim.plot, plot_prefix, what, err, sizeof err) != 0) {
            fail(&sim, "--plot: %s", err);
            code = TOOL_FAIL;
        }
        tsrec_free(sim.plot);
        sim.plot = NULL;
    }
    print_summary(&sim, code);
    fflush(stdout);
    if (code != TOOL_OK)
        fprintf(stderr, "%s: FAILED: %s\n", PROG, sim.fails[0]);
    teardown(&sim);
out:
    if (svg && fclose(svg) != 0 && code == TOOL_OK) {
        fprintf(stderr, "%s: --svg %s: write failed\n", PROG, svg_path);
        code = TOOL_FAIL;
    }
    opts_free(&o);
    fflush(stdout);
    return code;
}
