/* RFC 9293 state diagram, edges out of FIN-WAIT-1 and FIN-WAIT-2, and the
 * half-close: after shutdown(SHUT_WR) data is still received and read. */
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

/* The delayed-ACK timer (40 ms) fires well before the FIN's RTO (200 ms
 * after the instant handshake). */
#define DELACK_WAIT (50 * SYNACK_MSEC)

static synack_conn_info info_of_only_conn(pkt_env *e)
{
    synack_conn_info ci[4];
    size_t n = synack_conn_list(e->st, ci, 4);
    assert_int_equal(n, 1);
    return ci[0];
}

/* FIN-WAIT-1 -> FIN-WAIT-2 on the ACK of our FIN; nothing sent. */
static void fw1_ack_to_fw2(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_open_active(&e, NULL);
    assert_int_equal(synack_shutdown(e.st, s, SYNACK_SHUT_WR, e.now), 0);
    pkt_expect(&e, F_ | A_, e.iss + 1, PKT_RISN + 1, 0);
    assert_int_equal(pkt_state(&e, s), SYNACK_FIN_WAIT_1);
    assert_true(pkt_saw(&e, SYNACK_ESTABLISHED, SYNACK_FIN_WAIT_1));
    assert_string_equal(pkt_cause(&e, SYNACK_FIN_WAIT_1), "call shutdown");
    /* an ACK of nothing new leaves it in FIN-WAIT-1 */
    pkt_inject(&e, A_, PKT_RISN + 1, e.iss + 1, 65535, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_FIN_WAIT_1);
    pkt_inject(&e, A_, PKT_RISN + 1, e.iss + 2, 65535, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_FIN_WAIT_2);
    assert_true(pkt_saw(&e, SYNACK_FIN_WAIT_1, SYNACK_FIN_WAIT_2));
    assert_string_equal(pkt_cause(&e, SYNACK_FIN_WAIT_2), "rcv ACK");
    /* shutdown again / close: no second FIN (RFC 9293 3.10.4) */
    assert_int_equal(synack_shutdown(e.st, s, SYNACK_SHUT_WR, e.now), 0);
    assert_int_equal(synack_send(e.st, s, "x", 1, e.now), -SYNACK_EPIPE);
    pkt_expect_none(&e);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_conn_state(&e), SYNACK_FIN_WAIT_2);
    pkt_inject(&e, F_ | A_, PKT_RISN + 1, e.iss + 2, 65535, NULL, 0);
    pkt_expect(&e, A_, e.iss + 2, PKT_RISN + 2, 0);
    pkt_run_for(&e, 60 * SYNACK_SEC);
    assert_int_equal(pkt_conn_state(&e), SYNACK_CLOSED);
    pkt_expect_none(&e);
    pkt_teardown(&e, true);
}

/* FIN-WAIT-1 -> CLOSING on a FIN that does not ack ours (simultaneous
 * close): ACK <SEQ=SND.NXT><ACK=FIN+1>. */
static void fw1_fin_to_closing(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = pkt_open_passive(&e, &l, NULL);
    pkt_drive_to(&e, s, SYNACK_FIN_WAIT_1, false);
    pkt_inject(&e, F_ | A_, PKT_RISN + 1, e.iss + 1, 65535, NULL, 0);
    pkt_expect(&e, A_, e.iss + 2, PKT_RISN + 2, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_CLOSING);
    assert_true(pkt_saw(&e, SYNACK_FIN_WAIT_1, SYNACK_CLOSING));
    assert_string_equal(pkt_cause(&e, SYNACK_CLOSING), "rcv FIN,ACK");
    char b[4];
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now), 0);
    /* CLOSING -> TIME-WAIT */
    pkt_inject(&e, A_, PKT_RISN + 2, e.iss + 2, 65535, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_TIME_WAIT);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_expect_none(&e);
    pkt_run_for(&e, 60 * SYNACK_SEC);
    assert_int_equal(pkt_conn_state(&e), SYNACK_CLOSED);
    pkt_teardown(&e, true);
}

/* FIN-WAIT-1 -> TIME-WAIT directly on a FIN that also acks our FIN: one
 * ACK, the 2MSL timer started, and no stop in FIN-WAIT-2. */
static void fw1_finack_to_timewait_direct(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_open_active(&e, NULL);
    pkt_drive_to(&e, s, SYNACK_FIN_WAIT_1, true);
    pkt_run_for(&e, 100 * SYNACK_MSEC);
    synack_time_t t0 = e.now;
    pkt_inject(&e, F_ | A_, PKT_RISN + 1, e.iss + 2, 65535, NULL, 0);
    pkt_expect(&e, A_, e.iss + 2, PKT_RISN + 2, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_conn_state(&e), SYNACK_TIME_WAIT);
    assert_true(pkt_saw(&e, SYNACK_FIN_WAIT_1, SYNACK_TIME_WAIT));
    assert_false(pkt_saw(&e, SYNACK_FIN_WAIT_1, SYNACK_FIN_WAIT_2));
    assert_false(pkt_saw(&e, SYNACK_FIN_WAIT_2, SYNACK_TIME_WAIT));
    assert_string_equal(pkt_cause(&e, SYNACK_TIME_WAIT), "rcv FIN,ACK");
    synack_conn_info ci = info_of_only_conn(&e);
    assert_int_equal(ci.timer, SYNACK_TIMER_TIMEWAIT);
    assert_int_equal(ci.timer_expires, t0 + 60 * SYNACK_SEC);
    pkt_run_for(&e, 60 * SYNACK_SEC);
    assert_int_equal(pkt_conn_state(&e), SYNACK_CLOSED);
    pkt_expect_none(&e);
    pkt_teardown(&e, true);
}

/* FIN-WAIT-1 -> CLOSED on RST at RCV.NXT: ECONNRESET. */
static void fw1_rst_to_closed(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_open_active(&e, NULL);
    pkt_drive_to(&e, s, SYNACK_FIN_WAIT_1, false);
    pkt_inject(&e, R_, PKT_RISN + 1, 0, 0, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_CLOSED);
    assert_true(pkt_saw(&e, SYNACK_FIN_WAIT_1, SYNACK_CLOSED));
    char b[4];
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now),
                     -SYNACK_ECONNRESET);
    assert_int_equal(synack_stack_next_deadline(e.st), SYNACK_TIME_NEVER);
    pkt_run_for(&e, 5 * SYNACK_SEC);
    pkt_expect_none(&e); /* no FIN retransmission after the reset */
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_teardown(&e, true);
}

/* FIN-WAIT-1, orphaned by close(): a RST just frees it. */
static void fw1_orphan_rst_to_closed(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_open_active(&e, NULL);
    pkt_drive_to(&e, s, SYNACK_FIN_WAIT_1, true);
    pkt_inject(&e, R_ | A_, PKT_RISN + 1, e.iss + 2, 0, NULL, 0);
    pkt_expect_none(&e);
    assert_true(pkt_saw(&e, SYNACK_FIN_WAIT_1, SYNACK_CLOSED));
    assert_int_equal(synack_stack_conn_count(e.st), 0);
    pkt_teardown(&e, true);
}

/* FIN-WAIT-2 -> TIME-WAIT on the peer's FIN: ACK it. */
static void fw2_fin_to_timewait(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_open_active(&e, NULL);
    pkt_drive_to(&e, s, SYNACK_FIN_WAIT_2, false);
    pkt_run_for(&e, 3 * SYNACK_SEC);
    synack_time_t t0 = e.now;
    pkt_inject(&e, F_ | A_, PKT_RISN + 1, e.iss + 2, 65535, NULL, 0);
    pkt_expect(&e, A_, e.iss + 2, PKT_RISN + 2, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_TIME_WAIT);
    assert_true(pkt_saw(&e, SYNACK_FIN_WAIT_2, SYNACK_TIME_WAIT));
    assert_int_equal(pkt_saw_time(&e, SYNACK_FIN_WAIT_2, SYNACK_TIME_WAIT),
                     t0);
    synack_conn_info ci;
    assert_int_equal(synack_conn_get(e.st, s, &ci), 0);
    assert_int_equal(ci.timer, SYNACK_TIMER_TIMEWAIT);
    assert_int_equal(ci.timer_expires, t0 + 60 * SYNACK_SEC);
    char b[4];
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now), 0);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_expect_none(&e);
    pkt_run_for(&e, 60 * SYNACK_SEC);
    assert_int_equal(pkt_conn_state(&e), SYNACK_CLOSED);
    pkt_teardown(&e, true);
}

/* FIN-WAIT-2 -> CLOSED on RST: ECONNRESET. */
static void fw2_rst_to_closed(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_open_active(&e, NULL);
    pkt_drive_to(&e, s, SYNACK_FIN_WAIT_2, false);
    pkt_inject(&e, R_, PKT_RISN + 1, 0, 0, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_CLOSED);
    assert_true(pkt_saw(&e, SYNACK_FIN_WAIT_2, SYNACK_CLOSED));
    assert_int_equal(pkt_so_error(&e, s), SYNACK_ECONNRESET);
    char b[4];
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now), 0);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_teardown(&e, true);
}

/* Half-close in FIN-WAIT-1: after shutdown(SHUT_WR), data from the peer
 * (which has not acked our FIN yet) is received, acknowledged and read. */
static void fw1_halfclose_receives_data(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = pkt_open_passive(&e, &l, NULL);
    assert_int_equal(synack_shutdown(e.st, s, SYNACK_SHUT_WR, e.now), 0);
    pkt_expect(&e, F_ | A_, e.iss + 1, PKT_RISN + 1, 0);
    assert_int_equal(synack_send(e.st, s, "x", 1, e.now), -SYNACK_EPIPE);
    static uint8_t data[100];
    for (int i = 0; i < 100; i++)
        data[i] = (uint8_t)i;
    pkt_inject(&e, A_ | P_, PKT_RISN + 1, e.iss + 1, 65535, data, 100);
    assert_int_equal(pkt_state(&e, s), SYNACK_FIN_WAIT_1);
    pkt_run_for(&e, DELACK_WAIT);
    pkt_expect(&e, A_, e.iss + 2, PKT_RISN + 101, 0);
    pkt_expect_none(&e);
    uint8_t b[200];
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now), 100);
    assert_memory_equal(b, data, 100);
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now),
                     -SYNACK_EAGAIN);
    /* the peer acks our FIN with more data: FIN-WAIT-2, data read */
    pkt_inject(&e, A_ | P_, PKT_RISN + 101, e.iss + 2, 65535, "more", 4);
    assert_int_equal(pkt_state(&e, s), SYNACK_FIN_WAIT_2);
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now), 4);
    assert_memory_equal(b, "more", 4);
    pkt_run_for(&e, DELACK_WAIT);
    pkt_expect(&e, A_, e.iss + 2, PKT_RISN + 105, 0);
    pkt_expect_none(&e);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_expect_none(&e);
    pkt_inject(&e, F_ | A_, PKT_RISN + 105, e.iss + 2, 65535, NULL, 0);
    pkt_expect(&e, A_, e.iss + 2, PKT_RISN + 106, 0);
    pkt_run_for(&e, 60 * SYNACK_SEC);
    assert_int_equal(pkt_conn_state(&e), SYNACK_CLOSED);
    pkt_teardown(&e, true);
}

/* Half-close in FIN-WAIT-2: data keeps flowing in until the peer's FIN;
 * the application reads all of it, then EOF. */
static void fw2_halfclose_receives_data(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    pkt_peer_opts o = {.mss = 1460, .ws = -1};
    int s = pkt_open_active(&e, &o);
    uint32_t r = pkt_drive_to(&e, s, SYNACK_FIN_WAIT_2, false);
    static uint8_t data[3000];
    for (int i = 0; i < 3000; i++)
        data[i] = (uint8_t)(i * 13);
    pkt_inject(&e, A_, r, e.iss + 2, 65535, data, 1460);
    pkt_inject(&e, A_, r + 1460, e.iss + 2, 65535, data + 1460, 1460);
    /* two full segments: ACK at once */
    pkt_expect(&e, A_, e.iss + 2, r + 2920, 0);
    pkt_inject(&e, F_ | A_ | P_, r + 2920, e.iss + 2, 65535, data + 2920, 80);
    pkt_expect(&e, A_, e.iss + 2, r + 3001, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_TIME_WAIT);
    static uint8_t b[4000];
    size_t got = 0;
    for (;;) {
        ssize_t n = synack_recv(e.st, s, b + got, sizeof(b) - got, e.now);
        assert_true(n >= 0);
        if (n == 0)
            break;
        got += (size_t)n;
    }
    assert_int_equal(got, 3000);
    assert_memory_equal(b, data, 3000);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_run_for(&e, 60 * SYNACK_SEC);
    assert_int_equal(pkt_conn_state(&e), SYNACK_CLOSED);
    pkt_expect_none(&e);
    pkt_teardown(&e, true);
}

/* Orphaned FIN-WAIT-2 (close(), not shutdown()): new data has no reader:
 * RST (RFC 1122 4.2.2.13, as Linux). */
static void fw2_orphan_data_gets_rst(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_open_active(&e, NULL);
    uint32_t r = pkt_drive_to(&e, s, SYNACK_FIN_WAIT_2, true);
    pkt_inject(&e, A_ | P_, r, e.iss + 2, 65535, "late", 4);
    pkt_expect(&e, R_ | A_, e.iss + 2, r, 0);
    pkt_expect_none(&e);
    assert_true(pkt_saw(&e, SYNACK_FIN_WAIT_2, SYNACK_CLOSED));
    assert_int_equal(synack_stack_conn_count(e.st), 0);
    pkt_teardown(&e, true);
}

/* FIN-WAIT-1 / FIN-WAIT-2 -> CLOSED on abort(): <SEQ=SND.NXT><CTL=RST>
 * (RFC 9293 3.10.5); SND.NXT is past our FIN. */
static void fw_abort_sends_rst(void **state)
{
    (void)state;
    for (int t = SYNACK_FIN_WAIT_1; t <= SYNACK_FIN_WAIT_2; t++) {
        pkt_env e;
        pkt_setup(&e, NULL);
        int s = pkt_open_active(&e, NULL);
        uint32_t r = pkt_drive_to(&e, s, t, false);
        assert_int_equal(synack_abort(e.st, s, e.now), 0);
        pkt_expect(&e, R_ | A_, e.iss + 2, r, 0);
        pkt_expect_none(&e);
        assert_true(pkt_saw(&e, t, SYNACK_CLOSED));
        assert_int_equal(synack_stack_conn_count(e.st), 0);
        pkt_teardown(&e, true);
    }
}

/* FIN-WAIT-1 -> CLOSING on a FIN that carries data and does not ack our
 * FIN: data taken, one ACK for data and FIN; the reader gets the data,
 * then EOF. */
static void fw1_data_fin_to_closing(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_open_active(&e, NULL);
    pkt_drive_to(&e, s, SYNACK_FIN_WAIT_1, false);
    pkt_inject(&e, F_ | A_ | P_, PKT_RISN + 1, e.iss + 1, 65535, "xyz", 3);
    pkt_expect(&e, A_, e.iss + 2, PKT_RISN + 5, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_CLOSING);
    char b[8];
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now), 3);
    assert_memory_equal(b, "xyz", 3);
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now), 0);
    pkt_inject(&e, A_, PKT_RISN + 5, e.iss + 2, 65535, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_TIME_WAIT);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_run_for(&e, 60 * SYNACK_SEC);
    assert_int_equal(pkt_conn_state(&e), SYNACK_CLOSED);
    pkt_teardown(&e, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fw1_ack_to_fw2),
        cmocka_unit_test(fw1_fin_to_closing),
        cmocka_unit_test(fw1_finack_to_timewait_direct),
        cmocka_unit_test(fw1_rst_to_closed),
        cmocka_unit_test(fw1_orphan_rst_to_closed),
        cmocka_unit_test(fw2_fin_to_timewait),
        cmocka_unit_test(fw2_rst_to_closed),
        cmocka_unit_test(fw1_halfclose_receives_data),
        cmocka_unit_test(fw2_halfclose_receives_data),
        cmocka_unit_test(fw2_orphan_data_gets_rst),
        cmocka_unit_test(fw_abort_sends_rst),
        cmocka_unit_test(fw1_data_fin_to_closing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
