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
 * above RCV.NXT: the old incarnation is closed and the SYN opens a new one
 * (RFC 9293 3.10.7.4 allows it, RFC 1122 4.2.2.13's rule, as Linux), with
 * ISS = old SND.NXT + 65535 + 2. An old SYN (not above RCV.NXT) gets a
 * challenge ACK and TIME-WAIT stays. A SYN far beyond the window reopens
 * too (the rule is "above RCV.NXT", as Linux). */
static void tw_reopen_case(uint32_t above)
{
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
    /* SYN at RCV.NXT: not above it */
    pkt_inject(&e, S_, r, 0, 65535, NULL, 0);
    pkt_expect(&e, A_, old_iss + 2, r, 0);
    assert_int_equal(pkt_conn_state(&e), SYNACK_TIME_WAIT);
    /* new SYN */
    pkt_inject(&e, S_, r + above, 0, 65535, NULL, 0);
    pkt_seg sa;
    assert_true(pkt_pop(&e, &sa));
    assert_int_equal(sa.th.flags, S_ | A_);
    assert_int_equal(sa.th.ack, r + above + 1);
    assert_int_equal(sa.th.seq, old_iss + 2 + 65535 + 2);
    pkt_expect_none(&e);
    assert_true(pkt_saw(&e, SYNACK_TIME_WAIT, SYNACK_CLOSED));
    assert_int_equal(pkt_conn_state(&e), SYNACK_SYN_RECEIVED);
    assert_int_equal(synack_stack_conn_count(e.st), 2);
    pkt_inject(&e, A_, r + above + 1, sa.th.seq + 1, 65535, NULL, 0);
    int s2 = synack_accept(e.st, l, NULL);
    assert_true(s2 >= 0);
    assert_int_equal(synack_abort(e.st, s2, e.now), 0);
    pkt_expect(&e, R_ | A_, sa.th.seq + 1, r + above + 1, 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

static void tw_new_syn_reopens_on_listener(void **state)
{
    (void)state;
    tw_reopen_case(1000);     /* in the window */
    tw_reopen_case(100000);   /* beyond the window */
    tw_reopen_case(0x7fffffffu); /* as far above as sequence space allows */
}

/* RFC 6191: when the old incarnation used timestamps and the new SYN has
 * them, the TSval decides, not the sequence number: a SYN below RCV.NXT
 * with a newer TSval reopens; a SYN above RCV.NXT with an older TSval fails
 * PAWS and does not. */
static void tw_rfc6191_timestamps(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    pkt_peer_opts o = {.mss = 1460, .ws = -1, .ts = true, .tsval = 5000};
    int l = pkt_listen(&e, 4);
    pkt_inject_syn(&e, &o);
    pkt_seg sa;
    assert_true(pkt_pop(&e, &sa));
    assert_true(sa.th.has_ts);
    e.iss = sa.th.seq;
    pkt_inject_ts(&e, A_, PKT_RISN + 1, e.iss + 1, 65535, 5001, sa.th.tsval,
                  NULL, 0);
    int s = synack_accept(e.st, l, NULL);
    assert_true(s >= 0);
    /* we close first: FIN, the peer ACKs it and sends its FIN */
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_seg f;
    assert_true(pkt_pop(&e, &f));
    assert_int_equal(f.th.flags, F_ | A_);
    pkt_inject_ts(&e, F_ | A_, PKT_RISN + 1, e.iss + 2, 65535, 5002,
                  f.th.tsval, NULL, 0);
    pkt_seg a;
    assert_true(pkt_pop(&e, &a));
    assert_int_equal(a.th.flags, A_);
    assert_int_equal(pkt_conn_state(&e), SYNACK_TIME_WAIT);
    uint32_t r = PKT_RISN + 2;
    /* above RCV.NXT but an older TSval: PAWS drops it (with an ACK) */
    pkt_inject_ts(&e, S_, r + 5000, 0, 65535, 4000, 0, NULL, 0);
    pkt_expect(&e, A_, e.iss + 2, r, 0);
    assert_int_equal(pkt_conn_state(&e), SYNACK_TIME_WAIT);
    /* below RCV.NXT but a newer TSval: a new incarnation */
    pkt_inject_ts(&e, S_, PKT_RISN - 100, 0, 65535, 6000, 0, NULL, 0);
    pkt_seg sa2;
    assert_true(pkt_pop(&e, &sa2));
    assert_int_equal(sa2.th.flags, S_ | A_);
    assert_int_equal(sa2.th.ack, PKT_RISN - 99);
    assert_int_equal(sa2.th.seq, e.iss + 2 + 65535 + 2);
    assert_true(pkt_saw(&e, SYNACK_TIME_WAIT, SYNACK_CLOSED));
    assert_int_equal(pkt_conn_state(&e), SYNACK_SYN_RECEIVED);
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
        cmocka_unit_test(tw_rfc6191_timestamps),
        cmocka_unit_test(tw_abort_deletes_silently),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
