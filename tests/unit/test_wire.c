/*
 * Unit tests for the wire codec (src/core/wire.c).
 *
 * Every parse goes through a heap copy of exactly `len` bytes, so under ASan
 * a read past the end is reported rather than silently tolerated.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/wire.h"
#include "unit/testrand.h"

/* ---- helpers ------------------------------------------------------------ */


/* The textbook RFC 1071 loop: big-endian 16-bit words, odd byte padded. */
static uint16_t ref_csum(uint32_t init, const uint8_t *p, size_t len)
{
    uint64_t s = init;
    size_t i;

    for (i = 0; i + 1 < len; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        s += (uint32_t)p[len - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

static uint8_t *dup_exact(const uint8_t *p, size_t len)
{
    uint8_t *c = malloc(len ? len : 1);
    assert_non_null(c);
    if (len)
        memcpy(c, p, len);
    return c;
}

static int eth_parse_exact(const uint8_t *p, size_t len, wire_eth *out)
{
    uint8_t *c = dup_exact(p, len);
    int rc = wire_eth_parse(c, len, out);
    free(c);
    return rc;
}

static int arp_parse_exact(const uint8_t *p, size_t len, wire_arp *out)
{
    uint8_t *c = dup_exact(p, len);
    int rc = wire_arp_parse(c, len, out);
    free(c);
    return rc;
}

static int ipv4_parse_exact(const uint8_t *p, size_t len, wire_ipv4 *out)
{
    uint8_t *c = dup_exact(p, len);
    int rc = wire_ipv4_parse(c, len, out);
    free(c);
    return rc;
}

static int icmp_parse_exact(const uint8_t *p, size_t len,
                            wire_icmp_echo *out)
{
    uint8_t *c = dup_exact(p, len);
    int rc = wire_icmp_parse(c, len, out);
    free(c);
    return rc;
}

static int tcp_parse_exact(const uint8_t *p, size_t len, uint32_t src,
                           uint32_t dst, wire_tcp *out)
{
    uint8_t *c = dup_exact(p, len);
    int rc = wire_tcp_parse(c, len, src, dst, out);
    free(c);
    return rc;
}

/* Store a correct IPv4 header checksum for a header of hlen bytes. */
static void ipv4_fix_csum(uint8_t *p, size_t hlen)
{
    p[10] = p[11] = 0;
    wire_put16(p + 10, ref_csum(0, p, hlen));
}

/* ---- checksum ----------------------------------------------------------- */

static void test_csum_vs_reference(void **state)
{
    (void)state;
    static uint8_t buf[2000 + 8];
    uint64_t rng = 0x5eedc0ffee;

    for (size_t align = 0; align < 8; align++) {
        for (size_t len = 0; len <= 2000; len++) {
            uint32_t init = (len % 3 == 0) ? 0 : (uint32_t)rng_next(&rng);
            rng_fill(&rng, buf + align, len);
            uint16_t want = ref_csum(init, buf + align, len);
            uint16_t got = wire_csum_fold(wire_csum_add(init, buf + align,
                                                        len));
            if (got != want)
                fail_msg("align %zu len %zu init %#x: got %#06x want %#06x",
                         align, len, init, got, want);
        }
    }
}

static void test_csum_chained(void **state)
{
    (void)state;
    uint8_t buf[1501];
    uint64_t rng = 42;

    rng_fill(&rng, buf, sizeof(buf));
    uint16_t want = ref_csum(0, buf, sizeof(buf));
    for (size_t k = 0; k <= sizeof(buf) - 1; k += 2) {
        uint32_t s = wire_csum_add(0, buf, k);
        s = wire_csum_add(s, buf + k, sizeof(buf) - k);
        if (wire_csum_fold(s) != want)
            fail_msg("split at %zu: got %#06x want %#06x", k,
                     wire_csum_fold(s), want);
    }
    /* Three pieces at odd addresses. */
    uint32_t s = wire_csum_add(0, buf, 3 * 2);
    s = wire_csum_add(s, buf + 6, 501 * 2);
    s = wire_csum_add(s, buf + 6 + 1002, sizeof(buf) - 1008);
    assert_int_equal(wire_csum_fold(s), want);
}

static void test_csum_rfc1071_example(void **state)
{
    (void)state;
    /* RFC 1071 section 3: these words sum to ddf2 (folded). */
    const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    assert_int_equal(wire_csum_fold(wire_csum_add(0, b, sizeof(b))), 0x220d);
    /* Byte-order independence: any alignment gives the same answer. */
    uint8_t shifted[16];
    for (size_t a = 0; a < 8; a++) {
        memcpy(shifted + a, b, sizeof(b));
        assert_int_equal(wire_csum_fold(wire_csum_add(0, shifted + a, 8)),
                         0x220d);
    }
}

static void test_csum_edge_values(void **state)
{
    (void)state;
    const uint8_t zeros[2] = {0, 0};
    const uint8_t ones[2] = {0xff, 0xff};
    const uint8_t odd[1] = {0xab};

    assert_int_equal(wire_csum_fold(0), 0xffff);
    assert_int_equal(wire_csum_fold(wire_csum_add(0, zeros, 2)), 0xffff);
    assert_int_equal(wire_csum_fold(wire_csum_add(0, ones, 2)), 0x0000);
    assert_int_equal(wire_csum_fold(wire_csum_add(0, odd, 1)), 0x54ff);
    assert_int_equal(wire_csum_fold(wire_csum_add(0, odd, 0)), 0xffff);
    /* A nearly-full accumulator must carry, not wrap. */
    assert_int_equal(wire_csum_fold(wire_csum_add(0xffffffffu, ones, 2)),
                     ref_csum(0xffffffffu, ones, 2));
    assert_int_equal(wire_csum_fold(wire_csum_add(0xfffffffeu, odd, 1)),
                     ref_csum(0xfffffffeu, odd, 1));
    assert_int_equal(wire_csum_fold(0x0001fffeu), (uint16_t)~0xffffu);
    assert_int_equal(wire_csum_fold(0x12345678u), (uint16_t)~(0x1234 + 0x5678));
}

static void test_csum_all_ones_large(void **state)
{
    (void)state;
    /* 1 MiB of 0xff maximises every partial sum. */
    size_t n = (size_t)1 << 20;
    uint8_t *b = malloc(n + 1);
    assert_non_null(b);
    memset(b, 0xff, n + 1);
    assert_int_equal(wire_csum_fold(wire_csum_add(0, b, n)), ref_csum(0, b, n));
    assert_int_equal(wire_csum_fold(wire_csum_add(0, b + 1, n)),
                     ref_csum(0, b + 1, n));
    assert_int_equal(wire_csum_fold(wire_csum_add(0, b, n - 1)),
                     ref_csum(0, b, n - 1));
    free(b);
}

static void test_csum_pseudo(void **state)
{
    (void)state;
    uint64_t rng = 7;

    for (int i = 0; i < 1000; i++) {
        uint32_t src = (uint32_t)rng_next(&rng);
        uint32_t dst = (uint32_t)rng_next(&rng);
        uint8_t proto = (uint8_t)rng_next(&rng);
        uint16_t len = (uint16_t)rng_next(&rng);
        uint8_t ph[12];
        if (i == 0) {
            src = dst = 0xffffffffu;
            proto = 0xff;
            len = 0xffff;
        }
        wire_put32(ph, src);
        wire_put32(ph + 4, dst);
        ph[8] = 0;
        ph[9] = proto;
        wire_put16(ph + 10, len);
        assert_int_equal(wire_csum_fold(wire_csum_pseudo(src, dst, proto, len)),
                         ref_csum(0, ph, 12));
    }
}

/* ---- Ethernet ----------------------------------------------------------- */

static void test_eth_roundtrip(void **state)
{
    (void)state;
    const wire_eth h = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x01},
                        {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef},
                        WIRE_ETHERTYPE_ARP};
    const uint8_t want[14] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x52,
                              0x54, 0x00, 0xab, 0xcd, 0xef, 0x08, 0x06};
    uint8_t buf[64];
    wire_eth got;

    memset(buf, 0xaa, sizeof(buf));
    assert_int_equal(wire_eth_emit(buf, &h), 14);
    assert_memory_equal(buf, want, 14);
    assert_int_equal(buf[14], 0xaa); /* wrote exactly 14 */
    memset(&got, 0, sizeof(got));
    assert_int_equal(eth_parse_exact(buf, 14, &got), 0);
    assert_memory_equal(got.dst, h.dst, 6);
    assert_memory_equal(got.src, h.src, 6);
    assert_int_equal(got.type, WIRE_ETHERTYPE_ARP);
    assert_int_equal(eth_parse_exact(buf, 60, &got), 0);
    assert_int_equal(got.type, 0x0806);
}

static void test_eth_short(void **state)
{
    (void)state;
    uint8_t buf[14] = {0};
    wire_eth got;

    for (size_t len = 0; len < 14; len++)
        assert_int_equal(eth_parse_exact(buf, len, &got),
                         -SYNACK_DROP_ETH_SHORT);
}

/* ---- ARP ---------------------------------------------------------------- */

static const uint8_t arp_req[28] = {
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, /* eth/ip, request */
    0x52, 0x54, 0x00, 0x12, 0x34, 0x56,             /* sha */
    0x0a, 0x00, 0x00, 0x01,                         /* spa 10.0.0.1 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00,             /* tha */
    0x0a, 0x00, 0x00, 0x02,                         /* tpa 10.0.0.2 */
};

static void test_arp_roundtrip(void **state)
{
    (void)state;
    wire_arp h = {1, {0x52, 0x54, 0x00, 0x12, 0x34, 0x56}, 0x0a000001,
                  {0}, 0x0a000002};
    uint8_t buf[64];
    wire_arp got;

    memset(buf, 0xaa, sizeof(buf));
    assert_int_equal(wire_arp_emit(buf, &h), 28);
    assert_memory_equal(buf, arp_req, 28);
    assert_int_equal(buf[28], 0xaa);
    memset(&got, 0xee, sizeof(got));
    assert_int_equal(arp_parse_exact(buf, 28, &got), 0);
    assert_int_equal(got.op, 1);
    assert_memory_equal(got.sha, h.sha, 6);
    assert_int_equal(got.spa, 0x0a000001);
    assert_memory_equal(got.tha, h.tha, 6);
    assert_int_equal(got.tpa, 0x0a000002);

    /* A reply with every field distinct, padded to the Ethernet minimum. */
    wire_arp r = {2, {1, 2, 3, 4, 5, 6}, 0xc0a80101, {7, 8, 9, 10, 11, 12},
                  0xfffffffe};
    memset(buf, 0, sizeof(buf));
    wire_arp_emit(buf, &r);
    assert_int_equal(buf[7], 2);
    assert_int_equal(arp_parse_exact(buf, 46, &got), 0);
    assert_int_equal(got.op, 2);
    assert_memory_equal(got.sha, r.sha, 6);
    assert_int_equal(got.spa, 0xc0a80101);
    assert_memory_equal(got.tha, r.tha, 6);
    assert_int_equal(got.tpa, 0xfffffffe);
}

static void test_arp_short(void **state)
{
    (void)state;
    wire_arp got;

    for (size_t len = 0; len < 28; len++)
        assert_int_equal(arp_parse_exact(arp_req, len, &got),
                         -SYNACK_DROP_ARP_SHORT);
}

static void test_arp_unsupported(void **state)
{
    (void)state;
    static const struct {
        size_t off;
        uint8_t val;
    } bad[] = {
        {0, 0x01},  /* htype 0x0101 */
        {1, 0x06},  /* htype 6 (IEEE 802) */
        {1, 0x00},  /* htype 0 */
        {2, 0x86},  /* ptype 0x8600 */
        {3, 0x06},  /* ptype 0x0806 */
        {4, 0x08},  /* hlen 8 */
        {4, 0x00},  /* hlen 0 */
        {5, 0x10},  /* plen 16 */
        {5, 0x06},  /* plen 6 */
        {6, 0x01},  /* op 0x0101 */
        {7, 0x00},  /* op 0 */
        {7, 0x03},  /* op 3 (RARP request) */
        {7, 0x04},  /* op 4 */
        {7, 0xff},  /* op 255 */
    };
    uint8_t buf[28];
    wire_arp got;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memcpy(buf, arp_req, 28);
        buf[bad[i].off] = bad[i].val;
        int rc = arp_parse_exact(buf, 28, &got);
        if (rc != -SYNACK_DROP_ARP_UNSUPPORTED)
            fail_msg("byte %zu = %#x: got %d want %d", bad[i].off, bad[i].val,
                     rc, -SYNACK_DROP_ARP_UNSUPPORTED);
    }
}

/* ---- IPv4 --------------------------------------------------------------- */

static void test_ipv4_known_header(void **state)
{
    (void)state;
    /* The worked example from the "IPv4 header checksum" literature. */
    const uint8_t want[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40,
                              0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
                              0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    uint8_t zeroed[20];
    memcpy(zeroed, want, 20);
    zeroed[10] = zeroed[11] = 0;
    assert_int_equal(wire_csum_fold(wire_csum_add(0, zeroed, 20)), 0xb861);
    /* Verifying over the whole header yields zero. */
    assert_int_equal(wire_csum_fold(wire_csum_add(0, want, 20)), 0);

    wire_ipv4 h = {0};
    h.tos = 0;
    h.total_len = 0x73;
    h.id = 0;
    h.frag = WIRE_IP_DF;
    h.ttl = 64;
    h.proto = 17;
    h.src = 0xc0a80001;
    h.dst = 0xc0a800c7;
    uint8_t buf[0x73];
    memset(buf, 0xaa, sizeof(buf));
    assert_int_equal(wire_ipv4_emit(buf, &h), 20);
    assert_memory_equal(buf, want, 20);
    assert_int_equal(buf[20], 0xaa);

    wire_ipv4 got;
    memset(&got, 0xee, sizeof(got));
    assert_int_equal(ipv4_parse_exact(buf, sizeof(buf), &got), 0);
    assert_int_equal(got.hlen, 20);
    assert_int_equal(got.tos, 0);
    assert_int_equal(got.total_len, 0x73);
    assert_int_equal(got.id, 0);
    assert_int_equal(got.frag, 0x4000);
    assert_int_equal(got.ttl, 64);
    assert_int_equal(got.proto, 17);
    assert_int_equal(got.src, 0xc0a80001);
    assert_int_equal(got.dst, 0xc0a800c7);
}

static size_t make_ipv4(uint8_t *buf, uint16_t total)
{
    wire_ipv4 h = {0};
    h.tos = 0xb8;
    h.total_len = total;
    h.id = 0xbeef;
    h.frag = WIRE_IP_DF | 0x0123;
    h.ttl = 255;
    h.proto = WIRE_IPPROTO_TCP;
    h.src = 0x0a000001;
    h.dst = 0x0a0000fe;
    for (size_t i = 20; i < total; i++)
        buf[i] = (uint8_t)(i * 7 + 1);
    return wire_ipv4_emit(buf, &h);
}

static void test_ipv4_roundtrip(void **state)
{
    (void)state;
    uint8_t buf[64];
    wire_ipv4 got;

    make_ipv4(buf, 40);
    memset(&got, 0, sizeof(got));
    assert_int_equal(ipv4_parse_exact(buf, 40, &got), 0);
    assert_int_equal(got.hlen, 20);
    assert_int_equal(got.tos, 0xb8);
    assert_int_equal(got.total_len, 40);
    assert_int_equal(got.id, 0xbeef);
    assert_int_equal(got.frag, 0x4123);
    assert_int_equal(got.ttl, 255);
    assert_int_equal(got.proto, 6);
    assert_int_equal(got.src, 0x0a000001);
    assert_int_equal(got.dst, 0x0a0000fe);
    assert_int_equal(ref_csum(0, buf, 20), 0);
}

static void test_ipv4_truncated(void **state)
{
    (void)state;
    uint8_t buf[40];
    wire_ipv4 got;

    make_ipv4(buf, 40);
    for (size_t len = 0; len < 20; len++)
        assert_int_equal(ipv4_parse_exact(buf, len, &got),
                         -SYNACK_DROP_IP_SHORT);
    for (size_t len = 20; len < 40; len++)
        assert_int_equal(ipv4_parse_exact(buf, len, &got),
                         -SYNACK_DROP_IP_BAD_LEN);
    assert_int_equal(ipv4_parse_exact(buf, 40, &got), 0);
}

static void test_ipv4_padding_beyond_total_len(void **state)
{
    (void)state;
    uint8_t buf[60];
    wire_ipv4 got;

    memset(buf, 0x5a, sizeof(buf));
    make_ipv4(buf, 28);
    assert_int_equal(ipv4_parse_exact(buf, 46, &got), 0);
    assert_int_equal(got.total_len, 28);
    /* A header-only packet is valid too. */
    make_ipv4(buf, 20);
    assert_int_equal(ipv4_parse_exact(buf, 20, &got), 0);
    assert_int_equal(got.total_len, 20);
}

static void test_ipv4_bad_version(void **state)
{
    (void)state;
    uint8_t buf[40];
    wire_ipv4 got;

    for (unsigned v = 0; v < 16; v++) {
        if (v == 4)
            continue;
        make_ipv4(buf, 40);
        buf[0] = (uint8_t)(v << 4 | 5);
        ipv4_fix_csum(buf, 20);
        assert_int_equal(ipv4_parse_exact(buf, 40, &got),
                         -SYNACK_DROP_IP_BAD_VERSION);
    }
    /* Version is checked before the header length. */
    buf[0] = 0x60;
    assert_int_equal(ipv4_parse_exact(buf, 40, &got),
                     -SYNACK_DROP_IP_BAD_VERSION);
}

static void test_ipv4_bad_hlen(void **state)
{
    (void)state;
    uint8_t buf[64];
    wire_ipv4 got;

    for (unsigned ihl = 0; ihl < 5; ihl++) {
        make_ipv4(buf, 40);
        buf[0] = (uint8_t)(0x40 | ihl);
        assert_int_equal(ipv4_parse_exact(buf, 40, &got),
                         -SYNACK_DROP_IP_BAD_HLEN);
    }
    /* Header length beyond the buffer, checked before total length. */
    make_ipv4(buf, 20);
    buf[0] = 0x46;
    assert_int_equal(ipv4_parse_exact(buf, 20, &got),
                     -SYNACK_DROP_IP_BAD_HLEN);
    assert_int_equal(ipv4_parse_exact(buf, 23, &got),
                     -SYNACK_DROP_IP_BAD_HLEN);
    make_ipv4(buf, 60);
    buf[0] = 0x4f;
    assert_int_equal(ipv4_parse_exact(buf, 59, &got),
                     -SYNACK_DROP_IP_BAD_HLEN);
    ipv4_fix_csum(buf, 60);
    assert_int_equal(ipv4_parse_exact(buf, 60, &got), 0);
    assert_int_equal(got.hlen, 60);
}

static void test_ipv4_bad_total_len(void **state)
{
    (void)state;
    uint8_t buf[64];
    wire_ipv4 got;
    static const uint16_t bad[] = {0, 1, 19, 41, 0xffff};

    /* Checked before the checksum: the stale checksum is not reported. */
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        make_ipv4(buf, 40);
        wire_put16(buf + 2, bad[i]);
        int rc = ipv4_parse_exact(buf, 40, &got);
        if (rc != -SYNACK_DROP_IP_BAD_LEN)
            fail_msg("total_len %u: got %d want %d", bad[i], rc,
                     -SYNACK_DROP_IP_BAD_LEN);
        ipv4_fix_csum(buf, 20);
        assert_int_equal(ipv4_parse_exact(buf, 40, &got),
                         -SYNACK_DROP_IP_BAD_LEN);
    }
    /* total_len between 20 and the option-extended header length. */
    make_ipv4(buf, 40);
    buf[0] = 0x46;
    wire_put16(buf + 2, 23);
    ipv4_fix_csum(buf, 24);
    assert_int_equal(ipv4_parse_exact(buf, 40, &got),
                     -SYNACK_DROP_IP_BAD_LEN);
    wire_put16(buf + 2, 24);
    ipv4_fix_csum(buf, 24);
    assert_int_equal(ipv4_parse_exact(buf, 40, &got), 0);
}

static void test_ipv4_bad_csum(void **state)
{
    (void)state;
    uint8_t buf[40];
    wire_ipv4 got;

    /* Every single-bit error outside version/IHL/total length. */
    for (size_t i = 1; i < 20; i++) {
        if (i == 2 || i == 3)
            continue;
        for (unsigned bit = 0; bit < 8; bit++) {
            make_ipv4(buf, 40);
            buf[i] ^= (uint8_t)(1u << bit);
            int rc = ipv4_parse_exact(buf, 40, &got);
            if (rc != -SYNACK_DROP_IP_BAD_CSUM)
                fail_msg("byte %zu bit %u: got %d want %d", i, bit, rc,
                         -SYNACK_DROP_IP_BAD_CSUM);
        }
    }
    /* Total length changed but still valid: only the checksum catches it. */
    make_ipv4(buf, 40);
    wire_put16(buf + 2, 39);
    assert_int_equal(ipv4_parse_exact(buf, 40, &got),
                     -SYNACK_DROP_IP_BAD_CSUM);
    /* The payload is not covered. */
    make_ipv4(buf, 40);
    buf[30] ^= 0xff;
    assert_int_equal(ipv4_parse_exact(buf, 40, &got), 0);
}

static void test_ipv4_options_covered(void **state)
{
    (void)state;
    uint8_t buf[48];
    wire_ipv4 got;

    make_ipv4(buf, 48);
    buf[0] = 0x47; /* 28-byte header */
    memcpy(buf + 20, "\x01\x01\x01\x01\x01\x01\x01\x00", 8);
    ipv4_fix_csum(buf, 28);
    assert_int_equal(ipv4_parse_exact(buf, 48, &got), 0);
    assert_int_equal(got.hlen, 28);
    assert_int_equal(got.total_len, 48);
    assert_int_equal(got.src, 0x0a000001);
    buf[25] ^= 0x10;
    assert_int_equal(ipv4_parse_exact(buf, 48, &got),
                     -SYNACK_DROP_IP_BAD_CSUM);
}

static void test_ipv4_fragment_not_checked(void **state)
{
    (void)state;
    uint8_t buf[40];
    wire_ipv4 got;
    wire_ipv4 h = {0};

    h.total_len = 40;
    h.frag = WIRE_IP_MF | 0x0005;
    h.ttl = 1;
    h.proto = WIRE_IPPROTO_ICMP;
    h.src = 1;
    h.dst = 2;
    memset(buf, 0, sizeof(buf));
    wire_ipv4_emit(buf, &h);
    assert_int_equal(ipv4_parse_exact(buf, 40, &got), 0);
    assert_int_equal(got.frag, 0x2005);
    assert_int_equal(got.frag & WIRE_IP_OFFMASK, 5);
    assert_int_equal(got.proto, 1);
}

/* ---- ICMP --------------------------------------------------------------- */

static void test_icmp_known(void **state)
{
    (void)state;
    /* 0800 + 0000 + 1234 + 0001 = 1a35; complement e5ca. */
    const uint8_t want[8] = {0x08, 0x00, 0xe5, 0xca, 0x12, 0x34, 0x00, 0x01};
    wire_icmp_echo h = {8, 0, 0x1234, 1};
    uint8_t buf[16];
    wire_icmp_echo got;

    memset(buf, 0xaa, sizeof(buf));
    assert_int_equal(wire_icmp_emit(buf, &h, 0), 8);
    assert_memory_equal(buf, want, 8);
    assert_int_equal(buf[8], 0xaa);
    memset(&got, 0xee, sizeof(got));
    assert_int_equal(icmp_parse_exact(buf, 8, &got), 0);
    assert_int_equal(got.type, 8);
    assert_int_equal(got.code, 0);
    assert_int_equal(got.id, 0x1234);
    assert_int_equal(got.seq, 1);
}

static void test_icmp_roundtrip_data(void **state)
{
    (void)state;
    static const size_t dlens[] = {0, 1, 2, 3, 7, 56, 1471, 1472};
    uint8_t buf[8 + 1472];
    uint64_t rng = 99;

    for (size_t i = 0; i < sizeof(dlens) / sizeof(dlens[0]); i++) {
        for (uint8_t type = 0; type <= 8; type += 8) {
            size_t dlen = dlens[i];
            wire_icmp_echo h = {type, 0, (uint16_t)(0xab00 + i),
                                (uint16_t)(i * 3)};
            wire_icmp_echo got;
            rng_fill(&rng, buf + 8, dlen);
            assert_int_equal(wire_icmp_emit(buf, &h, dlen), 8 + dlen);
            assert_int_equal(ref_csum(0, buf, 8 + dlen), 0);
            assert_int_equal(icmp_parse_exact(buf, 8 + dlen, &got), 0);
            assert_int_equal(got.type, type);
            assert_int_equal(got.code, 0);
            assert_int_equal(got.id, h.id);
            assert_int_equal(got.seq, h.seq);
        }
    }
}

static void test_icmp_short(void **state)
{
    (void)state;
    uint8_t buf[8];
    wire_icmp_echo h = {8, 0, 1, 1};
    wire_icmp_echo got;

    wire_icmp_emit(buf, &h, 0);
    for (size_t len = 0; len < 8; len++)
        assert_int_equal(icmp_parse_exact(buf, len, &got),
                         -SYNACK_DROP_ICMP_SHORT);
}

static void test_icmp_bad_csum(void **state)
{
    (void)state;
    uint8_t buf[8 + 5];
    wire_icmp_echo h = {0, 0, 0x4242, 7};
    wire_icmp_echo got;

    for (size_t i = 0; i < sizeof(buf); i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            memcpy(buf + 8, "\x11\x22\x33\x44\x55", 5);
            wire_icmp_emit(buf, &h, 5);
            buf[i] ^= (uint8_t)(1u << bit);
            int rc = icmp_parse_exact(buf, sizeof(buf), &got);
            if (rc != -SYNACK_DROP_ICMP_BAD_CSUM)
                fail_msg("byte %zu bit %u: got %d want %d", i, bit, rc,
                         -SYNACK_DROP_ICMP_BAD_CSUM);
        }
    }
    /* Truncating the data breaks the checksum over the whole message. */
    memcpy(buf + 8, "\x11\x22\x33\x44\x55", 5);
    wire_icmp_emit(buf, &h, 5);
    for (size_t len = 8; len < sizeof(buf); len++)
        assert_int_equal(icmp_parse_exact(buf, len, &got),
                         -SYNACK_DROP_ICMP_BAD_CSUM);
    assert_int_equal(icmp_parse_exact(buf, sizeof(buf), &got), 0);
}

static void test_icmp_unhandled(void **state)
{
    (void)state;
    uint8_t buf[16];
    wire_icmp_echo got;

    for (unsigned type = 0; type < 256; type++) {
        wire_icmp_echo h = {(uint8_t)type, 0, 1, 2};
        memset(buf + 8, 0x33, 8);
        wire_icmp_emit(buf, &h, 8);
        int rc = icmp_parse_exact(buf, 16, &got);
        int want = (type == 0 || type == 8) ? 0 : -SYNACK_DROP_ICMP_UNHANDLED;
        if (rc != want)
            fail_msg("type %u: got %d want %d", type, rc, want);
    }
}

/* ---- TCP ---------------------------------------------------------------- */

#define SRC_IP 0x0a000001u
#define DST_IP 0x0a000002u

/* Emit h plus payload and set the checksum; returns the segment length. */
static size_t make_tcp(uint8_t *buf, const wire_tcp *h, const uint8_t *pl,
                       size_t plen)
{
    size_t hlen = wire_tcp_emit(buf, h);
    if (plen)
        memcpy(buf + hlen, pl, plen);
    wire_tcp_set_csum(buf, hlen + plen, SRC_IP, DST_IP);
    return hlen + plen;
}

static wire_tcp tcp_with_opts(unsigned combo)
{
    wire_tcp h;
    memset(&h, 0, sizeof(h));
    h.sport = 0x1234;
    h.dport = 80;
    h.seq = 0xfedcba98;
    h.ack = 0x01234567;
    h.flags = SYNACK_TH_SYN | SYNACK_TH_ACK;
    h.wnd = 0xfff0;
    h.urp = 0x0102;
    h.has_mss = (combo & 1) != 0;
    h.has_sackok = (combo & 2) != 0;
    h.has_ts = (combo & 4) != 0;
    h.has_ws = (combo & 8) != 0;
    h.mss = 1460;
    h.ws = 7;
    h.tsval = 0xdeadbeef;
    h.tsecr = 0x0badf00d;
    return h;
}

static void test_tcp_hdr_len(void **state)
{
    (void)state;
    /* Index bits: 1 MSS, 2 SACK-permitted, 4 timestamps, 8 window scale. */
    static const size_t want[16] = {20, 24, 24, 28, 32, 36, 32, 36,
                                    24, 28, 28, 32, 36, 40, 36, 40};
    for (unsigned c = 0; c < 16; c++) {
        wire_tcp h = tcp_with_opts(c);
        uint8_t buf[64];
        memset(buf, 0xaa, sizeof(buf));
        assert_int_equal(wire_tcp_hdr_len(&h), want[c]);
        assert_int_equal(wire_tcp_emit(buf, &h), want[c]);
        assert_int_equal(buf[want[c]], 0xaa); /* wrote exactly that much */
        assert_int_equal(buf[12] >> 4, want[c] / 4);
    }
}

static void test_tcp_syn_layout(void **state)
{
    (void)state;
    const uint8_t want[40] = {
        0x12, 0x34, 0x00, 0x50,                         /* ports */
        0xfe, 0xdc, 0xba, 0x98, 0x01, 0x23, 0x45, 0x67, /* seq, ack */
        0xa0, 0x12, 0xff, 0xf0, 0x00, 0x00, 0x01, 0x02, /* off, flags... */
        0x02, 0x04, 0x05, 0xb4,                         /* MSS 1460 */
        0x04, 0x02,                                     /* SACK-permitted */
        0x08, 0x0a, 0xde, 0xad, 0xbe, 0xef, 0x0b, 0xad, 0xf0, 0x0d, /* TS */
        0x01, 0x03, 0x03, 0x07, /* NOP, WS 7 */
    };
    wire_tcp h = tcp_with_opts(15);
    uint8_t buf[40];
    assert_int_equal(wire_tcp_emit(buf, &h), 40);
    assert_memory_equal(buf, want, 40);

    /* The NOP-padded forms of lone options. */
    uint8_t ts_only[12] = {0x01, 0x01, 0x08, 0x0a, 0xde, 0xad,
                           0xbe, 0xef, 0x0b, 0xad, 0xf0, 0x0d};
    h = tcp_with_opts(4);
    wire_tcp_emit(buf, &h);
    assert_memory_equal(buf + 20, ts_only, 12);
    h = tcp_with_opts(2);
    wire_tcp_emit(buf, &h);
    assert_memory_equal(buf + 20, "\x01\x01\x04\x02", 4);
    h = tcp_with_opts(8);
    wire_tcp_emit(buf, &h);
    assert_memory_equal(buf + 20, "\x01\x03\x03\x07", 4);
    h = tcp_with_opts(9);
    wire_tcp_emit(buf, &h);
    assert_memory_equal(buf + 20, "\x02\x04\x05\xb4\x01\x03\x03\x07", 8);
}

static void test_tcp_roundtrip(void **state)
{
    (void)state;
    static const size_t plens[] = {0, 1, 2, 5, 1460};
    uint8_t pl[1460];
    uint8_t buf[60 + 1460];
    uint64_t rng = 1;

    for (unsigned c = 0; c < 16; c++) {
        for (size_t k = 0; k < sizeof(plens) / sizeof(plens[0]); k++) {
            wire_tcp h = tcp_with_opts(c);
            wire_tcp got;
            h.flags = (uint8_t)(c * 17 + k);
            rng_fill(&rng, pl, plens[k]);
            size_t n = make_tcp(buf, &h, pl, plens[k]);
            assert_int_equal(n, wire_tcp_hdr_len(&h) + plens[k]);
            memset(&got, 0xee, sizeof(got));
            assert_int_equal(tcp_parse_exact(buf, n, SRC_IP, DST_IP, &got), 0);
            assert_int_equal(got.sport, 0x1234);
            assert_int_equal(got.dport, 80);
            assert_int_equal(got.seq, 0xfedcba98);
            assert_int_equal(got.ack, 0x01234567);
            assert_int_equal(got.hlen, wire_tcp_hdr_len(&h));
            assert_int_equal(got.flags, h.flags);
            assert_int_equal(got.wnd, 0xfff0);
            assert_int_equal(got.urp, 0x0102);
            assert_int_equal(got.has_mss, h.has_mss);
            assert_int_equal(got.has_sackok, h.has_sackok);
            assert_int_equal(got.has_ts, h.has_ts);
            assert_int_equal(got.has_ws, h.has_ws);
            if (h.has_mss)
                assert_int_equal(got.mss, 1460);
            if (h.has_ws)
                assert_int_equal(got.ws, 7);
            if (h.has_ts) {
                assert_int_equal(got.tsval, 0xdeadbeef);
                assert_int_equal(got.tsecr, 0x0badf00d);
            }
            assert_int_equal(got.unknown_opts, 0);
            if (plens[k])
                assert_memory_equal(buf + got.hlen, pl, plens[k]);
        }
    }
}

static void test_tcp_csum_vs_reference(void **state)
{
    (void)state;
    uint8_t pseudo_and_seg[12 + 60 + 301];
    uint8_t *seg = pseudo_and_seg + 12;
    uint64_t rng = 2024;

    /* Odd and even payload lengths, with and without options. */
    for (size_t plen = 0; plen <= 301; plen++) {
        wire_tcp h = tcp_with_opts((unsigned)plen & 15);
        size_t hlen = wire_tcp_emit(seg, &h);
        size_t n = hlen + plen;
        rng_fill(&rng, seg + hlen, plen);
        wire_tcp_set_csum(seg, n, SRC_IP, DST_IP);
        uint16_t stored = wire_get16(seg + 16);

        wire_put32(pseudo_and_seg, SRC_IP);
        wire_put32(pseudo_and_seg + 4, DST_IP);
        pseudo_and_seg[8] = 0;
        pseudo_and_seg[9] = WIRE_IPPROTO_TCP;
        wire_put16(pseudo_and_seg + 10, (uint16_t)n);
        seg[16] = seg[17] = 0;
        uint16_t want = ref_csum(0, pseudo_and_seg, 12 + n);
        if (stored != want)
            fail_msg("plen %zu: stored %#06x want %#06x", plen, stored, want);
        wire_put16(seg + 16, stored);
        wire_tcp got;
        assert_int_equal(tcp_parse_exact(seg, n, SRC_IP, DST_IP, &got), 0);
    }
}

static void test_tcp_set_csum_overwrites(void **state)
{
    (void)state;
    uint8_t buf[64];
    wire_tcp h = tcp_with_opts(0);
    wire_tcp got;

    size_t n = make_tcp(buf, &h, (const uint8_t *)"abc", 3);
    uint16_t first = wire_get16(buf + 16);
    /* A stale value in the field must not leak into the new checksum. */
    buf[16] = 0x55;
    buf[17] = 0x66;
    wire_tcp_set_csum(buf, n, SRC_IP, DST_IP);
    assert_int_equal(wire_get16(buf + 16), first);
    assert_int_equal(tcp_parse_exact(buf, n, SRC_IP, DST_IP, &got), 0);
}

static void test_tcp_short(void **state)
{
    (void)state;
    uint8_t buf[64];
    wire_tcp h = tcp_with_opts(0);
    wire_tcp got;

    make_tcp(buf, &h, NULL, 0);
    for (size_t len = 0; len < 20; len++)
        assert_int_equal(tcp_parse_exact(buf, len, SRC_IP, DST_IP, &got),
                         -SYNACK_DROP_TCP_SHORT);
}

static void test_tcp_bad_off(void **state)
{
    (void)state;
    uint8_t buf[128];
    wire_tcp h = tcp_with_opts(15);
    wire_tcp got;

    for (unsigned off = 0; off < 5; off++) {
        size_t n = make_tcp(buf, &h, (const uint8_t *)"xyz", 3);
        buf[12] = (uint8_t)(off << 4);
        wire_tcp_set_csum(buf, n, SRC_IP, DST_IP);
        int rc = tcp_parse_exact(buf, n, SRC_IP, DST_IP, &got);
        if (rc != -SYNACK_DROP_TCP_BAD_OFF)
            fail_msg("off %u: got %d want %d", off, rc,
                     -SYNACK_DROP_TCP_BAD_OFF);
    }
    /* Data offset past the segment: every truncation inside the header. */
    size_t n = make_tcp(buf, &h, (const uint8_t *)"xyz", 3);
    assert_int_equal(n, 43);
    for (size_t len = 20; len < 40; len++)
        assert_int_equal(tcp_parse_exact(buf, len, SRC_IP, DST_IP, &got),
                         -SYNACK_DROP_TCP_BAD_OFF);
    /* Truncated payload: the checksum no longer matches. */
    for (size_t len = 40; len < 43; len++)
        assert_int_equal(tcp_parse_exact(buf, len, SRC_IP, DST_IP, &got),
                         -SYNACK_DROP_TCP_BAD_CSUM);
    /* Offset 15 (60 bytes) against 59 and 60 bytes. */
    memset(buf, 0, sizeof(buf));
    h = tcp_with_opts(0);
    wire_tcp_emit(buf, &h);
    buf[12] = 0xf0;
    wire_tcp_set_csum(buf, 60, SRC_IP, DST_IP);
    assert_int_equal(tcp_parse_exact(buf, 59, SRC_IP, DST_IP, &got),
                     -SYNACK_DROP_TCP_BAD_OFF);
    assert_int_equal(tcp_parse_exact(buf, 60, SRC_IP, DST_IP, &got), 0);
    assert_int_equal(got.hlen, 60); /* 40 bytes of EOL */
    assert_int_equal(got.has_mss, 0);
}

static void test_tcp_bad_csum(void **state)
{
    (void)state;
    uint8_t buf[64];
    wire_tcp h = tcp_with_opts(15);
    wire_tcp got;
    const uint8_t pl[5] = {1, 2, 3, 4, 5};

    for (size_t i = 0; i < 45; i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            if (i == 12 && bit >= 4)
                continue; /* data offset: a different error */
            size_t n = make_tcp(buf, &h, pl, sizeof(pl));
            assert_int_equal(n, 45);
            buf[i] ^= (uint8_t)(1u << bit);
            int rc = tcp_parse_exact(buf, n, SRC_IP, DST_IP, &got);
            if (rc != -SYNACK_DROP_TCP_BAD_CSUM)
                fail_msg("byte %zu bit %u: got %d want %d", i, bit, rc,
                         -SYNACK_DROP_TCP_BAD_CSUM);
        }
    }
    /* The pseudo-header is covered. */
    size_t n = make_tcp(buf, &h, pl, sizeof(pl));
    assert_int_equal(tcp_parse_exact(buf, n, SRC_IP, DST_IP, &got), 0);
    assert_int_equal(tcp_parse_exact(buf, n, SRC_IP + 1, DST_IP, &got),
                     -SYNACK_DROP_TCP_BAD_CSUM);
    assert_int_equal(tcp_parse_exact(buf, n, SRC_IP, DST_IP ^ 0x100, &got),
                     -SYNACK_DROP_TCP_BAD_CSUM);
    assert_int_equal(tcp_parse_exact(buf, n, DST_IP, SRC_IP, &got), 0);
}

static void test_tcp_oversize(void **state)
{
    (void)state;
    /* No IPv4 packet carries more than 65535 bytes of TCP; the 16-bit
     * pseudo-header length cannot describe it. */
    size_t n = 65536;
    uint8_t *buf = calloc(1, n);
    wire_tcp h = tcp_with_opts(0);
    wire_tcp got;

    assert_non_null(buf);
    wire_tcp_emit(buf, &h);
    assert_int_equal(tcp_parse_exact(buf, n, SRC_IP, DST_IP, &got),
                     -SYNACK_DROP_TCP_BAD_CSUM);
    /* Even when the checksum matches a pseudo-header length cut to 16 bits
     * (65536 -> 0). */
    wire_tcp_set_csum(buf, n, SRC_IP, DST_IP);
    assert_int_equal(tcp_parse_exact(buf, n, SRC_IP, DST_IP, &got),
                     -SYNACK_DROP_TCP_BAD_CSUM);
    /* The largest possible segment is fine. */
    wire_tcp_set_csum(buf, 65535, SRC_IP, DST_IP);
    assert_int_equal(tcp_parse_exact(buf, 65535, SRC_IP, DST_IP, &got), 0);
    free(buf);
}

struct optcase {
    const char *what;
    uint8_t opts[40];
    size_t n; /* a multiple of 4 */
    int rc;
    uint8_t has_mss, has_ws, has_ts, has_sackok;
    uint16_t mss;
    uint8_t ws;
    uint32_t tsval, tsecr;
    uint8_t unknown;
};

/* rc and every field after it, for rows that expect a malformed option */
#define BAD -SYNACK_DROP_TCP_BAD_OPT, 0, 0, 0, 0, 0, 0, 0, 0, 0

static const struct optcase optcases[] = {
    {"none", {0}, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"NOPs", {1, 1, 1, 1}, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"EOL ends, junk after", {0, 2, 0, 0}, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"EOL after NOP hides MSS",
     {1, 0, 2, 4, 5, 180, 1, 1},
     8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"all EOL", {0, 0, 0, 0, 0, 0, 0, 0}, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"MSS", {2, 4, 5, 180}, 4, 0, 1, 0, 0, 0, 1460, 0, 0, 0, 0},
    {"MSS 0", {2, 4, 0, 0}, 4, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0},
    {"MSS max", {2, 4, 0xff, 0xff}, 4, 0, 1, 0, 0, 0, 0xffff, 0, 0, 0, 0},
    {"MSS len 0", {2, 0, 5, 180}, 4, BAD},
    {"MSS len 1", {2, 1, 5, 180}, 4, BAD},
    {"MSS len 3", {2, 3, 5, 1}, 4, BAD},
    {"MSS len 5", {2, 5, 5, 180, 0, 1, 1, 1}, 8, BAD},
    {"MSS len past end", {1, 2, 4, 5}, 4, BAD},
    {"MSS len byte missing", {1, 1, 1, 2}, 4, BAD},
    {"WS", {1, 3, 3, 14}, 4, 0, 0, 1, 0, 0, 0, 14, 0, 0, 0},
    {"WS not clamped", {1, 3, 3, 200}, 4, 0, 0, 1, 0, 0, 0, 200, 0, 0, 0},
    {"WS len 2", {3, 2, 1, 1}, 4, BAD},
    {"WS len 4", {3, 4, 7, 0}, 4, BAD},
    {"SACK-permitted", {1, 1, 4, 2}, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0},
    {"SACK-permitted len 3", {4, 3, 0, 1}, 4, BAD},
    {"SACK-permitted len 4", {4, 4, 0, 0}, 4, BAD},
    {"TS",
     {1, 1, 8, 10, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe},
     12, 0, 0, 0, 1, 0, 0, 0, 1, 0xfffffffe, 0},
    {"TS len 8", {8, 8, 0, 0, 0, 1, 1, 1}, 8, BAD},
    {"TS len 12", {8, 12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0}, 12, BAD},
    {"TS past end", {8, 10, 0, 0, 0, 1, 0, 0}, 8, BAD},
    {"SACK 1 block", {1, 1, 5, 10, 1, 2, 3, 4, 5, 6, 7, 8},
     12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"SACK 2 blocks", {1, 1, 5, 18, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6,
                       7, 8},
     20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"SACK 4 blocks",
     {1, 1, 5, 34, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
     36, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"SACK no blocks", {5, 2, 1, 1}, 4, BAD},
    {"SACK len 9", {5, 9, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1}, 12, BAD},
    {"SACK len 11", {5, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 12, BAD},
    {"SACK len 36 (4.25 blocks)",
     {5, 36, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
     36, BAD},
    {"unknown len 2", {30, 2, 1, 1}, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
    {"unknown fills header", {30, 4, 9, 9}, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
    {"two unknowns", {30, 2, 254, 2}, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2},
    {"obsolete echo kind 6", {6, 6, 0, 0, 0, 0, 1, 1},
     8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
    {"unknown kind 255", {255, 4, 0, 0}, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
    {"unknown max len",
     {30, 40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
     40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
    {"twenty unknowns",
     {30, 2, 31, 2, 32, 2, 33, 2, 34, 2, 35, 2, 36, 2, 37, 2, 38, 2, 39, 2,
      40, 2, 41, 2, 42, 2, 43, 2, 44, 2, 45, 2, 46, 2, 47, 2, 48, 2, 49, 2},
     40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20},
    {"unknown len 0", {30, 0, 0, 0}, 4, BAD},
    {"unknown len 1", {30, 1, 0, 0}, 4, BAD},
    {"unknown len past end by 1", {30, 5, 0, 0}, 4, BAD},
    {"unknown len 255", {30, 255, 0, 0}, 4, BAD},
    {"unknown len byte missing", {1, 1, 1, 30}, 4, BAD},
    {"unknown then bad", {30, 2, 2, 4, 5, 180, 30, 0}, 8, BAD},
    {"good then zero len", {2, 4, 5, 180, 30, 0, 0, 0}, 8, BAD},
    {"good then past end", {2, 4, 5, 180, 1, 8, 10, 0}, 8, BAD},
    {"Linux SYN",
     {2, 4, 5, 180, 4, 2, 8, 10, 0, 0, 0x12, 0x34, 0, 0, 0, 0, 1, 3, 3, 7},
     20, 0, 1, 1, 1, 1, 1460, 7, 0x1234, 0, 0},
    {"options in odd order",
     {1, 3, 3, 2, 8, 10, 0, 0, 0, 9, 0, 0, 0, 8, 4, 2, 2, 4, 2, 0x18},
     20, 0, 1, 1, 1, 1, 0x0218, 2, 9, 8, 0},
    {"unknown among known",
     {2, 4, 1, 0, 77, 3, 0, 1, 3, 3, 0},
     12, 0, 1, 1, 0, 0, 0x0100, 0, 0, 0, 1},
};

#undef BAD

static void test_tcp_options(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(optcases) / sizeof(optcases[0]); i++) {
        const struct optcase *c = &optcases[i];
        uint8_t buf[60 + 3];
        wire_tcp h = tcp_with_opts(0);
        wire_tcp got;

        assert_true(c->n % 4 == 0 && c->n <= 40);
        wire_tcp_emit(buf, &h);
        buf[12] = (uint8_t)(((20 + c->n) / 4) << 4);
        memcpy(buf + 20, c->opts, c->n);
        memcpy(buf + 20 + c->n, "pay", 3);
        size_t n = 20 + c->n + 3;
        wire_tcp_set_csum(buf, n, SRC_IP, DST_IP);
        memset(&got, 0xee, sizeof(got));
        int rc = tcp_parse_exact(buf, n, SRC_IP, DST_IP, &got);
        if (rc != c->rc)
            fail_msg("%s: rc %d want %d", c->what, rc, c->rc);
        if (rc < 0)
            continue;
        if (got.hlen != 20 + c->n || got.has_mss != c->has_mss ||
            got.has_ws != c->has_ws || got.has_ts != c->has_ts ||
            got.has_sackok != c->has_sackok || got.unknown_opts != c->unknown)
            fail_msg("%s: hlen %u mss %u ws %u ts %u sackok %u unknown %u; "
                     "want %zu %u %u %u %u %u",
                     c->what, got.hlen, got.has_mss, got.has_ws, got.has_ts,
                     got.has_sackok, got.unknown_opts, 20 + c->n, c->has_mss,
                     c->has_ws, c->has_ts, c->has_sackok, c->unknown);
        if (c->has_mss && got.mss != c->mss)
            fail_msg("%s: mss %u want %u", c->what, got.mss, c->mss);
        if (c->has_ws && got.ws != c->ws)
            fail_msg("%s: ws %u want %u", c->what, got.ws, c->ws);
        if (c->has_ts && (got.tsval != c->tsval || got.tsecr != c->tsecr))
            fail_msg("%s: ts %#x/%#x want %#x/%#x", c->what, got.tsval,
                     got.tsecr, c->tsval, c->tsecr);
        assert_memory_equal(buf + got.hlen, "pay", 3);
    }
}

static void test_tcp_option_at_segment_end(void **state)
{
    (void)state;
    /* Options reaching the very end of a segment with no payload: a kind
     * whose length byte would be the first byte past `len`. Under ASan the
     * exact-size copy catches any read of it. */
    static const uint8_t tails[][4] = {
        {1, 1, 1, 2}, {1, 1, 1, 30}, {1, 1, 1, 8}, {1, 1, 1, 5}};
    uint8_t buf[24];
    wire_tcp h = tcp_with_opts(0);
    wire_tcp got;

    for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
        wire_tcp_emit(buf, &h);
        buf[12] = 0x60;
        memcpy(buf + 20, tails[i], 4);
        wire_tcp_set_csum(buf, 24, SRC_IP, DST_IP);
        assert_int_equal(tcp_parse_exact(buf, 24, SRC_IP, DST_IP, &got),
                         -SYNACK_DROP_TCP_BAD_OPT);
    }
    /* Options ending one byte short of the segment end, then a NOP. */
    wire_tcp_emit(buf, &h);
    buf[12] = 0x60;
    memcpy(buf + 20, "\x01\x03\x02\x01", 4);
    wire_tcp_set_csum(buf, 24, SRC_IP, DST_IP);
    assert_int_equal(tcp_parse_exact(buf, 24, SRC_IP, DST_IP, &got),
                     -SYNACK_DROP_TCP_BAD_OPT); /* WS with length 2 */
    memcpy(buf + 20, "\x03\x03\x02\x01", 4);
    wire_tcp_set_csum(buf, 24, SRC_IP, DST_IP);
    assert_int_equal(tcp_parse_exact(buf, 24, SRC_IP, DST_IP, &got), 0);
    assert_int_equal(got.has_ws, 1);
    assert_int_equal(got.ws, 2);
}

static void test_tcp_option_errors_after_csum(void **state)
{
    (void)state;
    /* A malformed option under a bad checksum reports the checksum. */
    uint8_t buf[24];
    wire_tcp h = tcp_with_opts(0);
    wire_tcp got;

    wire_tcp_emit(buf, &h);
    buf[12] = 0x60;
    memcpy(buf + 20, "\x02\x00\x00\x00", 4);
    wire_tcp_set_csum(buf, 24, SRC_IP, DST_IP);
    assert_int_equal(tcp_parse_exact(buf, 24, SRC_IP, DST_IP, &got),
                     -SYNACK_DROP_TCP_BAD_OPT);
    buf[5] ^= 1;
    assert_int_equal(tcp_parse_exact(buf, 24, SRC_IP, DST_IP, &got),
                     -SYNACK_DROP_TCP_BAD_CSUM);
    /* And a bad data offset is reported before either. */
    buf[12] = 0x40;
    assert_int_equal(tcp_parse_exact(buf, 24, SRC_IP, DST_IP, &got),
                     -SYNACK_DROP_TCP_BAD_OFF);
}

static void test_tcp_parse_resets_options(void **state)
{
    (void)state;
    /* Stale has_* flags in the output struct must not survive a parse. */
    uint8_t buf[20];
    wire_tcp h = tcp_with_opts(0);
    wire_tcp got;

    make_tcp(buf, &h, NULL, 0);
    memset(&got, 0xff, sizeof(got));
    assert_int_equal(tcp_parse_exact(buf, 20, SRC_IP, DST_IP, &got), 0);
    assert_int_equal(got.has_mss, 0);
    assert_int_equal(got.has_ws, 0);
    assert_int_equal(got.has_ts, 0);
    assert_int_equal(got.has_sackok, 0);
    assert_int_equal(got.unknown_opts, 0);
    assert_int_equal(got.hlen, 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csum_vs_reference),
        cmocka_unit_test(test_csum_chained),
        cmocka_unit_test(test_csum_rfc1071_example),
        cmocka_unit_test(test_csum_edge_values),
        cmocka_unit_test(test_csum_all_ones_large),
        cmocka_unit_test(test_csum_pseudo),
        cmocka_unit_test(test_eth_roundtrip),
        cmocka_unit_test(test_eth_short),
        cmocka_unit_test(test_arp_roundtrip),
        cmocka_unit_test(test_arp_short),
        cmocka_unit_test(test_arp_unsupported),
        cmocka_unit_test(test_ipv4_known_header),
        cmocka_unit_test(test_ipv4_roundtrip),
        cmocka_unit_test(test_ipv4_truncated),
        cmocka_unit_test(test_ipv4_padding_beyond_total_len),
        cmocka_unit_test(test_ipv4_bad_version),
        cmocka_unit_test(test_ipv4_bad_hlen),
        cmocka_unit_test(test_ipv4_bad_total_len),
        cmocka_unit_test(test_ipv4_bad_csum),
        cmocka_unit_test(test_ipv4_options_covered),
        cmocka_unit_test(test_ipv4_fragment_not_checked),
        cmocka_unit_test(test_icmp_known),
        cmocka_unit_test(test_icmp_roundtrip_data),
        cmocka_unit_test(test_icmp_short),
        cmocka_unit_test(test_icmp_bad_csum),
        cmocka_unit_test(test_icmp_unhandled),
        cmocka_unit_test(test_tcp_hdr_len),
        cmocka_unit_test(test_tcp_syn_layout),
        cmocka_unit_test(test_tcp_roundtrip),
        cmocka_unit_test(test_tcp_csum_vs_reference),
        cmocka_unit_test(test_tcp_set_csum_overwrites),
        cmocka_unit_test(test_tcp_short),
        cmocka_unit_test(test_tcp_bad_off),
        cmocka_unit_test(test_tcp_bad_csum),
        cmocka_unit_test(test_tcp_oversize),
        cmocka_unit_test(test_tcp_options),
        cmocka_unit_test(test_tcp_option_at_segment_end),
        cmocka_unit_test(test_tcp_option_errors_after_csum),
        cmocka_unit_test(test_tcp_parse_resets_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
