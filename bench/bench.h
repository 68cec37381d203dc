/*
 * bench.h: what the benchmark programs share: a clock, a seeded PRNG, an
 * in-memory frame queue (one per direction, the same for synack and lwIP),
 * a byte pattern to verify transfers, and the output format.
 *
 * Output: every figure is one line "key value" on stdout (value a number, or
 * "n/a: reason"); bench/run collects them, takes medians and prints the
 * table and the JSON object. Diagnostics go to stderr.
 */
#ifndef SYNACK_BENCH_H
#define SYNACK_BENCH_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline uint64_t bench_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CPU time of the calling thread: what it got of a core on a busy
 * machine. */
static inline uint64_t bench_thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t bench_rand(uint64_t *s) /* splitmix64 */
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static inline double bench_rand01(uint64_t *s)
{
    return (double)(bench_rand(s) >> 11) * (1.0 / 9007199254740992.0);
}

static inline void bench_fig(const char *key, double v)
{
    printf("%s %.6g\n", key, v);
    fflush(stdout);
}
static inline void bench_na(const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s n/a: ", key);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
}
static inline void bench_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

/* The transferred bytes: stream offset o carries pat[o % BENCH_PAT_PERIOD],
 * a period prime to every segment size, so a misplaced, lost or duplicated
 * segment shows. Send from pat + (offset % period), up to
 * BENCH_PAT_SPAN bytes at a time. */
#define BENCH_PAT_PERIOD 251u
#define BENCH_PAT_SPAN (256u * 1024u)
static inline uint8_t *bench_pattern(void)
{
    uint8_t *p = malloc(BENCH_PAT_SPAN + BENCH_PAT_PERIOD);
    if (!p)
        bench_die("out of memory");
    for (size_t i = 0; i < BENCH_PAT_SPAN + BENCH_PAT_PERIOD; i++)
        p[i] = (uint8_t)((i % BENCH_PAT_PERIOD) * 7u + 3u);
    return p;
}
static inline int bench_pattern_ok(const uint8_t *pat, uint64_t off,
                                   const uint8_t *buf, size_t len)
{
    while (len > 0) {
        size_t n = len < BENCH_PAT_SPAN ? len : BENCH_PAT_SPAN;
        if (memcmp(buf, pat + off % BENCH_PAT_PERIOD, n) != 0)
            return 0;
        buf += n;
        off += n;
        len -= n;
    }
    return 1;
}

/* ---- frame queue: one direction of a link ------------------------------
 * A ring of fixed-size slots. push copies the frame (the sender's buffer is
 * borrowed); pop hands out a pointer valid until the next pop or push. Each frame
 * may carry a delivery time (virtual-time links). */
typedef struct bench_fq {
    uint8_t *buf;
    uint32_t *len;
    uint64_t *at;
    size_t slot, cap, head, count;
    uint64_t drops;
} bench_fq;

static inline void bench_fq_init(bench_fq *q, size_t slot, size_t cap)
{
    q->buf = malloc(slot * cap);
    q->len = malloc(sizeof(*q->len) * cap);
    q->at = malloc(sizeof(*q->at) * cap);
    if (!q->buf || !q->len || !q->at)
        bench_die("out of memory for a %zu x %zu frame queue", cap, slot);
    q->slot = slot;
    q->cap = cap;
    q->head = q->count = 0;
    q->drops = 0;
}
/* Index of the slot after the count frames from head (no division: head
 * and count are below cap). */
static inline size_t bench_fq_tail(const bench_fq *q)
{
    size_t i = q->head + q->count;
    return i >= q->cap ? i - q->cap : i;
}
static inline void bench_fq_free(bench_fq *q)
{
    free(q->buf);
    free(q->len);
    free(q->at);
}
/* Slot to write a frame into (NULL when full: counted as a drop). */
static inline uint8_t *bench_fq_slot(bench_fq *q, size_t len, uint64_t at)
{
    if (q->count == q->cap || len > q->slot) {
        q->drops++;
        return NULL;
    }
    size_t i = bench_fq_tail(q);
    q->len[i] = (uint32_t)len;
    q->at[i] = at;
    q->count++;
    return q->buf + i * q->slot;
}
/* The slot the next frame will go to, without taking it (NULL when full
 * or len does not fit), and taking it: a sender that can build its frame
 * in place (synack's tx_buffer/tx_commit) saves bench_fq_push's copy. */
static inline uint8_t *bench_fq_peek(bench_fq *q, size_t len)
{
    if (q->count == q->cap || len > q->slot)
        return NULL;
    return q->buf + bench_fq_tail(q) * q->slot;
}
static inline void bench_fq_commit(bench_fq *q, const uint8_t *f, size_t len,
                                   uint64_t at)
{
    uint8_t *d = bench_fq_slot(q, len, at);
    if (d != f)
        bench_die("frame queue: commit of a slot not peeked");
}
static inline int bench_fq_push(bench_fq *q, const void *f, size_t len,
                                uint64_t at)
{
    uint8_t *d = bench_fq_slot(q, len, at);
    if (!d)
        return -1;
    memcpy(d, f, len);
    return 0;
}
static inline const uint8_t *bench_fq_pop(bench_fq *q, size_t *len)
{
    if (q->count == 0)
        return NULL;
    size_t i = q->head;
    q->head = q->head + 1 == q->cap ? 0 : q->head + 1;
    q->count--;
    /* Empty: start again at the first slot, so that the slots in use stay
     * the same few (in cache) instead of cycling through cap x slot bytes.
     * The popped frame stays valid: nothing is written before the next
     * push, and the caller is done with it by then. */
    if (q->count == 0)
        q->head = 0;
    *len = q->len[i];
    return q->buf + i * q->slot;
}
static inline uint64_t bench_fq_next_at(const bench_fq *q)
{
    return q->count ? q->at[q->head] : UINT64_MAX;
}

/* ---- the lossy virtual-time link model (goodput under loss) -------------
 * Used identically for synack and lwIP: each frame is lost with probability
 * loss (seeded PRNG, both directions), else serialized at rate_bps behind
 * the frames before it and delivered delay_ns later. No queue limit. */
typedef struct bench_lossy {
    bench_fq q;
    double loss;
    uint64_t delay_ns, rate_bps, busy_until, rng;
    uint64_t sent, lost;
} bench_lossy;

static inline void bench_lossy_init(bench_lossy *l, size_t slot, double loss,
                                    uint64_t delay_ns, uint64_t rate_bps,
                                    uint64_t seed)
{
    bench_fq_init(&l->q, slot, 1u << 16);
    l->loss = loss;
    l->delay_ns = delay_ns;
    l->rate_bps = rate_bps;
    l->busy_until = 0;
    l->rng = seed;
    l->sent = l->lost = 0;
}
static inline void bench_lossy_send(bench_lossy *l, const void *f, size_t len,
                                    uint64_t now)
{
    l->sent++;
    if (bench_rand01(&l->rng) < l->loss) {
        l->lost++;
        return;
    }
    uint64_t start = l->busy_until > now ? l->busy_until : now;
    uint64_t ser = l->rate_bps ? (uint64_t)len * 8u * 1000000000u / l->rate_bps
                               : 0;
    l->busy_until = start + ser;
    bench_fq_push(&l->q, f, len, start + ser + l->delay_ns);
}

#endif
