/*
 * Unit tests for the rules of `synack explain` (tools/explain_rules.c): a
 * pure function over struct explain_conn, so each case is a struct and
 * the cause, verdict and figures it must give. The simulator tests
 * (tests/tool/explain.cmake) produce the states for real; these cover the
 * branches no scenario reaches (a growing Send-Q, a capture's unknown
 * orphan status, FIN-WAIT-1, CLOSING, young states, unknown figures).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../tools/explain_rules.h"

#define MS ((int64_t)1000000)
#define S ((int64_t)1000000000)

static struct explain_tunables tun;

static int setup(void **state)
{
    (void)state;
    explain_tunables_default(&tun);
    return 0;
}

static struct explain_conn conn(int st, int64_t age)
{
    struct explain_conn c;
    explain_conn_init(&c);
    c.state = st;
    c.in_state = age;
    c.orphan = 0;
    c.snd_wnd = c.rcv_wnd = 65535;
    return c;
}

/* Its retransmission timer runs: `backoff` timeouts so far, the RTO now
 * rto_us, the next firing in `left`. */
static struct explain_conn retrans_conn(int st, int64_t age, uint32_t backoff,
                                        uint32_t rto_us, int64_t left)
{
    struct explain_conn c = conn(st, age);
    c.backoff = backoff;
    c.rto_us = rto_us;
    c.timer = SYNACK_TIMER_ON;
    c.timer_left = left;
    return c;
}

static struct explain_result run(const struct explain_conn *c)
{
    struct explain_result r;
    explain_conn(c, &tun, EXPLAIN_MIN_AGE_DEFAULT, &r);
    return r;
}

static void test_close_wait(void **state)
{
    (void)state;
    struct explain_conn c = conn(SYNACK_CLOSE_WAIT, 5 * MS);
    struct explain_result r = run(&c);
    assert_int_equal(r.verdict, EXPLAIN_OK); /* about to close */
    assert_string_equal(r.cause, "close-wait");
    c.in_state = 12 * S;
    c.recv_q = 300;
    r = run(&c);
    assert_int_equal(r.verdict, EXPLAIN_STUCK);
    assert_non_null(strstr(r.governs, "close()"));
    assert_non_null(
        strstr(r.detail, "300 bytes the peer sent are still unread"));
    assert_int_equal(r.ends_in, -1);
    assert_null(strstr(r.detail, "seems to leak sockets"));
    c.similar = 12;
    r = run(&c);
    assert_non_null(strstr(r.detail, "12 connections on this local address "
                                     "are in CLOSE-WAIT"));
}

static void test_fin_wait_2_variants(void **state)
{
    (void)state;
    struct explain_conn c = conn(SYNACK_FIN_WAIT_2, 10 * S);
    c.orphan = 1;
    c.timer = SYNACK_TIMER_TIMEWAIT;
    c.timer_left = 50 * S;
    tun.fin_timeout = 60;
    struct explain_result r = run(&c);
    assert_string_equal(r.cause, "fin-wait-2-orphan");
    assert_int_equal(r.ends_in, 50 * S);
    assert_non_null(strstr(r.governs, "tcp_fin_timeout=60 s"));
    c.orphan = 0;
    r = run(&c);
    assert_string_equal(r.cause, "fin-wait-2-half-closed");
    assert_non_null(strstr(r.governs, "does not apply"));
    c.orphan = -1; /* a capture cannot tell */
    r = run(&c);
    assert_string_equal(r.cause, "fin-wait-2");
    assert_int_equal(r.verdict, EXPLAIN_NORMAL);
}

static void test_time_wait(void **state)
{
    (void)state;
    struct explain_conn c = conn(SYNACK_TIME_WAIT, 20 * S);
    c.timer = SYNACK_TIMER_TIMEWAIT;
    c.timer_left = 40 * S;
    struct explain_result r = run(&c);
    assert_int_equal(r.verdict, EXPLAIN_NORMAL);
    assert_string_equal(r.cause, "time-wait");
    assert_string_equal(r.summary,
                        "normal: this end closed first and waits 2MSL, 40 s "
                        "left");
    assert_non_null(strstr(r.detail, "SO_REUSEADDR"));
    assert_non_null(strstr(r.detail, "RFC 6191"));
}

/* SYN-SENT: RTO 1 s doubling; the timer fires in 2 s with backoff 2 and
 * RTO 4 s: then 8, 16, 32, 64 s until backoff 6 gives up: 2+8+16+32+64 */
static void test_syn_sent_figures(void **state)
{
    (void)state;
    struct explain_conn c =
        retrans_conn(SYNACK_SYN_SENT, 5 * S, 2, 4000000, 2 * S);
    struct explain_result r = run(&c);
    assert_string_equal(r.cause, "syn-sent-no-answer");
    assert_int_equal(r.verdict, EXPLAIN_STUCK);
    assert_int_equal(r.ends_in, (2 + 8 + 16 + 32 + 64) * S);
    assert_non_null(strstr(r.detail, "resent 1, 3, 7, 15, 31, 63 s after"));
    assert_non_null(strstr(r.detail, "ETIMEDOUT 2 min 7 s after it"));
    /* the RTO cap: tcp_rto_max_ms 10 s */
    tun.rto_max_ms = 10000;
    r = run(&c);
    assert_int_equal(r.ends_in, (2 + 8 + 10 + 10 + 10) * S);
    /* young, nothing resent yet: not reported */
    c.backoff = 0;
    c.in_state = 300 * MS;
    r = run(&c);
    assert_int_equal(r.verdict, EXPLAIN_OK);
    /* no timer figures: no end given */
    c.in_state = 3 * S;
    c.timer = SYNACK_TIMER_NONE;
    r = run(&c);
    assert_int_equal(r.ends_in, -1);
}

static void test_fin_unacked_states(void **state)
{
    (void)state;
    struct explain_conn c = conn(SYNACK_FIN_WAIT_1, 4 * S);
    c.backoff = 3;
    struct explain_result r = run(&c);
    assert_string_equal(r.cause, "fin-wait-1-fin-unacked");
    c.state = SYNACK_CLOSING;
    r = run(&c);
    assert_string_equal(r.cause, "closing-fin-unacked");
    c.state = SYNACK_LAST_ACK;
    r = run(&c);
    assert_string_equal(r.cause, "last-ack-fin-unacked");
    assert_non_null(strstr(r.governs, "tcp_retries2=15"));
}

static void test_established(void **state)
{
    (void)state;
    struct explain_conn c = conn(SYNACK_ESTABLISHED, 60 * S);
    struct explain_result r = run(&c);
    assert_int_equal(r.verdict, EXPLAIN_OK);
    assert_string_equal(r.cause, "ok");
    /* one timeout: not yet "repeated" */
    c.backoff = 1;
    c.send_q = 1000;
    r = run(&c);
    assert_int_equal(r.verdict, EXPLAIN_OK);
    c.backoff = 2;
    r = run(&c);
    assert_string_equal(r.cause, "retransmissions");
    /* zero window with data queued */
    c.backoff = 0;
    c.snd_wnd = 0;
    r = run(&c);
    assert_string_equal(r.cause, "zero-window");
    /* a growing Send-Q with the window open */
    c.snd_wnd = 2000;
    c.send_q_before = 400;
    c.sample_gap = 250 * MS;
    r = run(&c);
    assert_string_equal(r.cause, "send-q-growing");
    assert_non_null(strstr(r.summary, "from 400 to 1000 bytes in 250 ms"));
    /* shrinking: fine */
    c.send_q_before = 5000;
    r = run(&c);
    assert_string_equal(r.cause, "ok");
    /* our window closed, data unread */
    c.rcv_wnd = 0;
    c.recv_q = 65536;
    r = run(&c);
    assert_string_equal(r.cause, "local-app-not-reading");
}

static void test_syn_received(void **state)
{
    (void)state;
    struct explain_conn c =
        retrans_conn(SYNACK_SYN_RECEIVED, 2 * S, 1, 2000000, 1 * S);
    struct explain_result r = run(&c);
    assert_string_equal(r.cause, "syn-received-no-ack");
    /* fires in 1 s (backoff 1 -> 2, RTO 4), then 8, 16, 32: gives up */
    assert_int_equal(r.ends_in, (1 + 4 + 8 + 16 + 32) * S);
    assert_non_null(strstr(r.governs, "tcp_synack_retries=5"));
    assert_null(strstr(r.detail, "looks like a SYN flood"));
    c.similar = 50;
    r = run(&c);
    assert_non_null(strstr(r.detail, "50 connections on this listener are "
                                     "half-open right now: that looks like "
                                     "a SYN flood"));
}

static void test_tunables_parse(void **state)
{
    (void)state;
    struct explain_tunables t;
    explain_tunables_default(&t);
    explain_tunables_set(&t, "tcp_syn_retries", "3");
    explain_tunables_set(&t, "net.ipv4.tcp_fin_timeout", "45");
    explain_tunables_set(&t, "tcp_rmem", "4096 131072 6291456");
    explain_tunables_set(&t, "tcp_retries2", "junk");
    explain_tunables_set(&t, "tcp_nosuch", "7");
    assert_int_equal(t.syn_retries, 3);
    assert_int_equal(t.fin_timeout, 45);
    assert_int_equal(t.retries2, 15);
}

static void test_fmt_dur(void **state)
{
    (void)state;
    char b[32];
    assert_string_equal(explain_fmt_dur(450 * MS, b, sizeof b), "450 ms");
    assert_string_equal(explain_fmt_dur(12340 * MS, b, sizeof b), "12.3 s");
    assert_string_equal(explain_fmt_dur(30 * S, b, sizeof b), "30 s");
    assert_string_equal(explain_fmt_dur(125 * S, b, sizeof b), "2 min 5 s");
    assert_string_equal(explain_fmt_dur(7300 * S, b, sizeof b), "2 h 1 min");
    assert_string_equal(explain_fmt_dur(-1, b, sizeof b), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_close_wait, setup),
        cmocka_unit_test_setup(test_fin_wait_2_variants, setup),
        cmocka_unit_test_setup(test_time_wait, setup),
        cmocka_unit_test_setup(test_syn_sent_figures, setup),
        cmocka_unit_test_setup(test_fin_unacked_states, setup),
        cmocka_unit_test_setup(test_established, setup),
        cmocka_unit_test_setup(test_syn_received, setup),
        cmocka_unit_test_setup(test_tunables_parse, setup),
        cmocka_unit_test_setup(test_fmt_dur, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
