/*
 * libFuzzer target: frames, time steps and application calls into a stack
 * (DUT 10.0.0.2) with a listener on port 80 and one established connection
 * to a scripted peer (10.0.0.1:40000), set up per input as in
 * tests/unit/test_badinput.c.
 *
 * The input is a sequence of records [kind][len hi][len lo][len bytes]:
 *   0  raw Ethernet frame -> synack_stack_input
 *   1  TCP segment (header, options, payload from the input; data offset
 *      as given). The harness writes Ethernet/IPv4 headers, the ports (byte 0
 *      bit 0: to the listener from a fresh port instead of the connection)
 *      and the TCP checksum.
 *   2  advance virtual time by len milliseconds times (1 + first byte)
 *      (at most ~16 minutes) and run synack_stack_advance
 *   3  application call on the connection chosen by the first byte:
 *      send / recv / shutdown RD|WR|RDWR / close / abort / accept
 * After every record and the input: invariants (illegal_transitions == 0,
 * timer_misfires == 0, synack_stack_check, conn_list fields
 * sane, memory within the limit), then synack_stack_del; every allocation
 * must have come back (LeakSanitizer and the counting allocator).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <synack/synack.h>

#include "core/wire.h"

#define DUT_IP 0x0a000002u
#define PEER_IP 0x0a000001u
#define DUT_PORT 80
#define PEER_PORT 40000
#define PEER_ISS 1000u
#define MAXF 2048
#define MEM_LIMIT (4u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t DUT_MAC[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t PEER_MAC[6] = {0x02, 0, 0, 0, 0, 0x01};

#include "fuzz_util.h"

typedef struct env {
    synack_stack *st;
    fz_alloc alloc;
    synack_time_t now;
    int lh, h;
    uint32_t peer_nxt, dut_nxt;
    uint16_t ip_id;
    int got_synack;
} env;

/* Output: during setup, learn the DUT's ISS from its SYN,ACK. Every frame
 * is also parsed, so a malformed frame the stack emits is caught. */
static void output(void *ctx, const uint8_t *f, size_t len, synack_time_t now)
{
    env *e = ctx;
    (void)now;
    wire_tcp th;
    size_t tl;
    if (!fz_parse_output(f, len, &th, &tl))
        return;
    if (!e->got_synack &&
        th.flags == (SYNACK_TH_SYN | SYNACK_TH_ACK)) {
        e->got_synack = 1;
        e->dut_nxt = th.seq + 1;
    }
}

static size_t finish_tcp(env *e, uint8_t *f, size_t seglen)
{
    return fz_finish_tcp(f, seglen, &e->ip_id);
}

static size_t build_seg(env *e, uint8_t *f, uint16_t sport, uint32_t seq,
                        uint32_t ack, uint8_t flags, const uint8_t *opts,
                        size_t optlen)
{
    uint8_t *t = f + 34;
    size_t hl = 20 + ((optlen + 3) & ~(size_t)3);
    memset(t, 0, hl);
    wire_put16(t, sport);
    wire_put16(t + 2, DUT_PORT);
    wire_put32(t + 4, seq);
    wire_put32(t + 8, ack);
    t[12] = (uint8_t)((hl / 4) << 4);
    t[13] = flags;
    wire_put16(t + 14, 65535);
    if (optlen)
        memcpy(t + 20, opts, optlen);
    return finish_tcp(e, f, hl);
}

static void in(env *e, const uint8_t *f, size_t len)
{
    e->now += SYNACK_USEC;
    if (synack_stack_input(e->st, f, len, e->now) != 0)
        __builtin_trap();
}

static int setup(env *e)
{
    synack_stack_config c;
    synack_stack_config_init(&c);
    memcpy(c.mac, DUT_MAC, 6);
    c.ip = DUT_IP;
    c.prefix_len = 24;
    c.seed = 12345;
    c.mem_limit = MEM_LIMIT;
    c.max_sockets = 64;
    for (int i = 0; i < 16; i++)
        c.isn_secret[i] = (uint8_t)(i * 7 + 3);
    c.mem_alloc = fz_mem_alloc;
    c.mem_release = fz_mem_release;
    c.mem_ctx = &e->alloc;
    c.output = output;
    c.output_ctx = e;
    e->now = SYNACK_SEC;
    if (synack_stack_new(&c, &e->st) != 0)
        return -1;
    if (synack_arp_add(e->st, PEER_IP, PEER_MAC, e->now) != 0)
        return -1;
    e->lh = synack_socket(e->st);
    synack_addr a = {DUT_IP, DUT_PORT};
    if (e->lh < 0 || synack_bind(e->st, e->lh, &a) != 0 ||
        synack_listen(e->st, e->lh, 4) != 0)
        return -1;
    uint8_t f[MAXF];
    static const uint8_t mss[4] = {2, 4, 0x05, 0xb4};
    in(e, f, build_seg(e, f, PEER_PORT, PEER_ISS, 0, SYNACK_TH_SYN, mss, 4));
    if (!e->got_synack)
        return -1;
    e->peer_nxt = PEER_ISS + 1;
    in(e, f, build_seg(e, f, PEER_PORT, e->peer_nxt, e->dut_nxt,
                       SYNACK_TH_ACK, NULL, 0));
    synack_addr peer;
    e->h = synack_accept(e->st, e->lh, &peer);
    return e->h >= 0 ? 0 : -1;
}

/* Kind 1: the input's bytes are the TCP segment from byte 1 on (at least
 * a 20-byte header is made up by zero-filling); byte 0 picks the ports. */
static void rec_tcp(env *e, const uint8_t *p, size_t len)
{
    static uint16_t next_port = 41000;
    uint8_t f[34 + 20 + 1500];
    if (len < 1)
        return;
    uint8_t sel = p[0];
    p++;
    len--;
    size_t seglen = len < 20 ? 20 : len;
    if (seglen > 20 + 1500)
        seglen = 20 + 1500;
    uint8_t *t = f + 34;
    memset(t, 0, seglen);
    memcpy(t, p, len < seglen ? len : seglen);
    if (len < 20) /* too short to say anything: a plain header */
        t[12] = 5 << 4;
    uint16_t sport = PEER_PORT;
    if (sel & 1)
        sport = (uint16_t)(next_port++ % 20000 + 41000);
    wire_put16(t, sport);
    wire_put16(t + 2, DUT_PORT);
    if (sel & 2) { /* sequence numbers relative to the connection */
        wire_put32(t + 4, e->peer_nxt + wire_get32(t + 4) % 131072u -
                              (sel & 4 ? 65536u : 0));
        wire_put32(t + 8, e->dut_nxt + wire_get32(t + 8) % 131072u -
                              (sel & 8 ? 65536u : 0));
    }
    in(e, f, finish_tcp(e, f, seglen));
}

static void rec_app(env *e, const uint8_t *p, size_t len)
{
    static uint8_t buf[65536];
    if (len < 1)
        return;
    uint8_t op = p[0];
    int h = (op & 0x80) ? e->lh : e->h;
    size_t n = len > 1 ? len - 1 : 0;
    switch (op & 0x0f) {
    case 0:
        (void)synack_send(e->st, h, p + 1, n, e->now);
        break;
    case 1: { /* send a big block */
        memset(buf, 'x', sizeof buf);
        (void)synack_send(e->st, h, buf, (size_t)(len * 256u) % sizeof buf,
                          e->now);
        break;
    }
    case 2:
    case 3: {
        ssize_t r = synack_recv(e->st, h, buf,
                                n ? (size_t)(p[1] * 64u + 1) : sizeof buf,
                                e->now);
        if (r > (ssize_t)sizeof buf)
            __builtin_trap();
        break;
    }
    case 4:
        (void)synack_shutdown(e->st, h, SYNACK_SHUT_RD, e->now);
        break;
    case 5:
        (void)synack_shutdown(e->st, h, SYNACK_SHUT_WR, e->now);
        break;
    case 6:
        (void)synack_shutdown(e->st, h, SYNACK_SHUT_RDWR, e->now);
        break;
    case 7:
        if (synack_close(e->st, h, e->now) == 0) {
            if (h == e->h)
                e->h = -1;
            else
                e->lh = -1;
        }
        break;
    case 8:
        if (synack_abort(e->st, h, e->now) == 0) {
            if (h == e->h)
                e->h = -1;
            else
                e->lh = -1;
        }
        break;
    case 9: {
        synack_addr peer;
        int nh = synack_accept(e->st, e->lh, &peer);
        if (nh >= 0) /* keep only one accepted handle in play */
            (void)synack_close(e->st, nh, e->now);
        break;
    }
    case 10: {
        int v = 1 + (n ? p[1] * 512 : 0);
        (void)synack_setsockopt(e->st, h, SYNACK_SO_RCVBUF, &v, sizeof v);
        break;
    }
    case 11: {
        struct synack_linger l = {1, 0};
        (void)synack_setsockopt(e->st, h, SYNACK_SO_LINGER, &l, sizeof l);
        break;
    }
    default:
        (void)synack_poll(e->st, h);
        break;
    }
}

static void check(env *e)
{
    synack_stack_stats s;
    synack_stack_get_stats(e->st, &s);
    if (s.illegal_transitions != 0 || s.timer_misfires != 0)
        __builtin_trap();
    char msg[256];
    if (synack_stack_check(e->st, msg, sizeof msg) != 0) {
        fprintf(stderr, "synack_stack_check: %s\n", msg);
        __builtin_trap(); /* the stack's own invariants */
    }
    if (s.mem_used > MEM_LIMIT || s.mem_used > s.mem_peak)
        __builtin_trap();
    synack_conn_info ci[64];
    size_t n = synack_conn_list(e->st, ci, 64);
    if (n > 64)
        n = 64;
    for (size_t i = 0; i < n; i++) {
        if (ci[i].state < 0 || ci[i].state >= SYNACK__STATE_COUNT)
            __builtin_trap();
        if (ci[i].state == SYNACK_LISTEN)
            continue;
        /* unread bytes fit the receive memory limit; bytes counters are
         * monotone in the obvious ways */
        if (ci[i].recv_q > MEM_LIMIT || ci[i].send_q > MEM_LIMIT)
            __builtin_trap();
        if (ci[i].bytes_acked > ci[i].bytes_sent)
            __builtin_trap();
        if (ci[i].recv_q > ci[i].bytes_received)
            __builtin_trap();
    }
    if (e->h >= 0) {
        synack_conn_info one;
        if (synack_conn_get(e->st, e->h, &one) != 0)
            __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    env e;
    memset(&e, 0, sizeof e);
    e.h = e.lh = -1;
    if (setup(&e) != 0)
        __builtin_trap(); /* the fixed handshake must work */
    size_t i = 0;
    int steps = 0;
    while (i + 3 <= size && steps++ < 256) {
        uint8_t kind = data[i];
        size_t len = ((size_t)data[i + 1] << 8) | data[i + 2];
        i += 3;
        if (len > size - i)
            len = size - i;
        const uint8_t *p = data + i;
        i += len;
        switch (kind & 3) {
        case 0:
            in(&e, p, len);
            break;
        case 1:
            rec_tcp(&e, p, len);
            break;
        case 2: {
            uint64_t ms = (uint64_t)len * (1u + (len ? p[0] : 0));
            if (ms > 1000u * 1000u)
                ms = 1000u * 1000u;
            e.now += ms * SYNACK_MSEC;
            synack_stack_advance(e.st, e.now);
            break;
        }
        default:
            rec_app(&e, p, len);
            break;
        }
        check(&e);
    }
    /* Let everything time out, then free. */
    e.now += 3600 * SYNACK_SEC;
    synack_stack_advance(e.st, e.now);
    check(&e);
    synack_stack_del(e.st);
    if (e.alloc.bytes != 0 || e.alloc.blocks != 0)
        __builtin_trap(); /* memory not returned through the allocator */
    return 0;
}
