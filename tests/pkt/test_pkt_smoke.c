/* The harness itself: a passive and an active open, and a full close each
 * way, so that a broken harness cannot make the other tests pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pkt.h"

static void passive_open_and_close(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = pkt_open_passive(&e, &l, NULL);
    assert_true(pkt_saw(&e, SYNACK_LISTEN, SYNACK_SYN_RECEIVED));
    assert_true(pkt_saw(&e, SYNACK_SYN_RECEIVED, SYNACK_ESTABLISHED));
    uint32_t r = pkt_drive_to(&e, s, SYNACK_TIME_WAIT, true);
    assert_int_equal(r, PKT_RISN + 2);
    pkt_run_for(&e, 60 * SYNACK_SEC);
    assert_int_equal(pkt_conn_state(&e), SYNACK_CLOSED);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

static void active_open_and_passive_close(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_open_active(&e, NULL);
    assert_true(pkt_saw(&e, SYNACK_SYN_SENT, SYNACK_ESTABLISHED));
    pkt_drive_to(&e, s, SYNACK_LAST_ACK, true);
    pkt_inject(&e, SYNACK_TH_ACK, PKT_RISN + 2, e.iss + 2, 65535, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_conn_state(&e), SYNACK_CLOSED);
    pkt_teardown(&e, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(passive_open_and_close),
        cmocka_unit_test(active_open_and_passive_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
