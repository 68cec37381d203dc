/*
 * bench_bigframe: bulk throughput between two stacks in one process over
 * the in-memory link (no delay, no impairment, virtual time), for three
 * links: MTU 1500; a 64 KiB-frame link (MTU 65535); MTU 1500 with
 * segmentation offload (gso_max 65535, the link cuts at 1500). Wall-clock
 * Gbit/s of application bytes, median of RUNS runs, plus the bound: memcpy
 * in + checksum + memcpy out of the same bytes, measured in the same run.
 * Not a test (the bytes are checked, the speed is only printed).
 *
 * usage: bench_bigframe [--bytes N] [--runs N] [--json]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <synack/dev.h>
#include <synack/synack.h>

#include "core/wire.h"

#define BUF (4u << 20)
#define CHUNK (256u << 10)

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static synack_stack *mk(const char *ip, uint8_t last, uint16_t mtu,
                        uint32_t gso)
{
    synack_stack_config c;
    synack_stack_config_init(&c);
    c.mac[0] = 2;
    c.mac[5] = last;
    synack_ip_parse(ip, &c.ip);
    c.mtu = mtu;
    c.gso_max = gso;
    c.seed = last;
    synack_stack *st;
    return synack_stack_new(&c, &st) == 0 ? st : NULL;
}

/* One transfer of nbytes A -> B; returns wall seconds, or -1. */
static double run(uint16_t mtu, uint32_t gso, uint32_t link_mtu,
                  uint64_t nbytes, uint8_t *src, uint8_t *dst)
{
    synack_link_config lc;
    synack_link_config_init(&lc);
    lc.mtu = link_mtu;
    lc.tso = link_mtu != 0;
    synack_link *link;
    synack_dev *pa, *pb;
    synack_vloop *loop;
    synack_stack *a = mk("10.0.0.1", 1, mtu, gso), *b = mk("10.0.0.2", 2, mtu, gso);
    if (!a || !b || synack_link_new(&lc, &link) || synack_link_port(link, &pa) ||
        synack_link_port(link, &pb) || synack_vloop_new(0, &loop))
        return -1;
    synack_attach(a, pa);
    synack_attach(b, pb);
    synack_vloop_add_stack(loop, a);
    synack_vloop_add_stack(loop, b);
    synack_vloop_add_dev(loop, pa);
    synack_vloop_add_dev(loop, pb);
    int bufsz = (int)BUF;
    synack_addr srv = {0, 5001};
    synack_ip_parse("10.0.0.2", &srv.ip);
    int l = synack_socket(b);
    synack_setsockopt(b, l, SYNACK_SO_RCVBUF, &bufsz, sizeof bufsz);
    synack_bind(b, l, &srv);
    synack_listen(b, l, 4);
    int c = synack_socket(a);
    synack_setsockopt(a, c, SYNACK_SO_SNDBUF, &bufsz, sizeof bufsz);
    synack_connect(a, c, &srv, 0);
    int s = -1;
    uint64_t sent = 0, got = 0;
    double t0 = wall();
    while (got < nbytes) {
        synack_time_t now = synack_vloop_now(loop);
        if (s < 0)
            s = synack_accept(b, l, NULL);
        while (sent < nbytes) {
            size_t n = nbytes - sent < CHUNK ? (size_t)(nbytes - sent) : CHUNK;
            ssize_t k = synack_send(a, c, src + sent % BUF, n, now);
            if (k <= 0)
                break;
            sent += (uint64_t)k;
        }
        if (s >= 0) {
            for (;;) {
                ssize_t k = synack_recv(b, s, dst, CHUNK, now);
                if (k <= 0)
                    break;
                if (memcmp(dst, src + got % BUF, (size_t)k) != 0) {
                    fprintf(stderr, "bench_bigframe: wrong bytes\n");
                    return -1;
                }
                got += (uint64_t)k;
            }
        }
        if (got < nbytes && !synack_vloop_step(loop, SYNACK_TIME_NEVER))
            return -1;
    }
    double t = wall() - t0;
    synack_vloop_del(loop);
    synack_stack_del(a);
    synack_stack_del(b);
    synack_dev_destroy(pa);
    synack_dev_destroy(pb);
    synack_link_del(link);
    return t;
}

static int cmpd(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmpd);
    return v[n / 2];
}

int main(int argc, char **argv)
{
    uint64_t nbytes = 1ull << 30;
    int runs = 5, json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--bytes") && i + 1 < argc)
            nbytes = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--json"))
            json = 1;
        else {
            fprintf(stderr, "usage: bench_bigframe [--bytes N] [--runs N] [--json]\n");
            return 2;
        }
    }
    if (runs < 1 || runs > 31)
        runs = 5;
    /* src repeats with period BUF and runs CHUNK past it, so any offset
     * modulo BUF has CHUNK bytes of the stream after it */
    uint8_t *src = malloc(BUF + CHUNK), *dst = malloc(CHUNK), *tmp = malloc(BUF);
    if (!src || !dst || !tmp)
        return 1;
    for (size_t i = 0; i < BUF + CHUNK; i++)
        src[i] = (uint8_t)((i % BUF) * 2654435761u >> 13);
    const struct { const char *name, *key; uint16_t mtu; uint32_t gso, lmtu; } cfgs[] = {
        {"MTU 1500", "bulk_mtu1500_gbps", 1500, 0, 0},
        {"64 KiB frames (MTU 65535)", "bulk_64k_gbps", 65535, 0, 0},
        {"MTU 1500 + GSO 64 KiB, link TSO", "bulk_gso_gbps", 1500, 65535, 1500},
    };
    double g[3], v[31];
    for (int k = 0; k < 3; k++) {
        for (int r = 0; r < runs; r++) {
            double t = run(cfgs[k].mtu, cfgs[k].gso, cfgs[k].lmtu, nbytes, src, dst);
            if (t < 0)
                return 1;
            v[r] = (double)nbytes * 8 / t / 1e9;
        }
        g[k] = median(v, runs);
    }
    /* the bound: copy in (send ring), checksum, copy out (recv), 64 KiB at a
     * time over the same bytes */
    for (int r = 0; r < runs; r++) {
        double t0 = wall();
        uint32_t sum = 0;
        for (uint64_t off = 0; off < nbytes; off += 65536) {
            size_t o = (size_t)(off % BUF);
            memcpy(tmp + o, src + o, 65536);
            sum += wire_csum_add(0, tmp + o, 65536);
            memcpy(dst, tmp + o, 65536 < CHUNK ? 65536 : CHUNK);
        }
        v[r] = (double)nbytes * 8 / (wall() - t0) / 1e9;
        if (sum == 1)
            fprintf(stderr, " ");
    }
    double bound = median(v, runs);
    if (json) {
        printf("{\"%s\": %.2f, \"%s\": %.2f, \"%s\": %.2f, \"bigframe_bound_gbps\": %.2f, "
               "\"bulk_64k_vs_bound\": %.2f, \"bulk_64k_vs_1500\": %.2f}\n",
               cfgs[0].key, g[0], cfgs[1].key, g[1], cfgs[2].key, g[2], bound,
               g[1] / bound, g[1] / g[0]);
    } else {
        printf("bulk over the in-memory link, %llu bytes, median of %d runs (Gbit/s):\n",
               (unsigned long long)nbytes, runs);
        for (int k = 0; k < 3; k++)
            printf("  %-34s %8.2f   %.2fx MTU 1500, %.2f of the bound\n",
                   cfgs[k].name, g[k], g[k] / g[0], g[k] / bound);
        printf("  %-34s %8.2f\n", "bound: memcpy+csum+memcpy", bound);
    }
    free(src);
    free(dst);
    free(tmp);
    return 0;
}
