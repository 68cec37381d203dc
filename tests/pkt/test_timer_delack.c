/* The delayed-ACK timer (RFC 1122 4.2.3.2, RFC 5681 4.2, RFC 9293
 * 3.8.6.3): an in-order segment is acknowledged after tcp_delack_ms
 * (default 40 ms, counted from the first unacknowledged segment, never
 * extended), at the latest with every second full-sized segment, and at
 * once for an out-of-order segment or one that fills a hole. An ACK that
 * rides on data cancels the timer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pkt.h"

#define S SYNACK_SEC
#define MS SYNACK_MSEC
#define A SYNACK_TH_ACK
#define R (PKT_RISN + 1)
#define MSS 1460

static uint8_t buf[2 * MSS];

/* Passive connection; the peer's MSS is 1460, as ours. */
static int open_conn(pkt_env *e, int *l)
{
    pkt_peer_opts o = {.mss = MSS, .ws = -1};
    int s = pkt_open_passive(e, l, &o);
    synack_conn_info ci = pkt_info(e, s);
    assert_int_equal(ci.snd_mss, MSS);
    assert_int_equal(ci.rcv_mss, MSS);
    return s;
}

static void finish(pkt_env *e, int s, int l, uint32_t x, uint32_t r)
{
    assert_int_equal(synack_abort(e->st, s, e->now), 0);
    pkt_expect(e, SYNACK_TH_RST | A, x, r, 0);
    assert_int_equal(synack_close(e->st, l, e->now), 0);
    pkt_teardown(e, true);
}

/* One small in-order segment: ACK exactly 40 ms later, and only then. */
static void delack_one_segment(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = open_conn(&e, &l);
    uint32_t x = e.iss + 1;
    pkt_run_until(&e, 1 * S);
    synack_time_t t0 = e.now;
    pkt_inject(&e, A, R, x, 65535, buf, 100);
    pkt_expect_none(&e);
    synack_conn_info ci = pkt_info(&e, s);
    assert_int_equal(ci.timer, SYNACK_TIMER_DELACK);
    assert_true(ci.timer_expires == t0 + 40 * MS);
    pkt_run_until(&e, t0 + 40 * MS - 1);
    pkt_expect_none(&e);
    pkt_run_until(&e, t0 + 40 * MS);
    pkt_expect_at(&e, t0 + 40 * MS, A, x, R + 100, 0);
    pkt_run_for(&e, 10 * S);
    pkt_expect_none(&e);
    assert_int_equal(pkt_info(&e, s).timer, SYNACK_TIMER_NONE);

    /* and again for the next one (no "quick ACK" state carried over) */
    pkt_run_until(&e, t0 + 20 * S);
    pkt_inject(&e, A, R + 100, x, 65535, buf, 10);
    pkt_expect_none(&e);
    pkt_run_until(&e, t0 + 20 * S + 40 * MS);
    pkt_expect_at(&e, t0 + 20 * S + 40 * MS, A, x, R + 110, 0);
    pkt_expect_none(&e);
    finish(&e, s, l, x, R + 110);
}

/* Two small segments 10 ms apart: one ACK for both, 40 ms after the
 * first (the second does not push the timer out). */
static void delack_not_extended(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = open_conn(&e, &l);
    uint32_t x = e.iss + 1;
    pkt_run_until(&e, 1 * S);
    synack_time_t t0 = e.now;
    pkt_inject(&e, A, R, x, 65535, buf, 100);
    pkt_run_until(&e, t0 + 10 * MS);
    pkt_inject(&e, A, R + 100, x, 65535, buf, 100);
    pkt_expect_none(&e);
    pkt_run_until(&e, t0 + 100 * MS);
    pkt_expect_at(&e, t0 + 40 * MS, A, x, R + 200, 0);
    pkt_expect_none(&e);
    finish(&e, s, l, x, R + 200);
}

/* Two full-sized segments: the second is acknowledged at once (RFC 1122:
 * at least every second full-sized segment), for both. */
static void delack_two_full_segments(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = open_conn(&e, &l);
    uint32_t x = e.iss + 1;
    pkt_run_until(&e, 1 * S);
    synack_time_t t0 = e.now;
    pkt_inject(&e, A, R, x, 65535, buf, MSS);
    pkt_expect_none(&e);
    pkt_run_until(&e, t0 + 5 * MS);
    pkt_inject(&e, A, R + MSS, x, 65535, buf, MSS);
    pkt_expect_at(&e, t0 + 5 * MS, A, x, R + 2 * MSS, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_info(&e, s).timer, SYNACK_TIMER_NONE);
    pkt_run_for(&e, 1 * S);
    pkt_expect_none(&e); /* no second, delayed ACK */
    /* a third lone full-sized segment is delayed again */
    synack_time_t t1 = e.now;
    pkt_inject(&e, A, R + 2 * MSS, x, 65535, buf, MSS);
    pkt_expect_none(&e);
    pkt_run_until(&e, t1 + 40 * MS);
    pkt_expect_at(&e, t1 + 40 * MS, A, x, R + 3 * MSS, 0);
    pkt_expect_none(&e);
    /* consume the data so that close() would not reset: abort anyway */
    finish(&e, s, l, x, R + 3 * MSS);
}

/* An out-of-order segment is answered at once with a duplicate ACK; the
 * segment that fills the hole is acknowledged at once too (RFC 5681 4.2,
 * RFC 9293 3.10.7.4). */
static void delack_out_of_order(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = open_conn(&e, &l);
    uint32_t x = e.iss + 1;
    pkt_run_until(&e, 1 * S);
    synack_time_t t0 = e.now;
    pkt_inject(&e, A, R + 100, x, 65535, buf, 100); /* hole [R, R+100) */
    pkt_expect_at(&e, t0, A, x, R, 0);
    pkt_expect_none(&e);
    pkt_run_until(&e, t0 + 5 * MS);
    pkt_inject(&e, A, R + 200, x, 65535, buf, 100); /* still a hole */
    pkt_expect_at(&e, t0 + 5 * MS, A, x, R, 0);
    pkt_expect_none(&e);
    pkt_run_until(&e, t0 + 10 * MS);
    pkt_inject(&e, A, R, x, 65535, buf, 100); /* fills it */
    pkt_expect_at(&e, t0 + 10 * MS, A, x, R + 300, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_info(&e, s).recv_q, 300);
    pkt_run_for(&e, 1 * S);
    pkt_expect_none(&e);
    finish(&e, s, l, x, R + 300);
}

/* tcp_delack_ms set on the running stack applies to the next delayed
 * ACK; set at start-up too. */
static void delack_tunable(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = open_conn(&e, &l);
    uint32_t x = e.iss + 1;
    pkt_sysctl(&e, "net.ipv4.tcp_delack_ms", "100");
    pkt_run_until(&e, 1 * S);
    synack_time_t t0 = e.now;
    pkt_inject(&e, A, R, x, 65535, buf, 100);
    pkt_run_until(&e, t0 + 100 * MS - 1);
    pkt_expect_none(&e);
    pkt_run_until(&e, t0 + 200 * MS);
    pkt_expect_at(&e, t0 + 100 * MS, A, x, R + 100, 0);
    pkt_expect_none(&e);
    finish(&e, s, l, x, R + 100);

    const char *sys[] = {"tcp_delack_ms=7", NULL};
    pkt_setup(&e, sys);
    s = open_conn(&e, &l);
    x = e.iss + 1;
    pkt_run_until(&e, 1 * S);
    t0 = e.now;
    pkt_inject(&e, A, R, x, 65535, buf, 1);
    pkt_run_until(&e, t0 + 1 * S);
    pkt_expect_at(&e, t0 + 7 * MS, A, x, R + 1, 0);
    pkt_expect_none(&e);
    finish(&e, s, l, x, R + 1);
}

/* Data sent while an ACK is pending carries it: the timer is cancelled
 * and no separate ACK follows. */
static void delack_piggyback(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = open_conn(&e, &l);
    uint32_t x = e.iss + 1;
    pkt_run_until(&e, 1 * S);
    synack_time_t t0 = e.now;
    pkt_inject(&e, A, R, x, 65535, buf, 100);
    pkt_run_until(&e, t0 + 10 * MS);
    assert_int_equal(synack_send(e.st, s, "reply", 5, e.now), 5);
    pkt_expect_at(&e, t0 + 10 * MS, A, x, R + 100, 5);
    assert_int_equal(pkt_info(&e, s).timer, SYNACK_TIMER_ON);
    pkt_run_until(&e, t0 + 100 * MS);
    pkt_expect_none(&e); /* no ACK at 40 ms */
    pkt_inject(&e, A, R + 100, x + 5, 65535, NULL, 0);
    pkt_run_for(&e, 1 * S);
    pkt_expect_none(&e);
    finish(&e, s, l, x + 5, R + 100);
}

/* A pure ACK (no data) is never acknowledged; no timer is started. */
static void delack_not_for_pure_ack(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = open_conn(&e, &l);
    uint32_t x = e.iss + 1;
    pkt_run_until(&e, 1 * S);
    pkt_inject(&e, A, R, x, 65535, NULL, 0);
    assert_int_equal(pkt_info(&e, s).timer, SYNACK_TIMER_NONE);
    pkt_run_for(&e, 1 * S);
    pkt_expect_none(&e);
    finish(&e, s, l, x, R);
}

/* A delayed ACK is pending when an out-of-order segment arrives: the
 * immediate duplicate ACK covers the in-order data too, and cancels the
 * timer (no second ACK at 40 ms). */
static void delack_cancelled_by_immediate_ack(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = open_conn(&e, &l);
    uint32_t x = e.iss + 1;
    pkt_run_until(&e, 1 * S);
    synack_time_t t0 = e.now;
    pkt_inject(&e, A, R, x, 65535, buf, 100);
    pkt_run_until(&e, t0 + 5 * MS);
    pkt_inject(&e, A, R + 200, x, 65535, buf, 100);
    pkt_expect_at(&e, t0 + 5 * MS, A, x, R + 100, 0);
    pkt_run_until(&e, t0 + 1 * S);
    pkt_expect_none(&e);
    finish(&e, s, l, x, R + 100);
}

/* RFC 1122 4.2.3.2: "the delay MUST be less than 0.5 seconds": the
 * tunable refuses 0 and anything from 500 ms up. */
static void delack_tunable_range(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    assert_int_equal(synack_sysctl_set(e.st, "tcp_delack_ms", "499"), 0);
    assert_int_equal(synack_sysctl_set(e.st, "tcp_delack_ms", "0"),
                     -SYNACK_ERANGE);
    assert_int_equal(synack_sysctl_set(e.st, "tcp_delack_ms", "500"),
                     -SYNACK_ERANGE);
    char b[16];
    assert_true(synack_sysctl_get(e.st, "tcp_delack_ms", b, sizeof(b)) > 0);
    assert_string_equal(b, "499");
    pkt_teardown(&e, true);
}

int main(void)
{
    memset(buf, 'd', sizeof(buf));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(delack_one_segment),
        cmocka_unit_test(delack_not_extended),
        cmocka_unit_test(delack_two_full_segments),
        cmocka_unit_test(delack_out_of_order),
        cmocka_unit_test(delack_tunable),
        cmocka_unit_test(delack_piggyback),
        cmocka_unit_test(delack_not_for_pure_ack),
        cmocka_unit_test(delack_cancelled_by_immediate_ack),
        cmocka_unit_test(delack_tunable_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
