/* RFC 9293 state diagram, edges out of CLOSE-WAIT; the application can
 * still send after the peer's FIN (half-close). */
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

/* In CLOSE-WAIT the application still sends, and the data goes out with
 * <ACK=FIN+1>; the peer's ACKs keep it in CLOSE-WAIT. */
static void cw_app_can_send(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = pkt_open_passive(&e, &l, NULL);
    uint32_t r = pkt_drive_to(&e, s, SYNACK_CLOSE_WAIT, false);
    assert_int_equal(r, PKT_RISN + 2);
    assert_true(synack_poll(e.st, s) & SYNACK_POLLOUT);
    static uint8_t data[300];
    for (int i = 0; i < 300; i++)
        data[i] = (uint8_t)(255 - i);
    assert_int_equal(synack_send(e.st, s, data, 100, e.now), 100);
    const pkt_seg *d = pkt_expect(&e, A_ | P_, e.iss + 1, r, 100);
    assert_memory_equal(d->data, data, 100);
    pkt_inject(&e, A_, r, e.iss + 101, 65535, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_CLOSE_WAIT);
    assert_int_equal(synack_send(e.st, s, data + 100, 200, e.now), 200);
    d = pkt_expect(&e, A_ | P_, e.iss + 101, r, 200);
    assert_memory_equal(d->data, data + 100, 200);
    pkt_inject(&e, A_, r, e.iss + 301, 65535, NULL, 0);
    pkt_expect_none(&e);
    synack_conn_info ci;
    assert_int_equal(synack_conn_get(e.st, s, &ci), 0);
    assert_int_equal(ci.bytes_acked, 300);
    assert_int_equal(ci.send_q, 0);
    char b[4];
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now), 0);
    /* close: FIN after the data */
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_expect(&e, F_ | A_, e.iss + 301, r, 0);
    pkt_inject(&e, A_, r, e.iss + 302, 65535, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_conn_state(&e), SYNACK_CLOSED);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* CLOSE-WAIT -> LAST-ACK on close(): FIN,ACK <SEQ=SND.NXT><ACK=RCV.NXT>,
 * after queued data. */
static void cw_close_to_lastack(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_open_active(&e, NULL);
    uint32_t r = pkt_drive_to(&e, s, SYNACK_CLOSE_WAIT, false);
    assert_int_equal(synack_send(e.st, s, "bye", 3, e.now), 3);
    pkt_expect(&e, A_ | P_, e.iss + 1, r, 3);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_expect(&e, F_ | A_, e.iss + 4, r, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_conn_state(&e), SYNACK_LAST_ACK);
    assert_true(pkt_saw(&e, SYNACK_CLOSE_WAIT, SYNACK_LAST_ACK));
    assert_string_equal(pkt_cause(&e, SYNACK_LAST_ACK), "call close");
    /* acking the data only leaves it in LAST-ACK */
    pkt_inject(&e, A_, r, e.iss + 4, 65535, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_conn_state(&e), SYNACK_LAST_ACK);
    pkt_inject(&e, A_, r, e.iss + 5, 65535, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_conn_state(&e), SYNACK_CLOSED);
    assert_true(pkt_saw(&e, SYNACK_LAST_ACK, SYNACK_CLOSED));
    pkt_teardown(&e, true);
}

/* CLOSE-WAIT -> LAST-ACK on shutdown(SHUT_WR); the handle stays usable:
 * reads give EOF, writes EPIPE, and it reads CLOSED once acked. */
static void cw_shutdown_to_lastack(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_open_active(&e, NULL);
    uint32_t r = pkt_drive_to(&e, s, SYNACK_CLOSE_WAIT, false);
    assert_int_equal(synack_shutdown(e.st, s, SYNACK_SHUT_WR, e.now), 0);
    pkt_expect(&e, F_ | A_, e.iss + 1, r, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_LAST_ACK);
    assert_string_equal(pkt_cause(&e, SYNACK_LAST_ACK), "call shutdown");
    assert_int_equal(synack_send(e.st, s, "x", 1, e.now), -SYNACK_EPIPE);
    assert_true(synack_poll(e.st, s) & SYNACK_POLLHUP);
    pkt_inject(&e, A_, r, e.iss + 2, 65535, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_CLOSED);
    char b[4];
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now), 0);
    assert_int_equal(pkt_so_error(&e, s), 0);
    assert_int_equal(synack_send(e.st, s, "x", 1, e.now), -SYNACK_EPIPE);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_expect_none(&e);
    pkt_teardown(&e, true);
}

/* CLOSE-WAIT -> CLOSED on RST at RCV.NXT: "connection reset" (RFC 9293
 * 3.10.7.4, second step, CLOSE-WAIT). */
static void cw_rst_to_closed(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_open_active(&e, NULL);
    uint32_t r = pkt_drive_to(&e, s, SYNACK_CLOSE_WAIT, false);
    pkt_inject(&e, R_, r, 0, 0, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_CLOSED);
    assert_true(pkt_saw(&e, SYNACK_CLOSE_WAIT, SYNACK_CLOSED));
    char b[4];
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now),
                     -SYNACK_ECONNRESET);
    assert_int_equal(synack_send(e.st, s, "x", 1, e.now), -SYNACK_EPIPE);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_expect_none(&e);
    pkt_teardown(&e, true);
}

/* CLOSE-WAIT -> CLOSED on abort(): RST <SEQ=SND.NXT>. */
static void cw_abort_to_closed(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = pkt_open_passive(&e, &l, NULL);
    uint32_t r = pkt_drive_to(&e, s, SYNACK_CLOSE_WAIT, false);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_expect(&e, R_ | A_, e.iss + 1, r, 0);
    pkt_expect_none(&e);
    assert_true(pkt_saw(&e, SYNACK_CLOSE_WAIT, SYNACK_CLOSED));
    assert_string_equal(pkt_cause(&e, SYNACK_CLOSED), "call abort");
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* CLOSE-WAIT: a retransmitted FIN is old (unacceptable) and re-acked. */
static void cw_dup_fin_reacked(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_open_active(&e, NULL);
    uint32_t r = pkt_drive_to(&e, s, SYNACK_CLOSE_WAIT, false);
    pkt_inject(&e, F_ | A_, r - 1, e.iss + 1, 65535, NULL, 0);
    pkt_expect(&e, A_, e.iss + 1, r, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_CLOSE_WAIT);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_expect(&e, R_ | A_, e.iss + 1, r, 0);
    pkt_teardown(&e, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cw_app_can_send),
        cmocka_unit_test(cw_close_to_lastack),
        cmocka_unit_test(cw_shutdown_to_lastack),
        cmocka_unit_test(cw_rst_to_closed),
        cmocka_unit_test(cw_abort_to_closed),
        cmocka_unit_test(cw_dup_fin_reacked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
