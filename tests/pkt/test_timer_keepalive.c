/* Keepalive (RFC 1122 4.2.3.6, RFC 9293 3.8.4), with Linux's options and
 * tunables: SO_KEEPALIVE turns it on; the first probe goes out after
 * TCP_KEEPIDLE (tcp_keepalive_time) seconds without anything received,
 * then one every TCP_KEEPINTVL (tcp_keepalive_intvl) seconds; anything
 * received resets the count; when TCP_KEEPCNT (tcp_keepalive_probes)
 * probes went unanswered, the next expiry sends a RST and reports
 * ETIMEDOUT. The probe is a zero-length ACK with SEQ = SND.NXT - 1 (no
 * garbage octet, as Linux). Without SO_KEEPALIVE an idle connection is
 * never probed. */
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
#define RST SYNACK_TH_RST
#define R (PKT_RISN + 1)

static void keep_opts(pkt_env *e, int s, int idle, int intvl, int cnt)
{
    pkt_setopt_int(e, s, SYNACK_SO_KEEPALIVE, 1);
    if (idle)
        pkt_setopt_int(e, s, SYNACK_TCP_KEEPIDLE, idle);
    if (intvl)
        pkt_setopt_int(e, s, SYNACK_TCP_KEEPINTVL, intvl);
    if (cnt)
        pkt_setopt_int(e, s, SYNACK_TCP_KEEPCNT, cnt);
}

/* Expect the probes at t0 + at[i] seconds and the RST at t0 + rst_s; the
 * connection is then CLOSED with ETIMEDOUT. */
static void expect_probes_then_rst(pkt_env *e, int s, synack_time_t t0,
                                   const uint32_t *at, size_t n,
                                   uint32_t rst_s)
{
    uint32_t x = e->iss + 1;
    synack_time_t end = t0 + (synack_time_t)rst_s * S;
    pkt_run_until(e, end - 1);
    for (size_t i = 0; i < n; i++) {
        const pkt_seg *g =
            pkt_expect_at(e, t0 + (synack_time_t)at[i] * S, A, x - 1, R, 0);
        assert_int_equal(g->th.flags, A);
    }
    pkt_expect_none(e);
    assert_int_equal(pkt_state(e, s), SYNACK_ESTABLISHED);
    synack_conn_info ci = pkt_info(e, s);
    assert_int_equal(ci.timer, SYNACK_TIMER_KEEPALIVE);
    assert_true(ci.timer_expires == end);
    pkt_run_until(e, end);
    /* Linux tcp_keepalive_timer: tcp_send_active_reset, then the error */
    pkt_expect_at(e, end, RST | A, x, R, 0);
    pkt_expect_none(e);
    assert_int_equal(pkt_state(e, s), SYNACK_CLOSED);
    assert_true(pkt_saw_time(e, SYNACK_ESTABLISHED, SYNACK_CLOSED) == end);
    const char *c = pkt_cause(e, SYNACK_CLOSED);
    assert_non_null(c);
    assert_non_null(strstr(c, "keepalive"));
    assert_true(synack_poll(e->st, s) & SYNACK_POLLERR);
    char b[4];
    assert_int_equal(synack_recv(e->st, s, b, sizeof(b), e->now),
                     -SYNACK_ETIMEDOUT);
    pkt_run_for(e, 3600 * S);
    pkt_expect_none(e);
}

/* KEEPIDLE=10, KEEPINTVL=2, KEEPCNT=3, nothing answered: probes at 10,
 * 12, 14 s, RST and ETIMEDOUT at 16 s. */
static void keepalive_options_unanswered(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    pkt_run_until(&e, 3 * S);
    int l;
    int s = pkt_open_passive(&e, &l, NULL);
    synack_time_t t0 = e.now;
    keep_opts(&e, s, 10, 2, 3);
    static const uint32_t at[] = {10, 12, 14};
    expect_probes_then_rst(&e, s, t0, at, 3, 16);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* A reply to the second probe (at 12 s) resets the count: the idle time
 * is measured from it, so probes at 22, 24, 26 s and the RST at 28 s. */
static void keepalive_reply_resets(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = pkt_open_passive(&e, &l, NULL);
    uint32_t x = e.iss + 1;
    synack_time_t t0 = e.now;
    keep_opts(&e, s, 10, 2, 3);
    pkt_run_until(&e, t0 + 12 * S);
    pkt_expect_at(&e, t0 + 10 * S, A, x - 1, R, 0);
    pkt_expect_at(&e, t0 + 12 * S, A, x - 1, R, 0);
    pkt_inject(&e, A, R, x, 65535, NULL, 0); /* the peer's answer */
    pkt_expect_none(&e);
    static const uint32_t at[] = {22, 24, 26};
    expect_probes_then_rst(&e, s, t0, at, 3, 28);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* Answered probes keep the connection alive for as long as the peer
 * answers; data received also counts as activity. */
static void keepalive_answered_forever(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = pkt_open_passive(&e, &l, NULL);
    uint32_t x = e.iss + 1;
    synack_time_t t0 = e.now;
    keep_opts(&e, s, 10, 2, 1);
    synack_time_t at = t0;
    for (int i = 0; i < 50; i++) {
        at += 10 * S;
        pkt_run_until(&e, at);
        pkt_expect_at(&e, at, A, x - 1, R, 0);
        pkt_expect_none(&e);
        pkt_inject(&e, A, R, x, 65535, NULL, 0);
    }
    assert_int_equal(pkt_state(&e, s), SYNACK_ESTABLISHED);
    /* data at +5 s: the next probe is 10 s after it (and the data itself
     * is ACKed 40 ms after it arrives) */
    pkt_run_until(&e, at + 5 * S);
    pkt_inject(&e, A, R, x, 65535, "hi", 2);
    pkt_run_until(&e, at + 15 * S);
    pkt_expect_at(&e, at + 5 * S + 40 * MS, A, x, R + 2, 0);
    pkt_expect_at(&e, at + 15 * S, A, x - 1, R + 2, 0);
    pkt_expect_none(&e);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_expect(&e, RST | A, x, R + 2, 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* The tunables alone (no per-socket options): tcp_keepalive_time=20,
 * tcp_keepalive_intvl=5, tcp_keepalive_probes=2: probes at 20, 25 s, RST
 * at 30 s. getsockopt reports the tunables. */
static void keepalive_tunables(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_keepalive_time=20", "tcp_keepalive_intvl=5",
                         "tcp_keepalive_probes=2", NULL};
    pkt_setup(&e, sys);
    int l;
    int s = pkt_open_passive(&e, &l, NULL);
    synack_time_t t0 = e.now;
    keep_opts(&e, s, 0, 0, 0);
    int v;
    size_t len = sizeof(v);
    assert_int_equal(
        synack_getsockopt(e.st, s, SYNACK_TCP_KEEPIDLE, &v, &len), 0);
    assert_int_equal(v, 20);
    assert_int_equal(
        synack_getsockopt(e.st, s, SYNACK_TCP_KEEPINTVL, &v, &len), 0);
    assert_int_equal(v, 5);
    assert_int_equal(synack_getsockopt(e.st, s, SYNACK_TCP_KEEPCNT, &v, &len),
                     0);
    assert_int_equal(v, 2);
    static const uint32_t at[] = {20, 25};
    expect_probes_then_rst(&e, s, t0, at, 2, 30);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* Linux defaults: first probe after 7200 s, then every 75 s, 9 probes,
 * RST at 7200 + 9 * 75 = 7875 s. */
static void keepalive_defaults(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = pkt_open_passive(&e, &l, NULL);
    synack_time_t t0 = e.now;
    keep_opts(&e, s, 0, 0, 0);
    uint32_t at[9];
    for (int i = 0; i < 9; i++)
        at[i] = 7200 + 75 * (uint32_t)i;
    expect_probes_then_rst(&e, s, t0, at, 9, 7875);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* Keepalive set on the socket before connect(): the idle time runs from
 * the moment the connection is established. */
static void keepalive_before_connect(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = synack_socket(e.st);
    assert_true(s >= 0);
    keep_opts(&e, s, 30, 3, 2);
    synack_addr la = {0, e.lport};
    assert_int_equal(synack_bind(e.st, s, &la), 0);
    synack_addr ra = {PKT_REMOTE_IP, e.rport};
    assert_int_equal(synack_connect(e.st, s, &ra, e.now),
                     -SYNACK_EINPROGRESS);
    pkt_seg syn;
    assert_true(pkt_pop(&e, &syn));
    e.iss = syn.th.seq;
    pkt_run_until(&e, 500 * MS);
    pkt_inject(&e, SYNACK_TH_SYN | A, PKT_RISN, e.iss + 1, 65535, NULL, 0);
    pkt_expect_at(&e, 500 * MS, A, e.iss + 1, R, 0);
    assert_int_equal(pkt_state(&e, s), SYNACK_ESTABLISHED);
    static const uint32_t at[] = {30, 33};
    expect_probes_then_rst(&e, s, 500 * MS, at, 2, 36);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_teardown(&e, true);
}

/* Options set on a listener are inherited by the accepted connection. */
static void keepalive_inherited_from_listener(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l = pkt_listen(&e, 4);
    keep_opts(&e, l, 8, 1, 2);
    pkt_run_until(&e, 1 * S);
    pkt_inject_syn(&e, NULL);
    pkt_seg g;
    assert_true(pkt_pop(&e, &g));
    e.iss = g.th.seq;
    pkt_inject(&e, A, R, e.iss + 1, 65535, NULL, 0);
    synack_addr peer;
    int s = synack_accept(e.st, l, &peer);
    assert_true(s >= 0);
    static const uint32_t at[] = {8, 9};
    expect_probes_then_rst(&e, s, 1 * S, at, 2, 10);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* Without SO_KEEPALIVE nothing is ever sent on an idle connection, not
 * even after ten times tcp_keepalive_time. */
static void keepalive_off_is_silent(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = pkt_open_passive(&e, &l, NULL);
    uint32_t x = e.iss + 1;
    assert_int_equal(pkt_info(&e, s).timer, SYNACK_TIMER_NONE);
    pkt_run_for(&e, 72000 * S);
    pkt_expect_none(&e);
    assert_true(synack_stack_next_deadline(e.st) == SYNACK_TIME_NEVER);
    assert_int_equal(pkt_state(&e, s), SYNACK_ESTABLISHED);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_expect(&e, RST | A, x, R, 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* SO_KEEPALIVE switched on (last, after the TCP_KEEP* options) on a
 * connection that has already been idle for 100 s: Linux arms the timer
 * for the idle time from the setsockopt (tcp_set_keepalive), so the
 * first probe is at +10 s, then +12, +14, RST at +16. Switching it off
 * again stops the probing. */
static void keepalive_enabled_after_idle(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = pkt_open_passive(&e, &l, NULL);
    pkt_run_until(&e, 100 * S);
    synack_time_t t0 = e.now;
    pkt_setopt_int(&e, s, SYNACK_TCP_KEEPIDLE, 10);
    pkt_setopt_int(&e, s, SYNACK_TCP_KEEPINTVL, 2);
    pkt_setopt_int(&e, s, SYNACK_TCP_KEEPCNT, 3);
    pkt_expect_none(&e);
    pkt_setopt_int(&e, s, SYNACK_SO_KEEPALIVE, 1);
    static const uint32_t at[] = {10, 12, 14};
    expect_probes_then_rst(&e, s, t0, at, 3, 16);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);

    /* on, then off before the first probe: silence */
    pkt_setup(&e, NULL);
    s = pkt_open_passive(&e, &l, NULL);
    uint32_t x = e.iss + 1;
    keep_opts(&e, s, 10, 2, 3);
    pkt_run_until(&e, 10 * S);
    pkt_expect_at(&e, 10 * S, A, x - 1, R, 0);
    pkt_setopt_int(&e, s, SYNACK_SO_KEEPALIVE, 0);
    assert_int_equal(pkt_info(&e, s).timer, SYNACK_TIMER_NONE);
    pkt_run_for(&e, 72000 * S);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_ESTABLISHED);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_expect(&e, RST | A, x, R, 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* TCP_KEEPIDLE changed while keepalive is on, on a connection already
 * idle longer than the new value: Linux (tcp_sock_set_keepidle_locked)
 * re-arms the timer for max(0, idle - elapsed): the probe goes out at
 * once, then every KEEPINTVL. */
static void keepalive_keepidle_shortened(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = pkt_open_passive(&e, &l, NULL);
    pkt_setopt_int(&e, s, SYNACK_SO_KEEPALIVE, 1); /* 7200 s */
    pkt_setopt_int(&e, s, SYNACK_TCP_KEEPINTVL, 2);
    pkt_setopt_int(&e, s, SYNACK_TCP_KEEPCNT, 3);
    pkt_run_until(&e, 100 * S);
    pkt_expect_none(&e);
    synack_time_t t0 = e.now;
    pkt_setopt_int(&e, s, SYNACK_TCP_KEEPIDLE, 10);
    pkt_run_until(&e, t0); /* run what is due now */
    static const uint32_t at[] = {0, 2, 4};
    expect_probes_then_rst(&e, s, t0, at, 3, 6);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* The other direction: the peer's keepalive probe (SEQ = RCV.NXT - 1) is
 * answered at once with an ACK for RCV.NXT (RFC 9293 3.10.7.4: an
 * unacceptable segment is answered with an ACK). */
static void keepalive_peer_probe_answered(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = pkt_open_passive(&e, &l, NULL);
    uint32_t x = e.iss + 1;
    pkt_run_until(&e, 7200 * S);
    pkt_inject(&e, A, R - 1, x, 65535, NULL, 0);
    pkt_expect_at(&e, 7200 * S, A, x, R, 0);
    pkt_expect_none(&e);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_expect(&e, RST | A, x, R, 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* Keepalive goes on in CLOSE-WAIT (Linux probes in every synchronized
 * state): the peer's FIN at 4 s is the last thing received, so probes at
 * 14, 16 s and the RST at 18 s. */
static void keepalive_in_close_wait(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = pkt_open_passive(&e, &l, NULL);
    uint32_t x = e.iss + 1;
    keep_opts(&e, s, 10, 2, 2);
    pkt_run_until(&e, 4 * S);
    pkt_inject(&e, SYNACK_TH_FIN | A, R, x, 65535, NULL, 0);
    pkt_expect_at(&e, 4 * S, A, x, R + 1, 0);
    assert_int_equal(pkt_state(&e, s), SYNACK_CLOSE_WAIT);
    pkt_run_until(&e, 18 * S - 1);
    pkt_expect_at(&e, 14 * S, A, x - 1, R + 1, 0);
    pkt_expect_at(&e, 16 * S, A, x - 1, R + 1, 0);
    pkt_expect_none(&e);
    pkt_run_until(&e, 18 * S);
    pkt_expect_at(&e, 18 * S, RST | A, x, R + 1, 0);
    assert_int_equal(pkt_state(&e, s), SYNACK_CLOSED);
    assert_true(pkt_saw_time(&e, SYNACK_CLOSE_WAIT, SYNACK_CLOSED) ==
                18 * S);
    assert_int_equal(pkt_so_error(&e, s), SYNACK_ETIMEDOUT);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* Keepalive in FIN-WAIT-2 after shutdown(SHUT_WR): our FIN is ACKed at
 * 1 s, the idle time runs from that ACK: probes (SEQ = SND.UNA - 1, the
 * FIN's sequence number) at 11, 13, 15 s, RST <SEQ=SND.NXT> at 17 s. */
static void keepalive_in_fin_wait_2(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = pkt_open_passive(&e, &l, NULL);
    uint32_t x = e.iss + 1;
    keep_opts(&e, s, 10, 2, 3);
    pkt_run_until(&e, 1 * S);
    pkt_drive_to(&e, s, SYNACK_FIN_WAIT_2, false);
    pkt_run_until(&e, 17 * S - 1);
    pkt_expect_at(&e, 11 * S, A, x, R, 0);
    pkt_expect_at(&e, 13 * S, A, x, R, 0);
    pkt_expect_at(&e, 15 * S, A, x, R, 0);
    pkt_expect_none(&e);
    pkt_run_until(&e, 17 * S);
    pkt_expect_at(&e, 17 * S, RST | A, x + 1, R, 0);
    assert_int_equal(pkt_state(&e, s), SYNACK_CLOSED);
    assert_int_equal(pkt_so_error(&e, s), SYNACK_ETIMEDOUT);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* The keepalive timer expires while our FIN is still unacknowledged
 * (FIN-WAIT-1): the retransmission timer is in charge then, and keepalive
 * must resume afterwards (Linux tcp_keepalive_timer: packets in flight ->
 * re-arm for the idle time). Shutdown at 5 s, FIN retransmitted at 5.2,
 * 5.6, 6.4, 8.0, 11.2 s; keepalive due at 10 s re-arms to 20 s; the FIN is
 * ACKed at 12 s (FIN-WAIT-2); at 20 s the connection has been idle 8 s,
 * so the first probe is at 22 s, then 24, 26, RST at 28 s. The stack may
 * re-arm differently while in FIN-WAIT-1, but it must probe in
 * FIN-WAIT-2: first probe no later than 22 s. */
static void keepalive_resumes_after_fin_wait_1(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = pkt_open_passive(&e, &l, NULL);
    uint32_t x = e.iss + 1;
    keep_opts(&e, s, 10, 2, 3);
    pkt_run_until(&e, 5 * S);
    pkt_drive_to(&e, s, SYNACK_FIN_WAIT_1, false);
    pkt_run_until(&e, 12 * S);
    static const uint32_t fin_at[] = {5200, 5600, 6400, 8000, 11200};
    for (int i = 0; i < 5; i++)
        pkt_expect_at(&e, fin_at[i] * MS, SYNACK_TH_FIN | A, x, R, 0);
    pkt_expect_none(&e);
    pkt_inject(&e, A, R, x + 1, 65535, NULL, 0);
    assert_int_equal(pkt_state(&e, s), SYNACK_FIN_WAIT_2);
    pkt_run_until(&e, 22 * S);
    pkt_seg g;
    if (!pkt_pop(&e, &g))
        fail_msg("no keepalive probe in FIN-WAIT-2 by t=22 s (idle since "
                 "12 s, KEEPIDLE 10 s); timer is %s",
                 synack_timer_name(pkt_info(&e, s).timer));
    assert_int_equal(g.th.flags, A);
    assert_int_equal(g.th.seq, x);
    assert_true(g.t == 22 * S);
    pkt_run_until(&e, 28 * S);
    pkt_expect_at(&e, 24 * S, A, x, R, 0);
    pkt_expect_at(&e, 26 * S, A, x, R, 0);
    pkt_expect_at(&e, 28 * S, RST | A, x + 1, R, 0);
    assert_int_equal(pkt_state(&e, s), SYNACK_CLOSED);
    assert_int_equal(pkt_so_error(&e, s), SYNACK_ETIMEDOUT);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* An orphaned FIN-WAIT-2 connection is governed by tcp_fin_timeout
 * alone: Linux (tcp_keepalive_timer: "FIN_WAIT2 && SOCK_DEAD" -> the fin
 * timeout, no probes; or the FIN-WAIT-2 timewait socket) sends no
 * keepalive probes and no RST; it disappears silently 60 s after our FIN
 * was ACKed. */
static void keepalive_not_in_orphan_fin_wait_2(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = pkt_open_passive(&e, &l, NULL);
    keep_opts(&e, s, 10, 2, 3);
    pkt_run_until(&e, 1 * S);
    pkt_drive_to(&e, s, SYNACK_FIN_WAIT_2, true);
    pkt_run_until(&e, 61 * S - 1);
    pkt_expect_none(&e);
    assert_int_equal(pkt_conn_state(&e), SYNACK_FIN_WAIT_2);
    pkt_run_until(&e, 61 * S);
    pkt_expect_none(&e);
    assert_int_equal(pkt_conn_state(&e), SYNACK_CLOSED);
    assert_true(pkt_saw_time(&e, SYNACK_FIN_WAIT_2, SYNACK_CLOSED) ==
                61 * S);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keepalive_options_unanswered),
        cmocka_unit_test(keepalive_reply_resets),
        cmocka_unit_test(keepalive_answered_forever),
        cmocka_unit_test(keepalive_tunables),
        cmocka_unit_test(keepalive_defaults),
        cmocka_unit_test(keepalive_before_connect),
        cmocka_unit_test(keepalive_inherited_from_listener),
        cmocka_unit_test(keepalive_off_is_silent),
        cmocka_unit_test(keepalive_enabled_after_idle),
        cmocka_unit_test(keepalive_keepidle_shortened),
        cmocka_unit_test(keepalive_peer_probe_answered),
        cmocka_unit_test(keepalive_in_close_wait),
        cmocka_unit_test(keepalive_in_fin_wait_2),
        cmocka_unit_test(keepalive_resumes_after_fin_wait_1),
        cmocka_unit_test(keepalive_not_in_orphan_fin_wait_2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
