/* Selective acknowledgment (RFC 2018), D-SACK (RFC 2883), RACK-TLP loss
 * detection (RFC 8985), recovery with PRR (RFC 6937) and the
 * congestion-control interface (tcp_congestion_control, TCP_CONGESTION). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"
#include "pkt.h"

#define A SYNACK_TH_ACK
#define S SYNACK_TH_SYN
#define MSS 1460u
#define MS SYNACK_MSEC

static uint8_t data[64 * MSS];

static synack_stack_stats stats(pkt_env *e)
{
    synack_stack_stats s;
    synack_stack_get_stats(e->st, &s);
    return s;
}

static void assert_blocks(const pkt_seg *g, const uint32_t *blk, unsigned n)
{
    if (g->th.nsack != n)
        fail_msg("%u SACK blocks, expected %u", g->th.nsack, n);
    for (unsigned i = 0; i < n; i++)
        if (g->th.sack[i].start != blk[2 * i] ||
            g->th.sack[i].end != blk[2 * i + 1])
            fail_msg("block %u is %u:%u, expected %u:%u", i,
                     g->th.sack[i].start, g->th.sack[i].end, blk[2 * i],
                     blk[2 * i + 1]);
}

/* Queue `segs` full segments on s and expect the first `sent` of them
 * (x, x + MSS, ...: cwnd and the window decide how many go). */
static void send_flight(pkt_env *e, int s, uint32_t segs, uint32_t sent)
{
    uint32_t x = e->iss + 1;
    assert_int_equal(synack_send(e->st, s, data, segs * MSS, e->now),
                     (ssize_t)(segs * MSS));
    for (uint32_t i = 0; i < sent; i++)
        pkt_expect(e, A, x + i * MSS, PKT_RISN + 1, MSS);
}

/* Active open with a SACK-capable peer (no timestamps): 10 ms RTT. */
static int open_sack(pkt_env *e, const char *const *sys)
{
    pkt_setup(e, sys);
    pkt_peer_opts o = {.mss = MSS, .ws = -1, .sack = true};
    int s = pkt_open_active_rtt(e, 10 * MS, &o);
    assert_int_equal(pkt_info(e, s).sack_ok, 1);
    return s;
}

/* ---- negotiation -------------------------------------------------------- */

static void sackok_offered_and_answered(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    /* our SYN offers it */
    int s = pkt_connect_syn(&e);
    (void)s;
    pkt_teardown(&e, false);

    pkt_setup(&e, NULL);
    int c = synack_socket(e.st);
    synack_addr la = {0, e.lport}, ra = {PKT_REMOTE_IP, e.rport};
    assert_int_equal(synack_bind(e.st, c, &la), 0);
    synack_connect(e.st, c, &ra, e.now);
    pkt_seg g;
    assert_true(pkt_pop(&e, &g));
    assert_int_equal(g.th.has_sackok, 1);
    pkt_teardown(&e, false);

    /* tcp_sack=0: not offered */
    const char *off[] = {"tcp_sack=0", NULL};
    pkt_setup(&e, off);
    c = synack_socket(e.st);
    assert_int_equal(synack_bind(e.st, c, &la), 0);
    synack_connect(e.st, c, &ra, e.now);
    assert_true(pkt_pop(&e, &g));
    assert_int_equal(g.th.has_sackok, 0);
    pkt_teardown(&e, false);

    /* passive: answered only when the SYN had it */
    pkt_setup(&e, NULL);
    int l = pkt_listen(&e, 4);
    (void)l;
    pkt_peer_opts with = {.mss = MSS, .ws = -1, .sack = true};
    pkt_inject_syn(&e, &with);
    pkt_seg sa;
    assert_true(pkt_pop(&e, &sa));
    assert_int_equal(sa.th.flags, S | A);
    assert_int_equal(sa.th.has_sackok, 1);
    pkt_teardown(&e, false);

    pkt_setup(&e, NULL);
    pkt_listen(&e, 4);
    pkt_peer_opts without = {.mss = MSS, .ws = -1};
    pkt_inject_syn(&e, &without);
    assert_true(pkt_pop(&e, &sa));
    assert_int_equal(sa.th.flags, S | A);
    assert_int_equal(sa.th.has_sackok, 0);
    pkt_teardown(&e, false);
}

/* A SYN cookie remembers SACK-permitted in the timestamp, as Linux. */
static void syncookie_keeps_sack(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_syncookies=2", NULL};
    pkt_setup(&e, sys);
    int l = pkt_listen(&e, 4);
    pkt_peer_opts o = {.mss = MSS, .ws = 7, .ts = true, .tsval = 100,
                       .sack = true};
    pkt_inject_syn(&e, &o);
    pkt_seg sa;
    assert_true(pkt_pop(&e, &sa));
    assert_int_equal(sa.th.flags, S | A);
    assert_int_equal(sa.th.has_sackok, 1);
    pkt_inject_ts(&e, A, PKT_RISN + 1, sa.th.seq + 1, 100, 101, sa.th.tsval,
                  NULL, 0);
    assert_int_equal(stats(&e).syncookies_recv, 1);
    int c = synack_accept(e.st, l, NULL);
    assert_true(c >= 0);
    assert_int_equal(pkt_info(&e, c).sack_ok, 1);
    pkt_teardown(&e, false);
}

/* ---- receiver ------------------------------------------------------------ */

/* Out-of-order data is reported in SACK blocks, the block holding the
 * newest segment first (RFC 2018 4); filled holes drop out. */
static void receiver_reports_blocks(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    pkt_peer_opts o = {.mss = MSS, .ws = -1, .sack = true};
    int s = pkt_open_passive(&e, &l, &o);
    (void)s;
    uint32_t r = PKT_RISN + 1, x = e.iss + 1;
    memset(data, 'a', sizeof(data));
    pkt_inject(&e, A, r + 200, x, 65535, data, 100);
    const pkt_seg *g = pkt_expect(&e, A, x, r, 0);
    uint32_t b1[] = {r + 200, r + 300};
    assert_blocks(g, b1, 1);
    pkt_inject(&e, A, r + 400, x, 65535, data, 100);
    g = pkt_expect(&e, A, x, r, 0);
    uint32_t b2[] = {r + 400, r + 500, r + 200, r + 300};
    assert_blocks(g, b2, 2);
    pkt_inject(&e, A, r + 300, x, 65535, data, 50); /* extends the first */
    g = pkt_expect(&e, A, x, r, 0);
    uint32_t b3[] = {r + 200, r + 350, r + 400, r + 500};
    assert_blocks(g, b3, 2);
    pkt_inject(&e, A, r, x, 65535, data, 200); /* fills the first hole */
    g = pkt_expect(&e, A, x, r + 350, 0);
    uint32_t b4[] = {r + 400, r + 500};
    assert_blocks(g, b4, 1);
    pkt_inject(&e, A, r + 350, x, 65535, data, 50);
    g = pkt_expect(&e, A, x, r + 500, 0);
    assert_int_equal(g->th.nsack, 0);
    pkt_teardown(&e, false);
}

/* With timestamps, three blocks fit (RFC 2018 3). */
static void receiver_three_blocks_with_ts(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    pkt_peer_opts o = {.mss = MSS, .ws = -1, .ts = true, .tsval = 5,
                       .sack = true};
    pkt_open_passive(&e, &l, &o);
    uint32_t r = PKT_RISN + 1, x = e.iss + 1;
    const pkt_seg *g = NULL;
    for (uint32_t i = 1; i <= 5; i++) {
        pkt_inject_ts(&e, A, r + 200 * i, x, 65535, 6, 0, data, 100);
        g = pkt_expect(&e, A, x, r, 0);
    }
    uint32_t b[] = {r + 1000, r + 1100, r + 800, r + 900, r + 600, r + 700};
    assert_blocks(g, b, 3);
    assert_int_equal(g->th.has_ts, 1);
    pkt_teardown(&e, false);
}

/* A duplicate is reported as a D-SACK: below the ACK (RFC 2883 4.1.1), or
 * inside an out-of-order range, followed by that range (4.1.2). */
static void receiver_dsack(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    pkt_peer_opts o = {.mss = MSS, .ws = -1, .sack = true};
    pkt_open_passive(&e, &l, &o);
    uint32_t r = PKT_RISN + 1, x = e.iss + 1;
    pkt_inject(&e, A, r, x, 65535, data, 100);
    pkt_run_for(&e, 100 * MS); /* delayed ACK */
    pkt_expect(&e, A, x, r + 100, 0);
    pkt_inject(&e, A, r, x, 65535, data, 100); /* again */
    const pkt_seg *g = pkt_expect(&e, A, x, r + 100, 0);
    uint32_t d1[] = {r, r + 100};
    assert_blocks(g, d1, 1);
    /* partly old: the old part is the D-SACK */
    pkt_inject(&e, A, r + 50, x, 65535, data, 100);
    g = pkt_expect(&e, A, x, r + 150, 0);
    uint32_t d2[] = {r + 50, r + 100};
    assert_blocks(g, d2, 1);
    /* inside an out-of-order range */
    pkt_inject(&e, A, r + 300, x, 65535, data, 100);
    pkt_expect(&e, A, x, r + 150, 0);
    pkt_inject(&e, A, r + 300, x, 65535, data, 100);
    g = pkt_expect(&e, A, x, r + 150, 0);
    uint32_t d3[] = {r + 300, r + 400, r + 300, r + 400};
    assert_blocks(g, d3, 2);
    synack_stack_stats st = stats(&e);
    assert_int_equal(st.tcp_dsack_out, 3);
    pkt_teardown(&e, false);

    /* tcp_dsack=0: the duplicate gets a plain ACK */
    const char *off[] = {"tcp_dsack=0", NULL};
    pkt_setup(&e, off);
    pkt_open_passive(&e, &l, &o);
    x = e.iss + 1;
    pkt_inject(&e, A, r, x, 65535, data, 100);
    pkt_run_for(&e, 100 * MS);
    pkt_expect(&e, A, x, r + 100, 0);
    pkt_inject(&e, A, r, x, 65535, data, 100);
    g = pkt_expect(&e, A, x, r + 100, 0);
    assert_int_equal(g->th.nsack, 0);
    pkt_teardown(&e, false);
}

/* A data segment sized by the MSS has no room for SACK blocks beside its
 * timestamps: it goes without them (the pure ACKs carry them) rather than
 * over the MTU -- the harness fails any packet above the MTU; a small one
 * carries them. */
static void sack_blocks_never_exceed_mtu(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    int l;
    pkt_peer_opts o = {.mss = MSS, .ws = -1, .ts = true, .tsval = 5,
                       .sack = true};
    int s = pkt_open_passive(&e, &l, &o);
    uint32_t r = PKT_RISN + 1, x = e.iss + 1;
    pkt_inject_ts(&e, A, r + 500, x, 65535, 6, 0, data, 100); /* a hole */
    pkt_expect(&e, A, x, r, 0);
    uint32_t mss = pkt_info(&e, s).snd_mss;
    pkt_setopt_int(&e, s, SYNACK_TCP_NODELAY, 1);
    assert_int_equal(synack_send(e.st, s, data, mss + 100, e.now),
                     (ssize_t)(mss + 100));
    const pkt_seg *g = pkt_expect(&e, A, x, r, mss);
    assert_int_equal(g->th.nsack, 0);
    g = pkt_expect(&e, A | SYNACK_TH_PSH, x + mss, r, 100);
    uint32_t b[] = {r + 500, r + 600};
    assert_blocks(g, b, 1);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_teardown(&e, false);
}

/* ---- sender: RACK, recovery, PRR ------------------------------------------ */

/* Ten segments; the first is lost and the peer SACKs the others as they
 * arrive. With one segment SACKed RACK waits a reordering window
 * (min_RTT / 4 = 2.5 ms) before it deems the first lost; only that one
 * is resent, never the SACKed ones. */
static void rack_reordering_window(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_wmem=4096 262144 262144", NULL};
    int s = open_sack(&e, sys);
    uint32_t x = e.iss + 1, r = PKT_RISN + 1;
    synack_time_t t0 = e.now;
    send_flight(&e, s, 10, 10);
    pkt_run_for(&e, 10 * MS);
    uint32_t b[] = {x + MSS, x + 2 * MSS};
    pkt_inject_sack(&e, r, x, b, 1);
    pkt_expect_none(&e);
    /* the reordering window runs out 10 ms + 2.5 ms after the send */
    pkt_run_until(&e, t0 + 12 * MS);
    pkt_expect_none(&e);
    pkt_run_until(&e, t0 + 13 * MS);
    pkt_expect_at(&e, t0 + 12 * MS + 500 * SYNACK_USEC, A, x, r, MSS);
    synack_conn_info ci = pkt_info(&e, s);
    assert_string_equal(ci.ca_state, "recovery");
    synack_stack_stats st = stats(&e);
    assert_int_equal(st.tcp_rack_reo_timeouts, 1);
    assert_int_equal(st.tcp_rack_lost, 1);
    assert_int_equal(st.tcp_recoveries, 1);
    /* the rest arrive: SACKs of segments 2..9, nothing more is resent
     * but new data under PRR */
    uint32_t b2[] = {x + MSS, x + 10 * MSS};
    pkt_inject_sack(&e, r, x, b2, 1);
    pkt_seg g;
    while (pkt_pop(&e, &g))
        assert_true(SEQ_GEQ(g.th.seq, x + 10 * MSS) || g.len == 0);
    /* the retransmission is acknowledged: recovery ends, cwnd = ssthresh */
    pkt_run_for(&e, 10 * MS);
    pkt_inject(&e, A, r, x + 10 * MSS, 65535, NULL, 0);
    ci = pkt_info(&e, s);
    assert_string_equal(ci.ca_state, "open");
    assert_int_equal(ci.cwnd, ci.ssthresh);
    assert_int_equal(stats(&e).tcp_retrans, 1);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_teardown(&e, false);
}

/* Three segments SACKed above a hole: the reordering window is zero
 * (RFC 8985 6.2) and the hole is resent on that ACK. */
static void rack_three_sacked_immediate(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_wmem=4096 262144 262144", NULL};
    int s = open_sack(&e, sys);
    uint32_t x = e.iss + 1, r = PKT_RISN + 1;
    send_flight(&e, s, 10, 10);
    pkt_run_for(&e, 10 * MS);
    uint32_t b[] = {x + MSS, x + 4 * MSS};
    pkt_inject_sack(&e, r, x, b, 1);
    pkt_expect(&e, A, x, r, MSS); /* at once */
    assert_int_equal(stats(&e).tcp_rack_reo_timeouts, 0);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_teardown(&e, false);
}

/* PRR (RFC 6937): with one loss out of 20 segments, recovery sends about
 * ssthresh / RecoverFS of what is delivered -- not a burst when the
 * window is cut, not a stall. */
static void prr_spreads_the_reduction(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_wmem=4096 262144 262144",
                         "tcp_congestion_control=reno", NULL};
    int s = open_sack(&e, sys);
    uint32_t x = e.iss + 1, r = PKT_RISN + 1;
    send_flight(&e, s, 60, 10);
    /* grow cwnd to 20 segments: ACK the initial 10, one by one */
    pkt_run_for(&e, 10 * MS);
    for (uint32_t i = 1; i <= 10; i++)
        pkt_inject(&e, A, r, x + i * MSS, 65535, NULL, 0);
    pkt_seg g;
    uint32_t n = 0;
    while (pkt_pop(&e, &g))
        n++;
    assert_int_equal(n, 20);
    uint32_t base = x + 10 * MSS; /* segment 0 of this flight is lost */
    pkt_run_for(&e, 10 * MS);
    uint32_t sent = 0;
    for (uint32_t k = 1; k < 20; k++) {
        uint32_t b[] = {base + MSS, base + (k + 1) * MSS};
        pkt_inject_sack(&e, r, base, b, 1);
        while (pkt_pop(&e, &g))
            if (g.len)
                sent++;
    }
    synack_conn_info ci = pkt_info(&e, s);
    /* ssthresh = FlightSize / 2 (RFC 5681): 20 segments, and the one or
     * two new ones the first SACKs let out before the loss was certain
     * (RFC 6675 pipe); about half of what is delivered is sent (PRR) */
    assert_in_range(ci.ssthresh, 10 * MSS, 11 * MSS);
    if (sent < 8 || sent > 12)
        fail_msg("PRR sent %u segments for 19 delivered", sent);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_teardown(&e, false);
}

/* Reordering, not loss: RACK deems the first segment lost and resends
 * it, then the peer's ACK carries a D-SACK for it -- the original had
 * arrived. Every retransmission of the recovery was spurious: the window
 * goes back to what it was (RFC 3708 detection, Linux's undo). Without
 * the D-SACK the reduction stays. */
static void dsack_undoes_spurious_recovery(void **state)
{
    (void)state;
    for (int with_dsack = 1; with_dsack >= 0; with_dsack--) {
        pkt_env e;
        const char *sys[] = {"tcp_wmem=4096 262144 262144", NULL};
        int s = open_sack(&e, sys);
        uint32_t x = e.iss + 1, r = PKT_RISN + 1;
        send_flight(&e, s, 10, 10);
        uint32_t cw = pkt_info(&e, s).cwnd;
        pkt_run_for(&e, 10 * MS);
        uint32_t b[] = {x + MSS, x + 4 * MSS};
        pkt_inject_sack(&e, r, x, b, 1);
        pkt_expect(&e, A, x, r, MSS); /* resent at once: three SACKed */
        assert_string_equal(pkt_info(&e, s).ca_state, "recovery");
        assert_true(pkt_info(&e, s).cwnd < cw);
        /* the original first segment arrives late, then the resent one */
        pkt_inject(&e, A, r, x + 4 * MSS, 65535, NULL, 0);
        uint32_t d[] = {x, x + MSS};
        if (with_dsack)
            pkt_inject_sack(&e, r, x + 10 * MSS, d, 1);
        else
            pkt_inject(&e, A, r, x + 10 * MSS, 65535, NULL, 0);
        synack_conn_info ci = pkt_info(&e, s);
        assert_string_equal(ci.ca_state, "open");
        if (with_dsack) {
            assert_int_equal(stats(&e).tcp_undos, 1);
            assert_true(ci.cwnd >= cw);
        } else {
            assert_int_equal(stats(&e).tcp_undos, 0);
            assert_true(ci.cwnd < cw);
        }
        assert_int_equal(synack_abort(e.st, s, e.now), 0);
        pkt_teardown(&e, false);
    }
}

/* An RTO with SACK information resends only what was not SACKed. */
static void rto_skips_sacked(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_wmem=4096 262144 262144", "tcp_early_retrans=0",
                         NULL};
    int s = open_sack(&e, sys);
    uint32_t x = e.iss + 1, r = PKT_RISN + 1;
    send_flight(&e, s, 4, 4);
    pkt_run_for(&e, 10 * MS);
    uint32_t b[] = {x + 2 * MSS, x + 4 * MSS};
    pkt_inject_sack(&e, r, x, b, 1); /* 0 and 1 missing: 2 and 3 SACKed */
    /* RACK: two SACKed, the reordering window, then both are lost; with
     * nothing delivered since, PRR's slow-start bound lets one go */
    pkt_run_for(&e, 5 * MS);
    pkt_expect(&e, A, x, r, MSS);
    pkt_expect_none(&e);
    assert_int_equal(stats(&e).tcp_rack_lost, 2);
    /* no ACK comes: the RTO resends 0, then 1 as the window opens,
     * never 2 and 3 */
    pkt_run_for(&e, 300 * MS); /* the RTO is 200 ms (tcp_rto_min) */
    pkt_expect(&e, A, x, r, MSS);
    assert_int_equal(stats(&e).tcp_timeouts, 1);
    pkt_expect_none(&e);
    pkt_inject(&e, A, r, x + MSS, 65535, NULL, 0);
    pkt_expect(&e, A, x + MSS, r, MSS);
    pkt_expect_none(&e);
    pkt_inject(&e, A, r, x + 4 * MSS, 65535, NULL, 0);
    pkt_expect_none(&e);
    assert_string_equal(pkt_info(&e, s).ca_state, "open");
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_teardown(&e, false);
}

/* ---- tail loss probe ----------------------------------------------------- */

/* The tail of a flight is lost and nothing else is to send: after 2 SRTT
 * the last segment is sent again (RFC 8985 7.3), long before the RTO; its
 * ACK without a D-SACK means it repaired a loss: the window is cut. */
static void tlp_resends_last_segment(void **state)
{
    (void)state;
    pkt_env e;
    int s = open_sack(&e, NULL);
    uint32_t x = e.iss + 1, r = PKT_RISN + 1;
    synack_send(e.st, s, data, 2 * MSS, e.now);
    synack_time_t t0 = e.now;
    pkt_expect(&e, A, x, r, MSS);
    pkt_expect(&e, A, x + MSS, r, MSS);
    pkt_run_for(&e, 100 * MS);
    /* PTO = 2 * SRTT = 20 ms */
    pkt_expect_at(&e, t0 + 20 * MS, A, x + MSS, r, MSS);
    pkt_expect_none(&e);
    assert_int_equal(stats(&e).tcp_tlp_probes, 1);
    uint32_t cw = pkt_info(&e, s).cwnd;
    pkt_inject(&e, A, r, x + 2 * MSS, 65535, NULL, 0);
    assert_int_equal(stats(&e).tcp_tlp_recoveries, 1);
    assert_true(pkt_info(&e, s).cwnd < cw);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_teardown(&e, false);
}

/* A D-SACK for the probe says it was not needed: no window cut. */
static void tlp_dsack_means_no_loss(void **state)
{
    (void)state;
    pkt_env e;
    int s = open_sack(&e, NULL);
    uint32_t x = e.iss + 1, r = PKT_RISN + 1;
    synack_send(e.st, s, data, 2 * MSS, e.now);
    pkt_expect(&e, A, x, r, MSS);
    pkt_expect(&e, A, x + MSS, r, MSS);
    pkt_run_for(&e, 30 * MS);
    pkt_expect(&e, A, x + MSS, r, MSS); /* the probe */
    uint32_t cw = pkt_info(&e, s).cwnd;
    uint32_t d[] = {x + MSS, x + 2 * MSS};
    pkt_inject_sack(&e, r, x + 2 * MSS, d, 1); /* ACK + D-SACK of the probe */
    assert_int_equal(stats(&e).tcp_dsack_in, 1);
    assert_int_equal(stats(&e).tcp_tlp_recoveries, 0);
    assert_true(pkt_info(&e, s).cwnd >= cw);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_teardown(&e, false);
}

/* With more data waiting, the probe is a new segment even beyond cwnd. */
static void tlp_sends_new_data(void **state)
{
    (void)state;
    pkt_env e;
    const char *sys[] = {"tcp_wmem=4096 262144 262144", NULL};
    int s = open_sack(&e, sys);
    uint32_t x = e.iss + 1, r = PKT_RISN + 1;
    send_flight(&e, s, 15, 10);
    pkt_expect_none(&e);
    pkt_run_for(&e, 30 * MS);
    pkt_expect(&e, A, x + 10 * MSS, r, MSS);
    pkt_expect_none(&e);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_teardown(&e, false);
}

/* Without SACK there is no probe: the RTO is in charge (as Linux). */
static void no_tlp_without_sack(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    pkt_peer_opts o = {.mss = MSS, .ws = -1};
    int s = pkt_open_active_rtt(&e, 10 * MS, &o);
    uint32_t x = e.iss + 1, r = PKT_RISN + 1;
    synack_send(e.st, s, data, 2 * MSS, e.now);
    pkt_expect(&e, A, x, r, MSS);
    pkt_expect(&e, A, x + MSS, r, MSS);
    pkt_run_for(&e, 150 * MS);
    pkt_expect_none(&e);
    assert_int_equal(synack_abort(e.st, s, e.now), 0);
    pkt_teardown(&e, false);
}

/* ---- congestion-control selection ------------------------------------------ */

static void congestion_control_choice(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    char buf[32];
    assert_true(synack_sysctl_get(e.st, "tcp_congestion_control", buf,
                                  sizeof(buf)) > 0);
    assert_string_equal(buf, "cubic");
    int s = synack_socket(e.st);
    size_t len = sizeof(buf);
    assert_int_equal(synack_getsockopt(e.st, s, SYNACK_TCP_CONGESTION, buf,
                                       &len),
                     0);
    assert_string_equal(buf, "cubic");
    assert_int_equal(synack_setsockopt(e.st, s, SYNACK_TCP_CONGESTION, "reno",
                                       5),
                     0);
    len = sizeof(buf);
    synack_getsockopt(e.st, s, SYNACK_TCP_CONGESTION, buf, &len);
    assert_string_equal(buf, "reno");
    assert_int_equal(synack_setsockopt(e.st, s, SYNACK_TCP_CONGESTION,
                                       "vegas", 6),
                     -SYNACK_ENOENT);
    assert_int_equal(
        synack_sysctl_set(e.st, "net.ipv4.tcp_congestion_control", "vegas"),
        -SYNACK_ENOENT);
    assert_int_equal(
        synack_sysctl_set(e.st, "net.ipv4.tcp_congestion_control", "bbr"), 0);
    synack_sysctl_get(e.st, "tcp_congestion_control", buf, sizeof(buf));
    assert_string_equal(buf, "bbr");
    assert_int_equal(
        synack_sysctl_set(e.st, "tcp_congestion_control", "newreno"), 0);
    synack_sysctl_get(e.st, "tcp_congestion_control", buf, sizeof(buf));
    assert_string_equal(buf, "reno");
    synack_close(e.st, s, e.now);
    pkt_teardown(&e, false);

    /* the module a connection runs shows in its info */
    const char *sys[] = {"tcp_congestion_control=reno", NULL};
    int c = open_sack(&e, sys);
    assert_string_equal(pkt_info(&e, c).cc, "reno");
    assert_int_equal(synack_abort(e.st, c, e.now), 0);
    pkt_teardown(&e, false);
}

int main(int argc, char **argv)
{
    if (argc > 1) /* one test by name, for debugging */
        cmocka_set_test_filter(argv[1]);
    memset(data, 'd', sizeof(data));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sackok_offered_and_answered),
        cmocka_unit_test(syncookie_keeps_sack),
        cmocka_unit_test(receiver_reports_blocks),
        cmocka_unit_test(receiver_three_blocks_with_ts),
        cmocka_unit_test(receiver_dsack),
        cmocka_unit_test(sack_blocks_never_exceed_mtu),
        cmocka_unit_test(rack_reordering_window),
        cmocka_unit_test(rack_three_sacked_immediate),
        cmocka_unit_test(prr_spreads_the_reduction),
        cmocka_unit_test(rto_skips_sacked),
        cmocka_unit_test(dsack_undoes_spurious_recovery),
        cmocka_unit_test(tlp_resends_last_segment),
        cmocka_unit_test(tlp_dsack_means_no_loss),
        cmocka_unit_test(tlp_sends_new_data),
        cmocka_unit_test(no_tlp_without_sack),
        cmocka_unit_test(congestion_control_choice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
