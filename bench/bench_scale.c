/*
 * bench_scale: a million concurrent established connections on one stack.
 *
 * One server stack; the clients are frames scripted here (one client
 * address, 60,000 client ports per server port, as many listening ports as
 * needed), so all the memory measured is the server's. For N = 10k, 100k
 * and 1M: open N connections (SYN, SYN-ACK, ACK, accept), hold them idle
 * for HOLD_TICKS ticks of one virtual second each (keepalive off; each tick
 * asks the stack for its next deadline and advances it), then close them
 * all (the client's FIN, the application's close, the client's ACK of the
 * server's FIN) until the stack holds only its listeners again.
 *
 * Printed: the server's mem_used (everything the stack allocated: control
 * blocks, the handle, hash and timer tables, buffers) and the process's
 * resident set, both all-in, per connection; the wall time to open, hold
 * (per tick) and close; the ratios 1M/100k, which are ~10 when the cost is
 * linear. --json prints one flat JSON object instead of the table.
 *
 * A benchmark, not a test: nothing here is asserted except that the
 * handshakes and closes happen as scripted (exit 1 if not).
 *
 *   bench_scale [--json] [--max N] [--check] [--bufsize BYTES]
 *
 * --max N stops at N connections (N itself is run if it is not 10k, 100k
 * or 1M); --check runs synack_stack_check after opening and closing;
 * --bufsize sets tcp_rmem and tcp_wmem to BYTES (for comparing with a
 * stack that allocates its rings at establishment).
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#endif
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <synack/synack.h>

#include "core/wire.h"

#define SRV_IP 0x0a000001u /* 10.0.0.1 */
#define CLI_IP 0x0a000002u /* 10.0.0.2 */
#define PORTS_PER_LISTENER 60000u
#define CLI_PORT0 1025u
#define SRV_PORT0 5000u
#define HOLD_TICKS 30
#define CLI_ISN 1000u

static const uint8_t srv_mac[6] = {2, 0, 0, 0, 0, 1};
static const uint8_t cli_mac[6] = {2, 0, 0, 0, 0, 2};

/* The last TCP segment the server sent. */
static struct {
    uint64_t frames;
    uint8_t flags;
    uint32_t seq, ack;
} out;

static void on_output(void *ctx, const uint8_t *f, size_t len,
                      synack_time_t now)
{
    (void)ctx;
    (void)now;
    out.frames++;
    if (len < 54 || f[12] != 0x08 || f[13] != 0x00 || f[23] != 6)
        return;
    const uint8_t *t = f + 14 + (f[14] & 0xf) * 4;
    out.seq = (uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 |
              (uint32_t)t[6] << 8 | t[7];
    out.ack = (uint32_t)t[8] << 24 | (uint32_t)t[9] << 16 |
              (uint32_t)t[10] << 8 | t[11];
    out.flags = t[13];
}

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, res = 0;
    if (f) {
        if (fscanf(f, "%lu %lu", &size, &res) != 2)
            res = 0;
        fclose(f);
    }
    return (uint64_t)res * 4096u;
}

/* A client segment (no options, no data) to the server. */
static void send_seg(synack_stack *st, uint16_t cport, uint16_t sport,
                     uint32_t seq, uint32_t ack, uint8_t flags,
                     synack_time_t now)
{
    uint8_t f[54];
    memset(f, 0, sizeof(f));
    memcpy(f, srv_mac, 6);
    memcpy(f + 6, cli_mac, 6);
    f[12] = 0x08;
    uint8_t *ip = f + 14;
    ip[0] = 0x45;
    wire_put16(ip + 2, 40);
    ip[8] = 64;
    ip[9] = 6;
    wire_put32(ip + 12, CLI_IP);
    wire_put32(ip + 16, SRV_IP);
    wire_put16(ip + 10, wire_csum_fold(wire_csum_add(0, ip, 20)));
    uint8_t *t = ip + 20;
    wire_put16(t, cport);
    wire_put16(t + 2, sport);
    wire_put32(t + 4, seq);
    wire_put32(t + 8, ack);
    t[12] = 5 << 4;
    t[13] = flags;
    wire_put16(t + 14, 65535);
    uint32_t s = wire_csum_pseudo(CLI_IP, SRV_IP, 6, 20);
    wire_put16(t + 16, wire_csum_fold(wire_csum_add(s, t, 20)));
    synack_stack_input(st, f, sizeof(f), now);
}

typedef struct result {
    uint32_t n;
    double open_s, hold_tick_us, close_s;
    uint64_t mem_open, mem_base, rss_open, rss_base;
} result;

static int check(synack_stack *st, const char *when, bool on)
{
    char msg[256];
    if (on && synack_stack_check(st, msg, sizeof(msg))) {
        fprintf(stderr, "bench_scale: %s: %s\n", when, msg);
        return -1;
    }
    return 0;
}

static int bufsize;

static int run(uint32_t n, bool do_check, result *r)
{
    memset(r, 0, sizeof(*r));
    r->n = n;
    uint32_t nl = (n + PORTS_PER_LISTENER - 1) / PORTS_PER_LISTENER;
    synack_stack_config cfg;
    synack_stack_config_init(&cfg);
    memcpy(cfg.mac, srv_mac, 6);
    cfg.ip = SRV_IP;
    cfg.prefix_len = 24;
    cfg.max_sockets = n + nl + 16;
    cfg.mem_limit = (uint64_t)1 << 40; /* measured, not limited */
    cfg.seed = 1;
    memset(cfg.isn_secret, 7, sizeof(cfg.isn_secret));
    cfg.output = on_output;
    synack_stack *st;
    r->rss_base = rss_bytes();
    if (synack_stack_new(&cfg, &st) < 0)
        return -1;
    synack_arp_add(st, CLI_IP, cli_mac, 0);
    if (bufsize > 0) {
        char v[64];
        snprintf(v, sizeof(v), "%d %d %d", bufsize, bufsize, bufsize);
        if (synack_sysctl_set(st, "tcp_rmem", v) < 0 ||
            synack_sysctl_set(st, "tcp_wmem", v) < 0)
            return -1;
    }
    synack_time_t now = 1 * SYNACK_SEC;
    int *ls = calloc(nl, sizeof(int));
    int *hs = calloc(n, sizeof(int));
    uint32_t *iss = calloc(n, sizeof(uint32_t));
    if (!ls || !hs || !iss)
        return -1;
    for (uint32_t l = 0; l < nl; l++) {
        ls[l] = synack_socket(st);
        synack_addr a = {0, (uint16_t)(SRV_PORT0 + l)};
        if (ls[l] < 0 || synack_bind(st, ls[l], &a) < 0 ||
            synack_listen(st, ls[l], 128) < 0)
            return -1;
    }
    synack_stack_stats ss;
    synack_stack_get_stats(st, &ss);
    r->mem_base = ss.mem_used;

    double t0 = wall();
    for (uint32_t i = 0; i < n; i++) {
        uint32_t l = i / PORTS_PER_LISTENER;
        uint16_t cport = (uint16_t)(CLI_PORT0 + i % PORTS_PER_LISTENER);
        uint16_t sport = (uint16_t)(SRV_PORT0 + l);
        out.flags = 0;
        send_seg(st, cport, sport, CLI_ISN, 0, SYNACK_TH_SYN, now);
        if (out.flags != (SYNACK_TH_SYN | SYNACK_TH_ACK)) {
            fprintf(stderr, "bench_scale: no SYN,ACK for connection %u\n", i);
            return -1;
        }
        iss[i] = out.seq;
        send_seg(st, cport, sport, CLI_ISN + 1, iss[i] + 1, SYNACK_TH_ACK,
                 now);
        hs[i] = synack_accept(st, ls[l], NULL);
        if (hs[i] < 0) {
            fprintf(stderr, "bench_scale: accept %u: %d\n", i, hs[i]);
            synack_stack_get_stats(st, &ss);
            fprintf(stderr, "  passive %" PRIu64 " cookies %" PRIu64 " tcp_in %" PRIu64 " tcp_out %" PRIu64 " rst %" PRIu64 " conns %zu mem %" PRIu64 "\n", ss.conns_passive, ss.syncookies_sent, ss.tcp_in, ss.tcp_out, ss.tcp_rst_out, synack_stack_conn_count(st), ss.mem_used);
            for (int k = 0; k < SYNACK__DROP_COUNT; k++)
                if (ss.drops[k])
                    fprintf(stderr, "  drop %s %" PRIu64 "\n", synack_drop_name(k), ss.drops[k]);
            return -1;
        }
        if ((i & 1023) == 1023)
            now += SYNACK_MSEC; /* ~1M connections per virtual second */
    }
    r->open_s = wall() - t0;
    synack_stack_get_stats(st, &ss);
    r->mem_open = ss.mem_used;
    r->rss_open = rss_bytes();
    if (check(st, "after open", do_check) < 0)
        return -1;

    t0 = wall();
    for (int k = 0; k < HOLD_TICKS; k++) {
        now += SYNACK_SEC;
        synack_time_t d = synack_stack_next_deadline(st);
        if (d <= now)
            synack_stack_advance(st, now);
    }
    r->hold_tick_us = (wall() - t0) * 1e6 / HOLD_TICKS;
    if (synack_stack_conn_count(st) != (size_t)n + nl) {
        fprintf(stderr, "bench_scale: connections lost while idle\n");
        return -1;
    }

    t0 = wall();
    for (uint32_t i = 0; i < n; i++) {
        uint16_t cport = (uint16_t)(CLI_PORT0 + i % PORTS_PER_LISTENER);
        uint16_t sport = (uint16_t)(SRV_PORT0 + i / PORTS_PER_LISTENER);
        send_seg(st, cport, sport, CLI_ISN + 1, iss[i] + 1,
                 SYNACK_TH_FIN | SYNACK_TH_ACK, now);
        out.flags = 0;
        synack_close(st, hs[i], now);
        if (!(out.flags & SYNACK_TH_FIN)) {
            fprintf(stderr, "bench_scale: no FIN for connection %u\n", i);
            return -1;
        }
        send_seg(st, cport, sport, CLI_ISN + 2, iss[i] + 2, SYNACK_TH_ACK,
                 now);
        if ((i & 1023) == 1023)
            now += SYNACK_MSEC;
    }
    synack_stack_advance(st, now);
    r->close_s = wall() - t0;
    if (synack_stack_conn_count(st) != nl) {
        fprintf(stderr, "bench_scale: %zu connections left after close\n",
                synack_stack_conn_count(st) - nl);
        return -1;
    }
    if (check(st, "after close", do_check) < 0)
        return -1;
    synack_stack_del(st);
    free(ls);
    free(hs);
    free(iss);
    return 0;
}

static double mib(uint64_t b)
{
    return (double)b / (1024.0 * 1024.0);
}

int main(int argc, char **argv)
{
    bool json = false, do_check = false;
    uint32_t max = 1000000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = true;
        else if (!strcmp(argv[i], "--check"))
            do_check = true;
        else if (!strcmp(argv[i], "--max") && i + 1 < argc)
            max = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--bufsize") && i + 1 < argc)
            bufsize = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_scale [--json] [--max N] "
                            "[--check] [--bufsize BYTES]\n");
            return 2;
        }
    }
    uint32_t sizes[4] = {10000, 100000, 1000000, 0};
    int ns = 0;
    while (ns < 3 && sizes[ns] <= max)
        ns++;
    if (ns < 3 && max > 0 && (ns == 0 || max > sizes[ns - 1]))
        sizes[ns++] = max;
    result res[4];
    int nr = 0;
    for (int i = 0; i < ns; i++) {
        if (run(sizes[i], do_check, &res[nr]) < 0)
            return 1;
        nr++;
    }
    if (nr == 0)
        return 2;
    const result *big = &res[nr - 1];
    const result *mid = nr > 1 ? &res[nr - 2] : big;
    uint64_t per_conn = big->mem_open / big->n;
    uint64_t rss_per_conn = big->rss_open > big->rss_base
                                ? (big->rss_open - big->rss_base) / big->n
                                : 0;
    double ratio_open = big->open_s / mid->open_s;
    double ratio_close = big->close_s / mid->close_s;
    double ratio_n = (double)big->n / mid->n;
    if (json) {
        printf("{\"conns\": %u, \"mem_1m_conn_mib\": %.1f, "
               "\"rss_1m_conn_mib\": %.1f, \"bytes_per_conn\": %" PRIu64
               ", \"rss_bytes_per_conn\": %" PRIu64
               ", \"open_1m_s\": %.3f, \"hold_1m_tick_us\": %.2f, "
               "\"close_1m_s\": %.3f, \"open_100k_s\": %.3f, "
               "\"close_100k_s\": %.3f, \"open_ratio_1m_vs_100k\": %.2f, "
               "\"close_ratio_1m_vs_100k\": %.2f, \"size_ratio\": %.0f}\n",
               big->n, mib(big->mem_open),
               mib(big->rss_open - big->rss_base), per_conn,
               rss_per_conn, big->open_s, big->hold_tick_us, big->close_s,
               mid->open_s, mid->close_s, ratio_open, ratio_close, ratio_n);
        return 0;
    }
    printf("%10s %12s %10s %12s %10s %14s %10s\n", "conns", "mem_used MiB",
           "B/conn", "RSS+ MiB", "open s", "hold us/tick", "close s");
    for (int i = 0; i < nr; i++) {
        const result *r = &res[i];
        printf("%10u %12.1f %10" PRIu64 " %12.1f %10.3f %14.2f %10.3f\n",
               r->n, mib(r->mem_open), r->mem_open / r->n,
               mib(r->rss_open - r->rss_base), r->open_s, r->hold_tick_us,
               r->close_s);
    }
    printf("ratios %u/%u: open %.2f, close %.2f (linear: %.0f)\n", big->n,
           mid->n, ratio_open, ratio_close, ratio_n);
    return 0;
}
