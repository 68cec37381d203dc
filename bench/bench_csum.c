/*
 * bench_csum: the Internet checksum of one 1460-byte segment (and of 64 KiB
 * frames), synack's word-at-a-time wire_csum_add against a byte-at-a-time
 * RFC 1071 reference measured in the same run, plus the fused copy and
 * checksum (wire_csum_copy) against memcpy followed by wire_csum_add.
 * Not a test: every result is checked against the reference once, then
 * timed. Each figure is the median of RUNS timings of ITERS calls, in ns per
 * call and GB/s (10^9 bytes/s); the buffers stay in cache.
 *
 * usage: bench_csum [--json] [--runs N]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/wire.h"

#define RUNS_DEFAULT 15

static volatile uint32_t sink; /* keeps results alive */

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* RFC 1071 4.1, byte by byte. */
static uint32_t ref_add(uint32_t init, const uint8_t *p, size_t len)
{
    uint64_t s = init;
    for (size_t i = 0; i < len; i++)
        s += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
    while (s >> 32)
        s = (s & 0xffffffffu) + (s >> 32);
    return (uint32_t)s;
}

enum { K_REF, K_FAST, K_COPY_FUSED, K_COPY_SPLIT, K_MEMCPY };

static uint32_t run_kind(int kind, uint8_t *dst, const uint8_t *src,
                         size_t len)
{
    switch (kind) {
    case K_REF:
        return ref_add(0, src, len);
    case K_FAST:
        return wire_csum_add(0, src, len);
    case K_COPY_FUSED:
        return wire_csum_copy(0, dst, src, len);
    case K_COPY_SPLIT:
        memcpy(dst, src, len);
        return wire_csum_add(0, dst, len);
    default:
        memcpy(dst, src, len);
        return dst[len / 2];
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median ns per call. */
static double measure(int kind, uint8_t *dst, const uint8_t *src, size_t len,
                      int runs)
{
    double t[64];
    long iters = (long)(4e7 / (double)(len + 64)); /* ~ms per timing */
    if (kind == K_REF)
        iters /= 8;
    if (iters < 16)
        iters = 16;
    for (long i = 0; i < iters; i++) /* warm-up */
        sink += run_kind(kind, dst, src, len);
    for (int r = 0; r < runs; r++) {
        double a = now_ns();
        for (long i = 0; i < iters; i++) {
            sink += run_kind(kind, dst, src, len);
            __asm__ __volatile__("" ::: "memory");
        }
        t[r] = (now_ns() - a) / (double)iters;
    }
    qsort(t, (size_t)runs, sizeof(t[0]), cmp_double);
    return t[runs / 2];
}

int main(int argc, char **argv)
{
    int json = 0, runs = RUNS_DEFAULT;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_csum [--json] [--runs N]\n");
            return 2;
        }
    }
    if (runs < 1 || runs > 64)
        runs = RUNS_DEFAULT;
    size_t cap = 65536 + 64;
    uint8_t *src = malloc(cap), *dst = malloc(cap);
    if (!src || !dst)
        return 1;
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (size_t i = 0; i < cap; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        src[i] = (uint8_t)x;
    }
    /* correctness once, at the sizes timed and odd offsets */
    const size_t lens[] = {1460, 1461, 65535};
    for (size_t k = 0; k < 3; k++) {
        for (size_t a = 0; a < 8; a++) {
            uint16_t want = wire_csum_fold(ref_add(0, src + a, lens[k]));
            if (wire_csum_fold(wire_csum_add(0, src + a, lens[k])) != want ||
                wire_csum_fold(wire_csum_copy(0, dst + 1, src + a,
                                              lens[k])) != want) {
                fprintf(stderr, "bench_csum: wrong checksum at len %zu\n",
                        lens[k]);
                return 1;
            }
        }
    }
    double ref = measure(K_REF, dst, src, 1460, runs);
    double fast = measure(K_FAST, dst, src, 1460, runs);
    double fused = measure(K_COPY_FUSED, dst, src, 1460, runs);
    double split = measure(K_COPY_SPLIT, dst, src, 1460, runs);
    double mcpy = measure(K_MEMCPY, dst, src, 1460, runs);
    double fast64 = measure(K_FAST, dst, src, 65535, runs);
    double fused64 = measure(K_COPY_FUSED, dst, src, 65535, runs);
    double split64 = measure(K_COPY_SPLIT, dst, src, 65535, runs);
#define GBS(ns, n) ((double)(n) / (ns))
    if (json) {
        printf("{\"csum_ns_1460\": %.2f, \"csum_gbps_1460\": %.2f, "
               "\"csum_ref_ns_1460\": %.2f, \"csum_vs_ref\": %.2f, "
               "\"csum_gbps_64k\": %.2f, \"csum_copy_ns_1460\": %.2f, "
               "\"memcpy_csum_ns_1460\": %.2f, \"memcpy_ns_1460\": %.2f, "
               "\"csum_copy_gbps_64k\": %.2f, \"memcpy_csum_gbps_64k\": %.2f, "
               "\"csum_copy_vs_split\": %.2f}\n",
               fast, GBS(fast, 1460), ref, ref / fast, GBS(fast64, 65535),
               fused, split, mcpy, GBS(fused64, 65535), GBS(split64, 65535),
               split / fused);
        return 0;
    }
    printf("checksum, median of %d runs (ns per call, GB/s = 10^9 B/s)\n", runs);
    printf("  %-36s %9s %9s\n", "", "ns", "GB/s");
    printf("  %-36s %9.1f %9.2f\n", "reference, byte at a time, 1460 B", ref,
           GBS(ref, 1460));
    printf("  %-36s %9.1f %9.2f   %.1fx the reference\n",
           "wire_csum_add, 1460 B", fast, GBS(fast, 1460), ref / fast);
    printf("  %-36s %9.1f %9.2f\n", "wire_csum_add, 65535 B", fast64,
           GBS(fast64, 65535));
    printf("  %-36s %9.1f %9.2f\n", "memcpy alone, 1460 B", mcpy,
           GBS(mcpy, 1460));
    printf("  %-36s %9.1f %9.2f\n", "memcpy + wire_csum_add, 1460 B", split,
           GBS(split, 1460));
    printf("  %-36s %9.1f %9.2f   %.2fx memcpy+add\n",
           "wire_csum_copy (fused), 1460 B", fused, GBS(fused, 1460),
           split / fused);
    printf("  %-36s %9.1f %9.2f\n", "memcpy + wire_csum_add, 65535 B",
           split64, GBS(split64, 65535));
    printf("  %-36s %9.1f %9.2f   %.2fx memcpy+add\n",
           "wire_csum_copy (fused), 65535 B", fused64, GBS(fused64, 65535),
           split64 / fused64);
    free(src);
    free(dst);
    return 0;
}
