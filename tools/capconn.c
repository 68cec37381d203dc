/*
 * Grouping a capture's segments into connections (capconn.h).
 */
#include "capconn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SILENT_NS (120ull * 1000000000ull) /* a 4-tuple silent this long may be reused */

/* Per-connection bookkeeping while loading. */
struct track {
    size_t cap;
    uint64_t last_ns;
    uint8_t fin[2], rst, syn_seen;
    uint32_t syn_isn; /* ISN of the SYN (without ACK) that opened it */
};

struct loader {
    struct capconns *out;
    struct track *tr;
    size_t cap;
    size_t *slots; /* hash: index + 1 of the newest connection, 0 = empty */
    size_t nslots;
};

static int same_ep(synack_addr x, synack_addr y)
{
    return x.ip == y.ip && x.port == y.port;
}

static uint64_t key_hash(synack_addr x, synack_addr y)
{
    /* symmetric: the same for both directions */
    uint64_t a = (uint64_t)x.ip << 16 | x.port;
    uint64_t b = (uint64_t)y.ip << 16 | y.port;
    uint64_t h = (a ^ b) * 0x9e3779b97f4a7c15ull + (a + b);
    return h ^ (h >> 29);
}

static int matches(const struct capconn *c, const synack_seg *s)
{
    return (same_ep(c->ep[0], s->src) && same_ep(c->ep[1], s->dst)) ||
           (same_ep(c->ep[1], s->src) && same_ep(c->ep[0], s->dst));
}

static int rehash(struct loader *L)
{
    size_t n = L->nslots ? L->nslots * 2 : 1024;
    size_t *s = calloc(n, sizeof *s);
    if (!s)
        return -1;
    for (size_t i = 0; i < L->out->n; i++) {
        const struct capconn *c = &L->out->conns[i];
        size_t h = (size_t)key_hash(c->ep[0], c->ep[1]) & (n - 1);
        while (s[h] && !matches(&L->out->conns[s[h] - 1],
                                &(synack_seg){.src = c->ep[0],
                                              .dst = c->ep[1]}))
            h = (h + 1) & (n - 1);
        s[h] = i + 1; /* later connections of a 4-tuple overwrite */
    }
    free(L->slots);
    L->slots = s;
    L->nslots = n;
    return 0;
}

static size_t *slot_of(struct loader *L, const synack_seg *s)
{
    size_t h = (size_t)key_hash(s->src, s->dst) & (L->nslots - 1);
    while (L->slots[h] && !matches(&L->out->conns[L->slots[h] - 1], s))
        h = (h + 1) & (L->nslots - 1);
    return &L->slots[h];
}

static int ended(const struct track *t)
{
    return t->rst || (t->fin[0] && t->fin[1]);
}

static int new_conn(struct loader *L, const struct cap_pkt *p)
{
    struct capconns *o = L->out;
    if (o->n == L->cap) {
        size_t nc = L->cap ? L->cap * 2 : 64;
        struct capconn *c = realloc(o->conns, nc * sizeof *c);
        if (!c)
            return -1;
        o->conns = c;
        struct track *t = realloc(L->tr, nc * sizeof *t);
        if (!t)
            return -1;
        L->tr = t;
        L->cap = nc;
    }
    if ((o->n + 1) * 2 > L->nslots && rehash(L) < 0)
        return -1;
    struct capconn *c = &o->conns[o->n];
    memset(c, 0, sizeof *c);
    memset(&L->tr[o->n], 0, sizeof L->tr[o->n]);
    c->id = (unsigned)(o->n + 1);
    const synack_seg *s = &p->seg;
    int synack = (s->flags & SYNACK_TH_SYN) && (s->flags & SYNACK_TH_ACK);
    /* A is the client: the sender of a SYN, the receiver of a SYN,ACK,
     * else whoever spoke first */
    c->ep[0] = synack ? s->dst : s->src;
    c->ep[1] = synack ? s->src : s->dst;
    c->a_is_client = (s->flags & SYNACK_TH_SYN) != 0;
    o->n++;
    return 0;
}

static int add(struct loader *L, const struct cap_pkt *p)
{
    const synack_seg *s = &p->seg;
    int pure_syn = (s->flags & (SYNACK_TH_SYN | SYNACK_TH_ACK)) == SYNACK_TH_SYN;
    size_t *slot = L->nslots ? slot_of(L, s) : NULL;
    size_t idx;
    if (slot && *slot) {
        idx = *slot - 1;
        struct track *t = &L->tr[idx];
        int stale = p->t_ns > t->last_ns + SILENT_NS;
        if (pure_syn && (!t->syn_seen || s->seq != t->syn_isn) &&
            (ended(t) || stale)) {
            if (new_conn(L, p) < 0)
                return -1;
            idx = L->out->n - 1;
            *slot_of(L, s) = idx + 1;
        }
    } else {
        if (new_conn(L, p) < 0)
            return -1;
        idx = L->out->n - 1;
        *slot_of(L, s) = idx + 1;
    }
    struct capconn *c = &L->out->conns[idx];
    struct track *t = &L->tr[idx];
    if (c->nsegs == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 16;
        struct capconn_seg *g = realloc(c->segs, nc * sizeof *g);
        if (!g)
            return -1;
        c->segs = g;
        t->cap = nc;
    }
    struct capconn_seg *g = &c->segs[c->nsegs++];
    g->p = *p;
    g->p.payload = NULL;
    g->p.payload_caplen = 0;
    g->from = same_ep(s->src, c->ep[0]) ? 0 : 1;
    t->last_ns = p->t_ns;
    if (pure_syn && !t->syn_seen) {
        t->syn_seen = 1;
        t->syn_isn = s->seq;
    }
    if (s->flags & SYNACK_TH_FIN)
        t->fin[g->from] = 1;
    if (s->flags & SYNACK_TH_RST)
        t->rst = 1;
    return 0;
}

int capconn_load(const char *path, struct capconns *out, char *err,
                 size_t errlen)
{
    return capconn_load_ex(path, NULL, 0, NULL, out, err, errlen);
}

int capconn_load_ex(const char *path, const char *filter, int keep_damaged,
                    int *damaged, struct capconns *out, char *err,
                    size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (damaged)
        *damaged = 0;
    capread *r = capread_open(path, err, errlen);
    if (!r)
        return -1;
    if (filter && capread_set_filter(r, filter, err, errlen) != 0) {
        capread_close(r);
        return -1;
    }
    snprintf(out->linktype, sizeof out->linktype, "%s", capread_linktype(r));
    struct loader L = {.out = out};
    struct cap_pkt p;
    int rc, ret = 0;
    while ((rc = capread_next(r, &p, err, errlen)) == 1) {
        if (add(&L, &p) < 0) {
            snprintf(err, errlen, "%s: out of memory after packet %lu", path,
                     p.n);
            ret = -1;
            break;
        }
    }
    if (rc < 0 && ret == 0) {
        if (keep_damaged) {
            if (damaged)
                *damaged = 1;
        } else {
            ret = -1;
        }
    }
    out->packets = capread_packets(r);
    out->skipped_ipv6 = capread_skipped_ipv6(r);
    out->skipped_other = capread_skipped_other(r);
    capread_close(r);
    free(L.tr);
    free(L.slots);
    if (ret < 0)
        capconn_free(out);
    return ret;
}

void capconn_free(struct capconns *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->conns[i].segs);
    free(c->conns);
    memset(c, 0, sizeof *c);
}
