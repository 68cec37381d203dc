/* The persist timer: zero-window probing (RFC 9293 3.8.6.1, RFC 1122
 * 4.2.2.17).
 *
 * With data waiting, nothing in flight and a zero send window, the first
 * probe goes out one RTO after the window closed on us, then the interval
 * doubles, capped at tcp_rto_max_ms (Linux: tcp_probe0_when). The probe
 * is what Linux sends: a zero-length ACK with SEQ = SND.UNA - 1, which the
 * peer must answer with an ACK carrying its current window. As long as
 * the peer answers, the connection stays up indefinitely (RFC 9293: the
 * sender MUST NOT close just because the window is zero); tcp_retries2
 * unanswered probes abort it with ETIMEDOUT (Linux tcp_probe_timer). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pkt.h"

#define S SYNACK_SEC
#define MS SYNACK_MSEC
#define A SYNACK_TH_ACK
#define R (PKT_RISN + 1)

/* Passive connection (RTO 200 ms); the peer then closes its window. At
 * t0 = 1 s the application sends 100 bytes: nothing may go out. */
static int zero_window_pending(pkt_env *e, int *l, synack_time_t *t0)
{
    int s = pkt_open_passive(e, l, NULL);
    uint32_t x = e->iss + 1;
    assert_int_equal(pkt_info(e, s).rto_us, 200000);
    pkt_run_until(e, 500 * MS);
    pkt_inject(e, A, R, x, 0, NULL, 0); /* window update: 0 */
    pkt_expect_none(e);
    assert_int_equal(pkt_info(e, s).snd_wnd, 0);
    pkt_run_until(e, 1 * S);
    *t0 = e->now;
    assert_int_equal(synack_send(e->st, s, "0123456789", 10, e->now), 10);
    pkt_expect_none(e);
    synack_conn_info ci = pkt_info(e, s);
    assert_int_equal(ci.timer, SYNACK_TIMER_PERSIST);
    assert_true(ci.timer_expires == *t0 + 200 * MS);
    assert_int_equal(ci.send_q, 10);
    return s;
}

/* Probes at 0.2, 0.6, 1.4, 3.0 s, then every tcp_rto_max_ms (2 s here);
 * each answered with a zero window. 30 probes (twice tcp_retries2) later
 * the connection is still up; when the window opens the data goes out at
 * once. */
static void persist_backoff_answered_forever(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_rto_max_ms=2000", NULL};
    pkt_setup(&e, sys);
    int l;
    synack_time_t t0;
    int s = zero_window_pending(&e, &l, &t0);
    uint32_t x = e.iss + 1;
    synack_time_t at = t0;
    synack_time_t iv = 200 * MS;
    for (int i = 0; i < 30; i++) {
        at += iv;
        pkt_run_until(&e, at - 1);
        pkt_expect_none(&e);
        pkt_run_until(&e, at);
        const pkt_seg *g = pkt_expect_at(&e, at, A, x - 1, R, 0);
        assert_int_equal(g->th.flags, A); /* no FIN, SYN, RST, PSH */
        assert_int_equal(pkt_info(&e, s).timer, SYNACK_TIMER_PERSIST);
        pkt_inject(&e, A, R, x, 0, NULL, 0); /* still closed */
        pkt_expect_none(&e);
        iv = iv * 2 > 2 * S ? 2 * S : iv * 2;
    }
    assert_int_equal(pkt_state(&e, s), SYNACK_ESTABLISHED);
    assert_int_equal(pkt_info(&e, s).send_q, 10);
    /* 0.2+0.4+0.8+1.6 + 26*2 s = 55 s */
    assert_true(at == t0 + 55 * S);

    /* the window opens half-way to the next probe: data flows at once */
    pkt_run_until(&e, at + 1 * S);
    pkt_inject(&e, A, R, x, 65535, NULL, 0);
    const pkt_seg *g = pkt_expect_at(&e, at + 1 * S, A, x, R, 10);
    assert_memory_equal(g->data, "0123456789", 10);
    pkt_expect_none(&e);
    synack_conn_info ci = pkt_info(&e, s);
    assert_int_equal(ci.timer, SYNACK_TIMER_ON); /* persist is over */
    pkt_inject(&e, A, R, x + 10, 65535, NULL, 0);
    assert_int_equal(pkt_info(&e, s).timer, SYNACK_TIMER_NONE);
    pkt_run_for(&e, 600 * S);
    pkt_expect_none(&e);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_expect(&e, SYNACK_TH_RST | A, x + 10, R, 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* The default cap (120 s): the interval doubles from 0.2 s to 102.4 s and
 * then stays at 120 s. */
static void persist_default_cap(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    synack_time_t t0;
    int s = zero_window_pending(&e, &l, &t0);
    uint32_t x = e.iss + 1;
    synack_time_t at = t0;
    synack_time_t iv = 200 * MS;
    for (int i = 0; i < 14; i++) {
        at += iv;
        pkt_run_until(&e, at);
        pkt_expect_at(&e, at, A, x - 1, R, 0);
        pkt_expect_none(&e);
        pkt_inject(&e, A, R, x, 0, NULL, 0);
        iv = iv * 2 > 120 * S ? 120 * S : iv * 2;
    }
    /* 204.6 s of doublings, then 4 x 120 s */
    assert_true(at == t0 + 684600 * MS);
    assert_true(pkt_info(&e, s).timer_expires == at + 120 * S);
    assert_int_equal(pkt_state(&e, s), SYNACK_ESTABLISHED);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_expect(&e, SYNACK_TH_RST | A, x, R, 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* Unanswered probes: tcp_retries2=3 probes, then ETIMEDOUT at the next
 * expiry (3.0 s), without a RST. */
static void persist_unanswered_aborts(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_retries2=3", NULL};
    pkt_setup(&e, sys);
    int l;
    synack_time_t t0;
    int s = zero_window_pending(&e, &l, &t0);
    uint32_t x = e.iss + 1;
    pkt_run_until(&e, t0 + 3 * S - 1);
    pkt_expect_at(&e, t0 + 200 * MS, A, x - 1, R, 0);
    pkt_expect_at(&e, t0 + 600 * MS, A, x - 1, R, 0);
    pkt_expect_at(&e, t0 + 1400 * MS, A, x - 1, R, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_ESTABLISHED);
    pkt_run_until(&e, t0 + 3 * S);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_CLOSED);
    assert_true(pkt_saw_time(&e, SYNACK_ESTABLISHED, SYNACK_CLOSED) ==
                t0 + 3 * S);
    const char *c = pkt_cause(&e, SYNACK_CLOSED);
    assert_non_null(c);
    assert_non_null(strstr(c, "timeout"));
    assert_int_equal(pkt_so_error(&e, s), SYNACK_ETIMEDOUT);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* An orphan (closed by its application with data still queued) in
 * persist: answers with a zero window do not reset the probe count, so a
 * peer cannot hold it (and its buffers) for ever; tcp_retries2=3 answered
 * probes, then it is gone at the next expiry. */
static void persist_orphan_answered_still_aborts(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_retries2=3", NULL};
    pkt_setup(&e, sys);
    int l;
    synack_time_t t0;
    int s = zero_window_pending(&e, &l, &t0);
    uint32_t x = e.iss + 1;
    assert_int_equal(synack_close(e.st, s, e.now), 0); /* orphan */
    pkt_expect_none(&e);
    const synack_time_t at[3] = {t0 + 200 * MS, t0 + 600 * MS,
                                 t0 + 1400 * MS};
    for (int i = 0; i < 3; i++) {
        pkt_run_until(&e, at[i]);
        pkt_expect_at(&e, at[i], A, x - 1, R, 0);
        pkt_inject(&e, A, R, x, 0, NULL, 0); /* answered: still closed */
        pkt_expect_none(&e);
        assert_int_equal(synack_stack_conn_count(e.st), 2);
    }
    pkt_run_until(&e, t0 + 3 * S);
    pkt_expect_none(&e);
    assert_int_equal(synack_stack_conn_count(e.st), 1); /* the listener */
    assert_true(pkt_saw(&e, SYNACK_FIN_WAIT_1, SYNACK_CLOSED));
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* Some probes answered, then the peer goes silent: each answer resets
 * the count, so tcp_retries2=3 more unanswered probes are needed. */
static void persist_answer_resets_count(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_retries2=3", "tcp_rto_max_ms=1000", NULL};
    pkt_setup(&e, sys);
    int l;
    synack_time_t t0;
    int s = zero_window_pending(&e, &l, &t0);
    uint32_t x = e.iss + 1;
    /* 0.2, 0.6, 1.4 answered; then 2.4, 3.4, 4.4 unanswered; abort at
     * 5.4 */
    static const uint32_t at[] = {200, 600, 1400, 2400, 3400, 4400};
    for (int i = 0; i < 6; i++) {
        pkt_run_until(&e, t0 + at[i] * MS);
        pkt_expect_at(&e, t0 + at[i] * MS, A, x - 1, R, 0);
        if (i < 3)
            pkt_inject(&e, A, R, x, 0, NULL, 0);
    }
    pkt_run_until(&e, t0 + 5400 * MS - 1);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_ESTABLISHED);
    pkt_run_until(&e, t0 + 5400 * MS);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_CLOSED);
    assert_int_equal(pkt_so_error(&e, s), SYNACK_ETIMEDOUT);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* The peer answers a probe with an open window: the data goes out in the
 * same instant, and the retransmission timer takes over. */
static void persist_probe_answer_opens_window(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    synack_time_t t0;
    int s = zero_window_pending(&e, &l, &t0);
    uint32_t x = e.iss + 1;
    pkt_run_until(&e, t0 + 600 * MS);
    pkt_expect_at(&e, t0 + 200 * MS, A, x - 1, R, 0);
    pkt_expect_at(&e, t0 + 600 * MS, A, x - 1, R, 0);
    pkt_inject(&e, A, R, x, 1000, NULL, 0);
    const pkt_seg *g = pkt_expect_at(&e, t0 + 600 * MS, A, x, R, 10);
    assert_memory_equal(g->data, "0123456789", 10);
    pkt_expect_none(&e);
    synack_conn_info ci = pkt_info(&e, s);
    assert_int_equal(ci.timer, SYNACK_TIMER_ON);
    assert_true(ci.timer_expires == t0 + 800 * MS);
    pkt_run_until(&e, t0 + 700 * MS);
    pkt_inject(&e, A, R, x + 10, 65535, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_info(&e, s).timer, SYNACK_TIMER_NONE);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_expect(&e, SYNACK_TH_RST | A, x + 10, R, 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* The window opens, but less than the data waiting (4 of 10 bytes), with
 * nothing in flight. Sender-side SWS avoidance may hold the 4 bytes back,
 * but not forever: RFC 1122 4.2.3.4 / RFC 9293 3.8.6.2.1 require the
 * override timeout, and Linux keeps the persist timer running and sends
 * what fits when it expires (tcp_write_wakeup). The stack must not stall:
 * the 4 bytes go out no later than the next probe would have (1.4 s). */
static void persist_small_window_no_stall(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    synack_time_t t0;
    int s = zero_window_pending(&e, &l, &t0);
    uint32_t x = e.iss + 1;
    pkt_run_until(&e, t0 + 600 * MS);
    pkt_expect_at(&e, t0 + 200 * MS, A, x - 1, R, 0);
    pkt_expect_at(&e, t0 + 600 * MS, A, x - 1, R, 0);
    pkt_inject(&e, A, R, x, 4, NULL, 0); /* room for 4 bytes */
    /* run timer by timer until something is sent (or 1.4 s is reached) */
    while (pkt_pending(&e) == 0) {
        synack_time_t d = synack_stack_next_deadline(e.st);
        if (d > t0 + 1400 * MS)
            break;
        pkt_run_until(&e, d);
    }
    pkt_seg g;
    if (!pkt_pop(&e, &g))
        fail_msg("window of 4 bytes offered at t=%.3f with 10 bytes "
                 "waiting: nothing sent by t=%.3f and timer %s (stall)",
                 (double)(t0 + 600 * MS) / 1e9, (double)e.now / 1e9,
                 synack_timer_name(pkt_info(&e, s).timer));
    assert_int_equal(g.th.seq, x);
    assert_int_equal(g.len, 4);
    assert_memory_equal(g.data, "0123", 4);
    assert_true(g.t >= t0 + 600 * MS && g.t <= t0 + 1400 * MS);
    pkt_expect_none(&e);
    /* ACKed with the window wide open: the rest follows at once */
    pkt_inject(&e, A, R, x + 4, 65535, NULL, 0);
    const pkt_seg *h = pkt_expect_at(&e, e.now, A, x + 4, R, 6);
    assert_memory_equal(h->data, "456789", 6);
    pkt_inject(&e, A, R, x + 10, 65535, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_expect(&e, SYNACK_TH_RST | A, x + 10, R, 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* The window closes while data is in flight: the retransmission timer,
 * not the persist timer, is in charge until that data is ACKed; the ACK
 * (window still 0) hands over to the persist timer, one RTO later. */
static void persist_after_inflight_acked(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = pkt_open_passive(&e, &l, NULL);
    uint32_t x = e.iss + 1;
    pkt_run_until(&e, 1 * S);
    synack_time_t t0 = e.now;
    assert_int_equal(synack_send(e.st, s, "abc", 3, e.now), 3);
    pkt_expect_at(&e, t0, A, x, R, 3);
    /* Nagle holds the second write while "abc" is unacknowledged */
    assert_int_equal(synack_send(e.st, s, "defg", 4, e.now), 4);
    pkt_expect_none(&e);
    assert_int_equal(pkt_info(&e, s).timer, SYNACK_TIMER_ON);
    /* ACK of "abc" with a zero window at 50 ms */
    pkt_run_until(&e, t0 + 50 * MS);
    pkt_inject(&e, A, R, x + 3, 0, NULL, 0);
    pkt_expect_none(&e);
    synack_conn_info ci = pkt_info(&e, s);
    assert_int_equal(ci.timer, SYNACK_TIMER_PERSIST);
    assert_true(ci.timer_expires == t0 + 250 * MS);
    pkt_run_until(&e, t0 + 250 * MS);
    pkt_expect_at(&e, t0 + 250 * MS, A, x + 2, R, 0);
    pkt_expect_none(&e);
    pkt_inject(&e, A, R, x + 3, 65535, NULL, 0);
    pkt_expect_at(&e, t0 + 250 * MS, A, x + 3, R, 4);
    pkt_inject(&e, A, R, x + 7, 65535, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_expect(&e, SYNACK_TH_RST | A, x + 7, R, 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* Zero window, nothing waiting but the FIN: shutdown(SHUT_WR) while the
 * peer's window is closed. The FIN takes a sequence number, so, as Linux
 * (tcp_snd_wnd_test), it is not sent into the closed window: the persist
 * timer probes instead (0.2, 0.6, 1.4, 3.0 s, then every tcp_rto_max_ms =
 * 2 s), and as long as the peer answers the connection stays in
 * FIN-WAIT-1 -- no abort after tcp_retries2 (3) answered probes (RFC 9293
 * 3.8.6.1, RFC 1122 4.2.2.17). When the window opens the FIN goes out at
 * once and its ACK leads to FIN-WAIT-2. */
static void persist_fin_zero_window_alive(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_retries2=3", "tcp_rto_max_ms=2000", NULL};
    pkt_setup(&e, sys);
    int l;
    int s = pkt_open_passive(&e, &l, NULL);
    uint32_t x = e.iss + 1;
    pkt_run_until(&e, 500 * MS);
    pkt_inject(&e, A, R, x, 0, NULL, 0);
    pkt_run_until(&e, 1 * S);
    synack_time_t t0 = e.now;
    assert_int_equal(synack_shutdown(e.st, s, SYNACK_SHUT_WR, e.now), 0);
    assert_int_equal(pkt_state(&e, s), SYNACK_FIN_WAIT_1);
    pkt_expect_none(&e); /* no FIN into the zero window */
    synack_conn_info ci = pkt_info(&e, s);
    assert_int_equal(ci.timer, SYNACK_TIMER_PERSIST);
    assert_true(ci.timer_expires == t0 + 200 * MS);
    synack_time_t at = t0;
    synack_time_t iv = 200 * MS;
    for (int i = 0; i < 30; i++) {
        at += iv;
        pkt_run_until(&e, at);
        pkt_expect_at(&e, at, A, x - 1, R, 0);
        pkt_expect_none(&e);
        pkt_inject(&e, A, R, x, 0, NULL, 0); /* still closed */
        assert_int_equal(pkt_state(&e, s), SYNACK_FIN_WAIT_1);
        iv = iv * 2 > 2 * S ? 2 * S : iv * 2;
    }
    assert_true(at == t0 + 55 * S);
    /* the window opens: the FIN goes at once and is ACKed */
    pkt_run_until(&e, at + 1 * S);
    pkt_inject(&e, A, R, x, 65535, NULL, 0);
    pkt_expect_at(&e, at + 1 * S, SYNACK_TH_FIN | A, x, R, 0);
    pkt_expect_none(&e);
    pkt_inject(&e, A, R, x + 1, 65535, NULL, 0);
    assert_int_equal(pkt_state(&e, s), SYNACK_FIN_WAIT_2);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_run_for(&e, 60 * S); /* tcp_fin_timeout */
    pkt_expect_none(&e);
    assert_int_equal(synack_stack_conn_count(e.st), 1);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(persist_backoff_answered_forever),
        cmocka_unit_test(persist_default_cap),
        cmocka_unit_test(persist_unanswered_aborts),
        cmocka_unit_test(persist_answer_resets_count),
        cmocka_unit_test(persist_orphan_answered_still_aborts),
        cmocka_unit_test(persist_probe_answer_opens_window),
        cmocka_unit_test(persist_small_window_no_stall),
        cmocka_unit_test(persist_after_inflight_acked),
        cmocka_unit_test(persist_fin_zero_window_alive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
