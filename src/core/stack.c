/*
 * The stack: lifecycle, Ethernet demux, ARP cache, IPv4 in/out, ICMP echo.
 */
#include <string.h>

#include "core.h"

/* Under AddressSanitizer a cached block is poisoned (all but the link to
 * the next one), so that a use after release is still caught. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define CACHE_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define CACHE_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define CACHE_POISON(p, n) ((void)(p), (void)(n))
#define CACHE_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define ARP_REACHABLE (60 * SYNACK_SEC)
#define ARP_RETRY SYNACK_SEC
#define ARP_MAX_TRIES 3
#define IP_TTL 64

static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* Give every cached block back to the allocator. */
void stack_mem_trim(synack_stack *st)
{
    for (int i = 0; i < MCACHE_SIZES; i++) {
        struct mcache *c = &st->mcache[i];
        while (c->head) {
            void *p = c->head;
            memcpy(&c->head, p, sizeof(void *));
            CACHE_UNPOISON(p, c->size);
            st->cfg.mem_release(st->cfg.mem_ctx, p, c->size);
            st->stats.mem_cached -= c->size;
        }
    }
}

void *stack_mem_get(synack_stack *st, size_t size)
{
    for (int i = 0; i < MCACHE_SIZES; i++) {
        struct mcache *c = &st->mcache[i];
        if (c->size == size && c->head) {
            void *p = c->head;
            memcpy(&c->head, p, sizeof(void *));
            CACHE_UNPOISON(p, size);
            st->stats.mem_cached -= size;
            st->stats.mem_used += size;
            if (st->stats.mem_used > st->stats.mem_peak)
                st->stats.mem_peak = st->stats.mem_used;
            return p;
        }
    }
    if (st->stats.mem_used + size > st->cfg.mem_limit)
        return NULL;
    if (st->stats.mem_used + st->stats.mem_cached + size > st->cfg.mem_limit)
        stack_mem_trim(st);
    void *p = st->cfg.mem_alloc(st->cfg.mem_ctx, size);
    if (!p)
        return NULL;
    st->stats.mem_used += size;
    if (st->stats.mem_used > st->stats.mem_peak)
        st->stats.mem_peak = st->stats.mem_used;
    return p;
}

/* Keep the block for the next stack_mem_get of the same size when there
 * is room in the cache (a slot for its size, mcache_max bytes in all). */
void stack_mem_put(synack_stack *st, void *p, size_t size)
{
    if (!p)
        return;
    st->stats.mem_used -= size;
    if (size >= sizeof(void *) &&
        st->stats.mem_cached + size <= st->mcache_max) {
        struct mcache *slot = NULL;
        for (int i = 0; i < MCACHE_SIZES; i++) {
            struct mcache *c = &st->mcache[i];
            if (c->size == size) {
                slot = c;
                break;
            }
            if (!slot && !c->head)
                slot = c;
        }
        if (slot) {
            slot->size = size;
            memcpy(p, &slot->head, sizeof(void *));
            CACHE_POISON((uint8_t *)p + sizeof(void *), size - sizeof(void *));
            slot->head = p;
            st->stats.mem_cached += size;
            return;
        }
    }
    st->cfg.mem_release(st->cfg.mem_ctx, p, size);
}

/* The stack's clock never goes back: a caller whose clock steps backwards
 * (a wall clock, a bug) would otherwise make every "now - then" underflow
 * into a huge interval and fire keepalive, persist and user timeouts at
 * once. Every entry point takes its time through here. */
synack_time_t stack_clock(synack_stack *st, synack_time_t now)
{
    if (now > st->now)
        st->now = now;
    return st->now;
}

uint64_t stack_rand(synack_stack *st)
{
    /* splitmix64: small, seedable, good enough for ports and jitter */
    uint64_t z = (st->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint32_t hash_size_for(uint32_t n)
{
    uint32_t s = 64;
    while (s < n && s < (1u << 24))
        s <<= 1;
    return s;
}

int synack_stack_new(const synack_stack_config *cfg, synack_stack **out)
{
    if (!cfg || !out || !cfg->mem_alloc || !cfg->mem_release)
        return -SYNACK_EINVAL;
    if (cfg->mtu < 576 || cfg->gso_max > MAX_IP_PACKET ||
        cfg->prefix_len > 32 || cfg->max_sockets == 0 || cfg->ip == 0 ||
        !cfg->tx_buffer != !cfg->tx_commit)
        return -SYNACK_EINVAL;
    synack_stack *st = cfg->mem_alloc(cfg->mem_ctx, sizeof(*st));
    if (!st)
        return -SYNACK_ENOMEM;
    memset(st, 0, sizeof(*st));
    st->cfg = *cfg;
    tunables_default(&st->tun);
    st->rng = cfg->seed ^ 0x5eedc0ffee123457ULL;
    st->next_id = 1;
    st->next_port = (uint32_t)stack_rand(st);
    st->chal_window = SYNACK_TIME_NEVER; /* first challenge ACK: new budget */
    st->arp_next = SYNACK_TIME_NEVER;
    st->mcache_max = cfg->mem_limit / 16 < MCACHE_MAX ? cfg->mem_limit / 16
                                                      : MCACHE_MAX;
    st->nhandles = cfg->max_sockets;
    uint32_t hs = hash_size_for(cfg->max_sockets);
    st->hash_mask = hs - 1;
    size_t hsz = sizeof(tcb *) * st->nhandles;
    st->handles = stack_mem_get(st, hsz);
    st->hash = stack_mem_get(st, sizeof(tcb *) * hs);
    uint32_t ipmax = cfg->gso_max > cfg->mtu ? cfg->gso_max : cfg->mtu;
    st->txcap = WIRE_ETH_HLEN + ipmax;
    /* Frames waiting for ARP: up to a jumbo frame each; longer ones are
     * dropped (TCP sends them again) rather than holding 16 x 64 KiB. */
    st->pend_cap = st->txcap < MAX_FRAME ? st->txcap : MAX_FRAME;
    st->txbuf = st->txown = stack_mem_get(st, st->txcap);
    bool ok = st->handles && st->hash && st->txbuf;
    for (int i = 0; ok && i < ARP_PENDING_MAX; i++) {
        st->pend[i].frame = stack_mem_get(st, st->pend_cap);
        ok = st->pend[i].frame != NULL;
    }
    if (!ok) {
        synack_stack_del(st);
        return -SYNACK_ENOMEM;
    }
    memset(st->handles, 0, hsz);
    memset(st->hash, 0, sizeof(tcb *) * hs);
    if (tcp_tables_init(st) < 0) {
        synack_stack_del(st);
        return -SYNACK_ENOMEM;
    }
    st->mem_fixed = st->stats.mem_used;
    *out = st;
    return 0;
}

void synack_stack_del(synack_stack *st)
{
    if (!st)
        return;
    while (st->conns)
        tcb_free(st, st->conns);
    tcp_tables_free(st);
    stack_mem_put(st, st->handles, sizeof(tcb *) * st->nhandles);
    stack_mem_put(st, st->hash, sizeof(tcb *) * (st->hash_mask + 1));
    stack_mem_put(st, st->txown, st->txcap);
    for (int i = 0; i < ARP_PENDING_MAX; i++)
        stack_mem_put(st, st->pend[i].frame, st->pend_cap);
    stack_mem_trim(st);
    st->cfg.mem_release(st->cfg.mem_ctx, st, sizeof(*st));
}

void synack_stack_set_output(synack_stack *st,
                             void (*output)(void *, const uint8_t *, size_t,
                                            synack_time_t),
                             void *ctx)
{
    st->cfg.output = output;
    st->cfg.output_ctx = ctx;
    st->cfg.tx_buffer = NULL;
    st->cfg.tx_commit = NULL;
}

void synack_set_trace(synack_stack *st,
                      void (*cb)(void *ctx, const synack_trace_event *ev),
                      void *ctx)
{
    st->trace = cb;
    st->trace_ctx = ctx;
}

void synack_set_event_cb(synack_stack *st,
                         void (*cb)(void *ctx, int s, unsigned events),
                         void *ctx)
{
    st->event_cb = cb;
    st->event_ctx = ctx;
}

void synack_stack_get_stats(const synack_stack *st, synack_stack_stats *out)
{
    *out = st->stats;
}

size_t synack_stack_conn_count(const synack_stack *st)
{
    return st->nconns;
}

void stack_drop(synack_stack *st, int reason, tcb *tp, const synack_seg *seg,
                synack_time_t now)
{
    if (reason <= 0 || reason >= SYNACK__DROP_COUNT)
        return;
    st->stats.drops[reason]++;
    if (!st->trace)
        return;
    synack_trace_event ev;
    trace_event_init(&ev, SYNACK_TRACE_DROP, tp, now);
    ev.drop_reason = reason;
    ev.seg = seg;
    st->trace(st->trace_ctx, &ev);
}

static void emit(synack_stack *st, const uint8_t *frame, size_t len,
                 synack_time_t now)
{
    st->stats.frames_out++;
    if (frame == st->txbuf && frame != st->txown) { /* the device's own */
        uint8_t *buf = st->txbuf;
        st->txbuf = st->txown;
        st->cfg.tx_commit(st->cfg.output_ctx, buf, len, now);
        return;
    }
    if (st->cfg.output)
        st->cfg.output(st->cfg.output_ctx, frame, len, now);
}

void stack_tx_begin(synack_stack *st)
{
    if (st->cfg.tx_buffer) {
        uint8_t *b = st->cfg.tx_buffer(st->cfg.output_ctx, st->txcap);
        if (b)
            st->txbuf = b;
    }
}

void stack_tx_end(synack_stack *st)
{
    st->txbuf = st->txown;
}

/* Anything but a straight emit of the frame being built (an ARP request
 * first, a copy into the ARP queue) works on our own scratch: the device
 * may hand out the same memory for the ARP frame. */
static void tx_to_own(synack_stack *st, size_t len)
{
    if (st->txbuf != st->txown) {
        memcpy(st->txown, st->txbuf, len);
        st->txbuf = st->txown;
    }
}

/* ---- ARP ---------------------------------------------------------------- */

static arp_entry *arp_find(synack_stack *st, uint32_t ip)
{
    for (int i = 0; i < ARP_TABLE_SIZE; i++)
        if (st->arp[i].state != ARP_FREE && st->arp[i].ip == ip)
            return &st->arp[i];
    return NULL;
}

static arp_entry *arp_slot(synack_stack *st, uint32_t ip)
{
    arp_entry *e = arp_find(st, ip);
    if (e)
        return e;
    arp_entry *victim = NULL;
    for (int i = 0; i < ARP_TABLE_SIZE; i++) {
        arp_entry *c = &st->arp[i];
        if (c->state == ARP_FREE) {
            victim = c;
            break;
        }
        if (c->state == ARP_VALID &&
            (!victim || c->expires < victim->expires))
            victim = c;
    }
    if (!victim)
        return NULL;
    memset(victim, 0, sizeof(*victim));
    victim->ip = ip;
    return victim;
}

static void arp_send(synack_stack *st, uint16_t op, const uint8_t *dmac,
                     const uint8_t *tha, uint32_t tpa, synack_time_t now)
{
    uint8_t f[WIRE_ETH_HLEN + WIRE_ARP_LEN + 18];
    wire_eth eh;
    memcpy(eh.dst, dmac, 6);
    memcpy(eh.src, st->cfg.mac, 6);
    eh.type = WIRE_ETHERTYPE_ARP;
    size_t n = wire_eth_emit(f, &eh);
    wire_arp ah = {.op = op, .spa = st->cfg.ip, .tpa = tpa};
    memcpy(ah.sha, st->cfg.mac, 6);
    memcpy(ah.tha, tha, 6);
    n += wire_arp_emit(f + n, &ah);
    memset(f + n, 0, sizeof(f) - n); /* pad to the 60-byte minimum */
    st->stats.arp_out++;
    emit(st, f, sizeof(f), now);
}

static void arp_request(synack_stack *st, arp_entry *e, synack_time_t now)
{
    static const uint8_t zero[6] = {0};
    e->tries++;
    e->next_req = now + ARP_RETRY;
    if (e->next_req < st->arp_next)
        st->arp_next = e->next_req;
    arp_send(st, 1, bcast_mac, zero, e->ip, now);
}

static void arp_flush_pending(synack_stack *st, arp_entry *e,
                              synack_time_t now)
{
    for (int i = 0; i < ARP_PENDING_MAX; i++) {
        arp_pending *p = &st->pend[i];
        if (!p->used || p->nexthop != e->ip)
            continue;
        memcpy(p->frame, e->mac, 6);
        p->used = false;
        emit(st, p->frame, p->len, now);
    }
}

static void arp_drop_pending(synack_stack *st, uint32_t ip, synack_time_t now)
{
    bool dropped = false;
    for (int i = 0; i < ARP_PENDING_MAX; i++) {
        if (st->pend[i].used && st->pend[i].nexthop == ip) {
            st->pend[i].used = false;
            dropped = true;
            stack_drop(st, SYNACK_DROP_ARP_UNRESOLVED, NULL, NULL, now);
        }
    }
    if (dropped)
        tcp_neighbour_failed(st, ip, now);
}

static void arp_learn(synack_stack *st, arp_entry *e, const uint8_t *mac,
                      synack_time_t now)
{
    if (e->state == ARP_STATIC)
        return;
    memcpy(e->mac, mac, 6);
    e->state = ARP_VALID;
    e->tries = 0;
    e->expires = now + ARP_REACHABLE;
    e->next_req = SYNACK_TIME_NEVER;
    arp_flush_pending(st, e, now);
}

void arp_input(synack_stack *st, const uint8_t *p, size_t len,
               synack_time_t now)
{
    wire_arp a;
    int r = wire_arp_parse(p, len, &a);
    if (r < 0) {
        stack_drop(st, -r, NULL, NULL, now);
        return;
    }
    st->stats.arp_in++;
    /* RFC 826: update an existing entry for the sender in any case; add one
     * only when the packet is for us. */
    arp_entry *e = arp_find(st, a.spa);
    bool for_us = a.tpa == st->cfg.ip;
    if (!e && for_us && a.spa != 0)
        e = arp_slot(st, a.spa);
    if (e)
        arp_learn(st, e, a.sha, now);
    if (!for_us) {
        stack_drop(st, SYNACK_DROP_ARP_NOT_FOR_US, NULL, NULL, now);
        return;
    }
    if (a.op == 1)
        arp_send(st, 2, a.sha, a.sha, a.spa, now);
}

int synack_arp_add(synack_stack *st, uint32_t ip, const uint8_t mac[6],
                   synack_time_t now)
{
    now = stack_clock(st, now);
    arp_entry *e = arp_slot(st, ip);
    if (!e)
        return -SYNACK_ENOBUFS;
    e->state = ARP_VALID;
    arp_learn(st, e, mac, now);
    e->state = ARP_STATIC;
    e->expires = SYNACK_TIME_NEVER;
    return 0;
}

void arp_negative_advice(synack_stack *st, uint32_t ip)
{
    arp_entry *e = arp_find(st, ip);
    if (e && e->state == ARP_VALID)
        e->expires = st->now; /* re-confirm at the next use */
}

/* st->arp_next is at or before every pending request's next_req (only
 * arp_request makes one pending, and it lowers arp_next), so before it
 * nothing is due and the table need not be scanned; a scan makes it exact
 * again. */
void arp_timers(synack_stack *st, synack_time_t now)
{
    if (now < st->arp_next)
        return;
    for (int i = 0; i < ARP_TABLE_SIZE; i++) {
        arp_entry *e = &st->arp[i];
        if (e->state != ARP_INCOMPLETE && e->state != ARP_VALID)
            continue;
        if (e->next_req > now)
            continue;
        if (e->tries >= ARP_MAX_TRIES) {
            arp_drop_pending(st, e->ip, now);
            e->state = ARP_FREE;
            continue;
        }
        arp_request(st, e, now);
    }
    st->arp_next = arp_deadline(st);
}

synack_time_t arp_deadline(const synack_stack *st)
{
    if (st->arp_next == SYNACK_TIME_NEVER)
        return SYNACK_TIME_NEVER; /* no request pending: nothing to scan */
    synack_time_t d = SYNACK_TIME_NEVER;
    for (int i = 0; i < ARP_TABLE_SIZE; i++) {
        const arp_entry *e = &st->arp[i];
        if ((e->state == ARP_INCOMPLETE || e->state == ARP_VALID) &&
            e->next_req < d)
            d = e->next_req;
    }
    return d;
}

static void arp_queue(synack_stack *st, arp_entry *e, size_t len,
                      synack_time_t now)
{
    for (int i = 0; len <= st->pend_cap && i < ARP_PENDING_MAX; i++) {
        arp_pending *p = &st->pend[i];
        if (p->used)
            continue;
        p->used = true;
        p->nexthop = e->ip;
        p->len = (uint32_t)len;
        memcpy(p->frame, st->txbuf, len);
        return;
    }
    stack_drop(st, SYNACK_DROP_ARP_QUEUE_FULL, NULL, NULL, now);
}

/* Hand a complete frame in st->txbuf (destination MAC still to fill) to the
 * link, resolving the next hop first. */
static int link_output(synack_stack *st, uint32_t nexthop, size_t len,
                       synack_time_t now)
{
    arp_entry *e = arp_find(st, nexthop);
    if (e && (e->state == ARP_VALID || e->state == ARP_STATIC)) {
        if (e->state == ARP_VALID && now >= e->expires &&
            e->next_req == SYNACK_TIME_NEVER) {
            /* stale: keep using it, but ask again; drop it if unanswered */
            tx_to_own(st, len);
            e->tries = 0;
            arp_request(st, e, now);
        }
        memcpy(st->txbuf, e->mac, 6);
        emit(st, st->txbuf, len, now);
        return 0;
    }
    tx_to_own(st, len);
    if (!e) {
        e = arp_slot(st, nexthop);
        if (!e) {
            stack_drop(st, SYNACK_DROP_ARP_QUEUE_FULL, NULL, NULL, now);
            return -SYNACK_ENOBUFS;
        }
        e->state = ARP_INCOMPLETE;
        arp_request(st, e, now);
    }
    arp_queue(st, e, len, now);
    return 0;
}

/* ---- IPv4 -------------------------------------------------------------- */

bool stack_on_link(const synack_stack *st, uint32_t ip)
{
    uint32_t mask = st->cfg.prefix_len ? ~0u << (32 - st->cfg.prefix_len) : 0;
    return (ip & mask) == (st->cfg.ip & mask);
}

static bool bad_source(const synack_stack *st, uint32_t ip)
{
    uint32_t mask = st->cfg.prefix_len ? ~0u << (32 - st->cfg.prefix_len) : 0;
    if (ip == 0xffffffffu || (ip >> 28) == 0xe || ip == st->cfg.ip)
        return true;
    /* the subnet's directed broadcast */
    return st->cfg.prefix_len < 31 && (ip | mask) == 0xffffffffu &&
           stack_on_link(st, ip);
}

int ip_output(synack_stack *st, uint32_t dst, uint8_t proto, size_t l4len,
              synack_time_t now)
{
    uint32_t nexthop = dst;
    if (!stack_on_link(st, dst)) {
        if (!st->cfg.gateway) {
            stack_drop(st, SYNACK_DROP_IP_NO_ROUTE, NULL, NULL, now);
            return -SYNACK_ENETUNREACH;
        }
        nexthop = st->cfg.gateway;
    }
    wire_ipv4 ih = {
        .hlen = WIRE_IPV4_HLEN,
        .total_len = (uint16_t)(WIRE_IPV4_HLEN + l4len),
        .id = st->ip_id++,
        .frag = WIRE_IP_DF,
        .ttl = IP_TTL,
        .proto = proto,
        .src = st->cfg.ip,
        .dst = dst,
    };
    wire_ipv4_emit(st->txbuf + WIRE_ETH_HLEN, &ih);
    wire_eth eh = {.type = WIRE_ETHERTYPE_IPV4};
    memcpy(eh.src, st->cfg.mac, 6);
    wire_eth_emit(st->txbuf, &eh);
    size_t len = L4_OFF + l4len;
    if (len < 60) { /* Ethernet minimum frame (without FCS) */
        memset(st->txbuf + len, 0, 60 - len);
        len = 60;
    }
    st->stats.ip_out++;
    return link_output(st, nexthop, len, now);
}

static void icmp_input(synack_stack *st, const wire_ipv4 *ip, const uint8_t *p,
                       size_t len, synack_time_t now)
{
    wire_icmp_echo h;
    int r = wire_icmp_parse(p, len, &h);
    if (r < 0) {
        stack_drop(st, -r, NULL, NULL, now);
        return;
    }
    st->stats.icmp_in++;
    if (h.type != 8) {
        stack_drop(st, SYNACK_DROP_ICMP_UNHANDLED, NULL, NULL, now);
        return;
    }
    if (L4_OFF + len > st->txcap || WIRE_IPV4_HLEN + len > st->cfg.mtu) {
        stack_drop(st, SYNACK_DROP_ICMP_TOO_BIG, NULL, NULL, now);
        return;
    }
    uint8_t *out = st->txbuf + L4_OFF;
    memmove(out + 8, p + 8, len - 8);
    wire_icmp_echo rep = {.type = 0, .code = 0, .id = h.id, .seq = h.seq};
    size_t n = wire_icmp_emit(out, &rep, len - 8);
    st->stats.icmp_out++;
    ip_output(st, ip->src, WIRE_IPPROTO_ICMP, n, now);
}

static void ipv4_input(synack_stack *st, const uint8_t *p, size_t len,
                       synack_time_t now)
{
    wire_ipv4 ih;
    int r = wire_ipv4_parse(p, len, &ih);
    if (r < 0) {
        stack_drop(st, -r, NULL, NULL, now);
        return;
    }
    st->stats.ip_in++;
    if (ih.dst != st->cfg.ip) {
        stack_drop(st, SYNACK_DROP_IP_NOT_FOR_US, NULL, NULL, now);
        return;
    }
    if (bad_source(st, ih.src)) {
        stack_drop(st, SYNACK_DROP_IP_BAD_SRC, NULL, NULL, now);
        return;
    }
    if ((ih.frag & (WIRE_IP_MF | WIRE_IP_OFFMASK)) != 0) {
        stack_drop(st, SYNACK_DROP_IP_FRAGMENT, NULL, NULL, now);
        return;
    }
    const uint8_t *l4 = p + ih.hlen;
    size_t l4len = (size_t)ih.total_len - ih.hlen;
    switch (ih.proto) {
    case WIRE_IPPROTO_TCP:
        tcp_input(st, &ih, l4, l4len, now);
        break;
    case WIRE_IPPROTO_ICMP:
        icmp_input(st, &ih, l4, l4len, now);
        break;
    default:
        stack_drop(st, SYNACK_DROP_IP_UNKNOWN_PROTO, NULL, NULL, now);
    }
}

int synack_stack_input(synack_stack *st, const uint8_t *frame, size_t len,
                       synack_time_t now)
{
    now = stack_clock(st, now);
    st->stats.frames_in++;
    wire_eth eh;
    int r = wire_eth_parse(frame, len, &eh);
    if (r < 0) {
        stack_drop(st, -r, NULL, NULL, now);
        return 0;
    }
    if (memcmp(eh.dst, st->cfg.mac, 6) != 0 &&
        memcmp(eh.dst, bcast_mac, 6) != 0) {
        stack_drop(st, SYNACK_DROP_ETH_NOT_FOR_US, NULL, NULL, now);
        return 0;
    }
    const uint8_t *p = frame + WIRE_ETH_HLEN;
    size_t n = len - WIRE_ETH_HLEN;
    switch (eh.type) {
    case WIRE_ETHERTYPE_ARP:
        arp_input(st, p, n, now);
        break;
    case WIRE_ETHERTYPE_IPV4:
        ipv4_input(st, p, n, now);
        break;
    default:
        stack_drop(st, SYNACK_DROP_ETH_UNKNOWN_TYPE, NULL, NULL, now);
    }
    return 0;
}

void synack_stack_batch_begin(synack_stack *st)
{
    st->batching = true;
}

void synack_stack_batch_end(synack_stack *st, synack_time_t now)
{
    now = stack_clock(st, now);
    st->batching = false;
    tcp_batch_flush(st, now);
}

void synack_stack_advance(synack_stack *st, synack_time_t now)
{
    now = stack_clock(st, now);
    arp_timers(st, now);
    tcp_timers(st, now);
}

synack_time_t synack_stack_next_deadline(const synack_stack *st)
{
    synack_time_t a = arp_deadline(st);
    synack_time_t t = tcp_deadline(st);
    return a < t ? a : t;
}
