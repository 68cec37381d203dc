/* RFC 9293 state diagram, edges out of LISTEN (3.10.7.2), and the options
 * a passive open negotiates (MSS clamped to the link, window scaling only
 * when both ends offer it). */
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

/* Close an accepted connection with RST (abort) and the listener. */
static void abort_and_close(pkt_env *e, int s, int l, uint32_t seq,
                            uint32_t ack)
{
    assert_int_equal(synack_abort(e->st, s, e->now), 0);
    pkt_expect(e, R_ | A_, seq, ack, 0);
    if (l >= 0)
        assert_int_equal(synack_close(e->st, l, e->now), 0);
    pkt_expect_none(e);
}

/* LISTEN -> SYN-RECEIVED on a SYN: <SEQ=ISS><ACK=SEG.SEQ+1><CTL=SYN,ACK>;
 * the listener itself stays in LISTEN. */
static void listen_syn_to_synrcvd(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l = pkt_listen(&e, 8);
    pkt_inject_syn(&e, NULL);
    pkt_seg sa;
    assert_true(pkt_pop(&e, &sa));
    assert_int_equal(sa.th.flags, S_ | A_);
    assert_int_equal(sa.th.ack, PKT_RISN + 1);
    assert_int_equal(sa.len, 0);
    assert_int_equal(sa.th.sport, PKT_LOCAL_PORT);
    assert_int_equal(sa.th.dport, PKT_REMOTE_PORT);
    assert_true(sa.th.has_mss);
    assert_int_equal(sa.th.mss, 1460);
    e.iss = sa.th.seq;
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, l), SYNACK_LISTEN);
    assert_int_equal(pkt_conn_state(&e), SYNACK_SYN_RECEIVED);
    assert_true(pkt_saw(&e, SYNACK_LISTEN, SYNACK_SYN_RECEIVED));
    assert_string_equal(pkt_cause(&e, SYNACK_SYN_RECEIVED), "rcv SYN");
    assert_int_equal(synack_stack_conn_count(e.st), 2);
    /* not accepted before the handshake completes */
    assert_int_equal(synack_accept(e.st, l, NULL), -SYNACK_EAGAIN);
    assert_int_equal(synack_poll(e.st, l) & SYNACK_POLLIN, 0);
    /* complete it */
    pkt_inject(&e, A_, PKT_RISN + 1, e.iss + 1, 65535, NULL, 0);
    pkt_expect_none(&e);
    assert_true(synack_poll(e.st, l) & SYNACK_POLLIN);
    synack_addr peer;
    int s = synack_accept(e.st, l, &peer);
    assert_true(s >= 0);
    assert_int_equal(peer.ip, PKT_REMOTE_IP);
    assert_int_equal(peer.port, PKT_REMOTE_PORT);
    assert_int_equal(pkt_state(&e, s), SYNACK_ESTABLISHED);
    abort_and_close(&e, s, l, e.iss + 1, PKT_RISN + 1);
    pkt_teardown(&e, true);
}

/* A listener closed (close(), or abort() when `abort`): LISTEN -> CLOSED at
 * once, nothing sent, the handle released, and the port is closed
 * afterwards. */
static void listen_end_to_closed(bool abort)
{
    pkt_env e;
    pkt_setup(&e, NULL);
    int l = pkt_listen(&e, 8);
    assert_int_equal(abort ? synack_abort(e.st, l, e.now)
                           : synack_close(e.st, l, e.now),
                     0);
    pkt_expect_none(&e);
    assert_true(pkt_saw(&e, SYNACK_LISTEN, SYNACK_CLOSED));
    if (abort)
        assert_string_equal(e.ev[e.nev - 1].cause, "call abort");
    else
        assert_int_equal(pkt_state(&e, l), SYNACK_CLOSED);
    assert_int_equal(synack_stack_conn_count(e.st), 0);
    assert_int_equal(synack_poll(e.st, l), 0); /* handle released */
    pkt_inject_syn(&e, NULL);
    pkt_expect(&e, R_ | A_, 0, PKT_RISN + 1, 0);
    pkt_expect_none(&e);
    pkt_teardown(&e, true);
}

/* LISTEN -> CLOSED on close(); the port is closed afterwards. */
static void listen_close_to_closed(void **state)
{
    (void)state;
    listen_end_to_closed(false);
}

/* abort() on a listener: CLOSED at once, nothing sent, the handle
 * released (edge LISTEN -> CLOSED "call abort" of src/core/tcp_fsm.c). */
static void listen_abort_to_closed(void **state)
{
    (void)state;
    listen_end_to_closed(true);
}

/* Closing a listener with an embryonic (SYN-RECEIVED) connection frees it
 * silently; the peer's ACK then finds a closed port. A connection that
 * completed but was never accepted is reset. */
static void listen_close_with_pending_children(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l = pkt_listen(&e, 8);
    /* child 1: established, in the accept queue */
    pkt_inject_syn(&e, NULL);
    pkt_seg sa;
    assert_true(pkt_pop(&e, &sa));
    uint32_t iss1 = sa.th.seq;
    pkt_inject(&e, A_, PKT_RISN + 1, iss1 + 1, 65535, NULL, 0);
    /* child 2: embryonic, from another remote port */
    e.rport = PKT_REMOTE_PORT + 1;
    pkt_inject_syn(&e, NULL);
    assert_true(pkt_pop(&e, &sa));
    uint32_t iss2 = sa.th.seq;
    assert_int_equal(sa.th.flags, S_ | A_);
    pkt_expect_none(&e);
    assert_int_equal(synack_stack_conn_count(e.st), 3);

    assert_int_equal(synack_close(e.st, l, e.now), 0);
    /* the accepted-queue child is reset; the embryo goes silently */
    pkt_seg r;
    assert_true(pkt_pop(&e, &r));
    assert_int_equal(r.th.flags, R_ | A_);
    assert_int_equal(r.th.dport, PKT_REMOTE_PORT);
    assert_int_equal(r.th.seq, iss1 + 1);
    assert_int_equal(r.th.ack, PKT_RISN + 1);
    pkt_expect_none(&e);
    assert_true(pkt_saw(&e, SYNACK_LISTEN, SYNACK_CLOSED));
    assert_true(pkt_saw(&e, SYNACK_SYN_RECEIVED, SYNACK_CLOSED));
    assert_true(pkt_saw(&e, SYNACK_ESTABLISHED, SYNACK_CLOSED));
    assert_int_equal(synack_stack_conn_count(e.st), 0);
    /* the embryo's peer completes its handshake: closed port */
    pkt_inject(&e, A_, PKT_RISN + 1, iss2 + 1, 65535, NULL, 0);
    pkt_expect(&e, R_, iss2 + 1, 0, 0);
    pkt_expect_none(&e);
    pkt_teardown(&e, true);
}

/* LISTEN + RST: ignored (first check), nothing sent. */
static void listen_rst_ignored(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l = pkt_listen(&e, 8);
    pkt_inject(&e, R_, PKT_RISN, 0, 0, NULL, 0);
    pkt_inject(&e, R_ | A_, PKT_RISN, 5000, 0, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, l), SYNACK_LISTEN);
    assert_int_equal(synack_stack_conn_count(e.st), 1);
    assert_int_equal(pkt_drops(&e, SYNACK_DROP_TCP_LISTEN_BAD), 2);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* LISTEN + any ACK-bearing segment: <SEQ=SEG.ACK><CTL=RST>. */
static void listen_ack_gets_rst(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l = pkt_listen(&e, 8);
    pkt_inject(&e, A_, PKT_RISN + 1, 31337, 65535, NULL, 0);
    pkt_expect(&e, R_, 31337, 0, 0);
    pkt_inject(&e, S_ | A_, PKT_RISN, 4444, 65535, NULL, 0);
    pkt_expect(&e, R_, 4444, 0, 0);
    pkt_inject(&e, A_ | P_, PKT_RISN + 1, 999, 65535, "data", 4);
    pkt_expect(&e, R_, 999, 0, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, l), SYNACK_LISTEN);
    assert_int_equal(synack_stack_conn_count(e.st), 1);
    /* a segment with neither SYN, ACK nor RST is dropped silently */
    pkt_inject(&e, F_, PKT_RISN, 0, 65535, NULL, 0);
    pkt_inject(&e, 0, PKT_RISN, 0, 65535, "x", 1);
    pkt_expect_none(&e);
    assert_int_equal(pkt_drops(&e, SYNACK_DROP_TCP_LISTEN_BAD), 5);
    assert_int_equal(synack_close(e.st, l, e.now), 0);
    pkt_teardown(&e, true);
}

/* RFC 9293 figure 5 has LISTEN -> SYN-SENT on SEND. The sockets API has no
 * such call: connect() on a listening socket is refused (-EINVAL here;
 * Linux says EISCONN) and the listener is unchanged and still accepts. */
static void listen_connect_refused_then_accepts(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l = pkt_listen(&e, 8);
    synack_addr ra = {PKT_REMOTE_IP, PKT_REMOTE_PORT};
    assert_int_equal(synack_connect(e.st, l, &ra, e.now), -SYNACK_EINVAL);
    assert_int_equal(synack_send(e.st, l, "x", 1, e.now), -SYNACK_ENOTCONN);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, l), SYNACK_LISTEN);
    assert_false(pkt_saw(&e, SYNACK_LISTEN, SYNACK_SYN_SENT));
    /* the listener still works */
    pkt_inject_syn(&e, NULL);
    pkt_seg sa;
    assert_true(pkt_pop(&e, &sa));
    assert_int_equal(sa.th.flags, S_ | A_);
    e.iss = sa.th.seq;
    pkt_inject(&e, A_, PKT_RISN + 1, e.iss + 1, 65535, NULL, 0);
    int s = synack_accept(e.st, l, NULL);
    assert_true(s >= 0);
    abort_and_close(&e, s, l, e.iss + 1, PKT_RISN + 1);
    pkt_teardown(&e, true);
}

/* MSS: the peer offers 9000 on a 1500-byte link. We advertise 1460 and
 * never send segments above 1460 bytes. */
static void listen_mss_clamped_to_link(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    pkt_peer_opts o = {.mss = 9000, .ws = -1};
    int l;
    int s = pkt_open_passive(&e, &l, &o);
    synack_conn_info ci;
    assert_int_equal(synack_conn_get(e.st, s, &ci), 0);
    assert_int_equal(ci.snd_mss, 1460);
    int one = 1;
    assert_int_equal(
        synack_setsockopt(e.st, s, SYNACK_TCP_NODELAY, &one, sizeof(one)), 0);
    static uint8_t buf[4000];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 7);
    assert_int_equal(synack_send(e.st, s, buf, sizeof(buf), e.now),
                     (ssize_t)sizeof(buf));
    uint32_t seq = e.iss + 1;
    const pkt_seg *g = pkt_expect(&e, A_, seq, PKT_RISN + 1, 1460);
    assert_memory_equal(g->data, buf, 1460);
    pkt_expect(&e, A_, seq + 1460, PKT_RISN + 1, 1460);
    g = pkt_expect(&e, A_ | P_, seq + 2920, PKT_RISN + 1, 1080);
    assert_memory_equal(g->data, buf + 2920, 1080);
    pkt_expect_none(&e);
    pkt_inject(&e, A_, PKT_RISN + 1, seq + 4000, 65535, NULL, 0);
    pkt_expect_none(&e);
    abort_and_close(&e, s, l, seq + 4000, PKT_RISN + 1);
    pkt_teardown(&e, true);
}

/* MSS: no MSS option from the peer means 536 (RFC 9293 3.7.1). */
static void listen_mss_default_536(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    int s = pkt_open_passive(&e, &l, NULL);
    synack_conn_info ci;
    assert_int_equal(synack_conn_get(e.st, s, &ci), 0);
    assert_int_equal(ci.snd_mss, 536);
    int one = 1;
    assert_int_equal(
        synack_setsockopt(e.st, s, SYNACK_TCP_NODELAY, &one, sizeof(one)), 0);
    static uint8_t buf[1200];
    memset(buf, 0x5a, sizeof(buf));
    assert_int_equal(synack_send(e.st, s, buf, sizeof(buf), e.now), 1200);
    uint32_t seq = e.iss + 1;
    pkt_expect(&e, A_, seq, PKT_RISN + 1, 536);
    pkt_expect(&e, A_, seq + 536, PKT_RISN + 1, 536);
    pkt_expect(&e, A_ | P_, seq + 1072, PKT_RISN + 1, 128);
    pkt_expect_none(&e);
    pkt_inject(&e, A_, PKT_RISN + 1, seq + 1200, 65535, NULL, 0);
    abort_and_close(&e, s, l, seq + 1200, PKT_RISN + 1);
    pkt_teardown(&e, true);
}

/* With timestamps the option takes 12 bytes of every segment: MSS 1460
 * carries 1448 payload bytes. */
static void listen_mss_less_timestamps(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    pkt_peer_opts o = {.mss = 1460, .ws = -1, .ts = true, .tsval = 100};
    int l;
    int s = pkt_open_passive(&e, &l, &o);
    synack_conn_info ci;
    assert_int_equal(synack_conn_get(e.st, s, &ci), 0);
    assert_true(ci.ts_ok);
    int one = 1;
    assert_int_equal(
        synack_setsockopt(e.st, s, SYNACK_TCP_NODELAY, &one, sizeof(one)), 0);
    static uint8_t buf[2000];
    memset(buf, 1, sizeof(buf));
    assert_int_equal(synack_send(e.st, s, buf, sizeof(buf), e.now), 2000);
    uint32_t seq = e.iss + 1;
    const pkt_seg *g = pkt_expect(&e, A_, seq, PKT_RISN + 1, 1448);
    assert_true(g->th.has_ts);
    assert_int_equal(g->th.tsecr, 101); /* TS.Recent from the final ACK */
    pkt_expect(&e, A_ | P_, seq + 1448, PKT_RISN + 1, 552);
    pkt_expect_none(&e);
    abort_and_close(&e, s, l, seq + 2000, PKT_RISN + 1);
    pkt_teardown(&e, true);
}

/* Window scaling is used only when both SYNs carry the option (RFC 7323
 * 2.2): the peer offers 7 -> our SYN,ACK offers ours and windows are
 * scaled both ways. */
static void listen_wscale_both_offer(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l = pkt_listen(&e, 8);
    pkt_peer_opts o = {.mss = 1460, .ws = 7};
    pkt_inject_syn(&e, &o);
    pkt_seg sa;
    assert_true(pkt_pop(&e, &sa));
    assert_int_equal(sa.th.flags, S_ | A_);
    assert_true(sa.th.has_ws);
    /* default receive buffer 131072: shift 2 makes it fit 16 bits */
    assert_int_equal(sa.th.ws, 2);
    assert_int_equal(sa.th.wnd, 65535); /* never scaled in a SYN */
    e.iss = sa.th.seq;
    /* the peer's window field 100 << 7 = 12800 bytes */
    pkt_inject(&e, A_, PKT_RISN + 1, e.iss + 1, 100, NULL, 0);
    /* The SYN,ACK offered 65535 (unscaled); once established the full
     * buffer is open, and the stack may announce it at once. If it does,
     * the update is a pure ACK with the scaled window. */
    if (pkt_pending(&e)) {
        const pkt_seg *wu = pkt_expect(&e, A_, e.iss + 1, PKT_RISN + 1, 0);
        assert_int_equal(wu->th.wnd, 131072 >> 2);
    }
    int s = synack_accept(e.st, l, NULL);
    assert_true(s >= 0);
    synack_conn_info ci;
    assert_int_equal(synack_conn_get(e.st, s, &ci), 0);
    assert_int_equal(ci.snd_wscale, 7);
    assert_int_equal(ci.rcv_wscale, 2);
    assert_int_equal(ci.snd_wnd, 12800);
    /* data: our ACK advertises the scaled window (131072 - 10) >> 2 */
    pkt_inject(&e, A_ | P_, PKT_RISN + 1, e.iss + 1, 100, "0123456789", 10);
    pkt_run_for(&e, 200 * SYNACK_MSEC); /* delayed ACK */
    const pkt_seg *ack = pkt_expect(&e, A_, e.iss + 1, PKT_RISN + 11, 0);
    assert_int_equal(ack->th.wnd, (131072 - 10) >> 2);
    assert_false(ack->th.has_ws);
    char b[16];
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now), 10);
    pkt_run_for(&e, 200 * SYNACK_MSEC);
    pkt_pop(&e, NULL); /* a window update may follow the read */
    abort_and_close(&e, s, l, e.iss + 1, PKT_RISN + 11);
    pkt_teardown(&e, true);
}

/* The peer does not offer window scaling: our SYN,ACK must not carry the
 * option either, and windows are plain 16-bit values. */
static void listen_wscale_peer_does_not_offer(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l = pkt_listen(&e, 8);
    pkt_peer_opts o = {.mss = 1460, .ws = -1};
    pkt_inject_syn(&e, &o);
    pkt_seg sa;
    assert_true(pkt_pop(&e, &sa));
    assert_false(sa.th.has_ws);
    e.iss = sa.th.seq;
    pkt_inject(&e, A_, PKT_RISN + 1, e.iss + 1, 100, NULL, 0);
    int s = synack_accept(e.st, l, NULL);
    assert_true(s >= 0);
    synack_conn_info ci;
    assert_int_equal(synack_conn_get(e.st, s, &ci), 0);
    assert_int_equal(ci.snd_wscale, 0);
    assert_int_equal(ci.rcv_wscale, 0);
    assert_int_equal(ci.snd_wnd, 100);
    pkt_inject(&e, A_ | P_, PKT_RISN + 1, e.iss + 1, 100, "0123456789", 10);
    pkt_run_for(&e, 200 * SYNACK_MSEC);
    const pkt_seg *ack = pkt_expect(&e, A_, e.iss + 1, PKT_RISN + 11, 0);
    /* 16-bit window; the right edge stays where the SYN,ACK put it
     * (receiver SWS avoidance, RFC 9293 3.8.6.2.2): 65535 - 10 */
    assert_int_equal(ack->th.wnd, 65525);
    char b[16];
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now), 10);
    pkt_run_for(&e, 200 * SYNACK_MSEC);
    pkt_pop(&e, NULL);
    abort_and_close(&e, s, l, e.iss + 1, PKT_RISN + 11);
    pkt_teardown(&e, true);
}

/* tcp_window_scaling=0: the peer's offer is not answered. */
static void listen_wscale_disabled_locally(void **state)
{
    (void)state;
    pkt_env e;
    const char *const sys[] = {"tcp_window_scaling=0", NULL};
    pkt_setup(&e, sys);
    int l = pkt_listen(&e, 8);
    pkt_peer_opts o = {.mss = 1460, .ws = 7};
    pkt_inject_syn(&e, &o);
    pkt_seg sa;
    assert_true(pkt_pop(&e, &sa));
    assert_int_equal(sa.th.flags, S_ | A_);
    assert_false(sa.th.has_ws);
    e.iss = sa.th.seq;
    pkt_inject(&e, A_, PKT_RISN + 1, e.iss + 1, 100, NULL, 0);
    int s = synack_accept(e.st, l, NULL);
    assert_true(s >= 0);
    synack_conn_info ci;
    assert_int_equal(synack_conn_get(e.st, s, &ci), 0);
    assert_int_equal(ci.snd_wscale, 0);
    assert_int_equal(ci.snd_wnd, 100);
    abort_and_close(&e, s, l, e.iss + 1, PKT_RISN + 1);
    pkt_teardown(&e, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(listen_syn_to_synrcvd),
        cmocka_unit_test(listen_close_to_closed),
        cmocka_unit_test(listen_abort_to_closed),
        cmocka_unit_test(listen_close_with_pending_children),
        cmocka_unit_test(listen_rst_ignored),
        cmocka_unit_test(listen_ack_gets_rst),
        cmocka_unit_test(listen_connect_refused_then_accepts),
        cmocka_unit_test(listen_mss_clamped_to_link),
        cmocka_unit_test(listen_mss_default_536),
        cmocka_unit_test(listen_mss_less_timestamps),
        cmocka_unit_test(listen_wscale_both_offer),
        cmocka_unit_test(listen_wscale_peer_does_not_offer),
        cmocka_unit_test(listen_wscale_disabled_locally),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
