/*
 * Scale (issue 6, part 3): what an idle connection costs, when its buffers
 * come and go, and the timer heap's exactness.
 *
 * One stack (the DUT, 10.0.0.1) and many connections from a scripted client
 * (10.0.0.2, one port per connection) made by injecting hand-built frames;
 * the DUT's frames are parsed from its output callback, with the virtual
 * time at which they left.
 *
 * - per_conn_memory: an established connection with no data held costs
 *   under 1 KiB all-in: its share of mem_used plus the stack's
 *   per-socket tables (handle, 4-tuple hash, timer heap, bind table),
 *   measured from two empty stacks of different max_sockets. Printed.
 * - buffers_follow_data: the receive ring appears with the first data,
 *   the send ring with the first send; both stay while the connection is
 *   busy or idle for less than a second, and are gone after it (mem_used
 *   back to the idle figure). Nothing is lost: what was received before is
 *   read, what is sent after comes out.
 * - rx_alloc_failure: when the memory limit leaves no room for the receive
 *   ring, the data segment is dropped as TCP_NO_MEM and not acknowledged.
 * - freed_blocks_reused: rings and connection blocks the stack releases
 *   are kept (stats.mem_cached) and the next block of the same size comes
 *   from there, not from the allocator; the cache never exceeds 1/16 of
 *   mem_limit or 4 MiB, the allocator holds exactly mem_used + mem_cached,
 *   a block needed under a full limit empties the cache first, and
 *   synack_stack_del gives everything back.
 * - timers_exact: deadlines 1 ms (delayed ACK), 300 ms (retransmission),
 *   70 s and 2 h (keepalive) ahead, among 500 connections with no timer:
 *   synack_stack_next_deadline names each to the nanosecond, nothing fires
 *   a nanosecond before, the segment leaves at it; a jump of an hour past
 *   the 2 h deadline fires it once, at the time of the jump, and the next
 *   deadline follows from there; a jump of years is survived.
 * synack_stack_check (which verifies the timer heap, the idle list and the
 * bind table) holds after every step.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <synack/synack.h>

#define DUT_IP 0x0a000001u
#define CLI_IP 0x0a000002u
#define DUT_PORT 80
#define CLI_PORT0 20000
#define CLI_ISS 5000u
#define NCONN 500
#define MAXCAP 16

static const uint8_t dut_mac[6] = {2, 0, 0, 0, 0, 1};
static const uint8_t cli_mac[6] = {2, 0, 0, 0, 0, 2};

typedef struct cap {
    synack_time_t at;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint32_t dlen;
} cap;

typedef struct env {
    synack_stack *st;
    synack_time_t now;
    cap cap[MAXCAP];
    size_t ncap;
    int lh;
    bool quiet; /* frames not captured (freed_blocks_reused's crowd) */
    int h[NCONN];
    uint32_t dut_nxt[NCONN]; /* next sequence number from the DUT */
    uint32_t cli_nxt[NCONN]; /* next sequence number from the client */
} env;

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffff);
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    return s;
}

static uint16_t fold(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

static void on_output(void *ctx, const uint8_t *f, size_t len,
                      synack_time_t now)
{
    env *e = ctx;
    if (e->quiet || len < 54 || f[12] != 0x08 || f[13] != 0 || f[23] != 6)
        return;
    const uint8_t *ip = f + 14;
    size_t ihl = (size_t)(ip[0] & 0xf) * 4;
    const uint8_t *t = ip + ihl;
    size_t tot = (size_t)ip[2] << 8 | ip[3];
    size_t thl = (size_t)(t[12] >> 4) * 4;
    if (e->ncap == MAXCAP)
        fail_msg("more than %d frames captured", MAXCAP);
    cap *c = &e->cap[e->ncap++];
    c->at = now;
    c->sport = (uint16_t)(t[0] << 8 | t[1]);
    c->dport = (uint16_t)(t[2] << 8 | t[3]);
    c->seq = get32(t + 4);
    c->ack = get32(t + 8);
    c->flags = t[13];
    c->dlen = (uint32_t)(tot - ihl - thl);
}

static void check(env *e)
{
    char msg[256];
    if (synack_stack_check(e->st, msg, sizeof msg))
        fail_msg("synack_stack_check: %s", msg);
}

/* A client segment to the DUT for connection i. */
static void seg(env *e, int i, uint8_t flags, const char *data)
{
    uint8_t f[14 + 20 + 20 + 256];
    size_t dl = data ? strlen(data) : 0;
    memset(f, 0, sizeof f);
    memcpy(f, dut_mac, 6);
    memcpy(f + 6, cli_mac, 6);
    f[12] = 0x08;
    uint8_t *ip = f + 14;
    ip[0] = 0x45;
    put16(ip + 2, (uint32_t)(40 + dl));
    ip[8] = 64;
    ip[9] = 6;
    put32(ip + 12, CLI_IP);
    put32(ip + 16, DUT_IP);
    put16(ip + 10, fold(sum16(ip, 20, 0)));
    uint8_t *t = ip + 20;
    put16(t, (uint32_t)(CLI_PORT0 + i));
    put16(t + 2, DUT_PORT);
    put32(t + 4, (flags & SYNACK_TH_SYN) ? CLI_ISS : e->cli_nxt[i]);
    put32(t + 8, (flags & SYNACK_TH_ACK) ? e->dut_nxt[i] : 0);
    t[12] = 5 << 4;
    t[13] = flags;
    put16(t + 14, 65535);
    memcpy(t + 20, data ? data : "", dl);
    uint32_t s = sum16(ip + 12, 8, 0) + 6 + 20 + (uint32_t)dl;
    put16(t + 16, fold(sum16(t, 20 + dl, s)));
    synack_stack_input(e->st, f, 54 + dl, e->now);
    e->cli_nxt[i] += (uint32_t)dl;
    check(e);
}

/* An allocator that counts (freed_blocks_reused). */
typedef struct counter {
    uint64_t calls, bytes, blocks;
} counter;
static counter *g_count; /* set by the one test that counts */

static void *count_alloc(void *ctx, size_t size)
{
    counter *c = ctx;
    c->calls++;
    c->bytes += size;
    c->blocks++;
    return malloc(size);
}

static void count_release(void *ctx, void *p, size_t size)
{
    counter *c = ctx;
    c->bytes -= size;
    c->blocks--;
    free(p);
}

static void new_stack(env *e, uint32_t max_sockets, uint64_t mem_limit)
{
    synack_stack_config cfg;
    synack_stack_config_init(&cfg);
    if (g_count) {
        cfg.mem_alloc = count_alloc;
        cfg.mem_release = count_release;
        cfg.mem_ctx = g_count;
    }
    memcpy(cfg.mac, dut_mac, 6);
    cfg.ip = DUT_IP;
    cfg.max_sockets = max_sockets;
    if (mem_limit)
        cfg.mem_limit = mem_limit;
    cfg.seed = 42;
    memset(cfg.isn_secret, 9, sizeof cfg.isn_secret);
    cfg.output = on_output;
    cfg.output_ctx = e;
    assert_int_equal(synack_stack_new(&cfg, &e->st), 0);
    assert_int_equal(synack_arp_add(e->st, CLI_IP, cli_mac, 0), 0);
}

static uint64_t mem_used(const env *e)
{
    synack_stack_stats s;
    synack_stack_get_stats(e->st, &s);
    return s.mem_used;
}

static env *setup_env(uint32_t max_sockets, uint64_t mem_limit)
{
    env *e = calloc(1, sizeof *e);
    assert_non_null(e);
    e->now = 1 * SYNACK_SEC;
    new_stack(e, max_sockets, mem_limit);
    e->lh = synack_socket(e->st);
    synack_addr a = {0, DUT_PORT};
    assert_int_equal(synack_bind(e->st, e->lh, &a), 0);
    assert_int_equal(synack_listen(e->st, e->lh, 64), 0);
    return e;
}

/* Three-way handshake and accept for connection i. */
static void open_conn(env *e, int i)
{
    e->ncap = 0;
    e->cli_nxt[i] = CLI_ISS;
    seg(e, i, SYNACK_TH_SYN, NULL);
    assert_int_equal(e->ncap, 1);
    assert_int_equal(e->cap[0].flags, SYNACK_TH_SYN | SYNACK_TH_ACK);
    e->dut_nxt[i] = e->cap[0].seq + 1;
    e->cli_nxt[i] = CLI_ISS + 1;
    seg(e, i, SYNACK_TH_ACK, NULL);
    e->h[i] = synack_accept(e->st, e->lh, NULL);
    assert_true(e->h[i] >= 0);
    e->ncap = 0;
}

static void teardown_env(env *e)
{
    synack_stack_del(e->st);
    free(e);
}

static void set_int(env *e, int h, int opt, int v)
{
    assert_int_equal(synack_setsockopt(e->st, h, opt, &v, sizeof v), 0);
    check(e);
}

static void advance_to(env *e, synack_time_t t)
{
    e->now = t;
    synack_stack_advance(e->st, t);
    check(e);
}

/* ---- memory ------------------------------------------------------------- */

/* The stack's own bytes per socket slot: handle table, 4-tuple hash,
 * timer heap and bind table, all sized by max_sockets. */
static uint64_t per_socket_tables(void)
{
    env a = {0}, b = {0};
    new_stack(&a, 1024, 0);
    new_stack(&b, 2048, 0);
    uint64_t d = mem_used(&b) - mem_used(&a);
    synack_stack_del(a.st);
    synack_stack_del(b.st);
    return d / 1024;
}

static void per_conn_memory(void **state)
{
    (void)state;
    uint64_t tables = per_socket_tables();
    env *e = setup_env(1024, 0);
    uint64_t before = mem_used(e);
    for (int i = 0; i < NCONN; i++)
        open_conn(e, i);
    uint64_t conn = (mem_used(e) - before) / NCONN;
    uint64_t all_in = conn + tables;
    printf("idle established connection: %llu bytes (connection object "
           "%llu + per-socket tables %llu); 1,000,000 of them: %.0f MiB\n",
           (unsigned long long)all_in, (unsigned long long)conn,
           (unsigned long long)tables, (double)all_in * 1e6 / 1048576.0);
    assert_true(tables > 0);
    assert_true(all_in < 1024);
    /* and it stays so: idle for an hour of virtual time */
    advance_to(e, e->now + 3600 * SYNACK_SEC);
    assert_int_equal(synack_stack_next_deadline(e->st), SYNACK_TIME_NEVER);
    assert_int_equal((mem_used(e) - before) / NCONN, conn);
    assert_int_equal(synack_stack_conn_count(e->st), NCONN + 1);
    teardown_env(e);
}

static void buffers_follow_data(void **state)
{
    (void)state;
    env *e = setup_env(64, 0);
    open_conn(e, 0);
    open_conn(e, 1);
    uint64_t idle = mem_used(e);
    int rmem[3], wmem[3];
    char v[64];
    assert_true(synack_sysctl_get(e->st, "tcp_rmem", v, sizeof v) >= 0);
    assert_int_equal(sscanf(v, "%d %d %d", &rmem[0], &rmem[1], &rmem[2]), 3);
    assert_true(synack_sysctl_get(e->st, "tcp_wmem", v, sizeof v) >= 0);
    assert_int_equal(sscanf(v, "%d %d %d", &wmem[0], &wmem[1], &wmem[2]), 3);

    /* data arrives: the receive ring (and its out-of-order ranges) */
    seg(e, 0, SYNACK_TH_ACK | SYNACK_TH_PSH, "hello");
    uint64_t with_rx = mem_used(e);
    assert_true(with_rx >= idle + (uint64_t)rmem[1]);
    assert_true(with_rx < idle + (uint64_t)rmem[1] + 1024);
    /* the other connection still holds nothing */
    seg(e, 1, SYNACK_TH_ACK, NULL);
    assert_int_equal(mem_used(e), with_rx);

    /* the application sends: the send ring */
    assert_int_equal(synack_send(e->st, e->h[0], "world", 5, e->now), 5);
    check(e);
    uint64_t with_both = mem_used(e);
    /* the send ring and its scoreboard (one record per segment sent, in
     * an array of about a sixth of the ring: 32-byte records with the
     * delivery-rate sampling fields, src/core/tcp_sack.c) */
    assert_true(with_both > with_rx + (uint64_t)wmem[1]);
    assert_true(with_both < with_rx + (uint64_t)wmem[1] + wmem[1] / 6 + 512);
    assert_int_equal(e->ncap, 1);
    assert_int_equal(e->cap[0].dlen, 5);
    e->dut_nxt[0] += 5;
    e->ncap = 0;

    /* busy (unread data, unacknowledged data): kept however long */
    advance_to(e, e->now + 200 * SYNACK_MSEC); /* retransmits */
    seg(e, 0, SYNACK_TH_ACK, NULL);            /* acknowledged */
    advance_to(e, e->now + 10 * SYNACK_SEC);
    assert_int_equal(mem_used(e), with_both); /* "hello" still unread */
    char buf[16];
    assert_int_equal(synack_recv(e->st, e->h[0], buf, sizeof buf, e->now), 5);
    assert_memory_equal(buf, "hello", 5);
    check(e);

    /* idle: released after a second, not before */
    synack_time_t idle_from = e->now;
    advance_to(e, idle_from + SYNACK_SEC / 2);
    assert_int_equal(mem_used(e), with_both);
    advance_to(e, idle_from + SYNACK_SEC);
    assert_int_equal(mem_used(e), idle);

    /* and the connection works on: new rings as data flows again */
    e->ncap = 0;
    seg(e, 0, SYNACK_TH_ACK | SYNACK_TH_PSH, "again");
    assert_int_equal(mem_used(e), with_rx);
    assert_int_equal(synack_recv(e->st, e->h[0], buf, sizeof buf, e->now), 5);
    assert_memory_equal(buf, "again", 5);
    assert_int_equal(synack_send(e->st, e->h[0], "more", 4, e->now), 4);
    bool sent = false;
    for (size_t i = 0; i < e->ncap; i++)
        if (e->cap[i].dlen == 4 && e->cap[i].seq == e->dut_nxt[0])
            sent = true;
    assert_true(sent);
    teardown_env(e);
}

static void rx_alloc_failure(void **state)
{
    (void)state;
    /* the same stack twice: the first measures, the second has a memory
     * limit just short of a receive ring */
    env *m = setup_env(64, 0);
    open_conn(m, 0);
    uint64_t established = mem_used(m);
    seg(m, 0, SYNACK_TH_ACK | SYNACK_TH_PSH, "x");
    uint64_t ring = mem_used(m) - established;
    teardown_env(m);

    env *e = setup_env(64, established + ring - 1);
    open_conn(e, 0);
    assert_int_equal(mem_used(e), established);
    e->ncap = 0;
    seg(e, 0, SYNACK_TH_ACK | SYNACK_TH_PSH, "x");
    synack_stack_stats s;
    synack_stack_get_stats(e->st, &s);
    assert_int_equal(s.drops[SYNACK_DROP_TCP_NO_MEM], 1);
    assert_int_equal(mem_used(e), established);
    /* not acknowledged, now or by the delayed-ACK timer */
    advance_to(e, e->now + SYNACK_SEC);
    for (size_t i = 0; i < e->ncap; i++)
        assert_int_equal(e->cap[i].ack, CLI_ISS + 1);
    char buf[4];
    assert_int_equal(synack_recv(e->st, e->h[0], buf, sizeof buf, e->now),
                     -SYNACK_EAGAIN);
    teardown_env(e);
}

static synack_stack_stats stats(const env *e)
{
    synack_stack_stats s;
    synack_stack_get_stats(e->st, &s);
    return s;
}

static void freed_blocks_reused(void **state)
{
    (void)state;
    counter c = {0};
    g_count = &c;
    env *e = setup_env(256, 64u << 20); /* cache limit 4 MiB */
    g_count = NULL;
    /* the stack object itself is allocated outside mem_used */
    uint64_t outside = c.bytes - mem_used(e);
    assert_true(outside < 64 * 1024);
    open_conn(e, 0);
    seg(e, 0, SYNACK_TH_ACK | SYNACK_TH_PSH, "hello");
    char buf[16];
    assert_int_equal(synack_recv(e->st, e->h[0], buf, sizeof buf, e->now), 5);
    uint64_t with_rx = mem_used(e);
    /* idle: the ring goes back to the stack's cache, not the allocator */
    uint64_t calls = c.calls, held = c.bytes;
    advance_to(e, e->now + 2 * SYNACK_SEC);
    uint64_t ring = with_rx - mem_used(e);
    assert_true(ring > 0);
    assert_int_equal(stats(e).mem_cached, ring);
    assert_int_equal(c.bytes, held);
    /* data again: the same size comes from the cache */
    seg(e, 0, SYNACK_TH_ACK | SYNACK_TH_PSH, "again");
    assert_int_equal(mem_used(e), with_rx);
    assert_int_equal(stats(e).mem_cached, 0);
    assert_int_equal(c.calls, calls);
    assert_int_equal(synack_recv(e->st, e->h[0], buf, sizeof buf, e->now), 5);
    assert_memory_equal(buf, "again", 5);

    /* many rings released at once: the cache keeps 4 MiB of them */
    for (int i = 1; i < 200; i++) {
        open_conn(e, i);
        seg(e, i, SYNACK_TH_ACK | SYNACK_TH_PSH, "x");
        assert_int_equal(synack_recv(e->st, e->h[i], buf, sizeof buf, e->now),
                         1);
    }
    assert_true(200 * ring > (4u << 20));
    e->quiet = true; /* their delayed ACKs */
    advance_to(e, e->now + 2 * SYNACK_SEC);
    e->quiet = false;
    synack_stack_stats s = stats(e);
    assert_true(s.mem_cached > (4u << 20) - ring);
    assert_true(s.mem_cached <= (4u << 20));
    assert_int_equal(c.bytes, outside + s.mem_used + s.mem_cached);
    /* connections closed by RST: their blocks join the cache only where
     * there is room; the allocator still holds exactly used + cached */
    for (int i = 0; i < 200; i++) {
        e->ncap = 0;
        seg(e, i, SYNACK_TH_RST, NULL);
        assert_int_equal(synack_close(e->st, e->h[i], e->now), 0);
        check(e);
    }
    s = stats(e);
    assert_true(s.mem_cached <= (4u << 20));
    assert_int_equal(c.bytes, outside + s.mem_used + s.mem_cached);
    teardown_env(e);
    assert_int_equal(c.bytes, 0);
    assert_int_equal(c.blocks, 0);
}

/* The limit counts the cache: a block that does not fit beside it empties
 * the cache and is allocated; one that does not fit at all is refused. */
static void cache_within_limit(void **state)
{
    (void)state;
    env *m = setup_env(64, 0);
    open_conn(m, 0);
    open_conn(m, 1);
    uint64_t two = mem_used(m);
    seg(m, 0, SYNACK_TH_ACK | SYNACK_TH_PSH, "x");
    uint64_t ring = mem_used(m) - two;
    teardown_env(m);

    /* room for two idle connections and one ring, not two */
    env *e = setup_env(64, two + ring + ring / 2);
    open_conn(e, 0);
    open_conn(e, 1);
    seg(e, 0, SYNACK_TH_ACK | SYNACK_TH_PSH, "x");
    char buf[4];
    assert_int_equal(synack_recv(e->st, e->h[0], buf, sizeof buf, e->now), 1);
    advance_to(e, e->now + 2 * SYNACK_SEC); /* ring 0 to the cache */
    synack_stack_stats s = stats(e);
    uint64_t lim = two + ring + ring / 2;
    assert_true(s.mem_used + s.mem_cached <= lim);
    /* connection 1 gets data: a ring, from the cache or after it */
    seg(e, 1, SYNACK_TH_ACK | SYNACK_TH_PSH, "y");
    s = stats(e);
    assert_int_equal(s.drops[SYNACK_DROP_TCP_NO_MEM], 0);
    assert_int_equal(s.mem_used, two + ring);
    assert_true(s.mem_used + s.mem_cached <= lim);
    /* and connection 0 cannot have one too */
    seg(e, 0, SYNACK_TH_ACK | SYNACK_TH_PSH, "z");
    s = stats(e);
    assert_int_equal(s.drops[SYNACK_DROP_TCP_NO_MEM], 1);
    assert_true(s.mem_used + s.mem_cached <= lim);
    teardown_env(e);
}

/* ---- timers --------------------------------------------------------------- */

/* Nothing leaves a nanosecond before t; at t, exactly one segment of
 * connection i with the flags and payload length given. */
static void fires_at(env *e, synack_time_t t, int i, uint8_t flags,
                     uint32_t dlen)
{
    assert_int_equal(synack_stack_next_deadline(e->st), t);
    e->ncap = 0;
    advance_to(e, t - 1);
    assert_int_equal(e->ncap, 0);
    advance_to(e, t);
    assert_int_equal(e->ncap, 1);
    assert_int_equal(e->cap[0].at, t);
    assert_int_equal(e->cap[0].dport, CLI_PORT0 + i);
    assert_int_equal(e->cap[0].flags, flags);
    assert_int_equal(e->cap[0].dlen, dlen);
    e->ncap = 0;
}

static void timers_exact(void **state)
{
    (void)state;
    env *e = setup_env(1024, 0);
    assert_int_equal(synack_sysctl_set(e->st, "tcp_delack_ms", "1"), 0);
    assert_int_equal(synack_sysctl_set(e->st, "tcp_rto_min_us", "300000"), 0);
    assert_int_equal(synack_sysctl_set(e->st, "tcp_rto_initial_ms", "300"),
                     0);
    for (int i = 0; i < NCONN; i++)
        open_conn(e, i);
    assert_int_equal(synack_stack_next_deadline(e->st), SYNACK_TIME_NEVER);
    e->now += 7 * SYNACK_MSEC + 123; /* not on any round number */
    synack_time_t t0 = e->now;

    /* 7: a delayed ACK, 1 ms ahead */
    seg(e, 7, SYNACK_TH_ACK, "a");
    /* 77: a retransmission, 300 ms ahead */
    assert_int_equal(synack_send(e->st, e->h[77], "b", 1, e->now), 1);
    check(e);
    /* 177 and 277: keepalive, 70 s and 2 h ahead */
    set_int(e, e->h[177], SYNACK_TCP_KEEPIDLE, 70);
    set_int(e, e->h[177], SYNACK_SO_KEEPALIVE, 1);
    set_int(e, e->h[277], SYNACK_TCP_KEEPIDLE, 7200);
    set_int(e, e->h[277], SYNACK_SO_KEEPALIVE, 1);
    e->ncap = 0;

    fires_at(e, t0 + SYNACK_MSEC, 7, SYNACK_TH_ACK, 0);
    fires_at(e, t0 + 300 * SYNACK_MSEC, 77, SYNACK_TH_ACK | SYNACK_TH_PSH, 1);
    /* the retransmission is acknowledged: that timer is off */
    e->dut_nxt[77] += 1;
    seg(e, 77, SYNACK_TH_ACK, NULL);
    fires_at(e, t0 + 70 * SYNACK_SEC, 177, SYNACK_TH_ACK, 0);
    set_int(e, e->h[177], SYNACK_SO_KEEPALIVE, 0);
    assert_int_equal(synack_stack_next_deadline(e->st),
                     t0 + 7200 * SYNACK_SEC);

    /* a jump an hour past the 2 h deadline: it fires once, then */
    synack_time_t jump = t0 + 3 * 3600 * SYNACK_SEC;
    e->ncap = 0;
    advance_to(e, jump);
    assert_int_equal(e->ncap, 1);
    assert_int_equal(e->cap[0].dport, CLI_PORT0 + 277);
    assert_int_equal(e->cap[0].at, jump);
    int intvl = 0;
    size_t len = sizeof intvl;
    assert_int_equal(synack_getsockopt(e->st, e->h[277], SYNACK_TCP_KEEPINTVL,
                                       &intvl, &len),
                     0);
    assert_int_equal(synack_stack_next_deadline(e->st),
                     jump + (synack_time_t)intvl * SYNACK_SEC);

    /* a jump of ten years: one probe, at the time of the jump; the
     * probes that follow run out and the connection is reset, leaving the
     * heap empty */
    int cnt = 0;
    len = sizeof cnt;
    assert_int_equal(synack_getsockopt(e->st, e->h[277], SYNACK_TCP_KEEPCNT,
                                       &cnt, &len),
                     0);
    synack_time_t far = jump + 10ull * 365 * 86400 * SYNACK_SEC;
    e->ncap = 0;
    advance_to(e, far);
    assert_int_equal(e->ncap, 1);
    assert_int_equal(e->cap[0].at, far);
    assert_int_equal(synack_stack_next_deadline(e->st),
                     far + (synack_time_t)intvl * SYNACK_SEC);
    int fired = 0;
    for (synack_time_t d; (d = synack_stack_next_deadline(e->st)) !=
                          SYNACK_TIME_NEVER;) {
        assert_true(++fired <= cnt);
        advance_to(e, d);
    }
    /* two probes were sent above, cnt - 2 more, then the give-up */
    assert_int_equal(fired, cnt - 1);
    synack_conn_info ci;
    assert_int_equal(synack_conn_get(e->st, e->h[277], &ci), 0);
    assert_int_equal(ci.state, SYNACK_CLOSED);
    assert_int_equal(synack_stack_next_deadline(e->st), SYNACK_TIME_NEVER);
    synack_stack_stats s;
    synack_stack_get_stats(e->st, &s);
    assert_int_equal(s.timer_misfires, 0);
    assert_int_equal(synack_stack_conn_count(e->st), NCONN + 1);
    teardown_env(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(per_conn_memory),
        cmocka_unit_test(buffers_follow_data),
        cmocka_unit_test(rx_alloc_failure),
        cmocka_unit_test(freed_blocks_reused),
        cmocka_unit_test(cache_within_limit),
        cmocka_unit_test(timers_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
