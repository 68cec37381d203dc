/* Timers of the handshake: SYN retransmission (tcp_syn_retries) and
 * SYN,ACK retransmission (tcp_synack_retries), with exact backoff times.
 *
 * RFC 6298 2.1 and 5.5: the initial RTO is 1 s (tcp_rto_initial_ms) and
 * doubles on every timeout, capped at tcp_rto_max_ms. Linux: connect()
 * fails with ETIMEDOUT when the timer expires after the tcp_syn_retries-th
 * retransmission, without sending anything; a half-open passive connection
 * is dropped silently after tcp_synack_retries retransmissions. RFC 6298
 * 5.7: with no RTT sample from the handshake (the SYN was retransmitted,
 * Karn), the RTO is re-initialised to 3 s once the connection is up. */
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
#define SYN SYNACK_TH_SYN

static void assert_cause_timeout(const pkt_env *e)
{
    const char *c = pkt_cause(e, SYNACK_CLOSED);
    assert_non_null(c);
    if (!strstr(c, "timeout"))
        fail_msg("cause of the transition to CLOSED is \"%s\", expected it "
                 "to mention the timeout",
                 c);
}

/* Pop the SYN,ACK answering the peer's SYN (its ISS is not known in
 * advance); assert it was sent at t. Returns the ISS. */
static uint32_t pop_synack(pkt_env *e, synack_time_t t)
{
    pkt_seg g;
    if (!pkt_pop(e, &g))
        fail_msg("no SYN,ACK in reply to a SYN");
    if (g.th.flags != (SYN | A) || g.th.ack != PKT_RISN + 1 || g.len != 0)
        fail_msg("expected SYN,ACK acking %u, got flags %#x ack %u",
                 PKT_RISN + 1, g.th.flags, g.th.ack);
    assert_true(g.t == t);
    return g.th.seq;
}

/* Run an active open whose SYNs are never answered. `at_ms` are the
 * expected retransmission times after the first SYN (ms), `fail_ms` when
 * connect fails. Starts at t0 = 5 s so that relative and absolute times
 * differ. Returns the handle (CLOSED, error pending). */
static int syn_unanswered(pkt_env *e, const uint32_t *at_ms, size_t n,
                          uint32_t fail_ms)
{
    pkt_run_until(e, 5 * S);
    synack_time_t t0 = e->now;
    int s = pkt_connect_syn(e);
    uint32_t iss = e->iss;
    pkt_run_until(e, t0 + (synack_time_t)fail_ms * MS - 1);
    for (size_t i = 0; i < n; i++) {
        const pkt_seg *g = pkt_expect_at(
            e, t0 + (synack_time_t)at_ms[i] * MS, SYN, iss, 0, 0);
        assert_true(g->th.has_mss); /* same options as the first SYN */
    }
    pkt_expect_none(e);
    assert_int_equal(pkt_state(e, s), SYNACK_SYN_SENT);
    synack_conn_info ci = pkt_info(e, s);
    assert_int_equal(ci.backoff, n);
    assert_int_equal(ci.timer, SYNACK_TIMER_ON);
    assert_true(ci.timer_expires == t0 + (synack_time_t)fail_ms * MS);

    pkt_run_until(e, t0 + (synack_time_t)fail_ms * MS);
    pkt_expect_none(e); /* Linux sends no RST when connect times out */
    assert_int_equal(pkt_state(e, s), SYNACK_CLOSED);
    assert_true(pkt_saw_time(e, SYNACK_SYN_SENT, SYNACK_CLOSED) ==
                t0 + (synack_time_t)fail_ms * MS);
    assert_cause_timeout(e);
    assert_true(synack_poll(e->st, s) & SYNACK_POLLERR);
    /* nothing more, ever */
    pkt_run_for(e, 3600 * S);
    pkt_expect_none(e);
    assert_true(synack_stack_next_deadline(e->st) == SYNACK_TIME_NEVER);
    return s;
}

/* Default tcp_syn_retries=6: SYNs at 0, 1, 3, 7, 15, 31, 63 s; ETIMEDOUT
 * at 127 s. */
static void syn_retries_default(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    static const uint32_t at[] = {1000, 3000, 7000, 15000, 31000, 63000};
    int s = syn_unanswered(&e, at, 6, 127000);
    assert_int_equal(pkt_so_error(&e, s), SYNACK_ETIMEDOUT);
    assert_int_equal(pkt_so_error(&e, s), 0); /* SO_ERROR clears */
    synack_stack_stats st;
    synack_stack_get_stats(e.st, &st);
    assert_int_equal(st.conns_failed, 1);
    assert_int_equal(st.tcp_retrans, 6);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_teardown(&e, true);
}

/* tcp_syn_retries=2: SYNs at 0, 1, 3 s; recv reports ETIMEDOUT at 7 s. */
static void syn_retries_custom(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_syn_retries=2", NULL};
    pkt_setup(&e, sys);
    static const uint32_t at[] = {1000, 3000};
    int s = syn_unanswered(&e, at, 2, 7000);
    char b[8];
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now),
                     -SYNACK_ETIMEDOUT);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_teardown(&e, true);
}

/* tcp_rto_initial_ms=500 and tcp_syn_retries=3: 0.5, 1.5, 3.5 s; fails at
 * 7.5 s. */
static void syn_retries_initial_rto(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_syn_retries=3", "tcp_rto_initial_ms=500", NULL};
    pkt_setup(&e, sys);
    static const uint32_t at[] = {500, 1500, 3500};
    int s = syn_unanswered(&e, at, 3, 7500);
    assert_int_equal(pkt_so_error(&e, s), SYNACK_ETIMEDOUT);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_teardown(&e, true);
}

/* The SYN backoff is capped at tcp_rto_max_ms: with 4000 ms the intervals
 * are 1, 2, 4, 4, 4, 4 s and the final wait 4 s. */
static void syn_backoff_capped(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_rto_max_ms=4000", NULL};
    pkt_setup(&e, sys);
    static const uint32_t at[] = {1000, 3000, 7000, 11000, 15000, 19000};
    int s = syn_unanswered(&e, at, 6, 23000);
    assert_int_equal(pkt_so_error(&e, s), SYNACK_ETIMEDOUT);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_teardown(&e, true);
}

/* The SYN,ACK arrives after one SYN retransmission: connected, no RTT
 * sample (Karn: the ACK is ambiguous), RTO re-initialised to 3 s (RFC 6298
 * 5.7), and the first data segment is retransmitted 3 s after it was
 * sent. */
static void syn_retransmitted_then_answered(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_connect_syn(&e);
    uint32_t iss = e.iss;
    pkt_run_until(&e, 1500 * MS);
    pkt_expect_at(&e, 1 * S, SYN, iss, 0, 0);
    pkt_inject(&e, SYN | A, PKT_RISN, iss + 1, 65535, NULL, 0);
    pkt_expect_at(&e, 1500 * MS, A, iss + 1, PKT_RISN + 1, 0);
    assert_int_equal(pkt_state(&e, s), SYNACK_ESTABLISHED);
    synack_conn_info ci = pkt_info(&e, s);
    assert_int_equal(ci.rto_us, 3000000);
    assert_int_equal(ci.rtt_us, 0);
    assert_int_equal(ci.backoff, 0);
    assert_int_equal(ci.timer, SYNACK_TIMER_NONE);

    pkt_run_until(&e, 2 * S);
    assert_int_equal(synack_send(e.st, s, "hello", 5, e.now), 5);
    pkt_expect_at(&e, 2 * S, A, iss + 1, PKT_RISN + 1, 5);
    pkt_run_until(&e, 5 * S - 1);
    pkt_expect_none(&e);
    pkt_run_until(&e, 5 * S);
    pkt_expect_at(&e, 5 * S, A, iss + 1, PKT_RISN + 1, 5);
    pkt_inject(&e, A, PKT_RISN + 1, iss + 6, 65535, NULL, 0);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_expect(&e, SYNACK_TH_RST | A, iss + 6, PKT_RISN + 1, 0);
    pkt_teardown(&e, true);
}

/* Passive side: a SYN whose SYN,ACKs are never acknowledged. `at_ms` are
 * the retransmission times after the first SYN,ACK; the half-open
 * connection disappears silently at gone_ms. The listener (backlog 1, so a
 * leaked SYN-queue slot would show) then accepts a new connection. */
static void synack_unanswered(pkt_env *e, const uint32_t *at_ms, size_t n,
                              uint32_t gone_ms)
{
    int l = pkt_listen(e, 1);
    pkt_run_until(e, 5 * S);
    synack_time_t t0 = e->now;
    pkt_inject_syn(e, NULL);
    uint32_t iss = pop_synack(e, t0);
    const pkt_seg *g;
    assert_int_equal(synack_stack_conn_count(e->st), 2);
    pkt_run_until(e, t0 + (synack_time_t)gone_ms * MS - 1);
    for (size_t i = 0; i < n; i++) {
        g = pkt_expect_at(e, t0 + (synack_time_t)at_ms[i] * MS, SYN | A, iss,
                          PKT_RISN + 1, 0);
        assert_true(g->th.has_mss);
    }
    pkt_expect_none(e);
    assert_int_equal(pkt_conn_state(e), SYNACK_SYN_RECEIVED);

    pkt_run_until(e, t0 + (synack_time_t)gone_ms * MS);
    pkt_expect_none(e); /* silently: no RST */
    assert_int_equal(synack_stack_conn_count(e->st), 1);
    assert_true(pkt_saw_time(e, SYNACK_SYN_RECEIVED, SYNACK_CLOSED) ==
                t0 + (synack_time_t)gone_ms * MS);
    assert_cause_timeout(e);
    assert_int_equal(pkt_state(e, l), SYNACK_LISTEN);
    synack_addr peer;
    assert_int_equal(synack_accept(e->st, l, &peer), -SYNACK_EAGAIN);
    pkt_run_for(e, 600 * S);
    pkt_expect_none(e);

    /* the listener still works: the same peer connects again */
    pkt_inject_syn(e, NULL);
    e->iss = pop_synack(e, e->now);
    pkt_inject(e, A, PKT_RISN + 1, e->iss + 1, 65535, NULL, 0);
    pkt_expect_none(e);
    int c = synack_accept(e->st, l, &peer);
    assert_true(c >= 0);
    assert_int_equal(pkt_state(e, c), SYNACK_ESTABLISHED);
    assert_int_equal(synack_abort(e->st, c, e->now), 0);
    pkt_expect(e, SYNACK_TH_RST | A, e->iss + 1, PKT_RISN + 1, 0);
    assert_int_equal(synack_close(e->st, l, e->now), 0);
}

/* tcp_synack_retries=2: SYN,ACK at 0, 1, 3 s; dropped at 7 s. */
static void synack_retries_custom(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_synack_retries=2", NULL};
    pkt_setup(&e, sys);
    static const uint32_t at[] = {1000, 3000};
    synack_unanswered(&e, at, 2, 7000);
    pkt_teardown(&e, true);
}

/* Default tcp_synack_retries=5: 1, 3, 7, 15, 31 s; dropped at 63 s. */
static void synack_retries_default(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    static const uint32_t at[] = {1000, 3000, 7000, 15000, 31000};
    synack_unanswered(&e, at, 5, 63000);
    pkt_teardown(&e, true);
}

/* The handshake's ACK arrives after a SYN,ACK retransmission: the
 * connection is accepted with RTO 3 s (RFC 6298 5.7, no RTT sample). */
static void synack_retransmitted_then_acked(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l = pkt_listen(&e, 4);
    pkt_inject_syn(&e, NULL);
    uint32_t iss = pop_synack(&e, 0);
    pkt_run_until(&e, 1200 * MS);
    pkt_expect_at(&e, 1 * S, SYN | A, iss, PKT_RISN + 1, 0);
    pkt_inject(&e, A, PKT_RISN + 1, iss + 1, 65535, NULL, 0);
    pkt_expect_none(&e);
    synack_addr peer;
    int c = synack_accept(e.st, l, &peer);
    assert_true(c >= 0);
    synack_conn_info ci = pkt_info(&e, c);
    assert_int_equal(ci.state, SYNACK_ESTABLISHED);
    assert_int_equal(ci.rto_us, 3000000);
    assert_int_equal(ci.backoff, 0);
    assert_int_equal(ci.timer, SYNACK_TIMER_NONE);
    pkt_run_for(&e, 600 * S);
    pkt_expect_none(&e);
    assert_int_equal(synack_abort(e.st, c, e.now), 0);
    pkt_expect(&e, SYNACK_TH_RST | A, iss + 1, PKT_RISN + 1, 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* The peer retransmits its SYN at 0.5 s: the SYN,ACK is sent again at
 * once, but the timer and its count are not disturbed (Linux counts the
 * timer expiries of the request): retransmissions still at 1 and 3 s,
 * dropped at 7 s (tcp_synack_retries=2). */
static void synack_dup_syn_keeps_schedule(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_synack_retries=2", NULL};
    pkt_setup(&e, sys);
    int l = pkt_listen(&e, 4);
    pkt_inject_syn(&e, NULL);
    uint32_t iss = pop_synack(&e, 0);
    pkt_run_until(&e, 500 * MS);
    pkt_inject_syn(&e, NULL);
    pkt_expect_at(&e, 500 * MS, SYN | A, iss, PKT_RISN + 1, 0);
    pkt_run_until(&e, 7 * S - 1);
    pkt_expect_at(&e, 1 * S, SYN | A, iss, PKT_RISN + 1, 0);
    pkt_expect_at(&e, 3 * S, SYN | A, iss, PKT_RISN + 1, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_conn_state(&e), SYNACK_SYN_RECEIVED);
    pkt_run_until(&e, 7 * S);
    pkt_expect_none(&e);
    assert_int_equal(synack_stack_conn_count(e.st), 1);
    assert_true(pkt_saw_time(&e, SYNACK_SYN_RECEIVED, SYNACK_CLOSED) ==
                7 * S);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* Closing the listener takes its half-open connection and its timer with
 * it: no SYN,ACK retransmission afterwards. */
static void synack_listener_closed(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l = pkt_listen(&e, 4);
    pkt_inject_syn(&e, NULL);
    uint32_t iss = pop_synack(&e, 0);
    pkt_run_until(&e, 2 * S);
    pkt_expect_at(&e, 1 * S, SYN | A, iss, PKT_RISN + 1, 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_seg g;
    while (pkt_pop(&e, &g)) /* a RST for the child is allowed */
        assert_true(g.th.flags & SYNACK_TH_RST);
    assert_int_equal(synack_stack_conn_count(e.st), 0);
    assert_true(synack_stack_next_deadline(e.st) == SYNACK_TIME_NEVER);
    pkt_run_for(&e, 600 * S);
    pkt_expect_none(&e);
    pkt_teardown(&e, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(syn_retries_default),
        cmocka_unit_test(syn_retries_custom),
        cmocka_unit_test(syn_retries_initial_rto),
        cmocka_unit_test(syn_backoff_capped),
        cmocka_unit_test(syn_retransmitted_then_answered),
        cmocka_unit_test(synack_retries_custom),
        cmocka_unit_test(synack_retries_default),
        cmocka_unit_test(synack_retransmitted_then_acked),
        cmocka_unit_test(synack_dup_syn_keeps_schedule),
        cmocka_unit_test(synack_listener_closed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
