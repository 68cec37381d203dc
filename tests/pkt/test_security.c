/* Security behaviour at the packet level: SYN cookies (tcp_syncookies,
 * RFC 4987 3.6), the RFC 6528 ISN, RFC 6056 ephemeral ports and the
 * secret from getrandom(). */
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

static synack_stack_stats stats(pkt_env *e)
{
    synack_stack_stats s;
    synack_stack_get_stats(e->st, &s);
    return s;
}

/* Pop the next segment, skipping the SYN,ACK retransmissions of the embryo
 * fill_synq left on port 40000. */
static bool pop_skip(pkt_env *e, pkt_seg *out)
{
    static pkt_seg scratch;
    if (!out)
        out = &scratch;
    while (pkt_pop(e, out))
        if (out->th.dport != 40000)
            return true;
    return false;
}

static void expect_skip(pkt_env *e, uint8_t flags, uint32_t seq, uint32_t ack,
                        uint32_t len)
{
    pkt_seg g;
    assert_true(pop_skip(e, &g));
    if (g.th.flags != flags || g.th.seq != seq || g.th.ack != ack ||
        g.len != len)
        fail_msg("expected flags %#x seq %u ack %u len %u, got flags %#x "
                 "seq %u ack %u len %u",
                 flags, seq, ack, len, g.th.flags, g.th.seq, g.th.ack, g.len);
}

/* Fill the SYN queue of a listener (backlog 8, tcp_max_syn_backlog=1) with
 * one embryo from port 40000; returns the listener. */
static int fill_synq(pkt_env *e)
{
    pkt_sysctl(e, "tcp_max_syn_backlog", "1");
    int l = pkt_listen(e, 8);
    e->rport = 40000;
    pkt_inject_syn(e, NULL);
    pkt_seg sa;
    assert_true(pkt_pop(e, &sa));
    assert_int_equal(sa.th.flags, S_ | A_);
    assert_int_equal(synack_stack_conn_count(e->st), 2);
    return l;
}

/* The SYN queue is full: the next SYN is answered with a cookie SYN,ACK and
 * nothing is kept; its ACK makes an ESTABLISHED connection that accept()
 * returns and that carries data both ways. */
static void cookie_when_syn_queue_full(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l = fill_synq(&e);
    uint64_t mem = stats(&e).mem_used;
    e.rport = 40001;
    pkt_peer_opts o = {.mss = 1400, .ws = -1};
    pkt_inject_syn(&e, &o);
    pkt_seg sa;
    assert_true(pop_skip(&e, &sa));
    assert_int_equal(sa.th.flags, S_ | A_);
    assert_int_equal(sa.th.ack, PKT_RISN + 1);
    assert_true(sa.th.has_mss);
    assert_int_equal(sa.th.mss, 1460);
    assert_false(sa.th.has_ws); /* no timestamps: nowhere to keep a scale */
    assert_false(sa.th.has_ts);
    assert_int_equal(stats(&e).syncookies_sent, 1);
    assert_int_equal(synack_stack_conn_count(e.st), 2); /* nothing kept */
    assert_int_equal(stats(&e).mem_used, mem);
    e.iss = sa.th.seq;
    pkt_run_for(&e, 30 * SYNACK_SEC); /* within the cookie's life */
    /* the ACK carries data already */
    pkt_inject(&e, A_ | P_, PKT_RISN + 1, e.iss + 1, 65535, "hello", 5);
    assert_int_equal(stats(&e).syncookies_recv, 1);
    assert_int_equal(stats(&e).syncookies_failed, 0);
    synack_addr peer;
    int s = synack_accept(e.st, l, &peer);
    assert_true(s >= 0);
    assert_int_equal(peer.port, 40001);
    assert_int_equal(pkt_state(&e, s), SYNACK_ESTABLISHED);
    assert_true(pkt_saw(&e, SYNACK_LISTEN, SYNACK_SYN_RECEIVED));
    assert_true(pkt_saw(&e, SYNACK_SYN_RECEIVED, SYNACK_ESTABLISHED));
    char b[16];
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now), 5);
    assert_memory_equal(b, "hello", 5);
    synack_conn_info ci = pkt_info(&e, s);
    assert_int_equal(ci.snd_mss, 1360); /* 1400 rounded down to the table */
    /* data back from us, with the ISS the cookie was */
    assert_int_equal(synack_send(e.st, s, "world", 5, e.now), 5);
    pkt_run_for(&e, SYNACK_MSEC);
    expect_skip(&e, A_ | P_, e.iss + 1, PKT_RISN + 6, 5);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    expect_skip(&e, R_ | A_, e.iss + 6, PKT_RISN + 6, 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* With timestamps the cookie SYN,ACK offers window scaling: the peer's
 * shift rides in the low 4 bits of our TSval and comes back in TSecr. */
static void cookie_keeps_window_scale_in_timestamp(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l = fill_synq(&e);
    e.rport = 40002;
    pkt_peer_opts o = {.mss = 1460, .ws = 7, .ts = true, .tsval = 777};
    pkt_inject_syn(&e, &o);
    pkt_seg sa;
    assert_true(pop_skip(&e, &sa));
    assert_int_equal(sa.th.flags, S_ | A_);
    assert_true(sa.th.has_ts && sa.th.has_ws);
    assert_int_equal(sa.th.tsecr, 777);
    assert_int_equal(sa.th.tsval & 0xf, 7);
    e.iss = sa.th.seq;
    pkt_inject_ts(&e, A_, PKT_RISN + 1, e.iss + 1, 1000, 778, sa.th.tsval,
                  NULL, 0);
    int s = synack_accept(e.st, l, NULL);
    assert_true(s >= 0);
    synack_conn_info ci = pkt_info(&e, s);
    assert_true(ci.ts_ok);
    assert_int_equal(ci.snd_wscale, 7);
    assert_int_equal(ci.rcv_wscale, sa.th.ws);
    assert_int_equal(ci.snd_wnd, 1000u << 7);
    assert_int_equal(ci.rtt_us, 0); /* the cookie's TSval is no RTT sample */
    /* its next timestamps continue from the cookie's clock */
    assert_int_equal(synack_send(e.st, s, "x", 1, e.now), 1);
    pkt_seg d;
    assert_true(pop_skip(&e, &d));
    assert_true(d.th.has_ts);
    assert_int_equal(d.th.tsecr, 778);
    assert_true((int32_t)(d.th.tsval - sa.th.tsval) >= 0);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    assert_true(pop_skip(&e, NULL));
    /* without a scale option from the peer, TSval carries "none" (15) */
    e.rport = 40003;
    pkt_peer_opts o2 = {.mss = 1460, .ws = -1, .ts = true, .tsval = 9};
    pkt_inject_syn(&e, &o2);
    assert_true(pop_skip(&e, &sa));
    assert_false(sa.th.has_ws);
    assert_int_equal(sa.th.tsval & 0xf, 15);
    pkt_inject_ts(&e, A_, PKT_RISN + 1, sa.th.seq + 1, 1000, 10, sa.th.tsval,
                  NULL, 0);
    s = synack_accept(e.st, l, NULL);
    assert_true(s >= 0);
    ci = pkt_info(&e, s);
    assert_int_equal(ci.snd_wscale, 0);
    assert_int_equal(ci.rcv_wscale, 0);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    assert_true(pop_skip(&e, NULL));
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* An ACK whose cookie is wrong (a guess, or another 4-tuple's, or too old)
 * makes no connection: RST, counted as TCP_SYNCOOKIE_BAD. */
static void cookie_bad_or_expired_rejected(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l = fill_synq(&e);
    e.rport = 40004;
    pkt_inject_syn(&e, NULL);
    pkt_seg sa;
    assert_true(pop_skip(&e, &sa));
    uint32_t cookie = sa.th.seq;
    /* a wrong guess */
    pkt_inject(&e, A_, PKT_RISN + 1, cookie + 2, 65535, NULL, 0);
    expect_skip(&e, R_, cookie + 2, 0, 0);
    /* the right cookie from another port */
    e.rport = 40005;
    pkt_inject(&e, A_, PKT_RISN + 1, cookie + 1, 65535, NULL, 0);
    expect_skip(&e, R_, cookie + 1, 0, 0);
    /* the right cookie with another ISN of the peer */
    e.rport = 40004;
    pkt_inject(&e, A_, PKT_RISN + 2, cookie + 1, 65535, NULL, 0);
    expect_skip(&e, R_, cookie + 1, 0, 0);
    assert_int_equal(stats(&e).syncookies_failed, 3);
    assert_int_equal(pkt_drops(&e, SYNACK_DROP_TCP_SYNCOOKIE_BAD), 3);
    assert_int_equal(synack_stack_conn_count(e.st), 2);
    /* valid for at least 64 s; 130 s later it is refused */
    pkt_run_for(&e, 130 * SYNACK_SEC);
    pkt_inject(&e, A_, PKT_RISN + 1, cookie + 1, 65535, NULL, 0);
    expect_skip(&e, R_, cookie + 1, 0, 0);
    assert_int_equal(stats(&e).syncookies_recv, 0);
    assert_int_equal(synack_stack_conn_count(e.st), 1); /* embryo expired */
    assert_int_equal(synack_accept(e.st, l, NULL), -SYNACK_EAGAIN);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* tcp_syncookies=0: a full SYN queue drops the SYN (no answer);
 * tcp_syncookies=2: every SYN gets a cookie, nothing is ever kept. */
static void syncookies_sysctl(void **state)
{
    (void)state;
    pkt_env e;
    const char *const off[] = {"tcp_syncookies=0", NULL};
    pkt_setup(&e, off);
    int l = fill_synq(&e);
    e.rport = 40006;
    pkt_inject_syn(&e, NULL);
    pkt_expect_none(&e);
    assert_int_equal(pkt_drops(&e, SYNACK_DROP_TCP_SYN_QUEUE_FULL), 1);
    assert_int_equal(stats(&e).syncookies_sent, 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);

    const char *const always[] = {"tcp_syncookies=2", NULL};
    pkt_setup(&e, always);
    l = pkt_listen(&e, 8);
    uint64_t mem = stats(&e).mem_used;
    for (uint16_t p = 41000; p < 41010; p++) {
        e.rport = p;
        pkt_inject_syn(&e, NULL);
        pkt_seg sa;
        assert_true(pkt_pop(&e, &sa));
        assert_int_equal(sa.th.flags, S_ | A_);
    }
    assert_int_equal(stats(&e).syncookies_sent, 10);
    assert_int_equal(synack_stack_conn_count(e.st), 1);
    assert_int_equal(stats(&e).mem_used, mem);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* With cookies on but none sent recently, a stray ACK at a listener is
 * answered as RFC 9293 says (RST), not checked as a cookie. */
static void stray_ack_without_cookies_reset(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l = pkt_listen(&e, 8);
    pkt_inject(&e, A_, 5000, 6000, 65535, NULL, 0);
    pkt_expect(&e, R_, 6000, 0, 0);
    assert_int_equal(pkt_drops(&e, SYNACK_DROP_TCP_LISTEN_BAD), 1);
    assert_int_equal(stats(&e).syncookies_failed, 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* The accept queue full: SYNs are dropped even with cookies (as Linux), so
 * a cookie cannot grow the queue past the backlog. */
static void accept_queue_full_no_cookie(void **state)
{
    (void)state;
    pkt_env e;
    const char *const always[] = {"tcp_syncookies=2", NULL};
    pkt_setup(&e, always);
    int l = pkt_listen(&e, 1);
    e.rport = 42000;
    pkt_inject_syn(&e, NULL);
    pkt_seg sa;
    assert_true(pkt_pop(&e, &sa));
    pkt_inject(&e, A_, PKT_RISN + 1, sa.th.seq + 1, 65535, NULL, 0);
    assert_int_equal(synack_stack_conn_count(e.st), 2);
    e.rport = 42001;
    pkt_inject_syn(&e, NULL);
    pkt_expect_none(&e);
    assert_int_equal(pkt_drops(&e, SYNACK_DROP_TCP_ACCEPT_QUEUE_FULL), 1);
    int s = synack_accept(e.st, l, NULL);
    assert_true(s >= 0);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    assert_true(pkt_pop(&e, NULL));
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* RFC 6528: ISN = M + F(4-tuple, secret) with M a 4 us clock: the same
 * 4-tuple one second later starts exactly 250000 higher; another remote
 * port starts somewhere unrelated. */
static uint32_t syn_iss(pkt_env *e, uint16_t lport, uint16_t rport)
{
    int s = synack_socket(e->st);
    assert_true(s >= 0);
    synack_addr la = {PKT_LOCAL_IP, lport};
    assert_int_equal(synack_bind(e->st, s, &la), 0);
    synack_addr ra = {PKT_REMOTE_IP, rport};
    assert_int_equal(synack_connect(e->st, s, &ra, e->now),
                     -SYNACK_EINPROGRESS);
    pkt_seg syn;
    assert_true(pkt_pop(e, &syn));
    assert_int_equal(syn.th.flags, S_);
    assert_int_equal(synack_abort(e->st, s, e->now), 0);
    return syn.th.seq;
}

static void isn_rfc6528(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    uint32_t a = syn_iss(&e, 5000, 80);
    pkt_run_for(&e, SYNACK_SEC);
    uint32_t b = syn_iss(&e, 5000, 80);
    assert_int_equal(b - a, 250000);
    uint32_t c = syn_iss(&e, 5000, 81);
    uint32_t d = syn_iss(&e, 5001, 80);
    /* 2^-32 chance each of being within 2^20 by accident */
    assert_true(c - b > (1u << 20) && b - c > (1u << 20));
    assert_true(d - b > (1u << 20) && b - d > (1u << 20));
    pkt_teardown(&e, true);
}

/* synack_stack_config_init takes a fresh secret and seed from the kernel:
 * two configurations differ, and neither secret is all zeros. */
static void secret_from_getrandom(void **state)
{
    (void)state;
    synack_stack_config a, b;
    synack_stack_config_init(&a);
    synack_stack_config_init(&b);
    static const uint8_t zero[16];
    assert_memory_not_equal(a.isn_secret, zero, 16);
    assert_memory_not_equal(a.isn_secret, b.isn_secret, 16);
    assert_true(a.seed != b.seed);
}

/* RFC 6056 algorithm 3: ports are in 32768..60999; connections to one
 * destination take successive ports from its own keyed offset, another
 * destination starts elsewhere. */
static uint16_t connect_port(pkt_env *e, uint16_t rport, int *out)
{
    int s = synack_socket(e->st);
    assert_true(s >= 0);
    synack_addr ra = {PKT_REMOTE_IP, rport};
    assert_int_equal(synack_connect(e->st, s, &ra, e->now),
                     -SYNACK_EINPROGRESS);
    pkt_seg syn;
    assert_true(pkt_pop(e, &syn));
    *out = s;
    return syn.th.sport;
}

static void ephemeral_ports_rfc6056(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s[6];
    uint16_t p[6];
    for (int i = 0; i < 4; i++) {
        p[i] = connect_port(&e, 80, &s[i]);
        assert_true(p[i] >= 32768 && p[i] <= 60999);
    }
    for (int i = 1; i < 4; i++)
        assert_int_equal((p[i] - 32768) % 28232,
                         (p[0] - 32768 + i) % 28232);
    p[4] = connect_port(&e, 443, &s[4]);
    p[5] = connect_port(&e, 443, &s[5]);
    assert_int_equal((p[5] - 32768) % 28232, (p[4] - 32768 + 1) % 28232);
    /* another destination: not simply the next port */
    assert_true(p[4] != (uint16_t)(p[3] + 1));
    for (int i = 0; i < 6; i++)
        assert_int_equal(synack_abort(e.st, s[i], e.now), 0);
    pkt_teardown(&e, true);
}

/* tcp_invalid_ratelimit (as Linux): unacceptable segments without data
 * (out of window, ACK of unsent data) get one ACK per 500 ms per
 * connection, so two ends cannot answer each other's ACKs for ever; data
 * out of the window is always answered; a SYN gets a challenge ACK. */
static void invalid_ratelimit_breaks_ack_loops(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = pkt_open_passive(&e, &l, NULL);
    uint32_t r = PKT_RISN + 1;
    for (int i = 0; i < 5; i++) {
        pkt_inject(&e, A_, r, e.iss + 1000, 65535, NULL, 0); /* unsent */
        pkt_inject(&e, A_, r + 200000, e.iss + 1, 65535, NULL, 0); /* oow */
        pkt_run_for(&e, 10 * SYNACK_MSEC);
    }
    pkt_expect(&e, A_, e.iss + 1, r, 0);
    pkt_expect_none(&e);
    assert_int_equal(stats(&e).tcp_oow_acks_skipped, 9);
    /* data beyond the window: answered every time */
    pkt_inject(&e, A_ | P_, r + 200000, e.iss + 1, 65535, "x", 1);
    pkt_expect(&e, A_, e.iss + 1, r, 0);
    pkt_inject(&e, A_ | P_, r + 200000, e.iss + 1, 65535, "x", 1);
    pkt_expect(&e, A_, e.iss + 1, r, 0);
    /* 500 ms after the last one, the next is answered again */
    pkt_run_for(&e, 500 * SYNACK_MSEC);
    pkt_inject(&e, A_, r + 200000, e.iss + 1, 65535, NULL, 0);
    pkt_expect(&e, A_, e.iss + 1, r, 0);
    pkt_inject(&e, A_, r + 200000, e.iss + 1, 65535, NULL, 0);
    pkt_expect_none(&e);
    /* tcp_invalid_ratelimit=0: no limit */
    pkt_sysctl(&e, "tcp_invalid_ratelimit", "0");
    for (int i = 0; i < 3; i++) {
        pkt_inject(&e, A_, r + 200000, e.iss + 1, 65535, NULL, 0);
        pkt_expect(&e, A_, e.iss + 1, r, 0);
    }
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_expect(&e, R_ | A_, e.iss + 1, r, 0);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cookie_when_syn_queue_full),
        cmocka_unit_test(cookie_keeps_window_scale_in_timestamp),
        cmocka_unit_test(cookie_bad_or_expired_rejected),
        cmocka_unit_test(syncookies_sysctl),
        cmocka_unit_test(stray_ack_without_cookies_reset),
        cmocka_unit_test(accept_queue_full_no_cookie),
        cmocka_unit_test(isn_rfc6528),
        cmocka_unit_test(secret_from_getrandom),
        cmocka_unit_test(ephemeral_ports_rfc6056),
        cmocka_unit_test(invalid_ratelimit_breaks_ack_loops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
