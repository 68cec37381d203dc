/* Edges of the core's transition table (src/core/tcp_fsm.c) that no other
 * packet-level test takes: timeouts in CLOSE-WAIT, CLOSING, LAST-ACK,
 * SYN-SENT and SYN-RECEIVED, a resetting close() in LAST-ACK, data for an
 * orphan in FIN-WAIT-1, shutdown() in SYN-RECEIVED. Each test drives one
 * connection to the from-state, lets the event happen and asserts the
 * traced edge with its exact cause, what was sent, and the error the
 * application sees. fsm_edges_covered (docs/state-transitions.md) checks
 * that, with the other tests, every edge of the table is exercised. */
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
#define RST SYNACK_TH_RST

/* The most recent change into CLOSED came from `from` with this cause. */
static void assert_closed_by(pkt_env *e, int from, const char *cause)
{
    for (size_t i = e->nev; i-- > 0;) {
        if (e->ev[i].to != SYNACK_CLOSED)
            continue;
        assert_string_equal(synack_state_name(e->ev[i].from),
                            synack_state_name(from));
        assert_string_equal(e->ev[i].cause, cause);
        return;
    }
    fail_msg("no change into CLOSED was traced");
}

/* Pop everything sent; returns how many segments carried RST. */
static unsigned drain(pkt_env *e)
{
    pkt_seg sg;
    unsigned rst = 0;
    while (pkt_pop(e, &sg))
        if (sg.th.flags & RST)
            rst++;
    return rst;
}

/* pkt_setup with tunables `sys`, then a passive open (listener `*l`),
 * with TCP_USER_TIMEOUT `uto_ms` unless 0; returns the connection. */
static int setup_open(pkt_env *e, const char *const *sys, int *l,
                      unsigned uto_ms)
{
    pkt_setup(e, sys);
    int s = pkt_open_passive(e, l, NULL);
    if (uto_ms)
        assert_int_equal(synack_setsockopt(e->st, s, SYNACK_TCP_USER_TIMEOUT,
                                           &uto_ms, sizeof(uto_ms)),
                         0);
    return s;
}

static void finish(pkt_env *e, int s, int l)
{
    if (s >= 0)
        assert_int_equal(synack_close(e->st, s, e->now), 0);
    assert_int_equal(synack_close(e->st, l, e->now), 0);
    pkt_teardown(e, true);
}

/* Let `dt` pass: nothing more is reset, socket `s` has gone from `from` to
 * CLOSED by `cause` with ETIMEDOUT; then the sockets are closed. */
static void expect_timed_out(pkt_env *e, int s, int l, synack_time_t dt,
                             int from, const char *cause)
{
    pkt_run_for(e, dt);
    assert_int_equal(drain(e), 0);
    assert_int_equal(pkt_state(e, s), SYNACK_CLOSED);
    assert_closed_by(e, from, cause);
    assert_int_equal(pkt_so_error(e, s), SYNACK_ETIMEDOUT);
    finish(e, s, l);
}

/* CLOSE-WAIT with 10 bytes sent and never acked (setup_open's `sys` and
 * `uto_ms`), until the connection times out by `cause`. */
static void cw_unacked_timeout(const char *const *sys, unsigned uto_ms,
                               synack_time_t dt, const char *cause)
{
    pkt_env e;
    int l, s = setup_open(&e, sys, &l, uto_ms);
    pkt_drive_to(&e, s, SYNACK_CLOSE_WAIT, false);
    assert_int_equal(synack_send(e.st, s, "0123456789", 10, e.now), 10);
    expect_timed_out(&e, s, l, dt, SYNACK_CLOSE_WAIT, cause);
}

/* CLOSE-WAIT, data sent and never acked, TCP_USER_TIMEOUT 1 s. */
static void cw_user_timeout(void **state)
{
    (void)state;
    cw_unacked_timeout(NULL, 1000, 2 * S, "timeout TCP_USER_TIMEOUT");
}

/* CLOSE-WAIT, data never acked: tcp_retries2=2 retransmissions, then
 * ETIMEDOUT. */
static void cw_retransmission_timeout(void **state)
{
    (void)state;
    const char *sys[] = {"tcp_retries2=2", NULL};
    cw_unacked_timeout(sys, 0, 60 * S, "timeout retransmission");
}

/* CLOSE-WAIT, the peer's window is zero and our probes go unanswered:
 * tcp_retries2=3 probes, then ETIMEDOUT. */
static void cw_zero_window_timeout(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_retries2=3", NULL};
    int l, s = setup_open(&e, sys, &l, 0);
    uint32_t r = pkt_drive_to(&e, s, SYNACK_CLOSE_WAIT, false);
    pkt_inject(&e, A, r, e.iss + 1, 0, NULL, 0); /* window: 0 */
    pkt_expect_none(&e);
    assert_int_equal(synack_send(e.st, s, "0123456789", 10, e.now), 10);
    pkt_expect_none(&e);
    assert_int_equal(pkt_info(&e, s).timer, SYNACK_TIMER_PERSIST);
    expect_timed_out(&e, s, l, 60 * S, SYNACK_CLOSE_WAIT,
                     "timeout zero-window probes");
}

/* LAST-ACK with data and FIN queued behind a zero window, closed by its
 * application: the probes go unanswered, tcp_retries2=3, then the
 * connection is dropped. */
static void lastack_zero_window_timeout(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_retries2=3", NULL};
    int l, s = setup_open(&e, sys, &l, 0);
    uint32_t r = pkt_drive_to(&e, s, SYNACK_CLOSE_WAIT, false);
    pkt_inject(&e, A, r, e.iss + 1, 0, NULL, 0); /* window: 0 */
    assert_int_equal(synack_send(e.st, s, "0123456789", 10, e.now), 10);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_conn_state(&e), SYNACK_LAST_ACK);
    pkt_run_for(&e, 60 * S);
    assert_int_equal(drain(&e), 0);
    assert_int_equal(pkt_conn_state(&e), SYNACK_CLOSED);
    assert_closed_by(&e, SYNACK_LAST_ACK, "timeout zero-window probes");
    finish(&e, -1, l);
}

/* LAST-ACK (after shutdown), our FIN never acked, TCP_USER_TIMEOUT 1 s. */
static void lastack_user_timeout(void **state)
{
    (void)state;
    pkt_env e;
    int l, s = setup_open(&e, NULL, &l, 1000);
    pkt_drive_to(&e, s, SYNACK_LAST_ACK, false);
    expect_timed_out(&e, s, l, 2 * S, SYNACK_LAST_ACK,
                     "timeout TCP_USER_TIMEOUT");
}

/* LAST-ACK (after shutdown), then close() with SO_LINGER {1, 0}: the
 * connection is deleted at once; RFC 9293 3.10.5 sends nothing in
 * LAST-ACK. */
static void lastack_linger_zero_close(void **state)
{
    (void)state;
    pkt_env e;
    int l, s = setup_open(&e, NULL, &l, 0);
    pkt_drive_to(&e, s, SYNACK_LAST_ACK, false);
    struct synack_linger lg = {1, 0};
    assert_int_equal(
        synack_setsockopt(e.st, s, SYNACK_SO_LINGER, &lg, sizeof(lg)), 0);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_expect_none(&e);
    assert_int_equal(synack_stack_conn_count(e.st), 1); /* the listener */
    assert_closed_by(&e, SYNACK_LAST_ACK, "call close (SO_LINGER 0: reset)");
    finish(&e, -1, l);
}

/* CLOSING (after shutdown), our FIN never acked. */
static void closing_timeouts(bool uto)
{
    pkt_env e;
    const char *sys[] = {"tcp_retries2=2", NULL};
    int l, s = setup_open(&e, sys, &l, uto ? 1000 : 0);
    pkt_drive_to(&e, s, SYNACK_CLOSING, false);
    expect_timed_out(&e, s, l, 60 * S, SYNACK_CLOSING,
                     uto ? "timeout TCP_USER_TIMEOUT"
                         : "timeout retransmission");
}

static void closing_user_timeout(void **state)
{
    (void)state;
    closing_timeouts(true);
}

static void closing_retransmission_timeout(void **state)
{
    (void)state;
    closing_timeouts(false);
}

/* SYN-SENT with TCP_USER_TIMEOUT 1 s: the SYN (retransmitted at 1 s by the
 * initial RTO) goes unanswered; the connection fails at 1 s, long before
 * tcp_syn_retries would end it. */
static void synsent_user_timeout(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = synack_socket(e.st);
    assert_true(s >= 0);
    unsigned uto = 1000;
    assert_int_equal(synack_setsockopt(e.st, s, SYNACK_TCP_USER_TIMEOUT,
                                       &uto, sizeof(uto)),
                     0);
    synack_addr ra = {PKT_REMOTE_IP, e.rport};
    assert_int_equal(synack_connect(e.st, s, &ra, e.now),
                     -SYNACK_EINPROGRESS);
    pkt_run_for(&e, 5 * S);
    assert_int_equal(drain(&e), 0);
    assert_int_equal(pkt_state(&e, s), SYNACK_CLOSED);
    assert_closed_by(&e, SYNACK_SYN_SENT, "timeout TCP_USER_TIMEOUT");
    assert_true(pkt_saw_time(&e, SYNACK_SYN_SENT, SYNACK_CLOSED) <= 1 * S);
    assert_int_equal(pkt_so_error(&e, s), SYNACK_ETIMEDOUT);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_teardown(&e, true);
}

/* FIN-WAIT-1, orphaned (closed by its application), our FIN not yet
 * acked: new data from the peer can never be read, so it is answered with
 * RST,ACK and the connection is gone (RFC 1122 4.2.2.13, as Linux). */
static void fw1_orphan_data_gets_rst(void **state)
{
    (void)state;
    pkt_env e;
    int l, s = setup_open(&e, NULL, &l, 0);
    uint32_t r = pkt_drive_to(&e, s, SYNACK_FIN_WAIT_1, true);
    pkt_inject(&e, A, r, e.iss + 1, 65535, "abc", 3); /* FIN not acked */
    pkt_expect(&e, RST | A, e.iss + 2, r, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_conn_state(&e), SYNACK_CLOSED);
    assert_closed_by(&e, SYNACK_FIN_WAIT_1, "rcv ACK");
    finish(&e, -1, l);
}

/* A listener with TCP_USER_TIMEOUT 1 s: its embryo inherits it, and when
 * the final ACK never comes the embryo is dropped at 1 s, long before
 * tcp_synack_retries would; the listener stays. */
static void synrcvd_user_timeout(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l = pkt_listen(&e, 8);
    unsigned uto = 1000;
    assert_int_equal(synack_setsockopt(e.st, l, SYNACK_TCP_USER_TIMEOUT,
                                       &uto, sizeof(uto)),
                     0);
    pkt_inject_syn(&e, NULL);
    pkt_seg sa;
    assert_true(pkt_pop(&e, &sa));
    assert_int_equal(sa.th.flags, SYNACK_TH_SYN | A);
    assert_int_equal(sa.th.ack, PKT_RISN + 1);
    assert_int_equal(pkt_conn_state(&e), SYNACK_SYN_RECEIVED);
    pkt_run_for(&e, 5 * S);
    assert_int_equal(drain(&e), 0);
    assert_int_equal(pkt_conn_state(&e), SYNACK_CLOSED);
    assert_closed_by(&e, SYNACK_SYN_RECEIVED, "timeout TCP_USER_TIMEOUT");
    assert_true(pkt_saw_time(&e, SYNACK_SYN_RECEIVED, SYNACK_CLOSED) <=
                1 * S);
    assert_int_equal(pkt_state(&e, l), SYNACK_LISTEN);
    finish(&e, -1, l);
}

/* Simultaneous open: shutdown(SHUT_WR) in SYN-RECEIVED queues our FIN
 * (after the SYN) and moves to FIN-WAIT-1, as close() does. */
static void synrcvd_simultaneous_shutdown_to_finwait1(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_connect_syn(&e);
    pkt_inject_syn(&e, NULL);
    pkt_expect(&e, SYNACK_TH_SYN | A, e.iss, PKT_RISN + 1, 0);
    assert_int_equal(pkt_state(&e, s), SYNACK_SYN_RECEIVED);
    assert_int_equal(synack_shutdown(e.st, s, SYNACK_SHUT_WR, e.now), 0);
    pkt_expect(&e, F | A, e.iss + 1, PKT_RISN + 1, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_FIN_WAIT_1);
    assert_string_equal(pkt_cause(&e, SYNACK_FIN_WAIT_1), "call shutdown");
    assert_true(pkt_saw(&e, SYNACK_SYN_RECEIVED, SYNACK_FIN_WAIT_1));
    /* the peer acks SYN and FIN: FIN-WAIT-2; then aborted */
    pkt_inject(&e, A, PKT_RISN + 1, e.iss + 2, 65535, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_FIN_WAIT_2);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    assert_int_equal(drain(&e), 1);
    pkt_teardown(&e, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cw_user_timeout),
        cmocka_unit_test(cw_retransmission_timeout),
        cmocka_unit_test(cw_zero_window_timeout),
        cmocka_unit_test(lastack_zero_window_timeout),
        cmocka_unit_test(lastack_user_timeout),
        cmocka_unit_test(lastack_linger_zero_close),
        cmocka_unit_test(closing_user_timeout),
        cmocka_unit_test(closing_retransmission_timeout),
        cmocka_unit_test(synsent_user_timeout),
        cmocka_unit_test(fw1_orphan_data_gets_rst),
        cmocka_unit_test(synrcvd_user_timeout),
        cmocka_unit_test(synrcvd_simultaneous_shutdown_to_finwait1),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
