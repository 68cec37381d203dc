/*
 * TCP input, following RFC 9293 section 3.10.7 ("SEGMENT ARRIVES") in
 * order: CLOSED, LISTEN and SYN-SENT first, then for the synchronized states
 * the checks of sequence number, RST, SYN, ACK, text and FIN, one function
 * each. RFC 5961 (RST/SYN/ACK hardening) and RFC 7323 (PAWS) are applied
 * where those RFCs say.
 */
#include <string.h>

#include "core.h"

/* The segment being processed, after parsing and trimming. */
typedef struct seg {
    const wire_ipv4 *ip;
    wire_tcp th;
    const uint8_t *data;
    /* == data when the payload is already in the receive ring at RCV.NXT
     * (rx_copy_csum): reass does not copy it again */
    const uint8_t *in_ring;
    uint32_t seq;  /* of the first byte (after SYN) kept */
    uint32_t dlen; /* payload bytes kept */
    uint8_t flags;
    synack_seg desc;
} seg;

/* Result of a step: go on, stop (segment consumed), or the tcb is gone. */
enum { CONT = 0, DONE, GONE };

static uint32_t min32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

static uint32_t seg_len(const seg *s)
{
    return s->dlen + ((s->flags & SYNACK_TH_SYN) ? 1 : 0) +
           ((s->flags & SYNACK_TH_FIN) ? 1 : 0);
}

static void drop(synack_stack *st, tcb *tp, const seg *s, int reason,
                 synack_time_t now)
{
    stack_drop(st, reason, tp, &s->desc, now);
}

static uint32_t initial_window(const tcb *tp)
{
    /* RFC 6928: min(10*MSS, max(2*MSS, 14600)) */
    uint32_t m = tp->mss;
    uint32_t w = 2 * m > 14600 ? 2 * m : 14600;
    return 10 * m < w ? 10 * m : w;
}

/* ---- RTT and congestion control ------------------------------------- */

static void rtt_sample(synack_stack *st, tcb *tp, synack_time_t r)
{
    if (!tp->rtt_valid) {
        tp->srtt = r;
        tp->rttvar = r / 2;
        tp->rtt_valid = true;
    } else {
        synack_time_t d = tp->srtt > r ? tp->srtt - r : r - tp->srtt;
        tp->rttvar = (3 * tp->rttvar + d) / 4;
        tp->srtt = (7 * tp->srtt + r) / 8;
    }
    synack_time_t k = 4 * tp->rttvar;
    if (k < SYNACK_MSEC)
        k = SYNACK_MSEC; /* clock granularity G */
    synack_time_t rto = tp->srtt + k;
    if (rto < tcp_rto_min(st))
        rto = tcp_rto_min(st);
    if (rto > tcp_rto_max(st))
        rto = tcp_rto_max(st);
    tp->rto = rto;
}

static void rtt_on_ack(synack_stack *st, tcb *tp, const seg *s, uint32_t ack,
                       synack_time_t now)
{
    if (tp->ts_ok && s->th.has_ts && s->th.tsecr != 0) {
        /* Karn's rule for timestamps: an echo from before the last
         * retransmission timeout measures the recovery, not the path (the
         * peer echoes an old TS.Recent when it answers a duplicate). */
        if (tp->ts_rexmt_valid && SEQ_LT(s->th.tsecr, tp->ts_rexmt_mark))
            return;
        uint32_t d = tcp_ts_now(tp, now) - s->th.tsecr;
        if (d < 0x7fffffffu / 2)
            rtt_sample(st, tp, (synack_time_t)d * SYNACK_MSEC);
        return;
    }
    if (tp->rtt_timing && SEQ_GT(ack, tp->rtt_seq)) {
        tp->rtt_timing = false;
        rtt_sample(st, tp, now - tp->rtt_start);
    }
}

/* New data acknowledged: update the send ring, RTT, cwnd and timers. */
static void ack_advance(synack_stack *st, tcb *tp, const seg *s, uint32_t ack,
                        synack_time_t now)
{
    uint32_t acked = ack - tp->snd_una;
    if (SEQ_GT(ack, tp->tx_seq) && tp->txb) {
        uint32_t n = min32(ack - tp->tx_seq, tp->tx_len);
        tp->tx_head = (tp->tx_head + n) % tp->tx_size;
        tp->tx_len -= n;
        tp->tx_seq += n;
        tp->bytes_acked += n;
    }
    tp->snd_una = ack;
    /* The offered window is anchored at SND.WL2 (RFC 9293 3.8.6): keep its
     * right edge where it is until a window update moves it (as BSD), or
     * an ACK that fails the update test -- an older SEG.SEQ, such as the
     * peer's retransmission -- would slide the edge past what was offered. */
    tp->snd_wnd = tp->snd_wnd > acked ? tp->snd_wnd - acked : 0;
    if (SEQ_LT(tp->snd_nxt, tp->snd_una))
        tp->snd_nxt = tp->snd_una;
    rtt_on_ack(st, tp, s, ack, now);
    if (tp->snd_una == tp->snd_max)
        tp->first_unacked = SYNACK_TIME_NEVER;
    else
        tp->first_unacked = now;
}

/* ---- options ------------------------------------------------------------ */

static void syn_options(synack_stack *st, tcb *tp, const wire_tcp *th)
{
    tp->peer_mss = th->has_mss ? th->mss : 536; /* RFC 9293 3.7.1 */
    bool we_offered_ws = tp->passive || st->tun.window_scaling;
    if (st->tun.window_scaling && th->has_ws && we_offered_ws) {
        tp->ws_ok = true;
        tp->snd_ws = th->ws > 14 ? 14 : th->ws; /* RFC 7323 2.3 */
    } else {
        tp->ws_ok = false;
        tp->snd_ws = 0;
        if (!tp->passive)
            tp->rcv_ws = 0;
    }
    if (tp->passive && !tp->ws_ok)
        tp->rcv_ws = 0;
    tp->sack_ok = st->tun.sack && th->has_sackok &&
                  (tp->passive || st->tun.sack);
    bool we_offered_ts = tp->passive || st->tun.timestamps;
    tp->ts_ok = st->tun.timestamps && th->has_ts && we_offered_ts;
    if (tp->ts_ok)
        tp->ts_recent = th->tsval;
    uint32_t mss = tp->peer_mss;
    uint32_t link = (uint32_t)st->cfg.mtu - 40;
    if (mss > link)
        mss = link;
    if (tp->user_mss && tp->user_mss < mss)
        mss = tp->user_mss;
    if (tp->ts_ok)
        mss -= 12;
    if (mss < 64)
        mss = 64;
    tp->mss = (uint16_t)mss;
}

/* ---- reassembly ------------------------------------------------------------ */

static void ring_write(tcb *tp, uint32_t off, const uint8_t *src, uint32_t len)
{
    uint32_t pos = (tp->rx_head + tp->rx_len + off) % tp->rx_size;
    uint32_t first = min32(len, tp->rx_size - pos);
    memcpy(tp->rxb + pos, src, first);
    if (len > first)
        memcpy(tp->rxb, src + first, len - first);
}

static void ooo_insert(synack_stack *st, tcb *tp, uint32_t a, uint32_t b,
                       const seg *s, synack_time_t now)
{
    /* Merge [a,b) with every range it touches; keep the list sorted. */
    uint8_t i = 0;
    while (i < tp->nooo && SEQ_LT(tp->ooo[i].end, a))
        i++;
    if (i < tp->nooo && SEQ_LEQ(tp->ooo[i].start, a) &&
        SEQ_GEQ(tp->ooo[i].end, b))
        tcp_note_dsack(st, tp, a, b); /* all of it was here already */
    tp->ooo_last = a;
    uint8_t j = i;
    while (j < tp->nooo && SEQ_LEQ(tp->ooo[j].start, b)) {
        if (SEQ_LT(tp->ooo[j].start, a))
            a = tp->ooo[j].start;
        if (SEQ_GT(tp->ooo[j].end, b))
            b = tp->ooo[j].end;
        j++;
    }
    if (i == j) { /* no overlap: insert at i */
        if (tp->nooo == OOO_MAX) {
            drop(st, tp, s, SYNACK_DROP_TCP_OOO_FULL, now);
            return;
        }
        memmove(&tp->ooo[i + 1], &tp->ooo[i],
                (size_t)(tp->nooo - i) * sizeof(ooo_range));
        tp->nooo++;
    } else if (j - i > 1) {
        memmove(&tp->ooo[i + 1], &tp->ooo[j],
                (size_t)(tp->nooo - j) * sizeof(ooo_range));
        tp->nooo = (uint8_t)(tp->nooo - (j - i - 1));
    }
    tp->ooo[i].start = a;
    tp->ooo[i].end = b;
}

/* Returns true when the segment filled (part of) a hole. */
static bool reass(synack_stack *st, tcb *tp, const seg *s, synack_time_t now)
{
    uint32_t off = s->seq - tp->rcv_nxt;
    uint32_t room = tp->rx_size - tp->rx_len;
    uint32_t len = s->dlen;
    if (off >= room)
        return false;
    if (len > room - off)
        len = room - off;
    if (off != 0 || s->in_ring != s->data)
        ring_write(tp, off, s->data, len);
    if (off > 0) {
        ooo_insert(st, tp, s->seq, s->seq + len, s, now);
        tp->ack_now = true; /* duplicate ACK tells the sender of the hole */
        return false;
    }
    tp->rx_len += len;
    tp->rcv_nxt += len;
    tp->bytes_received += len;
    bool filled = false;
    while (tp->nooo && SEQ_LEQ(tp->ooo[0].start, tp->rcv_nxt)) {
        if (SEQ_GT(tp->ooo[0].end, tp->rcv_nxt)) {
            uint32_t more = tp->ooo[0].end - tp->rcv_nxt;
            tp->rx_len += more;
            tp->rcv_nxt += more;
            tp->bytes_received += more;
        }
        memmove(&tp->ooo[0], &tp->ooo[1],
                (size_t)(tp->nooo - 1) * sizeof(ooo_range));
        tp->nooo--;
        filled = true;
    }
    return filled;
}

/* ---- state helpers ------------------------------------------------------- */

static void enter_time_wait(synack_stack *st, tcb *tp, synack_time_t now)
{
    tcp_set_state(st, tp, SYNACK_TIME_WAIT, now);
    tp->t_rexmt = tp->t_persist = tp->t_keep = tp->t_pace = SYNACK_TIME_NEVER;
    if (tp->handle < 0)
        tcp_free_buffers(st, tp); /* nobody will read or write any more */
    tp->t_2msl = now + (synack_time_t)st->tun.timewait_len * SYNACK_SEC;
}

static bool our_fin_acked(const tcb *tp)
{
    return tp->fin_queued && tp->snd_una == tp->tx_seq + tp->tx_len + 1 &&
           tp->tx_len == 0;
}

static void fin_wait_2(synack_stack *st, tcb *tp, synack_time_t now)
{
    tcp_set_state(st, tp, SYNACK_FIN_WAIT_2, now);
    if (tp->orphan)
        tp->t_2msl = now + (synack_time_t)st->tun.fin_timeout * SYNACK_SEC;
}

/* The peer's FIN is next in sequence: consume it (RFC 9293 eighth step). */
static void process_fin(synack_stack *st, tcb *tp, synack_time_t now)
{
    tp->rcv_nxt++;
    tp->fin_rcvd = true;
    tp->rcv_fin_pending = false;
    /* The stream ends here: out-of-order data beyond this FIN (a peer that
     * sent data and a FIN beyond it, then a FIN here) can never be
     * delivered. Found by fuzz_frames (synack_stack_check: a range left at
     * RCV.NXT). */
    tp->nooo = 0;
    tp->ack_now = true;
    switch (tp->state) {
    case SYNACK_SYN_RECEIVED:
    case SYNACK_ESTABLISHED:
        tcp_set_state(st, tp, SYNACK_CLOSE_WAIT, now);
        break;
    case SYNACK_FIN_WAIT_1:
        if (our_fin_acked(tp))
            enter_time_wait(st, tp, now);
        else
            tcp_set_state(st, tp, SYNACK_CLOSING, now);
        break;
    case SYNACK_FIN_WAIT_2:
        enter_time_wait(st, tp, now);
        break;
    case SYNACK_TIME_WAIT:
        tp->t_2msl = now + (synack_time_t)st->tun.timewait_len * SYNACK_SEC;
        break;
    default:
        break;
    }
}

/* ---- CLOSED and LISTEN ----------------------------------------------------- */

static void closed_input(synack_stack *st, const seg *s, synack_time_t now)
{
    drop(st, NULL, s, SYNACK_DROP_TCP_NO_SOCKET, now);
    tcp_reset_reply(st, s->ip, &s->th, seg_len(s), now);
}

static void inherit_options(tcb *tp, const tcb *lp)
{
    tp->nodelay = lp->nodelay;
    tp->keepalive = lp->keepalive;
    tp->linger_on = lp->linger_on;
    tp->linger_secs = lp->linger_secs;
    tp->user_timeout_ms = lp->user_timeout_ms;
    tp->keepidle = lp->keepidle;
    tp->keepintvl = lp->keepintvl;
    tp->keepcnt = lp->keepcnt;
    tp->rcvbuf = lp->rcvbuf;
    tp->sndbuf = lp->sndbuf;
    tp->user_mss = lp->user_mss;
    tp->cc = lp->cc;
}

/* ---- SYN cookies (tcp_syncookie.c has the encoding) -------------------- */

static tcb_tuple seg_tuple(const seg *s)
{
    tcb_tuple tu = {s->ip->dst, s->ip->src, s->th.dport, s->th.sport};
    return tu;
}

/* Answer a SYN with the SYN,ACK a new SYN-RECEIVED connection would send,
 * without creating it: its ISS is the cookie. */
static void syncookie_send(synack_stack *st, tcb *lp, const seg *s,
                           synack_time_t now)
{
    tcb_tuple tu = seg_tuple(s);
    uint16_t peer_mss = s->th.has_mss ? s->th.mss : 536;
    int idx = syncookie_mss_index(peer_mss);
    tcb plan; /* what a child of lp would offer: buffers, scale, MSS */
    memset(&plan, 0, sizeof(plan));
    inherit_options(&plan, lp);
    tcp_plan_conn(st, &plan);
    wire_tcp th;
    memset(&th, 0, sizeof(th));
    th.sport = tu.lport;
    th.dport = tu.rport;
    th.seq = syncookie_make(st, &tu, s->th.seq, idx, now);
    th.ack = s->th.seq + 1;
    th.flags = SYNACK_TH_SYN | SYNACK_TH_ACK;
    th.has_mss = 1;
    th.mss = plan.rcv_mss;
    th.wnd = (uint16_t)min32(plan.rx_size, 65535);
    /* Without timestamps there is nowhere to keep the peer's window scale:
     * no scaling then (as Linux). */
    if (st->tun.timestamps && s->th.has_ts) {
        bool ws = st->tun.window_scaling && s->th.has_ws;
        bool sack = st->tun.sack && s->th.has_sackok;
        uint32_t enc = (ws ? min32(s->th.ws, 14) : 15) | (sack ? 16u : 0u);
        uint32_t clock = (uint32_t)(now / SYNACK_MSEC) +
                         syncookie_ts_offset(st, &tu);
        th.has_ts = 1;
        th.tsval = (clock & ~0x1fu) | enc;
        th.has_sackok = sack;
        th.tsecr = s->th.tsval;
        if (ws) {
            th.has_ws = 1;
            th.ws = plan.rcv_ws;
        }
    }
    st->stats.syncookies_sent++;
    lp->cookie_sent = now;
    tcp_send_raw(st, lp, tu.lip, tu.rip, &th, now);
}

/* Whether an ACK reaching a listener is worth checking as a cookie. */
static bool syncookie_expected(const synack_stack *st, const tcb *lp,
                               synack_time_t now)
{
    if (st->tun.syncookies == 2)
        return true;
    return st->tun.syncookies == 1 && lp->cookie_sent != SYNACK_TIME_NEVER &&
           now - lp->cookie_sent < 128 * SYNACK_SEC;
}

/* The ACK of a cookie SYN,ACK: rebuild the connection in SYN-RECEIVED as if
 * it had been kept, and let the normal path take the ACK (and any data).
 * Returns NULL (segment dealt with) if the cookie is not valid. */
static tcb *syncookie_conn(synack_stack *st, tcb *lp, const seg *s,
                           synack_time_t now)
{
    tcb_tuple tu = seg_tuple(s);
    int idx = syncookie_check(st, &tu, s->th.seq - 1, s->th.ack - 1, now);
    if (idx < 0) {
        st->stats.syncookies_failed++;
        drop(st, lp, s, SYNACK_DROP_TCP_SYNCOOKIE_BAD, now);
        tcp_reset_reply(st, s->ip, &s->th, seg_len(s), now);
        return NULL;
    }
    if (lp->aq_len >= lp->backlog) {
        drop(st, lp, s, SYNACK_DROP_TCP_ACCEPT_QUEUE_FULL, now);
        return NULL;
    }
    tcb *tp = tcb_new(st);
    if (!tp) {
        drop(st, lp, s, SYNACK_DROP_TCP_NO_MEM, now);
        return NULL;
    }
    tp->lip = tu.lip;
    tcp_bind_port(st, tp, tu.lport);
    tp->rip = tu.rip;
    tp->rport = tu.rport;
    tp->listener = lp;
    tp->passive = true;
    inherit_options(tp, lp);
    tcp_plan_conn(st, tp);
    wire_tcp syn; /* the SYN we no longer have, as far as the cookie says */
    memset(&syn, 0, sizeof(syn));
    syn.has_mss = 1;
    syn.mss = syncookie_mss(idx);
    if (st->tun.timestamps && s->th.has_ts) {
        syn.has_ts = 1;
        syn.tsval = s->th.tsval;
        uint32_t enc = s->th.tsecr & 0xfu;
        if (enc <= 14 && st->tun.window_scaling) {
            syn.has_ws = 1;
            syn.ws = (uint8_t)enc;
        }
        syn.has_sackok = (s->th.tsecr & 16u) && st->tun.sack;
        tp->ts_offset = syncookie_ts_offset(st, &tu);
        /* the echo of the cookie's TSval (its low bits are the scale, not
         * the clock) is no RTT sample: treat it like one from before an
         * RTO (Karn) */
        tp->ts_rexmt_mark = s->th.tsecr + 1;
        tp->ts_rexmt_valid = true;
    }
    tp->irs = s->th.seq - 1;
    tp->rcv_nxt = s->th.seq;
    syn_options(st, tp, &syn);
    tp->iss = s->th.ack - 1;
    tp->snd_una = tp->iss;
    tp->snd_nxt = tp->snd_max = tp->tx_seq = tp->iss + 1;
    tp->recover = tp->iss;
    tp->syn_flags_sent = SYNACK_TH_SYN | SYNACK_TH_ACK;
    tp->rcv_adv = tp->rcv_nxt + min32(tp->rx_size, 65535);
    tp->snd_wl1 = tp->irs;
    tp->snd_wl2 = tp->iss;
    tp->last_rcv = now;
    tcb_hash_insert(st, tp);
    lp->synq_len++;
    tp->state = SYNACK_LISTEN; /* forks off the listener, as for a SYN */
    st->stats.syncookies_recv++;
    tcp_set_state(st, tp, SYNACK_SYN_RECEIVED, now);
    return tp;
}

/* A segment for a listener. Returns the connection that should go on to
 * process it (a valid SYN cookie's ACK), else NULL. `iss_floor` (non-NULL
 * when a SYN reopens a TIME-WAIT connection) is the ISS to use. */
static tcb *listen_input(synack_stack *st, tcb *lp, const seg *s,
                         const uint32_t *iss_floor, synack_time_t now)
{
    if (s->flags & SYNACK_TH_RST) {
        drop(st, lp, s, SYNACK_DROP_TCP_LISTEN_BAD, now);
        return NULL;
    }
    if (s->flags & SYNACK_TH_ACK) {
        if (!(s->flags & SYNACK_TH_SYN) && syncookie_expected(st, lp, now))
            return syncookie_conn(st, lp, s, now);
        drop(st, lp, s, SYNACK_DROP_TCP_LISTEN_BAD, now);
        tcp_reset_reply(st, s->ip, &s->th, seg_len(s), now);
        return NULL;
    }
    if (!(s->flags & SYNACK_TH_SYN)) {
        drop(st, lp, s, SYNACK_DROP_TCP_LISTEN_BAD, now);
        return NULL;
    }
    if (s->flags & SYNACK_TH_FIN) {
        drop(st, lp, s, SYNACK_DROP_TCP_BAD_FLAGS, now);
        return NULL;
    }
    if (lp->aq_len >= lp->backlog) {
        drop(st, lp, s, SYNACK_DROP_TCP_ACCEPT_QUEUE_FULL, now);
        return NULL;
    }
    int synq_max = lp->backlog < st->tun.max_syn_backlog
                       ? lp->backlog
                       : st->tun.max_syn_backlog;
    bool full = lp->synq_len >= synq_max;
    if (!iss_floor &&
        (st->tun.syncookies == 2 || (full && st->tun.syncookies == 1))) {
        syncookie_send(st, lp, s, now);
        return NULL;
    }
    if (full) {
        drop(st, lp, s, SYNACK_DROP_TCP_SYN_QUEUE_FULL, now);
        return NULL;
    }
    tcb *tp = tcb_new(st);
    if (!tp) {
        if (st->tun.syncookies && !iss_floor)
            syncookie_send(st, lp, s, now);
        else
            drop(st, lp, s, SYNACK_DROP_TCP_NO_MEM, now);
        return NULL;
    }
    tp->lip = s->ip->dst;
    tcp_bind_port(st, tp, s->th.dport);
    tp->rip = s->ip->src;
    tp->rport = s->th.sport;
    tp->listener = lp;
    tp->passive = true;
    inherit_options(tp, lp);
    tcp_plan_conn(st, tp);
    tp->irs = s->th.seq;
    tp->rcv_nxt = s->th.seq + 1;
    syn_options(st, tp, &s->th);
    tp->iss = iss_floor ? *iss_floor : tcp_isn(st, tp, now);
    tp->snd_una = tp->snd_nxt = tp->snd_max = tp->iss;
    tp->tx_seq = tp->iss + 1;
    tp->recover = tp->iss;
    tp->snd_wnd = s->th.wnd;
    tp->max_sndwnd = tp->snd_wnd;
    tp->snd_wl1 = s->th.seq;
    tp->snd_wl2 = tp->iss;
    tp->last_rcv = now;
    tcb_hash_insert(st, tp);
    lp->synq_len++;
    tp->state = SYNACK_LISTEN; /* the new connection forks off the listener */
    tcp_set_state(st, tp, SYNACK_SYN_RECEIVED, now);
    tp->segs_in++;
    tcp_output(st, tp, now);
    return NULL;
}

/* ---- SYN-SENT ------------------------------------------------------------ */

static int establish(synack_stack *st, tcb *tp, synack_time_t now)
{
    /* (no buffers yet: they come with the data, tcp_alloc_tx/rx) */
    if (tp->backoff && !tp->rtt_valid)
        tp->rto = 3 * SYNACK_SEC; /* RFC 6298 5.7 */
    tp->backoff = 0;
    tp->soft_error = 0;
    tp->cwnd = initial_window(tp);
    tp->cc->init(tp, now);
    tp->fack = tp->snd_una;
    tp->conn_reported = true;
    if (tp->keepalive)
        tp->t_keep = now + (synack_time_t)tcp_keepidle(st, tp) * SYNACK_SEC;
    tcp_set_state(st, tp, SYNACK_ESTABLISHED, now);
    if (tp->passive) {
        st->stats.conns_passive++;
    } else {
        st->stats.conns_active++;
    }
    return CONT;
}

static int syn_sent_input(synack_stack *st, tcb *tp, seg *s,
                          synack_time_t now)
{
    const wire_tcp *th = &s->th;
    bool ack = s->flags & SYNACK_TH_ACK;
    if (ack && (SEQ_LEQ(th->ack, tp->iss) || SEQ_GT(th->ack, tp->snd_max))) {
        drop(st, tp, s, SYNACK_DROP_TCP_ACK, now);
        tcp_reset_reply(st, s->ip, th, seg_len(s), now);
        return DONE;
    }
    if (s->flags & SYNACK_TH_RST) {
        if (!ack) {
            drop(st, tp, s, SYNACK_DROP_TCP_RST_SEQ, now);
            return DONE;
        }
        tcp_close_conn(st, tp, SYNACK_ECONNREFUSED, now);
        return GONE;
    }
    if (!(s->flags & SYNACK_TH_SYN)) {
        drop(st, tp, s, SYNACK_DROP_TCP_BAD_FLAGS, now);
        return DONE;
    }
    tp->irs = th->seq;
    tp->rcv_nxt = th->seq + 1;
    syn_options(st, tp, th);
    tp->rcv_adv = tp->rcv_nxt + min32(tp->rx_size, 65535);
    tp->snd_wnd = th->wnd; /* never scaled in a SYN */
    tp->max_sndwnd = tp->snd_wnd;
    tp->snd_wl1 = th->seq;
    tp->snd_wl2 = th->ack;
    if (!ack) {
        /* simultaneous open: answer with SYN,ACK from ISS again */
        tcp_set_state(st, tp, SYNACK_SYN_RECEIVED, now);
        tp->snd_nxt = tp->iss;
        tp->t_rexmt = SYNACK_TIME_NEVER;
        return DONE;
    }
    if (tp->rtt_timing && tp->backoff == 0 && !tp->ts_ok)
        rtt_sample(st, tp, now - tp->rtt_start);
    else if (tp->ts_ok && th->has_ts && th->tsecr)
        rtt_on_ack(st, tp, s, th->ack, now);
    tp->rtt_timing = false;
    tp->snd_una = th->ack;
    tp->t_rexmt = SYNACK_TIME_NEVER;
    tp->first_unacked = SYNACK_TIME_NEVER;
    if (establish(st, tp, now) == GONE)
        return GONE;
    tp->ack_now = true;
    /* data or FIN in the SYN,ACK: continue at the text step */
    s->flags &= (uint8_t)~SYNACK_TH_SYN;
    s->seq = th->seq + 1;
    return CONT;
}

/* ---- synchronized states ------------------------------------------------ */

/* PAWS (RFC 7323 5.3), with one tick (1 ms) of tolerance as Linux
 * (TCP_PAWS_WINDOW): segments sent within the same tick or the one before
 * can arrive out of order, and dropping the one that fills a hole costs a
 * sender without SACK a retransmission timeout (interop case 9 measured
 * about 60 such RTOs per 100 MiB under 2% reordering). */
#define PAWS_WINDOW 1

static bool ts_paws_fails(const tcb *tp, const seg *s)
{
    return tp->ts_ok && s->th.has_ts && !(s->flags & SYNACK_TH_RST) &&
           (int32_t)(tp->ts_recent - s->th.tsval) > PAWS_WINDOW;
}

/* The ACK owed for an unacceptable segment (out of window, ACK of unsent
 * data, PAWS). A SYN gets a challenge ACK whatever its sequence number
 * (RFC 5961 4.2; the global limit applies). A segment that occupies no
 * sequence space gets at most one per tcp_invalid_ratelimit milliseconds
 * per connection (as Linux): two ends that each answer the other's
 * unacceptable ACK with an ACK -- after a forged SYN reopened TIME-WAIT on
 * one side, say -- would otherwise loop at the speed of the link. Data and
 * FIN segments are always answered: that duplicate ACK is part of loss
 * recovery. */
static void oow_ack(synack_stack *st, tcb *tp, const seg *s,
                    synack_time_t now)
{
    if (s->flags & SYNACK_TH_SYN) {
        tcp_challenge_ack(st, tp, now);
        return;
    }
    if (s->dlen == 0 && !(s->flags & SYNACK_TH_FIN) &&
        st->tun.invalid_ratelimit_ms > 0) {
        synack_time_t gap =
            (synack_time_t)st->tun.invalid_ratelimit_ms * SYNACK_MSEC;
        if (tp->oow_ack_sent && now - tp->last_oow_ack < gap) {
            st->stats.tcp_oow_acks_skipped++;
            return;
        }
        tp->oow_ack_sent = true;
        tp->last_oow_ack = now;
    }
    tcp_send_ack(st, tp, now);
}

/* First step: is the segment acceptable (RFC 9293 table 6)? Trims it to
 * the window. */
static int check_seq(synack_stack *st, tcb *tp, seg *s, synack_time_t now)
{
    uint32_t wnd = SEQ_GT(tp->rcv_adv, tp->rcv_nxt) ? tp->rcv_adv - tp->rcv_nxt
                                                    : 0;
    uint32_t len = seg_len(s);
    uint32_t seq = s->th.seq;
    bool ok;
    bool probe = false;
    if (len == 0) {
        ok = wnd == 0 ? seq == tp->rcv_nxt
                      : SEQ_GEQ(seq, tp->rcv_nxt) &&
                            SEQ_LT(seq, tp->rcv_nxt + wnd);
    } else if (wnd == 0) {
        /* zero window: keep the ACK of a probe at RCV.NXT, drop its data */
        ok = probe = seq == tp->rcv_nxt;
    } else {
        uint32_t last = seq + len - 1;
        ok = (SEQ_GEQ(seq, tp->rcv_nxt) && SEQ_LT(seq, tp->rcv_nxt + wnd)) ||
             (SEQ_GEQ(last, tp->rcv_nxt) && SEQ_LT(last, tp->rcv_nxt + wnd));
    }
    if (!ok) {
        /* data wholly below RCV.NXT: a duplicate, reported as a D-SACK */
        if (s->dlen && SEQ_LEQ(seq + len, tp->rcv_nxt) &&
            !(s->flags & SYNACK_TH_RST)) {
            uint32_t d0 = seq + ((s->flags & SYNACK_TH_SYN) ? 1u : 0u);
            tcp_note_dsack(st, tp, d0, d0 + s->dlen);
        }
        drop(st, tp, s, SYNACK_DROP_TCP_SEQ, now);
        if (!(s->flags & SYNACK_TH_RST))
            oow_ack(st, tp, s, now);
        return DONE;
    }
    if (probe) {
        s->dlen = 0;
        s->flags &= (uint8_t)~(SYNACK_TH_FIN | SYNACK_TH_SYN);
        tp->ack_now = true;
        return CONT;
    }
    /* trim the front (already received) */
    if (SEQ_LT(seq, tp->rcv_nxt)) {
        uint32_t d = tp->rcv_nxt - seq;
        if (s->flags & SYNACK_TH_SYN) {
            s->flags &= (uint8_t)~SYNACK_TH_SYN;
            d--;
            seq++;
        }
        if (d > s->dlen) { /* FIN is old too */
            s->flags &= (uint8_t)~SYNACK_TH_FIN;
            d = s->dlen;
        }
        if (d && !(s->flags & SYNACK_TH_RST))
            tcp_note_dsack(st, tp, seq, seq + d);
        s->data += d;
        s->dlen -= d;
        seq += d;
        tp->ack_now = true; /* duplicate data: let the sender know */
    }
    s->seq = seq + ((s->flags & SYNACK_TH_SYN) ? 1 : 0);
    /* trim the tail beyond the window */
    uint32_t right = tp->rcv_nxt + wnd;
    if (SEQ_GT(s->seq + s->dlen, right)) {
        s->dlen = SEQ_GT(right, s->seq) ? right - s->seq : 0;
        s->flags &= (uint8_t)~SYNACK_TH_FIN;
        tp->ack_now = true;
    }
    return CONT;
}

static int check_rst(synack_stack *st, tcb *tp, seg *s, synack_time_t now)
{
    if (!(s->flags & SYNACK_TH_RST))
        return CONT;
    if (s->th.seq != tp->rcv_nxt) {
        /* RFC 5961 3.2: in window but not exact: challenge ACK */
        drop(st, tp, s, SYNACK_DROP_TCP_RST_SEQ, now);
        tcp_challenge_ack(st, tp, now);
        return DONE;
    }
    int err = 0;
    switch (tp->state) {
    case SYNACK_SYN_RECEIVED:
        err = tp->passive ? 0 : SYNACK_ECONNREFUSED;
        break;
    case SYNACK_ESTABLISHED:
    case SYNACK_FIN_WAIT_1:
    case SYNACK_FIN_WAIT_2:
    case SYNACK_CLOSE_WAIT:
        err = SYNACK_ECONNRESET;
        break;
    case SYNACK_TIME_WAIT:
        if (st->tun.rfc1337) {
            drop(st, tp, s, SYNACK_DROP_TCP_RST_TIME_WAIT, now);
            return DONE;
        }
        break;
    default:
        break;
    }
    tcp_close_conn(st, tp, err, now);
    return GONE;
}

/* Fourth step: a SYN on a synchronized connection gets a challenge ACK
 * (RFC 5961 4.2), except that a passive SYN-RECEIVED connection returns to
 * LISTEN (RFC 9293). TIME-WAIT reuse was decided before (time_wait_reuse). */
static int check_syn(synack_stack *st, tcb *tp, seg *s, synack_time_t now)
{
    if (!(s->flags & SYNACK_TH_SYN))
        return CONT;
    if (tp->state == SYNACK_SYN_RECEIVED && tp->passive) {
        tcp_close_conn(st, tp, 0, now);
        return GONE;
    }
    drop(st, tp, s, SYNACK_DROP_TCP_SYN_IN_WINDOW, now);
    tcp_challenge_ack(st, tp, now);
    return DONE;
}

static int syn_received_ack(synack_stack *st, tcb *tp, seg *s,
                            synack_time_t now)
{
    uint32_t ack = s->th.ack;
    if (!(SEQ_LT(tp->snd_una, ack) && SEQ_LEQ(ack, tp->snd_max))) {
        drop(st, tp, s, SYNACK_DROP_TCP_ACK, now);
        tcp_reset_reply(st, s->ip, &s->th, seg_len(s), now);
        return DONE;
    }
    tcb *lp = tp->listener;
    if (tp->passive && lp && lp->aq_len >= lp->backlog) {
        drop(st, tp, s, SYNACK_DROP_TCP_ACCEPT_QUEUE_FULL, now);
        return DONE;
    }
    if (establish(st, tp, now) == GONE)
        return GONE;
    if (tp->passive && lp) {
        tp->in_aq = true;
        tp->aq_next = NULL;
        if (lp->aq_tail)
            lp->aq_tail->aq_next = tp;
        else
            lp->aq_head = tp;
        lp->aq_tail = tp;
        lp->aq_len++;
    }
    tp->snd_wnd = (uint32_t)s->th.wnd << tp->snd_ws;
    tp->max_sndwnd = tp->snd_wnd;
    tp->snd_wl1 = s->th.seq;
    tp->snd_wl2 = ack;
    return CONT;
}

/* Window update (RFC 9293 3.10.7.4, fifth step). */
static void window_update(tcb *tp, const seg *s, uint32_t ack, uint32_t wnd)
{
    if (SEQ_LEQ(tp->snd_una, ack) &&
        (SEQ_LT(tp->snd_wl1, s->th.seq) ||
         (tp->snd_wl1 == s->th.seq && SEQ_LEQ(tp->snd_wl2, ack)))) {
        tp->snd_wnd = wnd;
        tp->snd_wl1 = s->th.seq;
        tp->snd_wl2 = ack;
        if (wnd > tp->max_sndwnd)
            tp->max_sndwnd = wnd;
        if (wnd > 0)
            tp->t_persist = SYNACK_TIME_NEVER;
    }
}

static int check_ack(synack_stack *st, tcb *tp, seg *s, synack_time_t now)
{
    if (!(s->flags & SYNACK_TH_ACK)) {
        drop(st, tp, s, SYNACK_DROP_TCP_NO_ACK, now);
        return DONE;
    }
    if (tp->state == SYNACK_SYN_RECEIVED) {
        int r = syn_received_ack(st, tp, s, now);
        if (r != CONT)
            return r;
    }
    uint32_t ack = s->th.ack;
    if (SEQ_GT(ack, tp->snd_max)) {
        drop(st, tp, s, SYNACK_DROP_TCP_ACK, now);
        oow_ack(st, tp, s, now);
        return DONE;
    }
    uint32_t maxwnd = tp->max_sndwnd > 65535 ? tp->max_sndwnd : 65535;
    if (SEQ_LT(ack, tp->snd_una - maxwnd)) {
        /* RFC 5961 5.2: too old to be real */
        drop(st, tp, s, SYNACK_DROP_TCP_ACK, now);
        tcp_challenge_ack(st, tp, now);
        return DONE;
    }
    uint32_t wnd = (uint32_t)s->th.wnd << (tp->ws_ok ? tp->snd_ws : 0);
    /* RFC 1122 4.2.2.17: a sender stays in persist as long as the receiver
     * answers. Not an orphan (closed by its application): a peer that keeps
     * answering with a zero window would hold it, and its buffers, for
     * ever; its probes count towards tcp_retries2 until the window opens
     * or the data moves (as Linux's orphan limit does). */
    if (!tp->orphan || wnd > 0 || SEQ_GT(ack, tp->snd_una))
        tp->persist_probes = 0;
    uint32_t acked = 0;
    bool dup = false;
    if (SEQ_GT(ack, tp->snd_una)) {
        acked = ack - tp->snd_una;
        ack_advance(st, tp, s, ack, now);
    } else if (ack == tp->snd_una && s->dlen == 0 &&
               !(s->flags & (SYNACK_TH_SYN | SYNACK_TH_FIN)) &&
               wnd == tp->snd_wnd && tp->snd_max != tp->snd_una) {
        dup = true; /* RFC 5681 2: a duplicate ACK */
    }
    if (acked || dup || s->th.nsack)
        tcp_recovery_on_ack(st, tp, &s->th, ack, acked, dup, now);
    window_update(tp, s, ack, wnd);
    switch (tp->state) {
    case SYNACK_FIN_WAIT_1:
        /* FIN+ACK that acks our FIN: straight to TIME-WAIT at the FIN
         * step, the one edge rather than two. */
        if (our_fin_acked(tp) &&
            !((s->flags & SYNACK_TH_FIN) && s->seq == tp->rcv_nxt))
            fin_wait_2(st, tp, now);
        break;
    case SYNACK_CLOSING:
        if (our_fin_acked(tp))
            enter_time_wait(st, tp, now);
        break;
    case SYNACK_LAST_ACK:
        if (our_fin_acked(tp)) {
            tcp_close_conn(st, tp, 0, now);
            return GONE;
        }
        break;
    default:
        break;
    }
    return CONT;
}

/* Delayed ACK for in-order data: at least every second full-sized
 * segment, else within tcp_delack_ms. */
static void delayed_ack(synack_stack *st, tcb *tp, uint32_t dlen,
                        synack_time_t now)
{
    tp->unacked_rcv += dlen;
    if (tp->unacked_rcv >= 2u * tp->mss) {
        /* In an input batch, the ACK of in-order data waits for the
         * batch's end (one connection at a time: another one ACKs as
         * usual), as Linux's GRO merges the segments of one poll before
         * TCP sees them; the delayed-ACK timer stays the backstop. */
        if (st->batching && (!st->batch_ack || st->batch_ack == tp)) {
            st->batch_ack = tp;
            if (tp->t_delack == SYNACK_TIME_NEVER)
                tp->t_delack =
                    now + (synack_time_t)st->tun.delack_ms * SYNACK_MSEC;
        } else {
            tp->ack_now = true;
        }
    } else if (tp->t_delack == SYNACK_TIME_NEVER)
        tp->t_delack = now + (synack_time_t)st->tun.delack_ms * SYNACK_MSEC;
}

static int process_text(synack_stack *st, tcb *tp, seg *s, synack_time_t now)
{
    if (s->dlen == 0)
        return CONT;
    switch (tp->state) {
    case SYNACK_ESTABLISHED:
    case SYNACK_FIN_WAIT_1:
    case SYNACK_FIN_WAIT_2:
        break;
    default:
        return CONT; /* a FIN was received: nothing more to deliver */
    }
    if (tp->orphan && SEQ_GT(s->seq + s->dlen, tp->rcv_nxt)) {
        /* new data for a closed socket: nobody will read it */
        drop(st, tp, s, SYNACK_DROP_TCP_RCV_SHUTDOWN, now);
        tcp_send_ctl(st, tp, tp->snd_max, SYNACK_TH_RST | SYNACK_TH_ACK, now);
        tcp_close_conn(st, tp, 0, now);
        return GONE;
    }
    if (tp->shut_rd) {
        /* acknowledged and discarded; out-of-order data waiting from
         * before shutdown(SHUT_RD) goes too, or RCV.NXT would pass over
         * its ranges (found by fuzz_frames) */
        if (s->seq == tp->rcv_nxt) {
            tp->rcv_nxt += s->dlen;
            tp->bytes_received += s->dlen;
        }
        tp->nooo = 0;
        drop(st, tp, s, SYNACK_DROP_TCP_RCV_SHUTDOWN, now);
        tp->ack_now = true;
        if (tp->rcv_fin_pending && tp->rcv_fin_seq == tp->rcv_nxt)
            process_fin(st, tp, now);
        return CONT;
    }
    bool in_order = s->seq == tp->rcv_nxt;
    if (!tp->rxb && tcp_alloc_rx(st, tp) < 0) {
        /* memory is charged when the data comes; without it the segment
         * is dropped unacknowledged and the peer retransmits */
        drop(st, tp, s, SYNACK_DROP_TCP_NO_MEM, now);
        return DONE;
    }
    bool filled = reass(st, tp, s, now);
    if (filled) {
        tp->ack_now = true;
    } else if (in_order) {
        delayed_ack(st, tp, s->dlen, now);
    }
    if (tp->rcv_fin_pending && tp->rcv_fin_seq == tp->rcv_nxt)
        process_fin(st, tp, now);
    return CONT;
}

static void check_fin(synack_stack *st, tcb *tp, seg *s, synack_time_t now)
{
    if (!(s->flags & SYNACK_TH_FIN))
        return;
    uint32_t fin_seq = s->seq + s->dlen;
    if (tp->state == SYNACK_TIME_WAIT || tp->fin_rcvd) {
        if (tp->state == SYNACK_TIME_WAIT)
            tp->t_2msl =
                now + (synack_time_t)st->tun.timewait_len * SYNACK_SEC;
        tp->ack_now = true;
        return;
    }
    if (fin_seq == tp->rcv_nxt) {
        process_fin(st, tp, now);
    } else {
        tp->rcv_fin_pending = true;
        tp->rcv_fin_seq = fin_seq;
        tp->ack_now = true;
    }
}

/* RFC 7323 4.3: TS.Recent follows the timestamp of the segment that covers
 * Last.ACK.sent. */
static void update_ts_recent(tcb *tp, const seg *s)
{
    if (tp->ts_ok && s->th.has_ts && SEQ_GEQ(s->th.tsval, tp->ts_recent) &&
        SEQ_LEQ(s->th.seq, tp->last_ack_sent))
        tp->ts_recent = s->th.tsval;
}

/* TIME-WAIT: a retransmitted FIN is re-acknowledged and restarts 2MSL. */
static bool time_wait_fin(synack_stack *st, tcb *tp, const seg *s,
                          synack_time_t now)
{
    if (tp->state != SYNACK_TIME_WAIT || !(s->flags & SYNACK_TH_FIN) ||
        (s->flags & (SYNACK_TH_RST | SYNACK_TH_SYN)))
        return false;
    if (s->th.seq + seg_len(s) != tp->rcv_nxt)
        return false;
    tp->t_2msl = now + (synack_time_t)st->tun.timewait_len * SYNACK_SEC;
    tcp_send_ack(st, tp, now);
    return true;
}

/* SYN-RECEIVED (passive): the peer retransmitted its SYN: resend SYN,ACK. */
static bool syn_received_dup_syn(synack_stack *st, tcb *tp, const seg *s,
                                 synack_time_t now)
{
    if (tp->state != SYNACK_SYN_RECEIVED ||
        (s->flags & (SYNACK_TH_SYN | SYNACK_TH_ACK | SYNACK_TH_RST)) !=
            SYNACK_TH_SYN ||
        s->th.seq != tp->irs)
        return false;
    tp->snd_nxt = tp->iss;
    tcp_output(st, tp, now);
    return true;
}

/* Simultaneous open (RFC 9293 figure 7, line 7): the peer's SYN,ACK reaches
 * us in SYN-RECEIVED. Its SYN is the one we already have (SEG.SEQ = IRS), so
 * strip it and let the ACK through; the acceptability test would otherwise
 * reject the segment and leave us waiting for a retransmission. */
static void simopen_synack(tcb *tp, seg *s)
{
    if (tp->state != SYNACK_SYN_RECEIVED || tp->passive ||
        (s->flags & (SYNACK_TH_SYN | SYNACK_TH_ACK | SYNACK_TH_RST)) !=
            (SYNACK_TH_SYN | SYNACK_TH_ACK) ||
        s->th.seq != tp->irs || s->th.ack != tp->snd_max)
        return;
    s->flags &= (uint8_t)~SYNACK_TH_SYN;
    s->th.seq = tp->irs + 1;
    s->seq = s->th.seq;
}

/* TIME-WAIT: a new SYN from the same peer to a port that still has a
 * listener opens a new incarnation, as RFC 9293 3.10.7.4 allows and Linux
 * does: if the old one used timestamps and the SYN has them, its TSval
 * must be newer (RFC 6191); otherwise its sequence number must be above
 * RCV.NXT (RFC 1122 4.2.2.13) -- anywhere above, not only in the window.
 * The new ISS starts above everything the old incarnation sent. */
static bool time_wait_reuse(synack_stack *st, tcb *tp, const seg *s,
                            uint32_t *iss_floor, synack_time_t now)
{
    if (tp->state != SYNACK_TIME_WAIT ||
        (s->flags & (SYNACK_TH_SYN | SYNACK_TH_ACK | SYNACK_TH_RST |
                     SYNACK_TH_FIN)) != SYNACK_TH_SYN ||
        !tcb_lookup_listener(st, tp->lip, tp->lport))
        return false;
    bool newer = tp->ts_ok && s->th.has_ts
                     ? SEQ_GT(s->th.tsval, tp->ts_recent)
                     : SEQ_GT(s->th.seq, tp->rcv_nxt);
    if (!newer)
        return false;
    *iss_floor = tp->snd_max + 65535 + 2;
    tcp_close_conn(st, tp, 0, now);
    return true;
}

/* Header prediction (Van Jacobson; 4.4BSD tcp_input): in ESTABLISHED, a
 * segment with only ACK (and PSH) set, exactly at RCV.NXT, the same send
 * window, no SACK blocks, a timestamp that passes PAWS, nothing being
 * recovered -- either a pure ACK of new data or in-order data that
 * acknowledges nothing new -- takes the few steps the full path would
 * take for it, and none of the checks that cannot fire. Everything it
 * changes is what the full path would change: the invariants the tests
 * check hold either way. Returns false to take the full path. */
static bool fast_path(synack_stack *st, tcb *tp, seg *s, synack_time_t now)
{
    const wire_tcp *th = &s->th;
    if (tp->state != SYNACK_ESTABLISHED ||
        (s->flags & ~SYNACK_TH_PSH) != SYNACK_TH_ACK ||
        th->seq != tp->rcv_nxt || th->nsack || tp->ca_state != CA_OPEN ||
        tp->lost_bytes || tp->sacked_bytes || tp->rcv_fin_pending ||
        tp->snd_nxt != tp->snd_max || tp->dsack_pending)
        return false;
    if (tp->ts_ok && (!th->has_ts || ts_paws_fails(tp, s)))
        return false;
    uint32_t wnd = (uint32_t)th->wnd << (tp->ws_ok ? tp->snd_ws : 0);
    if (wnd != tp->snd_wnd || wnd == 0)
        return false;
    uint32_t ack = th->ack;
    if (s->dlen == 0) {
        /* a pure ACK of new data */
        if (!SEQ_GT(ack, tp->snd_una) || SEQ_GT(ack, tp->snd_max))
            return false;
        update_ts_recent(tp, s);
        tp->persist_probes = 0;
        uint32_t acked = ack - tp->snd_una;
        ack_advance(st, tp, s, ack, now);
        tcp_recovery_on_ack(st, tp, th, ack, acked, false, now);
        window_update(tp, s, ack, wnd);
        st->stats.tcp_fast_path++;
        return true;
    }
    /* in-order data that fits, acknowledging nothing new */
    if (ack != tp->snd_una || !tp->rxb || tp->nooo || tp->shut_rd ||
        tp->orphan)
        return false;
    uint32_t room = SEQ_GT(tp->rcv_adv, tp->rcv_nxt) ? tp->rcv_adv - tp->rcv_nxt
                                                     : 0;
    if (s->dlen > room || s->dlen > tp->rx_size - tp->rx_len)
        return false;
    update_ts_recent(tp, s);
    tp->persist_probes = 0; /* not an orphan (checked above) */
    window_update(tp, s, ack, wnd);
    reass(st, tp, s, now); /* in order, no ranges held: a plain append */
    delayed_ack(st, tp, s->dlen, now);
    st->stats.tcp_fast_path++;
    return true;
}

static int sync_input(synack_stack *st, tcb *tp, seg *s, bool *reopen,
                      uint32_t *iss_floor, synack_time_t now)
{
    simopen_synack(tp, s);
    if (syn_received_dup_syn(st, tp, s, now) || time_wait_fin(st, tp, s, now))
        return DONE;
    if (time_wait_reuse(st, tp, s, iss_floor, now)) {
        *reopen = true;
        return GONE;
    }
    if (ts_paws_fails(tp, s)) {
        drop(st, tp, s, SYNACK_DROP_TCP_PAWS, now);
        oow_ack(st, tp, s, now);
        return DONE;
    }
    int r = check_seq(st, tp, s, now);
    if (r == CONT)
        r = check_rst(st, tp, s, now);
    if (r == CONT)
        r = check_syn(st, tp, s, now);
    if (r == CONT) {
        update_ts_recent(tp, s);
        r = check_ack(st, tp, s, now);
    }
    if (r == CONT)
        r = process_text(st, tp, s, now);
    if (r == CONT)
        check_fin(st, tp, s, now);
    return r == GONE ? GONE : DONE;
}

/* Receive-side checksum fused with the copy into the receive ring: for a
 * data segment (ACK, no SYN/RST/URG) of a connection with a receive ring,
 * starting at RCV.NXT and fitting in the ring's free space, while no
 * out-of-order data is held there (nooo == 0), the payload is summed while
 * it is copied to where reass would put it. Nothing is committed here:
 * bytes past rx_len are then free space, so a segment whose
 * checksum fails (dropped as before) or that is not accepted after all
 * leaves nothing behind; one that is, is appended by reass without a second
 * copy (seg.in_ring). Otherwise the checksum is verified as
 * wire_tcp_parse does. Returns 0 or -SYNACK_DROP_TCP_BAD_CSUM; the header
 * (th) is already parsed (wire_tcp_parse_hdr). */
static int rx_copy_csum(const tcb *tp, const wire_ipv4 *ip, const uint8_t *p,
                        size_t len, seg *s)
{
    const wire_tcp *th = &s->th;
    uint32_t dlen = (uint32_t)(len - th->hlen);
    uint32_t sum = wire_csum_pseudo(ip->src, ip->dst, WIRE_IPPROTO_TCP,
                                    (uint16_t)len);
    s->in_ring = NULL;
    if (tp && tp->rxb && !tp->nooo && dlen && th->seq == tp->rcv_nxt &&
        (th->flags & (SYNACK_TH_ACK | SYNACK_TH_SYN | SYNACK_TH_RST |
                      SYNACK_TH_URG)) == SYNACK_TH_ACK &&
        dlen <= tp->rx_size - tp->rx_len) {
        uint32_t pos = (tp->rx_head + tp->rx_len) % tp->rx_size;
        uint32_t first = min32(dlen, tp->rx_size - pos);
        const uint8_t *data = p + th->hlen;
        sum = wire_csum_add(sum, p, th->hlen); /* hlen: a multiple of 4 */
        sum = wire_csum_copy(sum, tp->rxb + pos, data, first);
        if (first < dlen) {
            /* the ring's end split it: an odd first piece shifts the rest
             * by a byte (wire_csum_add_odd) */
            uint32_t rest =
                wire_csum_copy(first & 1 ? 0 : sum, tp->rxb, data + first,
                               dlen - first);
            sum = first & 1 ? wire_csum_add_odd(sum, rest) : rest;
        }
        if (wire_csum_fold(sum) != 0)
            return -SYNACK_DROP_TCP_BAD_CSUM;
        s->in_ring = data;
        return 0;
    }
    if (wire_csum_fold(wire_csum_add(sum, p, len)) != 0)
        return -SYNACK_DROP_TCP_BAD_CSUM;
    return 0;
}

void tcp_batch_flush(synack_stack *st, synack_time_t now)
{
    tcb *tp = st->batch_ack;
    st->batch_ack = NULL;
    if (!tp || tp->zombie || tp->unacked_rcv < 2u * tp->mss)
        return; /* gone, or ACKed since by a segment we sent */
    st->cause = "end of input batch";
    tp->ack_now = true;
    tcp_output(st, tp, now);
    tcp_notify(st, tp);
    st->cause = NULL;
    tcp_entry_done(st, tp);
}

void tcp_input(synack_stack *st, const wire_ipv4 *ip, const uint8_t *p,
               size_t len, synack_time_t now)
{
    tcb *worked = NULL; /* filed in the timer heap at the end */
    seg s; /* th is filled by the parser; desc only for the trace hook */
    tcb *tp = NULL;
    bool looked_up = false;
    int r;
    /* With header prediction on, a segment whose header parses is looked
     * up first so that its payload can be checksummed on the way into the
     * receive ring (rx_copy_csum); a header that does not parse goes the
     * plain way, so the drop reason stays the checksum's when both are
     * wrong. */
    if (st->tun.fast_path && len > WIRE_TCP_HLEN &&
        wire_tcp_parse_hdr(p, len, &s.th) == 0 && s.th.sport && s.th.dport) {
        tp = tcb_lookup(st, ip->dst, s.th.dport, ip->src, s.th.sport);
        looked_up = true;
        r = rx_copy_csum(tp, ip, p, len, &s);
    } else {
        s.in_ring = NULL;
        r = wire_tcp_parse(p, len, ip->src, ip->dst, &s.th);
    }
    if (r < 0) {
        stack_drop(st, -r, NULL, NULL, now);
        return;
    }
    st->stats.tcp_in++;
    st->stats.tcp_opt_unknown += s.th.unknown_opts;
    s.ip = ip;
    s.data = p + s.th.hlen;
    s.dlen = (uint32_t)(len - s.th.hlen);
    s.flags = s.th.flags;
    s.seq = s.th.seq;
    synack_seg *d = &s.desc;
    memset(d, 0, sizeof(*d));
    if (st->trace) { /* what the trace events show */
        d->src = (synack_addr){ip->src, s.th.sport};
        d->dst = (synack_addr){ip->dst, s.th.dport};
        d->seq = s.th.seq;
        d->ack = s.th.ack;
        d->flags = s.th.flags;
        d->wnd = s.th.wnd;
        d->len = s.dlen;
        d->has_mss = s.th.has_mss;
        d->has_ws = s.th.has_ws;
        d->has_ts = s.th.has_ts;
        d->has_sackok = s.th.has_sackok;
        d->mss = s.th.mss;
        d->ws = s.th.ws;
        d->tsval = s.th.tsval;
        d->tsecr = s.th.tsecr;
    }
    st->cur_seg = d;
    tcp_set_cause(st, "rcv", s.flags);

    if (s.th.sport == 0 || s.th.dport == 0) {
        drop(st, NULL, &s, SYNACK_DROP_TCP_BAD_PORT, now);
        goto out;
    }
    if (!looked_up)
        tp = tcb_lookup(st, ip->dst, s.th.dport, ip->src, s.th.sport);
    if (!tp) {
        tcb *lp = tcb_lookup_listener(st, ip->dst, s.th.dport);
        tcp_trace_seg(st, SYNACK_TRACE_SEG_IN, lp, d, false, now);
        if (!lp) {
            closed_input(st, &s, now);
            goto out;
        }
        tp = listen_input(st, lp, &s, NULL, now);
        if (!tp)
            goto out;
    } else {
        tcp_trace_seg(st, SYNACK_TRACE_SEG_IN, tp, d, false, now);
    }
    worked = tp;
    tp->segs_in++;
    tp->last_rcv = now;
    tp->keep_probes = 0;
    bool reopen = false;
    uint32_t iss_floor = 0;
    if (tp->state == SYNACK_SYN_SENT) {
        r = syn_sent_input(st, tp, &s, now);
        if (r == CONT) {
            r = process_text(st, tp, &s, now);
            if (r == CONT)
                check_fin(st, tp, &s, now);
        }
    } else if (st->tun.fast_path && fast_path(st, tp, &s, now)) {
        r = DONE;
    } else {
        r = sync_input(st, tp, &s, &reopen, &iss_floor, now);
    }
    if (r != GONE) {
        tcp_output(st, tp, now);
        tcp_notify(st, tp);
    } else if (reopen) {
        tcb *lp = tcb_lookup_listener(st, ip->dst, s.th.dport);
        if (lp) {
            s.flags = s.th.flags;
            listen_input(st, lp, &s, &iss_floor, now);
        }
    }
out:
    st->cur_seg = NULL;
    st->cause = NULL;
    tcp_entry_done(st, worked);
}
