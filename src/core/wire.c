/*
 * Wire codec: Ethernet II, ARP, IPv4, ICMP echo, TCP (see wire.h).
 *
 * Every parser checks lengths before it touches a byte, so no input can make
 * it read past `len`. Nothing here allocates, keeps state or calls the OS.
 */
#include "core/wire.h"

#include <string.h>

/* ---- checksum ----------------------------------------------------------- */

/* RFC 1071 section 2: the ones'-complement sum is the same whatever the word
 * width (2^16 - 1 divides 2^32 - 1 and 2^64 - 1, so carries fold the same
 * way) and whatever the byte order up to one final swap. So the bytes are
 * summed as native 32-bit words into 64-bit accumulators, which cannot
 * overflow below CSUM_CHUNK, loaded with memcpy (or unaligned vector loads)
 * so any alignment works; the sum is folded to 16 bits and swapped to
 * network order at the end. With AVX2 (chosen at run time) the main loop
 * adds 128 bytes a step into four vectors of four 64-bit lanes; with SSE2
 * (every x86-64) 64 bytes a step into four vectors of two lanes; elsewhere
 * 32 bytes a step into four scalar accumulators (also when
 * SYNACK_CSUM_PORTABLE is defined, so the tests cover that loop on x86-64
 * too). */

#if defined(__SSE2__) && !defined(SYNACK_CSUM_PORTABLE)
#include <emmintrin.h>
#define CSUM_SSE2 1
#else
#define CSUM_SSE2 0
#endif

/* AVX2 (x86-64 with GCC or Clang): compiled with a target attribute and
 * chosen at run time when the CPU has it (__builtin_cpu_supports reads what
 * libgcc found at start-up: no state of ours). SYNACK_CSUM_NO_AVX2 leaves
 * it out, so the tests cover the SSE2 loop on a CPU with AVX2 too. */
#if CSUM_SSE2 && defined(__x86_64__) && defined(__GNUC__) && \
    !defined(SYNACK_CSUM_NO_AVX2)
#include <immintrin.h>
#define CSUM_AVX2 1
#else
#define CSUM_AVX2 0
#endif

/* Each 64-bit lane takes at most one 32-bit word per 16 bytes: below 2^36
 * bytes per chunk no lane can overflow. */
#define CSUM_CHUNK ((size_t)1 << 30)

static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    uint8_t first;

    memcpy(&first, &one, 1);
    return first == 1;
}

static inline uint32_t load32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* End-around carry down to 16 bits. */
static uint16_t fold64(uint64_t s)
{
    s = (s & 0xffffffffu) + (s >> 32); /* at most 33 bits */
    s = (s & 0xffffu) + (s >> 16);     /* at most 18 bits */
    s = (s & 0xffffu) + (s >> 16);     /* at most 17 bits */
    s = (s & 0xffffu) + (s >> 16);
    return (uint16_t)s;
}

/* Fewer than 32 bytes: 4 at a time, then the last 0..3 as one native word
 * with zeros after the bytes, which pads an odd last byte as RFC 1071 wants
 * (the high-order byte of a word whose low byte is zero). */
static uint64_t sum_tail(const uint8_t *p, size_t len)
{
    uint64_t s = 0;
    uint32_t w = 0;

    while (len >= 4) {
        s += load32(p);
        p += 4;
        len -= 4;
    }
    memcpy(&w, p, len);
    return s + w;
}

#if CSUM_SSE2
static inline __m128i widen_lo(__m128i v)
{
    return _mm_unpacklo_epi32(v, _mm_setzero_si128());
}
static inline __m128i widen_hi(__m128i v)
{
    return _mm_unpackhi_epi32(v, _mm_setzero_si128());
}
static uint64_t lanes_sum(__m128i a, __m128i b, __m128i c, __m128i d)
{
    uint64_t r[2];
    a = _mm_add_epi64(_mm_add_epi64(a, b), _mm_add_epi64(c, d));
    memcpy(r, &a, sizeof(r));
    return r[0] + r[1];
}
#endif

/* Short inputs (headers) and the last 0..31 bytes of the vector loops,
 * without a loop or a call: 16, 8 and 4 bytes by
 * their bits in len (fixed-size copies become plain moves), then 0..3
 * bytes as one word padded with zeros (sum_tail's rule). */
static inline uint64_t halves(uint64_t v)
{
    return (v & 0xffffffffu) + (v >> 32);
}
static inline uint64_t sum_tail31(uint8_t *dst, const uint8_t *p, size_t len)
{
    uint64_t s = 0, a, b;
    uint32_t w;
    if (len & 16) {
        memcpy(&a, p, 8);
        memcpy(&b, p + 8, 8);
        if (dst) {
            memcpy(dst, p, 16);
            dst += 16;
        }
        s += halves(a) + halves(b);
        p += 16;
    }
    if (len & 8) {
        memcpy(&a, p, 8);
        if (dst) {
            memcpy(dst, p, 8);
            dst += 8;
        }
        s += halves(a);
        p += 8;
    }
    if (len & 4) {
        memcpy(&w, p, 4);
        if (dst) {
            memcpy(dst, p, 4);
            dst += 4;
        }
        s += w;
        p += 4;
    }
    if (len & 3) {
        uint8_t t[4] = {p[0], 0, 0, 0};
        if (len & 2) {
            t[1] = p[1];
            if (len & 1)
                t[2] = p[2];
        }
        memcpy(&w, t, 4);
        if (dst)
            for (size_t i = 0; i < (len & 3); i++)
                dst[i] = p[i];
        s += w;
    }
    return s;
}

/* Fewer than 64 bytes (an IP or TCP header, an ACK's options): a 32-byte
 * block as four 8-byte words if there is one, then sum_tail31. */
static inline uint64_t sum_small(uint8_t *dst, const uint8_t *p, size_t len)
{
    uint64_t s = 0;
    if (len >= 32) {
        uint64_t a, b, c, d;
        memcpy(&a, p, 8);
        memcpy(&b, p + 8, 8);
        memcpy(&c, p + 16, 8);
        memcpy(&d, p + 24, 8);
        if (dst) {
            memcpy(dst, p, 32);
            dst += 32;
        }
        s = halves(a) + halves(b) + halves(c) + halves(d);
        p += 32;
        len -= 32;
    }
    return s + sum_tail31(dst, p, len);
}

/* The scalar part: 32 bytes a step into four accumulators, then the tail.
 * When dst is not NULL the bytes are copied there on the way. */
static uint64_t sum_scalar(uint8_t *dst, const uint8_t *p, size_t len)
{
    uint64_t s = 0, s1 = 0, s2 = 0, s3 = 0;
    while (len >= 32) {
        if (dst) {
            memcpy(dst, p, 32);
            dst += 32;
        }
        s += (uint64_t)load32(p) + load32(p + 4);
        s1 += (uint64_t)load32(p + 8) + load32(p + 12);
        s2 += (uint64_t)load32(p + 16) + load32(p + 20);
        s3 += (uint64_t)load32(p + 24) + load32(p + 28);
        p += 32;
        len -= 32;
    }
    if (dst)
        memcpy(dst, p, len);
    return s + s1 + s2 + s3 + sum_tail(p, len);
}

#if CSUM_SSE2
/* 64 bytes a step into four vectors of two 64-bit lanes, then 16. */
static uint64_t sum_sse2(uint8_t *dst, const uint8_t *p, size_t len)
{
    __m128i a0 = _mm_setzero_si128(), a1 = a0, a2 = a0, a3 = a0;
    while (len >= 64) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i y = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
        __m128i u = _mm_loadu_si128((const __m128i *)(const void *)(p + 32));
        __m128i w = _mm_loadu_si128((const __m128i *)(const void *)(p + 48));
        if (dst) {
            _mm_storeu_si128((__m128i *)(void *)dst, x);
            _mm_storeu_si128((__m128i *)(void *)(dst + 16), y);
            _mm_storeu_si128((__m128i *)(void *)(dst + 32), u);
            _mm_storeu_si128((__m128i *)(void *)(dst + 48), w);
            dst += 64;
        }
        a0 = _mm_add_epi64(a0, widen_lo(x));
        a1 = _mm_add_epi64(a1, widen_hi(x));
        a2 = _mm_add_epi64(a2, widen_lo(y));
        a3 = _mm_add_epi64(a3, widen_hi(y));
        a0 = _mm_add_epi64(a0, widen_lo(u));
        a1 = _mm_add_epi64(a1, widen_hi(u));
        a2 = _mm_add_epi64(a2, widen_lo(w));
        a3 = _mm_add_epi64(a3, widen_hi(w));
        p += 64;
        len -= 64;
    }
    while (len >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        if (dst) {
            _mm_storeu_si128((__m128i *)(void *)dst, x);
            dst += 16;
        }
        a0 = _mm_add_epi64(a0, widen_lo(x));
        a1 = _mm_add_epi64(a1, widen_hi(x));
        p += 16;
        len -= 16;
    }
    return lanes_sum(a0, a1, a2, a3) + sum_scalar(dst, p, len);
}
#endif

#if CSUM_AVX2
/* 128 bytes a step into four vectors of four 64-bit lanes: each 256-bit
 * load splits into its low and high 32-bit halves of every 64-bit lane
 * (an AND and a shift, no unpacking), then 32 bytes a step. Each lane takes
 * one 32-bit word per 32 bytes: no overflow below 2^37 bytes. */
#define AVX2_FN __attribute__((target("avx2")))
AVX2_FN static inline __m256i lo32(__m256i v)
{
    return _mm256_and_si256(v, _mm256_set1_epi64x(0xffffffff));
}
AVX2_FN static inline __m256i hi32(__m256i v)
{
    return _mm256_srli_epi64(v, 32);
}
AVX2_FN static uint64_t sum_avx2(uint8_t *dst, const uint8_t *p, size_t len)
{
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    while (len >= 128) {
        const __m256i *q = (const __m256i *)(const void *)p;
        __m256i x = _mm256_loadu_si256(q), y = _mm256_loadu_si256(q + 1);
        __m256i u = _mm256_loadu_si256(q + 2), w = _mm256_loadu_si256(q + 3);
        if (dst) {
            __m256i *d = (__m256i *)(void *)dst;
            _mm256_storeu_si256(d, x);
            _mm256_storeu_si256(d + 1, y);
            _mm256_storeu_si256(d + 2, u);
            _mm256_storeu_si256(d + 3, w);
            dst += 128;
        }
        a0 = _mm256_add_epi64(a0, lo32(x));
        a1 = _mm256_add_epi64(a1, hi32(x));
        a2 = _mm256_add_epi64(a2, lo32(y));
        a3 = _mm256_add_epi64(a3, hi32(y));
        a0 = _mm256_add_epi64(a0, lo32(u));
        a1 = _mm256_add_epi64(a1, hi32(u));
        a2 = _mm256_add_epi64(a2, lo32(w));
        a3 = _mm256_add_epi64(a3, hi32(w));
        p += 128;
        len -= 128;
    }
    while (len >= 32) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)p);
        if (dst) {
            _mm256_storeu_si256((__m256i *)(void *)dst, x);
            dst += 32;
        }
        a0 = _mm256_add_epi64(a0, lo32(x));
        a1 = _mm256_add_epi64(a1, hi32(x));
        p += 32;
        len -= 32;
    }
    __m256i t = _mm256_add_epi64(_mm256_add_epi64(a0, a1),
                                 _mm256_add_epi64(a2, a3));
    __m128i h = _mm_add_epi64(_mm256_castsi256_si128(t),
                              _mm256_extracti128_si256(t, 1));
    h = _mm_add_epi64(h, _mm_unpackhi_epi64(h, h));
    return (uint64_t)_mm_cvtsi128_si64(h) + sum_tail31(dst, p, len);
}
#endif

/* Ones'-complement sum of native words over len bytes (len < CSUM_CHUNK),
 * unfolded. When dst is not NULL the bytes are copied there on the way. */
static uint64_t sum_native(uint8_t *dst, const uint8_t *p, size_t len)
{
    if (len < 64)
        return sum_small(dst, p, len);
#if CSUM_AVX2
    if (__builtin_cpu_supports("avx2"))
        return sum_avx2(dst, p, len);
#endif
#if CSUM_SSE2
    return sum_sse2(dst, p, len);
#else
    return sum_scalar(dst, p, len);
#endif
}

const char *wire_csum_impl(void)
{
#if CSUM_AVX2
    if (__builtin_cpu_supports("avx2"))
        return "avx2";
#endif
    return CSUM_SSE2 ? "sse2" : "portable";
}

/* Add a native-order partial sum to the caller's network-order accumulator,
 * keeping the ones'-complement value within 32 bits. */
static uint32_t csum_merge(uint32_t sum, uint64_t native)
{
    uint16_t part = fold64(native);
    if (host_is_little_endian())
        part = (uint16_t)((part >> 8) | (part << 8));
    uint64_t total = (uint64_t)sum + part;
    return (uint32_t)((total & 0xffffffffu) + (total >> 32));
}

static uint32_t csum_run(uint32_t sum, uint8_t *dst, const uint8_t *src,
                         size_t len)
{
    /* Chunks of CSUM_CHUNK bytes (even) keep the word alignment. */
    while (len > CSUM_CHUNK) {
        sum = csum_merge(sum, sum_native(dst, src, CSUM_CHUNK));
        if (dst)
            dst += CSUM_CHUNK;
        src += CSUM_CHUNK;
        len -= CSUM_CHUNK;
    }
    return csum_merge(sum, sum_native(dst, src, len));
}

uint32_t wire_csum_add(uint32_t sum, const void *p, size_t len)
{
    return csum_run(sum, NULL, p, len);
}

uint32_t wire_csum_copy(uint32_t sum, void *dst, const void *src, size_t len)
{
    return csum_run(sum, dst, src, len);
}

uint32_t wire_csum_add_odd(uint32_t sum, uint32_t part)
{
    /* RFC 1071 section 2 (B), byte order independence: bytes that start
     * at an odd offset sit in the other half of every 16-bit word, so
     * their sum, taken as if they started at an even one, counts swapped */
    uint16_t f = fold64(part);
    f = (uint16_t)((f >> 8) | (f << 8));
    uint64_t total = (uint64_t)sum + f;
    return (uint32_t)((total & 0xffffffffu) + (total >> 32));
}

uint16_t wire_csum_fold(uint32_t sum)
{
    return (uint16_t)~fold64(sum);
}

uint32_t wire_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto,
                          uint16_t len)
{
    return (src >> 16) + (src & 0xffffu) + (dst >> 16) + (dst & 0xffffu) +
           proto + len;
}

/* True when the region, checksum field included, sums to ones'-complement
 * zero. */
static int csum_ok(uint32_t sum)
{
    return wire_csum_fold(sum) == 0;
}

/* ---- Ethernet ----------------------------------------------------------- */

int wire_eth_parse(const uint8_t *p, size_t len, wire_eth *out)
{
    if (len < WIRE_ETH_HLEN)
        return -SYNACK_DROP_ETH_SHORT;
    memcpy(out->dst, p, 6);
    memcpy(out->src, p + 6, 6);
    out->type = wire_get16(p + 12);
    return 0;
}

size_t wire_eth_emit(uint8_t *p, const wire_eth *h)
{
    memcpy(p, h->dst, 6);
    memcpy(p + 6, h->src, 6);
    wire_put16(p + 12, h->type);
    return WIRE_ETH_HLEN;
}

/* ---- ARP ---------------------------------------------------------------- */

#define ARP_HTYPE_ETHER 1

int wire_arp_parse(const uint8_t *p, size_t len, wire_arp *out)
{
    uint16_t op;

    if (len < WIRE_ARP_LEN)
        return -SYNACK_DROP_ARP_SHORT;
    op = wire_get16(p + 6);
    if (wire_get16(p) != ARP_HTYPE_ETHER ||
        wire_get16(p + 2) != WIRE_ETHERTYPE_IPV4 || p[4] != 6 || p[5] != 4 ||
        (op != 1 && op != 2))
        return -SYNACK_DROP_ARP_UNSUPPORTED;
    out->op = op;
    memcpy(out->sha, p + 8, 6);
    out->spa = wire_get32(p + 14);
    memcpy(out->tha, p + 18, 6);
    out->tpa = wire_get32(p + 24);
    return 0;
}

size_t wire_arp_emit(uint8_t *p, const wire_arp *h)
{
    wire_put16(p, ARP_HTYPE_ETHER);
    wire_put16(p + 2, WIRE_ETHERTYPE_IPV4);
    p[4] = 6;
    p[5] = 4;
    wire_put16(p + 6, h->op);
    memcpy(p + 8, h->sha, 6);
    wire_put32(p + 14, h->spa);
    memcpy(p + 18, h->tha, 6);
    wire_put32(p + 24, h->tpa);
    return WIRE_ARP_LEN;
}

/* ---- IPv4 --------------------------------------------------------------- */

int wire_ipv4_parse(const uint8_t *p, size_t len, wire_ipv4 *out)
{
    size_t hlen, total;

    if (len < WIRE_IPV4_HLEN)
        return -SYNACK_DROP_IP_SHORT;
    if ((p[0] >> 4) != 4)
        return -SYNACK_DROP_IP_BAD_VERSION;
    hlen = (size_t)(p[0] & 0x0f) * 4;
    if (hlen < WIRE_IPV4_HLEN || hlen > len)
        return -SYNACK_DROP_IP_BAD_HLEN;
    total = wire_get16(p + 2);
    if (total < hlen || total > len)
        return -SYNACK_DROP_IP_BAD_LEN;
    if (!csum_ok(wire_csum_add(0, p, hlen)))
        return -SYNACK_DROP_IP_BAD_CSUM;
    out->hlen = (uint8_t)hlen;
    out->tos = p[1];
    out->total_len = (uint16_t)total;
    out->id = wire_get16(p + 4);
    out->frag = wire_get16(p + 6);
    out->ttl = p[8];
    out->proto = p[9];
    out->src = wire_get32(p + 12);
    out->dst = wire_get32(p + 16);
    return 0;
}

size_t wire_ipv4_emit(uint8_t *p, const wire_ipv4 *h)
{
    p[0] = 0x45;
    p[1] = h->tos;
    wire_put16(p + 2, h->total_len);
    wire_put16(p + 4, h->id);
    wire_put16(p + 6, h->frag);
    p[8] = h->ttl;
    p[9] = h->proto;
    wire_put16(p + 10, 0);
    wire_put32(p + 12, h->src);
    wire_put32(p + 16, h->dst);
    wire_put16(p + 10, wire_csum_fold(wire_csum_add(0, p, WIRE_IPV4_HLEN)));
    return WIRE_IPV4_HLEN;
}

/* ---- ICMP echo ---------------------------------------------------------- */

#define ICMP_HLEN 8
#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO_REQUEST 8

int wire_icmp_parse(const uint8_t *p, size_t len, wire_icmp_echo *out)
{
    if (len < ICMP_HLEN)
        return -SYNACK_DROP_ICMP_SHORT;
    if (!csum_ok(wire_csum_add(0, p, len)))
        return -SYNACK_DROP_ICMP_BAD_CSUM;
    out->type = p[0];
    out->code = p[1];
    out->id = wire_get16(p + 4);
    out->seq = wire_get16(p + 6);
    if (p[0] != ICMP_ECHO_REPLY && p[0] != ICMP_ECHO_REQUEST)
        return -SYNACK_DROP_ICMP_UNHANDLED;
    return 0;
}

size_t wire_icmp_emit(uint8_t *p, const wire_icmp_echo *h, size_t dlen)
{
    p[0] = h->type;
    p[1] = h->code;
    wire_put16(p + 2, 0);
    wire_put16(p + 4, h->id);
    wire_put16(p + 6, h->seq);
    wire_put16(p + 2, wire_csum_fold(wire_csum_add(0, p, ICMP_HLEN + dlen)));
    return ICMP_HLEN + dlen;
}

/* ---- TCP ---------------------------------------------------------------- */

enum {
    OPT_EOL = 0,
    OPT_NOP = 1,
    OPT_MSS = 2,
    OPT_WS = 3,
    OPT_SACKOK = 4,
    OPT_SACK = 5,
    OPT_TS = 8,
};

#define OPT_MSS_LEN 4
#define OPT_WS_LEN 3
#define OPT_SACKOK_LEN 2
#define OPT_TS_LEN 10
#define OPT_SACK_BLOCK 8

/* One option of length olen (already checked to be >= 2 and inside the
 * header) at o. */
static int tcp_opt_one(const uint8_t *o, size_t olen, wire_tcp *out)
{
    switch (o[0]) {
    case OPT_MSS:
        if (olen != OPT_MSS_LEN)
            return -SYNACK_DROP_TCP_BAD_OPT;
        out->has_mss = 1;
        out->mss = wire_get16(o + 2);
        return 0;
    case OPT_WS:
        if (olen != OPT_WS_LEN)
            return -SYNACK_DROP_TCP_BAD_OPT;
        out->has_ws = 1;
        out->ws = o[2];
        return 0;
    case OPT_SACKOK:
        if (olen != OPT_SACKOK_LEN)
            return -SYNACK_DROP_TCP_BAD_OPT;
        out->has_sackok = 1;
        return 0;
    case OPT_SACK:
        /* At most 4 blocks fit in 40 bytes of options, so the header-end
         * check already bounds n from above. A second SACK option (not
         * something a real sender does) adds blocks up to the limit. */
        if (olen < 2 + OPT_SACK_BLOCK || (olen - 2) % OPT_SACK_BLOCK != 0)
            return -SYNACK_DROP_TCP_BAD_OPT;
        for (size_t i = 2; i + OPT_SACK_BLOCK <= olen; i += OPT_SACK_BLOCK) {
            if (out->nsack >= WIRE_TCP_MAX_SACK)
                break;
            out->sack[out->nsack].start = wire_get32(o + i);
            out->sack[out->nsack].end = wire_get32(o + i + 4);
            out->nsack++;
        }
        return 0;
    case OPT_TS:
        if (olen != OPT_TS_LEN)
            return -SYNACK_DROP_TCP_BAD_OPT;
        out->has_ts = 1;
        out->tsval = wire_get32(o + 2);
        out->tsecr = wire_get32(o + 6);
        return 0;
    default:
        if (out->unknown_opts < UINT8_MAX)
            out->unknown_opts++;
        return 0;
    }
}

/* Options occupy p[20..hlen). */
static int tcp_opts_parse(const uint8_t *p, size_t hlen, wire_tcp *out)
{
    size_t i = WIRE_TCP_HLEN;

    while (i < hlen) {
        size_t olen;
        int rc;

        if (p[i] == OPT_EOL)
            break;
        if (p[i] == OPT_NOP) {
            i++;
            continue;
        }
        if (hlen - i < 2)
            return -SYNACK_DROP_TCP_BAD_OPT; /* length byte missing */
        olen = p[i + 1];
        if (olen < 2 || olen > hlen - i)
            return -SYNACK_DROP_TCP_BAD_OPT;
        rc = tcp_opt_one(p + i, olen, out);
        if (rc < 0)
            return rc;
        i += olen;
    }
    return 0;
}

int wire_tcp_parse(const uint8_t *p, size_t len, uint32_t src, uint32_t dst,
                   wire_tcp *out)
{
    size_t hlen;
    uint32_t sum;

    if (len < WIRE_TCP_HLEN)
        return -SYNACK_DROP_TCP_SHORT;
    hlen = (size_t)(p[12] >> 4) * 4;
    if (hlen < WIRE_TCP_HLEN || hlen > len)
        return -SYNACK_DROP_TCP_BAD_OFF;
    /* The pseudo-header length is 16 bits; a longer segment cannot have
     * come out of an IPv4 packet and its checksum cannot be verified. */
    if (len > UINT16_MAX)
        return -SYNACK_DROP_TCP_BAD_CSUM;
    sum = wire_csum_pseudo(src, dst, WIRE_IPPROTO_TCP, (uint16_t)len);
    if (!csum_ok(wire_csum_add(sum, p, len)))
        return -SYNACK_DROP_TCP_BAD_CSUM;
    return wire_tcp_parse_hdr(p, len, out);
}

int wire_tcp_parse_hdr(const uint8_t *p, size_t len, wire_tcp *out)
{
    size_t hlen;

    if (len < WIRE_TCP_HLEN)
        return -SYNACK_DROP_TCP_SHORT;
    hlen = (size_t)(p[12] >> 4) * 4;
    if (hlen < WIRE_TCP_HLEN || hlen > len)
        return -SYNACK_DROP_TCP_BAD_OFF;
    if (len > UINT16_MAX)
        return -SYNACK_DROP_TCP_BAD_CSUM;
    memset(out, 0, sizeof(*out));
    out->sport = wire_get16(p);
    out->dport = wire_get16(p + 2);
    out->seq = wire_get32(p + 4);
    out->ack = wire_get32(p + 8);
    out->hlen = (uint8_t)hlen;
    out->flags = p[13];
    out->wnd = wire_get16(p + 14);
    out->urp = wire_get16(p + 18);
    return tcp_opts_parse(p, hlen, out);
}

/* Layout (every group 4-byte aligned, as Linux lays out a SYN):
 *   MSS                          kind len mss mss
 *   SACK-permitted + timestamps  4 2 8 10 tsval tsecr
 *   timestamps alone             NOP NOP 8 10 tsval tsecr
 *   SACK-permitted alone         NOP NOP 4 2
 *   window scale                 NOP 3 3 shift */
size_t wire_tcp_hdr_len(const wire_tcp *h)
{
    size_t n = WIRE_TCP_HLEN;

    if (h->has_mss)
        n += 4;
    if (h->has_ts)
        n += 12;
    else if (h->has_sackok)
        n += 4;
    if (h->has_ws)
        n += 4;
    if (h->nsack)
        n += 4 + (size_t)OPT_SACK_BLOCK * h->nsack;
    return n;
}

static void tcp_opts_emit(uint8_t *o, const wire_tcp *h)
{
    if (h->has_mss) {
        o[0] = OPT_MSS;
        o[1] = OPT_MSS_LEN;
        wire_put16(o + 2, h->mss);
        o += 4;
    }
    if (h->has_sackok) {
        if (!h->has_ts) {
            *o++ = OPT_NOP;
            *o++ = OPT_NOP;
        }
        *o++ = OPT_SACKOK;
        *o++ = OPT_SACKOK_LEN;
    }
    if (h->has_ts) {
        if (!h->has_sackok) {
            *o++ = OPT_NOP;
            *o++ = OPT_NOP;
        }
        o[0] = OPT_TS;
        o[1] = OPT_TS_LEN;
        wire_put32(o + 2, h->tsval);
        wire_put32(o + 6, h->tsecr);
        o += OPT_TS_LEN;
    }
    if (h->has_ws) {
        o[0] = OPT_NOP;
        o[1] = OPT_WS;
        o[2] = OPT_WS_LEN;
        o[3] = h->ws;
        o += 4;
    }
    if (h->nsack) {
        o[0] = OPT_NOP;
        o[1] = OPT_NOP;
        o[2] = OPT_SACK;
        o[3] = (uint8_t)(2 + OPT_SACK_BLOCK * h->nsack);
        o += 4;
        for (unsigned i = 0; i < h->nsack; i++) {
            wire_put32(o, h->sack[i].start);
            wire_put32(o + 4, h->sack[i].end);
            o += OPT_SACK_BLOCK;
        }
    }
}

size_t wire_tcp_emit(uint8_t *p, const wire_tcp *h)
{
    size_t hlen = wire_tcp_hdr_len(h);

    wire_put16(p, h->sport);
    wire_put16(p + 2, h->dport);
    wire_put32(p + 4, h->seq);
    wire_put32(p + 8, h->ack);
    p[12] = (uint8_t)((hlen / 4) << 4);
    p[13] = h->flags;
    wire_put16(p + 14, h->wnd);
    wire_put16(p + 16, 0);
    wire_put16(p + 18, h->urp);
    tcp_opts_emit(p + WIRE_TCP_HLEN, h);
    return hlen;
}

void wire_tcp_set_csum(uint8_t *p, size_t seglen, uint32_t src, uint32_t dst)
{
    uint32_t sum = wire_csum_pseudo(src, dst, WIRE_IPPROTO_TCP,
                                    (uint16_t)seglen);

    wire_put16(p + 16, 0);
    wire_put16(p + 16, wire_csum_fold(wire_csum_add(sum, p, seglen)));
}

void wire_tcp_set_csum_sum(uint8_t *p, size_t hl, size_t seglen,
                           uint32_t payload_sum, uint32_t src, uint32_t dst)
{
    /* ones'-complement addition of the two partial sums; the header is a
     * whole number of 32-bit words, so the payload's words line up */
    uint64_t t = (uint64_t)payload_sum +
                 wire_csum_pseudo(src, dst, WIRE_IPPROTO_TCP, (uint16_t)seglen);
    t = (t & 0xffffffffu) + (t >> 32);

    wire_put16(p + 16, 0);
    wire_put16(p + 16, wire_csum_fold(wire_csum_add((uint32_t)t, p, hl)));
}
