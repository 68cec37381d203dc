/* RST processing per RFC 5961 (as folded into RFC 9293 3.10.7.4): exact
 * RST resets, in-window RST and any SYN get a rate-limited challenge ACK,
 * out-of-window RST is ignored; and the ACK checks of RFC 5961 section 5.
 * RST generation for closed ports and bad ACKs is in test_state_closed,
 * _listen, _synsent and _synrcvd. */
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

static uint64_t challenge_acks(pkt_env *e)
{
    synack_stack_stats s;
    synack_stack_get_stats(e->st, &s);
    return s.tcp_challenge_acks;
}

static void abort_conn(pkt_env *e, int s, uint32_t seq, uint32_t ack)
{
    assert_int_equal(synack_abort(e->st, s, e->now), 0);
    pkt_expect(e, R_ | A_, seq, ack, 0);
    pkt_expect_none(e);
}

/* A RST exactly at RCV.NXT (after RCV.NXT has moved) resets: ECONNRESET.
 * The RST at the old RCV.NXT, now below the window, is ignored. */
static void rst_exact_resets(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_open_active(&e, NULL);
    uint32_t r = PKT_RISN + 1;
    pkt_inject(&e, A_ | P_, r, e.iss + 1, 65535, "0123456789", 10);
    char b[16];
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now), 10);
    pkt_run_for(&e, 100 * SYNACK_MSEC);
    pkt_expect(&e, A_, e.iss + 1, r + 10, 0);
    pkt_inject(&e, R_, r, 0, 0, NULL, 0); /* old RCV.NXT */
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_ESTABLISHED);
    pkt_inject(&e, R_, r + 10, 0, 0, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_CLOSED);
    assert_int_equal(challenge_acks(&e), 0);
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now),
                     -SYNACK_ECONNRESET);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_teardown(&e, true);
}

/* A RST inside the window but not at RCV.NXT: challenge ACK
 * <SEQ=SND.NXT><ACK=RCV.NXT>, the RST is dropped and the connection
 * survives. Both ends of the window are checked. */
static void rst_in_window_challenge_ack(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_open_active(&e, NULL);
    uint32_t r = PKT_RISN + 1;
    pkt_inject(&e, R_, r + 1, 0, 0, NULL, 0);
    pkt_expect(&e, A_, e.iss + 1, r, 0);
    pkt_inject(&e, R_ | A_, r + 100, e.iss + 1, 0, NULL, 0);
    pkt_expect(&e, A_, e.iss + 1, r, 0);
    pkt_inject(&e, R_, r + 65534, 0, 0, NULL, 0); /* last byte of window */
    pkt_expect(&e, A_, e.iss + 1, r, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_ESTABLISHED);
    assert_int_equal(challenge_acks(&e), 3);
    assert_int_equal(pkt_drops(&e, SYNACK_DROP_TCP_RST_SEQ), 3);
    assert_int_equal(pkt_so_error(&e, s), 0);
    /* the connection still works */
    assert_int_equal(synack_send(e.st, s, "ok", 2, e.now), 2);
    pkt_expect(&e, A_ | P_, e.iss + 1, r, 2);
    pkt_inject(&e, A_, r, e.iss + 3, 65535, NULL, 0);
    pkt_expect_none(&e);
    abort_conn(&e, s, e.iss + 3, r);
    pkt_teardown(&e, true);
}

/* A RST outside the window is dropped silently: no ACK (RFC 9293 first
 * step: unacceptable segments are answered unless RST). */
static void rst_out_of_window_ignored(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_open_active(&e, NULL);
    uint32_t r = PKT_RISN + 1;
    pkt_inject(&e, R_, r + 65535, 0, 0, NULL, 0); /* right edge */
    pkt_inject(&e, R_, r - 1, 0, 0, NULL, 0);
    pkt_inject(&e, R_, r + 0x40000000u, 0, 0, NULL, 0);
    pkt_inject(&e, R_ | A_, r - 70000, e.iss + 1, 0, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_ESTABLISHED);
    assert_int_equal(challenge_acks(&e), 0);
    assert_int_equal(pkt_drops(&e, SYNACK_DROP_TCP_SEQ), 4);
    abort_conn(&e, s, e.iss + 1, r);
    pkt_teardown(&e, true);
}

/* RFC 5961 4: a SYN on a synchronized connection, whatever its sequence
 * number, gets a challenge ACK and is dropped; the connection stays. */
static void syn_in_established_challenge_ack(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = pkt_open_passive(&e, &l, NULL);
    uint32_t r = PKT_RISN + 1;
    pkt_inject(&e, S_, r, 0, 65535, NULL, 0); /* in window */
    pkt_expect(&e, A_, e.iss + 1, r, 0);
    pkt_inject(&e, S_, r + 40000, 0, 65535, NULL, 0);
    pkt_expect(&e, A_, e.iss + 1, r, 0);
    pkt_inject(&e, S_ | A_, r + 10, e.iss + 1, 65535, NULL, 0);
    pkt_expect(&e, A_, e.iss + 1, r, 0);
    pkt_inject(&e, S_, PKT_RISN, 0, 65535, NULL, 0); /* the old SYN */
    pkt_expect(&e, A_, e.iss + 1, r, 0);
    pkt_inject(&e, S_, r + 0x50000000u, 0, 65535, NULL, 0); /* far */
    pkt_expect(&e, A_, e.iss + 1, r, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_ESTABLISHED);
    assert_int_equal(pkt_so_error(&e, s), 0);
    assert_true(pkt_drops(&e, SYNACK_DROP_TCP_SYN_IN_WINDOW) >= 3);
    assert_int_equal(synack_stack_conn_count(e.st), 2);
    /* data in a SYN is not taken */
    char b[4];
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now),
                     -SYNACK_EAGAIN);
    abort_conn(&e, s, e.iss + 1, r);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* tcp_challenge_ack_limit=2: each second's budget is drawn from [1, 2]
 * (limit/2 + a random part below limit, as Linux: a fixed global budget is
 * the CVE-2016-5696 side channel); challenge ACKs beyond it are suppressed
 * and counted; the next second starts a new budget. RSTs and SYNs share
 * it. The limit never blocks a real reset. */
static uint64_t inject_rsts(pkt_env *e, uint32_t r, int n, uint32_t *off)
{
    uint64_t before = challenge_acks(e);
    for (int i = 0; i < n; i++) {
        pkt_inject(e, (i & 1) ? S_ : R_, (i & 1) ? r : r + ++*off, 0, 65535,
                   NULL, 0);
        pkt_seg g;
        while (pkt_pop(e, &g))
            assert_int_equal(g.th.flags, A_);
    }
    return challenge_acks(e) - before;
}

static void challenge_ack_rate_limit(void **state)
{
    (void)state;
    pkt_env e;
    const char *const sys[] = {"tcp_challenge_ack_limit=2", NULL};
    pkt_setup(&e, sys);
    int s = pkt_open_active(&e, NULL);
    uint32_t r = PKT_RISN + 1, off = 0;
    pkt_run_for(&e, 5 * SYNACK_SEC);
    uint64_t sent = 0, seen[3] = {0, 0, 0};
    for (int sec = 0; sec < 40; sec++) {
        uint64_t c = inject_rsts(&e, r, 5, &off);
        assert_true(c >= 1 && c <= 2);
        seen[c]++;
        sent += c;
        assert_int_equal(pkt_drops(&e, SYNACK_DROP_TCP_CHALLENGE_LIMIT),
                         5 * (uint64_t)(sec + 1) - sent);
        pkt_run_for(&e, SYNACK_SEC);
    }
    assert_true(seen[1] > 0 && seen[2] > 0); /* the budget does vary */
    assert_int_equal(pkt_state(&e, s), SYNACK_ESTABLISHED);
    /* the limit never blocks a real reset */
    inject_rsts(&e, r, 5, &off);
    pkt_inject(&e, R_, r, 0, 0, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_CLOSED);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_teardown(&e, true);
}

/* The default limit (1000): over 20 seconds of a challenge-ACK flood the
 * per-second counts stay within [500, 1499], differ from second to second,
 * and average about 1000. */
static void challenge_ack_budget_random(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_open_active(&e, NULL);
    uint32_t r = PKT_RISN + 1, off = 0;
    pkt_run_for(&e, 5 * SYNACK_SEC);
    uint64_t total = 0, lo = UINT64_MAX, hi = 0;
    for (int sec = 0; sec < 20; sec++) {
        off = 0;
        uint64_t c = inject_rsts(&e, r, 1600, &off);
        total += c;
        lo = c < lo ? c : lo;
        hi = c > hi ? c : hi;
        pkt_run_for(&e, SYNACK_SEC);
    }
    assert_true(lo >= 500 && hi <= 1499);
    assert_true(hi - lo > 50);
    assert_true(total >= 20 * 800 && total <= 20 * 1200);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_teardown(&e, false);
}

/* An ACK for data never sent (SEG.ACK > SND.NXT): send an ACK, drop the
 * segment (its data too), return (RFC 9293 fifth step; RFC 5961 5.2). */
static void ack_of_unsent_data_acked_and_dropped(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_open_active(&e, NULL);
    uint32_t r = PKT_RISN + 1;
    pkt_inject(&e, A_ | P_, r, e.iss + 100, 65535, "abc", 3);
    pkt_expect(&e, A_, e.iss + 1, r, 0);
    pkt_inject(&e, A_, r, e.iss + 2, 65535, NULL, 0);
    pkt_expect(&e, A_, e.iss + 1, r, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_drops(&e, SYNACK_DROP_TCP_ACK), 2);
    char b[8];
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now),
                     -SYNACK_EAGAIN);
    assert_int_equal(pkt_state(&e, s), SYNACK_ESTABLISHED);
    /* the FIN in such a segment is dropped too */
    pkt_inject(&e, F_ | A_, r, e.iss + 50, 65535, NULL, 0);
    pkt_expect(&e, A_, e.iss + 1, r, 0);
    assert_int_equal(pkt_state(&e, s), SYNACK_ESTABLISHED);
    abort_conn(&e, s, e.iss + 1, r);
    pkt_teardown(&e, true);
}

/* RFC 5961 5.2: SEG.ACK below SND.UNA - MAX.SND.WND is discarded with an
 * ACK; an old ACK within that range is a duplicate and the data in its
 * segment is taken. */
static void ack_too_old_discarded(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_open_active(&e, NULL);
    uint32_t r = PKT_RISN + 1;
    pkt_inject(&e, A_ | P_, r, e.iss + 1 - 200000, 65535, "bad", 3);
    pkt_expect(&e, A_, e.iss + 1, r, 0);
    pkt_expect_none(&e);
    char b[8];
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now),
                     -SYNACK_EAGAIN);
    pkt_inject(&e, A_ | P_, r, e.iss + 1 - 1000, 65535, "dup", 3);
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now), 3);
    assert_memory_equal(b, "dup", 3);
    pkt_run_for(&e, 100 * SYNACK_MSEC);
    pkt_expect(&e, A_, e.iss + 1, r + 3, 0);
    abort_conn(&e, s, e.iss + 1, r + 3);
    pkt_teardown(&e, true);
}

/* SYN-RECEIVED (passive): an in-window RST that is not exact gets a
 * challenge ACK too; the exact one deletes the embryo. */
static void rst_not_exact_in_synrcvd(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l = pkt_listen(&e, 8);
    pkt_inject_syn(&e, NULL);
    pkt_seg sa;
    assert_true(pkt_pop(&e, &sa));
    e.iss = sa.th.seq;
    pkt_inject(&e, R_, PKT_RISN + 50, 0, 0, NULL, 0);
    pkt_expect(&e, A_, e.iss + 1, PKT_RISN + 1, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_conn_state(&e), SYNACK_SYN_RECEIVED);
    pkt_inject(&e, R_, PKT_RISN + 1, 0, 0, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(synack_stack_conn_count(e.st), 1);
    assert_int_equal(pkt_state(&e, l), SYNACK_LISTEN);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* The same rules in every other synchronized state: a RST in the window
 * but not at RCV.NXT is challenged (<SEQ=SND.NXT><ACK=RCV.NXT>) and the
 * state is kept; the exact RST then closes. */
static void rst_not_exact_in_closing_states(void **state)
{
    (void)state;
    static const int targets[] = {SYNACK_FIN_WAIT_1, SYNACK_FIN_WAIT_2,
                                  SYNACK_CLOSE_WAIT, SYNACK_CLOSING,
                                  SYNACK_LAST_ACK,   SYNACK_TIME_WAIT};
    for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
        int t = targets[i];
        pkt_env e;
        pkt_setup(&e, NULL);
        int s = pkt_open_active(&e, NULL);
        uint32_t r = pkt_drive_to(&e, s, t, true);
        uint32_t nxt = e.iss + (t == SYNACK_CLOSE_WAIT ? 1 : 2);
        pkt_inject(&e, R_, r + 7, 0, 0, NULL, 0);
        pkt_expect(&e, A_, nxt, r, 0);
        pkt_expect_none(&e);
        assert_int_equal(pkt_conn_state(&e), t);
        pkt_inject(&e, R_, r, 0, 0, NULL, 0);
        pkt_expect_none(&e);
        assert_int_equal(pkt_conn_state(&e), SYNACK_CLOSED);
        assert_true(pkt_saw(&e, t, SYNACK_CLOSED));
        if (t == SYNACK_CLOSE_WAIT) /* the only one with a handle left */
            assert_int_equal(synack_close(e.st, s, e.now), 0);
        assert_int_equal(synack_stack_conn_count(e.st), 0);
        pkt_teardown(&e, true);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rst_exact_resets),
        cmocka_unit_test(rst_in_window_challenge_ack),
        cmocka_unit_test(rst_out_of_window_ignored),
        cmocka_unit_test(syn_in_established_challenge_ack),
        cmocka_unit_test(challenge_ack_rate_limit),
        cmocka_unit_test(challenge_ack_budget_random),
        cmocka_unit_test(ack_of_unsent_data_acked_and_dropped),
        cmocka_unit_test(ack_too_old_discarded),
        cmocka_unit_test(rst_not_exact_in_synrcvd),
        cmocka_unit_test(rst_not_exact_in_closing_states),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
