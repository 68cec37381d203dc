/* RFC 9293 state diagram, edges out of CLOSING and LAST-ACK. */
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

static synack_conn_info info_of_only_conn(pkt_env *e)
{
    synack_conn_info ci[4];
    size_t n = synack_conn_list(e->st, ci, 4);
    assert_int_equal(n, 1);
    return ci[0];
}

/* CLOSING -> TIME-WAIT on the ACK of our FIN; nothing sent; 2MSL runs. */
static void closing_ack_to_timewait(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_open_active(&e, NULL);
    uint32_t r = pkt_drive_to(&e, s, SYNACK_CLOSING, true);
    assert_true(pkt_saw(&e, SYNACK_FIN_WAIT_1, SYNACK_CLOSING));
    /* an ACK that does not cover our FIN: stay */
    pkt_inject(&e, A_, r, e.iss + 1, 65535, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_conn_state(&e), SYNACK_CLOSING);
    pkt_run_for(&e, 50 * SYNACK_MSEC);
    synack_time_t t0 = e.now;
    pkt_inject(&e, A_, r, e.iss + 2, 65535, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_conn_state(&e), SYNACK_TIME_WAIT);
    assert_true(pkt_saw(&e, SYNACK_CLOSING, SYNACK_TIME_WAIT));
    assert_string_equal(pkt_cause(&e, SYNACK_TIME_WAIT), "rcv ACK");
    synack_conn_info ci = info_of_only_conn(&e);
    assert_int_equal(ci.timer, SYNACK_TIMER_TIMEWAIT);
    assert_int_equal(ci.timer_expires, t0 + 60 * SYNACK_SEC);
    pkt_run_for(&e, 60 * SYNACK_SEC);
    assert_int_equal(pkt_conn_state(&e), SYNACK_CLOSED);
    pkt_expect_none(&e);
    pkt_teardown(&e, true);
}

/* CLOSING: the peer retransmits its FIN (our ACK was lost): re-ACK. */
static void closing_dup_fin_reacked(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_open_active(&e, NULL);
    uint32_t r = pkt_drive_to(&e, s, SYNACK_CLOSING, true);
    pkt_inject(&e, F_ | A_, r - 1, e.iss + 1, 65535, NULL, 0);
    pkt_expect(&e, A_, e.iss + 2, r, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_conn_state(&e), SYNACK_CLOSING);
    pkt_inject(&e, A_, r, e.iss + 2, 65535, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_conn_state(&e), SYNACK_TIME_WAIT);
    pkt_run_for(&e, 60 * SYNACK_SEC);
    assert_int_equal(pkt_conn_state(&e), SYNACK_CLOSED);
    pkt_teardown(&e, true);
}

/* CLOSING -> CLOSED on RST at RCV.NXT. RFC 9293 says only "enter CLOSED,
 * delete the TCB" here (no user signal): the reader that got the FIN
 * keeps seeing EOF. */
static void closing_rst_to_closed(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_open_active(&e, NULL);
    uint32_t r = pkt_drive_to(&e, s, SYNACK_CLOSING, false);
    pkt_inject(&e, R_, r, 0, 0, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_CLOSED);
    assert_true(pkt_saw(&e, SYNACK_CLOSING, SYNACK_CLOSED));
    assert_string_equal(pkt_cause(&e, SYNACK_CLOSED), "rcv RST");
    char b[4];
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now), 0);
    assert_int_equal(synack_stack_next_deadline(e.st), SYNACK_TIME_NEVER);
    pkt_run_for(&e, 5 * SYNACK_SEC);
    pkt_expect_none(&e);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_teardown(&e, true);
}

/* LAST-ACK -> CLOSED on the ACK of our FIN: nothing sent, TCB deleted. */
static void lastack_ack_to_closed(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = pkt_open_passive(&e, &l, NULL);
    uint32_t r = pkt_drive_to(&e, s, SYNACK_LAST_ACK, true);
    assert_int_equal(synack_stack_conn_count(e.st), 2);
    pkt_inject(&e, A_, r, e.iss + 2, 65535, NULL, 0);
    pkt_expect_none(&e);
    assert_true(pkt_saw(&e, SYNACK_LAST_ACK, SYNACK_CLOSED));
    assert_string_equal(pkt_cause(&e, SYNACK_CLOSED), "rcv ACK");
    assert_int_equal(synack_stack_conn_count(e.st), 1);
    assert_int_equal(synack_stack_next_deadline(e.st), SYNACK_TIME_NEVER);
    assert_false(pkt_saw(&e, SYNACK_LAST_ACK, SYNACK_TIME_WAIT));
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* LAST-ACK: the peer did not get our ACK of its FIN and retransmits the
 * FIN: re-ACK it (old segment), stay in LAST-ACK. */
static void lastack_dup_fin_reacked(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_open_active(&e, NULL);
    uint32_t r = pkt_drive_to(&e, s, SYNACK_LAST_ACK, true);
    pkt_inject(&e, F_ | A_, r - 1, e.iss + 1, 65535, NULL, 0);
    pkt_expect(&e, A_, e.iss + 2, r, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_conn_state(&e), SYNACK_LAST_ACK);
    pkt_inject(&e, A_, r, e.iss + 2, 65535, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_conn_state(&e), SYNACK_CLOSED);
    pkt_teardown(&e, true);
}

/* LAST-ACK -> CLOSED on RST at RCV.NXT. */
static void lastack_rst_to_closed(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_open_active(&e, NULL);
    uint32_t r = pkt_drive_to(&e, s, SYNACK_LAST_ACK, false);
    pkt_inject(&e, R_, r, 0, 0, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_CLOSED);
    assert_true(pkt_saw(&e, SYNACK_LAST_ACK, SYNACK_CLOSED));
    assert_string_equal(pkt_cause(&e, SYNACK_CLOSED), "rcv RST");
    char b[4];
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now), 0);
    assert_int_equal(synack_stack_next_deadline(e.st), SYNACK_TIME_NEVER);
    pkt_run_for(&e, 5 * SYNACK_SEC);
    pkt_expect_none(&e); /* no FIN retransmission */
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_teardown(&e, true);
}

/* CLOSING / LAST-ACK -> CLOSED on abort(): RFC 9293 3.10.5 says respond
 * "ok" and delete the TCB: no RST (our FIN is already out). */
static void closing_lastack_abort_deletes_silently(void **state)
{
    (void)state;
    static const int targets[] = {SYNACK_CLOSING, SYNACK_LAST_ACK};
    for (size_t i = 0; i < 2; i++) {
        pkt_env e;
        pkt_setup(&e, NULL);
        int s = pkt_open_active(&e, NULL);
        pkt_drive_to(&e, s, targets[i], false);
        assert_int_equal(synack_abort(e.st, s, e.now), 0);
        pkt_expect_none(&e);
        assert_true(pkt_saw(&e, targets[i], SYNACK_CLOSED));
        assert_string_equal(pkt_cause(&e, SYNACK_CLOSED), "call abort");
        assert_int_equal(synack_stack_conn_count(e.st), 0);
        pkt_run_for(&e, 10 * SYNACK_SEC);
        pkt_expect_none(&e);
        pkt_teardown(&e, true);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(closing_ack_to_timewait),
        cmocka_unit_test(closing_dup_fin_reacked),
        cmocka_unit_test(closing_rst_to_closed),
        cmocka_unit_test(lastack_ack_to_closed),
        cmocka_unit_test(lastack_dup_fin_reacked),
        cmocka_unit_test(lastack_rst_to_closed),
        cmocka_unit_test(closing_lastack_abort_deletes_silently),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
