/* The timers of the closing states.
 *
 * FIN-WAIT-2 (Linux semantics; RFC 9293 lets a connection wait there
 * forever): a connection whose application has closed it (orphan) is
 * dropped tcp_fin_timeout seconds after it entered FIN-WAIT-2, or after
 * the close() if that came later; one that is only shut down for writing
 * stays in FIN-WAIT-2 as long as it likes (the application may still read).
 *
 * TIME-WAIT (RFC 9293 3.10.7.4 and 3.10.8): 2*MSL, here tcp_timewait_len
 * (Linux TCP_TIMEWAIT_LEN, 60 s); a retransmitted FIN is acknowledged
 * again and restarts the 2*MSL timer, so the connection goes CLOSED
 * exactly tcp_timewait_len after the last FIN. Nothing is sent when either
 * timer expires. */
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

/* The one connection that is not the listener. */
static synack_conn_info the_conn(pkt_env *e)
{
    synack_conn_info ci[8];
    size_t n = synack_conn_list(e->st, ci, 8);
    for (size_t i = 0; i < n && i < 8; i++)
        if (ci[i].state != SYNACK_LISTEN)
            return ci[i];
    fail_msg("no connection besides the listener");
    return ci[0];
}

static void assert_gone_at(pkt_env *e, int from, synack_time_t t,
                           const char *cause_word)
{
    pkt_run_until(e, t - 1);
    pkt_expect_none(e);
    assert_int_equal(pkt_conn_state(e), from);
    synack_conn_info ci = the_conn(e);
    assert_int_equal(ci.timer, SYNACK_TIMER_TIMEWAIT);
    assert_true(ci.timer_expires == t);
    pkt_run_until(e, t);
    pkt_expect_none(e); /* silently */
    assert_int_equal(pkt_conn_state(e), SYNACK_CLOSED);
    assert_true(pkt_saw_time(e, from, SYNACK_CLOSED) == t);
    const char *c = pkt_cause(e, SYNACK_CLOSED);
    assert_non_null(c);
    if (!strstr(c, cause_word))
        fail_msg("cause \"%s\" does not mention \"%s\"", c, cause_word);
}

/* ---- FIN-WAIT-2 ---------------------------------------------------------- */

/* close(), our FIN ACKed at once: CLOSED exactly 60 s later. */
static void finwait2_orphan_default(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = pkt_open_passive(&e, &l, NULL);
    pkt_run_until(&e, 1 * S);
    synack_time_t t0 = e.now;
    pkt_drive_to(&e, s, SYNACK_FIN_WAIT_2, true);
    assert_true(pkt_saw_time(&e, SYNACK_FIN_WAIT_1, SYNACK_FIN_WAIT_2) == t0);
    assert_gone_at(&e, SYNACK_FIN_WAIT_2, t0 + 60 * S, "fin_timeout");
    assert_int_equal(synack_stack_conn_count(e.st), 1);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* tcp_fin_timeout=5, and the FIN is ACKed 100 ms after the close: the
 * 5 s run from entering FIN-WAIT-2. */
static void finwait2_orphan_custom(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_fin_timeout=5", NULL};
    pkt_setup(&e, sys);
    int l;
    int s = pkt_open_passive(&e, &l, NULL);
    uint32_t x = e.iss + 1;
    pkt_run_until(&e, 1 * S);
    synack_time_t t0 = e.now;
    pkt_drive_to(&e, s, SYNACK_FIN_WAIT_1, true);
    pkt_run_until(&e, t0 + 100 * MS);
    pkt_inject(&e, A, R, x + 1, 65535, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_conn_state(&e), SYNACK_FIN_WAIT_2);
    assert_gone_at(&e, SYNACK_FIN_WAIT_2, t0 + 5100 * MS, "fin_timeout");
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* shutdown(SHUT_WR) only: FIN-WAIT-2 indefinitely (Linux applies
 * tcp_fin_timeout to orphans only); data still arrives; the peer's FIN
 * eventually leads through TIME-WAIT to CLOSED. */
static void finwait2_shutdown_stays(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_fin_timeout=5", NULL};
    pkt_setup(&e, sys);
    int l;
    int s = pkt_open_passive(&e, &l, NULL);
    uint32_t x = e.iss + 1;
    pkt_run_until(&e, 1 * S);
    pkt_drive_to(&e, s, SYNACK_FIN_WAIT_2, false);
    assert_int_equal(pkt_info(&e, s).timer, SYNACK_TIMER_NONE);
    pkt_run_for(&e, 10 * 3600 * S);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_FIN_WAIT_2);
    assert_true(synack_stack_next_deadline(e.st) == SYNACK_TIME_NEVER);

    /* half-close: the peer's data is still delivered */
    synack_time_t t1 = e.now;
    pkt_inject(&e, A, R, x + 1, 65535, "late", 4);
    pkt_run_until(&e, t1 + 40 * MS);
    pkt_expect_at(&e, t1 + 40 * MS, A, x + 1, R + 4, 0);
    char b[8];
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now), 4);
    assert_memory_equal(b, "late", 4);
    pkt_inject(&e, F | A, R + 4, x + 1, 65535, NULL, 0);
    pkt_expect_at(&e, e.now, A, x + 1, R + 5, 0);
    assert_int_equal(pkt_state(&e, s), SYNACK_TIME_WAIT);
    assert_gone_at(&e, SYNACK_TIME_WAIT, t1 + 40 * MS + 60 * S, "2MSL");
    assert_int_equal(pkt_state(&e, s), SYNACK_CLOSED);
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now), 0);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* shutdown(SHUT_WR), FIN-WAIT-2 for 100 s, then close(): the fin timeout
 * runs from the close (Linux tcp_close in FIN-WAIT-2). */
static void finwait2_close_later(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = pkt_open_passive(&e, &l, NULL);
    pkt_run_until(&e, 1 * S);
    pkt_drive_to(&e, s, SYNACK_FIN_WAIT_2, false);
    pkt_run_until(&e, 101 * S);
    pkt_expect_none(&e);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_expect_none(&e);
    assert_gone_at(&e, SYNACK_FIN_WAIT_2, 161 * S, "fin_timeout");
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* An orphan in FIN-WAIT-2 gets the peer's FIN before tcp_fin_timeout:
 * TIME-WAIT, and tcp_timewait_len from then on decides. */
static void finwait2_orphan_then_fin(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_fin_timeout=30", "tcp_timewait_len=60", NULL};
    pkt_setup(&e, sys);
    int l;
    int s = pkt_open_passive(&e, &l, NULL);
    uint32_t x = e.iss + 1;
    pkt_run_until(&e, 1 * S);
    synack_time_t t0 = e.now;
    pkt_drive_to(&e, s, SYNACK_FIN_WAIT_2, true);
    pkt_run_until(&e, t0 + 10 * S);
    pkt_inject(&e, F | A, R, x + 1, 65535, NULL, 0);
    pkt_expect_at(&e, t0 + 10 * S, A, x + 1, R + 1, 0);
    assert_int_equal(pkt_conn_state(&e), SYNACK_TIME_WAIT);
    assert_gone_at(&e, SYNACK_TIME_WAIT, t0 + 70 * S, "2MSL");
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* ---- TIME-WAIT ------------------------------------------------------------ */

/* Default: 60 s after entering TIME-WAIT. */
static void timewait_default(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = pkt_open_passive(&e, &l, NULL);
    pkt_run_until(&e, 1 * S);
    synack_time_t t0 = e.now;
    pkt_drive_to(&e, s, SYNACK_TIME_WAIT, true);
    assert_true(pkt_saw_time(&e, SYNACK_FIN_WAIT_2, SYNACK_TIME_WAIT) == t0);
    assert_gone_at(&e, SYNACK_TIME_WAIT, t0 + 60 * S, "2MSL");
    assert_int_equal(synack_stack_conn_count(e.st), 1);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* tcp_timewait_len=10, on a connection the application still holds
 * (shutdown path): the handle sees TIME-WAIT then CLOSED, at +10 s. */
static void timewait_custom(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_timewait_len=10", NULL};
    pkt_setup(&e, sys);
    int l;
    int s = pkt_open_passive(&e, &l, NULL);
    pkt_run_until(&e, 1 * S);
    synack_time_t t0 = e.now;
    pkt_drive_to(&e, s, SYNACK_TIME_WAIT, false);
    assert_int_equal(pkt_state(&e, s), SYNACK_TIME_WAIT);
    synack_conn_info ci = pkt_info(&e, s);
    assert_int_equal(ci.timer, SYNACK_TIMER_TIMEWAIT);
    assert_true(ci.timer_expires == t0 + 10 * S);
    assert_gone_at(&e, SYNACK_TIME_WAIT, t0 + 10 * S, "2MSL");
    assert_int_equal(pkt_state(&e, s), SYNACK_CLOSED);
    assert_int_equal(pkt_so_error(&e, s), 0); /* a normal end */
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* Retransmitted FINs at +4 s and +7 s are each ACKed at once and restart
 * the timer: CLOSED at +17 s, exactly tcp_timewait_len (10 s) after the
 * last one -- not at +10 or +14. */
static void timewait_fin_restarts(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_timewait_len=10", NULL};
    pkt_setup(&e, sys);
    int l;
    int s = pkt_open_passive(&e, &l, NULL);
    uint32_t x = e.iss + 1;
    pkt_run_until(&e, 1 * S);
    synack_time_t t0 = e.now;
    pkt_drive_to(&e, s, SYNACK_TIME_WAIT, true);
    pkt_run_until(&e, t0 + 4 * S);
    pkt_inject(&e, F | A, R, x + 1, 65535, NULL, 0);
    pkt_expect_at(&e, t0 + 4 * S, A, x + 1, R + 1, 0);
    pkt_expect_none(&e);
    assert_true(the_conn(&e).timer_expires == t0 + 14 * S);
    pkt_run_until(&e, t0 + 7 * S);
    pkt_inject(&e, F | A, R, x + 1, 65535, NULL, 0);
    pkt_expect_at(&e, t0 + 7 * S, A, x + 1, R + 1, 0);
    pkt_expect_none(&e);
    pkt_run_until(&e, t0 + 14 * S);
    assert_int_equal(pkt_conn_state(&e), SYNACK_TIME_WAIT);
    assert_gone_at(&e, SYNACK_TIME_WAIT, t0 + 17 * S, "2MSL");
    /* the same 4-tuple is free again: a FIN now gets a RST */
    pkt_inject(&e, F | A, R, x + 1, 65535, NULL, 0);
    pkt_expect(&e, SYNACK_TH_RST, x + 1, 0, 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* A FIN retransmitted by a peer that also carries our FIN's ACK (RFC 9293:
 * the only thing that can arrive in TIME-WAIT) restarts the default 60 s
 * timer as well; a bare ACK does not. */
static void timewait_ack_does_not_restart(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = pkt_open_passive(&e, &l, NULL);
    uint32_t x = e.iss + 1;
    pkt_run_until(&e, 1 * S);
    synack_time_t t0 = e.now;
    pkt_drive_to(&e, s, SYNACK_TIME_WAIT, true);
    pkt_run_until(&e, t0 + 30 * S);
    pkt_inject(&e, A, R + 1, x + 1, 65535, NULL, 0); /* a stray ACK */
    pkt_expect_none(&e);
    assert_true(the_conn(&e).timer_expires == t0 + 60 * S);
    pkt_run_until(&e, t0 + 50 * S);
    pkt_inject(&e, F | A, R, x + 1, 65535, NULL, 0);
    pkt_expect_at(&e, t0 + 50 * S, A, x + 1, R + 1, 0);
    assert_gone_at(&e, SYNACK_TIME_WAIT, t0 + 110 * S, "2MSL");
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* Through CLOSING: TIME-WAIT is entered when our FIN is ACKed, and the
 * 2*MSL count starts then. */
static void timewait_from_closing(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_timewait_len=20", NULL};
    pkt_setup(&e, sys);
    int l;
    int s = pkt_open_passive(&e, &l, NULL);
    uint32_t x = e.iss + 1;
    pkt_run_until(&e, 1 * S);
    synack_time_t t0 = e.now;
    uint32_t r = pkt_drive_to(&e, s, SYNACK_CLOSING, true);
    pkt_run_until(&e, t0 + 150 * MS);
    /* our FIN is retransmitted at +200 ms unless ACKed: ACK at 150 ms */
    pkt_inject(&e, A, r, x + 1, 65535, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_conn_state(&e), SYNACK_TIME_WAIT);
    assert_gone_at(&e, SYNACK_TIME_WAIT, t0 + 150 * MS + 20 * S, "2MSL");
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* FIN-WAIT-1 -> TIME-WAIT on a FIN that also ACKs our FIN, 300 ms after
 * the close: 2*MSL from then. */
static void timewait_from_fin_wait_1(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_timewait_len=20", NULL};
    pkt_setup(&e, sys);
    int l;
    int s = pkt_open_passive_rtt(&e, &l, 300 * MS, NULL);
    uint32_t x = e.iss + 1;
    pkt_run_until(&e, 1 * S);
    synack_time_t t0 = e.now;
    pkt_drive_to(&e, s, SYNACK_FIN_WAIT_1, true);
    pkt_run_until(&e, t0 + 300 * MS);
    pkt_expect_none(&e); /* RTO is 900 ms: no retransmission yet */
    pkt_inject(&e, F | A, R, x + 1, 65535, NULL, 0);
    pkt_expect_at(&e, t0 + 300 * MS, A, x + 1, R + 1, 0);
    assert_true(pkt_saw(&e, SYNACK_FIN_WAIT_1, SYNACK_TIME_WAIT));
    assert_gone_at(&e, SYNACK_TIME_WAIT, t0 + 20300 * MS, "2MSL");
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(finwait2_orphan_default),
        cmocka_unit_test(finwait2_orphan_custom),
        cmocka_unit_test(finwait2_shutdown_stays),
        cmocka_unit_test(finwait2_close_later),
        cmocka_unit_test(finwait2_orphan_then_fin),
        cmocka_unit_test(timewait_default),
        cmocka_unit_test(timewait_custom),
        cmocka_unit_test(timewait_fin_restarts),
        cmocka_unit_test(timewait_ack_does_not_restart),
        cmocka_unit_test(timewait_from_closing),
        cmocka_unit_test(timewait_from_fin_wait_1),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
