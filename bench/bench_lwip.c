/*
 * bench_lwip: lwIP's side of the in-memory benchmarks, the same workloads
 * and the same frame queues (bench.h) as bench_synack.
 *
 * Two lwIP stacks in one process need two copies of its globals: the
 * library is copied to two file names in WORKDIR and each is dlopen()ed
 * with RTLD_LOCAL, so A and B are independent instances. Frames leave a
 * stack through our own netif: linkoutput copies the pbuf chain once, into
 * a PBUF_RAM pbuf of the other instance of exactly the frame's size, and
 * queues it (the same ring as synack's frames, bench.h); the other stack
 * takes it as input from there (never lwIP's pbuf pool or its TAP
 * driver). The lossy runs queue frame copies with delivery times instead,
 * as bench_synack's.
 *
 * Built twice from this file:
 *   bench_lwip_nosys LIB WORKDIR bulk MIB [cg] | connrate N |
 *                    loss PCT RTT_MS MIB SEED | pcbsize
 *     LIB = liblwip_nosys.so, Debian's source package built NO_SYS=1 with
 *     bench/lwip/lwipopts.h; single thread, raw API; sys_now() is ours
 *     (the real clock in ms, or the virtual clock of the loss runs).
 *   bench_lwip_deb LIB WORKDIR bulk MIB
 *     LIB = Debian's liblwip.so.0 as shipped (NO_SYS=0: a tcpip thread per
 *     instance, core locking); frames go straight into the other
 *     instance's tcpip_input (its mailbox), the transfer runs in the two
 *     tcpip threads, driven by the sent and recv callbacks.
 * Output: "key value" lines (bench.h), keys prefixed lwip_ or lwipdeb_.
 */
#define _GNU_SOURCE
#ifndef BENCH_LWIP_DEBIAN
#define BENCH_LWIP_DEBIAN 0
#endif
#include <dlfcn.h>
#include <unistd.h>

#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"
#if BENCH_LWIP_DEBIAN
#include "lwip/tcpip.h"
#include <stdatomic.h>
#endif

#include "bench.h"

#if BENCH_LWIP_DEBIAN
#define PFX "lwipdeb_"
#else
#define PFX "lwip_"
#endif

#define LW_COMMON(X)                                                           \
    X(netif_add)                                                               \
    X(netif_set_up)                                                            \
    X(netif_set_link_up)                                                       \
    X(ethernet_input)                                                          \
    X(ethernet_output)                                                         \
    X(pbuf_alloc)                                                              \
    X(pbuf_free)                                                               \
    X(pbuf_copy_partial)                                                       \
    X(pbuf_take)                                                               \
    X(tcp_new)                                                                 \
    X(tcp_bind)                                                                \
    X(tcp_listen_with_backlog)                                                 \
    X(tcp_arg)                                                                 \
    X(tcp_accept)                                                              \
    X(tcp_recv)                                                                \
    X(tcp_sent)                                                                \
    X(tcp_err)                                                                 \
    X(tcp_connect)                                                             \
    X(tcp_write)                                                               \
    X(tcp_output)                                                              \
    X(tcp_recved)                                                              \
    X(tcp_close)                                                               \
    X(tcp_abort)
#if BENCH_LWIP_DEBIAN
#define LW_MODE(X)                                                             \
    X(tcpip_init)                                                              \
    X(tcpip_input)                                                             \
    X(sys_lock_tcpip_core)                                                     \
    X(sys_unlock_tcpip_core)
#else
#define LW_MODE(X)                                                             \
    X(lwip_init)                                                               \
    X(sys_check_timeouts)                                                      \
    X(sys_timeouts_sleeptime)
#endif

typedef struct lw {
    void *h;
#define X(f) __typeof__(&f) f;
    LW_COMMON(X)
    LW_MODE(X)
#undef X
} lw;

typedef struct side side;
struct side {
    lw L;
    struct netif nif;
    uint8_t mac[6];
    side *peer;
    bench_fq q;          /* frames towards the peer (lossless) */
    bench_lossy lossy;   /* or the lossy link */
    int use_lossy;
    struct tcp_pcb *listen, *pcb;
    /* application state */
    const uint8_t *pat;
    uint8_t *rbuf;
    uint64_t total, sent, got;
    int verify, ok, closed, got_reply, connected;
};

#if !BENCH_LWIP_DEBIAN
static uint64_t g_now_ns; /* the clock sys_now() reports */
static int g_virtual;

u32_t sys_now(void);
u32_t sys_now(void)
{
    if (!g_virtual)
        g_now_ns = bench_clock_ns();
    return (u32_t)(g_now_ns / 1000000u);
}
#endif

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    if (!in || !out)
        bench_die("copy %s to %s failed", from, to);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            bench_die("write %s failed", to);
    fclose(in);
    fclose(out);
}

static void lw_load(lw *L, const char *lib, const char *dir, const char *tag)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/liblwip_%s_%s.so", dir,
             BENCH_LWIP_DEBIAN ? "deb" : "nosys", tag);
    copy_file(lib, path);
    L->h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!L->h)
        bench_die("dlopen %s: %s", path, dlerror());
#define X(f)                                                                   \
    *(void **)&L->f = dlsym(L->h, #f);                                         \
    if (!L->f)                                                                 \
        bench_die("%s: no symbol %s", path, #f);
    LW_COMMON(X)
    LW_MODE(X)
#undef X
}

#if BENCH_LWIP_DEBIAN
/* Threaded: hand the frame to the peer's tcpip thread right away. */
static err_t linkoutput(struct netif *nif, struct pbuf *p)
{
    side *s = nif->state, *d = s->peer;
    if (!d || !d->nif.input) /* the gratuitous ARP before B exists */
        return ERR_OK;
    struct pbuf *q = d->L.pbuf_alloc(PBUF_RAW, p->tot_len, PBUF_RAM);
    if (!q)
        return ERR_MEM;
    s->L.pbuf_copy_partial(p, q->payload, p->tot_len, 0);
    if (d->nif.input(q, &d->nif) != ERR_OK)
        d->L.pbuf_free(q);
    return ERR_OK;
}
#else
static uint64_t side_now(const side *s)
{
    (void)s;
    return g_virtual ? g_now_ns : 0;
}

static err_t linkoutput(struct netif *nif, struct pbuf *p)
{
    side *s = nif->state;
    if (s->use_lossy) {
        static uint8_t frame[2048];
        if (p->tot_len > sizeof(frame))
            return ERR_IF;
        s->L.pbuf_copy_partial(p, frame, p->tot_len, 0);
        bench_lossy_send(&s->lossy, frame, p->tot_len, side_now(s));
        return ERR_OK;
    }
    /* The lossless queue carries pbufs of the peer's instance: the frame is
     * copied once, straight into the PBUF_RAM pbuf the peer will take as
     * input (synack's frames are copied once too, into the queue, and
     * borrowed from there by synack_stack_input). */
    side *d = s->peer;
    if (!d || !d->nif.input) /* the gratuitous ARP before B exists */
        return ERR_OK;
    struct pbuf *q = d->L.pbuf_alloc(PBUF_RAW, p->tot_len, PBUF_RAM);
    if (!q)
        return ERR_MEM;
    s->L.pbuf_copy_partial(p, q->payload, p->tot_len, 0);
    uint8_t *slot = bench_fq_slot(&s->q, sizeof(q), 0);
    if (!slot) {
        d->L.pbuf_free(q);
        return ERR_MEM;
    }
    memcpy(slot, &q, sizeof(q));
    return ERR_OK;
}
#endif

/* IP output: our own Ethernet header, no ARP (the peer's MAC is known, as
 * synack's static ARP entry). */
static err_t bench_ip_output(struct netif *nif, struct pbuf *p,
                       const ip4_addr_t *dst)
{
    (void)dst;
    side *s = nif->state;
    struct eth_addr src, to;
    memcpy(src.addr, s->mac, 6);
    memcpy(to.addr, s->peer->mac, 6);
    return s->L.ethernet_output(nif, p, &src, &to, ETHTYPE_IP);
}

static err_t nif_init(struct netif *nif)
{
    side *s = nif->state;
    nif->name[0] = 'b';
    nif->name[1] = 'q';
    nif->mtu = 1500;
    nif->hwaddr_len = 6;
    memcpy(nif->hwaddr, s->mac, 6);
    nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET |
                 NETIF_FLAG_LINK_UP;
    nif->output = bench_ip_output;
    nif->linkoutput = linkoutput;
    return ERR_OK;
}

static void side_lock(side *s)
{
#if BENCH_LWIP_DEBIAN
    s->L.sys_lock_tcpip_core();
#else
    (void)s;
#endif
}
static void side_unlock(side *s)
{
#if BENCH_LWIP_DEBIAN
    s->L.sys_unlock_tcpip_core();
#else
    (void)s;
#endif
}

#if BENCH_LWIP_DEBIAN
static atomic_int g_init_done;
static void init_done(void *arg)
{
    (void)arg;
    atomic_fetch_add(&g_init_done, 1);
}
#endif

static void side_init(side *s, const char *lib, const char *dir,
                      const char *tag, uint8_t last)
{
    lw_load(&s->L, lib, dir, tag);
#if BENCH_LWIP_DEBIAN
    int want = atomic_load(&g_init_done) + 1;
    s->L.tcpip_init(init_done, NULL);
    for (int i = 0; i < 5000 && atomic_load(&g_init_done) < want; i++)
        usleep(1000);
    netif_input_fn input = s->L.tcpip_input;
#else
    s->L.lwip_init();
    netif_input_fn input = s->L.ethernet_input;
#endif
    uint8_t mac[6] = {2, 0, 0, 0, 0, last};
    memcpy(s->mac, mac, 6);
    ip4_addr_t ip, mask, gw;
    IP4_ADDR(&ip, 10, 0, 0, last);
    IP4_ADDR(&mask, 255, 255, 255, 0);
    IP4_ADDR(&gw, 0, 0, 0, 0);
    side_lock(s);
    if (!s->L.netif_add(&s->nif, &ip, &mask, &gw, s, nif_init, input))
        bench_die("netif_add failed");
    s->L.netif_set_up(&s->nif);
    s->L.netif_set_link_up(&s->nif);
    side_unlock(s);
    s->ok = 1;
}

/* ---- application callbacks (run in the stack's context) ---------------- */
static void app_write(side *s)
{
    struct tcp_pcb *pcb = s->pcb;
    while (s->sent < s->total) {
        uint32_t room = tcp_sndbuf(pcb);
        uint64_t want = s->total - s->sent;
        if (want < room)
            room = (uint32_t)want;
        if (room == 0)
            break;
        if (room > 0xffff)
            room = 0xffff;
        if (s->L.tcp_write(pcb, s->pat + s->sent % BENCH_PAT_PERIOD,
                           (u16_t)room, TCP_WRITE_FLAG_COPY) != ERR_OK)
            break;
        s->sent += room;
    }
    s->L.tcp_output(pcb);
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    (void)pcb;
    (void)len;
#if BENCH_LWIP_DEBIAN
    app_write(arg);
#else
    (void)arg;
#endif
    return ERR_OK;
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    side *s = arg;
    (void)err;
    if (!p) {
        s->closed = 1;
        return ERR_OK;
    }
    u16_t n = p->tot_len;
    /* one copy out, into the application's buffer */
    s->L.pbuf_copy_partial(p, s->rbuf, n, 0);
    if (s->verify && !bench_pattern_ok(s->pat, s->got, s->rbuf, n))
        s->ok = 0;
    s->got += n;
    s->got_reply = 1;
    s->L.tcp_recved(pcb, n);
    s->L.pbuf_free(p);
    return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
    side *s = arg;
    fprintf(stderr, "lwIP: connection error %d\n", err);
    s->pcb = NULL;
    s->ok = 0;
    s->closed = 1;
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    side *s = arg;
    if (err != ERR_OK || !pcb)
        return ERR_VAL;
    s->pcb = pcb;
    s->closed = 0;
    s->L.tcp_arg(pcb, s);
    s->L.tcp_recv(pcb, on_recv);
    s->L.tcp_err(pcb, on_err);
    return ERR_OK;
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    side *s = arg;
    (void)pcb;
    if (err != ERR_OK)
        return err;
    s->connected = 1;
#if BENCH_LWIP_DEBIAN
    app_write(s);
#endif
    return ERR_OK;
}

static void listen_on(side *b)
{
    side_lock(b);
    struct tcp_pcb *l = b->L.tcp_new();
    ip_addr_t any;
    memset(&any, 0, sizeof(any)); /* IPv4 0.0.0.0 */
    if (!l || b->L.tcp_bind(l, &any, 5001) != ERR_OK)
        bench_die("lwIP: bind failed");
    b->listen = b->L.tcp_listen_with_backlog(l, 255);
    if (!b->listen)
        bench_die("lwIP: listen failed");
    b->L.tcp_arg(b->listen, b);
    b->L.tcp_accept(b->listen, on_accept);
    side_unlock(b);
}

static void connect_to(side *a, side *b)
{
    side_lock(a);
    a->pcb = a->L.tcp_new();
    if (!a->pcb)
        bench_die("lwIP: tcp_new failed");
    a->connected = 0;
    a->closed = 0;
    a->L.tcp_arg(a->pcb, a);
    a->L.tcp_recv(a->pcb, on_recv);
    a->L.tcp_sent(a->pcb, on_sent);
    a->L.tcp_err(a->pcb, on_err);
    ip_addr_t dst;
    IP_ADDR4(&dst, 10, 0, 0, 2);
    (void)b;
    if (a->L.tcp_connect(a->pcb, &dst, 5001, on_connected) != ERR_OK)
        bench_die("lwIP: tcp_connect failed");
    side_unlock(a);
}

#if !BENCH_LWIP_DEBIAN
/* ---- single-threaded driving (NO_SYS) --------------------------------- */
static void deliver(side *to, const uint8_t *f, size_t len)
{
    struct pbuf *p = to->L.pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
    if (!p)
        bench_die("lwIP: pbuf_alloc(%zu) failed", len);
    to->L.pbuf_take(p, f, (u16_t)len);
    if (to->nif.input(p, &to->nif) != ERR_OK)
        to->L.pbuf_free(p);
}

static void pump(side *a, side *b)
{
    size_t len;
    const uint8_t *f;
    struct pbuf *p;
    for (;;) {
        int moved = 0;
        while ((f = bench_fq_pop(&a->q, &len)) != NULL) {
            memcpy(&p, f, sizeof(p));
            if (b->nif.input(p, &b->nif) != ERR_OK)
                b->L.pbuf_free(p);
            moved = 1;
        }
        while ((f = bench_fq_pop(&b->q, &len)) != NULL) {
            memcpy(&p, f, sizeof(p));
            if (a->nif.input(p, &a->nif) != ERR_OK)
                a->L.pbuf_free(p);
            moved = 1;
        }
        if (!moved)
            return;
    }
}

static void pair_init(side *a, side *b, const char *lib, const char *dir)
{
    side_init(a, lib, dir, "a", 1);
    side_init(b, lib, dir, "b", 2);
    a->peer = b;
    b->peer = a;
    bench_fq_init(&a->q, sizeof(struct pbuf *), 8192);
    bench_fq_init(&b->q, sizeof(struct pbuf *), 8192);
    uint8_t *pat = bench_pattern();
    a->pat = b->pat = pat;
    a->rbuf = malloc(65536);
    b->rbuf = malloc(65536);
    listen_on(b);
}

__attribute__((noinline))
static void pair_fini(side *a, side *b)
{
    free((void *)a->pat);
    free(a->rbuf);
    free(b->rbuf);
    bench_fq_free(&a->q);
    bench_fq_free(&b->q);
    if (a->use_lossy) {
        bench_fq_free(&a->lossy.q);
        bench_fq_free(&b->lossy.q);
    }
    /* the instances stay loaded: their pcbs and timers point into them */
}

static int run_bulk(side *a, side *b, uint64_t total, int verify,
                    double *gbps)
{
    connect_to(a, b);
    pump(a, b);
    if (!a->connected || !b->pcb)
        bench_die("lwIP: no connection");
    a->total = total;
    a->sent = 0;
    b->got = 0;
    b->verify = verify;
    b->ok = 1;
    uint64_t t0 = bench_clock_ns(), last = t0;
    while (b->got < total) {
        uint64_t before = b->got + a->sent;
        app_write(a);
        pump(a, b);
        uint64_t now = bench_clock_ns();
        if (b->got + a->sent != before)
            last = now;
        else {
            a->L.sys_check_timeouts();
            b->L.sys_check_timeouts();
            pump(a, b);
            if (now - last > 5000000000ull) {
                fprintf(stderr, "lwIP bulk: stalled at %llu of %llu\n",
                        (unsigned long long)b->got,
                        (unsigned long long)total);
                return 0;
            }
        }
    }
    *gbps = (double)total * 8.0 / (double)(bench_clock_ns() - t0);
    a->L.tcp_close(a->pcb);
    pump(a, b);
    if (b->pcb)
        b->L.tcp_close(b->pcb);
    b->pcb = NULL;
    pump(a, b);
    return b->ok && a->q.drops == 0 && b->q.drops == 0;
}

static int cmd_bulk(const char *lib, const char *dir, uint64_t mib, int cg)
{
    side a = {0}, b = {0};
    pair_init(&a, &b, lib, dir);
    double g;
    if (!cg) {
        int ok = run_bulk(&a, &b, 16ull << 20, 1, &g);
        bench_fig(PFX "bulk_verified", ok);
        if (!ok)
            return 1;
    }
    if (!run_bulk(&a, &b, mib << 20, 0, &g))
        bench_na(PFX "bulk_gbps", "transfer incomplete");
    else
        bench_fig(PFX "bulk_gbps", g);
    pair_fini(&a, &b);
    return 0;
}

static int cmd_connrate(const char *lib, const char *dir, long n)
{
    side a = {0}, b = {0};
    pair_init(&a, &b, lib, dir);
    g_virtual = 1;
    g_now_ns = 1000000000ull;
    long warm = n / 10 + 1000;
    uint64_t t0 = 0;
    for (long i = 0; i < warm + n; i++) {
        if (i == warm)
            t0 = bench_clock_ns();
        b.pcb = NULL;
        connect_to(&a, &b);
        pump(&a, &b);
        if (!a.connected || !b.pcb)
            bench_die("lwIP connrate: connection %ld not established", i);
        a.got_reply = b.got_reply = 0;
        if (a.L.tcp_write(a.pcb, "q", 1, TCP_WRITE_FLAG_COPY) != ERR_OK)
            bench_die("lwIP connrate: write");
        a.L.tcp_output(a.pcb);
        pump(&a, &b);
        if (!b.got_reply)
            bench_die("lwIP connrate: no request");
        b.L.tcp_write(b.pcb, "r", 1, TCP_WRITE_FLAG_COPY);
        b.L.tcp_output(b.pcb);
        pump(&a, &b);
        if (!a.got_reply)
            bench_die("lwIP connrate: no response");
        a.L.tcp_close(a.pcb);
        pump(&a, &b);
        if (!b.closed)
            bench_die("lwIP connrate: server saw no FIN");
        b.L.tcp_close(b.pcb);
        pump(&a, &b);
        g_now_ns += 1000000u; /* 1 ms per connection, as synack's run */
        a.L.sys_check_timeouts();
        b.L.sys_check_timeouts();
        pump(&a, &b);
    }
    double secs = (double)(bench_clock_ns() - t0) / 1e9;
    bench_fig(PFX "connrate_per_s", (double)n / secs);
    pair_fini(&a, &b);
    return 0;
}

static uint64_t lw_next(side *s)
{
    u32_t ms = s->L.sys_timeouts_sleeptime();
    if (ms == SYS_TIMEOUTS_SLEEPTIME_INFINITE)
        return UINT64_MAX;
    /* the timeout is due when sys_now() (whole ms) reaches it */
    return (g_now_ns / 1000000u + ms) * 1000000u;
}

static int cmd_loss(const char *lib, const char *dir, double pct,
                    unsigned rtt_ms, uint64_t mib, uint64_t seed)
{
    side a = {0}, b = {0};
    char key[64], k[96];
    snprintf(key, sizeof(key), PFX "loss_%g_%u", pct, rtt_ms);
    g_virtual = 1;
    g_now_ns = 1000000000ull;
    pair_init(&a, &b, lib, dir);
    /* the same link model and seeds as bench_synack's */
    uint64_t delay = (uint64_t)rtt_ms * 1000000u / 2;
    a.use_lossy = b.use_lossy = 1;
    bench_lossy_init(&a.lossy, 1600, pct / 100.0, delay, 1000000000ull,
                     seed * 2 + 1);
    bench_lossy_init(&b.lossy, 1600, pct / 100.0, delay, 1000000000ull,
                     seed * 2 + 2);
    uint64_t total = mib << 20, t0 = g_now_ns;
    const uint64_t limit = 3600ull * 1000000000u;
    connect_to(&a, &b);
    a.total = total;
    b.verify = 1;
    b.ok = 1;
    size_t len;
    const uint8_t *f;
    while (b.got < total && g_now_ns - t0 < limit) {
        while (bench_fq_next_at(&a.lossy.q) <= g_now_ns &&
               (f = bench_fq_pop(&a.lossy.q, &len)) != NULL)
            deliver(&b, f, len);
        while (bench_fq_next_at(&b.lossy.q) <= g_now_ns &&
               (f = bench_fq_pop(&b.lossy.q, &len)) != NULL)
            deliver(&a, f, len);
        a.L.sys_check_timeouts();
        b.L.sys_check_timeouts();
        if (a.connected && a.pcb)
            app_write(&a);
        if (b.got >= total || a.closed)
            break;
        uint64_t next = lw_next(&a), nb = lw_next(&b);
        if (nb < next)
            next = nb;
        if (bench_fq_next_at(&a.lossy.q) < next)
            next = bench_fq_next_at(&a.lossy.q);
        if (bench_fq_next_at(&b.lossy.q) < next)
            next = bench_fq_next_at(&b.lossy.q);
        if (next == UINT64_MAX) {
            fprintf(stderr, "lwIP loss: idle at %llu of %llu bytes\n",
                    (unsigned long long)b.got, (unsigned long long)total);
            break;
        }
        g_now_ns = next > g_now_ns ? next : g_now_ns + 1000000u;
    }
    double secs = (double)(g_now_ns - t0) / 1e9;
    snprintf(k, sizeof(k), "%s_exact", key);
    bench_fig(k, b.ok && b.got == total);
    snprintf(k, sizeof(k), "%s_mbps", key);
    if (b.got == total)
        bench_fig(k, (double)total * 8.0 / secs / 1e6);
    else
        bench_na(k, "incomplete after %.0f virtual s (%llu of %llu bytes)",
                 secs, (unsigned long long)b.got, (unsigned long long)total);
    pair_fini(&a, &b);
    return 0;
}

#else
/* ---- threaded driving (Debian's liblwip0) ------------------------------ */
static int run_bulk_threaded(side *a, side *b, uint64_t total, int verify,
                             double *gbps)
{
    b->pcb = NULL;
    b->got = 0;
    b->verify = verify;
    b->ok = 1;
    a->total = total;
    a->sent = 0;
    uint64_t t0 = bench_clock_ns();
    connect_to(a, b);
    uint64_t last_got = 0, last = t0;
    for (;;) {
        usleep(1000);
        side_lock(b);
        uint64_t got = b->got;
        int ok = b->ok;
        side_unlock(b);
        uint64_t now = bench_clock_ns();
        if (got >= total || !ok) {
            *gbps = (double)total * 8.0 / (double)(now - t0);
            break;
        }
        if (got != last_got) {
            last_got = got;
            last = now;
        } else if (now - last > 5000000000ull) {
            fprintf(stderr, "lwIP (Debian) bulk: stalled at %llu of %llu\n",
                    (unsigned long long)got, (unsigned long long)total);
            return 0;
        }
    }
    side_lock(a);
    a->L.tcp_close(a->pcb);
    side_unlock(a);
    usleep(20000);
    side_lock(b);
    if (b->pcb)
        b->L.tcp_close(b->pcb);
    b->pcb = NULL;
    side_unlock(b);
    return b->ok && b->got == total;
}

static int cmd_bulk(const char *lib, const char *dir, uint64_t mib, int cg)
{
    (void)cg;
    side a = {0}, b = {0};
    side_init(&a, lib, dir, "a", 1);
    side_init(&b, lib, dir, "b", 2);
    a.peer = &b;
    b.peer = &a;
    a.pat = b.pat = bench_pattern();
    a.rbuf = malloc(65536);
    b.rbuf = malloc(65536);
    listen_on(&b);
    double g;
    int ok = run_bulk_threaded(&a, &b, 16ull << 20, 1, &g);
    bench_fig(PFX "bulk_verified", ok);
    if (!ok)
        return 1;
    if (!run_bulk_threaded(&a, &b, mib << 20, 0, &g))
        bench_na(PFX "bulk_gbps", "transfer incomplete");
    else
        bench_fig(PFX "bulk_gbps", g);
    fflush(stdout);
    _exit(0); /* the tcpip threads never end */
}
#endif

int main(int argc, char **argv)
{
    if (argc < 4)
        bench_die("usage: see the comment at the top of bench_lwip.c");
    const char *lib = argv[1], *dir = argv[2], *m = argv[3];
    if (!strcmp(m, "pcbsize")) {
        bench_fig(PFX "tcp_pcb_bytes", (double)sizeof(struct tcp_pcb));
        return 0;
    }
    if (!strcmp(m, "bulk") && (argc == 5 || argc == 6))
        return cmd_bulk(lib, dir, strtoull(argv[4], NULL, 0),
                        argc == 6 && !strcmp(argv[5], "cg"));
#if !BENCH_LWIP_DEBIAN
    if (!strcmp(m, "connrate") && argc == 5)
        return cmd_connrate(lib, dir, atol(argv[4]));
    if (!strcmp(m, "loss") && argc == 8)
        return cmd_loss(lib, dir, atof(argv[4]), (unsigned)atoi(argv[5]),
                        strtoull(argv[6], NULL, 0), strtoull(argv[7], NULL, 0));
#endif
    bench_die("unknown command or wrong arguments: %s", m);
    return 2;
}
