/*
 * bench_synack: synack's side of the in-memory benchmarks.
 *
 *   bench_synack bulk MTU MIB [cg]   bulk throughput, two stacks, one thread
 *                                    (cg: no verified warm-up, for callgrind)
 *   bench_synack scale MTU MIB       the same on 1 then 2 threads (each its
 *                                    own pair of stacks: shared-nothing)
 *   bench_synack bound SEG MIB       copy in + checksum + copy out bound
 *   bench_synack connrate N          connect, 1 byte each way, close, accept
 *   bench_synack rr N                1-byte request/response round trips
 *   bench_synack loss PCT RTT_MS MIB SEED
 *                                    goodput on the lossy virtual-time link
 *   bench_synack memidle N           memory per idle connection
 *
 * Two stacks, A (10.0.0.1) and B (10.0.0.2), joined by two frame queues
 * (bench.h): on the lossless queues a stack builds its TCP segments in the
 * queue's next slot (synack_stack_config.tx_buffer; other frames are copied
 * in by output()), and each queue's frames are handed to
 * synack_stack_input from there as one input batch
 * (synack_stack_batch_begin/end). BENCH_TXCOPY=1 and BENCH_NOBATCH=1 turn
 * either off. The same queues carry lwIP's frames in bench_lwip (a pbuf
 * pointer per frame, the frame copied once into the peer's pbuf). Output:
 * "key value" lines (bench.h).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <synack/synack.h>

#include "bench.h"
#include "core/wire.h"

#define IP_A 0x0a000001u
#define IP_B 0x0a000002u
#define PORT 5001
#define BUF_BYTES 65536 /* SO_SNDBUF and SO_RCVBUF: lwIP's 64 KiB window */

static const uint8_t MAC_A[6] = {2, 0, 0, 0, 0, 1};
static const uint8_t MAC_B[6] = {2, 0, 0, 0, 0, 2};

typedef struct pair {
    synack_stack *a, *b;
    bench_fq ab, ba;         /* lossless queues (bulk, connrate, rr) */
    bench_lossy lab, lba;    /* or the lossy link (loss) */
    int lossy;
    int ls, cs, ss;          /* listener on B, client on A, server on B */
} pair;

static void out_a(void *ctx, const uint8_t *f, size_t len, synack_time_t now)
{
    pair *p = ctx;
    if (p->lossy)
        bench_lossy_send(&p->lab, f, len, now);
    else
        bench_fq_push(&p->ab, f, len, now);
}
static void out_b(void *ctx, const uint8_t *f, size_t len, synack_time_t now)
{
    pair *p = ctx;
    if (p->lossy)
        bench_lossy_send(&p->lba, f, len, now);
    else
        bench_fq_push(&p->ba, f, len, now);
}

/* In-place transmit (synack_stack_config.tx_buffer): the lossless queues
 * hand their next slot to the stack, which builds its TCP segments there;
 * the frame is then taken without a copy. BENCH_TXCOPY=1 turns it off (the
 * copy in out_a/out_b, as before). */
static uint8_t *txbuf_a(void *ctx, size_t cap)
{
    return bench_fq_peek(&((pair *)ctx)->ab, cap);
}
static uint8_t *txbuf_b(void *ctx, size_t cap)
{
    return bench_fq_peek(&((pair *)ctx)->ba, cap);
}
static void txcommit_a(void *ctx, uint8_t *f, size_t len, synack_time_t now)
{
    bench_fq_commit(&((pair *)ctx)->ab, f, len, now);
}
static void txcommit_b(void *ctx, uint8_t *f, size_t len, synack_time_t now)
{
    bench_fq_commit(&((pair *)ctx)->ba, f, len, now);
}

static synack_stack *mkstack(uint32_t ip, const uint8_t mac[6], uint16_t mtu,
                             uint64_t seed, void (*out)(void *, const uint8_t *,
                                                        size_t, synack_time_t),
                             void *ctx, int *err)
{
    synack_stack_config cfg;
    synack_stack_config_init(&cfg);
    memcpy(cfg.mac, mac, 6);
    cfg.ip = ip;
    cfg.prefix_len = 24;
    cfg.mtu = mtu;
    cfg.max_sockets = 1u << 16;
    cfg.mem_limit = 1ull << 31;
    cfg.seed = seed;
    memset(cfg.isn_secret, (int)(seed & 0xff) + 1, sizeof(cfg.isn_secret));
    cfg.output = out;
    cfg.output_ctx = ctx;
    const char *tc = getenv("BENCH_TXCOPY");
    if (ctx && !((pair *)ctx)->lossy && !(tc && *tc == '1')) {
        cfg.tx_buffer = out == out_a ? txbuf_a : txbuf_b;
        cfg.tx_commit = out == out_a ? txcommit_a : txcommit_b;
    }
    synack_stack *st = NULL;
    *err = synack_stack_new(&cfg, &st);
    return st;
}

/* A pair of stacks; NULL with *err set when synack refuses the MTU. */
static pair *pair_new_buf(uint16_t mtu, int lossy, double loss,
                          uint64_t delay, uint64_t seed, int buf, int *err)
{
    pair *p = calloc(1, sizeof(*p));
    if (!p)
        bench_die("out of memory");
    p->lossy = lossy;
    size_t slot = (size_t)mtu + 14 + 64;
    if (lossy) {
        bench_lossy_init(&p->lab, slot, loss, delay, 1000000000ull, seed * 2 + 1);
        bench_lossy_init(&p->lba, slot, loss, delay, 1000000000ull, seed * 2 + 2);
    } else {
        size_t cap = mtu > 9000 ? 512 : 8192;
        bench_fq_init(&p->ab, slot, cap);
        bench_fq_init(&p->ba, slot, cap);
    }
    p->a = mkstack(IP_A, MAC_A, mtu, seed * 2 + 11, out_a, p, err);
    if (!p->a)
        return NULL;
    p->b = mkstack(IP_B, MAC_B, mtu, seed * 2 + 12, out_b, p, err);
    if (!p->b)
        return NULL;
    synack_arp_add(p->a, IP_B, MAC_B, 0);
    synack_arp_add(p->b, IP_A, MAC_A, 0);
    /* TIME-WAIT of 1 s: what Linux's tcp_tw_reuse allows (a port in
     * TIME-WAIT is reused after 1 s), so that connrate's client side does
     * not run out of ports. */
    synack_sysctl_set(p->a, "tcp_timewait_len", "1");
    synack_sysctl_set(p->b, "tcp_timewait_len", "1");
    p->ls = synack_socket(p->b);
    int one = 1;
    synack_setsockopt(p->b, p->ls, SYNACK_SO_REUSEADDR, &one, sizeof(one));
    if (buf > 0) {
        synack_setsockopt(p->b, p->ls, SYNACK_SO_RCVBUF, &buf, sizeof(buf));
        synack_setsockopt(p->b, p->ls, SYNACK_SO_SNDBUF, &buf, sizeof(buf));
    }
    synack_addr la = {IP_B, PORT};
    if (synack_bind(p->b, p->ls, &la) < 0 ||
        synack_listen(p->b, p->ls, 4096) < 0)
        bench_die("listen failed");
    p->cs = p->ss = -1;
    return p;
}

static pair *pair_new(uint16_t mtu, int lossy, double loss, uint64_t delay,
                      uint64_t seed, int *err)
{
    return pair_new_buf(mtu, lossy, loss, delay, seed, BUF_BYTES, err);
}

static void pair_del(pair *p)
{
    synack_stack_del(p->a);
    synack_stack_del(p->b);
    if (p->lossy) {
        bench_fq_free(&p->lab.q);
        bench_fq_free(&p->lba.q);
    } else {
        bench_fq_free(&p->ab);
        bench_fq_free(&p->ba);
    }
    free(p);
}

/* Deliver every queued frame (lossless queues), both ways, until quiet.
 * What one queue holds is one input batch (synack_stack_batch_begin/end:
 * an ACK per batch for in-order data, as a driver's poll with GRO);
 * BENCH_NOBATCH=1 hands the frames in one by one instead. */
static int g_batch = 1; /* BENCH_NOBATCH, read once in main */
static void pump(pair *p, synack_time_t now)
{
    size_t len;
    const uint8_t *f;
    int batch = g_batch;
    for (;;) {
        int moved = 0;
        if (batch)
            synack_stack_batch_begin(p->b);
        while ((f = bench_fq_pop(&p->ab, &len)) != NULL) {
            synack_stack_input(p->b, f, len, now);
            moved = 1;
        }
        if (batch) {
            synack_stack_batch_end(p->b, now);
            synack_stack_batch_begin(p->a);
        }
        while ((f = bench_fq_pop(&p->ba, &len)) != NULL) {
            synack_stack_input(p->a, f, len, now);
            moved = 1;
        }
        if (batch)
            synack_stack_batch_end(p->a, now);
        if (!moved)
            return;
    }
}

static void timers(pair *p, synack_time_t now)
{
    if (synack_stack_next_deadline(p->a) <= now)
        synack_stack_advance(p->a, now);
    if (synack_stack_next_deadline(p->b) <= now)
        synack_stack_advance(p->b, now);
}

/* Connect A's new socket to B and accept it (lossless queues); buf: the
 * client's SO_SNDBUF and SO_RCVBUF (0: synack's defaults). */
static int pair_connect_buf(pair *p, synack_time_t now, int buf)
{
    int c = synack_socket(p->a);
    if (buf > 0) {
        synack_setsockopt(p->a, c, SYNACK_SO_RCVBUF, &buf, sizeof(buf));
        synack_setsockopt(p->a, c, SYNACK_SO_SNDBUF, &buf, sizeof(buf));
    }
    synack_addr ra = {IP_B, PORT};
    int r = synack_connect(p->a, c, &ra, now);
    if (r != -SYNACK_EINPROGRESS)
        bench_die("connect: %s", synack_strerror(r));
    pump(p, now);
    int s = synack_accept(p->b, p->ls, NULL);
    if (s < 0)
        bench_die("accept: %s", synack_strerror(s));
    p->cs = c;
    p->ss = s;
    return 0;
}
static int pair_connect(pair *p, synack_time_t now)
{
    return pair_connect_buf(p, now, BUF_BYTES);
}

/* ---- bulk ---------------------------------------------------------------- */
typedef struct bulk_res {
    double gbps;
    uint64_t bytes, segs, ns, cpu_ns;
    int ok;
} bulk_res;

__attribute__((noinline))
static bulk_res run_bulk(pair *p, const uint8_t *pat, uint64_t total,
                         int verify)
{
    bulk_res r = {0};
    uint8_t *rbuf = malloc(BENCH_PAT_SPAN);
    if (!rbuf)
        bench_die("out of memory");
    synack_time_t now = bench_clock_ns();
    pair_connect(p, now);
    synack_stack_stats s0;
    synack_stack_get_stats(p->a, &s0);
    uint64_t sent = 0, got = 0, t0 = bench_clock_ns(), last = t0;
    uint64_t c0 = bench_thread_cpu_ns();
    int ok = 1;
    while (got < total) {
        now = bench_clock_ns();
        int progress = 0;
        while (sent < total) {
            uint64_t want = total - sent;
            size_t n = want < BENCH_PAT_SPAN ? (size_t)want : BENCH_PAT_SPAN;
            ssize_t k = synack_send(p->a, p->cs, pat + sent % BENCH_PAT_PERIOD,
                                    n, now);
            if (k <= 0)
                break;
            sent += (uint64_t)k;
            progress = 1;
        }
        pump(p, now);
        for (;;) {
            ssize_t k = synack_recv(p->b, p->ss, rbuf, BENCH_PAT_SPAN, now);
            if (k <= 0)
                break;
            if (verify && !bench_pattern_ok(pat, got, rbuf, (size_t)k))
                ok = 0;
            got += (uint64_t)k;
            progress = 1;
        }
        pump(p, now);
        timers(p, now);
        if (progress)
            last = now;
        else if (now - last > 5 * SYNACK_SEC) {
            fprintf(stderr, "bulk: stalled at %llu of %llu bytes\n",
                    (unsigned long long)got, (unsigned long long)total);
            ok = 0;
            break;
        }
    }
    uint64_t t1 = bench_clock_ns();
    r.cpu_ns = bench_thread_cpu_ns() - c0;
    synack_stack_stats s1;
    synack_stack_get_stats(p->a, &s1);
    r.ns = t1 - t0;
    r.bytes = got;
    r.segs = s1.tcp_out - s0.tcp_out;
    r.gbps = (double)got * 8.0 / (double)r.ns;
    r.ok = ok && got == total && p->ab.drops == 0 && p->ba.drops == 0;
    if (p->ab.drops || p->ba.drops)
        fprintf(stderr, "bulk: frame queue overflow (%llu, %llu)\n",
                (unsigned long long)p->ab.drops,
                (unsigned long long)p->ba.drops);
    synack_close(p->a, p->cs, now);
    synack_close(p->b, p->ss, now);
    pump(p, now);
    free(rbuf);
    return r;
}

static void out_none(void *ctx, const uint8_t *f, size_t len,
                     synack_time_t now)
{
    (void)ctx;
    (void)f;
    (void)len;
    (void)now;
}

static int mtu_accepted(uint16_t mtu)
{
    int err;
    synack_stack *st = mkstack(IP_A, MAC_A, mtu, 1, out_none, NULL, &err);
    if (!st)
        return 0;
    synack_stack_del(st);
    return 1;
}

static const char *mtu_key(uint16_t mtu)
{
    return mtu == 1500 ? "bulk" : mtu >= 65000 ? "bulk64k" : "bulk_mtu";
}

/* cg: one run without the verified warm-up (callgrind counts run_bulk) */
static int cmd_bulk(uint16_t mtu, uint64_t mib, int cg)
{
    const char *key = mtu_key(mtu);
    char k[64];
    snprintf(k, sizeof(k), "%s_gbps", key);
    if (!mtu_accepted(mtu)) {
        /* the largest MTU synack takes (it only grows with the stack) */
        uint16_t lo = 576, hi = mtu;
        while (hi - lo > 1) {
            uint16_t mid = (uint16_t)(lo + (hi - lo) / 2);
            if (mtu_accepted(mid))
                lo = mid;
            else
                hi = mid;
        }
        if (mtu < 65000 || lo < 16384) {
            bench_na(k, "synack refuses MTU %u: its largest is %u", mtu, lo);
            return 0;
        }
        mtu = lo; /* a 64 KiB-class link: the largest synack takes */
    }
    if (mtu >= 16384) {
        snprintf(k, sizeof(k), "%s_mtu", key);
        bench_fig(k, mtu);
        snprintf(k, sizeof(k), "%s_gbps", key);
    }
    uint8_t *pat = bench_pattern();
    int err;
    pair *p = pair_new(mtu, 0, 0, 0, 1, &err);
    if (!p)
        bench_die("stack with MTU %u: %s", mtu, synack_strerror(err));
    /* A verified warm-up run (every byte compared), then the timed one. */
    if (!cg) {
        bulk_res v = run_bulk(p, pat, 16ull << 20, 1);
        snprintf(k, sizeof(k), "%s_verified", key);
        bench_fig(k, v.ok);
        if (!v.ok)
            return 1;
    }
    bulk_res r = run_bulk(p, pat, mib << 20, 0);
    snprintf(k, sizeof(k), "%s_gbps", key);
    if (!r.ok)
        bench_na(k, "transfer incomplete");
    else
        bench_fig(k, r.gbps);
    snprintf(k, sizeof(k), "%s_segs", key);
    bench_fig(k, (double)r.segs);
    pair_del(p);
    free(pat);
    return 0;
}

/* ---- scale: 1 thread, then 2 threads with a pair each ------------------- */
typedef struct worker {
    pthread_t th;
    pthread_barrier_t *bar;
    uint16_t mtu;
    uint64_t bytes;
    int cpu;
    bulk_res r;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    if (w->cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(w->cpu, &set);
        pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
    }
    uint8_t *pat = bench_pattern();
    int err;
    pair *p = pair_new(w->mtu, 0, 0, 0, (uint64_t)w->cpu + 7, &err);
    if (!p)
        bench_die("stack: %s", synack_strerror(err));
    run_bulk(p, pat, 4ull << 20, 1); /* warm up */
    if (w->bar)
        pthread_barrier_wait(w->bar);
    w->r = run_bulk(p, pat, w->bytes, 0);
    pair_del(p);
    free(pat);
    return NULL;
}

static int cmd_scale(uint16_t mtu, uint64_t mib)
{
    worker one = {.mtu = mtu, .bytes = mib << 20, .cpu = 0};
    worker_main(&one);
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, 2);
    worker two[2];
    for (int i = 0; i < 2; i++) {
        two[i] = (worker){.bar = &bar, .mtu = mtu, .bytes = mib << 20,
                          .cpu = i};
        pthread_create(&two[i].th, NULL, worker_main, &two[i]);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(two[i].th, NULL);
    pthread_barrier_destroy(&bar);
    if (!one.r.ok || !two[0].r.ok || !two[1].r.ok) {
        bench_na("scale_2core_gbps", "transfer incomplete");
        return 1;
    }
    uint64_t ns = two[0].r.ns > two[1].r.ns ? two[0].r.ns : two[1].r.ns;
    double agg = (double)(two[0].r.bytes + two[1].r.bytes) * 8.0 / (double)ns;
    bench_fig("scale_1core_gbps", one.r.gbps);
    bench_fig("scale_2core_gbps", agg);
    /* Per CPU-second each thread got: equal to the single thread's when
     * nothing is shared, whatever else the machine is running. */
    double e1 = (double)one.r.bytes * 8.0 / (double)one.r.cpu_ns;
    double e2 = 0;
    for (int i = 0; i < 2; i++)
        e2 += (double)two[i].r.bytes * 8.0 / (double)two[i].r.cpu_ns / 2.0;
    bench_fig("scale_1core_cpu_gbps", e1);
    bench_fig("scale_2core_cpu_gbps", e2);
    bench_fig("scale_2core_cpu_share",
              (double)(two[0].r.cpu_ns + two[1].r.cpu_ns) / (double)ns);
    return 0;
}

/* ---- the copy + checksum bound --------------------------------------- */
static uint32_t naive_csum(const uint8_t *p, size_t len)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        s += (uint32_t)p[len - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return s;
}

static double bound_run(size_t seg, uint64_t total, int naive)
{
    /* The application's buffers and the "segment" in between, sizes as the
     * bulk run: 256 KiB in and out, one segment of seg bytes. */
    uint8_t *src = bench_pattern();
    uint8_t *dst = malloc(BENCH_PAT_SPAN);
    uint8_t *mid = malloc(seg);
    if (!dst || !mid)
        bench_die("out of memory");
    memset(dst, 0, BENCH_PAT_SPAN);
    volatile uint32_t sink = 0;
    uint64_t t0 = bench_clock_ns(), done = 0;
    size_t off = 0;
    while (done < total) {
        if (off + seg > BENCH_PAT_SPAN)
            off = 0;
        memcpy(mid, src + off, seg);
        uint32_t s = naive ? naive_csum(mid, seg) : wire_csum_add(0, mid, seg);
        memcpy(dst + off, mid, seg);
        sink += s;
        off += seg;
        done += seg;
    }
    uint64_t ns = bench_clock_ns() - t0;
    (void)sink;
    free(src);
    free(dst);
    free(mid);
    return (double)done * 8.0 / (double)ns;
}

static int cmd_bound(size_t seg, uint64_t mib)
{
    const char *key = seg == 1460 ? "bound" : "bound64k";
    char k[64];
    bound_run(seg, 64ull << 20, 0); /* warm up */
    snprintf(k, sizeof(k), "%s_gbps", key);
    bench_fig(k, bound_run(seg, mib << 20, 0));
    snprintf(k, sizeof(k), "%s_naive_gbps", key);
    bench_fig(k, bound_run(seg, (mib << 20) / 4, 1));
    if (seg == 1460) {
        /* checksum alone of one 1460-byte segment, in cache */
        uint8_t *b = bench_pattern();
        volatile uint32_t sink = 0;
        const int n = 2000000;
        uint64_t t0 = bench_clock_ns();
        for (int i = 0; i < n; i++)
            sink += wire_csum_add((uint32_t)i, b + (i & 63), 1460);
        bench_fig("csum1460_ns", (double)(bench_clock_ns() - t0) / n);
        (void)sink;
        free(b);
    }
    return 0;
}

/* ---- connection rate ------------------------------------------------- */
static int cmd_connrate(long n)
{
    int err;
    pair *p = pair_new(1500, 0, 0, 0, 3, &err);
    if (!p)
        bench_die("stack: %s", synack_strerror(err));
    /* Virtual clock: 1 ms per connection, so TIME-WAIT (1 s) holds about
     * 1000 connections on A; the time measured is the CPU's. */
    synack_time_t vnow = SYNACK_SEC;
    uint64_t t0 = 0;
    long warm = n / 10 + 1000;
    char c;
    for (long i = 0; i < warm + n; i++) {
        if (i == warm)
            t0 = bench_clock_ns();
        pair_connect(p, vnow);
        if (synack_send(p->a, p->cs, "q", 1, vnow) != 1)
            bench_die("connrate: send");
        pump(p, vnow);
        if (synack_recv(p->b, p->ss, &c, 1, vnow) != 1)
            bench_die("connrate: server recv");
        if (synack_send(p->b, p->ss, "r", 1, vnow) != 1)
            bench_die("connrate: server send");
        pump(p, vnow);
        if (synack_recv(p->a, p->cs, &c, 1, vnow) != 1)
            bench_die("connrate: client recv");
        synack_close(p->a, p->cs, vnow);
        pump(p, vnow);
        if (synack_recv(p->b, p->ss, &c, 1, vnow) != 0)
            bench_die("connrate: server saw no FIN");
        synack_close(p->b, p->ss, vnow);
        pump(p, vnow);
        vnow += SYNACK_MSEC;
        timers(p, vnow);
        pump(p, vnow);
    }
    double secs = (double)(bench_clock_ns() - t0) / 1e9;
    synack_stack_stats sa;
    synack_stack_get_stats(p->a, &sa);
    if (sa.conns_failed || sa.conns_reset)
        bench_die("connrate: %llu failed, %llu reset",
                  (unsigned long long)sa.conns_failed,
                  (unsigned long long)sa.conns_reset);
    bench_fig("connrate_per_s", (double)n / secs);
    pair_del(p);
    return 0;
}

/* ---- 1-byte request/response ----------------------------------------- */
static int cmd_rr(long n)
{
    int err;
    pair *p = pair_new(1500, 0, 0, 0, 4, &err);
    if (!p)
        bench_die("stack: %s", synack_strerror(err));
    synack_time_t now = bench_clock_ns();
    pair_connect(p, now);
    int one = 1;
    synack_setsockopt(p->a, p->cs, SYNACK_TCP_NODELAY, &one, sizeof(one));
    synack_setsockopt(p->b, p->ss, SYNACK_TCP_NODELAY, &one, sizeof(one));
    char c = 0;
    uint64_t t0 = 0;
    long warm = n / 10 + 1000;
    for (long i = 0; i < warm + n; i++) {
        if (i == warm)
            t0 = bench_clock_ns();
        now = bench_clock_ns();
        char q = (char)i;
        if (synack_send(p->a, p->cs, &q, 1, now) != 1)
            bench_die("rr: send");
        pump(p, now);
        if (synack_recv(p->b, p->ss, &c, 1, now) != 1 || c != q)
            bench_die("rr: server recv");
        if (synack_send(p->b, p->ss, &c, 1, now) != 1)
            bench_die("rr: server send");
        pump(p, now);
        if (synack_recv(p->a, p->cs, &c, 1, now) != 1 || c != q)
            bench_die("rr: client recv");
        timers(p, now);
        pump(p, now);
    }
    double secs = (double)(bench_clock_ns() - t0) / 1e9;
    bench_fig("rr_per_s", (double)n / secs);
    pair_del(p);
    return 0;
}

/* ---- goodput under loss (virtual time) ------------------------------- */
/* synack's own configuration for a long fat lossy path, not lwIP's
 * compile-time 64 KiB window: congestion control `cc` (tcp_congestion_control
 * on both stacks; BENCH_LOSS_CC overrides) and SO_SNDBUF = SO_RCVBUF = `buf`
 * bytes on both ends (BENCH_LOSS_BUF overrides; 0: the tcp_wmem/tcp_rmem
 * defaults); BENCH_LOSS_PACING=0 turns BBR's pacing off (tcp_pacing). */
#define LOSS_CC "bbr"
#define LOSS_BUF (4 << 20) /* tcp_wmem's maximum */

static int cmd_loss(double pct, unsigned rtt_ms, uint64_t mib, uint64_t seed)
{
    char key[64];
    snprintf(key, sizeof(key), "loss_%g_%u", pct, rtt_ms);
    const char *cc = getenv("BENCH_LOSS_CC") ? getenv("BENCH_LOSS_CC")
                                             : LOSS_CC;
    int buf = getenv("BENCH_LOSS_BUF") ? atoi(getenv("BENCH_LOSS_BUF"))
                                       : LOSS_BUF;
    int err;
    pair *p = pair_new_buf(1500, 1, pct / 100.0,
                           (synack_time_t)rtt_ms * SYNACK_MSEC / 2, seed, buf,
                           &err);
    if (!p)
        bench_die("stack: %s", synack_strerror(err));
    if (synack_sysctl_set(p->a, "tcp_congestion_control", cc) < 0 ||
        synack_sysctl_set(p->b, "tcp_congestion_control", cc) < 0)
        bench_die("tcp_congestion_control=%s refused", cc);
    if (getenv("BENCH_LOSS_PACING")) { /* 0: BBR without pacing */
        synack_sysctl_set(p->a, "tcp_pacing", getenv("BENCH_LOSS_PACING"));
        synack_sysctl_set(p->b, "tcp_pacing", getenv("BENCH_LOSS_PACING"));
    }
    uint8_t *pat = bench_pattern();
    uint8_t *rbuf = malloc(BENCH_PAT_SPAN);
    const synack_time_t limit = 3600 * SYNACK_SEC;
    uint64_t total = mib << 20, sent = 0, got = 0;
    int ok = 1;
    synack_time_t now = SYNACK_SEC, t0 = now;
    int c = synack_socket(p->a), s = -1;
    if (buf > 0) {
        synack_setsockopt(p->a, c, SYNACK_SO_RCVBUF, &buf, sizeof(buf));
        synack_setsockopt(p->a, c, SYNACK_SO_SNDBUF, &buf, sizeof(buf));
    }
    synack_addr ra = {IP_B, PORT};
    synack_connect(p->a, c, &ra, now);
    size_t len;
    const uint8_t *f;
    while (got < total && now - t0 < limit) {
        while (bench_fq_next_at(&p->lab.q) <= now &&
               (f = bench_fq_pop(&p->lab.q, &len)) != NULL)
            synack_stack_input(p->b, f, len, now);
        while (bench_fq_next_at(&p->lba.q) <= now &&
               (f = bench_fq_pop(&p->lba.q, &len)) != NULL)
            synack_stack_input(p->a, f, len, now);
        timers(p, now);
        if (s < 0)
            s = synack_accept(p->b, p->ls, NULL);
        while (sent < total) {
            uint64_t want = total - sent;
            size_t n = want < BENCH_PAT_SPAN ? (size_t)want : BENCH_PAT_SPAN;
            ssize_t k = synack_send(p->a, c, pat + sent % BENCH_PAT_PERIOD, n,
                                    now);
            if (k <= 0)
                break;
            sent += (uint64_t)k;
        }
        if (s >= 0) {
            for (;;) {
                ssize_t k = synack_recv(p->b, s, rbuf, BENCH_PAT_SPAN, now);
                if (k <= 0)
                    break;
                if (!bench_pattern_ok(pat, got, rbuf, (size_t)k))
                    ok = 0;
                got += (uint64_t)k;
            }
        }
        if (got >= total)
            break;
        synack_time_t next = synack_stack_next_deadline(p->a);
        synack_time_t nb = synack_stack_next_deadline(p->b);
        if (nb < next)
            next = nb;
        if (bench_fq_next_at(&p->lab.q) < next)
            next = bench_fq_next_at(&p->lab.q);
        if (bench_fq_next_at(&p->lba.q) < next)
            next = bench_fq_next_at(&p->lba.q);
        if (next == SYNACK_TIME_NEVER) {
            fprintf(stderr, "loss: idle with %llu of %llu bytes\n",
                    (unsigned long long)got, (unsigned long long)total);
            break;
        }
        if (next > now)
            now = next;
    }
    double secs = (double)(now - t0) / 1e9;
    char k[80];
    snprintf(k, sizeof(k), "%s_exact", key);
    bench_fig(k, ok && got == total);
    snprintf(k, sizeof(k), "%s_mbps", key);
    if (got == total)
        bench_fig(k, (double)total * 8.0 / secs / 1e6);
    else
        bench_na(k, "incomplete after %.0f virtual s (%llu of %llu bytes)",
                 secs, (unsigned long long)got, (unsigned long long)total);
    snprintf(k, sizeof(k), "%s_lost_frames", key);
    bench_fig(k, (double)(p->lab.lost + p->lba.lost));
    if (getenv("BENCH_DEBUG")) { /* the sender's loss recovery */
        synack_stack_stats st;
        synack_stack_get_stats(p->a, &st);
        fprintf(stderr,
                "loss: sender: segs %llu retrans %llu recoveries %llu "
                "timeouts %llu tlp %llu/%llu rack_lost %llu dsack_in "
                "%llu\n",
                (unsigned long long)st.tcp_out,
                (unsigned long long)st.tcp_retrans,
                (unsigned long long)st.tcp_recoveries,
                (unsigned long long)st.tcp_timeouts,
                (unsigned long long)st.tcp_tlp_probes,
                (unsigned long long)st.tcp_tlp_recoveries,
                (unsigned long long)st.tcp_rack_lost,
                (unsigned long long)st.tcp_dsack_in);
    }
    free(pat);
    free(rbuf);
    pair_del(p);
    return 0;
}

/* ---- memory per idle connection -------------------------------------- */
static int cmd_memidle(long n)
{
    int err;
    /* synack's default buffer sizes: what an application gets */
    pair *p = pair_new_buf(1500, 0, 0, 0, 5, 0, &err);
    if (!p)
        bench_die("stack: %s", synack_strerror(err));
    synack_stack_stats a0, b0, a1, b1;
    synack_stack_get_stats(p->a, &a0);
    synack_stack_get_stats(p->b, &b0);
    synack_time_t now = SYNACK_SEC;
    for (long i = 0; i < n; i++)
        pair_connect_buf(p, now, 0);
    /* let every delayed ACK go, then measure */
    now += 2 * SYNACK_SEC;
    timers(p, now);
    pump(p, now);
    synack_stack_get_stats(p->a, &a1);
    synack_stack_get_stats(p->b, &b1);
    double per = (double)((a1.mem_used - a0.mem_used) +
                          (b1.mem_used - b0.mem_used)) /
                 (2.0 * (double)n);
    bench_fig("mem_idle_conn_bytes", per);
    pair_del(p);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        bench_die("usage: see the comment at the top of bench_synack.c");
    const char *m = argv[1];
    const char *nb = getenv("BENCH_NOBATCH");
    g_batch = !(nb && *nb == '1');
    if (!strcmp(m, "bulk") && (argc == 4 || argc == 5))
        return cmd_bulk((uint16_t)atoi(argv[2]), strtoull(argv[3], NULL, 0),
                        argc == 5 && !strcmp(argv[4], "cg"));
    if (!strcmp(m, "scale") && argc == 4)
        return cmd_scale((uint16_t)atoi(argv[2]), strtoull(argv[3], NULL, 0));
    if (!strcmp(m, "bound") && argc == 4)
        return cmd_bound((size_t)atoi(argv[2]), strtoull(argv[3], NULL, 0));
    if (!strcmp(m, "connrate") && argc == 3)
        return cmd_connrate(atol(argv[2]));
    if (!strcmp(m, "rr") && argc == 3)
        return cmd_rr(atol(argv[2]));
    if (!strcmp(m, "loss") && argc == 6)
        return cmd_loss(atof(argv[2]), (unsigned)atoi(argv[3]),
                        strtoull(argv[4], NULL, 0), strtoull(argv[5], NULL, 0));
    if (!strcmp(m, "memidle") && argc == 3)
        return cmd_memidle(atol(argv[2]));
    bench_die("unknown command or wrong arguments: %s", m);
    return 2;
}
