/*
 * Congestion control behind one small interface (tcp_cc_ops in core.h):
 * NewReno (RFC 5681, 6582), CUBIC (RFC 9438) and BBR (v1), chosen per
 * stack with tcp_congestion_control and per socket with TCP_CONGESTION; and
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
    (void)now;
    tp->pacing_rate = 0; /* (not paced; after BBR, TCP_CONGESTION) */
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

static const tcp_cc_ops cc_reno = {"reno",        reno_init,   reno_cong_avoid,
                                   reno_ssthresh, reno_on_rto, NULL};

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
    tp->pacing_rate = 0;
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

static const tcp_cc_ops cc_cubic = {"cubic",        cubic_init,
                                    cubic_cong_avoid, cubic_ssthresh,
                                    cubic_on_rto,   NULL};

/* ---- BBR (v1: draft-cardwell-iccrg-bbr-congestion-control-00) --------------
 * A model of the path instead of a reaction to loss: the bottleneck
 * bandwidth (the highest delivery rate of the last ten round trips) and
 * the round-trip propagation time (the lowest RTT of the last ten
 * seconds). cwnd is cwnd_gain times their product, the pacing rate
 * pacing_gain times the bandwidth; the gains go through STARTUP
 * (doubling per round until the bandwidth stops growing by 25% for three
 * rounds), DRAIN (the queue STARTUP built), PROBE_BW (an eight-phase
 * cycle: 5/4 to probe, 3/4 to drain, then 1) and PROBE_RTT (cwnd of four
 * segments for 200 ms, when the minimum RTT is ten seconds old). Random
 * loss is not congestion: BBR does not cut on it; in the first round of
 * a recovery it keeps packet conservation, then returns to its model.
 * Gains are fixed-point, BBR_UNIT = 1.0; bandwidth in units of 16 bytes
 * per second (32 bits: up to 550 Gbit/s). */

#define BBR_UNIT 256u
#define BBR_HIGH_GAIN 739u  /* 2/ln 2: doubles the sending rate per round */
#define BBR_DRAIN_GAIN 88u  /* its inverse */
#define BBR_CWND_GAIN 512u  /* 2: room for delayed and stretched ACKs */
#define BBR_BW_ROUNDS 10u   /* the bandwidth filter's window, in rounds */
#define BBR_MIN_RTT_MS 10000u
#define BBR_PROBE_RTT_MS 200u
#define BBR_MIN_SEGS 4u     /* cwnd floor, and PROBE_RTT's window */
#define BBR_BW_SHIFT 4      /* bandwidth unit: 16 bytes/s */
#define BBR_CYCLE 8u

enum { BBR_STARTUP = 0, BBR_DRAIN, BBR_PROBE_BW, BBR_PROBE_RTT };

static const uint16_t bbr_cycle_gain[BBR_CYCLE] = {320, 192, 256, 256,
                                                  256, 256, 256, 256};

/* 48 bytes (the tcb's cc_priv), for a million connections' sake */
typedef struct bbr {
    uint32_t bw[3];      /* max filter: best, second, third in the window */
    uint32_t min_rtt_us; /* UINT32_MAX: none yet */
    uint32_t min_rtt_ms; /* when (ms clock) */
    /* PROBE_BW: start of the current phase (us clock); PROBE_RTT: when
     * it may end (ms clock; 0: in flight not down to 4 segments yet) */
    uint32_t stamp;
    uint32_t rounds;     /* round trips counted */
    uint32_t next_rtt_delivered; /* tp->delivered that ends this round */
    uint32_t full_bw;    /* STARTUP: bandwidth at the last 25% growth */
    uint32_t prior_cwnd; /* before recovery or PROBE_RTT */
    uint16_t bw_rnd[3];  /* the round each was measured in (low bits) */
    unsigned mode : 2, cycle_idx : 3, full_bw_cnt : 2, prev_ca_state : 2;
    unsigned round_start : 1;
    unsigned conserve : 1;  /* packet conservation: first round of recovery */
    unsigned full_bw_reached : 1; /* STARTUP found the bandwidth's plateau */
    unsigned rtt_round : 1; /* PROBE_RTT: a round at the low window done */
} bbr;

static bbr *bbr_of(tcb *tp)
{
    _Static_assert(sizeof(bbr) <= sizeof(tp->cc_priv), "cc_priv too small");
    return (bbr *)(void *)tp->cc_priv;
}

static uint32_t ms_clock(synack_time_t now)
{
    return (uint32_t)(now / SYNACK_MSEC);
}

static uint32_t us_clock(synack_time_t now)
{
    return (uint32_t)(now / SYNACK_USEC);
}

static uint32_t bbr_max_bw(const bbr *b)
{
    return b->bw[0];
}

/* Kathleen Nichols' windowed max filter, three samples (as Linux's
 * minmax): the best, and the best of the later parts of the window, so
 * that an old maximum ages out without keeping every sample. */
static uint32_t rounds_since(uint32_t rnd, uint16_t then)
{
    return (uint16_t)(rnd - then);
}

static void bbr_bw_filter(bbr *b, uint32_t v, uint32_t r32)
{
    uint16_t rnd = (uint16_t)r32;
    if (v >= b->bw[0] || rounds_since(rnd, b->bw_rnd[2]) > BBR_BW_ROUNDS) {
        for (int i = 0; i < 3; i++) {
            b->bw[i] = v;
            b->bw_rnd[i] = rnd;
        }
        return;
    }
    if (v >= b->bw[1]) {
        b->bw[1] = b->bw[2] = v;
        b->bw_rnd[1] = b->bw_rnd[2] = rnd;
    } else if (v >= b->bw[2]) {
        b->bw[2] = v;
        b->bw_rnd[2] = rnd;
    }
    uint32_t dt = rounds_since(rnd, b->bw_rnd[0]);
    if (dt > BBR_BW_ROUNDS) { /* the best expired: promote the others */
        b->bw[0] = b->bw[1];
        b->bw_rnd[0] = b->bw_rnd[1];
        b->bw[1] = b->bw[2];
        b->bw_rnd[1] = b->bw_rnd[2];
        b->bw[2] = v;
        b->bw_rnd[2] = rnd;
        if (rounds_since(rnd, b->bw_rnd[0]) > BBR_BW_ROUNDS) {
            b->bw[0] = b->bw[1];
            b->bw_rnd[0] = b->bw_rnd[1];
            b->bw[1] = b->bw[2];
            b->bw_rnd[1] = b->bw_rnd[2];
        }
    } else if (b->bw_rnd[1] == b->bw_rnd[0] && dt > BBR_BW_ROUNDS / 4) {
        b->bw[1] = b->bw[2] = v; /* a quarter through: a second choice */
        b->bw_rnd[1] = b->bw_rnd[2] = rnd;
    } else if (b->bw_rnd[2] == b->bw_rnd[1] && dt > BBR_BW_ROUNDS / 2) {
        b->bw[2] = v; /* half way: a third */
        b->bw_rnd[2] = rnd;
    }
}

/* gain x the bandwidth-delay product, in bytes (the initial window while
 * there is no RTT yet). */
static uint32_t bbr_bdp(const tcb *tp, const bbr *b, uint32_t bw,
                        uint32_t gain)
{
    if (b->min_rtt_us == UINT32_MAX || bw == 0)
        return 10u * tp->mss;
    uint64_t rtt = b->min_rtt_us < 60000000u ? b->min_rtt_us : 60000000u;
    uint64_t bytes = ((uint64_t)bw << BBR_BW_SHIFT) * rtt / 1000000u;
    bytes = bytes * gain / BBR_UNIT;
    return bytes > CWND_CAP ? CWND_CAP : (uint32_t)bytes;
}

static uint32_t bbr_pacing_gain(const bbr *b)
{
    switch (b->mode) {
    case BBR_STARTUP:
        return BBR_HIGH_GAIN;
    case BBR_DRAIN:
        return BBR_DRAIN_GAIN;
    case BBR_PROBE_BW:
        return bbr_cycle_gain[b->cycle_idx];
    default:
        return BBR_UNIT;
    }
}

static uint32_t bbr_cwnd_gain(const bbr *b)
{
    return b->mode == BBR_STARTUP || b->mode == BBR_DRAIN ? BBR_HIGH_GAIN
           : b->mode == BBR_PROBE_BW                      ? BBR_CWND_GAIN
                                                          : BBR_UNIT;
}

/* pacing_gain x the bandwidth (before a sample: x cwnd over the smoothed
 * RTT), less 1% to keep the queue at the bottleneck short, and at least
 * four segments per min RTT. Only up
 * while STARTUP has not found the bandwidth, as Linux. A rate past 32
 * bits of bytes per second (34 Gbit/s) is not paced at all (0). */
static void bbr_set_pacing_rate(tcb *tp, const bbr *b, uint32_t gain)
{
    uint64_t rate = (uint64_t)bbr_max_bw(b) << BBR_BW_SHIFT;
    if (rate == 0 || b->min_rtt_us == UINT32_MAX) {
        synack_time_t rtt = tp->rtt_valid && tp->srtt ? tp->srtt
                                                      : SYNACK_MSEC;
        rate = (uint64_t)tp->cwnd * SYNACK_SEC / rtt;
    }
    rate = rate * gain / BBR_UNIT * 99 / 100;
    /* never slower than the smallest window per round trip: a bandwidth
     * measured while the application sent little must not hold a later
     * burst back for longer than cwnd would */
    uint64_t rtt_ns = b->min_rtt_us != UINT32_MAX
                          ? (uint64_t)b->min_rtt_us * SYNACK_USEC
                      : tp->rtt_valid ? tp->srtt
                                      : 0;
    if (rtt_ns) {
        uint64_t floor = (uint64_t)BBR_MIN_SEGS * tp->mss * SYNACK_SEC / rtt_ns;
        if (rate < floor)
            rate = floor;
    }
    if (rate == 0)
        rate = 1;
    if (rate > UINT32_MAX) {
        tp->pacing_rate = 0;
        return;
    }
    if (b->full_bw_reached || tp->pacing_rate == 0 ||
        rate > tp->pacing_rate)
        tp->pacing_rate = (uint32_t)rate;
}

static void bbr_init(tcb *tp, synack_time_t now)
{
    bbr *b = bbr_of(tp);
    memset(b, 0, sizeof(*b));
    b->min_rtt_us = UINT32_MAX;
    if (tp->rtt_valid) { /* the handshake's RTT */
        synack_time_t us = tp->srtt / SYNACK_USEC;
        b->min_rtt_us = us > 0 && us < UINT32_MAX ? (uint32_t)us : 1;
    }
    b->min_rtt_ms = ms_clock(now);
    /* the sampler's intervals start here (what is in flight was sent
     * without rate fields: TCP_CONGESTION on a running connection) */
    tp->first_tx_time = tp->delivered_time = now;
    b->next_rtt_delivered = tp->delivered;
    b->prev_ca_state = tp->ca_state & 3;
    b->prior_cwnd = tp->cwnd;
    b->mode = BBR_STARTUP;
    tp->ssthresh = UINT32_MAX / 2; /* BBR has no slow-start threshold */
    tp->pacing_rate = 0;
    bbr_set_pacing_rate(tp, b, BBR_HIGH_GAIN);
}

/* Loss or a timeout: remember the window to come back to (recovery's end,
 * or PROBE_RTT's); BBR takes no ssthresh. */
static void bbr_save_cwnd(tcb *tp, bbr *b)
{
    if (b->prev_ca_state == CA_OPEN && b->mode != BBR_PROBE_RTT)
        b->prior_cwnd = tp->cwnd;
    else
        b->prior_cwnd = max32(b->prior_cwnd, tp->cwnd);
}

static uint32_t bbr_ssthresh(tcb *tp, synack_time_t now)
{
    (void)now;
    bbr_save_cwnd(tp, bbr_of(tp));
    return tp->ssthresh;
}

static void bbr_on_rto(tcb *tp, synack_time_t now)
{
    (void)now;
    bbr *b = bbr_of(tp);
    /* (tcp_rto_mark sets cwnd to one segment; the model restores it) */
    b->prev_ca_state = CA_LOSS;
    b->full_bw = 0;
    b->full_bw_cnt = 0;
    b->round_start = 1;
}

static void bbr_enter_probe_bw(tcb *tp, bbr *b, synack_time_t now)
{
    b->mode = BBR_PROBE_BW;
    /* a phase other than the 3/4 one, varied per connection so that
     * flows sharing a bottleneck do not probe in step */
    uint32_t r = (tp->iss ^ b->rounds) % (BBR_CYCLE - 1); /* 0..6 */
    b->cycle_idx = (BBR_CYCLE - r) % BBR_CYCLE; /* 2..7, 0 */
    b->stamp = us_clock(now);
}

static void bbr_update_bw(tcb *tp, bbr *b, const tcp_rate_sample *rs)
{
    b->round_start = 0;
    if (rs->interval == 0 || rs->delivered == 0)
        return;
    /* a round ends when what was sent at its start is delivered */
    if (SEQ_GEQ(rs->prior_delivered, b->next_rtt_delivered)) {
        b->next_rtt_delivered = tp->delivered;
        b->rounds++;
        b->round_start = 1;
        b->conserve = 0;
    }
    uint64_t bw = (uint64_t)rs->delivered * SYNACK_SEC / rs->interval >>
                  BBR_BW_SHIFT;
    if (bw > UINT32_MAX)
        bw = UINT32_MAX;
    if (bw == 0)
        bw = 1;
    /* an application-limited sample only counts if it is higher */
    if (!rs->app_limited || bw >= bbr_max_bw(b))
        bbr_bw_filter(b, (uint32_t)bw, b->rounds);
}

static void bbr_update_cycle(tcb *tp, bbr *b, const tcp_rate_sample *rs,
                             synack_time_t now)
{
    if (b->mode != BBR_PROBE_BW)
        return;
    uint32_t gain = bbr_cycle_gain[b->cycle_idx];
    bool full = b->min_rtt_us != UINT32_MAX &&
                us_clock(now) - b->stamp > b->min_rtt_us;
    bool next;
    if (gain == BBR_UNIT)
        next = full;
    else if (gain > BBR_UNIT) /* probing: until the queue is there, or loss */
        next = full && (rs->losses ||
                        rs->prior_in_flight >=
                            bbr_bdp(tp, b, bbr_max_bw(b), gain));
    else /* draining: a round, or earlier once the queue is gone */
        next = full || rs->prior_in_flight <= bbr_bdp(tp, b, bbr_max_bw(b),
                                                      BBR_UNIT);
    if (next) {
        b->cycle_idx = (b->cycle_idx + 1) % BBR_CYCLE;
        b->stamp = us_clock(now);
    }
}

static void bbr_check_full_bw(bbr *b, const tcp_rate_sample *rs)
{
    if (b->full_bw_reached || !b->round_start ||
        rs->app_limited)
        return;
    uint64_t thresh = (uint64_t)b->full_bw * 5 / 4;
    if (bbr_max_bw(b) >= thresh) { /* still growing */
        b->full_bw = bbr_max_bw(b);
        b->full_bw_cnt = 0;
        return;
    }
    if (b->full_bw_cnt < 3)
        b->full_bw_cnt++;
    if (b->full_bw_cnt >= 3)
        b->full_bw_reached = 1;
}

static void bbr_check_drain(tcb *tp, bbr *b, synack_time_t now)
{
    if (b->mode == BBR_STARTUP && b->full_bw_reached)
        b->mode = BBR_DRAIN;
    if (b->mode == BBR_DRAIN &&
        tcp_inflight(tp) <= bbr_bdp(tp, b, bbr_max_bw(b), BBR_UNIT))
        bbr_enter_probe_bw(tp, b, now);
}

static void bbr_update_min_rtt(tcb *tp, bbr *b, const tcp_rate_sample *rs,
                               synack_time_t now)
{
    uint32_t ms = ms_clock(now);
    bool expired = ms - b->min_rtt_ms > BBR_MIN_RTT_MS;
    if (rs->rtt) {
        synack_time_t us = rs->rtt / SYNACK_USEC;
        uint32_t r = us == 0 ? 1 : us >= UINT32_MAX ? UINT32_MAX - 1
                                                    : (uint32_t)us;
        if (r < b->min_rtt_us || expired) {
            b->min_rtt_us = r;
            b->min_rtt_ms = ms;
        }
    }
    if (expired && b->mode != BBR_PROBE_RTT) {
        b->mode = BBR_PROBE_RTT;
        bbr_save_cwnd(tp, b);
        b->stamp = 0;
    }
    if (b->mode != BBR_PROBE_RTT)
        return;
    /* the low window is an application limit for the samples */
    uint32_t m = tp->delivered + tcp_inflight(tp);
    tp->app_limited = m ? m : 1;
    if (b->stamp == 0 &&
        tcp_inflight(tp) <= BBR_MIN_SEGS * tp->mss) {
        b->stamp = (ms + BBR_PROBE_RTT_MS) | 1;
        b->rtt_round = 0;
        b->next_rtt_delivered = tp->delivered;
    } else if (b->stamp) {
        if (b->round_start)
            b->rtt_round = 1;
        if (b->rtt_round &&
            (int32_t)(ms - b->stamp) >= 0) {
            b->min_rtt_ms = ms;
            tp->cwnd = max32(tp->cwnd, b->prior_cwnd);
            if (b->full_bw_reached)
                bbr_enter_probe_bw(tp, b, now);
            else
                b->mode = BBR_STARTUP;
        }
    }
}

/* Recovery: cwnd less what was lost, packet conservation through the
 * first round, the window from before once it ends. True while
 * conserving (cwnd is set). */
static bool bbr_recover_or_restore(tcb *tp, bbr *b, const tcp_rate_sample *rs)
{
    uint32_t cwnd = tp->cwnd;
    if (rs->losses > 0)
        cwnd = cwnd > rs->losses + tp->mss ? cwnd - rs->losses : tp->mss;
    uint32_t state = tp->ca_state, prev = b->prev_ca_state;
    uint32_t need = tcp_inflight(tp) + rs->acked_sacked;
    if (state == CA_RECOVERY && prev != CA_RECOVERY) {
        b->conserve = 1; /* one round: send what was delivered */
        b->next_rtt_delivered = tp->delivered;
        cwnd = need;
    } else if (prev != CA_OPEN && state == CA_OPEN) {
        cwnd = max32(cwnd, b->prior_cwnd);
        b->conserve = 0;
    }
    b->prev_ca_state = state & 3;
    tp->cwnd = cwnd;
    if (b->conserve) {
        tp->cwnd = max32(cwnd, need);
        return true;
    }
    return false;
}

static void bbr_set_cwnd(tcb *tp, bbr *b, const tcp_rate_sample *rs)
{
    uint32_t acked = rs->acked_sacked;
    if (acked && !bbr_recover_or_restore(tp, b, rs)) {
        /* the model's window, and three segments for delayed ACKs and
         * segmentation offload */
        uint64_t target = (uint64_t)bbr_bdp(tp, b, bbr_max_bw(b),
                                            bbr_cwnd_gain(b)) +
                          3u * tp->mss;
        if (b->mode == BBR_PROBE_BW && b->cycle_idx == 0)
            target += 2u * tp->mss; /* room to probe */
        uint64_t c = (uint64_t)tp->cwnd + acked;
        if (b->full_bw_reached)
            tp->cwnd = (uint32_t)min32((uint32_t)(c > CWND_CAP ? CWND_CAP : c),
                                       (uint32_t)(target > CWND_CAP ? CWND_CAP
                                                                    : target));
        else if (tp->cwnd < target ||
                 tp->delivered < 10u * tp->mss) /* (slow start) */
            tp->cwnd = (uint32_t)(c > CWND_CAP ? CWND_CAP : c);
        tp->cwnd = max32(tp->cwnd, BBR_MIN_SEGS * tp->mss);
    }
    if (b->mode == BBR_PROBE_RTT)
        tp->cwnd = min32(tp->cwnd, BBR_MIN_SEGS * tp->mss);
}

static void bbr_cong_control(tcb *tp, const tcp_rate_sample *rs,
                             synack_time_t now)
{
    bbr *b = bbr_of(tp);
    bbr_update_bw(tp, b, rs);
    bbr_update_cycle(tp, b, rs, now);
    bbr_check_full_bw(b, rs);
    bbr_check_drain(tp, b, now);
    bbr_update_min_rtt(tp, b, rs, now);
    bbr_set_pacing_rate(tp, b, bbr_pacing_gain(b));
    bbr_set_cwnd(tp, b, rs);
}

/* (cong_avoid: not called while cong_control is set) */
static void bbr_cong_avoid(tcb *tp, uint32_t acked, synack_time_t now)
{
    (void)tp;
    (void)acked;
    (void)now;
}

static const tcp_cc_ops cc_bbr = {"bbr",        bbr_init,   bbr_cong_avoid,
                                  bbr_ssthresh, bbr_on_rto, bbr_cong_control};

/* The BBR state of a connection, for tests and tools: mode (0 STARTUP, 1
 * DRAIN, 2 PROBE_BW, 3 PROBE_RTT), bandwidth in bytes per second, minimum
 * RTT in ns; false when the connection does not use BBR. */
bool tcp_bbr_info(const tcb *tp, tcp_bbr_state *out)
{
    if (tp->cc != &cc_bbr)
        return false;
    const bbr *b = (const bbr *)(const void *)tp->cc_priv;
    out->mode = b->mode;
    out->cycle_idx = b->cycle_idx;
    out->full_bw = b->full_bw_reached != 0;
    out->rounds = b->rounds;
    out->bw = (uint64_t)b->bw[0] << BBR_BW_SHIFT;
    out->min_rtt = b->min_rtt_us == UINT32_MAX
                       ? 0
                       : (synack_time_t)b->min_rtt_us * SYNACK_USEC;
    out->pacing_gain = bbr_pacing_gain(b);
    out->cwnd_gain = bbr_cwnd_gain(b);
    return true;
}

static const tcp_cc_ops *const all_cc[] = {&cc_cubic, &cc_reno, &cc_bbr};

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
    if (tp->cc->cong_control)
        return; /* the module sets cwnd itself (BBR) */
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
    if (tp->ca_state == CA_RECOVERY && !tp->cc->cong_control)
        tp->cwnd = max32(tp->ssthresh, tp->mss); /* RFC 6937: cwnd = ssthresh */
    tp->ca_state = CA_OPEN;
    tp->in_recovery = false;
    tp->dupacks = 0;
    tp->ca_acked = 0;
}
