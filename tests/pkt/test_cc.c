/* Congestion control details: RFC 3042 Limited Transmit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pkt.h"

#define A SYNACK_TH_ACK
#define MSS 1460u

/* Ten segments in flight (the initial window); the first is lost. The
 * first two duplicate ACKs each release one new segment beyond cwnd; the
 * third triggers the fast retransmit of the first. */
static void limited_transmit(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_wmem=4096 65536 65536", NULL};
    pkt_setup(&e, sys);
    pkt_peer_opts o = {.mss = MSS, .ws = -1};
    int s = pkt_open_active(&e, &o);
    uint32_t x = e.iss + 1, r = PKT_RISN + 1;
    static uint8_t data[20 * MSS];
    memset(data, 'd', sizeof(data));
    assert_int_equal(synack_send(e.st, s, data, sizeof(data), e.now),
                     (ssize_t)sizeof(data));
    for (uint32_t i = 0; i < 10; i++)
        pkt_expect(&e, A, x + i * MSS, r, MSS);
    pkt_expect_none(&e); /* cwnd (10 segments) is full */

    pkt_run_for(&e, 10 * SYNACK_MSEC);
    pkt_inject(&e, A, r, x, 65535, NULL, 0); /* dupack 1 */
    pkt_expect(&e, A, x + 10 * MSS, r, MSS);
    pkt_expect_none(&e);
    pkt_inject(&e, A, r, x, 65535, NULL, 0); /* dupack 2 */
    pkt_expect(&e, A, x + 11 * MSS, r, MSS);
    pkt_expect_none(&e);
    pkt_inject(&e, A, r, x, 65535, NULL, 0); /* dupack 3 */
    const pkt_seg *g = pkt_expect(&e, A, x, r, MSS); /* fast retransmit */
    assert_true(g->t < 200 * SYNACK_MSEC);            /* before the RTO */
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_teardown(&e, false);
}

/* No Limited Transmit once in recovery or without duplicate ACKs. */
static void no_limited_transmit_without_dupacks(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_wmem=4096 65536 65536", NULL};
    pkt_setup(&e, sys);
    pkt_peer_opts o = {.mss = MSS, .ws = -1};
    int s = pkt_open_active(&e, &o);
    uint32_t x = e.iss + 1, r = PKT_RISN + 1;
    static uint8_t data[20 * MSS];
    assert_int_equal(synack_send(e.st, s, data, sizeof(data), e.now),
                     (ssize_t)sizeof(data));
    for (uint32_t i = 0; i < 10; i++)
        pkt_expect(&e, A, x + i * MSS, r, MSS);
    /* a window update is not a duplicate ACK: nothing more may go */
    pkt_inject(&e, A, r, x, 60000, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_teardown(&e, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(limited_transmit),
        cmocka_unit_test(no_limited_transmit_without_dupacks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
