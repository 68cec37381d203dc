/* RFC 9293 state diagram, edges out of CLOSED, and segments that arrive for
 * a connection that does not exist (3.10.7.1). */
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

/* CLOSED -> LISTEN on listen(); nothing is sent. */
static void closed_listen_to_listen(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l = synack_socket(e.st);
    assert_true(l >= 0);
    assert_int_equal(pkt_state(&e, l), SYNACK_CLOSED);
    synack_addr a = {PKT_LOCAL_IP, PKT_LOCAL_PORT};
    assert_int_equal(synack_bind(e.st, l, &a), 0);
    assert_int_equal(synack_listen(e.st, l, 8), 0);
    assert_int_equal(pkt_state(&e, l), SYNACK_LISTEN);
    assert_true(pkt_saw(&e, SYNACK_CLOSED, SYNACK_LISTEN));
    assert_string_equal(pkt_cause(&e, SYNACK_LISTEN), "call listen");
    pkt_expect_none(&e);
    /* a listener does not connect, send or receive */
    char b[4];
    assert_int_equal(synack_recv(e.st, l, b, sizeof(b), e.now),
                     -SYNACK_ENOTCONN);
    assert_int_equal(synack_send(e.st, l, "x", 1, e.now), -SYNACK_ENOTCONN);
    synack_addr p;
    assert_int_equal(synack_getpeername(e.st, l, &p), -SYNACK_ENOTCONN);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_expect_none(&e);
    pkt_teardown(&e, true);
}

/* CLOSED -> SYN-SENT on connect(): <SEQ=ISS><CTL=SYN> with an MSS option
 * for the link (MTU 1500 - 40). */
static void closed_connect_to_synsent(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = synack_socket(e.st);
    assert_true(s >= 0);
    synack_addr la = {0, PKT_LOCAL_PORT};
    assert_int_equal(synack_bind(e.st, s, &la), 0);
    synack_addr ra = {PKT_REMOTE_IP, PKT_REMOTE_PORT};
    assert_int_equal(synack_connect(e.st, s, &ra, e.now),
                     -SYNACK_EINPROGRESS);
    pkt_seg syn;
    assert_true(pkt_pop(&e, &syn));
    assert_int_equal(syn.th.flags, S_);
    assert_int_equal(syn.len, 0);
    assert_int_equal(syn.th.sport, PKT_LOCAL_PORT);
    assert_int_equal(syn.th.dport, PKT_REMOTE_PORT);
    assert_true(syn.th.has_mss);
    assert_int_equal(syn.th.mss, 1460);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_SYN_SENT);
    assert_true(pkt_saw(&e, SYNACK_CLOSED, SYNACK_SYN_SENT));
    assert_string_equal(pkt_cause(&e, SYNACK_SYN_SENT), "call connect");
    /* a second connect while the first is in progress */
    assert_int_equal(synack_connect(e.st, s, &ra, e.now), -SYNACK_EALREADY);
    /* nothing to send or read yet */
    assert_int_equal(synack_send(e.st, s, "x", 1, e.now), -SYNACK_EAGAIN);
    char b[4];
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now),
                     -SYNACK_EAGAIN);
    /* SYN-SENT -> CLOSED on close: the TCB is deleted, nothing is sent */
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_expect_none(&e);
    assert_true(pkt_saw(&e, SYNACK_SYN_SENT, SYNACK_CLOSED));
    pkt_teardown(&e, true);
}

/* No connection, no listener: a SYN is answered with
 * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>; SEG.LEN counts the SYN and
 * any data. */
static void closed_port_syn_gets_rst_ack(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    pkt_inject_syn(&e, NULL);
    pkt_expect(&e, R_ | A_, 0, PKT_RISN + 1, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_drops(&e, SYNACK_DROP_TCP_NO_SOCKET), 1);
    /* SYN carrying 5 bytes of data: SEG.LEN = 6 */
    pkt_inject(&e, S_, 7000, 0, 65535, "hello", 5);
    pkt_expect(&e, R_ | A_, 0, 7006, 0);
    pkt_expect_none(&e);
    assert_int_equal(synack_stack_conn_count(e.st), 0);
    pkt_teardown(&e, true);
}

/* No connection: an ACK-bearing segment gets <SEQ=SEG.ACK><CTL=RST>
 * (no ACK bit). */
static void closed_port_ack_gets_rst(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    pkt_inject(&e, A_, 1234, 98765, 65535, NULL, 0);
    pkt_expect(&e, R_, 98765, 0, 0);
    pkt_expect_none(&e);
    /* data with ACK */
    pkt_inject(&e, A_ | P_, 1234, 5555, 65535, "abc", 3);
    const pkt_seg *r = pkt_expect(&e, R_, 5555, 0, 0);
    assert_int_equal(r->th.flags, R_);
    /* FIN,ACK */
    pkt_inject(&e, F_ | A_, 1234, 4242, 65535, NULL, 0);
    pkt_expect(&e, R_, 4242, 0, 0);
    /* SYN,ACK (e.g. for a connect we aborted) */
    pkt_inject(&e, S_ | A_, 1234, 777, 65535, NULL, 0);
    pkt_expect(&e, R_, 777, 0, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_drops(&e, SYNACK_DROP_TCP_NO_SOCKET), 4);
    pkt_teardown(&e, true);
}

/* No connection: a FIN without ACK counts in SEG.LEN too. */
static void closed_port_fin_without_ack(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    pkt_inject(&e, F_, 3000, 0, 65535, "xy", 2);
    pkt_expect(&e, R_ | A_, 0, 3003, 0);
    pkt_expect_none(&e);
    pkt_teardown(&e, true);
}

/* No connection: an incoming RST is discarded, never answered. */
static void closed_port_rst_ignored(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    pkt_inject(&e, R_, 1000, 0, 0, NULL, 0);
    pkt_inject(&e, R_ | A_, 1000, 2000, 0, NULL, 0);
    pkt_inject(&e, R_ | S_, 1000, 0, 0, NULL, 0);
    pkt_expect_none(&e);
    synack_stack_stats st;
    synack_stack_get_stats(e.st, &st);
    assert_int_equal(st.tcp_rst_out, 0);
    assert_int_equal(st.tcp_out, 0);
    pkt_teardown(&e, true);
}

/* A socket that is bound but neither listening nor connected is CLOSED
 * for the peer: its SYN is refused. */
static void closed_bound_socket_refuses_syn(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = synack_socket(e.st);
    synack_addr a = {PKT_LOCAL_IP, PKT_LOCAL_PORT};
    assert_int_equal(synack_bind(e.st, s, &a), 0);
    pkt_inject_syn(&e, NULL);
    pkt_expect(&e, R_ | A_, 0, PKT_RISN + 1, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_CLOSED);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_teardown(&e, true);
}

/* After a connection has gone to CLOSED (here: LAST-ACK acknowledged), a
 * late segment for it is answered as for any closed port. */
static void closed_after_connection_gone(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_open_active(&e, NULL);
    uint32_t r = pkt_drive_to(&e, s, SYNACK_LAST_ACK, true);
    pkt_inject(&e, A_, r, e.iss + 2, 65535, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_conn_state(&e), SYNACK_CLOSED);
    assert_int_equal(synack_stack_conn_count(e.st), 0);
    /* the peer retransmits its FIN */
    pkt_inject(&e, F_ | A_, r - 1, e.iss + 2, 65535, NULL, 0);
    pkt_expect(&e, R_, e.iss + 2, 0, 0);
    pkt_expect_none(&e);
    pkt_teardown(&e, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(closed_listen_to_listen),
        cmocka_unit_test(closed_connect_to_synsent),
        cmocka_unit_test(closed_port_syn_gets_rst_ack),
        cmocka_unit_test(closed_port_ack_gets_rst),
        cmocka_unit_test(closed_port_fin_without_ack),
        cmocka_unit_test(closed_port_rst_ignored),
        cmocka_unit_test(closed_bound_socket_refuses_syn),
        cmocka_unit_test(closed_after_connection_gone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
