/*
 * Hostile peers, in the simulator (issue 5, acceptance points 3 and 4).
 *
 * World: stack A (client, 10.0.0.1), stack B (server, 10.0.0.2) and stack G
 * (the gateway, 10.0.0.254: off-link replies go to it and die there) on one
 * clean in-memory link with 1 ms delay, in virtual time. The attacker does
 * not sit on the link: its frames are handed straight to the target stack
 * (synack_stack_input), as if they had arrived from the network, with
 * correct checksums so that they reach TCP.
 *
 * 1. SYN flood: 100,000 SYNs from random off-link sources at B's listener
 *    over 10 s. Meanwhile A connects and sends 1 MiB, which B checks byte
 *    by byte. With tcp_syncookies=1 (the default) A gets in through a
 *    cookie, B's memory never exceeds its 2 MiB limit and never runs out;
 *    with tcp_syncookies=0 the same flood keeps A out (ETIMEDOUT): the
 *    control that shows the flood is real.
 *
 * 2. Blind attacks: while A and B move 4 MiB each way, 60,000 forged
 *    segments from the 4-tuple (half at B spoofing A, half at A spoofing B):
 *    10,000 each of RST, SYN and data with sequence and acknowledgment
 *    numbers uniformly random (the attacker knows the 4-tuple only), then
 *    10,000 each aimed inside the target's receive window (the attacker
 *    somehow knows the window, not the exact numbers: RSTs never exactly at
 *    RCV.NXT, data with an ACK outside the RFC 5961 5.2 acceptable range).
 *    Both streams arrive byte-exact, no connection is reset, and the
 *    counters show that each defence (RFC 5961 3.2 challenge ACK for RST,
 *    4.2 for SYN, 5.2 ACK check for data, RFC 9293 window check) fired.
 *    Control: one RST exactly at RCV.NXT does reset a connection.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <synack/dev.h>
#include <synack/synack.h>

#include "core/wire.h"

#define IP_A 0x0a000001u
#define IP_B 0x0a000002u
#define IP_G 0x0a0000feu
#define PORT_B 80

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* The stream byte at offset k of direction dir. */
static uint8_t pat(int dir, uint64_t k)
{
    uint64_t x = (k + 1) * 0x9e3779b97f4a7c15ULL + (uint64_t)dir * 77;
    return (uint8_t)(x >> 56 ^ x >> 23);
}

/* ---- the world ---------------------------------------------------------- */

typedef struct node {
    synack_stack *st;
    uint8_t mac[6];
    uint32_t ip;
    /* what this stack last told the other end of the main connection: the
     * attacker's view of the window (the TCP header it sent) */
    int seen;
    uint32_t last_ack;    /* = its RCV.NXT */
    uint32_t last_wnd;    /* scaled */
    uint32_t snd_max;     /* highest SEQ+LEN it sent */
    uint8_t wscale;
    uint16_t lport, rport; /* the main connection, once known */
} node;

typedef struct world {
    synack_link *link;
    synack_dev *port[3];
    synack_vloop *loop;
    node n[3]; /* A, B, G */
} world;

static void on_trace(void *ctx, const synack_trace_event *ev)
{
    node *nd = ctx;
    if (ev->kind != SYNACK_TRACE_SEG_OUT || !ev->seg || !nd->lport)
        return;
    const synack_seg *s = ev->seg;
    if (s->src.port != nd->lport || s->dst.port != nd->rport)
        return;
    if (s->flags & SYNACK_TH_RST)
        return;
    uint32_t end = s->seq + s->len + ((s->flags & SYNACK_TH_FIN) ? 1 : 0);
    if (!nd->seen || (int32_t)(end - nd->snd_max) > 0)
        nd->snd_max = end;
    nd->last_ack = s->ack;
    nd->last_wnd = (uint32_t)s->wnd << nd->wscale;
    nd->seen = 1;
}

static void world_new(world *w, const char *const *sysctls_b,
                      uint64_t mem_limit_b)
{
    memset(w, 0, sizeof(*w));
    synack_link_config lc;
    synack_link_config_init(&lc);
    lc.delay = SYNACK_MSEC;
    lc.seed = 1;
    assert_int_equal(synack_link_new(&lc, &w->link), 0);
    assert_int_equal(synack_vloop_new(0, &w->loop), 0);
    const uint32_t ips[3] = {IP_A, IP_B, IP_G};
    for (int i = 0; i < 3; i++) {
        node *nd = &w->n[i];
        synack_stack_config c;
        synack_stack_config_init(&c);
        const uint8_t mac[6] = {0x02, 0, 0x5e, 0, 0, (uint8_t)(i + 1)};
        memcpy(c.mac, mac, 6);
        memcpy(nd->mac, mac, 6);
        c.ip = nd->ip = ips[i];
        c.prefix_len = 24;
        c.gateway = IP_G;
        c.seed = 100 + (uint64_t)i;
        for (int k = 0; k < 16; k++)
            c.isn_secret[k] = (uint8_t)(k * 13 + i * 101 + 1);
        if (i == 1 && mem_limit_b)
            c.mem_limit = mem_limit_b;
        assert_int_equal(synack_stack_new(&c, &nd->st), 0);
        synack_set_trace(nd->st, on_trace, nd);
        assert_int_equal(synack_link_port(w->link, &w->port[i]), 0);
        synack_attach(nd->st, w->port[i]);
        assert_int_equal(synack_vloop_add_stack(w->loop, nd->st), 0);
        assert_int_equal(synack_vloop_add_dev(w->loop, w->port[i]), 0);
    }
    for (const char *const *o = sysctls_b; o && *o; o++) {
        char nm[64];
        const char *eq = strchr(*o, '=');
        assert_non_null(eq);
        memcpy(nm, *o, (size_t)(eq - *o));
        nm[eq - *o] = '\0';
        assert_int_equal(synack_sysctl_set(w->n[1].st, nm, eq + 1), 0);
    }
}

static void world_del(world *w)
{
    synack_vloop_del(w->loop);
    for (int i = 0; i < 3; i++) {
        synack_stack_del(w->n[i].st);
        synack_dev_destroy(w->port[i]);
    }
    synack_link_del(w->link);
}

/* A forged TCP segment into `to`, claiming to come from src:sport (Ethernet
 * source: the MAC given). */
static void inject(world *w, node *to, const uint8_t *src_mac, uint32_t src,
                   uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq,
                   uint32_t ack, uint16_t wnd, const uint8_t *data, size_t len,
                   bool mss)
{
    uint8_t buf[1600];
    wire_eth eh;
    memcpy(eh.dst, to->mac, 6);
    memcpy(eh.src, src_mac, 6);
    eh.type = WIRE_ETHERTYPE_IPV4;
    size_t n = wire_eth_emit(buf, &eh);
    wire_tcp th;
    memset(&th, 0, sizeof(th));
    th.sport = sport;
    th.dport = dport;
    th.seq = seq;
    th.ack = ack;
    th.flags = flags;
    th.wnd = wnd;
    if (mss) {
        th.has_mss = 1;
        th.mss = 1460;
    }
    uint8_t *tcp = buf + n + WIRE_IPV4_HLEN;
    size_t hl = wire_tcp_emit(tcp, &th);
    if (len)
        memcpy(tcp + hl, data, len);
    wire_tcp_set_csum(tcp, hl + len, src, to->ip);
    wire_ipv4 ih = {.hlen = 20,
                    .total_len = (uint16_t)(20 + hl + len),
                    .id = 7,
                    .frag = WIRE_IP_DF,
                    .ttl = 64,
                    .proto = WIRE_IPPROTO_TCP,
                    .src = src,
                    .dst = to->ip};
    wire_ipv4_emit(buf + n, &ih);
    synack_stack_input(to->st, buf, n + 20 + hl + len,
                       synack_vloop_now(w->loop));
}

/* ---- the applications ---------------------------------------------------- */

typedef struct endpt {
    synack_stack *st;
    int h;
    int dir_out, dir_in;
    uint64_t to_send, sent, rcvd, expect_in;
    int shut, eof, closed, err, bad_byte;
    synack_time_t t_connected, t_eof;
} endpt;

static void pump(endpt *e, synack_time_t now)
{
    if (e->h < 0 || e->closed)
        return;
    uint8_t buf[16384];
    while (!e->shut && e->sent < e->to_send) {
        size_t n = sizeof buf;
        if (n > e->to_send - e->sent)
            n = (size_t)(e->to_send - e->sent);
        for (size_t i = 0; i < n; i++)
            buf[i] = pat(e->dir_out, e->sent + i);
        ssize_t r = synack_send(e->st, e->h, buf, n, now);
        if (r == -SYNACK_EAGAIN || r == -SYNACK_ENOTCONN)
            break;
        if (r < 0) {
            e->err = (int)-r;
            break;
        }
        e->sent += (uint64_t)r;
    }
    if (!e->shut && e->sent == e->to_send &&
        synack_shutdown(e->st, e->h, SYNACK_SHUT_WR, now) == 0)
        e->shut = 1;
    while (!e->eof) {
        ssize_t r = synack_recv(e->st, e->h, buf, sizeof buf, now);
        if (r == -SYNACK_EAGAIN || r == -SYNACK_ENOTCONN)
            break;
        if (r < 0) {
            e->err = (int)-r;
            break;
        }
        if (r == 0) {
            e->eof = 1;
            e->t_eof = now;
            break;
        }
        for (ssize_t i = 0; i < r; i++)
            if (buf[i] != pat(e->dir_in, e->rcvd + (uint64_t)i))
                e->bad_byte = 1;
        e->rcvd += (uint64_t)r;
    }
    if ((e->eof && e->shut) || e->err) {
        synack_close(e->st, e->h, now);
        e->closed = 1;
    }
}

typedef struct app {
    world *w;
    endpt a, b;
    int lh;
    synack_time_t t_connect;
    int connecting;
    size_t max_conns_b;
} app;

static void app_start(app *p, world *w, uint64_t a_to_b, uint64_t b_to_a,
                      synack_time_t t_connect)
{
    memset(p, 0, sizeof(*p));
    p->w = w;
    p->a = (endpt){.st = w->n[0].st, .h = -1, .dir_out = 0, .dir_in = 1,
                   .to_send = a_to_b};
    p->b = (endpt){.st = w->n[1].st, .h = -1, .dir_out = 1, .dir_in = 0,
                   .to_send = b_to_a};
    p->lh = synack_socket(w->n[1].st);
    assert_true(p->lh >= 0);
    synack_addr la = {0, PORT_B};
    assert_int_equal(synack_bind(w->n[1].st, p->lh, &la), 0);
    assert_int_equal(synack_listen(w->n[1].st, p->lh, 128), 0);
    p->t_connect = t_connect;
}

static void app_step(app *p, synack_time_t now)
{
    world *w = p->w;
    if (p->a.h < 0 && now >= p->t_connect) {
        p->a.h = synack_socket(w->n[0].st);
        assert_true(p->a.h >= 0);
        synack_addr ra = {IP_B, PORT_B};
        int r = synack_connect(w->n[0].st, p->a.h, &ra, now);
        assert_int_equal(r, -SYNACK_EINPROGRESS);
        synack_conn_info ci;
        assert_int_equal(synack_conn_get(w->n[0].st, p->a.h, &ci), 0);
        w->n[0].lport = ci.local.port;
        w->n[0].rport = PORT_B;
        w->n[1].lport = PORT_B;
        w->n[1].rport = ci.local.port;
        p->connecting = 1;
    }
    if (p->connecting) {
        synack_conn_info ci;
        if (synack_conn_get(w->n[0].st, p->a.h, &ci) == 0 &&
            ci.state == SYNACK_ESTABLISHED) {
            p->connecting = 0;
            p->a.t_connected = now;
            w->n[0].wscale = ci.rcv_wscale;
        } else if (synack_conn_get(w->n[0].st, p->a.h, &ci) == 0 &&
                   ci.state == SYNACK_CLOSED) {
            int err = 0;
            size_t len = sizeof err;
            synack_getsockopt(w->n[0].st, p->a.h, SYNACK_SO_ERROR, &err, &len);
            p->a.err = err;
            p->connecting = 0;
            synack_close(w->n[0].st, p->a.h, now);
            p->a.closed = 1;
        }
    }
    if (p->b.h < 0) {
        synack_addr peer;
        int h = synack_accept(w->n[1].st, p->lh, &peer);
        if (h >= 0) {
            if (peer.ip == IP_A) {
                p->b.h = h;
                synack_conn_info ci;
                assert_int_equal(synack_conn_get(w->n[1].st, h, &ci), 0);
                w->n[1].wscale = ci.rcv_wscale;
            } else {
                synack_close(w->n[1].st, h, now); /* a forged one: none */
            }
        }
    }
    if (!p->connecting && p->a.h >= 0)
        pump(&p->a, now);
    if (p->b.h >= 0)
        pump(&p->b, now);
    size_t c = synack_stack_conn_count(w->n[1].st);
    if (c > p->max_conns_b)
        p->max_conns_b = c;
}

static bool app_done(const app *p)
{
    return p->a.closed && (p->b.closed || p->a.err);
}

/* Run until the applications are done and the main stacks idle, injecting
 * `nattack` forged segments at times attack_time(i) through attack(i). */
typedef struct attacker {
    size_t n, next;
    synack_time_t (*when)(struct attacker *, size_t i);
    void (*fire)(struct attacker *, world *, size_t i);
    uint64_t rng;
    synack_time_t t0, span;
} attacker;

static synack_time_t spread(attacker *at, size_t i)
{
    return at->t0 + (synack_time_t)((double)at->span * (double)i /
                                    (double)at->n);
}

static void run(world *w, app *p, attacker *at, synack_time_t limit)
{
    for (;;) {
        synack_time_t now = synack_vloop_now(w->loop);
        if (now >= limit)
            break;
        while (at && at->next < at->n && at->when(at, at->next) <= now)
            at->fire(at, w, at->next++);
        app_step(p, now);
        for (int i = 0; i < 3; i++) {
            char msg[256];
            if (synack_stack_check(w->n[i].st, msg, sizeof msg))
                fail_msg("stack %d at %.6f s: %s", i, (double)now / 1e9, msg);
        }
        if (app_done(p) && (!at || at->next == at->n) &&
            synack_stack_conn_count(w->n[0].st) == 0 &&
            synack_stack_conn_count(w->n[1].st) <= 1)
            break;
        synack_time_t stop = limit;
        if (at && at->next < at->n && at->when(at, at->next) < stop)
            stop = at->when(at, at->next);
        /* the applications poll every 10 ms at least */
        if (now + 10 * SYNACK_MSEC < stop)
            stop = now + 10 * SYNACK_MSEC;
        synack_vloop_step(w->loop, stop);
    }
}

/* ---- 1. SYN flood ---------------------------------------------------------- */

#define FLOOD_SYNS 100000
#define FLOOD_MEM (2u << 20)

static void flood_fire(attacker *at, world *w, size_t i)
{
    (void)i;
    uint64_t r = rng_next(&at->rng);
    uint32_t src;
    do { /* off-link, unicast, not ours */
        src = (uint32_t)r;
        r = rng_next(&at->rng);
    } while ((src >> 24) == 10 || (src >> 24) == 0 || (src >> 24) == 127 ||
             (src >> 28) >= 14);
    inject(w, &w->n[1], w->n[2].mac, src, (uint16_t)(1024 + r % 60000),
           PORT_B, SYNACK_TH_SYN, (uint32_t)(r >> 32), 0, 65535, NULL, 0,
           true);
}

static void flood(int cookies, app *p, synack_stack_stats *sb)
{
    world w;
    const char *on[] = {"tcp_syncookies=1", NULL};
    const char *off[] = {"tcp_syncookies=0", NULL};
    world_new(&w, cookies ? on : off, FLOOD_MEM);
    app_start(p, &w, 1u << 20, 0, 2 * SYNACK_SEC);
    attacker at = {.n = FLOOD_SYNS, .when = spread, .fire = flood_fire,
                   .rng = 0xf100d, .t0 = 0, .span = 10 * SYNACK_SEC};
    run(&w, p, &at, 400 * SYNACK_SEC);
    synack_stack_get_stats(w.n[1].st, sb);
    if (p->b.h >= 0 && !p->b.closed)
        synack_close(w.n[1].st, p->b.h, synack_vloop_now(w.loop));
    synack_close(w.n[1].st, p->lh, synack_vloop_now(w.loop));
    world_del(&w);
}

static void syn_flood_real_client_gets_through(void **state)
{
    (void)state;
    app p;
    synack_stack_stats sb;
    flood(1, &p, &sb);
    printf("[flood] cookies on: %llu SYNs; cookies sent %llu, cookie ACKs "
           "%llu, failed %llu; SYN-queue drops %llu; client connected at "
           "%.3f s; B mem peak %llu of %u bytes; "
           "max connections on B %zu\n",
           (unsigned long long)FLOOD_SYNS,
           (unsigned long long)sb.syncookies_sent,
           (unsigned long long)sb.syncookies_recv,
           (unsigned long long)sb.syncookies_failed,
           (unsigned long long)sb.drops[SYNACK_DROP_TCP_SYN_QUEUE_FULL],
           (double)p.a.t_connected / 1e9,
           (unsigned long long)sb.mem_peak, FLOOD_MEM, p.max_conns_b);
    assert_int_equal(p.a.err, 0);
    assert_int_equal(p.b.err, 0);
    assert_int_equal(p.a.sent, 1u << 20);
    assert_int_equal(p.b.rcvd, 1u << 20);
    assert_false(p.b.bad_byte);
    assert_true(p.b.eof);
    /* the client got in while the flood was on (it ends at 10 s) */
    assert_true(p.a.t_connected > 0 && p.a.t_connected < 10 * SYNACK_SEC);
    assert_true(sb.syncookies_recv >= 1);
    assert_true(sb.syncookies_sent >= FLOOD_SYNS - 1000);
    assert_true(sb.mem_peak <= FLOOD_MEM);
    assert_int_equal(sb.drops[SYNACK_DROP_TCP_NO_MEM], 0);
    /* listener + SYN queue (128) + the real connection */
    assert_true(p.max_conns_b <= 1 + 128 + 1);
    assert_int_equal(sb.illegal_transitions, 0);
    assert_int_equal(sb.timer_misfires, 0);
}

/* The control: without cookies the 128 half-open connections the flood
 * leaves in the SYN queue (they live 63 s: tcp_synack_retries=5) keep the
 * client out for the whole flood; its SYN retransmission at 65 s (after
 * 2, 3, 5, 9, 17, 33 s) is the first to find room. */
static void syn_flood_without_cookies_keeps_client_out(void **state)
{
    (void)state;
    app p;
    synack_stack_stats sb;
    flood(0, &p, &sb);
    printf("[flood] cookies off: SYN-queue drops %llu; client connected at "
           "%.3f s (error %s)\n",
           (unsigned long long)sb.drops[SYNACK_DROP_TCP_SYN_QUEUE_FULL],
           (double)p.a.t_connected / 1e9, synack_errname(-p.a.err));
    assert_true(p.a.t_connected > 60 * SYNACK_SEC || p.a.err != 0);
    assert_int_equal(sb.syncookies_sent, 0);
    assert_true(sb.drops[SYNACK_DROP_TCP_SYN_QUEUE_FULL] >= FLOOD_SYNS - 1000);
    assert_true(sb.mem_peak <= FLOOD_MEM);
}

/* ---- 2. blind attacks -------------------------------------------------------- */

#define BLIND_EACH 10000
#define BLIND_BYTES (4u << 20)

/* i in [0, 6 * BLIND_EACH): kind = i % 3 (RST, SYN, data), aimed = i >=
 * 3 * BLIND_EACH, target alternates between B and A. */
static void blind_fire(attacker *at, world *w, size_t i)
{
    int target = (int)(i / 3) % 2; /* 0: B (spoofing A), 1: A (spoofing B) */
    node *to = &w->n[target ? 0 : 1];
    node *from = &w->n[target ? 1 : 0];
    if (!to->seen || !from->seen)
        return;
    int kind = (int)(i % 3);
    bool aimed = i >= 3 * BLIND_EACH;
    uint64_t r = rng_next(&at->rng);
    uint32_t seq = (uint32_t)r, ack = (uint32_t)(r >> 32);
    if (aimed) {
        /* the target's receive window, as its last segment announced it */
        uint32_t wnd = to->last_wnd ? to->last_wnd : 1;
        uint64_t r2 = rng_next(&at->rng);
        seq = to->last_ack + (uint32_t)(r2 % wnd);
        if (kind == 0 && seq == to->last_ack)
            seq++; /* in the window, never the exact RCV.NXT */
        if (kind == 2) {
            /* an ACK outside [SND.UNA - MAX.SND.WND, SND.NXT]: above what
             * the target sent, or more than any window below it */
            uint32_t k = 1 + (uint32_t)((r2 >> 32) % (1u << 20));
            ack = (r2 >> 63) ? to->snd_max + k : to->snd_max - (1u << 24) - k;
        }
    }
    uint8_t data[512];
    size_t len = 0;
    uint8_t flags = SYNACK_TH_ACK;
    if (kind == 0) {
        flags = (r >> 17) & 1 ? SYNACK_TH_RST : SYNACK_TH_RST | SYNACK_TH_ACK;
    } else if (kind == 1) {
        flags = SYNACK_TH_SYN;
    } else {
        len = 1 + (size_t)((r >> 7) % sizeof data);
        for (size_t k = 0; k < len; k++)
            data[k] = (uint8_t)(0xA5 ^ k);
        flags = SYNACK_TH_ACK | SYNACK_TH_PSH;
    }
    inject(w, to, from->mac, from->ip, to->rport, to->lport, flags, seq, ack,
           65535, data, len, false);
}

static void blind_attacks_fail(void **state)
{
    (void)state;
    world w;
    world_new(&w, NULL, 0);
    /* the send buffers keep their default size, so that the transfers
     * still flow when the attack (50-500 ms) ends */
    for (int i = 0; i < 2; i++)
        assert_int_equal(synack_sysctl_set(w.n[i].st, "tcp_sndbuf_auto", "0"),
                         0);
    app p;
    app_start(&p, &w, BLIND_BYTES, BLIND_BYTES, 0);
    attacker at = {.n = 6 * BLIND_EACH, .when = spread, .fire = blind_fire,
                   .rng = 0xb11d, .t0 = 50 * SYNACK_MSEC,
                   .span = 450 * SYNACK_MSEC};
    run(&w, &p, &at, 600 * SYNACK_SEC);
    synack_stack_stats sa, sb;
    synack_stack_get_stats(w.n[0].st, &sa);
    synack_stack_get_stats(w.n[1].st, &sb);
    printf("[blind] %zu forged segments; A: challenge ACKs %llu, RST not "
           "exact %llu, SYN %llu, bad ACK %llu, out of window %llu; B: "
           "challenge ACKs %llu, RST not exact %llu, SYN %llu, bad ACK %llu, "
           "out of window %llu; transfers %llu/%llu bytes, done at %.3f s\n",
           at.next, (unsigned long long)sa.tcp_challenge_acks,
           (unsigned long long)sa.drops[SYNACK_DROP_TCP_RST_SEQ],
           (unsigned long long)sa.drops[SYNACK_DROP_TCP_SYN_IN_WINDOW],
           (unsigned long long)sa.drops[SYNACK_DROP_TCP_ACK],
           (unsigned long long)sa.drops[SYNACK_DROP_TCP_SEQ],
           (unsigned long long)sb.tcp_challenge_acks,
           (unsigned long long)sb.drops[SYNACK_DROP_TCP_RST_SEQ],
           (unsigned long long)sb.drops[SYNACK_DROP_TCP_SYN_IN_WINDOW],
           (unsigned long long)sb.drops[SYNACK_DROP_TCP_ACK],
           (unsigned long long)sb.drops[SYNACK_DROP_TCP_SEQ],
           (unsigned long long)p.b.rcvd, (unsigned long long)p.a.rcvd,
           (double)synack_vloop_now(w.loop) / 1e9);
    assert_int_equal(at.next, 6 * BLIND_EACH);
    /* the whole attack hit the connection while it carried data */
    assert_true(spread(&at, at.n - 1) < p.a.t_eof);
    assert_true(spread(&at, at.n - 1) < p.b.t_eof);
    assert_int_equal(p.a.err, 0);
    assert_int_equal(p.b.err, 0);
    assert_int_equal(p.b.rcvd, BLIND_BYTES);
    assert_int_equal(p.a.rcvd, BLIND_BYTES);
    assert_false(p.a.bad_byte);
    assert_false(p.b.bad_byte);
    assert_true(p.a.eof && p.b.eof);
    assert_int_equal(sa.conns_reset + sb.conns_reset, 0);
    assert_int_equal(sa.illegal_transitions + sb.illegal_transitions, 0);
    assert_int_equal(sa.timer_misfires + sb.timer_misfires, 0);
    /* the attack reached TCP and each defence fired on both ends (the
     * aimed half: about 1,666 of each kind per end) */
    const synack_stack_stats *ss[2] = {&sa, &sb};
    for (int i = 0; i < 2; i++) {
        assert_true(ss[i]->drops[SYNACK_DROP_TCP_RST_SEQ] > 1000);
        assert_true(ss[i]->drops[SYNACK_DROP_TCP_SYN_IN_WINDOW] > 1000);
        assert_true(ss[i]->drops[SYNACK_DROP_TCP_ACK] > 1000);
        assert_true(ss[i]->drops[SYNACK_DROP_TCP_SEQ] > 1000);
        assert_true(ss[i]->tcp_challenge_acks > 0);
        assert_int_equal(ss[i]->drops[SYNACK_DROP_TCP_BAD_CSUM], 0);
    }

    /* control: the same injection path with the exact RCV.NXT resets */
    app p2;
    synack_close(w.n[1].st, p.lh, synack_vloop_now(w.loop));
    w.n[0].seen = w.n[1].seen = 0;
    app_start(&p2, &w, 0, 0, synack_vloop_now(w.loop));
    p2.a.shut = p2.b.shut = 1; /* keep both open: nothing to send */
    for (int k = 0; k < 100 && (p2.b.h < 0 || !w.n[1].seen); k++) {
        app_step(&p2, synack_vloop_now(w.loop));
        synack_vloop_step(w.loop,
                          synack_vloop_now(w.loop) + 10 * SYNACK_MSEC);
    }
    assert_true(p2.b.h >= 0);
    node *b = &w.n[1];
    inject(&w, b, w.n[0].mac, IP_A, b->rport, b->lport, SYNACK_TH_RST,
           b->last_ack, 0, 0, NULL, 0, false);
    char c;
    assert_int_equal(synack_recv(b->st, p2.b.h, &c, 1,
                                 synack_vloop_now(w.loop)),
                     -SYNACK_ECONNRESET);
    synack_close(b->st, p2.b.h, synack_vloop_now(w.loop));
    synack_abort(w.n[0].st, p2.a.h, synack_vloop_now(w.loop));
    synack_close(b->st, p2.lh, synack_vloop_now(w.loop));
    world_del(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(syn_flood_real_client_gets_through),
        cmocka_unit_test(syn_flood_without_cookies_keeps_client_out),
        cmocka_unit_test(blind_attacks_fail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
