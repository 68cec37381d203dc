/*
 * Wire codec: Ethernet II, ARP, IPv4, ICMP echo, TCP (see wire.h).
 *
 * Every parser checks lengths before it touches a byte, so no input can make
 * it read past `len`. Nothing here allocates, keeps state or calls the OS.
 */
#include "core/wire.h"

#include <string.h>

/* ---- checksum ----------------------------------------------------------- */

/* Folded at this stride so the 64-bit accumulator cannot overflow however
 * long the buffer is: 2^28 32-bit words sum to less than 2^60. */
#define CSUM_CHUNK ((size_t)1 << 30)

static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    uint8_t first;

    memcpy(&first, &one, 1);
    return first == 1;
}

/* End-around carry down to 16 bits; at most four rounds for 64 bits. */
static uint16_t fold64(uint64_t s)
{
    while (s >> 16)
        s = (s & 0xffffu) + (s >> 16);
    return (uint16_t)s;
}

/* Ones'-complement sum of native-order 16-bit words over an even len (an odd
 * last byte is ignored here; the caller pads it). The sum is byte-order independent
 * (RFC 1071 section 2(B)) up to a final swap, so words are loaded in host
 * order, 32 bits at a time, with memcpy to allow any alignment. */
static uint64_t sum_native(const uint8_t *p, size_t len)
{
    uint64_t s = 0;
    uint32_t a, b, c, d;
    uint16_t w;

    while (len >= 16) {
        memcpy(&a, p, 4);
        memcpy(&b, p + 4, 4);
        memcpy(&c, p + 8, 4);
        memcpy(&d, p + 12, 4);
        s += (uint64_t)a + b + c + d;
        p += 16;
        len -= 16;
    }
    while (len >= 4) {
        memcpy(&a, p, 4);
        s += a;
        p += 4;
        len -= 4;
    }
    if (len >= 2) {
        memcpy(&w, p, 2);
        s += w;
    }
    return s;
}

uint32_t wire_csum_add(uint32_t sum, const void *p, size_t len)
{
    const uint8_t *b = p;
    uint64_t total = sum;
    uint16_t part;

    while (len > 0) {
        size_t n = len < CSUM_CHUNK ? len : CSUM_CHUNK;
        size_t even = n & ~(size_t)1;

        part = fold64(sum_native(b, even));
        if (host_is_little_endian())
            part = (uint16_t)((part >> 8) | (part << 8));
        total += part;
        if (n & 1)
            total += (uint32_t)b[even] << 8; /* high byte of a padded word */
        b += n;
        len -= n;
    }
    /* Keep the ones'-complement value while fitting it back in 32 bits. */
    total = (total & 0xffffffffu) + (total >> 32);
    total = (total & 0xffffffffu) + (total >> 32);
    return (uint32_t)total;
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
