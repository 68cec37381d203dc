/* The retransmission timer on an established connection (RFC 6298):
 * exponential backoff capped at tcp_rto_max_ms, tcp_retries2
 * retransmissions then ETIMEDOUT, the RTO estimator and Karn's rule, FIN
 * retransmission in FIN-WAIT-1 and LAST-ACK, and the two ways out of a
 * loss before the timer: fast retransmit on three duplicate ACKs (RFC 5681
 * 3.2) and NewReno's partial-ACK retransmission (RFC 6582 3.2).
 *
 * Unless a test says otherwise the handshake's RTT sample is 0, so the RTO
 * is max(tcp_rto_min, SRTT + max(G, 4*RTTVAR)) = 200 ms. With that RTO
 * the count semantics of tcp_retries2 used here and Linux's time-based
 * semantics (the timeout a 200 ms RTO would reach after tcp_retries2
 * doublings) give the same instants. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pkt.h"

#define S SYNACK_SEC
#define MS SYNACK_MSEC
#define US SYNACK_USEC
#define A SYNACK_TH_ACK
#define F SYNACK_TH_FIN
#define R (PKT_RISN + 1) /* the remote's next sequence number */

static uint8_t pattern[8192];

static void fill_pattern(void)
{
    for (size_t i = 0; i < sizeof(pattern); i++)
        pattern[i] = (uint8_t)(i * 7 + 3);
}

static void assert_payload(const pkt_seg *g, uint32_t off)
{
    assert_memory_equal(g->data, pattern + off, g->len);
}

static void assert_cause_timeout(const pkt_env *e)
{
    const char *c = pkt_cause(e, SYNACK_CLOSED);
    assert_non_null(c);
    if (!strstr(c, "timeout"))
        fail_msg("cause of CLOSED is \"%s\", expected a timeout", c);
}

/* Established passive connection, RTO 200 ms. */
static int open_conn(pkt_env *e, int *l)
{
    int s = pkt_open_passive(e, l, NULL);
    assert_int_equal(pkt_info(e, s).rto_us, 200000);
    return s;
}

/* Send 100 bytes at t0 = 1 s and never acknowledge them. `at_ms` are the
 * retransmission times after t0, `abort_ms` the ETIMEDOUT time. */
static void data_unanswered(pkt_env *e, int s, const uint32_t *at_ms,
                            size_t n, uint32_t abort_ms)
{
    uint32_t l = e->iss + 1;
    pkt_run_until(e, 1 * S);
    synack_time_t t0 = e->now;
    assert_int_equal(synack_send(e->st, s, pattern, 100, e->now), 100);
    assert_payload(pkt_expect_at(e, t0, A, l, R, 100), 0);
    synack_time_t end = t0 + (synack_time_t)abort_ms * MS;
    pkt_run_until(e, end - 1);
    for (size_t i = 0; i < n; i++) {
        const pkt_seg *g = pkt_expect_at(
            e, t0 + (synack_time_t)at_ms[i] * MS, A, l, R, 100);
        assert_payload(g, 0); /* same SEQ, LEN and bytes */
    }
    pkt_expect_none(e);
    synack_conn_info ci = pkt_info(e, s);
    assert_int_equal(ci.state, SYNACK_ESTABLISHED);
    assert_int_equal(ci.backoff, n);
    assert_int_equal(ci.total_retrans, n);
    assert_int_equal(ci.timer, SYNACK_TIMER_ON);
    assert_true(ci.timer_expires == end);

    pkt_run_until(e, end);
    pkt_expect_none(e); /* Linux aborts without a RST */
    assert_int_equal(pkt_state(e, s), SYNACK_CLOSED);
    assert_true(pkt_saw_time(e, SYNACK_ESTABLISHED, SYNACK_CLOSED) == end);
    assert_cause_timeout(e);
    assert_true(synack_poll(e->st, s) & SYNACK_POLLERR);
    assert_int_equal(synack_send(e->st, s, "x", 1, e->now), -SYNACK_ETIMEDOUT);
    assert_int_equal(synack_send(e->st, s, "x", 1, e->now), -SYNACK_EPIPE);
    pkt_run_for(e, 3600 * S);
    pkt_expect_none(e);
}

/* tcp_retries2=5: retransmissions at 0.2, 0.6, 1.4, 3.0, 6.2 s after the
 * original, ETIMEDOUT at 12.6 s. */
static void rexmt_backoff_retries2(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_retries2=5", NULL};
    pkt_setup(&e, sys);
    int l;
    int s = open_conn(&e, &l);
    static const uint32_t at[] = {200, 600, 1400, 3000, 6200};
    data_unanswered(&e, s, at, 5, 12600);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* tcp_rto_max_ms=1000 caps the backoff: intervals 0.2, 0.4, 0.8, 1, 1, 1
 * and 1 s before the abort (tcp_retries2=6). */
static void rexmt_backoff_capped(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_retries2=6", "tcp_rto_max_ms=1000", NULL};
    pkt_setup(&e, sys);
    int l;
    int s = open_conn(&e, &l);
    static const uint32_t at[] = {200, 600, 1400, 2400, 3400, 4400};
    data_unanswered(&e, s, at, 6, 5400);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* Defaults (tcp_retries2=15, tcp_rto_max_ms=120000, RTO 200 ms): Linux's
 * well-known 924.6 s: ten doublings up to 102.4 s, then five 120 s
 * intervals, then 120 s more. */
static void rexmt_defaults_924s(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = open_conn(&e, &l);
    static const uint32_t at[] = {200,    600,    1400,   3000,   6200,
                                  12600,  25400,  51000,  102200, 204600,
                                  324600, 444600, 564600, 684600, 804600};
    data_unanswered(&e, s, at, 15, 924600);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* Common start: three segments sent at t0 = 1 s, all lost; the timeout
 * retransmits the first unacknowledged segment only (RFC 6298 5.4; cwnd =
 * 1 MSS, RFC 5681 3.1), twice; at 0.7 s the first segment is ACKed: the
 * timer restarts (5.3) with the backed-off RTO (Karn: no sample from the
 * ambiguous ACK), the retransmission count resets, and slow start from
 * the loss window sends the next two. Returns t0. */
static synack_time_t three_lost_first_acked(pkt_env *e, int s)
{
    uint32_t x = e->iss + 1;
    const uint32_t m = 536; /* no MSS option from the peer */
    assert_int_equal(pkt_info(e, s).snd_mss, m);
    pkt_run_until(e, 1 * S);
    synack_time_t t0 = e->now;
    assert_int_equal(synack_send(e->st, s, pattern, 3 * m, e->now), 3 * m);
    for (uint32_t i = 0; i < 3; i++)
        assert_payload(pkt_expect_at(e, t0, A, x + i * m, R, m), i * m);
    pkt_run_until(e, t0 + 700 * MS);
    assert_payload(pkt_expect_at(e, t0 + 200 * MS, A, x, R, m), 0);
    assert_payload(pkt_expect_at(e, t0 + 600 * MS, A, x, R, m), 0);
    pkt_expect_none(e);
    synack_conn_info ci = pkt_info(e, s);
    assert_int_equal(ci.backoff, 2);
    assert_int_equal(ci.rto_us, 800000);
    assert_true(ci.timer_expires == t0 + 1400 * MS);

    pkt_inject(e, A, R, x + m, 65535, NULL, 0);
    assert_payload(pkt_expect_at(e, t0 + 700 * MS, A, x + m, R, m), m);
    assert_payload(pkt_expect_at(e, t0 + 700 * MS, A, x + 2 * m, R, m),
                   2 * m);
    pkt_expect_none(e);
    ci = pkt_info(e, s);
    assert_int_equal(ci.backoff, 0);
    assert_int_equal(ci.rto_us, 800000); /* Karn: still backed off */
    assert_int_equal(ci.rtt_us, 0);
    assert_true(ci.timer_expires == t0 + 1500 * MS); /* restarted: +RTO */
    return t0;
}

/* After that ACK the tcp_retries2 budget (3) starts afresh: three more
 * timeouts retransmit, doubling from the backed-off 0.8 s, then abort. */
static void rexmt_ack_resets_count(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_retries2=3", NULL};
    pkt_setup(&e, sys);
    int l;
    int s = open_conn(&e, &l);
    uint32_t x = e.iss + 1;
    const uint32_t m = 536;
    synack_time_t t0 = three_lost_first_acked(&e, s);
    pkt_run_until(&e, t0 + 12700 * MS - 1);
    assert_payload(pkt_expect_at(&e, t0 + 1500 * MS, A, x + m, R, m), m);
    assert_payload(pkt_expect_at(&e, t0 + 3100 * MS, A, x + m, R, m), m);
    assert_payload(pkt_expect_at(&e, t0 + 6300 * MS, A, x + m, R, m), m);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_ESTABLISHED);
    assert_int_equal(pkt_info(&e, s).total_retrans, 7);
    pkt_run_until(&e, t0 + 12700 * MS);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_CLOSED);
    assert_int_equal(pkt_so_error(&e, s), SYNACK_ETIMEDOUT);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* After that ACK, Karn's algorithm: the backed-off RTO is kept for new
 * data until an ACK of never-retransmitted data yields a sample; then the
 * RTO comes from the estimator again. */
static void rexmt_karn_backoff_kept_until_sample(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = open_conn(&e, &l);
    uint32_t x = e.iss + 1;
    const uint32_t m = 536;
    synack_time_t t0 = three_lost_first_acked(&e, s);
    pkt_run_until(&e, t0 + 1500 * MS);
    assert_payload(pkt_expect_at(&e, t0 + 1500 * MS, A, x + m, R, m), m);
    pkt_expect_none(&e);
    /* all acknowledged at 1.6 s: ambiguous again, no sample */
    pkt_run_until(&e, t0 + 1600 * MS);
    pkt_inject(&e, A, R, x + 3 * m, 65535, NULL, 0);
    pkt_expect_none(&e);
    synack_conn_info ci = pkt_info(&e, s);
    assert_int_equal(ci.backoff, 0);
    assert_int_equal(ci.timer, SYNACK_TIMER_NONE);
    assert_int_equal(ci.rto_us, 1600000);
    assert_int_equal(ci.rtt_us, 0);

    /* new data at 2 s runs on the backed-off RTO (1.6 s) */
    pkt_run_until(&e, t0 + 2 * S);
    assert_int_equal(synack_send(e.st, s, pattern, 10, e.now), 10);
    pkt_expect_at(&e, t0 + 2 * S, A, x + 3 * m, R, 10);
    assert_true(pkt_info(&e, s).timer_expires == t0 + 3600 * MS);
    /* acknowledged 50 ms later: a valid sample (the first, from the
     * handshake, was 0): RTTVAR = 12.5 ms, SRTT = 6.25 ms, RTO = 200 ms
     * floor */
    pkt_run_until(&e, t0 + 2050 * MS);
    pkt_inject(&e, A, R, x + 3 * m + 10, 65535, NULL, 0);
    pkt_expect_none(&e);
    ci = pkt_info(&e, s);
    assert_int_equal(ci.rtt_us, 6250);
    assert_int_equal(ci.rttvar_us, 12500);
    assert_int_equal(ci.rto_us, 200000);
    assert_int_equal(ci.timer, SYNACK_TIMER_NONE);
    /* and the next loss is timed with it */
    pkt_run_until(&e, t0 + 3 * S);
    assert_int_equal(synack_send(e.st, s, pattern, 10, e.now), 10);
    pkt_expect_at(&e, t0 + 3 * S, A, x + 3 * m + 10, R, 10);
    pkt_run_until(&e, t0 + 3300 * MS);
    pkt_expect_at(&e, t0 + 3200 * MS, A, x + 3 * m + 10, R, 10);
    pkt_expect_none(&e);
    pkt_inject(&e, A, R, x + 3 * m + 20, 65535, NULL, 0);

    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_expect(&e, SYNACK_TH_RST | A, x + 3 * m + 20, R, 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* RFC 6298 2.2/2.3: first sample R: SRTT = R, RTTVAR = R/2; then RTTVAR =
 * 3/4 RTTVAR + 1/4 |SRTT - R'|, SRTT = 7/8 SRTT + 1/8 R'; RTO = max(rto_min,
 * SRTT + 4 RTTVAR). The timer really fires at that RTO. */
static void rexmt_rtt_estimator(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_open_active_rtt(&e, 100 * MS, NULL);
    uint32_t x = e.iss + 1;
    synack_conn_info ci = pkt_info(&e, s);
    assert_int_equal(ci.rtt_us, 100000);
    assert_int_equal(ci.rttvar_us, 50000);
    assert_int_equal(ci.rto_us, 300000);

    /* a 250 ms sample: RTTVAR = 37.5 + 37.5 = 75 ms, SRTT = 87.5 + 31.25 =
     * 118.75 ms, RTO = 118.75 + 300 = 418.75 ms */
    pkt_run_until(&e, 1 * S);
    assert_int_equal(synack_send(e.st, s, pattern, 100, e.now), 100);
    pkt_expect_at(&e, 1 * S, A, x, R, 100);
    pkt_run_until(&e, 1250 * MS);
    pkt_inject(&e, A, R, x + 100, 65535, NULL, 0);
    pkt_expect_none(&e);
    ci = pkt_info(&e, s);
    assert_int_equal(ci.rtt_us, 118750);
    assert_int_equal(ci.rttvar_us, 75000);
    assert_int_equal(ci.rto_us, 418750);

    /* unacknowledged data: retransmitted exactly one RTO later, then two */
    pkt_run_until(&e, 2 * S);
    assert_int_equal(synack_send(e.st, s, pattern + 100, 100, e.now), 100);
    pkt_expect_at(&e, 2 * S, A, x + 100, R, 100);
    pkt_run_until(&e, 3500 * MS);
    pkt_expect_at(&e, 2 * S + 418750 * US, A, x + 100, R, 100);
    pkt_expect_at(&e, 2 * S + 3 * 418750 * US, A, x + 100, R, 100);
    pkt_expect_none(&e);
    /* the ACK at 3.5 s covers retransmitted data: no sample (Karn) */
    pkt_inject(&e, A, R, x + 200, 65535, NULL, 0);
    ci = pkt_info(&e, s);
    assert_int_equal(ci.rtt_us, 118750);
    assert_int_equal(ci.rttvar_us, 75000);
    assert_int_equal(ci.backoff, 0);

    /* a 100 ms sample on fresh data: RTTVAR = 56.25 + 4.6875 = 60.9375 ms,
     * SRTT = 103.90625 + 12.5 = 116.40625 ms, RTO = 360.15625 ms */
    pkt_run_until(&e, 4 * S);
    assert_int_equal(synack_send(e.st, s, pattern + 200, 100, e.now), 100);
    pkt_expect_at(&e, 4 * S, A, x + 200, R, 100);
    pkt_run_until(&e, 4100 * MS);
    pkt_inject(&e, A, R, x + 300, 65535, NULL, 0);
    ci = pkt_info(&e, s);
    assert_int_equal(ci.rtt_us, 116406);
    assert_int_equal(ci.rttvar_us, 60937);
    assert_int_equal(ci.rto_us, 360156);
    pkt_run_until(&e, 5 * S);
    assert_int_equal(synack_send(e.st, s, pattern + 300, 100, e.now), 100);
    pkt_expect_at(&e, 5 * S, A, x + 300, R, 100);
    pkt_run_until(&e, 6 * S);
    pkt_expect_at(&e, 5 * S + 360156250, A, x + 300, R, 100);
    pkt_expect_none(&e);

    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_expect(&e, SYNACK_TH_RST | A, x + 400, R, 0);
    pkt_teardown(&e, true);
}

/* A 10 ms RTT gives SRTT + 4 RTTVAR = 30 ms: the RTO is the floor,
 * tcp_rto_min (200 ms by default; 20 ms here lets the 30 ms through). */
static void rexmt_rto_min(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_open_active_rtt(&e, 10 * MS, NULL);
    synack_conn_info ci = pkt_info(&e, s);
    assert_int_equal(ci.rtt_us, 10000);
    assert_int_equal(ci.rto_us, 200000);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_expect(&e, SYNACK_TH_RST | A, e.iss + 1, R, 0);
    pkt_teardown(&e, true);

    const char *sys[] = {"tcp_rto_min_us=20000", NULL};
    pkt_setup(&e, sys);
    s = pkt_open_active_rtt(&e, 10 * MS, NULL);
    uint32_t x = e.iss + 1;
    ci = pkt_info(&e, s);
    assert_int_equal(ci.rto_us, 30000);
    pkt_run_until(&e, 1 * S);
    assert_int_equal(synack_send(e.st, s, pattern, 10, e.now), 10);
    pkt_expect_at(&e, 1 * S, A, x, R, 10);
    pkt_run_until(&e, 1100 * MS);
    pkt_expect_at(&e, 1030 * MS, A, x, R, 10);
    pkt_expect_at(&e, 1090 * MS, A, x, R, 10);
    pkt_expect_none(&e);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_expect(&e, SYNACK_TH_RST | A, x + 10, R, 0);
    pkt_teardown(&e, true);
}

/* FIN-WAIT-1 after shutdown(SHUT_WR): the FIN is retransmitted with the
 * same backoff and counts against tcp_retries2; the handle then gets
 * ETIMEDOUT. */
static void rexmt_fin_wait_1(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_retries2=3", NULL};
    pkt_setup(&e, sys);
    int l;
    int s = open_conn(&e, &l);
    uint32_t x = e.iss + 1;
    pkt_run_until(&e, 1 * S);
    synack_time_t t0 = e.now;
    pkt_drive_to(&e, s, SYNACK_FIN_WAIT_1, false); /* FIN sent at t0 */
    pkt_run_until(&e, t0 + 3 * S - 1);
    pkt_expect_at(&e, t0 + 200 * MS, F | A, x, R, 0);
    pkt_expect_at(&e, t0 + 600 * MS, F | A, x, R, 0);
    pkt_expect_at(&e, t0 + 1400 * MS, F | A, x, R, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_FIN_WAIT_1);
    pkt_run_until(&e, t0 + 3 * S);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_CLOSED);
    assert_true(pkt_saw_time(&e, SYNACK_FIN_WAIT_1, SYNACK_CLOSED) ==
                t0 + 3 * S);
    assert_cause_timeout(&e);
    assert_int_equal(pkt_so_error(&e, s), SYNACK_ETIMEDOUT);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* The same for an orphaned FIN-WAIT-1 (close()): the FIN is retransmitted
 * on the same schedule and the connection is freed when the retries are
 * spent. (Linux bounds orphans by tcp_orphan_retries instead; this stack
 * has no such tunable and uses tcp_retries2.) */
static void rexmt_fin_wait_1_orphan(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_retries2=3", NULL};
    pkt_setup(&e, sys);
    int l;
    int s = open_conn(&e, &l);
    uint32_t x = e.iss + 1;
    pkt_run_until(&e, 1 * S);
    synack_time_t t0 = e.now;
    pkt_drive_to(&e, s, SYNACK_FIN_WAIT_1, true);
    pkt_run_until(&e, t0 + 3 * S);
    pkt_expect_at(&e, t0 + 200 * MS, F | A, x, R, 0);
    pkt_expect_at(&e, t0 + 600 * MS, F | A, x, R, 0);
    pkt_expect_at(&e, t0 + 1400 * MS, F | A, x, R, 0);
    pkt_expect_none(&e);
    assert_int_equal(synack_stack_conn_count(e.st), 1); /* the listener */
    assert_true(pkt_saw_time(&e, SYNACK_FIN_WAIT_1, SYNACK_CLOSED) ==
                t0 + 3 * S);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* LAST-ACK: the FIN is retransmitted until tcp_retries2, then ETIMEDOUT. */
static void rexmt_last_ack(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_retries2=4", NULL};
    pkt_setup(&e, sys);
    int l;
    int s = open_conn(&e, &l);
    uint32_t x = e.iss + 1;
    pkt_run_until(&e, 1 * S);
    synack_time_t t0 = e.now;
    pkt_drive_to(&e, s, SYNACK_LAST_ACK, false);
    pkt_run_until(&e, t0 + 6200 * MS - 1);
    static const uint32_t at[] = {200, 600, 1400, 3000};
    for (int i = 0; i < 4; i++)
        pkt_expect_at(&e, t0 + at[i] * MS, F | A, x, R + 1, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_LAST_ACK);
    pkt_run_until(&e, t0 + 6200 * MS);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_CLOSED);
    assert_true(pkt_saw_time(&e, SYNACK_LAST_ACK, SYNACK_CLOSED) ==
                t0 + 6200 * MS);
    assert_cause_timeout(&e);
    assert_int_equal(pkt_so_error(&e, s), SYNACK_ETIMEDOUT);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* A FIN retransmission answered in time ends LAST-ACK normally. */
static void rexmt_last_ack_answered(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = open_conn(&e, &l);
    uint32_t x = e.iss + 1;
    pkt_run_until(&e, 1 * S);
    synack_time_t t0 = e.now;
    pkt_drive_to(&e, s, SYNACK_LAST_ACK, true);
    pkt_run_until(&e, t0 + 500 * MS);
    pkt_expect_at(&e, t0 + 200 * MS, F | A, x, R + 1, 0);
    pkt_inject(&e, A, R + 1, x + 1, 65535, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(synack_stack_conn_count(e.st), 1);
    assert_true(pkt_saw_time(&e, SYNACK_LAST_ACK, SYNACK_CLOSED) ==
                t0 + 500 * MS);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* Fast retransmit (RFC 5681 3.2): the third duplicate ACK retransmits the
 * first unacknowledged segment at once, long before the RTO; a partial ACK
 * during recovery retransmits the next hole at once (RFC 6582 3.2 step
 * 4) and restarts the timer; the full ACK ends recovery. */
static void rexmt_fast_retransmit_newreno(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = open_conn(&e, &l);
    uint32_t x = e.iss + 1;
    const uint32_t m = 536;
    pkt_run_until(&e, 1 * S);
    synack_time_t t0 = e.now;
    assert_int_equal(synack_send(e.st, s, pattern, 5 * m, e.now), 5 * m);
    for (uint32_t i = 0; i < 5; i++)
        pkt_expect_at(&e, t0, A, x + i * m, R, m);
    pkt_expect_none(&e);

    /* segment 1 arrives, 2 is lost, 3..5 produce duplicate ACKs */
    pkt_run_until(&e, t0 + 10 * MS);
    pkt_inject(&e, A, R, x + m, 65535, NULL, 0);
    pkt_run_until(&e, t0 + 11 * MS);
    pkt_inject(&e, A, R, x + m, 65535, NULL, 0);
    pkt_run_until(&e, t0 + 12 * MS);
    pkt_inject(&e, A, R, x + m, 65535, NULL, 0);
    pkt_expect_none(&e); /* two duplicates: nothing yet */
    pkt_run_until(&e, t0 + 13 * MS);
    pkt_inject(&e, A, R, x + m, 65535, NULL, 0);
    assert_payload(pkt_expect_at(&e, t0 + 13 * MS, A, x + m, R, m), m);
    pkt_expect_none(&e);
    assert_int_equal(pkt_info(&e, s).total_retrans, 1);
    assert_int_equal(pkt_info(&e, s).backoff, 0);

    /* the retransmission fills the first hole, segment 4 was lost too:
     * partial ACK up to segment 3 */
    pkt_run_until(&e, t0 + 20 * MS);
    pkt_inject(&e, A, R, x + 3 * m, 65535, NULL, 0);
    assert_payload(pkt_expect_at(&e, t0 + 20 * MS, A, x + 3 * m, R, m),
                   3 * m);
    pkt_expect_none(&e);
    synack_conn_info ci = pkt_info(&e, s);
    assert_int_equal(ci.total_retrans, 2);
    assert_int_equal(ci.timer, SYNACK_TIMER_ON);
    assert_true(ci.timer_expires == t0 + 220 * MS);

    /* full ACK */
    pkt_run_until(&e, t0 + 30 * MS);
    pkt_inject(&e, A, R, x + 5 * m, 65535, NULL, 0);
    pkt_expect_none(&e);
    ci = pkt_info(&e, s);
    assert_int_equal(ci.timer, SYNACK_TIMER_NONE);
    assert_int_equal(ci.send_q, 0);
    pkt_run_for(&e, 10 * S);
    pkt_expect_none(&e);
    assert_int_equal(pkt_info(&e, s).total_retrans, 2);

    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_expect(&e, SYNACK_TH_RST | A, x + 5 * m, R, 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* RFC 6298 5.1: sending new data while the timer runs does not restart
 * it: the timer set for the first segment at t0 expires at t0 + 200 ms,
 * although a second segment went out at t0 + 100 ms. */
static void rexmt_timer_not_restarted_by_new_data(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = open_conn(&e, &l);
    uint32_t x = e.iss + 1;
    pkt_setopt_int(&e, s, SYNACK_TCP_NODELAY, 1);
    pkt_run_until(&e, 1 * S);
    synack_time_t t0 = e.now;
    assert_int_equal(synack_send(e.st, s, pattern, 10, e.now), 10);
    pkt_expect_at(&e, t0, A, x, R, 10);
    pkt_run_until(&e, t0 + 100 * MS);
    assert_int_equal(synack_send(e.st, s, pattern + 10, 10, e.now), 10);
    pkt_expect_at(&e, t0 + 100 * MS, A, x + 10, R, 10);
    assert_true(pkt_info(&e, s).timer_expires == t0 + 200 * MS);
    pkt_run_until(&e, t0 + 250 * MS);
    /* the first segment again (the stack may repacketize and include
     * the second, as Linux may when collapsing) */
    pkt_seg g;
    assert_true(pkt_pop(&e, &g));
    assert_true(g.t == t0 + 200 * MS);
    assert_int_equal(g.th.seq, x);
    assert_true(g.len == 10 || g.len == 20);
    assert_memory_equal(g.data, pattern, g.len);
    pkt_expect_none(&e);
    pkt_inject(&e, A, R, x + 20, 65535, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_info(&e, s).timer, SYNACK_TIMER_NONE);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_expect(&e, SYNACK_TH_RST | A, x + 20, R, 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* RFC 5681 2 (definition of a duplicate ACK): an ACK that changes the
 * advertised window is not a duplicate; three of them trigger nothing,
 * and the loss is repaired by the RTO. */
static void rexmt_window_updates_are_not_dupacks(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = open_conn(&e, &l);
    uint32_t x = e.iss + 1;
    const uint32_t m = 536;
    pkt_run_until(&e, 1 * S);
    synack_time_t t0 = e.now;
    assert_int_equal(synack_send(e.st, s, pattern, 4 * m, e.now), 4 * m);
    for (uint32_t i = 0; i < 4; i++)
        pkt_expect_at(&e, t0, A, x + i * m, R, m);
    pkt_run_until(&e, t0 + 10 * MS);
    pkt_inject(&e, A, R, x, 60000, NULL, 0);
    pkt_inject(&e, A, R, x, 61000, NULL, 0);
    pkt_inject(&e, A, R, x, 62000, NULL, 0);
    pkt_expect_none(&e);
    pkt_run_until(&e, t0 + 200 * MS);
    assert_payload(pkt_expect_at(&e, t0 + 200 * MS, A, x, R, m), 0);
    pkt_expect_none(&e);
    pkt_inject(&e, A, R, x + 4 * m, 65535, NULL, 0);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_expect(&e, SYNACK_TH_RST | A, x + 4 * m, R, 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* With timestamps (RFC 7323 4.1) the RTT is measured from TSecr, so even
 * the ACK of a retransmission gives a sample when it echoes the
 * retransmission's TSval; an echo of a TSval from before the timeout does
 * not (it measures the recovery, not the path). Same numbers as
 * rexmt_rtt_estimator (TS clock: 1 ms). */
static void rexmt_rtt_timestamps(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    pkt_peer_opts o = {.ws = -1, .ts = true, .tsval = 5000};
    int s = pkt_open_active_rtt(&e, 100 * MS, &o);
    uint32_t x = e.iss + 1;
    uint32_t ptv = 5001; /* the peer's TSval, increasing */
    synack_conn_info ci = pkt_info(&e, s);
    assert_int_equal(ci.ts_ok, 1);
    assert_int_equal(ci.rtt_us, 100000);
    assert_int_equal(ci.rttvar_us, 50000);
    assert_int_equal(ci.rto_us, 300000);

    /* 250 ms sample */
    pkt_run_until(&e, 1 * S);
    assert_int_equal(synack_send(e.st, s, pattern, 100, e.now), 100);
    const pkt_seg *g = pkt_expect_at(&e, 1 * S, A, x, R, 100);
    assert_true(g->th.has_ts);
    uint32_t tv = g->th.tsval;
    pkt_run_until(&e, 1250 * MS);
    pkt_inject_ts(&e, A, R, x + 100, 65535, ptv++, tv, NULL, 0);
    ci = pkt_info(&e, s);
    assert_int_equal(ci.rtt_us, 118750);
    assert_int_equal(ci.rttvar_us, 75000);
    assert_int_equal(ci.rto_us, 418750);

    /* lost once; the ACK echoes the retransmission: 82 ms sample.
     * RTTVAR = 56.25 + 9.1875 = 65.4375 ms, SRTT = 103.90625 + 10.25 =
     * 114.15625 ms, RTO = 375.90625 ms */
    pkt_run_until(&e, 2 * S);
    assert_int_equal(synack_send(e.st, s, pattern + 100, 100, e.now), 100);
    pkt_expect_at(&e, 2 * S, A, x + 100, R, 100);
    pkt_run_until(&e, 2500 * MS);
    g = pkt_expect_at(&e, 2 * S + 418750 * US, A, x + 100, R, 100);
    tv = g->th.tsval;
    pkt_expect_none(&e);
    pkt_inject_ts(&e, A, R, x + 200, 65535, ptv++, tv, NULL, 0);
    ci = pkt_info(&e, s);
    assert_int_equal(ci.rtt_us, 114156);
    assert_int_equal(ci.rttvar_us, 65437);
    assert_int_equal(ci.rto_us, 375906);

    /* lost once more; this time the ACK echoes the original's TSval (the
     * original arrived late): no sample */
    pkt_run_until(&e, 3 * S);
    assert_int_equal(synack_send(e.st, s, pattern + 200, 100, e.now), 100);
    g = pkt_expect_at(&e, 3 * S, A, x + 200, R, 100);
    tv = g->th.tsval;
    pkt_run_until(&e, 3400 * MS);
    pkt_expect_at(&e, 3 * S + 375906250, A, x + 200, R, 100);
    pkt_expect_none(&e);
    pkt_inject_ts(&e, A, R, x + 300, 65535, ptv++, tv, NULL, 0);
    ci = pkt_info(&e, s);
    assert_int_equal(ci.rtt_us, 114156);
    assert_int_equal(ci.rttvar_us, 65437);

    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_expect(&e, SYNACK_TH_RST | A, x + 300, R, 0);
    pkt_teardown(&e, true);
}

/* The receiver shrinks its window to zero under data in flight (it
 * answers <ACK=SND.UNA><WND=0>). The retransmissions then act as window
 * probes (Linux tcp_retransmit_timer: "Receiver dastardly shrinks window.
 * Our retransmits become zero probes, but we should not timeout this
 * connection"; it always lets the segment at SND.UNA go); RFC 9293
 * 3.8.6.1: while the peer answers, the connection MUST NOT be closed, even
 * beyond tcp_retries2 (3 here). Each timeout sends something the peer can
 * answer; when the window opens and the data is ACKed, all is well. Then
 * the same with a peer that goes silent: ETIMEDOUT, within a few
 * tcp_rto_max_ms (2 s) of the last answer. */
static void rexmt_zero_window_shrink(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_retries2=3", "tcp_rto_max_ms=2000", NULL};
    pkt_setup(&e, sys);
    int l;
    int s = open_conn(&e, &l);
    uint32_t x = e.iss + 1;
    pkt_run_until(&e, 1 * S);
    synack_time_t t0 = e.now;
    assert_int_equal(synack_send(e.st, s, pattern, 100, e.now), 100);
    pkt_expect_at(&e, t0, A, x, R, 100);
    pkt_run_until(&e, t0 + 10 * MS);
    pkt_inject(&e, A, R, x, 0, NULL, 0); /* not taken: window 0 */
    pkt_expect_none(&e);
    unsigned sent = 0;
    synack_time_t last = t0;
    while (e.now < t0 + 30 * S) {
        synack_time_t d = synack_stack_next_deadline(e.st);
        if (d == SYNACK_TIME_NEVER)
            fail_msg("t=%.3f: no timer running with 100 bytes unacked",
                     (double)e.now / 1e9);
        pkt_run_until(&e, d);
        if (pkt_state(&e, s) != SYNACK_ESTABLISHED)
            fail_msg("t=%.3f: %s (%s) after %u answered segments", 
                     (double)e.now / 1e9,
                     synack_state_name(pkt_state(&e, s)),
                     pkt_cause(&e, SYNACK_CLOSED), sent);
        pkt_seg g;
        while (pkt_pop(&e, &g)) {
            /* the data again, or a probe below SND.UNA */
            bool data = g.th.seq == x && g.len > 0 && g.len <= 100;
            bool probe = g.th.seq == x - 1 && g.len == 0;
            if (!data && !probe)
                fail_msg("unexpected <SEQ=%u><LEN=%u>", g.th.seq, g.len);
            if (sent > 0 && g.t - last < 200 * MS)
                fail_msg("segments %.3f s apart", (double)(g.t - last) / 1e9);
            last = g.t;
            sent++;
            pkt_inject(&e, A, R, x, 0, NULL, 0);
        }
    }
    if (sent < 10)
        fail_msg("only %u segments in 30 s of zero window: the peer had "
                 "nothing to answer", sent);
    /* window opens: the data goes (or went) and is ACKed */
    pkt_inject(&e, A, R, x, 65535, NULL, 0);
    pkt_seg g;
    while (pkt_pop(&e, &g))
        assert_int_equal(g.th.seq, x);
    pkt_inject(&e, A, R, x + 100, 65535, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_info(&e, s).timer, SYNACK_TIMER_NONE);

    /* again, and now the peer goes silent after shrinking the window */
    synack_time_t t1 = e.now;
    assert_int_equal(synack_send(e.st, s, pattern, 100, e.now), 100);
    pkt_expect_at(&e, t1, A, x + 100, R, 100);
    pkt_run_until(&e, t1 + 10 * MS);
    pkt_inject(&e, A, R, x + 100, 0, NULL, 0);
    synack_time_t quiet = e.now;
    pkt_run_until(&e, quiet + 60 * S);
    while (pkt_pop(&e, &g))
        ;
    assert_int_equal(pkt_state(&e, s), SYNACK_CLOSED);
    synack_time_t end = pkt_saw_time(&e, SYNACK_ESTABLISHED, SYNACK_CLOSED);
    if (end <= quiet + 2 * S || end > quiet + 8 * S)
        fail_msg("silent peer: aborted %.3f s after its last answer, "
                 "expected within (2, 8] s",
                 (double)(end - quiet) / 1e9);
    assert_int_equal(pkt_so_error(&e, s), SYNACK_ETIMEDOUT);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

int main(void)
{
    fill_pattern();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rexmt_backoff_retries2),
        cmocka_unit_test(rexmt_backoff_capped),
        cmocka_unit_test(rexmt_defaults_924s),
        cmocka_unit_test(rexmt_ack_resets_count),
        cmocka_unit_test(rexmt_karn_backoff_kept_until_sample),
        cmocka_unit_test(rexmt_rtt_estimator),
        cmocka_unit_test(rexmt_rto_min),
        cmocka_unit_test(rexmt_rtt_timestamps),
        cmocka_unit_test(rexmt_fin_wait_1),
        cmocka_unit_test(rexmt_fin_wait_1_orphan),
        cmocka_unit_test(rexmt_last_ack),
        cmocka_unit_test(rexmt_last_ack_answered),
        cmocka_unit_test(rexmt_fast_retransmit_newreno),
        cmocka_unit_test(rexmt_timer_not_restarted_by_new_data),
        cmocka_unit_test(rexmt_window_updates_are_not_dupacks),
        cmocka_unit_test(rexmt_zero_window_shrink),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
