/* The send window's right edge (RFC 9293 3.8.6, 3.10.7.4): regression
 * tests for two bugs the chaos simulation found. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pkt.h"

#define A_ SYNACK_TH_ACK
#define P_ SYNACK_TH_PSH

/* Active open to a peer with MSS 1000 and window wnd, then the
 * application queues len bytes (all accepted). */
static int open_and_queue(pkt_env *e, uint16_t wnd, size_t len)
{
    static char buf[8000];
    pkt_setup(e, NULL);
    pkt_peer_opts o = {.mss = 1000, .ws = -1, .wnd = wnd};
    int s = pkt_open_active(e, &o);
    memset(buf, 'x', sizeof buf);
    assert_true(len <= sizeof buf);
    assert_int_equal(synack_send(e->st, s, buf, len, e->now), (ssize_t)len);
    return s;
}

/* The window is relative to SND.WL2: an ACK whose SEG.SEQ is older than
 * SND.WL1 (here the peer's retransmission of its own data) moves SND.UNA
 * but not the right edge, so nothing beyond the offered window goes out.
 * (The edge used to slide right by the bytes acknowledged.) */
static void window_edge_stays_without_update(void **state)
{
    (void)state;
    pkt_env e;
    int s = open_and_queue(&e, 3000, 8000);
    uint32_t r = PKT_RISN + 1;
    /* the window (3000) is full: three segments */
    pkt_expect(&e, A_, e.iss + 1, r, 1000);
    pkt_expect(&e, A_, e.iss + 1001, r, 1000);
    pkt_expect(&e, A_ | P_, e.iss + 2001, r, 1000);
    pkt_expect_none(&e);
    /* the peer sends two data segments: SND.WL1 moves to r + 100 */
    pkt_inject(&e, A_ | P_, r, e.iss + 1, 3000, "aaaaaaaaaa", 10);
    pkt_inject(&e, A_ | P_, r + 10, e.iss + 1, 3000, "bbbbbbbbbb", 10);
    pkt_run_for(&e, 50 * SYNACK_MSEC); /* delayed ACK, before any RTO */
    while (pkt_pop(&e, NULL))
        ;
    /* ... then retransmits from the first one, with 10 new bytes, and
     * acknowledges 1000 bytes: acceptable, but SEG.SEQ < SND.WL1, so no
     * window update: the edge stays at ISS + 1 + 3000 */
    pkt_inject(&e, A_ | P_, r, e.iss + 1001, 3000,
               "aaaaaaaaaabbbbbbbbbbcccccccccc", 30);
    pkt_seg g;
    while (pkt_pop(&e, &g))
        assert_true((int32_t)(g.th.seq + g.len - (e.iss + 3001)) <= 0);
    /* a real window update (current SEG.SEQ) opens it */
    pkt_inject(&e, A_, r + 30, e.iss + 1001, 3000, NULL, 0);
    bool sent_new = false;
    while (pkt_pop(&e, &g)) {
        assert_true((int32_t)(g.th.seq + g.len - (e.iss + 4001)) <= 0);
        if (g.len && (int32_t)(g.th.seq - (e.iss + 3001)) >= 0)
            sent_new = true;
    }
    assert_true(sent_new);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_teardown(&e, false);
}

/* The peer shrinks its window to zero under 500 outstanding bytes while
 * more data is queued: the RTO probe retransmits those 500 bytes, never
 * bytes beyond SND.MAX (they used to ride along without SND.MAX moving, and
 * the peer's ACK of them was then refused for ever). */
static void zero_window_rto_probe_stays_below_snd_max(void **state)
{
    (void)state;
    pkt_env e;
    int s = open_and_queue(&e, 500, 4000);
    uint32_t r = PKT_RISN + 1;
    pkt_expect(&e, A_, e.iss + 1, r, 500);
    pkt_expect_none(&e);
    pkt_inject(&e, A_, r, e.iss + 1, 0, NULL, 0); /* window shrinks to 0 */
    pkt_run_for(&e, 5 * SYNACK_SEC);
    pkt_seg g;
    int n = 0;
    while (pkt_pop(&e, &g)) {
        assert_int_equal(g.th.seq, e.iss + 1);
        assert_true(g.len <= 500);
        n++;
    }
    assert_true(n >= 1);
    /* the peer takes them: everything it ACKs is acceptable */
    pkt_inject(&e, A_, r, e.iss + 501, 1000, NULL, 0);
    pkt_expect(&e, A_, e.iss + 501, r, 1000);
    assert_int_equal(pkt_drops(&e, SYNACK_DROP_TCP_ACK), 0);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_teardown(&e, false);
}

/* A caller's clock that steps backwards (a wall clock, say) does not
 * reach the protocol: the stack's clock never goes back. Here an ACK
 * "arrives" 5 s before the data it acknowledges was sent: without the
 * clamp the RTT sample underflowed into years and the RTO went to
 * tcp_rto_max (120 s). */
static void clock_stepping_back_is_ignored(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    pkt_peer_opts o = {.mss = 1000, .ws = -1};
    int s = pkt_open_active(&e, &o);
    uint32_t r = PKT_RISN + 1;
    pkt_run_for(&e, 10 * SYNACK_SEC);
    assert_int_equal(synack_send(e.st, s, "abc", 3, e.now), 3);
    pkt_expect(&e, A_ | P_, e.iss + 1, r, 3);
    e.now -= 5 * SYNACK_SEC; /* the caller's clock steps back */
    pkt_inject(&e, A_, r, e.iss + 4, 65535, NULL, 0);
    synack_conn_info ci = pkt_info(&e, s);
    assert_true(ci.rto_us <= 1000000);
    assert_int_equal(ci.send_q, 0);
    /* timers still work from the stack's own clock */
    synack_stack_advance(e.st, e.now);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_ESTABLISHED);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_teardown(&e, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(window_edge_stays_without_update),
        cmocka_unit_test(zero_window_rto_probe_stays_below_snd_max),
        cmocka_unit_test(clock_stepping_back_is_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
