/* TCP_USER_TIMEOUT (RFC 5482 section 1, RFC 9293 3.8.3, Linux tcp(7)):
 * the longest time transmitted data may stay unacknowledged before the
 * connection is aborted with ETIMEDOUT. The abort happens at exactly that
 * time after the data was first sent (Linux clamps the retransmission
 * timer to the remaining user timeout), not at the next backoff step, and
 * so with fewer retransmissions than tcp_retries2 would allow. Linux also
 * lets it override TCP_KEEPCNT: with keepalive on, the connection is
 * dropped at the first keepalive expiry when at least one probe is
 * unanswered and nothing has been received for the user timeout. */
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
#define F SYNACK_TH_FIN
#define R (PKT_RISN + 1)

static int open_uto(pkt_env *e, int *l, unsigned uto_ms)
{
    int s = pkt_open_passive(e, l, NULL);
    assert_int_equal(pkt_info(e, s).rto_us, 200000);
    unsigned v = uto_ms;
    assert_int_equal(
        synack_setsockopt(e->st, s, SYNACK_TCP_USER_TIMEOUT, &v, sizeof(v)),
        0);
    unsigned got = 0;
    size_t len = sizeof(got);
    assert_int_equal(
        synack_getsockopt(e->st, s, SYNACK_TCP_USER_TIMEOUT, &got, &len), 0);
    assert_int_equal(got, uto_ms);
    return s;
}

static void assert_aborted_at(pkt_env *e, int s, int from, synack_time_t t)
{
    pkt_run_until(e, t - 1);
    pkt_expect_none(e);
    assert_int_equal(pkt_state(e, s), from);
    pkt_run_until(e, t);
    pkt_expect_none(e); /* no retransmission, no RST */
    assert_int_equal(pkt_state(e, s), SYNACK_CLOSED);
    assert_true(pkt_saw_time(e, from, SYNACK_CLOSED) == t);
    const char *c = pkt_cause(e, SYNACK_CLOSED);
    assert_non_null(c);
    assert_non_null(strstr(c, "timeout"));
    assert_int_equal(pkt_so_error(e, s), SYNACK_ETIMEDOUT);
}

/* 100 bytes sent at t0 = 1 s, never ACKed; retransmissions at 0.2, 0.6,
 * 1.4 and 3.0 s; with TCP_USER_TIMEOUT = uto_ms the connection is aborted
 * at t0 + uto_ms. `n` retransmissions come first. */
static void uto_data(unsigned uto_ms, size_t n)
{
    static const uint32_t at[] = {200, 600, 1400, 3000, 6200, 12600};
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = open_uto(&e, &l, uto_ms);
    uint32_t x = e.iss + 1;
    pkt_run_until(&e, 1 * S);
    synack_time_t t0 = e.now;
    assert_int_equal(synack_send(e.st, s, "0123456789", 10, e.now), 10);
    pkt_expect_at(&e, t0, A, x, R, 10);
    synack_time_t end = t0 + (synack_time_t)uto_ms * MS;
    pkt_run_until(&e, end - 1);
    for (size_t i = 0; i < n; i++)
        pkt_expect_at(&e, t0 + at[i] * MS, A, x, R, 10);
    pkt_expect_none(&e);
    synack_conn_info ci = pkt_info(&e, s);
    assert_int_equal(ci.timer, SYNACK_TIMER_ON);
    assert_true(ci.timer_expires == end); /* clamped to the user timeout */
    assert_aborted_at(&e, s, SYNACK_ESTABLISHED, end);
    assert_int_equal(pkt_info(&e, s).total_retrans, n);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* 5000 ms: four retransmissions (tcp_retries2=15 would allow 15), abort
 * at 5 s, not at the 6.2 s backoff step. */
static void uto_5000(void **state)
{
    (void)state;
    uto_data(5000, 4);
}

/* 1000 ms: two retransmissions, abort at 1 s (next step was 1.4 s). */
static void uto_1000(void **state)
{
    (void)state;
    uto_data(1000, 2);
}

/* Exactly on a backoff step (3000 ms): the abort wins over the
 * retransmission that was due at the same instant. */
static void uto_on_step(void **state)
{
    (void)state;
    uto_data(3000, 3);
}

/* The user timeout is about unacknowledged data: an ACK in time keeps the
 * connection; the next data gets the full timeout again; an idle
 * connection is never affected. */
static void uto_acked_in_time(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = open_uto(&e, &l, 2000);
    uint32_t x = e.iss + 1;
    pkt_run_until(&e, 1 * S);
    synack_time_t t0 = e.now;
    assert_int_equal(synack_send(e.st, s, "a", 1, e.now), 1);
    pkt_run_until(&e, t0 + 1900 * MS);
    pkt_expect_at(&e, t0, A, x, R, 1);
    pkt_expect_at(&e, t0 + 200 * MS, A, x, R, 1);
    pkt_expect_at(&e, t0 + 600 * MS, A, x, R, 1);
    pkt_expect_at(&e, t0 + 1400 * MS, A, x, R, 1);
    pkt_inject(&e, A, R, x + 1, 65535, NULL, 0);
    pkt_expect_none(&e);
    /* idle for an hour: nothing */
    pkt_run_for(&e, 3600 * S);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_ESTABLISHED);
    /* new data: a fresh 2 s */
    synack_time_t t1 = e.now;
    assert_int_equal(synack_send(e.st, s, "b", 1, e.now), 1);
    pkt_expect_at(&e, t1, A, x + 1, R, 1);
    pkt_run_until(&e, t1 + 1900 * MS);
    /* the RTO is still the backed-off 1.6 s (Karn: no sample since) */
    pkt_expect_at(&e, t1 + 1600 * MS, A, x + 1, R, 1);
    pkt_expect_none(&e);
    assert_aborted_at(&e, s, SYNACK_ESTABLISHED, t1 + 2 * S);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* A FIN counts as transmitted data: FIN-WAIT-1 with a 1000 ms user
 * timeout: FIN retransmitted at 0.2 and 0.6 s, abort at 1 s. */
static void uto_fin(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = open_uto(&e, &l, 1000);
    uint32_t x = e.iss + 1;
    pkt_run_until(&e, 1 * S);
    synack_time_t t0 = e.now;
    pkt_drive_to(&e, s, SYNACK_FIN_WAIT_1, false);
    pkt_run_until(&e, t0 + 1 * S - 1);
    pkt_expect_at(&e, t0 + 200 * MS, F | A, x, R, 0);
    pkt_expect_at(&e, t0 + 600 * MS, F | A, x, R, 0);
    assert_aborted_at(&e, s, SYNACK_FIN_WAIT_1, t0 + 1 * S);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* Linux tcp(7): "when used with the TCP keepalive (SO_KEEPALIVE) option,
 * TCP_USER_TIMEOUT will override keepalive to determine when to close a
 * connection due to keepalive failure" (tcp_keepalive_timer). KEEPIDLE
 * 10, KEEPINTVL 2, KEEPCNT 9, user timeout 13 s: probes at 10 and 12 s;
 * at 14 s nothing has been received for 14 >= 13 s and a probe is
 * outstanding: RST and ETIMEDOUT (KEEPCNT alone would wait until 28 s). */
static void uto_overrides_keepcnt(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = open_uto(&e, &l, 13000);
    uint32_t x = e.iss + 1;
    synack_time_t t0 = e.now;
    pkt_setopt_int(&e, s, SYNACK_SO_KEEPALIVE, 1);
    pkt_setopt_int(&e, s, SYNACK_TCP_KEEPIDLE, 10);
    pkt_setopt_int(&e, s, SYNACK_TCP_KEEPINTVL, 2);
    pkt_setopt_int(&e, s, SYNACK_TCP_KEEPCNT, 9);
    pkt_run_until(&e, t0 + 14 * S - 1);
    pkt_expect_at(&e, t0 + 10 * S, A, x - 1, R, 0);
    pkt_expect_at(&e, t0 + 12 * S, A, x - 1, R, 0);
    pkt_expect_none(&e);
    pkt_run_until(&e, t0 + 14 * S);
    pkt_seg g;
    if (!pkt_pop(&e, &g))
        fail_msg("nothing sent at t=14 s; expected the keepalive RST (user "
                 "timeout 13 s overrides KEEPCNT)");
    if (g.th.flags != (SYNACK_TH_RST | A))
        fail_msg("sent flags %#x at t=%.3f; expected RST,ACK (user timeout "
                 "13 s overrides KEEPCNT 9)",
                 g.th.flags, (double)g.t / 1e9);
    assert_int_equal(g.th.seq, x);
    assert_true(g.t == t0 + 14 * S);
    assert_int_equal(pkt_state(&e, s), SYNACK_CLOSED);
    assert_int_equal(pkt_so_error(&e, s), SYNACK_ETIMEDOUT);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* Zero window (Linux tcp(7): "or buffered data may remain untransmitted
 * (due to zero window size)"): probes answered with a zero window do not
 * keep the connection beyond the user timeout. 2000 ms: probes at 0.2,
 * 0.6, 1.4 s; at the 3.0 s expiry the window has been closed on the
 * waiting data for more than 2 s: ETIMEDOUT, no probe. */
static void uto_zero_window(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = open_uto(&e, &l, 2000);
    uint32_t x = e.iss + 1;
    pkt_run_until(&e, 500 * MS);
    pkt_inject(&e, A, R, x, 0, NULL, 0);
    pkt_run_until(&e, 1 * S);
    synack_time_t t0 = e.now;
    assert_int_equal(synack_send(e.st, s, "0123456789", 10, e.now), 10);
    pkt_expect_none(&e);
    static const uint32_t at[] = {200, 600, 1400};
    for (int i = 0; i < 3; i++) {
        pkt_run_until(&e, t0 + at[i] * MS);
        pkt_expect_at(&e, t0 + at[i] * MS, A, x - 1, R, 0);
        pkt_inject(&e, A, R, x, 0, NULL, 0);
    }
    assert_aborted_at(&e, s, SYNACK_ESTABLISHED, t0 + 3 * S);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(uto_5000),
        cmocka_unit_test(uto_1000),
        cmocka_unit_test(uto_on_step),
        cmocka_unit_test(uto_acked_in_time),
        cmocka_unit_test(uto_fin),
        cmocka_unit_test(uto_overrides_keepcnt),
        cmocka_unit_test(uto_zero_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
