/* Unit tests of the in-memory link: switching, impairments, determinism. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <synack/dev.h>

/* ---- fake endpoints --------------------------------------------------- */

#define MAXREC 200000

struct rec {
    uint32_t id;
    uint32_t len;
    synack_time_t at;
    uint8_t bytes[64]; /* head of the frame */
};

struct endpoint {
    synack_dev *dev;
    uint8_t mac[6];
    struct rec *recs;
    size_t n;
};

static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static void ep_rx(void *ctx, const uint8_t *f, size_t len, synack_time_t now)
{
    struct endpoint *ep = ctx;
    assert_true(ep->n < MAXREC);
    struct rec *r = &ep->recs[ep->n++];
    memset(r, 0, sizeof *r);
    r->len = (uint32_t)len;
    r->at = now;
    memcpy(r->bytes, f, len < sizeof r->bytes ? len : sizeof r->bytes);
    if (len >= 18)
        memcpy(&r->id, f + 14, 4);
}

static void ep_init(struct endpoint *ep, synack_link *l, uint8_t last)
{
    memset(ep, 0, sizeof *ep);
    assert_int_equal(synack_link_port(l, &ep->dev), 0);
    const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, last };
    memcpy(ep->mac, mac, 6);
    ep->recs = calloc(MAXREC, sizeof *ep->recs);
    assert_non_null(ep->recs);
    synack_dev_set_rx(ep->dev, ep_rx, ep);
}

static void ep_fini(struct endpoint *ep)
{
    synack_dev_destroy(ep->dev);
    free(ep->recs);
}

/* Frame: dst, src, EtherType 0x88b5 (local experimental), id, pad. */
static size_t mkframe(uint8_t *buf, size_t len, const uint8_t dst[6],
                      const uint8_t src[6], uint32_t id)
{
    assert_true(len >= 18);
    memcpy(buf, dst, 6);
    memcpy(buf + 6, src, 6);
    buf[12] = 0x88;
    buf[13] = 0xb5;
    memcpy(buf + 14, &id, 4);
    for (size_t i = 18; i < len; i++)
        buf[i] = (uint8_t)(id * 31 + i);
    return len;
}

static int send_id(struct endpoint *from, const uint8_t dst[6], uint32_t id,
                   size_t len, synack_time_t now)
{
    uint8_t buf[2048];
    mkframe(buf, len, dst, from->mac, id);
    return synack_dev_transmit(from->dev, buf, len, now);
}

/* Deliver everything pending on the given ports, jumping from deadline to
 * deadline (a tiny virtual-time loop over devices only). */
static void drain(struct endpoint **eps, size_t n)
{
    for (;;) {
        synack_time_t t = SYNACK_TIME_NEVER;
        for (size_t i = 0; i < n; i++) {
            synack_time_t d = synack_dev_next_deadline(eps[i]->dev);
            if (d < t)
                t = d;
        }
        if (t == SYNACK_TIME_NEVER)
            return;
        for (size_t i = 0; i < n; i++)
            synack_dev_poll(eps[i]->dev, t);
    }
}

static synack_link *mklink(const synack_link_config *cfg)
{
    synack_link *l = NULL;
    assert_int_equal(synack_link_new(cfg, &l), 0);
    return l;
}

/* ---- tests ----------------------------------------------------------------- */

static void test_config_validation(void **state)
{
    (void)state;
    synack_link_config c;
    synack_link *l = NULL;
    synack_link_config_init(&c);
    c.loss = 1.5;
    assert_int_equal(synack_link_new(&c, &l), -SYNACK_EINVAL);
    c.loss = NAN;
    assert_int_equal(synack_link_new(&c, &l), -SYNACK_EINVAL);
    c.loss = 0;
    c.dup = -0.1;
    assert_int_equal(synack_link_new(&c, &l), -SYNACK_EINVAL);
    c.dup = 0;
    c.loss_pattern_len = 2;
    assert_int_equal(synack_link_new(&c, &l), -SYNACK_EINVAL);
    assert_int_equal(synack_link_new(NULL, &l), -SYNACK_EINVAL);
    assert_null(l);
    c.loss_pattern_len = 0;
    assert_int_equal(synack_link_new(&c, &l), 0);
    synack_dev *d;
    assert_int_equal(synack_link_port(l, &d), 0);
    assert_int_equal(d->ops->fd(d), -1);
    assert_non_null(d->name);
    assert_int_equal(synack_dev_next_deadline(d), SYNACK_TIME_NEVER);
    synack_dev_destroy(d);
    synack_dev_destroy(NULL);
    synack_link_del(l);
    synack_link_del(NULL);
}

static void test_delivery_same_time_in_order(void **state)
{
    (void)state;
    synack_link_config c;
    synack_link_config_init(&c);
    synack_link *l = mklink(&c);
    struct endpoint a, b;
    ep_init(&a, l, 1);
    ep_init(&b, l, 2);

    const synack_time_t now = 5 * SYNACK_SEC;
    for (uint32_t i = 1; i <= 100; i++)
        assert_int_equal(send_id(&a, b.mac, i, 60 + i, now), 0);
    assert_int_equal(synack_dev_next_deadline(b.dev), now);
    assert_int_equal(synack_dev_next_deadline(a.dev), SYNACK_TIME_NEVER);
    assert_int_equal(synack_dev_poll(b.dev, now - 1), 0);
    assert_int_equal(synack_dev_poll(b.dev, now), 100);
    assert_int_equal(b.n, 100);
    for (uint32_t i = 0; i < 100; i++) {
        assert_int_equal(b.recs[i].id, i + 1);
        assert_int_equal(b.recs[i].len, 60 + i + 1);
        assert_int_equal(b.recs[i].at, now);
    }
    assert_int_equal(a.n, 0); /* never back to the sender */
    assert_int_equal(synack_dev_next_deadline(b.dev), SYNACK_TIME_NEVER);

    synack_link_stats s;
    synack_link_get_stats(l, &s);
    assert_int_equal(s.sent, 100);
    assert_int_equal(s.delivered, 100);
    assert_int_equal(
        s.lost + s.duplicated + s.corrupted + s.reordered + s.queue_drops, 0);
    ep_fini(&a);
    ep_fini(&b);
    synack_link_del(l);
}

static void test_payload_bytes_intact(void **state)
{
    (void)state;
    synack_link_config c;
    synack_link_config_init(&c);
    synack_link *l = mklink(&c);
    struct endpoint a, b;
    ep_init(&a, l, 1);
    ep_init(&b, l, 2);
    uint8_t buf[64];
    mkframe(buf, sizeof buf, b.mac, a.mac, 77);
    assert_int_equal(synack_dev_transmit(a.dev, buf, sizeof buf, 0), 0);
    buf[20] ^= 0xff; /* the link copied it: changing ours changes nothing */
    synack_dev_poll(b.dev, 0);
    assert_int_equal(b.n, 1);
    buf[20] ^= 0xff;
    assert_memory_equal(b.recs[0].bytes, buf, sizeof buf);
    ep_fini(&a);
    ep_fini(&b);
    synack_link_del(l);
}

static void test_switch_learning(void **state)
{
    (void)state;
    synack_link_config c;
    synack_link_config_init(&c);
    synack_link *l = mklink(&c);
    struct endpoint a, b, x;
    ep_init(&a, l, 1);
    ep_init(&b, l, 2);
    ep_init(&x, l, 3);
    struct endpoint *all[] = { &a, &b, &x };

    /* Unknown unicast floods to everyone but the sender. */
    assert_int_equal(send_id(&a, b.mac, 1, 60, 0), 0);
    drain(all, 3);
    assert_int_equal(a.n, 0);
    assert_int_equal(b.n, 1);
    assert_int_equal(x.n, 1);

    /* Broadcast from b: a and x, not b; b's MAC is learned. */
    assert_int_equal(send_id(&b, BCAST, 2, 60, 0), 0);
    drain(all, 3);
    assert_int_equal(a.n, 1);
    assert_int_equal(b.n, 1);
    assert_int_equal(x.n, 2);

    /* Now a -> b goes to b only; a's MAC is known too, so b -> a to a. */
    assert_int_equal(send_id(&a, b.mac, 3, 60, 0), 0);
    assert_int_equal(send_id(&b, a.mac, 4, 60, 0), 0);
    drain(all, 3);
    assert_int_equal(a.n, 2);
    assert_int_equal(a.recs[1].id, 4);
    assert_int_equal(b.n, 2);
    assert_int_equal(b.recs[1].id, 3);
    assert_int_equal(x.n, 2);

    /* A multicast destination floods as well. */
    const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };
    assert_int_equal(send_id(&x, mcast, 5, 60, 0), 0);
    drain(all, 3);
    assert_int_equal(a.n, 3);
    assert_int_equal(b.n, 3);
    assert_int_equal(x.n, 2);

    /* A frame to the sender's own learned MAC goes nowhere. */
    assert_int_equal(send_id(&a, a.mac, 6, 60, 0), 0);
    drain(all, 3);
    assert_int_equal(a.n + b.n + x.n, 8);

    /* b's station moves behind x's port: learned again from x's frame. */
    uint8_t buf[60];
    mkframe(buf, sizeof buf, BCAST, b.mac, 7);
    assert_int_equal(synack_dev_transmit(x.dev, buf, sizeof buf, 0), 0);
    drain(all, 3);
    assert_int_equal(a.n, 4);
    assert_int_equal(b.n, 4);
    assert_int_equal(send_id(&a, b.mac, 8, 60, 0), 0);
    drain(all, 3);
    assert_int_equal(b.n, 4);
    assert_int_equal(x.n, 3);
    assert_int_equal(x.recs[2].id, 8);
    ep_fini(&a);
    ep_fini(&b);
    ep_fini(&x);
    synack_link_del(l);
}

static void test_delay_and_jitter_bounds(void **state)
{
    (void)state;
    synack_link_config c;
    synack_link_config_init(&c);
    c.delay = 10 * SYNACK_MSEC;
    c.jitter = 2 * SYNACK_MSEC;
    c.seed = 42;
    synack_link *l = mklink(&c);
    struct endpoint a, b;
    ep_init(&a, l, 1);
    ep_init(&b, l, 2);
    struct endpoint *all[] = { &a, &b };
    const int n = 5000;
    synack_time_t sent_at[5001];
    for (int i = 1; i <= n; i++) {
        sent_at[i] = (synack_time_t)i * 100 * SYNACK_USEC;
        assert_int_equal(send_id(&a, b.mac, (uint32_t)i, 60, sent_at[i]), 0);
    }
    drain(all, 2);
    assert_int_equal(b.n, n);
    synack_time_t lo = SYNACK_TIME_NEVER, hi = 0;
    int overtaken = 0;
    for (int i = 0; i < n; i++) {
        synack_time_t lat = b.recs[i].at - sent_at[b.recs[i].id];
        if (lat < lo)
            lo = lat;
        if (lat > hi)
            hi = lat;
        if (i && b.recs[i].id < b.recs[i - 1].id)
            overtaken++;
        /* arrival times never go backwards */
        if (i)
            assert_true(b.recs[i].at >= b.recs[i - 1].at);
    }
    assert_true(lo >= c.delay);
    assert_true(hi <= c.delay + c.jitter);
    /* With 5000 samples the extremes get close to both ends. */
    assert_true(lo < c.delay + 50 * SYNACK_USEC);
    assert_true(hi > c.delay + c.jitter - 50 * SYNACK_USEC);
    /* 2 ms of jitter with 100 us spacing reorders some frames. */
    assert_true(overtaken > 0);
    ep_fini(&a);
    ep_fini(&b);
    synack_link_del(l);
}

static void test_loss_rate(void **state)
{
    (void)state;
    synack_link_config c;
    synack_link_config_init(&c);
    c.loss = 0.1;
    c.seed = 1234;
    synack_link *l = mklink(&c);
    struct endpoint a, b;
    ep_init(&a, l, 1);
    ep_init(&b, l, 2);
    const int n = 100000;
    for (int i = 1; i <= n; i++) {
        assert_int_equal(send_id(&a, b.mac, (uint32_t)i, 60, 0), 0);
        if (i % 1000 == 0)
            synack_dev_poll(b.dev, 0);
    }
    synack_dev_poll(b.dev, 0);
    synack_link_stats s;
    synack_link_get_stats(l, &s);
    assert_int_equal(s.sent, (uint64_t)n);
    assert_int_equal(s.lost + s.delivered, (uint64_t)n);
    assert_int_equal(b.n, s.delivered);
    /* Binomial sd = sqrt(n p (1-p)) ~ 95; allow 5 sd. */
    double sd = sqrt(n * 0.1 * 0.9);
    assert_true(fabs((double)s.lost - n * 0.1) < 5 * sd);
    /* Survivors keep their order. */
    for (size_t i = 1; i < b.n; i++)
        assert_true(b.recs[i].id > b.recs[i - 1].id);
    ep_fini(&a);
    ep_fini(&b);
    synack_link_del(l);
}

static void test_loss_pattern(void **state)
{
    (void)state;
    static const uint32_t pattern[] = { 3, 5 };
    synack_link_config c;
    synack_link_config_init(&c);
    c.loss_pattern = pattern;
    c.loss_pattern_len = 2;
    synack_link *l = mklink(&c);
    struct endpoint a, b;
    ep_init(&a, l, 1);
    ep_init(&b, l, 2);
    /* Indices count the whole link: frames from both sides share them. */
    assert_int_equal(send_id(&a, b.mac, 1, 60, 0), 0);
    assert_int_equal(send_id(&b, a.mac, 2, 60, 0), 0);
    assert_int_equal(send_id(&a, b.mac, 3, 60, 0), 0); /* dropped */
    assert_int_equal(send_id(&b, a.mac, 4, 60, 0), 0);
    for (uint32_t i = 5; i <= 10; i++) /* 5 dropped */
        assert_int_equal(send_id(&a, b.mac, i, 60, 0), 0);
    synack_dev_poll(a.dev, 0);
    synack_dev_poll(b.dev, 0);
    assert_int_equal(a.n, 2);
    assert_int_equal(a.recs[0].id, 2);
    assert_int_equal(a.recs[1].id, 4);
    const uint32_t want[] = { 1, 6, 7, 8, 9, 10 };
    assert_int_equal(b.n, 6);
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(b.recs[i].id, want[i]);
    synack_link_stats s;
    synack_link_get_stats(l, &s);
    assert_int_equal(s.lost, 2);
    ep_fini(&a);
    ep_fini(&b);
    synack_link_del(l);
}

static void test_duplication(void **state)
{
    (void)state;
    synack_link_config c;
    synack_link_config_init(&c);
    c.dup = 0.2;
    c.seed = 7;
    synack_link *l = mklink(&c);
    struct endpoint a, b;
    ep_init(&a, l, 1);
    ep_init(&b, l, 2);
    struct endpoint *all[] = { &a, &b };
    const int n = 10000;
    for (int i = 1; i <= n; i++)
        assert_int_equal(send_id(&a, b.mac, (uint32_t)i, 100,
                                 (synack_time_t)i * SYNACK_MSEC),
                         0);
    drain(all, 2);
    synack_link_stats s;
    synack_link_get_stats(l, &s);
    assert_int_equal(b.n, n + s.duplicated);
    assert_int_equal(s.delivered, b.n);
    double sd = sqrt(n * 0.2 * 0.8);
    assert_true(fabs((double)s.duplicated - n * 0.2) < 5 * sd);
    /* Each duplicate follows its original, byte for byte, 1 us later. */
    size_t dups = 0;
    for (size_t i = 1; i < b.n; i++) {
        if (b.recs[i].id == b.recs[i - 1].id) {
            dups++;
            assert_memory_equal(b.recs[i].bytes, b.recs[i - 1].bytes, 64);
            assert_int_equal(b.recs[i].at, b.recs[i - 1].at + SYNACK_USEC);
        }
    }
    assert_int_equal(dups, s.duplicated);
    ep_fini(&a);
    ep_fini(&b);
    synack_link_del(l);
}

static int popcount8(uint8_t x)
{
    int n = 0;
    for (; x; x &= (uint8_t)(x - 1))
        n++;
    return n;
}

static void test_corruption(void **state)
{
    (void)state;
    synack_link_config c;
    synack_link_config_init(&c);
    c.corrupt = 0.1;
    c.seed = 99;
    synack_link *l = mklink(&c);
    struct endpoint a, b;
    ep_init(&a, l, 1);
    ep_init(&b, l, 2);
    const int n = 20000;
    uint64_t bad = 0;
    for (int i = 1; i <= n; i++) {
        uint8_t ref[64];
        mkframe(ref, sizeof ref, b.mac, a.mac, (uint32_t)i);
        assert_int_equal(synack_dev_transmit(a.dev, ref, sizeof ref, 0), 0);
        size_t before = b.n;
        synack_dev_poll(b.dev, 0);
        assert_int_equal(b.n, before + 1); /* corrupt frames still arrive */
        int bits = 0;
        for (size_t k = 0; k < sizeof ref; k++)
            bits += popcount8(ref[k] ^ b.recs[b.n - 1].bytes[k]);
        assert_true(bits <= 1);
        bad += (uint64_t)bits;
        b.n = 0;
    }
    synack_link_stats s;
    synack_link_get_stats(l, &s);
    assert_int_equal(bad, s.corrupted);
    assert_int_equal(s.delivered, (uint64_t)n);
    double sd = sqrt(n * 0.1 * 0.9);
    assert_true(fabs((double)s.corrupted - n * 0.1) < 5 * sd);
    ep_fini(&a);
    ep_fini(&b);
    synack_link_del(l);
}

static void test_reorder(void **state)
{
    (void)state;
    synack_link_config c;
    synack_link_config_init(&c);
    c.reorder = 0.05;
    c.delay = 5 * SYNACK_MSEC;
    c.seed = 3;
    synack_link *l = mklink(&c);
    struct endpoint a, b;
    ep_init(&a, l, 1);
    ep_init(&b, l, 2);
    struct endpoint *all[] = { &a, &b };
    const int n = 2000;
    for (int i = 1; i <= n; i++)
        assert_int_equal(send_id(&a, b.mac, (uint32_t)i, 60,
                                 (synack_time_t)i * 100 * SYNACK_USEC),
                         0);
    drain(all, 2);
    synack_link_stats s;
    synack_link_get_stats(l, &s);
    assert_int_equal(b.n, n); /* late, not lost */
    assert_true(s.reordered > 0);
    /* Count frames that arrive after a frame sent later than them. */
    uint32_t maxid = 0;
    uint64_t late = 0;
    char *seen = calloc((size_t)n + 1, 1);
    assert_non_null(seen);
    for (size_t i = 0; i < b.n; i++) {
        uint32_t id = b.recs[i].id;
        assert_false(seen[id]);
        seen[id] = 1;
        if (id < maxid)
            late++;
        else
            maxid = id;
    }
    free(seen);
    /* Held >= 1 ms with frames every 100 us: every held frame is overtaken,
     * unless its follower was held too. */
    assert_true(late > 0);
    assert_true(late <= s.reordered);
    assert_true(late * 10 >= s.reordered * 8);
    ep_fini(&a);
    ep_fini(&b);
    synack_link_del(l);
}

static void test_rate_limit(void **state)
{
    (void)state;
    synack_link_config c;
    synack_link_config_init(&c);
    c.rate_bps = 12000000; /* 1500 bytes = 12000 bits = 1 ms */
    c.delay = 2 * SYNACK_MSEC;
    synack_link *l = mklink(&c);
    struct endpoint a, b;
    ep_init(&a, l, 1);
    ep_init(&b, l, 2);
    struct endpoint *all[] = { &a, &b };
    const synack_time_t t0 = SYNACK_SEC;
    for (uint32_t i = 1; i <= 10; i++)
        assert_int_equal(send_id(&a, b.mac, i, 1500, t0), 0);
    /* The other direction has its own serializer. */
    assert_int_equal(send_id(&b, a.mac, 100, 1500, t0), 0);
    drain(all, 2);
    assert_int_equal(b.n, 10);
    for (uint32_t i = 0; i < 10; i++) {
        assert_int_equal(b.recs[i].id, i + 1);
        assert_int_equal(b.recs[i].at, t0 + c.delay + (i + 1) * SYNACK_MSEC);
    }
    assert_int_equal(a.n, 1);
    assert_int_equal(a.recs[0].at, t0 + c.delay + SYNACK_MSEC);

    /* An idle serializer starts at once: 750 bytes = 0.5 ms. */
    const synack_time_t t1 = 2 * SYNACK_SEC;
    assert_int_equal(send_id(&a, b.mac, 11, 750, t1), 0);
    drain(all, 2);
    assert_int_equal(b.recs[10].at, t1 + c.delay + SYNACK_MSEC / 2);
    ep_fini(&a);
    ep_fini(&b);
    synack_link_del(l);
}

static void test_queue_limit(void **state)
{
    (void)state;
    synack_link_config c;
    synack_link_config_init(&c);
    c.rate_bps = 12000000;
    c.queue_limit = 4;
    synack_link *l = mklink(&c);
    struct endpoint a, b;
    ep_init(&a, l, 1);
    ep_init(&b, l, 2);
    struct endpoint *all[] = { &a, &b };
    /* One in service plus four waiting; the rest are dropped. */
    int ok = 0, dropped = 0;
    for (uint32_t i = 1; i <= 10; i++) {
        int rc = send_id(&a, b.mac, i, 1500, 0);
        if (rc == 0)
            ok++;
        else if (rc == -SYNACK_ENOBUFS)
            dropped++;
    }
    assert_int_equal(ok, 5);
    assert_int_equal(dropped, 5);
    synack_link_stats s;
    synack_link_get_stats(l, &s);
    assert_int_equal(s.queue_drops, 5);
    assert_int_equal(s.sent, 10);

    /* At 2.5 ms, frames 1-2 are out and 3 is in service: 2 waiting, so two
     * more fit. */
    const synack_time_t t = 2500 * SYNACK_USEC;
    assert_int_equal(send_id(&a, b.mac, 11, 1500, t), 0);
    assert_int_equal(send_id(&a, b.mac, 12, 1500, t), 0);
    assert_int_equal(send_id(&a, b.mac, 13, 1500, t), -SYNACK_ENOBUFS);
    drain(all, 2);
    const uint32_t want[] = { 1, 2, 3, 4, 5, 11, 12 };
    assert_int_equal(b.n, 7);
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(b.recs[i].id, want[i]);
        assert_int_equal(b.recs[i].at, (i + 1) * SYNACK_MSEC);
    }
    ep_fini(&a);
    ep_fini(&b);
    synack_link_del(l);
}

/* Run a fixed traffic mix over a fully impaired link and hash what arrives
 * (ids, bytes, times). */
static uint64_t impaired_run(uint64_t seed, synack_link_stats *st)
{
    synack_link_config c;
    synack_link_config_init(&c);
    c.loss = 0.05;
    c.reorder = 0.05;
    c.dup = 0.05;
    c.corrupt = 0.05;
    c.delay = 3 * SYNACK_MSEC;
    c.jitter = 500 * SYNACK_USEC;
    c.rate_bps = 100000000;
    c.queue_limit = 20;
    c.seed = seed;
    synack_link *l = mklink(&c);
    struct endpoint a, b;
    ep_init(&a, l, 1);
    ep_init(&b, l, 2);
    struct endpoint *all[] = { &a, &b };
    for (uint32_t i = 1; i <= 3000; i++) {
        synack_time_t now = (synack_time_t)i * 37 * SYNACK_USEC;
        send_id(&a, b.mac, i, 64 + i % 1400, now);
        if (i % 3 == 0)
            send_id(&b, a.mac, i, 64, now);
    }
    drain(all, 2);
    uint64_t h = 1469598103934665603u;
    struct endpoint *eps[] = { &a, &b };
    for (size_t e = 0; e < 2; e++) {
        for (size_t i = 0; i < eps[e]->n; i++) {
            const struct rec *r = &eps[e]->recs[i];
            const uint8_t *p = (const uint8_t *)r;
            for (size_t k = 0; k < sizeof *r; k++)
                h = (h ^ p[k]) * 1099511628211u;
        }
    }
    synack_link_get_stats(l, st);
    ep_fini(&a);
    ep_fini(&b);
    synack_link_del(l);
    return h;
}

static void test_determinism(void **state)
{
    (void)state;
    synack_link_stats s1, s2, s3;
    uint64_t h1 = impaired_run(1, &s1);
    uint64_t h2 = impaired_run(1, &s2);
    uint64_t h3 = impaired_run(2, &s3);
    assert_int_equal(h1, h2);
    assert_memory_equal(&s1, &s2, sizeof s1);
    assert_int_not_equal(h1, h3);
    /* Every impairment fired. */
    assert_true(s1.lost && s1.reordered && s1.duplicated && s1.corrupted);
    assert_true(s1.queue_drops > 0);
}

/* b echoes every frame back to a; a re-sends until a count is reached. The
 * callbacks transmit on the link while it is being polled, and flood a
 * burst so the queues of the very port being polled reallocate. */
struct pingpong {
    struct endpoint *self, *peer;
    int *budget;
    int burst;
};

static void pp_rx(void *ctx, const uint8_t *f, size_t len, synack_time_t now)
{
    struct pingpong *pp = ctx;
    ep_rx(pp->self, f, len, now);
    uint32_t id;
    memcpy(&id, f + 14, 4);
    if (*pp->budget <= 0 || id >= 1000000u)
        return;
    (*pp->budget)--;
    assert_int_equal(send_id(pp->self, pp->peer->mac, id + 1, len, now), 0);
    for (int i = 0; i < pp->burst; i++) /* broadcast: reaches self's peer */
        assert_int_equal(
            send_id(pp->self, BCAST, 1000000u + (uint32_t)i, 60, now), 0);
}

static void test_reentrant_transmit(void **state)
{
    (void)state;
    synack_link_config c;
    synack_link_config_init(&c);
    synack_link *l = mklink(&c);
    struct endpoint a, b;
    ep_init(&a, l, 1);
    ep_init(&b, l, 2);
    int budget = 50;
    struct pingpong pa = { &a, &b, &budget, 0 };
    struct pingpong pb = { &b, &a, &budget, 40 };
    synack_dev_set_rx(a.dev, pp_rx, &pa);
    synack_dev_set_rx(b.dev, pp_rx, &pb);
    assert_int_equal(send_id(&a, b.mac, 1, 60, 0), 0);

    /* Zero delay: everything is due at t=0, but frames queued by a
     * callback wait for the next poll, so each poll terminates. */
    int polls = 0;
    while (synack_dev_next_deadline(a.dev) == 0 ||
           synack_dev_next_deadline(b.dev) == 0) {
        synack_dev_poll(a.dev, 0);
        synack_dev_poll(b.dev, 0);
        assert_true(++polls < 1000);
    }
    assert_int_equal(budget, 0);
    synack_link_stats s;
    synack_link_get_stats(l, &s);
    assert_int_equal(s.delivered, a.n + b.n);
    /* b answered 25 times with 40 broadcasts each; a answered 25 times. */
    assert_int_equal(a.n, 25 + 25 * 40);
    assert_int_equal(b.n, 26);
    ep_fini(&a);
    ep_fini(&b);
    synack_link_del(l);
}

/* A callback that transmits, from another port, frames that come back to
 * the port being polled: they grow that port's queue (reallocating it)
 * while it is being drained, and must wait for the next poll. */
struct loopback {
    struct endpoint *self, *other;
    int sent;
};

static void lb_rx(void *ctx, const uint8_t *f, size_t len, synack_time_t now)
{
    struct loopback *lb = ctx;
    ep_rx(lb->self, f, len, now);
    for (int i = 0; i < 50 && lb->sent < 300; i++, lb->sent++)
        assert_int_equal(send_id(lb->other, lb->self->mac,
                                 500 + (uint32_t)lb->sent, 60, now),
                         0);
}

static void test_reentrant_same_port(void **state)
{
    (void)state;
    synack_link_config c;
    synack_link_config_init(&c);
    synack_link *l = mklink(&c);
    struct endpoint a, b;
    ep_init(&a, l, 1);
    ep_init(&b, l, 2);
    struct loopback lb = { &b, &a, 0 };
    synack_dev_set_rx(b.dev, lb_rx, &lb);
    assert_int_equal(send_id(&a, b.mac, 1, 60, 0), 0);
    assert_int_equal(send_id(&a, b.mac, 2, 60, 0), 0);
    assert_int_equal(synack_dev_poll(b.dev, 0), 2);
    assert_int_equal(synack_dev_next_deadline(b.dev), 0);
    assert_int_equal(synack_dev_poll(b.dev, 0), 100);
    assert_int_equal(synack_dev_poll(b.dev, 0), 200);
    assert_int_equal(synack_dev_poll(b.dev, 0), 0);
    assert_int_equal(b.n, 302);
    for (uint32_t i = 2; i < 302; i++) /* FIFO throughout */
        assert_int_equal(b.recs[i].id, 500 + i - 2);
    ep_fini(&a);
    ep_fini(&b);
    synack_link_del(l);
}

static void test_rx_null_drops(void **state)
{
    (void)state;
    synack_link_config c;
    synack_link_config_init(&c);
    synack_link *l = mklink(&c);
    struct endpoint a, b;
    ep_init(&a, l, 1);
    ep_init(&b, l, 2);
    synack_dev_set_rx(b.dev, NULL, NULL);
    assert_int_equal(send_id(&a, b.mac, 1, 60, 0), 0);
    assert_int_equal(synack_dev_poll(b.dev, 0), 0);
    assert_int_equal(synack_dev_next_deadline(b.dev), SYNACK_TIME_NEVER);
    ep_fini(&a);
    ep_fini(&b);
    synack_link_del(l);
}

static void test_port_destroy_and_link_del(void **state)
{
    (void)state;
    synack_link_config c;
    synack_link_config_init(&c);
    c.delay = SYNACK_MSEC;
    c.dup = 0.5;
    synack_link *l = mklink(&c);
    struct endpoint a, b, x;
    ep_init(&a, l, 1);
    ep_init(&b, l, 2);
    ep_init(&x, l, 3);
    assert_int_equal(send_id(&b, BCAST, 1, 60, 0), 0); /* learn b */
    for (uint32_t i = 0; i < 50; i++) /* pending frames on b at destroy */
        assert_int_equal(send_id(&a, b.mac, i, 1000, 0), 0);
    synack_dev_destroy(b.dev);
    free(b.recs);
    /* b's MAC is forgotten: frames to it flood to the remaining port. */
    assert_int_equal(send_id(&a, b.mac, 99, 60, 0), 0);
    synack_dev_poll(x.dev, SYNACK_SEC);
    assert_true(x.n >= 2);
    assert_int_equal(x.recs[x.n - 1].id, 99);
    /* Deleting the link with ports alive and frames pending: the ports are
     * cut off (transmit fails) and freed by their own destroy. */
    assert_int_equal(send_id(&x, a.mac, 5, 60, 0), 0);
    synack_link_del(l);
    assert_int_equal(send_id(&a, x.mac, 6, 60, 0), -SYNACK_ENOBUFS);
    assert_int_equal(synack_dev_poll(a.dev, SYNACK_SEC), 0);
    assert_int_equal(synack_dev_next_deadline(a.dev), SYNACK_TIME_NEVER);
    ep_fini(&a);
    ep_fini(&x);
}

static void test_odd_frames(void **state)
{
    (void)state;
    synack_link_config c;
    synack_link_config_init(&c);
    c.corrupt = 1.0;
    synack_link *l = mklink(&c);
    struct endpoint a, b;
    ep_init(&a, l, 1);
    ep_init(&b, l, 2);
    uint8_t big[4000];
    memset(big, 0xab, sizeof big);
    memcpy(big, b.mac, 6);
    memcpy(big + 6, a.mac, 6);
    assert_int_equal(synack_dev_transmit(a.dev, big, sizeof big, 0), 0);
    assert_int_equal(synack_dev_transmit(a.dev, big, 3, 0), 0); /* runt */
    assert_int_equal(synack_dev_transmit(a.dev, NULL, 0, 0), 0);
    assert_int_equal(synack_dev_transmit(a.dev, big, 70000, 0),
                     -SYNACK_EMSGSIZE);
    assert_int_equal(synack_dev_poll(b.dev, 0), 3);
    assert_int_equal(b.recs[0].len, sizeof big);
    assert_int_equal(b.recs[1].len, 3);
    assert_int_equal(b.recs[2].len, 0);
    synack_link_stats s;
    synack_link_get_stats(l, &s);
    assert_int_equal(s.corrupted, 2); /* the empty frame has no bit to flip */
    ep_fini(&a);
    ep_fini(&b);
    synack_link_del(l);
}


/* Loss bursts: every burst drops a run of consecutive frames whose length
 * is within [burst_len, burst_len_max]; bursts start at about burst_prob
 * per frame; all of it is counted in lost and burst_lost; an invalid
 * probability is refused. */
static void test_loss_burst(void **state)
{
    (void)state;
    synack_link_config c;
    synack_link_config_init(&c);
    c.burst_prob = 1.5;
    synack_link *bad = NULL;
    assert_int_equal(synack_link_new(&c, &bad), -SYNACK_EINVAL);
    c.burst_prob = 0.01;
    c.burst_len = 3;
    c.burst_len_max = 7;
    c.seed = 77;
    synack_link *l = mklink(&c);
    struct endpoint a, b;
    ep_init(&a, l, 1);
    ep_init(&b, l, 2);
    struct endpoint *all[] = { &a, &b };
    const uint32_t N = 100000;
    for (uint32_t i = 1; i <= N; i++)
        assert_int_equal(send_id(&a, b.mac, i, 60, 0), 0);
    drain(all, 2);
    synack_link_stats s;
    synack_link_get_stats(l, &s);
    assert_int_equal(s.sent, N);
    assert_int_equal(s.lost, s.burst_lost);
    assert_int_equal(s.delivered + s.lost, N);
    assert_int_equal(b.n, s.delivered);
    /* Gaps in the received ids are the bursts (a burst may start right
     * after another ends: then the gap is their sum). */
    uint64_t bursts = 0, missing = 0;
    uint32_t prev = 0, minrun = UINT32_MAX;
    for (size_t i = 0; i <= b.n; i++) {
        uint32_t id = i < b.n ? b.recs[i].id : N + 1;
        assert_true(id > prev);
        uint32_t gap = id - prev - 1;
        if (gap) {
            bursts++;
            missing += gap;
            if (gap < minrun)
                minrun = gap;
        }
        prev = id;
    }
    assert_int_equal(missing, s.burst_lost);
    assert_true(minrun >= 3);
    /* ~ N / (1/p + mean length 5) bursts: about 950 */
    assert_true(bursts > 700 && bursts < 1200);
    assert_true(s.burst_lost >= bursts * 3 && s.burst_lost <= bursts * 7 * 2);
    ep_fini(&a);
    ep_fini(&b);
    synack_link_del(l);

    /* burst_len alone: fixed length; 0 counts as 1 */
    synack_link_config_init(&c);
    c.burst_prob = 1.0;
    c.burst_len = 0;
    l = mklink(&c);
    ep_init(&a, l, 1);
    ep_init(&b, l, 2);
    for (uint32_t i = 1; i <= 10; i++)
        assert_int_equal(send_id(&a, b.mac, i, 60, 0), 0);
    drain(all, 2);
    assert_int_equal(b.n, 0);
    synack_link_get_stats(l, &s);
    assert_int_equal(s.burst_lost, 10);
    ep_fini(&a);
    ep_fini(&b);
    synack_link_del(l);
}

/* Link flap: frames transmitted while the link is down are lost (those
 * already on the wire still arrive); up again, frames flow; the PRNG is
 * not drawn, so a flap does not change the other impairments' sequence. */
static void test_link_down(void **state)
{
    (void)state;
    synack_link_config c;
    synack_link_config_init(&c);
    c.delay = 10 * SYNACK_MSEC;
    synack_link *l = mklink(&c);
    struct endpoint a, b;
    ep_init(&a, l, 1);
    ep_init(&b, l, 2);
    struct endpoint *all[] = { &a, &b };
    assert_false(synack_link_is_down(l));
    assert_int_equal(send_id(&a, b.mac, 1, 60, 0), 0); /* on the wire */
    synack_link_set_down(l, 1);
    assert_true(synack_link_is_down(l));
    synack_link_set_down(l, 1); /* still one flap */
    assert_int_equal(send_id(&a, b.mac, 2, 60, SYNACK_MSEC), 0);
    assert_int_equal(send_id(&b, a.mac, 3, 60, SYNACK_MSEC), 0);
    drain(all, 2);
    assert_int_equal(b.n, 1);
    assert_int_equal(b.recs[0].id, 1);
    assert_int_equal(b.recs[0].at, 10 * SYNACK_MSEC);
    assert_int_equal(a.n, 0);
    synack_link_set_down(l, 0);
    assert_int_equal(send_id(&a, b.mac, 4, 60, 20 * SYNACK_MSEC), 0);
    drain(all, 2);
    assert_int_equal(b.n, 2);
    assert_int_equal(b.recs[1].id, 4);
    synack_link_set_down(l, 1);
    synack_link_set_down(l, 0);
    synack_link_stats s;
    synack_link_get_stats(l, &s);
    assert_int_equal(s.down_lost, 2);
    assert_int_equal(s.lost, 2);
    assert_int_equal(s.flaps, 2);
    assert_int_equal(s.burst_lost, 0);
    ep_fini(&a);
    ep_fini(&b);
    synack_link_del(l);

    /* Same seed with random loss: a flap changes which frames are lost
     * only while it lasts. */
    uint32_t got[2][64];
    size_t ngot[2];
    for (int run = 0; run < 2; run++) {
        synack_link_config_init(&c);
        c.loss = 0.3;
        c.seed = 5;
        l = mklink(&c);
        ep_init(&a, l, 1);
        ep_init(&b, l, 2);
        for (uint32_t i = 1; i <= 60; i++) {
            if (run == 1)
                synack_link_set_down(l, i >= 20 && i < 30);
            assert_int_equal(send_id(&a, b.mac, i, 60, 0), 0);
        }
        drain(all, 2);
        ngot[run] = 0;
        for (size_t i = 0; i < b.n; i++)
            if (b.recs[i].id < 20 || b.recs[i].id >= 30)
                got[run][ngot[run]++] = b.recs[i].id;
        ep_fini(&a);
        ep_fini(&b);
        synack_link_del(l);
    }
    /* the frames before the flap are the same; after it the sequence
     * continues where it was (not the same frames, but as many draws) */
    size_t before0 = 0, before1 = 0;
    while (before0 < ngot[0] && got[0][before0] < 20)
        before0++;
    while (before1 < ngot[1] && got[1][before1] < 20)
        before1++;
    assert_int_equal(before0, before1);
    assert_memory_equal(got[0], got[1], before0 * sizeof got[0][0]);
    synack_link_set_down(NULL, 1);
    assert_false(synack_link_is_down(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_validation),
        cmocka_unit_test(test_delivery_same_time_in_order),
        cmocka_unit_test(test_payload_bytes_intact),
        cmocka_unit_test(test_switch_learning),
        cmocka_unit_test(test_delay_and_jitter_bounds),
        cmocka_unit_test(test_loss_rate),
        cmocka_unit_test(test_loss_pattern),
        cmocka_unit_test(test_duplication),
        cmocka_unit_test(test_corruption),
        cmocka_unit_test(test_reorder),
        cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_queue_limit),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_reentrant_transmit),
        cmocka_unit_test(test_reentrant_same_port),
        cmocka_unit_test(test_rx_null_drops),
        cmocka_unit_test(test_port_destroy_and_link_del),
        cmocka_unit_test(test_odd_frames),
        cmocka_unit_test(test_loss_burst),
        cmocka_unit_test(test_link_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
