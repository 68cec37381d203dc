/* The congestion-control modules against their RFCs: CUBIC's window curve
 * (RFC 9438 4.2: W(t) = C (t - K)^3 + W_max, K = cbrt(W_max (1 - beta) /
 * C)), its multiplicative decrease and fast convergence (4.6, 4.7), the
 * Reno-friendly region (4.3), NewReno's one MSS per window (RFC 5681), and
 * PRR's proportional reduction (RFC 6937). Windows are in bytes; MSS 1000
 * keeps the arithmetic readable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"

#define MSS 1000u
#define SEC SYNACK_SEC

static void init_tcb(tcb *tp, const char *cc, uint32_t cwnd_segs,
                     synack_time_t srtt)
{
    memset(tp, 0, sizeof(*tp));
    tp->mss = MSS;
    tp->cwnd = cwnd_segs * MSS;
    tp->ssthresh = 0xffffffffu;
    tp->srtt = srtt;
    tp->rtt_valid = true;
    tp->cc = tcp_cc_find(cc);
    assert_non_null(tp->cc);
    tp->cc->init(tp, 0);
}

/* One RTT's worth of ACKs (one per segment) at time t. */
static void ack_window(tcb *tp, synack_time_t t)
{
    uint32_t n = tp->cwnd / MSS;
    for (uint32_t i = 0; i < n; i++)
        tp->cc->cong_avoid(tp, MSS, t);
}

/* After a loss at W_max = 100 segments, cwnd drops to 70 and climbs back
 * to W_max at K = cbrt(100 * 0.3 / 0.4) = 4.217 s, flat around it
 * (concave then convex). */
static void cubic_curve(void **state)
{
    (void)state;
    tcb tp;
    /* a long RTT keeps the Reno-friendly estimate below the curve */
    synack_time_t rtt = 100 * SYNACK_MSEC;
    init_tcb(&tp, "cubic", 100, rtt);
    tp.snd_una = 0;
    tp.snd_max = 100 * MSS;
    tp.ssthresh = tp.cc->ssthresh(&tp, 0);
    assert_int_equal(tp.ssthresh, 70 * MSS); /* beta = 0.7 */
    tp.cwnd = tp.ssthresh;
    synack_time_t t = 0;
    uint32_t at_half_k = 0, at_k = 0, at_2k = 0;
    while (t <= 9 * SEC) {
        ack_window(&tp, t);
        if (!at_half_k && t >= 2108 * SYNACK_MSEC)
            at_half_k = tp.cwnd / MSS;
        if (!at_k && t >= 4217 * SYNACK_MSEC)
            at_k = tp.cwnd / MSS;
        if (!at_2k && t >= 8434 * SYNACK_MSEC)
            at_2k = tp.cwnd / MSS;
        t += rtt;
    }
    /* W(t + RTT) as the target, one RTT of lag: at K the window is within
     * a couple of segments of W_max */
    assert_in_range(at_k, 97, 103);
    /* W(K/2) = 100 - 0.4 * 2.108^3 = 96.25: most of the way back already */
    assert_in_range(at_half_k, 93, 99);
    /* W(2K) = 100 + 0.4 * 4.217^3 = 130: convex growth beyond W_max */
    assert_in_range(at_2k, 124, 136);
}

/* Fast convergence (4.7): a loss before W_max is regained lowers W_max to
 * cwnd * (1 + beta) / 2. */
static void cubic_fast_convergence(void **state)
{
    (void)state;
    tcb tp;
    init_tcb(&tp, "cubic", 100, 100 * SYNACK_MSEC);
    tp.ssthresh = tp.cc->ssthresh(&tp, 0); /* W_max = 100 */
    tp.cwnd = 80 * MSS;                    /* lost again at 80 < 100 */
    tp.ssthresh = tp.cc->ssthresh(&tp, SEC);
    assert_int_equal(tp.ssthresh, 56 * MSS); /* 80 * 0.7 */
    /* W_max is now 80 * 1.7 / 2 = 68 < cwnd: the epoch starts at the
     * plateau (K = 0) and grows from there */
    tp.cwnd = tp.ssthresh;
    synack_time_t t = SEC;
    uint32_t prev = tp.cwnd;
    for (int i = 0; i < 30; i++) {
        ack_window(&tp, t);
        t += 100 * SYNACK_MSEC;
        assert_true(tp.cwnd >= prev);
        prev = tp.cwnd;
    }
    assert_true(tp.cwnd > 56 * MSS);
}

/* With a short RTT, standard TCP would grow faster than the cubic curve
 * near W_max: the Reno-friendly estimate takes over (4.3), about
 * alpha = 0.53 segments per RTT. */
static void cubic_reno_friendly(void **state)
{
    (void)state;
    tcb tp;
    synack_time_t rtt = SYNACK_MSEC;
    init_tcb(&tp, "cubic", 20, rtt);
    tp.ssthresh = tp.cc->ssthresh(&tp, 0); /* 14 */
    tp.cwnd = tp.ssthresh;
    synack_time_t t = 0;
    for (int i = 0; i < 200; i++) { /* 200 RTTs = 0.2 s: the curve is flat */
        ack_window(&tp, t);
        t += rtt;
    }
    /* the curve alone: 20 - 0.4 * (1.8 - 0.2)^3 < 19; the estimate: 14 +
     * 0.53 * 200 / ~ > 20 */
    assert_true(tp.cwnd / MSS >= 20);
}

/* Slow start below ssthresh: one MSS per ACK. */
static void slow_start_both(void **state)
{
    (void)state;
    const char *names[] = {"cubic", "reno"};
    for (int k = 0; k < 2; k++) {
        tcb tp;
        init_tcb(&tp, names[k], 10, 100 * SYNACK_MSEC);
        tp.ssthresh = 1000 * MSS;
        ack_window(&tp, 0);
        assert_int_equal(tp.cwnd, 20 * MSS);
    }
}

/* A stretch ACK (one ACK for many segments: GRO, a GSO super-frame, a
 * receiver that ACKs every other segment) grows cwnd by all it covers in
 * slow start, as Linux; what passes ssthresh goes to congestion
 * avoidance. */
static void slow_start_stretch_ack(void **state)
{
    (void)state;
    const char *names[] = {"cubic", "reno"};
    for (int k = 0; k < 2; k++) {
        tcb tp;
        init_tcb(&tp, names[k], 10, 100 * SYNACK_MSEC);
        tp.ssthresh = 1000 * MSS;
        tp.cc->cong_avoid(&tp, 45 * MSS, 0); /* one 64 KiB super-frame */
        assert_int_equal(tp.cwnd, 55 * MSS);
        tp.ssthresh = 60 * MSS;
        tp.cc->cong_avoid(&tp, 10 * MSS, SYNACK_SEC);
        /* 5 MSS to reach ssthresh, the other 5 in congestion avoidance:
         * far less than another 5 */
        assert_true(tp.cwnd >= 60 * MSS && tp.cwnd < 62 * MSS);
    }
}

/* NewReno: one MSS per window acknowledged (RFC 5681 3.1). */
static void reno_linear(void **state)
{
    (void)state;
    tcb tp;
    init_tcb(&tp, "reno", 10, 100 * SYNACK_MSEC);
    tp.ssthresh = 5 * MSS;
    for (int i = 0; i < 5; i++)
        ack_window(&tp, 0);
    assert_int_equal(tp.cwnd, 15 * MSS);
    tp.snd_una = 0;
    tp.snd_max = 30 * MSS;
    assert_int_equal(tp.cc->ssthresh(&tp, 0), 15 * MSS); /* FlightSize/2 */
    tp.snd_max = MSS;
    assert_int_equal(tp.cc->ssthresh(&tp, 0), 2 * MSS); /* at least 2 */
}

/* PRR (RFC 6937): RecoverFS 20 segments, ssthresh 10, one segment lost:
 * each ACK delivers one segment; over the recovery PRR sends 10 segments
 * in all, spread one per two ACKs, and never a burst. */
static void prr_proportional(void **state)
{
    (void)state;
    synack_stack *st = NULL;
    synack_stack_config cfg;
    synack_stack_config_init(&cfg);
    cfg.ip = 0x0a000001u;
    cfg.prefix_len = 24;
    assert_int_equal(synack_stack_new(&cfg, &st), 0);
    tcb tp;
    init_tcb(&tp, "reno", 20, 100 * SYNACK_MSEC);
    tp.snd_una = 0;
    tp.snd_max = 20 * MSS;
    tcp_cc_enter_recovery(st, &tp, 0);
    assert_int_equal(tp.ssthresh, 10 * MSS);
    uint32_t pipe = 19 * MSS; /* one lost */
    uint32_t sent = 0, max_burst = 0;
    for (int ack = 0; ack < 19; ack++) {
        pipe -= MSS; /* a segment delivered */
        tcp_cc_prr(&tp, MSS, pipe);
        uint32_t burst = 0;
        while (pipe + MSS <= tp.cwnd) { /* send what cwnd allows */
            pipe += MSS;
            tp.prr_out += MSS;
            sent++;
            burst++;
        }
        if (burst > max_burst)
            max_burst = burst;
    }
    assert_in_range(sent, 9, 11);
    assert_true(max_burst <= 2);
    tcp_cc_exit_recovery(&tp);
    assert_int_equal(tp.cwnd, tp.ssthresh);
    synack_stack_del(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cubic_curve),
        cmocka_unit_test(cubic_fast_convergence),
        cmocka_unit_test(cubic_reno_friendly),
        cmocka_unit_test(slow_start_both),
        cmocka_unit_test(slow_start_stretch_ack),
        cmocka_unit_test(reno_linear),
        cmocka_unit_test(prr_proportional),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
