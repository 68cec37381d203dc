/*
 * Shared by the stack-level fuzz targets (fuzz_frames, fuzz_reass): the
 * counting allocator, the Ethernet/IPv4 wrapping of a peer's segment, and
 * the parse of every frame the stack emits (a malformed one is a crash).
 * The DUT and peer addresses are the including file's DUT_IP, PEER_IP,
 * DUT_MAC and PEER_MAC.
 */
#ifndef SYNACK_TESTS_FUZZ_UTIL_H
#define SYNACK_TESTS_FUZZ_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/wire.h"

/* mem_alloc / mem_release with ctx a fz_alloc: balanced means 0 and 0. */
typedef struct fz_alloc {
    int64_t bytes, blocks;
} fz_alloc;

static inline void *fz_mem_alloc(void *ctx, size_t size)
{
    fz_alloc *a = ctx;
    void *p = malloc(size);
    if (p) {
        a->bytes += (int64_t)size;
        a->blocks++;
    }
    return p;
}

static inline void fz_mem_release(void *ctx, void *p, size_t size)
{
    fz_alloc *a = ctx;
    if (!p)
        return;
    a->bytes -= (int64_t)size;
    a->blocks--;
    free(p);
}

/* Ethernet + IPv4 from the peer around the TCP segment laid out at f + 34;
 * returns the frame's length. */
static inline size_t fz_finish_tcp(uint8_t *f, size_t seglen, uint16_t *ip_id)
{
    wire_eth eh;
    memcpy(eh.dst, DUT_MAC, 6);
    memcpy(eh.src, PEER_MAC, 6);
    eh.type = WIRE_ETHERTYPE_IPV4;
    wire_eth_emit(f, &eh);
    wire_ipv4 ih = {.hlen = 20,
                    .total_len = (uint16_t)(20 + seglen),
                    .id = (*ip_id)++,
                    .frag = WIRE_IP_DF,
                    .ttl = 64,
                    .proto = WIRE_IPPROTO_TCP,
                    .src = PEER_IP,
                    .dst = DUT_IP};
    wire_ipv4_emit(f + WIRE_ETH_HLEN, &ih);
    wire_tcp_set_csum(f + 34, seglen, PEER_IP, DUT_IP);
    return 34 + seglen;
}

/* Parse a frame the stack emitted; traps on a malformed Ethernet, IPv4 or
 * TCP header. Returns 1 with *th and *tl (segment length) for TCP, else 0. */
static inline int fz_parse_output(const uint8_t *f, size_t len, wire_tcp *th,
                                  size_t *tl)
{
    wire_eth eh;
    if (wire_eth_parse(f, len, &eh) != 0)
        __builtin_trap();
    if (eh.type != WIRE_ETHERTYPE_IPV4)
        return 0;
    wire_ipv4 ih;
    if (wire_ipv4_parse(f + WIRE_ETH_HLEN, len - WIRE_ETH_HLEN, &ih) != 0)
        __builtin_trap(); /* the stack emitted a bad IPv4 header */
    if (ih.proto != WIRE_IPPROTO_TCP)
        return 0;
    const uint8_t *t = f + WIRE_ETH_HLEN + ih.hlen;
    *tl = (size_t)ih.total_len - ih.hlen;
    if (wire_tcp_parse(t, *tl, ih.src, ih.dst, th) != 0)
        __builtin_trap(); /* the stack emitted a bad TCP segment */
    return 1;
}

#endif
