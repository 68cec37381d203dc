/*
 * Large frames and segmentation offload, end to end over the in-memory
 * link (tests/sim/simnet.h checks byte-exact delivery, the state diagram,
 * memory and the core's invariants after every step):
 *  - a 64 KiB-frame link: both stacks with MTU 65535, so segments of up to
 *    65483 bytes of payload, clean and under loss;
 *  - GSO/TSO: MTU 1500 stacks with gso_max 65535 on a link that cuts
 *    frames at 1500 bytes itself: the stacks hand it packets of several MSS
 *    (the link counts them), every segment that arrives fits the MTU, and
 *    the stream is byte-exact, both ways, clean and under loss;
 *  - a peer whose MSS is smaller than ours: no large packet at all (the
 *    link's cut would not match the segments the peer accepts).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "sim/simnet.h"

#define MiB (1024u * 1024u)

static void run_seeds(const char *label, simnet_params *p, unsigned nseeds,
                      uint64_t *tso_frames, uint64_t *too_big)
{
    nseeds = simnet_seed_count(nseeds);
    for (unsigned seed = 1; seed <= nseeds; seed++) {
        simnet_result r;
        p->seed = seed;
        p->label = label;
        if (!simnet_run(p, &r))
            fail_msg("%s seed %u:\n%s", label, seed, r.msg);
        /* the link corrupts nothing here: every checksum must verify
         * (the fused copy-and-checksum on the send path, the link's cut) */
        if (!p->link.corrupt &&
            (r.sa.drops[SYNACK_DROP_TCP_BAD_CSUM] ||
             r.sb.drops[SYNACK_DROP_TCP_BAD_CSUM] ||
             r.sa.drops[SYNACK_DROP_IP_BAD_CSUM] ||
             r.sb.drops[SYNACK_DROP_IP_BAD_CSUM]))
            fail_msg("%s seed %u: checksum drops", label, seed);
        *tso_frames += r.ls.tso_frames;
        *too_big += r.ls.too_big;
    }
}

static void base(simnet_params *p)
{
    simnet_params_init(p);
    p->link.delay = 100 * SYNACK_USEC;
    p->rcvbuf = 4 * MiB;
    p->sndbuf = 4 * MiB;
}

static void test_64k_frame_link(void **state)
{
    (void)state;
    simnet_params p;
    uint64_t tso = 0, big = 0;
    base(&p);
    p.mtu_a = p.mtu_b = 65535;
    p.nbytes = 16 * MiB;
    run_seeds("mtu-65535", &p, 3, &tso, &big);
    p.nbytes = 4 * MiB;
    p.bidir = 1;
    p.nbytes_back = 4 * MiB;
    p.link.loss = 0.02;
    run_seeds("mtu-65535-loss-2%", &p, 10, &tso, &big);
    assert_int_equal(tso, 0);
    assert_int_equal(big, 0);
}

static void test_gso_tso_link(void **state)
{
    (void)state;
    simnet_params p;
    uint64_t tso = 0, big = 0;
    base(&p);
    p.gso_max = 65535;
    p.link.mtu = 1500;
    p.link.tso = 1;
    p.nbytes = 16 * MiB;
    run_seeds("gso", &p, 3, &tso, &big);
    assert_true(tso > 16 * MiB / 65535 / 2); /* large packets were sent */
    p.nbytes = 4 * MiB;
    p.bidir = 1;
    p.nbytes_back = 4 * MiB;
    p.link.loss = 0.02;
    run_seeds("gso-loss-2%", &p, 10, &tso, &big);
    p.link.loss = 0;
    p.link.reorder = 0.05;
    run_seeds("gso-reorder-5%", &p, 10, &tso, &big);
    assert_int_equal(big, 0);
}

/* Without TSO on the link, the same stacks' large packets are dropped:
 * the test above really depends on the link cutting them. */
/* Plain MTU 1500 with odd buffer sizes and odd writes: the send ring wraps
 * at odd offsets, where the fused copy-and-checksum must fall back. */
static void test_odd_ring_wraps(void **state)
{
    (void)state;
    simnet_params p;
    uint64_t tso = 0, big = 0;
    base(&p);
    p.sndbuf = 65537;
    p.rcvbuf = 100003;
    p.nbytes = 3 * MiB + 1;
    p.bidir = 1;
    p.nbytes_back = 1 * MiB + 3;
    run_seeds("odd-ring", &p, 5, &tso, &big);
    p.mtu_a = p.mtu_b = 65535;
    p.sndbuf = 300007;
    run_seeds("odd-ring-64k", &p, 5, &tso, &big);
}

static void test_gso_needs_the_link(void **state)
{
    (void)state;
    simnet_params p;
    simnet_result r;
    base(&p);
    p.gso_max = 65535;
    p.link.mtu = 1500;
    p.nbytes = 1 * MiB;
    p.vlimit = 60 * SYNACK_SEC;
    assert_false(simnet_run(&p, &r));
    assert_true(r.ls.too_big > 0);
}

static void test_gso_small_peer_mss(void **state)
{
    (void)state;
    simnet_params p;
    uint64_t tso = 0, big = 0;
    base(&p);
    p.gso_max = 65535;
    p.link.mtu = 1500;
    p.link.tso = 1;
    p.mtu_b = 576; /* B's MSS 536: A must not send what the link would cut
                      at 1500 */
    p.gso_a_only = 1;
    p.nbytes = 1 * MiB;
    p.bidir = 1;
    p.nbytes_back = 1 * MiB;
    run_seeds("gso-peer-mss-536", &p, 3, &tso, &big);
    assert_int_equal(tso, 0);
    assert_int_equal(big, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_64k_frame_link),
        cmocka_unit_test(test_gso_tso_link),
        cmocka_unit_test(test_odd_ring_wraps),
        cmocka_unit_test(test_gso_needs_the_link),
        cmocka_unit_test(test_gso_small_peer_mss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
