/*
 * Loss recovery: the send scoreboard (one record per segment sent, in
 * sequence order, from SND.UNA to SND.MAX), selective acknowledgment
 * (RFC 2018) and D-SACK (RFC 2883) in both directions, RACK-TLP loss
 * detection (RFC 8985) -- or, with tcp_recovery=0, RFC 6675's DupThresh
 * rule -- and three duplicate ACKs for a peer without SACK; recovery
 * itself goes through tcp_cc.c (PRR, the congestion-control module).
 *
 * The records live in an array allocated with the send ring: nothing is
 * allocated per segment.
 */
#include <string.h>

#include "core.h"

/* ---- the scoreboard ----------------------------------------------------- */

uint32_t tcp_rec_cap(uint32_t tx_size)
{
    /* one record per 256 bytes of send buffer, and some: small segments
     * beyond that wait until records free up */
    return tx_size / 256 + 16;
}

static txrec *rec_at(const tcb *tp, uint32_t i)
{
    uint32_t k = tp->rec_head + i;
    if (k >= tp->rec_cap)
        k -= tp->rec_cap;
    return &tp->rec[k];
}

static uint32_t rec_len(const txrec *r)
{
    return r->end - r->start;
}

bool tcp_rec_room(const tcb *tp)
{
    return tp->rec && tp->rec_n < tp->rec_cap;
}

/* ---- delivery-rate sampling (draft-cheng-iccrg-delivery-rate-estimation)
 * Each record remembers, as of its last transmission, how much had been
 * delivered and when; the ACK that delivers it yields a sample: what was
 * delivered since, over the longer of the send and the ACK intervals. */

/* Only for a module that uses the samples (cong_control): cubic and
 * reno pay nothing per segment. Records sent while it was off carry no
 * rate fields (no TXR_RATE): they count as delivered, give no sample. */
static bool rate_on(const tcb *tp)
{
    return tp->cc && tp->cc->cong_control;
}

#define RATE_SHIFT 10 /* the records' time unit: 1024 ns */

static uint32_t units_since(synack_time_t then, synack_time_t now)
{
    synack_time_t d = now > then ? (now - then) >> RATE_SHIFT : 0;
    return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

static void rate_on_send(tcb *tp, txrec *r, synack_time_t now)
{
    if (!rate_on(tp)) {
        r->fl &= (uint8_t)~TXR_RATE;
        return;
    }
    r->delivered = tp->delivered;
    r->dlv_t = units_since(tp->delivered_time, now);
    r->first_t = units_since(tp->first_tx_time, now);
    r->fl |= TXR_RATE;
    if (tp->app_limited)
        r->fl |= TXR_APPLIM;
    else
        r->fl &= (uint8_t)~TXR_APPLIM;
}

/* Was (t1, e1) sent after (t2, e2)? */
static bool sent_after(synack_time_t t1, uint32_t e1, synack_time_t t2,
                       uint32_t e2)
{
    return t1 > t2 || (t1 == t2 && SEQ_GT(e1, e2));
}

/* n bytes of r were delivered by this ACK (whole: all of r, which then
 * leaves the scoreboard or is SACKed). The sample comes from the most
 * recently sent record the ACK delivers. */
static void rate_on_delivered(tcb *tp, tcp_rate_sample *rs, const txrec *r,
                              uint32_t n, bool whole, synack_time_t now)
{
    tp->delivered += n;
    rs->acked_sacked += n;
    if (!whole || !(r->fl & TXR_RATE))
        return;
    if (!(r->fl & TXR_EVER_RT)) {
        synack_time_t rtt = now > r->xmit ? now - r->xmit : 1;
        if (rs->rtt == 0 || rtt < rs->rtt)
            rs->rtt = rtt;
    }
    if (rs->have && !sent_after(r->xmit, r->end, rs->last_xmit, rs->last_end))
        return;
    rs->have = true;
    rs->last_xmit = r->xmit;
    rs->last_end = r->end;
    rs->prior_delivered = r->delivered;
    rs->prior_time = r->xmit - ((synack_time_t)r->dlv_t << RATE_SHIFT);
    rs->send_elapsed = (synack_time_t)r->first_t << RATE_SHIFT;
    rs->app_limited = (r->fl & TXR_APPLIM) != 0;
    tp->first_tx_time = r->xmit;
}

/* After the ACK's records: the sample (interval 0 when there is none). */
static void rate_gen(tcb *tp, tcp_rate_sample *rs, synack_time_t now)
{
    if (tp->app_limited && SEQ_GT(tp->delivered, tp->app_limited))
        tp->app_limited = 0; /* the application-limited stretch is over */
    if (rs->acked_sacked)
        tp->delivered_time = now;
    rs->interval = 0;
    if (!rs->have)
        return;
    rs->delivered = tp->delivered - rs->prior_delivered;
    synack_time_t ack_elapsed = now > rs->prior_time ? now - rs->prior_time
                                                     : 0;
    /* the longer of the two: ACK compression cannot inflate the rate, nor
     * a burst sent faster than it is delivered */
    synack_time_t iv = rs->send_elapsed > ack_elapsed ? rs->send_elapsed
                                                      : ack_elapsed;
    /* shorter than the path's minimum RTT: ACK aggregation or a stretch
     * of delayed ACKs, not a rate the path can sustain */
    if (iv == 0 || (tp->min_rtt && iv < tp->min_rtt))
        return;
    rs->interval = iv;
}

void tcp_rate_check_app_limited(tcb *tp)
{
    /* nothing to resend and room in cwnd: the application is the limit */
    if (tp->lost_bytes == 0 && tcp_inflight(tp) < tp->cwnd) {
        uint32_t m = tp->delivered + tcp_inflight(tp);
        tp->app_limited = m ? m : 1;
    }
}

void tcp_rec_add(tcb *tp, uint32_t start, uint32_t end, bool fin,
                 synack_time_t now)
{
    if (!tcp_rec_room(tp))
        return;
    if (tp->rec_n == 0 && rate_on(tp)) /* nothing in flight: the
                                        * intervals start now */
        tp->first_tx_time = tp->delivered_time = now;
    txrec *r = rec_at(tp, tp->rec_n);
    r->start = start;
    r->end = end;
    r->xmit = now;
    r->fl = fin ? TXR_FIN : 0;
    rate_on_send(tp, r, now);
    tp->rec_n++;
}

void tcp_rec_clear(tcb *tp)
{
    tp->rec_head = tp->rec_n = 0;
    tp->sacked_bytes = tp->lost_bytes = tp->retrans_bytes = 0;
}

/* Bytes the network holds (RFC 6675 pipe): outstanding, less what was
 * SACKed or is deemed lost, plus the retransmissions in flight. */
uint32_t tcp_inflight(const tcb *tp)
{
    uint32_t out = tp->snd_max - tp->snd_una;
    uint32_t gone = tp->sacked_bytes + tp->lost_bytes;
    uint32_t p = out > gone ? out - gone : 0;
    return p + tp->retrans_bytes;
}

/* Clear those of flags `fl` that r has, and take its n bytes off their
 * counts. */
static void drop_flags(tcb *tp, txrec *r, uint32_t n, uint8_t fl)
{
    fl &= r->fl;
    if (fl & TXR_SACKED)
        tp->sacked_bytes -= n;
    if (fl & TXR_LOST)
        tp->lost_bytes -= n;
    if (fl & TXR_RETRANS)
        tp->retrans_bytes -= n;
    r->fl &= (uint8_t)~fl;
}

enum { LOST_RTO, LOST_RACK, LOST_DUPTHRESH };

static void mark_lost(synack_stack *st, tcb *tp, txrec *r, int why)
{
    if (r->fl & TXR_SACKED)
        return;
    uint32_t n = rec_len(r);
    if (r->fl & TXR_LOST) {
        if (!(r->fl & TXR_RETRANS))
            return;
        drop_flags(tp, r, n, TXR_RETRANS); /* the retransmission too */
    } else {
        r->fl |= TXR_LOST;
        tp->lost_bytes += n;
    }
    if (why == LOST_RACK)
        st->stats.tcp_rack_lost++;
    else if (why == LOST_DUPTHRESH)
        st->stats.tcp_dupthresh_lost++;
}

/* The first record to retransmit (deemed lost, no copy in flight), or
 * NULL. */
txrec *tcp_rec_next_lost(const tcb *tp)
{
    if (tp->lost_bytes == 0)
        return NULL;
    for (uint32_t i = 0; i < tp->rec_n; i++) {
        txrec *r = rec_at(tp, i);
        if ((r->fl & (TXR_LOST | TXR_RETRANS | TXR_SACKED)) == TXR_LOST)
            return r;
    }
    return NULL;
}

/* Before r is resent: join the lost records that follow it while the
 * whole fits in `max` bytes of data, as Linux collapses retransmissions
 * (small segments lost together go back as one). */
void tcp_rec_collapse(tcb *tp, txrec *r, uint32_t max)
{
    uint32_t i = (uint32_t)(r - tp->rec) + tp->rec_cap - tp->rec_head;
    if (i >= tp->rec_cap)
        i -= tp->rec_cap;
    while (i + 1 < tp->rec_n && !(r->fl & TXR_FIN)) {
        txrec *nx = rec_at(tp, i + 1);
        uint32_t fin = (nx->fl & TXR_FIN) ? 1u : 0u;
        if ((nx->fl & (TXR_LOST | TXR_RETRANS | TXR_SACKED)) != TXR_LOST ||
            rec_len(r) + rec_len(nx) - fin > max)
            break;
        r->end = nx->end;
        r->fl |= (uint8_t)(nx->fl & (TXR_FIN | TXR_EVER_RT));
        for (uint32_t k = i + 1; k + 1 < tp->rec_n; k++)
            *rec_at(tp, k) = *rec_at(tp, k + 1);
        tp->rec_n--;
    }
}

void tcp_rec_sent_again(tcb *tp, txrec *r, synack_time_t now)
{
    if (!(r->fl & TXR_RETRANS))
        tp->retrans_bytes += rec_len(r);
    r->fl |= TXR_RETRANS | TXR_EVER_RT;
    r->xmit = now;
    rate_on_send(tp, r, now);
}

/* ---- RACK (RFC 8985 6) ---------------------------------------------------- */

/* A record was delivered (cumulatively acknowledged or SACKed). */
static void rack_update(synack_stack *st, tcb *tp, const txrec *r,
                        uint32_t fack_before, synack_time_t now)
{
    synack_time_t rtt = now - r->xmit;
    if (r->fl & TXR_EVER_RT) {
        /* Karn for RACK: an ACK faster than the path is for the original */
        if (tp->min_rtt && rtt < tp->min_rtt)
            return;
    } else {
        if (tp->min_rtt == 0 || rtt < tp->min_rtt)
            tp->min_rtt = rtt ? rtt : 1;
        /* delivered below data already SACKed, never retransmitted: the
         * network reordered it */
        if (SEQ_LT(r->end, fack_before) && !tp->reord_seen) {
            tp->reord_seen = true;
            st->stats.tcp_reordering++;
        }
    }
    if (!tp->rack_valid ||
        sent_after(r->xmit, r->end, tp->rack_xmit, tp->rack_end)) {
        tp->rack_valid = true;
        tp->rack_xmit = r->xmit;
        tp->rack_end = r->end;
        tp->rack_rtt = rtt;
    }
}

static synack_time_t rack_reo_wnd(const synack_stack *st, const tcb *tp)
{
    if (!tp->reord_seen) {
        if (tp->ca_state != CA_OPEN)
            return 0;
        if (tp->sacked_bytes >= (uint32_t)st->tun.reordering * tp->mss)
            return 0;
    }
    synack_time_t w = tp->reo_wnd_mult * tp->min_rtt / 4;
    if (tp->rtt_valid && w > tp->srtt)
        w = tp->srtt;
    return w;
}

/* Mark lost what was sent long enough before the newest delivered
 * segment; returns how long until the next one would be (0: none). */
static synack_time_t rack_detect(synack_stack *st, tcb *tp, synack_time_t now)
{
    if (!tp->rack_valid)
        return 0;
    synack_time_t reo = rack_reo_wnd(st, tp);
    synack_time_t wait = 0;
    for (uint32_t i = 0; i < tp->rec_n; i++) {
        txrec *r = rec_at(tp, i);
        if (r->fl & TXR_SACKED)
            continue;
        if ((r->fl & TXR_LOST) && !(r->fl & TXR_RETRANS))
            continue; /* already waiting to be resent */
        if (!sent_after(tp->rack_xmit, tp->rack_end, r->xmit, r->end))
            continue;
        synack_time_t due = r->xmit + tp->rack_rtt + reo;
        if (due <= now)
            mark_lost(st, tp, r, LOST_RACK);
        else if (due - now > wait)
            wait = due - now;
    }
    return wait;
}

/* RFC 6675 IsLost: DupThresh SACKed segments above, or more than
 * (DupThresh - 1) * SMSS bytes. */
static void dupthresh_detect(synack_stack *st, tcb *tp)
{
    uint32_t thresh = (uint32_t)st->tun.reordering;
    uint32_t segs = 0, bytes = 0;
    for (uint32_t i = tp->rec_n; i-- > 0;) {
        txrec *r = rec_at(tp, i);
        if (r->fl & TXR_SACKED) {
            segs++;
            bytes += rec_len(r);
            continue;
        }
        if (segs >= thresh || bytes > (thresh - 1) * tp->mss)
            mark_lost(st, tp, r, LOST_DUPTHRESH);
    }
}

/* ---- the ACK ---------------------------------------------------------------- */

/* Take the records the cumulative ACK covers off the scoreboard. */
static uint32_t pop_acked(synack_stack *st, tcb *tp, uint32_t ack,
                          uint32_t fack_before, tcp_rate_sample *rs,
                          synack_time_t now)
{
    uint32_t delivered = 0;
    while (tp->rec_n) {
        txrec *r = rec_at(tp, 0);
        if (SEQ_LEQ(r->end, ack)) {
            if (!(r->fl & TXR_SACKED)) {
                delivered += rec_len(r);
                rack_update(st, tp, r, fack_before, now);
                if (rs)
                    rate_on_delivered(tp, rs, r, rec_len(r), true, now);
            }
            drop_flags(tp, r, rec_len(r),
                       TXR_SACKED | TXR_LOST | TXR_RETRANS);
            tp->rec_head = tp->rec_head + 1 == tp->rec_cap ? 0
                                                           : tp->rec_head + 1;
            tp->rec_n--;
            continue;
        }
        if (SEQ_GT(ack, r->start)) { /* part of it */
            uint32_t n = ack - r->start;
            if (!(r->fl & TXR_SACKED)) {
                delivered += n;
                if (rs)
                    rate_on_delivered(tp, rs, r, n, false, now);
            }
            if (r->fl & TXR_SACKED)
                tp->sacked_bytes -= n;
            if (r->fl & TXR_LOST)
                tp->lost_bytes -= n;
            if (r->fl & TXR_RETRANS)
                tp->retrans_bytes -= n;
            r->start = ack;
        }
        break;
    }
    if (tp->rec_n == 0)
        tp->rec_head = 0;
    return delivered;
}

/* Is the first block a D-SACK (RFC 2883 4)? */
static bool is_dsack(const wire_tcp *th, uint32_t ack)
{
    if (th->nsack == 0)
        return false;
    uint32_t s0 = th->sack[0].start, e0 = th->sack[0].end;
    if (SEQ_LEQ(e0, ack))
        return true;
    if (th->nsack > 1 && SEQ_GEQ(s0, th->sack[1].start) &&
        SEQ_LEQ(e0, th->sack[1].end))
        return true;
    return false;
}

/* Every retransmission of the last reduction came back as a D-SACK: the
 * originals had arrived, nothing was lost (RFC 3708's detection; the
 * response as Linux's undo, RFC 4015 in spirit): the window goes back to
 * what it was, and segments still marked lost are in flight after all. */
static void undo_reduction(synack_stack *st, tcb *tp)
{
    if (tp->cwnd < tp->prior_cwnd)
        tp->cwnd = tp->prior_cwnd;
    if (tp->ssthresh < tp->prior_ssthresh)
        tp->ssthresh = tp->prior_ssthresh;
    for (uint32_t i = 0; i < tp->rec_n; i++) {
        txrec *r = rec_at(tp, i);
        if ((r->fl & (TXR_LOST | TXR_RETRANS)) == TXR_LOST)
            drop_flags(tp, r, rec_len(r), TXR_LOST);
    }
    if (tp->ca_state != CA_OPEN) {
        tp->ca_state = CA_OPEN;
        tp->in_recovery = false;
        tp->dupacks = 0;
        tp->ca_acked = 0;
    }
    tp->undo_on = false;
    st->stats.tcp_undos++;
}

static void on_dsack(synack_stack *st, tcb *tp, uint32_t start, uint32_t end)
{
    st->stats.tcp_dsack_in++;
    /* a duplicate of data the episode resent: [undo_marker, recover) */
    if (tp->undo_on && tp->undo_retrans && SEQ_GEQ(start, tp->undo_marker) &&
        SEQ_LT(start, tp->recover) && --tp->undo_retrans == 0)
        undo_reduction(st, tp);
    /* a TLP retransmission that turned out unnecessary: no loss */
    if (tp->tlp_on && tp->tlp_retrans && SEQ_LEQ(end, tp->tlp_high) &&
        SEQ_GT(end, tp->tlp_high - tp->mss - 1))
        tp->tlp_on = false;
    (void)start;
    /* RFC 8985 6.2 step 4: a wider reordering window, once per round */
    if (SEQ_GEQ(tp->snd_una, tp->dsack_round)) {
        if (tp->reo_wnd_mult < 64)
            tp->reo_wnd_mult++;
        tp->reo_wnd_persist = 16;
        tp->dsack_round = tp->snd_max;
        if (!tp->reord_seen)
            st->stats.tcp_reordering++;
        tp->reord_seen = true;
    }
}

/* Apply the SACK blocks; returns the bytes newly SACKed. */
static uint32_t apply_sack(synack_stack *st, tcb *tp, const wire_tcp *th,
                           uint32_t ack, uint32_t fack_before,
                           tcp_rate_sample *rs, synack_time_t now)
{
    uint32_t n = th->nsack;
    uint32_t first = 0;
    st->stats.tcp_sack_blocks_in += n;
    if (is_dsack(th, ack)) {
        on_dsack(st, tp, th->sack[0].start, th->sack[0].end);
        first = 1;
    }
    uint32_t delivered = 0;
    for (uint32_t b = first; b < n; b++) {
        uint32_t s = th->sack[b].start, e = th->sack[b].end;
        /* only blocks above SND.UNA and within what was sent */
        if (!SEQ_LT(s, e) || SEQ_LEQ(e, tp->snd_una) ||
            SEQ_GT(e, tp->snd_max) || SEQ_LT(s, tp->snd_una))
            continue;
        for (uint32_t i = 0; i < tp->rec_n; i++) {
            txrec *r = rec_at(tp, i);
            if (SEQ_GEQ(r->start, e))
                break;
            if (SEQ_LT(r->start, s) || SEQ_GT(r->end, e) ||
                (r->fl & TXR_SACKED))
                continue;
            uint32_t len = rec_len(r);
            rack_update(st, tp, r, fack_before, now);
            if (rs)
                rate_on_delivered(tp, rs, r, len, true, now);
            drop_flags(tp, r, len, TXR_LOST | TXR_RETRANS);
            r->fl |= TXR_SACKED;
            tp->sacked_bytes += len;
            delivered += len;
            if (SEQ_GT(r->end, tp->fack))
                tp->fack = r->end;
        }
    }
    return delivered;
}

/* Tail loss probe (RFC 8985 7.4): the ACK of a probe episode. */
static void tlp_on_ack(synack_stack *st, tcb *tp, uint32_t ack,
                       synack_time_t now)
{
    if (!tp->tlp_on || SEQ_LT(ack, tp->tlp_high))
        return;
    tp->tlp_on = false;
    if (!tp->tlp_retrans)
        return;
    /* the probe's retransmission repaired a loss (no D-SACK said it was
     * redundant): the congestion response a recovery would have made */
    tp->ssthresh = tp->cc->ssthresh(tp, now);
    if (tp->cwnd > tp->ssthresh)
        tp->cwnd = tp->ssthresh;
    st->stats.tcp_tlp_recoveries++;
}

static bool tlp_allowed(const synack_stack *st, const tcb *tp)
{
    return st->tun.early_retrans >= 3 && tp->sack_ok &&
           tp->ca_state == CA_OPEN && !tp->tlp_on && tp->rtt_valid &&
           tp->snd_una != tp->snd_max &&
           (tp->state == SYNACK_ESTABLISHED || tp->state == SYNACK_CLOSE_WAIT);
}

/* The probe timeout (RFC 8985 7.2) goes on t_rexmt if it comes before the
 * RTO (whose deadline rto_at keeps). */
static void arm_pto(synack_stack *st, tcb *tp, synack_time_t now)
{
    if (!tlp_allowed(st, tp))
        return;
    synack_time_t pto = 2 * tp->srtt;
    if (tp->snd_max - tp->snd_una <= tp->mss)
        pto += 200 * SYNACK_MSEC; /* WCDelAckT: one segment, delayed ACK */
    if (pto < 10 * SYNACK_MSEC)
        pto = 10 * SYNACK_MSEC;
    if (now + pto < tp->rto_at) {
        tp->t_rexmt = now + pto;
        tp->rexmt_kind = RX_TLP;
    } else {
        tp->t_rexmt = tp->rto_at;
        tp->rexmt_kind = RX_RTO;
    }
}

/* Arm t_rexmt for what comes first: a tail loss probe (when allowed) or
 * the retransmission timeout, restarted. Only with data outstanding. */
void tcp_arm_tlp_or_rto(synack_stack *st, tcb *tp, synack_time_t now)
{
    tcp_arm_rexmt(st, tp, now);
    arm_pto(st, tp, now);
}

/* New data went out: the probe timeout runs from it (7.2), the RTO does
 * not restart (RFC 6298 5.1). */
void tcp_rearm_tlp(synack_stack *st, tcb *tp, synack_time_t now)
{
    if (tp->rexmt_kind == RX_REO)
        return;
    if (tp->rexmt_kind == RX_RTO)
        tp->rto_at = tp->t_rexmt;
    arm_pto(st, tp, now);
}

/* The timer for data in flight after an ACK: RACK's reordering timer when
 * it has segments to judge, else TLP or RTO. */
static void rearm(synack_stack *st, tcb *tp, synack_time_t reo_wait,
                  synack_time_t now)
{
    if (tp->snd_una == tp->snd_max) {
        tp->t_rexmt = SYNACK_TIME_NEVER;
        tp->rexmt_kind = RX_RTO;
        return;
    }
    tcp_arm_tlp_or_rto(st, tp, now);
    if (reo_wait && now + reo_wait < tp->t_rexmt) {
        tp->t_rexmt = now + reo_wait;
        tp->rexmt_kind = RX_REO;
    }
}

static bool loss_detection(synack_stack *st, tcb *tp, synack_time_t *wait,
                           synack_time_t now)
{
    uint32_t before = tp->lost_bytes;
    *wait = 0;
    /* with nothing SACKed, lost or resent, every outstanding segment was
     * sent after every delivered one: nothing for RACK to judge */
    bool quiet = tp->sacked_bytes == 0 && tp->lost_bytes == 0 &&
                 tp->retrans_bytes == 0 && tp->ca_state == CA_OPEN;
    if (tp->sack_ok && !quiet) {
        if (st->tun.recovery & 1)
            *wait = rack_detect(st, tp, now);
        else
            dupthresh_detect(st, tp);
    }
    return tp->lost_bytes > before;
}

static void maybe_enter_recovery(synack_stack *st, tcb *tp, synack_time_t now)
{
    if (tp->ca_state != CA_OPEN || tp->lost_bytes == 0)
        return;
    tcp_cc_enter_recovery(st, tp, now);
}

/* An ACK in a synchronized state, after SND.UNA moved to `ack` (or not:
 * `dup` is a duplicate ACK in RFC 5681's sense). `acked` bytes were
 * cumulatively acknowledged; `prior_una` was SND.UNA before. */
void tcp_recovery_on_ack(synack_stack *st, tcb *tp, const wire_tcp *th,
                         uint32_t ack, uint32_t acked, bool dup,
                         synack_time_t now)
{
    uint32_t fack_before = tp->fack;
    tcp_rate_sample rs, *rsp = NULL; /* (only for cong_control) */
    if (rate_on(tp)) {
        memset(&rs, 0, sizeof(rs));
        rsp = &rs;
    }
    uint32_t delivered = pop_acked(st, tp, ack, fack_before, rsp, now);
    if (SEQ_LT(tp->fack, tp->snd_una))
        tp->fack = tp->snd_una;
    if (tp->sack_ok && th->nsack)
        delivered += apply_sack(st, tp, th, ack, fack_before, rsp, now);
    if (rsp)
        rate_gen(tp, rsp, now);
    if (tp->rec_n == 0 && tp->snd_una == tp->snd_max)
        tcp_rec_clear(tp);
    tlp_on_ack(st, tp, ack, now);

    /* end of a recovery episode: everything sent before it is acknowledged */
    bool grow = acked != 0;
    if (tp->ca_state != CA_OPEN && acked && SEQ_GEQ(tp->snd_una, tp->recover)) {
        bool was_recovery = tp->ca_state == CA_RECOVERY;
        tcp_cc_exit_recovery(tp);
        if (tp->reo_wnd_persist && --tp->reo_wnd_persist == 0)
            tp->reo_wnd_mult = 1;
        if (was_recovery)
            grow = false; /* cwnd = ssthresh, no growth on this ACK */
    }

    if (dup)
        tp->dupacks++;
    else if (acked)
        tp->dupacks = 0;
    if (!tp->sack_ok) {
        /* NewReno: three duplicate ACKs, then each partial ACK, mark the
         * first unacknowledged segment lost */
        if (tp->rec_n &&
            ((dup && tp->dupacks == (uint32_t)st->tun.reordering &&
              tp->ca_state == CA_OPEN &&
              SEQ_GT(tp->snd_una, tp->recover)) ||
             (acked && tp->ca_state == CA_RECOVERY)))
            mark_lost(st, tp, rec_at(tp, 0), LOST_DUPTHRESH);
        if (dup)
            delivered += tp->mss; /* a segment left the network */
    }
    synack_time_t wait;
    uint32_t lost_before = tp->lost_bytes;
    loss_detection(st, tp, &wait, now);
    maybe_enter_recovery(st, tp, now);

    if (rsp) {
        /* the module sets cwnd from the sample, in recovery too */
        rs.losses = tp->lost_bytes > lost_before ? tp->lost_bytes - lost_before
                                                 : 0;
        if (!tp->sack_ok && dup)
            rs.acked_sacked += tp->mss; /* (NewReno: a segment left) */
        /* in flight before the ACK: what it delivered was, and what it
         * marked lost still counted */
        rs.prior_in_flight = tcp_inflight(tp) + rs.acked_sacked + rs.losses;
        tp->cc->cong_control(tp, &rs, now);
    } else if (tp->ca_state == CA_RECOVERY)
        tcp_cc_prr(tp, delivered, tcp_inflight(tp));
    else if (grow)
        tp->cc->cong_avoid(tp, acked, now);
    if (acked)
        tp->backoff = 0;
    /* duplicate ACKs leave a running RTO alone (RFC 6298 5.3) */
    if (acked || wait || tp->rexmt_kind != RX_RTO ||
        tp->t_rexmt == SYNACK_TIME_NEVER)
        rearm(st, tp, wait, now);
}

/* t_rexmt fired for RACK's reordering window. */
void tcp_rack_timeout(synack_stack *st, tcb *tp, synack_time_t now)
{
    st->stats.tcp_rack_reo_timeouts++;
    synack_time_t wait;
    loss_detection(st, tp, &wait, now);
    maybe_enter_recovery(st, tp, now);
    if (tp->ca_state == CA_RECOVERY)
        tcp_cc_prr(tp, 0, tcp_inflight(tp));
    rearm(st, tp, wait, now);
    tcp_output(st, tp, now);
}

/* t_rexmt fired for a tail loss probe (RFC 8985 7.3): send one new
 * segment if the window allows, else the last segment again. */
void tcp_tlp_timeout(synack_stack *st, tcb *tp, synack_time_t now)
{
    st->stats.tcp_tlp_probes++;
    tp->tlp_on = true;
    tp->tlp_retrans = false;
    uint32_t sent_before = tp->snd_max;
    tp->tlp_probe = true; /* one segment beyond cwnd */
    tcp_output(st, tp, now);
    tp->tlp_probe = false;
    if (tp->snd_max == sent_before) {
        txrec *last = NULL;
        for (uint32_t i = tp->rec_n; i-- > 0;) {
            txrec *r = rec_at(tp, i);
            if (!(r->fl & TXR_SACKED)) {
                last = r;
                break;
            }
        }
        if (last) {
            tcp_resend_rec(st, tp, last, now);
            tp->tlp_retrans = true;
        }
    }
    tp->tlp_high = tp->snd_max;
    tcp_arm_rexmt(st, tp, now);
}

/* A retransmission timeout on a synchronized connection: everything not
 * SACKed is lost, and resent as the (one-segment) window allows. A
 * second timeout in a row forgets the SACK information too, in case the
 * receiver dropped what it had SACKed (RFC 2018 8, reneging). */
void tcp_rto_mark(synack_stack *st, tcb *tp, synack_time_t now)
{
    st->stats.tcp_timeouts++;
    if (tp->ca_state != CA_LOSS) {
        /* (from recovery: the window before that reduction is the one
         * to restore) */
        if (tp->ca_state == CA_OPEN)
            tcp_cc_undo_begin(tp);
        tp->ssthresh = tp->cc->ssthresh(tp, now);
        tp->recover = tp->snd_max;
    }
    tp->cc->on_rto(tp, now);
    tp->cwnd = tp->mss; /* loss window (RFC 5681 3.1) */
    bool renege = tp->backoff > 1;
    for (uint32_t i = 0; i < tp->rec_n; i++) {
        txrec *r = rec_at(tp, i);
        if (renege && (r->fl & TXR_SACKED))
            drop_flags(tp, r, rec_len(r), TXR_SACKED);
        mark_lost(st, tp, r, LOST_RTO);
        if (r->fl & TXR_RETRANS)
            drop_flags(tp, r, rec_len(r), TXR_RETRANS);
    }
    if (renege)
        tp->fack = tp->snd_una;
    tp->ca_state = CA_LOSS;
    tp->in_recovery = true;
    tp->tlp_on = false;
    tp->dupacks = 0;
    tp->prr_out = tp->prr_delivered = 0;
}

/* ---- receiver: the SACK blocks to send (RFC 2018 4, RFC 2883) ---------- */

/* A duplicate arrived: report it in the next ACK's first block. */
void tcp_note_dsack(synack_stack *st, tcb *tp, uint32_t start, uint32_t end)
{
    if (!tp->sack_ok || !st->tun.dsack || !SEQ_LT(start, end))
        return;
    tp->dsack_pending = true;
    tp->dsack_start = start;
    tp->dsack_end = end;
}

/* Blocks after a D-SACK are compared with each other, not with it: the
 * range holding the duplicate may be the same block (RFC 2883 4.2). */
static bool block_added(const wire_tcp *th, unsigned from, uint32_t s,
                        uint32_t e)
{
    for (unsigned i = from; i < th->nsack; i++)
        if (th->sack[i].start == s && th->sack[i].end == e)
            return true;
    return false;
}

static void add_block(wire_tcp *th, unsigned max, unsigned from, uint32_t s,
                      uint32_t e)
{
    if (th->nsack >= max || block_added(th, from, s, e))
        return;
    th->sack[th->nsack].start = s;
    th->sack[th->nsack].end = e;
    th->nsack++;
}

/* Fill th's SACK blocks (at most `room`): the D-SACK first, then the
 * range holding the newest out-of-order segment, then the others from the
 * highest down. */
void tcp_fill_sack(synack_stack *st, tcb *tp, wire_tcp *th, unsigned room)
{
    unsigned max = th->has_ts ? 3 : 4;
    if (room < max)
        max = room; /* what fits in the segment (a full data segment: 0) */
    if (!tp->sack_ok || max == 0)
        return;
    th->nsack = 0;
    unsigned from = 0;
    if (tp->dsack_pending) {
        add_block(th, max, 0, tp->dsack_start, tp->dsack_end);
        from = 1;
        tp->dsack_pending = false;
        st->stats.tcp_dsack_out++;
        /* RFC 2883 4.2.1: then the out-of-order range that holds it */
        for (unsigned i = 0; i < tp->nooo; i++)
            if (SEQ_LEQ(tp->ooo[i].start, tp->dsack_start) &&
                SEQ_GEQ(tp->ooo[i].end, tp->dsack_end))
                add_block(th, max, from, tp->ooo[i].start, tp->ooo[i].end);
    }
    for (unsigned i = 0; i < tp->nooo; i++)
        if (SEQ_LEQ(tp->ooo[i].start, tp->ooo_last) &&
            SEQ_LT(tp->ooo_last, tp->ooo[i].end))
            add_block(th, max, from, tp->ooo[i].start, tp->ooo[i].end);
    for (unsigned i = tp->nooo; i-- > 0;)
        add_block(th, max, from, tp->ooo[i].start, tp->ooo[i].end);
}
