/* RFC 9293 state diagram, edges out of SYN-SENT (3.10.7.3), and the
 * options an active open negotiates. */
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

static void inject_synack(pkt_env *e, uint32_t ack, const pkt_peer_opts *o)
{
    wire_tcp th;
    memset(&th, 0, sizeof(th));
    th.sport = e->rport;
    th.dport = e->lport;
    th.seq = PKT_RISN;
    th.ack = ack;
    th.flags = S_ | A_;
    th.wnd = 65535;
    if (o) {
        if (o->wnd)
            th.wnd = o->wnd;
        if (o->mss) {
            th.has_mss = 1;
            th.mss = o->mss;
        }
        if (o->ws >= 0) {
            th.has_ws = 1;
            th.ws = (uint8_t)o->ws;
        }
    }
    pkt_inject_th(e, &th, NULL, 0);
}

static void abort_conn(pkt_env *e, int s, uint32_t seq, uint32_t ack)
{
    assert_int_equal(synack_abort(e->st, s, e->now), 0);
    pkt_expect(e, R_ | A_, seq, ack, 0);
    pkt_expect_none(e);
}

/* SYN-SENT -> ESTABLISHED on an acceptable SYN,ACK:
 * <SEQ=ISS+1><ACK=RCV.NXT><CTL=ACK>; connect completes (POLLOUT). */
static void synsent_synack_to_established(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_connect_syn(&e);
    assert_int_equal(synack_poll(e.st, s) & SYNACK_POLLOUT, 0);
    pkt_run_for(&e, 10 * SYNACK_MSEC);
    inject_synack(&e, e.iss + 1, NULL);
    pkt_expect(&e, A_, e.iss + 1, PKT_RISN + 1, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_ESTABLISHED);
    assert_true(pkt_saw(&e, SYNACK_SYN_SENT, SYNACK_ESTABLISHED));
    assert_string_equal(pkt_cause(&e, SYNACK_ESTABLISHED), "rcv SYN,ACK");
    assert_true(synack_poll(e.st, s) & SYNACK_POLLOUT);
    assert_int_equal(pkt_so_error(&e, s), 0);
    synack_addr p;
    assert_int_equal(synack_getpeername(e.st, s, &p), 0);
    assert_int_equal(p.ip, PKT_REMOTE_IP);
    assert_int_equal(p.port, PKT_REMOTE_PORT);
    /* the connection works */
    assert_int_equal(synack_send(e.st, s, "ping", 4, e.now), 4);
    const pkt_seg *d = pkt_expect(&e, A_ | P_, e.iss + 1, PKT_RISN + 1, 4);
    assert_memory_equal(d->data, "ping", 4);
    pkt_inject(&e, A_ | P_, PKT_RISN + 1, e.iss + 5, 65535, "pong", 4);
    char b[8];
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now), 4);
    assert_memory_equal(b, "pong", 4);
    pkt_run_for(&e, SYNACK_SEC);
    pkt_expect(&e, A_, e.iss + 5, PKT_RISN + 5, 0); /* delayed ACK */
    abort_conn(&e, s, e.iss + 5, PKT_RISN + 5);
    pkt_teardown(&e, true);
}

/* SYN-SENT -> SYN-RECEIVED on a SYN without ACK (simultaneous open):
 * <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>, the ISS unchanged. */
static void synsent_syn_to_synrcvd(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_connect_syn(&e);
    pkt_inject_syn(&e, NULL);
    const pkt_seg *sa = pkt_expect(&e, S_ | A_, e.iss, PKT_RISN + 1, 0);
    assert_true(sa->th.has_mss);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_SYN_RECEIVED);
    assert_true(pkt_saw(&e, SYNACK_SYN_SENT, SYNACK_SYN_RECEIVED));
    assert_string_equal(pkt_cause(&e, SYNACK_SYN_RECEIVED), "rcv SYN");
    /* not connected yet */
    assert_int_equal(synack_poll(e.st, s) & SYNACK_POLLOUT, 0);
    assert_int_equal(synack_send(e.st, s, "x", 1, e.now), -SYNACK_EAGAIN);
    /* the peer's ACK of our SYN completes it */
    pkt_inject(&e, A_, PKT_RISN + 1, e.iss + 1, 65535, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_ESTABLISHED);
    assert_true(pkt_saw(&e, SYNACK_SYN_RECEIVED, SYNACK_ESTABLISHED));
    abort_conn(&e, s, e.iss + 1, PKT_RISN + 1);
    pkt_teardown(&e, true);
}

/* SYN-SENT -> CLOSED on close() (and on abort()): the TCB is deleted and
 * nothing is sent (RFC 9293 3.10.4, 3.10.5). A late SYN,ACK then finds a
 * closed port. */
static void synsent_close_to_closed(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_connect_syn(&e);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_expect_none(&e);
    assert_true(pkt_saw(&e, SYNACK_SYN_SENT, SYNACK_CLOSED));
    assert_int_equal(synack_stack_conn_count(e.st), 0);
    inject_synack(&e, e.iss + 1, NULL);
    pkt_expect(&e, R_, e.iss + 1, 0, 0);
    pkt_expect_none(&e);
    /* abort() the same way */
    e.rport++;
    int s2 = pkt_connect_syn(&e);
    assert_int_equal(synack_abort(e.st, s2, e.now), 0);
    pkt_expect_none(&e);
    assert_int_equal(synack_stack_conn_count(e.st), 0);
    /* and no retransmission timer is left behind */
    assert_int_equal(synack_stack_next_deadline(e.st), SYNACK_TIME_NEVER);
    pkt_run_for(&e, 10 * SYNACK_SEC);
    pkt_expect_none(&e);
    pkt_teardown(&e, true);
}

/* SYN-SENT + RST,ACK acking our SYN: connection refused. Nothing is sent;
 * the application sees ECONNREFUSED. */
static void synsent_rst_ack_refused(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_connect_syn(&e);
    pkt_inject(&e, R_ | A_, 0, e.iss + 1, 0, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_CLOSED);
    assert_true(pkt_saw(&e, SYNACK_SYN_SENT, SYNACK_CLOSED));
    assert_string_equal(pkt_cause(&e, SYNACK_CLOSED), "rcv RST,ACK");
    unsigned ev = synack_poll(e.st, s);
    assert_true(ev & SYNACK_POLLERR);
    assert_true(ev & SYNACK_POLLHUP);
    char b[4];
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now),
                     -SYNACK_ECONNREFUSED);
    assert_int_equal(pkt_so_error(&e, s), 0); /* reported once */
    assert_int_equal(synack_stack_next_deadline(e.st), SYNACK_TIME_NEVER);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_expect_none(&e);
    pkt_teardown(&e, true);
}

/* The same, read through getsockopt(SO_ERROR) as a non-blocking connect
 * would. */
static void synsent_rst_ack_so_error(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_connect_syn(&e);
    pkt_inject(&e, R_ | A_, 0, e.iss + 1, 0, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_so_error(&e, s), SYNACK_ECONNREFUSED);
    assert_int_equal(pkt_so_error(&e, s), 0);
    assert_int_equal(synack_send(e.st, s, "x", 1, e.now), -SYNACK_EPIPE);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_teardown(&e, true);
}

/* SYN-SENT + RST without ACK: dropped (it cannot be validated); nothing is
 * sent and the handshake still completes. */
static void synsent_rst_without_ack_ignored(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_connect_syn(&e);
    pkt_inject(&e, R_, PKT_RISN, 0, 0, NULL, 0);
    pkt_inject(&e, R_, 0, 0, 0, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_SYN_SENT);
    assert_int_equal(pkt_so_error(&e, s), 0);
    inject_synack(&e, e.iss + 1, NULL);
    pkt_expect(&e, A_, e.iss + 1, PKT_RISN + 1, 0);
    assert_int_equal(pkt_state(&e, s), SYNACK_ESTABLISHED);
    abort_conn(&e, s, e.iss + 1, PKT_RISN + 1);
    pkt_teardown(&e, true);
}

/* SYN-SENT + unacceptable ACK (SEG.ACK =< ISS or SEG.ACK > SND.NXT):
 * <SEQ=SEG.ACK><CTL=RST>, segment discarded, state unchanged. An RST
 * with an unacceptable ACK is dropped without reply. */
static void synsent_bad_ack_gets_rst(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_connect_syn(&e);
    inject_synack(&e, e.iss, NULL); /* = ISS */
    pkt_expect(&e, R_, e.iss, 0, 0);
    inject_synack(&e, e.iss - 1000, NULL); /* < ISS */
    pkt_expect(&e, R_, e.iss - 1000, 0, 0);
    inject_synack(&e, e.iss + 2, NULL); /* > SND.NXT */
    pkt_expect(&e, R_, e.iss + 2, 0, 0);
    pkt_inject(&e, A_, PKT_RISN, e.iss + 77, 65535, NULL, 0); /* bare ACK */
    pkt_expect(&e, R_, e.iss + 77, 0, 0);
    pkt_inject(&e, R_ | A_, 0, e.iss + 5, 0, NULL, 0); /* RST, bad ACK */
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_SYN_SENT);
    assert_int_equal(pkt_so_error(&e, s), 0);
    assert_int_equal(pkt_drops(&e, SYNACK_DROP_TCP_ACK), 5);
    /* the real SYN,ACK still works */
    inject_synack(&e, e.iss + 1, NULL);
    pkt_expect(&e, A_, e.iss + 1, PKT_RISN + 1, 0);
    assert_int_equal(pkt_state(&e, s), SYNACK_ESTABLISHED);
    abort_conn(&e, s, e.iss + 1, PKT_RISN + 1);
    pkt_teardown(&e, true);
}

/* SYN-SENT + acceptable ACK without SYN or RST: fifth step, drop. */
static void synsent_ack_without_syn_dropped(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_connect_syn(&e);
    pkt_inject(&e, A_, PKT_RISN, e.iss + 1, 65535, NULL, 0);
    pkt_inject(&e, F_ | A_, PKT_RISN, e.iss + 1, 65535, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_SYN_SENT);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_expect_none(&e);
    pkt_teardown(&e, true);
}

/* Active open, MSS: the peer offers 9000 on a 1500-byte link: 1460. */
static void synsent_mss_clamped_to_link(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    pkt_peer_opts o = {.mss = 9000, .ws = -1};
    int s = pkt_open_active(&e, &o);
    synack_conn_info ci;
    assert_int_equal(synack_conn_get(e.st, s, &ci), 0);
    assert_int_equal(ci.snd_mss, 1460);
    int one = 1;
    assert_int_equal(
        synack_setsockopt(e.st, s, SYNACK_TCP_NODELAY, &one, sizeof(one)), 0);
    static uint8_t buf[3000];
    memset(buf, 3, sizeof(buf));
    assert_int_equal(synack_send(e.st, s, buf, sizeof(buf), e.now), 3000);
    pkt_expect(&e, A_, e.iss + 1, PKT_RISN + 1, 1460);
    pkt_expect(&e, A_, e.iss + 1461, PKT_RISN + 1, 1460);
    pkt_expect(&e, A_ | P_, e.iss + 2921, PKT_RISN + 1, 80);
    pkt_expect_none(&e);
    pkt_inject(&e, A_, PKT_RISN + 1, e.iss + 3001, 65535, NULL, 0);
    abort_conn(&e, s, e.iss + 3001, PKT_RISN + 1);
    pkt_teardown(&e, true);
}

/* Active open: our SYN offers window scaling; a SYN,ACK without the
 * option turns it off for both directions. */
static void synsent_wscale_peer_does_not_answer(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = synack_socket(e.st);
    synack_addr la = {0, PKT_LOCAL_PORT};
    assert_int_equal(synack_bind(e.st, s, &la), 0);
    synack_addr ra = {PKT_REMOTE_IP, PKT_REMOTE_PORT};
    assert_int_equal(synack_connect(e.st, s, &ra, e.now),
                     -SYNACK_EINPROGRESS);
    pkt_seg syn;
    assert_true(pkt_pop(&e, &syn));
    e.iss = syn.th.seq;
    assert_true(syn.th.has_ws);
    assert_int_equal(syn.th.ws, 2);
    assert_int_equal(syn.th.wnd, 65535);
    pkt_peer_opts o = {.mss = 1460, .ws = -1, .wnd = 1000};
    inject_synack(&e, e.iss + 1, &o);
    const pkt_seg *a = pkt_expect(&e, A_, e.iss + 1, PKT_RISN + 1, 0);
    assert_int_equal(a->th.wnd, 65535); /* not shifted */
    synack_conn_info ci;
    assert_int_equal(synack_conn_get(e.st, s, &ci), 0);
    assert_int_equal(ci.snd_wscale, 0);
    assert_int_equal(ci.rcv_wscale, 0);
    assert_int_equal(ci.snd_wnd, 1000);
    abort_conn(&e, s, e.iss + 1, PKT_RISN + 1);
    pkt_teardown(&e, true);
}

/* Active open: both offer: the SYN,ACK's window is not scaled, every
 * later window is. */
static void synsent_wscale_both_offer(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_connect_syn(&e);
    pkt_peer_opts o = {.mss = 1460, .ws = 5, .wnd = 1000};
    inject_synack(&e, e.iss + 1, &o);
    const pkt_seg *a = pkt_expect(&e, A_, e.iss + 1, PKT_RISN + 1, 0);
    assert_int_equal(a->th.wnd, 131072 >> 2);
    synack_conn_info ci;
    assert_int_equal(synack_conn_get(e.st, s, &ci), 0);
    assert_int_equal(ci.snd_wscale, 5);
    assert_int_equal(ci.rcv_wscale, 2);
    assert_int_equal(ci.snd_wnd, 1000); /* the SYN,ACK window is unscaled */
    pkt_inject(&e, A_, PKT_RISN + 1, e.iss + 1, 1000, NULL, 0);
    assert_int_equal(synack_conn_get(e.st, s, &ci), 0);
    assert_int_equal(ci.snd_wnd, 32000);
    pkt_expect_none(&e);
    abort_conn(&e, s, e.iss + 1, PKT_RISN + 1);
    pkt_teardown(&e, true);
}

/* SYN-SENT: a SYN,ACK carrying data: ESTABLISHED, and processing goes on
 * at the sixth step (RFC 9293 3.10.7.3): the data is taken and one ACK
 * covers SYN and data. */
static void synsent_synack_with_data(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_connect_syn(&e);
    pkt_inject(&e, S_ | A_ | P_, PKT_RISN, e.iss + 1, 65535, "hello", 5);
    pkt_expect(&e, A_, e.iss + 1, PKT_RISN + 6, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_ESTABLISHED);
    char b[8];
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now), 5);
    assert_memory_equal(b, "hello", 5);
    abort_conn(&e, s, e.iss + 1, PKT_RISN + 6);
    pkt_teardown(&e, true);
}

/* SYN-SENT: SYN,ACK,FIN: ESTABLISHED then, at the eighth step,
 * CLOSE-WAIT; the ACK covers SYN and FIN; the application reads EOF. */
static void synsent_synack_with_fin(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int s = pkt_connect_syn(&e);
    pkt_inject(&e, S_ | A_ | F_, PKT_RISN, e.iss + 1, 65535, NULL, 0);
    pkt_expect(&e, A_, e.iss + 1, PKT_RISN + 2, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_state(&e, s), SYNACK_CLOSE_WAIT);
    assert_true(pkt_saw(&e, SYNACK_SYN_SENT, SYNACK_ESTABLISHED));
    assert_true(pkt_saw(&e, SYNACK_ESTABLISHED, SYNACK_CLOSE_WAIT));
    char b[8];
    assert_int_equal(synack_recv(e.st, s, b, sizeof(b), e.now), 0);
    assert_int_equal(synack_close(e.st, s, e.now), 0);
    pkt_expect(&e, F_ | A_, e.iss + 1, PKT_RISN + 2, 0);
    pkt_inject(&e, A_, PKT_RISN + 2, e.iss + 2, 65535, NULL, 0);
    pkt_expect_none(&e);
    assert_int_equal(pkt_conn_state(&e), SYNACK_CLOSED);
    pkt_teardown(&e, true);
}

/* Timestamps (RFC 7323 3.2): our SYN offers them; if the SYN,ACK carries
 * TSopt every later segment does, echoing TS.Recent; if not, none does. */
static void synsent_timestamps_negotiation(void **state)
{
    (void)state;
    for (int offer = 0; offer <= 1; offer++) {
        pkt_env e;
        pkt_setup(&e, NULL);
        int s = synack_socket(e.st);
        synack_addr la = {0, PKT_LOCAL_PORT};
        assert_int_equal(synack_bind(e.st, s, &la), 0);
        synack_addr ra = {PKT_REMOTE_IP, PKT_REMOTE_PORT};
        assert_int_equal(synack_connect(e.st, s, &ra, e.now),
                         -SYNACK_EINPROGRESS);
        pkt_seg syn;
        assert_true(pkt_pop(&e, &syn));
        e.iss = syn.th.seq;
        assert_true(syn.th.has_ts);
        assert_int_equal(syn.th.tsecr, 0);
        wire_tcp th;
        memset(&th, 0, sizeof(th));
        th.sport = PKT_REMOTE_PORT;
        th.dport = PKT_LOCAL_PORT;
        th.seq = PKT_RISN;
        th.ack = e.iss + 1;
        th.flags = S_ | A_;
        th.wnd = 65535;
        th.has_mss = 1;
        th.mss = 1460;
        if (offer) {
            th.has_ts = 1;
            th.tsval = 5000;
            th.tsecr = syn.th.tsval;
        }
        pkt_inject_th(&e, &th, NULL, 0);
        const pkt_seg *a = pkt_expect(&e, A_, e.iss + 1, PKT_RISN + 1, 0);
        assert_int_equal(a->th.has_ts, offer);
        if (offer)
            assert_int_equal(a->th.tsecr, 5000);
        synack_conn_info ci;
        assert_int_equal(synack_conn_get(e.st, s, &ci), 0);
        assert_int_equal(ci.ts_ok, offer);
        assert_int_equal(ci.snd_mss, offer ? 1448 : 1460);
        assert_int_equal(synack_send(e.st, s, "x", 1, e.now), 1);
        a = pkt_expect(&e, A_ | P_, e.iss + 1, PKT_RISN + 1, 1);
        assert_int_equal(a->th.has_ts, offer);
        pkt_inject(&e, A_, PKT_RISN + 1, e.iss + 2, 65535, NULL, 0);
        abort_conn(&e, s, e.iss + 2, PKT_RISN + 1);
        pkt_teardown(&e, true);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(synsent_synack_to_established),
        cmocka_unit_test(synsent_syn_to_synrcvd),
        cmocka_unit_test(synsent_close_to_closed),
        cmocka_unit_test(synsent_rst_ack_refused),
        cmocka_unit_test(synsent_rst_ack_so_error),
        cmocka_unit_test(synsent_rst_without_ack_ignored),
        cmocka_unit_test(synsent_bad_ack_gets_rst),
        cmocka_unit_test(synsent_ack_without_syn_dropped),
        cmocka_unit_test(synsent_mss_clamped_to_link),
        cmocka_unit_test(synsent_wscale_peer_does_not_answer),
        cmocka_unit_test(synsent_wscale_both_offer),
        cmocka_unit_test(synsent_synack_with_data),
        cmocka_unit_test(synsent_synack_with_fin),
        cmocka_unit_test(synsent_timestamps_negotiation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
