/* BBR on the wire: its choice by tcp_congestion_control and TCP_CONGESTION,
 * its pacing (segments leave at the pacing rate), and the delivery-rate
 * samples it is fed (draft-cheng-iccrg-delivery-
 * rate-estimation): on a scripted exchange, a sample is the bytes
 * delivered (cumulatively acknowledged or SACKed) since the delivered
 * segment was sent, over the longer of the send and ACK intervals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"
#include "pkt.h"

#define A SYNACK_TH_ACK
#define MSS 1460u
#define MS SYNACK_MSEC

static uint8_t data[64 * MSS];

static tcb *conn(pkt_env *e, int s)
{
    return e->st->handles[s];
}

static tcp_bbr_state bbr_state(pkt_env *e, int s)
{
    tcp_bbr_state b;
    assert_true(tcp_bbr_info(conn(e, s), &b));
    return b;
}

/* A SACK-capable peer 10 ms away; 10 segments (the initial window) go at
 * once (pacing off: the samples' intervals are the test's). */
static int open_bbr(pkt_env *e, uint32_t segs)
{
    const char *sys[] = {"tcp_congestion_control=bbr",
                         "tcp_wmem=4096 262144 262144", "tcp_pacing=0",
                         NULL};
    pkt_setup(e, sys);
    pkt_peer_opts o = {.mss = MSS, .ws = -1, .sack = true};
    int s = pkt_open_active_rtt(e, 10 * MS, &o);
    assert_int_equal(synack_send(e->st, s, data, segs * MSS, e->now),
                     (ssize_t)(segs * MSS));
    uint32_t x = e->iss + 1;
    for (uint32_t i = 0; i < 10; i++)
        pkt_expect(e, A, x + i * MSS, PKT_RISN + 1, MSS);
    pkt_expect_none(e);
    return s;
}

static void drain(pkt_env *e)
{
    pkt_seg g;
    while (pkt_pop(e, &g))
        ;
}

static void assert_bw(pkt_env *e, int s, uint64_t bytes, synack_time_t iv)
{
    uint64_t want = bytes * SYNACK_SEC / iv;
    uint64_t got = bbr_state(e, s).bw;
    /* (BBR keeps it in units of 16 bytes/s) */
    if (got > want || got + 16 < want)
        fail_msg("bandwidth %llu B/s, expected %llu B/s",
                 (unsigned long long)got, (unsigned long long)want);
}

/* Ten segments sent at t0 and acknowledged two at a time, 1 ms apart,
 * from t0 + 10 ms: each ACK's sample is everything delivered since t0
 * over the time since t0 (the send interval is 0: one burst), and the
 * filter keeps the highest. */
static void rate_sample_cumulative(void **state)
{
    (void)state;
    pkt_env e;
    int s = open_bbr(&e, 40);
    uint32_t x = e.iss + 1;
    synack_time_t t0 = e.now;
    assert_int_equal(bbr_state(&e, s).bw, 0);
    pkt_run_until(&e, t0 + 10 * MS);
    pkt_inject(&e, A, PKT_RISN + 1, x + 2 * MSS, 65535, NULL, 0);
    drain(&e);
    assert_bw(&e, s, 2 * MSS, 10 * MS); /* 292000 B/s */
    assert_int_equal(conn(&e, s)->delivered, 2 * MSS);
    for (uint32_t k = 2; k <= 5; k++) {
        pkt_run_until(&e, t0 + (9 + k) * MS);
        pkt_inject(&e, A, PKT_RISN + 1, x + 2 * k * MSS, 65535, NULL, 0);
        drain(&e);
        assert_bw(&e, s, 2 * k * MSS, (9 + k) * MS);
    }
    /* 14600 bytes in 14 ms */
    assert_int_equal(conn(&e, s)->delivered, 10 * MSS);
    assert_int_equal(bbr_state(&e, s).min_rtt, 10 * MS);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_teardown(&e, false);
}

/* SACKed segments deliver too: the first two segments are missing, the
 * next two are SACKed 10 ms after the burst: 2920 bytes over 10 ms. RACK
 * resends the first two at 12.5 ms (10 ms and a quarter of the min RTT);
 * the cumulative ACK of all ten at 20 ms delivers those resent copies,
 * the most recently sent: what was delivered since they went (the other
 * 8 segments) over the longer interval, the send one (12.5 ms since the
 * newest delivered segment's first send, at t0) rather than the ACK one
 * (10 ms since the SACK that preceded the resend). */
static void rate_sample_sack(void **state)
{
    (void)state;
    pkt_env e;
    int s = open_bbr(&e, 40);
    uint32_t x = e.iss + 1;
    synack_time_t t0 = e.now;
    pkt_run_until(&e, t0 + 10 * MS);
    uint32_t blk[2] = {x + 2 * MSS, x + 4 * MSS};
    pkt_inject_sack(&e, PKT_RISN + 1, x, blk, 1);
    drain(&e);
    assert_int_equal(conn(&e, s)->delivered, 2 * MSS);
    assert_bw(&e, s, 2 * MSS, 10 * MS);
    pkt_run_until(&e, t0 + 20 * MS);
    pkt_seg g;
    bool resent = false;
    while (pkt_pop(&e, &g))
        if (g.th.seq == x) {
            assert_int_equal(g.t, t0 + 12500 * SYNACK_USEC);
            resent = true;
        }
    assert_true(resent);
    pkt_inject(&e, A, PKT_RISN + 1, x + 10 * MSS, 65535, NULL, 0);
    drain(&e);
    assert_int_equal(conn(&e, s)->delivered, 10 * MSS);
    assert_bw(&e, s, 8 * MSS, 12500 * SYNACK_USEC);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_teardown(&e, false);
}

/* Too little to fill cwnd: the samples are application-limited, and an
 * application-limited sample lower than the filter's best is ignored. */
static void rate_sample_app_limited(void **state)
{
    (void)state;
    pkt_env e;
    int s = open_bbr(&e, 10); /* all of it in the first burst */
    uint32_t x = e.iss + 1;
    synack_time_t t0 = e.now;
    assert_true(conn(&e, s)->app_limited != 0);
    pkt_run_until(&e, t0 + 10 * MS);
    pkt_inject(&e, A, PKT_RISN + 1, x + 10 * MSS, 65535, NULL, 0);
    drain(&e);
    assert_bw(&e, s, 10 * MSS, 10 * MS);
    /* one more segment, slowly acknowledged: a lower, limited sample */
    assert_int_equal(synack_send(e.st, s, data, MSS, e.now), (ssize_t)MSS);
    pkt_expect(&e, A, x + 10 * MSS, PKT_RISN + 1, MSS);
    pkt_run_for(&e, 40 * MS);
    pkt_inject(&e, A, PKT_RISN + 1, x + 11 * MSS, 65535, NULL, 0);
    drain(&e);
    assert_bw(&e, s, 10 * MSS, 10 * MS);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_teardown(&e, false);
}

/* tcp_congestion_control=bbr for new sockets, TCP_CONGESTION per socket
 * (both ways), the name in the connection's info. */
static void selection(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    char buf[16];
    int a = synack_socket(e.st);
    size_t len = sizeof(buf);
    assert_int_equal(synack_setsockopt(e.st, a, SYNACK_TCP_CONGESTION, "bbr",
                                       3),
                     0);
    assert_int_equal(
        synack_getsockopt(e.st, a, SYNACK_TCP_CONGESTION, buf, &len), 0);
    assert_string_equal(buf, "bbr");
    assert_ptr_equal(conn(&e, a)->cc, tcp_cc_find("bbr"));
    pkt_sysctl(&e, "tcp_congestion_control", "bbr");
    int c = synack_socket(e.st);
    assert_ptr_equal(conn(&e, c)->cc, tcp_cc_find("bbr"));
    assert_int_equal(synack_setsockopt(e.st, c, SYNACK_TCP_CONGESTION,
                                       "cubic", 5),
                     0);
    assert_ptr_equal(conn(&e, c)->cc, tcp_cc_find("cubic"));
    synack_close(e.st, a, e.now);
    synack_close(e.st, c, e.now);
    pkt_teardown(&e, false);

    /* an established connection: BBR runs, and says so */
    int s = open_bbr(&e, 10);
    tcp_bbr_state b;
    assert_true(tcp_bbr_info(conn(&e, s), &b));
    assert_int_equal(b.mode, 0);
    assert_string_equal(pkt_info(&e, s).cc, "bbr");
    assert_int_equal(conn(&e, s)->ssthresh, UINT32_MAX / 2);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_teardown(&e, false);
}

/* Pacing: BBR's first rate is its STARTUP gain (2/ln 2) times the
 * initial window over the handshake's RTT, less 1%: 2.885 x 14600 B /
 * 10 ms x 0.99 = 4.17 MB/s, a segment every MSS / rate = 350 us. A
 * segment may go while the schedule is at most a quantum (1 ms here: more
 * than two segments' time) ahead: segment k of the initial window leaves
 * at k x 350 us - 1 ms, or at once -- three at once, then one every 350
 * us, each not a nanosecond early, sent by the pacing timer (nothing else
 * happens). tcp_pacing=0: the whole window at once. */
static void pacing_spacing(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_congestion_control=bbr",
                         "tcp_wmem=4096 262144 262144", NULL};
    pkt_setup(&e, sys);
    pkt_peer_opts o = {.mss = MSS, .ws = -1, .sack = true};
    int s = pkt_open_active_rtt(&e, 10 * MS, &o);
    uint32_t rate = conn(&e, s)->pacing_rate;
    assert_in_range(rate, 4100000, 4200000);
    synack_time_t gap = (synack_time_t)MSS * SYNACK_SEC / rate;
    assert_in_range(gap, 345 * SYNACK_USEC, 356 * SYNACK_USEC);
    synack_time_t t0 = e.now;
    assert_int_equal(synack_send(e.st, s, data, 10 * MSS, e.now),
                     (ssize_t)(10 * MSS));
    uint32_t x = e.iss + 1;
    for (uint32_t k = 0; k < 10; k++) {
        synack_time_t at = k * gap > MS ? t0 + k * gap - MS : t0;
        if (at > t0) {
            pkt_run_until(&e, at - 1);
            pkt_expect_none(&e); /* not a nanosecond early */
            pkt_run_until(&e, at);
        }
        pkt_expect_at(&e, at, A, x + k * MSS, PKT_RISN + 1, MSS);
    }
    pkt_expect_none(&e);
    /* then nothing to send: no pacing timer left running */
    assert_int_equal(conn(&e, s)->t_pace, SYNACK_TIME_NEVER);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_teardown(&e, false);

    /* off: the initial window in one burst */
    const char *off[] = {"tcp_congestion_control=bbr", "tcp_pacing=0",
                         "tcp_wmem=4096 262144 262144", NULL};
    pkt_setup(&e, off);
    s = pkt_open_active_rtt(&e, 10 * MS, &o);
    t0 = e.now;
    assert_int_equal(synack_send(e.st, s, data, 10 * MSS, e.now),
                     (ssize_t)(10 * MSS));
    for (uint32_t i = 0; i < 10; i++)
        pkt_expect_at(&e, t0, A, e.iss + 1 + i * MSS, PKT_RISN + 1, MSS);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_teardown(&e, false);

    /* cubic: never paced */
    pkt_setup(&e, NULL);
    s = pkt_open_active_rtt(&e, 10 * MS, &o);
    assert_int_equal(conn(&e, s)->pacing_rate, 0);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_teardown(&e, false);
}

/* Switched to BBR with segments in flight (TCP_CONGESTION on a running
 * connection): those were sent without rate fields, so their delivery
 * counts but gives no sample (a sample from nothing would be a bogus
 * bandwidth that the max filter keeps for ten rounds). The intervals
 * start at the switch: segments sent 10 ms after it and acknowledged 10
 * ms later give 7 segments (all delivered since they were sent) over 10
 * ms. */
static void switch_mid_flight(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_wmem=4096 262144 262144", "tcp_pacing=0",
                         NULL};
    pkt_setup(&e, sys);
    pkt_peer_opts o = {.mss = MSS, .ws = -1, .sack = true};
    int s = pkt_open_active_rtt(&e, 10 * MS, &o);
    uint32_t x = e.iss + 1;
    assert_int_equal(synack_send(e.st, s, data, 30 * MSS, e.now),
                     (ssize_t)(30 * MSS));
    for (uint32_t i = 0; i < 10; i++)
        pkt_expect(&e, A, x + i * MSS, PKT_RISN + 1, MSS);
    assert_int_equal(synack_setsockopt(e.st, s, SYNACK_TCP_CONGESTION, "bbr",
                                       3),
                     0);
    synack_time_t t0 = e.now;
    pkt_run_until(&e, t0 + 10 * MS);
    pkt_inject(&e, A, PKT_RISN + 1, x + 5 * MSS, 65535, NULL, 0);
    assert_int_equal(conn(&e, s)->delivered, 5 * MSS);
    assert_int_equal(bbr_state(&e, s).bw, 0); /* no sample */
    /* BBR's window let more go now, with rate fields */
    const pkt_seg *g = pkt_expect(&e, A, x + 10 * MSS, PKT_RISN + 1, MSS);
    assert_int_equal(g->t, t0 + 10 * MS);
    drain(&e);
    pkt_run_until(&e, t0 + 20 * MS);
    pkt_inject(&e, A, PKT_RISN + 1, x + 12 * MSS, 65535, NULL, 0);
    assert_int_equal(conn(&e, s)->delivered, 12 * MSS);
    assert_bw(&e, s, 7 * MSS, 10 * MS);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_teardown(&e, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rate_sample_cumulative),
        cmocka_unit_test(rate_sample_sack),
        cmocka_unit_test(rate_sample_app_limited),
        cmocka_unit_test(selection),
        cmocka_unit_test(pacing_spacing),
        cmocka_unit_test(switch_mid_flight),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
