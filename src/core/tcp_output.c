/*
 * TCP output: one idempotent tcp_output() decides what to send after every
 * event (SYN, data within the send and congestion windows with Nagle and
 * sender-side silly-window avoidance, FIN, ACKs and window updates).
 */
#include <string.h>

#include "core.h"

#define TS_OPTLEN 12

static uint32_t min32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

/* Free receive space measured from RCV.NXT: what we could offer now. */
uint32_t tcp_rcv_window(const tcb *tp)
{
    uint32_t w = tp->rx_size > tp->rx_len ? tp->rx_size - tp->rx_len : 0;
    uint32_t max = tp->ws_ok ? (65535u << tp->rcv_ws) : 65535u;
    return w < max ? w : max;
}

/* The window to put in a segment (bytes, before scaling). The right edge
 * never moves left (RFC 9293 3.8.6.2.2 discourages shrinking), and it only
 * moves right by at least min(buffer/2, MSS): receiver-side SWS
 * avoidance. */
static uint32_t window_to_advertise(const tcb *tp)
{
    uint32_t cur = SEQ_GT(tp->rcv_adv, tp->rcv_nxt) ? tp->rcv_adv - tp->rcv_nxt
                                                    : 0;
    uint32_t win = tcp_rcv_window(tp);
    if (win <= cur)
        return cur;
    if (win - cur < min32(tp->rx_size / 2, tp->rcv_mss) &&
        win < tp->rx_size)
        return cur;
    return win;
}

/* A window update is worth a segment of its own when the window would open
 * by two segments or half the buffer (RFC 9293 3.8.6.2.2). */
static bool window_update_due(const tcb *tp)
{
    if (tp->state != SYNACK_ESTABLISHED && tp->state != SYNACK_FIN_WAIT_1 &&
        tp->state != SYNACK_FIN_WAIT_2)
        return false;
    if (tp->fin_rcvd || !tp->rxb)
        return false;
    uint32_t cur = SEQ_GT(tp->rcv_adv, tp->rcv_nxt) ? tp->rcv_adv - tp->rcv_nxt
                                                    : 0;
    uint32_t win = window_to_advertise(tp);
    if (win <= cur)
        return false;
    uint32_t inc = win - cur;
    return inc >= 2u * tp->rcv_mss || inc >= tp->rx_size / 2;
}

/* Copy len bytes at offset off of the send ring to dst, summing them on
 * the way (one pass instead of two); a piece after an odd first one (the
 * ring's end) chains swapped (wire_csum_add_odd). */
static uint32_t copy_out_ring_csum(const tcb *tp, uint32_t off, uint8_t *dst,
                                   uint32_t len)
{
    uint32_t pos = (tp->tx_head + off) % tp->tx_size;
    uint32_t first = min32(len, tp->tx_size - pos);
    uint32_t s = wire_csum_copy(0, dst, tp->txb + pos, first);
    if (len > first) {
        if (first & 1)
            s = wire_csum_add_odd(
                s, wire_csum_copy(0, dst + first, tp->txb, len - first));
        else
            s = wire_csum_copy(s, dst + first, tp->txb, len - first);
    }
    return s;
}

static void seg_desc(synack_seg *d, const wire_tcp *th, uint32_t src,
                     uint32_t dst, uint32_t len)
{
    memset(d, 0, sizeof(*d));
    d->src = (synack_addr){src, th->sport};
    d->dst = (synack_addr){dst, th->dport};
    d->seq = th->seq;
    d->ack = th->ack;
    d->flags = th->flags;
    d->wnd = th->wnd;
    d->len = len;
    d->has_mss = th->has_mss;
    d->has_ws = th->has_ws;
    d->has_ts = th->has_ts;
    d->has_sackok = th->has_sackok;
    d->mss = th->mss;
    d->ws = th->ws;
    d->tsval = th->tsval;
    d->tsecr = th->tsecr;
}

/* Build and send one segment of tp. Data comes from the send ring at
 * offset `off` from tx_seq. */
static void send_segment(synack_stack *st, tcb *tp, uint32_t seq,
                         uint8_t flags, uint32_t off, uint32_t len,
                         bool retrans, synack_time_t now)
{
    wire_tcp th;
    memset(&th, 0, sizeof(th));
    th.sport = tp->lport;
    th.dport = tp->rport;
    th.seq = seq;
    th.flags = flags;
    if (flags & SYNACK_TH_ACK)
        th.ack = tp->rcv_nxt;
    if (flags & SYNACK_TH_SYN) {
        th.has_mss = 1;
        th.mss = tp->rcv_mss;
        /* A SYN,ACK (passive or simultaneous open) answers the peer's SYN:
         * window scale and timestamps only if that SYN carried them (RFC
         * 7323 2.2, 3.2); our first SYN offers what the tunables allow. */
        bool answer = tp->state != SYNACK_SYN_SENT;
        bool offer_ws = answer ? tp->ws_ok : st->tun.window_scaling;
        if (offer_ws) {
            th.has_ws = 1;
            th.ws = tp->rcv_ws;
        }
        bool offer_ts = answer ? tp->ts_ok : st->tun.timestamps;
        th.has_sackok = answer ? tp->sack_ok : st->tun.sack != 0;
        if (offer_ts) {
            th.has_ts = 1;
            th.tsval = tcp_ts_now(tp, now);
            th.tsecr = answer ? tp->ts_recent : 0;
        }
        /* RFC 7323 2.2: the window in a SYN is never scaled. */
        th.wnd = (uint16_t)min32(tp->rx_size, 65535);
        tp->rcv_adv = tp->rcv_nxt + th.wnd;
    } else {
        if (tp->ts_ok) {
            th.has_ts = 1;
            th.tsval = tcp_ts_now(tp, now);
            th.tsecr = tp->ts_recent;
        }
        if (!(flags & SYNACK_TH_RST)) {
            uint32_t win = window_to_advertise(tp);
            uint32_t field = win >> (tp->ws_ok ? tp->rcv_ws : 0);
            th.wnd = (uint16_t)min32(field, 65535);
            uint32_t edge =
                tp->rcv_nxt + ((uint32_t)th.wnd << (tp->ws_ok ? tp->rcv_ws : 0));
            if (SEQ_GT(edge, tp->rcv_adv))
                tp->rcv_adv = edge;
            if (flags & SYNACK_TH_ACK && tp->sack_ok) {
                /* SACK blocks only where they fit: the payload was sized
                 * for the MSS with timestamps, and each segment the device
                 * cuts from a GSO packet carries the same options */
                uint32_t per = len < tp->mss ? len : tp->mss;
                uint32_t used = WIRE_IPV4_HLEN + (uint32_t)wire_tcp_hdr_len(&th);
                uint32_t room = st->cfg.mtu > used + per
                                    ? st->cfg.mtu - used - per
                                    : 0;
                unsigned max = room >= 12 ? (room - 4) / 8 : 0;
                tcp_fill_sack(st, tp, &th, max);
            }
        }
    }
    stack_tx_begin(st); /* build it in the device's buffer if it has one */
    uint8_t *p = st->txbuf + L4_OFF;
    size_t hl = wire_tcp_emit(p, &th);
    uint32_t psum = len ? copy_out_ring_csum(tp, off, p + hl, len) : 0;
    wire_tcp_set_csum_sum(p, hl, hl + len, psum, tp->lip, tp->rip);

    if (flags & SYNACK_TH_ACK) {
        tp->last_ack_sent = tp->rcv_nxt;
        tp->ack_now = false;
        tp->rcv_opened = false;
        tp->unacked_rcv = 0;
        tp->t_delack = SYNACK_TIME_NEVER;
    }
    tp->segs_out++;
    st->stats.tcp_out++;
    if (flags & SYNACK_TH_RST)
        st->stats.tcp_rst_out++;
    /* bytes beyond SND.MAX are new even inside a retransmitted segment */
    uint32_t end = seq + len, fresh = 0;
    if (len && SEQ_GT(end, tp->snd_max))
        fresh = end - (SEQ_GT(seq, tp->snd_max) ? seq : tp->snd_max);
    if (fresh > len)
        fresh = len;
    tp->bytes_sent += fresh;
    tp->bytes_retrans += len - fresh;
    if (retrans) {
        st->stats.tcp_retrans++;
        tp->total_retrans++;
    }
    if (st->trace) {
        synack_seg d;
        seg_desc(&d, &th, tp->lip, tp->rip, len);
        tcp_trace_seg(st, SYNACK_TRACE_SEG_OUT, tp, &d, retrans, now);
    }
    ip_output(st, tp->rip, WIRE_IPPROTO_TCP, hl + len, now);
    stack_tx_end(st);
}

void tcp_send_ctl(synack_stack *st, tcb *tp, uint32_t seq, uint8_t flags,
                  synack_time_t now)
{
    send_segment(st, tp, seq, flags, 0, 0, false, now);
}

/* A segment without data carries SND.MAX, not SND.NXT: after a timeout
 * rewinds SND.NXT (go-back-N), an old sequence number would make the peer
 * discard the segment as unacceptable and never see its ACK -- with data
 * flowing both ways, both ends can then wait on each other for ever (the
 * 4.4BSD tcp_output comment makes the same point). */
void tcp_send_ack(synack_stack *st, tcb *tp, synack_time_t now)
{
    tcp_send_ctl(st, tp, tp->snd_max, SYNACK_TH_ACK, now);
}

/* RFC 5961 7: at most tcp_challenge_ack_limit challenge ACKs per second
 * for the whole stack. A fixed global budget is itself a side channel (an
 * off-path attacker who exhausts it and counts the challenge ACKs it gets
 * back learns whether someone else's guess hit a connection: CVE-2016-5696),
 * so each second's budget is drawn from [limit/2, limit/2 + limit), as
 * Linux does since 4.7: limit on average. */
void tcp_challenge_ack(synack_stack *st, tcb *tp, synack_time_t now)
{
    if (now - st->chal_window >= SYNACK_SEC || now < st->chal_window) {
        uint32_t lim = (uint32_t)st->tun.challenge_ack_limit;
        st->chal_window = now;
        st->chal_count = 0;
        st->chal_budget =
            lim ? (lim + 1) / 2 + (uint32_t)(stack_rand(st) % lim) : 0;
    }
    if (st->chal_count >= st->chal_budget) {
        stack_drop(st, SYNACK_DROP_TCP_CHALLENGE_LIMIT, tp, st->cur_seg, now);
        return;
    }
    st->chal_count++;
    st->stats.tcp_challenge_acks++;
    tcp_send_ack(st, tp, now);
}

void tcp_send_raw(synack_stack *st, tcb *owner, uint32_t lip, uint32_t rip,
                  const wire_tcp *th, synack_time_t now)
{
    uint8_t *p = st->txbuf + L4_OFF;
    size_t hl = wire_tcp_emit(p, th);
    wire_tcp_set_csum(p, hl, lip, rip);
    st->stats.tcp_out++;
    if (th->flags & SYNACK_TH_RST)
        st->stats.tcp_rst_out++;
    if (st->trace) {
        synack_seg d;
        seg_desc(&d, th, lip, rip, 0);
        tcp_trace_seg(st, SYNACK_TRACE_SEG_OUT, owner, &d, false, now);
    }
    ip_output(st, rip, WIRE_IPPROTO_TCP, hl, now);
}

void tcp_reset_reply(synack_stack *st, const wire_ipv4 *ip,
                     const wire_tcp *in, uint32_t seglen, synack_time_t now)
{
    if (in->flags & SYNACK_TH_RST)
        return;
    wire_tcp th;
    memset(&th, 0, sizeof(th));
    th.sport = in->dport;
    th.dport = in->sport;
    if (in->flags & SYNACK_TH_ACK) {
        th.seq = in->ack;
        th.flags = SYNACK_TH_RST;
    } else {
        th.seq = 0;
        th.ack = in->seq + seglen;
        th.flags = SYNACK_TH_RST | SYNACK_TH_ACK;
    }
    tcp_send_raw(st, NULL, ip->dst, ip->src, &th, now);
}

void tcp_arm_rexmt(synack_stack *st, tcb *tp, synack_time_t now)
{
    (void)st;
    tp->rexmt_kind = RX_RTO;
    synack_time_t t = now + tp->rto;
    if (tp->user_timeout_ms && tp->first_unacked != SYNACK_TIME_NEVER) {
        synack_time_t lim =
            tp->first_unacked + (synack_time_t)tp->user_timeout_ms * SYNACK_MSEC;
        if (lim < t)
            t = lim > now ? lim : now;
    }
    tp->t_rexmt = t;
    tp->rto_at = t;
}

/* Payload bytes per segment: the effective send MSS less the timestamp
 * option carried on every segment. */
static uint32_t seg_payload(const tcb *tp)
{
    uint32_t m = tp->mss;
    return m > 64 ? m : 64;
}

/* With segmentation offload (cfg.gso_max), new data may go out in one
 * packet of several MSS that the device cuts at its MTU -- only when an MSS
 * of payload fills the MTU exactly, so its cuts are the segments we would
 * have sent (a peer with a smaller MSS gets plain segments). */
static uint32_t seg_payload_gso(const synack_stack *st, const tcb *tp)
{
    uint32_t m = seg_payload(tp);
    uint32_t hl = WIRE_IPV4_HLEN + WIRE_TCP_HLEN + (tp->ts_ok ? TS_OPTLEN : 0);
    if (st->cfg.gso_max <= st->cfg.mtu || m + hl != st->cfg.mtu)
        return m;
    return (st->cfg.gso_max - hl) / m * m;
}

/* Send record r of the scoreboard again. */
void tcp_resend_rec(synack_stack *st, tcb *tp, txrec *r, synack_time_t now)
{
    if ((r->fl & (TXR_LOST | TXR_RETRANS)) == TXR_LOST)
        tcp_rec_collapse(tp, r, seg_payload(tp));
    bool fin = (r->fl & TXR_FIN) != 0;
    uint32_t len = r->end - r->start - (fin ? 1u : 0u);
    uint32_t off = r->start - tp->tx_seq;
    if (off > tp->tx_len || len > tp->tx_len - off)
        return; /* cannot happen: the ring holds SND.UNA onwards */
    uint8_t flags = SYNACK_TH_ACK;
    if (fin)
        flags |= SYNACK_TH_FIN;
    if (len && off + len == tp->tx_len)
        flags |= SYNACK_TH_PSH;
    send_segment(st, tp, r->start, flags, off, len, true, now);
    tcp_rec_sent_again(tp, r, now);
    if (tp->undo_on && tp->ca_state != CA_OPEN)
        tp->undo_retrans++;
    tp->rtt_timing = false; /* Karn */
    if (tp->ca_state == CA_RECOVERY)
        tp->prr_out += r->end - r->start;
}

/* ---- pacing (BBR) ---------------------------------------------------------
 * A connection whose congestion control sets pacing_rate keeps pace_at,
 * the time its data so far would have taken at that rate: each segment
 * moves it on by its length at the rate (from now, or from pace_at if
 * that is later: an idle connection earns no burst). A segment may leave
 * while pace_at is at most one quantum ahead of now -- 1 ms, or two
 * segments' time if longer, as Linux sizes its paced bursts -- so that an
 * event loop whose timers are not finer than a millisecond still sends at
 * the rate. Waiting, tcp_output leaves t_pace armed for the moment the
 * gate opens. */

static synack_time_t pace_quantum(const tcb *tp)
{
    synack_time_t two = (synack_time_t)2 * tp->mss * SYNACK_SEC /
                        tp->pacing_rate;
    return two > SYNACK_MSEC ? two : SYNACK_MSEC;
}

static bool pace_ok(const synack_stack *st, tcb *tp, synack_time_t now)
{
    if (!tp->pacing_rate || !st->tun.pacing || now >= tp->pace_at)
        return true;
    synack_time_t q = pace_quantum(tp);
    if (tp->pace_at - now <= q)
        return true;
    tp->t_pace = tp->pace_at - q;
    return false;
}

static void pace_sent(const synack_stack *st, tcb *tp, uint32_t bytes,
                      synack_time_t now)
{
    if (!tp->pacing_rate || !st->tun.pacing)
        return;
    synack_time_t base = tp->pace_at > now ? tp->pace_at : now;
    tp->pace_at = base + (synack_time_t)bytes * SYNACK_SEC / tp->pacing_rate;
}

/* Resend what the scoreboard says is lost, as the congestion window
 * allows; the first unacknowledged segment even beyond the peer's window
 * (after a timeout it is the probe of a window that closed). */
static void send_lost(synack_stack *st, tcb *tp, synack_time_t now)
{
    txrec *r;
    while ((r = tcp_rec_next_lost(tp)) != NULL) {
        if (tcp_inflight(tp) >= tp->cwnd)
            break;
        if (r->start != tp->snd_una &&
            !SEQ_LT(r->start, tp->snd_una + tp->snd_wnd))
            break;
        if (!pace_ok(st, tp, now))
            break;
        tcp_resend_rec(st, tp, r, now);
        pace_sent(st, tp, r->end - r->start, now);
    }
}

static void send_syn(synack_stack *st, tcb *tp, synack_time_t now)
{
    uint8_t flags = SYNACK_TH_SYN;
    if (tp->state != SYNACK_SYN_SENT)
        flags |= SYNACK_TH_ACK;
    /* a retransmission repeats the same SYN; a simultaneous open's first
     * SYN,ACK after our SYN is new */
    bool retrans = tp->snd_max != tp->iss && tp->syn_flags_sent == flags;
    tp->syn_flags_sent = flags;
    if (tp->first_unacked == SYNACK_TIME_NEVER)
        tp->first_unacked = now;
    send_segment(st, tp, tp->iss, flags, 0, 0, retrans, now);
    tp->snd_nxt = tp->iss + 1;
    if (SEQ_GT(tp->snd_nxt, tp->snd_max))
        tp->snd_max = tp->snd_nxt;
    if (tp->rec_n) /* a FIN after it is on the scoreboard: resent from there */
        tp->snd_nxt = tp->snd_max;
    if (!retrans) {
        tp->rtt_timing = true;
        tp->rtt_seq = tp->iss;
        tp->rtt_start = now;
    }
    if (tp->t_rexmt == SYNACK_TIME_NEVER)
        tcp_arm_rexmt(st, tp, now);
}

/* RFC 3042 Limited Transmit: on each of the first two duplicate ACKs one
 * new segment may go beyond cwnd, so that a loss in a small window still
 * brings the third duplicate ACK (fast retransmit) instead of a timeout. */
static uint32_t limited_transmit(const tcb *tp)
{
    if (tp->sack_ok || tp->in_recovery || tp->dupacks == 0 || tp->dupacks > 2)
        return 0;
    return tp->dupacks * (uint32_t)tp->mss;
}

static bool can_send_data(const tcb *tp)
{
    switch (tp->state) {
    case SYNACK_ESTABLISHED:
    case SYNACK_CLOSE_WAIT:
    case SYNACK_FIN_WAIT_1:
    case SYNACK_CLOSING:
    case SYNACK_LAST_ACK:
        return true; /* (no send ring: nothing queued, a FIN at most) */
    default:
        return false;
    }
}

void tcp_output(synack_stack *st, tcb *tp, synack_time_t now)
{
    if (tp->state == SYNACK_CLOSED || tp->state == SYNACK_LISTEN)
        return;
    if (tp->state == SYNACK_SYN_SENT || tp->state == SYNACK_SYN_RECEIVED) {
        if (tp->snd_nxt == tp->iss)
            send_syn(st, tp, now);
        else if (tp->ack_now && tp->state == SYNACK_SYN_RECEIVED)
            tcp_send_ack(st, tp, now);
        return;
    }
    if (tp->snd_una == tp->iss && tp->snd_nxt == tp->iss) {
        /* closed from SYN-RECEIVED before our SYN was acknowledged: the
         * SYN,ACK goes first, the FIN after it is acknowledged */
        send_syn(st, tp, now);
        return;
    }
    if (tp->state == SYNACK_TIME_WAIT) {
        if (tp->ack_now)
            tcp_send_ack(st, tp, now);
        return;
    }
    bool sent_any = false;
    if (tp->t_pace <= now)
        tp->t_pace = SYNACK_TIME_NEVER; /* the pacing gate is open */
    if (can_send_data(tp) && !tp->rec && tp->fin_queued)
        (void)tcp_alloc_rec(st, tp); /* a FIN alone: no send ring yet */
    if (can_send_data(tp) && tp->lost_bytes) {
        uint64_t before = tp->segs_out;
        send_lost(st, tp, now);
        sent_any = tp->segs_out != before;
    }
    while (can_send_data(tp) && tcp_rec_room(tp)) {
        uint32_t off = tp->snd_nxt - tp->tx_seq;
        uint32_t fin_seq = tp->tx_seq + tp->tx_len;
        bool fin_done = tp->fin_queued && SEQ_GT(tp->snd_nxt, fin_seq);
        uint32_t avail = off <= tp->tx_len ? tp->tx_len - off : 0;
        uint32_t inflight = tp->snd_nxt - tp->snd_una;
        uint32_t uwnd = tp->snd_wnd > inflight ? tp->snd_wnd - inflight : 0;
        uint32_t mss = seg_payload(tp);
        uint32_t pipe = tcp_inflight(tp);
        uint32_t cwnd = tp->cwnd + limited_transmit(tp);
        if (tp->tlp_probe)
            cwnd = pipe + mss; /* the probe: one segment */
        uint32_t ucwnd = cwnd > pipe ? cwnd - pipe : 0;
        uint32_t usable = min32(uwnd, ucwnd);
        /* a GSO packet is one scoreboard record per MSS: room for them */
        uint32_t recs = tp->rec_cap - tp->rec_n;
        uint32_t gso = min32(seg_payload_gso(st, tp), recs * mss);
        uint32_t len = min32(min32(avail, usable), gso > mss ? gso : mss);
        if (len > mss)
            len -= len % mss; /* whole MSS only; the rest waits for Nagle */
        bool retrans = SEQ_LT(tp->snd_nxt, tp->snd_max);
        bool fin = tp->fin_queued && !fin_done && off + len == tp->tx_len &&
                   off <= tp->tx_len;
        /* the FIN takes a sequence number: it must fit the peer's window
         * (a zero window is probed, not filled with a FIN) */
        if (fin && (uint64_t)inflight + len + 1 > tp->snd_wnd)
            fin = false;
        bool send = false;
        if (len > 0 && tp->force_send) {
            send = true; /* persist expiry overrides SWS avoidance */
        } else if (len > 0) {
            bool all = off + len == tp->tx_len;
            if (len >= mss)
                send = true;
            else if (all && (tp->nodelay || tp->snd_max == tp->snd_una ||
                             tp->fin_queued))
                send = true; /* Nagle: nothing outstanding, or pushed */
            else if (tp->max_sndwnd && len >= tp->max_sndwnd / 2)
                send = true; /* sender SWS avoidance */
            else if (retrans)
                send = true;
        } else if (fin) {
            send = true;
        }
        if (!send || !pace_ok(st, tp, now))
            break;
        uint8_t flags = SYNACK_TH_ACK;
        if (fin)
            flags |= SYNACK_TH_FIN;
        if (len && off + len == tp->tx_len)
            flags |= SYNACK_TH_PSH;
        if (tp->snd_una == tp->snd_max)
            tp->first_unacked = now;
        send_segment(st, tp, tp->snd_nxt, flags, off, len, retrans, now);
        pace_sent(st, tp, len, now);
        /* one record per MSS, so that SACK and RACK judge a GSO packet
         * segment by segment, as the receiver sees it */
        for (uint32_t o = 0; o < len || (o == 0 && fin); o += mss) {
            uint32_t e = o + mss < len ? o + mss : len;
            bool last = e == len;
            tcp_rec_add(tp, tp->snd_nxt + o,
                        tp->snd_nxt + e + (last && fin ? 1u : 0u),
                        last && fin, now);
            if (last)
                break;
        }
        if (tp->ca_state == CA_RECOVERY)
            tp->prr_out += len + (fin ? 1u : 0u);
        tp->tlp_probe = false;
        if (!retrans && !tp->rtt_timing && !tp->ts_ok) {
            tp->rtt_timing = true;
            tp->rtt_seq = tp->snd_nxt;
            tp->rtt_start = now;
        }
        tp->snd_nxt += len + (fin ? 1 : 0);
        if (SEQ_GT(tp->snd_nxt, tp->snd_max))
            tp->snd_max = tp->snd_nxt;
        if (tp->t_rexmt == SYNACK_TIME_NEVER)
            tcp_arm_tlp_or_rto(st, tp, now);
        else
            tcp_rearm_tlp(st, tp, now); /* from the newest segment */
        tp->t_persist = SYNACK_TIME_NEVER;
        tp->persist_backoff = 0;
        sent_any = true;
        if (fin)
            break;
    }
    /* rate sampling (BBR): less than a segment left to send and room in
     * cwnd: what is in flight measures the application, not the path */
    if (tp->cc && tp->cc->cong_control && can_send_data(tp) &&
        tp->tx_len - (tp->snd_nxt - tp->tx_seq) < seg_payload(tp))
        tcp_rate_check_app_limited(tp);
    if (!sent_any &&
        (tp->ack_now || (tp->rcv_opened && window_update_due(tp))))
        tcp_send_ack(st, tp, now);

    /* Data (or the FIN) waiting, nothing in flight, and the window did not
     * let us send: the persist timer probes a zero window and overrides
     * SWS avoidance for a small one (RFC 9293 3.8.6.1, 3.8.6.2.1). */
    if (can_send_data(tp) && tp->snd_max == tp->snd_una &&
        tp->t_rexmt == SYNACK_TIME_NEVER && tp->t_pace == SYNACK_TIME_NEVER &&
        tp->t_persist == SYNACK_TIME_NEVER &&
        (tp->tx_len > tp->snd_nxt - tp->tx_seq ||
         (tp->fin_queued && tp->snd_nxt == tp->tx_seq + tp->tx_len))) {
        synack_time_t base = tp->rto;
        tp->t_persist = now + base;
        if (tp->first_unacked == SYNACK_TIME_NEVER)
            tp->first_unacked = now;
    }
}
