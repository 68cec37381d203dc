/*
 * synack_stack_check: the stack's internal invariants, for tests and
 * simulations to call after every step (issue 5). It reads everything and
 * changes nothing; the message is built by hand (the core has no stdio).
 *
 * Per connection: SND.UNA <= SND.NXT <= SND.MAX; nothing sent beyond the
 * buffered data (+ SYN and FIN); ring lengths within their sizes; the
 * out-of-order ranges sorted, disjoint, above RCV.NXT and inside the free
 * part of the receive ring; the advertised window never beyond that free
 * space; timers only where they mean something (no timer on a listener, no
 * retransmission or persist timer in TIME-WAIT, 2MSL only in TIME-WAIT and
 * FIN-WAIT-2); the timer heap holds the connection exactly at its
 * earliest deadline (so synack_stack_next_deadline and advance see it in
 * time), and nothing else; buffers held only while there is something to
 * send or read, or on the idle list that releases them; the local port in
 * the bind table. Per listener: the accept and SYN queue counts match the
 * connections and their bounds. Per stack: the connection count and the
 * hash table match the list, the heap is ordered, the idle list is oldest
 * first, no free handle below the allocation hint, and mem_used is exactly
 * the fixed part plus the tables' growth and every connection and buffer.
 */
#include "core.h"

typedef struct report {
    char *buf;
    size_t len, pos;
    size_t n;
} report;

static void put(report *r, const char *s)
{
    while (*s && r->buf && r->pos + 1 < r->len)
        r->buf[r->pos++] = *s++;
    if (r->buf && r->len)
        r->buf[r->pos < r->len ? r->pos : r->len - 1] = '\0';
}

static void put_num(report *r, uint64_t v)
{
    char t[24];
    int i = 23;
    t[i] = '\0';
    do {
        t[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v && i > 0);
    put(r, t + i);
}

/* Record a violation; only the first is described. */
static void bad(report *r, const tcb *tp, const char *what)
{
    if (r->n++ > 0)
        return;
    if (tp) {
        put(r, "connection #");
        put_num(r, tp->id);
        put(r, " (");
        put(r, synack_state_name(tp->state));
        put(r, "): ");
    }
    put(r, what);
}

static bool synchronized(int s)
{
    return s != SYNACK_CLOSED && s != SYNACK_LISTEN && s != SYNACK_SYN_SENT &&
           s != SYNACK_SYN_RECEIVED;
}

static void check_send(report *r, const tcb *tp)
{
    if (tp->state == SYNACK_CLOSED || tp->state == SYNACK_LISTEN)
        return;
    if (!SEQ_LEQ(tp->snd_una, tp->snd_nxt))
        bad(r, tp, "SND.NXT below SND.UNA");
    if (!SEQ_LEQ(tp->snd_nxt, tp->snd_max))
        bad(r, tp, "SND.NXT above SND.MAX");
    if (tp->txb) {
        if (tp->tx_len > tp->tx_size || tp->tx_head >= tp->tx_size)
            bad(r, tp, "send ring length or head beyond its size");
        /* everything sent was buffered: SND.MAX <= data end + FIN */
        uint32_t end = tp->tx_seq + tp->tx_len + (tp->fin_queued ? 1 : 0);
        if (SEQ_GT(tp->snd_max, end))
            bad(r, tp, "SND.MAX beyond the buffered data");
        /* (less one for a SYN not yet acknowledged: SYN-RECEIVED closed
         * into FIN-WAIT-1) */
        if (synchronized(tp->state) && SEQ_LT(tp->snd_una + 1, tp->tx_seq))
            bad(r, tp, "SND.UNA below the send ring's first byte");
    }
}

/* The send scoreboard covers [SND.UNA, SND.MAX) with contiguous records,
 * and its byte counts are the sums of its flags. */
static void check_scoreboard(report *r, const tcb *tp)
{
    if (!tp->rec || !synchronized(tp->state))
        return;
    if (tp->rec_n > tp->rec_cap || tp->rec_head >= tp->rec_cap) {
        bad(r, tp, "scoreboard count or head beyond its size");
        return;
    }
    if (tp->rec_n == 0) {
        if (tp->snd_una != tp->snd_max && tp->snd_una != tp->iss)
            bad(r, tp, "data outstanding without scoreboard records");
        if (tp->sacked_bytes || tp->lost_bytes || tp->retrans_bytes)
            bad(r, tp, "scoreboard byte counts without records");
        return;
    }
    /* (a FIN sent from SYN-RECEIVED before our SYN was acknowledged comes
     * after the SYN, which has no record) */
    uint32_t sacked = 0, lost = 0, retrans = 0, at = tp->snd_una;
    if (tp->snd_una == tp->iss)
        at++;
    for (uint32_t i = 0; i < tp->rec_n; i++) {
        const txrec *x = &tp->rec[(tp->rec_head + i) % tp->rec_cap];
        if (x->start != at || !SEQ_LT(x->start, x->end)) {
            bad(r, tp, "scoreboard records not contiguous from SND.UNA");
            return;
        }
        uint32_t n = x->end - x->start;
        if ((x->fl & TXR_SACKED) && (x->fl & (TXR_LOST | TXR_RETRANS)))
            bad(r, tp, "a SACKed record marked lost or in retransmission");
        if ((x->fl & TXR_RETRANS) && !(x->fl & TXR_EVER_RT))
            bad(r, tp, "a record in retransmission never retransmitted");
        if ((x->fl & TXR_FIN) && i + 1 != tp->rec_n)
            bad(r, tp, "a FIN record that is not the last");
        sacked += (x->fl & TXR_SACKED) ? n : 0;
        lost += (x->fl & TXR_LOST) ? n : 0;
        retrans += (x->fl & TXR_RETRANS) ? n : 0;
        at = x->end;
    }
    if (at != tp->snd_max)
        bad(r, tp, "scoreboard records do not end at SND.MAX");
    if (sacked != tp->sacked_bytes || lost != tp->lost_bytes ||
        retrans != tp->retrans_bytes)
        bad(r, tp, "scoreboard byte counts differ from its records");
}

static void check_recv(report *r, const tcb *tp)
{
    if (!tp->rxb) {
        if (tp->rx_len || tp->nooo || tp->ooo)
            bad(r, tp, "received data or out-of-order ranges without a "
                       "receive buffer");
        if (synchronized(tp->state) && SEQ_GT(tp->rcv_adv, tp->rcv_nxt) &&
            tp->rcv_adv - tp->rcv_nxt > tp->rx_size)
            bad(r, tp, "advertised window beyond the receive buffer size");
        return;
    }
    if (tp->ooo == NULL || (const uint8_t *)tp->ooo + OOO_BYTES != tp->rxb)
        bad(r, tp, "out-of-order ranges not in front of the receive ring");
    if (tp->rx_len > tp->rx_size || tp->rx_head >= tp->rx_size) {
        bad(r, tp, "receive ring length or head beyond its size");
        return;
    }
    uint32_t room = tp->rx_size - tp->rx_len;
    if (tp->nooo > OOO_MAX)
        bad(r, tp, "too many out-of-order ranges");
    uint32_t prev_end = tp->rcv_nxt;
    for (uint8_t i = 0; i < tp->nooo && i < OOO_MAX; i++) {
        const ooo_range *o = &tp->ooo[i];
        if (!SEQ_LT(o->start, o->end))
            bad(r, tp, "empty or inverted out-of-order range");
        if (!SEQ_GT(o->start, prev_end))
            bad(r, tp, "out-of-order ranges not sorted, disjoint and above "
                       "RCV.NXT");
        if (SEQ_GT(o->end, tp->rcv_nxt + room))
            bad(r, tp, "out-of-order data beyond the receive ring");
        prev_end = o->end;
    }
    if (synchronized(tp->state) && SEQ_GT(tp->rcv_adv, tp->rcv_nxt) &&
        tp->rcv_adv - tp->rcv_nxt > room)
        bad(r, tp, "advertised window beyond the free receive space");
}

static void check_timers(report *r, const tcb *tp)
{
    int s = tp->state;
    if (s == SYNACK_LISTEN &&
        (tp->t_rexmt != SYNACK_TIME_NEVER || tp->t_persist != SYNACK_TIME_NEVER ||
         tp->t_keep != SYNACK_TIME_NEVER || tp->t_delack != SYNACK_TIME_NEVER ||
         tp->t_2msl != SYNACK_TIME_NEVER))
        bad(r, tp, "a timer runs on a listener");
    if (s == SYNACK_TIME_WAIT && (tp->t_rexmt != SYNACK_TIME_NEVER ||
                                  tp->t_persist != SYNACK_TIME_NEVER))
        bad(r, tp, "retransmission or persist timer in TIME-WAIT");
    if (tp->t_2msl != SYNACK_TIME_NEVER && s != SYNACK_TIME_WAIT &&
        s != SYNACK_FIN_WAIT_2 && s != SYNACK_CLOSED)
        bad(r, tp, "2MSL timer outside TIME-WAIT and FIN-WAIT-2");
    if (s == SYNACK_TIME_WAIT && tp->t_2msl == SYNACK_TIME_NEVER)
        bad(r, tp, "TIME-WAIT without its 2MSL timer");
}

/* The connection is filed in the timer heap at exactly its earliest
 * deadline (an earlier key would only wake the stack early; a later one
 * would fire late, so the check is strict and catches a missed
 * tcb_timer_sync either way). */
static void check_filed(report *r, const synack_stack *st, const tcb *tp)
{
    synack_time_t d = tcb_deadline(tp);
    if (d == SYNACK_TIME_NEVER) {
        if (tp->theap_idx != TCB_NOT_FILED)
            bad(r, tp, "in the timer heap without a timer");
        return;
    }
    if (tp->theap_idx >= st->theap_len || st->theap[tp->theap_idx] != tp)
        bad(r, tp, "a timer runs but the connection is not in the timer "
                   "heap");
    else if (tp->wheel_at != d)
        bad(r, tp, "filed in the timer heap at another time than its "
                   "earliest deadline");
}

static void check_idle(report *r, const tcb *tp)
{
    bool holds = tp->txb || tp->rxb;
    bool idle = holds && !tp->zombie && tp->tx_len == 0 &&
                tp->snd_una == tp->snd_max && tp->rx_len == 0 &&
                tp->nooo == 0;
    if (idle != tp->idle)
        bad(r, tp, idle ? "idle with buffers but not on the idle list"
                        : "on the idle list but not idle");
    if (tp->lport != 0 && !tp->bound)
        bad(r, tp, "local port not in the bind table");
    if (tp->bound && (tp->pprev == NULL || *tp->pprev != tp))
        bad(r, tp, "bind table chain broken");
}

static void check_tables(report *r, const synack_stack *st, size_t filed)
{
    if (filed != st->theap_len)
        bad(r, NULL, "timer heap length differs from the connections with "
                     "a timer");
    for (uint32_t i = 1; i < st->theap_len; i++)
        if (st->theap[(i - 1) / 2]->wheel_at > st->theap[i]->wheel_at) {
            bad(r, NULL, "timer heap out of order");
            break;
        }
    if (st->theap_cap < st->theap_cap0 || st->theap_cap < st->nconns)
        bad(r, NULL, "timer heap smaller than the connections");
    const tcb *prev = NULL;
    for (const tcb *tp = st->idle_head; tp; tp = tp->idle_next) {
        if (tp->idle_prev != prev || !tp->idle)
            bad(r, tp, "idle list broken");
        if (prev && prev->idle_at > tp->idle_at)
            bad(r, tp, "idle list not oldest first");
        prev = tp;
    }
    if (prev != st->idle_tail)
        bad(r, NULL, "idle list tail wrong");
    uint32_t z = 0;
    for (const tcb *tp = st->zombies; tp && z <= st->nzombies; tp = tp->hnext)
        z++;
    if (z != st->nzombies)
        bad(r, NULL, "zombie list differs from the zombie count");
    for (uint32_t i = 0; i < st->handle_hint && i < st->nhandles; i++)
        if (!st->handles[i]) {
            bad(r, NULL, "a free handle below the allocation hint");
            break;
        }
}

static void check_listener(report *r, const synack_stack *st, const tcb *lp)
{
    int aq = 0, synq = 0;
    for (const tcb *c = lp->aq_head; c && aq <= lp->aq_len; c = c->aq_next)
        aq++;
    for (const tcb *c = st->conns; c; c = c->next)
        if (c->listener == lp && !c->in_aq && c->state == SYNACK_SYN_RECEIVED)
            synq++;
    if (aq != lp->aq_len)
        bad(r, lp, "accept queue count differs from its list");
    if (synq != lp->synq_len)
        bad(r, lp, "SYN queue count differs from its connections");
    if (lp->aq_len > lp->backlog)
        bad(r, lp, "accept queue longer than the backlog");
    if (lp->synq_len > lp->backlog && lp->synq_len > st->tun.max_syn_backlog)
        bad(r, lp, "SYN queue longer than its limit");
}

size_t synack_stack_check(const synack_stack *st, char *msg, size_t len)
{
    report r = {msg, len, 0, 0};
    if (msg && len)
        msg[0] = '\0';
    size_t n = 0, filed = 0;
    uint64_t mem = st->mem_fixed + tcp_tables_extra(st);
    for (const tcb *tp = st->conns; tp; tp = tp->next) {
        n++;
        if (tp->state < 0 || tp->state >= SYNACK__STATE_COUNT) {
            bad(&r, tp, "state out of range");
            continue;
        }
        mem += sizeof(tcb);
        if (tp->txb)
            mem += tp->tx_size;
        if (tp->rxb)
            mem += tcp_rx_alloc_size(tp);
        if (tp->rec)
            mem += sizeof(txrec) * tp->rec_cap;
        check_send(&r, tp);
        check_scoreboard(&r, tp);
        check_recv(&r, tp);
        check_timers(&r, tp);
        check_filed(&r, st, tp);
        check_idle(&r, tp);
        filed += tp->theap_idx != TCB_NOT_FILED;
        if (tp->state == SYNACK_LISTEN) {
            if (tp->txb || tp->rxb)
                bad(&r, tp, "a listener holds buffers");
            check_listener(&r, st, tp);
        }
        if (tp->hashed && !tp->zombie && tp->state != SYNACK_LISTEN &&
            tp->state != SYNACK_CLOSED &&
            tcb_lookup(st, tp->lip, tp->lport, tp->rip, tp->rport) != tp)
            bad(&r, tp, "hashed but not found by its 4-tuple");
    }
    if (n != st->nconns)
        bad(&r, NULL, "connection count differs from the list");
    check_tables(&r, st, filed);
    if (mem != st->stats.mem_used)
        bad(&r, NULL, "mem_used differs from the connections and buffers "
                      "held");
    return r.n;
}
