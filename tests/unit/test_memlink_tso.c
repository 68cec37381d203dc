/*
 * The in-memory link's MTU and TCP segmentation offload (link.mtu,
 * link.tso): a TCP/IPv4 frame over the MTU is cut into segments whose
 * headers, checksums, sequence numbers and flags are what a sender of
 * MSS-sized segments would have put there; anything else over the MTU is
 * dropped; 64 KiB frames cross a link without MTU.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <synack/dev.h>

#include "core/wire.h"

#define MAXF (65535 + 14)
#define SRC_IP 0x0a000001u
#define DST_IP 0x0a000002u

struct rx {
    int n;
    size_t len[128];
    uint8_t *f[128];
};

static void on_rx(void *ctx, const uint8_t *f, size_t len, synack_time_t now)
{
    (void)now;
    struct rx *r = ctx;
    assert_true(r->n < 128);
    r->f[r->n] = malloc(len);
    memcpy(r->f[r->n], f, len);
    r->len[r->n++] = len;
}

static void rx_free(struct rx *r)
{
    for (int i = 0; i < r->n; i++)
        free(r->f[i]);
    r->n = 0;
}

static const uint8_t MAC_A[6] = {2, 0, 0, 0, 0, 1}, MAC_B[6] = {2, 0, 0, 0, 0, 2};

/* A TCP/IPv4 frame with timestamps, `plen` bytes of payload (byte i is
 * (uint8_t)(i * 7 + 1)), the given flags. Returns its length. */
static size_t mk_tcp(uint8_t *f, size_t plen, uint8_t flags, uint32_t seq)
{
    wire_eth eh = {.type = WIRE_ETHERTYPE_IPV4};
    memcpy(eh.dst, MAC_B, 6);
    memcpy(eh.src, MAC_A, 6);
    wire_eth_emit(f, &eh);
    wire_tcp th;
    memset(&th, 0, sizeof th);
    th.sport = 40000;
    th.dport = 80;
    th.seq = seq;
    th.ack = 12345;
    th.flags = flags;
    th.wnd = 1000;
    th.has_ts = 1;
    th.tsval = 77;
    th.tsecr = 66;
    uint8_t *tcp = f + 34;
    size_t hl = wire_tcp_emit(tcp, &th);
    for (size_t i = 0; i < plen; i++)
        tcp[hl + i] = (uint8_t)(i * 7 + 1);
    wire_tcp_set_csum(tcp, hl + plen, SRC_IP, DST_IP);
    wire_ipv4 ih = {.hlen = 20, .total_len = (uint16_t)(20 + hl + plen),
                    .id = 0xfffe, .frag = WIRE_IP_DF, .ttl = 64,
                    .proto = WIRE_IPPROTO_TCP, .src = SRC_IP, .dst = DST_IP};
    wire_ipv4_emit(f + 14, &ih);
    return 34 + hl + plen;
}

static void setup(synack_link **l, synack_dev **a, synack_dev **b,
                  struct rx *r, uint32_t mtu, int tso)
{
    synack_link_config c;
    synack_link_config_init(&c);
    c.mtu = mtu;
    c.tso = tso;
    assert_int_equal(synack_link_new(&c, l), 0);
    assert_int_equal(synack_link_port(*l, a), 0);
    assert_int_equal(synack_link_port(*l, b), 0);
    synack_dev_set_rx(*b, on_rx, r);
    memset(r, 0, sizeof *r);
}

static void teardown(synack_link *l, synack_dev *a, synack_dev *b,
                     struct rx *r)
{
    rx_free(r);
    synack_dev_destroy(a);
    synack_dev_destroy(b);
    synack_link_del(l);
}

static void test_tso_cut(void **state)
{
    (void)state;
    synack_link *l;
    synack_dev *a, *b;
    struct rx r;
    setup(&l, &a, &b, &r, 1500, 1);
    uint8_t *f = malloc(MAXF);
    const size_t mss = 1500 - 20 - 32, plen = 10 * mss + 100;
    const uint8_t flags = SYNACK_TH_ACK | SYNACK_TH_PSH | SYNACK_TH_FIN | 0x80;
    size_t len = mk_tcp(f, plen, flags, 0xfffff000u); /* seq wraps */
    assert_int_equal(synack_dev_transmit(a, f, len, 0), 0);
    assert_int_equal(synack_dev_poll(b, 0), 11);
    size_t got = 0;
    for (int i = 0; i < r.n; i++) {
        wire_eth eh;
        wire_ipv4 ih;
        wire_tcp th;
        assert_int_equal(wire_eth_parse(r.f[i], r.len[i], &eh), 0);
        assert_int_equal(wire_ipv4_parse(r.f[i] + 14, r.len[i] - 14, &ih), 0);
        assert_true(ih.total_len <= 1500);
        assert_int_equal(ih.id, (uint16_t)(0xfffe + i));
        assert_int_equal(ih.frag, WIRE_IP_DF);
        size_t tl = ih.total_len - 20u;
        assert_int_equal(wire_tcp_parse(r.f[i] + 34, tl, SRC_IP, DST_IP, &th),
                         0); /* checksum included */
        size_t n = tl - th.hlen;
        assert_int_equal(n, i < 10 ? mss : 100);
        assert_int_equal(th.seq, 0xfffff000u + (uint32_t)got);
        assert_int_equal(th.ack, 12345);
        assert_true(th.has_ts && th.tsval == 77 && th.tsecr == 66);
        uint8_t want = SYNACK_TH_ACK;
        if (i == 0)
            want |= 0x80; /* CWR only on the first */
        if (i == 10)
            want |= SYNACK_TH_PSH | SYNACK_TH_FIN;
        assert_int_equal(th.flags, want);
        for (size_t k = 0; k < n; k++)
            if (r.f[i][34 + th.hlen + k] != (uint8_t)((got + k) * 7 + 1))
                fail_msg("segment %d byte %zu wrong", i, k);
        got += n;
    }
    assert_int_equal(got, plen);
    synack_link_stats s;
    synack_link_get_stats(l, &s);
    assert_int_equal(s.tso_frames, 1);
    assert_int_equal(s.tso_segments, 11);
    assert_int_equal(s.sent, 11);
    assert_int_equal(s.too_big, 0);
    free(f);
    teardown(l, a, b, &r);
}

static void test_mtu_drops(void **state)
{
    (void)state;
    synack_link *l;
    synack_dev *a, *b;
    struct rx r;
    uint8_t *f = malloc(MAXF);
    /* without tso: over the MTU is dropped, up to it passes */
    setup(&l, &a, &b, &r, 1500, 0);
    size_t len = mk_tcp(f, 1500 - 52 + 1, SYNACK_TH_ACK, 1);
    assert_int_equal(synack_dev_transmit(a, f, len, 0), -SYNACK_EMSGSIZE);
    len = mk_tcp(f, 1500 - 52, SYNACK_TH_ACK, 1);
    assert_int_equal(synack_dev_transmit(a, f, len, 0), 0);
    assert_int_equal(synack_dev_poll(b, 0), 1);
    assert_int_equal(r.len[0], 1514);
    synack_link_stats s;
    synack_link_get_stats(l, &s);
    assert_int_equal(s.too_big, 1);
    teardown(l, a, b, &r);
    /* with tso: a frame that is not TCP/IPv4 is still dropped */
    setup(&l, &a, &b, &r, 1500, 1);
    len = mk_tcp(f, 3000, SYNACK_TH_ACK, 1);
    f[14 + 9] = 17; /* UDP */
    assert_int_equal(synack_dev_transmit(a, f, len, 0), -SYNACK_EMSGSIZE);
    assert_int_equal(synack_dev_poll(b, 0), 0);
    teardown(l, a, b, &r);
    /* config: an MTU above 65535 is refused */
    synack_link_config c;
    synack_link_config_init(&c);
    c.mtu = 65536;
    assert_int_equal(synack_link_new(&c, &l), -SYNACK_EINVAL);
    free(f);
}

static void test_64k_frames(void **state)
{
    (void)state;
    synack_link *l;
    synack_dev *a, *b;
    struct rx r;
    uint8_t *f = malloc(MAXF);
    setup(&l, &a, &b, &r, 0, 0);
    for (int i = 0; i < 100; i++) { /* pooled buffers reused */
        size_t len = mk_tcp(f, 65535 - 52, SYNACK_TH_ACK, (uint32_t)i);
        assert_int_equal(len, MAXF);
        assert_int_equal(synack_dev_transmit(a, f, len, 0), 0);
        assert_int_equal(synack_dev_poll(b, 0), 1);
        assert_int_equal(r.len[0], MAXF);
        assert_memory_equal(r.f[0], f, MAXF);
        rx_free(&r);
    }
    assert_int_equal(synack_dev_transmit(a, f, MAXF + 1, 0), -SYNACK_EMSGSIZE);
    free(f);
    teardown(l, a, b, &r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tso_cut),
        cmocka_unit_test(test_mtu_drops),
        cmocka_unit_test(test_64k_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
