/*
 * Wire formats: Ethernet II, ARP (Ethernet/IPv4), IPv4, ICMP echo, TCP.
 *
 * Parsers check every length once, then fill a plain struct in host byte
 * order; they return 0 or a negative SYNACK_DROP_* reason (never read past
 * `len`). Emitters write exactly the length they return.
 */
#ifndef SYNACK_CORE_WIRE_H
#define SYNACK_CORE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <synack/synack.h>

#define WIRE_ETH_HLEN 14
#define WIRE_ETHERTYPE_IPV4 0x0800
#define WIRE_ETHERTYPE_ARP 0x0806
#define WIRE_ARP_LEN 28
#define WIRE_IPV4_HLEN 20
#define WIRE_IPPROTO_ICMP 1
#define WIRE_IPPROTO_TCP 6
#define WIRE_TCP_HLEN 20
#define WIRE_TCP_MAX_OPTLEN 40
#define WIRE_TCP_MAX_SACK 4 /* SACK blocks that fit in 40 bytes */

typedef struct wire_eth {
    uint8_t dst[6], src[6];
    uint16_t type;
} wire_eth;

typedef struct wire_arp {
    uint16_t op; /* 1 request, 2 reply */
    uint8_t sha[6];
    uint32_t spa;
    uint8_t tha[6];
    uint32_t tpa;
} wire_arp;

typedef struct wire_ipv4 {
    uint8_t hlen; /* header length in bytes (20..60) */
    uint8_t tos;
    uint16_t total_len;
    uint16_t id;
    uint16_t frag; /* flags (top 3 bits) and fragment offset, as on wire */
    uint8_t ttl;
    uint8_t proto;
    uint32_t src, dst;
} wire_ipv4;

#define WIRE_IP_DF 0x4000
#define WIRE_IP_MF 0x2000
#define WIRE_IP_OFFMASK 0x1fff

typedef struct wire_icmp_echo {
    uint8_t type, code; /* 8 request, 0 reply */
    uint16_t id, seq;
} wire_icmp_echo;

/* TCP header plus the options synack understands. */
typedef struct wire_tcp {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t hlen;  /* data offset in bytes (20..60) */
    uint8_t flags; /* SYNACK_TH_* */
    uint16_t wnd;
    uint16_t urp;
    uint8_t has_mss, has_ws, has_ts, has_sackok;
    uint16_t mss;
    uint8_t ws;
    uint32_t tsval, tsecr;
    uint8_t unknown_opts; /* count of unknown option kinds skipped */
    uint8_t nsack;        /* SACK blocks (RFC 2018), at most 4 */
    struct {
        uint32_t start, end; /* [start, end) */
    } sack[WIRE_TCP_MAX_SACK];
} wire_tcp;

/* --- checksum (RFC 1071) --- */
/* Add len bytes at p to a running 32-bit ones'-complement accumulator. Any
 * alignment and length; an odd trailing byte is padded with zero. Calls
 * may be chained only when every len but the last is even. */
uint32_t wire_csum_add(uint32_t sum, const void *p, size_t len);
/* wire_csum_add over src while copying its len bytes to dst (one pass over
 * the data instead of two; dst and src must not overlap). Same chaining
 * rule. */
uint32_t wire_csum_copy(uint32_t sum, void *dst, const void *src, size_t len);
/* Chain a piece that starts at an odd offset of the region: part is its
 * wire_csum_add/wire_csum_copy sum taken from 0 as if it started at an
 * even one, sum the region's sum up to it (the piece before may then be
 * odd). E.g. a payload split by the end of a ring at an odd offset. */
uint32_t wire_csum_add_odd(uint32_t sum, uint32_t part);
/* The loop wire_csum_add and wire_csum_copy use on this CPU: "avx2"
 * (chosen at run time), "sse2" or "portable" (for tests and benchmarks). */
const char *wire_csum_impl(void);
/* Fold and complement: the checksum field value (host order). */
uint16_t wire_csum_fold(uint32_t sum);
/* Pseudo-header sum for TCP/UDP over IPv4 (len = TCP header + payload). */
uint32_t wire_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto,
                          uint16_t len);

/* --- Ethernet --- */
int wire_eth_parse(const uint8_t *p, size_t len, wire_eth *out);
size_t wire_eth_emit(uint8_t *p, const wire_eth *h); /* 14 */

/* --- ARP --- */
/* Accepts only htype 1 / ptype 0x0800 / hlen 6 / plen 4, op 1 or 2. */
int wire_arp_parse(const uint8_t *p, size_t len, wire_arp *out);
size_t wire_arp_emit(uint8_t *p, const wire_arp *h); /* 28 */

/* --- IPv4 --- */
/* Validates version, header length (>= 20 and <= len), total length
 * (>= hlen and <= len; bytes beyond it are Ethernet padding) and the header
 * checksum. Options are skipped. */
int wire_ipv4_parse(const uint8_t *p, size_t len, wire_ipv4 *out);
/* Writes a 20-byte header (no options) with its checksum computed. */
size_t wire_ipv4_emit(uint8_t *p, const wire_ipv4 *h);

/* --- ICMP echo --- */
/* p/len: the ICMP message (IP payload). Verifies the checksum over the
 * whole message. Returns 0 for echo request/reply, else a negative
 * reason (SYNACK_DROP_ICMP_UNHANDLED for other types). */
int wire_icmp_parse(const uint8_t *p, size_t len, wire_icmp_echo *out);
/* Writes the 8-byte echo header; data (dlen bytes) must already follow it
 * at p+8; computes the checksum over header and data. Returns 8 + dlen. */
size_t wire_icmp_emit(uint8_t *p, const wire_icmp_echo *h, size_t dlen);

/* --- TCP --- */
/* p/len: the TCP segment (IP payload); src/dst for the pseudo-header.
 * Checks length >= 20, 20 <= data offset <= len, the checksum, and the
 * options: a zero or overlong length, or one running past the header, is
 * SYNACK_DROP_TCP_BAD_OPT; known kinds with a wrong fixed length likewise;
 * unknown kinds with a valid length are skipped and counted in
 * unknown_opts (RFC 9293 MUST-6). Payload is p + out->hlen. */
int wire_tcp_parse(const uint8_t *p, size_t len, uint32_t src, uint32_t dst,
                   wire_tcp *out);
/* The same checks and parse without the checksum, for a caller that
 * verifies it itself on the way (the receive path's fused copy into the
 * receive ring); it must still drop the segment when that fails. */
int wire_tcp_parse_hdr(const uint8_t *p, size_t len, wire_tcp *out);
/* Length of the header wire_tcp_emit would write for h (20 + options,
 * padded to a multiple of 4). Options are written when has_* is set, in the
 * order MSS, SACK-permitted, timestamps, window scale, SACK blocks (NOP
 * padded). At most 3 SACK blocks fit beside timestamps, 4 without: the
 * caller keeps nsack within that. */
size_t wire_tcp_hdr_len(const wire_tcp *h);
/* Writes header and options; checksum field left zero. Returns length. */
size_t wire_tcp_emit(uint8_t *p, const wire_tcp *h);
/* Computes and stores the checksum of the segment at p (header + payload
 * already in place, seglen bytes in all). */
void wire_tcp_set_csum(uint8_t *p, size_t seglen, uint32_t src, uint32_t dst);
/* The same when the payload's sum is already known (payload_sum =
 * wire_csum_add(0, payload, seglen - hl) or wire_csum_copy, e.g. taken
 * while copying it in): only the hl header bytes at p are read. */
void wire_tcp_set_csum_sum(uint8_t *p, size_t hl, size_t seglen,
                           uint32_t payload_sum, uint32_t src, uint32_t dst);

/* --- byte order helpers --- */
static inline uint16_t wire_get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t wire_get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | p[3];
}
static inline void wire_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void wire_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

#endif
