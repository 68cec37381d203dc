/*
 * In-memory link: a learning switch between any number of ports, with
 * impairments decided by a PRNG seeded from the config so a run replays
 * exactly.
 *
 * A transmitted frame is copied once into a reference-counted buffer; every
 * destination port gets a pending entry (due time, enqueue sequence, buffer)
 * in its own min-heap ordered by (due, seq), so equal due times keep FIFO
 * order. Buffers of the common size are recycled through a freelist instead
 * of being malloc'd per frame.
 *
 * Per frame, in this order: global 1-based index, source MAC learning,
 * serialization at the sender (rate limit, queue limit), link down, loss
 * burst (running or starting), loss (pattern or random), delay + jitter,
 * reorder hold, corruption, duplication, forwarding. A frame over the MTU
 * is first cut into segments (TSO) or dropped; each segment then goes
 * through all of the above as a frame of its own.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <synack/dev.h>

#include "core/wire.h"

#define FRAME_STD_CAP 2048u /* pooled buffer size; any Ethernet frame fits */
#define FRAME_MAX (65535u + 14u) /* longest frame: a 64 KiB IP packet */
#define FREELIST_MAX 1024u  /* pooled buffers kept for reuse */
#define BIG_FREELIST_MAX 128u /* pooled FRAME_MAX buffers (8 MiB) */
#define FDB_MAX 1024u       /* learned MACs; beyond this, unknown = flood */
#define DUP_GAP SYNACK_USEC /* the duplicate trails the original by this */
#define REORDER_MIN SYNACK_MSEC

struct frame {
    struct frame *next_free;
    uint32_t refs, len, cap;
    uint8_t data[];
};

struct pending {
    synack_time_t due;
    uint64_t seq;
    struct frame *f;
};

struct port {
    synack_dev dev;    /* first, so a synack_dev * is a struct port * */
    synack_link *link; /* NULL once the link is gone */
    char name[24];
    /* Frames on their way to this port: min-heap on (due, seq). */
    struct pending *q;
    size_t qlen, qcap;
    /* Sender side: the serializer is busy until busy_until; wait[] holds
     * the start times of frames queued behind it (FIFO, only tracked when
     * a queue limit is set). */
    synack_time_t busy_until;
    synack_time_t *wait;
    size_t wait_head, wait_len, wait_cap;
};

struct fdb_entry {
    uint8_t mac[6];
    struct port *port;
};

struct synack_link {
    synack_link_config cfg;
    uint64_t rng[4];
    uint64_t tx_index; /* frames handed to the link, for loss_pattern */
    uint64_t enq_seq;  /* pending entries created, for FIFO tie-breaks */
    synack_link_stats stats;
    struct port **ports;
    size_t nports, cap_ports;
    unsigned next_port_id;
    struct fdb_entry *fdb;
    size_t nfdb, cap_fdb;
    struct frame *free_frames;
    size_t nfree;
    struct frame *free_big; /* FRAME_MAX buffers (64 KiB frames) */
    size_t nfree_big;
    uint8_t *seg_buf; /* TSO: one segment being built (mtu + 14 bytes) */
    int down;           /* synack_link_set_down */
    uint32_t burst_left; /* frames still to drop in the current burst */
};

static const struct synack_dev_ops port_ops;

/* ---- PRNG: xoshiro256** seeded through splitmix64 ----------------------- */

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(synack_link *l)
{
    uint64_t *s = l->rng;
    uint64_t r = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}

/* Uniform in [0, n), n > 0, without modulo bias. */
static uint64_t rng_below(synack_link *l, uint64_t n)
{
    uint64_t threshold = (0 - n) % n, r;
    do
        r = rng_next(l);
    while (r < threshold);
    return r % n;
}

/* Uniform in [0, max]. */
static uint64_t rng_upto(synack_link *l, uint64_t max)
{
    return max == UINT64_MAX ? rng_next(l) : rng_below(l, max + 1);
}

/* True with probability p. Draws nothing when p is 0 or 1, so turning one
 * impairment on does not shift the random sequence of the others. */
static int chance(synack_link *l, double p)
{
    if (!(p > 0))
        return 0;
    if (p >= 1)
        return 1;
    return (double)(rng_next(l) >> 11) * 0x1.0p-53 < p;
}

static synack_time_t sat_add(synack_time_t a, synack_time_t b)
{
    return a > SYNACK_TIME_NEVER - b ? SYNACK_TIME_NEVER : a + b;
}

/* ---- frame buffers ------------------------------------------------------- */

static struct frame *frame_get(synack_link *l, const uint8_t *data, size_t len)
{
    struct frame *f;
    if (len <= FRAME_STD_CAP && l->free_frames) {
        f = l->free_frames;
        l->free_frames = f->next_free;
        l->nfree--;
    } else if (len > FRAME_STD_CAP && l->free_big) {
        f = l->free_big;
        l->free_big = f->next_free;
        l->nfree_big--;
    } else {
        /* large frames get the largest buffer, so they can be pooled too:
         * a 64 KiB-frame link allocates nothing per frame once warm */
        size_t cap = len <= FRAME_STD_CAP ? FRAME_STD_CAP : FRAME_MAX;
        f = malloc(sizeof *f + cap);
        if (!f)
            return NULL;
        f->cap = (uint32_t)cap;
    }
    f->next_free = NULL;
    f->refs = 1;
    f->len = (uint32_t)len;
    if (len)
        memcpy(f->data, data, len);
    return f;
}

/* Drop one reference; l may be NULL (port outlived its link). */
static void frame_put(synack_link *l, struct frame *f)
{
    if (--f->refs)
        return;
    if (l && f->cap == FRAME_STD_CAP && l->nfree < FREELIST_MAX) {
        f->next_free = l->free_frames;
        l->free_frames = f;
        l->nfree++;
    } else if (l && f->cap == FRAME_MAX && l->nfree_big < BIG_FREELIST_MAX) {
        f->next_free = l->free_big;
        l->free_big = f;
        l->nfree_big++;
    } else {
        free(f);
    }
}

/* ---- per-port pending heap ---------------------------------------------- */

static int pend_before(const struct pending *a, const struct pending *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static int heap_push(struct port *p, struct pending e)
{
    if (p->qlen == p->qcap) {
        size_t ncap = p->qcap ? p->qcap * 2 : 16;
        struct pending *nq = realloc(p->q, ncap * sizeof *nq);
        if (!nq)
            return -SYNACK_ENOMEM;
        p->q = nq;
        p->qcap = ncap;
    }
    size_t i = p->qlen++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!pend_before(&e, &p->q[parent]))
            break;
        p->q[i] = p->q[parent];
        i = parent;
    }
    p->q[i] = e;
    return 0;
}

static struct pending heap_pop(struct port *p)
{
    struct pending top = p->q[0];
    struct pending last = p->q[--p->qlen];
    size_t i = 0, n = p->qlen;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && pend_before(&p->q[c + 1], &p->q[c]))
            c++;
        if (!pend_before(&p->q[c], &last))
            break;
        p->q[i] = p->q[c];
        i = c;
    }
    if (n)
        p->q[i] = last;
    return top;
}

static void port_flush(struct port *p)
{
    while (p->qlen) {
        struct pending e = heap_pop(p);
        frame_put(p->link, e.f);
    }
}

/* ---- switching ----------------------------------------------------------- */

static struct fdb_entry *fdb_find(synack_link *l, const uint8_t mac[6])
{
    for (size_t i = 0; i < l->nfdb; i++)
        if (memcmp(l->fdb[i].mac, mac, 6) == 0)
            return &l->fdb[i];
    return NULL;
}

static void fdb_learn(synack_link *l, struct port *p, const uint8_t *frame,
                      size_t len)
{
    if (len < 12 || (frame[6] & 1)) /* no source, or a group address */
        return;
    struct fdb_entry *e = fdb_find(l, frame + 6);
    if (e) {
        e->port = p; /* the station moved */
        return;
    }
    if (l->nfdb == l->cap_fdb) {
        if (l->cap_fdb >= FDB_MAX)
            return;
        size_t ncap = l->cap_fdb ? l->cap_fdb * 2 : 8;
        struct fdb_entry *n = realloc(l->fdb, ncap * sizeof *n);
        if (!n)
            return; /* not learning only costs flooding */
        l->fdb = n;
        l->cap_fdb = ncap;
    }
    memcpy(l->fdb[l->nfdb].mac, frame + 6, 6);
    l->fdb[l->nfdb].port = p;
    l->nfdb++;
}

static void fdb_forget(synack_link *l, const struct port *p)
{
    size_t j = 0;
    for (size_t i = 0; i < l->nfdb; i++)
        if (l->fdb[i].port != p)
            l->fdb[j++] = l->fdb[i];
    l->nfdb = j;
}

/* Known unicast: that port (NULL if it is the sender). Otherwise *flood. */
static struct port *fdb_route(synack_link *l, const struct port *sender,
                              const uint8_t *frame, size_t len, int *flood)
{
    *flood = 0;
    if (len >= 6 && !(frame[0] & 1)) {
        struct fdb_entry *e = fdb_find(l, frame);
        if (e)
            return e->port == sender ? NULL : e->port;
    }
    *flood = 1;
    return NULL;
}

static int enqueue(synack_link *l, struct port *dst, struct frame *f,
                   synack_time_t due)
{
    struct pending e = { due, ++l->enq_seq, f };
    if (heap_push(dst, e) != 0)
        return -SYNACK_ENOBUFS;
    f->refs++;
    return 0;
}

static int forward(synack_link *l, struct port *sender, struct port *dst,
                   int flood, struct frame *f, synack_time_t due)
{
    int rc = 0;
    if (!flood)
        return dst ? enqueue(l, dst, f, due) : 0;
    for (size_t i = 0; i < l->nports; i++)
        if (l->ports[i] != sender && enqueue(l, l->ports[i], f, due) != 0)
            rc = -SYNACK_ENOBUFS;
    return rc;
}

/* ---- impairments --------------------------------------------------------- */

static int pattern_drops(const synack_link *l, uint64_t index)
{
    for (size_t i = 0; i < l->cfg.loss_pattern_len; i++)
        if (l->cfg.loss_pattern[i] == index)
            return 1;
    return 0;
}

/* Sender-side serialization: the frame starts when the serializer is free
 * and has left once its last bit is out. Returns -1 when the frames already
 * waiting fill queue_limit. */
static int serialize(synack_link *l, struct port *p, size_t len,
                     synack_time_t now, synack_time_t *depart)
{
    synack_time_t start = p->busy_until > now ? p->busy_until : now;
    uint32_t limit = l->cfg.queue_limit;
    if (limit) {
        while (p->wait_len && p->wait[p->wait_head] <= now) {
            p->wait_head = (p->wait_head + 1) % p->wait_cap;
            p->wait_len--;
        }
        if (start > now) {
            if (p->wait_len >= limit)
                return -1;
            if (p->wait_len == p->wait_cap) {
                size_t ncap = p->wait_cap ? p->wait_cap * 2 : 16;
                synack_time_t *w = malloc(ncap * sizeof *w);
                if (!w)
                    return -1;
                for (size_t i = 0; i < p->wait_len; i++)
                    w[i] = p->wait[(p->wait_head + i) % p->wait_cap];
                free(p->wait);
                p->wait = w;
                p->wait_cap = ncap;
                p->wait_head = 0;
            }
            p->wait[(p->wait_head + p->wait_len) % p->wait_cap] = start;
            p->wait_len++;
        }
    }
    uint64_t bits = (uint64_t)len * 8;
    uint64_t rate = l->cfg.rate_bps;
    synack_time_t tx = (bits * SYNACK_SEC + rate - 1) / rate;
    p->busy_until = sat_add(start, tx);
    *depart = p->busy_until;
    return 0;
}

static synack_time_t reorder_hold(synack_link *l)
{
    synack_time_t base =
        l->cfg.jitter > REORDER_MIN ? l->cfg.jitter : REORDER_MIN;
    return sat_add(base, rng_upto(l, base));
}

/* ---- device ops ----------------------------------------------------------- */

static int transmit_one(struct port *p, const uint8_t *frame, size_t len,
                        synack_time_t now)
{
    synack_link *l = p->link;
    uint64_t index = ++l->tx_index;
    l->stats.sent++;
    fdb_learn(l, p, frame, len);

    synack_time_t due = now;
    if (l->cfg.rate_bps && serialize(l, p, len, now, &due) != 0) {
        l->stats.queue_drops++;
        return -SYNACK_ENOBUFS;
    }
    if (l->down) {
        l->stats.lost++;
        l->stats.down_lost++;
        return 0;
    }
    if (!l->burst_left && chance(l, l->cfg.burst_prob)) {
        uint32_t n = l->cfg.burst_len ? l->cfg.burst_len : 1;
        if (l->cfg.burst_len_max > n)
            n += (uint32_t)rng_upto(l, l->cfg.burst_len_max - n);
        l->burst_left = n;
    }
    if (l->burst_left) {
        l->burst_left--;
        l->stats.lost++;
        l->stats.burst_lost++;
        return 0;
    }
    if (pattern_drops(l, index) || chance(l, l->cfg.loss)) {
        l->stats.lost++;
        return 0;
    }
    due = sat_add(due, l->cfg.delay);
    if (l->cfg.jitter)
        due = sat_add(due, rng_upto(l, l->cfg.jitter));
    if (chance(l, l->cfg.reorder)) {
        due = sat_add(due, reorder_hold(l));
        l->stats.reordered++;
    }

    /* Route on the bytes as sent: corruption hits what the receiver sees,
     * not where the switch sends it. */
    int flood;
    struct port *dst = fdb_route(l, p, frame, len, &flood);

    struct frame *f = frame_get(l, frame, len);
    if (!f)
        return -SYNACK_ENOBUFS;
    if (len && chance(l, l->cfg.corrupt)) {
        uint64_t byte = rng_below(l, len);
        f->data[byte] ^= (uint8_t)(1u << rng_below(l, 8));
        l->stats.corrupted++;
    }
    int rc = forward(l, p, dst, flood, f, due);
    if (chance(l, l->cfg.dup)) {
        l->stats.duplicated++;
        if (forward(l, p, dst, flood, f, sat_add(due, DUP_GAP)) != 0)
            rc = -SYNACK_ENOBUFS;
    }
    frame_put(l, f);
    return rc;
}

/* ---- TCP segmentation offload ------------------------------------------ */

/* A TCP/IPv4 frame: where its headers end and its payload starts. */
struct tcp_frame {
    size_t ihl, thl, hdrs; /* IP header, TCP header, Ethernet+IP+TCP */
    size_t payload;        /* bytes after the headers, per the IP length */
};

static int tcp_frame_parse(const uint8_t *f, size_t len, struct tcp_frame *t)
{
    if (len < WIRE_ETH_HLEN + WIRE_IPV4_HLEN + WIRE_TCP_HLEN ||
        wire_get16(f + 12) != WIRE_ETHERTYPE_IPV4)
        return -1;
    const uint8_t *ip = f + WIRE_ETH_HLEN;
    t->ihl = (size_t)(ip[0] & 0x0f) * 4;
    size_t total = wire_get16(ip + 2);
    if ((ip[0] >> 4) != 4 || ip[9] != WIRE_IPPROTO_TCP ||
        t->ihl < WIRE_IPV4_HLEN || total > len - WIRE_ETH_HLEN ||
        total < t->ihl + WIRE_TCP_HLEN ||
        (wire_get16(ip + 6) & (WIRE_IP_MF | WIRE_IP_OFFMASK)))
        return -1;
    t->thl = (size_t)(ip[t->ihl + 12] >> 4) * 4;
    if (t->thl < WIRE_TCP_HLEN || t->ihl + t->thl > total)
        return -1;
    t->hdrs = WIRE_ETH_HLEN + t->ihl + t->thl;
    t->payload = total - t->ihl - t->thl;
    return 0;
}

/* Cut a TCP/IPv4 frame longer than the MTU into segments that fit, each
 * sent as a frame of its own. Returns the first error, after trying all. */
static int tso_transmit(struct port *p, const uint8_t *f, size_t len,
                        synack_time_t now)
{
    synack_link *l = p->link;
    struct tcp_frame t;
    if (tcp_frame_parse(f, len, &t) != 0 ||
        l->cfg.mtu <= t.ihl + t.thl) {
        l->stats.too_big++;
        return -SYNACK_EMSGSIZE;
    }
    size_t mss = l->cfg.mtu - t.ihl - t.thl;
    const uint8_t *ip = f + WIRE_ETH_HLEN, *th = ip + t.ihl;
    uint32_t seq = wire_get32(th + 4), src = wire_get32(ip + 12),
             dst = wire_get32(ip + 16);
    uint16_t id = wire_get16(ip + 4);
    uint8_t flags = th[13];
    uint8_t *s = l->seg_buf, *sip = s + WIRE_ETH_HLEN, *sth = sip + t.ihl;
    int rc = 0;
    l->stats.tso_frames++;
    for (size_t off = 0; off < t.payload; off += mss) {
        size_t n = t.payload - off < mss ? t.payload - off : mss;
        bool last = off + n == t.payload;
        memcpy(s, f, t.hdrs);
        /* TCP: sequence, flags, checksum over pseudo-header and segment */
        wire_put32(sth + 4, seq + (uint32_t)off);
        sth[13] = (uint8_t)(flags & ~(last ? 0 : (SYNACK_TH_FIN | SYNACK_TH_PSH)) &
                            ~(off ? 0x80 /* CWR */ : 0));
        sth[16] = sth[17] = 0;
        uint32_t sum = wire_csum_pseudo(src, dst, WIRE_IPPROTO_TCP,
                                        (uint16_t)(t.thl + n));
        sum = wire_csum_add(sum, sth, t.thl);
        sum = wire_csum_copy(sum, sth + t.thl, f + t.hdrs + off, n);
        wire_put16(sth + 16, wire_csum_fold(sum));
        /* IP: length, a fresh ID per segment, header checksum */
        wire_put16(sip + 2, (uint16_t)(t.ihl + t.thl + n));
        wire_put16(sip + 4, (uint16_t)(id + off / mss));
        sip[10] = sip[11] = 0;
        wire_put16(sip + 10, wire_csum_fold(wire_csum_add(0, sip, t.ihl)));
        l->stats.tso_segments++;
        int r = transmit_one(p, s, t.hdrs + n, now);
        if (r != 0 && rc == 0)
            rc = r;
    }
    return rc;
}

static int port_transmit(synack_dev *d, const uint8_t *frame, size_t len,
                         synack_time_t now)
{
    struct port *p = (struct port *)(void *)d;
    synack_link *l = p->link;
    if (!l)
        return -SYNACK_ENOBUFS;
    if (len > FRAME_MAX)
        return -SYNACK_EMSGSIZE;
    if (!frame && len)
        return -SYNACK_EINVAL;
    if (l->cfg.mtu && len > WIRE_ETH_HLEN + (size_t)l->cfg.mtu) {
        if (l->cfg.tso)
            return tso_transmit(p, frame, len, now);
        l->stats.too_big++;
        return -SYNACK_EMSGSIZE;
    }
    return transmit_one(p, frame, len, now);
}

static int port_poll(synack_dev *d, synack_time_t now)
{
    struct port *p = (struct port *)(void *)d;
    synack_link *l = p->link;
    if (!l)
        return 0;
    /* Frames queued by the rx callback itself wait for the next poll, so a
     * callback that keeps feeding this port cannot loop here forever. */
    uint64_t last = l->enq_seq;
    int n = 0;
    while (p->qlen && p->q[0].due <= now && p->q[0].seq <= last) {
        /* Popped before the callback: it may transmit and grow p->q. */
        struct pending e = heap_pop(p);
        if (p->dev.rx) {
            p->dev.rx(p->dev.rx_ctx, e.f->data, e.f->len, now);
            l->stats.delivered++;
            n++;
        }
        frame_put(l, e.f);
    }
    return n;
}

static synack_time_t port_next_deadline(const synack_dev *d)
{
    const struct port *p = (const struct port *)(const void *)d;
    return p->qlen ? p->q[0].due : SYNACK_TIME_NEVER;
}

static int port_fd(const synack_dev *d)
{
    (void)d;
    return -1;
}

static void port_detach(struct port *p)
{
    synack_link *l = p->link;
    port_flush(p);
    fdb_forget(l, p);
    for (size_t i = 0; i < l->nports; i++) {
        if (l->ports[i] == p) {
            memmove(&l->ports[i], &l->ports[i + 1],
                    (l->nports - i - 1) * sizeof *l->ports);
            l->nports--;
            break;
        }
    }
    p->link = NULL;
}

static void port_destroy(synack_dev *d)
{
    struct port *p = (struct port *)(void *)d;
    if (p->link)
        port_detach(p);
    free(p->q);
    free(p->wait);
    free(p);
}

static const struct synack_dev_ops port_ops = {
    .transmit = port_transmit,
    .poll = port_poll,
    .next_deadline = port_next_deadline,
    .fd = port_fd,
    .destroy = port_destroy,
};

/* ---- public API ---------------------------------------------------------- */

void synack_link_config_init(synack_link_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
}

static int prob_ok(double p)
{
    return p >= 0 && p <= 1; /* false for NaN */
}

int synack_link_new(const synack_link_config *cfg, synack_link **out)
{
    if (!cfg || !out)
        return -SYNACK_EINVAL;
    if (!prob_ok(cfg->loss) || !prob_ok(cfg->reorder) || !prob_ok(cfg->dup) ||
        !prob_ok(cfg->corrupt) || !prob_ok(cfg->burst_prob))
        return -SYNACK_EINVAL;
    if (cfg->loss_pattern_len && !cfg->loss_pattern)
        return -SYNACK_EINVAL;
    if (cfg->mtu > 65535 || (cfg->mtu && cfg->mtu < 68))
        return -SYNACK_EINVAL;
    synack_link *l = calloc(1, sizeof *l);
    if (!l)
        return -SYNACK_ENOMEM;
    l->cfg = *cfg;
    if (cfg->mtu && cfg->tso) {
        l->seg_buf = malloc(WIRE_ETH_HLEN + (size_t)cfg->mtu);
        if (!l->seg_buf) {
            free(l);
            return -SYNACK_ENOMEM;
        }
    }
    uint64_t s = cfg->seed;
    for (int i = 0; i < 4; i++)
        l->rng[i] = splitmix64(&s);
    *out = l;
    return 0;
}

void synack_link_del(synack_link *l)
{
    if (!l)
        return;
    /* Ports still alive are cut off: they drop what they transmit and are
     * freed by their own synack_dev_destroy. */
    while (l->nports)
        port_detach(l->ports[l->nports - 1]);
    while (l->free_frames) {
        struct frame *f = l->free_frames;
        l->free_frames = f->next_free;
        free(f);
    }
    while (l->free_big) {
        struct frame *f = l->free_big;
        l->free_big = f->next_free;
        free(f);
    }
    free(l->seg_buf);
    free(l->ports);
    free(l->fdb);
    free(l);
}

int synack_link_port(synack_link *l, synack_dev **out)
{
    if (!l || !out)
        return -SYNACK_EINVAL;
    if (l->nports == l->cap_ports) {
        size_t ncap = l->cap_ports ? l->cap_ports * 2 : 4;
        struct port **n = realloc(l->ports, ncap * sizeof *n);
        if (!n)
            return -SYNACK_ENOMEM;
        l->ports = n;
        l->cap_ports = ncap;
    }
    struct port *p = calloc(1, sizeof *p);
    if (!p)
        return -SYNACK_ENOMEM;
    p->dev.ops = &port_ops;
    snprintf(p->name, sizeof p->name, "mem%u", l->next_port_id++);
    p->dev.name = p->name;
    p->link = l;
    l->ports[l->nports++] = p;
    *out = &p->dev;
    return 0;
}

void synack_link_get_stats(const synack_link *l, synack_link_stats *out)
{
    *out = l->stats;
}

void synack_link_set_down(synack_link *l, int down)
{
    if (!l)
        return;
    if (down && !l->down)
        l->stats.flaps++;
    l->down = down != 0;
}

int synack_link_is_down(const synack_link *l)
{
    return l ? l->down : 0;
}
