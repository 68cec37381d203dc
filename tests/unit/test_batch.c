/*
 * The data-path APIs of issue 6's lean path, between two stacks joined by
 * in-test frame queues:
 *  - input batches (synack_stack_batch_begin/end): in-order data is ACKed
 *    once at the batch's end for every segment of the batch, never later
 *    than without the batch; out-of-order data still ACKs at once; the
 *    bytes delivered are the same with and without batches;
 *  - in-place transmit (synack_stack_config.tx_buffer/tx_commit): the
 *    frames built in the device's memory are byte for byte the frames
 *    output() gets without it; a frame that waits for ARP is copied out of
 *    the device's buffer first (which the ARP request reuses); tx_buffer
 *    without tx_commit is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <synack/synack.h>

#include "core/wire.h"

#define IP_A 0x0a000001u
#define IP_B 0x0a000002u
#define PORT 5001
#define QCAP 256
#define SLOT 1600
#define SEG 1448 /* MSS 1460 less the timestamps option */

static const uint8_t MAC_A[6] = {2, 0, 0, 0, 0, 1};
static const uint8_t MAC_B[6] = {2, 0, 0, 0, 0, 2};

typedef struct fq {
    uint8_t buf[QCAP][SLOT];
    uint32_t len[QCAP];
    size_t n;
    int peeked; /* tx_buffer handed out buf[n] */
} fq;

typedef struct env {
    synack_stack *a, *b;
    fq ab, ba;
    synack_time_t now;
    int cs, ss, ls;
    int txbuf;     /* A and B build frames in place */
    int drop_next; /* drop A's next data segment (a hole) */
} env;

static void push(fq *q, const uint8_t *f, size_t len)
{
    assert_true(q->n < QCAP && len <= SLOT);
    memcpy(q->buf[q->n], f, len);
    q->len[q->n++] = (uint32_t)len;
}

static int is_data(const uint8_t *f, size_t len)
{
    /* Ethernet 14 + IPv4 20 + TCP: payload after the TCP header */
    if (len < 54 || f[12] != 0x08 || f[13] != 0x00 || f[23] != 6)
        return 0;
    size_t ip_total = ((size_t)f[16] << 8) | f[17];
    size_t thl = (size_t)(f[46] >> 4) * 4;
    return ip_total > 20 + thl;
}

static void out_a(void *ctx, const uint8_t *f, size_t len, synack_time_t now)
{
    env *e = ctx;
    (void)now;
    if (e->drop_next && is_data(f, len)) {
        e->drop_next = 0;
        return;
    }
    push(&e->ab, f, len);
}
static void out_b(void *ctx, const uint8_t *f, size_t len, synack_time_t now)
{
    env *e = ctx;
    (void)now;
    push(&e->ba, f, len);
}
static uint8_t *txb(fq *q, size_t cap)
{
    if (q->n >= QCAP || cap > SLOT)
        return NULL;
    q->peeked = 1;
    return q->buf[q->n];
}
static void txc(fq *q, uint8_t *f, size_t len)
{
    assert_true(q->peeked);
    assert_ptr_equal(f, q->buf[q->n]);
    assert_true(len <= SLOT);
    q->peeked = 0;
    q->len[q->n++] = (uint32_t)len;
}
static uint8_t *txb_a(void *ctx, size_t cap)
{
    return txb(&((env *)ctx)->ab, cap);
}
static uint8_t *txb_b(void *ctx, size_t cap)
{
    return txb(&((env *)ctx)->ba, cap);
}
static void txc_a(void *ctx, uint8_t *f, size_t len, synack_time_t now)
{
    env *e = ctx;
    (void)now;
    if (e->drop_next && is_data(f, len)) { /* abandoned, as a drop */
        e->drop_next = 0;
        e->ab.peeked = 0;
        return;
    }
    txc(&e->ab, f, len);
}
static void txc_b(void *ctx, uint8_t *f, size_t len, synack_time_t now)
{
    (void)now;
    txc(&((env *)ctx)->ba, f, len);
}

static synack_stack *mk(env *e, uint32_t ip, const uint8_t *mac, int is_a)
{
    synack_stack_config c;
    synack_stack_config_init(&c);
    memcpy(c.mac, mac, 6);
    c.ip = ip;
    c.prefix_len = 24;
    c.seed = is_a ? 11 : 12;
    memset(c.isn_secret, is_a ? 1 : 2, sizeof(c.isn_secret));
    c.output = is_a ? out_a : out_b;
    c.output_ctx = e;
    if (e->txbuf) {
        c.tx_buffer = is_a ? txb_a : txb_b;
        c.tx_commit = is_a ? txc_a : txc_b;
    }
    synack_stack *st = NULL;
    assert_int_equal(synack_stack_new(&c, &st), 0);
    return st;
}

/* Hand B everything A sent (one batch when asked), then A what B sent. */
static void deliver(env *e, synack_stack *to, fq *q, int batch)
{
    fq tmp;
    size_t n = q->n;
    memcpy(tmp.buf, q->buf, sizeof(tmp.buf[0]) * n);
    memcpy(tmp.len, q->len, sizeof(tmp.len[0]) * n);
    q->n = 0;
    if (batch)
        synack_stack_batch_begin(to);
    for (size_t i = 0; i < n; i++)
        synack_stack_input(to, tmp.buf[i], tmp.len[i], e->now);
    if (batch)
        synack_stack_batch_end(to, e->now);
}

static void check_ok(synack_stack *st)
{
    char msg[160];
    size_t v = synack_stack_check(st, msg, sizeof(msg));
    if (v)
        fail_msg("stack check: %s", msg);
}

static env *setup_env(int txbuf, int arp_static)
{
    env *e = calloc(1, sizeof(*e));
    assert_non_null(e);
    e->txbuf = txbuf;
    e->now = SYNACK_SEC;
    e->a = mk(e, IP_A, MAC_A, 1);
    e->b = mk(e, IP_B, MAC_B, 0);
    if (arp_static) {
        synack_arp_add(e->a, IP_B, MAC_B, 0);
        synack_arp_add(e->b, IP_A, MAC_A, 0);
    }
    e->ls = synack_socket(e->b);
    synack_addr la = {IP_B, PORT};
    assert_int_equal(synack_bind(e->b, e->ls, &la), 0);
    assert_int_equal(synack_listen(e->b, e->ls, 8), 0);
    e->cs = synack_socket(e->a);
    synack_addr ra = {IP_B, PORT};
    assert_int_equal(synack_connect(e->a, e->cs, &ra, e->now),
                     -SYNACK_EINPROGRESS);
    for (int i = 0; i < 8 && (e->ab.n || e->ba.n); i++) {
        deliver(e, e->b, &e->ab, 0);
        deliver(e, e->a, &e->ba, 0);
    }
    e->ss = synack_accept(e->b, e->ls, NULL);
    assert_true(e->ss >= 0);
    return e;
}

static void free_env(env *e)
{
    synack_stack_del(e->a);
    synack_stack_del(e->b);
    free(e);
}

static uint32_t ack_of(const uint8_t *f, size_t len)
{
    wire_tcp th;
    assert_true(len >= 54);
    assert_int_equal(wire_tcp_parse_hdr(f + 34, len - 34, &th), 0);
    return th.ack;
}

/* 10 full segments (the initial window) in one batch: no ACK while the batch runs, one ACK of
 * all of it at its end; without the batch, one per two segments. Bytes
 * delivered are the same. */
static void run_burst(int batch, int txbuf, size_t *acks_during,
                      size_t *acks_after, uint8_t *got, size_t *ngot)
{
    env *e = setup_env(txbuf, 1);
    uint8_t data[10 * SEG];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7 + i / 251);
    assert_int_equal(synack_send(e->a, e->cs, data, sizeof(data), e->now),
                     (ssize_t)sizeof(data));
    assert_int_equal(e->ab.n, 10);
    size_t before = 0;
    if (batch) {
        synack_stack_batch_begin(e->b);
        for (size_t i = 0; i < e->ab.n; i++)
            synack_stack_input(e->b, e->ab.buf[i], e->ab.len[i], e->now);
        before = e->ba.n;
        check_ok(e->b); /* the invariants hold inside a batch too */
        assert_true(synack_stack_next_deadline(e->b) < SYNACK_TIME_NEVER);
        synack_stack_batch_end(e->b, e->now);
        e->ab.n = 0;
    } else {
        deliver(e, e->b, &e->ab, 0);
        before = e->ba.n;
    }
    *acks_during = before;
    *acks_after = e->ba.n - before;
    if (e->ba.n) /* the last ACK covers everything */
        assert_int_equal(ack_of(e->ba.buf[e->ba.n - 1], e->ba.len[e->ba.n - 1]) -
                             ack_of(e->ba.buf[0], e->ba.len[0]),
                         batch ? 0 : 8 * SEG);
    check_ok(e->b);
    deliver(e, e->a, &e->ba, 0);
    check_ok(e->a);
    ssize_t r = synack_recv(e->b, e->ss, got, sizeof(data) + 10, e->now);
    assert_true(r > 0);
    *ngot = (size_t)r;
    assert_memory_equal(got, data, *ngot);
    synack_conn_info ci; /* A had all of it acknowledged */
    assert_int_equal(synack_conn_get(e->a, e->cs, &ci), 0);
    assert_int_equal(ci.send_q, 0);
    free_env(e);
}

static void test_batch_one_ack(void **state)
{
    (void)state;
    static uint8_t g1[40000], g2[40000];
    size_t d1, a1, n1, d2, a2, n2;
    run_burst(1, 0, &d1, &a1, g1, &n1);
    run_burst(0, 0, &d2, &a2, g2, &n2);
    assert_int_equal(d1, 0);  /* nothing while the batch runs */
    assert_int_equal(a1, 1);  /* one ACK at its end */
    assert_int_equal(d2, 5); /* every second segment without it */
    assert_int_equal(a2, 0);
    assert_int_equal(n1, 10 * SEG);
    assert_int_equal(n2, 10 * SEG);
    assert_memory_equal(g1, g2, n1);
}

/* A sends four segments of fill; B takes them in a batch it leaves open:
 * nothing answered yet. */
static env *four_in_open_batch(int fill)
{
    env *e = setup_env(0, 1);
    uint8_t data[4 * SEG];
    memset(data, fill, sizeof(data));
    assert_int_equal(synack_send(e->a, e->cs, data, sizeof(data), e->now),
                     (ssize_t)sizeof(data));
    synack_stack_batch_begin(e->b);
    for (size_t i = 0; i < e->ab.n; i++)
        synack_stack_input(e->b, e->ab.buf[i], e->ab.len[i], e->now);
    e->ab.n = 0;
    assert_int_equal(e->ba.n, 0);
    return e;
}

/* A batch never ended: the delayed-ACK timer still sends the ACK, and the
 * next batch's end has nothing left to send. */
static void test_batch_left_open(void **state)
{
    (void)state;
    env *e = four_in_open_batch('o');
    synack_time_t d = synack_stack_next_deadline(e->b);
    assert_true(d > e->now && d <= e->now + SYNACK_SEC);
    e->now = d;
    synack_stack_advance(e->b, e->now);
    assert_int_equal(e->ba.n, 1); /* the delayed ACK */
    synack_stack_batch_end(e->b, e->now);
    assert_int_equal(e->ba.n, 1);
    deliver(e, e->a, &e->ba, 0);
    synack_conn_info ci;
    assert_int_equal(synack_conn_get(e->a, e->cs, &ci), 0);
    assert_int_equal(ci.send_q, 0);
    check_ok(e->a);
    check_ok(e->b);
    free_env(e);
}

/* A hole in the batch: the out-of-order segments are ACKed at once
 * (duplicate ACKs), not held back. */
static void test_batch_ooo_acks_at_once(void **state)
{
    (void)state;
    env *e = setup_env(0, 1);
    uint8_t data[6 * SEG];
    memset(data, 'q', sizeof(data));
    e->drop_next = 1;
    assert_int_equal(synack_send(e->a, e->cs, data, sizeof(data), e->now),
                     (ssize_t)sizeof(data));
    assert_int_equal(e->ab.n, 5);
    synack_stack_batch_begin(e->b);
    for (size_t i = 0; i < e->ab.n; i++)
        synack_stack_input(e->b, e->ab.buf[i], e->ab.len[i], e->now);
    size_t during = e->ba.n;
    synack_stack_batch_end(e->b, e->now);
    assert_int_equal(during, 5); /* one duplicate ACK per segment */
    assert_int_equal(e->ba.n, 5); /* and none held back */
    for (size_t i = 0; i < during; i++)
        assert_int_equal(ack_of(e->ba.buf[i], e->ba.len[i]),
                         ack_of(e->ba.buf[0], e->ba.len[0]));
    check_ok(e->b);
    free_env(e);
}

/* A batch whose ACK is overtaken by a segment B sends (data back): the
 * batch's end sends nothing more. */
static void test_batch_ack_carried_by_data(void **state)
{
    (void)state;
    env *e = four_in_open_batch('z');
    assert_int_equal(synack_send(e->b, e->ss, "reply", 5, e->now), 5);
    assert_int_equal(e->ba.n, 1); /* the reply carries the ACK */
    synack_stack_batch_end(e->b, e->now);
    assert_int_equal(e->ba.n, 1);
    check_ok(e->b);
    deliver(e, e->a, &e->ba, 0);
    synack_conn_info ci;
    assert_int_equal(synack_conn_get(e->a, e->cs, &ci), 0);
    assert_int_equal(ci.send_q, 0); /* all of it acknowledged */
    free_env(e);
}

/* The frames built in place equal those output() gets, byte for byte,
 * through the handshake and a transfer both ways. */
static void test_txbuf_same_frames(void **state)
{
    (void)state;
    fq *f1 = malloc(sizeof(fq)), *f2 = malloc(sizeof(fq));
    assert_non_null(f1);
    assert_non_null(f2);
    for (int mode = 0; mode < 2; mode++) {
        env *e = setup_env(mode, 1);
        uint8_t data[7 * SEG];
        for (size_t i = 0; i < sizeof(data); i++)
            data[i] = (uint8_t)(i * 13);
        assert_int_equal(synack_send(e->a, e->cs, data, sizeof(data), e->now),
                         (ssize_t)sizeof(data));
        fq *keep = mode ? f2 : f1;
        memcpy(keep, &e->ab, sizeof(fq));
        deliver(e, e->b, &e->ab, 0);
        uint8_t got[sizeof(data)];
        assert_int_equal(synack_recv(e->b, e->ss, got, sizeof(got), e->now),
                         (ssize_t)sizeof(data));
        assert_memory_equal(got, data, sizeof(data));
        check_ok(e->a);
        check_ok(e->b);
        free_env(e);
    }
    assert_int_equal(f1->n, f2->n);
    for (size_t i = 0; i < f1->n; i++) {
        assert_int_equal(f1->len[i], f2->len[i]);
        assert_memory_equal(f1->buf[i], f2->buf[i], f1->len[i]);
    }
    free(f1);
    free(f2);
}

/* No ARP entry: the SYN built in the device's buffer waits for ARP (copied
 * out first: the ARP request goes through output() into the same slot),
 * and goes out intact once the reply comes. */
static void test_txbuf_arp_wait(void **state)
{
    (void)state;
    env *e = calloc(1, sizeof(*e));
    assert_non_null(e);
    e->txbuf = 1;
    e->now = SYNACK_SEC;
    e->a = mk(e, IP_A, MAC_A, 1);
    e->b = mk(e, IP_B, MAC_B, 0);
    e->ls = synack_socket(e->b);
    synack_addr la = {IP_B, PORT};
    assert_int_equal(synack_bind(e->b, e->ls, &la), 0);
    assert_int_equal(synack_listen(e->b, e->ls, 8), 0);
    e->cs = synack_socket(e->a);
    assert_int_equal(synack_connect(e->a, e->cs, &la, e->now),
                     -SYNACK_EINPROGRESS);
    assert_int_equal(e->ab.n, 1); /* the ARP request only */
    assert_int_equal(e->ab.buf[0][12], 0x08);
    assert_int_equal(e->ab.buf[0][13], 0x06);
    for (int i = 0; i < 8 && (e->ab.n || e->ba.n); i++) {
        deliver(e, e->b, &e->ab, 0);
        deliver(e, e->a, &e->ba, 0);
    }
    e->ss = synack_accept(e->b, e->ls, NULL);
    assert_true(e->ss >= 0); /* the SYN arrived intact */
    assert_int_equal(synack_send(e->a, e->cs, "hello", 5, e->now), 5);
    deliver(e, e->b, &e->ab, 0);
    char got[8];
    assert_int_equal(synack_recv(e->b, e->ss, got, sizeof(got), e->now), 5);
    assert_memory_equal(got, "hello", 5);
    check_ok(e->a);
    free_env(e);
}

static void test_txbuf_needs_commit(void **state)
{
    (void)state;
    env e;
    memset(&e, 0, sizeof(e));
    synack_stack_config c;
    synack_stack_config_init(&c);
    c.ip = IP_A;
    c.prefix_len = 24;
    c.output = out_a;
    c.output_ctx = &e;
    c.tx_buffer = txb_a;
    synack_stack *st = NULL;
    assert_int_equal(synack_stack_new(&c, &st), -SYNACK_EINVAL);
    c.tx_buffer = NULL;
    c.tx_commit = txc_a;
    assert_int_equal(synack_stack_new(&c, &st), -SYNACK_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_one_ack),
        cmocka_unit_test(test_batch_ooo_acks_at_once),
        cmocka_unit_test(test_batch_left_open),
        cmocka_unit_test(test_batch_ack_carried_by_data),
        cmocka_unit_test(test_txbuf_same_frames),
        cmocka_unit_test(test_txbuf_arp_wait),
        cmocka_unit_test(test_txbuf_needs_commit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
