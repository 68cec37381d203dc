/*
 * The word-at-a-time Internet checksum (wire_csum_add, wire_csum_copy in
 * src/core/wire.c) against a byte-at-a-time RFC 1071 reference: random
 * buffers of every length 0..2048 at every alignment 0..7, chained calls
 * split at every even offset, the fused copy, frames up to 64 KiB, and
 * known vectors. Built three times (tests/unit/wire.cmake): the loop the
 * CPU gets (AVX2 when it has it), SSE2 only (SYNACK_CSUM_NO_AVX2) and the
 * portable loop (SYNACK_CSUM_PORTABLE); test_impl checks which one ran.
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

#define MAXLEN 2048


/* RFC 1071 section 4.1, byte by byte: big-endian 16-bit words, an odd last
 * byte padded with zero, carries folded at the end. Returns the folded sum
 * (not complemented), starting from init. */
static uint16_t ref_sum(uint32_t init, const uint8_t *p, size_t len)
{
    uint64_t s = init;
    for (size_t i = 0; i < len; i++)
        s += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

static uint16_t ref_csum(uint32_t init, const uint8_t *p, size_t len)
{
    return (uint16_t)~ref_sum(init, p, len);
}

/* Folded sums are equal as ones'-complement numbers (0 and 0xffff are both
 * zero), but wire_csum_fold's result must match exactly: a checksum field
 * holds one of them, and a receiver compares bits. */
static void check(const char *what, size_t align, size_t len, uint32_t init,
                  uint16_t got, uint16_t want)
{
    if (got != want)
        fail_msg("%s: align %zu len %zu init %#x: got %#06x want %#06x",
                 what, align, len, init, got, want);
}

static void test_every_length_and_alignment(void **state)
{
    (void)state;
    /* heap, exactly sized per case: ASan sees any read past the end */
    uint64_t rng = 0xc0ffee;
    for (size_t align = 0; align < 8; align++) {
        for (size_t len = 0; len <= MAXLEN; len++) {
            uint8_t *buf = malloc(align + len + 1);
            assert_non_null(buf);
            rng_fill(&rng, buf + align, len);
            uint32_t init = (len % 4 == 0) ? 0 : (uint32_t)rng_next(&rng);
            check("add", align, len, init,
                  wire_csum_fold(wire_csum_add(init, buf + align, len)),
                  ref_csum(init, buf + align, len));
            free(buf);
        }
    }
}

static void test_copy_every_length_and_alignment(void **state)
{
    (void)state;
    static uint8_t src[MAXLEN + 8], dst[MAXLEN + 16];
    uint64_t rng = 7;
    for (size_t align = 0; align < 8; align++) {
        size_t dalign = (align * 3 + 1) % 8; /* a different alignment */
        for (size_t len = 0; len <= MAXLEN; len++) {
            rng_fill(&rng, src + align, len);
            memset(dst, 0xa5, sizeof(dst));
            uint32_t init = (uint32_t)rng_next(&rng) >> (len % 32);
            uint16_t got = wire_csum_fold(
                wire_csum_copy(init, dst + dalign, src + align, len));
            check("copy", align, len, init, got,
                  ref_csum(init, src + align, len));
            if (memcmp(dst + dalign, src + align, len) != 0)
                fail_msg("copy: align %zu len %zu: bytes differ", align, len);
            /* nothing written outside [dalign, dalign + len) */
            for (size_t i = 0; i < dalign; i++)
                assert_int_equal(dst[i], 0xa5);
            for (size_t i = dalign + len; i < sizeof(dst); i++)
                assert_int_equal(dst[i], 0xa5);
        }
    }
}

/* Chaining: every piece but the last even (wire.h's rule), at any
 * address. */
static void test_chained(void **state)
{
    (void)state;
    static uint8_t buf[MAXLEN + 1];
    uint64_t rng = 99;
    rng_fill(&rng, buf, sizeof(buf));
    for (size_t len = sizeof(buf) - 16; len <= sizeof(buf); len++) {
        uint16_t want = ref_csum(0, buf, len);
        for (size_t k = 0; k <= len; k += 2) {
            uint32_t s = wire_csum_add(0, buf, k);
            s = wire_csum_add(s, buf + k, len - k);
            check("split", k, len, 0, wire_csum_fold(s), want);
        }
    }
    /* many random even pieces, mixing add and copy */
    static uint8_t out[MAXLEN + 1];
    for (int round = 0; round < 2000; round++) {
        size_t len = (size_t)(rng_next(&rng) % (MAXLEN + 1));
        uint32_t s = 0;
        size_t off = 0;
        while (off < len) {
            size_t n = (size_t)(rng_next(&rng) % 200) & ~(size_t)1;
            if (n == 0 || off + n > len)
                n = len - off; /* the last piece may be odd */
            if (rng_next(&rng) & 1)
                s = wire_csum_add(s, buf + off, n);
            else
                s = wire_csum_copy(s, out + off, buf + off, n);
            off += n;
        }
        check("pieces", (size_t)round, len, 0, wire_csum_fold(s),
              ref_csum(0, buf, len));
    }
}

/* A region cut at any offset, odd ones included: the piece after an odd
 * cut is summed from 0 and chained with wire_csum_add_odd (add and copy,
 * 64 KiB too, with the ring-end shape of the receive and send paths). */
static void test_odd_split(void **state)
{
    (void)state;
    size_t n = 65536 + 3;
    uint8_t *buf = malloc(n), *out = malloc(n);
    assert_non_null(buf);
    assert_non_null(out);
    uint64_t rng = 1234;
    rng_fill(&rng, buf, n);
    for (size_t len = 0; len <= 300; len++) {
        uint16_t want = ref_csum(0x1f00d, buf, len);
        for (size_t k = 0; k <= len; k++) {
            uint32_t s = wire_csum_add(0x1f00d, buf, k);
            if (k & 1)
                s = wire_csum_add_odd(s, wire_csum_add(0, buf + k, len - k));
            else
                s = wire_csum_add(s, buf + k, len - k);
            check("odd split", k, len, 0x1f00d, wire_csum_fold(s), want);
        }
    }
    for (size_t len = 65480; len <= n; len += 7) {
        for (size_t k = 1; k < len; k += len / 5 + 1) {
            uint32_t s = wire_csum_copy(0, out, buf, k);
            if (k & 1)
                s = wire_csum_add_odd(
                    s, wire_csum_copy(0, out + k, buf + k, len - k));
            else
                s = wire_csum_copy(s, out + k, buf + k, len - k);
            check("odd split 64k", k, len, 0, wire_csum_fold(s),
                  ref_csum(0, buf, len));
            assert_memory_equal(out, buf, len);
        }
    }
    /* all-ones pieces: the carries of the swapped piece */
    memset(buf, 0xff, 301);
    for (size_t k = 1; k < 300; k += 2)
        check("odd split ones", k, 301, 0xffffffffu,
              wire_csum_fold(wire_csum_add_odd(
                  wire_csum_add(0xffffffffu, buf, k),
                  wire_csum_add(0, buf + k, 301 - k))),
              ref_csum(0xffffffffu, buf, 301));
    free(buf);
    free(out);
}

/* 64 KiB frames, and bytes that make every carry chain overflow. */
static void test_large_and_carries(void **state)
{
    (void)state;
    size_t n = 65536 + 7;
    uint8_t *buf = malloc(n), *cp = malloc(n);
    assert_non_null(buf);
    assert_non_null(cp);
    uint64_t rng = 3;
    rng_fill(&rng, buf, n);
    for (size_t len = 65521; len <= 65536 + 7; len++)
        check("64k", 0, len, 0xfffff,
              wire_csum_fold(wire_csum_copy(0xfffff, cp, buf, len)),
              ref_csum(0xfffff, buf, len));
    memset(buf, 0xff, n);
    for (size_t len = 0; len <= 200; len++) {
        check("ones", 1, len, 0xffffffffu,
              wire_csum_fold(wire_csum_add(0xffffffffu, buf + 1, len)),
              ref_csum(0xffffffffu, buf + 1, len));
    }
    check("ones 64k", 0, n, 0,
          wire_csum_fold(wire_csum_add(0, buf, n)), ref_csum(0, buf, n));
    free(buf);
    free(cp);
}

static void test_known_vectors(void **state)
{
    (void)state;
    /* RFC 1071 section 3 numerical example: the words sum to ddf2. */
    const uint8_t r[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    assert_int_equal(wire_csum_fold(wire_csum_add(0, r, sizeof(r))),
                     (uint16_t)~0xddf2);
    /* An IPv4 header (192.168.0.1 -> 192.168.0.199, UDP, total 115) whose
     * checksum is 0xb861, and which verifies to zero with it in place. */
    uint8_t ip[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00,
                      0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01,
                      0xc0, 0xa8, 0x00, 0xc7};
    assert_int_equal(wire_csum_fold(wire_csum_add(0, ip, 20)), 0xb861);
    ip[10] = 0xb8;
    ip[11] = 0x61;
    assert_int_equal(wire_csum_fold(wire_csum_add(0, ip, 20)), 0);
    /* empty input: the complement of the initial value */
    assert_int_equal(wire_csum_fold(wire_csum_add(0, ip, 0)), 0xffff);
    assert_int_equal(wire_csum_fold(wire_csum_add(0x1234, ip, 0)), 0xedcb);
    /* one odd byte is the high half of a word */
    const uint8_t one = 0x01;
    assert_int_equal(wire_csum_fold(wire_csum_add(0, &one, 1)), 0xfeff);
}

/* The build tested the loop it means to: AVX2 whenever the CPU has it
 * (unless left out), so that every implementation is covered on a machine
 * with AVX2. */
static void test_impl(void **state)
{
    (void)state;
    const char *impl = wire_csum_impl();
    const char *want = "portable";
#if defined(SYNACK_CSUM_PORTABLE)
    want = "portable";
#elif defined(__x86_64__) && defined(__GNUC__)
    want = "sse2";
#if !defined(SYNACK_CSUM_NO_AVX2)
    if (__builtin_cpu_supports("avx2"))
        want = "avx2";
#endif
#endif
    print_message("checksum loop: %s\n", impl);
    assert_string_equal(impl, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_impl),
        cmocka_unit_test(test_every_length_and_alignment),
        cmocka_unit_test(test_copy_every_length_and_alignment),
        cmocka_unit_test(test_chained),
        cmocka_unit_test(test_odd_split),
        cmocka_unit_test(test_large_and_carries),
        cmocka_unit_test(test_known_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
