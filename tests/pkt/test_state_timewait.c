/* RFC 9293 state diagram, TIME-WAIT: the 2MSL timeout, RST (RFC 1337 via
 * tcp_rfc1337), a retransmitted FIN, and SYNs. The 2MSL restart timing is
 * tested with the timers (test_timer_*). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pkt.h"

#define S_ SYNACK_TH_SYN
#define A_ SYNACK_TH_ACK
#define F_ SYNACK_TH_FIN
#define R_ SYNACK_TH_RST
#define P_ SYNACK_TH_PSH

static synack_conn_info info_nonlisten(pkt_env *e)
{
    synack_conn_info ci[4];
    size_t n = synack_conn_list(e->st, ci, 4);
    for (size_t i = 0; i < n && i < 4; i++)
        if (ci[i].state != SYNACK_LISTEN)
            return ci[i];
    fail_msg("no connection");
    return ci[0];
}

/* Enter TIME-WAIT at e->now via FIN-WAIT-2 (orphaned); returns RCV.NXT. */
static uint32_t to_timewait(pkt_env *e)
{
    int s = pkt_open_active(e, NULL);
    return pkt_drive_to(e, s, SYNACK_TIME_WAIT, true);
}

/* TIME-WAIT -> CLOSED when 2MSL (tcp_timewait_len, 60 s) expires, not a
 * nanosecond before; nothing is sent. */
static void tw_2msl_timeout_exact(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    pkt_run_for(&e, 1234 * SYNACK_MSEC);
    to_timewait(&e);
    synack_time_t t0 = pkt_saw_time(&e, SYNACK_FIN_WAIT_2, SYNACK_TIME_WAIT);
    assert_int_equal(t0, e.now);
    synack_conn_info ci = info_nonlisten(&e);
    assert_int_equal(ci.timer, SYNACK_TIMER_TIMEWAIT);
    assert_int_equal(ci.timer_expires, t0 + 60 * SYNACK_SEC);
    assert_int_equal(synack_stack_next_deadline(e.st), t0 + 60 * SYNACK_SEC);
    pkt_run_until(&e, t0 + 60 * SYNACK_SEC - 1);
    assert_int_equal(pkt_conn_state(&e), SYNACK_TIME_WAIT);
    pkt_run_until(&e, t0 + 60 * SYNACK_SEC);
    assert_int_equal(pkt_conn_state(&e), SYNACK_CLOSED);
    assert_int_equal(pkt_saw_time(&e, SYNACK_TIME_WAIT, SYNACK_CLOSED),
                     t0 + 60 * SYNACK_SEC);
    assert_string_equal(pkt_cause(&e, SYNACK_CLOSED), "timeout 2MSL");
    pkt_expect_none(&e);
    assert_int_equal(synack_stack_next_deadline(e.st), SYNACK_TIME_NEVER);
    pkt_teardown(&e, true);
}

/* The length follows tcp_timewait_len. */
static void tw_2msl_follows_sysctl(void **state)
{
    (void)state;
    pkt_env e;
    const char *const sys[] = {"tcp_timewait_len=7", NULL};
    pkt_setup(&e, sys);
    to_timewait(&e);
    synack_time_t t0 = pkt_saw_time(&e, SYNACK_FIN_WAIT_2, SYNACK_TIME_WAIT);
    pkt_run_until(&e, t0 + 7 * SYNACK_SEC - 1);
    assert_int_equal(pkt_conn_state(&e), SYNACK_TIME_WAIT);
    pkt_run_until(&e, t0 + 7 * SYNACK_SEC);
    assert_int_equal(pkt_conn_state(&e), SYNACK_CLOSED);
    assert_int_equal(pkt_saw_time(&e, SYNACK_TIME_WAIT, SYNACK_CLOSED),
                     t0 + 7 * SYNACK_SEC);
    pkt_expect_none(&e);
    pkt_teardown(&e, true);
}

/* A handle kept open (shutdown, not close) sees the same: TIME-WAIT, then
 * CLOSED; reads give EOF throughout, no error. */
static void tw_with_handle(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_open_active(&e, NULL);
    pkt_drive_to(&e, s, SYNACK_TIME_WAIT, false);
    assert_int_equal(pkt_state(&e, s), SYNACK_TIME_WAIT);
    char b[4];
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now), 0);
    assert_true(synack_poll(e.st, s) & SYNACK_POLLHUP);
    pkt_run_for(&e, 60 * SYNACK_SEC);
    assert_int_equal(pkt_state(&e, s), SYNACK_CLOSED);
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now), 0);
    assert_int_equal(pkt_so_error(&e, s), 0);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_expect_none(&e);
    pkt_teardown(&e, true);
}

/* tcp_rfc1337=0 (default, as Linux): a RST at RCV.NXT ends TIME-WAIT at
 * once (RFC 9293 3.10.7.4 second step). */
static void tw_rst_closes_by_default(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    char v[8];
    assert_true(synack_sysctl_get(e.st, "tcp_rfc1337", v, sizeof(v)) > 0);
    assert_string_equal(v, "0");
    uint32_t r = to_timewait(&e);
    pkt_inject(&e, R_, r, 0, 0, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_conn_state(&e), SYNACK_CLOSED);
    assert_true(pkt_saw(&e, SYNACK_TIME_WAIT, SYNACK_CLOSED));
    assert_string_equal(pkt_cause(&e, SYNACK_CLOSED), "rcv RST");
    assert_int_equal(synack_stack_conn_count(e.st), 0);
    pkt_teardown(&e, true);
}

/* tcp_rfc1337=1: RST in TIME-WAIT is ignored (RFC 1337 TIME-WAIT
 * assassination fix), counted as a drop; 2MSL runs to its end. */
static void tw_rst_ignored_with_rfc1337(void **state)
{
    (void)state;
    pkt_env e;
    const char *const sys[] = {"tcp_rfc1337=1", NULL};
    pkt_setup(&e, sys);
    uint32_t r = to_timewait(&e);
    synack_time_t t0 = e.now;
    pkt_run_for(&e, SYNACK_SEC);
    pkt_inject(&e, R_, r, 0, 0, NULL, 0);
    pkt_inject(&e, R_ | A_, r, e.iss + 2, 0, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_conn_state(&e), SYNACK_TIME_WAIT);
    assert_int_equal(pkt_drops(&e, SYNACK_DROP_TCP_RST_TIME_WAIT), 2);
    synack_conn_info ci = info_nonlisten(&e);
    assert_int_equal(ci.timer_expires, t0 + 60 * SYNACK_SEC); /* unchanged */
    pkt_run_until(&e, t0 + 60 * SYNACK_SEC);
    assert_int_equal(pkt_conn_state(&e), SYNACK_CLOSED);
    pkt_expect_none(&e);
    pkt_teardown(&e, true);
}

/* TIME-WAIT: the peer retransmits its FIN (our last ACK was lost): ACK it
 * again, stay in TIME-WAIT. */
static void tw_dup_fin_reacked(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    uint32_t r = to_timewait(&e);
    pkt_run_for(&e, 2 * SYNACK_SEC);
    pkt_inject(&e, F_ | A_, r - 1, e.iss + 2, 65535, NULL, 0);
    pkt_expect(&e, A_, e.iss + 2, r, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_conn_state(&e), SYNACK_TIME_WAIT);
    pkt_inject(&e, F_ | A_, r - 1, e.iss + 2, 65535, NULL, 0);
    pkt_expect(&e, A_, e.iss + 2, r, 0);
    pkt_expect_none(&e);
    pkt_run_for(&e, 70 * SYNACK_SEC);
    assert_int_equal(pkt_conn_state(&e), SYNACK_CLOSED);
    pkt_teardown(&e, true);
}

/* TIME-WAIT, no listener: a SYN gets a challenge ACK (RFC 5961 4.2 as
 * RFC 9293 3.10.7.4 fourth step recommends); the state is unchanged. */
static void tw_syn_challenge_ack(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    uint32_t r = to_timewait(&e);
    pkt_inject(&e, S_, r + 5000, 0, 65535, NULL, 0);
    pkt_expect(&e, A_, e.iss + 2, r, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_conn_state(&e), SYNACK_TIME_WAIT);
    pkt_run_for(&e, 60 * SYNACK_SEC);
    assert_int_equal(pkt_conn_state(&e), SYNACK_CLOSED);
    pkt_teardown(&e, true);
}

/* TIME-WAIT on a listening port, the same peer connects again with a SYN
 * above RCV.NXT and inside the window: the old incarnation is closed and
 * the SYN opens a new one (RFC 1122 4.2.2.13; the new ISS is above the old
 * sequence space). An old SYN (not above RCV.NXT) gets a challenge ACK; a
 * SYN beyond the window fails the first step (sequence check) and gets an
 * ACK (RFC 9293 3.10.7.4; Linux would reopen for any SEG.SEQ > RCV.NXT). */
static void tw_new_syn_reopens_on_listener(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = pkt_open_passive(&e, &l, NULL);
    uint32_t old_iss = e.iss;
    uint32_t r = pkt_drive_to(&e, s, SYNACK_TIME_WAIT, true);
    pkt_run_for(&e, SYNACK_SEC);
    /* old SYN */
    pkt_inject(&e, S_, PKT_RISN, 0, 65535, NULL, 0);
    pkt_expect(&e, A_, old_iss + 2, r, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_conn_state(&e), SYNACK_TIME_WAIT);
    /* SYN beyond the window */
    pkt_inject(&e, S_, r + 100000, 0, 65535, NULL, 0);
    pkt_expect(&e, A_, old_iss + 2, r, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_conn_state(&e), SYNACK_TIME_WAIT);
    /* new SYN in the window */
    pkt_inject(&e, S_, r + 1000, 0, 65535, NULL, 0);
    pkt_seg sa;
    assert_true(pkt_pop(&e, &sa));
    assert_int_equal(sa.th.flags, S_ | A_);
    assert_int_equal(sa.th.ack, r + 1001);
    assert_true((int32_t)(sa.th.seq - (old_iss + 2)) > 0);
    pkt_expect_none(&e);
    assert_true(pkt_saw(&e, SYNACK_TIME_WAIT, SYNACK_CLOSED));
    assert_int_equal(pkt_conn_state(&e), SYNACK_SYN_RECEIVED);
    assert_int_equal(synack_stack_conn_count(e.st), 2);
    pkt_inject(&e, A_, r + 1001, sa.th.seq + 1, 65535, NULL, 0);
    int s2 = synack_accept(e.st, l, NULL);
    assert_true(s2 >= 0);
    assert_int_equal(synack_abort(e.st, s2, e.now), 0);
    pkt_expect(&e, R_ | A_, sa.th.seq + 1, r + 1001, 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* TIME-WAIT -> CLOSED on abort() of a handle still open: delete the TCB,
 * nothing sent (RFC 9293 3.10.5). */
static void tw_abort_deletes_silently(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_open_active(&e, NULL);
    pkt_drive_to(&e, s, SYNACK_TIME_WAIT, false);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_expect_none(&e);
    assert_true(pkt_saw(&e, SYNACK_TIME_WAIT, SYNACK_CLOSED));
    assert_int_equal(synack_stack_conn_count(e.st), 0);
    assert_int_equal(synack_stack_next_deadline(e.st), SYNACK_TIME_NEVER);
    pkt_teardown(&e, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tw_2msl_timeout_exact),
        cmocka_unit_test(tw_2msl_follows_sysctl),
        cmocka_unit_test(tw_with_handle),
        cmocka_unit_test(tw_rst_closes_by_default),
        cmocka_unit_test(tw_rst_ignored_with_rfc1337),
        cmocka_unit_test(tw_dup_fin_reacked),
        cmocka_unit_test(tw_syn_challenge_ack),
        cmocka_unit_test(tw_new_syn_reopens_on_listener),
        cmocka_unit_test(tw_abort_deletes_silently),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
