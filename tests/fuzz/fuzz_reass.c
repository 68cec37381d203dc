/*
 * libFuzzer target: the reassembly queue (ooo_insert / reass in
 * src/core/tcp_input.c, the data kept in the receive ring), driven through
 * the stack. A scripted peer (10.0.0.1:40000) connects to a listener on the
 * DUT (10.0.0.2:80); the input chooses the peer's ISN (so sequence numbers
 * wrap anywhere), its SYN options and the DUT's receive buffer, then a
 * sequence of data segments with arbitrary offsets and lengths (in window,
 * overlapping, duplicate, beyond the window), application reads of
 * arbitrary sizes and time steps.
 *
 * The byte at stream offset k is always pat(k), so every check is exact:
 *   - the application reads exactly the stream in order: byte for byte
 *     pat(D), pat(D+1), ... and never past the first byte the peer has not
 *     sent (the first gap in the union of the ranges sent);
 *   - recv_q + rcv_wnd <= the receive buffer; bytes_received == D + recv_q;
 *   - every ACK the DUT sends: acknowledges at most the first gap, never
 *     moves back, and its right edge (ack + scaled window) never passes
 *     D + buffer (what the application has read plus the buffer);
 *   - at the end the peer fills every gap in order (reading as it goes)
 *     up to RCV.NXT + buffer (all the DUT can have kept) or the end of
 *     what was sent: the application must have read all of it; when that
 *     is everything sent, a FIN follows and the application must see the
 *     end of stream, in CLOSE-WAIT;
 *   - synack_stack_check (the stack's own invariants) after every record,
 *     no illegal state transition, no timer misfire (stats.timer_misfires),
 *     memory within the limit, and every
 *     allocation returned after synack_stack_del.
 *
 * Input: a 6-byte header, then 6-byte records.
 *   header: ISN (4 bytes), buffer (receive buffer 2048 + 512 * byte),
 *           SYN option bits (bit 0 window scale, bits 1-4 its shift,
 *           bit 5 timestamps, bit 6 MSS 536 instead of 1460)
 *   record: [op][a][b][c][d][e]
 *     op % 4 == 0  segment at stream offset (a<<16|b<<8|c) % 2^17
 *     op % 4 == 1  segment at offset RCV.NXT - 2048 + (a<<8|b) (clamped
 *                  to >= 0): overlaps, duplicates, the window edge
 *     op % 4 == 2  read min((a<<8|b)+1, 65536) bytes
 *     op % 4 == 3  advance time by (a<<8|b) ms (delayed ACK, persist)
 *     segments: length (d<<8|e) % 1461; op bit 2 sets PSH.
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
#define MEM_LIMIT (4u << 20)
#define SPAN (1u << 17) /* absolute offsets the records can reach */
#define BITS (SPAN + (1u << 17)) /* offsets any segment can reach */
#define MAXSEG 1460u
#define MAXREC 512

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t DUT_MAC[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t PEER_MAC[6] = {0x02, 0, 0, 0, 0, 0x01};

#include "fuzz_util.h"

typedef struct env {
    synack_stack *st;
    fz_alloc alloc;
    synack_time_t now;
    int lh, h;
    uint32_t iss;     /* peer ISN; stream offset 0 is iss + 1 */
    uint32_t dut_nxt; /* DUT's ISS + 1 */
    uint16_t ip_id;
    int got_synack;
    int peer_ws, peer_ts;
    uint8_t dut_ws; /* DUT's window shift, when scaling is on */
    uint32_t tsval, dut_tsval;
    uint32_t rxsize;
    uint64_t delivered; /* D: bytes the application has read */
    uint64_t contig;    /* first offset the peer has never sent */
    uint64_t max_end;   /* highest offset + 1 the peer has sent */
    int fin_sent;
    int acks_seen;
    uint64_t last_ack; /* stream offset the DUT last acknowledged */
    uint64_t max_edge; /* highest right edge advertised since the last check */
    uint8_t sent[BITS]; /* 1 where the peer has sent that offset */
} env;

static uint8_t pat_fn(uint64_t k)
{
    uint32_t x = (uint32_t)k * 2654435761u;
    return (uint8_t)((x >> 24) ^ (x >> 11) ^ (uint32_t)(k >> 8));
}

/* pat_fn for every offset a segment or a read can reach */
static uint8_t pat[BITS + 65536];

static void output(void *ctx, const uint8_t *f, size_t len, synack_time_t now)
{
    env *e = ctx;
    (void)now;
    wire_tcp th;
    size_t tl;
    if (!fz_parse_output(f, len, &th, &tl))
        return;
    if (th.dport != PEER_PORT)
        return;
    if (!e->got_synack) {
        if (th.flags != (SYNACK_TH_SYN | SYNACK_TH_ACK) ||
            th.ack != e->iss + 1)
            __builtin_trap();
        e->got_synack = 1;
        e->dut_nxt = th.seq + 1;
        e->dut_ws = (e->peer_ws && th.has_ws) ? th.ws : 0;
        if (th.has_ts)
            e->dut_tsval = th.tsval;
        return;
    }
    if (th.flags & (SYNACK_TH_RST | SYNACK_TH_SYN))
        __builtin_trap(); /* nothing here deserves a reset or a SYN */
    if (!(th.flags & SYNACK_TH_ACK))
        __builtin_trap();
    if (tl != th.hlen && !(th.flags & SYNACK_TH_FIN))
        __builtin_trap(); /* the DUT has nothing to send */
    if (th.has_ts)
        e->dut_tsval = th.tsval;
    /* The acknowledged stream offset (the FIN takes one sequence number). */
    uint64_t ack = (uint32_t)(th.ack - (e->iss + 1));
    if (ack > e->contig + (e->fin_sent ? 1u : 0u))
        __builtin_trap(); /* acknowledges data never sent */
    if (e->acks_seen && ack < e->last_ack)
        __builtin_trap(); /* the ACK moved back */
    e->acks_seen = 1;
    e->last_ack = ack;
    uint64_t edge = ack + ((uint64_t)th.wnd << e->dut_ws);
    if (edge > e->max_edge)
        e->max_edge = edge;
}

static size_t finish_tcp(env *e, uint8_t *f, size_t seglen)
{
    return fz_finish_tcp(f, seglen, &e->ip_id);
}

static void in(env *e, const uint8_t *f, size_t len)
{
    e->now += SYNACK_USEC;
    if (synack_stack_input(e->st, f, len, e->now) != 0)
        __builtin_trap();
}

/* A segment from the peer: stream offset off, dlen bytes of the pattern. */
static void send_seg(env *e, uint64_t off, uint32_t dlen, uint8_t flags)
{
    uint8_t f[34 + 60 + MAXSEG];
    wire_tcp h;
    memset(&h, 0, sizeof h);
    h.sport = PEER_PORT;
    h.dport = DUT_PORT;
    h.seq = e->iss + 1 + (uint32_t)off;
    h.ack = e->dut_nxt;
    h.flags = flags | SYNACK_TH_ACK;
    h.wnd = 65535;
    if (e->peer_ts) {
        h.has_ts = 1;
        h.tsval = ++e->tsval;
        h.tsecr = e->dut_tsval;
    }
    size_t hl = wire_tcp_emit(f + 34, &h);
    memcpy(f + 34 + hl, pat + off, dlen);
    in(e, f, finish_tcp(e, f, hl + dlen));
}

static void mark_sent(env *e, uint64_t off, uint32_t dlen)
{
    memset(e->sent + off, 1, dlen);
    if (off + dlen > e->max_end)
        e->max_end = off + dlen;
    /* (memchr: the harness's own loops would be slow under -fsanitize=
     * fuzzer's comparison tracing) */
    const uint8_t *gap = memchr(e->sent + e->contig, 0, BITS - e->contig);
    e->contig = gap ? (uint64_t)(gap - e->sent) : BITS;
}

static void data_seg(env *e, uint64_t off, uint32_t dlen, uint8_t flags)
{
    if (off + dlen > BITS)
        return;
    mark_sent(e, off, dlen); /* before: the DUT may ACK it at once */
    send_seg(e, off, dlen, flags);
}

static void conn(env *e, synack_conn_info *ci)
{
    if (synack_conn_get(e->st, e->h, ci) != 0)
        __builtin_trap();
}

/* Read up to want bytes (or everything, want == 0); check each byte. */
static ssize_t app_read(env *e, size_t want)
{
    static uint8_t buf[65536];
    size_t n = want ? want : sizeof buf;
    if (n > sizeof buf)
        n = sizeof buf;
    ssize_t r = synack_recv(e->st, e->h, buf, n, e->now);
    if (r == -SYNACK_EAGAIN)
        return r;
    if (r < 0)
        __builtin_trap(); /* no error can happen here */
    if ((size_t)r > n)
        __builtin_trap();
    if (r == 0 && !e->fin_sent)
        __builtin_trap(); /* end of stream before the FIN */
    if (e->delivered + (uint64_t)r > e->contig)
        __builtin_trap(); /* more than the peer has sent in order */
    if (memcmp(buf, pat + e->delivered, (size_t)r) != 0)
        __builtin_trap(); /* a wrong byte */
    e->delivered += (uint64_t)r;
    return r;
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
    if (s.mem_used > MEM_LIMIT)
        __builtin_trap();
    synack_conn_info ci;
    conn(e, &ci);
    if (ci.state != SYNACK_ESTABLISHED &&
        !(e->fin_sent && ci.state == SYNACK_CLOSE_WAIT))
        __builtin_trap();
    if (ci.recv_q > e->rxsize || (uint64_t)ci.recv_q + ci.rcv_wnd > e->rxsize)
        __builtin_trap(); /* Recv-Q plus window beyond the buffer */
    if (ci.bytes_received != e->delivered + ci.recv_q)
        __builtin_trap(); /* RCV.NXT is not what was read plus Recv-Q */
    if (e->delivered + ci.recv_q > e->contig)
        __builtin_trap(); /* in-order data the peer never sent */
    /* (after the FIN, RCV.NXT is one past the data) */
    if (e->max_edge > e->delivered + e->rxsize + (e->fin_sent ? 1u : 0u))
        __builtin_trap(); /* advertised beyond the buffer */
    e->max_edge = 0;
}

static int setup(env *e, const uint8_t *hdr)
{
    synack_stack_config c;
    synack_stack_config_init(&c);
    memcpy(c.mac, DUT_MAC, 6);
    c.ip = DUT_IP;
    c.prefix_len = 24;
    c.seed = 12345;
    c.mem_limit = MEM_LIMIT;
    c.max_sockets = 8;
    for (int i = 0; i < 16; i++)
        c.isn_secret[i] = (uint8_t)(i * 5 + 1);
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
    int rcvbuf = 2048 + 512 * hdr[4];
    if (e->lh < 0 ||
        synack_setsockopt(e->st, e->lh, SYNACK_SO_RCVBUF, &rcvbuf,
                          sizeof rcvbuf) != 0 ||
        synack_bind(e->st, e->lh, &a) != 0 ||
        synack_listen(e->st, e->lh, 4) != 0)
        return -1;

    e->iss = wire_get32(hdr);
    uint8_t o = hdr[5];
    e->peer_ws = o & 1;
    e->peer_ts = (o >> 5) & 1;
    uint8_t f[34 + 60];
    wire_tcp h;
    memset(&h, 0, sizeof h);
    h.sport = PEER_PORT;
    h.dport = DUT_PORT;
    h.seq = e->iss;
    h.flags = SYNACK_TH_SYN;
    h.wnd = 65535;
    h.has_mss = 1;
    h.mss = (o & 0x40) ? 536 : 1460;
    h.has_ws = (uint8_t)e->peer_ws;
    h.ws = (o >> 1) & 0x0f;
    h.has_ts = (uint8_t)e->peer_ts;
    h.tsval = ++e->tsval;
    h.has_sackok = 1;
    in(e, f, finish_tcp(e, f, wire_tcp_emit(f + 34, &h)));
    if (!e->got_synack)
        return -1;
    send_seg(e, 0, 0, 0);
    synack_addr peer;
    e->h = synack_accept(e->st, e->lh, &peer);
    if (e->h < 0)
        return -1;
    int v = 0;
    size_t vl = sizeof v;
    if (synack_getsockopt(e->st, e->h, SYNACK_SO_RCVBUF, &v, &vl) != 0 ||
        v < 2048)
        return -1;
    e->rxsize = (uint32_t)v;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static env e;
    if (!pat[1])
        for (size_t k = 0; k < sizeof pat; k++)
            pat[k] = pat_fn(k);
    memset(&e, 0, sizeof e);
    e.h = e.lh = -1;
    if (size < 6)
        return 0;
    if (setup(&e, data) != 0)
        __builtin_trap(); /* the handshake must work */
    check(&e);
    size_t nrec = 0;
    for (size_t i = 6; i + 6 <= size && nrec < MAXREC; i += 6, nrec++) {
        const uint8_t *r = data + i;
        uint32_t ab = (uint32_t)(r[1] << 8 | r[2]);
        uint32_t dlen = (uint32_t)(r[4] << 8 | r[5]) % (MAXSEG + 1);
        uint8_t flags = (r[0] & 4) ? SYNACK_TH_PSH : 0;
        switch (r[0] & 3) {
        case 0:
            data_seg(&e, (ab << 8 | r[3]) % SPAN, dlen, flags);
            break;
        case 1: {
            synack_conn_info ci;
            conn(&e, &ci);
            int64_t off = (int64_t)(e.delivered + ci.recv_q) - 2048 + ab;
            data_seg(&e, off < 0 ? 0 : (uint64_t)off, dlen, flags);
            break;
        }
        case 2:
            (void)app_read(&e, ab + 1);
            break;
        default:
            e.now += (synack_time_t)ab * SYNACK_MSEC;
            synack_stack_advance(e.st, e.now);
            break;
        }
        check(&e);
    }

    /* Fill every gap in order, reading as we go, up to what the DUT can
     * have kept (RCV.NXT + buffer: nothing beyond was stored) or, when
     * less, the end of what was sent; then, if that is the end, the FIN. */
    synack_conn_info ci;
    conn(&e, &ci);
    uint64_t end = e.delivered + ci.recv_q + e.rxsize;
    if (end > e.max_end)
        end = e.max_end;
    int stuck = 0;
    while (e.delivered < end) {
        uint64_t before = e.delivered;
        while (app_read(&e, 0) > 0)
            ;
        conn(&e, &ci);
        uint64_t nxt = e.delivered + ci.recv_q;
        if (nxt < end) {
            uint64_t n = end - nxt;
            data_seg(&e, nxt, n < MAXSEG ? (uint32_t)n : MAXSEG, 0);
        }
        while (app_read(&e, 0) > 0)
            ;
        check(&e);
        if (e.delivered == before && ++stuck > 8)
            __builtin_trap(); /* the gap does not fill */
        if (e.delivered != before)
            stuck = 0;
    }
    if (e.delivered != end)
        __builtin_trap();
    if (end == e.max_end) {
        e.fin_sent = 1;
        send_seg(&e, e.max_end, 0, SYNACK_TH_FIN);
        if (app_read(&e, 0) != 0)
            __builtin_trap(); /* everything read: now the end of stream */
        check(&e);
        if (e.last_ack != e.max_end + 1)
            __builtin_trap();
        conn(&e, &ci);
        if (ci.state != SYNACK_CLOSE_WAIT)
            __builtin_trap();
    }

    e.now += 3600 * SYNACK_SEC;
    synack_stack_advance(e.st, e.now);
    synack_stack_del(e.st);
    if (e.alloc.bytes != 0 || e.alloc.blocks != 0)
        __builtin_trap(); /* memory not returned through the allocator */
    return 0;
}
