/*
 * Both ends' states and the segment marks from a capture (capinfer.h).
 *
 * Two passes over a connection's segments. The first tracks each
 * direction's sequence space (what was seen, the highest end, the last
 * ACK and window) and marks segments. The second walks the states: the
 * sender's change before a segment's row, the receiver's after the row of
 * the copy it evidently received (found by looking ahead for its ACK).
 */
#include "capinfer.h"

#include "ladder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_GEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) >= 0)

#define OOO_DEFAULT_NS 3000000ull /* out-of-order if a hole fills this fast */

static const char WHY_MID[] = "capture starts mid-connection: ESTABLISHED "
                              "assumed";
static const char WHY_NOSYN[] = "capture starts after the SYN: state assumed";
static const char WHY_NOANSWER[] = "the SYN is not answered in the capture: "
                                   "state unknown";
static const char WHY_SILENT[] = "the peer had stopped answering before "
                                 "this RST: it may not have arrived";
static const char WHY_FIN_UNSEEN[] = "a later segment's sequence number "
                                     "shows a FIN the capture lacks";
static const char WHY_ACK_AGAIN[] = "earlier copies of this ACK were lost "
                                    "and nothing after it shows it arrived";
static const char WHY_UNACKED[] = "not acknowledged in the capture: it may "
                                  "not have arrived";

struct span {
    int64_t lo, hi;
};

/* One direction's sequence space while marking. */
struct dirtrack {
    int known;
    uint32_t max_seq; /* highest sequence end sent */
    int64_t max_off;  /* the same, unwrapped */
    uint64_t t_adv;   /* when max advanced last */
    struct span *seen;
    size_t nseen, capseen;
    int ack_known;
    uint32_t last_ack, max_ack;
    uint16_t last_wnd;
    unsigned dup_n;
    int ws_known;
    uint8_t ws;
    unsigned syns; /* 1: a SYN seen, 2: a SYN,ACK seen */
    int isn_set;
    uint32_t isn; /* the handshake's SYN, when it opened the tracking */
    /* round-trip samples: fresh segments waiting for the peer's ACK */
    struct pend {
        uint32_t end;
        uint64_t t;
    } pend[64];
    size_t npend;
    uint64_t rtt_min; /* 0: no sample */
};

static uint32_t seq_len(const synack_seg *s)
{
    return s->len + !!(s->flags & SYNACK_TH_SYN) + !!(s->flags & SYNACK_TH_FIN);
}

static int64_t off_of(const struct dirtrack *d, uint32_t seq)
{
    return d->max_off + (int32_t)(seq - d->max_seq);
}

static int seen_add(struct dirtrack *d, int64_t lo, int64_t hi)
{
    /* merge into the sorted, disjoint list */
    size_t i = 0;
    while (i < d->nseen && d->seen[i].hi < lo)
        i++;
    size_t j = i;
    while (j < d->nseen && d->seen[j].lo <= hi) {
        if (d->seen[j].lo < lo)
            lo = d->seen[j].lo;
        if (d->seen[j].hi > hi)
            hi = d->seen[j].hi;
        j++;
    }
    if (j == i) { /* insert at i */
        if (d->nseen == d->capseen) {
            size_t nc = d->capseen ? d->capseen * 2 : 16;
            struct span *n = realloc(d->seen, nc * sizeof *n);
            if (!n)
                return -1;
            d->seen = n;
            d->capseen = nc;
        }
        memmove(&d->seen[i + 1], &d->seen[i], (d->nseen - i) * sizeof *d->seen);
        d->nseen++;
    } else if (j > i + 1) {
        memmove(&d->seen[i + 1], &d->seen[j], (d->nseen - j) * sizeof *d->seen);
        d->nseen -= j - i - 1;
    }
    d->seen[i].lo = lo;
    d->seen[i].hi = hi;
    return 0;
}

static int seen_covers(const struct dirtrack *d, int64_t lo, int64_t hi)
{
    for (size_t i = 0; i < d->nseen; i++)
        if (d->seen[i].lo <= lo && hi <= d->seen[i].hi)
            return 1;
    return 0;
}

const char *capinfer_state_name(int state)
{
    return state < 0 ? "?" : synack_state_name(state);
}

/* ---- pass 1: marks and counters ------------------------------------------ */

static void find_vantage(struct capinfer *ci)
{
    const struct capconn *c = ci->conn;
    size_t syn = CAPINFER_NONE, sa = CAPINFER_NONE, ack = CAPINFER_NONE;
    for (size_t i = 0; i < c->nsegs; i++) {
        const synack_seg *s = &c->segs[i].p.seg;
        int f = s->flags & (SYNACK_TH_SYN | SYNACK_TH_ACK | SYNACK_TH_RST);
        if (sa == CAPINFER_NONE) {
            /* the last copy of the SYN before the SYN,ACK: the round trip
             * is the answer's, not the retransmission timer's */
            if (f == SYNACK_TH_SYN && c->segs[i].from == 0)
                syn = i;
            else if (syn != CAPINFER_NONE &&
                     f == (SYNACK_TH_SYN | SYNACK_TH_ACK) &&
                     c->segs[i].from == 1)
                sa = i;
        } else if (c->segs[i].from == 0 && (f & SYNACK_TH_ACK) &&
                   !(f & SYNACK_TH_SYN)) {
            ack = i;
            break;
        }
    }
    if (ack == CAPINFER_NONE)
        return;
    uint64_t d1 = c->segs[sa].p.t_ns - c->segs[syn].p.t_ns;
    uint64_t d2 = c->segs[ack].p.t_ns - c->segs[sa].p.t_ns;
    ci->rtt_ns = d1 + d2;
    if (d1 > 4 * d2)
        ci->vantage = CAPINFER_NEAR_A;
    else if (d2 > 4 * d1)
        ci->vantage = CAPINFER_NEAR_B;
}

static uint64_t scaled(const struct dirtrack *me, const struct dirtrack *peer,
                       const synack_seg *s)
{
    uint64_t w = s->wnd;
    if (!(s->flags & SYNACK_TH_SYN) && me->ws_known && peer->ws_known)
        w <<= me->ws;
    return w;
}

/* Karn's rule on the capture: a segment sent once, answered by the peer's
 * ACK covering it, gives the time from the capture point to the peer and
 * back. A retransmission spoils what is pending. */
static void rtt_sample(struct dirtrack *me, struct dirtrack *peer,
                       const synack_seg *s, uint32_t sl, unsigned m, uint64_t t)
{
    if (m & (LADDER_RETRANS | LADDER_OOO | LADDER_KEEPALIVE | LADDER_WINPROBE))
        me->npend = 0;
    else if (sl && !(s->flags & SYNACK_TH_RST) &&
             me->npend < sizeof me->pend / sizeof me->pend[0])
        me->pend[me->npend++] = (struct pend){ s->seq + sl, t };
    if (!(s->flags & SYNACK_TH_ACK) || (s->flags & SYNACK_TH_RST))
        return;
    size_t n = 0;
    while (n < peer->npend && SEQ_GEQ(s->ack, peer->pend[n].end))
        n++;
    if (!n)
        return;
    uint64_t d = t - peer->pend[n - 1].t;
    if (!peer->rtt_min || d < peer->rtt_min)
        peer->rtt_min = d ? d : 1;
    memmove(peer->pend, peer->pend + n, (peer->npend - n) * sizeof *peer->pend);
    peer->npend -= n;
}

static int mark_pass(struct capinfer *ci, struct dirtrack dir[2])
{
    const struct capconn *c = ci->conn;
    uint64_t ooo_ns = ci->rtt_ns ? ci->rtt_ns / 2 : OOO_DEFAULT_NS;
    for (size_t i = 0; i < c->nsegs; i++) {
        const struct capconn_seg *g = &c->segs[i];
        const synack_seg *s = &g->p.seg;
        int x = g->from;
        struct dirtrack *me = &dir[x], *peer = &dir[!x];
        struct capinfer_side *sd = &ci->side[x];
        unsigned m = 0;
        uint32_t sl = seq_len(s);
        if (!sd->segs)
            sd->first_ns = g->p.t_ns;
        sd->segs++;
        sd->last_ns = g->p.t_ns;
        sd->bytes += s->len;
        if (s->flags & SYNACK_TH_SYN) {
            me->ws_known = s->has_ws;
            me->ws = s->ws > 14 ? 14 : s->ws; /* RFC 7323 */
            sd->syn_sent = 1;
        }
        if (s->flags & SYNACK_TH_FIN)
            sd->fin_sent = 1;
        if (s->flags & SYNACK_TH_RST) {
            m |= LADDER_RST;
            sd->rst_sent = 1;
        }
        int bare = (s->flags & ~SYNACK_TH_PSH) == SYNACK_TH_ACK;
        int peer_zero = peer->ack_known && peer->last_wnd == 0;
        /* a SYN inside an open connection (not the handshake's): it says
         * nothing about the sender's sequence space */
        int stray_syn = (s->flags & SYNACK_TH_SYN) && me->known &&
                        !(me->isn_set && s->seq == me->isn);
        if ((s->flags & SYNACK_TH_SYN) && !me->known) {
            me->isn_set = 1;
            me->isn = s->seq;
        }
        if (!me->known) {
            me->known = 1;
            me->max_seq = s->seq;
            me->max_off = 0;
            me->t_adv = g->p.t_ns;
        }
        if (!(s->flags & SYNACK_TH_RST) && !stray_syn) {
            int64_t lo = off_of(me, s->seq), hi = lo + sl;
            if (bare && s->len <= 1 && lo + 1 == me->max_off && i > 0) {
                (void)hi;
                m |= peer_zero ? LADDER_WINPROBE : LADDER_KEEPALIVE;
            } else if (sl) {
                if (lo > me->max_off) {
                    m |= LADDER_MISSING;
                } else if (s->flags & SYNACK_TH_SYN) {
                    /* a simultaneous open's SYN,ACK repeats the SYN's
                     * sequence number without being a retransmission */
                    unsigned kind = s->flags & SYNACK_TH_ACK ? 2u : 1u;
                    if (me->syns & kind)
                        m |= LADDER_RETRANS;
                } else if (lo < me->max_off) {
                    int64_t top = hi < me->max_off ? hi : me->max_off;
                    if (seen_covers(me, lo, top) ||
                        g->p.t_ns - me->t_adv >= ooo_ns)
                        m |= LADDER_RETRANS;
                    else
                        m |= LADDER_OOO;
                }
                if (peer_zero && s->len == 1 && lo == me->max_off)
                    m |= LADDER_WINPROBE;
                if (s->flags & SYNACK_TH_SYN)
                    me->syns |= s->flags & SYNACK_TH_ACK ? 2u : 1u;
                if (seen_add(me, lo, hi) != 0)
                    return -1;
                if (hi > me->max_off) {
                    me->max_off = hi;
                    me->max_seq = s->seq + sl;
                    me->t_adv = g->p.t_ns;
                }
            } else if (lo > me->max_off) {
                /* a bare ACK beyond what was seen: its sender sent
                 * something the capture lacks (a lost FIN, say) */
                m |= LADDER_MISSING;
                me->max_off = lo;
                me->max_seq = s->seq;
                me->t_adv = g->p.t_ns;
            }
        }
        if ((s->flags & SYNACK_TH_ACK) && !(s->flags & SYNACK_TH_RST)) {
            int same = me->ack_known && s->ack == me->last_ack;
            int outstanding = peer->known && SEQ_LT(s->ack, peer->max_seq);
            if (bare && s->len == 0 && same &&
                !(m & (LADDER_KEEPALIVE | LADDER_WINPROBE))) {
                if (s->wnd != me->last_wnd)
                    m |= LADDER_WINUPDATE;
                else if (outstanding) {
                    me->dup_n++;
                    m |= LADDER_DUPACK | LADDER_DUPACK_N(me->dup_n);
                    sd->dupacks++;
                }
            }
            if (!same)
                me->dup_n = 0;
            if (peer->known && !SEQ_GEQ(peer->max_seq, s->ack))
                m |= LADDER_ACKUNSEEN;
            if (!me->ack_known || SEQ_LT(me->max_ack, s->ack))
                me->max_ack = s->ack;
            me->ack_known = 1;
            me->last_ack = s->ack;
            me->last_wnd = s->wnd;
            sd->last_wnd = scaled(me, peer, s);
            sd->wnd_known = 1;
            if (s->wnd == 0 && !(s->flags & SYNACK_TH_SYN)) {
                m |= LADDER_ZEROWIN;
                sd->zero_windows++;
            }
        }
        rtt_sample(me, peer, s, sl, m, g->p.t_ns);
        if (m & LADDER_RETRANS)
            sd->retrans++;
        if (m & LADDER_OOO)
            sd->ooo++;
        if (m & LADDER_KEEPALIVE)
            sd->keepalives++;
        if (m & LADDER_WINPROBE)
            sd->probes++;
        ci->marks[i] = m;
    }
    for (int x = 0; x < 2; x++)
        ci->ack_rtt_ns[x] = dir[x].rtt_min;
    if (dir[0].rtt_min && dir[1].rtt_min) {
        uint64_t a = dir[0].rtt_min, b = dir[1].rtt_min;
        ci->rtt_ns = a + b;
        ci->vantage = a > 4 * b   ? CAPINFER_NEAR_A
                      : b > 4 * a ? CAPINFER_NEAR_B
                                  : CAPINFER_UNKNOWN;
    }
    for (int x = 0; x < 2; x++) {
        const struct dirtrack *me = &dir[x], *peer = &dir[!x];
        if (me->known && peer->ack_known) {
            int32_t d = (int32_t)(me->max_seq - peer->max_ack);
            ci->side[x].unacked = d > 0 ? (uint64_t)d : 0;
        } else if (me->known) {
            ci->side[x].unacked = (uint64_t)me->max_off;
        }
    }
    return 0;
}

/* ---- pass 2: states --------------------------------------------------------- */

struct sched {
    size_t at, seg;
    int certain;
};

struct walker {
    struct capinfer *ci;
    const struct capconn *c;
    int st[2], cert[2];
    int syn_known[2], fin_known[2], fin_rcvd[2];
    uint32_t syn_end[2], fin_end[2];
    uint32_t exp_seq[2]; /* highest sequence end sent so far, per side */
    int exp_known[2];
    uint64_t wnd[2]; /* last window advertised (unscaled is enough) */
    struct sched *q;
    size_t nq, capq;
    size_t capch;
    size_t first_copy;    /* receive(): the first copy of what arrives */
    unsigned ctl_seen[2]; /* 1 SYN, 2 SYN,ACK, 4 FIN seen from that side */
    int syn_ack_lost[2];  /* an ACK of y's SYN was evidently lost */
};

static int add_change(struct walker *w, size_t k, int after, int side, int to,
                      const char *verb, uint8_t flags, int certain,
                      const char *why)
{
    struct capinfer *ci = w->ci;
    if (w->st[side] == to && (certain || !w->cert[side]))
        return 0; /* no change, or only a doubt about an unchanged state */
    if (ci->nchanges == w->capch) {
        size_t nc = w->capch ? w->capch * 2 : 16;
        struct capinfer_change *n = realloc(ci->changes, nc * sizeof *n);
        if (!n)
            return -1;
        ci->changes = n;
        w->capch = nc;
    }
    struct capinfer_change *ch = &ci->changes[ci->nchanges++];
    memset(ch, 0, sizeof *ch);
    ch->t_ns = w->c->segs[k].p.t_ns;
    /* a receipt may have come with any copy from the first one on */
    ch->t_first_ns =
        after && w->first_copy < k &&
                w->c->segs[k].from == w->c->segs[w->first_copy].from
            ? w->c->segs[w->first_copy].p.t_ns
            : ch->t_ns;
    ch->side = side;
    ch->from = w->st[side];
    ch->to = to;
    char fl[32];
    snprintf(ch->cause, sizeof ch->cause, "%s %s", verb,
             synack_flags_str(flags, fl, sizeof fl));
    ch->seg = k;
    ch->after = after;
    ch->certain = certain;
    ch->why = certain ? NULL : why;
    w->st[side] = to;
    w->cert[side] = certain;
    ci->side[side].since_ns = ch->t_ns;
    return 0;
}

/* The first segment after i sent by `side`, or NONE. */
static size_t next_from(const struct capconn *c, size_t i, int side)
{
    for (size_t j = i + 1; j < c->nsegs; j++)
        if (c->segs[j].from == side)
            return j;
    return CAPINFER_NONE;
}

/* The first segment after i from `side` whose ACK covers `end`. */
static size_t first_cover(const struct capconn *c, size_t i, int side,
                          uint32_t end)
{
    for (size_t j = i + 1; j < c->nsegs; j++) {
        const synack_seg *s = &c->segs[j].p.seg;
        if (c->segs[j].from == side && (s->flags & SYNACK_TH_ACK) &&
            SEQ_GEQ(s->ack, end))
            return j;
    }
    return CAPINFER_NONE;
}

/* Where the receiver got the SYN or FIN of segment i (ending at `end`):
 * the last segment of its sender before the receiver's covering ACK that
 * carries sequence space below `end` (the FIN's retransmission, or data
 * that filled a hole before it). NONE when never acknowledged. */
static size_t delivery(const struct capconn *c, size_t i, uint32_t end)
{
    int x = c->segs[i].from;
    size_t j = first_cover(c, i, !x, end);
    if (j == CAPINFER_NONE)
        return CAPINFER_NONE;
    size_t d = i;
    for (size_t k = i + 1; k < j; k++) {
        const synack_seg *s = &c->segs[k].p.seg;
        if (c->segs[k].from == x ? seq_len(s) && SEQ_LT(s->seq, end)
                                 : !(s->flags & SYNACK_TH_RST))
            d = k; /* a later copy, or the receiver still without it */
    }
    return d;
}

/* Was the ACK in segment i (covering the peer's sequence space up to
 * `end`, its SYN or FIN) lost? Yes if the peer later sends again something
 * below `end` (not just what was in flight when the ACK was sent) and a
 * later ACK covers it again. */
static uint64_t inflight_ns(const struct capinfer *ci, int x);

static int ack_lost(const struct capinfer *ci, size_t i, uint32_t end)
{
    const struct capconn *c = ci->conn;
    int x = c->segs[i].from;
    for (size_t m = i + 1; m < c->nsegs; m++) {
        const synack_seg *s = &c->segs[m].p.seg;
        if (c->segs[m].from == x || !seq_len(s) || (s->flags & SYNACK_TH_RST) ||
            !SEQ_LT(s->seq, end))
            continue;
        if (c->segs[m].p.t_ns - c->segs[i].p.t_ns <= inflight_ns(ci, x))
            continue;
        return first_cover(c, m, x, end) != CAPINFER_NONE;
    }
    return 0;
}

static int synchronized(int st)
{
    return st >= SYNACK_ESTABLISHED;
}

/* The sender's own change, before segment k's row. */
static int sender(struct walker *w, size_t k)
{
    const synack_seg *s = &w->c->segs[k].p.seg;
    int x = w->c->segs[k].from;
    int st = w->st[x];
    if (s->flags & SYNACK_TH_RST) {
        if (st != SYNACK_CLOSED)
            return add_change(w, k, 0, x, SYNACK_CLOSED, "snd", s->flags, 1,
                              NULL);
        return 0;
    }
    if (!(s->flags & (SYNACK_TH_SYN | SYNACK_TH_FIN)) && !s->len &&
        !w->fin_known[x] && w->exp_known[x] &&
        (w->ci->marks[k] & LADDER_MISSING) && s->seq == w->exp_seq[x] + 1 &&
        (st == SYNACK_ESTABLISHED || st == SYNACK_CLOSE_WAIT)) {
        /* a bare segment one past everything its sender sent: the one
         * missing byte of sequence space is a FIN the capture lacks */
        w->fin_known[x] = 1;
        w->fin_end[x] = s->seq;
        return add_change(
            w, k, 0, x,
            st == SYNACK_CLOSE_WAIT ? SYNACK_LAST_ACK : SYNACK_FIN_WAIT_1,
            "snd", SYNACK_TH_FIN | SYNACK_TH_ACK, 0, WHY_FIN_UNSEEN);
    }
    if (s->flags & SYNACK_TH_SYN) {
        if (!w->syn_known[x]) {
            w->syn_known[x] = 1;
            w->syn_end[x] = s->seq + 1;
        }
        if (!(s->flags & SYNACK_TH_ACK)) {
            if (st == SYNACK_CLOSED || st == SYNACK_LISTEN || st < 0)
                return add_change(w, k, 0, x, SYNACK_SYN_SENT, "snd", s->flags,
                                  1, NULL);
        } else if (st == SYNACK_CLOSED || st == SYNACK_LISTEN || st < 0) {
            return add_change(w, k, 0, x, SYNACK_SYN_RECEIVED, "snd", s->flags,
                              1, NULL);
        }
        return 0;
    }
    if ((s->flags & SYNACK_TH_FIN) && !w->fin_known[x]) {
        w->fin_known[x] = 1;
        w->fin_end[x] = s->seq + s->len + 1;
        int to = -1;
        if (st == SYNACK_ESTABLISHED || st == SYNACK_SYN_RECEIVED)
            to = SYNACK_FIN_WAIT_1;
        else if (st == SYNACK_CLOSE_WAIT)
            to = SYNACK_LAST_ACK;
        if (to >= 0)
            return add_change(w, k, 0, x, to, "snd", s->flags, 1, NULL);
    }
    return 0;
}

/* Had `y` stopped answering before segment i (its sender's unanswered
 * retransmissions or probes since y's last segment, and nothing from y
 * after it)? Then i may not have reached y. */
static int peer_silent(const struct walker *w, size_t i, int y)
{
    const struct capconn *c = w->c;
    if (next_from(c, i, y) != CAPINFER_NONE)
        return 0;
    unsigned probes = 0;
    for (size_t k = i; k-- > 0;) {
        if (c->segs[k].from == y)
            break;
        if (w->ci->marks[k] &
            (LADDER_RETRANS | LADDER_KEEPALIVE | LADDER_WINPROBE))
            probes++;
    }
    return probes >= 2;
}

/* How long after a segment from x the capture may still show segments y
 * sent before that segment reached it (y's segments in flight). */
static uint64_t inflight_ns(const struct capinfer *ci, int x)
{
    uint64_t r = ci->ack_rtt_ns[x & 1] ? ci->ack_rtt_ns[x & 1] : ci->rtt_ns;
    return r ? 2 * r + 1000000ull : 10000000ull;
}

/* Did y go on sending (not only its segments in flight) after the RST i?
 * Then the RST did not reach it (lost, or out of its window). */
static int rst_ignored(const struct walker *w, size_t i, int y)
{
    const struct capconn *c = w->c;
    for (size_t j = i + 1; j < c->nsegs; j++) {
        if (c->segs[j].from != y || (c->segs[j].p.seg.flags & SYNACK_TH_RST))
            continue;
        if (c->segs[j].p.t_ns - c->segs[i].p.t_ns > inflight_ns(w->ci, !y))
            return 1;
    }
    return 0;
}

/* The row after which a RST (segment i) reaches y: after y's segments that
 * were evidently in flight toward the capture point when it was sent. */
static size_t rst_delivery(const struct walker *w, size_t i)
{
    const struct capconn *c = w->c;
    int y = !c->segs[i].from;
    if (w->ci->vantage == (y ? CAPINFER_NEAR_B : CAPINFER_NEAR_A))
        return i;
    size_t d = i;
    for (size_t j = i + 1; j < c->nsegs; j++) {
        if (c->segs[j].p.t_ns - c->segs[i].p.t_ns > inflight_ns(w->ci, !y))
            break;
        if (c->segs[j].from == y && !(c->segs[j].p.seg.flags & SYNACK_TH_RST))
            d = j;
    }
    return d;
}

/* Segment i from the other side arrives at `y`; its row is k. */
static int receive(struct walker *w, size_t i, size_t k, int y, int certain)
{
    const struct capconn *c = w->c;
    const synack_seg *s = &c->segs[i].p.seg;
    int x = !y, st = w->st[y];
    uint8_t f = s->flags;
    const char *why = certain ? NULL : WHY_UNACKED;
    if (f & SYNACK_TH_RST) {
        if (st < 0 || st == SYNACK_CLOSED || st == SYNACK_LISTEN)
            return 0;
        int ok;
        if (st == SYNACK_SYN_SENT)
            ok = (f & SYNACK_TH_ACK) && w->syn_known[y] &&
                 s->ack == w->syn_end[y];
        else if (!w->exp_known[x] || s->seq == w->exp_seq[x])
            ok = 1;
        else {
            /* not exactly the next byte: in the window it is answered by
             * a challenge ACK (RFC 5961) and ignored */
            size_t r = next_from(c, i, y);
            int challenge =
                r != CAPINFER_NONE &&
                (c->segs[r].p.seg.flags & ~SYNACK_TH_PSH) == SYNACK_TH_ACK &&
                c->segs[r].p.seg.len == 0;
            if (challenge)
                w->ci->marks[r] |= LADDER_CHALLENGE;
            uint32_t d = s->seq - w->exp_seq[x];
            uint64_t win = (uint64_t)w->wnd[y] << 14;
            ok = !challenge && d < (win ? win : 1);
        }
        if (!ok)
            return 0;
        if (rst_ignored(w, i, y))
            return add_change(w, k, 1, y, st, "still talks after", f, 1, NULL);
        if (peer_silent(w, i, y))
            return add_change(w, k, 1, y, st, "no answer to", f, 0, WHY_SILENT);
        return add_change(w, k, 1, y, SYNACK_CLOSED, "rcv", f, 1, NULL);
    }
    if (f & SYNACK_TH_SYN) {
        if (!(f & SYNACK_TH_ACK)) {
            if (synchronized(st)) {
                size_t r = next_from(c, i, y);
                if (r != CAPINFER_NONE &&
                    (c->segs[r].p.seg.flags & ~SYNACK_TH_PSH) == SYNACK_TH_ACK)
                    w->ci->marks[r] |= LADDER_CHALLENGE;
                return 0;
            }
            size_t r = next_from(c, i, y);
            int answered = r != CAPINFER_NONE &&
                           (c->segs[r].p.seg.flags &
                            (SYNACK_TH_SYN | SYNACK_TH_RST)) == SYNACK_TH_SYN;
            if (st == SYNACK_SYN_SENT || answered)
                return add_change(w, k, 1, y, SYNACK_SYN_RECEIVED, "rcv", f,
                                  certain, why);
            return 0;
        }
        if ((st == SYNACK_SYN_SENT || st == SYNACK_SYN_RECEIVED) &&
            w->syn_known[y] && SEQ_GEQ(s->ack, w->syn_end[y]))
            return add_change(w, k, 1, y, SYNACK_ESTABLISHED, "rcv", f, certain,
                              why);
        return 0;
    }
    int to = st;
    if ((f & SYNACK_TH_ACK) && st >= 0) {
        int syn_cov = w->syn_known[y] && SEQ_GEQ(s->ack, w->syn_end[y]);
        int fin_cov = w->fin_known[y] && SEQ_GEQ(s->ack, w->fin_end[y]);
        if (st == SYNACK_SYN_RECEIVED && syn_cov) {
            if (ack_lost(w->ci, i, w->syn_end[y])) {
                w->syn_ack_lost[y] = 1;
            } else {
                to = SYNACK_ESTABLISHED;
                /* after lost copies, the last one is taken as received
                 * only if y shows it (it sends on) */
                if (w->syn_ack_lost[y] && certain &&
                    next_from(c, i, y) == CAPINFER_NONE) {
                    certain = 0;
                    why = WHY_ACK_AGAIN;
                }
            }
        }
        int waits = to == SYNACK_FIN_WAIT_1 || to == SYNACK_CLOSING ||
                    to == SYNACK_LAST_ACK;
        if (fin_cov && waits && !ack_lost(w->ci, i, w->fin_end[y])) {
            if (to == SYNACK_FIN_WAIT_1)
                to = SYNACK_FIN_WAIT_2;
            else if (to == SYNACK_CLOSING)
                to = SYNACK_TIME_WAIT;
            else if (to == SYNACK_LAST_ACK)
                to = SYNACK_CLOSED;
        }
        if (fin_cov)
            w->ci->side[y].fin_acked = 1;
    }
    if ((f & SYNACK_TH_FIN) && !certain) {
        /* never acknowledged: the receiver may not have it; its state
         * stays as it was, in doubt */
        return add_change(w, k, 1, y, to, "no ACK for", f, 0, why);
    }
    if ((f & SYNACK_TH_FIN) && !w->fin_rcvd[y]) {
        w->fin_rcvd[y] = 1;
        if (to == SYNACK_ESTABLISHED || to == SYNACK_SYN_RECEIVED)
            to = SYNACK_CLOSE_WAIT;
        else if (to == SYNACK_FIN_WAIT_1)
            to = SYNACK_CLOSING;
        else if (to == SYNACK_FIN_WAIT_2)
            to = SYNACK_TIME_WAIT;
    }
    if (to != st)
        return add_change(w, k, 1, y, to, "rcv", f, certain, why);
    return 0;
}

static int schedule(struct walker *w, size_t at, size_t seg, int certain)
{
    if (w->nq == w->capq) {
        size_t nc = w->capq ? w->capq * 2 : 8;
        struct sched *n = realloc(w->q, nc * sizeof *n);
        if (!n)
            return -1;
        w->q = n;
        w->capq = nc;
    }
    w->q[w->nq++] = (struct sched){ .at = at, .seg = seg, .certain = certain };
    return 0;
}

static void initial_states(struct walker *w)
{
    struct capinfer *ci = w->ci;
    const struct capconn *c = w->c;
    const synack_seg *s = &c->segs[0].p.seg;
    int f = s->flags & (SYNACK_TH_SYN | SYNACK_TH_ACK | SYNACK_TH_RST);
    const char *why = NULL;
    if (f == SYNACK_TH_SYN) {
        w->st[0] = SYNACK_CLOSED;
        w->cert[0] = 1;
        size_t r = next_from(c, 0, 1);
        int rf = r == CAPINFER_NONE ? -1 : c->segs[r].p.seg.flags;
        if (rf >= 0 && (rf & SYNACK_TH_RST)) {
            w->st[1] = SYNACK_CLOSED; /* no listener */
            w->cert[1] = 1;
        } else if (rf >= 0 && (rf & SYNACK_TH_SYN) && (rf & SYNACK_TH_ACK)) {
            w->st[1] = SYNACK_LISTEN;
            w->cert[1] = 1;
        } else if (rf >= 0 && (rf & SYNACK_TH_SYN)) {
            w->st[1] = SYNACK_CLOSED; /* simultaneous open */
            w->cert[1] = 1;
        } else {
            w->st[1] = -1;
            w->cert[1] = 0;
            why = WHY_NOANSWER;
        }
    } else if (f == (SYNACK_TH_SYN | SYNACK_TH_ACK)) {
        w->st[0] = SYNACK_SYN_SENT;
        w->st[1] = SYNACK_SYN_RECEIVED;
        w->cert[0] = w->cert[1] = 0;
        w->syn_known[0] = 1;
        w->syn_end[0] = s->ack;
        why = WHY_NOSYN;
        ci->mid_connection = 1;
    } else {
        w->st[0] = w->st[1] = SYNACK_ESTABLISHED;
        w->cert[0] = w->cert[1] = 0;
        why = WHY_MID;
        ci->mid_connection = 1;
    }
    for (int x = 0; x < 2; x++) {
        ci->side[x].initial = w->st[x];
        ci->side[x].initial_certain = w->cert[x];
        ci->side[x].initial_why = w->cert[x] ? NULL : why;
        ci->side[x].since_ns = c->segs[0].p.t_ns;
    }
}

static int state_pass(struct capinfer *ci)
{
    const struct capconn *c = ci->conn;
    struct walker w;
    memset(&w, 0, sizeof w);
    w.ci = ci;
    w.c = c;
    initial_states(&w);
    int rc = 0;
    for (size_t k = 0; k < c->nsegs && rc == 0; k++) {
        const synack_seg *s = &c->segs[k].p.seg;
        int x = c->segs[k].from;
        /* a SYN, SYN,ACK or FIN the capture shows for the first time
         * (even when it is a retransmission of one it lacks) */
        unsigned kind = s->flags & SYNACK_TH_FIN      ? 4u
                        : !(s->flags & SYNACK_TH_SYN) ? 0u
                        : (s->flags & SYNACK_TH_ACK)  ? 2u
                                                      : 1u;
        int fresh = kind && !(w.ctl_seen[x] & kind);
        /* a SYN inside an open connection moves no sequence numbers */
        int stray = (s->flags & SYNACK_TH_SYN) && w.exp_known[x] &&
                    !(w.syn_known[x] && s->seq + 1 == w.syn_end[x]);
        w.ctl_seen[x] |= kind;
        rc = sender(&w, k);
        if (rc)
            break;
        /* what the receiver does with it, now or at a later copy */
        uint32_t sl = seq_len(s);
        int ctl = (s->flags & (SYNACK_TH_SYN | SYNACK_TH_FIN)) &&
                  !(s->flags & SYNACK_TH_RST);
        if (ctl && fresh) {
            size_t d = delivery(c, k, s->seq + sl);
            rc = d == CAPINFER_NONE ? schedule(&w, k, k, 0)
                                    : schedule(&w, d, k, 1);
        } else if (s->flags & SYNACK_TH_RST) {
            rc = schedule(&w, rst_delivery(&w, k), k, 1);
        } else if (!ctl) {
            rc = schedule(&w, k, k, 1);
        }
        if (s->flags & SYNACK_TH_ACK)
            w.wnd[x] = s->wnd;
        if (!(s->flags & SYNACK_TH_RST) && !stray &&
            (!w.exp_known[x] || SEQ_LT(w.exp_seq[x], s->seq + sl))) {
            w.exp_seq[x] = s->seq + sl;
            w.exp_known[x] = 1;
        }
        /* every receipt due at this row, in the order they were sent */
        for (size_t q = 0; q < w.nq && rc == 0; q++) {
            if (w.q[q].at != k)
                continue;
            size_t i = w.q[q].seg;
            w.first_copy = i;
            rc = receive(&w, i, k, !c->segs[i].from, w.q[q].certain);
        }
        /* drop what is done */
        size_t o = 0;
        for (size_t q = 0; q < w.nq; q++)
            if (w.q[q].at > k)
                w.q[o++] = w.q[q];
        w.nq = o;
    }
    for (int x = 0; x < 2; x++) {
        ci->side[x].state = w.st[x];
        ci->side[x].certain = w.cert[x];
    }
    free(w.q);
    return rc;
}

int capinfer_run(const struct capconn *conn, struct capinfer *out)
{
    memset(out, 0, sizeof *out);
    out->conn = conn;
    for (int x = 0; x < 2; x++) {
        out->side[x].initial = out->side[x].state = -1;
    }
    if (!conn->nsegs)
        return 0;
    out->first_ns = conn->segs[0].p.t_ns;
    out->last_ns = conn->segs[conn->nsegs - 1].p.t_ns;
    out->marks = calloc(conn->nsegs, sizeof *out->marks);
    if (!out->marks)
        return -1;
    find_vantage(out);
    struct dirtrack dir[2];
    memset(dir, 0, sizeof dir);
    int rc = mark_pass(out, dir);
    free(dir[0].seen);
    free(dir[1].seen);
    if (rc == 0)
        rc = state_pass(out);
    if (rc != 0) {
        capinfer_free(out);
        return -1;
    }
    return 0;
}

void capinfer_free(struct capinfer *ci)
{
    free(ci->changes);
    free(ci->marks);
    memset(ci, 0, sizeof *ci);
}

int capinfer_state_at(const struct capinfer *ci, int side, uint64_t t_ns,
                      int *certain)
{
    int st = ci->side[side & 1].initial;
    int cert = ci->side[side & 1].initial_certain;
    for (size_t i = 0; i < ci->nchanges; i++) {
        const struct capinfer_change *ch = &ci->changes[i];
        if (ch->t_ns > t_ns)
            break;
        if (ch->side == (side & 1)) {
            st = ch->to;
            cert = ch->certain;
        }
    }
    if (certain)
        *certain = cert;
    return st;
}
