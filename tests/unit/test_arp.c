/*
 * ARP (RFC 826) as the stack does it: requests for unresolved next hops,
 * a bounded queue of packets awaiting resolution flushed by the reply,
 * retries then discard, replies to requests for our address, and expiry
 * with a re-confirmation while the old entry keeps working.
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

#define LOCAL 0x0a000001u
#define PEER 0x0a000002u
#define GHOST 0x0a000003u /* never answers */

static const uint8_t local_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

typedef struct frame {
    uint8_t b[1600];
    size_t len;
    synack_time_t t;
} frame;

typedef struct env {
    synack_stack *st;
    synack_time_t now;
    frame out[256];
    size_t n;
} env;

static void capture(void *ctx, const uint8_t *f, size_t len, synack_time_t now)
{
    env *e = ctx;
    assert_true(e->n < 256);
    assert_true(len <= sizeof(e->out[0].b));
    memcpy(e->out[e->n].b, f, len);
    e->out[e->n].len = len;
    e->out[e->n].t = now;
    e->n++;
}

static env *setup_env(void)
{
    env *e = calloc(1, sizeof(*e));
    assert_non_null(e);
    synack_stack_config cfg;
    synack_stack_config_init(&cfg);
    memcpy(cfg.mac, local_mac, 6);
    cfg.ip = LOCAL;
    cfg.output = capture;
    cfg.output_ctx = e;
    assert_int_equal(synack_stack_new(&cfg, &e->st), 0);
    return e;
}

static void teardown_env(env *e)
{
    synack_stack_del(e->st);
    free(e);
}

static void run_until(env *e, synack_time_t t)
{
    for (;;) {
        synack_time_t d = synack_stack_next_deadline(e->st);
        if (d > t)
            break;
        if (d > e->now)
            e->now = d;
        synack_stack_advance(e->st, e->now);
    }
    e->now = t;
    synack_stack_advance(e->st, t);
}

/* Frame i parsed as ARP: returns 1 if it is one. */
static int as_arp(const frame *f, wire_eth *eh, wire_arp *ah)
{
    if (wire_eth_parse(f->b, f->len, eh) < 0 ||
        eh->type != WIRE_ETHERTYPE_ARP)
        return 0;
    assert_int_equal(wire_arp_parse(f->b + 14, f->len - 14, ah), 0);
    return 1;
}

static size_t count_requests(const env *e, uint32_t tpa, synack_time_t from,
                             synack_time_t to)
{
    size_t c = 0;
    for (size_t i = 0; i < e->n; i++) {
        wire_eth eh;
        wire_arp ah;
        if (e->out[i].t >= from && e->out[i].t < to &&
            as_arp(&e->out[i], &eh, &ah) && ah.op == 1 && ah.tpa == tpa)
            c++;
    }
    return c;
}

static void inject_arp(env *e, uint16_t op, const uint8_t *sha, uint32_t spa,
                       const uint8_t *dmac, uint32_t tpa)
{
    uint8_t f[60] = {0};
    wire_eth eh;
    memcpy(eh.dst, dmac, 6);
    memcpy(eh.src, sha, 6);
    eh.type = WIRE_ETHERTYPE_ARP;
    size_t n = wire_eth_emit(f, &eh);
    wire_arp ah = {.op = op, .spa = spa, .tpa = tpa};
    memcpy(ah.sha, sha, 6);
    if (op == 2)
        memcpy(ah.tha, local_mac, 6);
    wire_arp_emit(f + n, &ah);
    synack_stack_input(e->st, f, sizeof(f), e->now);
}

static int connect_to(env *e, uint32_t ip, uint16_t port)
{
    int s = synack_socket(e->st);
    assert_true(s >= 0);
    synack_addr a = {ip, port};
    assert_int_equal(synack_connect(e->st, s, &a, e->now),
                     -SYNACK_EINPROGRESS);
    return s;
}

static uint64_t drops(env *e, int reason)
{
    synack_stack_stats s;
    synack_stack_get_stats(e->st, &s);
    return s.drops[reason];
}

/* A SYN to an unresolved neighbour waits for ARP; the reply releases it. */
static void resolve_then_flush(void **state)
{
    (void)state;
    env *e = setup_env();
    connect_to(e, PEER, 80);
    assert_int_equal(e->n, 1); /* only the request, the SYN is held */
    wire_eth eh;
    wire_arp ah;
    assert_true(as_arp(&e->out[0], &eh, &ah));
    assert_memory_equal(eh.dst, bcast, 6);
    assert_memory_equal(eh.src, local_mac, 6);
    assert_int_equal(ah.op, 1);
    assert_int_equal(ah.spa, LOCAL);
    assert_int_equal(ah.tpa, PEER);
    assert_memory_equal(ah.sha, local_mac, 6);
    assert_int_equal(e->out[0].len, 60); /* padded to the Ethernet minimum */

    e->now = 3 * SYNACK_MSEC;
    inject_arp(e, 2, peer_mac, PEER, local_mac, LOCAL);
    assert_int_equal(e->n, 2);
    assert_true(wire_eth_parse(e->out[1].b, e->out[1].len, &eh) == 0);
    assert_int_equal(eh.type, WIRE_ETHERTYPE_IPV4);
    assert_memory_equal(eh.dst, peer_mac, 6);
    assert_int_equal(e->out[1].t, 3 * SYNACK_MSEC);
    /* resolved: no more requests */
    run_until(e, 500 * SYNACK_MSEC);
    assert_int_equal(count_requests(e, PEER, 0, e->now), 1);
    teardown_env(e);
}

/* Requests for our address are answered (and teach us the sender);
 * requests for another address are not, and are counted. */
static void answer_requests_for_us_only(void **state)
{
    (void)state;
    env *e = setup_env();
    inject_arp(e, 1, peer_mac, PEER, bcast, LOCAL);
    assert_int_equal(e->n, 1);
    wire_eth eh;
    wire_arp ah;
    assert_true(as_arp(&e->out[0], &eh, &ah));
    assert_int_equal(ah.op, 2);
    assert_memory_equal(eh.dst, peer_mac, 6);
    assert_memory_equal(ah.sha, local_mac, 6);
    assert_int_equal(ah.spa, LOCAL);
    assert_memory_equal(ah.tha, peer_mac, 6);
    assert_int_equal(ah.tpa, PEER);
    /* learned: a connect goes straight out, no request */
    connect_to(e, PEER, 80);
    assert_int_equal(e->n, 2);
    assert_int_equal(count_requests(e, PEER, 0, SYNACK_TIME_NEVER), 0);

    inject_arp(e, 1, peer_mac, PEER, bcast, GHOST);
    assert_int_equal(e->n, 2);
    assert_int_equal(drops(e, SYNACK_DROP_ARP_NOT_FOR_US), 1);
    teardown_env(e);
}

/* The queue holds 16 packets; the 17th is dropped and counted. After three
 * unanswered requests, one a second, the queued packets are discarded. */
static void bounded_queue_and_give_up(void **state)
{
    (void)state;
    env *e = setup_env();
    for (int i = 0; i < 17; i++)
        connect_to(e, GHOST, (uint16_t)(1000 + i));
    assert_int_equal(count_requests(e, GHOST, 0, 1), 1);
    assert_int_equal(e->n, 1); /* nothing but the one request */
    assert_int_equal(drops(e, SYNACK_DROP_ARP_QUEUE_FULL), 1);
    run_until(e, 3 * SYNACK_SEC - 1);
    assert_int_equal(count_requests(e, GHOST, 0, SYNACK_TIME_NEVER), 3);
    assert_int_equal(count_requests(e, GHOST, SYNACK_SEC, SYNACK_SEC + 1), 1);
    assert_int_equal(count_requests(e, GHOST, 2 * SYNACK_SEC,
                                    2 * SYNACK_SEC + 1),
                     1);
    assert_int_equal(drops(e, SYNACK_DROP_ARP_UNRESOLVED), 0);
    run_until(e, 3 * SYNACK_SEC);
    assert_true(drops(e, SYNACK_DROP_ARP_UNRESOLVED) >= 16);
    /* no IPv4 frame ever left for the unresolved neighbour */
    for (size_t i = 0; i < e->n; i++) {
        wire_eth eh;
        assert_int_equal(wire_eth_parse(e->out[i].b, e->out[i].len, &eh), 0);
        assert_int_equal(eh.type, WIRE_ETHERTYPE_ARP);
    }
    teardown_env(e);
}

/* An entry expires after 60 s: the next use still goes out to the known
 * address, and asks again; a reply keeps it, silence removes it. */
static void expiry_reconfirms(void **state)
{
    (void)state;
    env *e = setup_env();
    /* RFC 826: we are the target, so even an unsolicited reply teaches us
     * the sender's address */
    inject_arp(e, 2, peer_mac, PEER, local_mac, LOCAL);
    assert_int_equal(e->n, 0);
    int s1 = connect_to(e, PEER, 80);
    assert_int_equal(e->n, 1); /* the SYN, straight away */
    assert_int_equal(count_requests(e, PEER, 0, SYNACK_TIME_NEVER), 0);
    /* a mapping for an address that is not ours is not added */
    inject_arp(e, 2, peer_mac, GHOST, local_mac, PEER);
    int s2 = connect_to(e, GHOST, 80);
    assert_int_equal(count_requests(e, GHOST, 0, 1), 1);
    /* no retransmissions: tcp_retries1 would re-confirm the entry early */
    assert_int_equal(synack_abort(e->st, s1, e->now), 0);
    assert_int_equal(synack_abort(e->st, s2, e->now), 0);

    /* a second connection after the entry expired */
    run_until(e, 61 * SYNACK_SEC);
    size_t mark = e->n;
    connect_to(e, PEER, 81);
    size_t reqs = count_requests(e, PEER, 61 * SYNACK_SEC, 62 * SYNACK_SEC);
    assert_int_equal(reqs, 1);
    int ip_frames = 0;
    for (size_t i = mark; i < e->n; i++) {
        wire_eth eh;
        assert_int_equal(wire_eth_parse(e->out[i].b, e->out[i].len, &eh), 0);
        if (eh.type == WIRE_ETHERTYPE_IPV4) {
            assert_memory_equal(eh.dst, peer_mac, 6);
            ip_frames++;
        }
    }
    assert_int_equal(ip_frames, 1); /* sent at once, not queued */
    /* no answer: re-asked twice more, then forgotten */
    run_until(e, 64 * SYNACK_SEC);
    assert_int_equal(count_requests(e, PEER, 61 * SYNACK_SEC, 64 * SYNACK_SEC),
                     3);
    mark = e->n;
    connect_to(e, PEER, 82);
    assert_int_equal(count_requests(e, PEER, e->now, e->now + 1), 1);
    for (size_t i = mark; i < e->n; i++) {
        wire_eth eh;
        assert_int_equal(wire_eth_parse(e->out[i].b, e->out[i].len, &eh), 0);
        assert_int_equal(eh.type, WIRE_ETHERTYPE_ARP); /* queued again */
    }
    teardown_env(e);
}

/* A connect through a neighbour that never answers ARP: ARP's failure is
 * a soft error (as Linux): the SYN retries go on, re-resolving, and when
 * they run out the application is told EHOSTUNREACH, not ETIMEDOUT. */
static void unreachable_neighbour(void **state)
{
    (void)state;
    env *e = setup_env();
    assert_int_equal(synack_sysctl_set(e->st, "tcp_syn_retries", "2"), 0);
    int s = connect_to(e, GHOST, 80); /* SYN queued at 0, 1, 3 s */
    run_until(e, 7 * SYNACK_SEC - 1);
    synack_conn_info ci;
    assert_int_equal(synack_conn_get(e->st, s, &ci), 0);
    assert_int_equal(ci.state, SYNACK_SYN_SENT); /* ARP failed at 3 s */
    assert_true(count_requests(e, GHOST, 3 * SYNACK_SEC, SYNACK_TIME_NEVER) >
                0); /* and is asked again */
    run_until(e, 7 * SYNACK_SEC);
    assert_int_equal(synack_conn_get(e->st, s, &ci), 0);
    assert_int_equal(ci.state, SYNACK_CLOSED);
    assert_true(synack_poll(e->st, s) & SYNACK_POLLERR);
    char b[4];
    assert_int_equal(synack_recv(e->st, s, b, sizeof(b), e->now),
                     -SYNACK_EHOSTUNREACH);
    assert_int_equal(synack_close(e->st, s, e->now), 0);
    assert_int_equal(synack_stack_conn_count(e->st), 0);
    teardown_env(e);
}

/* tcp_retries1: after that many retransmissions the next one asks the
 * network layer to re-confirm the neighbour (Linux: negative advice) --
 * here an ARP request, while the frame still goes to the known address. */
static void retries1_reconfirms_neighbour(void **state)
{
    (void)state;
    env *e = setup_env();
    inject_arp(e, 2, peer_mac, PEER, local_mac, LOCAL);
    assert_int_equal(synack_sysctl_set(e->st, "tcp_retries1", "2"), 0);
    connect_to(e, PEER, 80); /* SYN at 0, retransmissions at 1, 3, 7 s */
    run_until(e, 7 * SYNACK_SEC - 1);
    assert_int_equal(count_requests(e, PEER, 0, SYNACK_TIME_NEVER), 0);
    run_until(e, 7 * SYNACK_SEC);
    assert_int_equal(count_requests(e, PEER, 7 * SYNACK_SEC,
                                    7 * SYNACK_SEC + 1),
                     1);
    teardown_env(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(resolve_then_flush),
        cmocka_unit_test(answer_requests_for_us_only),
        cmocka_unit_test(bounded_queue_and_give_up),
        cmocka_unit_test(expiry_reconfirms),
        cmocka_unit_test(retries1_reconfirms_neighbour),
        cmocka_unit_test(unreachable_neighbour),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
