/*
 * TCP timers, as deadlines: retransmission (RFC 6298 with exponential
 * backoff, tcp_syn_retries / tcp_synack_retries / tcp_retries1/2 and
 * TCP_USER_TIMEOUT), persist (zero-window probes), delayed ACK, keepalive,
 * and the 2MSL timer that serves TIME-WAIT and the orphaned FIN-WAIT-2
 * timeout (tcp_fin_timeout).
 */
#include "core.h"

static bool user_timeout_expired(const tcb *tp, synack_time_t now)
{
    return tp->user_timeout_ms && tp->first_unacked != SYNACK_TIME_NEVER &&
           now - tp->first_unacked >=
               (synack_time_t)tp->user_timeout_ms * SYNACK_MSEC;
}

static void rexmt_timeout(synack_stack *st, tcb *tp, synack_time_t now)
{
    tp->t_rexmt = SYNACK_TIME_NEVER;
    if (tp->snd_una == tp->snd_max && tp->state != SYNACK_SYN_RECEIVED &&
        tp->state != SYNACK_SYN_SENT)
        return;
    int kind = tp->rexmt_kind;
    tp->rexmt_kind = RX_RTO;
    if (kind == RX_REO) {
        st->cause = "timeout RACK reordering window";
        tcp_rack_timeout(st, tp, now);
        return;
    }
    if (kind == RX_TLP) {
        st->cause = "timeout tail loss probe";
        tcp_tlp_timeout(st, tp, now);
        return;
    }
    if (user_timeout_expired(tp, now)) {
        st->cause = "timeout TCP_USER_TIMEOUT";
        tcp_close_conn(st, tp, SYNACK_ETIMEDOUT, now);
        return;
    }
    int limit;
    switch (tp->state) {
    case SYNACK_SYN_SENT:
        limit = st->tun.syn_retries;
        break;
    case SYNACK_SYN_RECEIVED:
        limit = tp->passive ? st->tun.synack_retries : st->tun.syn_retries;
        break;
    default:
        limit = st->tun.retries2;
    }
    bool zero_wnd = tp->snd_wnd == 0 && tp->state != SYNACK_SYN_SENT &&
                    tp->state != SYNACK_SYN_RECEIVED;
    if (zero_wnd) {
        /* The receiver shrank its window to zero under our data: the
         * retransmissions are probes, and a peer that still answers is
         * alive (RFC 9293 3.8.6.1); give up only if it went silent. */
        if (now - tp->last_rcv > tcp_rto_max(st)) {
            st->cause = "timeout retransmission (peer silent)";
            tcp_close_conn(st, tp, SYNACK_ETIMEDOUT, now);
            return;
        }
    } else if ((int)tp->backoff >= limit) {
        st->cause = tp->soft_error == SYNACK_EHOSTUNREACH
                        ? "timeout retransmission (neighbour unreachable)"
                        : "timeout retransmission";
        tcp_close_conn(st, tp, tp->soft_error ? tp->soft_error
                                              : SYNACK_ETIMEDOUT,
                       now);
        return;
    }
    tp->backoff++;
    if ((int)tp->backoff > st->tun.retries1)
        arp_negative_advice(st, tp->rip);
    tp->rto *= 2;
    if (tp->rto > tcp_rto_max(st))
        tp->rto = tcp_rto_max(st);
    tp->rtt_timing = false; /* Karn: no sample from a retransmission */
    tp->ts_rexmt_mark = tcp_ts_now(tp, now);
    tp->ts_rexmt_valid = true;
    if (tp->state == SYNACK_SYN_SENT || tp->state == SYNACK_SYN_RECEIVED) {
        tp->snd_nxt = tp->iss;
    } else {
        /* everything not SACKed is lost: resent in order as cwnd opens
         * (the first segment even into a zero window: the probe the peer
         * answers) */
        tcp_rto_mark(st, tp, now);
        if (tp->snd_una == tp->iss)
            tp->snd_nxt = tp->iss; /* our SYN first (closed in SYN-RCVD) */
    }
    st->cause = "timeout retransmission";
    tcp_output(st, tp, now);
    if (tp->t_rexmt == SYNACK_TIME_NEVER || tp->rexmt_kind != RX_RTO)
        tcp_arm_rexmt(st, tp, now);
}

static void persist_timeout(synack_stack *st, tcb *tp, synack_time_t now)
{
    tp->t_persist = SYNACK_TIME_NEVER;
    if (tp->snd_wnd > 0) {
        /* a window too small for SWS avoidance: send what fits */
        tp->force_send = true;
        tcp_output(st, tp, now);
        tp->force_send = false;
        return;
    }
    if (user_timeout_expired(tp, now) ||
        (int)tp->persist_probes >= st->tun.retries2) {
        st->cause = "timeout zero-window probes";
        tcp_close_conn(st, tp, SYNACK_ETIMEDOUT, now);
        return;
    }
    /* A zero-length segment below the window makes the peer answer with
     * its current window (as Linux does). */
    tcp_send_ctl(st, tp, tp->snd_una - 1, SYNACK_TH_ACK, now);
    tp->persist_probes++;
    if (tp->persist_backoff < 30)
        tp->persist_backoff++;
    synack_time_t t = tp->rto << tp->persist_backoff;
    if (t > tcp_rto_max(st) || t < tp->rto)
        t = tcp_rto_max(st);
    tp->t_persist = now + t;
}

static void keep_timeout(synack_stack *st, tcb *tp, synack_time_t now)
{
    tp->t_keep = SYNACK_TIME_NEVER;
    if (!tp->keepalive)
        return;
    switch (tp->state) {
    case SYNACK_CLOSED:
    case SYNACK_LISTEN:
    case SYNACK_SYN_SENT:
    case SYNACK_SYN_RECEIVED:
    case SYNACK_TIME_WAIT:
        return;
    case SYNACK_FIN_WAIT_2:
        if (tp->orphan) /* only tcp_fin_timeout applies (as Linux) */
            return;
        break;
    default:
        break;
    }
    synack_time_t idle_lim = (synack_time_t)tcp_keepidle(st, tp) * SYNACK_SEC;
    synack_time_t intvl = (synack_time_t)tcp_keepintvl(st, tp) * SYNACK_SEC;
    /* data or a FIN in flight: the retransmission timer is in charge, and
     * the connection is alive without keepalive (as Linux) */
    if (tp->snd_max != tp->snd_una || tp->tx_len > 0) {
        tp->t_keep = now + idle_lim;
        return;
    }
    if (tp->keep_probes == 0 && now - tp->last_rcv < idle_lim) {
        tp->t_keep = tp->last_rcv + idle_lim;
        return;
    }
    /* TCP_USER_TIMEOUT, when set, decides instead of the probe count */
    bool give_up =
        tp->user_timeout_ms
            ? tp->keep_probes > 0 &&
                  now - tp->last_rcv >=
                      (synack_time_t)tp->user_timeout_ms * SYNACK_MSEC
            : (int)tp->keep_probes >= tcp_keepcnt(st, tp);
    if (give_up) {
        st->cause = "timeout keepalive";
        tcp_send_ctl(st, tp, tp->snd_max, SYNACK_TH_RST | SYNACK_TH_ACK, now);
        tcp_close_conn(st, tp, SYNACK_ETIMEDOUT, now);
        return;
    }
    tcp_send_ctl(st, tp, tp->snd_una - 1, SYNACK_TH_ACK, now);
    tp->keep_probes++;
    tp->t_keep = now + intvl;
}

static void msl_timeout(synack_stack *st, tcb *tp, synack_time_t now)
{
    tp->t_2msl = SYNACK_TIME_NEVER;
    if (tp->state == SYNACK_TIME_WAIT) {
        st->cause = "timeout 2MSL";
        tcp_close_conn(st, tp, 0, now);
    } else if (tp->state == SYNACK_FIN_WAIT_2 && tp->orphan) {
        st->cause = "timeout tcp_fin_timeout";
        tcp_close_conn(st, tp, 0, now);
    }
}

/* A self-check, like illegal_transitions: a timer that fires in a state
 * where it has no meaning (a retransmission with nothing outstanding, a
 * zero-window probe before the connection can send, 2MSL outside TIME-WAIT
 * and the orphaned FIN-WAIT-2, ...) means some path left it armed. Counted
 * in stats.timer_misfires, which the tests require to stay 0. */
enum { T_2MSL, T_REXMT, T_PERSIST, T_KEEP, T_DELACK, T_PACE };

static bool timer_meaningful(const tcb *tp, int kind)
{
    int s = tp->state;
    bool synced = s != SYNACK_CLOSED && s != SYNACK_LISTEN &&
                  s != SYNACK_SYN_SENT && s != SYNACK_SYN_RECEIVED;
    switch (kind) {
    case T_2MSL:
        return s == SYNACK_TIME_WAIT || (s == SYNACK_FIN_WAIT_2 && tp->orphan);
    case T_REXMT:
        return s == SYNACK_SYN_SENT || s == SYNACK_SYN_RECEIVED ||
               (synced && s != SYNACK_TIME_WAIT && tp->snd_una != tp->snd_max);
    case T_PERSIST:
        return s == SYNACK_ESTABLISHED || s == SYNACK_CLOSE_WAIT ||
               s == SYNACK_FIN_WAIT_1 || s == SYNACK_CLOSING ||
               s == SYNACK_LAST_ACK;
    case T_KEEP:
    case T_PACE:
        return synced && s != SYNACK_TIME_WAIT;
    default: /* T_DELACK */
        return synced;
    }
}

static bool due(synack_stack *st, tcb *tp, synack_time_t t, int kind,
                synack_time_t now)
{
    if (tp->state == SYNACK_CLOSED || t > now)
        return false;
    if (!timer_meaningful(tp, kind))
        st->stats.timer_misfires++;
    return true;
}

static void run_timers(synack_stack *st, tcb *tp, synack_time_t now)
{
    if (tp->t_2msl <= now) {
        if (!timer_meaningful(tp, T_2MSL))
            st->stats.timer_misfires++;
        msl_timeout(st, tp, now);
    }
    if (due(st, tp, tp->t_rexmt, T_REXMT, now))
        rexmt_timeout(st, tp, now);
    if (due(st, tp, tp->t_persist, T_PERSIST, now))
        persist_timeout(st, tp, now);
    if (due(st, tp, tp->t_keep, T_KEEP, now))
        keep_timeout(st, tp, now);
    if (due(st, tp, tp->t_delack, T_DELACK, now)) {
        tp->t_delack = SYNACK_TIME_NEVER;
        st->cause = "timeout delayed ACK";
        tcp_send_ack(st, tp, now);
    }
    if (due(st, tp, tp->t_pace, T_PACE, now)) { /* the pacing gate opens */
        tp->t_pace = SYNACK_TIME_NEVER;
        st->cause = "pacing";
        tcp_output(st, tp, now);
    }
}

void tcp_neighbour_failed(synack_stack *st, uint32_t ip, synack_time_t now)
{
    for (tcb *tp = st->conns; tp; tp = tp->next) {
        if (tp->zombie || tp->state != SYNACK_SYN_SENT)
            continue;
        uint32_t hop = stack_on_link(st, tp->rip) ? tp->rip : st->cfg.gateway;
        if (hop != ip)
            continue;
        /* a soft error, as Linux: the SYN retries (and ARP with them) go
         * on; if they run out, this is what the application is told */
        tp->soft_error = SYNACK_EHOSTUNREACH;
    }
    (void)now;
}

/* Only the connections at the top of the timer heap are looked at: those
 * whose earliest deadline has come. Each is re-filed after its timers ran
 * (a timer that fired re-arms itself in the future, or is off). */
void tcp_timers(synack_stack *st, synack_time_t now)
{
    while (st->theap_len && st->theap[0]->wheel_at <= now) {
        tcb *tp = st->theap[0];
        run_timers(st, tp, now);
        if (!tp->zombie)
            tcp_notify(st, tp);
        tcb_timer_sync(st, tp);
        if (tp->theap_idx != TCB_NOT_FILED && tp->wheel_at <= now) {
            /* a deadline that did not fire (a timer left on a closed
             * connection): a self-check failure, not a busy loop */
            st->stats.timer_misfires++;
            tp->t_rexmt = tp->t_persist = tp->t_delack = tp->t_keep =
                tp->t_2msl = tp->t_pace = SYNACK_TIME_NEVER;
            tcb_timer_sync(st, tp);
        }
    }
    st->cause = NULL;
    tcp_reclaim_idle(st, now);
    tcp_entry_done(st, NULL);
}
