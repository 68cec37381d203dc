/*
 * Deterministic simulation (issue 2, acceptance 3): bulk transfers between
 * two stacks over the in-memory link, byte-exact, under loss, reordering,
 * duplication, corruption and a rate/queue limit, for many seeds each.
 *
 * The file is built several times with a different SIM_GROUP so that ctest
 * can run the groups in parallel:
 *   1 clean (100 MiB, fixture self-tests), 2 loss, 3 reorder, 4 dup,
 *   5 corruption, rate limit, mixed impairments, big and small buffers,
 *   6 two-way transfers with half-close, slow reader.
 *
 * Environment:
 *   SYNACK_SIM_SEEDS   seeds per configuration (default 300; the few long
 *                      runs, 1 x 100 MiB and 5 x 10 MiB, keep their count)
 *   SYNACK_SIM_SEED    run only this seed (to reproduce a failure)
 *   SYNACK_SIM_PCAP    with SYNACK_SIM_SEED: record A's port to this file
 *   SYNACK_SIM_TRACE   with SYNACK_SIM_SEED: print every trace event
 *   SYNACK_SIM_SHOW    failing runs whose messages are shown (default 5)
 *   SYNACK_SIM_TEST    run only the tests matching this (cmocka filter)
 * e.g. SYNACK_SIM_TEST=test_small_buffers SYNACK_SIM_SEED=9 \
 *      SYNACK_SIM_TRACE=1 ./test_sim_misc 2>trace.txt
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "sim/simnet.h"

#ifndef SIM_GROUP
#define SIM_GROUP 0 /* all */
#endif

#define MiB (1024u * 1024u)
/* Each group uses some of the tests. */
#define SIM_MAYBE_UNUSED __attribute__((unused))
/* Seeds per configuration: issue 5 asks for at least 300 per scenario in
 * CI, in both builds (about 25 s of CPU here, 100 s under ASan+UBSan). */
#define DEFAULT_SEEDS 300
#define MAX_SHOWN_FAILURES 5 /* SYNACK_SIM_SHOW overrides */

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void link_base(synack_link_config *c)
{
    synack_link_config_init(c);
    c->delay = 5 * SYNACK_MSEC; /* one way: 10 ms round trip */
}

typedef struct batch {
    unsigned runs, passed;
    uint64_t retrans_a, retrans_b;
    synack_time_t tmin, tmax; /* transfer time (B reads EOF) */
    synack_link_stats ls;     /* summed */
    uint64_t drops[SYNACK__DROP_COUNT]; /* A + B, summed */
    uint32_t edges[SYNACK__STATE_COUNT]; /* union over the runs */
    double wall;
} batch;

/* Run `label` for every seed; print the summary line; fail the test with
 * the first failures if any run failed. */
static void run_batch_p(const char *label, const simnet_params *base,
                        unsigned dflt_seeds, batch *out)
{
    const synack_link_config *lc = &base->link;
    uint64_t nbytes = base->nbytes;
    /* the few long runs (fewer than 10 seeds) keep their count */
    unsigned nseeds =
        dflt_seeds >= 10 ? simnet_seed_count(dflt_seeds) : dflt_seeds;
    uint64_t first = 1;
    const char *only = getenv("SYNACK_SIM_SEED");
    if (only && *only) {
        first = strtoull(only, NULL, 10);
        nseeds = 1;
    }
    batch b;
    memset(&b, 0, sizeof b);
    b.tmin = SYNACK_TIME_NEVER;
    char *fails = NULL;
    size_t fails_len = 0;
    unsigned shown = 0, max_shown = MAX_SHOWN_FAILURES;
    const char *show = getenv("SYNACK_SIM_SHOW");
    if (show && *show)
        max_shown = (unsigned)strtoul(show, NULL, 10);
    double t0 = wall_now();
    for (uint64_t seed = first; seed < first + nseeds; seed++) {
        simnet_params p = *base;
        p.seed = seed;
        p.label = label;
        if (only && *only) {
            p.pcap_path = getenv("SYNACK_SIM_PCAP");
            p.verbose = getenv("SYNACK_SIM_TRACE") != NULL;
        }
        simnet_result r;
        simnet_run(&p, &r);
        b.runs++;
        b.retrans_a += r.sa.tcp_retrans;
        b.retrans_b += r.sb.tcp_retrans;
        b.ls.sent += r.ls.sent;
        b.ls.lost += r.ls.lost;
        b.ls.reordered += r.ls.reordered;
        b.ls.duplicated += r.ls.duplicated;
        b.ls.corrupted += r.ls.corrupted;
        b.ls.queue_drops += r.ls.queue_drops;
        for (int i = 0; i < SYNACK__DROP_COUNT; i++)
            b.drops[i] += r.sa.drops[i] + r.sb.drops[i];
        for (int i = 0; i < SYNACK__STATE_COUNT; i++)
            b.edges[i] |= r.edges[i];
        if (r.ok) {
            b.passed++;
            if (r.t_eof < b.tmin)
                b.tmin = r.t_eof;
            if (r.t_eof > b.tmax)
                b.tmax = r.t_eof;
        } else if (shown < max_shown) {
            shown++;
            size_t n = strlen(r.msg);
            char *f = realloc(fails, fails_len + n + 1);
            if (f) {
                fails = f;
                memcpy(fails + fails_len, r.msg, n + 1);
                fails_len += n;
            }
        }
    }
    b.wall = wall_now() - t0;
    char cfg[300];
    simnet_link_str(lc, cfg, sizeof cfg);
    if (base->rcvbuf || base->sndbuf) {
        size_t n = strlen(cfg);
        snprintf(cfg + n, sizeof cfg - n, " rcvbuf=%d sndbuf=%d", base->rcvbuf,
                 base->sndbuf);
    }
    if (base->bidir) {
        size_t n = strlen(cfg);
        snprintf(cfg + n, sizeof cfg - n, " two-way back=%llu",
                 (unsigned long long)base->nbytes_back);
    }
    if (base->read_rate_bps) {
        size_t n = strlen(cfg);
        snprintf(cfg + n, sizeof cfg - n, " read=%gMbit/s",
                 (double)base->read_rate_bps / 1e6);
    }
    if (base->mtu_a || base->mtu_b) {
        size_t n = strlen(cfg);
        snprintf(cfg + n, sizeof cfg - n, " mtu=%u/%u",
                 base->mtu_a ? base->mtu_a : 1500,
                 base->mtu_b ? base->mtu_b : 1500);
    }
    for (const char *const *o = base->sysctls; o && *o; o++) {
        size_t n = strlen(cfg);
        snprintf(cfg + n, sizeof cfg - n, " %s", *o);
    }
    printf("[sim] %-12s %s bytes=%llu seeds=%llu..%llu passed=%u/%u "
           "retrans=%llu (A %llu, B %llu) vtime=%.3fs..%.3fs wall=%.2fs\n",
           label, cfg, (unsigned long long)nbytes, (unsigned long long)first,
           (unsigned long long)(first + nseeds - 1), b.passed, b.runs,
           (unsigned long long)(b.retrans_a + b.retrans_b),
           (unsigned long long)b.retrans_a, (unsigned long long)b.retrans_b,
           b.passed ? (double)b.tmin / 1e9 : 0.0,
           b.passed ? (double)b.tmax / 1e9 : 0.0, b.wall);
    fflush(stdout);
    if (out)
        *out = b;
    if (b.passed != b.runs) {
        /* cmocka's print_error truncates long messages */
        fputs(fails ? fails : "", stdout);
        fflush(stdout);
        free(fails);
        fail_msg("%s: %u of %u runs failed (first %u shown above)", label,
                 b.runs - b.passed, b.runs, shown);
    }
    free(fails);
}

static void run_batch(const char *label, const synack_link_config *lc,
                      uint64_t nbytes, unsigned dflt_seeds,
                      const char *const *sysctls, batch *out)
{
    simnet_params p;
    simnet_params_init(&p);
    p.link = *lc;
    p.nbytes = nbytes;
    p.sysctls = sysctls;
    run_batch_p(label, &p, dflt_seeds, out);
}

/* ---- group 1: clean link, fixture self-tests ------------------------------ */

static SIM_MAYBE_UNUSED void test_pattern(void **state)
{
    (void)state;
    uint8_t a[100], b[100], c[100];
    simnet_pattern(7, 0, a, sizeof a);
    /* Any split gives the same bytes. */
    simnet_pattern(7, 0, b, 13);
    simnet_pattern(7, 13, b + 13, 87);
    assert_memory_equal(a, b, sizeof a);
    simnet_pattern(8, 0, c, sizeof c);
    assert_memory_not_equal(a, c, sizeof a);
}

static SIM_MAYBE_UNUSED void test_fixture_small(void **state)
{
    (void)state;
    simnet_params p;
    simnet_params_init(&p);
    p.link.delay = SYNACK_MSEC;
    p.nbytes = 100000;
    p.label = "small";
    simnet_result r;
    int ok = simnet_run(&p, &r);
    if (!ok)
        fail_msg("%s", r.msg);
    assert_int_equal(r.rcvd, 100000);
    assert_true(r.t_eof > 0 && r.t_end >= r.t_eof);
    /* TIME-WAIT lasts 60 s on A, the active closer. */
    assert_true(r.t_end - r.t_eof >= 59 * SYNACK_SEC);
    assert_int_equal(r.sa.conns_active, 1);
    assert_int_equal(r.sb.conns_passive, 1);
}

/* The fixture must notice when things go wrong: a run cut short by the
 * virtual-time limit fails with a message naming the seed. */
static SIM_MAYBE_UNUSED void test_fixture_detects_limit(void **state)
{
    (void)state;
    simnet_params p;
    simnet_params_init(&p);
    p.link.delay = 5 * SYNACK_MSEC;
    p.nbytes = 10 * MiB;
    p.seed = 42;
    p.vlimit = 200 * SYNACK_MSEC; /* 10 MiB need about 0.8 s */
    p.label = "limit";
    simnet_result r;
    assert_false(simnet_run(&p, &r));
    assert_non_null(strstr(r.msg, "seed=42"));
    assert_non_null(strstr(r.msg, "virtual-time limit"));
    assert_true(r.rcvd < p.nbytes);
}

/* An empty stream: connect, close, nothing else. */
static SIM_MAYBE_UNUSED void test_fixture_zero_bytes(void **state)
{
    (void)state;
    simnet_params p;
    simnet_params_init(&p);
    p.link.delay = 5 * SYNACK_MSEC;
    p.nbytes = 0;
    p.label = "zero";
    simnet_result r;
    if (!simnet_run(&p, &r))
        fail_msg("%s", r.msg);
}

static SIM_MAYBE_UNUSED void test_clean_100M(void **state)
{
    (void)state;
    synack_link_config lc;
    link_base(&lc);
    /* Three seeds of 100 MiB (one is the acceptance point; the others
     * vary the ISNs and ports). */
    batch b;
    run_batch("clean-100M", &lc, 100 * (uint64_t)MiB, 1, NULL, &b);
    assert_int_equal(b.retrans_a + b.retrans_b, 0);
}

/* The clean link over many seeds (ISNs, ports), 1 MiB each. */
static SIM_MAYBE_UNUSED void test_clean_sweep(void **state)
{
    (void)state;
    synack_link_config lc;
    link_base(&lc);
    batch b;
    run_batch("clean-1M", &lc, 1 * MiB, DEFAULT_SEEDS, NULL, &b);
    assert_int_equal(b.retrans_a + b.retrans_b, 0);
}

/* ---- groups 2..4: loss, reordering, duplication, 10 MiB x 50 seeds -------- */

static void impaired(const char *label, double loss, double reorder,
                     double dup)
{
    synack_link_config lc;
    link_base(&lc);
    lc.loss = loss;
    lc.reorder = reorder;
    lc.dup = dup;
    if (reorder > 0) {
        /* 100 Mbit/s spaces a sender's full frames 121 us apart, so the
         * 100 us jitter alone does not reorder them: the reorder
         * probability is what is tested. A held frame arrives 1-2 ms
         * late. */
        lc.jitter = 100 * SYNACK_USEC;
        lc.rate_bps = 100000000;
    }
    batch b;
    run_batch(label, &lc, 1 * MiB, DEFAULT_SEEDS, NULL, &b);
    if (loss > 0)
        assert_true(b.ls.lost > 0);
    if (reorder > 0)
        assert_true(b.ls.reordered > 0);
    if (dup > 0)
        assert_true(b.ls.duplicated > 0);
}

static SIM_MAYBE_UNUSED void test_loss_1(void **s) { (void)s; impaired("loss-1%", 0.01, 0, 0); }
static SIM_MAYBE_UNUSED void test_loss_5(void **s)
{
    (void)s;
    impaired("loss-5%", 0.05, 0, 0);
    /* and a few longer transfers: windows of many losses, long recovery */
    synack_link_config lc;
    link_base(&lc);
    lc.loss = 0.05;
    run_batch("loss-5%-10M", &lc, 10 * MiB, 5, NULL, NULL);
}
static SIM_MAYBE_UNUSED void test_loss_20(void **s) { (void)s; impaired("loss-20%", 0.20, 0, 0); }

/* Every impairment at once, on a 100 Mbit/s link with a 200-frame queue
 * (test_mixed, test_bbr_loss). */
static SIM_MAYBE_UNUSED void link_mixed(synack_link_config *lc)
{
    link_base(lc);
    lc->loss = 0.02;
    lc->reorder = 0.02;
    lc->dup = 0.02;
    lc->corrupt = 0.005;
    lc->jitter = 100 * SYNACK_USEC;
    lc->rate_bps = 100000000;
    lc->queue_limit = 200;
}

/* BBR (tcp_congestion_control=bbr, paced) under loss with 1 MiB windows --
 * hundreds of segments in flight, many losses per round, no window cut --
 * and under everything at once on a rate-limited link with a short
 * queue: byte-exact, invariants checked, like the others. */
static SIM_MAYBE_UNUSED void test_bbr_loss(void **state)
{
    (void)state;
    static const char *const bbr[] = {"tcp_congestion_control=bbr", NULL};
    simnet_params p;
    simnet_params_init(&p);
    link_base(&p.link);
    p.nbytes = 2 * MiB;
    p.rcvbuf = p.sndbuf = 1 << 20;
    p.sysctls = bbr;
    p.link.loss = 0.01;
    run_batch_p("bbr-loss-1%", &p, DEFAULT_SEEDS / 3, NULL);
    p.link.loss = 0.05;
    run_batch_p("bbr-loss-5%", &p, DEFAULT_SEEDS / 3, NULL);
    synack_link_config lc;
    link_mixed(&lc);
    run_batch("bbr-mixed", &lc, 1 * MiB, DEFAULT_SEEDS / 3, bbr, NULL);
}
static SIM_MAYBE_UNUSED void test_reorder_1(void **s) { (void)s; impaired("reorder-1%", 0, 0.01, 0); }
static SIM_MAYBE_UNUSED void test_reorder_5(void **s) { (void)s; impaired("reorder-5%", 0, 0.05, 0); }
static SIM_MAYBE_UNUSED void test_reorder_20(void **s) { (void)s; impaired("reorder-20%", 0, 0.20, 0); }
static SIM_MAYBE_UNUSED void test_dup_1(void **s) { (void)s; impaired("dup-1%", 0, 0, 0.01); }
static SIM_MAYBE_UNUSED void test_dup_5(void **s) { (void)s; impaired("dup-5%", 0, 0, 0.05); }
static SIM_MAYBE_UNUSED void test_dup_20(void **s) { (void)s; impaired("dup-20%", 0, 0, 0.20); }

/* ---- group 5: corruption, rate and queue limit, everything at once -------- */

/* 1% of frames get one bit flipped. Checksums must catch every one that
 * matters (the stream stays byte-exact), and they must be what drops them. */
static SIM_MAYBE_UNUSED void test_corrupt_1(void **state)
{
    (void)state;
    synack_link_config lc;
    link_base(&lc);
    lc.corrupt = 0.01;
    batch b;
    run_batch("corrupt-1%", &lc, 1 * MiB, DEFAULT_SEEDS, NULL, &b);
    assert_true(b.ls.corrupted > 0);
    uint64_t csum = b.drops[SYNACK_DROP_IP_BAD_CSUM] +
                    b.drops[SYNACK_DROP_TCP_BAD_CSUM];
    printf("[sim] corrupt-1%%: %llu frames corrupted; dropped IP_BAD_CSUM "
           "%llu, TCP_BAD_CSUM %llu, ETH_NOT_FOR_US %llu, ETH_UNKNOWN_TYPE "
           "%llu, IP_BAD_VERSION %llu, IP_BAD_HLEN %llu, IP_BAD_LEN %llu\n",
           (unsigned long long)b.ls.corrupted,
           (unsigned long long)b.drops[SYNACK_DROP_IP_BAD_CSUM],
           (unsigned long long)b.drops[SYNACK_DROP_TCP_BAD_CSUM],
           (unsigned long long)b.drops[SYNACK_DROP_ETH_NOT_FOR_US],
           (unsigned long long)b.drops[SYNACK_DROP_ETH_UNKNOWN_TYPE],
           (unsigned long long)b.drops[SYNACK_DROP_IP_BAD_VERSION],
           (unsigned long long)b.drops[SYNACK_DROP_IP_BAD_HLEN],
           (unsigned long long)b.drops[SYNACK_DROP_IP_BAD_LEN]);
    assert_true(csum > 0);
    /* Every drop of these kinds comes from a corrupted frame. */
    uint64_t bad = csum + b.drops[SYNACK_DROP_ETH_NOT_FOR_US] +
                   b.drops[SYNACK_DROP_ETH_UNKNOWN_TYPE] +
                   b.drops[SYNACK_DROP_IP_BAD_VERSION] +
                   b.drops[SYNACK_DROP_IP_BAD_HLEN] +
                   b.drops[SYNACK_DROP_IP_BAD_LEN] +
                   b.drops[SYNACK_DROP_TCP_BAD_OFF];
    assert_true(bad <= b.ls.corrupted);
    /* Most corrupted frames are caught by a checksum (the rest hit the
     * Ethernet header or padding). */
    assert_true(bad * 2 >= b.ls.corrupted);
}

/* 10 Mbit/s with a 20-frame queue: the sender overruns the queue in slow
 * start, and recovers from the tail drops. */
static SIM_MAYBE_UNUSED void test_rate_queue(void **state)
{
    (void)state;
    synack_link_config lc;
    link_base(&lc);
    lc.rate_bps = 10000000;
    lc.queue_limit = 20;
    /* Buffers well above the path's 12.5 KB bandwidth-delay product plus
     * the queue, so that slow start overruns the queue. */
    simnet_params p;
    simnet_params_init(&p);
    p.link = lc;
    p.nbytes = 1 * MiB;
    p.rcvbuf = p.sndbuf = 1 << 20;
    batch b;
    run_batch_p("rate-queue", &p, DEFAULT_SEEDS, &b);
    assert_true(b.ls.queue_drops > 0);
    /* 1 MiB at 10 Mbit/s takes at least 0.84 s. */
    assert_true(b.tmin >= 8 * SYNACK_SEC / 10);
    /* and 10 MiB: longer than slow start, many queue overruns */
    p.nbytes = 10 * MiB;
    run_batch_p("rate-queue-10M", &p, 5, &b);
    assert_true(b.ls.queue_drops > 0);
    assert_true(b.tmin >= 8 * SYNACK_SEC);
}

/* A bit of everything at once. */
static SIM_MAYBE_UNUSED void test_mixed(void **state)
{
    (void)state;
    synack_link_config lc;
    link_mixed(&lc);
    run_batch("mixed", &lc, 1 * MiB, DEFAULT_SEEDS, NULL, NULL);
    run_batch("mixed-10M", &lc, 10 * MiB, 5, NULL, NULL);
}

/* 1 MiB buffers: windows of hundreds of segments, so many losses per
 * window, NewReno partial ACKs and a full out-of-order queue. */
static void bigwin(const char *label, double loss, double reorder)
{
    simnet_params p;
    simnet_params_init(&p);
    link_base(&p.link);
    p.link.loss = loss;
    p.link.reorder = reorder;
    if (reorder > 0) {
        p.link.jitter = 100 * SYNACK_USEC;
        p.link.rate_bps = 100000000;
    }
    p.nbytes = 2 * MiB;
    p.rcvbuf = p.sndbuf = 1 << 20;
    run_batch_p(label, &p, DEFAULT_SEEDS, NULL);
}

static SIM_MAYBE_UNUSED void test_bigwin_loss_1(void **s)
{
    (void)s;
    bigwin("bigwin-loss-1%", 0.01, 0);
}
static SIM_MAYBE_UNUSED void test_bigwin_loss_5(void **s)
{
    (void)s;
    bigwin("bigwin-loss-5%", 0.05, 0);
}
static SIM_MAYBE_UNUSED void test_bigwin_reorder_5(void **s)
{
    (void)s;
    bigwin("bigwin-reord-5%", 0, 0.05);
}

/* ---- group 6: two-way transfers, half-close, slow reader ---------------- */

static int edge_seen(const batch *b, int from, int to)
{
    return (b->edges[from] >> to) & 1u;
}

static void print_edges(const char *label, const batch *b)
{
    printf("[sim] %s state edges taken:", label);
    for (int f = 0; f < SYNACK__STATE_COUNT; f++)
        for (int t = 0; t < SYNACK__STATE_COUNT; t++)
            if (edge_seen(b, f, t))
                printf(" %s>%s", synack_state_name(f), synack_state_name(t));
    printf("\n");
}

static void twoway(const char *label, double loss, uint64_t ab, uint64_t ba,
                   unsigned seeds, batch *out)
{
    simnet_params p;
    simnet_params_init(&p);
    link_base(&p.link);
    p.link.loss = loss;
    p.nbytes = ab;
    p.bidir = 1;
    p.nbytes_back = ba;
    run_batch_p(label, &p, seeds, out);
    print_edges(label, out);
}

/* Both ends send the same amount and shut down when done; under loss the
 * FINs sometimes cross (FIN-WAIT-1 -> CLOSING -> TIME-WAIT). */
static SIM_MAYBE_UNUSED void test_twoway_equal(void **state)
{
    (void)state;
    batch b;
    twoway("2way-equal", 0, 1 * MiB, 1 * MiB, DEFAULT_SEEDS, &b);
}

static SIM_MAYBE_UNUSED void test_twoway_equal_loss(void **state)
{
    (void)state;
    batch b;
    twoway("2way-eq-loss-2%", 0.02, 1 * MiB, 1 * MiB, DEFAULT_SEEDS, &b);
    /* some seeds close simultaneously */
    assert_true(edge_seen(&b, SYNACK_FIN_WAIT_1, SYNACK_CLOSING));
    assert_true(edge_seen(&b, SYNACK_CLOSING, SYNACK_TIME_WAIT));
}

/* B sends four times as much: A half-closed in FIN-WAIT-2 keeps receiving,
 * B sends on in CLOSE-WAIT. */
static SIM_MAYBE_UNUSED void test_twoway_asym_loss(void **state)
{
    (void)state;
    batch b;
    twoway("2way-asym-loss-5%", 0.05, 256 * 1024, 1 * MiB, DEFAULT_SEEDS,
           &b);
    assert_true(edge_seen(&b, SYNACK_FIN_WAIT_1, SYNACK_FIN_WAIT_2));
    assert_true(edge_seen(&b, SYNACK_ESTABLISHED, SYNACK_CLOSE_WAIT));
}

/* B shuts down at once: A sends its whole stream in CLOSE-WAIT. */
static SIM_MAYBE_UNUSED void test_twoway_peer_shut_first(void **state)
{
    (void)state;
    batch b;
    twoway("2way-b-shut", 0.02, 1 * MiB, 0, DEFAULT_SEEDS, &b);
    assert_true(edge_seen(&b, SYNACK_CLOSE_WAIT, SYNACK_LAST_ACK));
}

/* B reads at 2 Mbit/s with 64 KiB buffers: the window closes and opens again
 * all the time (zero-window probes, window updates), under 2% loss. */
static SIM_MAYBE_UNUSED void test_slow_reader(void **state)
{
    (void)state;
    simnet_params p;
    simnet_params_init(&p);
    link_base(&p.link);
    p.link.loss = 0.02;
    p.nbytes = 1 * MiB;
    p.read_rate_bps = 2000000;
    p.rcvbuf = p.sndbuf = 65536;
    batch b;
    run_batch_p("slow-reader", &p, DEFAULT_SEEDS, &b);
    /* 1 MiB at 2 Mbit/s takes at least 4 s */
    assert_true(b.tmin >= 4 * SYNACK_SEC);
}

/* The same with 4 KiB buffers and no window scaling, two-way. */
static SIM_MAYBE_UNUSED void test_slow_reader_small(void **state)
{
    (void)state;
    static const char *const opts[] = {"tcp_window_scaling=0",
                                       "tcp_rmem=4096 4096 4096",
                                       "tcp_wmem=4096 4096 4096", NULL};
    simnet_params p;
    simnet_params_init(&p);
    link_base(&p.link);
    p.link.loss = 0.05;
    p.nbytes = 256 * 1024;
    p.bidir = 1;
    p.nbytes_back = 64 * 1024;
    p.read_rate_bps = 500000;
    p.sysctls = opts;
    run_batch_p("slow-small-2way", &p, DEFAULT_SEEDS, NULL);
}

/* Two-way under every impairment at once, and under heavy loss. */
static SIM_MAYBE_UNUSED void test_twoway_mixed(void **state)
{
    (void)state;
    simnet_params p;
    simnet_params_init(&p);
    link_base(&p.link);
    p.link.loss = 0.02;
    p.link.reorder = 0.02;
    p.link.dup = 0.02;
    p.link.corrupt = 0.005;
    p.link.jitter = 100 * SYNACK_USEC;
    p.link.rate_bps = 100000000;
    p.link.queue_limit = 200;
    p.nbytes = 1 * MiB;
    p.bidir = 1;
    p.nbytes_back = 1 * MiB;
    batch b;
    run_batch_p("2way-mixed", &p, DEFAULT_SEEDS, &b);
    print_edges("2way-mixed", &b);

    simnet_params_init(&p);
    link_base(&p.link);
    p.link.loss = 0.20;
    p.nbytes = 256 * 1024;
    p.bidir = 1;
    p.nbytes_back = 256 * 1024;
    run_batch_p("2way-loss-20%", &p, DEFAULT_SEEDS, &b);
    print_edges("2way-loss-20%", &b);
}

/* Different MTUs: B's 576 (MSS 536) limits what A may send, and A's 9000
 * does not make B send more than 1500 allows; two-way, 2% loss. */
static SIM_MAYBE_UNUSED void test_mtu_mismatch(void **state)
{
    (void)state;
    simnet_params p;
    simnet_params_init(&p);
    link_base(&p.link);
    p.link.loss = 0.02;
    p.nbytes = 1 * MiB;
    p.bidir = 1;
    p.nbytes_back = 1 * MiB;
    p.mtu_a = 9000;
    p.mtu_b = 576;
    run_batch_p("mtu-9000/576", &p, DEFAULT_SEEDS, NULL);
    p.mtu_a = 1500;
    p.mtu_b = 9000;
    run_batch_p("mtu-1500/9000", &p, DEFAULT_SEEDS, NULL);
}

/* Small buffers (window scaling off, 8 KiB each way): many window updates,
 * zero windows and persist probes under loss. */
static SIM_MAYBE_UNUSED void test_small_buffers(void **state)
{
    (void)state;
    static const char *const opts[] = {"tcp_window_scaling=0",
                                       "tcp_rmem=4096 8192 8192",
                                       "tcp_wmem=4096 8192 8192", NULL};
    synack_link_config lc;
    link_base(&lc);
    lc.loss = 0.05;
    run_batch("small-buf", &lc, 1 * MiB, DEFAULT_SEEDS, opts, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#if SIM_GROUP == 0 || SIM_GROUP == 1
        cmocka_unit_test(test_pattern),
        cmocka_unit_test(test_fixture_small),
        cmocka_unit_test(test_fixture_detects_limit),
        cmocka_unit_test(test_fixture_zero_bytes),
        cmocka_unit_test(test_clean_100M),
        cmocka_unit_test(test_clean_sweep),
#endif
#if SIM_GROUP == 0 || SIM_GROUP == 2
        cmocka_unit_test(test_loss_1),
        cmocka_unit_test(test_loss_5),
        cmocka_unit_test(test_loss_20),
        cmocka_unit_test(test_bbr_loss),
#endif
#if SIM_GROUP == 0 || SIM_GROUP == 3
        cmocka_unit_test(test_reorder_1),
        cmocka_unit_test(test_reorder_5),
        cmocka_unit_test(test_reorder_20),
#endif
#if SIM_GROUP == 0 || SIM_GROUP == 4
        cmocka_unit_test(test_dup_1),
        cmocka_unit_test(test_dup_5),
        cmocka_unit_test(test_dup_20),
#endif
#if SIM_GROUP == 0 || SIM_GROUP == 5
        cmocka_unit_test(test_corrupt_1),
        cmocka_unit_test(test_rate_queue),
        cmocka_unit_test(test_mixed),
        cmocka_unit_test(test_bigwin_loss_1),
        cmocka_unit_test(test_bigwin_loss_5),
        cmocka_unit_test(test_bigwin_reorder_5),
        cmocka_unit_test(test_small_buffers),
#endif
#if SIM_GROUP == 0 || SIM_GROUP == 6
        cmocka_unit_test(test_twoway_equal),
        cmocka_unit_test(test_twoway_equal_loss),
        cmocka_unit_test(test_twoway_asym_loss),
        cmocka_unit_test(test_twoway_peer_shut_first),
        cmocka_unit_test(test_slow_reader),
        cmocka_unit_test(test_slow_reader_small),
        cmocka_unit_test(test_mtu_mismatch),
        cmocka_unit_test(test_twoway_mixed),
#endif
    };
    const char *filter = getenv("SYNACK_SIM_TEST");
    if (filter && *filter)
        cmocka_set_test_filter(filter);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
