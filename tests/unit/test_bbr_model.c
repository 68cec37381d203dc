/* BBR's state machine, driven directly with rate samples (the sampler
 * itself is tested on the wire in tests/pkt/test_bbr.c): STARTUP leaves
 * when the bandwidth has not grown by 25% for three rounds, DRAIN ends
 * once in flight is down to the BDP, PROBE_BW cycles its eight gains one
 * min RTT each, PROBE_RTT comes after ten seconds without a lower RTT and
 * holds cwnd at four segments for 200 ms and a round, a recovery
 * conserves packets instead of cutting cwnd, and the pacing rate follows
 * the gain (draft-cardwell-iccrg-bbr-
 * congestion-control-00; Linux tcp_bbr.c for the details). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"

#define MSS 1000u
#define MS SYNACK_MSEC
#define RTT (100 * MS)
#define BW 1250000u          /* bytes/s: 10 Mbit/s */
#define BDP (BW / 10)        /* at RTT: 125000 bytes */

static tcb tp;
static synack_time_t now;

static void init_bbr(void)
{
    memset(&tp, 0, sizeof(tp));
    tp.mss = MSS;
    tp.cwnd = 10 * MSS;
    tp.ssthresh = 0xffffffffu;
    tp.srtt = RTT;
    tp.rtt_valid = true;
    tp.iss = 12345;
    tp.cc = tcp_cc_find("bbr");
    assert_non_null(tp.cc);
    assert_non_null(tp.cc->cong_control);
    now = SYNACK_SEC;
    tp.cc->init(&tp, now);
}

static void set_inflight(uint32_t bytes)
{
    tp.snd_una = 0;
    tp.snd_max = bytes;
}

/* One ACK that starts a new round and measures `bw` over one RTT. */
static tcp_bbr_state ack_round(uint32_t bw, synack_time_t rtt,
                               uint32_t inflight, synack_time_t dt)
{
    now += dt;
    tcp_rate_sample rs;
    memset(&rs, 0, sizeof(rs));
    rs.prior_delivered = tp.delivered;
    uint32_t acked = 10 * MSS;
    tp.delivered += acked;
    rs.acked_sacked = acked;
    rs.interval = RTT;
    rs.delivered = (uint32_t)((uint64_t)bw * RTT / SYNACK_SEC);
    rs.rtt = rtt;
    rs.prior_in_flight = inflight;
    set_inflight(inflight);
    tp.cc->cong_control(&tp, &rs, now);
    tcp_bbr_state b;
    assert_true(tcp_bbr_info(&tp, &b));
    return b;
}

/* Growth, a plateau: STARTUP for two more rounds, DRAIN at the third,
 * PROBE_BW once in flight is down to the BDP. */
static void startup_drain_probe_bw(void **state)
{
    (void)state;
    init_bbr();
    tcp_bbr_state b;
    assert_true(tcp_bbr_info(&tp, &b));
    assert_int_equal(b.mode, 0);
    assert_int_equal(b.pacing_gain, 739); /* 2/ln 2 */
    uint32_t bw = BW / 16;
    for (; bw < BW; bw *= 2) {
        b = ack_round(bw, RTT, 3 * BDP, RTT);
        assert_int_equal(b.mode, 0);
    }
    /* the bandwidth's plateau: not yet */
    b = ack_round(BW, RTT, 3 * BDP, RTT);
    assert_int_equal(b.mode, 0);
    b = ack_round(BW, RTT, 3 * BDP, RTT);
    assert_int_equal(b.mode, 0);
    b = ack_round(BW, RTT, 3 * BDP, RTT);
    assert_int_equal(b.mode, 0);
    assert_false(b.full_bw);
    /* the third round without 25% growth: DRAIN (in flight above BDP) */
    b = ack_round(BW, RTT, 3 * BDP, RTT);
    assert_true(b.full_bw);
    assert_int_equal(b.mode, 1);
    assert_int_equal(b.pacing_gain, 88);
    assert_in_range(b.bw, BW - 16, BW);
    assert_int_equal(b.min_rtt, RTT);
    b = ack_round(BW, RTT, 2 * BDP, RTT / 10);
    assert_int_equal(b.mode, 1);
    /* drained: PROBE_BW, in some phase other than the 3/4 one */
    b = ack_round(BW, RTT, BDP, RTT / 10);
    assert_int_equal(b.mode, 2);
    assert_int_not_equal(b.cycle_idx, 1);
    /* cwnd heads for twice the BDP (and some), no further */
    for (int i = 0; i < 100; i++)
        ack_round(BW, RTT, BDP, RTT / 10);
    assert_in_range(tp.cwnd, 2 * BDP, 2 * BDP + 6 * MSS);
}

static void to_probe_bw(void)
{
    init_bbr();
    for (uint32_t bw = BW / 16; bw < BW; bw *= 2)
        ack_round(bw, RTT, 3 * BDP, RTT);
    tcp_bbr_state b;
    for (int i = 0; i < 4; i++)
        b = ack_round(BW, RTT, 3 * BDP, RTT);
    b = ack_round(BW, RTT, BDP, RTT / 10);
    assert_int_equal(b.mode, 2);
}

/* Each phase lasts a min RTT: the eight gains in order, 5/4 then 3/4 then
 * six of 1, round and round. */
static void probe_bw_cycle(void **state)
{
    (void)state;
    to_probe_bw();
    tcp_bbr_state b;
    assert_true(tcp_bbr_info(&tp, &b));
    static const uint32_t gains[8] = {320, 192, 256, 256, 256, 256, 256, 256};
    uint8_t idx = b.cycle_idx;
    assert_int_equal(b.pacing_gain, gains[idx]);
    /* less than a min RTT: the phase stays */
    b = ack_round(BW, RTT, BDP, RTT / 2);
    assert_int_equal(b.cycle_idx, idx);
    for (int i = 0; i < 16; i++) {
        /* probing (5/4) ends with in flight at 5/4 BDP; the others after
         * a min RTT */
        b = ack_round(BW, RTT, BDP * 5 / 4 + MSS, RTT + MS);
        idx = (uint8_t)((idx + 1) % 8);
        assert_int_equal(b.cycle_idx, idx);
        assert_int_equal(b.pacing_gain, gains[idx]);
        assert_int_equal(b.cwnd_gain, 512);
    }
    /* the 5/4 phase does not end before the queue is there (no loss) */
    while (b.cycle_idx != 0)
        b = ack_round(BW, RTT, BDP, RTT + MS);
    b = ack_round(BW, RTT, BDP, RTT + MS);
    assert_int_equal(b.cycle_idx, 0);
    b = ack_round(BW, RTT, BDP * 5 / 4 + MSS, RTT / 10);
    assert_int_equal(b.cycle_idx, 1);
}

/* Ten seconds without an RTT as low as the minimum: PROBE_RTT, cwnd of
 * four segments; once in flight is down to it, 200 ms and a round, then
 * back to PROBE_BW with the window from before and the new minimum. */
static void probe_rtt_after_10s(void **state)
{
    (void)state;
    to_probe_bw();
    tcp_bbr_state b;
    synack_time_t start = now;
    uint32_t before = tp.cwnd;
    do {
        b = ack_round(BW, RTT + 20 * MS, BDP, RTT);
        if (now - start < 9 * SYNACK_SEC)
            assert_int_equal(b.mode, 2);
    } while (b.mode != 3 && now - start < 12 * SYNACK_SEC);
    assert_int_equal(b.mode, 3);
    assert_in_range(now - start, 9 * SYNACK_SEC, 11 * SYNACK_SEC);
    assert_true(tp.cwnd <= 4 * MSS);
    assert_int_equal(b.pacing_gain, 256);
    /* in flight still high: PROBE_RTT waits */
    b = ack_round(BW, RTT + 20 * MS, BDP, 300 * MS);
    assert_int_equal(b.mode, 3);
    /* down to four segments: 200 ms from here (and a round) */
    b = ack_round(BW, RTT + 20 * MS, 4 * MSS, 10 * MS);
    assert_int_equal(b.mode, 3);
    b = ack_round(BW, RTT + 20 * MS, 4 * MSS, 100 * MS);
    assert_int_equal(b.mode, 3);
    assert_true(tp.cwnd <= 4 * MSS);
    b = ack_round(BW, RTT + 20 * MS, 4 * MSS, 110 * MS);
    assert_int_equal(b.mode, 2);
    assert_true(tp.cwnd >= before);
    assert_int_equal(b.min_rtt, RTT + 20 * MS);
}

/* A loss is not a congestion signal: recovery keeps cwnd at what is in
 * flight plus what the ACK delivered (packet conservation, one round),
 * less the newly lost; the window from before comes back at its end. */
static void recovery_conserves(void **state)
{
    (void)state;
    to_probe_bw();
    for (int i = 0; i < 50; i++)
        ack_round(BW, RTT, BDP, RTT / 10);
    uint32_t before = tp.cwnd;
    assert_true(before >= 2 * BDP);
    /* as tcp_cc_enter_recovery: ssthresh first (BBR keeps it) */
    uint32_t ss = tp.ssthresh;
    assert_int_equal(tp.cc->ssthresh(&tp, now), ss);
    tp.ca_state = CA_RECOVERY;
    tcp_rate_sample rs;
    memset(&rs, 0, sizeof(rs));
    rs.acked_sacked = 2 * MSS;
    rs.losses = MSS;
    rs.prior_delivered = tp.delivered - 1; /* not a new round */
    tp.delivered += 2 * MSS;
    set_inflight(150 * MSS);
    tp.cc->cong_control(&tp, &rs, now);
    assert_int_equal(tp.cwnd, 152 * MSS); /* in flight + delivered */
    /* lower in flight: the window follows (conservation), not halved */
    rs.losses = 0;
    set_inflight(100 * MSS);
    tp.delivered += 2 * MSS;
    tp.cc->cong_control(&tp, &rs, now);
    assert_int_equal(tp.cwnd, 152 * MSS);
    /* recovery over: the window from before (as far as the model's
     * target, twice the BDP and some) */
    tp.ca_state = CA_OPEN;
    tp.delivered += 2 * MSS;
    tp.cc->cong_control(&tp, &rs, now);
    assert_true(tp.cwnd >= 2 * BDP);
}

/* The pacing rate: the gain times the bandwidth, less 1%; before a
 * sample, 2/ln 2 x cwnd / SRTT; never below four segments per min RTT
 * (a bandwidth measured on a trickle must not stall a later burst). */
static void pacing_rate(void **state)
{
    (void)state;
    init_bbr();
    /* 2.885 x 10000 B / 100 ms x 0.99 */
    assert_in_range(tp.pacing_rate, 285000, 286000);
    to_probe_bw();
    tcp_bbr_state b;
    assert_true(tcp_bbr_info(&tp, &b));
    uint64_t want = (uint64_t)BW * b.pacing_gain / 256 * 99 / 100;
    assert_in_range(tp.pacing_rate, want - 100, want + 100);
    /* a trickle: 100 B/s for long enough to be the filter's best */
    init_bbr();
    for (int i = 0; i < 30; i++)
        ack_round(100, RTT, 2 * MSS, RTT);
    assert_true(tcp_bbr_info(&tp, &b));
    assert_true(b.full_bw);
    assert_true(b.bw <= 100);
    assert_int_equal(tp.pacing_rate, 4 * MSS * 10); /* 4 MSS / 100 ms */
}

/* The module is found by name; the others report no BBR state. */
static void lookup(void **state)
{
    (void)state;
    assert_non_null(tcp_cc_find("bbr"));
    assert_string_equal(tcp_cc_find("bbr")->name, "bbr");
    bool listed = false;
    for (size_t i = 0; tcp_cc_name(i); i++)
        listed |= strcmp(tcp_cc_name(i), "bbr") == 0;
    assert_true(listed);
    tcb c;
    memset(&c, 0, sizeof(c));
    c.cc = tcp_cc_find("cubic");
    tcp_bbr_state b;
    assert_false(tcp_bbr_info(&c, &b));
    assert_null(tcp_cc_find("cubic")->cong_control);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(startup_drain_probe_bw),
        cmocka_unit_test(probe_bw_cycle),
        cmocka_unit_test(probe_rtt_after_10s),
        cmocka_unit_test(recovery_conserves),
        cmocka_unit_test(pacing_rate),
        cmocka_unit_test(lookup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
