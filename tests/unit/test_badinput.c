/*
 * Bad input (issue 2, acceptance 4): malformed frames are counted under
 * their exact drop reason, draw no reply where none is due, and leave an
 * established connection working.
 *
 * The stack under test (DUT, 10.0.0.2, port 80) has one connection with a
 * scripted peer (10.0.0.1:40000) built by injecting hand-made frames with
 * synack_stack_input; everything it sends is captured by its output
 * callback. The peer offers no window scaling or timestamps, so sequence
 * numbers are all there is to track.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <synack/synack.h>

#include "core/wire.h"

#define DUT_IP 0x0a000002u  /* 10.0.0.2 */
#define PEER_IP 0x0a000001u /* 10.0.0.1 */
#define DUT_PORT 80
#define PEER_PORT 40000
#define PEER_ISS 1000u
#define MAXF 2048  /* largest frame built or captured */
#define MAXCAP 64  /* frames captured between two resets */

static const uint8_t DUT_MAC[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t PEER_MAC[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t OTHER_MAC[6] = {0x02, 0, 0, 0, 0, 0x03};
static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

typedef struct frame {
    size_t len;
    uint8_t b[MAXF];
} frame;

typedef struct alloc_ctx {
    int64_t bytes, blocks;
} alloc_ctx;

typedef struct env {
    synack_stack *st;
    alloc_ctx alloc;
    synack_time_t now;
    frame cap[MAXCAP];
    size_t ncap;
    uint64_t ncap_total;
    int lh, h; /* listener (closed after accept) and connection handles */
    uint32_t peer_nxt; /* next sequence number the peer sends */
    uint32_t dut_nxt;  /* next sequence number the DUT sends */
    uint64_t mem_established;
    uint32_t ip_id;
    /* SYNACK_TRACE_DROP events seen, and the reason of the last */
    uint64_t trace_drops;
    int trace_last_reason;
} env;

/* ---- allocator that counts, so the test sees every byte come back ------ */

static void *cnt_alloc(void *ctx, size_t size)
{
    alloc_ctx *a = ctx;
    void *p = malloc(size);
    if (p) {
        a->bytes += (int64_t)size;
        a->blocks++;
    }
    return p;
}

static void cnt_release(void *ctx, void *p, size_t size)
{
    alloc_ctx *a = ctx;
    if (!p)
        return;
    a->bytes -= (int64_t)size;
    a->blocks--;
    free(p);
}

static void capture(void *ctx, const uint8_t *f, size_t len, synack_time_t now)
{
    env *e = ctx;
    (void)now;
    e->ncap_total++;
    if (e->ncap == MAXCAP)
        return;
    frame *c = &e->cap[e->ncap++];
    c->len = len < MAXF ? len : MAXF;
    memcpy(c->b, f, c->len);
}

static void on_trace(void *ctx, const synack_trace_event *ev)
{
    env *e = ctx;
    if (ev->kind == SYNACK_TRACE_DROP) {
        e->trace_drops++;
        e->trace_last_reason = ev->drop_reason;
    }
}

/* ---- frame builders -------------------------------------------------------- */

typedef struct tcp_spec {
    uint32_t src, dst;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t wnd;
    const uint8_t *opts; /* raw option bytes */
    size_t optlen;       /* padded with zeros (EOL) to a multiple of 4 */
    const uint8_t *data;
    size_t dlen;
    uint16_t frag; /* IP flags + fragment offset (default DF) */
    int frag_set;
} tcp_spec;

static size_t put_eth(uint8_t *p, const uint8_t dst[6], const uint8_t src[6],
                      uint16_t type)
{
    wire_eth h;
    memcpy(h.dst, dst, 6);
    memcpy(h.src, src, 6);
    h.type = type;
    return wire_eth_emit(p, &h);
}

static void put_ip(env *e, uint8_t *p, uint32_t src, uint32_t dst,
                   uint8_t proto, size_t l4len, uint16_t frag)
{
    wire_ipv4 ih = {.hlen = 20,
                    .total_len = (uint16_t)(20 + l4len),
                    .id = (uint16_t)e->ip_id++,
                    .frag = frag,
                    .ttl = 64,
                    .proto = proto,
                    .src = src,
                    .dst = dst};
    wire_ipv4_emit(p, &ih);
}

/* Recompute the IPv4 header checksum of the frame (header length from
 * IHL, if it fits). */
static void fix_ip_csum(uint8_t *f, size_t len)
{
    uint8_t *ip = f + WIRE_ETH_HLEN;
    size_t hl = (size_t)(ip[0] & 0x0f) * 4;
    if (hl < 2 || WIRE_ETH_HLEN + hl > len)
        return;
    wire_put16(ip + 10, 0);
    wire_put16(ip + 10, wire_csum_fold(wire_csum_add(0, ip, hl)));
}

/* TCP frame: Ethernet (peer -> DUT), IPv4, TCP with raw options. */
static size_t build_tcp(env *e, uint8_t *f, const tcp_spec *s)
{
    size_t optpad = (s->optlen + 3) & ~(size_t)3;
    size_t hl = 20 + optpad;
    size_t seglen = hl + s->dlen;
    assert_true(WIRE_ETH_HLEN + 20 + seglen <= MAXF);
    size_t n = put_eth(f, DUT_MAC, PEER_MAC, WIRE_ETHERTYPE_IPV4);
    put_ip(e, f + n, s->src, s->dst, WIRE_IPPROTO_TCP, seglen,
           s->frag_set ? s->frag : WIRE_IP_DF);
    uint8_t *t = f + n + 20;
    memset(t, 0, hl);
    wire_put16(t, s->sport);
    wire_put16(t + 2, s->dport);
    wire_put32(t + 4, s->seq);
    wire_put32(t + 8, s->ack);
    t[12] = (uint8_t)((hl / 4) << 4);
    t[13] = s->flags;
    wire_put16(t + 14, s->wnd);
    if (s->optlen)
        memcpy(t + 20, s->opts, s->optlen);
    if (s->dlen)
        memcpy(t + hl, s->data, s->dlen);
    wire_tcp_set_csum(t, seglen, s->src, s->dst);
    return n + 20 + seglen;
}

/* A segment on the established connection from the peer. */
static tcp_spec conn_seg(env *e, uint8_t flags, const void *data, size_t dlen)
{
    tcp_spec s;
    memset(&s, 0, sizeof s);
    s.src = PEER_IP;
    s.dst = DUT_IP;
    s.sport = PEER_PORT;
    s.dport = DUT_PORT;
    s.seq = e->peer_nxt;
    s.ack = e->dut_nxt;
    s.flags = flags;
    s.wnd = 65535;
    s.data = data;
    s.dlen = dlen;
    return s;
}

static void fix_tcp_csum(uint8_t *f, size_t len)
{
    uint8_t *ip = f + WIRE_ETH_HLEN;
    size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
    size_t total = wire_get16(ip + 2);
    uint8_t *t = ip + ihl;
    assert_true(WIRE_ETH_HLEN + total <= len);
    wire_tcp_set_csum(t, total - ihl, wire_get32(ip + 12), wire_get32(ip + 16));
}

static size_t build_icmp_echo(env *e, uint8_t *f, uint16_t id, uint16_t seq,
                              const uint8_t *data, size_t dlen)
{
    size_t n = put_eth(f, DUT_MAC, PEER_MAC, WIRE_ETHERTYPE_IPV4);
    put_ip(e, f + n, PEER_IP, DUT_IP, WIRE_IPPROTO_ICMP, 8 + dlen, WIRE_IP_DF);
    uint8_t *ic = f + n + 20;
    if (dlen)
        memcpy(ic + 8, data, dlen);
    wire_icmp_echo h = {.type = 8, .code = 0, .id = id, .seq = seq};
    wire_icmp_emit(ic, &h, dlen);
    return n + 20 + 8 + dlen;
}

static size_t build_arp(uint8_t *f, uint16_t op, uint32_t spa, uint32_t tpa,
                        const uint8_t dst[6])
{
    size_t n = put_eth(f, dst, PEER_MAC, WIRE_ETHERTYPE_ARP);
    wire_arp a = {.op = op, .spa = spa, .tpa = tpa};
    memcpy(a.sha, PEER_MAC, 6);
    memset(a.tha, 0, 6);
    n += wire_arp_emit(f + n, &a);
    return n; /* 42: no Ethernet padding, so every shorter length is short */
}

/* ---- running the stack ----------------------------------------------------- */

static void input(env *e, const uint8_t *f, size_t len)
{
    e->now += SYNACK_USEC;
    assert_int_equal(synack_stack_input(e->st, f, len, e->now), 0);
}

static void advance(env *e, synack_time_t dt)
{
    e->now += dt;
    synack_stack_advance(e->st, e->now);
}

/* Parse captured frame i as TCP from the DUT to the peer. */
static void parse_cap_tcp(env *e, size_t i, wire_tcp *th, const uint8_t **data,
                          size_t *dlen)
{
    assert_true(i < e->ncap);
    frame *c = &e->cap[i];
    wire_eth eh;
    assert_int_equal(wire_eth_parse(c->b, c->len, &eh), 0);
    assert_memory_equal(eh.dst, PEER_MAC, 6);
    assert_memory_equal(eh.src, DUT_MAC, 6);
    assert_int_equal(eh.type, WIRE_ETHERTYPE_IPV4);
    wire_ipv4 ih;
    assert_int_equal(
        wire_ipv4_parse(c->b + WIRE_ETH_HLEN, c->len - WIRE_ETH_HLEN, &ih), 0);
    assert_int_equal(ih.proto, WIRE_IPPROTO_TCP);
    assert_int_equal(ih.src, DUT_IP);
    const uint8_t *t = c->b + WIRE_ETH_HLEN + ih.hlen;
    size_t tl = (size_t)ih.total_len - ih.hlen;
    assert_int_equal(wire_tcp_parse(t, tl, ih.src, ih.dst, th), 0);
    if (data)
        *data = t + th->hlen;
    if (dlen)
        *dlen = tl - th->hlen;
}

static void counting_stack(env *e, synack_stack **out, uint32_t ip,
                           const uint8_t mac[6])
{
    synack_stack_config c;
    synack_stack_config_init(&c);
    memcpy(c.mac, mac, 6);
    c.ip = ip;
    c.prefix_len = 24;
    c.seed = 12345;
    for (int i = 0; i < 16; i++)
        c.isn_secret[i] = (uint8_t)(i * 7 + 3);
    c.mem_alloc = cnt_alloc;
    c.mem_release = cnt_release;
    c.mem_ctx = &e->alloc;
    c.output = capture;
    c.output_ctx = e;
    assert_int_equal(synack_stack_new(&c, out), 0);
}

/* Stack up, listener, handshake with the peer, accept, close listener. */
static int setup(void **state)
{
    env *e = calloc(1, sizeof *e);
    assert_non_null(e);
    e->now = SYNACK_SEC;
    counting_stack(e, &e->st, DUT_IP, DUT_MAC);
    synack_set_trace(e->st, on_trace, e);
    assert_int_equal(synack_arp_add(e->st, PEER_IP, PEER_MAC, e->now), 0);

    e->lh = synack_socket(e->st);
    assert_true(e->lh >= 0);
    synack_addr a = {DUT_IP, DUT_PORT};
    assert_int_equal(synack_bind(e->st, e->lh, &a), 0);
    assert_int_equal(synack_listen(e->st, e->lh, 4), 0);

    /* SYN with MSS only */
    uint8_t f[MAXF];
    static const uint8_t mss[4] = {2, 4, 0x05, 0xb4};
    tcp_spec s = conn_seg(e, SYNACK_TH_SYN, NULL, 0);
    s.seq = PEER_ISS;
    s.ack = 0;
    s.opts = mss;
    s.optlen = 4;
    e->ncap = 0;
    input(e, f, build_tcp(e, f, &s));
    assert_int_equal(e->ncap, 1);
    wire_tcp th;
    parse_cap_tcp(e, 0, &th, NULL, NULL);
    assert_int_equal(th.flags, SYNACK_TH_SYN | SYNACK_TH_ACK);
    assert_int_equal(th.ack, PEER_ISS + 1);
    e->peer_nxt = PEER_ISS + 1;
    e->dut_nxt = th.seq + 1;

    /* ACK */
    e->ncap = 0;
    s = conn_seg(e, SYNACK_TH_ACK, NULL, 0);
    input(e, f, build_tcp(e, f, &s));
    assert_int_equal(e->ncap, 0);
    synack_addr peer;
    e->h = synack_accept(e->st, e->lh, &peer);
    assert_true(e->h >= 0);
    assert_int_equal(peer.ip, PEER_IP);
    assert_int_equal(peer.port, PEER_PORT);
    assert_int_equal(synack_close(e->st, e->lh, e->now), 0);
    e->lh = -1;
    synack_stack_stats st;
    synack_stack_get_stats(e->st, &st);
    e->mem_established = st.mem_used;
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    env *e = *state;
    synack_stack_del(e->st);
    /* Every byte the stack took from the allocator came back. */
    assert_int_equal(e->alloc.bytes, 0);
    assert_int_equal(e->alloc.blocks, 0);
    free(e);
    return 0;
}

/* The connection still works: a few bytes each way, acknowledged. */
static void exchange(env *e, const char *tag)
{
    uint8_t f[MAXF];
    char msg[64];
    int n = snprintf(msg, sizeof msg, "peer->dut %s", tag);
    assert_true(n > 0 && (size_t)n < sizeof msg);

    synack_conn_info ci;
    assert_int_equal(synack_conn_get(e->st, e->h, &ci), 0);
    if (ci.state != SYNACK_ESTABLISHED)
        fail_msg("after %s: connection is %s, not ESTABLISHED", tag,
                 synack_state_name(ci.state));

    /* peer -> DUT */
    e->ncap = 0;
    tcp_spec s = conn_seg(e, SYNACK_TH_ACK | SYNACK_TH_PSH, msg, (size_t)n);
    input(e, f, build_tcp(e, f, &s));
    e->peer_nxt += (uint32_t)n;
    char got[128];
    ssize_t r = synack_recv(e->st, e->h, got, sizeof got, e->now);
    if (r != n || memcmp(got, msg, (size_t)n) != 0)
        fail_msg("after %s: DUT read %zd bytes, expected %d (\"%s\")", tag, r,
                 n, msg);
    /* its ACK, now or after the delayed-ACK timer */
    advance(e, SYNACK_SEC / 2);
    int acked = 0;
    for (size_t i = 0; i < e->ncap; i++) {
        wire_tcp th;
        parse_cap_tcp(e, i, &th, NULL, NULL);
        if ((th.flags & SYNACK_TH_ACK) && th.ack == e->peer_nxt)
            acked = 1;
    }
    if (!acked)
        fail_msg("after %s: DUT did not acknowledge the peer's data", tag);

    /* DUT -> peer */
    e->ncap = 0;
    static const char reply[] = "reply from dut";
    r = synack_send(e->st, e->h, reply, sizeof reply - 1, e->now);
    assert_int_equal(r, (ssize_t)(sizeof reply - 1));
    if (e->ncap != 1)
        fail_msg("after %s: DUT sent %zu frames for its data, expected 1", tag,
                 e->ncap);
    wire_tcp th;
    const uint8_t *d;
    size_t dl;
    parse_cap_tcp(e, 0, &th, &d, &dl);
    assert_int_equal(th.seq, e->dut_nxt);
    assert_int_equal(th.ack, e->peer_nxt);
    assert_int_equal(dl, sizeof reply - 1);
    assert_memory_equal(d, reply, dl);
    e->dut_nxt += (uint32_t)dl;
    e->ncap = 0;
    s = conn_seg(e, SYNACK_TH_ACK, NULL, 0);
    input(e, f, build_tcp(e, f, &s));
    assert_int_equal(e->ncap, 0);
    assert_int_equal(synack_conn_get(e->st, e->h, &ci), 0);
    assert_int_equal(ci.send_q, 0);
    assert_int_equal(ci.state, SYNACK_ESTABLISHED);
    /* No memory gained or lost on the way: the rings the exchange
     * allocated are released once the connection has been idle for a
     * second (TCP_BUF_IDLE). */
    advance(e, 2 * SYNACK_SEC);
    synack_stack_stats st;
    synack_stack_get_stats(e->st, &st);
    assert_int_equal(st.mem_used, e->mem_established);
    assert_int_equal(st.illegal_transitions, 0);
}

/* ---- the central assertion -------------------------------------------------- */

/* Feed one frame; it must be dropped under exactly `reason` (that counter
 * +1, every other drop counter unchanged), and nothing may be sent. */
static void expect_drop_(env *e, const uint8_t *f, size_t len, int reason,
                         const char *what, const char *file, int line)
{
    synack_stack_stats b, a;
    synack_stack_get_stats(e->st, &b);
    e->ncap = 0;
    uint64_t tb = e->trace_drops;
    input(e, f, len);
    synack_stack_get_stats(e->st, &a);
    if (e->trace_drops != tb + 1 || e->trace_last_reason != reason)
        fail_msg("%s:%d %s (len %zu): trace hook saw %llu drop event(s), "
                 "last %s; expected one, %s",
                 file, line, what, len,
                 (unsigned long long)(e->trace_drops - tb),
                 synack_drop_name(e->trace_last_reason),
                 synack_drop_name(reason));
    if (a.frames_in != b.frames_in + 1)
        fail_msg("%s:%d %s: frames_in went %llu -> %llu", file, line, what,
                 (unsigned long long)b.frames_in,
                 (unsigned long long)a.frames_in);
    for (int r = 1; r < SYNACK__DROP_COUNT; r++) {
        uint64_t want = b.drops[r] + (r == reason ? 1 : 0);
        if (a.drops[r] != want)
            fail_msg("%s:%d %s (len %zu): drops[%s] went %llu -> %llu, "
                     "expected one drop under %s",
                     file, line, what, len, synack_drop_name(r),
                     (unsigned long long)b.drops[r],
                     (unsigned long long)a.drops[r], synack_drop_name(reason));
    }
    if (e->ncap != 0)
        fail_msg("%s:%d %s (len %zu): %zu frame(s) sent in reply to a frame "
                 "dropped as %s",
                 file, line, what, len, e->ncap, synack_drop_name(reason));
}
#define expect_drop(e, f, len, reason, what)                                   \
    expect_drop_(e, f, len, reason, what, __FILE__, __LINE__)

/* Feed one frame that must be accepted: no drop counter moves. */
static void expect_accept_(env *e, const uint8_t *f, size_t len,
                           const char *what, const char *file, int line)
{
    synack_stack_stats b, a;
    synack_stack_get_stats(e->st, &b);
    e->ncap = 0;
    uint64_t tb = e->trace_drops;
    input(e, f, len);
    synack_stack_get_stats(e->st, &a);
    if (e->trace_drops != tb)
        fail_msg("%s:%d %s: trace hook reported a drop (%s)", file, line, what,
                 synack_drop_name(e->trace_last_reason));
    for (int r = 1; r < SYNACK__DROP_COUNT; r++)
        if (a.drops[r] != b.drops[r])
            fail_msg("%s:%d %s: dropped as %s, expected it accepted", file,
                     line, what, synack_drop_name(r));
}
#define expect_accept(e, f, len, what)                                         \
    expect_accept_(e, f, len, what, __FILE__, __LINE__)

/* ---- ICMP echo and ARP: the replies are right ------------------------------- */

static void check_echo_reply(env *e, uint16_t id, uint16_t seq,
                             const uint8_t *data, size_t dlen)
{
    assert_int_equal(e->ncap, 1);
    frame *c = &e->cap[0];
    wire_eth eh;
    assert_int_equal(wire_eth_parse(c->b, c->len, &eh), 0);
    assert_memory_equal(eh.dst, PEER_MAC, 6);
    assert_memory_equal(eh.src, DUT_MAC, 6);
    assert_int_equal(eh.type, WIRE_ETHERTYPE_IPV4);
    const uint8_t *ip = c->b + WIRE_ETH_HLEN;
    wire_ipv4 ih;
    /* parse verifies the header checksum */
    assert_int_equal(wire_ipv4_parse(ip, c->len - WIRE_ETH_HLEN, &ih), 0);
    assert_int_equal(ih.hlen, 20);
    assert_int_equal(ih.proto, WIRE_IPPROTO_ICMP);
    assert_int_equal(ih.src, DUT_IP);
    assert_int_equal(ih.dst, PEER_IP);
    assert_true(ih.ttl > 0);
    assert_int_equal(ih.frag & (WIRE_IP_MF | WIRE_IP_OFFMASK), 0);
    assert_int_equal(ih.total_len, 20 + 8 + dlen);
    const uint8_t *ic = ip + 20;
    /* independent checksum check over the whole message */
    assert_int_equal(wire_csum_fold(wire_csum_add(0, ic, 8 + dlen)), 0);
    wire_icmp_echo h;
    assert_int_equal(wire_icmp_parse(ic, 8 + dlen, &h), 0);
    assert_int_equal(h.type, 0);
    assert_int_equal(h.code, 0);
    assert_int_equal(h.id, id);
    assert_int_equal(h.seq, seq);
    if (dlen)
        assert_memory_equal(ic + 8, data, dlen);
    /* Ethernet minimum frame: short replies are padded to 60 bytes */
    assert_int_equal(c->len, WIRE_ETH_HLEN + 20 + 8 + dlen < 60
                                 ? 60
                                 : WIRE_ETH_HLEN + 20 + 8 + dlen);
}

static void test_icmp_echo_reply(void **state)
{
    env *e = *state;
    uint8_t f[MAXF], data[1600];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 13 + 5);
    static const size_t lens[] = {0, 1, 7, 32, 33, 56, 1000, 1472};
    synack_stack_stats b, a;
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        uint16_t id = (uint16_t)(0x1234 + k), seq = (uint16_t)(7 * k + 1);
        synack_stack_get_stats(e->st, &b);
        e->ncap = 0;
        input(e, f, build_icmp_echo(e, f, id, seq, data, lens[k]));
        check_echo_reply(e, id, seq, data, lens[k]);
        synack_stack_get_stats(e->st, &a);
        assert_int_equal(a.icmp_in, b.icmp_in + 1);
        assert_int_equal(a.icmp_out, b.icmp_out + 1);
    }
    /* Ethernet padding after the IP packet is not part of the message. */
    size_t n = build_icmp_echo(e, f, 0x4321, 9, data, 10);
    memset(f + n, 0xee, 60 - n);
    e->ncap = 0;
    input(e, f, 60);
    check_echo_reply(e, 0x4321, 9, data, 10);
    /* Id and sequence 0 and 0xffff, data that folds to 0xffff. */
    uint8_t ff[16];
    memset(ff, 0xff, sizeof ff);
    e->ncap = 0;
    input(e, f, build_icmp_echo(e, f, 0xffff, 0, ff, sizeof ff));
    check_echo_reply(e, 0xffff, 0, ff, sizeof ff);
    e->ncap = 0;
    input(e, f, build_icmp_echo(e, f, 0, 0xffff, NULL, 0));
    check_echo_reply(e, 0, 0xffff, NULL, 0);
    exchange(e, "echo");
}

/* An echo request whose reply would not fit the MTU is not answered (we
 * do not fragment), and like every discard it is counted. */
static void test_icmp_echo_too_big(void **state)
{
    env *e = *state;
    uint8_t f[MAXF], data[1600];
    memset(data, 0x5a, sizeof data);
    size_t len = build_icmp_echo(e, f, 1, 1, data, 1500 - 28 + 1);
    expect_drop(e, f, len, SYNACK_DROP_ICMP_TOO_BIG,
                "echo request of IP length 1501 (MTU 1500)");
    /* the largest that fits is answered */
    e->ncap = 0;
    input(e, f, build_icmp_echo(e, f, 2, 2, data, 1500 - 28));
    check_echo_reply(e, 2, 2, data, 1500 - 28);
    exchange(e, "echo too big");
}

static void test_arp_reply(void **state)
{
    env *e = *state;
    uint8_t f[MAXF];
    e->ncap = 0;
    input(e, f, build_arp(f, 1, PEER_IP, DUT_IP, BCAST));
    assert_int_equal(e->ncap, 1);
    frame *c = &e->cap[0];
    wire_eth eh;
    assert_int_equal(wire_eth_parse(c->b, c->len, &eh), 0);
    assert_memory_equal(eh.dst, PEER_MAC, 6);
    assert_memory_equal(eh.src, DUT_MAC, 6);
    assert_int_equal(eh.type, WIRE_ETHERTYPE_ARP);
    wire_arp ar;
    assert_int_equal(wire_arp_parse(c->b + 14, c->len - 14, &ar), 0);
    assert_int_equal(ar.op, 2);
    assert_memory_equal(ar.sha, DUT_MAC, 6);
    assert_int_equal(ar.spa, DUT_IP);
    assert_memory_equal(ar.tha, PEER_MAC, 6);
    assert_int_equal(ar.tpa, PEER_IP);
    assert_true(c->len >= 60);
    exchange(e, "arp");
}

/* ---- truncation ---------------------------------------------------------------- */

/* The reason a frame cut to `l` bytes is dropped for, when the full frame
 * has an IPv4 packet of `total` bytes. */
static int trunc_reason(size_t l, size_t total)
{
    if (l < WIRE_ETH_HLEN)
        return SYNACK_DROP_ETH_SHORT;
    if (l < WIRE_ETH_HLEN + 20)
        return SYNACK_DROP_IP_SHORT;
    assert_true(l < WIRE_ETH_HLEN + total);
    return SYNACK_DROP_IP_BAD_LEN;
}

static void test_truncated_tcp_frame(void **state)
{
    env *e = *state;
    uint8_t f[MAXF], g[MAXF];
    static const uint8_t opts[12] = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0};
    static const char data[] = "0123456789abcdef";
    tcp_spec s = conn_seg(e, SYNACK_TH_ACK | SYNACK_TH_PSH, data, 16);
    s.opts = opts;
    s.optlen = sizeof opts;
    size_t len = build_tcp(e, f, &s);
    for (size_t l = 0; l < len; l++) {
        char what[96];
        snprintf(what, sizeof what, "TCP frame cut to %zu of %zu bytes", l,
                 len);
        memcpy(g, f, l);
        expect_drop(e, g, l, trunc_reason(l, len - WIRE_ETH_HLEN), what);
    }
    exchange(e, "truncated TCP frames");
}

/* The IP header stays consistent (total length and checksum fixed up); only
 * the TCP segment is short. */
static void test_truncated_tcp_segment(void **state)
{
    env *e = *state;
    uint8_t f[MAXF], g[MAXF];
    static const uint8_t opts[12] = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0};
    static const char data[] = "0123456789abcdef";
    tcp_spec s = conn_seg(e, SYNACK_TH_ACK | SYNACK_TH_PSH, data, 16);
    s.opts = opts;
    s.optlen = sizeof opts;
    size_t len = build_tcp(e, f, &s);
    size_t seglen = len - WIRE_ETH_HLEN - 20; /* 32 header + 16 data */
    for (size_t l = 0; l < seglen; l++) {
        memcpy(g, f, len);
        wire_put16(g + WIRE_ETH_HLEN + 2, (uint16_t)(20 + l));
        fix_ip_csum(g, len);
        size_t flen = WIRE_ETH_HLEN + 20 + l;
        int reason = l < 20   ? SYNACK_DROP_TCP_SHORT
                     : l < 32 ? SYNACK_DROP_TCP_BAD_OFF
                              : SYNACK_DROP_TCP_BAD_CSUM;
        if (reason == SYNACK_DROP_TCP_BAD_CSUM) {
            /* the cut must really break the checksum */
            uint32_t sum =
                wire_csum_pseudo(PEER_IP, DUT_IP, WIRE_IPPROTO_TCP, (uint16_t)l);
            assert_int_not_equal(
                wire_csum_fold(wire_csum_add(sum, g + 34, l)), 0);
        }
        char what[96];
        snprintf(what, sizeof what, "TCP segment cut to %zu of %zu bytes", l,
                 seglen);
        expect_drop(e, g, flen, reason, what);
        /* the same with the bytes still in the frame, as Ethernet padding */
        expect_drop(e, g, len, reason, what);
    }
    exchange(e, "truncated TCP segments");
}

static void test_truncated_arp(void **state)
{
    env *e = *state;
    uint8_t f[MAXF], g[MAXF];
    size_t len = build_arp(f, 1, PEER_IP, DUT_IP, BCAST);
    assert_int_equal(len, 42);
    for (size_t l = 0; l < len; l++) {
        char what[96];
        snprintf(what, sizeof what, "ARP frame cut to %zu bytes", l);
        memcpy(g, f, l);
        expect_drop(e, g, l,
                    l < WIRE_ETH_HLEN ? SYNACK_DROP_ETH_SHORT
                                      : SYNACK_DROP_ARP_SHORT,
                    what);
    }
    /* the whole frame is answered */
    e->ncap = 0;
    input(e, f, len);
    assert_int_equal(e->ncap, 1);
    exchange(e, "truncated ARP");
}

static void test_truncated_icmp(void **state)
{
    env *e = *state;
    uint8_t f[MAXF], g[MAXF], data[32];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)('a' + i % 26);
    size_t len = build_icmp_echo(e, f, 0x77, 3, data, sizeof data);
    for (size_t l = 0; l < len; l++) {
        char what[96];
        snprintf(what, sizeof what, "ICMP echo frame cut to %zu bytes", l);
        memcpy(g, f, l);
        expect_drop(e, g, l, trunc_reason(l, len - WIRE_ETH_HLEN), what);
    }
    /* consistent IP header, short ICMP message */
    size_t mlen = len - 34;
    for (size_t l = 0; l < mlen; l++) {
        memcpy(g, f, len);
        wire_put16(g + WIRE_ETH_HLEN + 2, (uint16_t)(20 + l));
        fix_ip_csum(g, len);
        char what[96];
        snprintf(what, sizeof what, "ICMP message cut to %zu bytes", l);
        int reason =
            l < 8 ? SYNACK_DROP_ICMP_SHORT : SYNACK_DROP_ICMP_BAD_CSUM;
        if (reason == SYNACK_DROP_ICMP_BAD_CSUM)
            assert_int_not_equal(wire_csum_fold(wire_csum_add(0, g + 34, l)),
                                 0);
        expect_drop(e, g, WIRE_ETH_HLEN + 20 + l, reason, what);
    }
    e->ncap = 0;
    input(e, f, len);
    check_echo_reply(e, 0x77, 3, data, sizeof data);
    exchange(e, "truncated ICMP");
}

/* ---- checksums --------------------------------------------------------------- */

static void test_bad_checksums(void **state)
{
    env *e = *state;
    uint8_t f[MAXF], g[MAXF], data[20];
    memset(data, 'x', sizeof data);
    tcp_spec s = conn_seg(e, SYNACK_TH_ACK | SYNACK_TH_PSH, data, 8);
    size_t len = build_tcp(e, f, &s);

    /* IPv4 header checksum: the field itself, or a covered byte */
    memcpy(g, f, len);
    g[WIRE_ETH_HLEN + 10] ^= 0x01;
    expect_drop(e, g, len, SYNACK_DROP_IP_BAD_CSUM, "IP checksum field off");
    memcpy(g, f, len);
    g[WIRE_ETH_HLEN + 8] ^= 0x80; /* TTL */
    expect_drop(e, g, len, SYNACK_DROP_IP_BAD_CSUM, "IP TTL changed");
    memcpy(g, f, len);
    g[WIRE_ETH_HLEN + 15] ^= 0x01; /* source address */
    expect_drop(e, g, len, SYNACK_DROP_IP_BAD_CSUM, "IP source changed");

    /* TCP checksum: field, header byte, payload byte, and a change only
     * the pseudo-header sees (IP source, with the IP checksum fixed) */
    memcpy(g, f, len);
    g[34 + 17] ^= 0x01;
    expect_drop(e, g, len, SYNACK_DROP_TCP_BAD_CSUM, "TCP checksum field off");
    memcpy(g, f, len);
    g[34 + 4] ^= 0x10; /* seq */
    expect_drop(e, g, len, SYNACK_DROP_TCP_BAD_CSUM, "TCP seq changed");
    memcpy(g, f, len);
    g[len - 1] ^= 0x01; /* payload */
    expect_drop(e, g, len, SYNACK_DROP_TCP_BAD_CSUM, "TCP payload changed");
    memcpy(g, f, len);
    wire_put32(g + WIRE_ETH_HLEN + 12, PEER_IP + 7); /* 10.0.0.8 */
    fix_ip_csum(g, len);
    expect_drop(e, g, len, SYNACK_DROP_TCP_BAD_CSUM,
                "IP source changed, TCP pseudo-header checksum stale");
    /* checksum 0 is not "no checksum" in TCP */
    memcpy(g, f, len);
    wire_put16(g + 34 + 16, 0);
    if (wire_get16(f + 34 + 16) != 0)
        expect_drop(e, g, len, SYNACK_DROP_TCP_BAD_CSUM, "TCP checksum 0");

    /* ICMP */
    len = build_icmp_echo(e, f, 5, 6, data, sizeof data);
    memcpy(g, f, len);
    g[34 + 2] ^= 0x40;
    expect_drop(e, g, len, SYNACK_DROP_ICMP_BAD_CSUM, "ICMP checksum field off");
    memcpy(g, f, len);
    g[len - 3] ^= 0x01;
    expect_drop(e, g, len, SYNACK_DROP_ICMP_BAD_CSUM, "ICMP data changed");
    memcpy(g, f, len);
    g[34 + 5] ^= 0x01; /* id */
    expect_drop(e, g, len, SYNACK_DROP_ICMP_BAD_CSUM, "ICMP id changed");
    exchange(e, "bad checksums");
}

/* In-order data is checksummed while it is copied into the receive ring's
 * free space (tcp_input.c, rx_copy_csum; header prediction on) and is only
 * kept when the checksum is right. Odd-sized segments, read back at once,
 * walk the ring's write position all the way round, so segments split at
 * the ring's end at even and odd offsets (wire_csum_add_odd): each one first arrives with a payload byte changed (dropped, and
 * nothing of it must be delivered), then intact (delivered byte for byte);
 * the same with header prediction off. */
static void bad_checksum_ring_walk(env *e)
{
    uint8_t f[MAXF], g[MAXF], data[999], got[2048];
    synack_conn_info ci;
    assert_int_equal(synack_conn_get(e->st, e->h, &ci), 0);
    uint64_t rng = 0x5eed;
    /* 300 x 999 bytes: more than a 256 KiB ring */
    for (int i = 0; i < 300; i++) {
        for (size_t k = 0; k < sizeof data; k++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            data[k] = (uint8_t)(rng >> 56);
        }
        tcp_spec s = conn_seg(e, SYNACK_TH_ACK | SYNACK_TH_PSH, data,
                              sizeof data);
        size_t len = build_tcp(e, f, &s);
        memcpy(g, f, len);
        g[len - 1 - (size_t)(i * 37) % sizeof data] ^= 0x04;
        expect_drop(e, g, len, SYNACK_DROP_TCP_BAD_CSUM,
                    "in-order payload changed");
        assert_int_equal(synack_recv(e->st, e->h, got, sizeof got, e->now),
                         -SYNACK_EAGAIN);
        e->ncap = 0;
        input(e, f, len);
        e->peer_nxt += (uint32_t)sizeof data;
        ssize_t r = synack_recv(e->st, e->h, got, sizeof got, e->now);
        if (r != (ssize_t)sizeof data || memcmp(got, data, sizeof data) != 0)
            fail_msg("segment %d: read %zd bytes, %s", i, r,
                     r == (ssize_t)sizeof data ? "content differs"
                                               : "expected 999");
        advance(e, SYNACK_SEC / 2); /* the delayed ACK, out of the way */
    }
    char msg[128];
    assert_int_equal(synack_stack_check(e->st, msg, sizeof msg), 0);
}

/* Out-of-order data held in the ring past RCV.NXT: an in-order segment
 * covering it with a bad checksum must not overwrite it (no fused copy
 * while ranges are held); the hole filled, every byte is the sender's. */
static void test_bad_checksum_over_ooo(void **state)
{
    env *e = *state;
    uint8_t f[MAXF], g[MAXF], data[1200], got[1300];
    for (size_t k = 0; k < sizeof data; k++)
        data[k] = (uint8_t)(k * 11 + 5);
    /* bytes 600..1199 first, out of order */
    tcp_spec s = conn_seg(e, SYNACK_TH_ACK, data + 600, 600);
    s.seq = e->peer_nxt + 600;
    input(e, f, build_tcp(e, f, &s));
    /* all 1200 in order, with bytes 800 and 1100 changed: dropped */
    s = conn_seg(e, SYNACK_TH_ACK | SYNACK_TH_PSH, data, sizeof data);
    size_t len = build_tcp(e, f, &s);
    memcpy(g, f, len);
    g[len - 400] ^= 0x5a;
    g[len - 100] ^= 0x5a; /* two changes that do not cancel out */
    expect_drop(e, g, len, SYNACK_DROP_TCP_BAD_CSUM,
                "in-order segment over out-of-order data, payload changed");
    /* the first 600 fill the hole */
    s = conn_seg(e, SYNACK_TH_ACK | SYNACK_TH_PSH, data, 600);
    input(e, f, build_tcp(e, f, &s));
    e->peer_nxt += (uint32_t)sizeof data;
    assert_int_equal(synack_recv(e->st, e->h, got, sizeof got, e->now),
                     (ssize_t)sizeof data);
    assert_memory_equal(got, data, sizeof data);
    advance(e, SYNACK_SEC / 2);
    exchange(e, "bad checksum over out-of-order data");
}

static void test_bad_checksum_ring_walk(void **state)
{
    env *e = *state;
    bad_checksum_ring_walk(e);
    assert_int_equal(synack_sysctl_set(e->st, "tcp_fast_path", "0"), 0);
    bad_checksum_ring_walk(e);
    exchange(e, "bad checksums round the ring");
}

/* ---- IPv4 header ------------------------------------------------------------ */

static void test_ip_header(void **state)
{
    env *e = *state;
    uint8_t f[MAXF], g[MAXF], data[8];
    memset(data, 'y', sizeof data);
    tcp_spec s = conn_seg(e, SYNACK_TH_ACK | SYNACK_TH_PSH, data, sizeof data);
    size_t len = build_tcp(e, f, &s); /* IP total 48 */
    uint8_t *ip = g + WIRE_ETH_HLEN;

    for (int v = 0; v < 16; v++) {
        if (v == 4)
            continue;
        memcpy(g, f, len);
        ip[0] = (uint8_t)((v << 4) | 5);
        fix_ip_csum(g, len);
        char what[48];
        snprintf(what, sizeof what, "IP version %d", v);
        expect_drop(e, g, len, SYNACK_DROP_IP_BAD_VERSION, what);
    }
    for (int ihl = 0; ihl < 5; ihl++) {
        memcpy(g, f, len);
        ip[0] = (uint8_t)(0x40 | ihl);
        fix_ip_csum(g, len);
        char what[48];
        snprintf(what, sizeof what, "IHL %d", ihl);
        expect_drop(e, g, len, SYNACK_DROP_IP_BAD_HLEN, what);
    }
    /* IHL 15 (60 bytes) in a frame with 48 bytes of IP */
    memcpy(g, f, len);
    ip[0] = 0x4f;
    expect_drop(e, g, len, SYNACK_DROP_IP_BAD_HLEN, "IHL past the frame");
    /* IHL 13 (52 bytes): past the 48-byte packet, within a padded frame:
     * the header runs past the total length */
    memcpy(g, f, len);
    memset(g + len, 0, 16);
    ip[0] = 0x4d;
    fix_ip_csum(g, len + 16);
    expect_drop(e, g, len + 16, SYNACK_DROP_IP_BAD_LEN,
                "IHL past the total length");

    /* total length below the header length, zero, above the frame */
    static const uint16_t bad_total[] = {0, 1, 19};
    for (size_t i = 0; i < sizeof bad_total / sizeof bad_total[0]; i++) {
        memcpy(g, f, len);
        wire_put16(ip + 2, bad_total[i]);
        fix_ip_csum(g, len);
        char what[48];
        snprintf(what, sizeof what, "IP total length %u", bad_total[i]);
        expect_drop(e, g, len, SYNACK_DROP_IP_BAD_LEN, what);
    }
    memcpy(g, f, len);
    ip[0] = 0x46; /* IHL 24 */
    wire_put16(ip + 2, 22);
    fix_ip_csum(g, len);
    expect_drop(e, g, len, SYNACK_DROP_IP_BAD_LEN, "total length 22 < IHL 24");
    static const uint16_t big_total[] = {49, 100, 1500, 65535};
    for (size_t i = 0; i < sizeof big_total / sizeof big_total[0]; i++) {
        memcpy(g, f, len);
        wire_put16(ip + 2, big_total[i]);
        fix_ip_csum(g, len);
        char what[48];
        snprintf(what, sizeof what, "IP total length %u > frame",
                 big_total[i]);
        expect_drop(e, g, len, SYNACK_DROP_IP_BAD_LEN, what);
    }
    /* total length 20: a valid IP packet with no room for TCP */
    memcpy(g, f, len);
    wire_put16(ip + 2, 20);
    fix_ip_csum(g, len);
    expect_drop(e, g, len, SYNACK_DROP_TCP_SHORT, "IP total 20: empty TCP");

    exchange(e, "IP header errors");
}

/* IP options (IHL 6, four NOPs) are skipped, not misread as TCP. */
static void test_ip_options_skipped(void **state)
{
    env *e = *state;
    uint8_t f[MAXF], g[MAXF];
    static const char data[] = "with-ip-opts";
    tcp_spec s = conn_seg(e, SYNACK_TH_ACK | SYNACK_TH_PSH, data, 12);
    size_t len = build_tcp(e, f, &s);
    memcpy(g, f, 34);
    memset(g + 34, 1, 4); /* IP option NOPs */
    memcpy(g + 38, f + 34, len - 34);
    g[14] = 0x46;
    wire_put16(g + 16, (uint16_t)(wire_get16(f + 16) + 4));
    fix_ip_csum(g, len + 4);
    expect_accept(e, g, len + 4, "IP header with options");
    e->peer_nxt += 12;
    char got[32];
    assert_int_equal(synack_recv(e->st, e->h, got, sizeof got, e->now), 12);
    assert_memory_equal(got, data, 12);
    exchange(e, "IP options");
}

static void test_ip_fragments(void **state)
{
    env *e = *state;
    uint8_t f[MAXF];
    static const uint16_t frags[] = {
        WIRE_IP_MF,                /* first fragment */
        WIRE_IP_MF | 1,            /* middle */
        1,                         /* last, offset 8 */
        0x1fff,                    /* last, largest offset */
        WIRE_IP_MF | WIRE_IP_DF,   /* contradictory, still a fragment */
        WIRE_IP_DF | 185,          /* offset with DF */
    };
    for (size_t i = 0; i < sizeof frags / sizeof frags[0]; i++) {
        tcp_spec s = conn_seg(e, SYNACK_TH_ACK | SYNACK_TH_PSH, "frag", 4);
        s.frag = frags[i];
        s.frag_set = 1;
        size_t len = build_tcp(e, f, &s);
        char what[48];
        snprintf(what, sizeof what, "IP fragment, flags+offset 0x%04x",
                 frags[i]);
        expect_drop(e, f, len, SYNACK_DROP_IP_FRAGMENT, what);
    }
    /* ICMP fragments too */
    size_t len = build_icmp_echo(e, f, 1, 2, (const uint8_t *)"abcd", 4);
    wire_put16(f + 20, WIRE_IP_MF);
    fix_ip_csum(f, len);
    expect_drop(e, f, len, SYNACK_DROP_IP_FRAGMENT, "ICMP first fragment");
    /* DF alone, or no flags at all, is a whole packet */
    tcp_spec s = conn_seg(e, SYNACK_TH_ACK | SYNACK_TH_PSH, "whole", 5);
    s.frag = 0;
    s.frag_set = 1;
    len = build_tcp(e, f, &s);
    expect_accept(e, f, len, "IP without DF, not a fragment");
    e->peer_nxt += 5;
    char got[8];
    assert_int_equal(synack_recv(e->st, e->h, got, sizeof got, e->now), 5);
    exchange(e, "fragments");
}

/* ---- TCP header ------------------------------------------------------------- */

static void test_tcp_data_offset(void **state)
{
    env *e = *state;
    uint8_t f[MAXF], g[MAXF], data[8];
    memset(data, 'z', sizeof data);
    tcp_spec s = conn_seg(e, SYNACK_TH_ACK | SYNACK_TH_PSH, data, sizeof data);
    size_t len = build_tcp(e, f, &s); /* TCP 28 bytes */
    for (int off = 0; off < 16; off++) {
        if (off >= 5 && off <= 7)
            continue; /* 20..28 fits: valid (data becomes options) */
        memcpy(g, f, len);
        g[34 + 12] = (uint8_t)(off << 4);
        fix_tcp_csum(g, len);
        char what[48];
        snprintf(what, sizeof what, "TCP data offset %d (seg 28 bytes)", off);
        expect_drop(e, g, len, SYNACK_DROP_TCP_BAD_OFF, what);
    }
    exchange(e, "data offset");
}

static void test_tcp_port_zero(void **state)
{
    env *e = *state;
    uint8_t f[MAXF];
    tcp_spec s = conn_seg(e, SYNACK_TH_SYN, NULL, 0);
    s.sport = 0;
    expect_drop(e, f, build_tcp(e, f, &s), SYNACK_DROP_TCP_BAD_PORT,
                "TCP source port 0");
    s = conn_seg(e, SYNACK_TH_ACK, NULL, 0);
    s.dport = 0;
    expect_drop(e, f, build_tcp(e, f, &s), SYNACK_DROP_TCP_BAD_PORT,
                "TCP destination port 0");
    exchange(e, "port zero");
}

typedef struct optcase {
    const char *what;
    uint8_t bytes[40];
    size_t len;
} optcase;

static void test_tcp_options_malformed(void **state)
{
    env *e = *state;
    uint8_t f[MAXF];
    static const optcase cases[] = {
        {"unknown kind, length 0", {30, 0, 0, 0}, 4},
        {"MSS, length 0", {2, 0, 0, 0}, 4},
        {"TS, length 0 after NOPs", {1, 1, 8, 0}, 4},
        {"unknown kind, length 1", {30, 1, 0, 0}, 4},
        {"WS, length 1", {1, 3, 1, 0}, 4},
        {"unknown kind, length past the header", {30, 10, 0, 0}, 4},
        {"MSS, length past the header", {1, 1, 2, 4}, 4},
        {"TS, length 10 with 8 bytes left", {1, 1, 1, 1, 8, 10, 0, 0, 0, 0, 0, 0},
         12},
        {"length 255", {30, 255, 0, 0}, 4},
        {"length byte missing at the end", {1, 1, 1, 30}, 4},
        {"MSS kind at the end, no length", {1, 1, 1, 2}, 4},
        {"MSS length 3", {2, 3, 5, 0}, 4},
        {"MSS length 5", {2, 5, 5, 0xb4, 0, 0, 0, 0}, 8},
        {"MSS length 2", {2, 2, 1, 1}, 4},
        {"WS length 2", {3, 2, 1, 1}, 4},
        {"WS length 4", {3, 4, 7, 0}, 4},
        {"TS length 8", {8, 8, 0, 0, 0, 1, 0, 0}, 8},
        {"TS length 12", {8, 12, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}, 12},
        {"TS length 2", {8, 2, 1, 1}, 4},
        {"SACK-permitted length 3", {4, 3, 0, 0}, 4},
        {"SACK length 9", {5, 9, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0}, 12},
        {"SACK length 2 (no block)", {5, 2, 1, 1}, 4},
        {"good MSS then zero length", {2, 4, 5, 0xb4, 30, 0, 0, 0}, 8},
        {"good unknown then overlong", {30, 4, 0, 0, 31, 6, 0, 0}, 8},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tcp_spec s = conn_seg(e, SYNACK_TH_ACK | SYNACK_TH_PSH, "opt", 3);
        s.opts = cases[i].bytes;
        s.optlen = cases[i].len;
        size_t len = build_tcp(e, f, &s);
        expect_drop(e, f, len, SYNACK_DROP_TCP_BAD_OPT, cases[i].what);
    }
    /* Also on a SYN to a closed port and a SYN to the established tuple:
     * dropped before any RST or challenge ACK. */
    tcp_spec s = conn_seg(e, SYNACK_TH_SYN, NULL, 0);
    s.dport = 81;
    s.opts = cases[0].bytes;
    s.optlen = 4;
    expect_drop(e, f, build_tcp(e, f, &s), SYNACK_DROP_TCP_BAD_OPT,
                "bad option on SYN to a closed port");
    s = conn_seg(e, SYNACK_TH_SYN, NULL, 0);
    s.opts = cases[3].bytes;
    s.optlen = 4;
    expect_drop(e, f, build_tcp(e, f, &s), SYNACK_DROP_TCP_BAD_OPT,
                "bad option on SYN to the connection");
    s = conn_seg(e, SYNACK_TH_RST, NULL, 0);
    s.opts = cases[3].bytes;
    s.optlen = 4;
    expect_drop(e, f, build_tcp(e, f, &s), SYNACK_DROP_TCP_BAD_OPT,
                "bad option on an exact RST");
    exchange(e, "malformed options");
}

/* RFC 9293 MUST-6: unknown option kinds with a valid length are skipped,
 * the segment is processed, and the stack counts them. */
static void test_tcp_options_unknown_accepted(void **state)
{
    env *e = *state;
    uint8_t f[MAXF];
    static const optcase cases[] = {
        {"unknown kind 30 length 4", {30, 4, 0xaa, 0xbb}, 4},
        {"unknown kind 253 length 2", {253, 2, 1, 1}, 4},
        {"unknown kind 99 length 40", {99, 40}, 40},
        {"two unknown kinds", {30, 3, 0, 31, 5, 1, 2, 3}, 8},
        {"unknown then EOL then junk", {30, 2, 0, 0xff, 0xff, 0xff, 0xff, 0xff},
         8},
        {"EOL then garbage", {0, 30, 0, 1}, 4},
        {"NOPs only", {1, 1, 1, 1}, 4},
        {"unknown kind 6 (echo, obsolete) length 6", {6, 6, 1, 2, 3, 4, 1, 1},
         8},
    };
    static const unsigned unknown[] = {1, 1, 1, 2, 1, 0, 0, 1};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char data[16];
        int n = snprintf(data, sizeof data, "unk%zu", i);
        tcp_spec s =
            conn_seg(e, SYNACK_TH_ACK | SYNACK_TH_PSH, data, (size_t)n);
        s.opts = cases[i].bytes;
        s.optlen = cases[i].len;
        size_t len = build_tcp(e, f, &s);
        synack_stack_stats b, a;
        synack_stack_get_stats(e->st, &b);
        expect_accept(e, f, len, cases[i].what);
        synack_stack_get_stats(e->st, &a);
        if (a.tcp_opt_unknown != b.tcp_opt_unknown + unknown[i])
            fail_msg("%s: tcp_opt_unknown went %llu -> %llu, expected +%u",
                     cases[i].what, (unsigned long long)b.tcp_opt_unknown,
                     (unsigned long long)a.tcp_opt_unknown, unknown[i]);
        e->peer_nxt += (uint32_t)n;
        char got[16];
        ssize_t r = synack_recv(e->st, e->h, got, sizeof got, e->now);
        if (r != n || memcmp(got, data, (size_t)n) != 0)
            fail_msg("%s: segment not delivered (recv = %zd)", cases[i].what,
                     r);
    }
    exchange(e, "unknown options");
}

/* ---- not for us, unsupported ------------------------------------------------ */

static void test_not_for_us(void **state)
{
    env *e = *state;
    uint8_t f[MAXF], g[MAXF];
    tcp_spec s = conn_seg(e, SYNACK_TH_ACK | SYNACK_TH_PSH, "nfu", 3);
    size_t len = build_tcp(e, f, &s);

    memcpy(g, f, len);
    memcpy(g, OTHER_MAC, 6);
    expect_drop(e, g, len, SYNACK_DROP_ETH_NOT_FOR_US, "other MAC");
    memcpy(g, f, len);
    g[0] = 0x01; /* multicast MAC, not broadcast */
    expect_drop(e, g, len, SYNACK_DROP_ETH_NOT_FOR_US, "multicast MAC");

    /* our MAC, another IP (same subnet and elsewhere), recomputed sums */
    static const uint32_t others[] = {0x0a000003u, 0x0a0000ffu, 0xc0a80102u,
                                      0xffffffffu, 0xe0000001u, 0};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        tcp_spec o = s;
        o.dst = others[i];
        size_t l = build_tcp(e, g, &o);
        char what[48];
        snprintf(what, sizeof what, "IP destination %08x", others[i]);
        expect_drop(e, g, l, SYNACK_DROP_IP_NOT_FOR_US, what);
    }
    /* broadcast MAC carrying IP for someone else */
    tcp_spec o = s;
    o.dst = 0x0a000003u;
    size_t l = build_tcp(e, g, &o);
    memcpy(g, BCAST, 6);
    expect_drop(e, g, l, SYNACK_DROP_IP_NOT_FOR_US,
                "broadcast MAC, other IP");

    /* bad sources: ours, broadcast, subnet broadcast, multicast */
    static const uint32_t bad_src[] = {DUT_IP, 0xffffffffu, 0x0a0000ffu,
                                       0xe0000001u, 0xefffffffu};
    for (size_t i = 0; i < sizeof bad_src / sizeof bad_src[0]; i++) {
        o = s;
        o.src = bad_src[i];
        l = build_tcp(e, g, &o);
        char what[48];
        snprintf(what, sizeof what, "IP source %08x", bad_src[i]);
        expect_drop(e, g, l, SYNACK_DROP_IP_BAD_SRC, what);
    }

    /* unknown EtherTypes (IPv6, VLAN, experimental) */
    static const uint16_t types[] = {0x86dd, 0x8100, 0x88b5, 0x0000, 0xffff};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        memcpy(g, f, len);
        wire_put16(g + 12, types[i]);
        char what[48];
        snprintf(what, sizeof what, "EtherType 0x%04x", types[i]);
        expect_drop(e, g, len, SYNACK_DROP_ETH_UNKNOWN_TYPE, what);
    }
    /* unknown IP protocols (UDP, GRE, 255) */
    static const uint8_t protos[] = {17, 47, 255, 0};
    for (size_t i = 0; i < sizeof protos / sizeof protos[0]; i++) {
        memcpy(g, f, len);
        g[WIRE_ETH_HLEN + 9] = protos[i];
        fix_ip_csum(g, len);
        char what[48];
        snprintf(what, sizeof what, "IP protocol %u", protos[i]);
        expect_drop(e, g, len, SYNACK_DROP_IP_UNKNOWN_PROTO, what);
    }
    /* ICMP types other than echo request */
    static const uint8_t icmp_types[] = {0, 3, 5, 11, 13, 255};
    for (size_t i = 0; i < sizeof icmp_types / sizeof icmp_types[0]; i++) {
        l = build_icmp_echo(e, g, 1, 1, (const uint8_t *)"ping", 4);
        g[34] = icmp_types[i];
        wire_put16(g + 36, 0);
        wire_put16(g + 36, wire_csum_fold(wire_csum_add(0, g + 34, 12)));
        char what[48];
        snprintf(what, sizeof what, "ICMP type %u", icmp_types[i]);
        expect_drop(e, g, l, SYNACK_DROP_ICMP_UNHANDLED, what);
    }

    /* ARP not for us, and unsupported ARP */
    l = build_arp(g, 1, PEER_IP, 0x0a000009u, BCAST);
    expect_drop(e, g, l, SYNACK_DROP_ARP_NOT_FOR_US, "ARP for another IP");
    l = build_arp(g, 3, PEER_IP, DUT_IP, BCAST);
    expect_drop(e, g, l, SYNACK_DROP_ARP_UNSUPPORTED, "ARP op 3");
    l = build_arp(g, 1, PEER_IP, DUT_IP, BCAST);
    g[14 + 1] = 6; /* hardware type 6 */
    expect_drop(e, g, l, SYNACK_DROP_ARP_UNSUPPORTED, "ARP htype 6");
    l = build_arp(g, 1, PEER_IP, DUT_IP, BCAST);
    wire_put16(g + 14 + 2, 0x86dd);
    expect_drop(e, g, l, SYNACK_DROP_ARP_UNSUPPORTED, "ARP ptype IPv6");
    l = build_arp(g, 1, PEER_IP, DUT_IP, BCAST);
    g[14 + 4] = 8;
    expect_drop(e, g, l, SYNACK_DROP_ARP_UNSUPPORTED, "ARP hlen 8");
    l = build_arp(g, 1, PEER_IP, DUT_IP, BCAST);
    g[14 + 5] = 16;
    expect_drop(e, g, l, SYNACK_DROP_ARP_UNSUPPORTED, "ARP plen 16");

    exchange(e, "not for us");
}

/* ---- random garbage --------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void rng_fill(uint64_t *s, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i % 8 == 0) {
            uint64_t w = rng_next(s);
            for (size_t k = 0; k < 8 && i + k < n; k++)
                p[i + k] = (uint8_t)(w >> (8 * k));
        }
    }
}

/* Reasons for which a frame never gets a reply: it is discarded before any
 * protocol would answer it. */
static int silent_reason(int r)
{
    switch (r) {
    case SYNACK_DROP_ETH_SHORT:
    case SYNACK_DROP_ETH_NOT_FOR_US:
    case SYNACK_DROP_ETH_UNKNOWN_TYPE:
    case SYNACK_DROP_ARP_SHORT:
    case SYNACK_DROP_ARP_UNSUPPORTED:
    case SYNACK_DROP_ARP_NOT_FOR_US:
    case SYNACK_DROP_IP_SHORT:
    case SYNACK_DROP_IP_BAD_VERSION:
    case SYNACK_DROP_IP_BAD_HLEN:
    case SYNACK_DROP_IP_BAD_LEN:
    case SYNACK_DROP_IP_BAD_CSUM:
    case SYNACK_DROP_IP_NOT_FOR_US:
    case SYNACK_DROP_IP_FRAGMENT:
    case SYNACK_DROP_IP_BAD_SRC:
    case SYNACK_DROP_IP_UNKNOWN_PROTO:
    case SYNACK_DROP_ICMP_SHORT:
    case SYNACK_DROP_ICMP_BAD_CSUM:
    case SYNACK_DROP_ICMP_UNHANDLED:
    case SYNACK_DROP_ICMP_TOO_BIG:
    case SYNACK_DROP_TCP_SHORT:
    case SYNACK_DROP_TCP_BAD_OFF:
    case SYNACK_DROP_TCP_BAD_CSUM:
    case SYNACK_DROP_TCP_BAD_OPT:
    case SYNACK_DROP_TCP_BAD_PORT:
        return 1;
    default:
        return 0;
    }
}

typedef struct garbage_tally {
    uint64_t frames, accepted, replies;
    uint64_t drops[SYNACK__DROP_COUNT];
} garbage_tally;

/* Feed one garbage frame and check what can be checked of any input:
 * frames_in moves by one; a silent drop sends nothing; an RST is never
 * answered; nothing to or from the connection's tuple changes it. */
static void garbage_one(env *e, const uint8_t *f, size_t len, int is_rst,
                        garbage_tally *t, uint64_t seed, uint64_t i)
{
    synack_stack_stats b, a;
    synack_stack_get_stats(e->st, &b);
    e->ncap = 0;
    uint64_t tb = e->trace_drops;
    input(e, f, len);
    synack_stack_get_stats(e->st, &a);
    t->frames++;
    t->replies += e->ncap;
    if (a.frames_in != b.frames_in + 1)
        fail_msg("garbage seed %llu frame %llu: frames_in did not move by one",
                 (unsigned long long)seed, (unsigned long long)i);
    int ndrop = 0, silent = 0;
    for (int r = 1; r < SYNACK__DROP_COUNT; r++) {
        if (a.drops[r] == b.drops[r])
            continue;
        t->drops[r] += a.drops[r] - b.drops[r];
        ndrop += (int)(a.drops[r] - b.drops[r]);
        silent |= silent_reason(r);
    }
    if (!ndrop)
        t->accepted++;
    if (e->trace_drops - tb != (uint64_t)ndrop)
        fail_msg("garbage seed %llu frame %llu: %d drop counter increments "
                 "but %llu trace drop events",
                 (unsigned long long)seed, (unsigned long long)i, ndrop,
                 (unsigned long long)(e->trace_drops - tb));
    if (silent && e->ncap)
        fail_msg("garbage seed %llu frame %llu (len %zu): silently dropped "
                 "but %zu frame(s) sent",
                 (unsigned long long)seed, (unsigned long long)i, len, e->ncap);
    if (is_rst && e->ncap) {
        /* RFC 9293 3.10.7.1: never answer an RST (an ARP request for the
         * reply's next hop is also a reply here) */
        fail_msg("garbage seed %llu frame %llu: %zu frame(s) sent in reply "
                 "to an RST",
                 (unsigned long long)seed, (unsigned long long)i, e->ncap);
    }
}

#define GARBAGE_PER_KIND 10000

/* Random but well-formed option bytes (known kinds with their lengths,
 * unknown kinds, NOPs, EOL); returns the length (<= 40). */
static size_t good_options(uint64_t *rs, uint8_t *o)
{
    size_t n = 0;
    for (;;) {
        uint64_t r = rng_next(rs);
        size_t room = 40 - n;
        switch (r % 9) {
        case 0:
            if (room < 1)
                return n;
            o[n++] = 1; /* NOP */
            break;
        case 1:
            if (room < 4)
                return n;
            o[n++] = 2;
            o[n++] = 4;
            wire_put16(o + n, (uint16_t)(r >> 8));
            n += 2;
            break;
        case 2:
            if (room < 3)
                return n;
            o[n++] = 3;
            o[n++] = 3;
            o[n++] = (uint8_t)(r >> 8);
            break;
        case 3:
            if (room < 2)
                return n;
            o[n++] = 4;
            o[n++] = 2;
            break;
        case 4: {
            size_t blocks = 1 + (r >> 8) % 4;
            if (room < 2 + 8 * blocks)
                return n;
            o[n++] = 5;
            o[n++] = (uint8_t)(2 + 8 * blocks);
            rng_fill(rs, o + n, 8 * blocks);
            n += 8 * blocks;
            break;
        }
        case 5:
            if (room < 10)
                return n;
            o[n++] = 8;
            o[n++] = 10;
            rng_fill(rs, o + n, 8);
            n += 8;
            break;
        case 6: {
            size_t l = 2 + (r >> 8) % 8;
            if (room < l)
                return n;
            uint8_t kind = (uint8_t)(9 + (r >> 16) % 240);
            o[n++] = kind == 0 || kind == 1 ? 30 : kind;
            o[n++] = (uint8_t)l;
            rng_fill(rs, o + n, l - 2);
            n += l - 2;
            break;
        }
        case 7:
            if (room >= 1)
                o[n++] = 0; /* EOL: the rest is ignored */
            return n;
        default:
            return n;
        }
    }
}

static void test_random_garbage(void **state)
{
    env *e = *state;
    uint8_t f[MAXF];
    garbage_tally t;
    memset(&t, 0, sizeof t);
    uint64_t seed0 = 0x6a09e667f3bcc908ULL;
    const char *es = getenv("SYNACK_BADINPUT_SEED"); /* to try others */
    if (es && *es)
        seed0 = strtoull(es, NULL, 0);
    uint64_t rs = seed0;

    /* 1: random bytes, random length 0..1600 */
    for (uint64_t i = 0; i < GARBAGE_PER_KIND; i++) {
        size_t len = (size_t)(rng_next(&rs) % 1601);
        rng_fill(&rs, f, len);
        garbage_one(e, f, len, 0, &t, seed0, i);
    }
    exchange(e, "random frames");

    /* 2: our MAC (or broadcast), IPv4 or ARP EtherType, random rest */
    for (uint64_t i = 0; i < GARBAGE_PER_KIND; i++) {
        size_t len = 14 + (size_t)(rng_next(&rs) % 200);
        rng_fill(&rs, f, len);
        memcpy(f, (i & 1) ? DUT_MAC : BCAST, 6);
        wire_put16(f + 12, (i & 2) ? WIRE_ETHERTYPE_ARP : WIRE_ETHERTYPE_IPV4);
        if (i & 4 && len >= 34) {
            f[14] = 0x45; /* plausible IPv4 start */
            wire_put16(f + 16, (uint16_t)(len - 14));
        }
        garbage_one(e, f, len, 0, &t, seed0, i);
    }
    exchange(e, "random IPv4/ARP payloads");

    /* 3: valid Ethernet + IPv4 header to us (checksum right), TCP or ICMP
     * with random bytes after it */
    for (uint64_t i = 0; i < GARBAGE_PER_KIND; i++) {
        size_t l4 = (size_t)(rng_next(&rs) % 120);
        size_t len = 34 + l4;
        put_eth(f, DUT_MAC, PEER_MAC, WIRE_ETHERTYPE_IPV4);
        put_ip(e, f + 14, PEER_IP, DUT_IP,
               (i & 1) ? WIRE_IPPROTO_ICMP : WIRE_IPPROTO_TCP, l4, WIRE_IP_DF);
        rng_fill(&rs, f + 34, l4);
        int rst = 0;
        if (!(i & 1) && l4 >= 20) {
            if (i & 2) {
                /* keep it off the connection's tuple, fix the checksum so
                 * that it reaches the TCP state machine */
                if (wire_get16(f + 34) == PEER_PORT &&
                    wire_get16(f + 36) == DUT_PORT)
                    wire_put16(f + 36, DUT_PORT + 1);
                f[34 + 12] = (uint8_t)((f[34 + 12] & 0x0f) | 0x50);
                fix_tcp_csum(f, len);
            }
            rst = (f[34 + 13] & SYNACK_TH_RST) != 0;
        }
        if ((i & 1) && (i & 2) && l4 >= 8) {
            wire_put16(f + 36, 0);
            wire_put16(f + 36, wire_csum_fold(wire_csum_add(0, f + 34, l4)));
        }
        garbage_one(e, f, len, rst, &t, seed0, i);
    }
    exchange(e, "random TCP/ICMP");

    /* 4: well-formed TCP with random flags, numbers, ports (off the
     * connection's tuple) and random option bytes, checksum right */
    for (uint64_t i = 0; i < GARBAGE_PER_KIND; i++) {
        uint8_t opts[40], data[64];
        tcp_spec s;
        memset(&s, 0, sizeof s);
        uint64_t r = rng_next(&rs);
        s.src = PEER_IP;
        s.dst = DUT_IP;
        s.sport = (uint16_t)(r & 0xffff);
        s.dport = (uint16_t)((r >> 16) & 0xffff);
        if (s.sport == PEER_PORT && s.dport == DUT_PORT)
            s.dport++;
        s.flags = (uint8_t)(r >> 32);
        s.wnd = (uint16_t)(r >> 40);
        r = rng_next(&rs);
        s.seq = (uint32_t)r;
        s.ack = (uint32_t)(r >> 32);
        if (i & 1) {
            s.optlen = good_options(&rs, opts);
        } else {
            s.optlen = (size_t)(rng_next(&rs) % 41);
            rng_fill(&rs, opts, s.optlen);
        }
        s.opts = opts;
        s.dlen = (size_t)(rng_next(&rs) % sizeof data);
        rng_fill(&rs, data, s.dlen);
        s.data = data;
        size_t len = build_tcp(e, f, &s);
        garbage_one(e, f, len, (s.flags & SYNACK_TH_RST) != 0, &t, seed0, i);
    }
    exchange(e, "random TCP segments");

    /* 5: on the connection's own tuple, random flags, options, ACK field
     * and payload, but a sequence number outside the receive window (the
     * window is at most 65535: the peer offered no window scaling). RFC
     * 9293 3.10.7.4: such a segment changes nothing; at most an ACK (or
     * a challenge ACK, RFC 5961) for the current state is sent. */
    for (uint64_t i = 0; i < GARBAGE_PER_KIND; i++) {
        uint8_t opts[40], data[64];
        tcp_spec s = conn_seg(e, 0, NULL, 0);
        uint64_t r = rng_next(&rs);
        s.flags = (uint8_t)r;
        s.wnd = (uint16_t)(r >> 8);
        s.ack = (uint32_t)(r >> 24);
        s.dlen = (size_t)((r >> 56) % sizeof data);
        rng_fill(&rs, data, s.dlen);
        s.data = data;
        s.optlen = good_options(&rs, opts);
        s.opts = opts;
        r = rng_next(&rs);
        if (r & 1)
            s.seq = e->peer_nxt + 65536u + (uint32_t)((r >> 1) % 0x7ffe0000u);
        else
            s.seq = e->peer_nxt - 200u - (uint32_t)((r >> 1) % 0x7fff0000u);
        size_t len = build_tcp(e, f, &s);
        garbage_one(e, f, len, (s.flags & SYNACK_TH_RST) != 0, &t, seed0, i);
        if (e->ncap > 1)
            fail_msg("out-of-window segment %llu: %zu replies",
                     (unsigned long long)i, e->ncap);
        for (size_t k = 0; k < e->ncap; k++) {
            wire_tcp th;
            const uint8_t *d;
            size_t dl;
            parse_cap_tcp(e, k, &th, &d, &dl);
            if (th.flags != SYNACK_TH_ACK || dl != 0 ||
                th.seq != e->dut_nxt || th.ack != e->peer_nxt)
                fail_msg("out-of-window segment %llu (flags 0x%02x seq %u): "
                         "reply flags 0x%02x seq %u ack %u len %zu, expected "
                         "a bare ACK seq %u ack %u",
                         (unsigned long long)i, s.flags, s.seq, th.flags,
                         th.seq, th.ack, dl, e->dut_nxt, e->peer_nxt);
        }
        synack_conn_info ci;
        assert_int_equal(synack_conn_get(e->st, e->h, &ci), 0);
        if (ci.state != SYNACK_ESTABLISHED || ci.recv_q != 0)
            fail_msg("out-of-window segment %llu (flags 0x%02x): connection "
                     "now %s with Recv-Q %u",
                     (unsigned long long)i, s.flags,
                     synack_state_name(ci.state), ci.recv_q);
    }
    exchange(e, "out-of-window segments on the connection");

    printf("[badinput] seed 0x%llx: %llu garbage frames: %llu accepted, "
           "%llu replies;",
           (unsigned long long)seed0, (unsigned long long)t.frames, (unsigned long long)t.accepted,
           (unsigned long long)t.replies);
    for (int r = 1; r < SYNACK__DROP_COUNT; r++)
        if (t.drops[r])
            printf(" %s=%llu", synack_drop_name(r),
                   (unsigned long long)t.drops[r]);
    printf("\n");
    fflush(stdout);
    /* The connection survived, and nothing else is left alive. */
    assert_int_equal(synack_stack_conn_count(e->st), 1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_icmp_echo_reply),
        T(test_icmp_echo_too_big),
        T(test_arp_reply),
        T(test_truncated_tcp_frame),
        T(test_truncated_tcp_segment),
        T(test_truncated_arp),
        T(test_truncated_icmp),
        T(test_bad_checksums),
        T(test_bad_checksum_ring_walk),
        T(test_bad_checksum_over_ooo),
        T(test_ip_header),
        T(test_ip_options_skipped),
        T(test_ip_fragments),
        T(test_tcp_data_offset),
        T(test_tcp_port_zero),
        T(test_tcp_options_malformed),
        T(test_tcp_options_unknown_accepted),
        T(test_not_for_us),
        T(test_random_garbage),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
