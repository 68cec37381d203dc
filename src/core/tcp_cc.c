/*
 * Congestion control behind one small interface (tcp_cc_ops in core.h):
 * NewReno (RFC 5681, 6582) and CUBIC (RFC 9438), chosen per stack with
 * tcp_congestion_control and per socket with TCP_CONGESTION; and
 * Proportional Rate Reduction (RFC 6937), which sets the window during
 * fast recovery whatever the algorithm.
 */
#include <string.h>

#include "core.h"

static uint32_t min32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

static uint32_t max32(uint32_t a, uint32_t b)
{
    return a > b ? a : b;
}

#define CWND_CAP (1u << 30)

/* Slow start: cwnd grows by what the ACK covers, up to ssthresh, as
 * Linux does (RFC 3465 appropriate byte counting with no per-ACK limit):
 * a receiver that ACKs every second segment, or one stretch ACK for a
 * 64 KiB GSO super-frame, still doubles cwnd per round trip (RFC 5681's
 * one MSS per ACK would grow it by 1.5, or by 2% for GSO). Returns the
 * bytes left over for congestion avoidance. */
static uint32_t slow_start(tcb *tp, uint32_t acked)
{
    uint64_t c = (uint64_t)tp->cwnd + acked;
    uint32_t left = 0;
    if (c > tp->ssthresh) {
        left = (uint32_t)(c - tp->ssthresh);
        c = tp->ssthresh;
    }
    tp->cwnd = (uint32_t)(c > CWND_CAP ? CWND_CAP : c);
    return left;
}

/* ---- NewReno ------------------------------------------------------------ */

static void reno_init(tcb *tp, synack_time_t now)
{
    (void)tp;
    (void)now;
}

static void reno_cong_avoid(tcb *tp, uint32_t acked, synack_time_t now)
{
    (void)now;
    if (tp->cwnd < tp->ssthresh) {
        acked = slow_start(tp, acked);
        if (!acked)
            return;
    }
    tp->ca_acked += acked; /* +1 MSS per window acknowledged */
    if (tp->ca_acked >= tp->cwnd) {
        tp->ca_acked -= tp->cwnd;
        tp->cwnd = min32(tp->cwnd + tp->mss, CWND_CAP);
    }
}

/* RFC 5681 (4): max(FlightSize / 2, 2 * SMSS). */
static uint32_t reno_ssthresh(tcb *tp, synack_time_t now)
{
    (void)now;
    uint32_t flight = tp->snd_max - tp->snd_una;
    return max32(flight / 2, 2u * tp->mss);
}

static void reno_on_rto(tcb *tp, synack_time_t now)
{
    (void)now;
    tp->ca_acked = 0;
}

static const tcp_cc_ops cc_reno = {"reno", reno_init, reno_cong_avoid,
                                   reno_ssthresh, reno_on_rto};

/* ---- CUBIC (RFC 9438) ------------------------------------------------------
 * Windows in segments (doubles), time in seconds. */

#define CUBIC_C 0.4
#define CUBIC_BETA 0.7

typedef struct cubic {
    double w_max;      /* window before the last reduction */
    double k;          /* time to return to w_max */
    double cwnd_epoch; /* window at the start of the epoch */
    double w_est;      /* Reno-friendly estimate */
    double frac;       /* sub-byte increments carried over */
    synack_time_t t_epoch; /* SYNACK_TIME_NEVER: no epoch running */
} cubic;

static cubic *cubic_of(tcb *tp)
{
    _Static_assert(sizeof(cubic) <= sizeof(tp->cc_priv), "cc_priv too small");
    return (cubic *)(void *)tp->cc_priv;
}

static void cubic_init(tcb *tp, synack_time_t now)
{
    (void)now;
    cubic *c = cubic_of(tp);
    memset(c, 0, sizeof(*c));
    c->t_epoch = SYNACK_TIME_NEVER;
}

/* Cube root by Newton's method (once per congestion epoch; the core links
 * nothing but the C library). */
static double cube_root(double a)
{
    if (a <= 0)
        return 0;
    double x = a > 1 ? a / 3 : 1;
    for (int i = 0; i < 100; i++) {
        double nx = (2 * x + a / (x * x)) / 3;
        if (nx == x || (nx > x ? nx - x : x - nx) < 1e-9 * x)
            return nx;
        x = nx;
    }
    return x;
}

static double cubic_w(const cubic *c, double t)
{
    double d = t - c->k;
    return CUBIC_C * d * d * d + c->w_max;
}

static void cubic_cong_avoid(tcb *tp, uint32_t acked, synack_time_t now)
{
    if (tp->cwnd < tp->ssthresh) {
        acked = slow_start(tp, acked);
        if (!acked)
            return;
    }
    cubic *c = cubic_of(tp);
    double mss = tp->mss;
    double cwnd = tp->cwnd / mss;
    if (c->t_epoch == SYNACK_TIME_NEVER) {
        /* RFC 9438 4.2: the epoch starts at the first ACK in congestion
         * avoidance */
        c->t_epoch = now;
        c->cwnd_epoch = cwnd;
        c->w_est = cwnd;
        if (c->w_max <= cwnd) {
            c->w_max = cwnd;
            c->k = 0;
        } else {
            c->k = cube_root((c->w_max - cwnd) / CUBIC_C);
        }
    }
    double rtt = (tp->rtt_valid ? (double)tp->srtt : 0.1e9) / 1e9;
    double t = (double)(now - c->t_epoch) / 1e9;
    double target = cubic_w(c, t + rtt);
    if (target < cwnd)
        target = cwnd;
    else if (target > 1.5 * cwnd)
        target = 1.5 * cwnd;
    /* Reno-friendly region (4.3): alpha = 3(1-beta)/(1+beta) until the
     * estimate passes w_max, 1 after */
    double alpha = c->w_est >= c->w_max
                       ? 1.0
                       : 3.0 * (1.0 - CUBIC_BETA) / (1.0 + CUBIC_BETA);
    c->w_est += alpha * ((double)acked / mss) / cwnd;
    double inc; /* bytes */
    if (cubic_w(c, t) < c->w_est)
        inc = c->w_est > cwnd ? (c->w_est - cwnd) * mss : 0;
    else
        inc = (target - cwnd) / cwnd * (double)acked;
    inc += c->frac;
    uint32_t whole = inc >= 1.0 ? (uint32_t)inc : 0;
    c->frac = inc - whole;
    tp->cwnd = min32(tp->cwnd + whole, CWND_CAP);
}

static uint32_t cubic_ssthresh(tcb *tp, synack_time_t now)
{
    (void)now;
    cubic *c = cubic_of(tp);
    double cwnd = (double)tp->cwnd / tp->mss;
    /* fast convergence (4.7) */
    if (cwnd < c->w_max)
        c->w_max = cwnd * (1.0 + CUBIC_BETA) / 2.0;
    else
        c->w_max = cwnd;
    c->t_epoch = SYNACK_TIME_NEVER;
    c->frac = 0;
    return max32((uint32_t)((double)tp->cwnd * CUBIC_BETA), 2u * tp->mss);
}

static void cubic_on_rto(tcb *tp, synack_time_t now)
{
    (void)now;
    cubic *c = cubic_of(tp);
    c->t_epoch = SYNACK_TIME_NEVER; /* 4.8: a new epoch after the RTO */
    c->frac = 0;
}

static const tcp_cc_ops cc_cubic = {"cubic", cubic_init, cubic_cong_avoid,
                                    cubic_ssthresh, cubic_on_rto};

static const tcp_cc_ops *const all_cc[] = {&cc_cubic, &cc_reno};

const tcp_cc_ops *tcp_cc_find(const char *name)
{
    if (strcmp(name, "newreno") == 0)
        name = "reno";
    for (size_t i = 0; i < sizeof(all_cc) / sizeof(all_cc[0]); i++)
        if (strcmp(all_cc[i]->name, name) == 0)
            return all_cc[i];
    return NULL;
}

const char *tcp_cc_name(size_t i)
{
    return i < sizeof(all_cc) / sizeof(all_cc[0]) ? all_cc[i]->name : NULL;
}

const tcp_cc_ops *tcp_cc_default(const synack_stack *st)
{
    const tcp_cc_ops *cc = tcp_cc_find(st->tun.cc_name);
    return cc ? cc : &cc_cubic;
}

/* ---- recovery and PRR (RFC 6937) ---------------------------------------- */

void tcp_cc_undo_begin(tcb *tp)
{
    tp->prior_cwnd = tp->cwnd;
    tp->prior_ssthresh = tp->ssthresh;
    tp->undo_marker = tp->snd_una;
    tp->undo_retrans = 0;
    tp->undo_on = true;
}

void tcp_cc_enter_recovery(synack_stack *st, tcb *tp, synack_time_t now)
{
    tcp_cc_undo_begin(tp);
    tp->recover_fs = tp->snd_max - tp->snd_una;
    tp->ssthresh = tp->cc->ssthresh(tp, now);
    tp->prr_delivered = 0;
    tp->prr_out = 0;
    tp->ca_state = CA_RECOVERY;
    tp->in_recovery = true;
    tp->recover = tp->snd_max;
    tp->ca_acked = 0;
    st->stats.tcp_recoveries++;
}

/* One ACK in fast recovery: `delivered` bytes left the network (newly
 * acknowledged or SACKed). cwnd becomes pipe + what PRR lets us send. */
void tcp_cc_prr(tcb *tp, uint32_t delivered, uint32_t pipe)
{
    tp->prr_delivered += delivered;
    int64_t sndcnt;
    if (pipe > tp->ssthresh) {
        /* proportional part: ceil(prr_delivered * ssthresh / RecoverFS) */
        uint64_t fs = tp->recover_fs ? tp->recover_fs : 1;
        uint64_t want = ((uint64_t)tp->prr_delivered * tp->ssthresh + fs - 1) /
                        fs;
        sndcnt = (int64_t)want - (int64_t)tp->prr_out;
    } else {
        /* slow-start reduction bound (PRR-SSRB) */
        int64_t lim = (int64_t)tp->prr_delivered - (int64_t)tp->prr_out;
        if (lim < (int64_t)delivered)
            lim = delivered;
        lim += tp->mss;
        sndcnt = (int64_t)tp->ssthresh - (int64_t)pipe;
        if (sndcnt > lim)
            sndcnt = lim;
    }
    if (sndcnt < 0)
        sndcnt = 0;
    /* the fast retransmit goes at once on entering recovery */
    if (tp->prr_out == 0 && sndcnt < tp->mss)
        sndcnt = tp->mss;
    uint64_t c = (uint64_t)pipe + (uint64_t)sndcnt;
    tp->cwnd = (uint32_t)(c > CWND_CAP ? CWND_CAP : c);
}

void tcp_cc_exit_recovery(tcb *tp)
{
    if (tp->ca_state == CA_RECOVERY)
        tp->cwnd = max32(tp->ssthresh, tp->mss); /* RFC 6937: cwnd = ssthresh */
    tp->ca_state = CA_OPEN;
    tp->in_recovery = false;
    tp->dupacks = 0;
    tp->ca_acked = 0;
}
