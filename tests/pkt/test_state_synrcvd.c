/* RFC 9293 state diagram, edges out of SYN-RECEIVED, for the passive open
 * (from LISTEN) and the simultaneous open (from SYN-SENT). */
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

/* Listen and take a SYN: the embryonic connection is in SYN-RECEIVED.
 * Returns the listener; e->iss is set from the SYN,ACK. */
static int passive_synrcvd(pkt_env *e)
{
    int l = pkt_listen(e, 8);
    pkt_inject_syn(e, NULL);
    pkt_seg sa;
    if (!pkt_pop(e, &sa))
        fail_msg("no SYN,ACK");
    assert_int_equal(sa.th.flags, S_ | A_);
    assert_int_equal(sa.th.ack, PKT_RISN + 1);
    e->iss = sa.th.seq;
    pkt_expect_none(e);
    assert_int_equal(pkt_conn_state(e), SYNACK_SYN_RECEIVED);
    return l;
}

/* connect(), then the peer's SYN crosses ours: SYN-RECEIVED with a handle. */
static int simultaneous_synrcvd(pkt_env *e)
{
    int s = pkt_connect_syn(e);
    pkt_inject_syn(e, NULL);
    pkt_expect(e, S_ | A_, e->iss, PKT_RISN + 1, 0);
    pkt_expect_none(e);
    assert_int_equal(pkt_state(e, s), SYNACK_SYN_RECEIVED);
    return s;
}

/* Passive: SYN-RECEIVED -> ESTABLISHED on the ACK of our SYN; nothing is
 * sent; the connection is ready to accept. */
static void synrcvd_passive_ack_to_established(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l = passive_synrcvd(&e);
    pkt_inject(&e, A_, PKT_RISN + 1, e.iss + 1, 65535, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_conn_state(&e), SYNACK_ESTABLISHED);
    assert_true(pkt_saw(&e, SYNACK_SYN_RECEIVED, SYNACK_ESTABLISHED));
    assert_string_equal(pkt_cause(&e, SYNACK_ESTABLISHED), "rcv ACK");
    int s = synack_accept(e.st, l, NULL);
    assert_true(s >= 0);
    assert_int_equal(pkt_state(&e, s), SYNACK_ESTABLISHED);
    assert_true(synack_poll(e.st, s) & SYNACK_POLLOUT);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_expect(&e, R_ | A_, e.iss + 1, PKT_RISN + 1, 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_expect_none(&e);
    pkt_teardown(&e, true);
}

/* Passive: SYN-RECEIVED + RST at RCV.NXT: the embryonic connection is
 * deleted (the RFC's "return to LISTEN": the listener is untouched and
 * keeps listening), nothing is sent, the application is told nothing. */
static void synrcvd_passive_rst_listener_keeps_listening(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l = passive_synrcvd(&e);
    synack_stack_stats before;
    synack_stack_get_stats(e.st, &before);
    pkt_inject(&e, R_, PKT_RISN + 1, 0, 0, NULL, 0);
    pkt_expect_none(&e);
    assert_true(pkt_saw(&e, SYNACK_SYN_RECEIVED, SYNACK_CLOSED));
    assert_string_equal(pkt_cause(&e, SYNACK_CLOSED), "rcv RST");
    assert_int_equal(pkt_state(&e, l), SYNACK_LISTEN);
    assert_int_equal(synack_stack_conn_count(e.st), 1);
    assert_int_equal(synack_accept(e.st, l, NULL), -SYNACK_EAGAIN);
    assert_int_equal(synack_poll(e.st, l), 0);
    assert_int_equal(pkt_so_error(&e, l), 0);
    synack_stack_stats after;
    synack_stack_get_stats(e.st, &after);
    assert_int_equal(after.conns_reset, before.conns_reset);
    /* no SYN,ACK retransmission is left behind */
    pkt_run_for(&e, 30 * SYNACK_SEC);
    pkt_expect_none(&e);
    /* the listener still takes the same peer */
    pkt_inject_syn(&e, NULL);
    pkt_seg sa;
    assert_true(pkt_pop(&e, &sa));
    assert_int_equal(sa.th.flags, S_ | A_);
    pkt_inject(&e, A_, PKT_RISN + 1, sa.th.seq + 1, 65535, NULL, 0);
    int s = synack_accept(e.st, l, NULL);
    assert_true(s >= 0);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_expect(&e, R_ | A_, sa.th.seq + 1, PKT_RISN + 1, 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* Simultaneous open: SYN-RECEIVED + RST at RCV.NXT: connection refused,
 * CLOSED. */
static void synrcvd_simultaneous_rst_refused(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = simultaneous_synrcvd(&e);
    pkt_inject(&e, R_, PKT_RISN + 1, 0, 0, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_CLOSED);
    assert_true(pkt_saw(&e, SYNACK_SYN_RECEIVED, SYNACK_CLOSED));
    assert_true(synack_poll(e.st, s) & SYNACK_POLLERR);
    char b[4];
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now),
                     -SYNACK_ECONNREFUSED);
    assert_int_equal(synack_stack_next_deadline(e.st), SYNACK_TIME_NEVER);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_expect_none(&e);
    pkt_teardown(&e, true);
}

/* Passive: SYN-RECEIVED + unacceptable ACK (not SND.UNA < SEG.ACK =<
 * SND.NXT): <SEQ=SEG.ACK><CTL=RST>, the connection stays. */
static void synrcvd_passive_bad_ack_gets_rst(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l = passive_synrcvd(&e);
    pkt_inject(&e, A_, PKT_RISN + 1, e.iss + 5, 65535, NULL, 0); /* > NXT */
    pkt_expect(&e, R_, e.iss + 5, 0, 0);
    pkt_inject(&e, A_, PKT_RISN + 1, e.iss, 65535, NULL, 0); /* = UNA */
    pkt_expect(&e, R_, e.iss, 0, 0);
    pkt_inject(&e, A_ | P_, PKT_RISN + 1, e.iss - 9, 65535, "abc", 3);
    pkt_expect(&e, R_, e.iss - 9, 0, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_conn_state(&e), SYNACK_SYN_RECEIVED);
    assert_int_equal(synack_accept(e.st, l, NULL), -SYNACK_EAGAIN);
    /* the good ACK still completes the handshake */
    pkt_inject(&e, A_, PKT_RISN + 1, e.iss + 1, 65535, NULL, 0);
    pkt_expect_none(&e);
    int s = synack_accept(e.st, l, NULL);
    assert_true(s >= 0);
    char b[4];
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now),
                     -SYNACK_EAGAIN); /* the rejected data was not kept */
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_expect(&e, R_ | A_, e.iss + 1, PKT_RISN + 1, 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* Simultaneous open: a bad ACK in SYN-RECEIVED gets the same RST. */
static void synrcvd_simultaneous_bad_ack_gets_rst(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = simultaneous_synrcvd(&e);
    pkt_inject(&e, A_, PKT_RISN + 1, e.iss + 3, 65535, NULL, 0);
    pkt_expect(&e, R_, e.iss + 3, 0, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_SYN_RECEIVED);
    pkt_inject(&e, A_, PKT_RISN + 1, e.iss + 1, 65535, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_ESTABLISHED);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_expect(&e, R_ | A_, e.iss + 1, PKT_RISN + 1, 0);
    pkt_teardown(&e, true);
}

/* Passive: the peer retransmits its SYN: the SYN,ACK is sent again, from
 * the same ISS, and no second connection is made. */
static void synrcvd_passive_dup_syn_resends_synack(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l = passive_synrcvd(&e);
    pkt_run_for(&e, 300 * SYNACK_MSEC);
    pkt_inject_syn(&e, NULL);
    pkt_expect(&e, S_ | A_, e.iss, PKT_RISN + 1, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_conn_state(&e), SYNACK_SYN_RECEIVED);
    assert_int_equal(synack_stack_conn_count(e.st), 2);
    pkt_inject(&e, A_, PKT_RISN + 1, e.iss + 1, 65535, NULL, 0);
    pkt_expect_none(&e);
    int s = synack_accept(e.st, l, NULL);
    assert_true(s >= 0);
    assert_int_equal(synack_accept(e.st, l, NULL), -SYNACK_EAGAIN);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_expect(&e, R_ | A_, e.iss + 1, PKT_RISN + 1, 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* Passive: SYN-RECEIVED + FIN,ACK (with data) acking our SYN: the fifth
 * step moves to ESTABLISHED, the seventh takes the data, the eighth the
 * FIN: CLOSE-WAIT, one ACK <SEQ=ISS+1><ACK=RCV.NXT> covering data and
 * FIN. The accepted socket reads the data, then EOF. */
static void synrcvd_passive_ackfin_to_closewait(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l = passive_synrcvd(&e);
    pkt_inject(&e, F_ | A_ | P_, PKT_RISN + 1, e.iss + 1, 65535, "hello", 5);
    pkt_expect(&e, A_, e.iss + 1, PKT_RISN + 7, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_conn_state(&e), SYNACK_CLOSE_WAIT);
    synack_time_t t1 =
        pkt_saw_time(&e, SYNACK_SYN_RECEIVED, SYNACK_ESTABLISHED);
    synack_time_t t2 = pkt_saw_time(&e, SYNACK_ESTABLISHED, SYNACK_CLOSE_WAIT);
    assert_int_equal(t1, t2); /* the same segment */
    assert_string_equal(pkt_cause(&e, SYNACK_CLOSE_WAIT), "rcv FIN,PSH,ACK");
    int s = synack_accept(e.st, l, NULL);
    assert_true(s >= 0);
    assert_int_equal(pkt_state(&e, s), SYNACK_CLOSE_WAIT);
    assert_true(synack_poll(e.st, s) & SYNACK_POLLRDHUP);
    char b[16];
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now), 5);
    assert_memory_equal(b, "hello", 5);
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now), 0);
    /* close: LAST-ACK, then the ACK of our FIN ends it */
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_expect(&e, F_ | A_, e.iss + 1, PKT_RISN + 7, 0);
    pkt_inject(&e, A_, PKT_RISN + 7, e.iss + 2, 65535, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_conn_state(&e), SYNACK_CLOSED);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* Passive: a different SYN (not a retransmission) in SYN-RECEIVED, in the
 * window: fourth step, "return this connection to the LISTEN state": the
 * embryo is deleted, nothing is sent, the listener listens. */
static void synrcvd_passive_new_syn_back_to_listen(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l = passive_synrcvd(&e);
    pkt_inject(&e, S_, PKT_RISN + 10, 0, 65535, NULL, 0);
    pkt_expect_none(&e);
    assert_true(pkt_saw(&e, SYNACK_SYN_RECEIVED, SYNACK_CLOSED));
    assert_int_equal(pkt_state(&e, l), SYNACK_LISTEN);
    assert_int_equal(synack_stack_conn_count(e.st), 1);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* Simultaneous open, figure 8 of RFC 9293 (3.5): after our SYN,ACK, the
 * peer's SYN,ACK <SEQ=ISN><ACK=ISS+1> arrives and the connection is
 * ESTABLISHED. At most an ACK <SEQ=ISS+1><ACK=RCV.NXT> may be sent for
 * the duplicate SYN. */
static void synrcvd_simultaneous_synack_establishes(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = simultaneous_synrcvd(&e);
    pkt_inject(&e, S_ | A_, PKT_RISN, e.iss + 1, 65535, NULL, 0);
    if (pkt_pending(&e))
        pkt_expect(&e, A_, e.iss + 1, PKT_RISN + 1, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_ESTABLISHED);
    assert_true(pkt_saw(&e, SYNACK_SYN_RECEIVED, SYNACK_ESTABLISHED));
    assert_true(synack_poll(e.st, s) & SYNACK_POLLOUT);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_expect(&e, R_ | A_, e.iss + 1, PKT_RISN + 1, 0);
    pkt_teardown(&e, true);
}

/* Simultaneous open: close() in SYN-RECEIVED sends FIN and enters
 * FIN-WAIT-1 (RFC 9293 3.10.4: no SENDs issued, nothing pending). The
 * close then completes normally. */
static void synrcvd_simultaneous_close_to_finwait1(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = simultaneous_synrcvd(&e);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_expect(&e, F_ | A_, e.iss + 1, PKT_RISN + 1, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_conn_state(&e), SYNACK_FIN_WAIT_1);
    assert_true(pkt_saw(&e, SYNACK_SYN_RECEIVED, SYNACK_FIN_WAIT_1));
    assert_string_equal(pkt_cause(&e, SYNACK_FIN_WAIT_1), "call close");
    /* the peer acks SYN and FIN, then sends its FIN */
    pkt_inject(&e, A_, PKT_RISN + 1, e.iss + 2, 65535, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_conn_state(&e), SYNACK_FIN_WAIT_2);
    pkt_inject(&e, F_ | A_, PKT_RISN + 1, e.iss + 2, 65535, NULL, 0);
    pkt_expect(&e, A_, e.iss + 2, PKT_RISN + 2, 0);
    assert_int_equal(pkt_conn_state(&e), SYNACK_TIME_WAIT);
    pkt_run_for(&e, 60 * SYNACK_SEC);
    assert_int_equal(pkt_conn_state(&e), SYNACK_CLOSED);
    pkt_expect_none(&e);
    pkt_teardown(&e, true);
}

/* Simultaneous open, closed in SYN-RECEIVED, and the peer has not acked
 * our SYN: the retransmission must start with the SYN,ACK (the front of
 * the retransmission queue, RFC 9293 3.10.8), so that the peer can
 * synchronize at all. */
static void synrcvd_simultaneous_close_retransmits_synack(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = simultaneous_synrcvd(&e);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_expect(&e, F_ | A_, e.iss + 1, PKT_RISN + 1, 0);
    pkt_expect_none(&e);
    /* the initial RTO is 1 s (RFC 6298) */
    pkt_run_for(&e, SYNACK_SEC);
    if (!pkt_pending(&e))
        fail_msg("nothing retransmitted 1 s after a FIN sent in "
                 "SYN-RECEIVED");
    pkt_expect(&e, S_ | A_, e.iss, PKT_RISN + 1, 0);
    /* the peer acks the SYN and the FIN */
    pkt_inject(&e, A_, PKT_RISN + 1, e.iss + 2, 65535, NULL, 0);
    while (pkt_pending(&e)) /* a FIN resent with the SYN,ACK is fine */
        pkt_expect(&e, F_ | A_, e.iss + 1, PKT_RISN + 1, 0);
    assert_int_equal(pkt_conn_state(&e), SYNACK_FIN_WAIT_2);
    pkt_inject(&e, F_ | A_, PKT_RISN + 1, e.iss + 2, 65535, NULL, 0);
    pkt_expect(&e, A_, e.iss + 2, PKT_RISN + 2, 0);
    pkt_run_for(&e, 60 * SYNACK_SEC);
    assert_int_equal(pkt_conn_state(&e), SYNACK_CLOSED);
    pkt_teardown(&e, true);
}

/* Simultaneous open: abort() in SYN-RECEIVED sends <SEQ=SND.NXT><CTL=RST>
 * (RFC 9293 3.10.5) and deletes the TCB. */
static void synrcvd_simultaneous_abort_sends_rst(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = simultaneous_synrcvd(&e);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_expect(&e, R_ | A_, e.iss + 1, PKT_RISN + 1, 0);
    pkt_expect_none(&e);
    assert_true(pkt_saw(&e, SYNACK_SYN_RECEIVED, SYNACK_CLOSED));
    assert_int_equal(synack_stack_conn_count(e.st), 0);
    pkt_run_for(&e, 10 * SYNACK_SEC);
    pkt_expect_none(&e);
    pkt_teardown(&e, true);
}

/* Passive: the ACK completing the handshake carries data: ESTABLISHED and
 * the data is kept for the application (seventh step). */
static void synrcvd_passive_ack_with_data(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l = passive_synrcvd(&e);
    pkt_inject(&e, A_ | P_, PKT_RISN + 1, e.iss + 1, 65535, "GET /", 5);
    assert_int_equal(pkt_conn_state(&e), SYNACK_ESTABLISHED);
    int s = synack_accept(e.st, l, NULL);
    assert_true(s >= 0);
    char b[8];
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now), 5);
    assert_memory_equal(b, "GET /", 5);
    pkt_run_for(&e, 100 * SYNACK_MSEC); /* delayed ACK */
    pkt_expect(&e, A_, e.iss + 1, PKT_RISN + 6, 0);
    pkt_expect_none(&e);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_expect(&e, R_ | A_, e.iss + 1, PKT_RISN + 6, 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(synrcvd_passive_ack_to_established),
        cmocka_unit_test(synrcvd_passive_rst_listener_keeps_listening),
        cmocka_unit_test(synrcvd_simultaneous_rst_refused),
        cmocka_unit_test(synrcvd_passive_bad_ack_gets_rst),
        cmocka_unit_test(synrcvd_simultaneous_bad_ack_gets_rst),
        cmocka_unit_test(synrcvd_passive_dup_syn_resends_synack),
        cmocka_unit_test(synrcvd_passive_ackfin_to_closewait),
        cmocka_unit_test(synrcvd_passive_new_syn_back_to_listen),
        cmocka_unit_test(synrcvd_simultaneous_synack_establishes),
        cmocka_unit_test(synrcvd_simultaneous_close_to_finwait1),
        cmocka_unit_test(synrcvd_simultaneous_close_retransmits_synack),
        cmocka_unit_test(synrcvd_simultaneous_abort_sends_rst),
        cmocka_unit_test(synrcvd_passive_ack_with_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
